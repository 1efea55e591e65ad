//! rota-files: reads a schedules directory for [`rota_core`], which does no I/O itself.
//!
//! A schedules directory holds `*.toml` files that are merged into one schedule; files of other
//! kinds (the absence and holiday `.ics` calendars, a README) and subdirectories are left alone.
//! Files are read in file-name order and named by their path, so diagnostics say
//! `schedules/rotations.toml:12:5: ...`. This is the directory rule `rota check` and `rota serve`
//! use: the `rota` binary loads through this crate too.
//!
//! ```no_run
//! let schedule = rota_files::load_dir("schedules")?;
//! for rotation in schedule.rotations() {
//!     println!("{}: {} members", rotation.name, rotation.members.len());
//! }
//! # Ok::<(), rota_files::Error>(())
//! ```
//!
//! Limits: a file over rota-core's size limit is read whole before rota-core refuses it, and the
//! directory is not watched (load it again to see changes).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use rota_core::Schedule;

/// Why a schedules directory could not be loaded.
///
/// `Debug` prints the `Display` text, so a `main` returning `Result<(), Box<dyn Error>>` shows
/// every schedule problem as `file:line:col: key: message`; `{:#?}` shows the structure of a
/// schedule error.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The directory could not be listed (missing, not a directory, no permission).
    #[error("cannot read the schedules directory {}: {source}", dir.display())]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The directory holds no `*.toml` file.
    #[error("no *.toml schedule files in {}", dir.display())]
    NoFiles {
        /// The directory.
        dir: PathBuf,
    },
    /// A schedule file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A schedule file is not UTF-8 text.
    #[error("{}: not UTF-8 text (byte {valid_up_to})", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The offset of the first byte that is not UTF-8.
        valid_up_to: usize,
    },
    /// The files were read but have problems; every one is listed, as `file:line:col`.
    #[error(transparent)]
    Schedule(#[from] rota_core::Error),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Schedule(e) if f.alternate() => write!(f, "Schedule({e:#?})"),
            e => std::fmt::Display::fmt(e, f),
        }
    }
}

/// The schedule files of `dir` as `(name, text)`, sorted by file name; the name is the file's
/// path as `dir` spells it (`schedules/people.toml`), which is what diagnostics show.
pub fn read_dir(dir: impl AsRef<Path>) -> Result<Vec<(String, String)>, Error> {
    let dir = dir.as_ref();
    let dir_err = |source| Error::Dir {
        dir: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(dir_err)? {
        let path = entry.map_err(dir_err)?.path();
        // `is_file` follows symlinks, so a linked schedule file counts and a linked directory not.
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(Error::NoFiles {
            dir: dir.to_path_buf(),
        });
    }
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).map_err(|source| Error::Read {
                path: p.clone(),
                source,
            })?;
            let text = String::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
                path: p.clone(),
                valid_up_to: e.utf8_error().valid_up_to(),
            })?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// A digest of schedule files as [`read_dir`] returns them: SHA-256 over each file's base name
/// and text, in order, as `sha256:` and 64 hex digits. Two machines with the same files agree,
/// wherever their schedules directory is.
pub fn digest(files: &[(String, String)]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, text) in files {
        let base = Path::new(name)
            .file_name()
            .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
        for part in [base.as_bytes(), text.as_bytes()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// [`load_dir`], with the [`digest`] of the very files it read.
pub fn load_dir_with_digest(dir: impl AsRef<Path>) -> Result<(Schedule, String), Error> {
    let files = read_dir(dir)?;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    Ok((Schedule::load(&refs)?, digest(&files)))
}

/// Loads and merges the schedules directory `dir` (see the crate docs).
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Schedule, Error> {
    let files = read_dir(dir)?;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    Ok(Schedule::load(&refs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEOPLE: &str = "hero_rotation = \"hero\"\n[people.alice]\nname = \"Alice\"\n";
    const HERO: &str = "[rotations.hero]\nmembers = [\"alice\"]\ntimezone = \"Europe/London\"\nstart = \"2026-11-02T09:00\"\nevery = \"1 week\"\n";

    #[test]
    fn merges_the_toml_files_and_leaves_the_rest_alone() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("b.toml"), HERO).unwrap();
        std::fs::write(d.path().join("a.toml"), PEOPLE).unwrap();
        std::fs::write(d.path().join("away.ics"), "not toml").unwrap();
        std::fs::create_dir(d.path().join("calendars.toml")).unwrap();
        let files = read_dir(d.path()).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                d.path().join("a.toml").display().to_string(),
                d.path().join("b.toml").display().to_string()
            ]
        );
        let s = load_dir(d.path()).unwrap();
        assert_eq!(s.rotations().len(), 1);
        assert_eq!(s.people()[0].name, "Alice");
    }

    #[test]
    fn each_failure_names_its_path() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("nope");
        let e = load_dir(&missing).unwrap_err();
        assert!(matches!(e, Error::Dir { .. }), "{e:?}");
        assert!(
            e.to_string().contains(&missing.display().to_string()),
            "{e}"
        );

        let e = load_dir(d.path()).unwrap_err();
        assert!(matches!(e, Error::NoFiles { .. }), "{e:?}");

        std::fs::write(d.path().join("a.toml"), b"name = \"\xff\"\n").unwrap();
        let e = load_dir(d.path()).unwrap_err();
        assert!(matches!(e, Error::NotUtf8 { valid_up_to: 8, .. }), "{e:?}");

        std::fs::write(d.path().join("a.toml"), PEOPLE).unwrap();
        std::fs::write(d.path().join("b.toml"), HERO.replace("London", "Londn")).unwrap();
        let e = load_dir(d.path()).unwrap_err();
        let b = d.path().join("b.toml").display().to_string();
        assert!(
            e.to_string()
                .contains(&format!("{b}:3:12: rotations.hero.timezone")),
            "{e}"
        );
    }
}
