//! Time off and fairness: people's absences set against the resolved schedule.
//!
//! This module owns three questions, all answered from plain data (no calendars are read here:
//! whoever reads them, `rota-calendar`, fills a [`TimeOff`] and a [`Holidays`]):
//!
//! - **Conflicts** ([`Schedule::conflicts`]): a conflict is a resolved shift whose person is absent
//!   for any part of it. Every resolved shift counts, whatever its source: when the Support Hero is
//!   away, their hero shift and the secondary shift the link gives them are two conflicts here;
//!   readers report them as one with [`crate::stretch::fold_linked_conflicts`].
//! - **Suggestions** ([`Schedule::suggestions`]): who could take a conflicting shift. A colleague
//!   qualifies when they are a member of the same rotation, free for the *whole* shift, and hold a
//!   shift of their own in that rotation that the absent person is free for the whole of, so the
//!   two can trade. Both shifts must be *tradeable* the way the swap service checks it: not started
//!   at `now`, and the whole slot resolved to that one person, by their turn, a link, or an
//!   override that puts them there (a shift someone holds through a swap is theirs to trade again). For each colleague
//!   the return shift closest in time to the conflict is offered (earlier first on a tie).
//!   Ranking, best first:
//!   1. colleagues for whom taking the shift would *not* make back-to-back turns (they hold any of
//!      the turn right before or right after it in time in the same rotation, across time with
//!      nobody on call and another layer's time: not slot ± 1; other than the turn they give
//!      back) come first;
//!   2. then the lighter load after the trade: on-call seconds across all rotations within
//!      [`FAIRNESS_WINDOW_DAYS`] days either side of the conflict, plus the shift taken, minus
//!      the shift given back;
//!   3. then the return shift closest to the conflict (the debt is settled soonest);
//!   4. then the person id, so the order is total and stable.
//!
//!   **Part of a shift.** When the shift is longer than a day and the person is away for only
//!   some of its days (days from the handoff's wall-clock time, [`crate::tz::day_parts`]), the
//!   suggestions cover the *part*: from the first day away to the last. A colleague then needs to
//!   be free for the part only, and gives back a part of similar length: the first run of as many
//!   days of their shift that the absent person is free for (their whole shift when it is a day
//!   or shorter and the part is one day). When the part is more than half of the shift's days, the
//!   whole-shift trades are suggested as well; they rank with the others by the same rules.
//! - **Fairness** ([`Schedule::report`]): for a window `[from, to)`, per person and rotation, the
//!   shifts (stretches, as people count them: a continuous stretch of one person in one rotation
//!   is one shift however many handoffs it crosses, and the rest of a slot split by a cover does
//!   not count again),
//!   on-call seconds, the seconds on a weekend (Saturday or Sunday) and on a
//!   public holiday, and the overrides given and taken (below). Only the part of a shift inside the
//!   window counts.
//!
//! # Given and taken
//!
//! Overrides are measured against the rotation's *plan*: who would be on call in that rotation had
//! none of **its own** overrides been made. That is the member whose turn it is, or whoever a link
//! (or a swap-back) puts there, the link following the rotation it comes from as it really is,
//! that rotation's overrides included. Every second of the window in which an override of the
//! rotation has someone other than the plan's person on call is *taken* by the override's person
//! and *given* by the plan's person, second by second: one override can take from two people when
//! it spans a link's edge or a handoff. So, per rotation, the seconds given equal the seconds
//! taken, and each person's seconds are the plan's minus given plus taken. It follows that:
//!
//! - an override on a stretch a link made is given by the person the link put there, not by the
//!   member whose turn the order says it is, and an override on a member's own turn is given by
//!   that member even when, without the *hero's* overrides, a link would have put someone else
//!   there (the links follow the real hero);
//! - a swap (two overrides) is one given and one taken on each side;
//! - overrides stacked on one stretch are all given by the plan's person: when dave's week goes to
//!   erin and erin then gives a day of it to frank, dave gave seven days, erin took six and frank
//!   one; erin is not charged for handing on a day that was never hers in the plan;
//! - an override naming the plan's own person moves nothing and counts neither way;
//! - a change of hero moves the linked stretch of a secondary with it, but nothing is given or
//!   taken in the secondary: the override is the hero rotation's, and counts there.
//!
//! The counts (`overrides_given`, `overrides_taken`) are distinct overrides, however many pieces
//! one is split into.
//!
//! # The absence index
//!
//! [`TimeOff`] holds one [`AbsenceSet`] per person: their absences merged into sorted, disjoint
//! stretches (overlapping or touching absences become one, naming up to
//! [`MAX_SUMMARIES_PER_STRETCH`] distinct summaries). Starts and ends are then both sorted, so
//! "is this person away during this shift" is two binary searches, however many events their
//! calendars hold: a calendar full of recurring events costs when it is read (rota-calendar
//! expands each source once, with a cap), not per request. A conflict lists the stretches that
//! overlap its shift, so a stretch may name an absence that lies just outside the shift but
//! overlaps one inside it.
//!
//! # Whose clock
//!
//! Weekends and holidays are civil days, so they are read on the *person's* wall clock (their
//! `timezone`), or on the rotation's when they have none: a Saturday 00:00 to 24:00 in Kolkata
//! is not a Saturday in Chicago. Local midnights go through [`crate::tz`], so a day on which the
//! clocks change is 23 or 25 hours long, and a day skipped entirely (Pacific/Apia, 2011-12-30) has
//! no hours. A holiday is a civil date; the holiday calendar's all-day events are taken as dates,
//! not instants, for the same reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use crate::error::Error;
use crate::model::{Shift, Source};
use crate::schedule::Schedule;
use crate::tz;

/// How far either side of a conflict the load used to rank suggestions is counted, in days.
pub const FAIRNESS_WINDOW_DAYS: i64 = 91;

/// One stretch of time a person is away, in UTC, with what their calendar calls it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Absence {
    /// First instant away.
    pub start: DateTime<Utc>,
    /// First instant back; after `start`.
    pub end: DateTime<Utc>,
    /// The calendar event's summary ("Ski trip"), possibly empty.
    pub summary: String,
}

/// How many distinct summaries a merged stretch names; more are shown as `…`.
pub const MAX_SUMMARIES_PER_STRETCH: usize = 3;
/// The longest summary kept, in characters (longer ones are cut, with `…`): a calendar's titles
/// are shown in emails and on the command line, and must not let one event hold megabytes.
pub const MAX_SUMMARY_CHARS: usize = 100;

/// One merged stretch: `[start, end)` in microseconds since 1970 (plain integers make the binary
/// searches cheap: comparing `DateTime`s costs several field comparisons) and the index of its
/// label in the set's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stretch {
    start: i64,
    end: i64,
    label: u32,
}

/// `t` in microseconds since 1970, rounded down (every instant rota handles fits in an `i64`).
fn floor_us(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// `t` in microseconds since 1970, rounded up: an absence's end never moves earlier.
fn ceil_us(t: DateTime<Utc>) -> i64 {
    let us = t.timestamp_micros();
    if t.timestamp_subsec_nanos().is_multiple_of(1_000) {
        us
    } else {
        us.saturating_add(1)
    }
}

fn from_us(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The summaries of the absences merged into a stretch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Label {
    /// Distinct summaries, earliest-starting first (a stretch merged in later brings its own
    /// summaries as a block), at most [`MAX_SUMMARIES_PER_STRETCH`].
    parts: Vec<String>,
    /// Whether more distinct summaries were merged in than `parts` holds.
    more: bool,
}

impl Label {
    fn text(&self) -> String {
        let mut s = self.parts.join("; ");
        if self.more {
            s.push_str("; …");
        }
        s
    }

    fn one(summary: &str) -> Label {
        Label {
            parts: vec![clip(summary)],
            more: false,
        }
    }

    fn absorb(&mut self, other: &Label) {
        for p in &other.parts {
            if !self.parts.contains(p) {
                if self.parts.len() < MAX_SUMMARIES_PER_STRETCH {
                    self.parts.push(p.clone());
                } else {
                    self.more = true;
                }
            }
        }
        self.more |= other.more;
    }
}

/// One person's absences as a sorted set of disjoint stretches: overlapping or touching absences
/// are merged into one (their distinct summaries joined with `; `), so both the starts and the
/// ends are sorted and every lookup is two binary searches, whatever the calendar held.
///
/// Times are kept to the microsecond (a sub-microsecond start is rounded down and end up, so an
/// absence never shrinks). Memory: 24 bytes per stretch plus one label per distinct combination
/// of summaries (each summary at most [`MAX_SUMMARY_CHARS`] characters). Build one with [`AbsenceSetBuilder`]
/// (O(n log n) for n absences) or [`AbsenceSet::insert`] (O(n) each, for a few).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AbsenceSet {
    stretches: Vec<Stretch>,
    labels: Vec<Label>,
    /// Each label's text, made once: a lookup then copies it instead of joining the parts.
    texts: Vec<String>,
}

static EMPTY: AbsenceSet = AbsenceSet {
    stretches: Vec::new(),
    labels: Vec::new(),
    texts: Vec::new(),
};

impl AbsenceSet {
    /// No absences.
    pub fn new() -> AbsenceSet {
        AbsenceSet::default()
    }

    /// The number of merged stretches.
    pub fn len(&self) -> usize {
        self.stretches.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.stretches.is_empty()
    }

    /// The bytes this set holds on the heap (stretches and labels), for stating memory bounds.
    pub fn heap_bytes(&self) -> usize {
        self.stretches.capacity() * std::mem::size_of::<Stretch>()
            + self.labels.capacity() * std::mem::size_of::<Label>()
            + self.texts.capacity() * std::mem::size_of::<String>()
            + self.texts.iter().map(String::capacity).sum::<usize>()
            + self
                .labels
                .iter()
                .map(|l| {
                    l.parts.capacity() * std::mem::size_of::<String>()
                        + l.parts.iter().map(String::capacity).sum::<usize>()
                })
                .sum::<usize>()
    }

    fn absence(&self, s: &Stretch) -> Absence {
        Absence {
            start: from_us(s.start),
            end: from_us(s.end),
            summary: self
                .texts
                .get(s.label as usize)
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// Every stretch, ordered by start.
    pub fn iter(&self) -> impl Iterator<Item = Absence> + '_ {
        self.stretches.iter().map(|s| self.absence(s))
    }

    /// The index range of the stretches overlapping `[start, end)`: binary searches on the
    /// sorted ends and starts.
    fn range(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> std::ops::Range<usize> {
        // For whole microseconds a: a <= t iff a <= floor(t), and a < t iff a < ceil(t).
        let (start, end) = (floor_us(start), ceil_us(end));
        let lo = self.stretches.partition_point(|s| s.end <= start);
        let hi = self.stretches.partition_point(|s| s.start < end);
        lo..hi.max(lo)
    }

    /// The stretches that overlap `[start, end)`, ordered by start.
    pub fn overlapping(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Iterator<Item = Absence> + '_ {
        self.stretches[self.range(start, end)]
            .iter()
            .map(|s| self.absence(s))
    }

    /// Whether nothing overlaps `[start, end)`.
    pub fn is_free(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.range(start, end).is_empty()
    }

    /// Adds one absence (ignored unless `start < end`), merging it with the stretches it overlaps
    /// or touches. O(n): for building a large set use [`AbsenceSetBuilder`].
    pub fn insert(&mut self, absence: Absence) {
        if absence.start >= absence.end {
            return;
        }
        let (mut start, mut end) = (floor_us(absence.start), ceil_us(absence.end));
        let first = start;
        // Overlapping or touching: end >= start and start <= end.
        let lo = self.stretches.partition_point(|s| s.end < start);
        let hi = self.stretches.partition_point(|s| s.start <= end);
        let mut label = Label::default();
        let new = Label::one(&absence.summary);
        let mut absorbed = false;
        for s in &self.stretches[lo..hi.max(lo)] {
            if !absorbed && first < s.start {
                label.absorb(&new);
                absorbed = true;
            }
            start = start.min(s.start);
            end = end.max(s.end);
            if let Some(l) = self.labels.get(s.label as usize) {
                label.absorb(l);
            }
        }
        if !absorbed {
            label.absorb(&new);
        }
        let id = self.intern(label);
        self.stretches.splice(
            lo..hi.max(lo),
            [Stretch {
                start,
                end,
                label: id,
            }],
        );
    }

    fn intern(&mut self, label: Label) -> u32 {
        match self.labels.iter().position(|l| *l == label) {
            Some(i) => i as u32,
            None => {
                self.texts.push(label.text());
                self.labels.push(label);
                (self.labels.len() - 1) as u32
            }
        }
    }

    /// The union of `sets` (a person with several calendars).
    pub fn union<'a>(sets: impl IntoIterator<Item = &'a AbsenceSet>) -> AbsenceSet {
        let mut b = AbsenceSetBuilder::new();
        for set in sets {
            for s in &set.stretches {
                let label = set
                    .labels
                    .get(s.label as usize)
                    .cloned()
                    .unwrap_or_default();
                b.push_label(s.start, s.end, label);
            }
        }
        b.build()
    }
}

/// Cuts a summary to [`MAX_SUMMARY_CHARS`] characters.
fn clip(summary: &str) -> String {
    match summary.char_indices().nth(MAX_SUMMARY_CHARS) {
        Some((i, _)) => format!("{}…", &summary[..i]),
        None => summary.to_string(),
    }
}

/// Collects absences in any order and builds an [`AbsenceSet`] in one sort and one pass.
/// Summaries are interned as they come, so a calendar's 50,000 occurrences of one event cost one
/// copy of its title, not 50,000.
#[derive(Debug, Default)]
pub struct AbsenceSetBuilder {
    raw: Vec<Stretch>,
    labels: Vec<Label>,
    ids: HashMap<String, u32>,
}

impl AbsenceSetBuilder {
    /// An empty builder.
    pub fn new() -> AbsenceSetBuilder {
        AbsenceSetBuilder::default()
    }

    /// How many absences were pushed (empty ones are not counted).
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether none was pushed.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Adds `[start, end)` called `summary` (ignored unless `start < end`).
    pub fn push(&mut self, start: DateTime<Utc>, end: DateTime<Utc>, summary: &str) {
        if start >= end {
            return;
        }
        let label = match self.ids.get(summary) {
            Some(&id) => id,
            None => {
                let id = self.labels.len() as u32;
                self.labels.push(Label::one(summary));
                self.ids.insert(summary.to_string(), id);
                id
            }
        };
        self.raw.push(Stretch {
            start: floor_us(start),
            end: ceil_us(end),
            label,
        });
    }

    fn push_label(&mut self, start: i64, end: i64, label: Label) {
        if start >= end {
            return;
        }
        let id = self.labels.len() as u32;
        self.labels.push(label);
        self.raw.push(Stretch {
            start,
            end,
            label: id,
        });
    }

    /// The merged set.
    pub fn build(mut self) -> AbsenceSet {
        self.raw.sort_unstable_by_key(|s| (s.start, s.end, s.label));
        let mut out = AbsenceSet::new();
        let mut interned: HashMap<Label, u32> = HashMap::new();
        // Output label of each input label used alone (the usual case: no cloning or hashing of
        // labels per stretch).
        let mut single: Vec<Option<u32>> = vec![None; self.labels.len()];
        let labels = &self.labels;
        let mut intern = |out: &mut AbsenceSet, label: Label| -> u32 {
            *interned.entry(label).or_insert_with_key(|l| {
                out.texts.push(l.text());
                out.labels.push(l.clone());
                (out.labels.len() - 1) as u32
            })
        };
        let mut finish = |out: &mut AbsenceSet, (start, end, first, merged): Open| {
            let label = match merged {
                Some(l) => intern(out, l),
                None => match single[first as usize] {
                    Some(id) => id,
                    None => {
                        let id = intern(out, labels[first as usize].clone());
                        single[first as usize] = Some(id);
                        id
                    }
                },
            };
            out.stretches.push(Stretch { start, end, label });
        };
        let mut cur: Option<Open> = None;
        for s in &self.raw {
            match &mut cur {
                Some((_, ce, first, merged)) if s.start <= *ce => {
                    *ce = (*ce).max(s.end);
                    if s.label != *first {
                        merged
                            .get_or_insert_with(|| labels[*first as usize].clone())
                            .absorb(&labels[s.label as usize]);
                    }
                }
                _ => {
                    if let Some(open) = cur.take() {
                        finish(&mut out, open);
                    }
                    cur = Some((s.start, s.end, s.label, None));
                }
            }
        }
        if let Some(open) = cur {
            finish(&mut out, open);
        }
        out.stretches.shrink_to_fit();
        out.labels.shrink_to_fit();
        out.texts.shrink_to_fit();
        out
    }
}

/// A stretch being built: start, end, its first label, and the merged label once another joins.
type Open = (i64, i64, u32, Option<Label>);

/// Everyone's absences, by person id: one [`AbsenceSet`] each. Cheap to clone (shared), so a
/// service can hand the same index to every request.
#[derive(Clone, Debug, Default)]
pub struct TimeOff {
    by_person: Arc<HashMap<String, Arc<AbsenceSet>>>,
}

impl TimeOff {
    /// No absences.
    pub fn new() -> TimeOff {
        TimeOff::default()
    }

    /// Records that `person` is away for `absence` (ignored unless `start < end`); it merges
    /// with the absences it overlaps or touches.
    pub fn add(&mut self, person: &str, absence: Absence) {
        if absence.start >= absence.end {
            return;
        }
        let map = Arc::make_mut(&mut self.by_person);
        let set = map.entry(person.to_string()).or_default();
        Arc::make_mut(set).insert(absence);
    }

    /// Sets `person`'s absences to `set` (shared, not copied).
    pub fn set(&mut self, person: &str, set: Arc<AbsenceSet>) {
        let map = Arc::make_mut(&mut self.by_person);
        if set.is_empty() {
            map.remove(person);
        } else {
            map.insert(person.to_string(), set);
        }
    }

    /// `person`'s absences (an empty set for someone with none).
    pub fn of(&self, person: &str) -> &AbsenceSet {
        self.by_person.get(person).map_or(&EMPTY, |s| s)
    }

    /// Only `person`'s absences (shared, not copied).
    pub fn only(&self, person: &str) -> TimeOff {
        let mut t = TimeOff::new();
        if let Some(s) = self.by_person.get(person) {
            t.set(person, s.clone());
        }
        t
    }

    /// Number of merged stretches, over everyone.
    pub fn len(&self) -> usize {
        self.by_person.values().map(|s| s.len()).sum()
    }

    /// Whether no absence is recorded.
    pub fn is_empty(&self) -> bool {
        self.by_person.values().all(|s| s.is_empty())
    }

    /// `person`'s absences that overlap `[start, end)`, ordered by start.
    pub fn overlapping(
        &self,
        person: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Iterator<Item = Absence> + '_ {
        self.of(person).overlapping(start, end)
    }

    /// Whether `person` is free for the whole of `[start, end)`.
    pub fn is_free(&self, person: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.of(person).is_free(start, end)
    }
}

/// Public holidays: civil dates with their names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holidays {
    dates: BTreeMap<NaiveDate, String>,
}

impl Holidays {
    /// No holidays.
    pub fn new() -> Holidays {
        Holidays::default()
    }

    /// Adds a holiday (the first name given for a date is kept).
    pub fn add(&mut self, date: NaiveDate, name: &str) {
        self.dates.entry(date).or_insert_with(|| name.to_string());
    }

    /// The holiday's name on `date`, if it is one.
    pub fn get(&self, date: NaiveDate) -> Option<&str> {
        self.dates.get(&date).map(String::as_str)
    }

    /// The holiday dates in `[from, to)`.
    pub fn between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.dates
            .range(from..to.max(from))
            .map(|(d, n)| (*d, n.as_str()))
    }

    /// Number of holiday dates.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }
}

/// A shift whose person is away for some of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict<'s> {
    /// The resolved shift.
    pub shift: Shift<'s>,
    /// The person's absence stretches (overlapping absences merged) that overlap it, ordered
    /// by start.
    pub absences: Vec<Absence>,
    /// How much of the shift the person is away for (overlapping absences counted once).
    pub away: Duration,
}

/// A colleague who could take a conflicting shift, and the shift of theirs to take in return.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion<'s> {
    /// The colleague's shift the absent person would take (or take part of: `give_back_part`):
    /// a whole slot, theirs alone.
    pub give_back: Shift<'s>,
    /// The part of the conflicting shift the colleague would cover: `None` for all of it.
    pub part: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The part of `give_back` the absent person would take in return: `None` for all of it.
    pub give_back_part: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whether taking the conflicting shift gives the colleague two turns in a row.
    pub back_to_back: bool,
    /// The colleague's on-call time within [`FAIRNESS_WINDOW_DAYS`] of the conflict, now.
    pub load_before: Duration,
    /// The same after the trade: plus the conflicting shift, minus `give_back` (each only as far
    /// as it lies within the window).
    pub load_after: Duration,
}

impl Suggestion<'_> {
    /// The colleague.
    pub fn person(&self) -> &crate::model::Person {
        self.give_back.person
    }
}

/// One person's load in one rotation over a report's window. Times are in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Load {
    /// The person's id.
    pub person: String,
    /// The rotation's id.
    pub rotation: String,
    /// Shifts as people count them: stretches of continuous on-call in the rotation inside the
    /// window (`crate::stretch`), so a linked hero week in a daily secondary is one, not seven.
    /// A stretch all of whose slots were already counted (the rest of a slot someone covered the
    /// middle of) does not count again.
    pub shifts: u32,
    /// On-call seconds inside the window.
    pub secs: i64,
    /// Of those, seconds on a Saturday or Sunday on their wall clock.
    pub weekend_secs: i64,
    /// Of those, seconds on a public holiday on their wall clock.
    pub holiday_secs: i64,
    /// Overrides that moved some of their planned time to someone else (see "Given and taken" in
    /// the module doc).
    pub overrides_given: u32,
    /// Seconds they would have been on call without the rotation's overrides, and someone else
    /// was through one.
    pub given_secs: i64,
    /// Overrides that put them on call in place of the plan's person.
    pub overrides_taken: u32,
    /// Seconds on call through an override in place of the plan's person.
    pub taken_secs: i64,
}

/// Who carries the most and the least on-call time, and the difference.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spread {
    /// The rotation's id, or `None` for everyone over all rotations.
    pub rotation: Option<String>,
    /// The most loaded person and their seconds.
    pub most: (String, i64),
    /// The least loaded person and their seconds (members with no time count, with 0).
    pub least: (String, i64),
}

impl Spread {
    /// Most minus least, in seconds.
    pub fn secs(&self) -> i64 {
        self.most.1 - self.least.1
    }
}

/// The fairness report for a window; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Start of the window.
    pub from: DateTime<Utc>,
    /// End of the window (exclusive).
    pub to: DateTime<Utc>,
    /// One row per rotation member (and per anyone else on call in it), by rotation id then
    /// person id. Members with no time in the window have a row of zeros.
    pub loads: Vec<Load>,
    /// Per person over all rotations (the `rotation` field is empty), by person id.
    pub totals: Vec<Load>,
    /// Per rotation, by rotation id.
    pub spreads: Vec<Spread>,
    /// Over everyone who is a member of a rotation, by total seconds.
    pub overall: Option<Spread>,
}

fn overlap(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> Duration {
    let s = a.0.max(b.0);
    let e = a.1.min(b.1);
    if e > s { e - s } else { Duration::zero() }
}

/// Seconds of `[start, end)` that fall on weekend days and on holidays, on `zone`'s wall clock.
fn weekend_and_holiday(
    zone: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    holidays: &Holidays,
) -> (i64, i64) {
    let (mut weekend, mut holiday) = (0, 0);
    let mut day = start.with_timezone(&zone).date_naive();
    // A guard against runaway loops on absurd ranges: a report window is at most a few years.
    for _ in 0..100_000 {
        let Some(next) = day.succ_opt() else { break };
        let (Some(a), Some(b)) = (midnight(zone, day), midnight(zone, next)) else {
            break;
        };
        if a >= end {
            break;
        }
        let secs = overlap((a, b), (start, end)).num_seconds();
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            weekend += secs;
        }
        if holidays.get(day).is_some() {
            holiday += secs;
        }
        day = next;
    }
    (weekend, holiday)
}

/// Sets each row's `shifts` to its number of stretches in `shifts` (see `Load::shifts`): a
/// stretch counts once, unless every slot it lies in was already counted for that person (the
/// rest of a slot someone covered the middle of).
fn count_stretches(shifts: &[Shift<'_>], loads: &mut BTreeMap<(String, String), Load>) {
    let mut counted: HashSet<(&str, &str, u64)> = HashSet::new();
    // Ordered by start, so a person's stretches in one rotation come in order.
    for x in crate::stretch::stretches(shifts) {
        let (rot, person) = (x.rotation.id.as_str(), x.person.id.as_str());
        let mut new = false;
        for slot in x.slots() {
            new |= counted.insert((rot, person, slot));
        }
        if new && let Some(l) = loads.get_mut(&(rot.to_string(), person.to_string())) {
            l.shifts += 1;
        }
    }
}

/// The schedule without `rotation`'s own overrides, every other rotation's kept: what `rotation`
/// would have been had none of its overrides been made. Links into it still follow the overrides
/// of the rotation they come from (a swap of hero weeks moves the linked secondary stretch too).
impl Schedule {
    fn without_overrides_of(&self, rotation: &str) -> Result<Schedule, Error> {
        self.without_overrides().with_overrides(
            self.overrides
                .iter()
                .filter(|o| o.rotation != rotation)
                .cloned(),
        )
    }
}

fn midnight(zone: Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    tz::resolve(zone, day.and_hms_opt(0, 0, 0)?).map(|r| r.instant)
}

/// Whether `x` is a whole slot held by one person with no override (what the swap service accepts).
fn tradeable(s: &Schedule, x: &Shift<'_>, now: DateTime<Utc>) -> bool {
    if x.start <= now {
        return false;
    }
    let Ok(Some(base)) = s.base_shift(&x.rotation.id, x.slot) else {
        return false;
    };
    if (base.start, base.end) != (x.start, x.end) {
        return false;
    }
    match s.shifts(&x.rotation.id, base.start, base.end) {
        // Theirs by their turn, a link, or an override that puts them there (a swap on a swap).
        Ok(v) => v.iter().all(|y| y.person.id == x.person.id),
        Err(_) => false,
    }
}

impl Schedule {
    /// The resolved shifts overlapping `[from, to)` whose person is away for some of the shift,
    /// ordered by start, then rotation id. See the module documentation.
    ///
    /// # Examples
    ///
    /// ```
    /// # let people = include_str!("../../../schedules/people.toml");
    /// # let rotations = include_str!("../../../schedules/rotations.toml");
    /// use rota_core::{Schedule, timeoff::{Absence, TimeOff}};
    /// let s = Schedule::load(&[("people.toml", people), ("rotations.toml", rotations)]).unwrap();
    /// let mut off = TimeOff::new();
    /// // Carol (New York) is away on Wednesday 2 December 2026, all day in her zone. It is her
    /// // Support Hero week, so she is also her team's secondary through the link: two conflicts.
    /// off.add("carol", Absence {
    ///     start: "2026-12-02T05:00:00Z".parse().unwrap(),
    ///     end: "2026-12-03T05:00:00Z".parse().unwrap(),
    ///     summary: "Dentist".into(),
    /// });
    /// let from = "2026-11-01T00:00:00Z".parse().unwrap();
    /// let to = "2026-12-01T00:00:00Z".parse().unwrap();
    /// let c = s.conflicts(&off, from, to).unwrap();
    /// let got: Vec<String> = c.iter().map(|c| format!("{} {} {}h", c.shift.rotation.id, c.shift.slot, c.away.num_hours())).collect();
    /// assert_eq!(got, ["core-experience-secondary 4 24h", "support-hero 4 24h"]);
    /// ```
    pub fn conflicts(
        &self,
        time_off: &TimeOff,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Conflict<'_>>, Error> {
        let mut out = Vec::new();
        if time_off.is_empty() {
            self.all_shifts(from, to)?;
            return Ok(out);
        }
        // Each person's set, found by their position in the schedule rather than by hashing
        // their id for every shift (that lookup was a quarter of the time for 1,000 people).
        let people = self.people();
        let sets: Vec<&AbsenceSet> = people.iter().map(|p| time_off.of(&p.id)).collect();
        let set_of = |person: &crate::model::Person| -> &AbsenceSet {
            let size = std::mem::size_of::<crate::model::Person>().max(1);
            let at = (person as *const crate::model::Person as usize)
                .wrapping_sub(people.as_ptr() as usize)
                / size;
            match people.get(at) {
                Some(p) if std::ptr::eq(p, person) => sets[at],
                _ => time_off.of(&person.id),
            }
        };
        for x in self.all_shifts(from, to)? {
            let absences: Vec<Absence> = set_of(x.person).overlapping(x.start, x.end).collect();
            if absences.is_empty() {
                continue;
            }
            // The stretches of an AbsenceSet are disjoint: their clipped lengths add up to the
            // union, with no sorting.
            let away = absences
                .iter()
                .map(|a| overlap((a.start, a.end), (x.start, x.end)))
                .sum();
            out.push(Conflict {
                shift: x,
                absences,
                away,
            });
        }
        Ok(out)
    }

    /// Colleagues who could trade for `shift` (normally a [`Conflict`]'s), best first, with their
    /// own shifts starting before `until` considered for the trade back. `now` is when the trade
    /// would be proposed: shifts that have started cannot be traded. Empty when `shift` itself
    /// cannot be traded (it started, is partly someone else's, or is an override). See the module
    /// documentation for who qualifies and the ranking.
    pub fn suggestions<'s>(
        &'s self,
        time_off: &TimeOff,
        shift: &Shift<'s>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Suggestion<'s>>, Error> {
        let rot = shift.rotation;
        let me = shift.person.id.as_str();
        let mine = (shift.start, shift.end);
        if !tradeable(self, shift, now) || until <= now {
            return Ok(Vec::new());
        }
        let window = Duration::days(FAIRNESS_WINDOW_DAYS);
        let (wf, wt) = (shift.start - window, shift.start + window);
        let theirs = self.shifts(&rot.id, now, until)?;
        // The turns right before and right after it in time (across time with nobody on call):
        // slot ± 1 under windows or layers may be far off, or another layer's time may lie between.
        let prev = self.previous_shift(&rot.id, shift.start)?.map(|x| x.slot);
        let next = self.next_shift(&rot.id, shift.end)?.map(|x| x.slot);
        // The days of the shift the person is away for, and the part they span.
        let days = crate::tz::day_parts(rot.timezone, shift.start, shift.end);
        let away: Vec<usize> = (0..days.len())
            .filter(|&i| !time_off.is_free(me, days[i].0, days[i].1))
            .collect();
        let part = match (away.first(), away.last()) {
            (Some(&a), Some(&b)) if !(a == 0 && b + 1 == days.len()) => {
                Some((days[a].0, days[b].1, b - a + 1))
            }
            _ => None,
        };
        let whole_too = part.is_none_or(|(_, _, n)| n * 2 > days.len());
        // Whether `m` holds any of turn `slot` (next to it), unless it is the one they give back.
        let adjacent = |m: &str, give_back: u64, slot: Option<u64>| {
            slot.filter(|&n| n != give_back).is_some_and(|n| {
                self.base_shift(&rot.id, n)
                    .ok()
                    .flatten()
                    .and_then(|b| self.shifts(&rot.id, b.start, b.end).ok())
                    .is_some_and(|v| v.iter().any(|y| y.slot == n && y.person.id == m))
            })
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for m in &rot.members {
            if m == me || !seen.insert(m.as_str()) {
                continue;
            }
            let load_before = || -> Result<Duration, Error> {
                Ok(self
                    .shifts_for_person(m, wf, wt)?
                    .iter()
                    .map(|x| overlap((x.start, x.end), (wf, wt)))
                    .sum::<Duration>())
            };
            let mine_tradeable = |x: &&Shift<'s>| {
                x.person.id == *m && x.slot != shift.slot && tradeable(self, x, now)
            };
            let closest = |x: &&Shift<'s>| ((x.start - shift.start).abs(), x.start);
            let mut push = |give_back: Shift<'s>,
                            taken: (DateTime<Utc>, DateTime<Utc>),
                            given: (DateTime<Utc>, DateTime<Utc>),
                            part: Option<(DateTime<Utc>, DateTime<Utc>)>,
                            give_back_part: Option<(DateTime<Utc>, DateTime<Utc>)>,
                            load_before: Duration| {
                // Both counted within the same window as `load_before` (a trade-back months away
                // does not lighten this window).
                let load_after = load_before + overlap(taken, (wf, wt)) - overlap(given, (wf, wt));
                let back_to_back =
                    adjacent(m, give_back.slot, prev) || adjacent(m, give_back.slot, next);
                out.push(Suggestion {
                    give_back,
                    part,
                    give_back_part,
                    back_to_back,
                    load_before,
                    load_after,
                });
            };
            if whole_too && time_off.is_free(m, mine.0, mine.1) {
                let best = theirs
                    .iter()
                    .filter(mine_tradeable)
                    .filter(|x| time_off.is_free(me, x.start, x.end))
                    .min_by_key(closest);
                if let Some(give_back) = best {
                    push(
                        *give_back,
                        mine,
                        (give_back.start, give_back.end),
                        None,
                        None,
                        load_before()?,
                    );
                }
            }
            if let Some((from, to, n)) = part
                && time_off.is_free(m, from, to)
            {
                // Their closest shift with `n` consecutive days (or, for a one-day part, a shift
                // of a day or less) that the absent person is free for.
                let mut candidates: Vec<&Shift<'s>> =
                    theirs.iter().filter(mine_tradeable).collect();
                candidates.sort_by_key(closest);
                let found = candidates.into_iter().find_map(|x| {
                    let their_days = crate::tz::day_parts(rot.timezone, x.start, x.end);
                    if their_days.is_empty() {
                        return (n == 1 && time_off.is_free(me, x.start, x.end)).then_some((
                            x,
                            (x.start, x.end),
                            None,
                        ));
                    }
                    (0..their_days.len().saturating_sub(n - 1)).find_map(|i| {
                        let run = (their_days[i].0, their_days[i + n - 1].1);
                        time_off.is_free(me, run.0, run.1).then(|| {
                            let whole = run == (x.start, x.end);
                            (x, run, (!whole).then_some(run))
                        })
                    })
                });
                if let Some((give_back, given, give_back_part)) = found {
                    push(
                        *give_back,
                        (from, to),
                        given,
                        Some((from, to)),
                        give_back_part,
                        load_before()?,
                    );
                }
            }
        }
        out.sort_by(|a, b| {
            let key = |s: &Suggestion<'_>| {
                (
                    s.back_to_back,
                    s.load_after,
                    (s.give_back.start - shift.start).abs(),
                )
            };
            key(a)
                .cmp(&key(b))
                .then_with(|| a.person().id.cmp(&b.person().id))
        });
        Ok(out)
    }

    /// The fairness report for `[from, to)`, with public holidays from `holidays`. See the module
    /// documentation for what each figure counts.
    ///
    /// # Examples
    ///
    /// ```
    /// # let people = include_str!("../../../schedules/people.toml");
    /// # let rotations = include_str!("../../../schedules/rotations.toml");
    /// use rota_core::{Schedule, timeoff::Holidays};
    /// let s = Schedule::load(&[("people.toml", people), ("rotations.toml", rotations)]).unwrap();
    /// let from = "2026-11-02T09:00:00Z".parse().unwrap();
    /// let to = "2026-11-09T09:00:00Z".parse().unwrap();
    /// let r = s.report(from, to, &Holidays::new()).unwrap();
    /// let hero = r.loads.iter().find(|l| l.rotation == "support-hero" && l.secs > 0).unwrap();
    /// // One hero week, Monday 09:00 to Monday 09:00 London time: 168 hours, 48 on the weekend.
    /// assert_eq!((hero.person.as_str(), hero.shifts, hero.secs / 3600, hero.weekend_secs / 3600), ("alice", 1, 168, 48));
    /// ```
    pub fn report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        holidays: &Holidays,
    ) -> Result<Report, Error> {
        let shifts = self.all_shifts(from, to)?;
        // Per rotation with an override in the window, the schedule without that rotation's own
        // overrides: who would be on call there had none of them been made (see `given` in the
        // module doc). Built once per rotation, on demand.
        let mut plans: HashMap<String, Schedule> = HashMap::new();
        let mut loads: BTreeMap<(String, String), Load> = BTreeMap::new();
        let mut given: HashSet<(String, String)> = HashSet::new();
        let mut taken: HashSet<(String, String)> = HashSet::new();
        let row = |loads: &mut BTreeMap<(String, String), Load>, rotation: &str, person: &str| {
            let key = (rotation.to_string(), person.to_string());
            loads.entry(key.clone()).or_insert_with(|| Load {
                person: person.to_string(),
                rotation: rotation.to_string(),
                ..Load::default()
            });
            key
        };
        for rot in &self.rotations {
            for m in &rot.members {
                row(&mut loads, &rot.id, m);
            }
        }
        for x in &shifts {
            let (a, b) = (x.start.max(from), x.end.min(to));
            if a >= b {
                continue;
            }
            let secs = (b - a).num_seconds();
            let zone = x.person.timezone.unwrap_or(x.rotation.timezone);
            let (we, hol) = weekend_and_holiday(zone, a, b, holidays);
            let key = row(&mut loads, &x.rotation.id, &x.person.id);
            if let Some(l) = loads.get_mut(&key) {
                l.secs += secs;
                l.weekend_secs += we;
                l.holiday_secs += hol;
            }
            let Source::Override(o) = x.source else {
                continue;
            };
            let plan = match plans.entry(x.rotation.id.clone()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(self.without_overrides_of(&x.rotation.id)?)
                }
            };
            // Who the plan has on call during this piece, piece by piece: a piece of an override
            // can span a link's edge or the end of a swapped-back turn inside one slot.
            let moved: Vec<(String, i64)> = plan
                .shifts(&x.rotation.id, a, b)?
                .iter()
                .filter(|y| y.person.id != x.person.id)
                .map(|y| {
                    let secs = (y.end.min(b) - y.start.max(a)).num_seconds();
                    (y.person.id.clone(), secs)
                })
                .filter(|&(_, secs)| secs > 0)
                .collect();
            for (giver, secs) in moved {
                if let Some(l) = loads.get_mut(&key) {
                    l.taken_secs += secs;
                    if taken.insert((o.id.clone(), x.person.id.clone())) {
                        l.overrides_taken += 1;
                    }
                }
                let g = row(&mut loads, &x.rotation.id, &giver);
                if let Some(l) = loads.get_mut(&g) {
                    l.given_secs += secs;
                    if given.insert((o.id.clone(), giver)) {
                        l.overrides_given += 1;
                    }
                }
            }
        }
        count_stretches(&shifts, &mut loads);
        let loads: Vec<Load> = loads.into_values().collect();
        let mut totals: BTreeMap<String, Load> = BTreeMap::new();
        for l in &loads {
            let t = totals.entry(l.person.clone()).or_insert_with(|| Load {
                person: l.person.clone(),
                ..Load::default()
            });
            t.shifts += l.shifts;
            t.secs += l.secs;
            t.weekend_secs += l.weekend_secs;
            t.holiday_secs += l.holiday_secs;
            t.overrides_given += l.overrides_given;
            t.given_secs += l.given_secs;
            t.overrides_taken += l.overrides_taken;
            t.taken_secs += l.taken_secs;
        }
        let spread = |rotation: Option<String>, it: &mut dyn Iterator<Item = (&str, i64)>| {
            let mut most: Option<(String, i64)> = None;
            let mut least: Option<(String, i64)> = None;
            for (p, secs) in it {
                if most.as_ref().is_none_or(|m| secs > m.1) {
                    most = Some((p.to_string(), secs));
                }
                if least.as_ref().is_none_or(|m| secs < m.1) {
                    least = Some((p.to_string(), secs));
                }
            }
            Some(Spread {
                rotation,
                most: most?,
                least: least?,
            })
        };
        let spreads = self
            .rotations
            .iter()
            .filter_map(|r| {
                spread(
                    Some(r.id.clone()),
                    &mut loads
                        .iter()
                        .filter(|l| l.rotation == r.id && r.members.contains(&l.person))
                        .map(|l| (l.person.as_str(), l.secs)),
                )
            })
            .collect::<Vec<_>>();
        let mut spreads = spreads;
        spreads.sort_by(|a, b| a.rotation.cmp(&b.rotation));
        let members: HashSet<&str> = self
            .rotations
            .iter()
            .flat_map(|r| r.members.iter().map(String::as_str))
            .collect();
        let overall = spread(
            None,
            &mut totals
                .values()
                .filter(|t| members.contains(t.person.as_str()))
                .map(|t| (t.person.as_str(), t.secs)),
        );
        Ok(Report {
            from,
            to,
            loads,
            totals: totals.into_values().collect(),
            spreads,
            overall,
        })
    }
}
