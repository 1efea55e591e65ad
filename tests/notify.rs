//! Email reminders end to end: the real `rota remind` and `rota serve` talking SMTP to a real SMTP
//! server on 127.0.0.1 (scripts/smtp_sink.py, aiosmtpd), which writes every message it accepts to a
//! directory. The tests read those back: recipients, subject, both parts, the .ics attachment
//! (parsed with the `ical` crate), and that nothing arrived twice.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The SMTP sink: a child process listening on a free loopback port.
pub(crate) struct Sink {
    child: Child,
    pub(crate) port: u16,
    dir: PathBuf,
}

/// The tests' Python: the venv scripts/test-python-setup.sh makes (aiosmtpd, prometheus_client),
/// or `ROTA_TEST_PYTHON`.
pub(crate) fn test_python() -> PathBuf {
    if let Some(p) = std::env::var_os("ROTA_TEST_PYTHON") {
        return p.into();
    }
    // CARGO_TARGET_TMPDIR is <target>/tmp; the venv lives in <target>/test-venv.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-venv/bin/python")
}

impl Sink {
    pub(crate) fn start(dir: &Path, extra: &[&str]) -> Sink {
        let python = test_python();
        assert!(
            python.exists(),
            "the SMTP test server needs aiosmtpd in a venv at {}: run scripts/test-python-setup.sh \
             (scripts/test.sh does), or set ROTA_TEST_PYTHON to a python with aiosmtpd",
            python.display()
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scripts/smtp_sink.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("smtp_sink: listening on 127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("smtp_sink.py did not start ({line:?}); run scripts/test-python-setup.sh")
            });
        Sink {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// Every message received so far, in order of arrival.
    pub(crate) fn messages(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    pub(crate) fn count(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temp dir with `schedules/` (the given files), `rota.db` and `mail/`.
struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new(files: &[(&str, &str)]) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("schedules")).unwrap();
        std::fs::create_dir(tmp.path().join("mail")).unwrap();
        for (name, text) in files {
            std::fs::write(tmp.path().join("schedules").join(name), text).unwrap();
        }
        Env { tmp }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    fn sink(&self, extra: &[&str]) -> Sink {
        Sink::start(&self.path("mail"), extra)
    }

    fn remind_cmd(&self, sink: Option<&Sink>, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rota"));
        c.arg("--schedules")
            .arg(self.path("schedules"))
            .arg("remind")
            .args(args)
            .arg("--state")
            .arg(self.path("rota.db"))
            .env_remove("ROTA_SCHEDULES")
            .env_remove("ROTA_REMIND_LEADS")
            .env_remove("ROTA_SMTP_HOST")
            .env("ROTA_BASE_URL", "https://rota.example.com")
            .env("ROTA_LOG", "warn");
        if let Some(s) = sink {
            c.env("ROTA_SMTP_HOST", "127.0.0.1")
                .env("ROTA_SMTP_PORT", s.port.to_string())
                .env("ROTA_SMTP_SECURITY", "plain")
                .env("ROTA_SMTP_FROM", "Rota <rota@example.com>")
                .env("ROTA_SMTP_EHLO_NAME", "rota.example.com");
        }
        c
    }

    fn remind(&self, sink: Option<&Sink>, args: &[&str]) -> Output {
        let o = self.remind_cmd(sink, args).output().unwrap();
        assert!(
            o.status.success(),
            "rota remind {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }
}

const PEOPLE: &str = r#"
hero_rotation = "support-hero"

[teams.platform]
name = "Platform"

[people.alice]
name = "Alice Smith"
email = "alice@example.com"
team = "platform"
timezone = "Europe/London"

[people.bob]
name = "Bob Jones"
email = "bob@example.com"
team = "platform"
timezone = "America/Chicago"

[people.carol]
name = "Carol Diaz"
team = "platform"

[rotations.support-hero]
name = "Support Hero"
members = ["alice", "bob", "carol"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
"#;

fn part<'a>(m: &'a Value, content_type: &str) -> &'a Value {
    m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_type"] == content_type)
        .unwrap_or_else(|| panic!("no {content_type} part in {m:#}"))
}

/// `rota serve` on port 0 sending through `sink`, with `extra` environment; returns the child and
/// its base URL.
fn serve_with_smtp(env: &Env, sink: &Sink, extra: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rota"));
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .arg("--schedules")
        .arg(env.path("schedules"))
        .arg("--state")
        .arg(env.path("rota.db"))
        .env_remove("ROTA_SCHEDULES")
        .env_remove("ROTA_REMIND_LEADS")
        .env("ROTA_SMTP_HOST", "127.0.0.1")
        .env("ROTA_SMTP_PORT", sink.port.to_string())
        .env("ROTA_SMTP_SECURITY", "plain")
        .env("ROTA_SMTP_FROM", "rota@example.com")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("rota: listening on ")
        .unwrap_or_else(|| panic!("rota serve did not start: {line:?}"))
        .to_string();
    (child, base)
}

/// The properties of each VEVENT of an ICS text, by name (the first of each).
fn event_props(ics: &str) -> Vec<BTreeMap<String, String>> {
    let cal = ical::IcalParser::new(ics.as_bytes())
        .next()
        .expect("one calendar")
        .expect("parses as ICS");
    cal.events
        .iter()
        .map(|e| {
            let mut m = BTreeMap::new();
            for p in &e.properties {
                m.entry(p.name.clone())
                    .or_insert_with(|| p.value.clone().unwrap_or_default());
            }
            m
        })
        .collect()
}

fn keys(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .map(|m| m["rota_key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn remind_once_sends_a_reminder_with_text_html_and_ics_exactly_once() {
    let env = Env::new(&[("schedule.toml", PEOPLE)]);
    let sink = env.sink(&[]);
    // Saturday 28 Nov 2026: slot 4 (Bob, Mon 30 Nov 09:00 London) is 7-day due; carol (slot 5)
    // has no email; alice's slot 6 is not due yet.
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:00:00Z"]);
    let msgs = sink.messages();
    assert_eq!(
        keys(&msgs),
        ["reminder/support-hero/4/bob/P7D"],
        "{msgs:#?}"
    );
    let m = &msgs[0];
    assert_eq!(m["rcpt_tos"], serde_json::json!(["bob@example.com"]));
    assert_eq!(m["mail_from"], "rota@example.com");
    assert_eq!(m["to"], "Bob Jones <bob@example.com>");
    // Bob's own zone: 09:00 London is 03:00 in Chicago.
    assert_eq!(
        m["subject"],
        "Reminder: your Support Hero shift starts Monday 30 November 2026, 03:00 CST"
    );
    assert!(
        m["message_id"]
            .as_str()
            .unwrap()
            .ends_with(".rota@example.com>")
    );
    let text = part(m, "text/plain")["content"].as_str().unwrap();
    assert!(text.contains("Hello Bob Jones"), "{text}");
    assert!(text.contains("starts in 2 days"), "{text}");
    assert!(
        text.contains("Ends:   Monday 7 December 2026, 03:00 CST"),
        "{text}"
    );
    assert!(text.contains("America/Chicago"), "{text}");
    // The person's own page (there is no /people/{id} page).
    assert!(
        text.contains("Your shifts: https://rota.example.com/me"),
        "{text}"
    );
    assert!(!text.contains("/people/"), "{text}");
    // Automated mail (RFC 3834), so out-of-office replies stay away; rota's own EHLO name.
    assert_eq!(m["auto_submitted"], "auto-generated");
    assert_eq!(m["auto_response_suppress"], "All");
    assert_eq!(m["reply_to"], Value::Null);
    assert_eq!(m["helo"], "rota.example.com");
    let html = part(m, "text/html")["content"].as_str().unwrap();
    assert!(html.contains("<strong>Support Hero</strong>"), "{html}");
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(
        html.contains("Monday 30 November 2026, 03:00 CST"),
        "{html}"
    );
    let ics = part(m, "text/calendar");
    assert_eq!(ics["filename"], "support-hero-4.ics");
    assert_eq!(ics["disposition"], "attachment");
    let ics_text = ics["content"].as_str().unwrap();
    assert!(ics_text.contains("\r\n"), "CRLF line ends");
    let cal = ical::IcalParser::new(ics_text.as_bytes())
        .next()
        .expect("one calendar")
        .expect("the attachment parses as ICS");
    assert_eq!(cal.events.len(), 1);
    let prop = |name: &str| {
        cal.events[0]
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(prop("UID"), "support-hero-4@rota");
    assert_eq!(prop("DTSTART"), "20261130T090000Z");
    assert_eq!(prop("DTEND"), "20261207T090000Z");
    assert_eq!(prop("SUMMARY"), "Support Hero: Bob Jones");
    assert_eq!(prop("TRANSP"), "TRANSPARENT");
    // An iTIP PUBLISH (RFC 5546): the organizer is the sender, and a sequence that later updates
    // outrank.
    assert_eq!(
        cal.properties
            .iter()
            .find(|p| p.name == "METHOD")
            .and_then(|p| p.value.as_deref()),
        Some("PUBLISH")
    );
    assert_eq!(prop("ORGANIZER"), "mailto:rota@example.com");
    assert_eq!(prop("STATUS"), "CONFIRMED");
    assert!(prop("SEQUENCE").parse::<u32>().unwrap() > 0);

    // Running again at the same time, or a bit later, sends nothing more.
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:00:00Z"]);
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T18:00:00Z"]);
    assert_eq!(sink.count(), 1);
    // Sunday 03:00 Chicago: the 1-day reminder.
    env.remind(Some(&sink), &["--once", "--now", "2026-11-29T09:00:00Z"]);
    assert_eq!(
        keys(&sink.messages()),
        [
            "reminder/support-hero/4/bob/P7D",
            "reminder/support-hero/4/bob/P1D"
        ]
    );
    // After the shift started, nothing for it ever again.
    env.remind(Some(&sink), &["--once", "--now", "2026-11-30T10:00:00Z"]);
    assert_eq!(sink.count(), 2);
}

#[test]
fn dry_run_prints_what_to_whom_and_why_and_sends_nothing() {
    let env = Env::new(&[("schedule.toml", PEOPLE)]);
    // No SMTP settings at all: a dry run needs none.
    let o = env.remind(
        None,
        &["--once", "--dry-run", "--now", "2026-11-28T12:00:00Z"],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("send: reminder/support-hero/4/bob/P7D to Bob Jones <bob@example.com>"),
        "{out}"
    );
    assert!(
        out.contains("the 1 week reminder fell due 2026-11-23T09:00:00Z"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1, "{out}");
    // Nothing was recorded: the real run still sends it.
    let sink = env.sink(&[]);
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:00:00Z"]);
    assert_eq!(keys(&sink.messages()), ["reminder/support-hero/4/bob/P7D"]);
    // Without SMTP settings and without --dry-run, remind says what to set.
    let o = env
        .remind_cmd(None, &["--once", "--now", "2026-11-28T12:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ROTA_SMTP_HOST is not set"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_schedule_change_sends_one_change_notice_to_each_person_affected() {
    let env = Env::new(&[("schedule.toml", PEOPLE)]);
    let sink = env.sink(&[]);
    // First run: records snapshots, sends Bob's reminder, and no change notices.
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:00:00Z"]);
    assert_eq!(sink.count(), 1);
    // Alice takes Bob's shift of 30 Nov (a schedule-file override).
    std::fs::write(
        env.path("schedules/overrides.toml"),
        r#"
[[overrides]]
rotation = "support-hero"
person = "alice"
start = "2026-11-30T09:00"
end = "2026-12-07T09:00"
reason = "Bob is at a conference"
"#,
    )
    .unwrap();
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:05:00Z"]);
    let msgs = sink.messages();
    let got: BTreeSet<String> = keys(&msgs[1..]).into_iter().collect();
    // Alice is hero the week before (slot 3), so taking slot 4 extends a stretch she is already
    // on: one shift as people read it, which has started, so no "starts in 2 days" reminder; the
    // change notice tells her.
    assert!(
        !got.iter()
            .any(|k| k.starts_with("reminder/support-hero/4/alice/")),
        "{got:?}"
    );
    let changes: Vec<&Value> = msgs[1..]
        .iter()
        .filter(|m| m["rota_key"].as_str().unwrap().starts_with("change/"))
        .collect();
    assert_eq!(changes.len(), 2, "{msgs:#?}");
    let to_bob = changes
        .iter()
        .find(|m| m["rcpt_tos"][0] == "bob@example.com")
        .unwrap();
    assert_eq!(
        to_bob["subject"],
        "Your upcoming Support Hero shifts changed"
    );
    let text = part(to_bob, "text/plain")["content"].as_str().unwrap();
    let (before, now) = text.split_once("Now:").unwrap();
    assert!(
        before.contains("Support Hero: Mon 30 Nov 03:00 CST to Mon 7 Dec 03:00 CST"),
        "{text}"
    );
    assert!(!now.contains("Mon 30 Nov"), "{text}");
    assert!(now.contains("Support Hero: Mon 21 Dec 03:00 CST"), "{text}");
    assert!(
        part(to_bob, "text/html")["content"]
            .as_str()
            .unwrap()
            .contains("<h3>Before</h3>")
    );
    // Bob's reminder (sent on the first run) put the shift in his calendar: the notice cancels
    // that event, same UID, with a higher SEQUENCE than the reminder's.
    assert!(
        text.contains("The attached calendar file updates"),
        "{text}"
    );
    let ics = part(to_bob, "text/calendar");
    assert_eq!(ics["filename"], "rota-update.ics");
    let update = event_props(ics["content"].as_str().unwrap());
    let reminder = event_props(part(&msgs[0], "text/calendar")["content"].as_str().unwrap());
    assert_eq!(update.len(), 1, "{update:?}");
    assert_eq!(update[0]["UID"], "support-hero-4@rota");
    assert_eq!(update[0]["UID"], reminder[0]["UID"]);
    assert_eq!(update[0]["STATUS"], "CANCELLED");
    assert!(
        update[0]["SEQUENCE"].parse::<u32>().unwrap()
            > reminder[0]["SEQUENCE"].parse::<u32>().unwrap()
    );
    let to_alice = changes
        .iter()
        .find(|m| m["rcpt_tos"][0] == "alice@example.com")
        .unwrap();
    // Alice was never reminded of the shifts that changed: nothing to update.
    assert!(
        to_alice["parts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["content_type"] != "text/calendar"),
        "{to_alice:#}"
    );
    let text = part(to_alice, "text/plain")["content"].as_str().unwrap();
    assert!(
        text.split_once("Now:")
            .unwrap()
            .1
            .contains("Support Hero: Mon 30 Nov 09:00 GMT to Mon 7 Dec 09:00 GMT"),
        "{text}"
    );
    // No change since: nothing more.
    let n = sink.count();
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:10:00Z"]);
    assert_eq!(sink.count(), n);
}

#[test]
fn smtp_failures_are_retried_with_backoff_and_sent_once() {
    let env = Env::new(&[("schedule.toml", PEOPLE)]);
    // The server refuses the first message with a temporary error (451).
    let sink = env.sink(&["--fail-first", "1"]);
    let o = env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:00:00Z"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("sent 0, failed 1"));
    assert_eq!(sink.count(), 0);
    // Not before the backoff (1 minute) ...
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:00:30Z"]);
    assert_eq!(sink.count(), 0);
    // ... then once.
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:01:00Z"]);
    env.remind(Some(&sink), &["--once", "--now", "2026-11-28T12:05:00Z"]);
    assert_eq!(keys(&sink.messages()), ["reminder/support-hero/4/bob/P7D"]);
    let store = rota_store::Store::open(env.path("rota.db")).unwrap();
    let e = &store
        .ledger_entries(&["reminder/support-hero/4/bob/P7D"])
        .unwrap()[0];
    assert_eq!((e.state, e.attempts), (rota_store::LedgerState::Sent, 2));
    assert!(e.last_error.as_deref().unwrap().contains("451"), "{e:?}");
}

/// Twelve people in an hourly rotation, everyone reminded 7 days ahead: 168 reminders due at once.
fn hourly() -> String {
    let mut s = String::from("[teams.ops]\nname = \"Ops\"\n");
    let ids: Vec<String> = (1..=12).map(|i| format!("p{i:02}")).collect();
    for id in &ids {
        s.push_str(&format!(
            "[people.{id}]\nname = \"Person {id}\"\nemail = \"{id}@example.com\"\nteam = \"ops\"\ntimezone = \"Asia/Kolkata\"\n"
        ));
    }
    s.push_str(&format!(
        "[rotations.hourly]\nname = \"Hourly\"\nmembers = [{}]\ntimezone = \"UTC\"\nstart = \"2026-11-28T00:00\"\nevery = \"1 hours\"\n",
        ids.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ")
    ));
    s
}

#[test]
fn killing_remind_mid_run_loses_nothing_and_duplicates_only_the_message_in_flight() {
    let text = hourly();
    let env = Env::new(&[("schedule.toml", &text)]);
    let sink = env.sink(&[]);
    let now = "2026-11-28T00:30:00Z";
    // Slots 1..=168 start within 7 days and are due; slot 0 has started.
    let expected: BTreeSet<String> = (1..=168)
        .map(|n| format!("reminder/hourly/{n}/p{:02}/P7D", n % 12 + 1))
        .collect();
    let mut in_flight = BTreeSet::new();
    for threshold in [20, 90] {
        let mut child = env
            .remind_cmd(Some(&sink), &["--once", "--now", now])
            .env("ROTA_REMIND_LEADS", "7 days")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let began = Instant::now();
        while sink.count() < threshold {
            assert!(
                began.elapsed() < Duration::from_secs(60),
                "only {} messages after 60 s",
                sink.count()
            );
            assert!(child.try_wait().unwrap().is_none(), "remind finished early");
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // What the ledger held in `sending` when the process died: the one message whose fate it
        // could not know.
        let store = rota_store::Store::open(env.path("rota.db")).unwrap();
        let sending: Vec<String> = store
            .ledger_recent(1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.state == rota_store::LedgerState::Sending)
            .map(|e| e.key)
            .collect();
        assert!(sending.len() <= 1, "one message at a time: {sending:?}");
        in_flight.extend(sending);
    }
    let o = env
        .remind_cmd(Some(&sink), &["--once", "--now", now])
        .env("ROTA_REMIND_LEADS", "7 days")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let msgs = sink.messages();
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &msgs {
        seen.entry(m["rota_key"].as_str().unwrap().to_string())
            .or_default()
            .push(m["message_id"].as_str().unwrap().to_string());
    }
    let got: BTreeSet<String> = seen.keys().cloned().collect();
    assert_eq!(got, expected, "nothing missing, nothing extra");
    for (key, ids) in &seen {
        if ids.len() > 1 {
            assert!(
                in_flight.contains(key),
                "{key} arrived {} times but was not in flight at a kill",
                ids.len()
            );
            assert_eq!(ids.len(), 2, "{key}");
            assert_eq!(ids[0], ids[1], "a resend keeps its Message-ID");
        }
    }
    let store = rota_store::Store::open(env.path("rota.db")).unwrap();
    let entries = store.ledger_recent(1000).unwrap();
    assert_eq!(
        entries.len(),
        168,
        "{:?}",
        entries
            .iter()
            .filter(|e| !expected.contains(&e.key))
            .collect::<Vec<_>>()
    );
    assert!(
        entries
            .iter()
            .all(|e| e.state == rota_store::LedgerState::Sent)
    );
    // And a further run sends nothing.
    let o = env
        .remind_cmd(Some(&sink), &["--once", "--now", now])
        .env("ROTA_REMIND_LEADS", "7 days")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(sink.count(), msgs.len());
    eprintln!(
        "{} messages for {} keys; in flight at the kills: {in_flight:?}",
        msgs.len(),
        got.len()
    );
}

#[test]
fn serve_sends_reminders_in_the_background_when_smtp_is_configured() {
    // A daily rotation that started two days ago (UTC), so shifts start within the next week.
    let today = chrono::Utc::now().date_naive();
    let start = today - chrono::Days::new(2);
    let text = format!(
        "[people.ann]\nname = \"Ann\"\nemail = \"ann@example.com\"\n[people.raj]\nname = \"Raj\"\nemail = \"raj@example.com\"\ntimezone = \"Asia/Kolkata\"\n\
         [rotations.daily]\nname = \"Daily\"\nmembers = [\"ann\", \"raj\"]\ntimezone = \"UTC\"\nstart = \"{}T00:00\"\nevery = \"1 days\"\n",
        start.format("%Y-%m-%d")
    );
    let env = Env::new(&[("schedule.toml", &text)]);
    let sink = env.sink(&[]);
    let (mut child, _base) = serve_with_smtp(&env, &sink, &[("ROTA_REMIND_INTERVAL", "1")]);
    // Slot 3 starts at the next midnight UTC: its 1-day reminder is due (and supersedes the
    // 7-day one); slots 4..=9 start within 7 days: their 7-day reminders are due.
    let began = Instant::now();
    while sink.count() < 7 && began.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // A few more runs: nothing new.
    std::thread::sleep(Duration::from_millis(2500));
    let _ = child.kill();
    let _ = child.wait();
    let msgs = sink.messages();
    let ks = keys(&msgs);
    let unique: BTreeSet<&String> = ks.iter().collect();
    assert_eq!(unique.len(), ks.len(), "no duplicates: {ks:?}");
    assert_eq!(ks.len(), 7, "{ks:?}");
    assert!(
        ks.contains(&"reminder/daily/3/raj/P1D".to_string()),
        "{ks:?}"
    );
    assert!(
        !ks.iter()
            .any(|k| k.starts_with("reminder/daily/3/") && k.ends_with("P7D"))
    );
}

#[test]
fn swap_requests_email_the_counterpart_then_both_when_accepted() {
    // A daily rotation that started two days ago (UTC): slot 4 (Ann's) and slot 5 (Raj's) are
    // in the future.
    let start = chrono::Utc::now().date_naive() - chrono::Days::new(2);
    let text = format!(
        "[people.ann]\nname = \"Ann\"\nemail = \"ann@example.com\"\n[people.raj]\nname = \"Raj\"\nemail = \"raj@example.com\"\ntimezone = \"Asia/Kolkata\"\n\
         [rotations.daily]\nname = \"Daily\"\nmembers = [\"ann\", \"raj\"]\ntimezone = \"UTC\"\nstart = \"{}T00:00\"\nevery = \"1 days\"\n",
        start.format("%Y-%m-%d")
    );
    let env = Env::new(&[("schedule.toml", &text)]);
    let sink = env.sink(&[]);
    let token = |person: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_rota"))
            .arg("--schedules")
            .arg(env.path("schedules"))
            .args(["token", "issue", person, "--state"])
            .arg(env.path("rota.db"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    let (ann, raj) = (token("ann"), token("raj"));
    let (mut child, base) = serve_with_smtp(
        &env,
        &sink,
        &[
            ("ROTA_REMIND_INTERVAL", "3600"),
            ("ROTA_BASE_URL", "https://rota.example.com"),
        ],
    );
    let c = reqwest::blocking::Client::new();
    let r = c
        .post(format!("{base}/api/v1/swaps"))
        .bearer_auth(&ann)
        .json(&serde_json::json!({"rotation":"daily","kind":"trade","my_slot":4,"counterpart":"raj","their_slot":5}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
    let id = r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(format!("{base}/api/v1/swaps/{id}/accept"))
        .bearer_auth(&raj)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());

    let swap_msgs = || -> Vec<Value> {
        sink.messages()
            .into_iter()
            .filter(|m| m["rota_key"].as_str().unwrap_or("").starts_with("swap-"))
            .collect()
    };
    let began = Instant::now();
    while swap_msgs().len() < 3 && began.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let _ = child.kill();
    let _ = child.wait();
    let msgs = swap_msgs();
    let mut ks = keys(&msgs);
    ks.sort();
    assert_eq!(
        ks,
        [
            format!("swap-accepted/{id}/ann"),
            format!("swap-accepted/{id}/raj"),
            format!("swap-requested/{id}/raj")
        ],
        "the counterpart hears of the request, both of the acceptance, each once"
    );
    let req = msgs
        .iter()
        .find(|m| m["rota_key"] == format!("swap-requested/{id}/raj"))
        .unwrap();
    let text = part(req, "text/plain")["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!("https://rota.example.com/swaps/{id}")),
        "{text}"
    );
    // Replies reach the person who asked, not rota; and out-of-office replies are suppressed.
    assert_eq!(req["reply_to"], "Ann <ann@example.com>");
    assert_eq!(req["auto_submitted"], "auto-generated");
    assert_eq!(req["subject"], "Ann asks to swap Daily shifts with you");
    assert!(
        part(req, "text/html")["content"]
            .as_str()
            .unwrap()
            .contains("Accept or decline"),
        "{req}"
    );
}

#[test]
fn a_conflict_with_an_absence_calendar_is_emailed_once_with_the_suggestions() {
    // Bob's out-of-office calendar (Outlook-style all-day event) says he is away 1-3 December;
    // his Support Hero turn is slot 4, Mon 30 Nov to Mon 7 Dec.
    let people = PEOPLE.replace(
        "timezone = \"America/Chicago\"",
        "timezone = \"America/Chicago\"\nabsence = \"bob-away.ics\"",
    );
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nBEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E008\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20261201\r\nDTEND;VALUE=DATE:20261204\r\nSUMMARY:Family wedding\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nX-MICROSOFT-CDO-ALLDAYEVENT:TRUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let env = Env::new(&[("schedule.toml", &people), ("bob-away.ics", ics)]);
    let sink = env.sink(&[]);
    let conflicts = |sink: &Sink| -> Vec<Value> {
        sink.messages()
            .into_iter()
            .filter(|m| m["rota_key"].as_str().unwrap().starts_with("conflict:"))
            .collect()
    };
    env.remind(Some(&sink), &["--once", "--now", "2026-11-20T12:00:00Z"]);
    let got = conflicts(&sink);
    assert_eq!(got.len(), 1, "{got:#?}");
    let m = &got[0];
    assert_eq!(
        m["rota_key"],
        format!("conflict:bob:support-hero:4:{}", 1_796_029_200) // 2026-11-30T09:00:00Z
    );
    assert_eq!(m["rcpt_tos"], serde_json::json!(["bob@example.com"]));
    // Bob's own clock (Chicago).
    assert_eq!(
        m["subject"],
        "Conflict: you are on call in Support Hero from Mon 30 Nov 03:00 CST while away"
    );
    let text = part(m, "text/plain")["content"].as_str().unwrap();
    assert!(
        text.contains("Family wedding: Tuesday 1 December 2026, 00:00 CST"),
        "{text}"
    );
    // Carol has the lightest load around it (her turns are one fewer) and gives back slot 5.
    assert!(
        text.contains("  - Carol Diaz: takes your shift, you take theirs from Monday 7 December 2026, 03:00 CST"),
        "{text}"
    );
    assert!(text.contains("  - Alice Smith: takes your shift"), "{text}");
    assert!(
        text.contains("Propose a swap: https://rota.example.com/swaps/new?rotation=support-hero&slot=4&counterpart=carol&their_slot=5"),
        "{text}"
    );
    let html = part(m, "text/html")["content"].as_str().unwrap();
    assert!(html.contains("Propose this swap</a>"), "{html}");

    // Never twice: not on the next run, nor days later.
    env.remind(Some(&sink), &["--once", "--now", "2026-11-20T12:00:00Z"]);
    env.remind(Some(&sink), &["--once", "--now", "2026-11-27T12:00:00Z"]);
    assert_eq!(conflicts(&sink).len(), 1);
    // --dry-run says why it would (or would not) send.
    let o = env.remind(None, &["--dry-run", "--now", "2026-11-27T12:00:00Z"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("skip (already sent): conflict:bob:support-hero:4:"),
        "{out}"
    );
}

/// Every `http(s)://` URL in a text: up to whitespace, a quote or an angle bracket, with HTML's
/// `&amp;` undone (HTML parts escape `&` in attribute values).
fn urls_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("http") {
        let tail = &rest[i..];
        if !(tail.starts_with("https://") || tail.starts_with("http://")) {
            rest = &tail[4..];
            continue;
        }
        let end = tail
            .find(|c: char| c.is_whitespace() || "\"'<>".contains(c))
            .unwrap_or(tail.len());
        out.push(tail[..end].replace("&amp;", "&"));
        rest = &tail[end..];
    }
    out
}

/// Encodes a query or form value: everything but RFC 3986's unreserved characters as `%XX`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of the hidden input `name` in an HTML page, unescaped.
fn hidden_value(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>')?];
    let v = tag.split_once("value=\"")?.1;
    let v = &v[..v.find('"')?];
    Some(
        v.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// Decodes `%XX` and `+` in a query value.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 3 <= b.len() && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn every_link_in_every_email_resolves_on_the_real_server() {
    // A daily rotation that started two days ago (UTC), as in the swap test: the server runs on
    // the system clock, so the shifts are placed relative to it. Slot n is day n: Ann's when n is
    // even, Raj's when odd. Raj is away on day 7 (his slot), which is a conflict.
    let start = chrono::Utc::now().date_naive() - chrono::Days::new(2);
    let away = start + chrono::Days::new(7);
    let text = format!(
        "[people.ann]\nname = \"Ann\"\nemail = \"ann@example.com\"\n\
         [people.raj]\nname = \"Raj\"\nemail = \"raj@example.com\"\ntimezone = \"Asia/Kolkata\"\nabsence = \"raj-away.ics\"\n\
         [rotations.daily]\nname = \"Daily\"\nmembers = [\"ann\", \"raj\"]\ntimezone = \"UTC\"\nstart = \"{}T00:00\"\nevery = \"1 days\"\n",
        start.format("%Y-%m-%d")
    );
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:raj-away\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Away\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        away.format("%Y%m%d"),
        (away + chrono::Days::new(1)).format("%Y%m%d")
    );
    let env = Env::new(&[("schedule.toml", &text), ("raj-away.ics", &ics)]);
    let sink = env.sink(&[]);
    let token = |person: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_rota"))
            .arg("--schedules")
            .arg(env.path("schedules"))
            .args(["token", "issue", person, "--state"])
            .arg(env.path("rota.db"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    let tokens: BTreeMap<&str, String> = [("ann", token("ann")), ("raj", token("raj"))].into();
    const BASE: &str = "https://rota.example.com";
    let (mut child, base) = serve_with_smtp(
        &env,
        &sink,
        &[("ROTA_REMIND_INTERVAL", "1"), ("ROTA_BASE_URL", BASE)],
    );
    let kinds = |sink: &Sink| -> BTreeSet<String> {
        sink.messages()
            .iter()
            .map(|m| {
                let k = m["rota_key"].as_str().unwrap_or("");
                k.split(['/', ':']).next().unwrap_or("").to_string()
            })
            .collect()
    };
    let wait_for = |what: &str, kind: &str| {
        let began = Instant::now();
        while !kinds(&sink).contains(kind) {
            assert!(
                began.elapsed() < Duration::from_secs(30),
                "no {what} after 30 s: {:?}",
                kinds(&sink)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // The first background run: reminders (and everyone's snapshot), and Raj's conflict.
    wait_for("reminder", "reminder");
    wait_for("conflict email", "conflict");
    // Swaps: one accepted (its overrides then make change notices), one declined, one cancelled.
    let c = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let swap = |mine: u64, theirs: u64, then: &str, by: &str| {
        let r = c
            .post(format!("{base}/api/v1/swaps"))
            .bearer_auth(&tokens["ann"])
            .json(&serde_json::json!({"rotation":"daily","kind":"trade","my_slot":mine,"counterpart":"raj","their_slot":theirs}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
        let id = r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = c
            .post(format!("{base}/api/v1/swaps/{id}/{then}"))
            .bearer_auth(&tokens[by])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
        id
    };
    let accepted = swap(4, 5, "accept", "raj");
    swap(10, 11, "decline", "raj");
    swap(12, 13, "cancel", "ann");
    // The change notice first: undone before the next run, the accept would change nothing.
    wait_for("change", "change");
    // The accepted one undone: Ann asks (an email to Raj), Raj agrees (an email to both).
    for (by, status) in [("ann", 202), ("raj", 200)] {
        let r = c
            .post(format!("{base}/api/v1/swaps/{accepted}/undo"))
            .bearer_auth(&tokens[by])
            .send()
            .unwrap();
        assert_eq!(
            r.status(),
            status,
            "undo by {by}: {}",
            r.text().unwrap_or_default()
        );
    }
    // Raj leaves a handoff note on yesterday's shift (slot 1, his; he may for 24 hours after it
    // ended at midnight): Ann, on call since then, gets it by email with a link to the shift.
    let r = c
        .post(format!("{base}/api/v1/rotations/daily/shifts/1/notes"))
        .bearer_auth(&tokens["raj"])
        .json(&serde_json::json!({"text": "Ticket 4411 waits for the customer."}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
    for kind in [
        "handoff",
        "swap-requested",
        "swap-accepted",
        "swap-declined",
        "swap-cancelled",
        "swap-undo-requested",
        "swap-undone",
        "change",
    ] {
        wait_for(kind, kind);
    }
    std::thread::sleep(Duration::from_millis(1500));

    // Sign in as each recipient: a link must also work for the person it was sent to.
    let cookie = |person: &str| -> String {
        let r = c
            .post(format!("{base}/signin"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={}", tokens[person]))
            .send()
            .unwrap();
        assert_eq!(r.status(), 303, "sign in as {person}");
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    let cookies: BTreeMap<&str, String> = [("ann", cookie("ann")), ("raj", cookie("raj"))].into();
    // Signing in from the sign-in page a link redirected to (its form carries `next`) goes back
    // to the link's page.
    let signin_lands_on = |person: &str, path: &str| -> bool {
        let page = c
            .get(format!("{base}/signin?next={}", percent_encode(path)))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let Some(next) = hidden_value(&page, "next") else {
            return false;
        };
        let r = c
            .post(format!("{base}/signin"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "token={}&next={}",
                tokens[person],
                percent_encode(&next)
            ))
            .send()
            .unwrap();
        r.status() == 303 && r.headers().get("location").and_then(|l| l.to_str().ok()) == Some(path)
    };

    let mut checked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for m in sink.messages() {
        let key = m["rota_key"].as_str().unwrap().to_string();
        let kind = key.split(['/', ':']).next().unwrap().to_string();
        let to = m["rcpt_tos"][0]
            .as_str()
            .unwrap()
            .split('@')
            .next()
            .unwrap()
            .to_string();
        let mut urls = BTreeSet::new();
        for p in m["parts"].as_array().unwrap() {
            if p["content_type"] == "text/plain" || p["content_type"] == "text/html" {
                urls.extend(urls_in(p["content"].as_str().unwrap()));
            }
        }
        for url in urls {
            let Some(path) = url.strip_prefix(BASE).filter(|p| p.starts_with('/')) else {
                problems.push(format!("{key}: {url} is not under ROTA_BASE_URL"));
                continue;
            };
            // Signed out: the page, or a redirect to sign in that comes back here.
            let r = c.get(format!("{base}{path}")).send().unwrap();
            let status = r.status().as_u16();
            let location = r
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_string();
            let ok = match status {
                200 => true,
                302 | 303 | 307 => {
                    let (lpath, query) = location.split_once('?').unwrap_or((&location, ""));
                    let next = query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix("next="))
                        .map(percent_decode);
                    // The sign-in page, told to come back here (without `next`, sign-in goes
                    // to /me); and signing in there does.
                    lpath == "/signin"
                        && next.as_deref().unwrap_or("/me") == path
                        && signin_lands_on(&to, path)
                }
                _ => false,
            };
            if !ok {
                problems.push(format!("{key}: GET {path} signed out: {status} {location}"));
            }
            // Signed in as the recipient: the page itself.
            let r = c
                .get(format!("{base}{path}"))
                .header("cookie", &cookies[to.as_str()])
                .send()
                .unwrap();
            if r.status() != 200 {
                problems.push(format!(
                    "{key}: GET {path} signed in as {to}: {}",
                    r.status()
                ));
            }
            checked
                .entry(kind.clone())
                .or_default()
                .insert(path.to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        problems.is_empty(),
        "links that do not resolve:\n{}",
        problems.join("\n")
    );
    // The kinds that carry links each had some, and of the pages expected.
    let has = |kind: &str, prefix: &str| {
        checked
            .get(kind)
            .is_some_and(|paths| paths.iter().any(|p| p.starts_with(prefix)))
    };
    assert!(has("reminder", "/me"), "{checked:#?}");
    assert!(has("change", "/me"), "{checked:#?}");
    assert!(has("swap-requested", "/swaps/swp"), "{checked:#?}");
    assert!(has("swap-accepted", "/me"), "{checked:#?}");
    assert!(has("swap-undo-requested", "/swaps/swp"), "{checked:#?}");
    assert!(checked.contains_key("swap-undone"), "{checked:#?}");
    assert!(
        has("conflict", "/swaps/new?rotation=daily&slot=7"),
        "{checked:#?}"
    );
    eprintln!("checked: {checked:#?}");
}

/// Issue 15, point 3: whoever takes over a shift with handoff notes gets them by email at the
/// handoff, once, from the person who wrote them (replies go to them), with a link to the shift's
/// page; a note written after the handoff (within the 24 hours allowed) still reaches them, once;
/// a handoff without notes sends nothing.
#[test]
fn whoever_takes_over_gets_the_handoff_notes_by_email_once() {
    let text = hourly();
    let env = Env::new(&[("schedule.toml", &text)]);
    let sink = env.sink(&[]);
    let t = |s: &str| -> chrono::DateTime<chrono::Utc> { s.parse().unwrap() };
    {
        let store = rota_store::Store::open(env.path("rota.db")).unwrap();
        // Slot 5 (05:00-06:00) is p06's; slot 6 is p07's.
        store
            .add_note(
                "hourly",
                5,
                "p06",
                "Ticket 4411 waits.\nDeploy half done.",
                t("2026-11-28T05:30:00Z"),
            )
            .unwrap();
        store
            .add_note(
                "hourly",
                5,
                "p06",
                "Also: the status page is stale.",
                t("2026-11-28T05:50:00Z"),
            )
            .unwrap();
    }
    let remind = |now: &str| {
        let o = env
            .remind_cmd(Some(&sink), &["--once", "--now", now])
            .env("ROTA_REMIND_LEADS", "1 minute")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    remind("2026-11-28T06:10:00Z");
    remind("2026-11-28T06:40:00Z");
    let msgs: Vec<Value> = sink
        .messages()
        .into_iter()
        .filter(|m| m["rota_key"].as_str().unwrap().starts_with("handoff/"))
        .collect();
    let start = t("2026-11-28T06:00:00Z").timestamp();
    assert_eq!(
        keys(&msgs),
        [format!("handoff/hourly/{start}/p07")],
        "{msgs:#?}"
    );
    let m = &msgs[0];
    assert_eq!(m["to"], "Person p07 <p07@example.com>");
    assert_eq!(m["reply_to"], "Person p06 <p06@example.com>");
    assert_eq!(
        m["subject"],
        "Person p06 handed Hourly over to you, with notes"
    );
    let body = part(m, "text/plain")["content"]
        .as_str()
        .unwrap()
        .replace("\r\n", "\n");
    assert!(
        body.contains("  Ticket 4411 waits.\n  Deploy half done.\n")
            && body.contains("  Also: the status page is stale.\n"),
        "{body}"
    );
    assert!(
        body.contains("The shift and its notes: https://rota.example.com/shifts/hourly/6"),
        "{body}"
    );
    // The next handoff has no notes: nothing. A note written on slot 8 after its handoff at
    // 09:00 reaches p10 at the next run, once.
    remind("2026-11-28T07:10:00Z");
    {
        let store = rota_store::Store::open(env.path("rota.db")).unwrap();
        store
            .add_note(
                "hourly",
                8,
                "p09",
                "Forgot: call the customer back.",
                t("2026-11-28T09:30:00Z"),
            )
            .unwrap();
    }
    remind("2026-11-28T09:40:00Z");
    remind("2026-11-28T09:50:00Z");
    let keys_now: Vec<String> = keys(&sink.messages())
        .into_iter()
        .filter(|k| k.starts_with("handoff/"))
        .collect();
    let nine = t("2026-11-28T09:00:00Z").timestamp();
    assert_eq!(
        keys_now,
        [
            format!("handoff/hourly/{start}/p07"),
            format!("handoff/hourly/{nine}/p10")
        ]
    );
    // Within one shift: p11 (slot 10, 10:00-11:00) writes a note for whoever comes next, and p03
    // covers 10:20-10:30. p03 gets p11's note; p11, back at 10:30, is not handed their own note;
    // p12 gets it at 11:00.
    {
        let store = rota_store::Store::open(env.path("rota.db")).unwrap();
        store
            .add_note(
                "hourly",
                10,
                "p11",
                "Watch the billing queue.",
                t("2026-11-28T10:10:00Z"),
            )
            .unwrap();
        store
            .add_override(
                rota_store::NewOverride {
                    rotation: "hourly".into(),
                    person: "p03".into(),
                    start: t("2026-11-28T10:20:00Z"),
                    end: t("2026-11-28T10:30:00Z"),
                    reason: None,
                },
                "p11",
                t("2026-11-28T10:00:00Z"),
            )
            .unwrap();
    }
    for now in [
        "2026-11-28T10:25:00Z",
        "2026-11-28T10:40:00Z",
        "2026-11-28T11:05:00Z",
    ] {
        remind(now);
    }
    let handoffs: Vec<String> = keys(&sink.messages())
        .into_iter()
        .filter(|k| k.starts_with("handoff/"))
        .collect();
    let (cover, eleven) = (
        t("2026-11-28T10:20:00Z").timestamp(),
        t("2026-11-28T11:00:00Z").timestamp(),
    );
    assert_eq!(
        handoffs[2..],
        [
            format!("handoff/hourly/{cover}/p03"),
            format!("handoff/hourly/{eleven}/p12")
        ],
        "{handoffs:?}"
    );
}
