//! Restrictions: the windows of the week in which a rotation has anyone on call at all, and how its
//! turns advance around them.
//!
//! # Writing windows
//!
//! `active = ["Mon-Fri 09:00-17:00"]` in a rotation's table. Each string is one of:
//!
//! - `"09:00-17:00"`: every day.
//! - `"Mon-Fri 09:00-17:00"`, `"Mon,Wed,Fri 09:00-12:00"`, `"Sat 10:00-14:00"`: on those days. A
//!   day range may wrap round the week (`"Fri-Mon"` is Friday to Monday). Days are `Mon` to `Sun`,
//!   or their full English names, in any case.
//! - A window whose end is not after its start crosses midnight and closes the next day:
//!   `"22:00-06:00"`, or `"Mon-Fri 18:00-09:00"` (weeknights; the day named is the day it opens).
//! - `"Fri 17:00-Mon 09:00"`: one window from a day and time to a later day and time, for windows
//!   longer than a day (PagerDuty's weekly restrictions are of this kind).
//! - `24:00` closes a window at the end of its day: `"Sat-Sun 00:00-24:00"` is the weekend.
//!
//! Windows may overlap or touch; they are merged. Windows that cover the whole week are no
//! restriction at all.
//!
//! # On the clock
//!
//! A window is civil time in the rotation's zone, like its handoffs, and its opening and closing
//! become instants by the same rules ([`crate::tz`]): an edge in a DST gap moves forward by the
//! gap's length, an edge in a fold takes the earlier of its two instants. So:
//!
//! - `09:00-17:00` is 09:00 to 17:00 local every day of the year, 8 hours long, whatever the
//!   offset.
//! - A window `01:00-01:30` on the night Chicago falls back (01:00-02:00 happens twice) is the
//!   first pass through that half hour only.
//! - A window `02:30-04:00` on the night Chicago springs forward (02:00 to 03:00 is skipped) opens
//!   at 03:30 CDT, its start moved forward by the gap's hour, and closes at 04:00: half an hour
//!   long.
//!   A window that opens *and* closes inside a gap moves forward with it, its length kept, as two
//!   handoffs inside a gap do; one whose start moves past its end is empty that day.
//! - Samoa's skipped day (Pacific/Apia, 2011-12-30) moves each window of that day forward by a day,
//!   onto the same times of the next, where they merge with that day's own. Windows are merged as
//!   instants, after these moves, so windows that meet only once moved are one.
//!
//! # Turns: `advance`
//!
//! Handoffs stay where the rotation's cadence puts them; restrictions only decide which parts of each
//! slot (shift `n`, from handoff `n` to handoff `n + 1`) have someone on call.
//!
//! - `advance = "always"` (the default): member `n mod len` holds slot `n`, as without restrictions,
//!   and is on call in the parts of it inside the windows. A slot wholly outside the windows uses
//!   up its member's turn with nobody on call (PagerDuty's behaviour: a weekday-only layer handing
//!   off daily gives Saturday's and Sunday's turns to nobody).
//! - `advance = "when-active"`: a slot with no window time is skipped and uses up no turn; the
//!   `i`-th slot that has window time belongs to member `i mod len`. A daily rotation restricted to
//!   weekdays then goes through its members on weekdays only, so nobody's turn always falls on a
//!   weekend (Grafana OnCall's daily shifts limited to some days behave so).
//!
//! Whether a slot has window time is decided on the civil clock: its civil interval, from handoff
//! to handoff as the wall clock shows them, meets a window. That repeats with the cadence and the
//! week, so the turn of slot `n` is counted arithmetically (whole repeats times the active slots
//! of one, plus a prefix count), never by walking from the rotation's start. The rare slot whose
//! only window time falls inside a DST gap keeps its turn and has nobody on call.
//!
//! # What restrictions bound
//!
//! Outside its windows a rotation has nobody on call. Links and overrides *replace* whoever is
//! on call, so they apply inside the windows only: an override over a whole week of a weekday-hours
//! rotation covers the weekdays' hours, and a swap of two slots trades exactly their on-call time.

use chrono_tz::Tz;

use crate::tz::{self, Secs};

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Seven civil days.
pub(crate) const WEEK: i64 = 7 * DAY;
/// Civil seconds of Monday 1970-01-05 00:00: week positions count from a Monday.
const MONDAY: i64 = 4 * DAY;
/// The most windows one rotation may list.
pub const MAX_WINDOWS: usize = 100;
/// The most slots in one repeat of cadence and week that `when-active` counts turns over.
const MAX_TURN_TABLE: i64 = 1_000_000;

/// When the on-call person of a rotation is on call at all: windows of the week on the zone's
/// clock. See the module documentation for the forms and the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restriction {
    /// The windows as written in the schedule file.
    pub windows: Vec<String>,
    /// The merged windows, as civil seconds from Monday 00:00: sorted, disjoint, not touching,
    /// each starting in `[0, WEEK)` and shorter than a week (a window that wraps past Sunday
    /// midnight ends after `WEEK`).
    spans: Vec<(i64, i64)>,
}

/// How a restricted rotation's turns advance; see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Advance {
    /// Every slot is a turn, with or without window time in it.
    #[default]
    Always,
    /// Only slots with window time are turns.
    WhenActive,
}

impl Advance {
    /// `"always"` or `"when-active"`, as in schedule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Advance::Always => "always",
            Advance::WhenActive => "when-active",
        }
    }

    /// Reads the schedule file's value.
    pub fn parse(s: &str) -> Result<Advance, String> {
        match s {
            "always" => Ok(Advance::Always),
            "when-active" => Ok(Advance::WhenActive),
            _ => Err(format!(
                "invalid advance {s:?}: expected \"always\" (every slot is a turn) or \
                 \"when-active\" (slots outside the windows are skipped)"
            )),
        }
    }
}

impl Restriction {
    /// Reads windows as written in a schedule file. `None` when they cover the whole week (no
    /// restriction). The error names the window (by index) and what is wrong with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use rota_core::Restriction;
    /// let r = Restriction::parse(&["Mon-Fri 09:00-17:00", "Sat 22:00-02:00"]).unwrap().unwrap();
    /// assert_eq!(r.windows.len(), 2);
    /// assert!(Restriction::parse(&["00:00-24:00"]).unwrap().is_none()); // the whole week
    /// let (i, e) = Restriction::parse(&["09:00-17:00", "Mnd 09:00-10:00"]).unwrap_err();
    /// assert_eq!(i, 1);
    /// assert!(e.contains("unknown day \"Mnd\""), "{e}");
    /// ```
    pub fn parse<S: AsRef<str>>(windows: &[S]) -> Result<Option<Restriction>, (usize, String)> {
        let r = Restriction::parse_all(windows)?;
        Ok((r.spans != [(0, WEEK)]).then_some(r))
    }

    /// [`Restriction::parse`], keeping windows that cover the whole week (the working hours of
    /// someone always at work).
    pub fn parse_all<S: AsRef<str>>(windows: &[S]) -> Result<Restriction, (usize, String)> {
        if windows.is_empty() {
            return Err((
                0,
                "empty list of windows: leave `active` out for a rotation that is always on call, \
                 or give windows such as \"Mon-Fri 09:00-17:00\""
                    .into(),
            ));
        }
        if windows.len() > MAX_WINDOWS {
            return Err((
                MAX_WINDOWS,
                format!("at most {MAX_WINDOWS} windows per rotation"),
            ));
        }
        let mut raw = Vec::new();
        for (i, w) in windows.iter().enumerate() {
            raw.extend(parse_window(w.as_ref()).map_err(|e| (i, e))?);
        }
        // Onto the circle of the week: split at Sunday midnight, sort, merge.
        let mut flat = Vec::new();
        for (s, e) in raw {
            if e > WEEK {
                flat.push((s, WEEK));
                flat.push((0, e - WEEK));
            } else {
                flat.push((s, e));
            }
        }
        flat.sort_unstable();
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for (s, e) in flat {
            match spans.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => spans.push((s, e)),
            }
        }
        if spans == [(0, WEEK)] {
            return Ok(Restriction {
                windows: windows.iter().map(|w| w.as_ref().to_string()).collect(),
                spans,
            });
        }
        // A window running into Monday 00:00 continues the one that wraps out of Sunday.
        if spans.len() > 1 && spans[0].0 == 0 && spans[spans.len() - 1].1 == WEEK {
            let first = spans.remove(0);
            let last = spans.len() - 1;
            spans[last].1 = WEEK + first.1;
        }
        Ok(Restriction {
            windows: windows.iter().map(|w| w.as_ref().to_string()).collect(),
            spans,
        })
    }

    /// The merged windows as civil `(start, end)` seconds meeting civil `[from, to)`, whole (not
    /// cut at the range), in order.
    fn civil_windows(&self, from: Secs, to: Secs) -> impl Iterator<Item = (Secs, Secs)> + '_ {
        // A window starts at most a week before it ends, so it meets [from, to) only if it starts
        // in the week before `from` or later.
        let first_week = (from - MONDAY).div_euclid(WEEK) - 1;
        let last_week = (to - 1 - MONDAY).div_euclid(WEEK);
        (first_week..=last_week)
            .flat_map(move |k| {
                let base = MONDAY + k * WEEK;
                self.spans.iter().map(move |&(s, e)| (base + s, base + e))
            })
            .filter(move |&(s, e)| e > from && s < to)
    }

    /// Whether civil `[from, to)` meets a window: a slot with this civil extent is a turn under
    /// `advance = "when-active"`.
    pub(crate) fn civil_meets(&self, from: Secs, to: Secs) -> bool {
        to > from && (to - from >= WEEK || self.civil_windows(from, to).next().is_some())
    }

    /// The on-call intervals, as instants, that overlap `[from, to)`, whole (not cut at the
    /// range), in order, disjoint and not touching. Each window's edges become instants by the
    /// rules of [`crate::tz`].
    pub(crate) fn active(&self, zone: Tz, from: Secs, to: Secs, out: &mut Vec<(Secs, Secs)>) {
        out.clear();
        // Civil and real time differ by the zone's offset, which changes by at most a day (Samoa
        // 2011): two days of slack either side finds every window that can reach the range.
        let (Some(cf), Some(ct)) = (tz::civil_at(zone, from), tz::civil_at(zone, to)) else {
            return;
        };
        // Every window near the range as instants first: an edge in a gap moves forward, so their
        // order as instants can differ from their civil order; then sorted, merged (windows that
        // meet as instants are one), and only then kept if they reach the range, whole.
        let mut all: Vec<(Secs, Secs)> = self
            .civil_windows(cf - 2 * DAY, ct + 2 * DAY)
            .filter_map(|(cs, ce)| {
                let (s, _) = tz::resolve_secs(zone, cs)?;
                let (e, _) = tz::resolve_secs(zone, ce)?;
                (e > s).then_some((s, e))
            })
            .collect();
        all.sort_unstable();
        let mut merged: Vec<(Secs, Secs)> = Vec::with_capacity(all.len());
        for (s, e) in all {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        out.extend(merged.into_iter().filter(|&(s, e)| e > from && s < to));
    }
}

/// Slot turns under `advance = "when-active"`: which slots meet a window, counted over one
/// repeat of the cadence and the week.
#[derive(Clone, Debug)]
pub(crate) struct Turns {
    /// Slots in one repeat.
    per: i64,
    /// `prefix[i]`: how many of the first `i` slots of a repeat meet a window (`per + 1` entries).
    prefix: Vec<u32>,
}

impl Turns {
    /// Counts the turns of a rotation whose handoff `n` is at civil time `civil(n)`, which repeats
    /// with `per` slots every `period` civil seconds.
    pub(crate) fn new(
        r: &Restriction,
        per_period: (i64, usize),
        civil: impl Fn(i64) -> Option<Secs>,
    ) -> Result<Turns, String> {
        let (period, k) = per_period;
        let repeat = lcm(period, WEEK);
        let per = repeat
            .and_then(|l| (l / period).checked_mul(k as i64))
            .filter(|&p| p <= MAX_TURN_TABLE)
            .ok_or_else(|| {
                format!(
                    "with `advance = \"when-active\"`, the cadence and the week repeat together \
                     only after more than {MAX_TURN_TABLE} shifts; use a cadence that divides \
                     evenly into weeks, or `advance = \"always\"`"
                )
            })?;
        let mut prefix = Vec::with_capacity(per as usize + 1);
        prefix.push(0u32);
        let mut count = 0u32;
        for i in 0..per {
            if let (Some(a), Some(b)) = (civil(i), civil(i + 1))
                && r.civil_meets(a, b)
            {
                count += 1;
            }
            prefix.push(count);
        }
        if count == 0 {
            return Err("no shift of this rotation meets its `active` windows".into());
        }
        Ok(Turns { per, prefix })
    }

    /// The turn number of slot `n` (how many slots before it are turns), or `None` if slot `n`
    /// meets no window and is no turn.
    pub(crate) fn turn(&self, n: i64) -> Option<i64> {
        if n < 0 {
            return None;
        }
        let (q, r) = (n / self.per, (n % self.per) as usize);
        if self.prefix[r + 1] == self.prefix[r] {
            return None;
        }
        let whole = i64::from(self.prefix[self.per as usize]);
        Some(q * whole + i64::from(self.prefix[r]))
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn lcm(a: i64, b: i64) -> Option<i64> {
    (a / gcd(a, b)).checked_mul(b)
}

const FORMS: &str = "expected \"09:00-17:00\" (every day), \"Mon-Fri 09:00-17:00\" or \
                     \"Fri 17:00-Mon 09:00\"";

/// One window as `(start, end)` civil seconds from Monday 00:00: start in `[0, WEEK)`, end after
/// start and at most a week later. A window on several days gives one per day.
fn parse_window(text: &str) -> Result<Vec<(i64, i64)>, String> {
    let bad = |why: &str| format!("invalid window {text:?}: {why}; {FORMS}");
    // "Fri 17:00 - Mon 09:00" and "Fri 17:00-Mon 09:00" alike.
    let squeezed = text.split('-').map(str::trim).collect::<Vec<_>>().join("-");
    let tokens: Vec<&str> = squeezed.split_whitespace().collect();
    match tokens.as_slice() {
        [times] => {
            let (s, e) = time_range(times).map_err(|e| bad(&e))?;
            Ok((0..7).map(|d| (d * DAY + s, d * DAY + e)).collect())
        }
        [days, times] => {
            let days = parse_days(days).map_err(|e| bad(&e))?;
            let (s, e) = time_range(times).map_err(|e| bad(&e))?;
            Ok(days.iter().map(|&d| (d * DAY + s, d * DAY + e)).collect())
        }
        [d1, middle, t2] => {
            let Some((t1, d2)) = middle.split_once('-') else {
                return Err(bad("expected a `-` between the opening and the closing"));
            };
            let d1 = parse_day(d1).map_err(|e| bad(&e))?;
            let d2 = parse_day(d2).map_err(|e| bad(&e))?;
            let s = d1 * DAY + parse_time(t1, false).map_err(|e| bad(&e))?;
            let mut e = d2 * DAY + parse_time(t2, true).map_err(|e| bad(&e))?;
            if e == s {
                return Err(bad(
                    "it opens and closes at the same time; for the whole week leave `active` out",
                ));
            }
            if e < s {
                e += WEEK;
            }
            Ok(vec![(s, e)])
        }
        _ => Err(bad("unexpected form")),
    }
}

/// `"09:00-17:00"` as seconds from midnight; an end not after the start is the next day's.
fn time_range(s: &str) -> Result<(i64, i64), String> {
    let Some((a, b)) = s.split_once('-') else {
        return Err(format!(
            "expected a time range such as 09:00-17:00, found {s:?}"
        ));
    };
    let start = parse_time(a, false)?;
    let mut end = parse_time(b, true)?;
    if end == start {
        return Err(
            "it opens and closes at the same time; for the whole day write 00:00-24:00".into(),
        );
    }
    if end < start {
        end += DAY;
    }
    Ok((start, end))
}

/// `HH:MM` as seconds from midnight; `24:00` only as an end.
fn parse_time(s: &str, end: bool) -> Result<i64, String> {
    let bad = || format!("invalid time {s:?}: expected HH:MM on the 24-hour clock");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.is_empty()
        || h.len() > 2
        || m.len() != 2
        || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let h: i64 = h.parse().map_err(|_| bad())?;
    let m: i64 = m.parse().map_err(|_| bad())?;
    if h == 24 && m == 0 {
        return if end {
            Ok(DAY)
        } else {
            Err("24:00 can only close a window".into())
        };
    }
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok(h * HOUR + m * MINUTE)
}

/// `"Mon-Fri"`, `"Mon,Wed,Fri"`, `"Fri-Mon"` (wrapping): day numbers, Monday 0, each once.
fn parse_days(s: &str) -> Result<Vec<i64>, String> {
    let mut days = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_day(a)?, parse_day(b)?);
                let mut d = a;
                loop {
                    days.push(d);
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days.push(parse_day(part)?),
        }
    }
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

fn parse_day(s: &str) -> Result<i64, String> {
    const NAMES: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let l = s.trim().to_ascii_lowercase();
    NAMES
        .iter()
        .position(|n| l.len() >= 3 && (*n == l || n[..3] == l))
        .map(|i| i as i64)
        .ok_or_else(|| format!("unknown day {s:?}: days are Mon, Tue, Wed, Thu, Fri, Sat, Sun"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(w: &[&str]) -> Vec<(i64, i64)> {
        Restriction::parse(w).unwrap().unwrap().spans
    }

    #[test]
    fn windows_are_read_merged_and_wrapped_round_the_week() {
        let h = |x: i64| x * HOUR;
        assert_eq!(
            spans(&["Mon-Fri 09:00-17:00"]),
            (0..5)
                .map(|d| (d * DAY + h(9), d * DAY + h(17)))
                .collect::<Vec<_>>()
        );
        // Crossing midnight, and overlapping windows merged.
        assert_eq!(
            spans(&["Mon 22:00-06:00", "Tue 05:00-07:00"]),
            [(h(22), DAY + h(7))]
        );
        // The weekend, written two ways, wraps from Sunday into Monday.
        assert_eq!(
            spans(&["Fri 17:00-Mon 09:00"]),
            [(4 * DAY + h(17), WEEK + h(9))]
        );
        assert_eq!(
            spans(&["Fri 17:00 - Mon 09:00"]),
            spans(&[
                "fri 17:00-24:00",
                "Sat-Sun 00:00-24:00",
                "Monday 00:00-09:00"
            ])
        );
        assert_eq!(spans(&["Fri-Mon 09:00-10:00"]).len(), 4);
        assert!(
            Restriction::parse(&["Mon-Sun 00:00-24:00"])
                .unwrap()
                .is_none()
        );
        assert!(Restriction::parse(&["Sun 00:00-Sun 00:00"]).is_err());
    }

    #[test]
    fn bad_windows_say_what_is_wrong() {
        for (w, want) in [
            ("09:00", "expected a time range"),
            ("9-17", "invalid time \"9\""),
            ("Mon-Fri 09:00-09:00", "opens and closes at the same time"),
            ("24:00-02:00", "24:00 can only close a window"),
            ("Mon-Fry 09:00-17:00", "unknown day \"Fry\""),
            ("Mon 09:00 17:00", "expected a `-`"),
            ("a b c d", "unexpected form"),
            ("25:00-26:00", "invalid time \"25:00\""),
        ] {
            let (i, e) = Restriction::parse(&[w]).unwrap_err();
            assert_eq!(i, 0);
            assert!(e.contains(want), "{w}: {e}");
            assert!(e.contains(&format!("{w:?}")), "{w}: {e}");
        }
        assert!(Restriction::parse::<&str>(&[]).is_err());
    }

    #[test]
    fn turns_count_only_slots_that_meet_a_window() {
        // Daily handoffs from a Monday, weekdays only: 5 turns a week.
        let r = Restriction::parse(&["Mon-Fri 09:00-17:00"])
            .unwrap()
            .unwrap();
        let monday = MONDAY + 100 * WEEK + 9 * HOUR;
        let t = Turns::new(&r, (DAY, 1), |n| Some(monday + n * DAY)).unwrap();
        assert_eq!(t.per, 7);
        let turns: Vec<Option<i64>> = (0..15).map(|n| t.turn(n)).collect();
        assert_eq!(
            turns,
            [
                Some(0),
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                None,
                None,
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                Some(9),
                None,
                None,
                Some(10)
            ]
        );
        // Far ahead, the same arithmetic: slot 7k is turn 5k.
        assert_eq!(t.turn(7 * 1_000_000), Some(5 * 1_000_000));
    }
}
