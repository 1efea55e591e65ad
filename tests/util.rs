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

/// A request a test's HTTP stand-in got.
#[derive(Clone, Debug)]
pub struct Got {
    /// The request path.
    pub path: String,
    /// Headers, names in lower case.
    pub headers: std::collections::BTreeMap<String, String>,
    /// The body as text.
    pub body: String,
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 for the tests' stand-ins (a webhook receiver,
/// Slack's Web API): `answer` gives each request's status line (`200 OK`), extra header lines
/// (each ending in `\r\n`) and body. Returns `http://127.0.0.1:PORT`.
pub fn http_stand_in(
    mut answer: impl FnMut(&Got) -> (String, String, String) + Send + 'static,
) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            // A connection closed before its request line is no request.
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut headers = std::collections::BTreeMap::new();
            // The headers end at a blank line; a connection that closes before it was cut.
            let mut complete = false;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 {
                    break;
                }
                if h.trim().is_empty() {
                    complete = true;
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            if !complete {
                continue;
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            // A request whose body did not all arrive (the sender was killed mid-request) never
            // reached the application, as with a real server: it is dropped unanswered.
            let mut body = vec![0u8; len];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let got = Got {
                path,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            let (status, extra, body) = answer(&got);
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    base
}

/// Signs a request as Slack does, with Python's standard library (an implementation independent
/// of rota's): `v0=` and the hex HMAC-SHA256 of `v0:{ts}:{body}`.
pub fn slack_sign(secret: &str, ts: i64, body: &str) -> String {
    let o = Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; print('v0=' + hmac.new(sys.argv[1].encode(), ('v0:' + sys.argv[2] + ':' + sys.argv[3]).encode(), hashlib.sha256).hexdigest())",
            secret,
            &ts.to_string(),
            body,
        ])
        .output()
        .expect("python3 (Debian's python3) signs the Slack test requests");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// Waits up to 30 s for `done`, failing with `{what} after 30 s`.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let began = std::time::Instant::now();
    while !done() {
        assert!(
            began.elapsed() < std::time::Duration::from_secs(30),
            "{what} after 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
