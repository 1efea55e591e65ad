//! Properties of the resolved schedule, checked with proptest over generated rotations: every
//! zone of the time tables, `every` in hours, days and weeks, some rrules, starts anywhere
//! (including in gaps and folds), and random overrides.
//!
//! - Resolved shifts in a range are contiguous, never overlap, and cover the range.
//! - The shift found at `t` contains `t`, and is the one `shifts` lists there.
//! - Resolving `[a, c)` equals resolving `[a, b)` then `[b, c)`.
//! - Overrides never change the base order: without them, slot n is `members[n mod len]`; with
//!   them, each shift is the newest override covering it or else the base member.
//! - A swap changes exactly the two shifts involved; a swap of *parts* of two shifts (a day of a
//!   week, twelve hours of another) changes exactly those parts, and the order never changes.
//! - With a link, the hero is on call in their team's secondary rotation for the whole hero shift.
//!
//! Case counts are kept moderate so that the suite stays fast in a debug build.

mod common;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use common::{ZONES, recurrence_line, show, show_all};
use proptest::prelude::*;
use rota_core::tz::{parse_civil, resolve};
use rota_core::{Override, Schedule, Shift, Source, Tz, swap_overrides};

/// Civil times at which each zone of [`ZONES`] changes its clocks (the start of the gap or fold),
/// so that generated starts land in and around them.
const TRANSITIONS: [&[&str]; 6] = [
    &[
        "2026-03-29T01:00",
        "2026-10-25T01:00",
        "2027-03-28T01:00",
        "2027-10-31T01:00",
    ],
    &[
        "2026-03-08T02:00",
        "2026-11-01T01:00",
        "2027-03-14T02:00",
        "2027-11-07T01:00",
    ],
    &[
        "2026-04-05T01:30",
        "2026-10-04T02:00",
        "2027-04-04T01:30",
        "2027-10-03T02:00",
    ],
    &[
        "2011-04-02T03:00",
        "2011-09-24T03:00",
        "2011-12-30T00:00",
        "2011-12-30T12:00",
    ],
    &["2026-03-29T01:00", "2026-11-01T01:00"],
    &[
        "2026-04-04T23:00",
        "2026-09-06T00:00",
        "2027-04-03T23:00",
        "2027-09-05T00:00",
    ],
];

/// `n` cases, or `PROPTEST_CASES` if set (to search harder: `PROPTEST_CASES=5000 cargo test`).
fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

/// People of the generated schedules.
const PEOPLE: [&str; 6] = ["p0", "p1", "p2", "p3", "p4", "p5"];

/// How a generated rotation recurs; rrules are rendered from the start so that the start is an
/// occurrence.
#[derive(Clone, Debug)]
enum Rec {
    Hours(u32),
    Days(u32),
    Weeks(u32),
    /// `FREQ=WEEKLY;BYDAY=` the start's weekday and the one `k` days later.
    SplitWeek(u32),
    /// `FREQ=DAILY;BYHOUR=` the start's hour and the one `k` hours later.
    ByHour(u32),
    /// `FREQ=HOURLY;INTERVAL=k`.
    Hourly(u32),
    /// `FREQ=MONTHLY` (a 400-year repeat period).
    Monthly,
}

impl Rec {
    fn render(&self, start: NaiveDateTime) -> String {
        let wd = |k: u32| {
            ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
                [((start.weekday().num_days_from_monday() + k) % 7) as usize]
        };
        match self {
            Rec::Hours(n) => format!("{n} hours"),
            Rec::Days(n) => format!("{n} days"),
            Rec::Weeks(n) => format!("{n} weeks"),
            Rec::SplitWeek(k) => format!("FREQ=WEEKLY;BYDAY={},{}", wd(0), wd(*k)),
            Rec::ByHour(k) => format!(
                "FREQ=DAILY;BYHOUR={},{}",
                start.hour(),
                (start.hour() + k) % 24
            ),
            Rec::Hourly(k) => format!("FREQ=HOURLY;INTERVAL={k}"),
            Rec::Monthly => "FREQ=MONTHLY".to_string(),
        }
    }
}

fn rec() -> impl Strategy<Value = Rec> {
    prop_oneof![
        3 => (1u32..=48).prop_map(Rec::Hours),
        3 => (1u32..=14).prop_map(Rec::Days),
        3 => (1u32..=4).prop_map(Rec::Weeks),
        2 => (1u32..=6).prop_map(Rec::SplitWeek),
        2 => (1u32..=23).prop_map(Rec::ByHour),
        1 => (1u32..=12).prop_map(Rec::Hourly),
        1 => Just(Rec::Monthly),
    ]
}

/// A civil start in zone `z`: near one of its clock changes (every 5 minutes from two hours
/// before to two hours after, so in gaps and folds too), or anywhere in 2011-2027.
fn civil_start(z: usize) -> impl Strategy<Value = NaiveDateTime> {
    let near = (0..TRANSITIONS[z].len(), -24i64..=24).prop_map(move |(i, k)| {
        parse_civil(TRANSITIONS[z][i]).unwrap() + TimeDelta::minutes(5 * k)
    });
    let anywhere = (0i64..17 * 365, 0i64..24 * 60).prop_map(|(d, m)| {
        NaiveDate::from_ymd_opt(2011, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + TimeDelta::days(d)
            + TimeDelta::minutes(m)
    });
    prop_oneof![near, anywhere]
}

/// A generated rotation.
#[derive(Clone, Debug)]
struct RotSpec {
    zone: &'static str,
    start: NaiveDateTime,
    rec: String,
    /// Indexes into [`PEOPLE`]; repeats allowed.
    members: Vec<usize>,
}

impl RotSpec {
    fn toml(&self, id: &str, team: Option<&str>) -> String {
        let members: Vec<String> = self
            .members
            .iter()
            .map(|&m| format!("{:?}", PEOPLE[m]))
            .collect();
        format!(
            "[rotations.{id}]\n{}members = [{}]\ntimezone = {:?}\nstart = \"{}\"\n{}\n",
            team.map(|t| format!("team = {t:?}\n")).unwrap_or_default(),
            members.join(", "),
            self.zone,
            self.start.format("%Y-%m-%dT%H:%M"),
            recurrence_line(&self.rec)
        )
    }

    /// The start, resolved by the gap and fold rules: the first handoff is at or before it (at
    /// it unless the start is in a gap that a later handoff's instant undercuts).
    fn start_instant(&self) -> DateTime<Utc> {
        let tz: Tz = self.zone.parse().unwrap();
        resolve(tz, self.start).unwrap().instant
    }
}

fn rot_spec(max_members: usize) -> impl Strategy<Value = RotSpec> {
    (0..ZONES.len())
        .prop_flat_map(move |z| {
            (
                Just(z),
                civil_start(z),
                rec(),
                prop::collection::vec(0..PEOPLE.len(), 1..=max_members),
            )
        })
        .prop_map(|(z, start, rec, members)| RotSpec {
            zone: ZONES[z],
            start,
            rec: rec.render(start),
            members,
        })
}

/// A generated override: who, and when relative to the start of the query window (minutes).
#[derive(Clone, Debug)]
struct OvSpec {
    person: usize,
    offset_min: i64,
    len_min: i64,
}

fn overrides() -> impl Strategy<Value = Vec<OvSpec>> {
    prop::collection::vec(
        (0..PEOPLE.len(), -3 * 1440i64..25 * 1440, 1i64..7 * 1440).prop_map(
            |(person, offset_min, len_min)| OvSpec {
                person,
                offset_min,
                len_min,
            },
        ),
        0..=4,
    )
}

fn make_overrides(rotation: &str, from: DateTime<Utc>, specs: &[OvSpec]) -> Vec<Override> {
    specs
        .iter()
        .enumerate()
        .map(|(i, o)| Override {
            id: format!("{rotation}-o{i}"),
            rotation: rotation.to_string(),
            person: PEOPLE[o.person].to_string(),
            start: from + TimeDelta::minutes(o.offset_min),
            end: from + TimeDelta::minutes(o.offset_min + o.len_min),
            reason: None,
        })
        .collect()
}

fn people_with_teams(teams: usize) -> String {
    let mut s = String::new();
    for t in 0..teams {
        s.push_str(&format!("[teams.t{t}]\nname = \"Team {t}\"\n"));
    }
    for (i, p) in PEOPLE.iter().enumerate() {
        s.push_str(&format!("[people.{p}]\nname = \"Person {p}\"\n"));
        // With teams, the last person belongs to none.
        if teams > 0 && i + 1 < PEOPLE.len() {
            s.push_str(&format!("team = \"t{}\"\n", i % teams));
        }
    }
    s
}

/// A schedule with the single rotation `r`.
fn single(spec: &RotSpec) -> Schedule {
    let text = format!("{}\n{}", people_with_teams(0), spec.toml("r", None));
    Schedule::load(&[("r.toml", &text)]).unwrap_or_else(|e| panic!("{spec:?}: {e}\n{text}"))
}

/// The query window: from `offset_min` minutes after the start, `len_min` minutes long.
fn window(spec: &RotSpec, offset_min: i64, len_min: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = spec.start_instant() + TimeDelta::minutes(offset_min);
    (from, from + TimeDelta::minutes(len_min))
}

fn member(s: &Schedule, sh: &Shift<'_>) -> String {
    let m = &s.rotation(&sh.rotation.id).unwrap().members;
    m[(sh.slot % m.len() as u64) as usize].clone()
}

/// Contiguous, never overlapping, whole, and covering `[from, to)` from the rotation's start.
fn assert_covers(
    s: &Schedule,
    v: &[Shift<'_>],
    spec: &RotSpec,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) {
    let ctx = || format!("{spec:?} [{from}, {to})\n{}", show_all(v));
    assert!(!v.is_empty() || to <= spec.start_instant(), "{}", ctx());
    let Some(first) = v.first() else { return };
    if from >= spec.start_instant() {
        assert!(
            first.start <= from,
            "first shift starts after from: {}",
            ctx()
        );
    } else {
        // The range begins before the rotation: the first shift is its very first.
        assert!(first.start <= spec.start_instant(), "{}", ctx());
        // (slots before it, if any, were squeezed to zero length)
        for k in 0..first.slot {
            assert!(
                s.base_shift("r", k).unwrap().is_none(),
                "slot {k}: {}",
                ctx()
            );
        }
    }
    assert!(
        v.last().unwrap().end >= to,
        "last shift ends before to: {}",
        ctx()
    );
    for sh in v {
        assert!(sh.start < sh.end, "empty shift: {}", ctx());
        assert!(
            sh.start < to && sh.end > from,
            "outside the range: {}",
            ctx()
        );
    }
    for w in v.windows(2) {
        assert_eq!(w[0].end, w[1].start, "gap or overlap: {}", ctx());
        assert!(w[0].slot <= w[1].slot, "slots out of order: {}", ctx());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    /// Shifts are contiguous, never overlap and cover the range; each lies inside its slot, and
    /// `on_call` at any instant of the range is the listed shift containing it.
    #[test]
    fn shifts_cover_and_on_call_agrees(
        spec in rot_spec(4),
        ovs in overrides(),
        offset in -2 * 1440i64..40 * 1440,
        len in 1i64..20 * 1440,
        probes in prop::collection::vec(0.0f64..1.0, 16),
    ) {
        let base = single(&spec);
        let (from, to) = window(&spec, offset, len);
        let s = base.with_overrides(make_overrides("r", from, &ovs)).unwrap();
        let v = s.shifts("r", from, to).unwrap();
        assert_covers(&s, &v, &spec, from, to);
        for sh in &v {
            let slot = s.base_shift("r", sh.slot).unwrap().expect("a listed slot has length");
            prop_assert!(slot.start <= sh.start && sh.end <= slot.end, "{} outside {}", show(sh), show(&slot));
        }
        // The instants probed: random ones, and both sides of every edge.
        let mut ts: Vec<DateTime<Utc>> = probes
            .iter()
            .map(|p| from + TimeDelta::seconds(((to - from).num_seconds() as f64 * p) as i64))
            .collect();
        for sh in &v {
            ts.extend([sh.start, sh.start - TimeDelta::seconds(1), sh.end - TimeDelta::seconds(1)]);
        }
        for t in ts {
            let got = s.on_call("r", t).unwrap();
            let listed = v.iter().find(|sh| sh.contains(t));
            match (&got, listed) {
                (Some(g), _) => {
                    prop_assert!(g.contains(t), "{} does not contain {t}", show(g));
                    if let Some(l) = listed {
                        prop_assert_eq!(g, l);
                    }
                }
                (None, Some(l)) => prop_assert!(false, "nobody on call at {t}, but {}", show(l)),
                (None, None) => prop_assert!(
                    t < spec.start_instant() || t < from || t >= to,
                    "nobody on call at {t}"
                ),
            }
        }
    }

    /// Resolving `[a, c)` equals resolving `[a, b)` and then `[b, c)`, with the shift that
    /// straddles `b` (listed by both) counted once.
    #[test]
    fn ranges_split_and_join(
        spec in rot_spec(4),
        ovs in overrides(),
        offset in -2 * 1440i64..40 * 1440,
        len in 2i64..20 * 1440,
        cut in 0.0f64..1.0,
    ) {
        let base = single(&spec);
        let (a, c) = window(&spec, offset, len);
        let s = base.with_overrides(make_overrides("r", a, &ovs)).unwrap();
        let b = a + TimeDelta::minutes(1 + ((len - 1) as f64 * cut) as i64).min(c - a - TimeDelta::minutes(1));
        prop_assume!(a < b && b < c);
        let whole = s.shifts("r", a, c).unwrap();
        let mut joined = s.shifts("r", a, b).unwrap();
        let right = s.shifts("r", b, c).unwrap();
        if let (Some(l), Some(r)) = (joined.last(), right.first())
            && l == r
        {
            prop_assert!(l.contains(b), "{} listed on both sides of {b}", show(l));
            joined.pop();
        }
        joined.extend(right);
        prop_assert_eq!(&whole, &joined, "\n{}\n--\n{}", show_all(&whole), show_all(&joined));
    }

    /// Overrides never change the base order. Without them every slot n belongs to
    /// `members[n mod len]`, whatever overrides the schedule had; with them, each shift is either
    /// the newest override covering it or, where none does, the base member.
    #[test]
    fn overrides_never_change_the_order(
        spec in rot_spec(4),
        ovs in overrides(),
        offset in -2 * 1440i64..40 * 1440,
        len in 1i64..20 * 1440,
    ) {
        let base = single(&spec);
        let (from, to) = window(&spec, offset, len);
        let list = make_overrides("r", from, &ovs);
        let s = base.with_overrides(list.clone()).unwrap();
        let stripped = s.without_overrides();
        prop_assert!(stripped.overrides().is_empty());
        let v = stripped.shifts("r", from, to).unwrap();
        prop_assert_eq!(&v, &base.shifts("r", from, to).unwrap());
        for sh in &v {
            prop_assert_eq!(&sh.person.id, &member(&base, sh), "{}", show(sh));
            prop_assert_eq!(sh.source.as_str(), "rotation");
            // Whole slots: exactly the base shift of the slot.
            prop_assert_eq!(Some(*sh), stripped.base_shift("r", sh.slot).unwrap());
        }
        // With the overrides: override layering, newest on top.
        for sh in &s.shifts("r", from, to).unwrap() {
            let covering: Vec<(usize, &Override)> = list
                .iter()
                .enumerate()
                .filter(|(_, o)| o.start < sh.end && o.end > sh.start)
                .collect();
            match sh.source {
                Source::Override(o) => {
                    prop_assert_eq!(&sh.person.id, &o.person);
                    prop_assert!(o.start <= sh.start && sh.end <= o.end, "{} not inside {o:?}", show(sh));
                    let i = list.iter().position(|x| x == o).unwrap();
                    prop_assert!(covering.iter().all(|&(j, _)| j <= i), "{} under a newer override", show(sh));
                }
                Source::Rotation => {
                    prop_assert!(covering.is_empty(), "{} overlaps {covering:?}", show(sh));
                    prop_assert_eq!(&sh.person.id, &member(&base, sh));
                }
                Source::Link(_) => prop_assert!(false, "no links here: {}", show(sh)),
            }
        }
    }

    /// A swap of two base shifts changes exactly those two shifts and nothing else.
    #[test]
    fn a_swap_changes_exactly_two_shifts(
        spec in rot_spec(4),
        ovs in overrides(),
        offset in 0i64..40 * 1440,
        first in 0u64..6,
        gap in 1u64..6,
    ) {
        let base = single(&spec);
        let (from, _) = window(&spec, offset, 1);
        let s = base.with_overrides(make_overrides("r", from, &ovs)).unwrap();
        let Some(here) = s.on_call("r", from).unwrap() else { return Ok(()) };
        let (i, j) = (here.slot + first, here.slot + first + gap);
        let (Some(a), Some(b)) = (s.base_shift("r", i).unwrap(), s.base_shift("r", j).unwrap())
        else {
            return Ok(()); // a slot squeezed to zero length by a DST change
        };
        let [oa, ob] = swap_overrides(&a, &b, ("swap-a".into(), "swap-b".into()), Some("holiday".into()));
        prop_assert_eq!((&oa.person, &ob.person), (&b.person.id, &a.person.id));
        let swapped = s.with_overrides([oa.clone(), ob.clone()]).unwrap();
        let (lo, hi) = (a.start - TimeDelta::days(3), b.end + TimeDelta::days(3));
        let before = s.shifts("r", lo, hi).unwrap();
        let after = swapped.shifts("r", lo, hi).unwrap();
        let others = |v: &[Shift<'_>]| -> Vec<String> {
            v.iter().filter(|x| x.slot != i && x.slot != j).map(show).collect()
        };
        prop_assert_eq!(others(&before), others(&after));
        for (slot, whole, person, o) in [(i, &a, &b.person.id, &oa), (j, &b, &a.person.id, &ob)] {
            let got: Vec<&Shift<'_>> = after.iter().filter(|x| x.slot == slot).collect();
            prop_assert_eq!(got.len(), 1, "slot {}:\n{}", slot, show_all(&after));
            let g = got[0];
            prop_assert_eq!((g.start, g.end), (whole.start, whole.end));
            prop_assert_eq!(&g.person.id, person);
            prop_assert_eq!(g.source, Source::Override(o));
        }
        // And the order is untouched.
        for sh in &swapped.without_overrides().shifts("r", lo, hi).unwrap() {
            prop_assert_eq!(&sh.person.id, &member(&s, sh));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    /// Issue 13: a trade of a part of one shift for a part of another (of any lengths, on whole
    /// minutes, as the swap service writes them) changes who is on call exactly within the two
    /// parts, each to the other person, and nowhere else; the order is untouched.
    #[test]
    fn a_swap_of_parts_changes_exactly_those_parts(
        spec in rot_spec(4),
        ovs in overrides(),
        offset in 0i64..40 * 1440,
        first in 0u64..6,
        gap in 1u64..6,
        pa in (0.0f64..1.0, 0.0f64..1.0),
        pb in (0.0f64..1.0, 0.0f64..1.0),
        probes in prop::collection::vec(0.0f64..1.0, 24),
    ) {
        let base = single(&spec);
        let (from, _) = window(&spec, offset, 1);
        let s = base.with_overrides(make_overrides("r", from, &ovs)).unwrap();
        let Some(here) = s.on_call("r", from).unwrap() else { return Ok(()) };
        let (i, j) = (here.slot + first, here.slot + first + gap);
        let (Some(a), Some(b)) = (s.base_shift("r", i).unwrap(), s.base_shift("r", j).unwrap())
        else {
            return Ok(());
        };
        // A part of `sh`: between two fractions of it, on whole minutes, at least a minute.
        let part = |sh: &Shift<'_>, (x, y): (f64, f64)| {
            let minutes = (sh.end - sh.start).num_minutes();
            let (lo, hi) = (x.min(y), x.max(y));
            let m0 = (lo * minutes as f64) as i64;
            let m1 = ((hi * minutes as f64) as i64).max(m0 + 1).min(minutes);
            (m0 < m1).then(|| (sh.start + TimeDelta::minutes(m0), sh.start + TimeDelta::minutes(m1)))
        };
        let (Some(part_a), Some(part_b)) = (part(&a, pa), part(&b, pb)) else { return Ok(()) };
        let (who_a, who_b) = (a.person.id.clone(), b.person.id.clone());
        let swapped = s
            .with_overrides([
                Override { id: "part-a".into(), rotation: "r".into(), person: who_b.clone(), start: part_a.0, end: part_a.1, reason: None },
                Override { id: "part-b".into(), rotation: "r".into(), person: who_a.clone(), start: part_b.0, end: part_b.1, reason: None },
            ])
            .unwrap();
        let (lo, hi) = (a.start - TimeDelta::days(2), b.end + TimeDelta::days(2));
        let span = (hi - lo).num_seconds();
        let mut at: Vec<DateTime<Utc>> = probes
            .iter()
            .map(|f| lo + TimeDelta::seconds((f * span as f64) as i64))
            .collect();
        for (x, y) in [part_a, part_b] {
            at.extend([x - TimeDelta::seconds(1), x, y - TimeDelta::seconds(1), y]);
        }
        for t in at {
            let want = if part_a.0 <= t && t < part_a.1 {
                Some(who_b.clone())
            } else if part_b.0 <= t && t < part_b.1 {
                Some(who_a.clone())
            } else {
                s.on_call("r", t).unwrap().map(|x| x.person.id.clone())
            };
            let got = swapped.on_call("r", t).unwrap().map(|x| x.person.id.clone());
            prop_assert_eq!(&got, &want, "at {}: parts {:?} {:?}\n{}", t, part_a, part_b,
                show_all(&swapped.shifts("r", lo, hi).unwrap()));
        }
        for sh in &swapped.without_overrides().shifts("r", lo, hi).unwrap() {
            prop_assert_eq!(&sh.person.id, &member(&s, sh));
        }
    }
}

/// Team `t`'s secondary rotation id.
fn sec(t: usize) -> String {
    format!("sec-t{t}")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    /// With a link from the hero rotation to the teams' secondary rotations (displaced
    /// "skip"), the hero is on call in their own team's secondary rotation for the whole hero
    /// shift (once that rotation has started); everyone else is on call there as the rotation
    /// has it.
    #[test]
    fn the_hero_covers_their_team_secondary(
        teams in 1usize..=3,
        hero in rot_spec(6),
        secs in prop::collection::vec(rot_spec(4), 3),
        ovs in overrides(),
        offset in 0i64..40 * 1440,
        len in 1i64..10 * 1440,
        probes in prop::collection::vec(0.0f64..1.0, 12),
    ) {
        let mut text = format!("hero_rotation = \"hero\"\n{}\n{}", people_with_teams(teams), hero.toml("hero", None));
        for (t, spec) in secs.iter().take(teams).enumerate() {
            text.push_str(&spec.toml(&sec(t), Some(&format!("t{t}"))));
        }
        let to: Vec<String> = (0..teams).map(|t| format!("{:?}", sec(t))).collect();
        text.push_str(&format!("[[links]]\nfrom = \"hero\"\nto = [{}]\ndisplaced = \"skip\"\n", to.join(", ")));
        let base = Schedule::load(&[("s.toml", &text)]).unwrap_or_else(|e| panic!("{e}\n{text}"));
        // From when all the rotations have (nearly) started, however far apart their starts.
        let anchor = secs.iter().take(teams).map(RotSpec::start_instant).fold(hero.start_instant(), DateTime::max);
        let from = anchor + TimeDelta::minutes(offset);
        let until = from + TimeDelta::minutes(len);
        let s = base.with_overrides(make_overrides("hero", from, &ovs)).unwrap();
        // Where each secondary rotation starts.
        let far_past: DateTime<Utc> = "1000-01-01T00:00:00Z".parse().unwrap();
        let started: Vec<DateTime<Utc>> = (0..teams)
            .map(|t| {
                let first = secs[t].start_instant() + TimeDelta::seconds(1);
                s.shifts(&sec(t), far_past, first).unwrap()[0].start
            })
            .collect();
        let team_of = |p: &str| -> Option<usize> {
            s.person(p).unwrap().team.as_deref().map(|t| t[1..].parse().unwrap())
        };
        for h in s.shifts("hero", from, until).unwrap() {
            let Some(t) = team_of(&h.person.id) else { continue };
            let lo = h.start.max(started[t]);
            if lo >= h.end {
                continue;
            }
            let covered = s.shifts(&sec(t), lo, h.end).unwrap();
            prop_assert!(!covered.is_empty());
            for c in &covered {
                let c_lo = c.start.max(lo);
                let c_hi = c.end.min(h.end);
                prop_assert!(c_lo < c_hi);
                prop_assert_eq!(&c.person.id, &h.person.id, "hero {} but {}", show(&h), show(c));
                prop_assert_eq!(c.source.as_str(), "link", "{}", show(c));
            }
            prop_assert!(covered[0].start <= lo && covered.last().unwrap().end >= h.end);
        }
        // At any instant: the secondary is the hero if the hero is of its team, else the base.
        for p in probes {
            let t_at = from + TimeDelta::seconds(((until - from).num_seconds() as f64 * p) as i64);
            let hero_now = s.whoishero(t_at).unwrap();
            for (t, &started) in started.iter().enumerate() {
                let Some(c) = s.on_call(&sec(t), t_at).unwrap() else {
                    prop_assert!(t_at < started);
                    continue;
                };
                match hero_now.as_ref().filter(|h| team_of(&h.person.id) == Some(t)) {
                    Some(h) => {
                        prop_assert_eq!(&c.person.id, &h.person.id);
                        prop_assert_eq!(c.source.as_str(), "link");
                    }
                    None => {
                        prop_assert_eq!(&c.person.id, &member(&s, &c), "at {}: {}", t_at, show(&c));
                        prop_assert_eq!(c.source.as_str(), "rotation");
                    }
                }
            }
        }
    }
}
