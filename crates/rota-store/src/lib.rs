//! rota-store: the state file that the server and the notifier share.
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
//! [`MIGRATIONS`], each in its own transaction, when the file is opened; a file written by a newer
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
//! (change notices), `swaps`, `signing` (CSRF), and `migrations` (the schema). This file opens the
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

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

mod audit;
mod error;
mod ledger;
mod migrations;
mod overrides;
mod sessions;
mod signing;
mod snapshots;
mod swaps;
mod tokens;

pub use audit::AuditEntry;
pub use error::{Error, ErrorKind, Result};
pub use ledger::{Claim, LedgerEntry, LedgerItem, LedgerState};
pub use migrations::MIGRATIONS;
pub use overrides::{NewOverride, StoredOverride};
pub use sessions::NewSession;
pub use swaps::{NewSwap, SwapKind, SwapRequest, SwapSlot, SwapState};
pub use tokens::{IssuedToken, TokenInfo};

pub(crate) use audit::audit;
pub(crate) use snapshots::put_snapshot;
pub(crate) use swaps::Refusal;

/// The state file.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    feed_secret: [u8; 32],
    /// A read-only connection for feed token checks alone, with the generations it last read
    /// (see [`Store::verify_feed_token`]).
    feed_reader: Mutex<tokens::FeedReader>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
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

impl Store {
    /// Opens (creating if needed) the state file at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let p = path.display().to_string();
        let sql = |source| Error {
            kind: ErrorKind::Sqlite {
                path: p.clone(),
                source,
            },
        };
        let mut conn = Connection::open(&path).map_err(sql)?;
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
        let known = MIGRATIONS.len() as u32;
        if version > known {
            return Err(Error {
                kind: ErrorKind::TooNew {
                    path: p,
                    found: version,
                    known,
                },
            });
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction().map_err(sql)?;
            tx.execute_batch(m).map_err(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as u32)
                .map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        // The feed secret: made once, in a transaction, so two processes opening a new file at once
        // agree on it.
        let tx = conn.transaction().map_err(sql)?;
        let existing: Option<Vec<u8>> = tx
            .query_row(
                "SELECT value FROM settings WHERE key = 'feed_secret'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        let secret = match existing {
            Some(v) if v.len() == 32 => v,
            _ => {
                let v = random::<32>()?.to_vec();
                tx.execute(
                    "INSERT OR REPLACE INTO settings (key, value) VALUES ('feed_secret', ?1)",
                    params![v],
                )
                .map_err(sql)?;
                v
            }
        };
        tx.commit().map_err(sql)?;
        let mut feed_secret = [0u8; 32];
        feed_secret.copy_from_slice(&secret);
        let reader = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql)?;
        reader
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
            feed_secret,
            feed_reader: Mutex::new(tokens::FeedReader::new(reader)),
        })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> Error {
        Error {
            kind: ErrorKind::Sqlite {
                path: self.path.display().to_string(),
                source,
            },
        }
    }

    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back
        // on drop), so a poisoned lock is safe to take over.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|e| self.err(e))
    }

    /// The schema version of the file (the number of migrations applied).
    pub fn schema_version(&self) -> Result<u32> {
        self.with(|c| c.pragma_query_value(None, "user_version", |r| r.get(0)))
    }
}
