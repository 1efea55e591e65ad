//! PostgreSQL, for several replicas on one database: a pool of connections (r2d2), writes
//! serialised by one advisory lock (see the parent module), migrations applied under that lock so
//! replicas starting together migrate once.

use std::error::Error as StdError;
use std::time::Duration;

use bytes::BytesMut;
use postgres::GenericClient;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{P, Row, Sql, V, WRITE_LOCK};
use crate::{Error, ErrorKind, Result};

type Manager = PostgresConnectionManager<MakeRustlsConnect>;
type Pool = r2d2::Pool<Manager>;

pub(crate) struct Postgres {
    pool: Pool,
    /// The URL without its password, for messages.
    location: String,
}

impl ToSql for P<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *self {
            P::Null => Ok(IsNull::Yes),
            P::Int(v) if *ty == Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
            P::Int(v) if *ty == Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
            P::Int(v) => v.to_sql(ty, out),
            P::Text(v) => v.to_sql(ty, out),
            P::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn pg_error(location: &str, source: postgres::Error) -> Error {
    Error {
        kind: ErrorKind::Postgres {
            location: location.to_string(),
            source,
        },
    }
}

fn pool_error(location: &str, e: impl StdError) -> Error {
    // The whole chain: "error performing TLS handshake" alone does not say that the certificate
    // was not valid for the host name.
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !message.contains(&more) {
            message = format!("{message}: {more}");
        }
        source = s.source();
    }
    Error {
        kind: ErrorKind::Unavailable {
            location: location.to_string(),
            message,
        },
    }
}

struct On<'a, C> {
    client: &'a mut C,
    location: &'a str,
}

fn params<'a>(params: &'a [P<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl<C: GenericClient> Sql for On<'_, C> {
    fn exec(&mut self, sql: &str, p: &[P<'_>]) -> Result<u64> {
        self.client
            .execute(sql, &params(p))
            .map_err(|e| pg_error(self.location, e))
    }

    fn rows(&mut self, sql: &str, p: &[P<'_>]) -> Result<Vec<Row>> {
        let rows = self
            .client
            .query(sql, &params(p))
            .map_err(|e| pg_error(self.location, e))?;
        rows.iter()
            .map(|r| {
                let mut row = Vec::with_capacity(r.len());
                for (i, col) in r.columns().iter().enumerate() {
                    let get = |e| pg_error(self.location, e);
                    let v = match *col.type_() {
                        Type::INT8 => r.try_get::<_, Option<i64>>(i).map_err(get)?.map(V::Int),
                        Type::INT4 => r
                            .try_get::<_, Option<i32>>(i)
                            .map_err(get)?
                            .map(|v| V::Int(v.into())),
                        Type::INT2 => r
                            .try_get::<_, Option<i16>>(i)
                            .map_err(get)?
                            .map(|v| V::Int(v.into())),
                        Type::BOOL => r
                            .try_get::<_, Option<bool>>(i)
                            .map_err(get)?
                            .map(|v| V::Int(v.into())),
                        Type::BYTEA => r
                            .try_get::<_, Option<Vec<u8>>>(i)
                            .map_err(get)?
                            .map(V::Bytes),
                        _ => r.try_get::<_, Option<String>>(i).map_err(get)?.map(V::Text),
                    };
                    row.push(v.unwrap_or(V::Null));
                }
                Ok(Row(row))
            })
            .collect()
    }
}

impl Postgres {
    /// Connects to `url` (a pool of up to `max` connections), applies the migrations, and returns
    /// it. Fails at once when the server refuses, within 10 s when it does not answer.
    pub(crate) fn connect(url: &str, migrations: &[&str], max: u32) -> Result<Postgres> {
        off_runtime(|| Postgres::connect_here(url, migrations, max))
    }

    fn connect_here(url: &str, migrations: &[&str], max: u32) -> Result<Postgres> {
        let tls = super::tls::from_url(url).map_err(|m| Error {
            kind: ErrorKind::Config(m),
        })?;
        let mut config: postgres::Config = tls.url.parse().map_err(|e: postgres::Error| Error {
            kind: ErrorKind::Config(format!(
                "the database URL is not a PostgreSQL connection string: {e}"
            )),
        })?;
        config.ssl_mode(tls.mode);
        let location = describe(&config);
        // One connection first, so that a wrong address, password or certificate fails at once
        // with the reason (the pool would retry until its timeout, then say only that).
        config
            .connect(tls.connector.clone())
            .map_err(|e| pool_error(&location, e))?;
        let manager = PostgresConnectionManager::new(config, tls.connector);
        let pool = r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| pool_error(&location, e))?;
        let db = Postgres { pool, location };
        db.migrate(migrations)?;
        Ok(db)
    }

    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    fn client(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| pool_error(&self.location, e))
    }

    pub(super) fn read<T: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send,
    ) -> Result<T> {
        off_runtime(|| self.read_here(f))
    }

    fn read_here<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut client = self.client()?;
        f(&mut On {
            client: &mut *client,
            location: &self.location,
        })
    }

    pub(super) fn write<T: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send,
    ) -> Result<T> {
        off_runtime(|| self.write_here(f))
    }

    fn write_here<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut client = self.client()?;
        let loc = self.location.as_str();
        let mut tx = client.transaction().map_err(|e| pg_error(loc, e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(|e| pg_error(loc, e))?;
        let out = f(&mut On {
            client: &mut tx,
            location: loc,
        })?;
        tx.commit().map_err(|e| pg_error(loc, e))?;
        Ok(out)
    }

    /// Brings the schema up to date: version in `rota_schema`, each migration applied under the
    /// write lock, so replicas starting at once migrate once; a database migrated by a newer rota
    /// is refused rather than misread.
    fn migrate(&self, migrations: &[&str]) -> Result<()> {
        let mut client = self.client()?;
        let loc = self.location.as_str();
        let mut tx = client.transaction().map_err(|e| pg_error(loc, e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(|e| pg_error(loc, e))?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS rota_schema (version BIGINT NOT NULL)")
            .map_err(|e| pg_error(loc, e))?;
        let found: Option<i64> = tx
            .query_opt("SELECT version FROM rota_schema", &[])
            .map_err(|e| pg_error(loc, e))?
            .map(|r| r.get(0));
        let known = migrations.len() as u32;
        let version = found.unwrap_or(0).max(0) as u32;
        if version > known {
            return Err(Error {
                kind: ErrorKind::TooNew {
                    path: self.location.clone(),
                    found: version,
                    known,
                },
            });
        }
        if found.is_none() {
            tx.execute("INSERT INTO rota_schema (version) VALUES (0)", &[])
                .map_err(|e| pg_error(loc, e))?;
        }
        for (i, m) in migrations.iter().enumerate().skip(version as usize) {
            tx.batch_execute(m).map_err(|e| pg_error(loc, e))?;
            tx.execute("UPDATE rota_schema SET version = $1", &[&(i as i64 + 1)])
                .map_err(|e| pg_error(loc, e))?;
        }
        tx.commit().map_err(|e| pg_error(loc, e))
    }

    /// Whether this store's connections are encrypted (asked of the server: `pg_stat_ssl`).
    pub(crate) fn encrypted(&self) -> Result<bool> {
        self.read(|c| {
            Ok(c.row(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )?
            .map(|r| r.i64(0))
            .transpose()?
                == Some(1))
        })
    }

    pub(crate) fn schema_version(&self) -> Result<u32> {
        self.read(|c| {
            let v = c
                .row("SELECT version FROM rota_schema", &[])?
                .map(|r| r.i64(0))
                .transpose()?;
            Ok(v.unwrap_or(0).max(0) as u32)
        })
    }
}

/// Runs `f` where the synchronous client may block: the `postgres` crate drives its connection
/// with a runtime of its own, which cannot start on a thread that is already driving async tasks
/// (an actix worker calling a store method directly, as the feed route's token check does when
/// its cache is stale). There, `f` runs on a short-lived thread of its own; elsewhere (blocking
/// threads, the CLI, background threads) it runs right here.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// `postgres://user@host:port/db`: the URL without its password.
fn describe(c: &postgres::Config) -> String {
    let host = c
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(h) => h.clone(),
            postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        c.get_user().unwrap_or(""),
        c.get_dbname().unwrap_or("")
    )
}
