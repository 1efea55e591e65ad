//! Restrictions (`active` windows, `advance`), pinned in the six zones of the time tables.
//!
//! - A table of windows that open or close inside DST gaps and folds, one or more per zone, with
//!   the on-call intervals written out as local times.
//! - `advance = "when-active"` against `"always"` on GoAlert #55's case (14 people, a daily
//!   rotation on weekdays only), in every zone, and decades ahead without walking from the start.
//! - Overrides and links replace only where someone is on call.
//! - Properties over generated windows, cadences and zones: shifts lie inside both their slot and
//!   the windows (checked against a model that resolves each window of each day on its own, with
//!   `rota_core::tz::resolve`), `on_call` agrees with `shifts`, and resolving a range in two halves
//!   gives what resolving it whole does.

mod common;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use common::{ZONES, local, people_toml, show_all, utc};
use proptest::prelude::*;
use rota_core::tz::resolve;
use rota_core::{Override, Schedule, Shift, Tz};

fn rotation(zone: &str, windows: &[&str], extra: &str) -> Schedule {
    let text = format!(
        "{}\n[rotations.r]\nmembers = [\"a\"]\ntimezone = \"{zone}\"\nstart = \"2011-01-03T12:00\"\n\
         every = \"1 week\"\nactive = {windows:?}\n{extra}\n",
        people_toml(&["a", "b"])
    );
    Schedule::load(&[("r.toml", &text)]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The on-call intervals of `r` in `[from, to)`, touching shifts merged (a handoff to the same
/// person), as local times.
fn intervals(s: &Schedule, from: &str, to: &str) -> Vec<(String, String)> {
    let tz = s.rotation("r").unwrap().timezone;
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for sh in s.shifts("r", utc(from), utc(to)).unwrap() {
        match out.last_mut() {
            Some(last) if last.1 == sh.start => last.1 = sh.end,
            _ => out.push((sh.start, sh.end)),
        }
    }
    out.iter()
        .map(|(a, b)| (local(*a, tz), local(*b, tz)))
        .collect()
}

/// (zone, window, query from, query to, on-call intervals in local time)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[test]
fn windows_open_and_close_by_the_gap_and_fold_rules_in_every_zone() {
    // (zone, window, range, on-call intervals in local time)
    let cases: &[Case] = &[
        // London springs forward at 01:00 GMT: a close in the gap moves forward by the hour...
        (
            "Europe/London",
            "00:30-01:30",
            "2027-03-28T00:00:00Z",
            "2027-03-28T12:00:00Z",
            &[("2027-03-28T00:30:00+00:00", "2027-03-28T02:30:00+01:00")],
        ),
        // ...and a window wholly inside the gap moves forward with it, its length kept.
        (
            "Europe/London",
            "01:15-01:45",
            "2027-03-28T00:00:00Z",
            "2027-03-28T12:00:00Z",
            &[("2027-03-28T02:15:00+01:00", "2027-03-28T02:45:00+01:00")],
        ),
        // London falls back: an opening in the fold takes the first 01:30.
        (
            "Europe/London",
            "01:30-03:00",
            "2027-10-31T00:00:00Z",
            "2027-10-31T12:00:00Z",
            &[("2027-10-31T01:30:00+01:00", "2027-10-31T03:00:00+00:00")],
        ),
        // Chicago falls back: a window inside the fold is its first pass only.
        (
            "America/Chicago",
            "01:00-01:30",
            "2026-11-01T05:00:00Z",
            "2026-11-01T12:00:00Z",
            &[("2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00")],
        ),
        // Chicago springs forward: an opening in the gap moves to 03:30 CDT; half an hour left.
        (
            "America/Chicago",
            "02:30-04:00",
            "2027-03-14T06:00:00Z",
            "2027-03-14T18:00:00Z",
            &[("2027-03-14T03:30:00-05:00", "2027-03-14T04:00:00-05:00")],
        ),
        // Lord Howe's 30-minute gap (02:00 to 02:30).
        (
            "Australia/Lord_Howe",
            "02:10-03:00",
            "2026-10-03T13:30:00Z",
            "2026-10-04T01:00:00Z",
            &[("2026-10-04T02:40:00+11:00", "2026-10-04T03:00:00+11:00")],
        ),
        // Lord Howe's 30-minute fold (01:30 to 02:00 twice): an hour of real time.
        (
            "Australia/Lord_Howe",
            "01:45-02:15",
            "2027-04-03T13:00:00Z",
            "2027-04-04T01:00:00Z",
            &[("2027-04-04T01:45:00+11:00", "2027-04-04T02:15:00+10:30")],
        ),
        // Santiago springs forward at midnight: a window crossing midnight closes in the gap.
        (
            "America/Santiago",
            "23:00-00:30",
            "2026-09-06T00:00:00Z",
            "2026-09-06T12:00:00Z",
            &[("2026-09-05T23:00:00-04:00", "2026-09-06T01:30:00-03:00")],
        ),
        // Santiago falls back at midnight (23:00 to 24:00 twice): two hours of real time.
        (
            "America/Santiago",
            "23:30-00:30",
            "2026-04-05T00:00:00Z",
            "2026-04-05T12:00:00Z",
            &[("2026-04-04T23:30:00-03:00", "2026-04-05T00:30:00-04:00")],
        ),
        // Samoa skipped 2011-12-30: that day's window lands on the 31st's, and merges with it.
        (
            "Pacific/Apia",
            "09:00-17:00",
            "2011-12-29T04:00:00Z",
            "2011-12-31T12:00:00Z",
            &[
                ("2011-12-29T09:00:00-10:00", "2011-12-29T17:00:00-10:00"),
                ("2011-12-31T09:00:00+14:00", "2011-12-31T17:00:00+14:00"),
            ],
        ),
        // India: no DST, a half-hour offset, weekdays only (Friday, then Monday).
        (
            "Asia/Kolkata",
            "Mon-Fri 09:00-17:30",
            "2027-01-01T00:00:00Z",
            "2027-01-05T00:00:00Z",
            &[
                ("2027-01-01T09:00:00+05:30", "2027-01-01T17:30:00+05:30"),
                ("2027-01-04T09:00:00+05:30", "2027-01-04T17:30:00+05:30"),
            ],
        ),
        // The weekend as one window, across London's fall-back night.
        (
            "Europe/London",
            "Fri 17:00-Mon 09:00",
            "2027-10-29T00:00:00Z",
            "2027-11-02T00:00:00Z",
            &[("2027-10-29T17:00:00+01:00", "2027-11-01T09:00:00+00:00")],
        ),
    ];
    for (zone, window, from, to, want) in cases {
        let s = rotation(zone, &[window], "");
        let got = intervals(&s, from, to);
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want, "{zone} {window:?} over [{from}, {to})");
        // Outside them nobody is on call; inside, `on_call` finds the same interval's shift.
        for (a, b) in &want {
            let a = DateTime::parse_from_rfc3339(a).unwrap().with_timezone(&Utc);
            let b = DateTime::parse_from_rfc3339(b).unwrap().with_timezone(&Utc);
            let before = s.on_call("r", a - TimeDelta::seconds(1)).unwrap();
            assert!(before.is_none(), "{zone} {window:?}: on call before {a}");
            assert!(
                s.on_call("r", b).unwrap().is_none(),
                "{zone} {window:?}: at {b}"
            );
            let inside = s.on_call("r", a).unwrap().expect("on call at the opening");
            assert_eq!(inside.start, a, "{zone} {window:?}");
            assert_eq!(
                s.on_call("r", b - TimeDelta::seconds(1))
                    .unwrap()
                    .unwrap()
                    .end,
                b
            );
        }
    }
}

/// Windows are merged as instants, after their edges moved out of gaps: on London's spring-forward
/// night (01:00 to 02:00 GMT skipped), "01:30-01:45" moves to 02:30-02:45 BST, inside
/// "02:10-03:00", and the two are one interval from 02:10 BST. Windows that meet as instants
/// (Samoa's skipped Friday moved onto Saturday's) are one too.
#[test]
fn windows_are_merged_as_instants_after_the_gap_rule() {
    let s = rotation("Europe/London", &["01:30-01:45", "02:10-03:00"], "");
    assert_eq!(
        intervals(&s, "2027-03-28T00:00:00Z", "2027-03-28T12:00:00Z"),
        [(
            "2027-03-28T02:10:00+01:00".to_string(),
            "2027-03-28T03:00:00+01:00".to_string()
        )]
    );
    let x = s
        .on_call("r", utc("2027-03-28T01:20:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (x.start, x.end),
        (utc("2027-03-28T01:10:00Z"), utc("2027-03-28T02:00:00Z"))
    );
    let s = rotation("Pacific/Apia", &["Fri 09:00-17:00", "Sat 08:00-12:00"], "");
    assert_eq!(
        intervals(&s, "2011-12-30T00:00:00Z", "2011-12-31T12:00:00Z"),
        [(
            "2011-12-31T08:00:00+14:00".to_string(),
            "2011-12-31T17:00:00+14:00".to_string()
        )]
    );
}

/// GoAlert #55: a daily rotation restricted to weekdays, with 14 people. Turns that always fall
/// on a weekend mean 4 people are never on call with `advance = "always"`; `"when-active"` skips
/// the weekend slots and everyone takes weekdays in order.
#[test]
fn when_active_gives_everyone_a_turn_where_always_leaves_four_out() {
    let people: Vec<String> = (0..14).map(|i| format!("p{i:02}")).collect();
    let ids: Vec<&str> = people.iter().map(String::as_str).collect();
    for zone in ZONES {
        let load = |advance: &str| {
            let text = format!(
                "{}\n[rotations.r]\nmembers = {ids:?}\ntimezone = \"{zone}\"\n\
                 start = \"2026-01-05T00:00\"\nevery = \"1 day\"\nactive = [\"Mon-Fri 00:00-24:00\"]\n\
                 advance = \"{advance}\"\n",
                people_toml(&ids)
            );
            Schedule::load(&[("r.toml", &text)]).unwrap_or_else(|e| panic!("{e}"))
        };
        let (from, to) = (utc("2026-03-02T00:00:00Z"), utc("2027-03-01T00:00:00Z"));
        let always = load("always");
        let shifts = always.shifts("r", from, to).unwrap();
        let mut seen: Vec<&str> = shifts.iter().map(|s| s.person.id.as_str()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 10, "{zone}: {seen:?}");

        let active = load("when-active");
        let shifts = active.shifts("r", from, to).unwrap();
        // One turn per weekday slot: consecutive slots (pieces of one slot merged) go round the
        // members in order.
        let mut turns: Vec<(u64, &str)> = shifts
            .iter()
            .map(|s| (s.slot, s.person.id.as_str()))
            .collect();
        turns.dedup();
        let first = ids.iter().position(|p| *p == turns[0].1).unwrap();
        for (i, (slot, p)) in turns.iter().enumerate() {
            assert_eq!(*p, ids[(first + i) % 14], "{zone}: turn {i} (slot {slot})");
        }
        // Nobody on call at the weekend: Saturday 12:00 local.
        let tz: Tz = zone.parse().unwrap();
        let saturday = NaiveDate::from_ymd_opt(2026, 11, 7)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let sat = resolve(tz, saturday).unwrap().instant;
        assert!(active.on_call("r", sat).unwrap().is_none(), "{zone}");
        // Far ahead, the turn is counted, not walked: slot 70,000 (10,000 weeks on, a Monday)
        // comes after 50,000 weekday turns, and the Monday after it after 50,005.
        assert_eq!(active.base_shift("r", 0).unwrap().unwrap().person.id, "p00");
        let far = active.base_shift("r", 70_000).unwrap().unwrap();
        assert_eq!(far.person.id, ids[50_000 % 14], "{zone}");
        assert!(
            active.base_shift("r", 70_005).unwrap().is_none(),
            "{zone}: a Saturday"
        );
        let later = active.base_shift("r", 70_007).unwrap().unwrap();
        assert_eq!(later.person.id, ids[50_005 % 14], "{zone}");
    }
}

#[test]
fn overrides_and_links_replace_only_inside_the_windows() {
    let text = format!(
        "{}\n[teams.t]\nname = \"T\"\n\
         [rotations.hero]\nmembers = [\"a\", \"b\"]\ntimezone = \"Europe/London\"\nstart = \"2027-03-22T09:00\"\nevery = \"1 week\"\n\
         [rotations.sec]\nteam = \"t\"\nmembers = [\"c\"]\ntimezone = \"Europe/London\"\nstart = \"2027-03-22T09:00\"\nevery = \"1 week\"\n\
         active = [\"Mon-Fri 09:00-17:00\"]\n\
         [[links]]\nfrom = \"hero\"\nto = [\"sec\"]\n",
        "[people.a]\nname = \"A\"\nteam = \"t\"\n[people.b]\nname = \"B\"\n[people.c]\nname = \"C\"\nteam = \"t\"\n[people.d]\nname = \"D\"\n"
    );
    let s = Schedule::load(&[("r.toml", &text)]).unwrap();
    // Week of 2027-03-22: A is hero and so the secondary, but only inside its windows.
    let week = s
        .shifts(
            "sec",
            utc("2027-03-22T00:00:00Z"),
            utc("2027-03-29T00:00:00Z"),
        )
        .unwrap();
    assert_eq!(week.len(), 5, "{}", show_all(&week));
    assert!(
        week.iter()
            .all(|x| x.person.id == "a" && x.source.as_str() == "link")
    );
    assert_eq!(
        (week[0].start, week[0].end),
        (utc("2027-03-22T09:00:00Z"), utc("2027-03-22T17:00:00Z"))
    );
    // Across the change to summer time, Friday's window is 09:00-17:00 BST.
    assert_eq!(
        (week[4].start, week[4].end),
        (utc("2027-03-26T09:00:00Z"), utc("2027-03-26T17:00:00Z"))
    );
    // An override over the whole next week covers its five windows, nothing more.
    let o = Override {
        id: "o".into(),
        rotation: "sec".into(),
        person: "d".into(),
        start: utc("2027-03-29T00:00:00Z"),
        end: utc("2027-04-05T00:00:00Z"),
        reason: None,
    };
    let s = s.with_overrides([o]).unwrap();
    let next = s
        .shifts(
            "sec",
            utc("2027-03-29T00:00:00Z"),
            utc("2027-04-05T00:00:00Z"),
        )
        .unwrap();
    assert_eq!(next.len(), 5, "{}", show_all(&next));
    assert!(next.iter().all(|x| x.person.id == "d"));
    assert_eq!(
        (next[0].start, next[0].end),
        (utc("2027-03-29T08:00:00Z"), utc("2027-03-29T16:00:00Z"))
    );
    assert!(
        s.on_call("sec", utc("2027-03-31T22:00:00Z"))
            .unwrap()
            .is_none()
    );
}

#[test]
fn advance_and_active_are_checked_where_they_are_written() {
    let bad = |extra: &str| {
        let text = format!(
            "[people.a]\nname = \"A\"\n[rotations.r]\nmembers = [\"a\"]\ntimezone = \"Europe/London\"\n\
             start = \"2027-01-04T09:00\"\nevery = \"1 day\"\n{extra}\n"
        );
        Schedule::load(&[("r.toml", &text)])
            .unwrap_err()
            .to_string()
    };
    let e = bad("active = [\"Mon-Fri 09:00-17:00\", \"Sat 25:00-26:00\"]");
    assert!(
        e.contains("r.toml:8:")
            && e.contains("rotations.r.active[1]: invalid window \"Sat 25:00-26:00\""),
        "{e}"
    );
    let e = bad("advance = \"when-active\"");
    assert!(
        e.contains("rotations.r.advance: `advance = \"when-active\"` needs `active`"),
        "{e}"
    );
    let e = bad("active = [\"09:00-17:00\"]\nadvance = \"sometimes\"");
    assert!(
        e.contains("rotations.r.advance: invalid advance \"sometimes\""),
        "{e}"
    );
    let e = bad("active = []");
    assert!(
        e.contains("rotations.r.active: empty list of windows"),
        "{e}"
    );
}

// ---- properties ----

/// A generated window: days (bits, Monday = 1), opening and closing in minutes of the day.
#[derive(Clone, Debug)]
struct Win {
    days: u8,
    open: u32,
    close: u32,
}

impl Win {
    fn text(&self) -> String {
        const D: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let days: Vec<&str> = (0..7)
            .filter(|i| self.days & (1 << i) != 0)
            .map(|i| D[i])
            .collect();
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        let close = if self.close == 1440 {
            "24:00".into()
        } else {
            hm(self.close)
        };
        format!("{} {}-{}", days.join(","), hm(self.open), close)
    }
}

fn win() -> impl Strategy<Value = Win> {
    (1u8..128, 0u32..96, 1u32..=96)
        .prop_filter("opens and closes at once", |(_, o, c)| {
            o != c && !(*o == 0 && *c == 96)
        })
        .prop_map(|(days, o, c)| Win {
            days,
            open: o * 15,
            close: c * 15,
        })
}

/// The model: whether `t` is inside a window, each window of each nearby day resolved on its own.
fn model_active(tz: Tz, wins: &[Win], t: DateTime<Utc>) -> bool {
    let date = t.with_timezone(&tz).date_naive();
    let at = |d: NaiveDate, m: u32| {
        let civil = d.and_time(NaiveTime::MIN) + TimeDelta::minutes(i64::from(m));
        resolve(tz, civil).unwrap().instant
    };
    (-3..=2).any(|k| {
        let d = date + TimeDelta::days(k);
        let wd = d.weekday().num_days_from_monday();
        wins.iter().any(|w| {
            if w.days & (1 << wd) == 0 {
                return false;
            }
            let close = if w.close > w.open {
                w.close
            } else {
                w.close + 1440
            };
            let (s, e) = (at(d, w.open), at(d, close));
            s <= t && t < e
        })
    })
}

fn cadence() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "every = \"1 week\"",
        "every = \"1 day\"",
        "every = \"12 hours\"",
        "every = \"5 hours\"",
        "every = \"3 days\"",
        "rrule",
    ])
}

/// Starts near the zones' clock changes or anywhere in 2026-2027 (the model's window edges must
/// be reachable from the table zones' transitions too).
fn start() -> impl Strategy<Value = String> {
    (0i64..730, 0i64..96).prop_map(|(d, q)| {
        let c = NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_time(NaiveTime::MIN)
            + TimeDelta::days(d)
            + TimeDelta::minutes(q * 15);
        c.format("%Y-%m-%dT%H:%M").to_string()
    })
}

fn load(zone: &str, start: &str, cadence: &str, wins: &[Win], advance: &str) -> Schedule {
    let texts: Vec<String> = wins.iter().map(Win::text).collect();
    // The rule's days: the start's weekday and the one three days later.
    let cadence = if cadence == "rrule" {
        const D: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
        let wd = chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%dT%H:%M")
            .unwrap()
            .weekday()
            .num_days_from_monday() as usize;
        format!(
            "rrule = \"FREQ=WEEKLY;BYDAY={},{}\"",
            D[wd],
            D[(wd + 3) % 7]
        )
    } else {
        cadence.to_string()
    };
    let text = format!(
        "{}\n[rotations.r]\nmembers = [\"a\", \"b\", \"c\"]\ntimezone = \"{zone}\"\nstart = \"{start}\"\n\
         {cadence}\nactive = {texts:?}\nadvance = \"{advance}\"\n",
        people_toml(&["a", "b", "c"])
    );
    Schedule::load(&[("r.toml", &text)]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

/// The start of a generated rotation's query window: near one of its zone's DST changes in
/// 2026-2027 (within two days), or anywhere.
fn query_from(zone: usize) -> impl Strategy<Value = DateTime<Utc>> {
    const CHANGES: [&[&str]; 6] = [
        &[
            "2026-03-29T01:00:00Z",
            "2026-10-25T01:00:00Z",
            "2027-03-28T01:00:00Z",
        ],
        &[
            "2026-03-08T08:00:00Z",
            "2026-11-01T07:00:00Z",
            "2027-03-14T08:00:00Z",
        ],
        &[
            "2026-04-04T15:00:00Z",
            "2026-10-03T15:30:00Z",
            "2027-04-03T15:00:00Z",
        ],
        &[
            "2026-04-05T14:00:00Z",
            "2026-09-27T14:00:00Z",
            "2027-04-04T14:00:00Z",
        ],
        &[
            "2026-06-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
            "2027-06-01T00:00:00Z",
        ],
        &[
            "2026-04-05T03:00:00Z",
            "2026-09-06T04:00:00Z",
            "2027-04-04T03:00:00Z",
        ],
    ];
    (0..3usize, -2 * 1440i64..2 * 1440)
        .prop_map(move |(i, m)| utc(CHANGES[zone][i]) + TimeDelta::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    /// Every listed shift lies inside its slot and inside the windows (by the model, at its
    /// first and last second), no two overlap, and `on_call` at probes agrees with both the list
    /// and the model: nobody outside the windows, and with `advance = "always"` somebody inside.
    #[test]
    fn restricted_shifts_lie_in_their_windows_and_lookups_agree(
        z in 0..ZONES.len(),
        start in start(),
        cadence in cadence(),
        wins in prop::collection::vec(win(), 1..=3),
        when_active in any::<bool>(),
        from in (0..ZONES.len()).prop_flat_map(query_from),
        len_h in 1i64..24 * 9,
        probes in prop::collection::vec(0.0f64..1.0, 24),
    ) {
        let zone = ZONES[z];
        let tz: Tz = zone.parse().unwrap();
        let advance = if when_active { "when-active" } else { "always" };
        let s = load(zone, &start, cadence, &wins, advance);
        let from = from.max(utc("2026-01-01T00:00:00Z"));
        let to = from + TimeDelta::hours(len_h);
        let v: Vec<Shift<'_>> = s.shifts("r", from, to).unwrap();
        let ctx = || format!("{zone} {start} {cadence} {advance} {:?} [{from}, {to})\n{}",
            wins.iter().map(Win::text).collect::<Vec<_>>(), show_all(&v));
        for w in v.windows(2) {
            prop_assert!(w[0].end <= w[1].start, "overlap: {}", ctx());
        }
        for sh in &v {
            prop_assert!(sh.start < sh.end && sh.start < to && sh.end > from, "{}", ctx());
            let slot = s.base_shift("r", sh.slot).unwrap();
            prop_assert!(slot.is_some_and(|b| b.start <= sh.start && sh.end <= b.end && b.person.id == sh.person.id), "{}", ctx());
            prop_assert!(model_active(tz, &wins, sh.start), "starts outside: {}", ctx());
            prop_assert!(model_active(tz, &wins, sh.end - TimeDelta::seconds(1)), "ends outside: {}", ctx());
        }
        let first = s.base_shift("r", 0).unwrap().map(|b| b.start);
        for p in &probes {
            let t = from + TimeDelta::seconds(((to - from).num_seconds() as f64 * p) as i64);
            let got = s.on_call("r", t).unwrap();
            let listed = v.iter().find(|x| x.contains(t));
            prop_assert_eq!(got.map(|x| (x.start, x.end, x.slot)), listed.map(|x| (x.start, x.end, x.slot)), "at {}: {}", t, ctx());
            let inside = model_active(tz, &wins, t);
            prop_assert!(got.is_none() || inside, "on call outside the windows at {}: {}", t, ctx());
            if !when_active && inside && first.is_some_and(|f| f <= t) {
                prop_assert!(got.is_some(), "nobody on call inside a window at {}: {}", t, ctx());
            }
        }
        // Two halves resolve as the whole (a shift cut at the middle is listed by both).
        let mid = from + (to - from) / 2;
        let mut halves = s.shifts("r", from, mid).unwrap();
        for sh in s.shifts("r", mid, to).unwrap() {
            if halves.last() != Some(&sh) {
                halves.push(sh);
            }
        }
        prop_assert!(halves == v, "halves differ: {}\n{}", show_all(&halves), ctx());
    }
}
