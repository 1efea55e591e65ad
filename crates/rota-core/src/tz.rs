//! The one place where a civil (wall-clock) date-time becomes an instant.
//!
//! Everything else in rota-core works on UTC instants (whole seconds since the Unix epoch); rotation
//! starts, `every` steps and rrule occurrences are civil date-times in a rotation's IANA zone, and
//! they become instants only here.
//!
//! # The rules
//!
//! A civil date-time in a zone is one of three things:
//!
//! - **exact**: it happens once; it becomes that instant.
//! - **in a gap** (spring forward: the clock jumps over it, e.g. 01:30 on the last Sunday of March in
//!   Europe/London): it moves *forward by the gap's length*. 01:30 in London's one-hour gap becomes
//!   02:30 BST; 02:10 in Australia/Lord_Howe's 30-minute gap becomes 02:40; any time on 2011-12-30
//!   in Pacific/Apia (a day that was skipped) becomes the same time on 2011-12-31. Equivalently, the
//!   civil time is read with the offset in force *before* the gap.
//! - **in a fold** (fall back: the clock shows it twice, e.g. 01:30 on the first Sunday of November
//!   in America/Chicago): it takes the *earlier* offset, i.e. the first of the two instants.
//!
//! This is RFC 5545's rule (section 3.3.5), what calendar clients do with a `TZID` time, what the
//! rrule crate does, and what jiff calls the "compatible" disambiguation. [`Resolved::kind`] says
//! which case applied, so callers that need to (the handoff sequence, see [`crate::Recurrence`]) can see it.
//!
//! chrono-tz reports a gap as `LocalResult::None` without saying how long the gap is; we find the
//! transition by a binary search over instants (about 17 offset look-ups), which only runs for
//! civil times that really fall in a gap.
//!
//! Instants here have one-second resolution: fractional seconds are truncated towards the past.
//!
//! # The days of a shift
//!
//! [`day_parts`] cuts a shift into days the way people say "the Tuesday of my week": each day
//! runs from the handoff's wall-clock time to the same wall-clock time the next day, resolved by
//! the rules above, and the last is cut at the shift's end. So across a DST change that day is 23
//! or 25 hours long, and a 09:00 handoff keeps every day at 09:00. Swap requests for part of a
//! shift and the suggestions for a partial absence use these days.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Seconds since the Unix epoch, UTC. The internal instant type of rota-core.
pub(crate) type Secs = i64;

/// Earliest and latest instants rota works with: years 1 to 9999, which is what RFC 3339 can
/// express and keeps every civil computation far from chrono's limits.
pub(crate) const MIN_SECS: Secs = -62_135_596_800; // 0001-01-01T00:00:00Z
pub(crate) const MAX_SECS: Secs = 253_402_300_799; // 9999-12-31T23:59:59Z

/// The first instant a user may ask about (API `at`, `from`, `to`, override bounds; the CLI's
/// `--at`, `--from`, `--to`, `--now`): 1970-01-01T00:00:00Z.
pub const FIRST_SUPPORTED: &str = "1970-01-01T00:00:00Z";
/// The last instant a user may ask about: 9000-12-31T23:59:59Z. The engine computes up to year
/// 9999; stopping a millennium earlier means the shift around any instant asked about ends within
/// year 9999 too, so every answer is valid RFC 3339 (a shift around 9999-12-31 would end in year
/// 10000, which RFC 3339 cannot write).
pub const LAST_SUPPORTED: &str = "9000-12-31T23:59:59Z";
const FIRST_SUPPORTED_SECS: Secs = 0;
const LAST_SUPPORTED_SECS: Secs = 221_876_927_999;

/// How a civil date-time was turned into an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The civil time happens exactly once.
    Exact,
    /// The civil time was skipped by the clock; it was moved forward by `gap_secs` seconds.
    /// `resumes_at` is the instant the clock jumped (the first instant after the gap).
    Gap {
        /// Length of the gap in seconds (3600 for an ordinary DST change, 1800 on Lord Howe Island,
        /// 86400 for Samoa's skipped day).
        gap_secs: i64,
        /// The transition instant: the clock reads the gap's end from here on.
        resumes_at: DateTime<Utc>,
    },
    /// The civil time happens twice; the earlier instant was taken.
    Fold {
        /// The later of the two instants, which was not taken.
        later: DateTime<Utc>,
    },
}

/// A civil date-time resolved to an instant by the rules of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The instant, in UTC.
    pub instant: DateTime<Utc>,
    /// Which rule applied.
    pub kind: Kind,
}

/// Turns a civil date-time in `tz` into an instant: exact times map directly, times in a gap move
/// forward by the gap's length, times in a fold take the earlier offset.
///
/// Returns `None` only for civil times outside years 1 to 9999.
///
/// # Examples
///
/// ```
/// use chrono::NaiveDate;
/// use rota_core::tz::{resolve, Kind};
///
/// let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
/// // 2027-03-28 01:30 does not exist in London (01:00 GMT jumps to 02:00 BST): it becomes 02:30 BST.
/// let civil = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap().and_hms_opt(1, 30, 0).unwrap();
/// let r = resolve(london, civil).unwrap();
/// assert_eq!(r.instant.to_rfc3339(), "2027-03-28T01:30:00+00:00");
/// assert!(matches!(r.kind, Kind::Gap { gap_secs: 3600, .. }));
///
/// // 2026-11-01 01:30 happens twice in Chicago (CDT, then CST): the earlier, CDT, is taken.
/// let chicago: chrono_tz::Tz = "America/Chicago".parse().unwrap();
/// let civil = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(1, 30, 0).unwrap();
/// let r = resolve(chicago, civil).unwrap();
/// assert_eq!(r.instant.to_rfc3339(), "2026-11-01T06:30:00+00:00");
/// ```
pub fn resolve(tz: Tz, civil: NaiveDateTime) -> Option<Resolved> {
    let civil_secs = civil.and_utc().timestamp();
    let (secs, kind) = resolve_secs(tz, civil_secs)?;
    Some(Resolved {
        instant: from_secs(secs)?,
        kind,
    })
}

/// [`resolve`] on seconds: `civil` is the civil date-time as if it were UTC.
pub(crate) fn resolve_secs(tz: Tz, civil: Secs) -> Option<(Secs, Kind)> {
    if !(MIN_SECS..=MAX_SECS).contains(&civil) {
        return None;
    }
    let naive = DateTime::from_timestamp(civil, 0)?.naive_utc();
    // Only the offset is needed (instant = civil - offset): asking for it alone skips building
    // a `DateTime<Tz>`, which is most of the cost of a handoff (see BENCHMARKS.md).
    let off = |o: &<Tz as TimeZone>::Offset| o.fix().local_minus_utc() as i64;
    match tz.offset_from_local_datetime(&naive) {
        LocalResult::Single(o) => Some((civil - off(&o), Kind::Exact)),
        LocalResult::Ambiguous(a, b) => {
            // The earlier instant is the one with the larger offset (east of UTC is positive).
            let (early, late) = (off(&a).max(off(&b)), off(&a).min(off(&b)));
            Some((
                civil - early,
                Kind::Fold {
                    later: from_secs(civil - late)?,
                },
            ))
        }
        LocalResult::None => {
            let transition = find_jump_over(tz, civil)?;
            let before = offset_secs(tz, transition - 1)?;
            let after = offset_secs(tz, transition)?;
            let secs = civil - before;
            Some((
                secs,
                Kind::Gap {
                    gap_secs: after - before,
                    resumes_at: from_secs(transition)?,
                },
            ))
        }
    }
}

/// The UTC offset of `tz` at instant `secs`, in seconds east of UTC.
pub(crate) fn offset_secs(tz: Tz, secs: Secs) -> Option<i64> {
    let naive = DateTime::from_timestamp(secs, 0)?.naive_utc();
    Some(tz.offset_from_utc_datetime(&naive).fix().local_minus_utc() as i64)
}

/// The civil date-time (as seconds, as if UTC) that the clock in `tz` shows at instant `secs`.
pub(crate) fn civil_at(tz: Tz, secs: Secs) -> Option<Secs> {
    Some(secs + offset_secs(tz, secs)?)
}

/// For a civil time that falls in a gap, the instant at which the clock jumped over it: the first
/// instant whose civil reading is later than `civil`. Civil readings are monotone on either side of
/// a jump, and no zone has two transitions within a day of each other around a gap, so a binary
/// search over a window of ±27 hours (wider than any UTC offset) finds it.
fn find_jump_over(tz: Tz, civil: Secs) -> Option<Secs> {
    let mut lo = civil - 27 * 3600; // civil reading here is earlier than `civil`
    let mut hi = civil + 27 * 3600; // civil reading here is later than `civil`
    if civil_at(tz, lo)? > civil || civil_at(tz, hi)? <= civil {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if civil_at(tz, mid)? > civil {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

pub(crate) fn from_secs(secs: Secs) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// Truncates an instant to whole seconds (towards the past) and clamps it to years 1 to 9999.
pub(crate) fn to_secs(t: DateTime<Utc>) -> Secs {
    t.timestamp().clamp(MIN_SECS, MAX_SECS)
}

/// An error parsing a time argument: says what was given and what would be valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeParseError {
    /// The text that did not parse.
    pub input: String,
    /// It parsed, but is outside [`FIRST_SUPPORTED`] to [`LAST_SUPPORTED`].
    pub out_of_range: bool,
}

impl std::fmt::Display for TimeParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.out_of_range {
            return write!(
                f,
                "time {:?} is outside the supported range, {FIRST_SUPPORTED} to {LAST_SUPPORTED}",
                self.input
            );
        }
        write!(
            f,
            "invalid time {:?}: expected RFC 3339 with an offset (2026-12-07T10:00:00Z, \
             2026-12-07T10:00:00+01:00) or a date (2026-12-07, midnight in the zone)",
            self.input
        )
    }
}

impl std::error::Error for TimeParseError {}

/// The days of the shift `[start, end)` in `tz` (see the module doc); empty when the shift is a
/// day or shorter (it has one day: itself).
///
/// ```
/// use rota_core::tz::day_parts;
/// let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
/// // The week of the EU spring-forward: Monday 22 March 2027 09:00 GMT to Monday 29 March 09:00 BST.
/// let days = day_parts(london, "2027-03-22T09:00:00Z".parse().unwrap(), "2027-03-29T08:00:00Z".parse().unwrap());
/// let hours: Vec<i64> = days.iter().map(|(a, b)| (*b - *a).num_hours()).collect();
/// assert_eq!(hours, [24, 24, 24, 24, 24, 23, 24]);
/// ```
pub fn day_parts(
    tz: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let first = start.with_timezone(&tz).naive_local();
    let mut out = Vec::new();
    let mut from = start;
    for k in 1..=62 {
        let Some(next) = resolve(tz, first + chrono::Duration::days(k)).map(|r| r.instant) else {
            break;
        };
        let to = next.min(end);
        if to > from {
            out.push((from, to));
        }
        if to >= end {
            break;
        }
        from = to;
    }
    if out.len() < 2 { Vec::new() } else { out }
}

/// Parses a time given by a user: RFC 3339 with an offset (`2026-12-07T10:00:00Z`), or a date
/// (`2026-12-07`), meaning midnight of that date in `tz` (by the gap and fold rules above: a
/// midnight that a DST change skips, as in America/Santiago, becomes 01:00). Instants outside
/// [`FIRST_SUPPORTED`] to [`LAST_SUPPORTED`] are refused (`out_of_range`): every API and CLI
/// time goes through here, so this is the one place the range is applied.
///
/// # Examples
///
/// ```
/// use rota_core::tz::parse_instant;
///
/// let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
/// let t = parse_instant("2026-07-01", london).unwrap();
/// assert_eq!(t.to_rfc3339(), "2026-06-30T23:00:00+00:00"); // midnight BST
/// let t = parse_instant("2026-12-07T10:00:00+01:00", london).unwrap();
/// assert_eq!(t.to_rfc3339(), "2026-12-07T09:00:00+00:00");
/// assert!(parse_instant("next tuesday", london).is_err());
/// ```
pub fn parse_instant(input: &str, tz: Tz) -> Result<DateTime<Utc>, TimeParseError> {
    let err = |out_of_range| TimeParseError {
        input: input.to_string(),
        out_of_range,
    };
    let s = input.trim();
    let t = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.timestamp()
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let civil = d.and_hms_opt(0, 0, 0).ok_or_else(|| err(false))?;
        // A date far outside the range may have no instant at all: out of range too.
        resolve(tz, civil)
            .ok_or_else(|| err(true))?
            .instant
            .timestamp()
    } else {
        return Err(err(false));
    };
    if !(FIRST_SUPPORTED_SECS..=LAST_SUPPORTED_SECS).contains(&t) {
        return Err(err(true));
    }
    from_secs(t).ok_or_else(|| err(true))
}

/// Parses an IANA zone name (`Europe/London`). The error is the one `rota check` gives for a bad
/// `timezone`, with the closest known name when one is close:
///
/// ```
/// let err = rota_core::tz::parse_zone("Europe/Londn").unwrap_err();
/// assert!(err.starts_with("unknown time zone \"Europe/Londn\" (did you mean \"Europe/London\"?)"));
/// assert_eq!(rota_core::tz::parse_zone("Asia/Kolkata").unwrap().name(), "Asia/Kolkata");
/// ```
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        let hint = crate::load::suggest(name, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()));
        format!(
            "unknown time zone {name:?}{hint}; expected an IANA zone name such as \"Europe/London\" or \"America/Chicago\""
        )
    })
}

/// Parses a time as an override's `start` or `end` may be written, in the schedule files or
/// through the API: a civil date-time in the rotation's zone `tz` (`2026-12-21T09:00`, the files'
/// form, resolved by the gap and fold rules above), RFC 3339 with an offset, or a date (midnight
/// in `tz`), as [`parse_instant`].
///
/// ```
/// use rota_core::tz::parse_override_time;
/// let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
/// let t = parse_override_time("2026-07-01T09:00", london).unwrap();
/// assert_eq!(t.to_rfc3339(), "2026-07-01T08:00:00+00:00"); // 09:00 BST
/// assert_eq!(parse_override_time("2026-07-01T08:00:00Z", london).unwrap(), t);
/// ```
pub fn parse_override_time(input: &str, tz: Tz) -> Result<DateTime<Utc>, TimeParseError> {
    if let Some(civil) = parse_civil(input) {
        // The same supported range as every other instant the API and the CLI take.
        return resolve(tz, civil)
            .map(|r| r.instant)
            .filter(|t| (FIRST_SUPPORTED_SECS..=LAST_SUPPORTED_SECS).contains(&t.timestamp()))
            .ok_or_else(|| TimeParseError {
                input: input.to_string(),
                out_of_range: true,
            });
    }
    parse_instant(input, tz)
}

/// Parses a civil date-time as written in schedule files: `2026-11-02T09:00` or
/// `2026-11-02T09:00:00` (a space may stand for the `T`). Returns `None` if it does not parse.
pub fn parse_civil(input: &str) -> Option<NaiveDateTime> {
    let s = input.trim();
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civil(s: &str) -> NaiveDateTime {
        parse_civil(s).unwrap()
    }

    fn check(zone: &str, at: &str, want: &str, want_kind: &str) {
        let tz: Tz = zone.parse().unwrap();
        let r = resolve(tz, civil(at)).unwrap();
        let shown = r
            .instant
            .with_timezone(&tz)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string();
        assert_eq!(shown, want, "{zone} {at}");
        let kind = match r.kind {
            Kind::Exact => "exact".to_string(),
            Kind::Gap { gap_secs, .. } => format!("gap {gap_secs}"),
            Kind::Fold { .. } => "fold".to_string(),
        };
        assert_eq!(kind, want_kind, "{zone} {at}");
    }

    #[test]
    fn table() {
        #[rustfmt::skip]
        let rows = [
            // London spring forward 2027-03-28 01:00 GMT -> 02:00 BST
            ("Europe/London", "2027-03-28T00:59:00", "2027-03-28T00:59:00+00:00", "exact"),
            ("Europe/London", "2027-03-28T01:00:00", "2027-03-28T02:00:00+01:00", "gap 3600"),
            ("Europe/London", "2027-03-28T01:59:00", "2027-03-28T02:59:00+01:00", "gap 3600"),
            ("Europe/London", "2027-03-28T02:00:00", "2027-03-28T02:00:00+01:00", "exact"),
            // London fall back 2026-10-25 02:00 BST -> 01:00 GMT: 01:xx twice, earlier taken
            ("Europe/London", "2026-10-25T01:00:00", "2026-10-25T01:00:00+01:00", "fold"),
            ("Europe/London", "2026-10-25T01:59:00", "2026-10-25T01:59:00+01:00", "fold"),
            ("Europe/London", "2026-10-25T02:00:00", "2026-10-25T02:00:00+00:00", "exact"),
            // Chicago 2027-03-14 02:00 CST -> 03:00 CDT; 2026-11-01 02:00 CDT -> 01:00 CST
            ("America/Chicago", "2027-03-14T02:30:00", "2027-03-14T03:30:00-05:00", "gap 3600"),
            ("America/Chicago", "2026-11-01T01:30:00", "2026-11-01T01:30:00-05:00", "fold"),
            // Lord Howe: 30-minute DST. 2026-10-04 02:00 +10:30 -> 02:30 +11:00
            ("Australia/Lord_Howe", "2026-10-04T02:10:00", "2026-10-04T02:40:00+11:00", "gap 1800"),
            ("Australia/Lord_Howe", "2026-10-04T02:30:00", "2026-10-04T02:30:00+11:00", "exact"),
            // and 2027-04-04 02:00 +11:00 -> 01:30 +10:30: 01:30-02:00 twice
            ("Australia/Lord_Howe", "2027-04-04T01:45:00", "2027-04-04T01:45:00+11:00", "fold"),
            // Apia skipped 2011-12-30 entirely (-10:00 -> +14:00)
            ("Pacific/Apia", "2011-12-30T09:00:00", "2011-12-31T09:00:00+14:00", "gap 86400"),
            ("Pacific/Apia", "2011-12-31T00:00:00", "2011-12-31T00:00:00+14:00", "exact"),
            // Kolkata: +05:30 all year
            ("Asia/Kolkata", "2027-03-28T01:30:00", "2027-03-28T01:30:00+05:30", "exact"),
            // Santiago springs forward at midnight: 2026-09-06 00:00 -04 -> 01:00 -03
            ("America/Santiago", "2026-09-06T00:00:00", "2026-09-06T01:00:00-03:00", "gap 3600"),
            ("America/Santiago", "2026-09-06T00:30:00", "2026-09-06T01:30:00-03:00", "gap 3600"),
            // and falls back at midnight: 2026-04-05 00:00 -03 -> 23:00 -04 on the 4th
            ("America/Santiago", "2026-04-04T23:30:00", "2026-04-04T23:30:00-03:00", "fold"),
        ];
        for (zone, at, want, kind) in rows {
            check(zone, at, want, kind);
        }
    }

    #[test]
    fn parse_instant_rejects_out_of_range_and_garbage() {
        let tz: Tz = "UTC".parse().unwrap();
        assert!(parse_instant("", tz).is_err());
        assert!(parse_instant("2026-13-01", tz).is_err());
        assert!(
            parse_instant("2026-12-07T10:00:00", tz).is_err(),
            "no offset"
        );
        assert!(parse_instant("0000-01-01T00:00:00Z", tz).is_err());
        // The supported range, to the second, and what the error says outside it.
        assert_eq!(
            parse_instant(FIRST_SUPPORTED, tz).unwrap().to_rfc3339(),
            "1970-01-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_instant(LAST_SUPPORTED, tz).unwrap().to_rfc3339(),
            "9000-12-31T23:59:59+00:00"
        );
        for outside in [
            "1969-12-31T23:59:59Z",
            "9001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "9001-01-01",
            "0001-01-01",
            "9000-12-31T23:59:59-00:01",
        ] {
            let e = parse_instant(outside, tz).unwrap_err();
            assert!(e.out_of_range, "{outside}");
            assert!(e.to_string().contains("outside the supported range"), "{e}");
        }
        assert!(!parse_instant("next tuesday", tz).unwrap_err().out_of_range);
        assert_eq!(
            parse_instant("2026-12-07", tz).unwrap().to_rfc3339(),
            "2026-12-07T00:00:00+00:00"
        );
    }

    #[test]
    fn santiago_midnight_date_argument_moves_forward() {
        let tz: Tz = "America/Santiago".parse().unwrap();
        let t = parse_instant("2026-09-06", tz).unwrap();
        assert_eq!(
            t.with_timezone(&tz).to_rfc3339(),
            "2026-09-06T01:00:00-03:00"
        );
    }
}
