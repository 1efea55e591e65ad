//! Stretches (`rota_core::stretch`): a weekly hero linked into a daily secondary reads as one
//! stretch per rotation, across DST changes in several zones, and only continuous shifts of one
//! person in one rotation join.

use chrono::{DateTime, Utc};
use rota_core::{Schedule, Source, stretches};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A weekly hero (ann, raj) linked into a daily secondary (raj, kim, ann) of the same team, both
/// starting at `start` (civil) in `zone`, plus any `extra` TOML (overrides).
fn linked(zone: &str, start: &str, extra: &str) -> Schedule {
    let text = format!(
        r#"
hero_rotation = "hero"
[teams.ops]
name = "Ops"
[people.ann]
name = "Ann"
team = "ops"
[people.raj]
name = "Raj"
team = "ops"
[people.kim]
name = "Kim"
team = "ops"
[rotations.hero]
members = ["ann", "raj"]
timezone = "{zone}"
start = "{start}"
every = "1 week"
[rotations.ops-secondary]
team = "ops"
members = ["raj", "kim", "ann"]
timezone = "{zone}"
start = "{start}"
every = "1 day"
[[links]]
from = "hero"
to = ["ops-secondary"]
displaced = "skip"
{extra}
"#
    );
    Schedule::load(&[("s.toml", &text)]).unwrap()
}

/// `rotation slots sources start..end` of each of ann's stretches over `[from, to)`.
fn ann(s: &Schedule, from: &str, to: &str) -> Vec<String> {
    let shifts = s.shifts_for_person("ann", t(from), t(to)).unwrap();
    stretches(&shifts)
        .iter()
        .map(|x| {
            format!(
                "{} {:?} {} {}..{}",
                x.rotation.id,
                x.slots(),
                x.sources().join("+"),
                x.start.to_rfc3339(),
                x.end.to_rfc3339()
            )
        })
        .collect()
}

#[test]
fn london_week_across_spring_forward_is_one_stretch_of_167_hours() {
    // Clocks go forward on Sunday 28 March 2027: the Sunday-to-Monday day is 23 hours.
    let s = linked("Europe/London", "2027-03-22T09:00", "");
    let got = ann(&s, "2027-03-22T09:00:00Z", "2027-03-29T08:00:00Z");
    assert_eq!(
        got,
        [
            "hero [0] rotation 2027-03-22T09:00:00+00:00..2027-03-29T08:00:00+00:00",
            "ops-secondary [0, 1, 2, 3, 4, 5, 6] link 2027-03-22T09:00:00+00:00..2027-03-29T08:00:00+00:00",
        ]
    );
    let shifts = s
        .shifts_for_person("ann", t("2027-03-22T09:00:00Z"), t("2027-03-29T08:00:00Z"))
        .unwrap();
    let all = stretches(&shifts);
    assert_eq!((all[1].end - all[1].start).num_hours(), 167);
    assert_eq!(all[1].pieces().len(), 7);
    assert!(all[1].is_link_made() && !all[0].is_link_made());
}

#[test]
fn london_week_across_fall_back_is_one_stretch_of_169_hours() {
    // Clocks go back on Sunday 31 October 2027.
    let s = linked("Europe/London", "2027-10-25T09:00", "");
    let shifts = s
        .shifts_for_person("ann", t("2027-10-25T08:00:00Z"), t("2027-11-01T09:00:00Z"))
        .unwrap();
    let all = stretches(&shifts);
    assert_eq!(all.len(), 2);
    for x in &all {
        assert_eq!((x.end - x.start).num_hours(), 169, "{}", x.rotation.id);
    }
}

#[test]
fn lord_howe_half_hour_change_joins() {
    // Lord Howe Island moves its clocks forward half an hour at 02:00 on Sunday 4 October 2026.
    let s = linked("Australia/Lord_Howe", "2026-09-28T09:00", "");
    let shifts = s
        .shifts_for_person("ann", t("2026-09-27T22:30:00Z"), t("2026-10-04T22:00:00Z"))
        .unwrap();
    let all = stretches(&shifts);
    let sec: Vec<_> = all
        .iter()
        .filter(|x| x.rotation.id == "ops-secondary")
        .collect();
    assert_eq!(sec.len(), 1, "{all:?}");
    assert_eq!(sec[0].slots(), [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!((sec[0].end - sec[0].start).num_minutes(), 7 * 24 * 60 - 30);
    assert_eq!(sec[0].start, all[0].start);
    assert_eq!(sec[0].end, all[0].end);
}

#[test]
fn santiago_midnight_gap_joins() {
    // Chile springs forward at 00:00 on Sunday 6 September 2026: midnight handoffs that day
    // happen at 01:00, so that day's slot is 23 hours and the stretch is 7 days less an hour.
    let s = linked("America/Santiago", "2026-08-31T00:00", "");
    let shifts = s
        .shifts_for_person("ann", t("2026-08-31T04:00:00Z"), t("2026-09-07T03:00:00Z"))
        .unwrap();
    let all = stretches(&shifts);
    assert_eq!(all.len(), 2, "{all:?}");
    let sec = &all[1];
    assert_eq!(sec.rotation.id, "ops-secondary");
    assert_eq!(sec.pieces().len(), 7);
    assert_eq!((sec.end - sec.start).num_hours(), 7 * 24 - 1);
    assert_eq!(sec.start, t("2026-08-31T04:00:00Z"));
    assert_eq!(sec.end, t("2026-09-07T03:00:00Z"));
}

#[test]
fn a_gap_of_one_hour_splits_and_mixed_sources_join() {
    // Kim covers an hour of ann's Wednesday in the secondary; ann then also takes the first day
    // of raj's hero week in the secondary (the link gives it to raj) by override. Ann's own turn
    // in slot 8 is raj's too, through the link, so nothing follows.
    let extra = r#"
[[overrides]]
rotation = "ops-secondary"
person = "kim"
start = "2026-11-04T12:00:00Z"
end = "2026-11-04T13:00:00Z"
[[overrides]]
rotation = "ops-secondary"
person = "ann"
start = "2026-11-09T09:00:00Z"
end = "2026-11-10T09:00:00Z"
"#;
    let s = linked("Europe/London", "2026-11-02T09:00", extra);
    let got = ann(&s, "2026-11-02T09:00:00Z", "2026-11-12T09:00:00Z");
    assert_eq!(
        got,
        [
            "hero [0] rotation 2026-11-02T09:00:00+00:00..2026-11-09T09:00:00+00:00",
            "ops-secondary [0, 1, 2] link 2026-11-02T09:00:00+00:00..2026-11-04T12:00:00+00:00",
            "ops-secondary [2, 3, 4, 5, 6, 7] link+override 2026-11-04T13:00:00+00:00..2026-11-10T09:00:00+00:00",
        ]
    );
}

#[test]
fn different_rotations_and_people_never_join_and_order_does_not_matter() {
    let s = linked("Europe/London", "2026-11-02T09:00", "");
    let mut shifts = s
        .all_shifts(t("2026-11-02T09:00:00Z"), t("2026-11-23T09:00:00Z"))
        .unwrap();
    let forward = stretches(&shifts);
    shifts.reverse();
    assert_eq!(stretches(&shifts), forward);
    for x in &forward {
        for p in x.pieces() {
            assert_eq!(
                (p.rotation.id.as_str(), p.person.id.as_str()),
                (x.rotation.id.as_str(), x.person.id.as_str())
            );
        }
        for w in x.pieces().windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }
    let got: Vec<String> = forward
        .iter()
        .map(|x| format!("{} {} {:?}", x.rotation.id, x.person.id, x.slots()))
        .collect();
    assert_eq!(
        got,
        [
            "hero ann [0]",
            "ops-secondary ann [0, 1, 2, 3, 4, 5, 6]",
            "hero raj [1]",
            "ops-secondary raj [7, 8, 9, 10, 11, 12, 13]",
            "hero ann [2]",
            "ops-secondary ann [14, 15, 16, 17, 18, 19, 20]",
        ]
    );
    assert!(stretches(&[]).is_empty());
}

#[test]
fn link_cause_is_the_hero_shift() {
    let s = linked("Europe/London", "2026-11-02T09:00", "");
    let sec = s
        .on_call("ops-secondary", t("2026-11-05T12:00:00Z"))
        .unwrap()
        .unwrap();
    assert!(matches!(sec.source, Source::Link(_)));
    let hero = s.link_cause(&sec).unwrap();
    assert_eq!(
        (
            hero.rotation.id.as_str(),
            hero.person.id.as_str(),
            hero.slot
        ),
        ("hero", "ann", 0)
    );
    // Kim's own secondary day is caused by nothing.
    let own = s
        .on_call("hero", t("2026-11-05T12:00:00Z"))
        .unwrap()
        .unwrap();
    assert!(s.link_cause(&own).is_none());
}

#[test]
fn the_report_counts_a_linked_week_once() {
    let s = linked("Europe/London", "2026-11-02T09:00", "");
    // Two weeks from the second day: ann's hero week (partly), raj's, and ann's linked stretches.
    let r = s
        .report(
            t("2026-11-03T09:00:00Z"),
            t("2026-11-16T09:00:00Z"),
            &rota_core::timeoff::Holidays::new(),
        )
        .unwrap();
    let row = |rot: &str, p: &str| {
        let l = r
            .loads
            .iter()
            .find(|l| l.rotation == rot && l.person == p)
            .unwrap();
        (l.shifts, l.secs / 3600)
    };
    assert_eq!(row("hero", "ann"), (1, 6 * 24));
    assert_eq!(row("ops-secondary", "ann"), (1, 6 * 24));
    assert_eq!(row("ops-secondary", "raj"), (1, 7 * 24));
    assert_eq!(row("ops-secondary", "kim"), (0, 0));
    let ann = r.totals.iter().find(|l| l.person == "ann").unwrap();
    assert_eq!(ann.shifts, 2, "one per rotation");
}

#[test]
fn the_report_counts_stretches_and_the_rest_of_a_covered_slot_once() {
    // Kim covers an hour of ann's first linked day and all of Thursday. The hour splits the week:
    // continuity is the rule, so ann has three stretches, 09:00-12:00 on Monday, 13:00 Monday to
    // Thursday and Friday to Monday, and three shifts (the old per-slot count said 7).
    let extra = r#"
[[overrides]]
rotation = "ops-secondary"
person = "kim"
start = "2026-11-02T12:00:00Z"
end = "2026-11-02T13:00:00Z"
[[overrides]]
rotation = "ops-secondary"
person = "kim"
start = "2026-11-05T09:00:00Z"
end = "2026-11-06T09:00:00Z"
"#;
    let s = linked("Europe/London", "2026-11-02T09:00", extra);
    let r = s
        .report(
            t("2026-11-02T09:00:00Z"),
            t("2026-11-09T09:00:00Z"),
            &rota_core::timeoff::Holidays::new(),
        )
        .unwrap();
    let shifts = |p: &str| {
        r.loads
            .iter()
            .find(|l| l.rotation == "ops-secondary" && l.person == p)
            .unwrap()
            .shifts
    };
    assert_eq!(shifts("ann"), 3);
    assert_eq!(shifts("kim"), 2);
    // A stretch that only finishes a slot already counted does not count again: kim covers an
    // hour of ann's Monday, so ann's Monday before and after the hour is one shift.
    let extra = r#"
[[overrides]]
rotation = "ops-secondary"
person = "kim"
start = "2026-11-02T12:00:00Z"
end = "2026-11-02T13:00:00Z"
"#;
    let s = linked("Europe/London", "2026-11-02T09:00", extra);
    let r = s
        .report(
            t("2026-11-02T09:00:00Z"),
            t("2026-11-03T09:00:00Z"),
            &rota_core::timeoff::Holidays::new(),
        )
        .unwrap();
    let ann = r
        .loads
        .iter()
        .find(|l| l.rotation == "ops-secondary" && l.person == "ann")
        .unwrap();
    assert_eq!((ann.shifts, ann.secs / 3600), (1, 23));
}

#[test]
fn a_ski_trip_in_a_linked_week_is_one_conflict_under_the_hero_shift() {
    use rota_core::stretch::fold_linked_conflicts;
    use rota_core::timeoff::{Absence, TimeOff};
    let s = linked("Europe/London", "2026-11-02T09:00", "");
    let mut off = TimeOff::new();
    off.add(
        "ann",
        Absence {
            start: t("2026-11-04T00:00:00Z"),
            end: t("2026-11-08T00:00:00Z"),
            summary: "Ski trip".into(),
        },
    );
    let (from, to) = (t("2026-11-01T00:00:00Z"), t("2026-11-30T00:00:00Z"));
    let all = s.conflicts(&off, from, to).unwrap();
    // Hero week, and the secondary days 2 to 5 (Wed 09:00 to Sun 09:00 overlap the trip).
    assert_eq!(all.len(), 1 + 5);
    let folded = fold_linked_conflicts(all.clone());
    let got: Vec<String> = folded
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c.shift.rotation.id,
                c.shift.slot,
                c.away.num_hours()
            )
        })
        .collect();
    assert_eq!(got, ["hero 0 96"]);
    // What it also covers: the linked secondary week, as one stretch.
    let also: Vec<String> = s
        .linked_by(&folded[0].shift)
        .iter()
        .map(|x| format!("{} {:?} {}..{}", x.rotation.id, x.slots(), x.start, x.end))
        .collect();
    assert_eq!(
        also,
        ["ops-secondary [0, 1, 2, 3, 4, 5, 6] 2026-11-02 09:00:00 UTC..2026-11-09 09:00:00 UTC"]
    );
    // Its suggestions are for the hero week: raj's week 1 is the only trade. Ann is away five
    // of its seven days (Tuesday to Saturday, from the 09:00 handoff), most of the week: raj may
    // take the whole week for his, or those five days for five days of his.
    let sug = s
        .suggestions(&off, &folded[0].shift, t("2026-10-30T00:00:00Z"), to)
        .unwrap();
    let mut got: Vec<_> = sug
        .iter()
        .map(|x| {
            (
                x.person().id.as_str(),
                x.give_back.rotation.id.as_str(),
                x.give_back.slot,
                x.part.map(|(a, b)| (b - a).num_days()),
                x.give_back_part.map(|(a, b)| (b - a).num_days()),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("raj", "hero", 1, None, None),
            ("raj", "hero", 1, Some(5), Some(5))
        ]
    );
    let part = sug.iter().find_map(|x| x.part).unwrap();
    assert_eq!(part, (t("2026-11-03T09:00:00Z"), t("2026-11-08T09:00:00Z")));
    // Without the hero conflict in the list (a caller filtered it), the linked ones stay.
    let only_linked: Vec<_> = all
        .into_iter()
        .filter(|c| c.shift.rotation.id != "hero")
        .collect();
    assert_eq!(fold_linked_conflicts(only_linked).len(), 5);
}

/// In a rotation on call in office hours only, the handover passes over the night nobody is on
/// call: Tuesday's person was handed over to by Monday's, and a turn that goes on after a night
/// (a weekly turn, Monday to Friday) is handed over once, at its first morning.
#[test]
fn handovers_pass_over_time_with_nobody_on_call() {
    let text = r#"
[people.ann]
name = "Ann"
[people.raj]
name = "Raj"
[rotations.daily]
members = ["ann", "raj"]
timezone = "America/Chicago"
start = "2027-03-08T09:00"
every = "1 day"
active = ["Mon-Fri 09:00-17:00"]
advance = "when-active"
[rotations.weekly]
members = ["ann", "raj"]
timezone = "America/Chicago"
start = "2027-03-08T09:00"
every = "1 week"
active = ["Mon-Fri 09:00-17:00"]
"#;
    let s = Schedule::load(&[("s.toml", text)]).unwrap();
    // Tuesday 9 March, 10:00 CST: Raj, handed over by Ann at 09:00 CST after a night of nobody.
    let tue = s
        .on_call("daily", t("2027-03-09T16:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(tue.person.id, "raj");
    let (before, at) = rota_core::stretch::handed_over(&s, &tue).unwrap();
    assert_eq!(
        (before.person.id.as_str(), at),
        ("ann", t("2027-03-09T15:00:00Z"))
    );
    // Monday 15 March (CDT since the 14th), after a weekend of nobody: Raj's turn (the sixth
    // weekday), handed over by Friday's Ann.
    let mon = s
        .on_call("daily", t("2027-03-15T15:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(mon.person.id, "raj");
    let (before, at) = rota_core::stretch::handed_over(&s, &mon).unwrap();
    assert_eq!(
        (before.person.id.as_str(), at),
        ("ann", t("2027-03-15T14:00:00Z"))
    );
    assert_eq!(before.end, t("2027-03-12T23:00:00Z"));
    // Raj's weekly turn, Wednesday of his week: handed over by Ann, at his first morning.
    let wed = s
        .on_call("weekly", t("2027-03-17T15:00:00Z"))
        .unwrap()
        .unwrap();
    let (before, at) = rota_core::stretch::handed_over(&s, &wed).unwrap();
    assert_eq!(
        (before.person.id.as_str(), at),
        ("ann", t("2027-03-15T14:00:00Z"))
    );
    // The very first shift: nobody before it.
    let first = s
        .on_call("daily", t("2027-03-08T16:00:00Z"))
        .unwrap()
        .unwrap();
    assert!(rota_core::stretch::handed_over(&s, &first).is_none());
}
