//! Webhooks end to end: the real server delivers signed events to a real HTTP receiver on
//! 127.0.0.1, whose first answer is a 503 with `Retry-After`; every delivery's signature is checked
//! by the Standard Webhooks reference library (`standardwebhooks`, PyPI); nothing is delivered
//! twice, across a restart too.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::server::{Server, copy_dir};
use crate::util::{example_schedules, wait_until};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request the receiver got, and what it answered.
#[derive(Clone, Debug)]
struct Received {
    headers: BTreeMap<String, String>,
    body: String,
    status: u16,
}

/// An HTTP receiver: answers 503 with `Retry-After: 1` to its first request, 200 after.
fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let g = got.clone();
    let base = crate::util::http_stand_in(move |r| {
        let mut all = g.lock().unwrap();
        let status = if all.is_empty() { 503 } else { 200 };
        all.push(Received {
            headers: r.headers.clone(),
            body: r.body.clone(),
            status,
        });
        if status == 503 {
            (
                "503 Service Unavailable".into(),
                "Retry-After: 1\r\n".into(),
                String::new(),
            )
        } else {
            ("200 OK".into(), String::new(), String::new())
        }
    });
    (format!("{base}/hooks/rota"), got)
}

/// Checks every request's signature with the Standard Webhooks reference library; returns the
/// problems.
fn verify_all(received: &[Received]) -> Vec<String> {
    let python = crate::notify::test_python();
    assert!(
        python.exists(),
        "the webhook test needs standardwebhooks in a venv at {}: run scripts/test-python-setup.sh \
         (scripts/test.sh does), or set ROTA_TEST_PYTHON",
        python.display()
    );
    let script = r#"
import json, sys
from standardwebhooks import Webhook
wh = Webhook(sys.argv[1])
bad = []
for r in json.load(sys.stdin):
    try:
        wh.verify(r["body"], r["headers"])
    except Exception as e:
        bad.append(f'{r["headers"].get("webhook-id")}: {e}')
print(json.dumps(bad))
"#;
    let input: Vec<Value> = received
        .iter()
        .map(|r| json!({"headers": r.headers, "body": r.body}))
        .collect();
    let mut child = Command::new(&python)
        .args(["-c", script, SECRET])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "standardwebhooks failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn events_are_signed_delivered_once_retried_and_listed_for_admins() {
    let (url, got) = receiver();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&example_schedules(), &dir.join("schedules"));
    std::fs::write(
        dir.join("schedules/webhooks.toml"),
        format!(
            "[[webhooks]]\nname = \"receiver\"\nurl = \"{url}\"\n\
             events = [\"handoff\", \"override.created\", \"override.deleted\", \"swap.requested\", \"swap.accepted\", \"conflict.found\"]\n\
             secret_env = \"ROTA_TEST_WEBHOOK_SECRET\"\n\n\
             [[webhooks]]\nname = \"unconfigured\"\nurl_env = \"ROTA_TEST_NO_SUCH_URL\"\nevents = [\"handoff\"]\n\
             secret_env = \"ROTA_TEST_NO_SUCH_SECRET\"\n"
        ),
    )
    .unwrap();
    // Alice is away for the next four months (a calendar made relative to today), so some shift
    // of hers is a conflict.
    let people = std::fs::read_to_string(dir.join("schedules/people.toml")).unwrap();
    std::fs::write(
        dir.join("schedules/people.toml"),
        people.replace(
            "[people.alice]\n",
            "[people.alice]\nabsence = \"calendars/alice-away.ics\"\n",
        ),
    )
    .unwrap();
    let day = |d: u64| (chrono::Utc::now().date_naive() + chrono::Days::new(d)).format("%Y%m%d");
    std::fs::write(
        dir.join("schedules/calendars/alice-away.ics"),
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:away\r\n\
             DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\n\
             SUMMARY:Private trip\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            day(2),
            day(120)
        ),
    )
    .unwrap();
    let env = [("ROTA_TEST_WEBHOOK_SECRET", SECRET)];
    let s = Server::start_in_with(dir, &env);
    let c = Client::new();
    // The handoffs of the shifts running now are announced when rota starts (the first delivery
    // is refused with a 503 and retried after its Retry-After).
    let delivered = |event: &str| {
        got.lock()
            .unwrap()
            .iter()
            .filter(|r| r.status == 200)
            .filter(|r| serde_json::from_str::<Value>(&r.body).unwrap()["type"] == event)
            .count()
    };
    wait_until("no handoff delivered", || delivered("handoff") >= 4);
    wait_until("no conflict delivered", || delivered("conflict.found") >= 1);
    // The hero leaves a handoff note, then an override hands the rest of the hour to someone
    // else: the new handoff carries the note.
    let hero: Value = c
        .get(s.url("/api/v1/whoishero"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let hero_id = hero["person"]["id"].as_str().unwrap().to_string();
    let r = c
        .post(s.url(&format!(
            "/api/v1/rotations/support-hero/shifts/{}/notes",
            hero["slot"]
        )))
        .bearer_auth(s.token(&hero_id))
        .json(&json!({"text": "Ticket 4411 waits for the customer."}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    let taker = ["alice", "bob"]
        .into_iter()
        .find(|p| *p != hero_id)
        .unwrap();
    let now = chrono::Utc::now();
    let r = c
        .post(s.url("/api/v1/overrides"))
        .bearer_auth(s.token("alice"))
        .json(&json!({"rotation": "support-hero", "person": taker,
            "start": (now + chrono::Duration::seconds(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "end": (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    let noted = || {
        got.lock()
            .unwrap()
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
            .find(|v| {
                v["type"] == "handoff"
                    && v["data"]["rotation"] == "support-hero"
                    && v["data"]["person"]["id"] == taker
            })
    };
    wait_until("no handoff to the override's person", || noted().is_some());
    let handed = noted().unwrap();
    assert_eq!(
        handed["data"]["notes"][0]["author"],
        hero_id.as_str(),
        "{handed}"
    );
    assert_eq!(
        handed["data"]["notes"][0]["text"],
        "Ticket 4411 waits for the customer."
    );
    assert_eq!(handed["data"]["slot"], hero["slot"]);
    // An unusable webhook is named in /healthz, which is then degraded.
    let health: Value = c.get(s.url("/healthz")).send().unwrap().json().unwrap();
    assert_eq!(health["status"], "degraded", "{health}");
    let bad = health["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "unconfigured")
        .unwrap()
        .clone();
    assert_eq!(bad["ok"], false);
    assert!(
        bad["problem"]
            .as_str()
            .unwrap()
            .contains("ROTA_TEST_NO_SUCH_URL is not set"),
        "{bad}"
    );
    // An override made and deleted; a swap asked for and accepted.
    let alice = s.token("alice");
    let bob = s.token("bob");
    let o: Value = c
        .post(s.url("/api/v1/overrides"))
        .bearer_auth(&alice)
        .json(&json!({"rotation": "platform-secondary", "person": "alice",
            "start": "2031-03-03T09:00:00Z", "end": "2031-03-04T09:00:00Z"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let r = c
        .delete(s.url(&format!("/api/v1/overrides/{}", o["id"].as_str().unwrap())))
        .bearer_auth(&alice)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let swap: Value = c
        .post(s.url("/api/v1/swaps"))
        .bearer_auth(&alice)
        .json(&json!({"rotation": "support-hero", "kind": "cover",
            "my_slot": crate::swaps::alice_slot(0), "counterpart": "bob"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let r = c
        .post(s.url(&format!(
            "/api/v1/swaps/{}/accept",
            swap["id"].as_str().unwrap()
        )))
        .bearer_auth(&bob)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    wait_until("not every event delivered", || {
        // The platform override, the one handing the hero's hour over, and the swap's.
        delivered("override.created") >= 3
            && delivered("override.deleted") == 1
            && delivered("swap.requested") == 1
            && delivered("swap.accepted") == 1
    });
    // The swap undone (Alice asks, Bob agrees): the override it made is deleted, and said so.
    let swap_id = swap["id"].as_str().unwrap();
    for (token, status) in [(&alice, 202), (&bob, 200)] {
        let r = c
            .post(s.url(&format!("/api/v1/swaps/{swap_id}/undo")))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(r.status(), status, "{}", r.text().unwrap());
    }
    wait_until("the undone swap's override not said deleted", || {
        delivered("override.deleted") == 2
    });
    let all = got.lock().unwrap().clone();
    // Every request is signed as the specification says, by its reference library.
    let problems = verify_all(&all);
    assert!(problems.is_empty(), "{problems:?}");
    // Each message is delivered (2xx) once; the refused one was retried with the same id.
    let mut ok_ids: Vec<&str> = all
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    let n = ok_ids.len();
    ok_ids.sort();
    ok_ids.dedup();
    assert_eq!(ok_ids.len(), n, "a message was delivered twice");
    assert!(
        ok_ids.contains(&all[0].headers["webhook-id"].as_str()),
        "the refused one was not retried"
    );
    // The payloads say what happened.
    let find = |event: &str| -> Value {
        all.iter()
            .filter(|r| r.status == 200)
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
            .find(|v| v["type"] == event)
            .unwrap()
    };
    let created = find("override.deleted");
    assert_eq!(created["data"]["id"], o["id"]);
    assert_eq!(created["data"]["by"], "alice");
    let accepted = find("swap.accepted");
    assert_eq!(accepted["data"]["id"], swap["id"]);
    let undone: Vec<Value> = all
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .filter(|v| v["type"] == "override.deleted" && v["data"]["id"] != o["id"])
        .collect();
    assert_eq!(undone.len(), 1);
    assert_eq!(accepted["data"]["overrides"][0], undone[0]["data"]["id"]);
    assert_eq!(undone[0]["data"]["by"], "bob");
    assert_eq!(accepted["data"]["decided_by"], "bob");
    let conflict = find("conflict.found");
    assert!(
        conflict["data"]["absences"][0]["start"].is_string(),
        "{conflict}"
    );
    assert!(
        conflict["data"]["absences"][0].get("summary").is_none(),
        "titles stay private"
    );
    assert!(!all.iter().any(|r| r.body.contains("Private trip")));
    let handoff = find("handoff");
    assert!(handoff["data"]["person"]["id"].is_string(), "{handoff}");
    assert!(handoff["timestamp"].as_str().unwrap().ends_with('Z'));
    // Admins see the deliveries; others may not.
    let list: Value = c
        .get(s.url("/api/v1/webhooks/deliveries?limit=100"))
        .bearer_auth(&alice)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let list = list.as_array().unwrap();
    assert!(list.iter().all(|d| d["endpoint"] == "receiver"));
    assert!(
        list.iter()
            .any(|d| d["state"] == "sent" && d["attempts"] == 2),
        "{list:?}"
    );
    let r = c
        .get(s.url("/api/v1/webhooks/deliveries"))
        .bearer_auth(&bob)
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);

    // Restarted on the same state, once every message is delivered: nothing is announced again.
    wait_until("messages still waiting for delivery", || {
        let list: Value = c
            .get(s.url("/api/v1/webhooks/deliveries?limit=500"))
            .bearer_auth(&alice)
            .send()
            .unwrap()
            .json()
            .unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "sent")
    });
    let before = got.lock().unwrap().len();
    s.signal("-TERM");
    let status = s.wait();
    assert!(status.success());
    let s = Server::start_in_with(dir, &env);
    std::thread::sleep(Duration::from_secs(3));
    let health: Value = c.get(s.url("/healthz")).send().unwrap().json().unwrap();
    assert!(health["integrations"].is_array());
    // Nothing delivered before is delivered again. (A conflict the accepted swap made, found by
    // the first conflict check after the restart, is new: Alice is no longer the hero that week,
    // so her own secondary turn there is hers again.)
    let after = got.lock().unwrap().clone();
    let seen: Vec<&str> = after[..before]
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    for r in &after[before..] {
        assert!(
            !seen.contains(&r.headers["webhook-id"].as_str()),
            "delivered again after a restart: {}",
            r.body
        );
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            v["type"], "conflict.found",
            "new after a restart: {}",
            r.body
        );
    }
    drop(tmp);
}

/// Outside a restricted rotation's hours nobody is on call: receivers get a `handoff` to nobody
/// (`person` null, `next` the person coming, `end` when they come), signed and once; when who
/// comes next changes (an override for the first hour), it is announced again. The window is
/// placed twelve hours from now, so the test holds at any date and hour.
#[test]
fn outside_a_rotations_hours_receivers_get_a_handoff_to_nobody_with_who_is_next() {
    use chrono::Timelike;
    let (url, got) = receiver();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("schedules");
    std::fs::create_dir_all(&dir).unwrap();
    let opens = (chrono::Utc::now().hour() + 12) % 24;
    std::fs::write(
        dir.join("desk.toml"),
        format!(
            "admins = [\"alice\"]\n\
             [people.alice]\nname = \"Alice\"\nemail = \"alice@example.com\"\n\
             [people.bob]\nname = \"Bob\"\nemail = \"bob@example.com\"\n\
             [rotations.desk]\nname = \"Desk\"\nmembers = [\"alice\", \"bob\"]\ntimezone = \"UTC\"\n\
             start = \"2026-01-05T00:00\"\nevery = \"1 day\"\nactive = [\"{opens:02}:00-{:02}:00\"]\n\
             [[webhooks]]\nname = \"receiver\"\nurl = \"{url}\"\nevents = [\"handoff\"]\n\
             secret_env = \"ROTA_TEST_WEBHOOK_SECRET\"\n",
            opens + 1
        ),
    )
    .unwrap();
    let s = Server::start_in_with(tmp.path(), &[("ROTA_TEST_WEBHOOK_SECRET", SECRET)]);
    let to_nobody = || -> Vec<Value> {
        got.lock()
            .unwrap()
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
            .filter(|v| v["type"] == "handoff" && v["data"]["person"].is_null())
            .collect()
    };
    wait_until("no handoff to nobody delivered", || to_nobody().len() == 1);
    let first = to_nobody()[0].clone();
    let d = &first["data"];
    assert_eq!(d["rotation"], "desk", "{first}");
    assert_eq!(d["rotation_name"], "Desk");
    assert!(d["slot"].is_null() && d["source"].is_null(), "{first}");
    assert_eq!(d["notes"], json!([]));
    let next = &d["next"];
    let next_start: chrono::DateTime<chrono::Utc> =
        next["start"].as_str().unwrap().parse().unwrap();
    assert_eq!(next_start.hour(), opens, "{first}");
    assert_eq!(
        d["end"], next["start"],
        "nobody until the next person comes"
    );
    let since: chrono::DateTime<chrono::Utc> = d["start"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        since.hour(),
        (opens + 1) % 24,
        "since the window closed: {first}"
    );
    assert_eq!(first["timestamp"], d["start"]);
    let who = next["person"]["id"].as_str().unwrap().to_string();
    let other = if who == "alice" { "bob" } else { "alice" };
    // Said once: more runs of the background work add nothing.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(to_nobody().len(), 1);

    // The other person takes the window's first half hour: who comes next changed.
    let c = Client::new();
    let r = c
        .post(s.url("/api/v1/overrides"))
        .bearer_auth(s.token("alice"))
        .json(&json!({"rotation": "desk", "person": other,
            "start": next["start"],
            "end": (next_start + chrono::Duration::minutes(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    wait_until("no second handoff to nobody", || to_nobody().len() == 2);
    let second = to_nobody()[1].clone();
    assert_eq!(second["data"]["next"]["person"]["id"], other, "{second}");
    assert_eq!(second["data"]["end"], next["start"]);
    let all = got.lock().unwrap().clone();
    assert_eq!(verify_all(&all), Vec::<String>::new());
    drop(s);
}

/// Issue 15, point 5: `kill -9` in the middle of delivering 150 webhook messages and 50 Slack
/// posts, twice. Nothing is missing at the end, and the only repeats are the messages a killed
/// process had claimed and not recorded (at most one per kill, as for emails), repeated under the
/// same `webhook-id`. The restarted process takes them over as soon as it holds the background
/// lease, not after the claim's lease.
#[test]
fn killing_the_server_mid_delivery_loses_nothing_and_repeats_only_the_message_in_flight() {
    // A receiver that takes 10 ms a request, so a kill lands among the deliveries.
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let g = got.clone();
    let url = crate::util::http_stand_in(move |r| {
        std::thread::sleep(Duration::from_millis(10));
        g.lock().unwrap().push((
            r.headers.get("webhook-id").cloned().unwrap_or_default(),
            r.body.clone(),
        ));
        ("200 OK".into(), String::new(), "{}".into())
    });
    let (slack_base, calls) = crate::slack::stand_in(BTreeMap::new());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&example_schedules(), &dir.join("schedules"));
    std::fs::write(
        dir.join("schedules/webhooks.toml"),
        format!(
            "[[webhooks]]\nname = \"receiver\"\nurl = \"{url}\"\nevents = [\"override.created\"]\n\
             secret_env = \"ROTA_TEST_WEBHOOK_SECRET\"\n"
        ),
    )
    .unwrap();
    // The outbox filled before the server starts: what a busy minute leaves to deliver.
    let now = chrono::Utc::now();
    let expected: Vec<String> = {
        let store = rota_store::Store::open(dir.join("rota.db")).unwrap();
        let mut keys = Vec::new();
        for i in 0..150 {
            let key = format!("webhook/receiver/kill-{i:03}");
            let body = json!({"type": "override.created", "timestamp": rota_core::view::utc(now),
                "data": {"n": i}});
            assert!(
                store
                    .outbox_put(&key, "receiver", "override.created", &body.to_string(), now)
                    .unwrap()
            );
            keys.push(key);
        }
        for i in 0..50 {
            let key = format!("slack/post/kill-{i:03}");
            let body = json!({"action": "post", "channel": "C0KILL", "text": format!("kill {i:03}"),
                "expires": rota_core::view::utc(now + chrono::Duration::hours(1))});
            assert!(
                store
                    .outbox_put(&key, "slack", "slack.post", &body.to_string(), now)
                    .unwrap()
            );
            keys.push(key);
        }
        keys
    };
    let env = [
        ("ROTA_TEST_WEBHOOK_SECRET", SECRET),
        ("ROTA_SLACK_TOKEN", crate::slack::TOKEN),
        ("ROTA_SLACK_API_URL", slack_base.as_str()),
    ];
    let posts = || -> Vec<String> {
        calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.method == "chat.postMessage" && c.params["channel"] == "C0KILL")
            .map(|c| c.params["text"].clone())
            .collect()
    };
    let arrived = || got.lock().unwrap().len() + posts().len();
    let mut in_flight: Vec<String> = Vec::new();
    for threshold in [40, 120] {
        let s = Server::start_in_with(dir, &env);
        let began = std::time::Instant::now();
        while arrived() < threshold {
            assert!(
                began.elapsed() < Duration::from_secs(60),
                "only {} deliveries after 60 s",
                arrived()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        s.signal("-KILL");
        s.wait();
        let store = rota_store::Store::open(dir.join("rota.db")).unwrap();
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
    let s = Server::start_in_with(dir, &env);
    // The restart waits for the killed process's background lease to lapse (20 s).
    let began = std::time::Instant::now();
    loop {
        let store = rota_store::Store::open(dir.join("rota.db")).unwrap();
        let entries = store.ledger_recent(1000).unwrap();
        let sent = entries
            .iter()
            .filter(|e| e.state == rota_store::LedgerState::Sent && expected.contains(&e.key))
            .count();
        if sent == expected.len() {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "{sent} of {} recorded sent after 60 s",
            expected.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(s);
    // Every webhook message arrived; a repeat only for one in flight at a kill, with its id.
    let mut by_n: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (id, body) in got.lock().unwrap().iter() {
        let v: Value = serde_json::from_str(body).unwrap();
        by_n.entry(v["data"]["n"].as_u64().unwrap())
            .or_default()
            .push(id.clone());
    }
    assert_eq!(by_n.len(), 150, "nothing missing");
    let mut repeats = 0;
    for (n, ids) in &by_n {
        if ids.len() > 1 {
            repeats += 1;
            let key = format!("webhook/receiver/kill-{n:03}");
            assert!(
                in_flight.contains(&key),
                "{key} arrived {} times but was not in flight",
                ids.len()
            );
            assert_eq!(ids.len(), 2, "{key}");
            assert_eq!(ids[0], ids[1], "a repeat keeps its webhook-id");
        }
    }
    // Every Slack post arrived; a repeat only for one in flight.
    let mut texts: BTreeMap<String, usize> = BTreeMap::new();
    for t in posts() {
        *texts.entry(t).or_default() += 1;
    }
    assert_eq!(texts.len(), 50, "nothing missing: {texts:?}");
    for (t, n) in &texts {
        if *n > 1 {
            repeats += 1;
            let key = format!("slack/post/kill-{}", t.trim_start_matches("kill "));
            assert!(
                in_flight.contains(&key),
                "{key} posted {n} times but was not in flight"
            );
            assert_eq!(*n, 2, "{key}");
        }
    }
    assert!(repeats <= 2, "at most one repeat per kill");
    eprintln!("in flight at the kills: {in_flight:?}; repeated: {repeats}");
}
