//! The one error type of rota-core, and the diagnostics a schedule load reports.

use std::fmt;

/// An error from rota-core. [`Error::kind`] says which; `Display` gives a message fit for a user.
///
/// `Debug` prints the same text (every diagnostic on a line of its own, as `file:line:col: key:
/// message`), so a `main` that returns `Result<(), Box<dyn std::error::Error>>` and uses `?`
/// shows the problems readably. The alternate form (`{:#?}`) shows the structure.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The schedule files have problems; every one found is listed, in file order.
    Schedule(Vec<Diagnostic>),
    /// No rotation has this id.
    UnknownRotation(String),
    /// No person has this id.
    UnknownPerson(String),
    /// `whoishero` was asked but the schedule sets no `hero_rotation`.
    NoHeroRotation,
    /// An override given at run time is not valid (unknown rotation or person, end not after
    /// start); the message says which.
    InvalidOverride {
        /// The override's id.
        id: String,
        /// What is wrong with it.
        message: String,
    },
    /// A query range whose end is not after its start.
    EmptyRange,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The diagnostics, if this is a schedule load error.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match &self.kind {
            ErrorKind::Schedule(d) => d,
            _ => &[],
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Schedule(diags) => {
                let n = diags.len();
                write!(
                    f,
                    "{n} problem{} in the schedule files",
                    if n == 1 { "" } else { "s" }
                )?;
                for d in diags {
                    write!(f, "\n{d}")?;
                }
                Ok(())
            }
            ErrorKind::UnknownRotation(id) => write!(f, "unknown rotation {id:?}"),
            ErrorKind::UnknownPerson(id) => write!(f, "unknown person {id:?}"),
            ErrorKind::NoHeroRotation => write!(
                f,
                "the schedule sets no hero_rotation: add `hero_rotation = \"ROTATION-ID\"` at the \
                 top of a schedule file"
            ),
            ErrorKind::InvalidOverride { id, message } => write!(f, "override {id}: {message}"),
            ErrorKind::EmptyRange => write!(f, "the range's end must be after its start"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("Error").field("kind", &self.kind).finish()
        } else {
            fmt::Display::fmt(self, f)
        }
    }
}

impl std::error::Error for Error {}

/// One problem in a schedule file, located by file, line, column and TOML key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file's name as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The TOML key path, e.g. `rotations.support-hero.every` or `overrides[2].end`; empty for
    /// syntax errors that belong to no key.
    pub key: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}
