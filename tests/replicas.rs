//! Several `rota serve` replicas on one PostgreSQL database, as real processes on real ports: a
//! write made through one is served by the others within a second, parallel accepts spread over
//! the replicas let exactly one win, and killing the replica that sends moves the background work
//! to another within 30 s without losing a message.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::notify::Sink;
use crate::server::{client, copy_dir, get_json};
use crate::util::{PgSchema, example_schedules};

/// One `rota serve` on the shared database, logging to `log`.
struct Replica {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Replica {
    fn start(dir: &Path, url: &str, name: &str, env: &[(&str, String)]) -> Replica {
        let log = dir.join(format!("{name}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rota"));
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .arg("--schedules")
            .arg(dir.join("schedules"))
            .args(["--database-url", url])
            .env_remove("ROTA_SCHEDULES")
            .env_remove("ROTA_REMIND_LEADS")
            .env_remove("ROTA_SMTP_HOST")
            .env("ROTA_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start rota serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("rota: listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "replica {name} did not start: {line:?}; log: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .to_string();
        Replica { child, base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rota(dir: &Path, url: &str, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_rota"))
        .arg("--schedules")
        .arg(dir.join("schedules"))
        .args(["--database-url", url])
        .args(args)
        .env_remove("ROTA_SCHEDULES")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "rota {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// Waits until `f` holds (polling every 20 ms); returns how long that took, or fails after
/// `limit` naming `what`.
fn within(limit: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let began = Instant::now();
    while !f() {
        assert!(began.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    began.elapsed()
}

fn health(c: &reqwest::blocking::Client, r: &Replica) -> Value {
    let (st, h) = get_json(c, &r.url("/healthz"));
    assert_eq!(st, 200);
    h
}

/// 2026-11-02T09:00:00Z, the example support-hero rotation's first handoff (weekly, nine
/// members: alice, bob, grace, ...).
const HERO_START: u64 = 1_793_610_000;
const WEEK: u64 = 7 * 24 * 3600;

#[test]
fn replicas_serve_each_others_writes_and_parallel_accepts_let_exactly_one_win() {
    let pg = PgSchema::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&example_schedules(), &dir.join("schedules"));
    let replicas: Vec<Replica> = (0..3)
        .map(|i| Replica::start(dir, &pg.url, &format!("r{i}"), &[]))
        .collect();
    let c = client();
    let alice = rota(dir, &pg.url, &["token", "issue", "alice"]);
    let bob = rota(dir, &pg.url, &["token", "issue", "bob"]);

    // Every replica serves the same files and, once caught up, the same state.
    let digests: Vec<Value> = replicas
        .iter()
        .map(|r| health(&c, r)["schedule"]["digest"].clone())
        .collect();
    assert!(
        digests[0]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")),
        "{digests:?}"
    );
    assert!(digests.iter().all(|d| *d == digests[0]), "{digests:?}");
    assert!(
        replicas
            .iter()
            .all(|r| health(&c, r)["state"]["backend"] == "postgres")
    );

    // An override made through replica 0 is served by 1 and 2 within a second.
    let r = c
        .post(replicas[0].url("/api/v1/overrides"))
        .bearer_auth(&alice)
        .json(&json!({"rotation":"platform-secondary","person":"erin","start":"2030-03-04T09:00:00Z","end":"2030-03-11T09:00:00Z"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    let at = "/api/v1/oncall?at=2030-03-05T12:00:00Z";
    let on_call = |r: &Replica| {
        let (_, v) = get_json(&c, &r.url(at));
        v.as_array()
            .unwrap()
            .iter()
            .any(|s| s["rotation"] == "platform-secondary" && s["person"]["id"] == "erin")
    };
    assert!(
        on_call(&replicas[0]),
        "the replica that took the write serves it at once"
    );
    let mut slowest = Duration::ZERO;
    for r in &replicas[1..] {
        slowest = slowest.max(within(
            Duration::from_secs(2),
            "the override on another replica",
            || on_call(r),
        ));
    }
    eprintln!("an override reached every replica in {slowest:?}");

    // Parallel accepts of one trade, one per replica: exactly one wins.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let a = ((now.saturating_sub(HERO_START) / WEEK) / 9 + 3) * 9;
    let (st, req) = {
        let r = c
            .post(replicas[1].url("/api/v1/swaps"))
            .bearer_auth(&alice)
            .json(&json!({"rotation":"support-hero","kind":"trade","my_slot":a,"counterpart":"bob","their_slot":a + 1}))
            .send()
            .unwrap();
        (r.status(), r.json::<Value>().unwrap())
    };
    assert_eq!(st, 201, "{req}");
    let id = req["id"].as_str().unwrap().to_string();
    let posts: Vec<(String, String)> = replicas
        .iter()
        .map(|r| (r.url(&format!("/api/v1/swaps/{id}/accept")), bob.clone()))
        .collect();
    let codes = crate::swaps::post_at_once(&posts);
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 409, 409], "{codes:?}");
    // Every replica then shows Bob in Alice's week, and all report one state version.
    let start = &req["my_slot"]["start"].as_str().unwrap().to_string();
    for r in &replicas {
        within(
            Duration::from_secs(2),
            "the accepted trade on every replica",
            || {
                let (_, h) = get_json(&c, &r.url(&format!("/api/v1/whoishero?at={start}")));
                h["person"]["id"] == "bob"
            },
        );
    }
    within(
        Duration::from_secs(2),
        "one state version on every replica",
        || {
            let v: Vec<Value> = replicas
                .iter()
                .map(|r| health(&c, r)["state"]["version"].clone())
                .collect();
            v.iter()
                .all(|x| *x == v[0] && x.as_i64().is_some_and(|n| n > 0))
        },
    );

    // Feeds: a person's feed URL works on every replica, and stops working on every replica
    // within a second or two of `rota feed rotate` (the token check reads the store from the
    // service's async threads).
    let feed = rota(
        dir,
        &pg.url,
        &["feed", "url", "alice", "--base-url", &replicas[2].base],
    );
    let path = feed.strip_prefix(&replicas[2].base).unwrap().to_string();
    for r in &replicas {
        assert_eq!(
            c.get(r.url(&path)).send().unwrap().status(),
            200,
            "{}",
            r.base
        );
    }
    rota(dir, &pg.url, &["feed", "rotate", "alice"]);
    for r in &replicas {
        within(Duration::from_secs(3), "the old feed URL refused", || {
            c.get(r.url(&path)).send().unwrap().status() == 404
        });
    }

    // A token revoked through the CLI is refused by every replica on its next request.
    rota(dir, &pg.url, &["token", "revoke", &alice]);
    for r in &replicas {
        let st = c
            .get(r.url("/api/v1/swaps"))
            .bearer_auth(&alice)
            .send()
            .unwrap()
            .status();
        assert_eq!(st, 401, "{}", r.base);
    }
}

#[test]
fn killing_the_replica_that_sends_moves_the_work_to_another_within_30_s() {
    let pg = PgSchema::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("schedules")).unwrap();
    std::fs::create_dir(dir.join("mail")).unwrap();
    // A daily rotation that started two days ago (UTC): seven reminders are due now.
    let start = chrono::Utc::now().date_naive() - chrono::Days::new(2);
    std::fs::write(
        dir.join("schedules/schedule.toml"),
        format!(
            "[people.ann]\nname = \"Ann\"\nemail = \"ann@example.com\"\n[people.raj]\nname = \"Raj\"\nemail = \"raj@example.com\"\n\
             [rotations.daily]\nname = \"Daily\"\nmembers = [\"ann\", \"raj\"]\ntimezone = \"UTC\"\nstart = \"{}T00:00\"\nevery = \"1 days\"\n",
            start.format("%Y-%m-%d")
        ),
    )
    .unwrap();
    // The mail server holds the first message's reply for 25 s: the sender is mid-transaction.
    let sink = Sink::start(&dir.join("mail"), &["--hold-first", "25"]);
    let env = [
        ("ROTA_SMTP_HOST", "127.0.0.1".to_string()),
        ("ROTA_SMTP_PORT", sink.port.to_string()),
        ("ROTA_SMTP_SECURITY", "plain".to_string()),
        ("ROTA_SMTP_FROM", "rota@example.com".to_string()),
        ("ROTA_REMIND_INTERVAL", "1".to_string()),
    ];
    let mut first = Replica::start(dir, &pg.url, "first", &env);
    let store = rota_store::Store::connect(&pg.url).unwrap();
    let holder = |store: &rota_store::Store| {
        store
            .leases()
            .unwrap()
            .into_iter()
            .find(|l| l.name == "background")
            .map(|l| l.holder)
    };
    let began = Instant::now();
    while holder(&store).is_none() {
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "the first replica did not take the lease: {}",
            first.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let first_id = holder(&store).unwrap();
    assert!(
        first
            .log()
            .contains("this replica now does the background work"),
        "{}",
        first.log()
    );
    let others: Vec<Replica> = (0..2)
        .map(|i| Replica::start(dir, &pg.url, &format!("other{i}"), &env))
        .collect();
    // The first replica is sending its first message (held by the mail server).
    let in_flight = |store: &rota_store::Store| -> Vec<String> {
        store
            .ledger_recent(100)
            .unwrap()
            .into_iter()
            .filter(|e| e.state == rota_store::LedgerState::Sending)
            .map(|e| e.key)
            .collect()
    };
    within(Duration::from_secs(20), "a message in flight", || {
        in_flight(&store).len() == 1
    });
    let held = in_flight(&store).remove(0);
    assert_eq!(
        holder(&store).as_deref(),
        Some(first_id.as_str()),
        "only the holder sends"
    );
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    let killed = Instant::now();

    // Another replica takes the lease, and sends the held message again and all the rest.
    let took = within(
        Duration::from_secs(30),
        "another replica sending the held message",
        || {
            store
                .ledger_entries(&[&held])
                .unwrap()
                .first()
                .is_some_and(|e| e.state == rota_store::LedgerState::Sent)
        },
    );
    eprintln!("the held message was sent again {took:?} after the kill");
    let new_holder = holder(&store).unwrap();
    assert_ne!(new_holder, first_id);
    assert!(
        others
            .iter()
            .any(|r| r.log().contains("took over the background work")),
        "{}\n{}",
        others[0].log(),
        others[1].log()
    );
    within(Duration::from_secs(20), "every reminder sent", || {
        use rota_store::LedgerState::{Sent, Superseded};
        let e = store.ledger_recent(100).unwrap();
        e.iter().filter(|e| e.state == Sent).count() == 7
            && e.iter().all(|e| matches!(e.state, Sent | Superseded))
    });
    // The mail server finally answers the dead sender's transaction (it had all the data), so
    // the held message may arrive twice, with one Message-ID; nothing else twice, nothing lost.
    within(
        Duration::from_secs(40),
        "the held message recorded by the mail server",
        || {
            sink.messages()
                .iter()
                .any(|m| m["rota_key"] == held.as_str())
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    let msgs = sink.messages();
    let mut by_key: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for m in &msgs {
        by_key
            .entry(m["rota_key"].as_str().unwrap().to_string())
            .or_default()
            .push(m["message_id"].as_str().unwrap().to_string());
    }
    assert_eq!(by_key.len(), 7, "{by_key:?}");
    for (k, ids) in &by_key {
        if *k == held {
            assert!(
                ids.len() <= 2 && ids.iter().all(|i| *i == ids[0]),
                "{k}: {ids:?}"
            );
        } else {
            assert_eq!(ids.len(), 1, "{k} sent {} times", ids.len());
        }
    }
    let attempts = store.ledger_entries(&[&held]).unwrap()[0].attempts;
    assert_eq!(attempts, 2, "the held message: one attempt by each sender");
    assert!(killed.elapsed() < Duration::from_secs(120));
}

/// Runs the binary; returns (success, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_rota"))
        .arg("--schedules")
        .arg(dir.join("schedules"))
        .args(args)
        .env_remove("ROTA_SCHEDULES")
        .env_remove("ROTA_DATABASE_URL")
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn migrate_moves_a_state_file_into_postgres_and_back_and_backup_copies_it() {
    let pg = PgSchema::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&example_schedules(), &dir.join("schedules"));
    let file = dir.join("rota.db");
    let now: chrono::DateTime<chrono::Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    {
        let s = rota_store::Store::open(&file).unwrap();
        s.add_override(
            rota_store::NewOverride {
                rotation: "support-hero".into(),
                person: "erin".into(),
                start: "2030-01-07T09:00:00Z".parse().unwrap(),
                end: "2030-01-14T09:00:00Z".parse().unwrap(),
                reason: Some("moved".into()),
            },
            "alice",
            now,
        )
        .unwrap();
        s.issue_token("alice", "cli", now).unwrap();
        s.rotate_feed_token("bob", "bob", now).unwrap();
    }
    let f = file.to_str().unwrap();
    let (ok, out, err) = run(dir, &["migrate", "--from", f, "--to", &pg.url]);
    assert!(ok, "{err}");
    assert!(out.contains("every table compared equal"), "{out}");
    assert!(out.contains(" overrides"), "{out}");
    let dump = |t: &str| rota_store::Store::connect(t).unwrap().dump().unwrap();
    assert_eq!(dump(f), dump(&pg.url));
    // The CLI and the service read the moved state: the same answers from either store.
    let q = ["whoishero", "--at", "2030-01-08T12:00:00Z", "--json"];
    let (_, from_file, _) = run(dir, &[&q[..], &["--state", f]].concat());
    let (ok, from_db, err) = run(dir, &[&q[..], &["--database-url", &pg.url]].concat());
    assert!(ok, "{err}");
    assert_eq!(from_file, from_db);
    assert!(from_db.contains("\"erin\""), "{from_db}");
    // Into a store that already holds rows: refused, nothing written.
    let (ok, _, err) = run(dir, &["migrate", "--from", f, "--to", &pg.url]);
    assert!(!ok);
    assert!(err.contains("already holds"), "{err}");
    // And back into a new file.
    let back = dir.join("back.db");
    let (ok, _, err) = run(
        dir,
        &["migrate", "--from", &pg.url, "--to", back.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert_eq!(dump(f), dump(back.to_str().unwrap()));

    // rota backup: a copy equal to the file, never over an existing one; PostgreSQL is
    // refused with the advice to use pg_dump.
    let copy = dir.join("copy.db");
    let (ok, out, err) = run(dir, &["backup", copy.to_str().unwrap(), "--state", f]);
    assert!(ok, "{err}");
    assert!(out.contains("backed up"), "{out}");
    assert_eq!(dump(f), dump(copy.to_str().unwrap()));
    let (ok, _, err) = run(dir, &["backup", copy.to_str().unwrap(), "--state", f]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = run(dir, &["backup", "pg.db", "--database-url", &pg.url]);
    assert!(!ok && err.contains("pg_dump"), "{err}");
    // A malformed database URL names the problem.
    let (ok, _, err) = run(dir, &["whoishero", "--database-url", "mysql://x"]);
    assert!(!ok && err.contains("postgres://"), "{err}");
}
