//! The rules of `rota_core::timeoff`, pinned: conflicts between absences and resolved shifts,
//! who could trade for a conflicting shift and in what order, and the fairness report.
//!
//! - A conflict is any resolved shift (rotation, link or override) whose person is away for some
//!   of it; touching is not overlapping, and `away` counts overlapping absences once, inside the
//!   shift only.
//! - A suggestion needs a colleague free for the whole conflict, and a shift of theirs the absent
//!   person is free for; both shifts must be whole slots, unstarted and override-free. Ranking:
//!   not back-to-back, then lighter load after the trade, then the give-back closest to the
//!   conflict, then the person id.
//! - The report counts only the part of a shift inside its window, reads weekends and holidays
//!   on the person's own wall clock (23- and 25-hour days, and Samoa's missing day, included) and
//!   counts a swap as one override given and one taken on each side.
//! - "Given" is charged to the rotation's plan (who would be on call without that rotation's own
//!   overrides: the member, or whoever a link put there following the real hero), second by
//!   second; per rotation given equals taken, and hours = plan - given + taken.
//!
//! Every expected number is worked out by hand in a comment beside it. The suggestion schedules
//! hand off in Asia/Kolkata, which has no DST, so that a week is always 168 hours and the
//! fairness window (91 days either side) lands exactly on handoffs.

mod common;

use chrono::NaiveDate;
use common::{local, people_toml, utc};
use rota_core::timeoff::{Absence, Conflict, Holidays, Load, Report, Spread, Suggestion, TimeOff};
use rota_core::{Schedule, swap_overrides};

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

/// `secs` as `169h`, `10h30m` or `0h00m01s`: short enough for table rows, exact to the second.
fn hours(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (m, s) {
        (0, 0) => format!("{h}h"),
        (_, 0) => format!("{h}h{m:02}m"),
        _ => format!("{h}h{m:02}m{s:02}s"),
    }
}

fn absence(start: &str, end: &str, summary: &str) -> Absence {
    Absence {
        start: utc(start),
        end: utc(end),
        summary: summary.to_string(),
    }
}

/// A TimeOff from `(person, start, end)` rows (RFC 3339), each summarised by its index.
fn time_off(rows: &[(&str, &str, &str)]) -> TimeOff {
    let mut off = TimeOff::new();
    for (i, (person, start, end)) in rows.iter().enumerate() {
        off.add(person, absence(start, end, &format!("#{i}")));
    }
    off
}

/// A conflict as `rotation#slot person source start .. end away H [summaries]`, times in the
/// rotation's zone.
fn show_conflict(c: &Conflict<'_>) -> String {
    let x = &c.shift;
    let tz = x.rotation.timezone;
    let summaries: Vec<&str> = c.absences.iter().map(|a| a.summary.as_str()).collect();
    format!(
        "{}#{} {} {} {} .. {} away {} {summaries:?}",
        x.rotation.id,
        x.slot,
        x.person.id,
        x.source.as_str(),
        local(x.start, tz),
        local(x.end, tz),
        hours(c.away.num_seconds()),
    )
}

fn conflicts(s: &Schedule, off: &TimeOff, from: &str, to: &str) -> Vec<String> {
    s.conflicts(off, utc(from), utc(to))
        .unwrap()
        .iter()
        .map(show_conflict)
        .collect()
}

/// A suggestion as `person #give-back-slot load_before->load_after`, plus ` b2b` when taking the
/// shift would give them two turns in a row.
fn show_suggestion(x: &Suggestion<'_>) -> String {
    let part = |p: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
                what: &str| {
        p.map(|(a, b)| format!(" {what} {}", hours((b - a).num_seconds())))
            .unwrap_or_default()
    };
    format!(
        "{} #{} {}->{}{}{}{}",
        x.person().id,
        x.give_back.slot,
        hours(x.load_before.num_seconds()),
        hours(x.load_after.num_seconds()),
        if x.back_to_back { " b2b" } else { "" },
        part(x.part, "part"),
        part(x.give_back_part, "back")
    )
}

/// One rotation `r` of `members` (people of the same ids, no team, no zone), plus `extra` TOML
/// (overrides).
fn rotation(members: &[&str], zone: &str, start: &str, rec: &str, extra: &str) -> Schedule {
    let list: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
    let rec = if rec.contains('=') {
        format!("rrule = {rec:?}")
    } else {
        format!("every = {rec:?}")
    };
    let text = format!(
        "{}\n[rotations.r]\nmembers = [{}]\ntimezone = \"{zone}\"\nstart = \"{start}\"\n{rec}\n{extra}",
        people_toml(members),
        list.join(", "),
    );
    Schedule::load(&[("r.toml", &text)]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The weekly rotation most suggestion tests use: a, b, c, d, e, Mondays 09:00 in Kolkata (03:30Z)
/// from 2027-01-04, so slot n is `"abcde"[n % 5]`:
///
/// ```text
///  0 Jan 04 a    5 Feb 08 a   10 Mar 15 a   15 Apr 19 a
///  1 Jan 11 b    6 Feb 15 b   11 Mar 22 b   16 Apr 26 b
///  2 Jan 18 c    7 Feb 22 c   12 Mar 29 c   17 May 03 c
///  3 Jan 25 d    8 Mar 01 d   13 Apr 05 d   18 May 10 d
///  4 Feb 01 e    9 Mar 08 e   14 Apr 12 e
/// ```
///
/// The conflict is always a's slot 5 (Feb 8 to Feb 15). Its fairness window is Feb 8 ± 91 days,
/// 2026-11-09 to 2027-05-10 (slot 18's start), so it holds slots 0 to 17: a, b and c have 4 weeks
/// (672h) in it, d and e have 3 (504h).
fn five(extra: &str) -> Schedule {
    rotation(
        &["a", "b", "c", "d", "e"],
        "Asia/Kolkata",
        "2027-01-04T09:00",
        "1 week",
        extra,
    )
}

/// a is away all of Wednesday 10 February (Kolkata), in slot 5.
const A_AWAY: (&str, &str, &str) = (
    "a",
    "2027-02-10T00:00:00+05:30",
    "2027-02-11T00:00:00+05:30",
);

/// The suggestions for the shift of rotation `r` on call at `at`, which must be a conflict.
fn suggest(s: &Schedule, off: &TimeOff, at: &str, now: &str, until: &str) -> Vec<String> {
    let shift = s.on_call("r", utc(at)).unwrap().unwrap();
    let found = s
        .conflicts(off, shift.start, shift.end)
        .unwrap()
        .iter()
        .any(|c| c.shift == shift);
    assert!(found, "not a conflict: {shift:?}");
    s.suggestions(off, &shift, utc(now), utc(until))
        .unwrap()
        .iter()
        .map(show_suggestion)
        .collect()
}

/// Before everything in [`five`]: every shift from slot 0 on can be traded.
const NOW: &str = "2027-01-01T00:00:00Z";
const UNTIL: &str = "2027-07-01T00:00:00Z";
/// Inside a's slot 5.
const CONFLICT_AT: &str = "2027-02-10T12:00:00+05:30";

/// A report row: `rotation person: N shifts, secs (weekend W, holiday H), given n (secs), taken
/// n (secs)`.
fn show_load(l: &Load) -> String {
    format!(
        "{} {}: {} shifts, {} (weekend {}, holiday {}), given {} ({}), taken {} ({})",
        l.rotation,
        l.person,
        l.shifts,
        hours(l.secs),
        hours(l.weekend_secs),
        hours(l.holiday_secs),
        l.overrides_given,
        hours(l.given_secs),
        l.overrides_taken,
        hours(l.taken_secs),
    )
}

fn loads(r: &Report) -> Vec<String> {
    r.loads.iter().map(show_load).collect()
}

fn show_spread(x: &Spread) -> String {
    format!(
        "{}: most {} {}, least {} {}, spread {}",
        x.rotation.as_deref().unwrap_or("overall"),
        x.most.0,
        hours(x.most.1),
        x.least.0,
        hours(x.least.1),
        hours(x.secs()),
    )
}

/// `[from, to)`, each end RFC 3339.
type Window = (&'static str, &'static str);

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn holidays(dates: &[&str]) -> Holidays {
    let mut h = Holidays::new();
    for d in dates {
        h.add(date(d), "Holiday");
    }
    h
}

/// The one row of person `a` in rotation `r` of a report.
fn row_of<'r>(r: &'r Report, rotation: &str, person: &str) -> &'r Load {
    r.loads
        .iter()
        .find(|l| l.rotation == rotation && l.person == person)
        .unwrap_or_else(|| panic!("no row {rotation} {person}: {:#?}", r.loads))
}

// ------------------------------------------------------------------------------------------------
// TimeOff and Holidays
// ------------------------------------------------------------------------------------------------

#[test]
fn empty_and_inverted_absences_are_ignored() {
    let mut off = TimeOff::new();
    assert!(off.is_empty());
    off.add(
        "a",
        absence("2027-01-05T00:00:00Z", "2027-01-05T00:00:00Z", "empty"),
    );
    off.add(
        "a",
        absence("2027-01-06T00:00:00Z", "2027-01-05T00:00:00Z", "inverted"),
    );
    assert!(off.is_empty());
    assert_eq!(off.len(), 0);
    assert!(off.of("a").is_empty());
    let s = rotation(
        &["a", "b", "c"],
        "Europe/London",
        "2027-01-04T09:00",
        "1 week",
        "",
    );
    assert!(conflicts(&s, &off, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z").is_empty());
    // One real absence next to them is kept, and it alone.
    off.add(
        "a",
        absence("2027-01-05T00:00:00Z", "2027-01-05T00:00:01Z", "one second"),
    );
    assert_eq!(off.len(), 1);
    assert!(!off.is_empty());
}

#[test]
fn absences_are_merged_by_start_and_queried_half_open() {
    let off = time_off(&[
        ("a", "2027-01-10T00:00:00Z", "2027-01-12T00:00:00Z"),
        ("a", "2027-01-01T00:00:00Z", "2027-01-03T00:00:00Z"),
        ("b", "2027-01-02T00:00:00Z", "2027-01-04T00:00:00Z"),
        ("a", "2027-01-20T00:00:00Z", "2027-01-21T00:00:00Z"),
        // Touches #1's end: merged with it, summaries in order of start.
        ("a", "2027-01-03T00:00:00Z", "2027-01-05T00:00:00Z"),
    ]);
    // a: [Jan 1, Jan 5) "#1; #4", [Jan 10, Jan 12) "#0", [Jan 20, Jan 21) "#3"; b: one.
    assert_eq!(off.len(), 4);
    let a: Vec<String> = off.of("a").iter().map(|x| x.summary).collect();
    assert_eq!(a, ["#1; #4", "#0", "#3"]);
    assert!(off.of("nobody").is_empty());
    let t = |s: &str| utc(s);
    // [Jan 5, Jan 20): the first stretch ends at its start and the last starts at its end.
    let hits: Vec<String> = off
        .overlapping("a", t("2027-01-05T00:00:00Z"), t("2027-01-20T00:00:00Z"))
        .map(|x| x.summary)
        .collect();
    assert_eq!(hits, ["#0"]);
    assert!(off.is_free("b", t("2027-01-04T00:00:00Z"), t("2027-01-09T00:00:00Z")));
    assert!(!off.is_free("b", t("2027-01-03T23:59:59Z"), t("2027-01-09T00:00:00Z")));
    assert!(off.is_free("c", t("2000-01-01T00:00:00Z"), t("2100-01-01T00:00:00Z")));
}

/// The index one person's calendars become: overlapping and touching absences merge into one
/// stretch, in any order of insertion, and the builder and `add` agree with a brute-force union.
#[test]
fn absence_sets_merge_like_a_union() {
    use rota_core::timeoff::{AbsenceSet, AbsenceSetBuilder};
    let base = utc("2027-01-01T00:00:00Z");
    let h = |n: i64| base + chrono::Duration::hours(n);
    // Pseudo-random spans in hours, some overlapping, some touching, some empty.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut spans = Vec::new();
    for _ in 0..400 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let s = (x % 2000) as i64;
        let len = ((x >> 20) % 6) as i64;
        spans.push((s, s + len));
    }
    let mut b = AbsenceSetBuilder::new();
    let mut one = AbsenceSet::new();
    for (i, &(s, e)) in spans.iter().enumerate() {
        b.push(h(s), h(e), &format!("e{}", i % 5));
        one.insert(absence(
            &h(s).to_rfc3339(),
            &h(e).to_rfc3339(),
            &format!("e{}", i % 5),
        ));
    }
    let built = b.build();
    let hours = |set: &AbsenceSet| -> Vec<(i64, i64)> {
        set.iter()
            .map(|a| ((a.start - base).num_hours(), (a.end - base).num_hours()))
            .collect()
    };
    // Brute force: mark every hour, then read the runs.
    let mut busy = vec![false; 2010];
    for &(s, e) in &spans {
        for t in s..e {
            busy[t as usize] = true;
        }
    }
    let mut want = Vec::new();
    let mut t = 0;
    while t < busy.len() {
        if busy[t] {
            let s = t;
            while t < busy.len() && busy[t] {
                t += 1;
            }
            want.push((s as i64, t as i64));
        } else {
            t += 1;
        }
    }
    assert_eq!(hours(&built), want);
    assert_eq!(hours(&one), want);
    // Summaries: at most three distinct, then "…".
    assert!(built.iter().all(|a| a.summary.split("; ").count() <= 4));
    for h0 in 0..2010 {
        let free = built.is_free(h(h0), h(h0 + 1));
        assert_eq!(free, !busy[h0 as usize], "hour {h0}");
    }
    let u = AbsenceSet::union([&built, &one]);
    assert_eq!(hours(&u), want);
    // Kept to the microsecond, never shrinking: a nanosecond absence still blocks its microsecond.
    let mut tiny = AbsenceSet::new();
    let ns = |n: i64| base + chrono::Duration::nanoseconds(n);
    tiny.insert(Absence {
        start: ns(1_500),
        end: ns(1_501),
        summary: "blink".into(),
    });
    assert!(!tiny.is_free(ns(1_000), ns(2_000)));
    assert!(!tiny.is_free(ns(1_999), ns(2_001)));
    assert!(tiny.is_free(ns(2_000), ns(3_000)));
    assert!(tiny.is_free(ns(0), ns(1_000)));
}

#[test]
fn holidays_keep_the_first_name() {
    let mut h = Holidays::new();
    assert!(h.is_empty());
    h.add(date("2026-12-25"), "Christmas Day");
    h.add(date("2026-12-25"), "Xmas");
    h.add(date("2026-12-28"), "Boxing Day (substitute)");
    assert_eq!(h.len(), 2);
    assert_eq!(h.get(date("2026-12-25")), Some("Christmas Day"));
    assert_eq!(h.get(date("2026-12-26")), None);
}

// ------------------------------------------------------------------------------------------------
// Conflicts
// ------------------------------------------------------------------------------------------------

/// Rows of one absence of a's against a weekly London rotation a, b, c from Monday 2027-01-04
/// 09:00 (GMT, so local is UTC): a has slot 0 (Jan 4 to Jan 11) and slot 3 (Jan 25 to Feb 1).
#[test]
fn conflict_edges() {
    let s = rotation(
        &["a", "b", "c"],
        "Europe/London",
        "2027-01-04T09:00",
        "1 week",
        "",
    );
    let window = ("2027-01-01T00:00:00Z", "2027-03-01T00:00:00Z");
    let slot0 = "r#0 a rotation 2027-01-04T09:00:00+00:00 .. 2027-01-11T09:00:00+00:00";
    let slot3 = "r#3 a rotation 2027-01-25T09:00:00+00:00 .. 2027-02-01T09:00:00+00:00";
    let table: &[(Window, Window, Vec<String>)] = &[
        // ends exactly when slot 0 starts: touching is not overlapping
        (
            ("2027-01-01T00:00:00Z", "2027-01-04T09:00:00Z"),
            window,
            vec![],
        ),
        // starts exactly when slot 0 ends (and b, not a, is on call from then on)
        (
            ("2027-01-11T09:00:00Z", "2027-01-14T00:00:00Z"),
            window,
            vec![],
        ),
        // one second into slot 0 is a conflict of one second
        (
            ("2027-01-01T00:00:00Z", "2027-01-04T09:00:01Z"),
            window,
            vec![format!("{slot0} away 0h00m01s [\"#0\"]")],
        ),
        // the last second of slot 0
        (
            ("2027-01-11T08:59:59Z", "2027-01-14T00:00:00Z"),
            window,
            vec![format!("{slot0} away 0h00m01s [\"#0\"]")],
        ),
        // one day inside slot 0
        (
            ("2027-01-06T00:00:00Z", "2027-01-07T00:00:00Z"),
            window,
            vec![format!("{slot0} away 24h [\"#0\"]")],
        ),
        // four weeks: the whole of slots 0 and 3 (each 168h), and only those
        (
            ("2027-01-03T00:00:00Z", "2027-02-02T00:00:00Z"),
            window,
            vec![
                format!("{slot0} away 168h [\"#0\"]"),
                format!("{slot3} away 168h [\"#0\"]"),
            ],
        ),
        // the same absence, asked about up to the instant slot 3 starts: slot 3 is outside
        (
            ("2027-01-03T00:00:00Z", "2027-02-02T00:00:00Z"),
            ("2027-01-01T00:00:00Z", "2027-01-25T09:00:00Z"),
            vec![format!("{slot0} away 168h [\"#0\"]")],
        ),
        // a window inside slot 3 still reports the whole shift, and the whole time away in it
        (
            ("2027-01-03T00:00:00Z", "2027-02-02T00:00:00Z"),
            ("2027-01-28T00:00:00Z", "2027-01-28T00:00:01Z"),
            vec![format!("{slot3} away 168h [\"#0\"]")],
        ),
    ];
    for (abs, win, want) in table {
        let off = time_off(&[("a", abs.0, abs.1)]);
        assert_eq!(
            &conflicts(&s, &off, win.0, win.1),
            want,
            "absence {abs:?} in {win:?}"
        );
    }
}

#[test]
fn away_is_the_union_within_the_shift() {
    let s = rotation(
        &["a", "b", "c"],
        "Europe/London",
        "2027-01-04T09:00",
        "1 week",
        "",
    );
    // Added out of order; #0, #1 and #2 overlap, so they are one stretch: #1 joined #0 before
    // it (it starts earlier), then #2 joined the two as one block.
    let off = time_off(&[
        // #0: Jan 7 12:00 to Jan 9: overlaps the end of #1
        ("a", "2027-01-07T12:00:00Z", "2027-01-09T00:00:00Z"),
        // #1: Jan 5 to Jan 8
        ("a", "2027-01-05T00:00:00Z", "2027-01-08T00:00:00Z"),
        // #2: inside #1
        ("a", "2027-01-06T00:00:00Z", "2027-01-07T00:00:00Z"),
        // #3: starts before the shift: only its last 3 hours (09:00 to 12:00) are in it
        ("a", "2027-01-01T00:00:00Z", "2027-01-04T12:00:00Z"),
        // #4: b's, so not a's conflict (b is not on call in slot 0)
        ("b", "2027-01-05T00:00:00Z", "2027-01-06T00:00:00Z"),
    ]);
    // Union inside [Jan 4 09:00, Jan 11 09:00): 3h (#3) + Jan 5 00:00 to Jan 9 00:00 (96h) = 99h,
    // not the 3 + 72 + 24 + 36 = 135h a plain sum would give.
    assert_eq!(
        conflicts(&s, &off, "2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z"),
        [
            "r#0 a rotation 2027-01-04T09:00:00+00:00 .. 2027-01-11T09:00:00+00:00 away 99h \
             [\"#3\", \"#1; #0; #2\"]"
        ]
    );
    // An absence longer than the shift is counted only inside it.
    let off = time_off(&[("a", "2026-12-01T00:00:00Z", "2027-01-20T00:00:00Z")]);
    assert_eq!(
        conflicts(&s, &off, "2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z"),
        [
            "r#0 a rotation 2027-01-04T09:00:00+00:00 .. 2027-01-11T09:00:00+00:00 away 168h [\"#0\"]"
        ]
    );
}

/// The Support Hero is also their team's secondary through the link: both shifts conflict.
/// Results are ordered by start, then rotation id.
#[test]
fn conflicts_from_links_ordered_by_start_then_rotation() {
    let text = r#"
hero_rotation = "hero"

[teams.core]
name = "Core"

[people.a]
name = "A"
team = "core"
[people.b]
name = "B"
team = "core"
[people.c]
name = "C"
team = "core"
[people.x]
name = "X"

# Weekly from Monday 2027-01-04 09:00 (GMT in January, so local is UTC): a, x, a, x, ...
[rotations.hero]
members = ["a", "x"]
timezone = "Europe/London"
start = "2027-01-04T09:00"
every = "1 week"

# b, c, a by the order; the link makes a the secondary in a's hero weeks.
[rotations.core]
team = "core"
members = ["b", "c", "a"]
timezone = "Europe/London"
start = "2027-01-04T09:00"
every = "1 week"

# Sorts first by id but hands off at noon: it comes after the 09:00 shifts.
[rotations.aa-daily]
members = ["a", "x"]
timezone = "Europe/London"
start = "2027-01-04T12:00"
every = "1 day"

[[links]]
from = "hero"
to = ["core"]
displaced = "skip"
"#;
    let s = Schedule::load(&[("s.toml", text)]).unwrap();
    let off = time_off(&[
        ("a", "2027-01-05T10:00:00Z", "2027-01-05T14:00:00Z"),
        ("a", "2027-01-05T13:00:00Z", "2027-01-05T16:00:00Z"),
    ]);
    assert_eq!(
        conflicts(&s, &off, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"),
        [
            // same start: core before hero; the union of 10:00-14:00 and 13:00-16:00 is 6h
            "core#0 a link 2027-01-04T09:00:00+00:00 .. 2027-01-11T09:00:00+00:00 away 6h \
             [\"#0; #1\"]",
            "hero#0 a rotation 2027-01-04T09:00:00+00:00 .. 2027-01-11T09:00:00+00:00 away 6h \
             [\"#0; #1\"]",
            // a's first daily shift ends at noon on the 5th: 10:00 to 12:00 of the stretch (the
            // absences overlap, so it is one stretch and names both)
            "aa-daily#0 a rotation 2027-01-04T12:00:00+00:00 .. 2027-01-05T12:00:00+00:00 away \
             2h [\"#0; #1\"]",
            // (x has the daily shift from noon on the 5th: x is not away)
        ]
    );
    // x away on the 5th afternoon: only x's daily shift, x having no team to link into.
    let off = time_off(&[("x", "2027-01-05T13:00:00Z", "2027-01-05T16:00:00Z")]);
    assert_eq!(
        conflicts(&s, &off, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"),
        [
            "aa-daily#1 x rotation 2027-01-05T12:00:00+00:00 .. 2027-01-06T12:00:00+00:00 away \
             3h [\"#0\"]"
        ]
    );
    // No absences at all: no conflicts, however busy the window.
    assert!(
        conflicts(
            &s,
            &TimeOff::new(),
            "2027-01-01T00:00:00Z",
            "2028-01-01T00:00:00Z"
        )
        .is_empty()
    );
}

/// An override shift is a conflict like any other, and so are the pieces it leaves.
#[test]
fn conflicts_with_overrides() {
    let s = rotation(
        &["a", "b", "c"],
        "Europe/London",
        "2027-01-04T09:00",
        "1 week",
        // c covers b on Wednesday 13 January
        "[[overrides]]\nrotation = \"r\"\nperson = \"c\"\nstart = \"2027-01-13T00:00\"\nend = \"2027-01-14T00:00\"\n",
    );
    let off = time_off(&[
        ("c", "2027-01-13T12:00:00Z", "2027-01-13T13:00:00Z"),
        ("b", "2027-01-14T00:00:00Z", "2027-01-14T01:00:00Z"),
    ]);
    assert_eq!(
        conflicts(&s, &off, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"),
        [
            "r#1 c override 2027-01-13T00:00:00+00:00 .. 2027-01-14T00:00:00+00:00 away 1h \
             [\"#0\"]",
            // b's slot 1 after the override: from midnight on the 14th
            "r#1 b rotation 2027-01-14T00:00:00+00:00 .. 2027-01-18T09:00:00+00:00 away 1h \
             [\"#1\"]",
        ]
    );
}

// ------------------------------------------------------------------------------------------------
// Suggestions
// ------------------------------------------------------------------------------------------------

/// Nobody would be back to back (b and e give back the very slot next to a's), so load decides:
/// d and e (504h) before b and c (672h); within each pair the give-back closest to Feb 8 wins:
/// e's slot 4 (1 week before) over d's slot 3 (2 weeks before), b's slot 6 (1 week after) over
/// c's slot 7 (2 weeks after). Give-backs of equal length: load after = load before.
#[test]
fn suggestions_by_load_then_distance() {
    let s = five("");
    let off = time_off(&[A_AWAY]);
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, NOW, UNTIL),
        [
            "e #4 504h->504h part 48h back 48h",
            "d #3 504h->504h part 48h back 48h",
            "b #6 672h->672h part 48h back 48h",
            "c #7 672h->672h part 48h back 48h",
        ]
    );
}

#[test]
fn colleagues_away_during_the_conflict_are_left_out() {
    let s = five("");
    // a is away all of Wednesday 10 February: the part to cover is Tuesday 09:00 to Thursday
    // 09:00 (the two days from the handoff's 09:00 that the absence touches).
    let off = time_off(&[
        A_AWAY,
        // b is away for the last second of the part: out
        (
            "b",
            "2027-02-11T08:59:59+05:30",
            "2027-02-11T09:00:00+05:30",
        ),
        // c is away from the instant the part ends: still in
        (
            "c",
            "2027-02-11T09:00:00+05:30",
            "2027-02-12T09:00:00+05:30",
        ),
        // d is away until the instant the part starts: still in
        (
            "d",
            "2027-02-01T00:00:00+05:30",
            "2027-02-09T09:00:00+05:30",
        ),
    ]);
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, NOW, UNTIL),
        [
            "e #4 504h->504h part 48h back 48h",
            "d #3 504h->504h part 48h back 48h",
            "c #7 672h->672h part 48h back 48h"
        ]
    );
}

/// A colleague qualifies only with a shift the absent person is free for, among those starting
/// before `until`; the closest such shift is the one offered.
#[test]
fn give_backs_the_absent_person_is_free_for_before_until() {
    let s = five("");
    // a is also away all of d's slot 3 (so no two days of it can be given back).
    let off = time_off(&[
        A_AWAY,
        (
            "a",
            "2027-01-25T09:00:00+05:30",
            "2027-02-01T09:00:00+05:30",
        ),
    ]);
    // Up to Monday 1 March 09:00 (slot 8's start, so slot 8 is not included), d's only shift is
    // slot 3, which a cannot take: d is left out.
    let until = "2027-03-01T09:00:00+05:30";
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, NOW, until),
        [
            "e #4 504h->504h part 48h back 48h",
            "b #6 672h->672h part 48h back 48h",
            "c #7 672h->672h part 48h back 48h",
        ]
    );
    // One second later slot 8 starts before `until`: d offers it (3 weeks after; slot 3 is
    // closer but a is away then).
    let until = "2027-03-01T09:00:01+05:30";
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, NOW, until),
        [
            "e #4 504h->504h part 48h back 48h",
            "d #8 504h->504h part 48h back 48h",
            "b #6 672h->672h part 48h back 48h",
            "c #7 672h->672h part 48h back 48h",
        ]
    );
    // `until` before the give-backs: nobody.
    assert!(suggest(&s, &off, CONFLICT_AT, NOW, "2027-01-04T09:00:00+05:30").is_empty());
    // `until` not after `now`: nobody (and no error).
    assert!(suggest(&s, &off, CONFLICT_AT, NOW, NOW).is_empty());
}

/// Shifts that have started at `now` are never offered, nor is a conflict that has started.
/// Back-to-back colleagues come last, even the lightest.
#[test]
fn started_shifts_and_back_to_back() {
    let s = five("");
    let off = time_off(&[A_AWAY]);
    // At e's handoff, Monday 1 February 09:00: slot 4 has started (a shift starting at `now`
    // counts as started), so e's nearest is slot 9, and e, on call in slot 4 right before a's
    // slot 5, would be back to back; d's slot 3 is over, so d offers slot 8. e is as light as d
    // (504h) and lighter than b and c (672h), but comes last.
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, "2027-02-01T09:00:00+05:30", UNTIL),
        [
            "d #8 504h->504h part 48h back 48h",
            "b #6 672h->672h part 48h back 48h",
            "c #7 672h->672h part 48h back 48h",
            "e #9 504h->504h b2b part 48h back 48h",
        ]
    );
    // A second earlier, slot 4 can still be traded: e gives back the slot before a's, so is not
    // back to back after the trade.
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, "2027-02-01T08:59:59+05:30", UNTIL),
        [
            "e #4 504h->504h part 48h back 48h",
            "d #8 504h->504h part 48h back 48h",
            "b #6 672h->672h part 48h back 48h",
            "c #7 672h->672h part 48h back 48h",
        ]
    );
    // The conflict itself has started: nothing to trade.
    for now in ["2027-02-08T09:00:00+05:30", "2027-02-10T00:00:00+05:30"] {
        assert!(
            suggest(&s, &off, CONFLICT_AT, now, UNTIL).is_empty(),
            "{now}"
        );
    }
    // One second before it starts it can still be traded (every earlier shift has started).
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, "2027-02-08T08:59:59+05:30", UNTIL),
        [
            "d #8 504h->504h part 48h back 48h",
            "b #6 672h->672h part 48h back 48h",
            "c #7 672h->672h part 48h back 48h",
            "e #9 504h->504h b2b part 48h back 48h",
        ]
    );
}

/// Back to back is about time, not slot numbers: in a follow-the-sun rotation (a day layer and a
/// night layer), the turns next to a day shift are the nights either side of it, whatever their
/// numbers, so the night person before it and the one after it would work two turns in a row;
/// the day people of the days before and after (slot ± 1 of the day layer) would not.
#[test]
fn back_to_back_follows_time_across_layers() {
    let text = format!(
        "{}\n[rotations.r]\ntimezone = \"UTC\"\n\
         [[rotations.r.layers]]\nid = \"day\"\nmembers = [\"a\", \"b\", \"c\"]\n\
         start = \"2027-03-01T09:00\"\nevery = \"1 day\"\nactive = [\"09:00-21:00\"]\n\
         [[rotations.r.layers]]\nid = \"night\"\nmembers = [\"d\", \"e\", \"f\"]\n\
         start = \"2027-03-01T21:00\"\nevery = \"1 day\"\nactive = [\"21:00-09:00\"]\n",
        people_toml(&["a", "b", "c", "d", "e", "f"])
    );
    let s = Schedule::load(&[("r.toml", &text)]).unwrap_or_else(|e| panic!("{e}\n{text}"));
    // Thursday 4 March: a's day (day 3); the nights either side are f's (night 2) and d's
    // (night 3); the days either side are c's and b's.
    let at = "2027-03-04T12:00:00Z";
    let who = |t: &str| s.on_call("r", utc(t)).unwrap().unwrap().person.id.clone();
    assert_eq!(
        [
            who(at),
            who("2027-03-04T08:59:59Z"),
            who("2027-03-04T21:00:00Z"),
            who("2027-03-03T12:00:00Z"),
            who("2027-03-05T12:00:00Z"),
        ],
        ["a", "f", "d", "c", "b"].map(String::from)
    );
    // a is away for an hour of the day, and of each night next to it: d and f cannot give back
    // those nights, so give back others and keep the nights next to the day they take.
    let off = time_off(&[
        ("a", "2027-03-04T12:00:00Z", "2027-03-04T13:00:00Z"),
        ("a", "2027-03-03T22:00:00Z", "2027-03-03T23:00:00Z"),
        ("a", "2027-03-05T01:00:00Z", "2027-03-05T02:00:00Z"),
    ]);
    let got = suggest(&s, &off, at, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z");
    let b2b: Vec<&str> = got
        .iter()
        .filter(|x| x.contains(" b2b"))
        .map(|x| &x[..1])
        .collect();
    let others: Vec<&str> = got
        .iter()
        .filter(|x| !x.contains(" b2b"))
        .map(|x| &x[..1])
        .collect();
    assert_eq!((b2b.len(), others.len()), (2, 3), "{got:?}");
    assert!(b2b.contains(&"d") && b2b.contains(&"f"), "{got:?}");
    // Back-to-back colleagues come last.
    assert!(
        got[3].contains(" b2b") && got[4].contains(" b2b"),
        "{got:?}"
    );
}

/// A slot with an override in it is not offered, whether it is the give-back or the conflict.
#[test]
fn split_slots_are_not_traded_and_slots_held_through_an_override_are() {
    // c covers b on Wednesday 17 February, inside b's slot 6: b's nearest tradeable slot is now
    // slot 1 (4 weeks before; slot 11 is 6 weeks after). Loads: b 672h - 24h = 648h, c 672h +
    // 24h = 696h. Both are on call in slot 6, right after a's slot 5, and keep that part of it
    // after the trade: both would be back to back, and come last, lighter first.
    let s = five(
        "[[overrides]]\nrotation = \"r\"\nperson = \"c\"\nstart = \"2027-02-17T00:00\"\nend = \"2027-02-18T00:00\"\n",
    );
    let off = time_off(&[A_AWAY]);
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, NOW, UNTIL),
        [
            "e #4 504h->504h part 48h back 48h",
            "d #3 504h->504h part 48h back 48h",
            "b #1 648h->648h b2b part 48h back 48h",
            "c #7 696h->696h b2b part 48h back 48h",
        ]
    );

    // An override giving b a day of b's own slot 6 splits it into pieces: not a whole shift to
    // give back, so b still offers slot 1.
    let s = five(
        "[[overrides]]\nrotation = \"r\"\nperson = \"b\"\nstart = \"2027-02-17T00:00\"\nend = \"2027-02-18T00:00\"\n",
    );
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, NOW, UNTIL),
        [
            "e #4 504h->504h part 48h back 48h",
            "d #3 504h->504h part 48h back 48h",
            "c #7 672h->672h part 48h back 48h",
            // b is still on call in slot 6, right after a's slot 5: last
            "b #1 672h->672h b2b part 48h back 48h"
        ]
    );

    // b covers Monday 8 February of a's slot 5: a's remaining piece is a conflict, but not a
    // whole slot, so it cannot be traded.
    let s = five(
        "[[overrides]]\nrotation = \"r\"\nperson = \"b\"\nstart = \"2027-02-08T09:00\"\nend = \"2027-02-09T09:00\"\n",
    );
    assert!(suggest(&s, &off, CONFLICT_AT, NOW, UNTIL).is_empty());

    // a covers e's whole slot 4 and is away in it: the override shift is a conflict, and the
    // week is a's now (a swap on a swap, issue 13), so a can trade it on: there are suggestions.
    let s = five(
        "[[overrides]]\nrotation = \"r\"\nperson = \"a\"\nstart = \"2027-02-01T09:00\"\nend = \"2027-02-08T09:00\"\n",
    );
    let off = time_off(&[(
        "a",
        "2027-02-03T00:00:00+05:30",
        "2027-02-04T00:00:00+05:30",
    )]);
    let got = suggest(&s, &off, "2027-02-03T12:00:00+05:30", NOW, UNTIL);
    assert!(!got.is_empty());
    assert!(got.iter().all(|x| !x.starts_with("a ")), "{got:?}");
}

/// Load differences made by an override in the fairness window reorder colleagues the distance
/// alone would order the other way.
#[test]
fn lighter_load_beats_a_closer_give_back() {
    // b covers c on Tuesday 19 January (c's slot 2): b 672h + 24h = 696h, c 672h - 24h = 648h.
    // c's slot 7 (2 weeks after) now beats b's slot 6 (1 week after).
    let s = five(
        "[[overrides]]\nrotation = \"r\"\nperson = \"b\"\nstart = \"2027-01-19T00:00\"\nend = \"2027-01-20T00:00\"\n",
    );
    let off = time_off(&[A_AWAY]);
    assert_eq!(
        suggest(&s, &off, CONFLICT_AT, NOW, UNTIL),
        [
            "e #4 504h->504h part 48h back 48h",
            "d #3 504h->504h part 48h back 48h",
            "c #7 648h->648h part 48h back 48h",
            "b #6 696h->696h part 48h back 48h",
        ]
    );
}

/// Equal load and equally close give-backs (one a week before, one a week after): the person id
/// decides, not which give-back is earlier and not the order of the members.
#[test]
fn person_id_breaks_the_last_tie() {
    // Weekly from 2027-01-04 in Kolkata; a's slot 3 (Jan 25) is the conflict. Its fairness window
    // ends Jan 25 + 91 days = Apr 26, slot 16's start, so it holds slots 0 to 15: with a, b, c in
    // some order from slot 0, the other two have 5 slots each (840h).
    let off = time_off(&[(
        "a",
        "2027-01-27T00:00:00+05:30",
        "2027-01-28T00:00:00+05:30",
    )]);
    let at = "2027-01-27T12:00:00+05:30";
    // a, b, c: b gives back slot 4 (after), c slot 2 (before).
    let s = rotation(
        &["a", "b", "c"],
        "Asia/Kolkata",
        "2027-01-04T09:00",
        "1 week",
        "",
    );
    assert_eq!(
        suggest(&s, &off, at, NOW, UNTIL),
        [
            "b #4 840h->840h part 48h back 48h",
            "c #2 840h->840h part 48h back 48h",
        ]
    );
    // a, c, b: b gives back slot 2 (before), c slot 4 (after).
    let s = rotation(
        &["a", "c", "b"],
        "Asia/Kolkata",
        "2027-01-04T09:00",
        "1 week",
        "",
    );
    assert_eq!(
        suggest(&s, &off, at, NOW, UNTIL),
        [
            "b #2 840h->840h part 48h back 48h",
            "c #4 840h->840h part 48h back 48h",
        ]
    );
}

/// Split weeks make give-backs of another length than the conflict, so the load after the trade
/// differs from the load before. All values exact.
#[test]
fn load_before_and_after_exactly() {
    // Mondays and Thursdays 09:00 in Kolkata from Monday 2027-01-04: slot 2k is Monday of week k
    // (72h, to Thursday), slot 2k+1 its Thursday (96h, to Monday). With four members a has every
    // Monday slot 0, 4, 8, ..., b Thursdays 1, 5, 9, ..., c Mondays 2, 6, 10, ..., d Thursdays 3,
    // 7, 11, ....
    let s = rotation(
        &["a", "b", "c", "d"],
        "Asia/Kolkata",
        "2027-01-04T09:00",
        "FREQ=WEEKLY;BYDAY=MO,TH",
        "",
    );
    // a is away in slot 8, Monday 1 February to Thursday 4 February (72h). The fairness window is
    // Feb 1 ± 91 days (measured from the conflict's start): up to May 3 09:00, slot 34's start,
    // so slots 0 to 33:
    // - b: 1, 5, ..., 33 = 9 Thursdays = 864h; gives back slot 9 (Thu Feb 4, 3 days after; slot
    //   5 is 11 days before): 864 + 72 - 96 = 840h.
    // - c: 2, 6, ..., 30 = 8 Mondays = 576h; slots 6 and 10 are both a week away, the earlier
    //   (Jan 25) is offered: 576 + 72 - 72 = 576h.
    // - d: 3, 7, ..., 31 = 8 Thursdays = 768h; gives back slot 7 (Thu Jan 28, 4 days before):
    //   768 + 72 - 96 = 744h.
    // Nobody is back to back: a's neighbours are d's slot 7 and b's slot 9, each the one given back.
    let off = time_off(&[(
        "a",
        "2027-02-02T00:00:00+05:30",
        "2027-02-03T00:00:00+05:30",
    )]);
    let shift = s
        .on_call("r", utc("2027-02-02T12:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(shift.slot, 8);
    let got = s.suggestions(&off, &shift, utc(NOW), utc(UNTIL)).unwrap();
    let tz = shift.rotation.timezone;
    let rows: Vec<String> = got
        .iter()
        .map(|x| {
            format!(
                "{} {} .. {}",
                show_suggestion(x),
                local(x.give_back.start, tz),
                local(x.give_back.end, tz)
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "c #6 576h->576h 2027-01-25T09:00:00+05:30 .. 2027-01-28T09:00:00+05:30",
            "c #6 576h->576h part 48h back 48h 2027-01-25T09:00:00+05:30 .. 2027-01-28T09:00:00+05:30",
            "d #7 768h->744h 2027-01-28T09:00:00+05:30 .. 2027-02-01T09:00:00+05:30",
            "d #7 768h->768h part 48h back 48h 2027-01-28T09:00:00+05:30 .. 2027-02-01T09:00:00+05:30",
            "b #9 864h->840h 2027-02-04T09:00:00+05:30 .. 2027-02-08T09:00:00+05:30",
            "b #9 864h->864h part 48h back 48h 2027-02-04T09:00:00+05:30 .. 2027-02-08T09:00:00+05:30",
        ]
    );
    let b = &got[4];
    assert_eq!(b.load_before.num_seconds(), 864 * 3600);
    assert_eq!(b.load_after.num_seconds(), 840 * 3600);
    assert_eq!(b.person().id, "b");
    assert!(!b.back_to_back);

    // c covers 90 of the 96 hours of d's slot 3 (Thu Jan 14 09:00 to Mon Jan 18 03:00): c has
    // 576 + 90 = 666h, d 768 - 90 = 678h. Before the trade c is lighter, after it d is
    // (678 + 72 - 96 = 654h): the load *after* ranks.
    let s = rotation(
        &["a", "b", "c", "d"],
        "Asia/Kolkata",
        "2027-01-04T09:00",
        "FREQ=WEEKLY;BYDAY=MO,TH",
        "[[overrides]]\nrotation = \"r\"\nperson = \"c\"\nstart = \"2027-01-14T09:00\"\nend = \"2027-01-18T03:00\"\n",
    );
    assert_eq!(
        suggest(&s, &off, "2027-02-02T12:00:00Z", NOW, UNTIL),
        [
            "d #7 678h->654h",
            "c #6 666h->666h",
            "c #6 666h->666h part 48h back 48h",
            "d #7 678h->678h part 48h back 48h",
            "b #9 864h->840h",
            "b #9 864h->864h part 48h back 48h",
        ]
    );
}

/// Only the part of a shift inside the fairness window counts towards the load.
#[test]
fn fairness_window_clips_shifts() {
    // Every 4 days from Monday 2027-01-04 09:00 in Kolkata: a, b, c. a's slot 3 (Jan 16 to Jan
    // 20) is the conflict; its window ends Jan 16 + 91 days = Apr 17 03:30Z, three days into b's
    // slot 25 (Apr 14 to Apr 18). So b has slots 1, 4, ..., 22 (8 x 96h) and 72h of slot 25:
    // 840h, not 864h; c has slots 2, 5, ..., 23: 768h (slot 26 starts after the window).
    let s = rotation(
        &["a", "b", "c"],
        "Asia/Kolkata",
        "2027-01-04T09:00",
        "4 days",
        "",
    );
    let off = time_off(&[(
        "a",
        "2027-01-17T00:00:00+05:30",
        "2027-01-18T00:00:00+05:30",
    )]);
    assert_eq!(
        suggest(&s, &off, "2027-01-17T12:00:00+05:30", NOW, UNTIL),
        [
            "c #2 768h->768h part 48h back 48h",
            "b #4 840h->840h part 48h back 48h",
        ]
    );
}

// ------------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------------

/// Weekly, Mondays 09:00 London, from 2026-10-19: a, b, c, d. Slot 0 (a) is 09:00 BST Oct 19
/// (08:00Z) to 09:00 GMT Oct 26 (09:00Z), 169 hours: the clocks fell back on Sunday 25 October.
const WEEKLY_LONDON: (&str, &str, &str) = ("Europe/London", "2026-10-19T09:00", "1 week");

fn weekly_london(extra: &str) -> Schedule {
    rotation(
        &["a", "b", "c", "d"],
        WEEKLY_LONDON.0,
        WEEKLY_LONDON.1,
        WEEKLY_LONDON.2,
        extra,
    )
}

#[test]
fn report_across_fall_back() {
    let s = weekly_london("");
    // Slots 0 and 1 exactly.
    let r = s
        .report(
            utc("2026-10-19T08:00:00Z"),
            utc("2026-11-02T09:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        loads(&r),
        [
            // Saturday 24 (24h, Oct 23 23:00Z to Oct 24 23:00Z) and Sunday 25 (25h, to Oct 26
            // 00:00Z), on London's clock (a has no zone of their own)
            "r a: 1 shifts, 169h (weekend 49h, holiday 0h), given 0 (0h), taken 0 (0h)",
            // Oct 26 09:00Z to Nov 2 09:00Z; Saturday 31 and Sunday 1, GMT: 48h
            "r b: 1 shifts, 168h (weekend 48h, holiday 0h), given 0 (0h), taken 0 (0h)",
            // members with no time in the window have a row of zeros
            "r c: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
            "r d: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
        ]
    );
    assert_eq!(
        (r.from, r.to),
        (utc("2026-10-19T08:00:00Z"), utc("2026-11-02T09:00:00Z"))
    );
    let totals: Vec<String> = r
        .totals
        .iter()
        .map(|t| format!("{:?} {} {}", t.rotation, t.person, hours(t.secs)))
        .collect();
    assert_eq!(
        totals,
        ["\"\" a 169h", "\"\" b 168h", "\"\" c 0h", "\"\" d 0h"]
    );
}

/// A one-person rotation `r` in `rot_zone`, the person `a` in `zone` (or none).
fn solo(zone: Option<&str>, rot: (&str, &str, &str)) -> Schedule {
    let tz = zone.map_or(String::new(), |z| format!("timezone = \"{z}\"\n"));
    let text = format!(
        "[people.a]\nname = \"A\"\n{tz}\n[rotations.r]\nmembers = [\"a\"]\ntimezone = \"{}\"\n\
         start = \"{}\"\nevery = \"{}\"\n",
        rot.0, rot.1, rot.2
    );
    Schedule::load(&[("solo.toml", &text)]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// a's `(secs, weekend, holiday)` over `[from, to)` in [`solo`], as hours.
fn solo_hours(
    zone: Option<&str>,
    rot: (&str, &str, &str),
    window: (&str, &str),
    holiday_dates: &[&str],
) -> (String, String, String) {
    let s = solo(zone, rot);
    let r = s
        .report(utc(window.0), utc(window.1), &holidays(holiday_dates))
        .unwrap();
    let l = row_of(&r, "r", "a");
    (hours(l.secs), hours(l.weekend_secs), hours(l.holiday_secs))
}

/// The same shift, its weekend counted on the holder's own wall clock.
#[test]
fn weekend_on_the_persons_clock() {
    let h = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    let week0 = ("2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z");
    let week1 = ("2026-10-26T09:00:00Z", "2026-11-02T09:00:00Z");
    let table = [
        // London: Sat Oct 24 00:00 BST (Oct 23 23:00Z) to Mon Oct 26 00:00 GMT (Oct 26 00:00Z),
        // the Sunday 25 hours long
        (Some("Europe/London"), week0, h("169h", "49h", "0h")),
        // no zone of their own: the rotation's (London)
        (None, week0, h("169h", "49h", "0h")),
        // Kolkata: Sat 00:00 IST (Oct 23 18:30Z) to Mon 00:00 IST (Oct 25 18:30Z), no DST
        (Some("Asia/Kolkata"), week0, h("169h", "48h", "0h")),
        // Chicago: Sat 00:00 CDT (Oct 24 05:00Z) to Mon 00:00 CDT (Oct 26 05:00Z); Chicago falls
        // back a week later
        (Some("America/Chicago"), week0, h("169h", "48h", "0h")),
        // ... so the next week is the other way round: Sat Oct 31 00:00 CDT (05:00Z) to Mon Nov 2
        // 00:00 CST (06:00Z) is 49h for Chicago, 48h for London and Kolkata
        (Some("America/Chicago"), week1, h("168h", "49h", "0h")),
        (Some("Europe/London"), week1, h("168h", "48h", "0h")),
        (Some("Asia/Kolkata"), week1, h("168h", "48h", "0h")),
    ];
    for (zone, window, want) in table {
        assert_eq!(
            solo_hours(zone, WEEKLY_LONDON, window, &[]),
            want,
            "{zone:?} {window:?}"
        );
    }
    // A daily shift from Friday 23 October 12:00 BST (11:00Z) to Saturday 12:00 BST: how much of
    // it is Saturday depends on whose Saturday.
    let daily = ("Europe/London", "2026-10-23T12:00", "1 day");
    let fri = ("2026-10-23T11:00:00Z", "2026-10-24T11:00:00Z");
    let table = [
        // Saturday begins at Oct 23 23:00Z: 12h
        (Some("Europe/London"), h("24h", "12h", "0h")),
        // at Oct 23 18:30Z: 16h30m
        (Some("Asia/Kolkata"), h("24h", "16h30m", "0h")),
        // at Oct 24 05:00Z: 6h
        (Some("America/Chicago"), h("24h", "6h", "0h")),
    ];
    for (zone, want) in table {
        assert_eq!(solo_hours(zone, daily, fri, &[]), want, "{zone:?}");
    }
}

/// A holiday is a civil date on the person's clock; its hours are that day's real length.
#[test]
fn holiday_hours_on_the_persons_clock() {
    let week0 = ("2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z");
    let week1 = ("2026-10-26T09:00:00Z", "2026-11-02T09:00:00Z");
    // Slot 20, Mar 8 09:00 GMT to Mar 15 09:00 GMT (London is still on GMT).
    let week20 = ("2027-03-08T09:00:00Z", "2027-03-15T09:00:00Z");
    // Slot 22, Mar 22 09:00 GMT to Mar 29 09:00 BST (08:00Z): 167h.
    let week22 = ("2027-03-22T09:00:00Z", "2027-03-29T08:00:00Z");
    let table: &[(Option<&str>, Window, &[&str], &str)] = &[
        // The shift starts at 09:00 BST on the holiday (Monday 19 October):
        // London: 08:00Z to the end of the day at 23:00Z
        (Some("Europe/London"), week0, &["2026-10-19"], "15h"),
        // Kolkata: the day ended at 18:30Z
        (Some("Asia/Kolkata"), week0, &["2026-10-19"], "10h30m"),
        // Chicago: the day runs to Oct 20 05:00Z
        (Some("America/Chicago"), week0, &["2026-10-19"], "21h"),
        // Sunday 25 October, the fall-back day, is 25 hours in London ...
        (Some("Europe/London"), week0, &["2026-10-25"], "25h"),
        (None, week0, &["2026-10-25"], "25h"),
        // ... and 24 in Kolkata and (still on CDT) Chicago
        (Some("Asia/Kolkata"), week0, &["2026-10-25"], "24h"),
        (Some("America/Chicago"), week0, &["2026-10-25"], "24h"),
        // Both holidays: 15 + 25
        (
            Some("Europe/London"),
            week0,
            &["2026-10-19", "2026-10-25"],
            "40h",
        ),
        // Chicago falls back on Sunday 1 November: 05:00Z to Nov 2 06:00Z
        (Some("America/Chicago"), week1, &["2026-11-01"], "25h"),
        // Chicago springs forward on Sunday 14 March 2027: 06:00Z to Mar 15 05:00Z
        (Some("America/Chicago"), week20, &["2027-03-14"], "23h"),
        (Some("Europe/London"), week20, &["2027-03-14"], "24h"),
        // London springs forward on Sunday 28 March 2027: 00:00Z to 23:00Z
        (Some("Europe/London"), week22, &["2027-03-28"], "23h"),
        (Some("America/Chicago"), week22, &["2027-03-28"], "24h"),
        // Monday 26 October: only its first 9 hours (to 09:00 GMT) are in the shift ...
        (Some("Europe/London"), week0, &["2026-10-26"], "9h"),
        // ... and a holiday outside the shift counts nothing
        (Some("Europe/London"), week0, &["2026-10-27"], "0h"),
    ];
    for (zone, window, dates, want) in table {
        let got = solo_hours(*zone, WEEKLY_LONDON, *window, dates).2;
        assert_eq!(got, *want, "{zone:?} {window:?} {dates:?}");
    }
}

/// Samoa skipped Friday 2011-12-30: 23:59:59 -10:00 on the 29th was followed by 00:00 +14:00 on
/// the 31st. That day has no hours, holiday or not.
#[test]
fn apia_skipped_day_has_no_hours() {
    // Weekly from Monday 2011-12-26 09:00 in Apia; a has no zone of their own, so Apia's clock is
    // used. Slot 0: Dec 26 09:00 -10:00 (19:00Z) to Jan 2 09:00 +14:00 (Jan 1 19:00Z): 6 days.
    let apia = ("Pacific/Apia", "2011-12-26T09:00", "1 week");
    let slot0 = ("2011-12-26T19:00:00Z", "2012-01-01T19:00:00Z");
    let h = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    // Weekend: Sat Dec 31 (Dec 30 10:00Z to Dec 31 10:00Z) and Sun Jan 1 (to Jan 1 10:00Z): 48h.
    let table: &[(&[&str], _)] = &[
        (&["2011-12-30"], h("144h", "48h", "0h")),
        // Thursday 29th: Dec 29 10:00Z to Dec 30 10:00Z
        (&["2011-12-29"], h("144h", "48h", "24h")),
        // Saturday 31st: Dec 30 10:00Z to Dec 31 10:00Z
        (&["2011-12-31"], h("144h", "48h", "24h")),
        (
            &["2011-12-29", "2011-12-30", "2011-12-31"],
            h("144h", "48h", "48h"),
        ),
    ];
    for (dates, want) in table {
        assert_eq!(&solo_hours(None, apia, slot0, dates), want, "{dates:?}");
    }
}

/// Only the part of a shift inside the window counts; shifts are distinct slots.
#[test]
fn report_window_clips_shifts() {
    let s = weekly_london("");
    // Thursday Oct 22 12:00Z to Thursday Oct 29 12:00Z.
    let r = s
        .report(
            utc("2026-10-22T12:00:00Z"),
            utc("2026-10-29T12:00:00Z"),
            &holidays(&["2026-10-21", "2026-10-22"]),
        )
        .unwrap();
    assert_eq!(
        loads(&r),
        [
            // Oct 22 12:00Z to Oct 26 09:00Z: 93h; the whole weekend (49h) is inside; of the
            // holidays, Wednesday 21 is outside the window and Thursday 22 (BST, to 23:00Z)
            // counts from 12:00Z: 11h
            "r a: 1 shifts, 93h (weekend 49h, holiday 11h), given 0 (0h), taken 0 (0h)",
            // Oct 26 09:00Z to Oct 29 12:00Z: 75h
            "r b: 1 shifts, 75h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
            "r c: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
            "r d: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
        ]
    );
    // A one-second window inside a's shift.
    let r = s
        .report(
            utc("2026-10-24T12:00:00Z"),
            utc("2026-10-24T12:00:01Z"),
            &Holidays::new(),
        )
        .unwrap();
    let a = row_of(&r, "r", "a");
    assert_eq!((a.shifts, a.secs, a.weekend_secs), (1, 1, 1));
}

/// Plain overrides: the taker has taken one, the displaced base person given one; a person on
/// call in several pieces of a slot has one shift there.
#[test]
fn report_plain_overrides() {
    let s = weekly_london(
        r#"
# c covers a on Wednesday 21 October (BST): Oct 20 23:00Z to Oct 21 23:00Z, inside slot 0.
[[overrides]]
id = "wed"
rotation = "r"
person = "c"
start = "2026-10-21T00:00"
end = "2026-10-22T00:00"

# c covers across the handoff at Oct 26 09:00Z: 9h of a's slot 0 and 15h of b's slot 1.
[[overrides]]
id = "handoff"
rotation = "r"
person = "c"
start = "2026-10-26T00:00:00Z"
end = "2026-10-27T00:00:00Z"
"#,
    );
    let r = s
        .report(
            utc("2026-10-19T08:00:00Z"),
            utc("2026-11-02T09:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        loads(&r),
        [
            // 169 - 24 - 9 = 136h, in two pieces of one slot; the weekend is all a's
            "r a: 1 shifts, 136h (weekend 49h, holiday 0h), given 2 (33h), taken 0 (0h)",
            // 168 - 15 = 153h
            "r b: 1 shifts, 153h (weekend 48h, holiday 0h), given 1 (15h), taken 0 (0h)",
            // on call in slots 0 and 1 (three pieces), through two overrides
            "r c: 2 shifts, 48h (weekend 0h, holiday 0h), given 0 (0h), taken 2 (48h)",
            "r d: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
        ]
    );
}

/// An override split in two by a newer one is still one override, given and taken once.
#[test]
fn report_split_override_counts_once() {
    let s = weekly_london(
        r#"
# c covers a from Tuesday to Saturday (BST): Oct 19 23:00Z to Oct 23 23:00Z ...
[[overrides]]
id = "long"
rotation = "r"
person = "c"
start = "2026-10-20T00:00"
end = "2026-10-24T00:00"

# ... and d covers Wednesday of that, splitting c's cover in two.
[[overrides]]
id = "mid"
rotation = "r"
person = "d"
start = "2026-10-21T00:00"
end = "2026-10-22T00:00"
"#,
    );
    let r = s
        .report(
            utc("2026-10-19T08:00:00Z"),
            utc("2026-10-26T09:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        loads(&r),
        [
            // 169 - 96 = 73h (Monday until 23:00Z, and Saturday on); both overrides displaced a
            "r a: 1 shifts, 73h (weekend 49h, holiday 0h), given 2 (96h), taken 0 (0h)",
            "r b: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
            // Tuesday, Thursday and Friday: two pieces of one slot, one override
            "r c: 1 shifts, 72h (weekend 0h, holiday 0h), given 0 (0h), taken 1 (72h)",
            "r d: 1 shifts, 24h (weekend 0h, holiday 0h), given 0 (0h), taken 1 (24h)",
        ]
    );
}

/// A swap is two overrides: each side has given one and taken one, for the hours of the shifts.
#[test]
fn report_swap() {
    let s = weekly_london("");
    let a = s.base_shift("r", 0).unwrap().unwrap();
    let b = s.base_shift("r", 1).unwrap().unwrap();
    let swap = swap_overrides(&a, &b, ("s1a".into(), "s1b".into()), None);
    let s = s.with_overrides(swap).unwrap();
    let r = s
        .report(
            utc("2026-10-19T08:00:00Z"),
            utc("2026-11-02T09:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        loads(&r),
        [
            // a has b's 168h week (slot 1) and gave away their own 169h week
            "r a: 1 shifts, 168h (weekend 48h, holiday 0h), given 1 (169h), taken 1 (168h)",
            "r b: 1 shifts, 169h (weekend 49h, holiday 0h), given 1 (168h), taken 1 (169h)",
            "r c: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
            "r d: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
        ]
    );
}

/// Spreads per rotation and over everyone who is a member of some rotation.
#[test]
fn report_spreads() {
    let text = r#"
[people.a]
name = "A"
[people.b]
name = "B"
[people.c]
name = "C"
[people.d]
name = "D"
[people.e]
name = "E"

[rotations.week]
members = ["a", "b", "c"]
timezone = "Europe/London"
start = "2026-10-19T09:00"
every = "1 week"

[rotations.day]
members = ["c", "d"]
timezone = "Europe/London"
start = "2026-10-19T09:00"
every = "1 day"

# e, a member of no rotation, covers b for an hour ...
[[overrides]]
rotation = "week"
person = "e"
start = "2026-10-27T00:00:00Z"
end = "2026-10-27T01:00:00Z"

# ... and c for an hour.
[[overrides]]
rotation = "day"
person = "e"
start = "2026-10-19T12:00:00Z"
end = "2026-10-19T13:00:00Z"
"#;
    let s = Schedule::load(&[("s.toml", text)]).unwrap();
    // Monday Oct 19 08:00Z to Thursday Oct 29 09:00Z.
    let r = s
        .report(
            utc("2026-10-19T08:00:00Z"),
            utc("2026-10-29T09:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        loads(&r),
        [
            // daily slots 0 to 9 from Oct 19 09:00 BST; c has the even ones (5 x 24h, less e's
            // hour), d the odd ones, among them slot 5, Saturday Oct 24 09:00 BST to Sunday
            // 09:00 GMT: 25h. c's weekend: Sat 24 08:00Z (slot 4's end) back to 23:00Z is 9h of
            // slot 4, and slot 6 has Sunday from 09:00Z to midnight GMT, 15h
            "day c: 5 shifts, 119h (weekend 24h, holiday 0h), given 1 (1h), taken 0 (0h)",
            // d: Sat 24 09:00 BST to Sun 25 09:00 GMT: 15h Saturday (to 23:00Z) + 10h Sunday
            "day d: 5 shifts, 121h (weekend 25h, holiday 0h), given 0 (0h), taken 0 (0h)",
            "day e: 1 shifts, 1h (weekend 0h, holiday 0h), given 0 (0h), taken 1 (1h)",
            "week a: 1 shifts, 169h (weekend 49h, holiday 0h), given 0 (0h), taken 0 (0h)",
            // Oct 26 09:00Z to Oct 29 09:00Z is 72h, less e's hour
            "week b: 1 shifts, 71h (weekend 0h, holiday 0h), given 1 (1h), taken 0 (0h)",
            "week c: 0 shifts, 0h (weekend 0h, holiday 0h), given 0 (0h), taken 0 (0h)",
            "week e: 1 shifts, 1h (weekend 0h, holiday 0h), given 0 (0h), taken 1 (1h)",
        ]
    );
    let spreads: Vec<String> = r.spreads.iter().map(show_spread).collect();
    assert_eq!(
        spreads,
        [
            // the fall-back hour and e's hour; e, with 1h, is no member of day
            "day: most d 121h, least c 119h, spread 2h",
            // e is not a member of week: the least is c, with nothing
            "week: most a 169h, least c 0h, spread 169h",
        ]
    );
    let totals: Vec<String> = r
        .totals
        .iter()
        .map(|t| format!("{} {} {}", t.person, t.shifts, hours(t.secs)))
        .collect();
    assert_eq!(
        totals,
        ["a 1 169h", "b 1 71h", "c 5 119h", "d 5 121h", "e 2 2h"]
    );
    // Over members only: e's 2h do not make e the least loaded.
    assert_eq!(
        r.overall.as_ref().map(show_spread).as_deref(),
        Some("overall: most a 169h, least b 71h, spread 98h")
    );
}

#[test]
fn report_of_a_window_before_any_shift() {
    let s = weekly_london("");
    let r = s
        .report(
            utc("2020-01-01T00:00:00Z"),
            utc("2020-02-01T00:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert!(r.loads.iter().all(|l| l.secs == 0 && l.shifts == 0));
    assert_eq!(r.loads.len(), 4);
    assert_eq!(r.spreads.len(), 1);
    assert_eq!(r.spreads[0].secs(), 0);
    assert_eq!(r.overall.as_ref().map(Spread::secs), Some(0));
    // An empty window is an error, as for every other range query.
    let t = utc("2027-01-01T00:00:00Z");
    assert!(s.report(t, t, &Holidays::new()).is_err());
    assert!(s.conflicts(&TimeOff::new(), t, t).is_err());
}

// ------------------------------------------------------------------------------------------------
// Given and taken: measured against the rotation's plan (the schedule without that rotation's own
// overrides, links following the real hero). See "Given and taken" in the module doc.
// ------------------------------------------------------------------------------------------------

/// The rows of a report that gave or took anything: `rotation person: given n (h), taken n (h)`.
fn moves(r: &Report) -> Vec<String> {
    r.loads
        .iter()
        .filter(|l| l.given_secs != 0 || l.taken_secs != 0 || l.overrides_given != 0)
        .map(|l| {
            format!(
                "{} {}: given {} ({}), taken {} ({})",
                l.rotation,
                l.person,
                l.overrides_given,
                hours(l.given_secs),
                l.overrides_taken,
                hours(l.taken_secs)
            )
        })
        .collect()
}

/// Checks the two identities the definition promises, against a plan built here independently:
/// per rotation the seconds given equal the seconds taken, and each person's seconds are the
/// plan's seconds minus given plus taken.
fn assert_balanced(s: &Schedule, r: &Report) {
    for rot in s.rotations() {
        let rows: Vec<&Load> = r.loads.iter().filter(|l| l.rotation == rot.id).collect();
        let given: i64 = rows.iter().map(|l| l.given_secs).sum();
        let taken: i64 = rows.iter().map(|l| l.taken_secs).sum();
        assert_eq!(given, taken, "{}: given {given} s, taken {taken} s", rot.id);
        let plan = s
            .without_overrides()
            .with_overrides(
                s.overrides()
                    .iter()
                    .filter(|o| o.rotation != rot.id)
                    .cloned(),
            )
            .unwrap();
        let planned = plan.report(r.from, r.to, &Holidays::new()).unwrap();
        for l in rows {
            let p = planned
                .loads
                .iter()
                .find(|x| x.rotation == rot.id && x.person == l.person)
                .map_or(0, |x| x.secs);
            assert_eq!(
                l.secs,
                p - l.given_secs + l.taken_secs,
                "{} {}: {} s on call, plan {p} s, given {} s, taken {} s",
                rot.id,
                l.person,
                l.secs,
                l.given_secs,
                l.taken_secs
            );
        }
    }
}

/// A weekly hero rotation (dirk, hank; Mondays 12:00 UTC from 2026-10-19) linked into a daily
/// secondary of team t (ana, ben; midnight UTC from 2026-10-19). Dirk is in team t, hank in none,
/// so in dirk's hero weeks the link makes dirk the secondary, and in hank's the order holds:
///
/// ```text
/// hero slot 0 dirk Oct 19 12:00 .. Oct 26 12:00   sec slot n = Oct 19 + n days: ana if n is even
/// hero slot 1 hank Oct 26 12:00 .. Nov 02 12:00   (Oct 21 ana, Oct 26 ben, Nov 3 ben, Nov 4 ana)
/// hero slot 2 dirk Nov 02 12:00 .. Nov 09 12:00
/// hero slot 3 hank Nov 09 12:00 .. Nov 16 12:00
/// ```
fn linked(extra: &str) -> Schedule {
    let text = format!(
        r#"
hero_rotation = "hero"
[teams.t]
name = "T"
[people.ana]
name = "Ana"
team = "t"
[people.ben]
name = "Ben"
team = "t"
[people.dirk]
name = "Dirk"
team = "t"
[people.hank]
name = "Hank"
[rotations.hero]
members = ["dirk", "hank"]
timezone = "UTC"
start = "2026-10-19T12:00"
every = "1 week"
[rotations.sec]
team = "t"
members = ["ana", "ben"]
timezone = "UTC"
start = "2026-10-19T00:00"
every = "1 day"
[[links]]
from = "hero"
to = ["sec"]
displaced = "skip"
{extra}"#
    );
    Schedule::load(&[("linked.toml", &text)]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Overrides stacked on one stretch are given by the plan's person; an override naming the plan's
/// own person moves nothing.
#[test]
fn report_given_is_the_plans_person_through_stacked_and_idle_overrides() {
    let s = weekly_london(
        r#"
# c takes all of b's slot 1: Oct 26 09:00Z to Nov 2 09:00Z, 168h ...
[[overrides]]
id = "week"
rotation = "r"
person = "c"
start = "2026-10-26T09:00:00Z"
end = "2026-11-02T09:00:00Z"

# ... d takes Wednesday of it from c ...
[[overrides]]
id = "day"
rotation = "r"
person = "d"
start = "2026-10-28T00:00:00Z"
end = "2026-10-29T00:00:00Z"

# ... and b takes Friday of it back.
[[overrides]]
id = "back"
rotation = "r"
person = "b"
start = "2026-10-30T00:00:00Z"
end = "2026-10-31T00:00:00Z"

# a "covers" a Tuesday that is a's anyway.
[[overrides]]
id = "own"
rotation = "r"
person = "a"
start = "2026-10-20T00:00:00Z"
end = "2026-10-21T00:00:00Z"
"#,
    );
    let r = s
        .report(
            utc("2026-10-19T08:00:00Z"),
            utc("2026-11-02T09:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        loads(&r),
        [
            // "own" moved nothing: neither given nor taken, though a is on call through it
            "r a: 1 shifts, 169h (weekend 49h, holiday 0h), given 0 (0h), taken 0 (0h)",
            // the plan has b all week: "week" took 168 - 24 - 24 = 120h of it and "day" 24h; b's
            // Friday through "back" is b's in the plan too, so not taken
            "r b: 1 shifts, 24h (weekend 0h, holiday 0h), given 2 (144h), taken 0 (0h)",
            // Saturday 31 and Sunday 1 (GMT) are c's
            "r c: 1 shifts, 120h (weekend 48h, holiday 0h), given 0 (0h), taken 1 (120h)",
            // d took Wednesday from b (the plan's person), not from c
            "r d: 1 shifts, 24h (weekend 0h, holiday 0h), given 0 (0h), taken 1 (24h)",
        ]
    );
    assert_balanced(&s, &r);
}

/// An override on a stretch a link made is given by the linked person, and one that spans the
/// link's edge inside a slot is given by each side for its own part.
#[test]
fn report_given_on_link_made_stretches() {
    let s = linked(
        r#"
# Wednesday Oct 21 is ana's turn by the order, but dirk is hero, so the link has dirk there.
[[overrides]]
id = "wed"
rotation = "sec"
person = "ben"
start = "2026-10-21T00:00:00Z"
end = "2026-10-22T00:00:00Z"

# Monday Oct 26 (ben's turn): dirk by the link until the hero handoff at 12:00, then ben.
[[overrides]]
id = "mon"
rotation = "sec"
person = "ana"
start = "2026-10-26T00:00:00Z"
end = "2026-10-27T00:00:00Z"
"#,
    );
    let r = s
        .report(
            utc("2026-10-19T00:00:00Z"),
            utc("2026-11-02T00:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        moves(&r),
        [
            "sec ana: given 0 (0h), taken 1 (24h)",
            // ben took Wednesday from dirk, and gave the afternoon of Monday
            "sec ben: given 1 (12h), taken 1 (24h)",
            // not ana: on Wednesday the link, not the order, had dirk on call
            "sec dirk: given 2 (36h), taken 0 (0h)",
        ]
    );
    assert_balanced(&s, &r);
}

/// The case that was reported wrongly as `dirk GIVEN 1 (24.0 h)`: hank covers dirk's hero week,
/// so the link no longer puts dirk in the secondary, and an override on ana's day there is ana's
/// to give, whatever the schedule without any overrides would have had.
#[test]
fn report_given_follows_the_real_hero_not_the_schedule_without_overrides() {
    let s = linked(
        r#"
[[overrides]]
id = "cover"
rotation = "hero"
person = "hank"
start = "2026-11-02T12:00:00Z"
end = "2026-11-09T12:00:00Z"

# Wednesday Nov 4 (sec slot 16): ana's turn, and with hank as hero nobody is linked in.
[[overrides]]
id = "ana-wed"
rotation = "sec"
person = "ben"
start = "2026-11-04T00:00:00Z"
end = "2026-11-05T00:00:00Z"
"#,
    );
    let r = s
        .report(
            utc("2026-10-26T00:00:00Z"),
            utc("2026-11-16T00:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        moves(&r),
        [
            "hero dirk: given 1 (168h), taken 0 (0h)",
            "hero hank: given 0 (0h), taken 1 (168h)",
            "sec ana: given 1 (24h), taken 0 (0h)",
            "sec ben: given 0 (0h), taken 1 (24h)",
        ]
    );
    // Dirk is in the secondary only by the link of hero slot 0 (Oct 26 until 12:00), and the link
    // moved away with his hero week: nothing given there.
    let dirk = row_of(&r, "sec", "dirk");
    assert_eq!((dirk.secs, dirk.given_secs), (12 * 3600, 0));
    assert_balanced(&s, &r);
}

/// Swaps, in the hero rotation and in the secondary: one given and one taken on each side, in the
/// rotation where the swap was made. The hero swap moves dirk's linked secondary stretch with it,
/// which the secondary shows as hours, not as given or taken.
#[test]
fn report_swaps_in_linked_rotations() {
    let s = linked("");
    let hero = |n| s.base_shift("hero", n).unwrap().unwrap();
    let sec = |n| s.base_shift("sec", n).unwrap().unwrap();
    let mut overrides =
        swap_overrides(&hero(2), &hero(3), ("h2".into(), "h3".into()), None).to_vec();
    // ben's Tuesday Nov 3 for ana's Wednesday Nov 4, in hank's (now) hero week: no link there.
    overrides.extend(swap_overrides(
        &sec(15),
        &sec(16),
        ("s15".into(), "s16".into()),
        None,
    ));
    let s = s.with_overrides(overrides).unwrap();
    let r = s
        .report(
            utc("2026-11-02T00:00:00Z"),
            utc("2026-11-16T00:00:00Z"),
            &Holidays::new(),
        )
        .unwrap();
    assert_eq!(
        moves(&r),
        [
            // dirk gave slot 2 (168h) and took slot 3 up to the window's end, Nov 9 12:00 to
            // Nov 16 00:00: 156h
            "hero dirk: given 1 (168h), taken 1 (156h)",
            "hero hank: given 1 (156h), taken 1 (168h)",
            "sec ana: given 1 (24h), taken 1 (24h)",
            "sec ben: given 1 (24h), taken 1 (24h)",
        ]
    );
    // Dirk's linked stretch moved with his hero week: Nov 9 12:00 to the window's end.
    let dirk = row_of(&r, "sec", "dirk");
    assert_eq!(
        (dirk.secs, dirk.given_secs, dirk.taken_secs),
        (156 * 3600, 0, 0)
    );
    assert_balanced(&s, &r);
}
