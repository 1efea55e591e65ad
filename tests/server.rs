//! The service as teams run it: the real `rota serve` binary on port 0, spoken to over HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::util::example_schedules;

/// A running `rota serve` with its own copy of the schedules and its own state file.
pub struct Server {
    child: Child,
    pub base: String,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on a fresh copy of the example schedules and a fresh state file.
    pub fn start() -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        copy_dir(&example_schedules(), &dir.join("schedules"));
        let mut s = Server::start_in(&dir);
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server in `dir` (which holds `schedules/` and gets `rota.db`).
    pub fn start_in(dir: &Path) -> Server {
        Server::start_in_with(dir, &[])
    }

    /// [`Server::start_in`] with extra environment variables.
    pub fn start_in_with(dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rota"));
        cmd.envs(env.iter().copied());
        Server::spawn(dir, cmd)
    }

    /// Starts a server on a fresh copy of the example schedules through `sh -c 'SETUP; exec rota
    /// serve …'`, so `SETUP` (`ulimit …`) applies to the server alone.
    pub fn start_after(setup: &str) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        copy_dir(&example_schedules(), &dir.join("schedules"));
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{setup}; exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_rota"));
        let mut s = Server::spawn(&dir, cmd);
        s._tmp = Some(tmp);
        s
    }

    fn spawn(dir: &Path, mut cmd: Command) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .unwrap();
        let mut child = cmd
            .args(["serve", "--bind", "127.0.0.1:0"])
            .arg("--schedules")
            .arg(dir.join("schedules"))
            .arg("--state")
            .arg(dir.join("rota.db"))
            .env_remove("ROTA_SCHEDULES")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start rota serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("rota: listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "rota serve did not start: {line:?}; log: {}",
                    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                )
            })
            .to_string();
        Server {
            child,
            base,
            dir: dir.to_path_buf(),
            _tmp: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} failed");
    }

    /// `rota` run against this server's schedules and state file.
    pub fn rota(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_rota"))
            .arg("--schedules")
            .arg(self.dir.join("schedules"))
            .args(args)
            .arg("--state")
            .arg(self.dir.join("rota.db"))
            .output()
            .unwrap()
    }

    pub fn token(&self, person: &str) -> String {
        let o = self.rota(&["token", "issue", person]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    }

    pub fn wait(mut self) -> std::process::ExitStatus {
        let status = self.child.wait().unwrap();
        std::mem::forget(self._tmp.take());
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

pub fn client() -> Client {
    Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn get_json(c: &Client, url: &str) -> (StatusCode, Value) {
    let r = c.get(url).send().unwrap();
    let status = r.status();
    (status, r.json().unwrap_or(Value::Null))
}

#[test]
fn api_answers_whoishero_oncall_rotations_and_shifts() {
    let s = Server::start();
    let c = client();
    let (st, hero) = get_json(&c, &s.url("/api/v1/whoishero?at=2027-01-06T12:00:00Z"));
    assert_eq!(st, 200);
    assert_eq!(
        hero,
        json!({"rotation":"support-hero","person":{"id":"bob","name":"Bob Jones","email":"bob@example.com"},
               "start":"2027-01-04T09:00:00Z","end":"2027-01-11T09:00:00Z","source":"override","slot":9})
    );
    let (_, before) = get_json(&c, &s.url("/api/v1/whoishero?at=2020-01-01T00:00:00Z"));
    assert_eq!(before, Value::Null, "nobody before the rotation starts");

    let (_, oncall) = get_json(&c, &s.url("/api/v1/oncall?at=2027-01-06T12:00:00Z"));
    let rows: Vec<String> = oncall
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("{} {} {}", v["rotation"], v["person"]["id"], v["source"]))
        .collect();
    assert_eq!(
        rows,
        [
            "\"core-analytics-secondary\" \"grace\" \"rotation\"",
            "\"core-experience-secondary\" \"bob\" \"link\"",
            "\"platform-secondary\" \"alice\" \"rotation\"",
            "\"support-hero\" \"bob\" \"override\"",
        ]
    );

    let (_, rotations) = get_json(&c, &s.url("/api/v1/rotations"));
    let ids: Vec<&str> = rotations
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "core-analytics-secondary",
            "core-experience-secondary",
            "platform-secondary",
            "support-hero"
        ]
    );
    assert_eq!(rotations[3]["hero"], true);
    assert_eq!(rotations[0]["recurrence"], "rrule FREQ=WEEKLY;BYDAY=MO,TH");

    let (_, shifts) = get_json(
        &c,
        &s.url("/api/v1/rotations/support-hero/shifts?from=2026-11-02&to=2026-11-23"),
    );
    let people: Vec<&str> = shifts
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["person"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(people, ["alice", "bob", "grace"]);

    let (_, mine) = get_json(
        &c,
        &s.url("/api/v1/people/alice/shifts?from=2027-01-01T00:00:00Z&to=2027-02-01T00:00:00Z"),
    );
    let mine: Vec<String> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["rotation"].as_str().unwrap(),
                v["start"].as_str().unwrap()
            )
        })
        .collect();
    // Alice swapped her hero week (Jan 4) for Bob's (Jan 11); as hero she is also Platform secondary.
    assert_eq!(
        mine,
        [
            "platform-secondary 2027-01-04T09:00:00Z",
            "platform-secondary 2027-01-11T09:00:00Z",
            "support-hero 2027-01-11T09:00:00Z",
        ]
    );

    let (st, health) = get_json(&c, &s.url("/healthz"));
    assert_eq!(st, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["schedule"]["rotations"], 4);
}

#[test]
fn bad_requests_are_problem_json_4xx_naming_the_field() {
    let s = Server::start();
    let c = client();
    let cases: &[(&str, u16, Option<&str>, &str)] = &[
        (
            "/api/v1/whoishero?at=tomorrow",
            400,
            Some("at"),
            "invalid time \"tomorrow\"",
        ),
        (
            "/api/v1/whoishero?when=now",
            400,
            Some("when"),
            "unknown field `when`",
        ),
        (
            "/api/v1/rotations/support-hero/shifts?from=2026-01-01&to=2029-01-01",
            400,
            Some("to"),
            "longer than 731 days",
        ),
        (
            "/api/v1/rotations/support-hero/shifts?from=2027-01-01&to=2026-01-01",
            400,
            Some("to"),
            "must be after from",
        ),
        (
            "/api/v1/rotations/villains/shifts",
            404,
            None,
            "unknown rotation \"villains\"",
        ),
        (
            "/api/v1/people/nobody/shifts",
            404,
            None,
            "unknown person \"nobody\"",
        ),
        (
            "/api/v1/overrides?rotation=villains",
            404,
            None,
            "unknown rotation",
        ),
        (
            "/no/such/route",
            404,
            None,
            "no route for GET /no/such/route",
        ),
        (
            "/calendars/rotations/support-hero.txt",
            404,
            None,
            "feeds end in .ics",
        ),
        (
            "/calendars/people/alice.ics",
            404,
            None,
            "no such calendar feed",
        ),
        (
            "/calendars/people/alice.ics?token=guess",
            404,
            None,
            "no such calendar feed",
        ),
    ];
    for (path, status, field, detail) in cases {
        let r = c.get(s.url(path)).send().unwrap();
        assert_eq!(r.status().as_u16(), *status, "{path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: Value = r.json().unwrap();
        assert_eq!(body["status"], *status, "{path}");
        assert_eq!(body["field"].as_str(), *field, "{path}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains(detail),
            "{path}: {body}"
        );
    }
    // A body over the limit, and a wrong method: still problem+json.
    let token = s.token("alice");
    let big = format!("{{\"rotation\":\"{}\"}}", "x".repeat(64 * 1024));
    let r = c
        .post(s.url("/api/v1/overrides"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = c.put(s.url("/api/v1/whoishero")).send().unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[test]
fn writes_need_a_token_and_respect_ownership() {
    let s = Server::start();
    let c = client();
    let body = json!({"rotation":"support-hero","person":"grace","start":"2027-02-01T09:00:00Z","end":"2027-02-02T09:00:00Z","reason":"cover"});
    let post = |token: Option<&str>, body: &Value| {
        let mut r = c.post(s.url("/api/v1/overrides")).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().unwrap_or(Value::Null))
    };
    // No token, a malformed header, an unknown token: 401, whatever the body.
    assert_eq!(post(None, &body).0, 401);
    assert_eq!(
        post(None, &json!({})).0,
        401,
        "unauthenticated beats a bad body"
    );
    assert_eq!(post(Some("rota_0000"), &body).0, 401);

    let bob = s.token("bob");
    let alice = s.token("alice"); // an admin
    // Bob may not put Grace on call over someone else's shift (2027-02-01 is Erin's hero week).
    let (st, p) = post(Some(&bob), &body);
    assert_eq!(st, 403, "{p}");
    // Bob may put himself on call.
    let (st, me) = post(
        Some(&bob),
        &json!({"rotation":"support-hero","person":"bob","start":"2027-02-01T09:00:00Z","end":"2027-02-02T09:00:00Z"}),
    );
    assert_eq!(st, 201, "{me}");
    // The admin may write any override; the newest wins.
    let (st, created) = post(Some(&alice), &body);
    assert_eq!(st, 201, "{created}");
    let (_, hero) = get_json(&c, &s.url("/api/v1/whoishero?at=2027-02-01T12:00:00Z"));
    assert_eq!(hero["person"]["id"], "grace");
    assert_eq!(hero["source"], "override");

    // Validation names the field.
    for (bad, field) in [
        (
            json!({"rotation":"nope","person":"bob","start":"2027-02-01","end":"2027-02-02"}),
            "rotation",
        ),
        (
            json!({"rotation":"support-hero","person":"nobody","start":"2027-02-01","end":"2027-02-02"}),
            "person",
        ),
        (
            json!({"rotation":"support-hero","person":"bob","start":"soon","end":"2027-02-02"}),
            "start",
        ),
        (
            json!({"rotation":"support-hero","person":"bob","start":"2027-02-02","end":"2027-02-01"}),
            "end",
        ),
        (
            json!({"rotation":"support-hero","person":"bob","start":"2027-02-01","end":"2029-02-01"}),
            "end",
        ),
        (
            json!({"rotation":"support-hero","person":"bob","start":"2027-02-01","end":"2027-02-02","color":"red"}),
            "color",
        ),
    ] {
        let (st, p) = post(Some(&alice), &bad);
        assert_eq!(st, 400, "{bad}: {p}");
        assert_eq!(p["field"], field, "{bad}: {p}");
    }

    // Deleting: Bob may not delete Alice's override; Alice may; then it is gone.
    let id = created["id"].as_str().unwrap();
    let r = c
        .delete(s.url(&format!("/api/v1/overrides/{id}")))
        .bearer_auth(&bob)
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .delete(s.url(&format!("/api/v1/overrides/{id}")))
        .bearer_auth(&alice)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c
        .delete(s.url(&format!("/api/v1/overrides/{id}")))
        .bearer_auth(&alice)
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .delete(s.url("/api/v1/overrides/xmas-swap-a"))
        .bearer_auth(&alice)
        .send()
        .unwrap();
    assert_eq!(r.status(), 409, "file overrides are edited in the files");
    let (_, hero) = get_json(&c, &s.url("/api/v1/whoishero?at=2027-02-01T12:00:00Z"));
    assert_eq!(
        hero["person"]["id"], "bob",
        "Bob's own override is back on top"
    );

    // A revoked token stops working at once.
    let o = s.rota(&["token", "revoke", &bob]);
    assert!(o.status.success());
    assert_eq!(post(Some(&bob), &json!({"rotation":"support-hero","person":"bob","start":"2027-03-01","end":"2027-03-02"})).0, 401);

    // Everything is in the audit trail of the state file, and tokens never reach the log.
    let log = std::fs::read_to_string(s.dir.join("server.log")).unwrap();
    assert!(
        !log.contains(&bob) && !log.contains(&alice),
        "a token leaked into the log"
    );
    assert!(log.contains("path=/api/v1/overrides status=201"), "{log}");
}

#[test]
fn overrides_survive_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&example_schedules(), &tmp.path().join("schedules"));
    let s = Server::start_in(tmp.path());
    let c = client();
    let token = s.token("alice");
    let r = c
        .post(s.url("/api/v1/overrides"))
        .bearer_auth(&token)
        .json(&json!({"rotation":"platform-secondary","person":"erin","start":"2027-03-01T09:00:00Z","end":"2027-03-08T09:00:00Z"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    // The write returned: it is on disk. Kill without any chance to flush.
    s.signal("-KILL");
    let status = s.wait();
    assert!(!status.success());
    let s = Server::start_in(tmp.path());
    let (_, shift) = get_json(&c, &s.url("/api/v1/oncall?at=2027-03-02T12:00:00Z"));
    let platform = shift
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["rotation"] == "platform-secondary")
        .unwrap()
        .clone();
    assert_eq!(platform["person"]["id"], "erin");
    assert_eq!(platform["source"], "override");
    let (_, list) = get_json(&c, &s.url("/api/v1/overrides?rotation=platform-secondary"));
    let api: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["origin"] == "api")
        .collect();
    assert_eq!(api.len(), 1);
    assert_eq!(api[0]["created_by"], "alice");
}

#[test]
fn sighup_reloads_schedules_and_keeps_the_old_one_on_bad_files() {
    let s = Server::start();
    let c = client();
    let rot = s.dir.join("schedules/rotations.toml");
    let original = std::fs::read_to_string(&rot).unwrap();
    // Reorder the hero rotation: Bob first.
    std::fs::write(
        &rot,
        original.replace(
            "members = [\"alice\", \"bob\", \"grace\"",
            "members = [\"bob\", \"alice\", \"grace\"",
        ),
    )
    .unwrap();
    s.signal("-HUP");
    let wait_for = |want: &str| {
        for _ in 0..100 {
            let (_, h) = get_json(&c, &s.url("/api/v1/whoishero?at=2026-11-03T12:00:00Z"));
            if h["person"]["id"] == want {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the hero never became {want}");
    };
    wait_for("bob");
    // A broken file: the old schedule keeps running and /healthz says why.
    std::fs::write(
        &rot,
        original.replace(
            "timezone = \"Europe/London\"",
            "timezone = \"Europe/Londn\"",
        ),
    )
    .unwrap();
    s.signal("-HUP");
    let mut health = Value::Null;
    for _ in 0..100 {
        health = get_json(&c, &s.url("/healthz")).1;
        if health["status"] == "degraded" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(health["status"], "degraded");
    assert!(
        health["schedule"]["last_reload_error"]
            .as_str()
            .unwrap()
            .contains("unknown time zone \"Europe/Londn\""),
        "{health}"
    );
    let (_, h) = get_json(&c, &s.url("/api/v1/whoishero?at=2026-11-03T12:00:00Z"));
    assert_eq!(h["person"]["id"], "bob", "still the last good schedule");
    let log = std::fs::read_to_string(s.dir.join("server.log")).unwrap();
    assert!(
        log.contains("rotations.toml:11:12: rotations.support-hero.timezone: unknown time zone"),
        "the log shows what rota check would: {log}"
    );
}

#[test]
fn sigterm_and_sigint_stop_the_server_cleanly() {
    for sig in ["-TERM", "-INT"] {
        let s = Server::start();
        let c = client();
        assert_eq!(get_json(&c, &s.url("/healthz")).0, 200);
        s.signal(sig);
        let status = s.wait();
        assert!(status.success(), "{sig}: {status}");
    }
}

/// Properties of an event parsed by the `ical` crate.
fn props(
    e: &ical::parser::ical::component::IcalEvent,
) -> std::collections::HashMap<String, String> {
    e.properties
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect()
}

fn ical_utc(v: &str) -> String {
    // 20261102T090000Z -> 2026-11-02T09:00:00Z
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &v[0..4],
        &v[4..6],
        &v[6..8],
        &v[9..11],
        &v[11..13],
        &v[13..15]
    )
}

#[test]
fn feeds_parse_and_match_the_resolved_shifts() {
    let s = Server::start();
    let c = client();
    let r = c
        .get(s.url("/calendars/rotations/core-analytics-secondary.ics"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let text = r.text().unwrap();
    assert!(
        text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'),
        "CRLF line ends only"
    );
    assert!(
        text.split("\r\n").all(|l| l.len() <= 75),
        "folded at 75 octets"
    );
    let cal = ical::IcalParser::new(text.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    let stamp = props(&cal.events[0])["DTSTAMP"].clone();
    // The feed covers 30 days before to 365 days after its stamp day: compare with the API.
    let stamp = ical_utc(&stamp);
    let day: chrono::DateTime<chrono::Utc> = stamp.parse().unwrap();
    let from = rota_core::view::utc(day - chrono::Duration::days(30));
    let to = rota_core::view::utc(day + chrono::Duration::days(365));
    let (_, shifts) = get_json(
        &c,
        &s.url(&format!(
            "/api/v1/rotations/core-analytics-secondary/shifts?from={from}&to={to}"
        )),
    );
    let shifts = shifts.as_array().unwrap();
    assert_eq!(cal.events.len(), shifts.len());
    for (e, sh) in cal.events.iter().zip(shifts) {
        let p = props(e);
        assert_eq!(ical_utc(&p["DTSTART"]), sh["start"].as_str().unwrap());
        assert_eq!(ical_utc(&p["DTEND"]), sh["end"].as_str().unwrap());
        assert_eq!(
            p["SUMMARY"],
            format!(
                "Core Analytics secondary: {}",
                sh["person"]["name"].as_str().unwrap()
            )
        );
        assert_eq!(p["TRANSP"], "TRANSPARENT");
        assert!(p["UID"].starts_with("core-analytics-secondary-") && p["UID"].ends_with("@rota"));
    }
    let uids: std::collections::HashSet<String> =
        cal.events.iter().map(|e| props(e)["UID"].clone()).collect();
    assert_eq!(uids.len(), cal.events.len(), "UIDs are unique");

    // The same text again gets a 304.
    let r = c
        .get(s.url("/calendars/rotations/core-analytics-secondary.ics"))
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);
    assert!(r.text().unwrap().is_empty());

    // A person's feed needs their token; rotating it invalidates the old URL.
    let url = String::from_utf8(
        s.rota(&["feed", "url", "alice", "--base-url", &s.base])
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    assert!(
        url.starts_with(&format!("{}/calendars/people/alice.ics?token=", s.base)),
        "{url}"
    );
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().unwrap();
    let cal = ical::IcalParser::new(text.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    assert!(!cal.events.is_empty());
    let (_, mine) = get_json(
        &c,
        &s.url(&format!("/api/v1/people/alice/shifts?from={from}&to={to}")),
    );
    assert_eq!(cal.events.len(), mine.as_array().unwrap().len());
    for e in &cal.events {
        let summary = props(e)["SUMMARY"].clone();
        assert!(summary.ends_with(": Alice Smith"), "{summary}");
    }
    let rotated = String::from_utf8(
        s.rota(&["feed", "rotate", "alice", "--base-url", &s.base])
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    assert_ne!(rotated, url);
    // The CLI is another process: the service reads the state version again at most once a
    // second, so the old URL stops working within about that long.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while c.get(&url).send().unwrap().status() != 404 {
        assert!(
            std::time::Instant::now() < deadline,
            "the old feed URL still works 3 s after `rota feed rotate`"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(c.get(&rotated).send().unwrap().status(), 200);

    // `rota ics` writes the same text the service serves.
    let served = c
        .get(s.url("/calendars/rotations/support-hero.ics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let o = s.rota(&["ics", "support-hero"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), served);
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    use std::io::{Read, Write};
    let s = Server::start();
    let token = s.token("alice");
    let body = r#"{"rotation":"support-hero","person":"bob","start":"2027-05-03T09:00:00Z","end":"2027-05-04T09:00:00Z","reason":"in flight"}"#;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    // Headers and half the body, then the signal, then the rest: the request was in flight when
    // the server was told to stop.
    write!(
        conn,
        "POST /api/v1/overrides HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (a, b) = body.split_at(body.len() / 2);
    conn.write_all(a.as_bytes()).unwrap();
    conn.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.signal("-TERM");
    std::thread::sleep(std::time::Duration::from_millis(300));
    conn.write_all(b.as_bytes()).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let dir = s.dir.clone();
    let status = s.wait();
    assert!(status.success(), "{status}");
    // And what it wrote is there for the next start.
    let s = Server::start_in(&dir);
    let (_, hero) = get_json(
        &client(),
        &s.url("/api/v1/whoishero?at=2027-05-03T12:00:00Z"),
    );
    assert_eq!(hero["person"]["id"], "bob");
}

#[test]
fn hostile_requests_never_get_a_5xx() {
    let s = Server::start();
    let c = client();
    let token = s.token("alice");
    let gets = [
        "/api/v1/whoishero?at=9999-12-31T23:59:59Z",
        "/api/v1/whoishero?at=0001-01-01T00:00:00Z",
        "/api/v1/whoishero?at=-0001-01-01T00:00:00Z",
        "/api/v1/whoishero?at=2026-11-23T10:00:00.999999999Z",
        "/api/v1/whoishero?at=%00",
        "/api/v1/whoishero?at=2026-11-23T10:00:00Z&at=2026-11-24T10:00:00Z",
        "/api/v1/oncall?at=99999-01-01",
        "/api/v1/rotations/support-hero/shifts?from=9998-06-01T00:00:00Z&to=9999-12-31T23:59:59Z",
        "/api/v1/rotations/support-hero/shifts?from=0001-01-01&to=0002-12-01",
        "/api/v1/rotations/%FF%FE/shifts",
        "/api/v1/rotations/..%2F..%2Fetc%2Fpasswd/shifts",
        "/api/v1/people/%00/shifts",
        "/calendars/rotations/.ics",
        "/calendars/people/alice.ics?token=&token=x",
        "/calendars/rotations/support-hero.ics?from=2026-01-01",
        "/api/v1/overrides?rotation=",
    ];
    for path in gets {
        let r = c.get(s.url(path)).send().unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    let long = "x".repeat(8000);
    let r = c
        .get(s.url(&format!("/api/v1/rotations/{long}/shifts")))
        .send()
        .unwrap();
    assert!(r.status().as_u16() < 500);
    let bodies = [
        "",
        "null",
        "[]",
        "{\"rotation\":1}",
        "{\"rotation\":\"support-hero\",\"person\":\"bob\",\"start\":\"9999-12-31T00:00:00Z\",\"end\":\"9999-12-31T23:59:59Z\"}",
        "{\"rotation\":\"support-hero\",\"person\":\"bob\",\"start\":\"2027-01-01\",\"end\":\"2027-01-02\",\"reason\":\"\\u0000\"}",
        "{\"rotation\":\"support-hero\",\"person\":\"bob\",\"start\":\"2027-01-01\",\"end\":\"2027-01-02\",\"reason\":null}",
        "{\"rotation\":\"support-hero\"",
        "\u{feff}{}",
    ];
    for body in bodies {
        let r = c
            .post(s.url("/api/v1/overrides"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        assert!(r.status().as_u16() < 500, "{body:?}: {}", r.status());
    }
    let r = c
        .post(s.url("/api/v1/overrides"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = c.get(s.url("/healthz")).send().unwrap();
    assert_eq!(r.status(), 200, "still up");
}

#[test]
fn head_answers_every_get_route_like_get_without_a_body() {
    let s = Server::start();
    let token = s.token("alice");
    let feed = String::from_utf8(
        s.rota(&["feed", "url", "alice", "--base-url", &s.base])
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let feed = feed.strip_prefix(&s.base).unwrap().to_string();
    // Redirects are answers too: compare them, do not follow them.
    let c = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    // A real swap request, for its page and its API resource; and a page session for the pages
    // that need one (bearer tokens are for the API only).
    let swap: Value = c
        .post(s.url("/api/v1/swaps"))
        .bearer_auth(&token)
        .json(&json!({"rotation": "support-hero", "kind": "cover",
            "my_slot": crate::swaps::alice_slot(0), "counterpart": "bob"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let swap_page = format!("/swaps/{}", swap["id"].as_str().unwrap());
    let swap_api = format!("/api/v1{swap_page}");
    let signed_in = c
        .post(s.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let routes = [
        "/",
        "/signin",
        "/me",
        "/swaps/new",
        "/swaps/new?rotation=support-hero",
        &swap_page,
        &swap_api,
        "/swaps/no-such-swap",
        "/report",
        "/healthz",
        "/api/v1/whoishero",
        "/api/v1/whoishero?at=2027-01-06T12:00:00Z",
        "/api/v1/whoishero?at=9999-12-31T23:59:59Z",
        "/api/v1/oncall",
        "/api/v1/rotations",
        "/api/v1/rotations/support-hero/shifts",
        "/api/v1/rotations/support-hero/slots",
        "/api/v1/people/alice/shifts",
        "/api/v1/overrides",
        "/api/v1/swaps",
        "/api/v1/swaps/no-such-swap",
        "/api/v1/audit",
        "/api/v1/conflicts",
        "/api/v1/report",
        "/calendars/rotations/support-hero.ics",
        "/calendars/rotations/nobody.ics",
        &feed,
        "/no/such/route",
    ];
    let mut ok = 0;
    let mut pages_signed_in = 0;
    for path in routes {
        for auth in ["none", "bearer", "session"] {
            let send = |r: reqwest::blocking::RequestBuilder| {
                match auth {
                    "bearer" => r.bearer_auth(&token),
                    "session" => r.header("cookie", &cookie),
                    _ => r,
                }
                .send()
                .unwrap()
            };
            let get = send(c.get(s.url(path)));
            let head = send(c.head(s.url(path)));
            assert_eq!(head.status(), get.status(), "HEAD {path} (auth: {auth})");
            let page = ["/", "/signin", "/me", "/report"].contains(&path)
                || (path.starts_with("/swaps/") && !path.contains("no-such"));
            if auth == "session" && page {
                pages_signed_in += usize::from(get.status() == 200);
            }
            ok += usize::from(get.status() == 200);
            for h in ["content-type", "etag", "last-modified", "location"] {
                assert_eq!(
                    head.headers().get(h),
                    get.headers().get(h),
                    "HEAD {path}: {h}"
                );
            }
            let get_len = get.headers().get("content-length").cloned();
            let head_len = head.headers().get("content-length").cloned();
            let body = get.bytes().unwrap();
            // The head says how long the body would be; pages with a fresh form token per request
            // are as long each time.
            // (A 404 names the method, so its length differs by the method's.)
            if let Some(len) = get_len.as_ref().filter(|_| path != "/no/such/route") {
                assert_eq!(len.to_str().unwrap(), body.len().to_string(), "GET {path}");
                assert_eq!(head_len.as_ref(), Some(len), "HEAD {path}: content-length");
            }
            assert!(head.bytes().unwrap().is_empty(), "HEAD {path} has no body");
        }
    }
    assert!(ok >= 20, "most routes answered 200 ({ok})");
    // Signed in, every page answered 200 (/, /signin, /me, both swap forms, the request, /report).
    assert_eq!(pages_signed_in, 7, "pages answering 200 with a session");
}

#[test]
fn malformed_requests_get_problem_json_where_rota_sees_them() {
    use std::io::{Read, Write};
    let s = Server::start();
    let c = client();
    let token = s.token("alice");
    // A Content-Type that does not parse, on the JSON and form routes.
    for (path, auth) in [
        ("/api/v1/overrides", true),
        ("/api/v1/swaps", true),
        ("/signin", false),
    ] {
        let mut r = c.post(s.url(path)).header("content-type", ";;;").body("{}");
        if auth {
            r = r.bearer_auth(&token);
        }
        let r = r.send().unwrap();
        assert_eq!(r.status(), 415, "{path}");
        // A page answers as pages do, in HTML (a browser never sees JSON); the API in problem+json.
        if path == "/signin" {
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            assert!(ct.starts_with("text/html"), "{path}: {ct}");
            assert!(r.text().unwrap().contains("<main>"), "{path}");
            continue;
        }
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: Value = r.json().unwrap();
        assert_eq!(body["status"], 415, "{path}");
        assert!(!body["detail"].as_str().unwrap().is_empty());
    }
    // A body that is not UTF-8, and a truncated one, on a JSON route.
    for body in [&b"\xff\xfe{}"[..], b"{\"rotation\":"] {
        let r = c
            .post(s.url("/api/v1/swaps"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    // `Content-Length: abc` never reaches rota: actix-http's HTTP/1 parser answers a bare 400 and
    // closes the connection (README, "Errors"). This pins that down, so a change shows up here.
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "POST /api/v1/overrides HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{{}}"
    )
    .unwrap();
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{response}"
    );
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-length: 0\r\n"),
        "{response}"
    );
    assert_eq!(c.get(s.url("/healthz")).send().unwrap().status(), 200);
}

/// Raises this process's soft limit on open files to its hard limit; returns the limit.
fn raise_own_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
    }
    lim.rlim_cur
}

#[test]
fn healthz_answers_while_1500_slow_clients_hold_connections() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    const SLOW: usize = 1500;
    // The slow clients live in this process: it needs the descriptors.
    let own = raise_own_fd_limit();
    if own < SLOW as u64 + 200 {
        eprintln!(
            "skipped: this process may open only {own} files, fewer than {SLOW} clients need"
        );
        return;
    }
    // The usual default: a soft limit of 1024 under a higher hard limit (`ulimit -n` in sh would
    // set both, and then no process could raise it: that case is the connection cap's).
    let s = Server::start_after("ulimit -S -n 1024");
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut conn = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .expect("connect a slow client");
        // Half a request head, never finished.
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: rota\r\nX-Slow: ")
            .unwrap();
        slow.push(conn);
    }
    let c = client();
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        let r = c.get(s.url("/healthz")).send().unwrap();
        let took = started.elapsed();
        assert_eq!(r.status(), 200);
        worst = worst.max(took);
    }
    eprintln!("/healthz with {SLOW} slow clients: worst of 10 took {worst:?}");
    // The issue's figure is 100 ms (BENCHMARKS.md records it); the bound here only proves the
    // service is not starved, with room for a busy test machine.
    assert!(worst < Duration::from_secs(2), "{worst:?}");
    // And the slow clients are told off by the request timeout (408), not held forever.
    let first = &mut slow[0];
    first
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = [0u8; 64];
    let n = first.read(&mut answer).unwrap_or(0);
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&answer[..n])
    );
    drop(slow);
    let log = std::fs::read_to_string(s.dir.join("server.log")).unwrap();
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(log.contains("raised the open files limit"), "{log}");
}

/// Issue 16, point 3: `ROTA_LOG_FORMAT=json` gives one JSON object a line; every response
/// carries a request id that its access log line carries too; no token reaches the log.
#[test]
fn json_logs_with_request_ids_and_no_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&example_schedules(), &tmp.path().join("schedules"));
    let s = Server::start_in_with(
        tmp.path(),
        &[("ROTA_LOG_FORMAT", "json"), ("ROTA_LOG", "info")],
    );
    let c = client();
    let token = s.token("alice");
    let feed = String::from_utf8(
        s.rota(&["feed", "url", "alice", "--base-url", &s.base])
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let feed_token = feed.split("token=").nth(1).unwrap().to_string();
    let mut ids = Vec::new();
    for r in [
        c.get(s.url("/api/v1/whoishero")).send().unwrap(),
        c.get(&feed).send().unwrap(),
        c.get(s.url("/api/v1/swaps"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        c.get(s.url("/api/v1/nope")).send().unwrap(),
        c.get(s.url("/healthz"))
            .header("x-request-id", "from-the-proxy.42")
            .send()
            .unwrap(),
        c.get(s.url("/healthz"))
            .header("x-request-id", "not valid; <script>")
            .send()
            .unwrap(),
    ] {
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(!id.is_empty() && id.len() <= 64, "{id}");
        ids.push(id);
    }
    assert_eq!(ids[4], "from-the-proxy.42", "a proxy's id is kept");
    assert_ne!(
        ids[5], "not valid; <script>",
        "an implausible one is replaced"
    );
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    // The access lines are written after the responses: wait for the last one.
    let log_path = tmp.path().join("server.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap();
        if log.contains(&ids[5]) || std::time::Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for id in &ids {
        let line = lines
            .iter()
            .find(|l| l["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no access line with request_id {id}:\n{log}"));
        assert!(
            line["status"].is_u64() && line["path"].is_string(),
            "{line}"
        );
    }
    assert!(!log.contains(&token), "the API token is in the log");
    assert!(!log.contains(&feed_token), "the feed token is in the log");
}

/// Parses Prometheus text with the Prometheus project's own Python parser
/// (`prometheus_client.parser`): `[(name, labels, value)]` for every sample, or a failure naming
/// what did not parse.
fn parse_prometheus(text: &str) -> Vec<(String, std::collections::BTreeMap<String, String>, f64)> {
    let python = crate::notify::test_python();
    assert!(
        python.exists(),
        "the metrics test needs prometheus_client in a venv at {}: run scripts/test-python-setup.sh \
         (scripts/test.sh does), or set ROTA_TEST_PYTHON to a python with prometheus_client",
        python.display()
    );
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append([s.name, s.labels, s.value, fam.type])
print(json.dumps(out))
"#;
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "prometheus_client could not parse /metrics: {}\n{text}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Vec<(
        String,
        std::collections::BTreeMap<String, String>,
        f64,
        String,
    )> = serde_json::from_slice(&o.stdout).unwrap();
    v.into_iter().map(|(n, l, x, _)| (n, l, x)).collect()
}

#[test]
fn metrics_are_prometheus_text_behind_a_token_from_the_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&example_schedules(), &dir.join("schedules"));
    // The token comes from a config file: this also shows rota serve reads one.
    std::fs::write(
        dir.join("rota.toml"),
        "metrics_token = \"scrape-secret\"\nstate_poll_ms = 100\n",
    )
    .unwrap();
    let config = dir.join("rota.toml").display().to_string();
    let s = Server::start_in_with(dir, &[("ROTA_CONFIG", config.as_str())]);
    let c = Client::new();
    // Some traffic: a hit, a miss, a feed, a bad request, and a swap request made.
    assert_eq!(
        c.get(s.url("/api/v1/whoishero")).send().unwrap().status(),
        200
    );
    assert_eq!(c.get(s.url("/no/such/page")).send().unwrap().status(), 404);
    assert_eq!(
        c.get(s.url("/calendars/rotations/support-hero.ics"))
            .send()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(s.url("/api/v1/rotations/support-hero/shifts?from=x"))
            .send()
            .unwrap()
            .status(),
        400
    );
    // Without the token, or with a wrong one: 401 problem+json.
    let r = c.get(s.url("/metrics")).send().unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let r = c
        .get(s.url("/metrics"))
        .bearer_auth("scrape-secreT")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(s.url("/metrics"))
        .bearer_auth("scrape-secret")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().unwrap();
    let samples = parse_prometheus(&text);
    let find = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(v))
            })
            .map(|s| s.2)
    };
    let get = |name: &str, labels: &[(&str, &str)]| {
        find(name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{text}"))
    };
    assert_eq!(
        get(
            "rota_http_requests_total",
            &[
                ("route", "/api/v1/whoishero"),
                ("status", "200"),
                ("method", "GET")
            ]
        ),
        1.0
    );
    assert_eq!(
        get(
            "rota_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "rota_http_requests_total",
            &[("route", "/calendars/..."), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "rota_http_requests_total",
            &[
                ("route", "/api/v1/rotations/{id}/shifts"),
                ("status", "400")
            ]
        ),
        1.0
    );
    // Two 401s for /metrics itself, counted before this scrape's own.
    assert_eq!(
        get(
            "rota_http_requests_total",
            &[("route", "/metrics"), ("status", "401")]
        ),
        2.0
    );
    assert_eq!(
        get(
            "rota_http_request_duration_seconds_count",
            &[("route", "/api/v1/whoishero")]
        ),
        1.0
    );
    assert!(
        get(
            "rota_http_request_duration_seconds_bucket",
            &[("route", "/api/v1/whoishero"), ("le", "+Inf")]
        ) == 1.0
    );
    assert!(
        get(
            "rota_store_operation_duration_seconds_count",
            &[("op", "read"), ("result", "ok")]
        ) >= 1.0
    );
    assert!(get("rota_schedule_loaded_timestamp_seconds", &[]) > 1.7e9);
    assert_eq!(get("rota_schedule_reload_failing", &[]), 0.0);
    // Raw paths never become labels (the series stay bounded).
    assert!(!text.contains("/no/such/page"), "{text}");
    assert!(!text.contains("scrape-secret"));

    assert!(find("rota_swap_requests", &[("state", "pending")]).is_none());
    // A swap request moves the swap figures; a bad reload moves the reload figures.
    let token = s.token("alice");
    let r = c
        .post(s.url("/api/v1/swaps"))
        .bearer_auth(&token)
        .json(&json!({"rotation": "support-hero", "kind": "cover",
            "my_slot": crate::swaps::alice_slot(0), "counterpart": "bob"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    std::fs::write(dir.join("schedules/zz-broken.toml"), "[rotations.x\n").unwrap();
    s.signal("-HUP");
    let scrape = || {
        let text = c
            .get(s.url("/metrics"))
            .bearer_auth("scrape-secret")
            .send()
            .unwrap()
            .text()
            .unwrap();
        parse_prometheus(&text)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = scrape();
        let reloads = now
            .iter()
            .find(|(n, l, _)| {
                n == "rota_schedule_reloads_total"
                    && l.get("result").map(String::as_str) == Some("error")
            })
            .map(|x| x.2);
        if reloads == Some(1.0) {
            let one = |name: &str, label: Option<(&str, &str)>| {
                now.iter()
                    .find(|(n, l, _)| {
                        n == name
                            && label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v))
                    })
                    .map(|x| x.2)
            };
            assert_eq!(one("rota_schedule_reload_failing", None), Some(1.0));
            assert_eq!(
                one("rota_swap_requests", Some(("state", "pending"))),
                Some(1.0)
            );
            assert!(
                one(
                    "rota_store_operation_duration_seconds_count",
                    Some(("op", "write"))
                )
                .unwrap_or(0.0)
                    >= 1.0
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failed reload counted after SIGHUP"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
