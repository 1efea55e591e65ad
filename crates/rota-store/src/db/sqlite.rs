//! SQLite, embedded: one file, one connection behind a mutex (WAL mode, `synchronous=FULL`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};

use super::{P, Row, Sql, V, sqlite_placeholders};
use crate::{Error, ErrorKind, Result};

pub(crate) struct Sqlite {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl rusqlite::ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            P::Null => ValueRef::Null,
            P::Int(v) => ValueRef::Integer(v),
            P::Text(v) => ValueRef::Text(v.as_bytes()),
            P::Bytes(v) => ValueRef::Blob(v),
        }))
    }
}

/// A connection or transaction (a `Transaction` derefs to its `Connection`).
struct On<'a> {
    conn: &'a Connection,
    path: &'a Path,
}

impl On<'_> {
    fn err(&self, source: rusqlite::Error) -> Error {
        sqlite_error(self.path, source)
    }
}

pub(crate) fn sqlite_error(path: &Path, source: rusqlite::Error) -> Error {
    Error {
        kind: ErrorKind::Sqlite {
            path: path.display().to_string(),
            source,
        },
    }
}

impl Sql for On<'_> {
    fn exec(&mut self, sql: &str, params: &[P<'_>]) -> Result<u64> {
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(|e| self.err(e))?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn rows(&mut self, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>> {
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(|e| self.err(e))?;
        let width = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                row.push(match r.get_ref(i).map_err(|e| self.err(e))? {
                    ValueRef::Null => V::Null,
                    ValueRef::Integer(v) => V::Int(v),
                    ValueRef::Real(v) => V::Int(v as i64),
                    ValueRef::Text(v) => V::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => V::Bytes(v.to_vec()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }
}

impl Sqlite {
    /// Opens (creating if needed) the file at `path`, applies the migrations, and returns it.
    pub(crate) fn open(path: &Path, migrations: &[&str]) -> Result<Sqlite> {
        let sql = |source| sqlite_error(path, source);
        let mut conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql)?;
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql)?;
        let known = migrations.len() as u32;
        if version > known {
            return Err(Error {
                kind: ErrorKind::TooNew {
                    path: path.display().to_string(),
                    found: version,
                    known,
                },
            });
        }
        for (i, m) in migrations.iter().enumerate().skip(version as usize) {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            // Another process may have migrated between our read and our lock.
            let now: u32 = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(sql)?;
            if now as usize > i {
                continue;
            }
            tx.execute_batch(m).map_err(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as u32)
                .map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        Ok(Sqlite {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back
        // on drop), so a poisoned lock is safe to take over.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn read<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let conn = self.lock();
        f(&mut On {
            conn: &conn,
            path: &self.path,
        })
    }

    pub(super) fn write<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite_error(&self.path, e))?;
        let out = f(&mut On {
            conn: &tx,
            path: &self.path,
        })?;
        tx.commit().map_err(|e| sqlite_error(&self.path, e))?;
        Ok(out)
    }

    /// A consistent copy of the whole file at `to` (a new file), made with SQLite's online backup
    /// API in one step: it reads one snapshot of the file (in WAL mode a reader does not stop
    /// writers, so the service keeps writing meanwhile).
    pub(crate) fn backup(&self, to: &Path) -> Result<()> {
        let conn = self.lock();
        let mut dst = Connection::open(to).map_err(|e| sqlite_error(to, e))?;
        {
            let b =
                rusqlite::backup::Backup::new(&conn, &mut dst).map_err(|e| sqlite_error(to, e))?;
            b.run_to_completion(
                std::ffi::c_int::MAX,
                std::time::Duration::from_millis(5),
                None,
            )
            .map_err(|e| sqlite_error(to, e))?;
        }
        // The copy is a plain rollback-journal file until it is opened as a state file.
        dst.close().map_err(|(_, e)| sqlite_error(to, e))?;
        Ok(())
    }
}
