//! Planning, as a pure function: which reminders and notices are due, by table.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rota_core::{Override, Schedule};
use rota_notify::message::{self, render};
use rota_notify::plan::{
    self, Content, Decision, Lead, PlanConfig, Recipient, ShiftInfo, Snapshot, SwapEvent, SwapKind,
    plan_change, plan_reminders, plan_swap, select,
};
use rota_store::{LedgerEntry, LedgerState};

/// No slot was reminded.
fn none() -> HashSet<(String, u64)> {
    HashSet::new()
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Weekly hero rotation, Monday 09:00 London; Bob reads times in Chicago, Carol has no email.
const SCHEDULE: &str = r#"
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

fn schedule() -> Schedule {
    Schedule::load(&[("s.toml", SCHEDULE)]).unwrap()
}

/// The keys of the reminders due at `now` (sent, then superseded).
fn due(s: &Schedule, now: &str) -> (Vec<String>, Vec<String>) {
    let (send, sup) = plan_reminders(s, &PlanConfig::default(), t(now));
    (
        send.into_iter().map(|p| p.key).collect(),
        sup.into_iter().map(|p| p.key).collect(),
    )
}

#[test]
fn reminders_fall_due_at_each_lead_time_and_never_after_the_start() {
    let s = schedule();
    // Slot 4: Bob, Mon 30 Nov 09:00 GMT = 03:00 CST. 7 days before in Chicago: Mon 23 Nov 03:00 CST.
    let cases: &[(&str, &[&str])] = &[
        ("2026-11-23T08:59:59Z", &[]), // one second early
        ("2026-11-23T09:00:00Z", &["reminder/support-hero/4/bob/P7D"]), // exactly due
        ("2026-11-25T12:00:00Z", &["reminder/support-hero/4/bob/P7D"]), // still due (ledger decides)
        // Sun 29 Nov 03:00 CST: the 1-day one is due; the 7-day one is still a candidate too,
        // but superseded only when both fall due in the same run (see the next test).
        ("2026-11-29T09:00:00Z", &["reminder/support-hero/4/bob/P1D"]),
        ("2026-11-30T08:59:59Z", &["reminder/support-hero/4/bob/P1D"]), // last second before
        ("2026-11-30T09:00:00Z", &[]),                                  // the shift started: never
    ];
    for (now, want) in cases {
        let (mut send, _) = due(&s, now);
        send.retain(|k| k.contains("/bob/"));
        let want: Vec<String> = want.iter().map(|k| k.to_string()).collect();
        assert_eq!(send, want, "at {now}");
    }
}

#[test]
fn after_downtime_only_the_shortest_due_lead_is_sent_and_the_rest_superseded() {
    let s = schedule();
    // Down from 20 Nov to 29 Nov 12:00Z: both of Bob's reminders for 30 Nov fell due meanwhile.
    let (send, sup) = due(&s, "2026-11-29T12:00:00Z");
    assert_eq!(send, ["reminder/support-hero/4/bob/P1D"]);
    assert_eq!(sup, ["reminder/support-hero/4/bob/P7D"]);
}

#[test]
fn people_without_email_get_nothing() {
    let s = schedule();
    // Slot 5 (Mon 7 Dec) is Carol's, who has no email address.
    let (send, sup) = due(&s, "2026-12-06T12:00:00Z");
    assert!(send.is_empty() && sup.is_empty(), "{send:?} {sup:?}");
}

#[test]
fn the_person_actually_on_call_is_reminded_after_an_override() {
    let s = schedule()
        .with_overrides([Override {
            id: "o1".into(),
            rotation: "support-hero".into(),
            person: "alice".into(),
            start: t("2026-12-07T09:00:00Z"),
            end: t("2026-12-14T09:00:00Z"),
            reason: Some("swap".into()),
        }])
        .unwrap();
    let (send, _) = due(&s, "2026-11-30T09:00:00Z");
    assert_eq!(send, ["reminder/support-hero/5/alice/P7D"]);
    // Taking the week right after your own makes one stretch of two weeks: it started with your
    // own week, so there is no "starts in 7 days" for the second (the change notice tells you).
    let s = schedule()
        .with_overrides([Override {
            id: "o1".into(),
            rotation: "support-hero".into(),
            person: "alice".into(),
            start: t("2026-11-30T09:00:00Z"),
            end: t("2026-12-07T09:00:00Z"),
            reason: Some("swap".into()),
        }])
        .unwrap();
    let (send, _) = due(&s, "2026-11-23T09:00:00Z");
    assert!(send.is_empty(), "{send:?}");
}

/// Issue 13, point 6: one reminder before each part a person holds. Alice covers the middle of
/// Bob's week: Bob has two pieces of slot 4 and is reminded before each; the first keeps the
/// plain shift's key, the later one has its start in the key (and the feed's UID for it).
#[test]
fn a_split_slot_reminds_each_person_before_each_of_their_pieces() {
    let s = schedule()
        .with_overrides([Override {
            id: "o1".into(),
            rotation: "support-hero".into(),
            person: "alice".into(),
            start: t("2026-12-02T09:00:00Z"),
            end: t("2026-12-03T09:00:00Z"),
            reason: None,
        }])
        .unwrap();
    let (send, _) = plan_reminders(&s, &PlanConfig::default(), t("2026-11-30T08:00:00Z"));
    let mut bob: Vec<_> = send.iter().filter(|p| p.to.id == "bob").collect();
    bob.sort_by_key(|p| p.key.clone());
    assert_eq!(bob.len(), 2, "{bob:?}");
    let starts: Vec<(String, DateTime<Utc>, String)> = bob
        .iter()
        .map(|p| {
            let Content::Reminder { shift, .. } = &p.content else {
                panic!()
            };
            (p.key.clone(), shift.start, shift.uid.clone())
        })
        .collect();
    assert_eq!(starts[0].0, "reminder/support-hero/4/bob/P1D");
    assert_eq!(starts[0].1, t("2026-11-30T09:00:00Z"));
    assert_eq!(starts[0].2, "support-hero-4@rota");
    let later = t("2026-12-03T09:00:00Z").timestamp();
    assert_eq!(
        starts[1].0,
        format!("reminder/support-hero/4/bob@{later}/P7D")
    );
    assert_eq!(starts[1].1, t("2026-12-03T09:00:00Z"));
    assert_eq!(starts[1].2, format!("support-hero-4-{later}@rota"));
    // Alice is reminded of her day too, once.
    assert_eq!(
        send.iter().filter(|p| p.key.contains("/4/alice")).count(),
        1
    );
}

#[test]
fn a_day_before_is_the_same_wall_clock_time_in_the_recipients_zone_across_dst() {
    let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
    let chicago: chrono_tz::Tz = "America/Chicago".parse().unwrap();
    let lord_howe: chrono_tz::Tz = "Australia/Lord_Howe".parse().unwrap();
    let cases = [
        // (zone, shift start, lead, due) with a comment on each edge.
        // London springs forward Sun 29 Mar 2026 01:00 GMT: Mon 09:00 BST minus a day is 23 h.
        (
            london,
            "2026-03-30T08:00:00Z",
            Lead::Days(1),
            "2026-03-29T08:00:00Z",
        ),
        // ... and 7 days before is Mon 23 Mar 09:00 GMT: 167 h.
        (
            london,
            "2026-03-30T08:00:00Z",
            Lead::Days(7),
            "2026-03-23T09:00:00Z",
        ),
        // London falls back Sun 25 Oct 2026: Mon 26 Oct 09:00 GMT minus a day is 25 h.
        (
            london,
            "2026-10-26T09:00:00Z",
            Lead::Days(1),
            "2026-10-25T09:00:00Z",
        ),
        // Hours are exact.
        (
            london,
            "2026-10-26T09:00:00Z",
            Lead::Minutes(24 * 60),
            "2026-10-25T09:00:00Z",
        ),
        (
            london,
            "2026-03-30T08:00:00Z",
            Lead::Minutes(24 * 60),
            "2026-03-29T08:00:00Z",
        ),
        // Chicago: 02:30 on Sun 8 Mar 2026 does not exist (gap): moves forward to 03:30 CDT.
        (
            chicago,
            "2026-03-09T07:30:00Z",
            Lead::Days(1),
            "2026-03-08T08:30:00Z",
        ),
        // Chicago: 01:30 on Sun 1 Nov 2026 happens twice (fold): the earlier, CDT.
        (
            chicago,
            "2026-11-02T07:30:00Z",
            Lead::Days(1),
            "2026-11-01T06:30:00Z",
        ),
        // Lord Howe (Sun 5 Apr 2026, 02:00 -> 01:30): Sunday 09:00 (+10:30) minus a day is Saturday
        // 09:00 (+11), 24 h 30 min before.
        (
            lord_howe,
            "2026-04-04T22:30:00Z",
            Lead::Days(1),
            "2026-04-03T22:00:00Z",
        ),
    ];
    for (zone, start, lead, want) in cases {
        assert_eq!(
            lead.due_at(t(start), zone),
            t(want),
            "{lead} before {start} in {zone}"
        );
    }
}

#[test]
fn lead_times_parse_and_print() {
    assert_eq!(
        Lead::parse_list("1 day, 7 days, 2 hours, 1 week").unwrap(),
        [Lead::Days(7), Lead::Days(1), Lead::Minutes(120)]
    );
    assert_eq!(Lead::Days(7).to_string(), "1 week");
    assert_eq!(Lead::Minutes(90).label(), "PT90M");
    for bad in ["", "7", "seven days", "0 days", "3 fortnights", "400 days"] {
        assert!(Lead::parse(bad).is_err(), "{bad:?}");
    }
}

fn entry(key: &str, state: LedgerState, next: Option<&str>) -> LedgerEntry {
    LedgerEntry {
        key: key.into(),
        kind: "reminder".into(),
        person: "bob".into(),
        recipient: "bob@example.com".into(),
        state,
        owner: None,
        attempts: 1,
        next_attempt: next.map(t),
        expires: None,
        last_error: Some("451 busy".into()),
        created_at: t("2026-11-23T09:00:00Z"),
        updated_at: t("2026-11-23T09:00:00Z"),
    }
}

#[test]
fn selection_never_resends_and_waits_for_the_backoff() {
    let s = schedule();
    let now = t("2026-11-29T12:00:00Z");
    let (send, sup) = plan_reminders(&s, &PlanConfig::default(), now);
    let k1 = "reminder/support-hero/4/bob/P1D";
    let k7 = "reminder/support-hero/4/bob/P7D";
    let decide = |ledger: &[LedgerEntry]| -> Vec<(String, Decision)> {
        let map: HashMap<String, LedgerEntry> =
            ledger.iter().map(|e| (e.key.clone(), e.clone())).collect();
        select(send.clone(), sup.clone(), &map, now)
            .into_iter()
            .map(|(p, d)| (p.key, d))
            .collect()
    };
    assert_eq!(
        decide(&[]),
        [
            (k1.into(), Decision::Send),
            (k7.into(), Decision::Supersede)
        ]
    );
    // The 7-day one was sent last week: it stays sent; the 1-day one goes out.
    assert_eq!(
        decide(&[entry(k7, LedgerState::Sent, None)]),
        [
            (k1.into(), Decision::Send),
            (k7.into(), Decision::Skip("already sent".into()))
        ]
    );
    // Failed a minute ago, retry later: wait.
    let d = decide(&[entry(k1, LedgerState::Retry, Some("2026-11-29T12:01:00Z"))]);
    assert!(
        matches!(&d[0].1, Decision::Skip(w) if w.starts_with("retrying at 2026-11-29T12:01:00Z")),
        "{d:?}"
    );
    // Retry due: send.
    let d = decide(&[entry(k1, LedgerState::Retry, Some("2026-11-29T12:00:00Z"))]);
    assert_eq!(d[0].1, Decision::Send);
    // Left in `sending` by a crash: the runner decides (send again, same Message-ID).
    let d = decide(&[entry(k1, LedgerState::Sending, None)]);
    assert_eq!(d[0].1, Decision::Send);
    for st in [
        LedgerState::Sent,
        LedgerState::Failed,
        LedgerState::Superseded,
    ] {
        let d = decide(&[entry(k1, st, None)]);
        assert!(matches!(d[0].1, Decision::Skip(_)), "{st:?}");
    }
}

#[test]
fn change_notices_compare_only_the_window_both_snapshots_cover() {
    let s = schedule();
    let bob = s.person("bob").unwrap().clone();
    let horizon = Duration::weeks(4);
    let t0 = t("2026-11-28T12:00:00Z");
    let first = Snapshot::take(&s, "bob", t0, horizon);
    // The first run has nothing to compare with: no notice.
    assert_eq!(plan_change(&bob, None, &first, None, &none()), None);
    // 16 days later nothing changed, though a shift left the window and one entered it: no notice.
    let later = Snapshot::take(&s, "bob", t0 + Duration::days(16), horizon);
    assert_ne!(later.shifts, first.shifts);
    assert_eq!(plan_change(&bob, Some(&first), &later, None, &none()), None);
    // Alice takes Bob's 30 Nov week: one notice, before and after.
    let changed = s
        .with_overrides([Override {
            id: "o1".into(),
            rotation: "support-hero".into(),
            person: "alice".into(),
            start: t("2026-11-30T09:00:00Z"),
            end: t("2026-12-07T09:00:00Z"),
            reason: None,
        }])
        .unwrap();
    let now = Snapshot::take(&changed, "bob", t0 + Duration::minutes(5), horizon);
    let p = plan_change(
        &bob,
        Some(&first),
        &now,
        Some("https://rota.example.com"),
        &none(),
    )
    .unwrap();
    assert!(p.key.starts_with("change/bob/"), "{}", p.key);
    let Content::Change { before, after, .. } = &p.content else {
        panic!()
    };
    assert_eq!(before.len(), after.len() + 1);
    // The same change seen again (not yet recorded) has the same key: sent once.
    let again = Snapshot::take(&changed, "bob", t0 + Duration::minutes(6), horizon);
    assert_eq!(
        plan_change(&bob, Some(&first), &again, None, &none())
            .unwrap()
            .key,
        p.key
    );
    let r = render(&p, t0);
    assert_eq!(r.subject, "Your upcoming Support Hero shifts changed");
    assert!(r.text.contains("Mon 30 Nov 03:00 CST"), "{}", r.text);
    // The person's page is /me (there is no /people/{id} page).
    assert!(
        r.html.contains("<a href=\"https://rota.example.com/me\">"),
        "{}",
        r.html
    );
    assert!(!r.html.contains("/people/"), "{}", r.html);
    // Nobody was reminded of the shift: no calendar update to attach.
    assert_eq!(r.attachment, None);
    // Carol has no email: no notice, however her shifts change.
    let carol = s.person("carol").unwrap().clone();
    let c0 = Snapshot::take(&s, "carol", t0, horizon);
    let c1 = Snapshot::take(&changed, "carol", t0, horizon);
    let c1 = Snapshot {
        shifts: Vec::new(),
        ..c1
    };
    assert_eq!(plan_change(&carol, Some(&c0), &c1, None, &none()), None);
}

fn swap_event(kind: SwapKind) -> SwapEvent {
    let s = schedule();
    let a = s.base_shift("support-hero", 6).unwrap().unwrap(); // alice, 14 Dec
    let b = s.base_shift("support-hero", 7).unwrap().unwrap(); // bob, 21 Dec
    let tz = a.rotation.timezone;
    SwapEvent {
        id: "swp_1".into(),
        kind,
        requester: Recipient::of(a.person, tz).unwrap(),
        counterpart: Recipient::of(b.person, tz).unwrap(),
        give: ShiftInfo::new(&s, &a),
        take: Some(ShiftInfo::new(&s, &b)),
        reason: Some("holiday <3 & sun".into()),
        urgent: false,
        undo_asked_by: None,
    }
}

/// Issue 13, point 4: asking to undo a swap emails the other party; the undo emails both.
#[test]
fn undoing_a_swap_asks_the_other_party_then_tells_both() {
    let base = Some("https://rota.example.com/");
    let mut e = swap_event(SwapKind::UndoRequested);
    e.undo_asked_by = Some("bob".into());
    let ps = plan_swap(&e, base);
    let to: Vec<&str> = ps.iter().map(|p| p.to.id.as_str()).collect();
    assert_eq!(to, ["alice"], "the party who did not ask");
    assert_eq!(ps[0].key, "swap-undo-requested/swp_1/alice");
    let r = render(&ps[0], t("2026-12-01T10:00:00Z"));
    assert_eq!(r.subject, "Bob Jones asks to undo your Support Hero swap");
    assert!(
        r.text
            .contains("Agree or not: https://rota.example.com/swaps/swp_1\n"),
        "{}",
        r.text
    );
    let ps = plan_swap(&swap_event(SwapKind::Undone), base);
    let to: Vec<&str> = ps.iter().map(|p| p.to.id.as_str()).collect();
    assert_eq!(to, ["alice", "bob"]);
    let r = render(&ps[1], t("2026-12-01T10:00:00Z"));
    assert_eq!(
        r.subject,
        "Support Hero swap undone: Alice Smith and Bob Jones"
    );
    assert!(r.text.contains("back with who had them"), "{}", r.text);
}

/// Issue 13, point 2: a take-over's email says it is urgent and what it asks; a part of a shift
/// is shown with the part's times.
#[test]
fn a_take_over_is_urgent_and_a_part_shows_its_own_times() {
    let mut e = swap_event(SwapKind::Requested);
    e.take = None;
    e.urgent = true;
    // The rest of Alice's shift from Wednesday 16 December 13:00 London.
    e.give.start = t("2026-12-16T13:00:00Z");
    let ps = plan_swap(&e, Some("https://rota.example.com/"));
    let r = render(&ps[0], t("2026-12-16T12:55:00Z"));
    assert_eq!(
        r.subject,
        "Urgent: Alice Smith asks you to take over their Support Hero shift now"
    );
    assert!(
        r.text.contains("take over the rest of their shift"),
        "{}",
        r.text
    );
    // Bob reads it in Chicago time.
    assert!(
        r.text.contains("Wednesday 16 December 2026, 07:00 CST"),
        "{}",
        r.text
    );
}

#[test]
fn swap_messages_go_to_the_right_people_with_accept_and_decline_links() {
    let base = Some("https://rota.example.com/");
    let req = plan_swap(&swap_event(SwapKind::Requested), base);
    assert_eq!(req.len(), 1);
    assert_eq!(req[0].key, "swap-requested/swp_1/bob");
    let r = render(&req[0], t("2026-12-01T10:00:00Z"));
    assert_eq!(
        r.subject,
        "Alice Smith asks to swap Support Hero shifts with you"
    );
    // The link opens the request page (accepting takes a POST with a CSRF token there).
    assert!(
        r.text
            .contains("Accept or decline: https://rota.example.com/swaps/swp_1\n"),
        "{}",
        r.text
    );
    assert!(
        r.html
            .contains("<a href=\"https://rota.example.com/swaps/swp_1\">"),
        "{}",
        r.html
    );
    // Bob reads both shifts in Chicago time; the reason is escaped in HTML.
    assert!(
        r.text.contains("Monday 14 December 2026, 03:00 CST"),
        "{}",
        r.text
    );
    assert!(r.html.contains("holiday &lt;3 &amp; sun"), "{}", r.html);
    for (kind, subject) in [
        (
            SwapKind::Accepted,
            "Support Hero swap accepted: Alice Smith and Bob Jones",
        ),
        (
            SwapKind::Declined,
            "Support Hero swap declined by Bob Jones",
        ),
        (
            SwapKind::Cancelled,
            "Support Hero swap cancelled by Alice Smith",
        ),
    ] {
        let ps = plan_swap(&swap_event(kind), base);
        let to: Vec<&str> = ps.iter().map(|p| p.to.id.as_str()).collect();
        assert_eq!(to, ["alice", "bob"], "{kind:?}: to both");
        assert_eq!(ps[0].key, format!("swap-{}/swp_1/alice", kind.as_str()));
        let r = render(&ps[0], t("2026-12-01T10:00:00Z"));
        assert_eq!(r.subject, subject);
        assert!(!r.text.contains("Accept or decline"));
        // Alice reads times in London.
        assert!(
            r.text.contains("Monday 14 December 2026, 09:00 GMT"),
            "{}",
            r.text
        );
    }
}

#[test]
fn messages_have_both_parts_an_ics_attachment_and_a_key_derived_message_id() {
    let s = schedule();
    let (send, _) = plan_reminders(&s, &PlanConfig::default(), t("2026-11-23T09:00:00Z"));
    let from: lettre::message::Mailbox = "Rota <rota@example.com>".parse().unwrap();
    let m = message::build(&send[0], &from, t("2026-11-23T09:00:00Z")).unwrap();
    let raw = String::from_utf8(m.formatted()).unwrap();
    assert!(raw.contains("multipart/mixed"));
    assert!(raw.contains("multipart/alternative"));
    assert!(raw.contains("text/plain"));
    assert!(raw.contains("text/html"));
    assert!(raw.contains("text/calendar"));
    assert!(raw.contains("X-Rota-Key: reminder/support-hero/4/bob/P7D"));
    let id = message::message_id(&send[0].key, &from);
    assert!(raw.contains(&format!("Message-ID: <{id}>")), "{raw}");
    assert_ne!(
        id,
        message::message_id("reminder/support-hero/4/bob/P1D", &from)
    );
    let Content::Reminder { shift, .. } = &send[0].content else {
        panic!()
    };
    let ics = rota_notify::ics::shift_calendar(shift, &from, t("2026-11-23T09:00:00Z"));
    let cal = ical::IcalParser::new(ics.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(cal.events.len(), 1);
    let _ = plan::Snapshot::from_json("not json");
}

/// A calendar's own properties, and each VEVENT's by name (the first of each).
type Props = (Vec<(String, String)>, Vec<HashMap<String, String>>);

/// The properties of a calendar and of each of its VEVENTs.
fn events(ics: &str) -> Props {
    let cal = ical::IcalParser::new(ics.as_bytes())
        .next()
        .expect("one calendar")
        .expect("parses as ICS");
    let top = cal
        .properties
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect();
    let evs = cal
        .events
        .iter()
        .map(|e| {
            let mut m = HashMap::new();
            for p in &e.properties {
                let mut v = p.value.clone().unwrap_or_default();
                if let Some(params) = &p.params {
                    for (k, vs) in params {
                        v = format!("{k}={};{v}", vs.join(","));
                    }
                }
                m.entry(p.name.clone()).or_insert(v);
            }
            m
        })
        .collect();
    (top, evs)
}

/// What RFC 5546 section 3.2.1 requires of a `METHOD:PUBLISH` calendar, and what libical's
/// restriction check enforces: ORGANIZER, DTSTAMP, DTSTART, SUMMARY and UID in every event,
/// SEQUENCE when above 0, no ATTENDEE.
fn assert_valid_publish(ics: &str) {
    let (top, evs) = events(ics);
    assert!(
        top.contains(&("METHOD".into(), "PUBLISH".into())),
        "{top:?}"
    );
    assert!(!evs.is_empty());
    for e in &evs {
        for p in [
            "DTSTAMP",
            "DTSTART",
            "ORGANIZER",
            "SUMMARY",
            "UID",
            "SEQUENCE",
        ] {
            assert!(e.contains_key(p), "no {p} in {e:?}");
        }
        assert!(!e.contains_key("ATTENDEE"), "{e:?}");
        assert!(e["ORGANIZER"].ends_with("mailto:rota@example.com"), "{e:?}");
    }
}

#[test]
fn messages_are_marked_automated_and_swaps_reply_to_the_other_person() {
    let s = schedule();
    let from: lettre::message::Mailbox = "Rota <rota@example.com>".parse().unwrap();
    let now = t("2026-11-23T09:00:00Z");
    let (send, _) = plan_reminders(&s, &PlanConfig::default(), now);
    let raw = String::from_utf8(message::build(&send[0], &from, now).unwrap().formatted()).unwrap();
    assert!(
        raw.contains("\r\nAuto-Submitted: auto-generated\r\n"),
        "{raw}"
    );
    assert!(
        raw.contains("\r\nX-Auto-Response-Suppress: All\r\n"),
        "{raw}"
    );
    assert!(
        !raw.contains("Reply-To:"),
        "a reminder has nobody to reply to: {raw}"
    );
    assert!(
        raw.contains("<html lang=3D\"en\">") || raw.contains("<html lang=\"en\">"),
        "{raw}"
    );
    // A swap request to Bob: replies go to Alice, who asked; the outcome to Alice: replies to Bob.
    let base = Some("https://rota.example.com");
    let req = &plan_swap(&swap_event(SwapKind::Requested), base)[0];
    let raw = String::from_utf8(message::build(req, &from, now).unwrap().formatted()).unwrap();
    assert!(
        raw.contains("\r\nReply-To: \"Alice Smith\" <alice@example.com>\r\n")
            || raw.contains("\r\nReply-To: Alice Smith <alice@example.com>\r\n"),
        "{raw}"
    );
    assert!(
        raw.contains("\r\nAuto-Submitted: auto-generated\r\n"),
        "{raw}"
    );
    let to_alice = &plan_swap(&swap_event(SwapKind::Accepted), base)[0];
    assert_eq!(to_alice.to.id, "alice");
    let raw = String::from_utf8(message::build(to_alice, &from, now).unwrap().formatted()).unwrap();
    assert!(
        raw.contains("Reply-To: Bob Jones <bob@example.com>")
            || raw.contains("Reply-To: \"Bob Jones\" <bob@example.com>"),
        "{raw}"
    );
    // Every link is absolute, to a page that exists: the request page, the person's own page.
    let r = render(req, now);
    assert!(
        r.text.contains("https://rota.example.com/swaps/swp_1"),
        "{}",
        r.text
    );
    let r = render(to_alice, now);
    assert!(
        r.text
            .contains("Your shifts: https://rota.example.com/me\n"),
        "{}",
        r.text
    );
    // Without ROTA_BASE_URL no link at all (a relative link in an email leads nowhere).
    let r = render(&plan_swap(&swap_event(SwapKind::Requested), None)[0], now);
    assert!(!r.text.contains("/swaps/"), "{}", r.text);
    assert!(!r.html.contains("href"), "{}", r.html);
}

#[test]
fn a_reminder_attaches_a_valid_publish_with_organizer_and_sequence() {
    let s = schedule();
    let from: lettre::message::Mailbox = "Rota <rota@example.com>".parse().unwrap();
    let now = t("2026-11-23T09:00:00Z");
    let (send, _) = plan_reminders(&s, &PlanConfig::default(), now);
    let r = render(&send[0], now);
    let (file, evs) = r.attachment.clone().unwrap();
    assert_eq!(file, "support-hero-4.ics");
    let ics = rota_notify::ics::calendar(&from, now, &evs);
    assert_valid_publish(&ics);
    let (_, e) = events(&ics);
    assert_eq!(e[0]["UID"], "support-hero-4@rota");
    assert_eq!(e[0]["STATUS"], "CONFIRMED");
    assert_eq!(e[0]["ORGANIZER"], "CN=Rota;mailto:rota@example.com");
    // Seconds since 2020: later messages about the shift have higher numbers.
    let seq: u32 = e[0]["SEQUENCE"].parse().unwrap();
    assert_eq!(seq, rota_notify::ics::sequence(now));
    assert!(rota_notify::ics::sequence(now + Duration::seconds(1)) > seq);
    assert_eq!(rota_notify::ics::sequence(t("2019-01-01T00:00:00Z")), 0);
}

#[test]
fn a_change_to_a_reminded_shift_carries_an_update_with_the_same_uid() {
    let s = schedule();
    let bob = s.person("bob").unwrap().clone();
    let horizon = Duration::weeks(4);
    let t0 = t("2026-11-23T09:00:00Z");
    let first = Snapshot::take(&s, "bob", t0, horizon);
    let reminded: HashSet<(String, u64)> = [("support-hero".to_string(), 4)].into();
    let cover = |start: &str, end: &str| {
        s.with_overrides([Override {
            id: "o1".into(),
            rotation: "support-hero".into(),
            person: "alice".into(),
            start: t(start),
            end: t(end),
            reason: None,
        }])
        .unwrap()
    };
    let from: lettre::message::Mailbox = "Rota <rota@example.com>".parse().unwrap();
    let updates = |changed: &Schedule, reminded: &HashSet<(String, u64)>| {
        let now = Snapshot::take(changed, "bob", t0 + Duration::minutes(5), horizon);
        assert_eq!(
            plan::moved_slots(&first, &now),
            [("support-hero".to_string(), 4)]
        );
        let p = plan_change(&bob, Some(&first), &now, None, reminded).unwrap();
        let r = render(&p, t0 + Duration::minutes(5));
        match r.attachment {
            None => Vec::new(),
            Some((file, evs)) => {
                assert_eq!(file, "rota-update.ics");
                assert!(
                    r.text.contains("The attached calendar file updates"),
                    "{}",
                    r.text
                );
                let ics = rota_notify::ics::calendar(&from, t0 + Duration::minutes(5), &evs);
                assert_valid_publish(&ics);
                let (_, e) = events(&ics);
                e.iter()
                    .map(|e| {
                        assert!(
                            e["SEQUENCE"].parse::<u32>().unwrap() > rota_notify::ics::sequence(t0),
                            "an update outranks the reminder sent at t0"
                        );
                        format!(
                            "{} {} {} {}",
                            e["UID"], e["STATUS"], e["DTSTART"], e["DTEND"]
                        )
                    })
                    .collect()
            }
        }
    };
    // Alice takes all of Bob's week: the reminded event is cancelled.
    let whole = cover("2026-11-30T09:00:00Z", "2026-12-07T09:00:00Z");
    assert_eq!(
        updates(&whole, &reminded),
        ["support-hero-4@rota CANCELLED 20261130T090000Z 20261207T090000Z"]
    );
    // Alice takes its first day: Bob's piece starts later, under another UID, so the reminded
    // event is cancelled and the rest of the week is published as a new one.
    let head = cover("2026-11-30T09:00:00Z", "2026-12-01T09:00:00Z");
    assert_eq!(
        updates(&head, &reminded),
        [
            "support-hero-4@rota CANCELLED 20261130T090000Z 20261207T090000Z",
            "support-hero-4-1796115600@rota CONFIRMED 20261201T090000Z 20261207T090000Z"
        ]
    );
    // Alice takes Wednesday: the reminded event keeps its UID and ends on Wednesday; the part
    // after it is a new event.
    let mid = cover("2026-12-02T09:00:00Z", "2026-12-03T09:00:00Z");
    assert_eq!(
        updates(&mid, &reminded),
        [
            "support-hero-4@rota CONFIRMED 20261130T090000Z 20261202T090000Z",
            "support-hero-4-1796288400@rota CONFIRMED 20261203T090000Z 20261207T090000Z"
        ]
    );
    // No reminder was sent for the slot: nothing in a calendar to update.
    assert!(updates(&whole, &none()).is_empty());
}

#[test]
fn snapshots_stored_before_slots_and_uids_existed_do_not_look_changed() {
    let s = schedule();
    let bob = s.person("bob").unwrap().clone();
    let t0 = t("2026-11-28T12:00:00Z");
    let now = Snapshot::take(&s, "bob", t0, Duration::weeks(4));
    // The stored form of an older version: no slot, uid or why.
    let old = format!(
        "{{\"from\":\"{}\",\"to\":\"{}\",\"shifts\":[{}]}}",
        now.from.to_rfc3339(),
        now.to.to_rfc3339(),
        now.shifts
            .iter()
            .map(|x| format!(
                "{{\"rotation\":\"{}\",\"name\":\"{}\",\"start\":\"{}\",\"end\":\"{}\"}}",
                x.rotation,
                x.name,
                x.start.to_rfc3339(),
                x.end.to_rfc3339()
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    let old = Snapshot::from_json(&old).expect("old snapshots still read");
    assert!(
        old.shifts
            .iter()
            .all(|x| x.slot.is_none() && x.uid.is_empty())
    );
    assert_eq!(plan_change(&bob, Some(&old), &now, None, &none()), None);
    // And the new form round-trips.
    assert_eq!(Snapshot::from_json(&now.to_json()), Some(now.clone()));
}

#[test]
fn a_linked_shift_names_the_rotation_it_comes_from() {
    let text = r#"
[teams.ops]
name = "Ops"
[people.ann]
name = "Ann"
email = "ann@example.com"
team = "ops"
[people.bo]
name = "Bo"
team = "ops"
[rotations.hero-rota]
name = "Support Hero"
members = ["ann", "bo"]
timezone = "UTC"
start = "2026-11-02T09:00"
every = "1 week"
[rotations.ops-secondary]
name = "Ops secondary"
team = "ops"
members = ["bo", "ann"]
timezone = "UTC"
start = "2026-11-02T09:00"
every = "1 week"
[[links]]
from = "hero-rota"
to = ["ops-secondary"]
displaced = "skip"
"#;
    let s = Schedule::load(&[("s.toml", text)]).unwrap();
    let (send, _) = plan_reminders(&s, &PlanConfig::default(), t("2026-11-26T09:00:00Z"));
    let p = send
        .iter()
        .find(|p| p.key.starts_with("reminder/ops-secondary/"))
        .unwrap();
    let r = render(p, t("2026-11-26T09:00:00Z"));
    assert!(
        r.text
            .contains("linked: on call in Support Hero and a member of this rotation's team"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("hero-rota"), "{}", r.text);
    assert!(r.subject.contains("Ops secondary"), "{}", r.subject);
}

/// SCHEDULE plus a daily Platform secondary that the hero rotation is linked into.
fn linked_daily() -> Schedule {
    let secondary = r#"
[rotations.platform-secondary]
name = "Platform secondary"
team = "platform"
members = ["carol", "bob", "alice"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 day"
[[links]]
from = "support-hero"
to = ["platform-secondary"]
displaced = "skip"
"#;
    Schedule::load(&[("s.toml", SCHEDULE), ("secondary.toml", secondary)]).unwrap()
}

#[test]
fn a_linked_hero_week_is_one_secondary_reminder_under_the_plain_key() {
    let s = linked_daily();
    // Bob's hero week is slot 4 (Mon 30 Nov); in the daily secondary it is slots 28 to 34.
    // A week before it, every day of the linked week falls due over the following days; only
    // the week's first slot is ever reminded, with the key a plain shift of that slot has.
    let mut keys = HashSet::new();
    let mut hours = 0;
    while hours <= 7 * 24 {
        let now = t("2026-11-23T08:00:00Z") + chrono::Duration::hours(hours);
        let (send, sup) = plan_reminders(&s, &PlanConfig::default(), now);
        for p in send.iter().chain(&sup).filter(|p| p.to.id == "bob") {
            keys.insert(p.key.clone());
            if let Content::Reminder { shift, .. } = &p.content
                && shift.rotation == "platform-secondary"
            {
                // The message says when the stretch ends, not the first day.
                assert_eq!(
                    (shift.start, shift.end),
                    (t("2026-11-30T09:00:00Z"), t("2026-12-07T09:00:00Z"))
                );
            }
        }
        hours += 1;
    }
    let mut keys: Vec<String> = keys.into_iter().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "reminder/platform-secondary/28/bob/P1D",
            "reminder/platform-secondary/28/bob/P7D",
            "reminder/support-hero/4/bob/P1D",
            "reminder/support-hero/4/bob/P7D",
        ]
    );
    // Once the stretch has started, its later slots are not reminded one by one.
    let (send, _) = plan_reminders(&s, &PlanConfig::default(), t("2026-12-01T12:00:00Z"));
    assert!(
        !send.iter().any(|p| p.to.id == "bob"),
        "{:?}",
        send.iter().map(|p| &p.key).collect::<Vec<_>>()
    );
}

#[test]
fn a_hero_away_in_a_linked_week_gets_one_conflict_email_naming_the_linked_week() {
    use rota_core::timeoff::{Absence, TimeOff};
    let s = linked_daily();
    let mut off = TimeOff::new();
    // Bob is away Wednesday to Saturday of his hero week (slot 4, from Mon 30 Nov).
    off.add(
        "bob",
        Absence {
            start: t("2026-12-02T00:00:00Z"),
            end: t("2026-12-05T00:00:00Z"),
            summary: "Ski trip".into(),
        },
    );
    let now = t("2026-11-20T12:00:00Z");
    let planned = plan::plan_conflicts(&s, &off, now, None);
    let keys: Vec<&str> = planned.iter().map(|p| p.key.as_str()).collect();
    // One message, keyed as a hero conflict always was; no one per secondary day.
    assert_eq!(keys, ["conflict:bob:support-hero:4:1796029200"]);
    let Content::Conflict(c) = &planned[0].content else {
        panic!()
    };
    assert_eq!(
        c.linked,
        [(
            "Platform secondary".to_string(),
            t("2026-11-30T09:00:00Z"),
            t("2026-12-07T09:00:00Z")
        )]
    );
    let r = render(&planned[0], now);
    assert!(
        r.text
            .contains("also puts you on call in Platform secondary from"),
        "{}",
        r.text
    );
}

/// A rotation on call in office hours only (Monday to Friday 09:00-17:00 London, weekly turns)
/// and a weekend layer over a weekday one: one reminder per turn and lead, not one per day, and
/// the reminder says when the turn ends (Friday 17:00), across the nights nobody is on call.
#[test]
fn restricted_and_layered_turns_are_reminded_once_per_turn() {
    let text = r#"
[people.alice]
name = "Alice"
email = "alice@example.com"
timezone = "Europe/London"
[people.bob]
name = "Bob"
email = "bob@example.com"
timezone = "Europe/London"
[people.dave]
name = "Dave"
email = "dave@example.com"
timezone = "Europe/London"
[rotations.office]
name = "Office"
members = ["alice", "bob"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
active = ["Mon-Fri 09:00-17:00"]
[rotations.primary]
name = "Primary"
timezone = "Europe/London"
[[rotations.primary.layers]]
members = ["alice", "bob"]
start = "2026-11-02T09:00"
every = "1 week"
[[rotations.primary.layers]]
id = "weekend"
members = ["dave"]
start = "2026-11-06T17:00"
every = "1 week"
active = ["Fri 17:00-Mon 09:00"]
"#;
    let s = Schedule::load(&[("s.toml", text)]).unwrap();
    // Every hour of the week before Bob's office week (slot 1, Mon 9 Nov), and through it: his
    // reminders for it are the 7-day and 1-day ones, under the plain key, and nothing per day.
    let mut keys = std::collections::BTreeSet::new();
    let mut ends = std::collections::BTreeSet::new();
    let mut now = t("2026-11-02T00:00:00Z");
    while now < t("2026-11-14T00:00:00Z") {
        let (send, _) = plan_reminders(&s, &PlanConfig::default(), now);
        for p in send
            .iter()
            .filter(|p| p.key.starts_with("reminder/office/1/"))
        {
            keys.insert(p.key.clone());
            let Content::Reminder { shift, .. } = &p.content else {
                panic!("{}", p.key)
            };
            ends.insert(shift.end);
        }
        now += Duration::hours(1);
    }
    let keys: Vec<String> = keys.into_iter().collect();
    assert_eq!(
        keys,
        ["reminder/office/1/bob/P1D", "reminder/office/1/bob/P7D"]
    );
    assert_eq!(
        ends.into_iter().collect::<Vec<_>>(),
        [t("2026-11-13T17:00:00Z")]
    );
    // The weekend layer's person is reminded before Friday 17:00, under its tagged slot.
    let (send, _) = plan_reminders(&s, &PlanConfig::default(), t("2026-11-05T17:00:00Z"));
    let dave: Vec<&str> = send
        .iter()
        .filter(|p| p.key.starts_with("reminder/primary/") && p.key.contains("/dave/"))
        .map(|p| p.key.as_str())
        .collect();
    assert_eq!(dave.len(), 1, "{dave:?}");
    let slot: u64 = dave[0].split('/').nth(2).unwrap().parse().unwrap();
    assert!(slot >= 1 << 40, "{slot}");
    assert_eq!(
        s.base_shift("primary", slot).unwrap().unwrap().start,
        t("2026-11-06T17:00:00Z")
    );
}
