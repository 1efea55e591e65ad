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

/// A schema of its own in the test PostgreSQL server (`ROTA_TEST_DATABASE_URL`, which
/// `scripts/test.sh` starts), dropped at the end; `url` connects to it.
pub struct PgSchema {
    pub url: String,
    base: String,
    schema: String,
}

impl PgSchema {
    pub fn new() -> PgSchema {
        let base = std::env::var("ROTA_TEST_DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "ROTA_TEST_DATABASE_URL is not set: the replica tests need a PostgreSQL server. \
                 Run them with scripts/test.sh, which installs PostgreSQL (Debian: apt-get \
                 install postgresql) and starts one, or set ROTA_TEST_DATABASE_URL=postgres://..."
            )
        });
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!("r_{}_{n}_{nanos}", std::process::id());
        let mut c = postgres::Client::connect(&base, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to ROTA_TEST_DATABASE_URL={base}: {e}"));
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        PgSchema {
            url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
            base,
            schema,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema));
        }
    }
}
