//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's example schedules.
pub fn example_schedules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules")
}

/// A temporary schedules directory holding `files` (name, text).
pub fn schedules_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a schedule file");
    }
    dir
}

/// Runs the real `rota` binary with `args`, the schedules directory given by `--schedules`.
pub fn rota(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rota"))
        .arg("--schedules")
        .arg(dir)
        .args(args)
        .env_remove("ROTA_SCHEDULES")
        .output()
        .expect("run the rota binary")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
