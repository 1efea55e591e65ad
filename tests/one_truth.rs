//! One truth: every query command of the CLI gives what the running service gives, after run-time
//! changes made through the API (an admin's override and an accepted swap).
//!
//! The server runs on the system clock, so nothing here names a date: the weeks to change are
//! picked relative to now (as in `swaps.rs`), and every CLI query gets the exact instant or window
//! the API was asked about, taken from the shifts the API lists.

use std::process::Output;

use chrono::{DateTime, Duration, Utc};
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::server::{Server, client, copy_dir, get_json};
use crate::util::{example_schedules, stderr, stdout};

/// 2026-11-02T09:00:00Z, the example support-hero rotation's first handoff (weekly, 09:00 London).
const HERO_START: i64 = 1_793_610_000;
const WEEK: i64 = 7 * 24 * 3600;

/// Alice's hero slot at least two weeks ahead (slot `n` is `members[n % 9]`: alice, bob, grace,
/// dave, carol, ...), clear of the example files' Christmas swap in slots 9 and 10.
fn alice_slot() -> i64 {
    let current = (Utc::now().timestamp() - HERO_START).max(0) / WEEK;
    (current / 9 + 2).max(2) * 9
}

/// An instant inside hero slot `n` (mid-week, whatever the DST offset).
fn inside(slot: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(HERO_START + slot * WEEK + 2 * 24 * 3600, 0).unwrap()
}

fn api(c: &Client, s: &Server, path: &str) -> Value {
    let (st, v) = get_json(c, &s.url(path));
    assert_eq!(st, 200, "GET {path}: {v}");
    v
}

fn cli_json(o: &Output, what: &str) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(o),
            stderr(o)
        )
    })
}

fn ok_json(s: &Server, args: &[&str]) -> Value {
    let o = s.rota(args);
    assert!(o.status.success(), "rota {args:?}: {}", stderr(&o));
    cli_json(&o, &format!("rota {args:?}"))
}

#[test]
fn every_cli_query_gives_what_the_api_gives_after_an_override_and_a_swap() {
    let a = alice_slot();
    // Carol (slot a + 4) is away mid-week, so conflicts are not trivially empty.
    let carol_away = inside(a + 4).date_naive();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&example_schedules(), &tmp.path().join("schedules"));
    std::fs::write(
        tmp.path()
            .join("schedules/calendars/carol-out-of-office.ics"),
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:away-1\r\n\
             DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\n\
             SUMMARY:Conference\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            carol_away.format("%Y%m%d"),
            (carol_away + Duration::days(2)).format("%Y%m%d")
        ),
    )
    .unwrap();
    let s = Server::start_in(tmp.path());
    let c = client();
    let (alice, bob) = (s.token("alice"), s.token("bob"));

    // Alice trades her week for Bob's next one; Bob accepts.
    let r = c
        .post(s.url("/api/v1/swaps"))
        .bearer_auth(&alice)
        .json(&json!({"rotation":"support-hero","kind":"trade","my_slot":a,"counterpart":"bob","their_slot":a + 1}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let swap: Value = r.json().unwrap();
    let r = c
        .post(s.url(&format!(
            "/api/v1/swaps/{}/accept",
            swap["id"].as_str().unwrap()
        )))
        .bearer_auth(&bob)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Alice (an admin) puts Erin on the Platform secondary for a day of the traded week.
    let week_a = api(&c, &s, &format!("/api/v1/whoishero?at={}", iso(inside(a))));
    assert_eq!(
        (week_a["person"]["id"].as_str(), week_a["source"].as_str()),
        (Some("bob"), Some("override")),
        "the swap is in force: {week_a}"
    );
    let start: DateTime<Utc> = week_a["start"].as_str().unwrap().parse().unwrap();
    let (o_start, o_end) = (start + Duration::days(1), start + Duration::days(2));
    let r = c
        .post(s.url("/api/v1/overrides"))
        .bearer_auth(&alice)
        .json(&json!({"rotation":"platform-secondary","person":"erin","start":iso(o_start),"end":iso(o_end),"reason":"test"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);

    // whoishero and oncall at instants in the traded weeks, in the override and just before it.
    let mut instants = vec![
        start,
        o_start - Duration::seconds(1),
        o_start,
        o_start + Duration::hours(3),
        inside(a + 1),
        inside(a + 4),
    ];
    instants.sort();
    for t in &instants {
        let at = iso(*t);
        let hero = api(&c, &s, &format!("/api/v1/whoishero?at={at}"));
        assert_eq!(
            ok_json(&s, &["whoishero", "--at", &at, "--json"]),
            hero,
            "at {at}"
        );
        let oncall = api(&c, &s, &format!("/api/v1/oncall?at={at}"));
        assert_eq!(
            ok_json(&s, &["oncall", "--at", &at, "--json"]),
            oncall,
            "at {at}"
        );
    }
    // The API answers show the run-time changes, so the comparisons above are not vacuous.
    let mid = api(&c, &s, &format!("/api/v1/oncall?at={}", iso(o_start)));
    assert!(
        mid.as_array()
            .unwrap()
            .iter()
            .any(|v| v["rotation"] == "platform-secondary"
                && v["person"]["id"] == "erin"
                && v["source"] == "override"),
        "{mid}"
    );
    let next = api(
        &c,
        &s,
        &format!("/api/v1/whoishero?at={}", iso(inside(a + 1))),
    );
    assert_eq!(next["person"]["id"], "alice", "{next}");

    // shifts of rotations and of people over the changed weeks.
    let (from, to) = (iso(start - Duration::days(3)), iso(inside(a + 6)));
    for rot in [
        "support-hero",
        "platform-secondary",
        "core-experience-secondary",
    ] {
        let want = api(
            &c,
            &s,
            &format!("/api/v1/rotations/{rot}/shifts?from={from}&to={to}"),
        );
        let got = ok_json(&s, &["shifts", rot, "--from", &from, "--to", &to, "--json"]);
        assert_eq!(got, want, "shifts {rot}");
    }
    for person in ["alice", "bob", "erin", "carol"] {
        let want = api(
            &c,
            &s,
            &format!("/api/v1/people/{person}/shifts?from={from}&to={to}"),
        );
        let got = ok_json(
            &s,
            &[
                "shifts", "--person", person, "--from", &from, "--to", &to, "--json",
            ],
        );
        assert_eq!(got, want, "shifts --person {person}");
    }

    // The fairness report: the API adds whether every calendar was read.
    let mut want = api(&c, &s, &format!("/api/v1/report?from={from}&to={to}"));
    assert_eq!(want["calendars_ok"], true, "{want}");
    want.as_object_mut().unwrap().remove("calendars_ok");
    let got = ok_json(&s, &["report", "--from", &from, "--to", &to, "--json"]);
    assert_eq!(got, want, "report");
    assert!(got.to_string().contains("\"bob\""), "{got}");

    // Conflicts: Carol is away in her week. The CLI shows absence summaries; the API
    // leaves them out (event titles can be private).
    let want = api(&c, &s, &format!("/api/v1/conflicts?from={from}&to={to}"));
    let o = s.rota(&[
        "check",
        "--conflicts",
        "--from",
        &from,
        "--to",
        &to,
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a conflict exits 1: {}",
        stderr(&o)
    );
    let mut got = cli_json(&o, "check --conflicts");
    for conflict in got["conflicts"].as_array_mut().unwrap() {
        for a in conflict["absences"].as_array_mut().unwrap() {
            assert_eq!(a["summary"], "Conference");
            a.as_object_mut().unwrap().remove("summary");
        }
    }
    assert_eq!(got, want, "check --conflicts");
    assert_eq!(want["conflicts"][0]["person"]["id"], "carol", "{want}");

    // Calendars: the same feed text (the window is whole UTC days; retried once in case the two
    // reads straddle midnight UTC).
    let o = s.rota(&["feed", "url", "alice", "--base-url", &s.base]);
    assert!(o.status.success(), "{}", stderr(&o));
    let alice_feed = stdout(&o).trim().to_string();
    for (url, args) in [
        (
            s.url("/calendars/rotations/support-hero.ics"),
            vec!["ics", "support-hero"],
        ),
        (
            s.url("/calendars/rotations/platform-secondary.ics"),
            vec!["ics", "platform-secondary"],
        ),
        (alice_feed, vec!["ics", "--person", "alice"]),
    ] {
        let mut same = false;
        let mut last = (String::new(), String::new());
        for _ in 0..2 {
            let want = c.get(&url).send().unwrap().text().unwrap();
            let o = s.rota(&args);
            assert!(o.status.success(), "{}", stderr(&o));
            last = (stdout(&o), want);
            if last.0 == last.1 {
                same = true;
                break;
            }
        }
        assert!(
            same,
            "rota {args:?} differs from {url}:\n{}\n---\n{}",
            last.0, last.1
        );
        assert!(last.0.contains("BEGIN:VEVENT"), "{}", last.0);
    }
}

#[test]
fn a_missing_state_file_is_said_once_and_never_created() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("nowhere.db");
    let dir = example_schedules();
    let at = "2027-01-06T12:00:00Z";
    let queries: [&[&str]; 6] = [
        &["whoishero", "--at", at, "--json"],
        &["oncall", "--at", at, "--json"],
        &["shifts", "support-hero", "--from", at, "--json"],
        &[
            "report",
            "--from",
            "2026-12-01",
            "--to",
            "2027-01-01",
            "--json",
        ],
        &[
            "check",
            "--conflicts",
            "--from",
            "2027-01-01",
            "--to",
            "2027-02-01",
        ],
        &["ics", "platform-secondary"],
    ];
    let note = format!(
        "no state file at {}: showing the schedule files only",
        state.display()
    );
    for args in queries {
        // Through ROTA_STATE, as a deployment sets it for `rota serve`.
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_rota"))
            .arg("--schedules")
            .arg(&dir)
            .args(args)
            .env_remove("ROTA_SCHEDULES")
            .env("ROTA_STATE", &state)
            .output()
            .unwrap();
        assert!(o.status.success(), "rota {args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o).matches(&note).count(),
            1,
            "rota {args:?}: {}",
            stderr(&o)
        );
        assert!(!state.exists(), "rota {args:?} created the state file");
    }
    // The files alone: the example's own override is there.
    let o = crate::util::rota(
        &dir,
        &[
            "whoishero",
            "--at",
            at,
            "--json",
            "--state",
            state.to_str().unwrap(),
        ],
    );
    assert_eq!(cli_json(&o, "whoishero")["source"], "override");
}

fn iso(t: DateTime<Utc>) -> String {
    rota_core::view::utc(t)
}

/// A layered rotation (weekdays by week, a weekend layer over it) and a restricted one
/// (`when-active`, weekday office hours): the CLI gives what the service gives at every instant,
/// over the shifts and in the calendar feeds, after a swap of two weekday turns made through the
/// API, and the weekend layer's turns are untouched by it.
#[test]
fn layered_and_restricted_rotations_agree_everywhere_after_a_swap() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("schedules");
    std::fs::create_dir_all(&dir).unwrap();
    let mut people = "admins = [\"alice\"]\nhero_rotation = \"primary\"\n".to_string();
    for p in ["alice", "bob", "carol", "dave", "erin"] {
        people.push_str(&format!(
            "[people.{p}]\nname = \"{p}\"\nemail = \"{p}@example.com\"\n"
        ));
    }
    std::fs::write(dir.join("people.toml"), people).unwrap();
    std::fs::write(
        dir.join("rotations.toml"),
        r#"
[rotations.primary]
name = "Primary"
timezone = "Europe/London"
[[rotations.primary.layers]]
members = ["alice", "bob", "carol"]
start = "2026-11-02T09:00"
every = "1 week"
[[rotations.primary.layers]]
id = "weekend"
members = ["dave", "erin"]
start = "2026-11-06T17:00"
every = "1 week"
active = ["Fri 17:00-Mon 09:00"]

[rotations.sun]
name = "Around the clock"
timezone = "Europe/London"
[[rotations.sun.layers]]
members = ["alice", "bob"]
start = "2026-11-02T09:00"
every = "1 week"
[[rotations.sun.layers]]
id = "night"
members = ["carol"]
start = "2026-11-02T09:00"
every = "1 week"
active = ["20:00-08:00"]

[rotations.office]
name = "Office hours"
members = ["carol", "dave", "erin"]
timezone = "America/Chicago"
start = "2026-11-02T00:00"
every = "1 day"
active = ["Mon-Fri 09:00-17:00"]
advance = "when-active"
"#,
    )
    .unwrap();
    let s = Server::start_in(tmp.path());
    let c = client();
    let now = Utc::now();
    // Alice's first weekday turn at least a week ahead, and Bob's after it.
    let (from, to) = (iso(now + Duration::days(7)), iso(now + Duration::days(60)));
    let slots = api(
        &c,
        &s,
        &format!("/api/v1/rotations/primary/slots?from={from}&to={to}"),
    );
    let slot_of = |who: &str, after: i64| {
        slots
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["member"] == who && x["slot"].as_i64().unwrap() > after)
            .filter(|x| x["slot"].as_i64().unwrap() < 1 << 40)
            .map(|x| x["slot"].as_i64().unwrap())
            .next()
            .unwrap_or_else(|| panic!("no slot of {who}: {slots}"))
    };
    let a = slot_of("alice", -1);
    let b = slot_of("bob", a);
    let r = c
        .post(s.url("/api/v1/swaps"))
        .bearer_auth(s.token("alice"))
        .json(&json!({"rotation":"primary","kind":"trade","my_slot":a,"counterpart":"bob","their_slot":b}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    let swap: Value = r.json().unwrap();
    let r = c
        .post(s.url(&format!(
            "/api/v1/swaps/{}/accept",
            swap["id"].as_str().unwrap()
        )))
        .bearer_auth(s.token("bob"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let shifts = api(
        &c,
        &s,
        &format!("/api/v1/rotations/primary/shifts?from={from}&to={to}"),
    );
    let list = shifts.as_array().unwrap();
    let in_slot =
        |slot: i64| -> Vec<&Value> { list.iter().filter(|x| x["slot"] == slot).collect() };
    assert!(
        in_slot(a)
            .iter()
            .all(|x| x["person"]["id"] == "bob" && x["source"] == "override"),
        "{shifts}"
    );
    assert!(
        in_slot(b).iter().all(|x| x["person"]["id"] == "alice"),
        "{shifts}"
    );
    // The weekend layer keeps its own people, swap or not.
    let weekend: Vec<&Value> = list
        .iter()
        .filter(|x| x["slot"].as_i64().unwrap() >= 1 << 40)
        .collect();
    assert!(
        !weekend.is_empty()
            && weekend
                .iter()
                .all(|x| x["person"]["id"] == "dave" || x["person"]["id"] == "erin"),
        "{shifts}"
    );

    // A week of the day layer has the night layer's time inside it: swapping it swaps the days
    // only (an override per day), and Carol keeps her nights.
    let sun = api(
        &c,
        &s,
        &format!("/api/v1/rotations/sun/slots?from={from}&to={to}"),
    );
    let sun_slot = |who: &str| {
        sun.as_array()
            .unwrap()
            .iter()
            .find(|x| x["member"] == who && x["slot"].as_i64().unwrap() < 1 << 40)
            .map(|x| x["slot"].as_i64().unwrap())
            .unwrap_or_else(|| panic!("no sun slot of {who}: {sun}"))
    };
    let (sa, sb) = (sun_slot("alice"), sun_slot("bob"));
    let r = c
        .post(s.url("/api/v1/swaps"))
        .bearer_auth(s.token("alice"))
        .json(&json!({"rotation":"sun","kind":"trade","my_slot":sa,"counterpart":"bob","their_slot":sb}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let swap: Value = r.json().unwrap();
    let r = c
        .post(s.url(&format!(
            "/api/v1/swaps/{}/accept",
            swap["id"].as_str().unwrap()
        )))
        .bearer_auth(s.token("bob"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let done: Value = r.json().unwrap();
    assert!(
        done["overrides"].as_array().unwrap().len() >= 10,
        "a day a side at least five days each: {done}"
    );
    let shifts = api(
        &c,
        &s,
        &format!("/api/v1/rotations/sun/shifts?from={from}&to={to}"),
    );
    let list = shifts.as_array().unwrap();
    let of = |slot: i64| -> Vec<&Value> { list.iter().filter(|x| x["slot"] == slot).collect() };
    assert!(
        !of(sa).is_empty() && of(sa).iter().all(|x| x["person"]["id"] == "bob"),
        "{shifts}"
    );
    assert!(
        !of(sb).is_empty() && of(sb).iter().all(|x| x["person"]["id"] == "alice"),
        "{shifts}"
    );
    let nights: Vec<&Value> = list
        .iter()
        .filter(|x| x["slot"].as_i64().unwrap() >= 1 << 40)
        .collect();
    assert!(
        !nights.is_empty() && nights.iter().all(|x| x["person"]["id"] == "carol"),
        "{shifts}"
    );

    // Every 5 hours for three weeks: the CLI and the API agree, and somebody is the hero except
    // when nobody is (never, here: the layers cover the week).
    let mut t = now + Duration::days(7);
    while t < now + Duration::days(28) {
        let at = iso(t);
        let hero = api(&c, &s, &format!("/api/v1/whoishero?at={at}"));
        assert!(!hero.is_null(), "at {at}");
        assert_eq!(
            ok_json(&s, &["whoishero", "--at", &at, "--json"]),
            hero,
            "at {at}"
        );
        let oncall = api(&c, &s, &format!("/api/v1/oncall?at={at}"));
        assert_eq!(
            ok_json(&s, &["oncall", "--at", &at, "--json"]),
            oncall,
            "at {at}"
        );
        t += Duration::hours(5);
    }
    // The fairness report and the conflicts read layered and restricted rotations as the API
    // does; the weekend layer's people are counted in the report.
    let mut want = api(&c, &s, &format!("/api/v1/report?from={from}&to={to}"));
    want.as_object_mut().unwrap().remove("calendars_ok");
    let got = ok_json(&s, &["report", "--from", &from, "--to", &to, "--json"]);
    assert_eq!(got, want, "report");
    assert!(got.to_string().contains("\"dave\""), "{got}");
    let want = api(&c, &s, &format!("/api/v1/conflicts?from={from}&to={to}"));
    let o = s.rota(&[
        "check",
        "--conflicts",
        "--from",
        &from,
        "--to",
        &to,
        "--json",
    ]);
    assert_eq!(cli_json(&o, "check --conflicts"), want, "check --conflicts");
    for rot in ["primary", "office"] {
        let want = api(
            &c,
            &s,
            &format!("/api/v1/rotations/{rot}/shifts?from={from}&to={to}"),
        );
        let got = ok_json(&s, &["shifts", rot, "--from", &from, "--to", &to, "--json"]);
        assert_eq!(got, want, "shifts {rot}");
        // (Retried once in case the two reads straddle midnight UTC, which moves the window.)
        let read = || {
            let feed = c
                .get(s.url(&format!("/calendars/rotations/{rot}.ics")))
                .send()
                .unwrap()
                .text()
                .unwrap();
            (stdout(&s.rota(&["ics", rot])), feed)
        };
        let (mut cli, mut feed) = read();
        if cli != feed {
            (cli, feed) = read();
        }
        assert_eq!(cli, feed, "ics {rot}");
        assert!(feed.matches("BEGIN:VEVENT").count() > 10, "{feed}");
    }
}

/// Coverage: `rota coverage --json` is the API's answer, over the example schedules (whose people
/// give working hours in five zones); the answer names colleagues at work and uncovered hours.
#[test]
fn coverage_from_the_cli_is_the_apis() {
    let s = Server::start();
    let c = client();
    let now = Utc::now();
    let (from, to) = (iso(now + Duration::days(7)), iso(now + Duration::days(21)));
    let want = api(
        &c,
        &s,
        &format!("/api/v1/coverage?rotation=support-hero&from={from}&to={to}"),
    );
    let got = ok_json(
        &s,
        &[
            "coverage",
            "support-hero",
            "--from",
            &from,
            "--to",
            &to,
            "--json",
        ],
    );
    assert_eq!(got, want);
    let list = want.as_array().unwrap();
    assert!(list.len() >= 2, "{want}");
    let gaps: Vec<&Value> = list
        .iter()
        .flat_map(|c| c["gaps"].as_array().unwrap())
        .collect();
    assert!(
        gaps.iter()
            .any(|g| g["available"].as_array().unwrap().is_empty()),
        "{want}"
    );
    assert!(
        gaps.iter()
            .any(|g| !g["available"].as_array().unwrap().is_empty()),
        "{want}"
    );
    // Every gap lies inside its shift, and nobody on call is listed as covering themselves.
    for cv in list {
        for g in cv["gaps"].as_array().unwrap() {
            assert!(
                g["start"].as_str() >= cv["shift"]["start"].as_str()
                    && g["end"].as_str() <= cv["shift"]["end"].as_str(),
                "{cv}"
            );
            assert!(
                g["available"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|p| p["id"] != cv["shift"]["person"]["id"]),
                "{cv}"
            );
        }
    }
    let (st, v) = get_json(&c, &s.url("/api/v1/coverage?rotation=nope"));
    assert_eq!(st, 404, "{v}");
    let (st, v) = get_json(&c, &s.url("/api/v1/coverage"));
    assert_eq!(st, 400, "{v}");
}
