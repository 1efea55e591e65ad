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
            "start": (now - chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
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
        delivered("override.created") >= 2
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
