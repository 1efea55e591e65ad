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
use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The error type of rota-store.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// SQLite failed (disk full, file not writable, corrupt file...).
    #[error("state file {path}: {source}")]
    Sqlite {
        /// The state file.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer rota with a schema this one does not know.
    #[error(
        "state file {path} has schema version {found}, newer than this rota knows ({known}); upgrade rota"
    )]
    TooNew {
        /// The state file.
        path: String,
        /// Its schema version.
        found: u32,
        /// The newest this build knows.
        known: u32,
    },
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Random(String),
    /// A row that should exist does not (e.g. revoking an unknown token).
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with the current state (a swap request already decided, a shift
    /// already covered by an override). Retrying the same change will not help.
    #[error("{0}")]
    Conflict(String),
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

/// A result with this crate's error.
pub type Result<T> = std::result::Result<T, Error>;

/// Schema migrations, applied in order; `MIGRATIONS[i]` takes the schema from version `i` to `i+1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: overrides, API tokens, feed token generations, settings, audit log.
    "CREATE TABLE overrides (
        id          TEXT PRIMARY KEY,
        rotation    TEXT NOT NULL,
        person      TEXT NOT NULL,
        start_s     INTEGER NOT NULL,
        end_s       INTEGER NOT NULL CHECK (end_s > start_s),
        reason      TEXT,
        created_by  TEXT NOT NULL,
        created_at  INTEGER NOT NULL
     );
     CREATE INDEX overrides_rotation ON overrides (rotation, start_s);
     CREATE TABLE api_tokens (
        id          TEXT PRIMARY KEY,
        hash        BLOB NOT NULL UNIQUE,
        person      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER
     );
     CREATE TABLE feed_generations (
        person      TEXT PRIMARY KEY,
        generation  INTEGER NOT NULL
     );
     CREATE TABLE settings (
        key         TEXT PRIMARY KEY,
        value       BLOB NOT NULL
     );
     CREATE TABLE audit (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        at          INTEGER NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        subject     TEXT NOT NULL,
        detail      TEXT NOT NULL
     );",
    // 2: the reminder ledger (what was sent, exactly once) and the change-notice snapshots.
    "CREATE TABLE notify_ledger (
        key             TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        person          TEXT NOT NULL,
        recipient       TEXT NOT NULL,
        state           TEXT NOT NULL
                        CHECK (state IN ('sending', 'sent', 'retry', 'failed', 'superseded')),
        owner           TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_s  INTEGER,
        expires_s       INTEGER,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
     );
     CREATE INDEX notify_ledger_state ON notify_ledger (state, updated_at);
     CREATE TABLE notify_snapshots (
        person      TEXT PRIMARY KEY,
        shifts      TEXT NOT NULL,
        taken_at    INTEGER NOT NULL
     );",
    // 3: swap requests (a two-way trade or a one-way cover, with consent). Slots and their
    // instants are recorded as they were at request time; `fingerprint` is the resolved schedule
    // of those slots then, so a request whose schedule changed under it is recognised as stale.
    "CREATE TABLE swap_requests (
        id                  TEXT PRIMARY KEY,
        rotation            TEXT NOT NULL,
        kind                TEXT NOT NULL CHECK (kind IN ('trade', 'cover')),
        requester           TEXT NOT NULL,
        requester_slot      INTEGER NOT NULL,
        requester_start     INTEGER NOT NULL,
        requester_end       INTEGER NOT NULL,
        requester_person    TEXT NOT NULL,
        counterpart         TEXT NOT NULL,
        counterpart_slot    INTEGER,
        counterpart_start   INTEGER,
        counterpart_end     INTEGER,
        state               TEXT NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
        created_by          TEXT NOT NULL,
        created_at          INTEGER NOT NULL,
        decided_at          INTEGER,
        decided_by          TEXT,
        override_a          TEXT,
        override_b          TEXT,
        fingerprint         TEXT NOT NULL,
        CHECK ((kind = 'cover') = (counterpart_slot IS NULL))
     );
     CREATE INDEX swap_requests_requester ON swap_requests (requester, created_at);
     CREATE INDEX swap_requests_counterpart ON swap_requests (counterpart, created_at);
     CREATE INDEX swap_requests_rotation ON swap_requests (rotation, state);",
];

/// The state file.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    feed_secret: [u8; 32],
    /// A read-only connection for feed token checks alone, with the generations it last read
    /// (see [`Store::verify_feed_token`]).
    feed_reader: Mutex<FeedReader>,
}

/// Feed generations read through `conn`, valid while SQLite's `data_version` on it is
/// `data_version`: it changes whenever another connection commits (this store's writer, or
/// `rota feed rotate` in another process), and only then.
struct FeedReader {
    conn: Connection,
    data_version: Option<i64>,
    by_person: std::collections::HashMap<String, i64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// An override made at run time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredOverride {
    /// `ovr_` + 16 hex digits.
    pub id: String,
    /// Rotation id.
    pub rotation: String,
    /// Who is on call instead.
    pub person: String,
    /// First instant covered.
    pub start: DateTime<Utc>,
    /// First instant no longer covered.
    pub end: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
    /// The person (or `admin:cli`) who made it.
    pub created_by: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// What is needed to record a new override.
#[derive(Clone, Debug)]
pub struct NewOverride {
    /// Rotation id.
    pub rotation: String,
    /// Who is on call instead.
    pub person: String,
    /// First instant covered.
    pub start: DateTime<Utc>,
    /// First instant no longer covered; after `start`.
    pub end: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
}

/// A newly issued API token: the secret is shown once and never stored.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    /// Public id, for listing and revoking.
    pub id: String,
    /// The secret token, `rota_` + 64 hex digits.
    pub token: String,
}

/// An API token as listed (never the secret).
#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    /// Public id.
    pub id: String,
    /// Whose token it is.
    pub person: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One entry of the audit log.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    /// Increasing sequence number.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a person id, or `cli` for the command line).
    pub actor: String,
    /// What: `override.create`, `override.delete`, `token.issue`, `token.revoke`,
    /// `feed_token.rotate`, ...
    pub action: String,
    /// What it was done to (an override id, a token id, a person id).
    pub subject: String,
    /// Details, as JSON.
    pub detail: serde_json::Value,
}

/// The state of one ledger entry (one message rota-notify means to send exactly once).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LedgerState {
    /// Claimed by a sender that is (or was, if it died) in the middle of the SMTP transaction.
    Sending,
    /// The SMTP server accepted it (its `250` was received). Never sent again.
    Sent,
    /// The last attempt failed; try again at `next_attempt`.
    Retry,
    /// Given up (the shift started, or the error was permanent). Never sent.
    Failed,
    /// Not sent because another message covers it (e.g. a shorter-lead reminder of the same shift
    /// was due at the same time). Never sent.
    Superseded,
}

impl LedgerState {
    fn as_str(self) -> &'static str {
        match self {
            LedgerState::Sending => "sending",
            LedgerState::Sent => "sent",
            LedgerState::Retry => "retry",
            LedgerState::Failed => "failed",
            LedgerState::Superseded => "superseded",
        }
    }

    fn parse(s: &str) -> LedgerState {
        match s {
            "sending" => LedgerState::Sending,
            "sent" => LedgerState::Sent,
            "retry" => LedgerState::Retry,
            "superseded" => LedgerState::Superseded,
            _ => LedgerState::Failed,
        }
    }
}

/// What a ledger entry is about: the key and who it goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerItem<'a> {
    /// The stable key of what is sent (e.g. `reminder/support-hero/12/alice/P7D`).
    pub key: &'a str,
    /// The kind of message (`reminder`, `change`, `swap-requested`, ...).
    pub kind: &'a str,
    /// The person it is for.
    pub person: &'a str,
    /// The address it goes to.
    pub recipient: &'a str,
    /// After this instant it is no longer worth sending (a reminder: the shift's start).
    pub expires: Option<DateTime<Utc>>,
}

/// One row of the reminder ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// The stable key.
    pub key: String,
    /// The kind of message.
    pub kind: String,
    /// The person it is for.
    pub person: String,
    /// The address it goes to.
    pub recipient: String,
    /// Where it stands.
    pub state: LedgerState,
    /// Who holds the claim while `Sending` (`host/pid`).
    pub owner: Option<String>,
    /// SMTP transactions started so far.
    pub attempts: u32,
    /// When to try again (`Retry` only).
    pub next_attempt: Option<DateTime<Utc>>,
    /// After this instant it is no longer worth sending.
    pub expires: Option<DateTime<Utc>>,
    /// The last SMTP error, if any.
    pub last_error: Option<String>,
    /// When the entry was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The answer to [`Store::ledger_claim`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller now owns the entry (state `Sending`, on disk) and must send, then call
    /// [`Store::ledger_sent`] or [`Store::ledger_retry`]. `recovered` is true when the entry was
    /// left in `Sending` by a sender whose claim had lapsed (it probably died mid-transaction, so
    /// the message may already have been delivered once).
    Claimed {
        /// This is attempt number `attempt` (1 for the first).
        attempt: u32,
        /// Taken over from a lapsed `Sending` claim.
        recovered: bool,
    },
    /// Another sender holds a live claim on it.
    Busy {
        /// Its owner.
        owner: String,
        /// When it claimed it.
        since: DateTime<Utc>,
    },
    /// It failed before and its next attempt is later.
    NotYet(DateTime<Utc>),
    /// It is finished (`Sent`, `Failed` or `Superseded`): never send it.
    Done(LedgerState),
}

fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn instant(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| Error {
        kind: ErrorKind::Random(e.to_string()),
    })?;
    Ok(buf)
}

/// Constant-time comparison, so a token check does not leak how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
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
            feed_reader: Mutex::new(FeedReader {
                conn: reader,
                data_version: None,
                by_person: std::collections::HashMap::new(),
            }),
        })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> Error {
        Error {
            kind: ErrorKind::Sqlite {
                path: self.path.display().to_string(),
                source,
            },
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back
        // on drop), so a poisoned lock is safe to take over.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|e| self.err(e))
    }

    /// The schema version of the file (the number of migrations applied).
    pub fn schema_version(&self) -> Result<u32> {
        self.with(|c| c.pragma_query_value(None, "user_version", |r| r.get(0)))
    }

    /// All run-time overrides, oldest first (the order that decides which wins).
    pub fn overrides(&self) -> Result<Vec<StoredOverride>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, rotation, person, start_s, end_s, reason, created_by, created_at
                 FROM overrides ORDER BY created_at, rowid",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(StoredOverride {
                    id: r.get(0)?,
                    rotation: r.get(1)?,
                    person: r.get(2)?,
                    start: instant(r.get(3)?),
                    end: instant(r.get(4)?),
                    reason: r.get(5)?,
                    created_by: r.get(6)?,
                    created_at: instant(r.get(7)?),
                })
            })?;
            rows.collect()
        })
    }

    /// Records a new override made by `actor`, with its audit entry, in one transaction.
    pub fn add_override(
        &self,
        new: NewOverride,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredOverride> {
        let id = format!("ovr_{}", hex(&random::<8>()?));
        let o = StoredOverride {
            id,
            rotation: new.rotation,
            person: new.person,
            start: new.start,
            end: new.end,
            reason: new.reason,
            created_by: actor.to_string(),
            created_at: now,
        };
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO overrides (id, rotation, person, start_s, end_s, reason, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![o.id, o.rotation, o.person, secs(o.start), secs(o.end), o.reason, o.created_by, secs(now)],
            )?;
            audit(&tx, now, actor, "override.create", &o.id, &serde_json::to_value(&o).unwrap_or_default())?;
            tx.commit()
        })?;
        Ok(o)
    }

    /// Deletes a run-time override; returns it, or `None` if there is no such override.
    pub fn delete_override(
        &self,
        id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredOverride>> {
        let Some(o) = self.overrides()?.into_iter().find(|o| o.id == id) else {
            return Ok(None);
        };
        let deleted = self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute("DELETE FROM overrides WHERE id = ?1", params![id])?;
            if n == 1 {
                audit(
                    &tx,
                    now,
                    actor,
                    "override.delete",
                    id,
                    &serde_json::to_value(&o).unwrap_or_default(),
                )?;
            }
            tx.commit()?;
            Ok(n == 1)
        })?;
        Ok(deleted.then_some(o))
    }

    /// Issues a new API token for `person`. The secret is returned once; only its hash is kept.
    pub fn issue_token(
        &self,
        person: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken> {
        let token = format!("rota_{}", hex(&random::<32>()?));
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        let id = hex(&hash[..6]);
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO api_tokens (id, hash, person, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, hash, person, secs(now)],
            )?;
            audit(
                &tx,
                now,
                actor,
                "token.issue",
                &id,
                &serde_json::json!({ "person": person }),
            )?;
            tx.commit()
        })?;
        Ok(IssuedToken { id, token })
    }

    /// Revokes an API token, given its public id or the token itself. Errors if there is no such
    /// token; revoking a revoked token is a no-op that returns `Ok(false)`.
    pub fn revoke_token(&self, id_or_token: &str, actor: &str, now: DateTime<Utc>) -> Result<bool> {
        let id = if id_or_token.starts_with("rota_") {
            hex(&Sha256::digest(id_or_token.as_bytes())[..6])
        } else {
            id_or_token.to_string()
        };
        let found = self.with(|c| {
            let tx = c.transaction()?;
            let row: Option<(String, Option<i64>)> = tx
                .query_row(
                    "SELECT person, revoked_at FROM api_tokens WHERE id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let out = match row {
                None => None,
                Some((_, Some(_))) => Some(false),
                Some((person, None)) => {
                    tx.execute(
                        "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1",
                        params![id, secs(now)],
                    )?;
                    audit(
                        &tx,
                        now,
                        actor,
                        "token.revoke",
                        &id,
                        &serde_json::json!({ "person": person }),
                    )?;
                    Some(true)
                }
            };
            tx.commit()?;
            Ok(out)
        })?;
        found.ok_or_else(|| Error {
            kind: ErrorKind::NotFound(format!("no API token with id {id:?}")),
        })
    }

    /// All API tokens (ids and owners, never secrets), newest first.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT id, person, created_at, revoked_at FROM api_tokens ORDER BY created_at DESC, rowid DESC")?;
            let rows = stmt.query_map([], |r| {
                Ok(TokenInfo {
                    id: r.get(0)?,
                    person: r.get(1)?,
                    created_at: instant(r.get(2)?),
                    revoked_at: r.get::<_, Option<i64>>(3)?.map(instant),
                })
            })?;
            rows.collect()
        })
    }

    /// The person an API token belongs to, if it is a valid, unrevoked token.
    pub fn authenticate(&self, token: &str) -> Result<Option<String>> {
        if !token.starts_with("rota_") || token.len() != 69 {
            return Ok(None);
        }
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        self.with(|c| {
            c.query_row(
                "SELECT person FROM api_tokens WHERE hash = ?1 AND revoked_at IS NULL",
                params![hash],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn feed_generation(&self, person: &str) -> Result<i64> {
        self.with(|c| {
            c.query_row(
                "SELECT generation FROM feed_generations WHERE person = ?1",
                params![person],
                |r| r.get(0),
            )
            .optional()
            .map(|g| g.unwrap_or(0))
        })
    }

    fn feed_token_for(&self, person: &str, generation: i64) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.feed_secret)
            .expect("HMAC takes any key length");
        mac.update(b"rota feed token\0");
        mac.update(person.as_bytes());
        mac.update(b"\0");
        mac.update(&generation.to_be_bytes());
        hex(&mac.finalize().into_bytes()[..20])
    }

    /// The current secret token of `person`'s calendar feed.
    pub fn feed_token(&self, person: &str) -> Result<String> {
        Ok(self.feed_token_for(person, self.feed_generation(person)?))
    }

    /// Whether `token` is `person`'s current feed token (constant-time).
    ///
    /// Feed requests are the service's most frequent, so this never waits for a write: it reads
    /// through a read-only connection of its own (in WAL mode a reader does not wait for the
    /// writer), and remembers the generations it read until SQLite's `data_version` says another
    /// connection committed. When nothing changed it costs one `PRAGMA data_version` and an HMAC,
    /// a few microseconds, so the service calls it on its async threads.
    pub fn verify_feed_token(&self, person: &str, token: &str) -> Result<bool> {
        let mut r = self.feed_reader.lock().unwrap_or_else(|p| p.into_inner());
        let r = &mut *r;
        let generation = (|| {
            let version: i64 = r
                .conn
                .prepare_cached("PRAGMA data_version")?
                .query_row([], |row| row.get(0))?;
            if r.data_version != Some(version) {
                r.by_person.clear();
                r.data_version = Some(version);
            }
            if let Some(g) = r.by_person.get(person) {
                return Ok(*g);
            }
            let g = r
                .conn
                .prepare_cached("SELECT generation FROM feed_generations WHERE person = ?1")?
                .query_row(params![person], |row| row.get(0))
                .optional()?
                .unwrap_or(0);
            // Bounded by the people asked about, and emptied by any change to the file.
            if r.by_person.len() < 100_000 {
                r.by_person.insert(person.to_string(), g);
            }
            Ok(g)
        })()
        .map_err(|e| self.err(e))?;
        Ok(same(
            self.feed_token_for(person, generation).as_bytes(),
            token.as_bytes(),
        ))
    }

    /// Invalidates `person`'s feed URL and returns the new token.
    pub fn rotate_feed_token(
        &self,
        person: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let generation = self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO feed_generations (person, generation) VALUES (?1, 1)
                 ON CONFLICT (person) DO UPDATE SET generation = generation + 1",
                params![person],
            )?;
            let g: i64 = tx.query_row(
                "SELECT generation FROM feed_generations WHERE person = ?1",
                params![person],
                |r| r.get(0),
            )?;
            audit(
                &tx,
                now,
                actor,
                "feed_token.rotate",
                person,
                &serde_json::json!({ "generation": g }),
            )?;
            tx.commit()?;
            Ok(g)
        })?;
        Ok(self.feed_token_for(person, generation))
    }

    /// The newest `limit` audit entries with `seq < before` (all if `before` is `None`), newest
    /// first.
    pub fn audit(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT seq, at, actor, action, subject, detail FROM audit
                 WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![before.unwrap_or(i64::MAX), limit], |r| {
                let detail: String = r.get(5)?;
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: instant(r.get(1)?),
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    subject: r.get(4)?,
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                })
            })?;
            rows.collect()
        })
    }

    /// The ledger entries with these keys (those that exist), in no particular order.
    pub fn ledger_entries(&self, keys: &[&str]) -> Result<Vec<LedgerEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(&format!("{LEDGER_SELECT} WHERE key = ?1"))?;
            let mut out = Vec::new();
            for k in keys {
                if let Some(e) = stmt.query_row(params![k], ledger_row).optional()? {
                    out.push(e);
                }
            }
            Ok(out)
        })
    }

    /// The newest `limit` ledger entries, by last change.
    pub fn ledger_recent(&self, limit: u32) -> Result<Vec<LedgerEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{LEDGER_SELECT} ORDER BY updated_at DESC, rowid DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map(params![limit], ledger_row)?;
            rows.collect()
        })
    }

    /// Claims `item` for sending by `owner`, durably (the claim is committed with
    /// `synchronous=FULL` before this returns), unless it is finished, not yet due for a retry, or
    /// held by another sender whose claim is younger than `lease`. See [`Claim`].
    ///
    /// Two processes sharing the file (the service and a cron `rota remind`) cannot both claim the
    /// same entry: the check and the claim are one `IMMEDIATE` transaction.
    pub fn ledger_claim(
        &self,
        item: &LedgerItem<'_>,
        owner: &str,
        lease: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Claim> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let row = tx
                .query_row(
                    &format!("{LEDGER_SELECT} WHERE key = ?1"),
                    params![item.key],
                    ledger_row,
                )
                .optional()?;
            let claim = match row {
                None => {
                    tx.execute(
                        "INSERT INTO notify_ledger (key, kind, person, recipient, state, owner,
                            attempts, expires_s, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, 'sending', ?5, 1, ?6, ?7, ?7)",
                        params![
                            item.key,
                            item.kind,
                            item.person,
                            item.recipient,
                            owner,
                            item.expires.map(secs),
                            secs(now)
                        ],
                    )?;
                    Claim::Claimed {
                        attempt: 1,
                        recovered: false,
                    }
                }
                Some(e) => match e.state {
                    LedgerState::Sent | LedgerState::Failed | LedgerState::Superseded => {
                        Claim::Done(e.state)
                    }
                    LedgerState::Retry if e.next_attempt.is_some_and(|t| t > now) => {
                        Claim::NotYet(e.next_attempt.unwrap_or(now))
                    }
                    LedgerState::Sending if e.updated_at + lease > now => Claim::Busy {
                        owner: e.owner.unwrap_or_default(),
                        since: e.updated_at,
                    },
                    LedgerState::Retry | LedgerState::Sending => {
                        tx.execute(
                            "UPDATE notify_ledger SET state = 'sending', owner = ?2,
                                attempts = attempts + 1, next_attempt_s = NULL, recipient = ?3,
                                expires_s = ?4, updated_at = ?5
                             WHERE key = ?1",
                            params![
                                item.key,
                                owner,
                                item.recipient,
                                item.expires.map(secs),
                                secs(now)
                            ],
                        )?;
                        Claim::Claimed {
                            attempt: e.attempts + 1,
                            recovered: e.state == LedgerState::Sending,
                        }
                    }
                },
            };
            tx.commit()?;
            Ok(claim)
        })
    }

    /// Takes over an entry left in `Sending` by `dead_owner` (a sender known to be gone, e.g. a
    /// process on this host that no longer exists), as [`Store::ledger_claim`] would after the
    /// lease. Returns the claim, or `None` if the entry is no longer held by `dead_owner`.
    pub fn ledger_take_over(
        &self,
        key: &str,
        dead_owner: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE notify_ledger SET owner = ?3, attempts = attempts + 1, updated_at = ?4
                 WHERE key = ?1 AND state = 'sending' AND owner = ?2",
                params![key, dead_owner, owner, secs(now)],
            )?;
            let attempt: Option<u32> = if n == 1 {
                Some(tx.query_row(
                    "SELECT attempts FROM notify_ledger WHERE key = ?1",
                    params![key],
                    |r| r.get(0),
                )?)
            } else {
                None
            };
            tx.commit()?;
            Ok(attempt.map(|attempt| Claim::Claimed {
                attempt,
                recovered: true,
            }))
        })
    }

    /// Marks an entry claimed by `owner` as sent (the SMTP server said `250`). With `snapshot`,
    /// also records `(person, shifts)` as that person's change-notice snapshot, in the same
    /// transaction. Returns false if `owner` no longer held the claim (it is marked sent anyway:
    /// the message did go out).
    pub fn ledger_sent(
        &self,
        key: &str,
        owner: &str,
        now: DateTime<Utc>,
        snapshot: Option<(&str, &str)>,
    ) -> Result<bool> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let held = tx.execute(
                "UPDATE notify_ledger SET state = 'sent', next_attempt_s = NULL, updated_at = ?3
                 WHERE key = ?1 AND owner = ?2",
                params![key, owner, secs(now)],
            )? == 1;
            if !held {
                tx.execute(
                    "UPDATE notify_ledger SET state = 'sent', updated_at = ?2 WHERE key = ?1",
                    params![key, secs(now)],
                )?;
            }
            if let Some((person, shifts)) = snapshot {
                put_snapshot(&tx, person, shifts, now)?;
            }
            tx.commit()?;
            Ok(held)
        })
    }

    /// Records a failed attempt of an entry claimed by `owner`: `Retry` at `next`, or `Failed` (for
    /// good) when `next` is `None`.
    pub fn ledger_retry(
        &self,
        key: &str,
        owner: &str,
        next: Option<DateTime<Utc>>,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let state = if next.is_some() { "retry" } else { "failed" };
        self.with(|c| {
            c.execute(
                "UPDATE notify_ledger SET state = ?3, owner = NULL, next_attempt_s = ?4,
                    last_error = ?5, updated_at = ?6
                 WHERE key = ?1 AND owner = ?2 AND state = 'sending'",
                params![key, owner, state, next.map(secs), error, secs(now)],
            )?;
            Ok(())
        })
    }

    /// Finishes an entry that is not `Sent` without sending it (`Failed` or `Superseded`),
    /// creating it if needed. An entry already `Sent` stays `Sent`; one held by a live sender is
    /// left alone. Returns whether it was changed.
    pub fn ledger_finish(
        &self,
        item: &LedgerItem<'_>,
        state: LedgerState,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        debug_assert!(matches!(
            state,
            LedgerState::Failed | LedgerState::Superseded
        ));
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO notify_ledger (key, kind, person, recipient, state, attempts,
                    expires_s, last_error, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?8)
                 ON CONFLICT (key) DO UPDATE SET state = excluded.state,
                    last_error = excluded.last_error, owner = NULL, updated_at = excluded.updated_at
                 WHERE notify_ledger.state = 'retry'",
                params![
                    item.key,
                    item.kind,
                    item.person,
                    item.recipient,
                    state.as_str(),
                    item.expires.map(secs),
                    reason,
                    secs(now)
                ],
            )?;
            Ok(n == 1)
        })
    }

    /// A person's change-notice snapshot (opaque text, rota-notify's JSON) and when it was taken.
    pub fn notify_snapshot(&self, person: &str) -> Result<Option<(String, DateTime<Utc>)>> {
        self.with(|c| {
            c.query_row(
                "SELECT shifts, taken_at FROM notify_snapshots WHERE person = ?1",
                params![person],
                |r| Ok((r.get(0)?, instant(r.get(1)?))),
            )
            .optional()
        })
    }

    /// Records several people's change-notice snapshots in one transaction.
    pub fn set_notify_snapshots(
        &self,
        snapshots: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            for (person, shifts) in snapshots {
                put_snapshot(&tx, person, shifts, now)?;
            }
            tx.commit()
        })
    }

    /// Records a person's change-notice snapshot.
    pub fn set_notify_snapshot(
        &self,
        person: &str,
        shifts: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            put_snapshot(&tx, person, shifts, now)?;
            tx.commit()
        })
    }
}

/// Whether a swap request is a two-way trade or a one-way cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SwapKind {
    /// "You take my shift, I take yours": two overrides.
    Trade,
    /// "Please take my shift": one override.
    Cover,
}

impl SwapKind {
    fn as_str(self) -> &'static str {
        match self {
            SwapKind::Trade => "trade",
            SwapKind::Cover => "cover",
        }
    }
}

/// Where a swap request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SwapState {
    /// Waiting for the counterpart.
    Pending,
    /// Accepted: its overrides are written.
    Accepted,
    /// Declined by the counterpart.
    Declined,
    /// Cancelled by the requester.
    Cancelled,
    /// Its first shift started before anyone decided.
    Expired,
}

impl SwapState {
    /// `"pending"`, `"accepted"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SwapState::Pending => "pending",
            SwapState::Accepted => "accepted",
            SwapState::Declined => "declined",
            SwapState::Cancelled => "cancelled",
            SwapState::Expired => "expired",
        }
    }

    fn parse(s: &str) -> SwapState {
        match s {
            "pending" => SwapState::Pending,
            "accepted" => SwapState::Accepted,
            "declined" => SwapState::Declined,
            "cancelled" => SwapState::Cancelled,
            _ => SwapState::Expired,
        }
    }
}

/// One shift named by a swap request: slot `slot` of the request's rotation, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SwapSlot {
    /// The rotation's shift index.
    pub slot: u64,
    /// Its start when the request was made.
    pub start: DateTime<Utc>,
    /// Its end when the request was made.
    pub end: DateTime<Utc>,
}

/// What is needed to record a new swap request.
#[derive(Clone, Debug)]
pub struct NewSwap {
    /// Rotation id.
    pub rotation: String,
    /// Trade or cover.
    pub kind: SwapKind,
    /// Who asks (whose shift `requester_slot` is).
    pub requester: String,
    /// The requester's shift.
    pub requester_slot: SwapSlot,
    /// Who is asked.
    pub counterpart: String,
    /// The counterpart's shift (trades only).
    pub counterpart_slot: Option<SwapSlot>,
    /// The resolved schedule of the slots at request time (opaque to the store).
    pub fingerprint: String,
}

/// A swap request as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SwapRequest {
    /// `swp_` + 16 hex digits.
    pub id: String,
    /// Rotation id.
    pub rotation: String,
    /// Trade or cover.
    pub kind: SwapKind,
    /// Who asks.
    pub requester: String,
    /// The requester's shift.
    pub requester_slot: SwapSlot,
    /// Who was on call in the requester's slot at request time (the requester).
    pub requester_person: String,
    /// Who is asked.
    pub counterpart: String,
    /// The counterpart's shift (trades only).
    pub counterpart_slot: Option<SwapSlot>,
    /// Where it stands, as stored (a pending request whose first shift has started is expired
    /// even before anyone writes that down: see [`SwapRequest::state_at`]).
    pub state: SwapState,
    /// Who made it (the requester, or an admin on their behalf).
    pub created_by: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided it.
    pub decided_by: Option<String>,
    /// The overrides written when it was accepted.
    pub overrides: Vec<String>,
    /// The resolved schedule of the slots at request time.
    pub fingerprint: String,
}

impl SwapRequest {
    /// When the first of its shifts starts: the request expires then.
    pub fn expires_at(&self) -> DateTime<Utc> {
        match self.counterpart_slot {
            Some(c) => c.start.min(self.requester_slot.start),
            None => self.requester_slot.start,
        }
    }

    /// Its state at `now`: a pending request whose first shift has started is expired.
    pub fn state_at(&self, now: DateTime<Utc>) -> SwapState {
        if self.state == SwapState::Pending && now >= self.expires_at() {
            SwapState::Expired
        } else {
            self.state
        }
    }

    /// The shifts it names, requester's first.
    pub fn slots(&self) -> Vec<SwapSlot> {
        let mut v = vec![self.requester_slot];
        v.extend(self.counterpart_slot);
        v
    }
}

const SWAP_SELECT: &str = "SELECT id, rotation, kind, requester, requester_slot, requester_start,
    requester_end, requester_person, counterpart, counterpart_slot, counterpart_start,
    counterpart_end, state, created_by, created_at, decided_at, decided_by, override_a,
    override_b, fingerprint FROM swap_requests";

fn swap_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SwapRequest> {
    let kind: String = r.get(2)?;
    let cslot: Option<i64> = r.get(9)?;
    let cstart: Option<i64> = r.get(10)?;
    let cend: Option<i64> = r.get(11)?;
    let overrides: Vec<String> = [r.get::<_, Option<String>>(17)?, r.get(18)?]
        .into_iter()
        .flatten()
        .collect();
    Ok(SwapRequest {
        id: r.get(0)?,
        rotation: r.get(1)?,
        kind: if kind == "trade" {
            SwapKind::Trade
        } else {
            SwapKind::Cover
        },
        requester: r.get(3)?,
        requester_slot: SwapSlot {
            slot: r.get::<_, i64>(4)? as u64,
            start: instant(r.get(5)?),
            end: instant(r.get(6)?),
        },
        requester_person: r.get(7)?,
        counterpart: r.get(8)?,
        counterpart_slot: match (cslot, cstart, cend) {
            (Some(slot), Some(start), Some(end)) => Some(SwapSlot {
                slot: slot as u64,
                start: instant(start),
                end: instant(end),
            }),
            _ => None,
        },
        state: SwapState::parse(&r.get::<_, String>(12)?),
        created_by: r.get(13)?,
        created_at: instant(r.get(14)?),
        decided_at: r.get::<_, Option<i64>>(15)?.map(instant),
        decided_by: r.get(16)?,
        overrides,
        fingerprint: r.get(19)?,
    })
}

/// Why a store method refused a swap change (becomes [`ErrorKind::Conflict`]).
enum Refusal {
    Sql(rusqlite::Error),
    Conflict(String),
    NotFound(String),
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Refusal {
        Refusal::Sql(e)
    }
}

fn get_swap(c: &Connection, id: &str) -> rusqlite::Result<Option<SwapRequest>> {
    c.query_row(
        &format!("{SWAP_SELECT} WHERE id = ?1"),
        params![id],
        swap_row,
    )
    .optional()
}

/// Signatures for the web pages (session cookies, CSRF tokens).
impl Store {
    /// HMAC-SHA256 of `data` for `purpose`, under a key derived from the state file's secret, in
    /// hex. Stateless: whoever holds the state file can verify it, and nothing else can make one.
    pub fn sign(&self, purpose: &str, data: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.feed_secret)
            .expect("HMAC takes any key length");
        mac.update(b"rota signature\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Whether `signature` is [`Store::sign`]`(purpose, data)` (constant-time).
    pub fn verify(&self, purpose: &str, data: &str, signature: &str) -> bool {
        same(self.sign(purpose, data).as_bytes(), signature.as_bytes())
    }
}

/// Swap requests.
impl Store {
    fn refusal<T>(&self, r: std::result::Result<T, Refusal>) -> Result<T> {
        r.map_err(|e| match e {
            Refusal::Sql(e) => self.err(e),
            Refusal::Conflict(m) => Error {
                kind: ErrorKind::Conflict(m),
            },
            Refusal::NotFound(m) => Error {
                kind: ErrorKind::NotFound(m),
            },
        })
    }

    fn with_swaps<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> std::result::Result<T, Refusal>,
    ) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let r = f(&mut conn);
        drop(conn);
        self.refusal(r)
    }

    /// Records a new pending swap request made by `actor`, with its audit entry.
    pub fn create_swap(
        &self,
        new: NewSwap,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SwapRequest> {
        let id = format!("swp_{}", hex(&random::<8>()?));
        let req = SwapRequest {
            id,
            rotation: new.rotation,
            kind: new.kind,
            requester_person: new.requester.clone(),
            requester: new.requester,
            requester_slot: new.requester_slot,
            counterpart: new.counterpart,
            counterpart_slot: new.counterpart_slot,
            state: SwapState::Pending,
            created_by: actor.to_string(),
            created_at: now,
            decided_at: None,
            decided_by: None,
            overrides: Vec::new(),
            fingerprint: new.fingerprint,
        };
        self.with(|c| {
            let tx = c.transaction()?;
            let (a, b) = (req.requester_slot, req.counterpart_slot);
            tx.execute(
                "INSERT INTO swap_requests (id, rotation, kind, requester, requester_slot,
                    requester_start, requester_end, requester_person, counterpart, counterpart_slot,
                    counterpart_start, counterpart_end, state, created_by, created_at, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending', ?13, ?14, ?15)",
                params![
                    req.id,
                    req.rotation,
                    req.kind.as_str(),
                    req.requester,
                    a.slot as i64,
                    secs(a.start),
                    secs(a.end),
                    req.requester_person,
                    req.counterpart,
                    b.map(|b| b.slot as i64),
                    b.map(|b| secs(b.start)),
                    b.map(|b| secs(b.end)),
                    req.created_by,
                    secs(now),
                    req.fingerprint
                ],
            )?;
            audit(
                &tx,
                now,
                actor,
                "swap.create",
                &req.id,
                &serde_json::to_value(&req).unwrap_or_default(),
            )?;
            tx.commit()
        })?;
        Ok(req)
    }

    /// One swap request.
    pub fn swap(&self, id: &str) -> Result<Option<SwapRequest>> {
        self.with(|c| get_swap(c, id))
    }

    /// Swap requests, newest first: all of them, or those `person` made or was asked in.
    pub fn swaps(&self, person: Option<&str>) -> Result<Vec<SwapRequest>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{SWAP_SELECT} WHERE ?1 IS NULL OR requester = ?1 OR counterpart = ?1
                 ORDER BY created_at DESC, rowid DESC"
            ))?;
            let rows = stmt.query_map(params![person], swap_row)?;
            rows.collect()
        })
    }

    /// Accepts a pending swap request: in one `BEGIN IMMEDIATE` transaction, checks that it is
    /// still pending and that no override overlaps its shifts (an accepted swap's overrides count),
    /// writes `overrides` (one per shift, made by `actor`), marks it accepted and audits all of it.
    ///
    /// Errors with [`ErrorKind::Conflict`] when it is no longer pending or a shift is covered, and
    /// [`ErrorKind::NotFound`] when there is no such request. Of several racing accepts of one
    /// request, or of requests naming the same shift, exactly one succeeds.
    pub fn accept_swap(
        &self,
        id: &str,
        overrides: Vec<NewOverride>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SwapRequest> {
        let mut stored = Vec::with_capacity(overrides.len());
        for new in overrides {
            stored.push(StoredOverride {
                id: format!("ovr_{}", hex(&random::<8>()?)),
                rotation: new.rotation,
                person: new.person,
                start: new.start,
                end: new.end,
                reason: new.reason,
                created_by: actor.to_string(),
                created_at: now,
            });
        }
        self.with_swaps(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let req =
                get_swap(&tx, id)?.ok_or_else(|| Refusal::NotFound(format!("no swap request {id:?}")))?;
            if req.state != SwapState::Pending {
                return Err(Refusal::Conflict(format!(
                    "swap request {id} is already {}",
                    req.state.as_str()
                )));
            }
            for s in req.slots() {
                let covering: Option<String> = tx
                    .query_row(
                        "SELECT id FROM overrides WHERE rotation = ?1 AND start_s < ?3 AND end_s > ?2
                         LIMIT 1",
                        params![req.rotation, secs(s.start), secs(s.end)],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(o) = covering {
                    return Err(Refusal::Conflict(format!(
                        "shift {} of {} ({} to {}) is already covered by override {o}",
                        s.slot,
                        req.rotation,
                        s.start.to_rfc3339(),
                        s.end.to_rfc3339()
                    )));
                }
            }
            for o in &stored {
                tx.execute(
                    "INSERT INTO overrides (id, rotation, person, start_s, end_s, reason, created_by, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![o.id, o.rotation, o.person, secs(o.start), secs(o.end), o.reason, o.created_by, secs(now)],
                )?;
                audit(&tx, now, actor, "override.create", &o.id, &serde_json::to_value(o).unwrap_or_default())?;
            }
            let n = tx.execute(
                "UPDATE swap_requests SET state = 'accepted', decided_at = ?2, decided_by = ?3,
                    override_a = ?4, override_b = ?5
                 WHERE id = ?1 AND state = 'pending'",
                params![
                    id,
                    secs(now),
                    actor,
                    stored.first().map(|o| o.id.as_str()),
                    stored.get(1).map(|o| o.id.as_str())
                ],
            )?;
            if n != 1 {
                return Err(Refusal::Conflict(format!("swap request {id} is no longer pending")));
            }
            audit(
                &tx,
                now,
                actor,
                "swap.accept",
                id,
                &serde_json::json!({ "overrides": stored.iter().map(|o| o.id.as_str()).collect::<Vec<_>>() }),
            )?;
            let out = get_swap(&tx, id)?.ok_or_else(|| Refusal::NotFound(id.to_string()))?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// Moves a pending swap request to `state` (declined, cancelled or expired), audited as
    /// `swap.decline` / `swap.cancel` / `swap.expire`. Errors with [`ErrorKind::Conflict`] when it
    /// is no longer pending.
    pub fn decide_swap(
        &self,
        id: &str,
        state: SwapState,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SwapRequest> {
        let action = match state {
            SwapState::Declined => "swap.decline",
            SwapState::Cancelled => "swap.cancel",
            SwapState::Expired => "swap.expire",
            SwapState::Pending | SwapState::Accepted => {
                return Err(Error {
                    kind: ErrorKind::Conflict(format!(
                        "decide_swap cannot move a request to {}",
                        state.as_str()
                    )),
                });
            }
        };
        self.with_swaps(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE swap_requests SET state = ?2, decided_at = ?3, decided_by = ?4
                 WHERE id = ?1 AND state = 'pending'",
                params![id, state.as_str(), secs(now), actor],
            )?;
            let req = get_swap(&tx, id)?
                .ok_or_else(|| Refusal::NotFound(format!("no swap request {id:?}")))?;
            if n != 1 {
                return Err(Refusal::Conflict(format!(
                    "swap request {id} is already {}",
                    req.state.as_str()
                )));
            }
            audit(&tx, now, actor, action, id, &serde_json::json!({}))?;
            tx.commit()?;
            Ok(req)
        })
    }
}

fn audit(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![secs(now), actor, action, subject, detail.to_string()],
    )?;
    Ok(())
}

const LEDGER_SELECT: &str = "SELECT key, kind, person, recipient, state, owner, attempts,
    next_attempt_s, expires_s, last_error, created_at, updated_at FROM notify_ledger";

fn ledger_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LedgerEntry> {
    Ok(LedgerEntry {
        key: r.get(0)?,
        kind: r.get(1)?,
        person: r.get(2)?,
        recipient: r.get(3)?,
        state: LedgerState::parse(&r.get::<_, String>(4)?),
        owner: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt: r.get::<_, Option<i64>>(7)?.map(instant),
        expires: r.get::<_, Option<i64>>(8)?.map(instant),
        last_error: r.get(9)?,
        created_at: instant(r.get(10)?),
        updated_at: instant(r.get(11)?),
    })
}

fn put_snapshot(
    tx: &Transaction<'_>,
    person: &str,
    shifts: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO notify_snapshots (person, shifts, taken_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (person) DO UPDATE SET shifts = excluded.shifts, taken_at = excluded.taken_at",
        params![person, shifts, secs(now)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn new_override() -> NewOverride {
        NewOverride {
            rotation: "support-hero".into(),
            person: "bob".into(),
            start: t("2026-12-21T09:00:00Z"),
            end: t("2026-12-28T09:00:00Z"),
            reason: Some("holiday".into()),
        }
    }

    #[test]
    fn overrides_survive_reopening_and_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rota.db");
        let now = t("2026-11-23T10:00:00Z");
        let id = {
            let store = Store::open(&path).unwrap();
            assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
            store.add_override(new_override(), "alice", now).unwrap().id
        };
        let store = Store::open(&path).unwrap();
        let all = store.overrides().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, id);
        assert_eq!(all[0].start, t("2026-12-21T09:00:00Z"));
        assert_eq!(all[0].created_by, "alice");
        let deleted = store.delete_override(&id, "alice", now).unwrap().unwrap();
        assert_eq!(deleted.person, "bob");
        assert!(store.delete_override(&id, "alice", now).unwrap().is_none());
        let log = store.audit(10, None).unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["override.delete", "override.create"]);
        assert_eq!(log[1].detail["person"], "bob");
    }

    #[test]
    fn tokens_are_hashed_verified_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("rota.db")).unwrap();
        let now = t("2026-11-23T10:00:00Z");
        let issued = store.issue_token("alice", "cli", now).unwrap();
        assert!(issued.token.starts_with("rota_") && issued.token.len() == 69);
        assert_eq!(
            store.authenticate(&issued.token).unwrap().as_deref(),
            Some("alice")
        );
        assert_eq!(store.authenticate("rota_nope").unwrap(), None);
        let mut wrong = issued.token.clone();
        wrong.pop();
        wrong.push('x');
        assert_eq!(store.authenticate(&wrong).unwrap(), None);
        // The secret is not in the file.
        let bytes = std::fs::read(dir.path().join("rota.db")).unwrap();
        let wal = std::fs::read(dir.path().join("rota.db-wal")).unwrap_or_default();
        let needle = issued.token.as_bytes();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        assert!(!wal.windows(needle.len()).any(|w| w == needle));
        assert!(store.revoke_token(&issued.id, "cli", now).unwrap());
        assert!(
            !store.revoke_token(&issued.token, "cli", now).unwrap(),
            "already revoked"
        );
        assert_eq!(store.authenticate(&issued.token).unwrap(), None);
        assert!(store.revoke_token("nonexistent", "cli", now).is_err());
        assert_eq!(store.tokens().unwrap()[0].revoked_at, Some(now));
    }

    #[test]
    fn feed_tokens_are_stable_until_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rota.db");
        let now = t("2026-11-23T10:00:00Z");
        let first = Store::open(&path).unwrap().feed_token("alice").unwrap();
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.feed_token("alice").unwrap(),
            first,
            "same secret after reopening"
        );
        assert_ne!(store.feed_token("bob").unwrap(), first);
        assert!(store.verify_feed_token("alice", &first).unwrap());
        assert!(!store.verify_feed_token("bob", &first).unwrap());
        let second = store.rotate_feed_token("alice", "alice", now).unwrap();
        assert_ne!(second, first);
        assert!(!store.verify_feed_token("alice", &first).unwrap());
        assert!(store.verify_feed_token("alice", &second).unwrap());
        // Another state file has another secret.
        let other = Store::open(dir.path().join("other.db")).unwrap();
        assert_ne!(other.feed_token("alice").unwrap(), first);
    }

    #[test]
    fn remembered_feed_generations_follow_rotations_by_other_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rota.db");
        let now = t("2026-11-23T10:00:00Z");
        let server = Store::open(&path).unwrap();
        let first = server.feed_token("alice").unwrap();
        for _ in 0..2 {
            assert!(server.verify_feed_token("alice", &first).unwrap());
        }
        // `rota feed rotate` is another process: another connection to the same file.
        let cli = Store::open(&path).unwrap();
        let second = cli.rotate_feed_token("alice", "alice", now).unwrap();
        assert!(!server.verify_feed_token("alice", &first).unwrap());
        assert!(server.verify_feed_token("alice", &second).unwrap());
        // And a rotation through the service's own writer.
        let third = server.rotate_feed_token("alice", "alice", now).unwrap();
        assert!(!server.verify_feed_token("alice", &second).unwrap());
        assert!(server.verify_feed_token("alice", &third).unwrap());
    }

    fn item(key: &str) -> LedgerItem<'_> {
        LedgerItem {
            key,
            kind: "reminder",
            person: "alice",
            recipient: "alice@example.com",
            expires: Some(t("2026-12-07T09:00:00Z")),
        }
    }

    #[test]
    fn the_ledger_claims_once_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rota.db");
        let now = t("2026-11-30T09:00:00Z");
        let lease = chrono::Duration::minutes(5);
        {
            let store = Store::open(&path).unwrap();
            assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
            let c = store.ledger_claim(&item("k1"), "h/1", lease, now).unwrap();
            assert_eq!(
                c,
                Claim::Claimed {
                    attempt: 1,
                    recovered: false
                }
            );
            // A second sender sees the live claim.
            let c = store.ledger_claim(&item("k1"), "h/2", lease, now).unwrap();
            assert!(
                matches!(c, Claim::Busy { ref owner, .. } if owner == "h/1"),
                "{c:?}"
            );
            assert!(store.ledger_sent("k1", "h/1", now, None).unwrap());
        }
        let store = Store::open(&path).unwrap();
        let later = now + chrono::Duration::hours(1);
        assert_eq!(
            store
                .ledger_claim(&item("k1"), "h/3", lease, later)
                .unwrap(),
            Claim::Done(LedgerState::Sent)
        );
        let e = &store.ledger_entries(&["k1", "nope"]).unwrap()[0];
        assert_eq!((e.state, e.attempts), (LedgerState::Sent, 1));
        // Finishing a sent entry changes nothing.
        assert!(
            !store
                .ledger_finish(&item("k1"), LedgerState::Failed, "x", later)
                .unwrap()
        );
    }

    #[test]
    fn the_ledger_retries_after_backoff_and_recovers_lapsed_claims() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("rota.db")).unwrap();
        let now = t("2026-11-30T09:00:00Z");
        let lease = chrono::Duration::minutes(5);
        let min = chrono::Duration::minutes;
        store.ledger_claim(&item("k"), "h/1", lease, now).unwrap();
        store
            .ledger_retry("k", "h/1", Some(now + min(2)), "421 busy", now)
            .unwrap();
        assert_eq!(
            store
                .ledger_claim(&item("k"), "h/1", lease, now + min(1))
                .unwrap(),
            Claim::NotYet(now + min(2))
        );
        assert_eq!(
            store
                .ledger_claim(&item("k"), "h/1", lease, now + min(2))
                .unwrap(),
            Claim::Claimed {
                attempt: 2,
                recovered: false
            }
        );
        // The sender dies holding the claim: after the lease anyone may take it over ...
        assert!(matches!(
            store
                .ledger_claim(&item("k"), "h/2", lease, now + min(3))
                .unwrap(),
            Claim::Busy { .. }
        ));
        assert_eq!(
            store
                .ledger_claim(&item("k"), "h/2", lease, now + min(8))
                .unwrap(),
            Claim::Claimed {
                attempt: 3,
                recovered: true
            }
        );
        // ... or at once, by naming the owner known to be dead.
        assert_eq!(
            store
                .ledger_take_over("k", "h/1", "h/3", now + min(8))
                .unwrap(),
            None,
            "h/1 no longer holds it"
        );
        assert_eq!(
            store
                .ledger_take_over("k", "h/2", "h/3", now + min(8))
                .unwrap(),
            Some(Claim::Claimed {
                attempt: 4,
                recovered: true
            })
        );
        // A retry without a next attempt gives up for good.
        store
            .ledger_retry("k", "h/3", None, "550 no such user", now + min(9))
            .unwrap();
        let e = &store.ledger_entries(&["k"]).unwrap()[0];
        assert_eq!(e.state, LedgerState::Failed);
        assert_eq!(e.last_error.as_deref(), Some("550 no such user"));
        assert!(
            store
                .ledger_finish(&item("s"), LedgerState::Superseded, "shorter lead", now)
                .unwrap()
        );
        assert_eq!(
            store.ledger_claim(&item("s"), "h/1", lease, now).unwrap(),
            Claim::Done(LedgerState::Superseded)
        );
        assert_eq!(store.ledger_recent(10).unwrap().len(), 2);
    }

    #[test]
    fn notify_snapshots_are_kept_per_person() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("rota.db")).unwrap();
        let now = t("2026-11-30T09:00:00Z");
        assert_eq!(store.notify_snapshot("alice").unwrap(), None);
        store.set_notify_snapshot("alice", "[1]", now).unwrap();
        store
            .ledger_claim(&item("c"), "h/1", chrono::Duration::minutes(5), now)
            .unwrap();
        store
            .ledger_sent("c", "h/1", now, Some(("alice", "[2]")))
            .unwrap();
        assert_eq!(
            store.notify_snapshot("alice").unwrap(),
            Some(("[2]".to_string(), now))
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rota.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("schema version 99, newer than this rota knows"),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rota.db");
        std::fs::write(
            &path,
            b"this is not a database, it is a text file that is long enough",
        )
        .unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(err.to_string().contains("rota.db"), "{err}");
    }

    fn new_swap(a: u64, b: Option<u64>) -> NewSwap {
        let week = |n: u64| {
            let start = t("2026-11-02T09:00:00Z") + chrono::Duration::weeks(n as i64);
            SwapSlot {
                slot: n,
                start,
                end: start + chrono::Duration::weeks(1),
            }
        };
        NewSwap {
            rotation: "support-hero".into(),
            kind: if b.is_some() {
                SwapKind::Trade
            } else {
                SwapKind::Cover
            },
            requester: "alice".into(),
            requester_slot: week(a),
            counterpart: "bob".into(),
            counterpart_slot: b.map(week),
            fingerprint: "fp".into(),
        }
    }

    fn swap_overrides(r: &SwapRequest) -> Vec<NewOverride> {
        let mut v = vec![NewOverride {
            rotation: r.rotation.clone(),
            person: r.counterpart.clone(),
            start: r.requester_slot.start,
            end: r.requester_slot.end,
            reason: None,
        }];
        if let Some(c) = r.counterpart_slot {
            v.push(NewOverride {
                rotation: r.rotation.clone(),
                person: r.requester.clone(),
                start: c.start,
                end: c.end,
                reason: None,
            });
        }
        v
    }

    #[test]
    fn swaps_are_accepted_once_and_audited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rota.db");
        let now = t("2026-11-23T10:00:00Z");
        let store = Store::open(&path).unwrap();
        let r = store
            .create_swap(new_swap(9, Some(10)), "alice", now)
            .unwrap();
        assert_eq!(r.state, SwapState::Pending);
        assert_eq!(store.swap(&r.id).unwrap().unwrap(), r);
        assert_eq!(store.swaps(Some("bob")).unwrap().len(), 1);
        assert_eq!(store.swaps(Some("carol")).unwrap().len(), 0);
        let done = store
            .accept_swap(&r.id, swap_overrides(&r), "bob", now)
            .unwrap();
        assert_eq!(done.state, SwapState::Accepted);
        assert_eq!(done.overrides.len(), 2);
        assert_eq!(store.overrides().unwrap().len(), 2);
        let again = store.accept_swap(&r.id, swap_overrides(&r), "bob", now);
        assert!(
            matches!(again.as_ref().unwrap_err().kind(), ErrorKind::Conflict(m) if m.contains("already accepted")),
            "{again:?}"
        );
        assert!(matches!(
            store
                .decide_swap(&r.id, SwapState::Declined, "bob", now)
                .unwrap_err()
                .kind(),
            ErrorKind::Conflict(_)
        ));
        // Another request naming the same shift can no longer be accepted.
        let other = store.create_swap(new_swap(10, None), "alice", now).unwrap();
        let e = store
            .accept_swap(&other.id, swap_overrides(&other), "bob", now)
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Conflict(m) if m.contains("already covered")),
            "{e}"
        );
        assert_eq!(store.overrides().unwrap().len(), 2, "nothing half-written");
        assert_eq!(
            store.swap(&other.id).unwrap().unwrap().state,
            SwapState::Pending
        );
        let c = store
            .decide_swap(&other.id, SwapState::Cancelled, "alice", now)
            .unwrap();
        assert_eq!(
            (c.state, c.decided_by.as_deref()),
            (SwapState::Cancelled, Some("alice"))
        );
        drop(store);
        let store = Store::open(&path).unwrap();
        let actions: Vec<String> = store
            .audit(10, None)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "swap.cancel",
                "swap.create",
                "swap.accept",
                "override.create",
                "override.create",
                "swap.create"
            ]
        );
        assert!(matches!(
            store
                .accept_swap("swp_nope", Vec::new(), "bob", now)
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound(_)
        ));
    }

    #[test]
    fn racing_accepts_of_one_shift_let_exactly_one_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rota.db");
        let now = t("2026-11-23T10:00:00Z");
        let store = Store::open(&path).unwrap();
        let a = store
            .create_swap(new_swap(12, Some(13)), "alice", now)
            .unwrap();
        let b = store.create_swap(new_swap(12, None), "alice", now).unwrap();
        drop(store);
        // Separate connections (as separate processes would have), all racing.
        let wins: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let r = if i % 2 == 0 { a.clone() } else { b.clone() };
                    let path = path.clone();
                    s.spawn(move || {
                        let store = Store::open(&path).unwrap();
                        match store.accept_swap(&r.id, swap_overrides(&r), "bob", now) {
                            Ok(_) => 1,
                            Err(e) if matches!(e.kind(), ErrorKind::Conflict(_)) => 0,
                            Err(e) => panic!("{e}"),
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(wins, 1);
        let store = Store::open(&path).unwrap();
        let accepted = store
            .swaps(None)
            .unwrap()
            .into_iter()
            .filter(|r| r.state == SwapState::Accepted)
            .count();
        assert_eq!(accepted, 1);
    }
}
