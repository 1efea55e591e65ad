//! The error type of rota-notify.

/// The error type of rota-notify.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A setting (environment variable) is missing or invalid; the message names it.
    #[error("{0}")]
    Config(String),
    /// An email address cannot be used.
    #[error("bad email address {0}")]
    Address(String),
    /// A message could not be built.
    #[error("building a message: {0}")]
    Build(String),
    /// The state file failed.
    #[error(transparent)]
    Store(#[from] rota_store::Error),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl From<rota_store::Error> for Error {
    fn from(e: rota_store::Error) -> Error {
        Error::new(ErrorKind::Store(e))
    }
}
