//! A schedule's calendars: every person's absence sources and the holiday calendar, refreshed
//! together, and read as rota-core's [`TimeOff`] and [`Holidays`] for a window.
//!
//! [`Calendars`] owns the [`Source`]s (one per distinct location, however many people share it)
//! and does the I/O; [`Snapshot`] is what readers get: the absence index and the holiday dates
//! built from the last good copy of every calendar, cheap to clone (everything is behind `Arc`s),
//! so a refresh never blocks a request.
//!
//! # The absence index
//!
//! Each source is expanded **once when it is read** (at every refresh that brings a new copy,
//! and when the day changes), not per request: [`Calendar::index`] expands it over the index
//! window, within the per-calendar caps ([`crate::parse::MAX_OCCURRENCES_PER_CALENDAR`]
//! occurrences, [`crate::parse::MAX_STEPS_PER_CALENDAR`] recurrence steps; hitting one is a
//! warning in the source's status, which the service logs naming the source, redacted), and merges
//! the occurrences into one sorted set of disjoint stretches. A person's sources are merged into
//! one set ([`rota_core::timeoff::AbsenceSet`]), and the [`Snapshot`] hands that index to every
//! reader: conflicts, suggestions, the pages, the reminders; the report reads the holiday dates
//! expanded the same way. A lookup is then two binary searches, so a hostile calendar costs time
//! once per read, on the refresher's thread, and nothing per request.
//!
//! The window is [`INDEX_DAYS_BACK`] days before the UTC day of the read to [`INDEX_DAYS_AHEAD`]
//! days after it: it covers the report's default (91 days either side), a year-on-year report,
//! the conflicts' default (91 days ahead) and the longest range anyone asks for in practice (two
//! years ahead), the conflict emails' horizon (182 days) and the swap form's trade-backs (26
//! weeks). Outside it nobody's absences or holidays are known: a shift there counts as free.
//! [`Snapshot::window`] says what is covered, so callers can say so ([`Snapshot::covers`]).
//!
//! Memory per source: its parsed copy (bounded by the 10 MiB read limit) and its index, at most
//! [`crate::parse::MAX_OCCURRENCES_PER_CALENDAR`] stretches of 24 bytes (about 480 KB) plus its
//! distinct summaries (each at most 100 characters). A person with several sources has one more
//! merged copy of theirs.
//!
//! # Which clock floating times use
//!
//! An absence calendar's floating times and all-day dates are read on the person's wall clock
//! (their `timezone`), or, if they have none, on the zone of the first rotation they are a member
//! of, else UTC. A calendar's own `X-WR-TIMEZONE` wins over both (see `parse`). Holiday dates are
//! dates: they are compared with each person's wall clock by rota-core's report.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rota_core::Schedule;
use rota_core::timeoff::{AbsenceSet, Holidays, TimeOff};

use crate::parse::Calendar;
use crate::source::{Fetcher, Location, Source, Status};

/// One person's absence sources and the zone their floating times are read in.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Person {
    id: String,
    zone: Tz,
    sources: Vec<String>,
}

/// How many days before the day a calendar is read its index reaches.
pub const INDEX_DAYS_BACK: i64 = 400;
/// How many days after the day a calendar is read its index reaches.
pub const INDEX_DAYS_AHEAD: i64 = 800;

/// The index window for a read at `now`: [`INDEX_DAYS_BACK`] days before the start of `now`'s UTC
/// day to [`INDEX_DAYS_AHEAD`] days after it. Anchored on the day, so the reads of one day share
/// it and an unchanged calendar is expanded again only when the day changes.
pub fn index_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |t| t.and_utc());
    let from = day
        .checked_sub_signed(Duration::days(INDEX_DAYS_BACK))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let to = day
        .checked_add_signed(Duration::days(INDEX_DAYS_AHEAD))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    (from, to)
}

/// One source expanded for one zone: kept while the calendar and the window stay the same.
#[derive(Debug)]
struct Indexed {
    calendar: Arc<Calendar>,
    window: (DateTime<Utc>, DateTime<Utc>),
    set: Arc<AbsenceSet>,
    capped: bool,
    warnings: Vec<String>,
}

/// The holiday calendar's dates over the window.
#[derive(Debug)]
struct HolidayIndex {
    calendar: Arc<Calendar>,
    window: (DateTime<Utc>, DateTime<Utc>),
    dates: Arc<Holidays>,
}

/// The sources of one schedule. Keyed by the location as written in the schedule files.
#[derive(Debug)]
pub struct Calendars {
    base: PathBuf,
    people: Vec<Person>,
    holidays: Option<String>,
    sources: BTreeMap<String, Source>,
    /// Location strings that could not be parsed: (as written, error).
    invalid: Vec<(String, String)>,
    /// Each absence source expanded, by (location as written, zone of its floating times).
    indexes: HashMap<(String, Tz), Indexed>,
    holiday_index: Option<HolidayIndex>,
    /// The window of the latest indexing, once a refresh has run.
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The calendars as last read: what request handlers and the notifier use. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    time_off: TimeOff,
    holidays: Option<Arc<Holidays>>,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Each source's status, with the people who use it (the holiday calendar has none).
    pub statuses: Vec<(Status, Vec<String>)>,
}

fn zone_of(s: &Schedule, p: &rota_core::Person) -> Tz {
    p.timezone
        .or_else(|| {
            s.rotations()
                .iter()
                .find(|r| r.members.contains(&p.id))
                .map(|r| r.timezone)
        })
        .unwrap_or(Tz::UTC)
}

impl Calendars {
    /// The sources `schedule` names, with relative paths read from `base` (the schedules
    /// directory). Nothing is read until [`Calendars::refresh`].
    pub fn new(schedule: &Schedule, base: &Path) -> Calendars {
        let mut c = Calendars {
            base: base.to_path_buf(),
            people: Vec::new(),
            holidays: None,
            sources: BTreeMap::new(),
            invalid: Vec::new(),
            indexes: HashMap::new(),
            holiday_index: None,
            window: None,
        };
        c.retarget(schedule);
        c
    }

    /// Follows a reloaded schedule: sources still named keep their last good copy; new ones are
    /// read at the next refresh; sources no longer named are dropped. Returns whether any source
    /// is new (the caller then refreshes at once).
    pub fn retarget(&mut self, schedule: &Schedule) -> bool {
        self.people = schedule
            .people()
            .iter()
            .filter(|p| !p.absence.is_empty())
            .map(|p| Person {
                id: p.id.clone(),
                zone: zone_of(schedule, p),
                sources: p.absence.clone(),
            })
            .collect();
        self.holidays = schedule.holidays().map(str::to_string);
        let wanted: Vec<String> = self
            .people
            .iter()
            .flat_map(|p| p.sources.iter().cloned())
            .chain(self.holidays.clone())
            .collect();
        self.sources.retain(|k, _| wanted.contains(k));
        self.invalid.clear();
        let mut added = false;
        for w in wanted {
            if self.sources.contains_key(&w) || self.invalid.iter().any(|(k, _)| *k == w) {
                continue;
            }
            match Location::parse(&w, &self.base) {
                Ok(loc) => {
                    self.sources.insert(w, Source::within(loc, &self.base));
                    added = true;
                }
                Err(e) => self.invalid.push((w, e.to_string())),
            }
        }
        added
    }

    /// Reads every file and fetches every URL (conditionally, with the last ETag). Failures keep
    /// the last good copy and show in the statuses.
    pub fn refresh(&mut self, fetcher: &Fetcher, now: DateTime<Utc>) {
        for s in self.sources.values_mut() {
            guarded(s, fetcher, now);
        }
        self.reindex(now);
    }

    /// Reads the file sources only: quick and local, for a service's start, where a slow or
    /// unreachable URL must not hold up serving (the refresher fetches URLs at once after).
    pub fn refresh_files(&mut self, fetcher: &Fetcher, now: DateTime<Utc>) {
        for s in self.sources.values_mut() {
            if matches!(s.location(), Location::File(_)) {
                guarded(s, fetcher, now);
            }
        }
        self.reindex(now);
    }

    /// Refreshes only the sources never read yet (after [`Calendars::retarget`]).
    pub fn refresh_new(&mut self, fetcher: &Fetcher, now: DateTime<Utc>) {
        for s in self.sources.values_mut() {
            if s.status().last_attempt.is_none() {
                guarded(s, fetcher, now);
            }
        }
        self.reindex(now);
    }

    /// Expands every source whose calendar or window changed since it was last expanded (once
    /// per read, and daily as the window moves), and drops the indexes of sources no longer
    /// used. Each expansion runs behind `catch_unwind` too: a panic leaves that source's index
    /// empty with a warning rather than stopping the refresher.
    fn reindex(&mut self, now: DateTime<Utc>) {
        let window = index_window(now);
        self.window = Some(window);
        let mut wanted: HashMap<(String, Tz), ()> = HashMap::new();
        for p in &self.people {
            for k in &p.sources {
                wanted.insert((k.clone(), p.zone), ());
            }
        }
        self.indexes.retain(|k, _| wanted.contains_key(k));
        for (key, zone) in wanted.into_keys() {
            let Some(cal) = self.sources.get(&key).and_then(|s| s.calendar().cloned()) else {
                self.indexes.remove(&(key, zone));
                continue;
            };
            let current = self
                .indexes
                .get(&(key.clone(), zone))
                .is_some_and(|i| Arc::ptr_eq(&i.calendar, &cal) && i.window == window);
            if current {
                continue;
            }
            let expanded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                cal.index(zone, window.0, window.1)
            }))
            .unwrap_or_else(|_| crate::parse::Expanded {
                warnings: vec![
                    "expanding the calendar failed unexpectedly (an internal error); its \
                     absences are not known"
                        .into(),
                ],
                ..Default::default()
            });
            self.indexes.insert(
                (key, zone),
                Indexed {
                    calendar: cal,
                    window,
                    set: Arc::new(expanded.set),
                    capped: expanded.capped,
                    warnings: expanded.warnings,
                },
            );
        }
        let holidays = self
            .holidays
            .as_deref()
            .and_then(|k| self.sources.get(k))
            .and_then(|s| s.calendar().cloned());
        self.holiday_index = holidays.map(|cal| match self.holiday_index.take() {
            Some(h) if Arc::ptr_eq(&h.calendar, &cal) && h.window == window => h,
            _ => {
                let mut dates = Holidays::new();
                let days = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    cal.dates(Tz::UTC, window.0.date_naive(), window.1.date_naive())
                }))
                .unwrap_or_default();
                for (d, name) in days {
                    dates.add(d, &name);
                }
                HolidayIndex {
                    calendar: cal,
                    window,
                    dates: Arc::new(dates),
                }
            }
        });
    }

    /// How many sources there are.
    pub fn len(&self) -> usize {
        self.sources.len() + self.invalid.len()
    }

    /// Whether the schedule names no calendar.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The calendars as they are now: the index built at the latest refresh.
    pub fn snapshot(&self) -> Snapshot {
        let mut time_off = TimeOff::new();
        for p in &self.people {
            let sets: Vec<&Arc<AbsenceSet>> = p
                .sources
                .iter()
                .filter_map(|k| self.indexes.get(&(k.clone(), p.zone)))
                .map(|i| &i.set)
                .collect();
            match sets.as_slice() {
                [] => {}
                // One source (the usual case): shared, not copied.
                [one] => time_off.set(&p.id, Arc::clone(one)),
                many => time_off.set(
                    &p.id,
                    Arc::new(AbsenceSet::union(many.iter().map(|s| s.as_ref()))),
                ),
            }
        }
        // A source's expansion warnings, over the zones it is read in, once each.
        let index_warnings = |k: &str| -> (bool, Vec<String>) {
            let mut capped = false;
            let mut out: Vec<String> = Vec::new();
            for ((key, _), i) in &self.indexes {
                if key == k {
                    capped |= i.capped;
                    for w in &i.warnings {
                        if !out.contains(w) {
                            out.push(w.clone());
                        }
                    }
                }
            }
            (capped, out)
        };
        let users = |k: &str| -> Vec<String> {
            self.people
                .iter()
                .filter(|p| p.sources.iter().any(|s| s == k))
                .map(|p| p.id.clone())
                .collect()
        };
        let mut statuses: Vec<(Status, Vec<String>)> = self
            .sources
            .iter()
            .map(|(k, s)| {
                let mut status = s.status();
                let (capped, warnings) = index_warnings(k);
                status.capped = capped;
                for w in warnings {
                    if !status.warnings.contains(&w) {
                        status.warnings.push(w);
                    }
                }
                (status, users(k))
            })
            .collect();
        for (k, e) in &self.invalid {
            statuses.push((
                Status {
                    location: redact(k),
                    ok: false,
                    last_success: None,
                    last_attempt: None,
                    last_error: Some(e.clone()),
                    events: 0,
                    warnings: Vec::new(),
                    capped: false,
                },
                users(k),
            ));
        }
        Snapshot {
            time_off,
            holidays: self.holiday_index.as_ref().map(|h| Arc::clone(&h.dates)),
            window: self.window,
            statuses,
        }
    }
}

impl Snapshot {
    /// Everyone's absences: the whole index, shared (no copy, no expansion).
    pub fn time_off(&self) -> TimeOff {
        self.time_off.clone()
    }

    /// One person's absences (shared, not copied). The index covers [`Snapshot::window`];
    /// `_from` and `_to` are not needed for the lookup and are kept for callers.
    pub fn time_off_of(&self, person: &str, _from: DateTime<Utc>, _to: DateTime<Utc>) -> TimeOff {
        self.time_off.only(person)
    }

    /// The absences needed to judge conflicts of a schedule in `[from, to)` and suggestions with
    /// trade-backs up to `until`: the whole index, which covers [`Snapshot::window`] (check with
    /// [`Snapshot::covers`]). Costs an `Arc` clone, whatever the calendars hold; the parameters
    /// are kept for callers that still pass them.
    pub fn time_off_for(
        &self,
        _schedule: &Schedule,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
        _until: DateTime<Utc>,
    ) -> TimeOff {
        self.time_off.clone()
    }

    /// The span the absence index and the holiday dates cover, once calendars have been read:
    /// see the module documentation. Outside it, nobody is known to be away.
    pub fn window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.window
    }

    /// Whether the index covers all of `[from, to)` (true when no calendar has been read yet
    /// either: then nothing is known anywhere, which [`Snapshot::healthy`] reports).
    pub fn covers(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.window.is_none_or(|(a, b)| a <= from && to <= b)
    }

    /// The public holidays on the dates `[from, to)` touches (a day either side, so every wall
    /// clock's dates are covered).
    pub fn holidays(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Holidays {
        let mut h = Holidays::new();
        if let Some(all) = &self.holidays {
            let day = Duration::days(1);
            let a: NaiveDate = from.checked_sub_signed(day).unwrap_or(from).date_naive();
            let b: NaiveDate = to.checked_add_signed(day).unwrap_or(to).date_naive();
            // `dates` was inclusive of its last day.
            let b = b.succ_opt().unwrap_or(b);
            for (d, name) in all.between(a, b) {
                h.add(d, name);
            }
        }
        h
    }

    /// Whether every source was read successfully the last time it was tried. A source not tried
    /// yet (just after start) is not: until it is read, conflicts may be missing.
    pub fn healthy(&self) -> bool {
        self.statuses.iter().all(|(s, _)| s.ok)
    }

    /// Whether a holiday calendar is configured and has been read.
    pub fn has_holidays(&self) -> bool {
        self.holidays.is_some()
    }
}

/// Refreshes one source; a panic anywhere below (the parsers are third-party code) is caught and
/// recorded as the source's error, so one bad calendar cannot stop the refresher thread and shows
/// in the status; the last good copy stays.
fn guarded(s: &mut Source, fetcher: &Fetcher, now: DateTime<Utc>) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.refresh(fetcher, now)));
    if r.is_err() {
        s.record_panic(now);
    }
}

/// `scheme://host/…` for anything that looks like a URL (it may carry a secret), else as is.
fn redact(s: &str) -> String {
    match s.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host);
            format!("{scheme}://{host}/…")
        }
        None => s.to_string(),
    }
}
