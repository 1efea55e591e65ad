//! The error type of rota-store.

/// The error type of rota-store.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    pub(crate) kind: ErrorKind,
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
    /// PostgreSQL failed (a statement, the connection, a constraint).
    #[error("database {location}: {source}")]
    Postgres {
        /// The database, as `postgres://user@host:port/db` (never the password).
        location: String,
        /// The client's error.
        source: postgres::Error,
    },
    /// The database cannot be reached (no free connection in the pool within 10 s, or the server
    /// refused to connect).
    #[error("database {location} is unavailable: {message}")]
    Unavailable {
        /// The database, without its password.
        location: String,
        /// Why.
        message: String,
    },
    /// The store was named wrongly (e.g. a database URL that does not parse).
    #[error("{0}")]
    Config(String),
    /// A value read back is not what the schema says it is.
    #[error("the state store holds an unexpected value: {0}")]
    Corrupt(String),
    /// The file was written by a newer rota with a schema this one does not know.
    #[error(
        "state {path} has schema version {found}, newer than this rota knows ({known}); upgrade rota"
    )]
    TooNew {
        /// The state file or database.
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
    /// The value given cannot be kept (an empty handoff note, one too long). Retrying the same
    /// value will not help.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

/// A result with this crate's error.
pub type Result<T> = std::result::Result<T, Error>;
