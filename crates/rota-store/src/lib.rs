//! rota-store: the run-time state that the server, the notifier and the CLI share.
//!
//! Schedule files say what the rotations are; this store keeps what people change at run time:
//! overrides made through the API, API tokens (stored hashed), the secret behind calendar feed
//! tokens, the audit log of every change, and (schema 2) the reminder ledger with the change-notice
//! snapshots that rota-notify keeps, and (schema 3) swap requests. Accepting a swap writes its
//! overrides, the request's new state and the audit entries in one `BEGIN IMMEDIATE` transaction
//! that first re-checks the request is pending and no override covers its shifts, so of two
//! racing accepts exactly one wins, on one server or several sharing the file.
//!
//! # Storage
//!
//! One SQLite file (embedded, bundled with the binary), opened in WAL mode with `synchronous=FULL`:
//! a write that returned is on disk, and survives `kill -9` and power loss. Every change and its
//! audit entry are written in one transaction, so a change is either fully there or not at all.
//! The schema is versioned with `PRAGMA user_version` and upgraded by the migrations in
//! [`migrations`], each in its own transaction, when the file is opened; a file written by a newer
//! rota is refused rather than misread.
//!
//! # Interface
//!
//! [`Store`] is the whole interface: plain methods on plain types, no SQL outside this crate, so a
//! PostgreSQL backend (for several replicas behind a load balancer) can implement the same methods.
//! Methods are synchronous and short; async callers run them on a blocking thread.
//!
//! One file per concept, each with its own `impl Store`: `overrides`, `tokens` (API and feed
//! tokens), `sessions` (page sign-ins), `audit`, `ledger` (outbound messages), `snapshots`
//! (change notices), `swaps`, `notes` (handoff notes), `outbox` (webhook and Slack messages),
//! `signing` (CSRF), and `migrations` (the schema). This file opens the
//! state file. The behaviour of every operation is pinned by `tests/store.rs`, through this
//! public interface only.
//!
//! # Tokens
//!
//! - API tokens (`rota_` + 64 hex digits, 256 random bits) are shown once when issued; the store
//!   keeps only their SHA-256. A token's public id is the first 12 hex digits of that hash.
//! - Feed tokens are not stored at all: a person's feed token is HMAC-SHA256(feed secret, person id
//!   and generation). The secret is made at first open; rotating a person's token bumps their
//!   generation, which invalidates the old URL. So the person page can always show the current URL.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};

mod audit;
mod copy;
mod db;
mod error;
mod leases;
mod ledger;
pub mod migrations;
mod notes;
mod outbox;
mod overrides;
mod sessions;
mod signing;
mod snapshots;
mod swaps;
mod tokens;

pub use audit::AuditEntry;
pub use copy::{TableCount, TableDump};
pub use error::{Error, ErrorKind, Result};
pub use leases::Lease;
pub use ledger::{Claim, LedgerCount, LedgerEntry, LedgerItem, LedgerState};
pub use notes::{HandoffNote, NOTE_MAX_CHARS, NOTES_PER_SHIFT, clean_note};
pub use outbox::OutboxItem;
pub use overrides::{NewOverride, StoredOverride};
pub use sessions::NewSession;
pub use swaps::{NewSwap, SwapKind, SwapRequest, SwapSlot, SwapState};
pub use tokens::{IssuedToken, TokenInfo};

pub(crate) use audit::audit;
pub(crate) use db::{Db, Sql, p};
pub(crate) use snapshots::put_snapshot;

/// How many connections a PostgreSQL store may hold.
const POOL_SIZE: u32 = 16;

/// The run-time state: a SQLite file or a PostgreSQL database.
pub struct Store {
    db: Db,
    feed_secret: [u8; 32],
    /// Feed token generations as last read, and the state version they were read at (see
    /// [`Store::verify_feed_token`]).
    feed_cache: Mutex<tokens::FeedCache>,
    /// Told how long each read and write took (see [`Store::observe`]).
    observer: OnceLock<Observer>,
}

/// A kind of store operation, for [`Store::observe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Statements on a connection, outside a transaction.
    Read,
    /// A serialised write transaction.
    Write,
}

impl Op {
    /// `"read"` or `"write"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write => "write",
        }
    }
}

/// Called after every store operation with its kind, how long it took (waiting for a connection
/// or the write lock included) and whether it succeeded. It runs on the caller's thread, so it
/// must be cheap (a metrics histogram).
pub type Observer = Arc<dyn Fn(Op, StdDuration, bool) + Send + Sync>;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}

pub(crate) fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(crate) fn instant(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| Error {
        kind: ErrorKind::Random(e.to_string()),
    })?;
    Ok(buf)
}

/// Constant-time comparison, so a token check does not leak how much of a guess was right.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn conflict(message: String) -> Error {
    Error {
        kind: ErrorKind::Conflict(message),
    }
}

pub(crate) fn not_found(message: String) -> Error {
    Error {
        kind: ErrorKind::NotFound(message),
    }
}

/// Whether `target` names a PostgreSQL database rather than a SQLite file.
pub fn is_database_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

impl Store {
    /// Opens (creating if needed) the SQLite state file at `path` and brings its schema up to
    /// date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let db = db::Sqlite::open(path.as_ref(), migrations::SQLITE)?;
        Store::with_db(Db::Sqlite(db))
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user:password@host:port/db`) and
    /// brings its schema up to date.
    pub fn open_postgres(url: &str) -> Result<Store> {
        let db = db::Postgres::connect(url, migrations::POSTGRES, POOL_SIZE)?;
        Store::with_db(Db::Postgres(db))
    }

    /// [`Store::open_postgres`] for a `postgres://` or `postgresql://` URL, else
    /// [`Store::open`] of the file at that path.
    pub fn connect(target: &str) -> Result<Store> {
        if is_database_url(target) {
            Store::open_postgres(target)
        } else {
            Store::open(target)
        }
    }

    fn with_db(db: Db) -> Result<Store> {
        // The feed secret: made once, in a write transaction, so two processes opening a new
        // store at once agree on it.
        let secret = db.write(|c| {
            let existing = c
                .row("SELECT value FROM settings WHERE key = 'feed_secret'", &[])?
                .map(|r| r.bytes(0))
                .transpose()?;
            match existing {
                Some(v) if v.len() == 32 => Ok(v),
                _ => {
                    let v = random::<32>()?.to_vec();
                    c.exec(
                        "INSERT INTO settings (key, value) VALUES ('feed_secret', $1)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        p![&v],
                    )?;
                    Ok(v)
                }
            }
        })?;
        let mut feed_secret = [0u8; 32];
        feed_secret.copy_from_slice(&secret);
        Ok(Store {
            db,
            feed_secret,
            feed_cache: Mutex::new(tokens::FeedCache::default()),
            observer: OnceLock::new(),
        })
    }

    /// Sets the function told how long each operation took (for metrics). Once: a second
    /// observer is refused (returned).
    pub fn observe(&self, observer: Observer) -> std::result::Result<(), Observer> {
        self.observer.set(observer)
    }

    /// Where the state is: the SQLite file's path, or the database URL without its password.
    pub fn location(&self) -> String {
        match &self.db {
            Db::Sqlite(d) => d.path().display().to_string(),
            Db::Postgres(d) => d.location().to_string(),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match &self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Whether the connection to the store is encrypted: `None` for a SQLite file (no
    /// connection), else what PostgreSQL says of this store's connection (see `sslmode` in the
    /// README).
    pub fn encrypted(&self) -> Result<Option<bool>> {
        match &self.db {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(d) => d.encrypted().map(Some),
        }
    }

    /// The schema version of the store (the number of migrations applied).
    pub fn schema_version(&self) -> Result<u32> {
        match &self.db {
            Db::Sqlite(_) => self.read(|c| {
                Ok(c.row("PRAGMA user_version", &[])?
                    .map(|r| r.i64(0))
                    .transpose()?
                    .unwrap_or(0) as u32)
            }),
            Db::Postgres(d) => d.schema_version(),
        }
    }

    /// The state version: a counter that every write changing what the service shows increments
    /// in its own transaction. Equal versions mean equal overrides, swaps, tokens and sessions.
    pub fn state_version(&self) -> Result<i64> {
        self.read(|c| {
            c.row("SELECT version FROM state_version WHERE id = 1", &[])?
                .map(|r| r.i64(0))
                .transpose()
                .map(Option::unwrap_or_default)
        })
    }

    /// Writes a consistent copy of the SQLite state file to `to`, which must not exist, while
    /// the service keeps running (SQLite's online backup API). The copy is made beside `to` and
    /// renamed into place, so a failed backup leaves nothing. PostgreSQL is backed up with its
    /// own tools (`pg_dump`), which this refuses with that advice.
    pub fn backup(&self, to: &Path) -> Result<()> {
        let Db::Sqlite(d) = &self.db else {
            return Err(Error {
                kind: ErrorKind::Config(
                    "rota backup copies a SQLite state file; back up PostgreSQL with pg_dump \
                     (see the README)"
                        .into(),
                ),
            });
        };
        if to.exists() {
            return Err(Error {
                kind: ErrorKind::Config(format!(
                    "{} already exists; rota backup never overwrites a file",
                    to.display()
                )),
            });
        }
        let name = to.file_name().map(|n| n.to_string_lossy().into_owned());
        let tmp = to.with_file_name(format!(
            ".{}.{}.part",
            name.unwrap_or_else(|| "backup".into()),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&tmp);
        let done = d.backup(&tmp).and_then(|()| {
            let io = |e: std::io::Error| Error {
                kind: ErrorKind::Config(format!("{}: {e}", to.display())),
            };
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(io)?;
            std::fs::rename(&tmp, to).map_err(io)
        });
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        done
    }

    pub(crate) fn read<T: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send,
    ) -> Result<T> {
        let started = Instant::now();
        let r = self.db.read(f);
        if let Some(o) = self.observer.get() {
            o(Op::Read, started.elapsed(), r.is_ok());
        }
        r
    }

    pub(crate) fn write<T: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send,
    ) -> Result<T> {
        let started = Instant::now();
        let r = self.db.write(f);
        if let Some(o) = self.observer.get() {
            o(Op::Write, started.elapsed(), r.is_ok());
        }
        r
    }

    /// Forgets cached reads after a write of this process (others are noticed by version).
    pub(crate) fn invalidate(&self) {
        self.feed_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// Increments the state version inside the caller's write transaction.
pub(crate) fn bump(c: &mut dyn Sql) -> Result<()> {
    c.exec(
        "UPDATE state_version SET version = version + 1 WHERE id = 1",
        &[],
    )?;
    Ok(())
}

/// How long cached reads may trust the state version before reading it again.
pub(crate) const RECHECK: StdDuration = StdDuration::from_secs(1);

pub(crate) fn stale(checked: Option<Instant>) -> bool {
    checked.is_none_or(|t| t.elapsed() >= RECHECK)
}
