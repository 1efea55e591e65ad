//! `rota import`: another tool's schedule, read from the JSON its public API returns (PagerDuty,
//! Opsgenie, Grafana OnCall) or from any on-call calendar (`ics`), written as rota schedule files,
//! with a report of everything that could not be carried over.
//!
//! Each vendor module reads its JSON into an [`Import`]: people, one rotation (a vendor schedule
//! is one rota rotation, its layers or rotations or shifts the rotation's layers), overrides, the
//! report so far and the vendor's own final schedule, if the input holds one. [`finish`] then
//! does what every import shares:
//!
//! 1. renders the files (`people.toml`, `rotations.toml`, `overrides.toml`) with the `toml`
//!    crate, so no name or id from the input can break out of its string;
//! 2. loads them with rota-core, as `rota check` does, together with the other schedule files of
//!    the output directory (or, for `ics`, the schedules directory): files that do not load
//!    there are never written;
//! 3. lists the parts of overrides that rota cannot carry (rota's overrides replace whoever is on
//!    call, so they cannot fill a time when no layer has anyone on call);
//! 4. compares the imported schedule's resolved shifts with the vendor's final schedule over its
//!    window, and lists every difference;
//! 5. writes the files and `IMPORT-REPORT.md` into the directory, each first to a temporary file
//!    in the same directory and then moved into place, never over an existing file without
//!    `--force` (with it, the replaced files are kept until all are in place, and put back if
//!    one cannot be), and prints the report.

mod grafana_oncall;
mod ics;
mod json;
mod opsgenie;
mod pagerduty;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDateTime, Offset, TimeZone, Utc};
use clap::Subcommand;
use rota_core::{Restriction, Schedule, Tz};
use serde::Serialize;

/// `rota import ...`.
#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// PagerDuty: the JSON of GET /schedules/{id} (fetched with since and until, it holds the
    /// final schedule the import is checked against), with GET /schedules/{id}/overrides and
    /// GET /users (or GET /users/{id}) for overrides and email addresses.
    Pagerduty(pagerduty::Args),
    /// Opsgenie: the JSON of GET /v2/schedules/{id}, with its overrides, its timeline (the
    /// import is checked against finalTimeline) and GET /v2/users for names.
    Opsgenie(opsgenie::Args),
    /// Grafana OnCall: the JSON of GET /api/v1/schedules/{id}/, GET /api/v1/on_call_shifts/ and
    /// GET /api/v1/users/, with /schedules/{id}/final_shifts to check the import against.
    GrafanaOncall(grafana_oncall::Args),
    /// Any tool's exported on-call calendar (.ics file or http(s) URL), as overrides of one
    /// rotation of the schedules directory over a window: the fallback when nothing else fits.
    Ics(ics::Args),
}

/// Where an import writes, shared by every `rota import` command.
#[derive(clap::Args, Debug)]
pub struct OutArgs {
    /// The directory to write the schedule files and IMPORT-REPORT.md into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Replace the files of an earlier import in DIR; without it, rota import never overwrites.
    #[arg(long)]
    force: bool,
    /// Pretend it is TIME (RFC 3339): decides which layers have ended.
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
}

impl OutArgs {
    fn now(&self, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
        match &self.now {
            None => Ok(now),
            Some(t) => Ok(rota_core::tz::parse_instant(t, Tz::UTC).context("--now")?),
        }
    }
}

/// Runs one `rota import` command.
pub fn run(
    schedules: &Path,
    cmd: ImportCommand,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match cmd {
        ImportCommand::Pagerduty(a) => {
            let imp = pagerduty::import(&a, a.out.now(now)?)?;
            finish(imp, &a.out, out)
        }
        ImportCommand::Opsgenie(a) => {
            let imp = opsgenie::import(&a, a.out.now(now)?)?;
            finish(imp, &a.out, out)
        }
        ImportCommand::GrafanaOncall(a) => {
            let imp = grafana_oncall::import(&a, a.out.now(now)?)?;
            finish(imp, &a.out, out)
        }
        ImportCommand::Ics(a) => {
            let imp = ics::import(schedules, &a, a.out.now(now)?)?;
            finish(imp, &a.out, out)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What an import produces.

/// One import, before it is checked and written.
pub(crate) struct Import {
    /// `PagerDuty`, `Opsgenie`, `Grafana OnCall`, `calendar`.
    pub source: &'static str,
    /// The subcommand, for the files' header comment: `pagerduty`.
    pub command: &'static str,
    /// What was imported: `schedule "Platform Primary" (PSCH7LN)`.
    pub title: String,
    /// The files read, as given.
    pub inputs: Vec<String>,
    pub people: People,
    /// The rotation, unless nothing of the schedule could be imported (or the import only
    /// writes overrides).
    pub rotation: Option<RotationOut>,
    pub overrides: Vec<OverrideOut>,
    pub report: Report,
    /// The vendor's own resolved schedule, to compare the import with.
    pub finals: Vec<Final>,
    /// Schedule files the written ones join (`rota import ics`): loaded with them for the checks.
    /// When set, only `overrides.toml` is written.
    pub joins: Option<Vec<(String, String)>>,
    /// The text of an `overrides.toml` already in the output directory that the new overrides
    /// are added to (`rota import ics --force`): kept as it is, the new ones after it.
    pub keep: Option<String>,
}

impl Import {
    pub(crate) fn new(source: &'static str, command: &'static str, title: String) -> Import {
        Import {
            source,
            command,
            title,
            inputs: Vec::new(),
            people: People::default(),
            rotation: None,
            overrides: Vec::new(),
            report: Report::default(),
            finals: Vec::new(),
            joins: None,
            keep: None,
        }
    }
}

/// A person to write.
#[derive(Clone, Debug)]
pub(crate) struct PersonOut {
    pub name: String,
    pub email: Option<String>,
    pub timezone: Option<String>,
}

/// A user as the vendor describes them.
pub(crate) struct User<'a> {
    /// The vendor's id for the user (unique per import).
    pub key: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub timezone: Option<&'a str>,
    /// How the report names them: `PagerDuty user "Alice Ng" (PA1LN0G)`.
    pub what: String,
}

/// The people of an import, by the vendor's user id.
#[derive(Clone, Default)]
pub(crate) struct People {
    by_key: HashMap<String, String>,
    /// Person id by email address in ASCII lower case (the first person with it).
    by_email: HashMap<String, String>,
    ids: Ids,
    pub list: BTreeMap<String, PersonOut>,
}

/// Ids handed out so far: each new one is its base, or `base-2`, `base-3`, ... , the first not
/// taken. One growing set, and a counter per base, so that n clashes on one name cost n steps, not
/// n² (an input may name every user alike).
#[derive(Clone, Default)]
pub(crate) struct Ids {
    taken: HashSet<String>,
    next: HashMap<String, u64>,
}

impl Ids {
    /// Ids where `taken` are already in use.
    pub(crate) fn new<S: Into<String>>(taken: impl IntoIterator<Item = S>) -> Ids {
        Ids {
            taken: taken.into_iter().map(Into::into).collect(),
            next: HashMap::new(),
        }
    }

    /// `base`, or `base-N` for the smallest N from 2 not tried for `base` before and not taken;
    /// taken from now on.
    pub(crate) fn claim(&mut self, base: &str) -> String {
        if self.taken.insert(base.to_string()) {
            return base.to_string();
        }
        let n = self.next.entry(base.to_string()).or_insert(2);
        loop {
            let candidate = format!("{base}-{n}");
            *n += 1;
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// Whether rota's loader takes `e` as an email address (the same rule as load.rs).
pub(crate) fn plain_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
    }) && !e
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
}

impl People {
    /// The person id of a user, adding them on first sight. The id is the email's local part
    /// (before any `+`), else the name, else the vendor's id, made into `[a-z0-9-]` and unique.
    pub(crate) fn add(&mut self, u: User<'_>, report: &mut Report) -> String {
        if let Some(id) = self.by_key.get(u.key) {
            return id.clone();
        }
        let email = match u.email.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) if plain_email(e) => Some(e.to_string()),
            Some(e) => {
                report.lost(
                    &u.what,
                    format!(
                        "email {e:?} is not a plain address rota can mail: written without one"
                    ),
                );
                None
            }
            None => {
                report.lost(
                    &u.what,
                    "no email address in the input (give the users file to have one): written \
                     without one, so rota sends them no reminders",
                );
                None
            }
        };
        let timezone = match u.timezone.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => match rota_core::tz::parse_zone(t) {
                Ok(z) => Some(z.name().to_string()),
                Err(_) => {
                    report.lost(
                        &u.what,
                        format!("time zone {t:?} is not an IANA zone name: written without one"),
                    );
                    None
                }
            },
            None => None,
        };
        let name = u
            .name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let base = email
            .as_deref()
            .and_then(|e| e.split('@').next())
            .map(|l| l.split('+').next().unwrap_or(l))
            .map(slug)
            .filter(|s| !s.is_empty())
            .or_else(|| name.as_deref().map(slug).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| {
                let s = slug(u.key);
                if s.is_empty() { "person".into() } else { s }
            });
        let id = self.ids.claim(&base);
        self.by_key.insert(u.key.to_string(), id.clone());
        if let Some(e) = &email {
            self.by_email
                .entry(e.to_ascii_lowercase())
                .or_insert_with(|| id.clone());
        }
        self.list.insert(
            id.clone(),
            PersonOut {
                name: name.unwrap_or_else(|| id.clone()),
                email,
                timezone,
            },
        );
        id
    }

    /// The person id of a user already added.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.by_key.get(key).map(String::as_str)
    }

    /// The person id whose email is `email` (any case).
    pub(crate) fn by_email(&self, email: &str) -> Option<&str> {
        self.by_email
            .get(&email.trim().to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A rotation to write: one layer, written as a plain rotation, or several, written as
/// `[[rotations.ID.layers]]` with the highest precedence last.
#[derive(Clone, Debug)]
pub(crate) struct RotationOut {
    pub id: String,
    pub name: String,
    /// The rotation's display zone (and the layers' zone, when they share it).
    pub timezone: Tz,
    pub layers: Vec<LayerOut>,
    /// `[rotations.ID.slack]`: the user group and the channel, as Slack ids.
    pub slack: Option<SlackOut>,
}

/// `[rotations.ID.slack]`.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct SlackOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usergroup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// Whether rota's loader takes `s` as a Slack id starting with one of `prefixes` (load.rs).
pub(crate) fn slack_id(s: &str, prefixes: &[char]) -> bool {
    s.len() >= 2
        && s.starts_with(prefixes)
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// One layer: members handing off at a cadence in a zone, on call inside its windows.
#[derive(Clone, Debug)]
pub(crate) struct LayerOut {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
    pub timezone: Tz,
    /// Civil date-time of the first handoff.
    pub start: NaiveDateTime,
    pub cadence: Cadence,
    /// `active` windows, as written; `None` when always on call.
    pub active: Option<Vec<String>>,
    /// `advance = "when-active"` (else `"always"`).
    pub when_active: bool,
}

/// `every = "N units"` and its length in civil seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cadence {
    pub every: String,
    pub secs: i64,
}

/// The cadence of a turn `secs` long: whole weeks, days or hours; `None` for any other length.
pub(crate) fn cadence(secs: i64) -> Option<Cadence> {
    for (unit, name) in [(WEEK, "week"), (DAY, "day"), (HOUR, "hour")] {
        if secs > 0 && secs % unit == 0 {
            let n = secs / unit;
            if n > i64::from(rota_core::MAX_EVERY) {
                continue;
            }
            let plural = if n == 1 { "" } else { "s" };
            return Some(Cadence {
                every: format!("{n} {name}{plural}"),
                secs,
            });
        }
    }
    None
}

/// A file override to write.
#[derive(Clone, Debug)]
pub(crate) struct OverrideOut {
    pub id: String,
    pub rotation: String,
    pub person: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
}

/// What the report lists.
#[derive(Default)]
pub(crate) struct Report {
    /// (what, why): things of the source that are not in the written files, or not exactly.
    lost: Vec<(String, String)>,
    /// (what, note): readings of the source that the files rest on.
    notes: Vec<(String, String)>,
    /// Rendered paragraphs of the checks against the vendor's final schedule.
    checks: Vec<String>,
    /// Lines of `lost` so far by group (the item, unless said otherwise), and the groups that
    /// had more than [`MAX_PER_ITEM`], in the order they first did.
    per_group: HashMap<String, usize>,
    over: Vec<String>,
}

/// The most report lines one item (or group of lines) lists; the rest are counted.
pub(crate) const MAX_PER_ITEM: usize = 20;

impl Report {
    /// Something that could not be carried over, or not exactly.
    pub(crate) fn lost(&mut self, what: impl Into<String>, why: impl Into<String>) {
        let what = what.into();
        self.lost_in(what.clone(), what, why);
    }

    /// [`Report::lost`], counted under `group` for the cap on lines per item: the first
    /// [`MAX_PER_ITEM`] lines of a group are listed, the rest counted.
    pub(crate) fn lost_in(
        &mut self,
        group: impl Into<String>,
        what: impl Into<String>,
        why: impl Into<String>,
    ) {
        let group = group.into();
        let n = self.per_group.entry(group.clone()).or_insert(0);
        *n += 1;
        if *n <= MAX_PER_ITEM {
            self.lost.push((what.into(), why.into()));
        } else if *n == MAX_PER_ITEM + 1 {
            self.over.push(group);
        }
    }

    /// An assumption the import rests on.
    pub(crate) fn note(&mut self, what: impl Into<String>, note: impl Into<String>) {
        self.notes.push((what.into(), note.into()));
    }

    /// Every line of `lost`, listed or not.
    fn lost_count(&self) -> usize {
        self.lost.len()
            + self
                .over
                .iter()
                .map(|g| self.per_group[g] - MAX_PER_ITEM)
                .sum::<usize>()
    }
}

/// The files given for one paginated list (`--users p1.json --users p2.json`). Every page but the
/// last names a next one, so whether they hold the whole list is known only once all are read:
/// each is recorded here as it is read, and [`Pages::report`] is called after the last.
#[derive(Default)]
pub(crate) struct Pages {
    /// The files that are pages of the list (a file holding one object, from a single GET, is
    /// not).
    files: Vec<String>,
    /// The list's total across its pages (`totalCount`, `count`), the largest a page gives.
    total: Option<i64>,
    /// Whether a page given names no next page (is the last).
    last: bool,
    /// The items read from the pages, by id, each once.
    items: HashSet<String>,
}

impl Pages {
    /// A page of the list: its file, the total it gives and whether it names a next page.
    pub(crate) fn page(&mut self, file: &str, total: Option<i64>, next: bool) {
        self.files.push(file.to_string());
        if let Some(t) = total {
            self.total = Some(self.total.map_or(t, |x| x.max(t)));
        }
        self.last |= !next;
    }

    /// An item read from a page, by its id.
    pub(crate) fn item(&mut self, id: impl Into<String>) {
        self.items.insert(id.into());
    }

    /// Reports the pages when they do not hold the whole list: fewer distinct items than the
    /// total a page gives, or, when none gives one, no last page among them. `total` and `next`
    /// name the response's fields, `noun` its items; `then` says what is missing for it and what
    /// to do.
    pub(crate) fn report(
        &self,
        report: &mut Report,
        (total, next): (&str, &str),
        noun: &str,
        then: &str,
    ) {
        let one = self.files.len() == 1;
        let why = match self.total {
            Some(t) if (self.items.len() as i64) < t => format!(
                "{} {} of its {t} {noun} (`{total}`); {then}",
                if one {
                    "is one page of a longer list: it holds"
                } else {
                    "are pages of one list: together they hold"
                },
                self.items.len()
            ),
            None if !self.files.is_empty() && !self.last => {
                if one {
                    format!(
                        "is one page of a longer list (`{next}` is set, and no `{total}` is \
                         given): only that page was read; {then}"
                    )
                } else {
                    format!(
                        "are pages of one list, each with `{next}` set (and no `{total}` \
                         given), so its last page is not among them: only the pages given were \
                         read; {then}"
                    )
                }
            }
            _ => return,
        };
        report.lost(self.files.join(", "), why);
    }
}

/// A vendor's final (resolved) schedule over a window, to compare the import with.
pub(crate) struct Final {
    /// What it is: `PagerDuty's final schedule (final_schedule.rendered_schedule_entries)`.
    pub what: String,
    pub rotation: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Who is on call when, by person id (or, for a user the import has no person for, a
    /// description); entries may overlap (several people on call at once).
    pub entries: Vec<Expected>,
    /// Compare only where an entry says someone is on call (a calendar says nothing about the
    /// rest of the time).
    pub only_where_expected: bool,
}

impl Import {
    /// `wins`, a layer's restriction as the vendor gave it (`whose`: "its restrictions"), as the
    /// layer's `active` windows: `Some(None)` when there is none (no windows, or the whole week).
    /// When rota cannot write them, the report says `what` is not imported, and `None`.
    pub(crate) fn active_or_report(
        &mut self,
        what: &str,
        whose: &str,
        wins: &[Win],
    ) -> Option<Option<Vec<String>>> {
        if wins.is_empty() {
            return Some(None);
        }
        match active_windows(wins) {
            Ok(a) => Some(a),
            Err(why) => {
                self.report.lost(
                    what,
                    format!("{whose} cannot be written as rota windows ({why}): not imported"),
                );
                None
            }
        }
    }

    /// Adds `entries`, a vendor's final schedule (`source`, e.g. "PagerDuty's final schedule",
    /// read from `field`, e.g. "final_schedule.rendered_schedule_entries"), as the check of
    /// `rotation`: over
    /// `--since`/`--until` where given, else from the first entry's start to the last one's end
    /// (said in the report, since the requested range may begin or end with nobody on call). With
    /// no usable window the report says the import is not checked, and how to have it checked.
    pub(crate) fn check_against(
        &mut self,
        source: &str,
        field: &str,
        rotation: String,
        (since, until): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
        entries: Vec<Expected>,
    ) {
        if self.rotation.is_none() {
            return;
        }
        let first = entries.iter().map(|e| e.start).min();
        let last = entries.iter().map(|e| e.end).max();
        match (since.or(first), until.or(last)) {
            (Some(from), Some(to)) if from < to => {
                let over = match (since, until) {
                    (Some(_), Some(_)) => "over --since and --until",
                    (None, None) => {
                        "from its first entry's start to its last entry's end: give \
                                     the request's since and until as --since and --until to \
                                     compare the time before and after them too"
                    }
                    _ => "over --since or --until and its first or last entry",
                };
                self.finals.push(Final {
                    what: format!("{source} ({field}, {over})"),
                    rotation,
                    from,
                    to,
                    entries,
                    only_where_expected: false,
                });
            }
            _ => self.report.note(
                field,
                "has no entries (fetch it over a range and give that range as --since and \
                 --until): the import is not checked",
            ),
        }
    }
}

/// Someone on call for `[start, end)` in a vendor's final schedule.
#[derive(Clone, Debug)]
pub(crate) struct Expected {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub who: String,
}

/// A stretch where the import and the vendor's final schedule disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Difference {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Who the vendor has on call (sorted, at most [`MAX_NAMES`]; empty: nobody).
    pub expected: Vec<String>,
    /// How many more the vendor has on call then, not named.
    pub more: usize,
    /// Who rota has on call.
    pub actual: Option<String>,
}

/// The most people a difference names on the vendor's side.
const MAX_NAMES: usize = 10;

/// Every stretch of `[f.from, f.to)` where the resolved shifts of `f.rotation` in `schedule`
/// differ from `f.entries`, joined where consecutive stretches differ alike. Equal means: at every
/// instant, nobody on both sides, or one person on the vendor's side who is rota's person.
///
/// One sweep over the entries' and shifts' edges, sorted: who is on call on each side is kept as
/// a count per person while the sweep passes, so the cost is (entries + shifts) × log, whatever
/// the entries overlap.
pub(crate) fn differences(schedule: &Schedule, f: &Final) -> anyhow::Result<Vec<Difference>> {
    let shifts = schedule.shifts(&f.rotation, f.from, f.to)?;
    let clip = |s: DateTime<Utc>, e: DateTime<Utc>| (s.max(f.from), e.min(f.to));
    // (instant, +1 start / -1 end, vendor side?, index)
    let mut edges: Vec<(DateTime<Utc>, i8, bool, usize)> = Vec::new();
    for (i, e) in f.entries.iter().enumerate() {
        let (s, t) = clip(e.start, e.end);
        if s < t {
            edges.push((s, 1, true, i));
            edges.push((t, -1, true, i));
        }
    }
    for (i, sh) in shifts.iter().enumerate() {
        let (s, t) = clip(sh.start, sh.end);
        if s < t {
            edges.push((s, 1, false, i));
            edges.push((t, -1, false, i));
        }
    }
    edges.sort_unstable();
    let mut expected: BTreeMap<&str, usize> = BTreeMap::new();
    // Shift index -> person: the last shift listed wins, should rota ever list two at once.
    let mut actual: BTreeMap<usize, &str> = BTreeMap::new();
    let mut out: Vec<Difference> = Vec::new();
    let mut k = 0;
    let mut at = f.from;
    while at < f.to {
        while k < edges.len() && edges[k].0 <= at {
            let (_, d, vendor, i) = edges[k];
            if vendor {
                let who = f.entries[i].who.as_str();
                if d > 0 {
                    *expected.entry(who).or_insert(0) += 1;
                } else if let Some(n) = expected.get_mut(who) {
                    *n -= 1;
                    if *n == 0 {
                        expected.remove(who);
                    }
                }
            } else if d > 0 {
                actual.insert(i, shifts[i].person.id.as_str());
            } else {
                actual.remove(&i);
            }
            k += 1;
        }
        let next = edges.get(k).map_or(f.to, |e| e.0.min(f.to));
        let (a, b) = (at, next);
        at = next;
        let act = actual.last_key_value().map(|(_, p)| *p);
        let same = match (act, expected.len()) {
            (None, 0) => true,
            (Some(p), 1) => expected.contains_key(p),
            _ => false,
        };
        if same || (f.only_where_expected && expected.is_empty()) {
            continue;
        }
        let exp: Vec<String> = expected
            .keys()
            .take(MAX_NAMES)
            .map(|w| w.to_string())
            .collect();
        let more = expected.len().saturating_sub(MAX_NAMES);
        let act = act.map(str::to_string);
        if let Some(last) = out.last_mut()
            && last.to == a
            && last.expected == exp
            && last.more == more
            && last.actual == act
        {
            last.to = b;
            continue;
        }
        out.push(Difference {
            from: a,
            to: b,
            expected: exp,
            more,
            actual: act,
        });
    }
    Ok(out)
}

/// The longest final schedule compared with the import (a window of years is a mistake, and
/// resolving it would take long).
const MAX_CHECK_DAYS: i64 = 3 * 366;

/// The most differences a check lists one by one; the rest are counted.
const MAX_LISTED: usize = 100;

// ---------------------------------------------------------------------------------------------
// Ids, times and windows.

pub(crate) const HOUR: i64 = 3600;
pub(crate) const DAY: i64 = 86_400;
pub(crate) const WEEK: i64 = 7 * DAY;
/// Day names as schedule windows write them, Monday first.
pub(crate) const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// `s` as an id: ASCII letters (accents dropped) and digits, lower case, anything else one `-`,
/// at most 60 characters. May be empty.
pub(crate) fn slug(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let mut out = String::new();
    let mut gap = false;
    let push = |piece: &str, out: &mut String, gap: &mut bool| {
        if *gap && !out.is_empty() {
            out.push('-');
        }
        *gap = false;
        out.push_str(piece);
    };
    for c in s.nfkd() {
        if c.is_ascii_alphanumeric() {
            push(&c.to_ascii_lowercase().to_string(), &mut out, &mut gap);
        } else if is_combining_mark(c) {
            continue;
        } else {
            let folded = match c {
                'ß' => "ss",
                'æ' | 'Æ' => "ae",
                'œ' | 'Œ' => "oe",
                'ø' | 'Ø' => "o",
                'đ' | 'Đ' | 'ð' | 'Ð' => "d",
                'ł' | 'Ł' => "l",
                'þ' | 'Þ' => "th",
                'ı' => "i",
                _ => {
                    gap = true;
                    continue;
                }
            };
            push(folded, &mut out, &mut gap);
        }
        if out.len() >= 60 {
            break;
        }
    }
    out.truncate(60);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

type Since = Option<DateTime<Utc>>;
type Until = Option<DateTime<Utc>>;

/// `--since` and `--until` (RFC 3339), the range a final schedule was requested for; `--until`
/// must be after `--since`.
pub(crate) fn window_flags(
    since: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<(Since, Until)> {
    let parse = |flag: &str, v: Option<&str>| {
        v.map(|t| {
            DateTime::parse_from_rfc3339(t.trim())
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{flag}: {t:?} is not an RFC 3339 date-time with an offset ({e})"
                    )
                })
        })
        .transpose()
    };
    let (s, u) = (parse("--since", since)?, parse("--until", until)?);
    if let (Some(s), Some(u)) = (s, u)
        && u <= s
    {
        bail!("--until ({}) must be after --since ({})", utc(u), utc(s));
    }
    Ok((s, u))
}

/// An instant as the report and the files write it: `2025-06-11T11:00:00Z`.
pub(crate) fn utc(t: DateTime<Utc>) -> String {
    rota_core::view::utc(t)
}

/// The instant of civil time `c` in `tz`, by rota's gap and fold rules.
pub(crate) fn instant(tz: Tz, c: NaiveDateTime) -> Option<DateTime<Utc>> {
    rota_core::tz::resolve(tz, c).map(|r| r.instant)
}

/// The wall-clock time in `tz` at `t`.
pub(crate) fn civil(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// Whether `tz` changes its offset in the year of `t` (DST).
pub(crate) fn has_dst(tz: Tz, t: DateTime<Utc>) -> bool {
    use chrono::Datelike;
    let year = t.year();
    let at = |m: u32| {
        Utc.with_ymd_and_hms(year, m, 1, 0, 0, 0)
            .single()
            .map(|u| tz.offset_from_utc_datetime(&u.naive_utc()).fix())
    };
    (1..=12).filter_map(at).collect::<HashSet<_>>().len() > 1
}

/// A civil date-time as schedule files write it: `2025-05-05T09:00`, with seconds when it has
/// them.
pub(crate) fn civil_text(c: NaiveDateTime) -> String {
    use chrono::Timelike;
    if c.second() == 0 {
        c.format("%Y-%m-%dT%H:%M").to_string()
    } else {
        c.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

/// One window of the week: from `start` seconds into day `day` (Monday 0) for `secs` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Win {
    pub day: i64,
    pub start: i64,
    pub secs: i64,
}

fn hhmm(secs: i64) -> String {
    format!("{:02}:{:02}", secs / HOUR, (secs % HOUR) / 60)
}

/// Days as a window writes them: `Mon-Fri`, `Sat,Sun`, `Mon,Wed,Fri`.
fn day_list(days: &[i64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let mut j = i;
        while j + 1 < days.len() && days[j + 1] == days[j] + 1 {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!(
                "{}-{}",
                DAY_NAMES[days[i] as usize], DAY_NAMES[days[j] as usize]
            ));
        } else {
            parts.extend(
                days[i..=j]
                    .iter()
                    .map(|&d| DAY_NAMES[d as usize].to_string()),
            );
        }
        i = j + 1;
    }
    parts.join(",")
}

/// Windows as a rotation's `active` writes them: windows shorter than a day that share their times
/// are one `Mon-Fri 09:00-17:00` (or `09:00-17:00` on every day), longer ones
/// `Fri 16:00-Mon 09:00`. `Ok(None)` when they cover the whole week (no restriction); an error
/// when a window is empty or not in whole minutes, or rota does not take the result.
pub(crate) fn active_windows(wins: &[Win]) -> Result<Option<Vec<String>>, String> {
    if wins.is_empty() {
        return Err("no windows".into());
    }
    let mut short: BTreeMap<(i64, i64), Vec<i64>> = BTreeMap::new();
    let mut texts = Vec::new();
    for w in wins {
        if w.secs <= 0 {
            return Err("a window of no length".into());
        }
        if w.start % 60 != 0 || w.secs % 60 != 0 {
            return Err("a window that does not start and end on whole minutes".into());
        }
        if !(0..7).contains(&w.day) || !(0..DAY).contains(&w.start) {
            return Err("a window outside the week".into());
        }
        if w.secs >= WEEK {
            return Ok(None);
        }
        if w.secs < DAY {
            short.entry((w.start, w.secs)).or_default().push(w.day);
        } else {
            let end = w.start + w.secs;
            let end_day = (w.day + end / DAY) % 7;
            texts.push(format!(
                "{} {}-{} {}",
                DAY_NAMES[w.day as usize],
                hhmm(w.start),
                DAY_NAMES[end_day as usize],
                hhmm(end % DAY)
            ));
        }
    }
    let mut out = Vec::new();
    for ((start, secs), mut days) in short {
        days.sort_unstable();
        days.dedup();
        let end = start + secs;
        let end = if end == DAY {
            "24:00".to_string()
        } else {
            hhmm(end % DAY)
        };
        if days.len() == 7 {
            out.push(format!("{}-{end}", hhmm(start)));
        } else {
            out.push(format!("{} {}-{end}", day_list(&days), hhmm(start)));
        }
    }
    out.extend(texts);
    match Restriction::parse(&out) {
        Ok(None) => Ok(None),
        Ok(Some(_)) => Ok(Some(out)),
        Err((_, msg)) => Err(msg),
    }
}

/// Starts `layer` at the last handoff at or before `from` (counting in civil time, as rota
/// does), with the members turned so that every turn keeps its person, for a source whose layer
/// only takes effect at `from`. Returns that handoff when it is before `from`: rota has the turn's
/// person on call in `[handoff, from)`, where the source had nobody from this layer. Layers with
/// `advance = "when-active"` are left as they are (their turns are not a fixed step); `None`.
pub(crate) fn start_at(layer: &mut LayerOut, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if layer.when_active || layer.members.is_empty() {
        return None;
    }
    let diff = (civil(layer.timezone, from) - layer.start).num_seconds();
    let k = diff.div_euclid(layer.cadence.secs);
    if k != 0 {
        let start = layer
            .start
            .checked_add_signed(chrono::TimeDelta::seconds(k * layer.cadence.secs))?;
        layer.start = start;
        let n = layer.members.len() as i64;
        layer.members.rotate_left(k.rem_euclid(n) as usize);
    }
    let h = instant(layer.timezone, layer.start)?;
    (h < from).then_some(h)
}

// ---------------------------------------------------------------------------------------------
// The files.

#[derive(Serialize)]
struct PeopleFile<'a> {
    people: BTreeMap<&'a str, PersonToml<'a>>,
}

#[derive(Serialize)]
struct PersonToml<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<&'a str>,
}

#[derive(Serialize)]
struct RotationsFile<'a> {
    rotations: BTreeMap<&'a str, RotationToml<'a>>,
}

#[derive(Serialize, Default)]
struct RotationToml<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<&'a [String]>,
    timezone: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    every: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advance: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slack: Option<&'a SlackOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    layers: Vec<LayerToml<'a>>,
}

#[derive(Serialize)]
struct LayerToml<'a> {
    id: &'a str,
    name: &'a str,
    members: &'a [String],
    timezone: &'a str,
    start: String,
    every: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advance: Option<&'a str>,
}

#[derive(Serialize)]
struct OverridesFile<'a> {
    overrides: Vec<OverrideToml<'a>>,
}

#[derive(Serialize)]
struct OverrideToml<'a> {
    id: &'a str,
    rotation: &'a str,
    person: &'a str,
    start: String,
    end: String,
    reason: &'a str,
}

fn advance(l: &LayerOut) -> Option<&'static str> {
    match (&l.active, l.when_active) {
        (None, _) => None,
        (Some(_), true) => Some("when-active"),
        (Some(_), false) => Some("always"),
    }
}

/// The schedule files of an import: (file name, text).
fn render(imp: &Import) -> anyhow::Result<Vec<(&'static str, String)>> {
    let header = format!(
        "# Written by `rota import {}`. What could not be carried over is listed in \
         IMPORT-REPORT.md.\n\n",
        imp.command
    );
    let mut files = Vec::new();
    if imp.joins.is_none() {
        let people = PeopleFile {
            people: imp
                .people
                .list
                .iter()
                .map(|(id, p)| {
                    (
                        id.as_str(),
                        PersonToml {
                            name: &p.name,
                            email: p.email.as_deref(),
                            timezone: p.timezone.as_deref(),
                        },
                    )
                })
                .collect(),
        };
        let mut text = header.clone();
        if !people.people.is_empty() {
            text.push_str(&toml::to_string(&people).context("writing people.toml")?);
        }
        files.push(("people.toml", text));
        let mut text = header.clone();
        if let Some(r) = &imp.rotation {
            let rot = match r.layers.as_slice() {
                [l] => RotationToml {
                    name: &r.name,
                    members: Some(&l.members),
                    timezone: l.timezone.name(),
                    start: Some(civil_text(l.start)),
                    every: Some(&l.cadence.every),
                    active: l.active.as_deref(),
                    advance: advance(l),
                    slack: r.slack.as_ref(),
                    layers: Vec::new(),
                },
                layers => RotationToml {
                    name: &r.name,
                    timezone: r.timezone.name(),
                    slack: r.slack.as_ref(),
                    layers: layers
                        .iter()
                        .map(|l| LayerToml {
                            id: &l.id,
                            name: &l.name,
                            members: &l.members,
                            timezone: l.timezone.name(),
                            start: civil_text(l.start),
                            every: &l.cadence.every,
                            active: l.active.as_deref(),
                            advance: advance(l),
                        })
                        .collect(),
                    ..RotationToml::default()
                },
            };
            let file = RotationsFile {
                rotations: BTreeMap::from([(r.id.as_str(), rot)]),
            };
            text.push_str(&toml::to_string(&file).context("writing rotations.toml")?);
        }
        files.push(("rotations.toml", text));
    }
    let mut text = match &imp.keep {
        None => header,
        Some(kept) => {
            let mut t = kept.clone();
            if !imp.overrides.is_empty() {
                if !t.is_empty() && !t.ends_with('\n') {
                    t.push('\n');
                }
                t.push_str(&format!(
                    "\n# Added by `rota import {}`, after the overrides above. What could not be \
                     carried over is listed in IMPORT-REPORT.md.\n\n",
                    imp.command
                ));
            }
            t
        }
    };
    if !imp.overrides.is_empty() {
        let file = OverridesFile {
            overrides: imp
                .overrides
                .iter()
                .map(|o| OverrideToml {
                    id: &o.id,
                    rotation: &o.rotation,
                    person: &o.person,
                    start: utc(o.start),
                    end: utc(o.end),
                    reason: &o.reason,
                })
                .collect(),
        };
        text.push_str(&toml::to_string(&file).context("writing overrides.toml")?);
    }
    files.push(("overrides.toml", text));
    Ok(files)
}

/// The report's file name.
const REPORT: &str = "IMPORT-REPORT.md";

/// Someone on call from one instant to another: (start, end, person id).
pub(crate) type Piece = (DateTime<Utc>, DateTime<Utc>, String);

/// Who `layer` alone has on call in `[from, to)`, by rota's own reading of it, cut at the range.
pub(crate) fn layer_shifts(
    people: &People,
    layer: &LayerOut,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Vec<Piece>> {
    let mut imp = Import::new("", "layer", String::new());
    imp.people = people.clone();
    imp.rotation = Some(RotationOut {
        id: "layer".into(),
        name: "layer".into(),
        timezone: layer.timezone,
        layers: vec![layer.clone()],
        slack: None,
    });
    let files = render(&imp)?;
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let s = Schedule::load(&refs)
        .map_err(|e| anyhow::anyhow!("reading layer {:?} alone: {e}", layer.name))?;
    Ok(s.shifts("layer", from, to)?
        .iter()
        .map(|x| (x.start.max(from), x.end.min(to), x.person.id.clone()))
        .filter(|(a, b, _)| a < b)
        .collect())
}

/// How many stretches of the vendor's final schedules the import gets wrong, as it stands;
/// `None` when its files do not load.
pub(crate) fn trial(imp: &Import, dir: &Path) -> anyhow::Result<Option<usize>> {
    let files = render(imp)?;
    let (all, _) = loaded_with(imp, &files, dir)?;
    let refs: Vec<(&str, &str)> = all.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let Ok(schedule) = Schedule::load(&refs) else {
        return Ok(None);
    };
    let mut n = 0;
    for f in &imp.finals {
        if f.to - f.from <= chrono::TimeDelta::days(MAX_CHECK_DAYS) {
            n += differences(&schedule, f)?.len();
        }
    }
    Ok(Some(n))
}

/// Checks, reports and writes an import (see the module documentation).
pub(crate) fn finish(imp: Import, args: &OutArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    if !args.force {
        // Before the checks, which would otherwise report the clash of the old files with the
        // new ones.
        let mut names: Vec<&str> = if imp.joins.is_some() {
            vec!["overrides.toml"]
        } else {
            vec!["people.toml", "rotations.toml", "overrides.toml"]
        };
        names.push(REPORT);
        refuse_existing(&args.out, &names)?;
    }
    let (files, report) = build(imp, &args.out)?;
    write_files(&args.out, &files, &report, args.force)?;
    out.write_all(report.as_bytes())?;
    writeln!(
        out,
        "\nwrote {} and {REPORT} in {}",
        files.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        args.out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The schedule files (`*.toml`, as `rota check` reads a directory) of `dir` other than
/// `names`, as (path, text); none when `dir` does not exist yet.
fn other_files(dir: &Path, names: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| names.iter().any(|x| n == std::ffi::OsStr::new(x)))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// What `rota check` will load with the new `files` once they are in `dir`: the schedules
/// directory the overrides join (ics), or the other schedule files of `dir`, in the order rota
/// reads a directory. Returns them all, as (path, text), and the others alone.
#[allow(clippy::type_complexity)]
fn loaded_with(
    imp: &Import,
    files: &[(&str, String)],
    dir: &Path,
) -> anyhow::Result<(Vec<(String, String)>, Vec<(String, String)>)> {
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    let others = match &imp.joins {
        Some(j) => j.clone(),
        None => other_files(dir, &names)?,
    };
    let mut all: Vec<(String, String)> = others.clone();
    all.extend(
        files
            .iter()
            .map(|(n, t)| (dir.join(n).display().to_string(), t.clone())),
    );
    if imp.joins.is_none() {
        all.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok((all, others))
}

/// The files of an import, loaded and checked, and its report: everything [`finish`] does but
/// writing them into `dir`.
fn build(mut imp: Import, dir: &Path) -> anyhow::Result<(Vec<(&'static str, String)>, String)> {
    let files = render(&imp)?;
    let named = |name: &str| dir.join(name).display().to_string();
    let (all, others) = loaded_with(&imp, &files, dir)?;
    let refs: Vec<(&str, &str)> = all.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let checked = Schedule::check(&refs, &|_| Ok(()));
    let schedule = match checked.schedule {
        Ok(s) => s,
        Err(e) => {
            let lines: Vec<String> = e.diagnostics().iter().map(|d| d.to_string()).collect();
            let alone: Vec<(String, String)> =
                files.iter().map(|(n, t)| (named(n), t.clone())).collect();
            let alone: Vec<(&str, &str)> = alone
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str()))
                .collect();
            if imp.joins.is_none() && !others.is_empty() && Schedule::load(&alone).is_ok() {
                bail!(
                    "nothing was written: the files rota import made do not load together with \
                     the other schedule files in {} ({}), so rota check would fail there:\n{}\n\
                     Import into a directory of its own, or remove the clash from the files \
                     there first.",
                    dir.display(),
                    others
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    lines.join("\n")
                );
            }
            bail!(
                "nothing was written: the files rota import made do not pass rota check:\n{}",
                lines.join("\n")
            );
        }
    };
    for w in &checked.warnings {
        imp.report.note("rota check", format!("warning: {w}"));
    }
    // The parts of overrides that no layer's time is under.
    if let Some(r) = &imp.rotation
        && !imp.overrides.is_empty()
    {
        let ours = named("overrides.toml");
        let base: Vec<(&str, &str)> = refs.iter().filter(|(n, _)| *n != ours).copied().collect();
        let base = Schedule::load(&base)
            .map_err(|e| anyhow::anyhow!("loading the imported files again: {e}"))?;
        for o in &imp.overrides {
            if o.end - o.start > chrono::TimeDelta::days(MAX_CHECK_DAYS) {
                imp.report.note(
                    format!("override {}", o.reason),
                    format!(
                        "lasts more than {MAX_CHECK_DAYS} days: where no layer has anyone on call \
                         in it, so that rota cannot place {} there, is not worked out",
                        o.person
                    ),
                );
                continue;
            }
            let shifts = base.shifts(&r.id, o.start, o.end)?;
            let mut at = o.start;
            let mut gaps = Vec::new();
            for s in &shifts {
                if s.start > at {
                    gaps.push((at, s.start.min(o.end)));
                }
                at = at.max(s.end);
            }
            if at < o.end {
                gaps.push((at, o.end));
            }
            for (a, b) in gaps {
                imp.report.lost(
                    format!("override {}", o.reason),
                    format!(
                        "{} to {}: no layer has anyone on call then, and rota's overrides \
                         replace only whoever is on call, so {} is not on call there",
                        utc(a),
                        utc(b),
                        o.person
                    ),
                );
            }
        }
    }
    let finals = std::mem::take(&mut imp.finals);
    for f in &finals {
        if f.to - f.from > chrono::TimeDelta::days(MAX_CHECK_DAYS) {
            imp.report.checks.push(format!(
                "{} from {} to {}: not checked, as it spans more than {MAX_CHECK_DAYS} days.",
                f.what,
                utc(f.from),
                utc(f.to)
            ));
            continue;
        }
        let diffs = differences(&schedule, f)?;
        imp.report
            .checks
            .push(check_paragraph(imp.source, f, &diffs));
    }
    let report = render_report(&imp, &files);
    Ok((files, report))
}

fn check_paragraph(source: &str, f: &Final, diffs: &[Difference]) -> String {
    let mut s = format!(
        "{} from {} to {} ({} entries), compared with the imported rotation `{}`: ",
        f.what,
        utc(f.from),
        utc(f.to),
        f.entries.len(),
        f.rotation
    );
    if diffs.is_empty() {
        s.push_str(if f.only_where_expected {
            "rota has the same person on call in every one of them."
        } else {
            "the same people on call at every instant."
        });
        return s;
    }
    s.push_str(&format!(
        "{} difference{}:\n",
        diffs.len(),
        if diffs.len() == 1 { "" } else { "s" }
    ));
    let who = |v: &[String], more: usize| match (v, more) {
        ([], _) => "nobody".to_string(),
        (v, 0) => md(&v.join(" and ")),
        (v, n) => format!("{} and {n} others", md(&v.join(", "))),
    };
    for d in diffs.iter().take(MAX_LISTED) {
        let together = if d.expected.len() + d.more > 1 {
            " (all on call at once; rota has one person at a time)"
        } else {
            ""
        };
        s.push_str(&format!(
            "\n- {} to {}: {source} has {}{together}; rota has {}",
            utc(d.from),
            utc(d.to),
            who(&d.expected, d.more),
            md(d.actual.as_deref().unwrap_or("nobody"))
        ));
    }
    if diffs.len() > MAX_LISTED {
        s.push_str(&format!(
            "\n- ... and {} more differences",
            diffs.len() - MAX_LISTED
        ));
    }
    s
}

fn render_report(imp: &Import, files: &[(&str, String)]) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut wrote = Vec::new();
    for (name, _) in files {
        let what = match *name {
            "people.toml" => plural(imp.people.list.len(), "person", "people"),
            "rotations.toml" => match &imp.rotation {
                Some(r) => format!(
                    "rotation `{}`, {}",
                    r.id,
                    plural(r.layers.len(), "layer", "layers")
                ),
                None => "no rotation".into(),
            },
            _ if imp.keep.is_some() => format!(
                "{} added after the ones already there",
                plural(imp.overrides.len(), "override", "overrides")
            ),
            _ => plural(imp.overrides.len(), "override", "overrides"),
        };
        wrote.push(format!("{name} ({what})"));
    }
    let mut blocks = vec![
        format!("# rota import: {} {}", imp.source, md(&imp.title)),
        format!("Read: {}.", md(&imp.inputs.join(", "))),
        format!("Wrote: {}.", wrote.join(", ")),
        "## Checked against the source's own schedule".to_string(),
    ];
    if imp.report.checks.is_empty() {
        blocks.push(
            "Not checked: the input holds no final schedule to compare with (the README says \
             which request gives one)."
                .into(),
        );
    }
    blocks.extend(imp.report.checks.iter().cloned());
    let items = |list: &[(String, String)]| {
        list.iter()
            .map(|(what, why)| format!("- **{}**: {}", md(what), md(why)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    blocks.push(format!("## Not carried over ({})", imp.report.lost_count()));
    blocks.push(if imp.report.lost.is_empty() {
        "Nothing: everything read is in the written files.".into()
    } else {
        let mut listed = items(&imp.report.lost);
        for g in &imp.report.over {
            let more = imp.report.per_group[g] - MAX_PER_ITEM;
            listed.push_str(&format!(
                "\n- **{}**: and {more} more like the {MAX_PER_ITEM} above, not listed one by one",
                md(g)
            ));
        }
        listed
    });
    if !imp.report.notes.is_empty() {
        blocks.push(format!("## Assumptions ({})", imp.report.notes.len()));
        blocks.push(items(&imp.report.notes));
    }
    let mut s = blocks.join("\n\n");
    s.push('\n');
    s
}

/// Text from the input, made safe for one Markdown list item: control characters (line breaks)
/// become spaces, and every character Markdown or HTML could read as markup is escaped with a
/// backslash (CommonMark escapes any ASCII punctuation): no link (`[text](url)`, `<url>`, a bare
/// `https://` or `www.` that GitHub would link), no HTML tag or entity, no emphasis or code span
/// can come from a name. An `_` inside a word (`final_schedule`) is left as it is: it cannot open
/// emphasis there.
fn md(s: &str) -> String {
    let chars: Vec<char> = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let escape = match c {
            '\\' | '*' | '[' | ']' | '<' | '>' | '&' | '~' | '|' | '!' => true,
            '_' => {
                !(before.is_some_and(char::is_alphanumeric)
                    && after.is_some_and(char::is_alphanumeric))
            }
            // `https://`, and `www.` at the start of a word: GitHub's autolinks.
            ':' => after == Some('/') && chars.get(i + 2) == Some(&'/'),
            '.' => {
                i >= 3
                    && chars[i - 3..i]
                        .iter()
                        .collect::<String>()
                        .eq_ignore_ascii_case("www")
                    && (i == 3 || !chars[i - 4].is_alphanumeric())
            }
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Refuses, naming them, when any of `names` is already in `dir`: rota import never overwrites
/// without `--force`.
fn refuse_existing(dir: &Path, names: &[&str]) -> anyhow::Result<()> {
    let there: Vec<String> = names
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if !there.is_empty() {
        bail!(
            "{} already there; rota import never overwrites files: give --force to replace \
             them, or another --out directory",
            there.join(", ")
        );
    }
    Ok(())
}

/// Writes `files` and the report into `dir`: all to temporary files first, then each moved into
/// place. Without `force`, a file already there stops the import before anything is written,
/// and each file is linked into place only if its name is still free. With `force`, every file
/// about to be replaced is first kept under a backup name (a hard link, else a copy); if moving
/// one of the new files into place fails, the ones already moved are put back (the replaced
/// files from their backups, new names removed), so the directory is left as it was. The backups
/// are removed once every file is in place, or once they are restored.
fn write_files(
    dir: &Path,
    files: &[(&str, String)],
    report: &str,
    force: bool,
) -> anyhow::Result<()> {
    let mut all: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    all.push((REPORT, report));
    if !force {
        let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
        refuse_existing(dir, &names)?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let pid = std::process::id();
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> anyhow::Result<()> {
        for (name, text) in &all {
            let tmp = dir.join(format!(".{name}.rota-import-{pid}.tmp"));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .with_context(|| format!("creating {}", tmp.display()))?;
            temps.push((tmp.clone(), dir.join(name)));
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("writing {}", tmp.display()))?;
        }
        Ok(())
    })();
    let remove_all = |paths: &mut dyn Iterator<Item = &PathBuf>| {
        for p in paths {
            let _ = std::fs::remove_file(p);
        }
    };
    if let Err(e) = result {
        remove_all(&mut temps.iter().map(|(t, _)| t));
        return Err(e);
    }
    // With --force: (target, its backup) for every target that is a file now.
    let mut backups: Vec<(PathBuf, PathBuf)> = Vec::new();
    if force {
        for (_, target) in &temps {
            let Ok(meta) = target.symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                // Nothing to keep: moving a file over it fails, and the rest is undone.
                continue;
            }
            let name = target.file_name().unwrap_or_default().to_string_lossy();
            let bak = dir.join(format!(".{name}.rota-import-{pid}.bak"));
            let _ = std::fs::remove_file(&bak);
            let kept = std::fs::hard_link(target, &bak)
                .or_else(|_| std::fs::copy(target, &bak).map(|_| ()));
            if let Err(e) = kept {
                remove_all(&mut backups.iter().map(|(_, b)| b));
                remove_all(&mut temps.iter().map(|(t, _)| t));
                return Err(e).with_context(|| {
                    format!(
                        "keeping {} before replacing it (nothing was written)",
                        target.display()
                    )
                });
            }
            backups.push((target.clone(), bak));
        }
    }
    let mut placed: Vec<&Path> = Vec::new();
    for (tmp, target) in &temps {
        let moved = if force {
            std::fs::rename(tmp, target)
        } else {
            // A hard link fails if the name was taken meanwhile, where a rename would replace.
            match std::fs::hard_link(tmp, target) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && !target.exists() => {
                    std::fs::rename(tmp, target)
                }
                r => r,
            }
        };
        if let Err(e) = moved {
            // Put back what was moved: the replaced files from their backups, new names removed.
            let mut unrestored = Vec::new();
            for p in placed.iter().rev() {
                let restored = match backups.iter().find(|(t, _)| t == p) {
                    Some((_, bak)) => std::fs::rename(bak, p),
                    None => std::fs::remove_file(p),
                };
                if restored.is_err() {
                    unrestored.push(p.display().to_string());
                }
            }
            let restored_baks: Vec<&PathBuf> = backups
                .iter()
                .filter(|(t, _)| !unrestored.contains(&t.display().to_string()))
                .map(|(_, b)| b)
                .collect();
            remove_all(&mut restored_baks.into_iter());
            remove_all(&mut temps.iter().map(|(t, _)| t));
            let undone = if unrestored.is_empty() {
                "nothing was changed: the files moved before it were put back".to_string()
            } else {
                format!(
                    "{} could not be put back; their previous versions are kept beside them as \
                     .NAME.rota-import-{pid}.bak",
                    unrestored.join(", ")
                )
            };
            return Err(e).with_context(|| format!("writing {} ({undone})", target.display()));
        }
        placed.push(target);
    }
    remove_all(&mut backups.iter().map(|(_, b)| b));
    remove_all(&mut temps.iter().map(|(t, _)| t));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages given for one list are reported only when they are not all of it, whichever
    /// pages name a next one: fewer items than the total, or, without a total, no last page.
    #[test]
    fn pages_are_judged_together() {
        let said = |pages: &[(&str, Option<i64>, bool, &[&str])]| {
            let mut p = Pages::default();
            for (file, total, next, ids) in pages {
                p.page(file, *total, *next);
                for id in *ids {
                    p.item(*id);
                }
            }
            let mut r = Report::default();
            p.report(
                &mut r,
                ("totalCount", "paging.next"),
                "users",
                "give every page",
            );
            r.lost
        };
        // Every page given: the first names a next one, and says nothing.
        assert!(
            said(&[
                ("a", Some(3), true, &["1", "2"]),
                ("b", Some(3), false, &["3"])
            ])
            .is_empty()
        );
        assert!(said(&[("a", None, true, &["1", "2"]), ("b", None, false, &["3"])]).is_empty());
        // The same page twice is not the whole list.
        assert_eq!(
            said(&[
                ("a", Some(3), true, &["1", "2"]),
                ("a2", Some(3), true, &["1", "2"])
            ]),
            [(
                "a, a2".to_string(),
                "are pages of one list: together they hold 2 of its 3 users (`totalCount`); \
                 give every page"
                    .to_string()
            )]
        );
        assert_eq!(
            said(&[("a", Some(3), false, &["1"])])[0].1,
            "is one page of a longer list: it holds 1 of its 3 users (`totalCount`); give \
             every page"
        );
        // No total: only a missing last page says the list is cut.
        assert_eq!(
            said(&[("a", None, true, &["1"])])[0].1,
            "is one page of a longer list (`paging.next` is set, and no `totalCount` is given): \
             only that page was read; give every page"
        );
        assert!(
            said(&[("a", None, true, &["1"]), ("b", None, true, &["2"])])[0]
                .1
                .starts_with("are pages of one list, each with `paging.next` set")
        );
        assert!(said(&[]).is_empty());
    }

    /// Every value of every fixture, replaced by values of every other kind and by extreme
    /// ones: the import either works or fails with an error, and never panics.
    #[test]
    fn no_input_makes_an_import_panic() {
        use clap::Parser;
        use serde_json::{Value, json};

        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            cmd: ImportCommand,
        }
        fn leaves(v: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
            out.push(at.clone());
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        at.push(json!(k));
                        leaves(x, at, out);
                        at.pop();
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        at.push(json!(i));
                        leaves(x, at, out);
                        at.pop();
                    }
                }
                _ => {}
            }
        }
        fn set(v: &mut Value, path: &[Value], new: Value) {
            let mut cur = v;
            for p in path {
                cur = match p {
                    Value::String(k) => &mut cur[k.as_str()],
                    Value::Number(i) => &mut cur[i.as_u64().unwrap_or(0) as usize],
                    _ => return,
                };
            }
            *cur = new;
        }
        let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import");
        let tmp = tempfile::tempdir().unwrap();
        let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
        let odd = [
            json!(null),
            json!(-1),
            json!(1e300),
            json!(i64::MIN),
            json!([]),
            json!("0001-01-01T00:00:00"),
            json!("9999-12-31T23:59:59+14:00"),
        ];
        // (command, the file mutated, the arguments, FILE where the mutated file goes)
        let runs: [(&str, &str, &[&str]); 7] = [
            (
                "pagerduty",
                "pagerduty/schedule.json",
                &[
                    "FILE",
                    "--overrides",
                    "pagerduty/overrides.json",
                    "--users",
                    "pagerduty/users.json",
                ],
            ),
            (
                "pagerduty",
                "pagerduty/overrides.json",
                &["pagerduty/schedule.json", "--overrides", "FILE"],
            ),
            (
                "opsgenie",
                "opsgenie/schedule.json",
                &[
                    "FILE",
                    "--overrides",
                    "opsgenie/overrides.json",
                    "--timeline",
                    "opsgenie/timeline.json",
                ],
            ),
            (
                "opsgenie",
                "opsgenie/timeline.json",
                &["opsgenie/schedule.json", "--timeline", "FILE"],
            ),
            (
                "opsgenie",
                "opsgenie/overrides.json",
                &[
                    "opsgenie/schedule.json",
                    "--overrides",
                    "FILE",
                    "--timeline",
                    "opsgenie/timeline.json",
                ],
            ),
            (
                "grafana-oncall",
                "grafana-oncall/shifts.json",
                &[
                    "grafana-oncall/schedule.json",
                    "--shifts",
                    "FILE",
                    "--users",
                    "grafana-oncall/users.json",
                    "--final-shifts",
                    "grafana-oncall/final-shifts.json",
                ],
            ),
            (
                "grafana-oncall",
                "grafana-oncall/schedule.json",
                &["FILE", "--shifts", "grafana-oncall/shifts.json"],
            ),
        ];
        let mut panics = Vec::new();
        let mut runs_done = 0;
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        for (cmd, mutated, rest) in runs {
            let text = std::fs::read_to_string(fixtures.join(mutated)).unwrap();
            let original: Value = serde_json::from_str(&text).unwrap();
            let mut paths = Vec::new();
            leaves(&original, &mut Vec::new(), &mut paths);
            let file = tmp.path().join("mutated.json");
            for path in &paths {
                for new in &odd {
                    let mut v = original.clone();
                    set(&mut v, path, new.clone());
                    std::fs::write(&file, v.to_string()).unwrap();
                    let mut argv = vec!["x".to_string(), cmd.to_string()];
                    for a in rest {
                        argv.push(match *a {
                            "FILE" => file.display().to_string(),
                            a if a.ends_with(".json") => fixtures.join(a).display().to_string(),
                            a => a.to_string(),
                        });
                    }
                    argv.push("--out".into());
                    argv.push(tmp.path().join("out").display().to_string());
                    let cli = Cli::try_parse_from(&argv).unwrap();
                    let result = std::panic::catch_unwind(|| -> anyhow::Result<()> {
                        let imp = match &cli.cmd {
                            ImportCommand::Pagerduty(a) => pagerduty::import(a, now)?,
                            ImportCommand::Opsgenie(a) => opsgenie::import(a, now)?,
                            ImportCommand::GrafanaOncall(a) => grafana_oncall::import(a, now)?,
                            ImportCommand::Ics(_) => anyhow::bail!("not fuzzed here"),
                        };
                        build(imp, tmp.path())?;
                        Ok(())
                    });
                    runs_done += 1;
                    if result.is_err() {
                        panics.push(format!("{mutated} {path:?} = {new}"));
                    }
                }
            }
        }
        std::panic::set_hook(hook);
        assert!(runs_done > 5000, "{runs_done}");
        assert!(
            panics.is_empty(),
            "{} panics:\n{}",
            panics.len(),
            panics.join("\n")
        );
    }

    /// Hostile input: 20,000 entries or periods all overlapping one another (every one with
    /// another person) are one sweep, not entries × stretches.
    #[test]
    fn overlapping_entries_are_swept_once() {
        let files = [(
            "s.toml",
            "[people.a]\nname = \"A\"\n\n[rotations.r]\nname = \"R\"\nmembers = [\"a\"]\n\
             timezone = \"UTC\"\nstart = \"2025-01-01T00:00\"\nevery = \"1 week\"\n",
        )];
        let schedule = Schedule::load(&files).unwrap();
        let t0 = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let s = |n: i64| t0 + chrono::TimeDelta::seconds(n);
        const N: i64 = 20_000;
        let entries: Vec<Expected> = (0..N)
            .map(|i| Expected {
                start: s(i),
                end: s(2 * N - i),
                who: format!("p{i:05}"),
            })
            .collect();
        let f = Final {
            what: "test".into(),
            rotation: "r".into(),
            from: t0,
            to: s(3 * N),
            entries,
            only_where_expected: false,
        };
        let started = std::time::Instant::now();
        let d = differences(&schedule, &f).unwrap();
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
        // p00000 alone for a second, with rota's a: different; then ever more people at once.
        assert_eq!(d[0].expected, ["p00000"]);
        assert_eq!((d[0].from, d[0].to), (s(0), s(1)));
        assert_eq!(d[1].expected.len(), 2);
        let middle = &d[(N - 1) as usize];
        assert_eq!(middle.expected.len(), MAX_NAMES);
        assert_eq!(middle.more, (N as usize) - MAX_NAMES);
        assert_eq!(middle.actual.as_deref(), Some("a"));
        // After everyone's end, only rota has someone: one joined stretch.
        let last = d.last().unwrap();
        assert_eq!((last.from, last.to), (s(2 * N), s(3 * N)));
        assert!(last.expected.is_empty());
        assert_eq!(d.len(), 2 * N as usize);

        let periods: Vec<(DateTime<Utc>, DateTime<Utc>, String, String)> = (0..N)
            .map(|i| (s(i), s(2 * N - i), format!("p{i:05}"), "r".to_string()))
            .collect();
        let mut imp = Import::new("Opsgenie", "opsgenie", String::new());
        let started = std::time::Instant::now();
        opsgenie::overlaps(&mut imp, &periods);
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
        assert_eq!(imp.report.lost.len(), MAX_PER_ITEM);
        assert_eq!(imp.report.lost_count(), 2 * N as usize - 3);
        assert!(
            imp.report.lost[0]
                .1
                .starts_with("Opsgenie has p00000 (\"r\") and p00001 (\"r\") on call at once"),
            "{:?}",
            imp.report.lost[0]
        );
        assert!(
            imp.report.lost[12]
                .1
                .contains(" and 4 others on call at once"),
            "{:?}",
            imp.report.lost[12]
        );
    }

    #[test]
    fn markdown_from_the_input_is_escaped() {
        assert_eq!(
            md("[a](https://x.example) <b>&amp; *c* `d` __e__ www.f.example\nnew"),
            "\\[a\\](https\\://x.example) \\<b\\>\\&amp; \\*c\\* `d` \\_\\_e\\_\\_ www\\.f.example new"
        );
        assert_eq!(
            md("final_schedule.rendered_schedule_entries"),
            "final_schedule.rendered_schedule_entries"
        );
        assert_eq!(md("awww.x"), "awww.x");
    }

    #[test]
    fn slugs_are_plain_ids() {
        assert_eq!(slug("Alice Ng"), "alice-ng");
        assert_eq!(slug("  José Müller-Straße  "), "jose-muller-strasse");
        assert_eq!(
            slug("Weekday business hours (Mon-Fri)"),
            "weekday-business-hours-mon-fri"
        );
        assert_eq!(slug("日本"), "");
        assert_eq!(slug(&"x".repeat(100)).len(), 60);
        let mut ids = Ids::new(["bob", "bob-2"]);
        assert_eq!(ids.claim("bob"), "bob-3");
        assert_eq!(ids.claim("bob"), "bob-4");
        assert_eq!(ids.claim("carol"), "carol");
        assert_eq!(ids.claim("carol"), "carol-2");
        // A base that is another's numbered id.
        assert_eq!(ids.claim("bob-4"), "bob-4-2");
        // Many clashes on one name cost one step each.
        let mut ids = Ids::default();
        for _ in 0..100_000 {
            ids.claim("x");
        }
        assert_eq!(ids.claim("x"), "x-100001");
    }

    #[test]
    fn windows_are_written_as_rota_reads_them() {
        let w = |day, h, secs| Win {
            day,
            start: h * HOUR,
            secs,
        };
        let weekdays: Vec<Win> = (0..5).map(|d| w(d, 9, 8 * HOUR)).collect();
        assert_eq!(
            active_windows(&weekdays).unwrap().unwrap(),
            ["Mon-Fri 09:00-17:00"]
        );
        assert_eq!(
            active_windows(&[w(4, 16, 65 * HOUR)]).unwrap().unwrap(),
            ["Fri 16:00-Mon 09:00"]
        );
        let daily: Vec<Win> = (0..7).map(|d| w(d, 22, 8 * HOUR)).collect();
        assert_eq!(active_windows(&daily).unwrap().unwrap(), ["22:00-06:00"]);
        assert_eq!(
            active_windows(&[w(5, 0, DAY - HOUR), w(6, 18, 6 * HOUR)])
                .unwrap()
                .unwrap(),
            ["Sat 00:00-23:00", "Sun 18:00-24:00"]
        );
        assert_eq!(
            active_windows(&[w(0, 9, HOUR), w(2, 9, HOUR)])
                .unwrap()
                .unwrap(),
            ["Mon,Wed 09:00-10:00"]
        );
        assert_eq!(active_windows(&[w(0, 0, WEEK)]).unwrap(), None);
        assert!(
            active_windows(&[Win {
                day: 0,
                start: 30,
                secs: HOUR
            }])
            .is_err()
        );
        assert!(active_windows(&[w(0, 1, 0)]).is_err());
    }

    #[test]
    fn cadences_are_whole_units() {
        assert_eq!(cadence(604_800).unwrap().every, "1 week");
        assert_eq!(cadence(2 * DAY).unwrap().every, "2 days");
        assert_eq!(cadence(12 * HOUR).unwrap().every, "12 hours");
        assert_eq!(cadence(5400), None);
        assert_eq!(cadence(0), None);
    }

    #[test]
    fn a_layer_starts_at_the_turn_that_holds_its_start() {
        let london: Tz = "Europe/London".parse().unwrap();
        let mut l = LayerOut {
            id: "x".into(),
            name: "x".into(),
            members: vec!["a".into(), "b".into(), "c".into()],
            timezone: london,
            start: rota_core::tz::parse_civil("2025-05-05T09:00").unwrap(),
            cadence: cadence(WEEK).unwrap(),
            active: None,
            when_active: false,
        };
        // Four weeks and a day later: turn 4, which is b's.
        let from = "2025-06-03T08:00:00Z".parse().unwrap();
        let h = start_at(&mut l, from).unwrap();
        assert_eq!(utc(h), "2025-06-02T08:00:00Z");
        assert_eq!(civil_text(l.start), "2025-06-02T09:00");
        assert_eq!(l.members, ["b", "c", "a"]);
        // Before the start: turns counted backwards.
        let from = "2025-06-02T08:00:00Z".parse().unwrap();
        let mut m = l.clone();
        m.start = rota_core::tz::parse_civil("2025-06-16T09:00").unwrap();
        assert_eq!(start_at(&mut m, from), None);
        assert_eq!(civil_text(m.start), "2025-06-02T09:00");
        // Two turns back from b's: c's.
        assert_eq!(m.members, ["c", "a", "b"]);
    }
}
