//! Slack, against a local stand-in for its Web API (Slack cannot be reached here). The stand-in
//! implements the methods rota calls with their documented request and response shapes:
//! `users.lookupByEmail` (`users_not_found` for an unknown email), `users.info` (`user_not_found`), `usergroups.users.update`
//! (its first call answered 429 with `Retry-After: 1`), `conversations.setTopic` and
//! `chat.postMessage`, and checks the bot token on every call. Requests from Slack (slash
//! commands, button clicks) are signed here with Python's standard library, independently of
//! rota's own check.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::server::{Server, copy_dir};
use crate::util::{example_schedules, wait_until};

pub(crate) const TOKEN: &str = "xoxb-test-token";

/// One call the stand-in got: method and form parameters (and the raw body).
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) method: String,
    pub(crate) params: BTreeMap<String, String>,
    raw: String,
}

fn form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.replace('+', " ");
    let b = b.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 3 <= b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The stand-in: knows every email in `users` (email -> id). Returns its base URL and the calls.
pub(crate) fn stand_in(users: BTreeMap<String, String>) -> (String, Arc<Mutex<Vec<Call>>>) {
    let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
    let c = calls.clone();
    let mut group_calls = 0;
    let base = crate::util::http_stand_in(move |r| {
        let method = r.path.trim_start_matches("/api/").to_string();
        let params = form(&r.body);
        let mut status = "200 OK";
        let mut extra = "";
        let answer = if method.starts_with("/respond/") {
            // A response_url: Slack's hooks answer plain "ok"; rota reads only the status.
            json!({"ok": true})
        } else if r.headers.get("authorization").map(String::as_str)
            != Some(&format!("Bearer {TOKEN}"))
        {
            json!({"ok": false, "error": "invalid_auth"})
        } else {
            match method.as_str() {
                "users.lookupByEmail" => match users.get(&params["email"]) {
                    Some(id) => {
                        json!({"ok": true, "user": {"id": id, "profile": {"email": params["email"]}}})
                    }
                    None => json!({"ok": false, "error": "users_not_found"}),
                },
                "users.info" => match users.iter().find(|(_, id)| **id == params["user"]) {
                    Some((email, id)) => {
                        json!({"ok": true, "user": {"id": id, "profile": {"email": email}}})
                    }
                    None => json!({"ok": false, "error": "user_not_found"}),
                },
                "usergroups.users.update" => {
                    group_calls += 1;
                    if group_calls == 1 {
                        status = "429 Too Many Requests";
                        extra = "Retry-After: 1\r\n";
                        json!({"ok": false, "error": "ratelimited"})
                    } else {
                        json!({"ok": true, "usergroup": {"id": params["usergroup"], "users": params["users"].split(',').collect::<Vec<_>>()}})
                    }
                }
                "conversations.setTopic" => {
                    json!({"ok": true, "channel": {"id": params["channel"], "topic": {"value": params["topic"]}}})
                }
                "chat.postMessage" => {
                    json!({"ok": true, "channel": params["channel"], "ts": "1700000000.000100", "message": {"text": params["text"]}})
                }
                _ => json!({"ok": false, "error": "unknown_method"}),
            }
        };
        c.lock().unwrap().push(Call {
            method,
            params,
            raw: r.body.clone(),
        });
        (status.to_string(), extra.to_string(), answer.to_string())
    });
    (format!("{base}/api"), calls)
}

#[test]
fn the_user_group_topic_and_handoff_message_follow_who_is_on_call_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&example_schedules(), &dir.join("schedules"));
    // Who is on call now, from a first run of the server without Slack.
    let c = Client::new();
    let probe = Server::start_in(dir);
    let oncall: Value = c
        .get(probe.url("/api/v1/oncall"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    // Stopped gracefully, so it hands back the background lease at once.
    probe.signal("-TERM");
    assert!(probe.wait().success());
    let now_in = |rot: &str| -> Value {
        oncall
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["rotation"] == rot)
            .unwrap()["person"]
            .clone()
    };
    let hero = now_in("support-hero");
    let hero_start = oncall
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rotation"] == "support-hero")
        .unwrap()["start"]
        .as_str()
        .unwrap()
        .to_string();
    // A secondary rotation whose person on call now is not the hero (the link makes the hero
    // their own team's secondary): Slack will not know that person.
    let (secondary, unknown) = [
        "platform-secondary",
        "core-analytics-secondary",
        "core-experience-secondary",
    ]
    .into_iter()
    .map(|r| (r, now_in(r)))
    .find(|(_, p)| p["id"] != hero["id"])
    .unwrap();
    let rotations = std::fs::read_to_string(dir.join("schedules/rotations.toml")).unwrap();
    std::fs::write(
        dir.join("schedules/rotations.toml"),
        format!(
            "{rotations}\n[rotations.support-hero.slack]\nusergroup = \"S0HERO\"\nchannel = \"C0SUPPORT\"\ntopic = true\n\n\
             [rotations.{secondary}.slack]\nusergroup = \"S0SECONDARY\"\n"
        ),
    )
    .unwrap();
    // Slack knows everyone but that secondary.
    let mut users = BTreeMap::new();
    for p in [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
    ] {
        if p != unknown["id"] {
            users.insert(format!("{p}@example.com"), format!("U{}", p.to_uppercase()));
        }
    }
    let (base, calls) = stand_in(users);
    let secret = "slack-signing-secret-for-tests";
    let env = [
        ("ROTA_SLACK_TOKEN", TOKEN),
        ("ROTA_SLACK_API_URL", base.as_str()),
        ("ROTA_SLACK_SIGNING_SECRET", secret),
    ];
    let s = Server::start_in_with(dir, &env);
    let got = |method: &str| -> Vec<Call> {
        calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    };
    // The hero's group is set to the hero (after one 429 and its Retry-After), the topic and the
    // handoff message name them.
    let hero_uid = format!("U{}", hero["id"].as_str().unwrap().to_uppercase());
    wait_until("the hero's user group not set", || {
        got("usergroups.users.update")
            .iter()
            .any(|c| c.params["usergroup"] == "S0HERO" && c.params["users"] == hero_uid)
    });
    wait_until("no topic or handoff message", || {
        !got("conversations.setTopic").is_empty() && !got("chat.postMessage").is_empty()
    });
    let hero_name = hero["name"].as_str().unwrap();
    let topic = &got("conversations.setTopic")[0];
    assert_eq!(topic.params["channel"], "C0SUPPORT");
    assert!(topic.params["topic"].contains(hero_name), "{topic:?}");
    let post = &got("chat.postMessage")[0];
    assert_eq!(post.params["channel"], "C0SUPPORT");
    assert!(
        post.params["text"].contains(&format!("{hero_name} is on call now")),
        "{post:?}"
    );
    // The secondary Slack does not know: reported in /healthz, not skipped quietly.
    // (reported by id, never by email address: /healthz is public)
    let unknown_id = unknown["id"].as_str().unwrap().to_string();
    let unknown_email = unknown["email"].as_str().unwrap().to_string();
    wait_until("the unknown person not reported", || {
        let h: Value = c.get(s.url("/healthz")).send().unwrap().json().unwrap();
        h["integrations"].as_array().unwrap().iter().any(|i| {
            let p = i["problem"].as_str().unwrap_or("");
            i["kind"] == "slack"
                && i["ok"] == false
                && p.contains(&unknown_id)
                && !p.contains(&unknown_email)
        })
    });
    assert!(
        !got("usergroups.users.update")
            .iter()
            .any(|c| c.params["usergroup"] == "S0SECONDARY"),
        "an empty group was sent"
    );
    // The hero leaves a handoff note with /handoff; a Slack user rota does not know cannot.
    let command = |uid: &str, text: &str| -> String {
        let body = format!(
            "command=%2Fhandoff&user_id={uid}&text={}",
            text.replace(' ', "+")
        );
        let now = chrono::Utc::now().timestamp();
        let r = c
            .post(s.url("/integrations/slack/commands"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", now.to_string())
            .header(
                "x-slack-signature",
                crate::util::slack_sign(secret, now, &body),
            )
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let answer = command(&hero_uid, "support-hero Customer 4411 waits for a reply");
    assert!(
        answer.starts_with("Noted on your *Support Hero* shift"),
        "{answer}"
    );
    let answer = command("UNOBODY", "support-hero mine");
    assert!(answer.contains("cannot tell who you are"), "{answer}");
    assert!(command(&hero_uid, "").starts_with("/handoff [rotation] NOTE"));
    // An override puts someone else on call now: the group, topic and message follow, once.
    let other = ["alice", "bob", "carol"]
        .into_iter()
        .find(|p| *p != hero["id"] && *p != unknown["id"])
        .unwrap();
    let token = s.token("alice");
    // Begun already, but after the hero's shift began (so the hero held part of it, even when
    // the test runs at a handoff instant).
    let began: chrono::DateTime<chrono::Utc> = hero_start.parse().unwrap();
    let start = (chrono::Utc::now() - chrono::Duration::minutes(1))
        .max(began + chrono::Duration::seconds(1));
    let r = c
        .post(s.url("/api/v1/overrides"))
        .bearer_auth(&token)
        .json(&json!({"rotation": "support-hero", "person": other,
            "start": rota_core_utc(start), "end": rota_core_utc(start + chrono::Duration::hours(2))}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let override_made: Value = r.json().unwrap();
    let other_uid = format!("U{}", other.to_uppercase());
    wait_until("the group did not follow the override", || {
        got("usergroups.users.update")
            .iter()
            .any(|c| c.params["usergroup"] == "S0HERO" && c.params["users"] == other_uid)
    });
    wait_until("no second handoff message", || {
        got("chat.postMessage").len() == 2
    });
    // It carries the hero's note.
    let second = got("chat.postMessage")[1].params["text"].clone();
    assert!(
        second.contains(&format!(
            "Handoff notes:\n{hero_name}:\n> Customer 4411 waits for a reply"
        )),
        "{second}"
    );
    // The one who took over may write on that shift now.
    let answer = command(&other_uid, "support-hero Covered the afternoon");
    assert!(
        answer.starts_with("Noted on your *Support Hero* shift"),
        "{answer}"
    );
    // The override deleted: the hero is back and announced again, though it is the piece of
    // shift announced first.
    let r = c
        .delete(s.url(&format!(
            "/api/v1/overrides/{}",
            override_made["id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    wait_until("the group did not come back to the hero", || {
        got("usergroups.users.update")
            .iter()
            .filter(|c| c.params["usergroup"] == "S0HERO" && c.params["users"] == hero_uid)
            .count()
            == 2
    });
    wait_until("no third handoff message", || {
        got("chat.postMessage").len() == 3
    });
    // Restarted: nothing is sent again for the pieces already done.
    std::thread::sleep(Duration::from_millis(1500));
    let before = calls.lock().unwrap().len();
    let lookups_before = got("users.lookupByEmail").len();
    s.signal("-TERM");
    assert!(s.wait().success());
    let _s = Server::start_in_with(dir, &env);
    std::thread::sleep(Duration::from_secs(3));
    let after: Vec<String> = calls.lock().unwrap()[before..]
        .iter()
        .map(|c| c.method.clone())
        .collect();
    assert!(
        after.iter().all(|m| m == "users.lookupByEmail") && got("chat.postMessage").len() == 3,
        "sent again after a restart: {after:?} (lookups before: {lookups_before})"
    );
}

fn rota_core_utc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn a_swap_request_is_a_direct_message_whose_buttons_act_as_the_person_asked() {
    let secret = "slack-signing-secret-for-tests";
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&example_schedules(), &dir.join("schedules"));
    let users: BTreeMap<String, String> = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
    ]
    .iter()
    .map(|p| (format!("{p}@example.com"), format!("U{}", p.to_uppercase())))
    .collect();
    let (base, calls) = stand_in(users);
    let env = [
        ("ROTA_SLACK_TOKEN", TOKEN),
        ("ROTA_SLACK_API_URL", base.as_str()),
        ("ROTA_SLACK_SIGNING_SECRET", secret),
    ];
    let s = Server::start_in_with(dir, &env);
    let c = Client::new();
    let alice = s.token("alice");
    let swap: Value = c
        .post(s.url("/api/v1/swaps"))
        .bearer_auth(&alice)
        .json(&json!({"rotation": "support-hero", "kind": "cover",
            "my_slot": crate::swaps::alice_slot(0), "counterpart": "bob"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = swap["id"].as_str().unwrap().to_string();
    // Bob gets a direct message with Accept and Decline.
    let dm = || -> Option<Call> {
        calls
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.method == "chat.postMessage" && c.params["channel"] == "UBOB")
            .cloned()
    };
    wait_until("no direct message to Bob", || dm().is_some());
    let dm = dm().unwrap();
    assert!(
        dm.params["text"].contains("Alice Smith asks you to cover"),
        "{dm:?}"
    );
    let blocks: Value = serde_json::from_str(&dm.params["blocks"]).unwrap();
    let buttons = blocks[1]["elements"].as_array().unwrap();
    assert_eq!(buttons[0]["action_id"], "swap_accept");
    assert_eq!(buttons[1]["action_id"], "swap_decline");
    let value = buttons[0]["value"].as_str().unwrap();
    // Slack posts the click; rota checks its signature and who clicked.
    let click = |user: &str, action: &str, signed_with: &str| {
        let payload = json!({"type": "block_actions", "user": {"id": user},
            "actions": [{"action_id": action, "value": value}],
            "response_url": format!("{}/respond/T1/123", base.trim_end_matches("/api"))});
        let body = format!("payload={}", url_encode(&payload.to_string()));
        let now = chrono::Utc::now().timestamp();
        c.post(s.url("/integrations/slack/interactions"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", now.to_string())
            .header(
                "x-slack-signature",
                crate::util::slack_sign(signed_with, now, &body),
            )
            .body(body)
            .send()
            .unwrap()
    };
    assert_eq!(click("UBOB", "swap_accept", "forged").status(), 401);
    assert_eq!(click("UCAROL", "swap_accept", secret).status(), 403);
    let r = click("UBOB", "swap_accept", secret);
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().unwrap();
    assert_eq!(answer["text"], "You accepted the swap request.");
    // Slack ignores that body for a button click: the message is replaced through response_url.
    wait_until("the message was not replaced", || {
        calls.lock().unwrap().iter().any(|c| {
            c.method == "/respond/T1/123"
                && c.raw.contains("\"replace_original\":true")
                && c.raw.contains("You accepted the swap request.")
        })
    });
    let seen: Value = c
        .get(s.url(&format!("/api/v1/swaps/{id}")))
        .bearer_auth(&alice)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(seen["state"], "accepted");
    assert_eq!(seen["decided_by"], "bob");
    // A second click says it was already decided, as the request page does.
    let again: Value = click("UBOB", "swap_decline", secret).json().unwrap();
    assert!(
        again["text"].as_str().unwrap().starts_with("Not done:"),
        "{again}"
    );
}

fn url_encode(s: &str) -> String {
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

#[test]
fn slack_slash_commands_answer_signed_requests_only() {
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&example_schedules(), &tmp.path().join("schedules"));
    let s = Server::start_in_with(tmp.path(), &[("ROTA_SLACK_SIGNING_SECRET", secret)]);
    let c = Client::new();
    let now = chrono::Utc::now().timestamp();
    let post = |body: &str, ts: i64, sig: &str| {
        c.post(s.url("/integrations/slack/commands"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", sig)
            .body(body.to_string())
            .send()
            .unwrap()
    };
    let hero: Value = c
        .get(s.url("/api/v1/whoishero"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let body = "token=x&team_id=T1&user_id=U2&command=%2Fwhoishero&text=";
    let r = post(body, now, &crate::util::slack_sign(secret, now, body));
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().unwrap();
    assert_eq!(answer["response_type"], "ephemeral");
    let text = answer["text"].as_str().unwrap();
    assert!(
        text.contains(hero["person"]["name"].as_str().unwrap()) && text.contains("Next:"),
        "{text} vs {hero}"
    );
    // /oncall with a mistyped rotation gets a did-you-mean; with none, every rotation.
    let body = "command=%2Foncall&text=platform-secondry&user_id=U2";
    let answer: Value = post(body, now, &crate::util::slack_sign(secret, now, body))
        .json()
        .unwrap();
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .contains("did you mean \"platform-secondary\""),
        "{answer}"
    );
    let body = "command=%2Foncall&text=&user_id=U2";
    let answer: Value = post(body, now, &crate::util::slack_sign(secret, now, body))
        .json()
        .unwrap();
    assert_eq!(
        answer["text"].as_str().unwrap().lines().count(),
        4,
        "{answer}"
    );
    // Unsigned, signed with another secret, tampered, or six minutes old: 401.
    let body = "command=%2Fwhoishero&text=";
    assert_eq!(post(body, now, "v0=00").status(), 401);
    assert_eq!(
        post(body, now, &crate::util::slack_sign("other", now, body)).status(),
        401
    );
    assert_eq!(
        post(
            &format!("{body}x"),
            now,
            &crate::util::slack_sign(secret, now, body)
        )
        .status(),
        401
    );
    let old = now - 360;
    assert_eq!(
        post(body, old, &crate::util::slack_sign(secret, old, body)).status(),
        401
    );
    // Without a signing secret, Slack is off.
    let off = Server::start();
    let r = c
        .post(off.url("/integrations/slack/commands"))
        .body("command=%2Fwhoishero")
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// A rotation on call one hour a day (an hour that is twelve hours from now, in UTC): now nobody
/// is on call in it, and its channel says so once, with who is next, instead of keeping the last
/// person's topic all night.
#[test]
fn outside_a_rotations_hours_its_channel_says_nobody_is_on_call_and_who_is_next() {
    use chrono::Timelike;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("schedules");
    std::fs::create_dir_all(&dir).unwrap();
    let opens = (chrono::Utc::now().hour() + 12) % 24;
    std::fs::write(
        dir.join("desk.toml"),
        format!(
            "[people.alice]\nname = \"Alice\"\nemail = \"alice@example.com\"\n\
             [people.bob]\nname = \"Bob\"\nemail = \"bob@example.com\"\n\
             [rotations.desk]\nname = \"Desk\"\nmembers = [\"alice\", \"bob\"]\ntimezone = \"UTC\"\n\
             start = \"2026-01-05T00:00\"\nevery = \"1 day\"\nactive = [\"{opens:02}:00-{:02}:00\"]\n\
             [rotations.desk.slack]\nchannel = \"C0DESK\"\ntopic = true\n",
            opens + 1
        ),
    )
    .unwrap();
    let mut users = BTreeMap::new();
    users.insert("alice@example.com".to_string(), "UALICE".to_string());
    users.insert("bob@example.com".to_string(), "UBOB".to_string());
    let (base, calls) = stand_in(users);
    let env = [
        ("ROTA_SLACK_TOKEN", TOKEN),
        ("ROTA_SLACK_API_URL", base.as_str()),
        (
            "ROTA_SLACK_SIGNING_SECRET",
            "slack-signing-secret-for-tests",
        ),
    ];
    let s = Server::start_in_with(tmp.path(), &env);
    let got = |method: &str| -> Vec<Call> {
        calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    };
    wait_until("no topic or message about nobody", || {
        !got("conversations.setTopic").is_empty() && !got("chat.postMessage").is_empty()
    });
    let topic = &got("conversations.setTopic")[0];
    assert_eq!(topic.params["channel"], "C0DESK");
    assert!(
        topic.params["topic"].starts_with("Desk: nobody on call; next: "),
        "{topic:?}"
    );
    let post = &got("chat.postMessage")[0];
    assert!(
        post.params["text"].starts_with("*Desk*: nobody is on call now; next: "),
        "{post:?}"
    );
    assert!(
        post.params["text"].contains(&format!("{opens:02}:00")),
        "{post:?}"
    );
    // Said once: a few more runs of the background work say nothing new.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(got("chat.postMessage").len(), 1);
    assert_eq!(got("conversations.setTopic").len(), 1);
    drop(s);
}
