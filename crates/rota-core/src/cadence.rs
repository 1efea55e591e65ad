//! Handoffs: when a rotation passes from one member to the next. The only module that uses rrule.
//!
//! The rules (civil periods, gaps and folds, lookups) are documented on [`Recurrence`], which is
//! public, so embedders can read them.

use chrono::{Datelike, NaiveDateTime};
use chrono_tz::Tz;

use crate::tz::{self, Kind, MAX_SECS, Secs};

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
/// 400 Gregorian years: the calendar (month lengths, leap years and weekdays) repeats exactly.
const GREGORIAN_CYCLE: i64 = 146_097 * DAY;
/// The most handoffs an rrule may have in one repeat period.
const MAX_HANDOFFS_PER_PERIOD: usize = 65_000;

/// The largest N in `every = "N units"`.
pub const MAX_EVERY: u32 = 10_000;

/// Instant used for "no such handoff" (past year 9999).
pub(crate) const NEVER: Secs = i64::MAX;

/// How a rotation's handoffs recur, as written in the schedule file.
///
/// # Model
///
/// Every rotation's handoffs are civil date-times in the rotation's zone that repeat with a fixed
/// *civil period*: `K` handoffs at civil offsets `offsets[0..K]` (with `offsets[0] == 0`) from the
/// start of each period, and the period itself a whole number of civil seconds. Handoff `n` is at
/// civil time `start + (n / K) * period + offsets[n % K]`, so it is computed from `start` and
/// never from handoff `n - 1`, and errors never accumulate.
///
/// - `every = "N hours|days|weeks"` is the case `K = 1`, `period = N` civil units. Civil arithmetic
///   means "1 week" is 09:00 Monday to 09:00 Monday local whatever DST does in between, and "12
///   hours" hands off at 09:00 and 21:00 local all year.
/// - `rrule = "..."` is evaluated once, at load time, by the rrule crate over one period, in civil
///   time (the rule is expanded as if the zone were UTC, which has no DST, so the crate's known
///   DST-day bugs for HOURLY rules and several BYHOUR values cannot reach us). The period is the
///   rule's true repeat: `lcm(interval, 1 week)` for rules that only look at weekdays and hours,
///   and a whole 400-year Gregorian cycle (146,097 days, itself a whole number of weeks) for rules
///   that look at months, month days, year days or week numbers. `COUNT` and `UNTIL` are refused
///   (a rotation does not end), and so are `MINUTELY`, `SECONDLY` and `BYSECOND`.
///
/// # From civil handoffs to instants
///
/// Each civil handoff becomes an instant by the rules of [`crate::tz`] (gap: forward by the gap's
/// length; fold: the earlier offset). One more rule keeps the sequence of instants in order: when
/// handoffs are closer together than a gap is long (an hourly rotation across Samoa's skipped day,
/// or a 2-hour gap), a handoff moved forward out of the gap could land *after* a later handoff. So a
/// handoff in a gap happens at the earlier of its moved instant and the first handoff after the
/// gap. The instants are then non-decreasing, and shift `n` runs from handoff `n` to handoff `n + 1`.
/// A shift that this squeezes to zero length (or that DST squeezes to zero, as an hourly handoff at
/// 02:00 and one at 03:00 across a one-hour gap) is left out, and its turn still counts: member
/// `n mod len` keeps shift `n`.
///
/// # Finding the shift at an instant
///
/// The instant is read as a civil time in the zone, the civil index is computed arithmetically
/// (division by the period, then a binary search in `offsets`), and then nudged by at most a few
/// steps to the last handoff at or before the instant. Nothing walks from `start`, so a lookup 50
/// years ahead costs the same as one next week.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recurrence {
    /// `every = "N hours|days|weeks"`.
    Every {
        /// How many units.
        count: u32,
        /// Which unit.
        unit: Unit,
    },
    /// `rrule = "FREQ=...;..."`, the RFC 5545 recurrence rule text (without `RRULE:`).
    RRule(String),
}

/// The unit of an `every` recurrence; all count on the wall clock of the rotation's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Civil hours.
    Hours,
    /// Civil days.
    Days,
    /// Civil weeks.
    Weeks,
}

impl std::fmt::Display for Recurrence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recurrence::Every { count, unit } => {
                let u = match unit {
                    Unit::Hours => "hour",
                    Unit::Days => "day",
                    Unit::Weeks => "week",
                };
                write!(f, "every {count} {u}{}", if *count == 1 { "" } else { "s" })
            }
            Recurrence::RRule(r) => write!(f, "rrule {r}"),
        }
    }
}

/// Parses `every`: `"1 week"`, `"2 weeks"`, `"12 hours"`, `"1 day"`.
pub(crate) fn parse_every(s: &str) -> Result<Recurrence, String> {
    let bad = || {
        format!(
            "invalid every {s:?}: expected \"N hours\", \"N days\" or \"N weeks\" with N a whole \
             number from 1 to {MAX_EVERY}"
        )
    };
    let mut parts = s.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let count: u32 = n.parse().map_err(|_| bad())?;
    if count == 0 || count > MAX_EVERY {
        return Err(bad());
    }
    let unit = match unit.to_ascii_lowercase().as_str() {
        "hour" | "hours" | "h" => Unit::Hours,
        "day" | "days" | "d" => Unit::Days,
        "week" | "weeks" | "w" => Unit::Weeks,
        _ => return Err(bad()),
    };
    Ok(Recurrence::Every { count, unit })
}

/// The compiled handoff sequence of one rotation.
#[derive(Clone, Debug)]
pub(crate) struct Handoffs {
    tz: Tz,
    /// Civil time of handoff 0, as seconds (the civil date-time read as if UTC).
    start: Secs,
    /// Civil seconds after which the pattern repeats.
    period: i64,
    /// Civil offsets of the handoffs within one period; sorted, distinct, `offsets[0] == 0`.
    offsets: Vec<i64>,
}

impl Handoffs {
    /// Compiles a recurrence. `start` is the civil time of the first handoff in `tz`.
    pub(crate) fn new(tz: Tz, start: NaiveDateTime, rec: &Recurrence) -> Result<Handoffs, String> {
        let start_secs = start.and_utc().timestamp();
        if !(tz::MIN_SECS..=MAX_SECS).contains(&start_secs) || start.year() < 1000 {
            return Err("start must be between the years 1000 and 9999".to_string());
        }
        let (period, offsets) = match rec {
            Recurrence::Every { count, unit } => {
                let unit_secs = match unit {
                    Unit::Hours => HOUR,
                    Unit::Days => DAY,
                    Unit::Weeks => WEEK,
                };
                (i64::from(*count) * unit_secs, vec![0])
            }
            Recurrence::RRule(text) => expand_rrule(start, text)?,
        };
        Ok(Handoffs {
            tz,
            start: start_secs,
            period,
            offsets,
        })
    }

    /// The zone handoffs happen in.
    #[cfg(test)]
    pub(crate) fn tz(&self) -> Tz {
        self.tz
    }

    /// Civil time of handoff `n` (n >= 0), or `None` past year 9999.
    pub(crate) fn civil(&self, n: i64) -> Option<Secs> {
        let k = self.offsets.len() as i64;
        let cycles = n.div_euclid(k);
        let c = self.start.checked_add(cycles.checked_mul(self.period)?)?;
        let c = c.checked_add(self.offsets[n.rem_euclid(k) as usize])?;
        (c <= MAX_SECS - 2 * DAY).then_some(c)
    }

    /// The last handoff index whose civil time is at or before civil time `c`; -1 if none.
    fn last_civil_at_or_before(&self, c: Secs) -> i64 {
        let d = c.saturating_sub(self.start);
        if d < 0 {
            return -1;
        }
        let cycles = d / self.period;
        let within = d - cycles * self.period;
        let k = self.offsets.partition_point(|&o| o <= within) as i64 - 1;
        cycles
            .saturating_mul(self.offsets.len() as i64)
            .saturating_add(k)
    }

    /// The instant of handoff `n`, by the rules in the module doc; [`NEVER`] past year 9999.
    pub(crate) fn instant(&self, n: i64) -> Secs {
        if n < 0 {
            return i64::MIN;
        }
        let Some(c) = self.civil(n) else { return NEVER };
        let Some((secs, kind)) = tz::resolve_secs(self.tz, c) else {
            return NEVER;
        };
        if let Kind::Gap { resumes_at, .. } = kind {
            // The first handoff whose civil time is past the gap.
            let resumes = resumes_at.timestamp();
            let Some(gap_end_civil) = tz::civil_at(self.tz, resumes) else {
                return secs;
            };
            let m = self.last_civil_at_or_before(gap_end_civil - 1) + 1;
            if m > n
                && let Some(cm) = self.civil(m)
                && let Some((sm, _)) = tz::resolve_secs(self.tz, cm)
            {
                return secs.min(sm);
            }
        }
        secs
    }

    /// The index of the (non-empty) shift containing instant `t`: the `n` with
    /// `instant(n) <= t < instant(n + 1)`, or `None` before the first handoff.
    #[cfg(test)]
    pub(crate) fn index_at(&self, t: Secs) -> Option<i64> {
        self.slot_at(t).map(|(n, _, _)| n)
    }

    /// [`Handoffs::index_at`] with the shift's bounds `(n, instant(n), instant(n + 1))`, which it
    /// computes anyway: callers need not convert the two handoffs again.
    pub(crate) fn slot_at(&self, t: Secs) -> Option<(i64, Secs, Secs)> {
        let first = self.instant(0);
        if t < first {
            return None;
        }
        let civil = tz::civil_at(self.tz, t)?;
        let mut n = self.last_civil_at_or_before(civil).max(0);
        // Nudge: the civil estimate is off only around gaps and folds, by a step or two (more only
        // for rotations shorter than a gap, such as hourly ones across Samoa's skipped day).
        let mut start = if n == 0 { first } else { self.instant(n) };
        while n > 0 && start > t {
            n -= 1;
            start = self.instant(n);
        }
        let mut end = self.instant(n + 1);
        while end <= t {
            n += 1;
            start = end;
            end = self.instant(n + 1);
        }
        Some((n, start, end))
    }

    /// Iterates the non-empty shifts `(n, start, end)` that overlap `[from, to)`, in order.
    pub(crate) fn shifts(&self, from: Secs, to: Secs) -> ShiftIter<'_> {
        let (n, start) = match self.slot_at(from) {
            Some((n, start, _)) => (n, start),
            None => (0, self.instant(0)),
        };
        ShiftIter {
            h: self,
            n,
            start,
            to,
        }
    }

    /// The repeat period in civil seconds and the handoffs in one.
    pub(crate) fn per_period(&self) -> (i64, usize) {
        (self.period, self.offsets.len())
    }
}

/// Iterator over the non-empty shifts of a rotation overlapping a range.
pub(crate) struct ShiftIter<'a> {
    h: &'a Handoffs,
    n: i64,
    start: Secs,
    to: Secs,
}

impl Iterator for ShiftIter<'_> {
    /// `(shift index, start, end)`.
    type Item = (i64, Secs, Secs);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.start >= self.to || self.start == NEVER {
                return None;
            }
            let end = self.h.instant(self.n + 1);
            let item = (self.n, self.start, end);
            self.n += 1;
            self.start = end;
            if end > item.1 {
                return Some(item);
            }
        }
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn lcm(a: i64, b: i64) -> Option<i64> {
    (a / gcd(a, b)).checked_mul(b)
}

/// Expands an rrule over one repeat period in civil time; returns `(period, offsets)`.
fn expand_rrule(start: NaiveDateTime, text: &str) -> Result<(i64, Vec<i64>), String> {
    use rrule::{Frequency, RRule, Unvalidated};

    let body = text.trim();
    let body = body.strip_prefix("RRULE:").unwrap_or(body);
    if body.is_empty() {
        return Err(
            "empty rrule: expected an RFC 5545 rule such as \"FREQ=WEEKLY;BYDAY=MO,TH\"".into(),
        );
    }
    // rrule 0.14 slices weekday names by bytes and panics on text that is not ASCII (a BYDAY of
    // "T\u{fffd}H"); an RFC 5545 rule is plain ASCII anyway.
    if !body.is_ascii() {
        return Err(format!(
            "invalid rrule {text:?}: a rule is plain ASCII, such as \"FREQ=WEEKLY;BYDAY=MO,TH\""
        ));
    }
    let upper = body.to_ascii_uppercase();
    for part in upper.split(';') {
        let key = part.split('=').next().unwrap_or("");
        match key {
            "COUNT" | "UNTIL" => {
                return Err(format!(
                    "rrule {text:?} has {key}: a rotation never ends, remove {key} (to stop a \
                     rotation, delete it or override its shifts)"
                ));
            }
            "BYSECOND" => {
                return Err(format!(
                    "rrule {text:?}: BYSECOND is not supported; handoffs fall on whole minutes"
                ));
            }
            "DTSTART" | "TZID" => {
                return Err(format!(
                    "rrule {text:?}: put the first handoff in `start` and the zone in `timezone`, \
                     not in the rule"
                ));
            }
            _ => {}
        }
    }
    let rule: RRule<Unvalidated> = body
        .parse()
        .map_err(|e| format!("invalid rrule {text:?}: {e}"))?;
    let freq = rule.get_freq();
    let interval = i64::from(rule.get_interval().max(1));
    if matches!(freq, Frequency::Minutely | Frequency::Secondly) {
        return Err(format!(
            "rrule {text:?}: FREQ must be HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY (handoffs every \
             few minutes are not a rotation)"
        ));
    }
    let calendar = matches!(freq, Frequency::Monthly | Frequency::Yearly)
        || !rule.get_by_month().is_empty()
        || !rule.get_by_month_day().is_empty()
        || !rule.get_by_year_day().is_empty()
        || !rule.get_by_week_no().is_empty()
        || rule
            .get_by_weekday()
            .iter()
            .any(|d| matches!(d, rrule::NWeekday::Nth(..)));
    let too_long = || format!("rrule {text:?}: its repeat period is too long (interval too large)");
    let period = if calendar {
        match freq {
            // 4800 months and 400 years are one Gregorian cycle.
            Frequency::Monthly => (lcm(interval, 4800).ok_or_else(too_long)? / 4800)
                .checked_mul(GREGORIAN_CYCLE)
                .ok_or_else(too_long)?,
            Frequency::Yearly => (lcm(interval, 400).ok_or_else(too_long)? / 400)
                .checked_mul(GREGORIAN_CYCLE)
                .ok_or_else(too_long)?,
            Frequency::Weekly => lcm(interval * WEEK, GREGORIAN_CYCLE).ok_or_else(too_long)?,
            Frequency::Daily => lcm(interval * DAY, GREGORIAN_CYCLE).ok_or_else(too_long)?,
            _ => lcm(interval * HOUR, GREGORIAN_CYCLE).ok_or_else(too_long)?,
        }
    } else {
        let step = match freq {
            Frequency::Weekly => interval * WEEK,
            Frequency::Daily => interval * DAY,
            _ => interval * HOUR,
        };
        lcm(step, WEEK).ok_or_else(too_long)?
    };
    let start_secs = start.and_utc().timestamp();
    let end = start_secs
        .checked_add(period)
        .filter(|&e| e <= MAX_SECS)
        .ok_or_else(|| {
            format!("rrule {text:?}: its repeat period from {start} runs past the year 9999")
        })?;

    // Expand in civil time: DTSTART in UTC, which has no gaps or folds.
    let utc = rrule::Tz::UTC;
    let dtstart = start.and_utc().with_timezone(&utc);
    let end_dt = tz::from_secs(end).ok_or_else(too_long)?.with_timezone(&utc);
    let set = rule
        .build(dtstart)
        .map_err(|e| format!("invalid rrule {text:?}: {e}"))?
        .before(end_dt);
    let result = set.all(u16::MAX);
    let mut offsets: Vec<i64> = Vec::with_capacity(result.dates.len());
    for d in &result.dates {
        let s = d.timestamp();
        if s < end {
            offsets.push(s - start_secs);
        }
    }
    if result.limited || offsets.len() > MAX_HANDOFFS_PER_PERIOD {
        return Err(format!(
            "rrule {text:?} has more than {MAX_HANDOFFS_PER_PERIOD} handoffs in its repeat period \
             ({} days); use a rule that repeats every few weeks",
            period / DAY
        ));
    }
    offsets.sort_unstable();
    offsets.dedup();
    if offsets.first() != Some(&0) {
        let first = offsets
            .first()
            .and_then(|o| tz::from_secs(start_secs + o))
            .map(|t| {
                format!(
                    "; its first occurrence from start is {}",
                    t.naive_utc().format("%Y-%m-%dT%H:%M (%A)")
                )
            })
            .unwrap_or_default();
        return Err(format!(
            "start {} ({}) is not an occurrence of rrule {text:?}: the first handoff must match \
             the rule{first}",
            start.format("%Y-%m-%dT%H:%M"),
            start.format("%A")
        ));
    }
    if offsets.iter().any(|o| o % MINUTE != 0) {
        return Err(format!(
            "rrule {text:?}: handoffs must fall on whole minutes"
        ));
    }
    Ok((period, offsets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tz::parse_civil;

    fn fmt(tz: Tz, s: Secs) -> String {
        use chrono::TimeZone;
        tz.timestamp_opt(s, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    fn handoffs(zone: &str, start: &str, rec: &str) -> Handoffs {
        let tz: Tz = zone.parse().unwrap();
        let rec = if rec.contains('=') {
            Recurrence::RRule(rec.to_string())
        } else {
            parse_every(rec).unwrap()
        };
        Handoffs::new(tz, parse_civil(start).unwrap(), &rec).unwrap()
    }

    #[test]
    fn parse_every_accepts_and_rejects() {
        assert_eq!(
            parse_every("1 week").unwrap(),
            Recurrence::Every {
                count: 1,
                unit: Unit::Weeks
            }
        );
        assert_eq!(
            parse_every("12 hours").unwrap(),
            Recurrence::Every {
                count: 12,
                unit: Unit::Hours
            }
        );
        for bad in [
            "",
            "week",
            "0 days",
            "-1 days",
            "1.5 days",
            "2 fortnights",
            "1 week extra",
            "10001 hours",
        ] {
            assert!(parse_every(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rrule_split_week_period_and_offsets() {
        let h = handoffs(
            "Europe/London",
            "2026-11-02T09:00",
            "FREQ=WEEKLY;BYDAY=MO,TH",
        );
        assert_eq!(h.per_period(), (WEEK, 2));
        let tz = h.tz();
        assert_eq!(fmt(tz, h.instant(0)), "2026-11-02T09:00:00+00:00");
        assert_eq!(fmt(tz, h.instant(1)), "2026-11-05T09:00:00+00:00");
        assert_eq!(fmt(tz, h.instant(2)), "2026-11-09T09:00:00+00:00");
        // across spring forward 2027-03-28: Thursday 25th GMT, Monday 29th BST, still 09:00 local
        let n = h
            .index_at(
                tz::parse_instant("2027-03-27T00:00:00Z", tz)
                    .unwrap()
                    .timestamp(),
            )
            .unwrap();
        assert_eq!(fmt(tz, h.instant(n)), "2027-03-25T09:00:00+00:00");
        assert_eq!(fmt(tz, h.instant(n + 1)), "2027-03-29T09:00:00+01:00");
    }

    #[test]
    fn rrule_monthly_uses_gregorian_cycle() {
        let h = handoffs(
            "America/Chicago",
            "2026-01-31T09:00",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
        );
        assert_eq!(h.per_period(), (GREGORIAN_CYCLE, 4800));
        let tz = h.tz();
        assert_eq!(fmt(tz, h.instant(1)), "2026-02-28T09:00:00-06:00");
        assert_eq!(fmt(tz, h.instant(2)), "2026-03-31T09:00:00-05:00");
        // 400 years and one month later, still the last day of the month at 09:00
        assert_eq!(fmt(tz, h.instant(4801)), "2426-02-28T09:00:00-06:00");
    }

    #[test]
    fn rrule_rejections_name_the_problem() {
        let tz: Tz = "UTC".parse().unwrap();
        let start = parse_civil("2026-11-04T09:00").unwrap(); // a Wednesday
        let err = |r: &str| Handoffs::new(tz, start, &Recurrence::RRule(r.into())).unwrap_err();
        assert!(err("FREQ=WEEKLY;BYDAY=MO,TH").contains("not an occurrence"));
        assert!(err("FREQ=WEEKLY;COUNT=3").contains("COUNT"));
        assert!(err("FREQ=WEEKLY;UNTIL=20270101T000000Z").contains("UNTIL"));
        assert!(err("FREQ=MINUTELY").contains("FREQ must be"));
        assert!(err("FREQ=FORTNIGHTLY").contains("invalid rrule"));
        assert!(err("").contains("empty rrule"));
        assert!(err("FREQ=DAILY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12").contains("more than"));
    }

    #[test]
    fn hourly_across_apia_skipped_day_stays_ordered() {
        let h = handoffs("Pacific/Apia", "2011-12-29T00:00", "1 hour");
        let tz = h.tz();
        let mut prev = h.instant(0);
        for n in 1..80 {
            let s = h.instant(n);
            assert!(
                s >= prev,
                "handoff {n} {} before {}",
                fmt(tz, s),
                fmt(tz, prev)
            );
            prev = s;
        }
        // 2011-12-29 23:00 -10:00 hands off to 2011-12-31 00:00 +14:00 one hour later; the 24
        // handoffs of the skipped day are zero-length shifts at that same instant.
        let t = tz::parse_instant("2011-12-31T00:30:00+14:00", tz)
            .unwrap()
            .timestamp();
        let n = h.index_at(t).unwrap();
        assert_eq!(
            n, 48,
            "the shift of civil 2011-12-31 00:00 (index 48) holds 00:30"
        );
        assert_eq!(fmt(tz, h.instant(n)), "2011-12-31T00:00:00+14:00");
        assert_eq!(fmt(tz, h.instant(47)), "2011-12-31T00:00:00+14:00");
        assert_eq!(fmt(tz, h.instant(23)), "2011-12-29T23:00:00-10:00");
    }
}
