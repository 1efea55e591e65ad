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
    /// content line). `line` (and `column`) are 1-based, where known. The message never quotes
    /// the text: it is shown on `/healthz`, and a misconfigured source may be any file.
    #[error(
        "invalid calendar{}{}: {message}",
        origin.as_ref().map(|o| format!(" {o}")).unwrap_or_default(),
        match (line, column) {
            (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
            (Some(l), None) => format!(" at line {l}"),
            _ => String::new(),
        }
    )]
    Parse {
        /// Where the text came from (a path, or a redacted URL), when read by a
        /// [`crate::Source`].
        origin: Option<String>,
        /// 1-based line number in the text, where known.
        line: Option<usize>,
        /// 1-based column (in characters) on that line, where known.
        column: Option<usize>,
        /// What is wrong, in rota's words; never text from the calendar.
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
