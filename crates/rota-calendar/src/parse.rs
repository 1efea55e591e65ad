//! Parsing calendar text and expanding its events into busy intervals. Pure: no I/O, no clock.
//!
//! [`parse`] reads RFC 5545 text with the `ical` crate (which unfolds lines and splits
//! parameters) and interprets every value here. [`Calendar::busy`] expands the events that
//! overlap a query range into UTC intervals; [`Calendar::dates`] gives the civil dates a holiday
//! calendar covers.
//!
//! # The rules
//!
//! - **What is busy.** Every VEVENT, except `STATUS:CANCELLED`. `TRANSP:TRANSPARENT` is *not*
//!   skipped: Google marks all-day events "free" by default, and those are exactly the vacation
//!   days an absence calendar is for.
//! - **DTSTART forms.** `;VALUE=DATE:20261224` (all-day), `;TZID=Europe/London:20261224T090000`,
//!   UTC `20261224T090000Z`, and floating `20261224T090000`.
//! - **Zones.** A `TZID` is read by the crate's zone rules (module `zones`): IANA names, prefixed
//!   names such as `/mozilla.org/20050126_1/Europe/London`, Windows names (`W. Europe Standard Time`) through
//!   CLDR's table, and a VTIMEZONE's `X-LIC-LOCATION` when its own `TZID` is none of those. A
//!   `TZID` that is none of these (Outlook's "Customized Time Zone") is read like a floating
//!   time, on the person's clock, with one warning naming the `TZID`: dropping the event would
//!   hide an absence, and we never guess from a VTIMEZONE's STANDARD/DAYLIGHT rules. Floating times are read in the calendar's
//!   `X-WR-TIMEZONE` if it names a zone, else in the zone the caller passes (the person's);
//!   all-day dates always in the caller's zone, because a day off is a day where the person is.
//! - **End.** `DTEND`, or `DURATION` (`P1D`, `PT8H30M`, `P2W`, `P1DT12H`): weeks and days are
//!   calendar days in the event's zone, hours/minutes/seconds are exact, as RFC 5545 says. An
//!   all-day event with neither lasts one day; a timed one has zero length (kept, counted, but it
//!   never overlaps anything, so [`Calendar::busy`] leaves it out). An end before the start is a
//!   warning and the event is skipped. An all-day `DTEND` equal to its `DTSTART` (some exporters
//!   write that) is read as one day.
//! - **Every civil->instant step goes through [`rota_core::tz::resolve`]**: a time in a DST gap
//!   moves forward by the gap's length, a time in a fold takes the earlier offset. An occurrence's
//!   end keeps the master's *wall-clock* length when `DTEND` is in the same zone as `DTSTART`
//!   (09:00-17:00 every day stays 09:00-17:00 across a DST change), so a day-long absence on a
//!   DST-change day is 23 or 25 hours.
//! - **Recurrence.** `RRULE` is expanded by the rrule crate in *civil* time (the wall clock of the
//!   event's zone, read as UTC so the crate sees no gaps or folds), and each occurrence then goes
//!   through `resolve`; all-day rules expand at midnight. `UNTIL` in UTC is first turned into the
//!   event zone's wall clock. `DTSTART` is always an occurrence. `RDATE` adds occurrences and
//!   `EXDATE` removes them (several lines, comma-separated values, `VALUE=DATE` or `TZID` forms; a
//!   floating value on an event with a `TZID` is read in that zone). A VEVENT with the same `UID`
//!   and a `RECURRENCE-ID` replaces the occurrence that starts at that instant (the same date, for
//!   all-day events); a cancelled one just removes it. A `RECURRENCE-ID` whose master is missing
//!   is still busy on its own.
//! - **Safety.** A rule that is not plain ASCII is rejected with a warning before it reaches the
//!   rrule crate (0.14 panics on some non-ASCII text). Expansion starts at `DTSTART` and stops
//!   past the end of the query, so a daily rule from ten years ago costs about 3,650 steps. One
//!   expansion ([`Calendar::index`], [`Calendar::busy`], [`Calendar::dates`]) takes at most
//!   [`MAX_OCCURRENCES`] steps of one event, and at most [`MAX_STEPS_PER_CALENDAR`] steps and
//!   [`MAX_OCCURRENCES_PER_CALENDAR`] occurrences over the whole calendar (single events first);
//!   hitting a cap stops there with a warning. So the CPU and memory one calendar costs are
//!   bounded whatever it holds. Dates outside years 1 to 9999 are rejected. Nothing here
//!   panics on any input: the rrule crate is also run behind `catch_unwind` as a last resort.
//!
//! # Limits
//!
//! `RANGE=THISANDFUTURE` on a `RECURRENCE-ID` is treated as a single instance. `RDATE;VALUE=PERIOD`
//! uses the period's start and the event's own length. Only the first `RRULE` of an event is used
//! (RFC 5545 deprecates several). `EXRULE` is ignored. An `HOURLY` rule expands in wall-clock time,
//! so it yields one occurrence, not two, in a fold.

use std::collections::{HashMap, HashSet};
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ical::parser::ical::component::{IcalCalendar, IcalEvent};
use ical::property::Property;
use rota_core::tz::resolve;

use crate::error::{Error, ErrorKind};
use crate::zones::resolve_tzid;

/// The most recurrence steps of one event that one expansion takes (occurrences the rule
/// generates, before the window or in it).
pub const MAX_OCCURRENCES: usize = 50_000;

/// The most occurrences one expansion of a whole calendar keeps: the per-source cap on the
/// absence index. With 24 bytes per merged stretch this bounds a source's index to about 480 KB
/// (plus its distinct summaries, each at most 100 characters). A year of a daily meeting is 365.
pub const MAX_OCCURRENCES_PER_CALENDAR: usize = 20_000;

/// The most recurrence steps one expansion of a whole calendar takes, over all its events:
/// bounds the CPU a calendar costs when it is read (the rrule crate generates every occurrence
/// from DTSTART, so a minutely rule from years ago costs steps before the window is reached).
pub const MAX_STEPS_PER_CALENDAR: usize = 500_000;

/// What one expansion of a whole calendar may still spend.
#[derive(Debug)]
struct Budget {
    occurrences: usize,
    steps: usize,
    /// Set when either ran out: expansion stops there.
    exhausted: bool,
}

impl Budget {
    fn per_calendar() -> Budget {
        Budget {
            occurrences: MAX_OCCURRENCES_PER_CALENDAR,
            steps: MAX_STEPS_PER_CALENDAR,
            exhausted: false,
        }
    }
}

/// A calendar expanded once over a window, merged: what a person's absence index is built from.
#[derive(Clone, Debug, Default)]
pub struct Expanded {
    /// The busy intervals, merged (see [`rota_core::timeoff::AbsenceSet`]).
    pub set: rota_core::timeoff::AbsenceSet,
    /// Occurrences kept before merging.
    pub occurrences: usize,
    /// Whether the per-calendar cap stopped the expansion (a warning says so).
    pub capped: bool,
    /// Problems found while expanding (the caps, a rule the rrule crate failed on).
    pub warnings: Vec<String>,
}

/// The most expansion warnings a calendar remembers; later ones are dropped (and that is said).
const MAX_EXPANSION_WARNINGS: usize = 100;

/// A parsed calendar: its events, unexpanded, and the problems found while reading them.
#[derive(Debug)]
pub struct Calendar {
    events: Vec<Event>,
    warnings: Vec<String>,
    name: Option<String>,
    /// `X-WR-TIMEZONE`, which takes precedence over the caller's zone for floating times.
    wr_timezone: Option<Tz>,
    /// Problems found while expanding (the occurrence cap), kept so `/healthz` can show them.
    expansion_warnings: Mutex<Vec<String>>,
}

/// One busy interval `[start, end)` in UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Busy {
    /// Start, inclusive.
    pub start: DateTime<Utc>,
    /// End, exclusive; always after `start`.
    pub end: DateTime<Utc>,
    /// The event's SUMMARY, unescaped; `"Busy"` if it has none (private events often do not).
    pub summary: String,
    /// Whether the event is an all-day (`VALUE=DATE`) event.
    pub all_day: bool,
}

/// Where a civil date-time lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Zone {
    /// An all-day date (the date-time is its midnight), read in the caller's zone.
    Date,
    /// A UTC time (`...Z`).
    Utc,
    /// A time with a resolved `TZID`.
    Named(Tz),
    /// A floating time: `X-WR-TIMEZONE`, else the caller's zone.
    Floating,
}

/// A DATE or DATE-TIME value, not yet an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Time {
    civil: NaiveDateTime,
    zone: Zone,
}

/// A DURATION: calendar days (weeks count 7) and exact seconds, both carrying the sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Duration {
    days: i64,
    secs: i64,
}

#[derive(Clone, Debug)]
enum EndSpec {
    /// Neither DTEND nor DURATION.
    Default,
    At(Time),
    Duration(Duration),
}

#[derive(Clone, Debug)]
struct Rule {
    /// The rule without its UNTIL, which is zone-dependent and set at expansion time.
    rule: rrule::RRule<rrule::Unvalidated>,
    until: Option<Time>,
}

#[derive(Clone, Debug)]
struct Event {
    uid: String,
    label: String,
    summary: String,
    start: Time,
    end: EndSpec,
    cancelled: bool,
    rule: Option<Rule>,
    rdates: Vec<Time>,
    exdates: Vec<Time>,
    recurrence_id: Option<Time>,
}

/// The zones a query reads floating values in.
#[derive(Clone, Copy, Debug)]
struct Ctx {
    /// For floating date-times: X-WR-TIMEZONE, else the caller's zone.
    floating: Tz,
    /// For all-day dates: the caller's zone.
    dates: Tz,
}

impl Ctx {
    fn tz(&self, zone: Zone) -> Tz {
        match zone {
            Zone::Date => self.dates,
            Zone::Utc => chrono_tz::UTC,
            Zone::Named(tz) => tz,
            Zone::Floating => self.floating,
        }
    }

    fn instant(&self, t: &Time) -> Option<DateTime<Utc>> {
        resolve(self.tz(t.zone), t.civil).map(|r| r.instant)
    }
}

/// One expanded occurrence, before the query's overlap filter decides.
struct Occ {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    event: usize,
}

/// Parses iCalendar text. Fails only when the text is not a calendar at all (no
/// `BEGIN:VCALENDAR`, broken component nesting, a malformed content line); problems with single
/// events become [`Calendar::warnings`] and those events are skipped.
///
/// # Examples
///
/// ```
/// use chrono::{TimeZone, Utc};
///
/// let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Dentist\r\n\
///             DTSTART;TZID=Europe/London:20261026T090000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n\
///             END:VCALENDAR\r\n";
/// let cal = rota_calendar::parse(text).unwrap();
/// let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
/// let from = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
/// let to = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
/// let busy = cal.busy(london, from, to);
/// // The day after the clocks go back: 09:00 GMT is 09:00 UTC.
/// assert_eq!(busy[0].start.to_rfc3339(), "2026-10-26T09:00:00+00:00");
/// assert_eq!(busy[0].end.to_rfc3339(), "2026-10-26T10:00:00+00:00");
/// assert!(rota_calendar::parse("<html>login</html>").is_err());
/// ```
pub fn parse(text: &str) -> Result<Calendar, Error> {
    // A byte-order mark would make the first line "\u{feff}BEGIN", which ical rejects.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Check the first line ourselves: a feed URL that answers with an HTML login page is the
    // commonest failure, and the ical crate words it as a content-line problem.
    let first = text.lines().enumerate().find(|(_, l)| !l.trim().is_empty());
    match first {
        None => {
            return Err(Error::new(ErrorKind::Parse {
                origin: None,
                line: None,
                column: None,
                message: "the text is empty: expected BEGIN:VCALENDAR".into(),
            }));
        }
        Some((n, l)) if !l.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR") => {
            // Never quote the line: this message reaches /healthz, and the "calendar" may be
            // any file (an HTML login page, or worse, a secret).
            return Err(Error::new(ErrorKind::Parse {
                origin: None,
                line: Some(n + 1),
                column: Some(column_of_first_char(l)),
                message: "expected BEGIN:VCALENDAR (this is not an iCalendar file)".into(),
            }));
        }
        Some(_) => {}
    }
    let mut calendars = Vec::new();
    for item in ical::IcalParser::new(BufReader::new(text.as_bytes())) {
        calendars.push(item.map_err(|e| parse_error(text, e))?);
    }
    if calendars.is_empty() {
        return Err(Error::new(ErrorKind::Parse {
            origin: None,
            line: None,
            column: None,
            message: "the text is empty: expected BEGIN:VCALENDAR".into(),
        }));
    }
    let mut warnings = Vec::new();
    let mut events = Vec::new();
    let mut name = None;
    let mut wr_timezone = None;
    for cal in &calendars {
        let zones = ZoneMap::new(cal);
        if name.is_none() {
            name = prop(&cal.properties, "X-WR-CALNAME")
                .and_then(|p| p.value.as_deref())
                .map(unescape);
        }
        if wr_timezone.is_none()
            && let Some(v) = prop(&cal.properties, "X-WR-TIMEZONE").and_then(|p| p.value.as_deref())
        {
            match zones.get(v) {
                Some(tz) => wr_timezone = Some(tz),
                None => warnings.push(format!(
                    "calendar: unknown X-WR-TIMEZONE {v:?}; floating times use the person's zone"
                )),
            }
        }
        for ev in &cal.events {
            match read_event(ev, &zones) {
                Ok(e) => events.push(e),
                Err(msg) => warnings.push(format!("{}: {msg}", label(ev))),
            }
        }
        for tzid in zones.unknown.borrow().iter() {
            warnings.push(format!(
                "TZID {tzid:?} is not a zone rota knows (not an IANA or Windows name, and its \
                 VTIMEZONE has no X-LIC-LOCATION): its times are read on the person's clock"
            ));
        }
    }
    Ok(Calendar {
        events,
        warnings,
        name,
        wr_timezone,
        expansion_warnings: Mutex::new(Vec::new()),
    })
}

impl Calendar {
    /// The number of VEVENTs kept: masters and overridden instances, cancelled ones included
    /// (a cancelled instance still removes an occurrence). Skipped events are not counted; each
    /// has a warning.
    pub fn events(&self) -> usize {
        self.events.len()
    }

    /// Why events were skipped, one line each, such as
    /// `event "Ski trip" (UID abc): DTEND "..." is before DTSTART`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Problems found by [`Calendar::busy`] and [`Calendar::dates`] calls so far (an event's
    /// expansion stopped at [`MAX_OCCURRENCES`]), without repeats.
    pub fn expansion_warnings(&self) -> Vec<String> {
        self.expansion_warnings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The calendar's display name (`X-WR-CALNAME`), if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Busy intervals overlapping `[from, to)`, in UTC, sorted by start (then end, then summary).
    /// `floating` is the zone used for floating times and all-day dates (the caller passes the
    /// person's zone); an `X-WR-TIMEZONE` in the calendar takes precedence over `floating` for
    /// floating times. Intervals are not clipped to the range, and are not merged.
    ///
    /// Each call expands afresh, within the per-calendar caps ([`MAX_OCCURRENCES_PER_CALENDAR`],
    /// [`MAX_STEPS_PER_CALENDAR`]); a service should use [`Calendar::index`] once per read.
    pub fn busy(&self, floating: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Busy> {
        let occs = self.expand(floating, from, to);
        let mut out: Vec<Busy> = occs
            .into_iter()
            .filter(|o| o.end > o.start && o.start < to && o.end > from)
            .map(|o| Busy {
                start: o.start,
                end: o.end,
                summary: self.events[o.event].summary.clone(),
                all_day: self.events[o.event].start.zone == Zone::Date,
            })
            .collect();
        out.sort_by(|a, b| (a.start, a.end, &a.summary).cmp(&(b.start, b.end, &b.summary)));
        out
    }

    /// Expands the whole calendar once over `[from, to)` into a merged [`Expanded`] set, within
    /// the per-calendar caps: at most [`MAX_OCCURRENCES_PER_CALENDAR`] occurrences and
    /// [`MAX_STEPS_PER_CALENDAR`] recurrence steps. Single events are expanded before recurring
    /// ones, so a runaway rule cannot crowd them out; when a cap is hit, expansion stops there
    /// (later recurring events in the file are missing) and a warning says so. `floating` is as
    /// for [`Calendar::busy`]. Does not touch [`Calendar::expansion_warnings`]: the caller keeps
    /// the warnings of its latest index.
    pub fn index(&self, floating: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Expanded {
        let mut budget = Budget::per_calendar();
        let (occs, warnings) = self.expand_budgeted(floating, from, to, &mut budget);
        let mut b = rota_core::timeoff::AbsenceSetBuilder::new();
        for o in &occs {
            if o.end > o.start && o.start < to && o.end > from {
                b.push(o.start, o.end, &self.events[o.event].summary);
            }
        }
        Expanded {
            occurrences: b.len(),
            set: b.build(),
            capped: budget.exhausted,
            warnings,
        }
    }

    /// For holiday calendars: the civil dates in `[from, to]` covered by events, with the
    /// summary of the first event (by start) on each date. All-day events cover their dates;
    /// timed events cover the dates they touch in `floating` (a zero-length one its start date).
    /// Sorted by date, one entry per date.
    pub fn dates(&self, floating: Tz, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, String)> {
        if from > to {
            return Vec::new();
        }
        // A window wide enough for any zone's offset on either side.
        let lo = from
            .checked_sub_days(chrono::Days::new(2))
            .unwrap_or(from)
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc());
        let hi = to
            .checked_add_days(chrono::Days::new(3))
            .unwrap_or(to)
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc());
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Vec::new();
        };
        let mut occs = self.expand(floating, lo, hi);
        occs.sort_by_key(|o| (o.start, o.end, o.event));
        let mut out: Vec<(NaiveDate, String)> = Vec::new();
        let mut seen = HashSet::new();
        for o in occs {
            let first = o.start.with_timezone(&floating).date_naive();
            let last = if o.end > o.start {
                (o.end - TimeDelta::seconds(1))
                    .with_timezone(&floating)
                    .date_naive()
            } else {
                first
            };
            let mut d = first.max(from);
            while d <= last && d <= to {
                if seen.insert(d) {
                    out.push((d, self.events[o.event].summary.clone()));
                }
                match d.succ_opt() {
                    Some(next) => d = next,
                    None => break,
                }
            }
        }
        out.sort_by_key(|(d, _)| *d);
        out
    }

    /// Every occurrence of every event that may overlap `[from, to)` (zero-length ones too),
    /// unsorted, within a fresh per-calendar budget. Records expansion warnings.
    fn expand(&self, floating: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occ> {
        let (out, warnings) = self.expand_budgeted(floating, from, to, &mut Budget::per_calendar());
        if !warnings.is_empty() {
            let mut kept = self
                .expansion_warnings
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for w in warnings {
                if kept.len() >= MAX_EXPANSION_WARNINGS {
                    break;
                }
                if !kept.contains(&w) {
                    kept.push(w);
                }
            }
        }
        out
    }

    /// [`Calendar::expand`] spending `budget`, returning its warnings. Events without a rule
    /// (and overridden instances) come first: each costs one step, and they must not be crowded
    /// out by a runaway rule earlier in the file.
    fn expand_budgeted(
        &self,
        floating: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        budget: &mut Budget,
    ) -> (Vec<Occ>, Vec<String>) {
        let mut out = Vec::new();
        let mut warnings = Vec::new();
        if from >= to {
            return (out, warnings);
        }
        let ctx = Ctx {
            floating: self.wr_timezone.unwrap_or(floating),
            dates: floating,
        };
        // RECURRENCE-IDs by UID, so masters can leave those occurrences out.
        let mut overrides: HashMap<&str, Vec<Time>> = HashMap::new();
        for e in &self.events {
            if let Some(rid) = e.recurrence_id {
                overrides.entry(e.uid.as_str()).or_default().push(rid);
            }
        }
        let singles = self
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.rule.is_none() || e.recurrence_id.is_some());
        let rules = self
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.rule.is_some() && e.recurrence_id.is_none());
        for (i, e) in singles.chain(rules) {
            if budget.exhausted {
                warnings.push(format!(
                    "stopped expanding at the per-calendar cap ({MAX_OCCURRENCES_PER_CALENDAR} \
                     occurrences or {MAX_STEPS_PER_CALENDAR} recurrence steps) up to {}; the \
                     occurrences after that point are missing",
                    to.format("%Y-%m-%d")
                ));
                break;
            }
            let no_overrides = Vec::new();
            let replaced = if e.recurrence_id.is_some() {
                &no_overrides
            } else {
                overrides.get(e.uid.as_str()).unwrap_or(&no_overrides)
            };
            let result = catch_unwind(AssertUnwindSafe(|| {
                let mut occs = Vec::new();
                let warning = expand_event(e, i, replaced, ctx, from, to, &mut occs, budget);
                (occs, warning)
            }));
            match result {
                Ok((occs, warning)) => {
                    budget.occurrences = budget.occurrences.saturating_sub(occs.len());
                    if budget.occurrences == 0 {
                        budget.exhausted = true;
                    }
                    out.extend(occs);
                    warnings.extend(warning);
                }
                Err(_) => warnings.push(format!(
                    "{}: expanding its recurrence failed inside the rrule crate; event skipped",
                    e.label
                )),
            }
        }
        if budget.exhausted
            && !warnings
                .iter()
                .any(|w| w.starts_with("stopped expanding at"))
        {
            warnings.push(format!(
                "stopped expanding at the per-calendar cap ({MAX_OCCURRENCES_PER_CALENDAR} \
                 occurrences or {MAX_STEPS_PER_CALENDAR} recurrence steps) up to {}; the \
                 occurrences after that point are missing",
                to.format("%Y-%m-%d")
            ));
        }
        (out, warnings)
    }
}

/// How an occurrence's end follows from its start, for one query.
#[derive(Clone, Copy)]
enum EndRule {
    /// Same wall-clock length in the event's zone (DTEND in the same zone, all-day days).
    Civil(TimeDelta),
    /// Calendar days in the zone, then exact seconds (DURATION).
    Nominal(Duration),
    /// Exact seconds (DTEND in another zone).
    Exact(TimeDelta),
}

/// Expands one event into `out`, spending `budget`'s steps (and stopping when `out` reaches its
/// occurrences); returns a warning if the per-event cap stopped it.
#[allow(clippy::too_many_arguments)]
fn expand_event(
    e: &Event,
    index: usize,
    replaced: &[Time],
    ctx: Ctx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    out: &mut Vec<Occ>,
    budget: &mut Budget,
) -> Option<String> {
    let room = budget.occurrences;
    if e.cancelled {
        return None;
    }
    let tz = ctx.tz(e.start.zone);
    let all_day = e.start.zone == Zone::Date;
    let end_rule = match e.end {
        EndSpec::Default if all_day => EndRule::Civil(TimeDelta::days(1)),
        EndSpec::Default => EndRule::Exact(TimeDelta::zero()),
        EndSpec::Duration(d) => EndRule::Nominal(d),
        EndSpec::At(end) if end.zone == e.start.zone => EndRule::Civil(end.civil - e.start.civil),
        EndSpec::At(end) => match (ctx.instant(&e.start), ctx.instant(&end)) {
            (Some(s), Some(t)) if t >= s => EndRule::Exact(t - s),
            _ => return None,
        },
    };
    let end_of = |civil: NaiveDateTime, start: DateTime<Utc>| -> Option<DateTime<Utc>> {
        match end_rule {
            EndRule::Civil(d) => resolve(tz, civil.checked_add_signed(d)?).map(|r| r.instant),
            EndRule::Nominal(d) => {
                let day = civil.checked_add_signed(TimeDelta::try_days(d.days)?)?;
                let base = resolve(tz, day)?.instant;
                base.checked_add_signed(TimeDelta::try_seconds(d.secs)?)
            }
            EndRule::Exact(d) => start.checked_add_signed(d),
        }
    };

    // Occurrences are identified by their start instant, or by their date for all-day events.
    let mut skip_instants = HashSet::new();
    let mut skip_dates = HashSet::new();
    for t in e.exdates.iter().chain(replaced) {
        if all_day || t.zone == Zone::Date {
            let date = match t.zone {
                Zone::Utc => t.civil.and_utc().with_timezone(&tz).date_naive(),
                _ => t.civil.date(),
            };
            skip_dates.insert(date);
        } else if let Some(i) = ctx.instant(t) {
            skip_instants.insert(i);
        }
    }
    // Returns whether an occurrence was kept.
    let mut emit = |civil: NaiveDateTime| -> bool {
        if skip_dates.contains(&civil.date()) {
            return false;
        }
        let Some(start) = resolve(tz, civil).map(|r| r.instant) else {
            return false;
        };
        if skip_instants.contains(&start) {
            return false;
        }
        let Some(end) = end_of(civil, start) else {
            return false;
        };
        if end < start {
            return false;
        }
        if (end > from && start < to) || (end == start && start >= from && start < to) {
            out.push(Occ {
                start,
                end,
                event: index,
            });
            return true;
        }
        false
    };

    // DTSTART and RDATEs, as wall-clock times in the event's zone.
    let mut extra: Vec<NaiveDateTime> = vec![e.start.civil];
    if e.recurrence_id.is_none() {
        for r in &e.rdates {
            let civil = if all_day {
                Some(r.civil.date().and_time(chrono::NaiveTime::MIN))
            } else if r.zone == e.start.zone {
                Some(r.civil)
            } else {
                ctx.instant(r).map(|i| i.with_timezone(&tz).naive_local())
            };
            extra.extend(civil);
        }
    }
    extra.sort_unstable();
    extra.dedup();
    let mut kept = 0usize;
    for &civil in &extra {
        if budget.steps == 0 || kept >= room {
            budget.exhausted = true;
            return None;
        }
        budget.steps -= 1;
        kept += usize::from(emit(civil));
    }

    let rule = match (&e.rule, e.recurrence_id) {
        (Some(rule), None) => rule,
        _ => return None,
    };
    let extra: HashSet<NaiveDateTime> = extra.into_iter().collect();
    let utc = rrule::Tz::UTC;
    let mut rrule = rule.rule.clone();
    if let Some(until) = rule.until {
        let civil = match until.zone {
            Zone::Date if !all_day => until.civil.date().and_hms_opt(23, 59, 59)?,
            Zone::Utc => until.civil.and_utc().with_timezone(&tz).naive_local(),
            _ => until.civil,
        };
        rrule = rrule.until(civil.and_utc().with_timezone(&utc));
    }
    // An UNTIL before DTSTART (or another rule the crate rejects) leaves just DTSTART and RDATEs.
    let set = rrule
        .build(e.start.civil.and_utc().with_timezone(&utc))
        .ok()?;
    // Wall-clock times after this are past `to` whatever the zone's offset or gaps.
    let stop = to
        .naive_utc()
        .checked_add_signed(TimeDelta::days(2))
        .unwrap_or(NaiveDateTime::MAX);
    for (n, occ) in (&set).into_iter().enumerate() {
        if budget.steps == 0 || kept >= room {
            budget.exhausted = true;
            return None;
        }
        budget.steps -= 1;
        if n >= MAX_OCCURRENCES {
            return Some(format!(
                "{}: stopped expanding after {MAX_OCCURRENCES} occurrences, before {}; later \
                 occurrences are missing from this query",
                e.label,
                to.format("%Y-%m-%d")
            ));
        }
        let civil = occ.naive_utc();
        if civil > stop {
            break;
        }
        if !extra.contains(&civil) {
            kept += usize::from(emit(civil));
        }
    }
    None
}

/// VTIMEZONE TZIDs that only make sense through their `X-LIC-LOCATION`.
struct ZoneMap {
    lic_locations: HashMap<String, Tz>,
    /// TZIDs seen that are none of the known forms; their times are read as floating.
    unknown: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl ZoneMap {
    fn new(cal: &IcalCalendar) -> ZoneMap {
        let mut lic_locations = HashMap::new();
        for vtz in &cal.timezones {
            let tzid = prop(&vtz.properties, "TZID").and_then(|p| p.value.as_deref());
            let loc = prop(&vtz.properties, "X-LIC-LOCATION").and_then(|p| p.value.as_deref());
            if let (Some(tzid), Some(loc)) = (tzid, loc)
                && let Some(tz) = resolve_tzid(loc)
            {
                lic_locations.insert(tzid.trim().to_string(), tz);
            }
        }
        ZoneMap {
            lic_locations,
            unknown: Default::default(),
        }
    }

    fn get(&self, tzid: &str) -> Option<Tz> {
        resolve_tzid(tzid).or_else(|| self.lic_locations.get(tzid.trim()).copied())
    }
}

/// The first property called `name` (names compared without regard to ASCII case: the ical
/// crate keeps them as written).
fn prop<'a>(props: &'a [Property], name: &str) -> Option<&'a Property> {
    props.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

fn props<'a>(props: &'a [Property], name: &'a str) -> impl Iterator<Item = &'a Property> + 'a {
    props
        .iter()
        .filter(move |p| p.name.eq_ignore_ascii_case(name))
}

fn param<'a>(p: &'a Property, name: &str) -> Option<&'a str> {
    p.params
        .as_ref()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(|s| s.as_str())
}

/// `event "Summary" (UID abc)`, for warnings.
fn label(ev: &IcalEvent) -> String {
    let summary = prop(&ev.properties, "SUMMARY")
        .and_then(|p| p.value.as_deref())
        .map(unescape);
    let uid = prop(&ev.properties, "UID").and_then(|p| p.value.as_deref());
    let mut s = String::from("event");
    if let Some(summary) = summary {
        s.push_str(&format!(" {summary:?}"));
    }
    match uid {
        Some(uid) => s.push_str(&format!(" (UID {uid})")),
        None => s.push_str(" (no UID)"),
    }
    s
}

/// Reads one VEVENT; the error says why it is skipped.
fn read_event(ev: &IcalEvent, zones: &ZoneMap) -> Result<Event, String> {
    let p = &ev.properties;
    let summary = prop(p, "SUMMARY")
        .and_then(|p| p.value.as_deref())
        .map(unescape)
        .unwrap_or_else(|| "Busy".to_string());
    let uid = prop(p, "UID")
        .and_then(|p| p.value.clone())
        .unwrap_or_default();
    let cancelled = prop(p, "STATUS")
        .and_then(|p| p.value.as_deref())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("CANCELLED"));

    let dtstart = prop(p, "DTSTART").ok_or("it has no DTSTART")?;
    let start = read_time(dtstart, zones, None, "DTSTART")?;
    let start_zone = match start.zone {
        Zone::Named(_) => Some(start.zone),
        _ => None,
    };

    let end = match (prop(p, "DTEND"), prop(p, "DURATION")) {
        (Some(dtend), _) => {
            let mut end = read_time(dtend, zones, start_zone, "DTEND")?;
            if start.zone == Zone::Date && end.zone == Zone::Date && end.civil == start.civil {
                // Some exporters write DTEND = DTSTART for a one-day event.
                end.civil += TimeDelta::days(1);
            }
            if end.zone == start.zone && end.civil < start.civil {
                return Err(format!(
                    "its end {} is before its start {}",
                    value(dtend),
                    value(dtstart)
                ));
            }
            EndSpec::At(end)
        }
        (None, Some(dur)) => {
            let text = value(dur);
            let d = parse_duration(text)
                .ok_or_else(|| format!("invalid DURATION {text:?}: expected e.g. PT1H, P1D"))?;
            if d.days < 0 || d.secs < 0 {
                return Err(format!("its DURATION {text:?} is negative"));
            }
            EndSpec::Duration(d)
        }
        (None, None) => EndSpec::Default,
    };

    let recurrence_id = match prop(p, "RECURRENCE-ID") {
        Some(r) => Some(read_time(r, zones, start_zone, "RECURRENCE-ID")?),
        None => None,
    };

    let mut rules = props(p, "RRULE");
    let rule = match rules.next() {
        Some(r) => Some(read_rule(value(r), &start)?),
        None => None,
    };
    let _ = rules; // RFC 5545 deprecates several RRULEs; the first is used (module doc).

    let mut rdates = Vec::new();
    for r in props(p, "RDATE") {
        rdates.extend(read_times(r, zones, start_zone, "RDATE")?);
    }
    let mut exdates = Vec::new();
    for r in props(p, "EXDATE") {
        exdates.extend(read_times(r, zones, start_zone, "EXDATE")?);
    }

    let label = label(ev);
    Ok(Event {
        uid,
        label,
        summary,
        start,
        end,
        cancelled,
        rule,
        rdates,
        exdates,
        recurrence_id,
    })
}

fn value(p: &Property) -> &str {
    p.value.as_deref().unwrap_or("").trim()
}

/// Reads a single DATE or DATE-TIME property value.
fn read_time(
    p: &Property,
    zones: &ZoneMap,
    default_zone: Option<Zone>,
    what: &str,
) -> Result<Time, String> {
    let text = value(p);
    let is_date = param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    parse_time(text, is_date, param(p, "TZID"), zones, default_zone)
        .map_err(|e| format!("{what} {text:?}: {e}"))
}

/// Reads a comma-separated list of DATE or DATE-TIME values (RDATE, EXDATE).
fn read_times(
    p: &Property,
    zones: &ZoneMap,
    default_zone: Option<Zone>,
    what: &str,
) -> Result<Vec<Time>, String> {
    let is_date = param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    let tzid = param(p, "TZID");
    let mut out = Vec::new();
    for item in value(p).split(',').map(str::trim).filter(|s| !s.is_empty()) {
        // VALUE=PERIOD: the start is what identifies the occurrence (module doc, Limits).
        let item = item.split('/').next().unwrap_or(item);
        out.push(
            parse_time(item, is_date, tzid, zones, default_zone)
                .map_err(|e| format!("{what} {item:?}: {e}"))?,
        );
    }
    Ok(out)
}

fn parse_time(
    text: &str,
    is_date: bool,
    tzid: Option<&str>,
    zones: &ZoneMap,
    default_zone: Option<Zone>,
) -> Result<Time, String> {
    let bad = || "expected a date (20261224) or date-time (20261224T090000, with Z for UTC)";
    let ascii_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let time = if is_date || (text.len() == 8 && ascii_digits(text)) {
        if !(text.len() == 8 && ascii_digits(text)) {
            return Err(bad().into());
        }
        let d = NaiveDate::parse_from_str(text, "%Y%m%d").map_err(|_| bad())?;
        Time {
            civil: d.and_time(chrono::NaiveTime::MIN),
            zone: Zone::Date,
        }
    } else {
        let (body, utc) = match text.strip_suffix(['Z', 'z']) {
            Some(b) => (b, true),
            None => (text, false),
        };
        let ok_shape = body.len() == 15
            && body
                .as_bytes()
                .get(8)
                .is_some_and(|b| b.eq_ignore_ascii_case(&b'T'))
            && ascii_digits(&body[..8])
            && ascii_digits(&body[9..]);
        if !ok_shape {
            return Err(bad().into());
        }
        let civil = NaiveDateTime::parse_from_str(&body.replace('t', "T"), "%Y%m%dT%H%M%S")
            .map_err(|_| bad())?;
        let zone = if utc {
            Zone::Utc
        } else if let Some(tzid) = tzid {
            match zones.get(tzid) {
                Some(tz) => Zone::Named(tz),
                // Outlook's "Customized Time Zone" and the like: the nearest honest reading is
                // the person's own clock (or X-WR-TIMEZONE); `parse` says so in a warning.
                None => {
                    zones.unknown.borrow_mut().insert(tzid.trim().to_string());
                    default_zone.unwrap_or(Zone::Floating)
                }
            }
        } else {
            default_zone.unwrap_or(Zone::Floating)
        };
        Time { civil, zone }
    };
    // rota works in years 1 to 9999 (rota_core::tz), and the rrule crate only within ±10000.
    let year = chrono::Datelike::year(&time.civil);
    if !(1..=9999).contains(&year) {
        return Err("the year must be between 1 and 9999".into());
    }
    Ok(time)
}

/// Reads an RRULE value: checks it is ASCII, takes out UNTIL, and validates the rest against
/// DTSTART so a bad rule is a warning at parse time rather than a surprise later.
fn read_rule(text: &str, start: &Time) -> Result<Rule, String> {
    // rrule 0.14 slices weekday names by bytes and panics on text that is not ASCII (a BYDAY
    // of "T\u{fffd}H"); an RFC 5545 rule is plain ASCII anyway.
    if !text.is_ascii() {
        return Err(format!("RRULE {text:?} is not plain ASCII"));
    }
    let mut until = None;
    let mut rest = Vec::new();
    for part in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, val) = part.split_once('=').unwrap_or((part, ""));
        if key.eq_ignore_ascii_case("UNTIL") {
            let is_date = val.len() == 8;
            until = Some(
                parse_time(val, is_date, None, &ZoneMap::empty(), None)
                    .map_err(|e| format!("RRULE {text:?}: UNTIL {val:?}: {e}"))?,
            );
        } else {
            rest.push(part);
        }
    }
    let rule: rrule::RRule<rrule::Unvalidated> = rest
        .join(";")
        .parse()
        .map_err(|e| format!("invalid RRULE {text:?}: {e}"))?;
    rule.clone()
        .validate(start.civil.and_utc().with_timezone(&rrule::Tz::UTC))
        .map_err(|e| format!("invalid RRULE {text:?}: {e}"))?;
    Ok(Rule { rule, until })
}

impl ZoneMap {
    fn empty() -> ZoneMap {
        ZoneMap {
            lic_locations: HashMap::new(),
            unknown: Default::default(),
        }
    }
}

/// Parses an RFC 5545 DURATION: `[+-]P[nW]` or `[+-]P[nD][T[nH][nM][nS]]`. Weeks are read as 7
/// calendar days; a lone `P` or a `T` with nothing after it is invalid.
fn parse_duration(text: &str) -> Option<Duration> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let (date_part, time_part) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut days: i64 = 0;
    let mut secs: i64 = 0;
    let mut any = false;
    let mut num = String::new();
    for c in date_part.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        let d = match c.to_ascii_uppercase() {
            'W' => n.checked_mul(7)?,
            'D' => n,
            _ => return None,
        };
        days = days.checked_add(d)?;
        any = true;
    }
    if !num.is_empty() {
        return None;
    }
    if let Some(time_part) = time_part {
        if time_part.is_empty() {
            return None;
        }
        for c in time_part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: i64 = num.parse().ok()?;
            num.clear();
            let s = match c.to_ascii_uppercase() {
                'H' => n.checked_mul(3600)?,
                'M' => n.checked_mul(60)?,
                'S' => n,
                _ => return None,
            };
            secs = secs.checked_add(s)?;
            any = true;
        }
        if !num.is_empty() {
            return None;
        }
    }
    // Longer than the years 1 to 9999 can hold is an error, and keeps the arithmetic in range.
    const LIMIT: i64 = 10_000 * 366;
    if !any || days > LIMIT || secs > LIMIT * 86_400 {
        return None;
    }
    Some(Duration {
        days: sign * days,
        secs: sign * secs,
    })
}

/// Undoes RFC 5545 TEXT escaping: `\\`, `\;`, `\,`, `\n`/`\N`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out.trim().to_string()
}

/// Turns an ical crate error into ours, with a line number: the crate gives one for malformed
/// content lines; for structural errors we find the line with a small scan of our own.
fn parse_error(text: &str, e: ical::parser::ParserError) -> Error {
    use ical::parser::ParserError as P;
    use ical::property::PropertyError as Q;
    let (line, message) = match e {
        P::PropertyError(q) => {
            let line = match q {
                Q::MissingName { line }
                | Q::MissingClosingQuote { line }
                | Q::MissingDelimiter { line, .. }
                | Q::MissingContentAfter { line, .. }
                | Q::MissingParamKey { line } => line,
            };
            // The crate's message starts with "Line N: "; we print the line ourselves.
            let msg = q.to_string();
            let msg = msg
                .split_once(": ")
                .map(|(_, m)| m.to_string())
                .unwrap_or(msg);
            (Some(line), format!("malformed content line: {msg}"))
        }
        P::MissingHeader => {
            let first = text.lines().enumerate().find(|(_, l)| !l.trim().is_empty());
            match first {
                Some((n, _)) => (
                    Some(n + 1),
                    "expected BEGIN:VCALENDAR (this is not an iCalendar file)".to_string(),
                ),
                None => (None, "expected BEGIN:VCALENDAR".into()),
            }
        }
        P::InvalidComponent | P::NotComplete => structure_problem(text),
    };
    Error::new(ErrorKind::Parse {
        origin: None,
        line,
        column: None,
        message,
    })
}

/// Component names an error may show: the ones rota knows, never arbitrary text from the file.
const KNOWN_COMPONENTS: &[&str] = &[
    "VCALENDAR",
    "VEVENT",
    "VTODO",
    "VJOURNAL",
    "VFREEBUSY",
    "VTIMEZONE",
    "VALARM",
    "STANDARD",
    "DAYLIGHT",
];

/// The 1-based column (in characters) of the first non-blank character of `line`.
fn column_of_first_char(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).count() + 1
}

/// Finds the first nesting problem: a component where it may not be, or one never closed.
fn structure_problem(text: &str) -> (Option<usize>, String) {
    let mut stack: Vec<(String, usize)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let Some((name, val)) = line.split_once(':') else {
            continue;
        };
        let val = val.trim().to_ascii_uppercase();
        if name.eq_ignore_ascii_case("BEGIN") {
            let parent = stack.last().map(|(p, _)| p.as_str());
            let allowed = match parent {
                None => val == "VCALENDAR",
                Some("VCALENDAR") => matches!(
                    val.as_str(),
                    "VEVENT" | "VTODO" | "VJOURNAL" | "VFREEBUSY" | "VTIMEZONE" | "VALARM"
                ),
                Some("VEVENT" | "VTODO") => val == "VALARM",
                Some("VTIMEZONE") => matches!(val.as_str(), "STANDARD" | "DAYLIGHT"),
                Some(_) => false,
            };
            if !allowed {
                // `parent` was allowed, so it is one of the known names; `val` may be anything,
                // and is named only when it is one of those too (errors never quote the file).
                let inside = parent.map(|p| format!(" inside {p}")).unwrap_or_default();
                let what = if KNOWN_COMPONENTS.contains(&val.as_str()) {
                    format!("BEGIN:{val}")
                } else {
                    "an unknown BEGIN: component".to_string()
                };
                return (Some(n + 1), format!("unexpected component {what}{inside}"));
            }
            stack.push((val, n + 1));
        } else if name.eq_ignore_ascii_case("END") {
            stack.pop();
        }
    }
    match stack.last() {
        Some((name, line)) => (
            Some(*line),
            format!("BEGIN:{name} is never closed (the text ends before END:{name})"),
        ),
        None => (None, "unbalanced BEGIN/END lines".into()),
    }
}

impl FromStr for Calendar {
    type Err = Error;

    fn from_str(s: &str) -> Result<Calendar, Error> {
        parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |s: &str| parse_duration(s).map(|d| (d.days, d.secs));
        assert_eq!(d("P1D"), Some((1, 0)));
        assert_eq!(d("PT8H30M"), Some((0, 8 * 3600 + 30 * 60)));
        assert_eq!(d("P2W"), Some((14, 0)));
        assert_eq!(d("P1DT12H"), Some((1, 12 * 3600)));
        assert_eq!(d("-PT15M"), Some((0, -900)));
        assert_eq!(d("+P1D"), Some((1, 0)));
        assert_eq!(d("PT0S"), Some((0, 0)));
        assert_eq!(d("P"), None);
        assert_eq!(d("PT"), None);
        assert_eq!(d("P1"), None);
        assert_eq!(d("P1H"), None, "hours need the T");
        assert_eq!(d("1D"), None);
        assert_eq!(d(""), None);
        assert_eq!(d("P99999999999999999999D"), None);
        assert_eq!(d("P9999999W"), None, "longer than 10,000 years");
        assert_eq!(d("P1DÄ"), None);
    }

    #[test]
    fn unescaping() {
        assert_eq!(
            unescape(r"Out\, back Monday\; ask Bob\\Alice\nthanks"),
            "Out, back Monday; ask Bob\\Alice\nthanks"
        );
        assert_eq!(unescape("trailing\\"), "trailing\\");
    }

    #[test]
    fn time_values() {
        let z = ZoneMap::empty();
        let t = |s: &str, tzid: Option<&str>| parse_time(s, false, tzid, &z, None);
        assert_eq!(t("20261224", None).unwrap().zone, Zone::Date);
        assert_eq!(t("20261224T090000Z", None).unwrap().zone, Zone::Utc);
        assert_eq!(t("20261224T090000", None).unwrap().zone, Zone::Floating);
        assert!(matches!(
            t("20261224T090000", Some("Europe/London")).unwrap().zone,
            Zone::Named(_)
        ));
        // An unknown TZID reads as floating and is remembered for the warning.
        assert_eq!(
            t("20261224T090000", Some("Mars/Olympus")).unwrap().zone,
            Zone::Floating
        );
        assert!(z.unknown.borrow().contains("Mars/Olympus"));
        assert!(t("2026-12-24", None).is_err());
        assert!(t("20261324T090000", None).is_err());
        assert!(t("00001224T090000", None).is_err());
        assert!(t("2026122ÄT09000", None).is_err());
        assert!(parse_time("20261224T090000", true, None, &z, None).is_err());
    }

    #[test]
    fn structure_problems_name_the_line() {
        let text =
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VTODO\nEND:VTODO\nEND:VEVENT\nEND:VCALENDAR\n";
        let (line, msg) = structure_problem(text);
        assert_eq!(line, Some(3));
        assert!(msg.contains("BEGIN:VTODO inside VEVENT"), "{msg}");
        let (line, msg) = structure_problem("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\n");
        assert_eq!(line, Some(2));
        assert!(msg.contains("never closed"), "{msg}");
    }
}
