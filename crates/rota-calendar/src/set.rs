//! A schedule's calendars: every person's absence sources and the holiday calendar, refreshed
//! together, and read as rota-core's [`TimeOff`] and [`Holidays`] for a window.
//!
//! [`Calendars`] owns the [`Source`]s (one per distinct location, however many people share it)
//! and does the I/O; [`Snapshot`] is what readers get: the last good copy of every calendar, cheap
//! to clone (calendars are behind `Arc`s), so a refresh never blocks a request.
//!
//! # Which clock floating times use
//!
//! An absence calendar's floating times and all-day dates are read on the person's wall clock
//! (their `timezone`), or, if they have none, on the zone of the first rotation they are a member
//! of, else UTC. A calendar's own `X-WR-TIMEZONE` wins over both (see `parse`). Holiday dates are
//! dates: they are compared with each person's wall clock by rota-core's report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rota_core::Schedule;
use rota_core::timeoff::{Absence, Holidays, TimeOff};

use crate::parse::Calendar;
use crate::source::{Fetcher, Location, Source, Status};

/// One person's absence sources and the zone their floating times are read in.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Person {
    id: String,
    zone: Tz,
    sources: Vec<String>,
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
}

/// The calendars as last read: what request handlers and the notifier use.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    people: Vec<(String, Tz, Vec<Arc<Calendar>>)>,
    holidays: Option<Arc<Calendar>>,
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
                    self.sources.insert(w, Source::new(loc));
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
    }

    /// Reads the file sources only: quick and local, for a service's start, where a slow or
    /// unreachable URL must not hold up serving (the refresher fetches URLs at once after).
    pub fn refresh_files(&mut self, fetcher: &Fetcher, now: DateTime<Utc>) {
        for s in self.sources.values_mut() {
            if matches!(s.location(), Location::File(_)) {
                guarded(s, fetcher, now);
            }
        }
    }

    /// Refreshes only the sources never read yet (after [`Calendars::retarget`]).
    pub fn refresh_new(&mut self, fetcher: &Fetcher, now: DateTime<Utc>) {
        for s in self.sources.values_mut() {
            if s.status().last_attempt.is_none() {
                guarded(s, fetcher, now);
            }
        }
    }

    /// How many sources there are.
    pub fn len(&self) -> usize {
        self.sources.len() + self.invalid.len()
    }

    /// Whether the schedule names no calendar.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The calendars as they are now.
    pub fn snapshot(&self) -> Snapshot {
        let cal = |k: &str| self.sources.get(k).and_then(|s| s.calendar().cloned());
        let people = self
            .people
            .iter()
            .map(|p| {
                let cals = p.sources.iter().filter_map(|k| cal(k)).collect();
                (p.id.clone(), p.zone, cals)
            })
            .collect();
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
            .map(|(k, s)| (s.status(), users(k)))
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
                },
                users(k),
            ));
        }
        Snapshot {
            people,
            holidays: self.holidays.as_deref().and_then(cal),
            statuses,
        }
    }
}

impl Snapshot {
    /// Everyone's absences overlapping `[from, to)`.
    pub fn time_off(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeOff {
        self.expand(None, from, to)
    }

    /// One person's absences overlapping `[from, to)` (only their calendars are expanded).
    pub fn time_off_of(&self, person: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeOff {
        self.expand(Some(person), from, to)
    }

    fn expand(&self, only: Option<&str>, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeOff {
        let mut off = TimeOff::new();
        for (person, zone, cals) in &self.people {
            if only.is_some_and(|p| p != person) {
                continue;
            }
            for c in cals {
                for b in c.busy(*zone, from, to) {
                    off.add(
                        person,
                        Absence {
                            start: b.start,
                            end: b.end,
                            summary: b.summary,
                        },
                    );
                }
            }
        }
        off
    }

    /// The absences needed to judge conflicts of `schedule` in `[from, to)` and suggestions with
    /// trade-backs up to `until`: shifts overlapping the window may start before it and end after
    /// it, so their whole span is covered.
    pub fn time_off_for(
        &self,
        schedule: &Schedule,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> TimeOff {
        let shifts = schedule.all_shifts(from, to).unwrap_or_default();
        let a = shifts
            .iter()
            .map(|x| x.start)
            .min()
            .unwrap_or(from)
            .min(from);
        // A trade-back may start just before `until` and end after it: cover the shift on call
        // at `until` in every rotation too.
        let tail = schedule
            .on_call_all(until)
            .iter()
            .map(|x| x.end)
            .max()
            .unwrap_or(until)
            .max(until);
        let b = shifts
            .iter()
            .map(|x| x.end)
            .max()
            .unwrap_or(to)
            .max(to)
            .max(tail);
        self.time_off(a, b)
    }

    /// The public holidays on the dates `[from, to)` touches (a day either side, so every wall
    /// clock's dates are covered).
    pub fn holidays(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Holidays {
        let mut h = Holidays::new();
        if let Some(c) = &self.holidays {
            let day = Duration::days(1);
            let a: NaiveDate = from.checked_sub_signed(day).unwrap_or(from).date_naive();
            let b: NaiveDate = to.checked_add_signed(day).unwrap_or(to).date_naive();
            for (d, name) in c.dates(Tz::UTC, a, b) {
                h.add(d, &name);
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
