//! The time rules (the README's "Time rules" and the `rota_core::tz` docs), pinned by table tests and brute-force sweeps.
//!
//! - A handoff is a wall-clock time in the rotation's zone: it stays fixed across DST.
//! - A handoff in a gap moves forward by the gap's length; a handoff in a fold takes the earlier
//!   offset (RFC 5545).
//! - A shift squeezed to zero length is left out, and its turn still counts.
//! - Handoff n is computed from `start`: decades later it is still at the same local time.
//!
//! Every table row is a whole resolved shift, `person start .. end`, both shown with their offset
//! in the rotation's zone; rows at a DST change carry a comment saying why they look as they do.
//! The sweeps step through several days around each change every 7 minutes and compare what
//! rota-core answers with an oracle written here from the rules alone.

mod common;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use common::{MEMBERS, local, one_rotation, show, utc};
use rota_core::Tz;
use rota_core::tz::{parse_civil, parse_instant};

/// A rotation of members a, b, c: zone, civil start, and `every` (or an rrule, which has a `=`).
#[derive(Clone, Copy, Debug)]
struct Rot(&'static str, &'static str, &'static str);

/// Resolves the shifts of `rot` overlapping `window` (each end RFC 3339, or a date meaning
/// midnight in the rotation's zone) and compares them, as `person start .. end` in the rotation's
/// zone, with `want`. Also checks that `on_call` agrees with every shift at its first and last
/// second.
fn check(rot: Rot, window: (&str, &str), want: &[&str]) {
    let s = one_rotation(rot.0, rot.1, rot.2);
    let tz = s.rotation("r").unwrap().timezone;
    let from = parse_instant(window.0, tz).unwrap();
    let to = parse_instant(window.1, tz).unwrap();
    let shifts = s.shifts("r", from, to).unwrap();
    let got: Vec<String> = shifts
        .iter()
        .map(|sh| {
            format!(
                "{} {} .. {}",
                sh.person.id,
                local(sh.start, tz),
                local(sh.end, tz)
            )
        })
        .collect();
    assert_eq!(got, want, "{rot:?} over {window:?}");
    for sh in &shifts {
        assert_eq!(sh.source.as_str(), "rotation");
        assert_eq!(sh.person.id, MEMBERS[sh.slot as usize % 3], "{}", show(sh));
        let last = sh.end - TimeDelta::seconds(1);
        for t in [sh.start, last] {
            let at = s.on_call("r", t).unwrap();
            assert_eq!(at.as_ref(), Some(sh), "on_call at {}", local(t, tz));
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Tables
// ------------------------------------------------------------------------------------------------

#[test]
fn london() {
    // Weekly, Mondays 09:00, across spring forward (Sunday 2027-03-28, 01:00 GMT -> 02:00 BST).
    check(
        Rot("Europe/London", "2027-03-22T09:00", "1 week"),
        ("2027-03-22", "2027-04-06"),
        &[
            // 09:00 GMT to 09:00 BST: 6 days 23 hours; the wall-clock time stays 09:00
            "a 2027-03-22T09:00:00+00:00 .. 2027-03-29T09:00:00+01:00",
            "b 2027-03-29T09:00:00+01:00 .. 2027-04-05T09:00:00+01:00",
            "c 2027-04-05T09:00:00+01:00 .. 2027-04-12T09:00:00+01:00",
        ],
    );
    // Weekly across fall back (Sunday 2026-10-25, 02:00 BST -> 01:00 GMT).
    check(
        Rot("Europe/London", "2026-10-19T09:00", "1 week"),
        ("2026-10-19", "2026-11-03"),
        &[
            // 09:00 BST to 09:00 GMT: 7 days 1 hour
            "a 2026-10-19T09:00:00+01:00 .. 2026-10-26T09:00:00+00:00",
            "b 2026-10-26T09:00:00+00:00 .. 2026-11-02T09:00:00+00:00",
            "c 2026-11-02T09:00:00+00:00 .. 2026-11-09T09:00:00+00:00",
        ],
    );
    // "12 hours" hands off at 09:00 and 21:00 local all year.
    check(
        Rot("Europe/London", "2027-03-27T09:00", "12 hours"),
        ("2027-03-27", "2027-03-29"),
        &[
            "a 2027-03-27T09:00:00+00:00 .. 2027-03-27T21:00:00+00:00",
            // the night of the change: 21:00 GMT to 09:00 BST is 11 hours
            "b 2027-03-27T21:00:00+00:00 .. 2027-03-28T09:00:00+01:00",
            "c 2027-03-28T09:00:00+01:00 .. 2027-03-28T21:00:00+01:00",
            "a 2027-03-28T21:00:00+01:00 .. 2027-03-29T09:00:00+01:00",
        ],
    );
    // Hourly across the gap: 01:00 does not exist on 2027-03-28.
    check(
        Rot("Europe/London", "2027-03-27T22:00", "1 hour"),
        ("2027-03-27T23:00:00+00:00", "2027-03-28T03:00:00+01:00"),
        &[
            "b 2027-03-27T23:00:00+00:00 .. 2027-03-28T00:00:00+00:00",
            // the 01:00 handoff moves forward by the gap (one hour) to 02:00 BST, the instant of
            // the 02:00 handoff: a's 01:00 shift is squeezed to zero and left out ...
            "c 2027-03-28T00:00:00+00:00 .. 2027-03-28T02:00:00+01:00",
            // ... but a's turn still counts: b, not a, has 02:00
            "b 2027-03-28T02:00:00+01:00 .. 2027-03-28T03:00:00+01:00",
        ],
    );
    // Hourly at half past across the gap.
    check(
        Rot("Europe/London", "2027-03-28T00:30", "1 hour"),
        ("2027-03-28T00:30:00+00:00", "2027-03-28T03:30:00+01:00"),
        &[
            // 01:30 is in the gap: moved to 02:30 BST, where the 02:30 handoff is; b's shift has
            // zero length and is left out, so a's shift runs into c's
            "a 2027-03-28T00:30:00+00:00 .. 2027-03-28T02:30:00+01:00",
            "c 2027-03-28T02:30:00+01:00 .. 2027-03-28T03:30:00+01:00",
        ],
    );
    // Hourly across the fold: 01:00-02:00 happens twice on 2026-10-25.
    check(
        Rot("Europe/London", "2026-10-24T23:00", "1 hour"),
        ("2026-10-25T00:00:00+01:00", "2026-10-25T03:00:00+00:00"),
        &[
            "b 2026-10-25T00:00:00+01:00 .. 2026-10-25T01:00:00+01:00",
            // 01:00 takes the earlier offset (BST); the next handoff is 02:00 GMT, so this shift
            // lasts two hours (the repeated 01:00 GMT is no handoff)
            "c 2026-10-25T01:00:00+01:00 .. 2026-10-25T02:00:00+00:00",
            "a 2026-10-25T02:00:00+00:00 .. 2026-10-25T03:00:00+00:00",
        ],
    );
    // Split weeks (Monday and Thursday 09:00) across spring forward.
    check(
        Rot(
            "Europe/London",
            "2027-03-22T09:00",
            "FREQ=WEEKLY;BYDAY=MO,TH",
        ),
        ("2027-03-25", "2027-03-30"),
        &[
            "a 2027-03-22T09:00:00+00:00 .. 2027-03-25T09:00:00+00:00",
            // Thursday GMT to Monday BST: 3 days 23 hours, still 09:00 local at both ends
            "b 2027-03-25T09:00:00+00:00 .. 2027-03-29T09:00:00+01:00",
            "c 2027-03-29T09:00:00+01:00 .. 2027-04-01T09:00:00+01:00",
        ],
    );
    // Several BYHOUR values on the DST day (rrule 0.14 mishandles these in a zone; rota
    // expands rules in civil time).
    check(
        Rot(
            "Europe/London",
            "2027-03-27T00:00",
            "FREQ=DAILY;BYHOUR=0,1,2",
        ),
        ("2027-03-28", "2027-03-29"),
        &[
            // 01:00 is in the gap: moved to 02:00 BST, onto the 02:00 handoff; b's shift is
            // squeezed out, a's runs to 02:00 BST (one real hour)
            "a 2027-03-28T00:00:00+00:00 .. 2027-03-28T02:00:00+01:00",
            "c 2027-03-28T02:00:00+01:00 .. 2027-03-29T00:00:00+01:00",
        ],
    );
    // An hourly rrule behaves exactly like `every = "1 hour"` on the DST day (rrule 0.14 emits
    // duplicates or skips here when given the zone).
    check(
        Rot("Europe/London", "2027-03-28T00:00", "FREQ=HOURLY"),
        ("2027-03-28T00:00:00+00:00", "2027-03-28T04:00:00+01:00"),
        &[
            // 01:00 (b) is in the gap and squeezed to zero: left out, turn counted
            "a 2027-03-28T00:00:00+00:00 .. 2027-03-28T02:00:00+01:00",
            "c 2027-03-28T02:00:00+01:00 .. 2027-03-28T03:00:00+01:00",
            "a 2027-03-28T03:00:00+01:00 .. 2027-03-28T04:00:00+01:00",
        ],
    );
    // An rrule rotation whose start is in the gap (rrule 0.14 refuses such a DTSTART).
    check(
        Rot("Europe/London", "2027-03-28T01:30", "FREQ=WEEKLY"),
        ("2027-03-27", "2027-04-12"),
        &[
            // the first handoff, 01:30, does not exist that day: it moves to 02:30 BST; the
            // following handoffs are back at 01:30
            "a 2027-03-28T02:30:00+01:00 .. 2027-04-04T01:30:00+01:00",
            "b 2027-04-04T01:30:00+01:00 .. 2027-04-11T01:30:00+01:00",
            "c 2027-04-11T01:30:00+01:00 .. 2027-04-18T01:30:00+01:00",
        ],
    );
}

#[test]
fn chicago() {
    // Daily 02:30 across spring forward (2027-03-14, 02:00 CST -> 03:00 CDT).
    check(
        Rot("America/Chicago", "2027-03-12T02:30", "1 day"),
        ("2027-03-12", "2027-03-17"),
        &[
            "a 2027-03-12T02:30:00-06:00 .. 2027-03-13T02:30:00-06:00",
            // 02:30 is in the gap: moved forward by the hour to 03:30 CDT
            "b 2027-03-13T02:30:00-06:00 .. 2027-03-14T03:30:00-05:00",
            // back at 02:30 the next day: this shift is 23 hours long
            "c 2027-03-14T03:30:00-05:00 .. 2027-03-15T02:30:00-05:00",
            "a 2027-03-15T02:30:00-05:00 .. 2027-03-16T02:30:00-05:00",
            "b 2027-03-16T02:30:00-05:00 .. 2027-03-17T02:30:00-05:00",
        ],
    );
    // Daily 01:30 across fall back (2026-11-01, 02:00 CDT -> 01:00 CST).
    check(
        Rot("America/Chicago", "2026-10-30T01:30", "1 day"),
        ("2026-10-31", "2026-11-03"),
        &[
            "a 2026-10-30T01:30:00-05:00 .. 2026-10-31T01:30:00-05:00",
            // 01:30 happens twice on 2026-11-01: the first (CDT) is taken
            "b 2026-10-31T01:30:00-05:00 .. 2026-11-01T01:30:00-05:00",
            // so this shift is 25 hours long
            "c 2026-11-01T01:30:00-05:00 .. 2026-11-02T01:30:00-06:00",
            "a 2026-11-02T01:30:00-06:00 .. 2026-11-03T01:30:00-06:00",
        ],
    );
    // Split weeks across spring forward.
    check(
        Rot(
            "America/Chicago",
            "2027-03-08T09:00",
            "FREQ=WEEKLY;BYDAY=MO,TH",
        ),
        ("2027-03-11", "2027-03-16"),
        &[
            "a 2027-03-08T09:00:00-06:00 .. 2027-03-11T09:00:00-06:00",
            // Thursday CST to Monday CDT: 4 days less an hour
            "b 2027-03-11T09:00:00-06:00 .. 2027-03-15T09:00:00-05:00",
            "c 2027-03-15T09:00:00-05:00 .. 2027-03-18T09:00:00-05:00",
        ],
    );
    // Twice daily by rrule across fall back.
    check(
        Rot(
            "America/Chicago",
            "2026-10-31T09:00",
            "FREQ=DAILY;BYHOUR=9,21",
        ),
        ("2026-10-31T09:00:00-05:00", "2026-11-02T09:00:00-06:00"),
        &[
            "a 2026-10-31T09:00:00-05:00 .. 2026-10-31T21:00:00-05:00",
            // clocks fall back overnight: 21:00 CDT to 09:00 CST is 13 hours
            "b 2026-10-31T21:00:00-05:00 .. 2026-11-01T09:00:00-06:00",
            "c 2026-11-01T09:00:00-06:00 .. 2026-11-01T21:00:00-06:00",
            "a 2026-11-01T21:00:00-06:00 .. 2026-11-02T09:00:00-06:00",
        ],
    );
    // Several BYHOUR values, one of them in the gap.
    check(
        Rot(
            "America/Chicago",
            "2027-03-13T00:00",
            "FREQ=DAILY;BYHOUR=0,2,4",
        ),
        ("2027-03-14", "2027-03-14T05:00:00-05:00"),
        &[
            // 02:00 is in the gap (02:00-03:00): moved to 03:00 CDT; a's shift is 2 real hours
            "a 2027-03-14T00:00:00-06:00 .. 2027-03-14T03:00:00-05:00",
            // and b's is one
            "b 2027-03-14T03:00:00-05:00 .. 2027-03-14T04:00:00-05:00",
            "c 2027-03-14T04:00:00-05:00 .. 2027-03-15T00:00:00-05:00",
        ],
    );
    // Several BYHOUR values, one of them in the fold.
    check(
        Rot(
            "America/Chicago",
            "2026-10-31T00:00",
            "FREQ=DAILY;BYHOUR=0,1,2",
        ),
        ("2026-11-01", "2026-11-02"),
        &[
            "a 2026-11-01T00:00:00-05:00 .. 2026-11-01T01:00:00-05:00",
            // 01:00 happens twice: the first (CDT) is taken, and the shift lasts two hours
            "b 2026-11-01T01:00:00-05:00 .. 2026-11-01T02:00:00-06:00",
            "c 2026-11-01T02:00:00-06:00 .. 2026-11-02T00:00:00-06:00",
        ],
    );
    // Hourly across spring forward: 02:00 is the gap.
    check(
        Rot("America/Chicago", "2027-03-14T00:00", "1 hour"),
        ("2027-03-14T01:00:00-06:00", "2027-03-14T04:00:00-05:00"),
        &[
            // 02:00 moves to 03:00 CDT, the 03:00 handoff: c's shift is squeezed out
            "b 2027-03-14T01:00:00-06:00 .. 2027-03-14T03:00:00-05:00",
            // and a (after c) is next
            "a 2027-03-14T03:00:00-05:00 .. 2027-03-14T04:00:00-05:00",
        ],
    );
}

#[test]
fn lord_howe() {
    // 30-minute DST: 2026-10-04 02:00 +10:30 -> 02:30 +11:00; 2027-04-04 02:00 +11:00 -> 01:30
    // +10:30.
    check(
        Rot("Australia/Lord_Howe", "2026-10-03T02:15", "1 day"),
        ("2026-10-03", "2026-10-06"),
        &[
            // 02:15 is in the 30-minute gap: moved forward 30 minutes to 02:45
            "a 2026-10-03T02:15:00+10:30 .. 2026-10-04T02:45:00+11:00",
            "b 2026-10-04T02:45:00+11:00 .. 2026-10-05T02:15:00+11:00",
            "c 2026-10-05T02:15:00+11:00 .. 2026-10-06T02:15:00+11:00",
        ],
    );
    check(
        Rot("Australia/Lord_Howe", "2026-10-04T00:00", "1 hour"),
        ("2026-10-04T01:00:00+10:30", "2026-10-04T04:00:00+11:00"),
        &[
            // 02:00 is in the gap (02:00-02:30): moved to 02:30 +11:00
            "b 2026-10-04T01:00:00+10:30 .. 2026-10-04T02:30:00+11:00",
            // shortened to 30 minutes, but not squeezed out
            "c 2026-10-04T02:30:00+11:00 .. 2026-10-04T03:00:00+11:00",
            "a 2026-10-04T03:00:00+11:00 .. 2026-10-04T04:00:00+11:00",
        ],
    );
    check(
        Rot("Australia/Lord_Howe", "2027-04-03T23:45", "1 hour"),
        ("2027-04-04T00:45:00+11:00", "2027-04-04T03:00:00+10:30"),
        &[
            "b 2027-04-04T00:45:00+11:00 .. 2027-04-04T01:45:00+11:00",
            // 01:45 happens twice (01:30-02:00): the earlier (+11:00) is taken, so this shift
            // lasts 90 minutes
            "c 2027-04-04T01:45:00+11:00 .. 2027-04-04T02:45:00+10:30",
            "a 2027-04-04T02:45:00+10:30 .. 2027-04-04T03:45:00+10:30",
        ],
    );
    // Weekly across the end of DST: 30 minutes longer.
    check(
        Rot("Australia/Lord_Howe", "2027-03-29T09:00", "1 week"),
        ("2027-03-29", "2027-04-06"),
        &[
            // Monday 09:00 +11:00 to Monday 09:00 +10:30: 7 days and 30 minutes
            "a 2027-03-29T09:00:00+11:00 .. 2027-04-05T09:00:00+10:30",
            "b 2027-04-05T09:00:00+10:30 .. 2027-04-12T09:00:00+10:30",
        ],
    );
}

#[test]
fn apia() {
    // Samoa skipped Friday 2011-12-30: 2011-12-29 23:59:59 -10:00 was followed by 2011-12-31
    // 00:00:00 +14:00. A daily handoff on the 30th moves forward by the gap (a whole day) onto
    // the 31st's handoff.
    check(
        Rot("Pacific/Apia", "2011-12-28T09:00", "1 day"),
        ("2011-12-28", "2012-01-02"),
        &[
            "a 2011-12-28T09:00:00-10:00 .. 2011-12-29T09:00:00-10:00",
            // the 30th never happened: c's turn lands on the 31st's handoff with zero length and
            // is left out; b's shift lasts 24 real hours
            "b 2011-12-29T09:00:00-10:00 .. 2011-12-31T09:00:00+14:00",
            // c's turn still counted: a is next
            "a 2011-12-31T09:00:00+14:00 .. 2012-01-01T09:00:00+14:00",
            "b 2012-01-01T09:00:00+14:00 .. 2012-01-02T09:00:00+14:00",
        ],
    );
    check(
        Rot("Pacific/Apia", "2011-12-29T06:00", "12 hours"),
        ("2011-12-29T06:00:00-10:00", "2011-12-31T18:00:00+14:00"),
        &[
            "a 2011-12-29T06:00:00-10:00 .. 2011-12-29T18:00:00-10:00",
            // both handoffs of the 30th (c's 06:00 and a's 18:00) are squeezed out
            "b 2011-12-29T18:00:00-10:00 .. 2011-12-31T06:00:00+14:00",
            // so b hands over to b: slot 4 is b's turn again
            "b 2011-12-31T06:00:00+14:00 .. 2011-12-31T18:00:00+14:00",
        ],
    );
    // Hourly: the 24 handoffs of the skipped day all collapse onto 2011-12-31 00:00.
    check(
        Rot("Pacific/Apia", "2011-12-29T22:00", "1 hour"),
        ("2011-12-29T22:00:00-10:00", "2011-12-31T02:00:00+14:00"),
        &[
            "a 2011-12-29T22:00:00-10:00 .. 2011-12-29T23:00:00-10:00",
            // slots 2 to 25 (00:00 to 23:00 on the 30th) are squeezed out
            "b 2011-12-29T23:00:00-10:00 .. 2011-12-31T00:00:00+14:00",
            // slot 26 (00:00 on the 31st): 26 mod 3 = 2, c
            "c 2011-12-31T00:00:00+14:00 .. 2011-12-31T01:00:00+14:00",
            "a 2011-12-31T01:00:00+14:00 .. 2011-12-31T02:00:00+14:00",
        ],
    );
    // Samoa's DST ended 2011-04-02 04:00 -10:00 -> 03:00 -11:00 (03:00-04:00 twice) ...
    check(
        Rot("Pacific/Apia", "2011-04-01T03:30", "1 day"),
        ("2011-04-01T12:00:00-10:00", "2011-04-02T12:00:00-11:00"),
        &[
            // 03:30 on the 2nd happens twice: the earlier (-10:00) is taken, a 24-hour shift
            "a 2011-04-01T03:30:00-10:00 .. 2011-04-02T03:30:00-10:00",
            // and the next is 25 hours
            "b 2011-04-02T03:30:00-10:00 .. 2011-04-03T03:30:00-11:00",
        ],
    );
    // ... and began 2011-09-24 03:00 -11:00 -> 04:00 -10:00.
    check(
        Rot("Pacific/Apia", "2011-09-23T03:30", "1 day"),
        ("2011-09-23T12:00:00-11:00", "2011-09-24T12:00:00-10:00"),
        &[
            // 03:30 is in the gap: moved forward an hour to 04:30
            "a 2011-09-23T03:30:00-11:00 .. 2011-09-24T04:30:00-10:00",
            "b 2011-09-24T04:30:00-10:00 .. 2011-09-25T03:30:00-10:00",
        ],
    );
}

#[test]
fn kolkata() {
    // +05:30 all year: a week is always exactly 168 hours, whatever other zones do that week.
    check(
        Rot("Asia/Kolkata", "2027-03-22T09:00", "1 week"),
        ("2027-03-22", "2027-04-06"),
        &[
            "a 2027-03-22T09:00:00+05:30 .. 2027-03-29T09:00:00+05:30",
            "b 2027-03-29T09:00:00+05:30 .. 2027-04-05T09:00:00+05:30",
            "c 2027-04-05T09:00:00+05:30 .. 2027-04-12T09:00:00+05:30",
        ],
    );
    check(
        Rot("Asia/Kolkata", "2026-10-31T21:00", "FREQ=DAILY;BYHOUR=9,21"),
        ("2026-11-01", "2026-11-02"),
        &[
            "a 2026-10-31T21:00:00+05:30 .. 2026-11-01T09:00:00+05:30",
            "b 2026-11-01T09:00:00+05:30 .. 2026-11-01T21:00:00+05:30",
            "c 2026-11-01T21:00:00+05:30 .. 2026-11-02T09:00:00+05:30",
        ],
    );
    check(
        Rot("Asia/Kolkata", "2027-03-13T02:30", "1 hour"),
        ("2027-03-14T02:00:00+05:30", "2027-03-14T04:00:00+05:30"),
        &[
            // 23 hours after the start: slot 23, c (the night Chicago skips 02:00 is plain here)
            "c 2027-03-14T01:30:00+05:30 .. 2027-03-14T02:30:00+05:30",
            "a 2027-03-14T02:30:00+05:30 .. 2027-03-14T03:30:00+05:30",
            "b 2027-03-14T03:30:00+05:30 .. 2027-03-14T04:30:00+05:30",
        ],
    );
}

#[test]
fn santiago() {
    // Chile changes its clocks at midnight: 2026-09-06 00:00 -04 -> 01:00 -03 (gap), and
    // 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04 (23:00-24:00 on the 4th happens twice).
    check(
        Rot("America/Santiago", "2026-09-04T00:00", "1 day"),
        ("2026-09-04", "2026-09-08"),
        &[
            "a 2026-09-04T00:00:00-04:00 .. 2026-09-05T00:00:00-04:00",
            // midnight of the 6th does not exist: the handoff moves to 01:00 -03
            "b 2026-09-05T00:00:00-04:00 .. 2026-09-06T01:00:00-03:00",
            // back at midnight the next day: 23 hours
            "c 2026-09-06T01:00:00-03:00 .. 2026-09-07T00:00:00-03:00",
            "a 2026-09-07T00:00:00-03:00 .. 2026-09-08T00:00:00-03:00",
        ],
    );
    check(
        Rot("America/Santiago", "2026-04-03T23:30", "1 day"),
        ("2026-04-04T00:00:00-03:00", "2026-04-06T00:00:00-04:00"),
        &[
            // 23:30 on the 4th happens twice: the earlier (-03) is taken
            "a 2026-04-03T23:30:00-03:00 .. 2026-04-04T23:30:00-03:00",
            // so this shift is 25 hours
            "b 2026-04-04T23:30:00-03:00 .. 2026-04-05T23:30:00-04:00",
            "c 2026-04-05T23:30:00-04:00 .. 2026-04-06T23:30:00-04:00",
        ],
    );
    // Weekly, Sundays at midnight.
    check(
        Rot("America/Santiago", "2026-08-30T00:00", "1 week"),
        ("2026-08-30", "2026-09-13"),
        &[
            // Sunday midnight is skipped on the 6th: the handoff is at 01:00 -03
            "a 2026-08-30T00:00:00-04:00 .. 2026-09-06T01:00:00-03:00",
            // and back at midnight a week later
            "b 2026-09-06T01:00:00-03:00 .. 2026-09-13T00:00:00-03:00",
        ],
    );
    check(
        Rot(
            "America/Santiago",
            "2026-09-05T00:00",
            "FREQ=DAILY;BYHOUR=0,12",
        ),
        ("2026-09-05T12:00:00-04:00", "2026-09-06T12:00:00-03:00"),
        &[
            // midnight moves forward an hour to 01:00 -03: still 12 real hours after noon -04
            "b 2026-09-05T12:00:00-04:00 .. 2026-09-06T01:00:00-03:00",
            // and 11 hours to noon
            "c 2026-09-06T01:00:00-03:00 .. 2026-09-06T12:00:00-03:00",
        ],
    );
    // Split weeks (Saturday and Tuesday 00:00) across the midnight fold: 2026-04-04 is a
    // Saturday, whose 24:00 is followed by 23:00 again.
    check(
        Rot(
            "America/Santiago",
            "2026-03-28T00:00",
            "FREQ=WEEKLY;BYDAY=SA,TU",
        ),
        ("2026-04-04", "2026-04-08"),
        &[
            // Saturday 00:00 -03 to Tuesday 00:00 -04: three days and an hour
            "c 2026-04-04T00:00:00-03:00 .. 2026-04-07T00:00:00-04:00",
            "a 2026-04-07T00:00:00-04:00 .. 2026-04-11T00:00:00-04:00",
        ],
    );
}

/// Handoff n is computed from `start`, never from handoff n - 1: decades of DST changes later
/// it is still at the same wall-clock time, and the member is `members[n mod 3]`.
#[test]
fn decades_later() {
    // 2026-11-02 to 2076-11-02 is 18,263 days, 2,609 weeks: 2609 mod 3 = 2, c.
    check(
        Rot("Europe/London", "2026-11-02T09:00", "1 week"),
        ("2076-11-02T09:00:00+00:00", "2076-11-10"),
        &[
            "c 2076-11-02T09:00:00+00:00 .. 2076-11-09T09:00:00+00:00",
            "a 2076-11-09T09:00:00+00:00 .. 2076-11-16T09:00:00+00:00",
        ],
    );
    // 17 weeks earlier (slot 2592, a), in summer time: still 09:00 local.
    check(
        Rot("Europe/London", "2026-11-02T09:00", "1 week"),
        ("2076-07-06T09:00:00+01:00", "2076-07-13T09:00:00+01:00"),
        &["a 2076-07-06T09:00:00+01:00 .. 2076-07-13T09:00:00+01:00"],
    );
    // Lord Howe, daily at 02:15: 2066-10-03 (14,610 days after the start, slot 14610, a) is the
    // first Sunday of October, when DST starts: 02:15 is in the gap, forty years on.
    check(
        Rot("Australia/Lord_Howe", "2026-10-03T02:15", "1 day"),
        ("2066-10-02T02:15:00+10:30", "2066-10-05"),
        &[
            // slot 14609: c
            "c 2066-10-02T02:15:00+10:30 .. 2066-10-03T02:45:00+11:00",
            // moved forward 30 minutes, as on the first day
            "a 2066-10-03T02:45:00+11:00 .. 2066-10-04T02:15:00+11:00",
            "b 2066-10-04T02:15:00+11:00 .. 2066-10-05T02:15:00+11:00",
        ],
    );
    // Twelve-hourly in Chicago: 2 handoffs a day, 50 years of them.
    // 2026-11-02 to 2076-11-02 is 18,263 days: slot 36,526 (mod 3 = 1, b) at 09:00.
    check(
        Rot("America/Chicago", "2026-11-02T09:00", "12 hours"),
        ("2076-11-02T09:00:00-06:00", "2076-11-03T09:00:00-06:00"),
        &[
            "b 2076-11-02T09:00:00-06:00 .. 2076-11-02T21:00:00-06:00",
            "c 2076-11-02T21:00:00-06:00 .. 2076-11-03T09:00:00-06:00",
        ],
    );
}

/// Before its first handoff a rotation has nobody on call, and a range that straddles the start
/// begins with the first handoff.
#[test]
fn before_start() {
    // The start itself is in the gap: the first handoff is at 02:30 BST.
    let s = one_rotation("Europe/London", "2027-03-28T01:30", "1 day");
    let first = utc("2027-03-28T01:30:00Z");
    assert!(
        s.on_call("r", first - TimeDelta::seconds(1))
            .unwrap()
            .is_none()
    );
    assert_eq!(s.on_call("r", first).unwrap().unwrap().start, first);
    assert!(
        s.shifts("r", utc("2027-03-01T00:00:00Z"), first)
            .unwrap()
            .is_empty()
    );
    let v = s
        .shifts(
            "r",
            utc("2027-03-01T00:00:00Z"),
            utc("2027-03-29T00:00:00Z"),
        )
        .unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].start, first);
    assert_eq!(v[0].slot, 0);
    assert!(s.on_call_all(first - TimeDelta::seconds(1)).is_empty());
    // And in a fold: the first handoff is the earlier 01:30.
    let s = one_rotation("America/Chicago", "2026-11-01T01:30", "1 week");
    let first = utc("2026-11-01T06:30:00Z");
    assert!(
        s.on_call("r", first - TimeDelta::seconds(1))
            .unwrap()
            .is_none()
    );
    assert_eq!(s.on_call("r", first).unwrap().unwrap().start, first);
}

// ------------------------------------------------------------------------------------------------
// Sweeps
// ------------------------------------------------------------------------------------------------

/// The instant a civil handoff time becomes, by the rules alone (not by rota-core): a time that
/// happens once is that instant; in a fold, the earlier of the two; in a gap, the time read with
/// the offset in force before the gap (which is "moved forward by the gap's length").
fn rule_instant(tz: Tz, c: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&c) {
        chrono::LocalResult::Single(t) => t.timestamp(),
        chrono::LocalResult::Ambiguous(a, b) => a.timestamp().min(b.timestamp()),
        chrono::LocalResult::None => {
            // The last civil minute before the gap, and its offset.
            for k in 1..=2 * 24 * 60 {
                let before = c - TimeDelta::minutes(k);
                if let Some(t) = tz.from_local_datetime(&before).latest() {
                    return t.timestamp() + k * 60;
                }
            }
            panic!("no civil time before {c} in {tz}")
        }
    }
}

/// One rotation of a sweep and how its civil handoff times are computed: `civil(n)` is handoff
/// n's wall-clock time, written independently of rota-core.
struct Swept {
    rec: String,
    civil: Box<dyn Fn(i64) -> NaiveDateTime>,
}

fn swept(rec: impl Into<String>, civil: impl Fn(i64) -> NaiveDateTime + 'static) -> Swept {
    Swept {
        rec: rec.into(),
        civil: Box::new(civil),
    }
}

/// The rotations swept from `start`: every few hours, days and weeks, split weeks, and rrules
/// with several BYHOUR values.
fn family(start: NaiveDateTime) -> Vec<Swept> {
    let h = |n: i64| TimeDelta::hours(n);
    let d = |n: i64| TimeDelta::days(n); // on a NaiveDateTime this is civil arithmetic
    let wd = |k: u32| {
        ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
            [((start.weekday().num_days_from_monday() + k) % 7) as usize]
    };
    let hour = chrono::Timelike::hour(&start);
    vec![
        swept("1 hour", move |n| start + h(n)),
        swept("2 hours", move |n| start + h(2 * n)),
        swept("12 hours", move |n| start + h(12 * n)),
        swept("1 day", move |n| start + d(n)),
        swept("2 days", move |n| start + d(2 * n)),
        swept("1 week", move |n| start + d(7 * n)),
        swept(format!("FREQ=WEEKLY;BYDAY={},{}", wd(0), wd(3)), move |n| {
            start + d(n.div_euclid(2) * 7 + n.rem_euclid(2) * 3)
        }),
        swept(
            format!("FREQ=DAILY;BYHOUR={},{}", hour, (hour + 12) % 24),
            move |n| start + h(12 * n),
        ),
        swept(
            format!("FREQ=DAILY;BYHOUR={},{}", hour, (hour + 1) % 24),
            move |n| start + d(n.div_euclid(2)) + h(n.rem_euclid(2)),
        ),
        swept("FREQ=HOURLY;INTERVAL=3", move |n| start + h(3 * n)),
    ]
}

/// Sweeps `on_call` every 7 minutes over `[day - 2 days, day + 3 days)` (midnight in the zone)
/// for every rotation of [`family`] started two weeks before `day` at each of `times`.
fn sweep(zone: &str, day: &str, times: &[&str]) {
    let tz: Tz = zone.parse().unwrap();
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    let from = rule_instant(tz, (day - TimeDelta::days(2)).and_hms_opt(0, 0, 0).unwrap());
    let to = rule_instant(tz, (day + TimeDelta::days(3)).and_hms_opt(0, 0, 0).unwrap());
    for time in times {
        let start = parse_civil(&format!("{} {time}", day - TimeDelta::days(14))).unwrap();
        for rot in family(start) {
            sweep_one(tz, zone, start, &rot, from, to);
        }
    }
}

fn sweep_one(tz: Tz, zone: &str, start: NaiveDateTime, rot: &Swept, from: i64, to: i64) {
    let s = one_rotation(zone, &start.format("%Y-%m-%dT%H:%M").to_string(), &rot.rec);
    let what = format!("{zone} {start} {}", rot.rec);
    let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
    let mut cache: HashMap<i64, i64> = HashMap::new();
    // Handoff n's instant: the rule instant, except that a handoff moved forward out of a gap
    // never lands after a later handoff (instants stay in order): the least rule instant of the
    // handoffs from n on (those more than two civil days later cannot be earlier).
    let mut handoff = |n: i64| -> i64 {
        *cache.entry(n).or_insert_with(|| {
            let c = (rot.civil)(n);
            let mut best = rule_instant(tz, c);
            let mut j = n + 1;
            while (rot.civil)(j) <= c + TimeDelta::days(2) {
                best = best.min(rule_instant(tz, (rot.civil)(j)));
                j += 1;
            }
            best
        })
    };
    let first = handoff(0);
    let all = s.shifts("r", at(from), at(to)).unwrap();
    for w in all.windows(2) {
        assert_eq!(
            w[0].end,
            w[1].start,
            "{what}: not contiguous\n{}\n{}",
            show(&w[0]),
            show(&w[1])
        );
    }
    let mut prev: Option<rota_core::Shift<'_>> = None;
    let mut t = from;
    while t < to {
        let got = s.on_call("r", at(t)).unwrap();
        if t < first {
            assert!(
                got.is_none(),
                "{what}: on call at {} before the first handoff",
                local(at(t), tz)
            );
            t += 7 * 60;
            continue;
        }
        let sh = got.unwrap_or_else(|| panic!("{what}: nobody on call at {}", local(at(t), tz)));
        let ctx = || format!("{what}: at {}: {}", local(at(t), tz), show(&sh));
        assert!(sh.contains(at(t)), "{}", ctx());
        let n = sh.slot as i64;
        assert_eq!(sh.person.id, MEMBERS[n as usize % 3], "{}", ctx());
        assert_eq!(sh.source.as_str(), "rotation", "{}", ctx());
        assert_eq!(sh.start.timestamp(), handoff(n), "{}: start", ctx());
        assert_eq!(sh.end.timestamp(), handoff(n + 1), "{}: end", ctx());
        // The start's wall-clock time is handoff n's, or, when that time is in a gap, later by
        // the gap's length (the offset after the change minus the offset a day before).
        let wall = sh.start.with_timezone(&tz).naive_local();
        let c = (rot.civil)(n);
        if tz.from_local_datetime(&c).earliest().is_some() {
            assert_eq!(wall, c, "{}: wall clock", ctx());
        } else {
            let off = |t: DateTime<Utc>| {
                i64::from(
                    tz.offset_from_utc_datetime(&t.naive_utc())
                        .fix()
                        .local_minus_utc(),
                )
            };
            let gap = off(sh.start) - off(sh.start - TimeDelta::hours(25));
            assert!(gap > 0, "{}", ctx());
            assert_eq!(
                wall,
                c + TimeDelta::seconds(gap),
                "{}: moved by the gap",
                ctx()
            );
        }
        assert!(all.contains(&sh), "{}: not among shifts()", ctx());
        match &prev {
            Some(p) if p.slot == sh.slot => assert_eq!(p, &sh, "{}", ctx()),
            Some(p) => {
                assert_eq!(p.end, sh.start, "{}: after {}", ctx(), show(p));
                assert!(p.slot < sh.slot, "{}", ctx());
                // Slots in between were squeezed to zero length; their turns were counted.
                for k in p.slot as i64 + 1..n {
                    assert_eq!(handoff(k), handoff(k + 1), "{}: slot {k} skipped", ctx());
                }
                // The exact boundary: the last second of the previous shift, the first of this.
                let before = s.on_call("r", sh.start - TimeDelta::seconds(1)).unwrap();
                assert_eq!(before.as_ref(), Some(p), "{}", ctx());
                assert_eq!(s.on_call("r", sh.start).unwrap().as_ref(), Some(&sh));
            }
            None => {}
        }
        prev = Some(sh);
        t += 7 * 60;
    }
}

/// Local times around which the zones change their clocks, and a few away from them.
const TIMES: [&str; 9] = [
    "00:00", "00:30", "01:00", "01:30", "01:45", "02:00", "02:15", "02:30", "09:00",
];

#[test]
fn sweep_london() {
    sweep("Europe/London", "2027-03-28", &TIMES); // gap 01:00-02:00
    sweep("Europe/London", "2026-10-25", &TIMES); // fold 01:00-02:00
}

#[test]
fn sweep_chicago() {
    sweep("America/Chicago", "2027-03-14", &TIMES); // gap 02:00-03:00
    sweep("America/Chicago", "2026-11-01", &TIMES); // fold 01:00-02:00
}

#[test]
fn sweep_lord_howe() {
    sweep("Australia/Lord_Howe", "2026-10-04", &TIMES); // gap 02:00-02:30
    sweep("Australia/Lord_Howe", "2027-04-04", &TIMES); // fold 01:30-02:00
}

#[test]
fn sweep_apia() {
    // The whole of 2011-12-30 is a gap.
    sweep(
        "Pacific/Apia",
        "2011-12-30",
        &["00:00", "06:00", "09:00", "23:30"],
    );
    sweep("Pacific/Apia", "2011-04-02", &["03:00", "03:30", "09:00"]); // fold 03:00-04:00
    sweep("Pacific/Apia", "2011-09-24", &["03:00", "03:30", "09:00"]); // gap 03:00-04:00
}

#[test]
fn sweep_kolkata() {
    sweep("Asia/Kolkata", "2027-03-28", &["00:00", "02:30", "09:00"]);
}

#[test]
fn sweep_santiago() {
    // Changes at midnight: the gap is 00:00-01:00 on the 6th, the fold 23:00-24:00 on the 4th.
    sweep(
        "America/Santiago",
        "2026-09-06",
        &["00:00", "00:30", "09:00", "23:30"],
    );
    sweep(
        "America/Santiago",
        "2026-04-05",
        &["00:00", "23:00", "23:30", "09:00"],
    );
}
