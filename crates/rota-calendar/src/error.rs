//! The one error type of rota-calendar.
//!
//! Messages never contain the path or query of a calendar URL: a Google "secret address" is a
//! password, and these messages end up in logs and in `/healthz`. Callers build them from
//! [`crate::Location::redacted`].

use std::path::PathBuf;

/// An error from rota-calendar. [`Error::kind`] says which; `Display` gives a message fit for a
/// user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not an iCalendar file (no `BEGIN:VCALENDAR`, broken nesting, a malformed
    /// content line). `line` is the 1-based line number where it is known.
    #[error(
        "invalid calendar{}{}: {message}",
        origin.as_ref().map(|o| format!(" {o}")).unwrap_or_default(),
        line.map(|l| format!(" at line {l}")).unwrap_or_default()
    )]
    Parse {
        /// Where the text came from (a path, or a redacted URL), when read by a
        /// [`crate::Source`].
        origin: Option<String>,
        /// 1-based line number in the text, where known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A calendar location that is neither a path nor an `http(s)` URL.
    #[error("invalid calendar location {input:?}: {message}")]
    Location {
        /// The location as given (redacted if it looked like a URL).
        input: String,
        /// What would be valid.
        message: String,
    },
    /// A calendar file could not be read.
    #[error("cannot read calendar file {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// A calendar URL could not be fetched: connection, TLS, timeout, a non-2xx status or a body
    /// over the size limit.
    #[error("cannot fetch calendar {location}: {message}")]
    Fetch {
        /// The URL, redacted to `scheme://host/…`.
        location: String,
        /// The HTTP status, if the server answered with one that is not 2xx or 304.
        status: Option<u16>,
        /// What went wrong.
        message: String,
    },
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

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new(kind)
    }
}
