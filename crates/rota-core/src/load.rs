//! Reading schedule files (TOML text) into a [`Schedule`], reporting every problem found.
//!
//! This module takes the files' *texts*; reading them from disk is the caller's job (rota-core
//! does no I/O). All files are merged into one schedule and ids are unique across files.
//!
//! Every problem is a [`Diagnostic`] with the file, line and column, the TOML key path and what
//! would be valid. The loader keeps going after a problem so that one run reports them all; a file
//! with a TOML syntax error is still scanned as far as the parser could recover, but references to
//! ids are only cross-checked when every file parsed, so one typo does not cascade into a page of
//! "unknown person" errors. No input makes it panic (it is fuzzed: see `tests/` and `fuzz/`).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::cadence::{self, Handoffs, Recurrence};
use crate::error::{Diagnostic, Error, ErrorKind};
use crate::model::{Displaced, Layer, Link, Override, Person, Rotation, Team};
use crate::restrict::{Advance, Restriction, Turns};
use crate::schedule::{Parts, Schedule};
use crate::tz;

type Span = Range<usize>;

/// Largest schedule file accepted, so a stray huge file is refused rather than parsed.
const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// The start an rrule is checked from when the rotation's own `start` is missing or invalid.
/// How many times longer, on average, one layer's shifts may be than another's in one rotation.
const MAX_LAYER_RATIO: i64 = 2_000;

const STAND_IN_START: NaiveDateTime = match chrono::NaiveDate::from_ymd_opt(2000, 1, 3) {
    Some(d) => match d.and_hms_opt(0, 0, 0) {
        Some(t) => t,
        None => NaiveDateTime::MIN,
    },
    None => NaiveDateTime::MIN,
};

impl Schedule {
    /// Loads a schedule from the texts of its files, given as `(name, text)`; the name is used in
    /// diagnostics. Files are merged in the order given (which decides which of two overlapping file
    /// overrides is newer: the later one).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Schedule`] with every problem found, each located by file, line, column and
    /// key path.
    ///
    /// # Examples
    ///
    /// ```
    /// use rota_core::Schedule;
    /// let bad = "[rotations.hero]\nmembers = []\ntimezone = \"Europe/Londn\"\n";
    /// let err = Schedule::load(&[("hero.toml", bad)]).unwrap_err();
    /// let lines: Vec<String> = err.diagnostics().iter().map(|d| d.to_string()).collect();
    /// assert!(lines.iter().any(|l| l.starts_with("hero.toml:1:12: rotations.hero: missing `start`")));
    /// assert!(lines.iter().any(|l| l.starts_with("hero.toml:2:11: rotations.hero.members: empty member list")));
    /// let tz = lines.iter().find(|l| l.starts_with("hero.toml:3:12: rotations.hero.timezone")).unwrap();
    /// assert!(tz.contains("unknown time zone \"Europe/Londn\" (did you mean \"Europe/London\"?)"));
    /// ```
    pub fn load(files: &[(&str, &str)]) -> Result<Schedule, Error> {
        Schedule::check(files, &|_| Ok(())).schedule
    }

    /// [`Schedule::load`] for `rota check`: also asks `calendar_file` about every calendar source
    /// that is a file path (`absence`, `holidays`; URLs are not passed), and collects warnings.
    ///
    /// rota-core does no I/O, so the caller says whether such a file can be read:
    /// `calendar_file(path)` returns `Err(why)` when it cannot, and that becomes a problem located
    /// at the key that names the file.
    ///
    /// Warnings are things a schedule may do but that are likely mistakes; they are reported even
    /// when the load fails, and never make it fail:
    ///
    /// - Two file overrides of one rotation that overlap. Both apply, and where they overlap the
    ///   one defined later wins (a later file, in the order given, or later in the same file), as
    ///   the resolution rule for overrides says (oldest first, the newest wins).
    ///
    /// # Examples
    ///
    /// ```
    /// use rota_core::Schedule;
    /// let text = "[people.a]\nname = \"A\"\nabsence = \"away.ics\"\n";
    /// let checked = Schedule::check(&[("people.toml", text)], &|path| {
    ///     Err(format!("cannot read {path}: no such file"))
    /// });
    /// let err = checked.schedule.unwrap_err();
    /// assert_eq!(
    ///     err.diagnostics()[0].to_string(),
    ///     "people.toml:3:11: people.a.absence: cannot read away.ics: no such file"
    /// );
    /// ```
    pub fn check(
        files: &[(&str, &str)],
        calendar_file: &dyn Fn(&str) -> Result<(), String>,
    ) -> Checked {
        let mut loader = Loader::default();
        for (i, (name, text)) in files.iter().enumerate() {
            loader.files.push(FileInfo::new(name, text));
            loader.file(i, text);
        }
        for (loc, key, path) in std::mem::take(&mut loader.calendar_files) {
            if let Err(why) = calendar_file(&path) {
                loader.problem(&loc, &key, why);
            }
        }
        loader.finish()
    }
}

/// What [`Schedule::check`] found: the schedule or every problem, and the warnings either way.
#[derive(Debug)]
pub struct Checked {
    /// The schedule, or every problem found.
    pub schedule: Result<Schedule, Error>,
    /// Likely mistakes that do not stop the schedule loading, in file order, located like
    /// problems.
    pub warnings: Vec<Diagnostic>,
}

struct FileInfo {
    name: String,
    line_starts: Vec<usize>,
    text: String,
}

impl FileInfo {
    fn new(name: &str, text: &str) -> FileInfo {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        FileInfo {
            name: name.to_string(),
            line_starts,
            text: text.to_string(),
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.line_starts[line];
        let mut col_end = offset;
        while !self.text.is_char_boundary(col_end) {
            col_end -= 1;
        }
        let col = self
            .text
            .get(start..col_end)
            .map_or(0, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// Where something is: file index and byte span.
#[derive(Clone, Debug)]
struct Loc {
    file: usize,
    span: Span,
}

#[derive(Clone, Debug)]
enum TimeVal {
    Civil(NaiveDateTime),
    Instant(DateTime<Utc>),
}

struct RawPerson {
    person: Person,
    key: String,
    team: Option<(String, Loc)>,
}

struct RawRotation {
    id: String,
    key: String,
    loc: Loc,
    name: String,
    team: Option<(String, Loc)>,
    /// The rotation's zone: its own `timezone`, or its first layer's.
    timezone: Option<Tz>,
    /// One for a plain rotation.
    layers: Vec<RawLayer>,
    slack: Option<crate::SlackSettings>,
}

struct RawLayer {
    id: Option<(String, Loc)>,
    name: Option<String>,
    loc: Loc,
    /// (person id, where, key path)
    members: Vec<(String, Loc, String)>,
    timezone: Option<Tz>,
    start: Option<NaiveDateTime>,
    recurrence: Option<(Recurrence, Loc)>,
    active: Option<Restriction>,
    advance: Advance,
}

struct RawLink {
    key: String,
    from: (String, Loc),
    to: Vec<(String, Loc)>,
    displaced: Displaced,
}

struct RawWebhook {
    webhook: crate::Webhook,
    loc: Loc,
}

struct RawOverride {
    key: String,
    id: String,
    /// The `id` value, or the override's table when it has none.
    id_loc: Loc,
    rotation: (String, Loc),
    person: (String, Loc),
    start: Option<(TimeVal, Loc)>,
    end: Option<(TimeVal, Loc)>,
    reason: Option<String>,
}

#[derive(Default)]
struct Loader {
    files: Vec<FileInfo>,
    /// (file, offset, key, message)
    problems: Vec<(usize, usize, String, String)>,
    syntax_errors: bool,
    hero_rotation: Option<(String, Loc)>,
    holidays: Option<(String, Loc)>,
    admins: Vec<(String, Loc)>,
    teams: BTreeMap<String, (Team, Loc)>,
    people: BTreeMap<String, (RawPerson, Loc)>,
    rotations: BTreeMap<String, RawRotation>,
    links: Vec<RawLink>,
    overrides: Vec<RawOverride>,
    webhooks: Vec<RawWebhook>,
    /// Calendar sources that are file paths: (where, key, path as written).
    calendar_files: Vec<(Loc, String, String)>,
    /// (file, offset, key, message), like `problems`, for things that are allowed but likely
    /// mistakes.
    warnings: Vec<(usize, usize, String, String)>,
}

fn kind_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A key that is valid as a bare TOML key prints as is; anything else is quoted.
fn key_part(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        key_part(k)
    } else {
        format!("{path}.{}", key_part(k))
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(!ca.eq_ignore_ascii_case(cb));
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `" (did you mean \"x\"?)"` for the candidate closest to `given`, or nothing when none is close.
pub(crate) fn suggest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (distance(given, c), c))
        .filter(|&(d, c)| d <= 2.max(c.chars().count() / 4) && d < given.chars().count().max(1))
        .min();
    match best {
        Some((_, c)) => format!(" (did you mean {c:?}?)"),
        None => String::new(),
    }
}

/// The message for an id that names nothing, as `rota check` words it: `unknown person "bobb" (did
/// you mean "bob"?); known people: alice, bob`. `what` is `person`, `team` or `rotation` (any
/// noun whose plural adds an s, and `person`). The CLI and the API use it for unknown ids too.
///
/// ```
/// let m = rota_core::unknown_id_message("rotation", "suport-hero", &["support-hero", "platform"]);
/// assert_eq!(
///     m,
///     "unknown rotation \"suport-hero\" (did you mean \"support-hero\"?); known rotations: support-hero, platform"
/// );
/// ```
pub fn unknown_id_message(what: &str, id: &str, known: &[&str]) -> String {
    let plural = if what == "person" {
        "people".to_string()
    } else {
        format!("{what}s")
    };
    format!(
        "unknown {what} {id:?}{}; known {plural}: {}",
        suggest(id, known.iter().copied()),
        list(known)
    )
}

fn list(known: &[&str]) -> String {
    if known.is_empty() {
        return "none are defined".to_string();
    }
    let mut s = known
        .iter()
        .take(12)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if known.len() > 12 {
        s.push_str(&format!(", ... ({} in all)", known.len()));
    }
    s
}

impl Loader {
    fn problem(&mut self, loc: &Loc, key: &str, message: String) {
        // Where toml's recovering parser could not read a value, it stands in an integer with the
        // empty span 0..0. A complaint about that value would point at 1:1 and speak of an
        // integer nobody wrote; the syntax error already reports the spot.
        if self.syntax_errors && !key.is_empty() && loc.span == (0..0) {
            return;
        }
        self.problems
            .push((loc.file, loc.span.start, key.to_string(), message));
    }

    fn file(&mut self, fi: usize, text: &str) {
        if text.len() > MAX_FILE_BYTES {
            let loc = Loc {
                file: fi,
                span: 0..0,
            };
            self.problem(
                &loc,
                "",
                format!("file is larger than {} MiB", MAX_FILE_BYTES >> 20),
            );
            self.syntax_errors = true;
            return;
        }
        let (doc, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            self.syntax_errors = true;
            for e in errors {
                let span = e.span().unwrap_or(0..0);
                let msg = e.message().trim().replace('\n', " ");
                self.problem(&Loc { file: fi, span }, "", format!("TOML syntax: {msg}"));
            }
        }
        let doc = doc.into_inner();
        for (k, v) in doc.iter() {
            let key = k.get_ref().as_ref();
            let loc = Loc {
                file: fi,
                span: v.span(),
            };
            let kloc = Loc {
                file: fi,
                span: k.span(),
            };
            match key {
                "hero_rotation" => {
                    if let Some(s) = self.string(fi, v, "hero_rotation") {
                        if let Some((_, prev)) = &self.hero_rotation {
                            let at = self.at(prev);
                            self.problem(&loc, "hero_rotation", format!("hero_rotation is already set at {at}; set it in one file only"));
                        } else {
                            self.hero_rotation = Some((s, loc));
                        }
                    }
                }
                "holidays" => {
                    if let Some(s) = self.string(fi, v, "holidays") {
                        if let Some((_, prev)) = &self.holidays {
                            let at = self.at(prev);
                            self.problem(&loc, "holidays", format!("holidays is already set at {at}; set it in one file only"));
                        } else if self.calendar_source(&loc, "holidays", &s) {
                            self.holidays = Some((s, loc));
                        }
                    }
                }
                "admins" => {
                    for (s, l) in self.string_list(fi, v, "admins") {
                        self.admins.push((s, l));
                    }
                }
                "teams" => self.tables(fi, v, "teams", |me, id, t, l| me.team(fi, id, t, l)),
                "people" => self.tables(fi, v, "people", |me, id, t, l| me.person(fi, id, t, l)),
                "rotations" => self.tables(fi, v, "rotations", |me, id, t, l| me.rotation(fi, id, t, l)),
                "links" => self.array_of_tables(fi, v, "links", |me, key, t, l| me.link(fi, key, t, l)),
                "overrides" => self.array_of_tables(fi, v, "overrides", |me, key, t, l| me.override_(fi, key, t, l)),
                "webhooks" => self.array_of_tables(fi, v, "webhooks", |me, key, t, l| me.webhook(fi, key, t, l)),
                other => self.problem(
                    &kloc,
                    &key_part(other),
                    format!(
                        "unknown key{}; expected one of: hero_rotation, admins, holidays, teams, people, rotations, links, overrides, webhooks",
                        suggest(other, ["hero_rotation", "admins", "holidays", "teams", "people", "rotations", "links", "overrides", "webhooks"])
                    ),
                ),
            }
        }
    }

    fn at(&self, loc: &Loc) -> String {
        let f = &self.files[loc.file];
        let (l, c) = f.line_col(loc.span.start);
        format!("{}:{l}:{c}", f.name)
    }

    fn string(&mut self, fi: usize, v: &Spanned<DeValue<'_>>, key: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                let msg = format!("expected a string, found {}", kind_name(other));
                self.problem(
                    &Loc {
                        file: fi,
                        span: v.span(),
                    },
                    key,
                    msg,
                );
                None
            }
        }
    }

    /// A string or an array of strings.
    fn string_list(
        &mut self,
        fi: usize,
        v: &Spanned<DeValue<'_>>,
        key: &str,
    ) -> Vec<(String, Loc)> {
        match v.get_ref() {
            DeValue::String(s) => vec![(
                s.to_string(),
                Loc {
                    file: fi,
                    span: v.span(),
                },
            )],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let k = format!("{key}[{i}]");
                    if let Some(s) = self.string(fi, item, &k) {
                        out.push((
                            s,
                            Loc {
                                file: fi,
                                span: item.span(),
                            },
                        ));
                    }
                }
                out
            }
            other => {
                let msg = format!("expected an array of strings, found {}", kind_name(other));
                self.problem(
                    &Loc {
                        file: fi,
                        span: v.span(),
                    },
                    key,
                    msg,
                );
                Vec::new()
            }
        }
    }

    fn tables(
        &mut self,
        fi: usize,
        v: &Spanned<DeValue<'_>>,
        key: &str,
        mut each: impl FnMut(&mut Self, &str, &DeTable<'_>, Loc),
    ) {
        let DeValue::Table(t) = v.get_ref() else {
            let msg = format!(
                "expected a table of {key} by id ([{key}.ID]), found {}",
                kind_name(v.get_ref())
            );
            self.problem(
                &Loc {
                    file: fi,
                    span: v.span(),
                },
                key,
                msg,
            );
            return;
        };
        for (id, body) in t.iter() {
            let id_s = id.get_ref().as_ref();
            let path = join(key, id_s);
            let loc = Loc {
                file: fi,
                span: id.span(),
            };
            if id_s.is_empty()
                || id_s
                    .chars()
                    .any(|c| c.is_whitespace() || c == '/' || c.is_control())
            {
                self.problem(
                    &loc,
                    &path,
                    "an id must be non-empty, with no spaces, slashes or control characters".into(),
                );
                continue;
            }
            match body.get_ref() {
                DeValue::Table(bt) => each(self, id_s, bt, loc),
                other => {
                    let msg = format!("expected a table, found {}", kind_name(other));
                    self.problem(
                        &Loc {
                            file: fi,
                            span: body.span(),
                        },
                        &path,
                        msg,
                    );
                }
            }
        }
    }

    fn array_of_tables(
        &mut self,
        fi: usize,
        v: &Spanned<DeValue<'_>>,
        key: &str,
        mut each: impl FnMut(&mut Self, String, &DeTable<'_>, Loc),
    ) {
        let DeValue::Array(items) = v.get_ref() else {
            let msg = format!(
                "expected an array of tables ([[{key}]]), found {}",
                kind_name(v.get_ref())
            );
            self.problem(
                &Loc {
                    file: fi,
                    span: v.span(),
                },
                key,
                msg,
            );
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("{key}[{i}]");
            match item.get_ref() {
                DeValue::Table(t) => each(
                    self,
                    path,
                    t,
                    Loc {
                        file: fi,
                        span: item.span(),
                    },
                ),
                other => {
                    let msg = format!("expected a table, found {}", kind_name(other));
                    self.problem(
                        &Loc {
                            file: fi,
                            span: item.span(),
                        },
                        &path,
                        msg,
                    );
                }
            }
        }
    }

    /// Checks the keys of a table against the known ones; returns the values by key.
    fn fields<'t, 'i>(
        &mut self,
        fi: usize,
        path: &str,
        t: &'t DeTable<'i>,
        known: &[&str],
    ) -> HashMap<&'t str, &'t Spanned<DeValue<'i>>> {
        let mut out = HashMap::new();
        for (k, v) in t.iter() {
            let ks = k.get_ref().as_ref();
            if known.contains(&ks) {
                out.insert(ks, v);
            } else {
                let msg = format!(
                    "unknown key{}; expected one of: {}",
                    suggest(ks, known.iter().copied()),
                    known.join(", ")
                );
                self.problem(
                    &Loc {
                        file: fi,
                        span: k.span(),
                    },
                    &join(path, ks),
                    msg,
                );
            }
        }
        out
    }

    fn check_duplicate<T>(
        &mut self,
        map: &BTreeMap<String, (T, Loc)>,
        id: &str,
        what: &str,
        path: &str,
        loc: &Loc,
    ) -> bool {
        if let Some((_, prev)) = map.get(id) {
            let at = self.at(prev);
            self.problem(loc, path, format!("duplicate {what} id {id:?}: already defined at {at}; ids must be unique across all files"));
            return true;
        }
        false
    }

    fn team(&mut self, fi: usize, id: &str, t: &DeTable<'_>, loc: Loc) {
        let path = join("teams", id);
        let f = self.fields(fi, &path, t, &["name"]);
        let name = f
            .get("name")
            .and_then(|v| self.string(fi, v, &join(&path, "name")))
            .unwrap_or_else(|| id.to_string());
        let teams = std::mem::take(&mut self.teams);
        let dup = self.check_duplicate(&teams, id, "team", &path, &loc);
        self.teams = teams;
        if !dup {
            self.teams.insert(
                id.to_string(),
                (
                    Team {
                        id: id.to_string(),
                        name,
                    },
                    loc,
                ),
            );
        }
    }

    /// Checks the form of a calendar source (`absence`, `holidays`): an `http(s)://` URL or a path.
    /// Paths are remembered for [`Schedule::check`], whose caller says whether the file is there;
    /// whether a URL answers is checked by whoever fetches it.
    fn calendar_source(&mut self, loc: &Loc, key: &str, src: &str) -> bool {
        // Calendar URLs are often secrets (Google's "secret address", Apple's published
        // calendars), and these messages reach logs and /healthz: they never repeat the address.
        let problem = if src.trim().is_empty() {
            Some("empty calendar source; expected an https:// URL or the path of an .ics file relative to the schedules directory".to_string())
        } else if src.chars().any(char::is_control) {
            Some("the calendar source contains control characters".to_string())
        } else if let Some((scheme, rest)) = src.split_once("://") {
            let lower = scheme.to_ascii_lowercase();
            if lower == "http" || lower == "https" {
                (rest.is_empty() || rest.starts_with('/'))
                    .then(|| "the calendar URL has no host".to_string())
            } else if lower == "webcal" || lower == "webcals" {
                Some(format!(
                    "{lower}:// is how calendar apps spell subscriptions; write the same address with https:// instead"
                ))
            } else if scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                Some(format!(
                    "unsupported scheme {lower:?}; expected an https:// URL or the path of an .ics file relative to the schedules directory"
                ))
            } else {
                Some("unsupported calendar source; expected an https:// URL or the path of an .ics file relative to the schedules directory".to_string())
            }
        } else if src.starts_with('/')
            || src.starts_with('\\')
            || std::path::Path::new(src).components().any(|c| {
                !matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
        {
            // The service shows a source's read errors on /healthz, so it reads only files the
            // schedule's own directory holds.
            Some(format!(
                "calendar files must be inside the schedules directory: write a relative path without \"..\" (got {src:?})"
            ))
        } else {
            None
        };
        match problem {
            Some(m) => {
                self.problem(loc, key, m);
                false
            }
            None => {
                if !src.contains("://") {
                    self.calendar_files
                        .push((loc.clone(), key.to_string(), src.to_string()));
                }
                true
            }
        }
    }

    fn timezone(&mut self, fi: usize, v: &Spanned<DeValue<'_>>, key: &str) -> Option<Tz> {
        let s = self.string(fi, v, key)?;
        match tz::parse_zone(&s) {
            Ok(tz) => Some(tz),
            Err(msg) => {
                self.problem(
                    &Loc {
                        file: fi,
                        span: v.span(),
                    },
                    key,
                    msg,
                );
                None
            }
        }
    }

    fn person(&mut self, fi: usize, id: &str, t: &DeTable<'_>, loc: Loc) {
        let path = join("people", id);
        let f = self.fields(
            fi,
            &path,
            t,
            &["name", "email", "team", "timezone", "absence", "hours"],
        );
        let name = f
            .get("name")
            .and_then(|v| self.string(fi, v, &join(&path, "name")))
            .unwrap_or_else(|| id.to_string());
        let mut email = None;
        if let Some(v) = f.get("email") {
            let key = join(&path, "email");
            if let Some(e) = self.string(fi, v, &key) {
                let ok = e.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                }) && !e.chars().any(|c| {
                    c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ','
                });
                if ok {
                    email = Some(e);
                } else {
                    self.problem(&Loc { file: fi, span: v.span() }, &key, format!("invalid email address {e:?}; expected a plain address such as \"alice@example.com\""));
                }
            }
        }
        let team = f.get("team").and_then(|v| {
            self.string(fi, v, &join(&path, "team")).map(|s| {
                (
                    s,
                    Loc {
                        file: fi,
                        span: v.span(),
                    },
                )
            })
        });
        let timezone = f
            .get("timezone")
            .and_then(|v| self.timezone(fi, v, &join(&path, "timezone")));
        let hours = f.get("hours").and_then(|v| {
            let key = join(&path, "hours");
            let list = self.string_list(fi, v, &key);
            if list.is_empty() {
                if matches!(v.get_ref(), DeValue::Array(a) if a.is_empty()) {
                    self.problem(&Loc { file: fi, span: v.span() }, &key, "empty list of working hours: leave `hours` out when they are not known, or give windows such as \"Mon-Fri 09:00-17:30\"".into());
                }
                return None;
            }
            if timezone.is_none() {
                self.problem(&Loc { file: fi, span: v.span() }, &key, "working hours are on the person's own clock: give `timezone` too, e.g. timezone = \"Europe/London\"".into());
                return None;
            }
            let texts: Vec<&str> = list.iter().map(|w| w.0.as_str()).collect();
            // All week is an answer too (someone always at work), unlike for `active`.
            match Restriction::parse_all(&texts) {
                Ok(r) => Some(r),
                Err((i, msg)) => {
                    let is_list = matches!(v.get_ref(), DeValue::Array(_));
                    let (l, k) = match list.get(i) {
                        Some((_, l)) if is_list => (l.clone(), format!("{key}[{i}]")),
                        _ => (Loc { file: fi, span: v.span() }, key),
                    };
                    self.problem(&l, &k, msg);
                    None
                }
            }
        });
        let mut absence = Vec::new();
        if let Some(v) = f.get("absence") {
            let key = join(&path, "absence");
            // One string, or a list: each problem names the element it is about.
            let list: Vec<(String, Loc, String)> = match v.get_ref() {
                DeValue::String(s) => vec![(
                    s.to_string(),
                    Loc {
                        file: fi,
                        span: v.span(),
                    },
                    key.clone(),
                )],
                DeValue::Array(items) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| {
                        let k = format!("{key}[{i}]");
                        self.string(fi, item, &k).map(|s| {
                            (
                                s,
                                Loc {
                                    file: fi,
                                    span: item.span(),
                                },
                                k,
                            )
                        })
                    })
                    .collect(),
                _ => {
                    self.string_list(fi, v, &key);
                    Vec::new()
                }
            };
            for (src, l, k) in list {
                if self.calendar_source(&l, &k, &src) && !absence.contains(&src) {
                    absence.push(src);
                }
            }
        }
        let people = std::mem::take(&mut self.people);
        let dup = self.check_duplicate(&people, id, "person", &path, &loc);
        self.people = people;
        if !dup {
            let person = Person {
                id: id.to_string(),
                name,
                email,
                team: team.as_ref().map(|t| t.0.clone()),
                timezone,
                absence,
                hours,
            };
            self.people.insert(
                id.to_string(),
                (
                    RawPerson {
                        person,
                        key: path,
                        team,
                    },
                    loc,
                ),
            );
        }
    }

    fn civil_value(
        &mut self,
        fi: usize,
        v: &Spanned<DeValue<'_>>,
        key: &str,
        allow_instant: bool,
    ) -> Option<TimeVal> {
        let text = match v.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Datetime(d) => d.to_string(),
            other => {
                let msg = format!(
                    "expected a date-time string such as \"2026-11-02T09:00\", found {}",
                    kind_name(other)
                );
                self.problem(
                    &Loc {
                        file: fi,
                        span: v.span(),
                    },
                    key,
                    msg,
                );
                return None;
            }
        };
        if let Some(c) = tz::parse_civil(&text) {
            return Some(TimeVal::Civil(c));
        }
        if allow_instant
            && let Ok(t) = DateTime::parse_from_rfc3339(text.trim())
            && (tz::MIN_SECS..=tz::MAX_SECS).contains(&t.timestamp())
        {
            return Some(TimeVal::Instant(t.with_timezone(&Utc)));
        }
        let expected = if allow_instant {
            "a civil date-time in the rotation's zone (\"2026-12-21T09:00\") or RFC 3339 with an offset (\"2026-12-21T09:00:00Z\")"
        } else {
            "a civil date-time in the rotation's zone, such as \"2026-11-02T09:00\" (no offset: the zone is `timezone`)"
        };
        self.problem(
            &Loc {
                file: fi,
                span: v.span(),
            },
            key,
            format!("invalid date-time {text:?}; expected {expected}"),
        );
        None
    }

    fn rotation(&mut self, fi: usize, id: &str, t: &DeTable<'_>, loc: Loc) {
        let path = join("rotations", id);
        let f = self.fields(
            fi,
            &path,
            t,
            &[
                "name", "team", "members", "timezone", "start", "every", "rrule", "active",
                "advance", "slack", "layers",
            ],
        );
        let name = f
            .get("name")
            .and_then(|v| self.string(fi, v, &join(&path, "name")))
            .unwrap_or_else(|| id.to_string());
        let team = f.get("team").and_then(|v| {
            self.string(fi, v, &join(&path, "team")).map(|s| {
                (
                    s,
                    Loc {
                        file: fi,
                        span: v.span(),
                    },
                )
            })
        });
        let (timezone, layers) = match f.get("layers") {
            Some(v) => {
                for k in ["members", "start", "every", "rrule", "active", "advance"] {
                    if let Some(x) = f.get(k) {
                        self.problem(
                            &Loc { file: fi, span: x.span() },
                            &join(&path, k),
                            format!("a rotation with `layers` gives `{k}` in each layer, not in the rotation"),
                        );
                    }
                }
                let zone = f
                    .get("timezone")
                    .and_then(|v| self.timezone(fi, v, &join(&path, "timezone")));
                let key = join(&path, "layers");
                let mut layers: Vec<RawLayer> = Vec::new();
                self.array_of_tables(fi, v, &key, |me, lpath, lt, lloc| {
                    let lf = me.fields(
                        fi,
                        &lpath,
                        lt,
                        &[
                            "id", "name", "members", "timezone", "start", "every", "rrule",
                            "active", "advance",
                        ],
                    );
                    let lid = lf.get("id").and_then(|x| {
                        let k = join(&lpath, "id");
                        let s = me.string(fi, x, &k)?;
                        let ok = !s.is_empty()
                            && s.len() <= 64
                            && s.chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                        if !ok {
                            me.problem(
                                &Loc {
                                    file: fi,
                                    span: x.span(),
                                },
                                &k,
                                format!(
                                    "invalid layer id {s:?}: 1 to 64 letters, digits, `-` or `_`"
                                ),
                            );
                            return None;
                        }
                        Some((
                            s,
                            Loc {
                                file: fi,
                                span: x.span(),
                            },
                        ))
                    });
                    let lname = lf
                        .get("name")
                        .and_then(|x| me.string(fi, x, &join(&lpath, "name")));
                    let mut layer = me.layer(fi, &lpath, &lf, &lloc, zone);
                    layer.id = lid;
                    layer.name = lname;
                    layers.push(layer);
                });
                if layers.is_empty() && matches!(v.get_ref(), DeValue::Array(a) if a.is_empty()) {
                    self.problem(
                        &Loc {
                            file: fi,
                            span: v.span(),
                        },
                        &key,
                        "empty list of layers: give at least one [[rotations.ID.layers]] table"
                            .into(),
                    );
                }
                // Slot numbers: a layer without an id numbers its shifts 0, 1, 2...; a layer with
                // one, from its id's tag. At most one may go without, and tags must differ.
                let mut seen: Vec<(u64, String)> = Vec::new();
                let mut anonymous = 0;
                for (i, l) in layers.iter().enumerate() {
                    match &l.id {
                        None => {
                            anonymous += 1;
                            if anonymous > 1 {
                                self.problem(&l.loc, &format!("{key}[{i}]"), "at most one layer may go without an `id`: give each layer an id such as id = \"weekdays\"".into());
                            }
                        }
                        Some((lid, lloc)) => {
                            let tag = crate::model::layer_tag(lid);
                            if let Some((_, other)) = seen.iter().find(|(t, _)| *t == tag) {
                                let msg = if other == lid {
                                    format!("duplicate layer id {lid:?} in this rotation")
                                } else {
                                    format!(
                                        "layer ids {other:?} and {lid:?} would number their shifts alike; rename one"
                                    )
                                };
                                self.problem(lloc, &format!("{key}[{i}].id"), msg);
                            }
                            seen.push((tag, lid.clone()));
                        }
                    }
                }
                // A lookup composes every layer's slots around the instant, as long as the longest
                // layer's slot: layers whose shifts differ too much in length would make each
                // lookup walk many short slots.
                let lengths: Vec<i64> = layers
                    .iter()
                    .filter_map(|l| {
                        let (Some(start), Some((rec, _))) = (l.start, &l.recurrence) else {
                            return None;
                        };
                        let h = Handoffs::new(l.timezone.unwrap_or(Tz::UTC), start, rec).ok()?;
                        let (period, k) = h.per_period();
                        Some(period / k as i64)
                    })
                    .collect();
                if let (Some(&lo), Some(&hi)) = (lengths.iter().min(), lengths.iter().max())
                    && hi > lo.max(1) * MAX_LAYER_RATIO
                {
                    self.problem(&Loc { file: fi, span: v.span() }, &key, format!("the layers' shifts differ too much in length (on average {} against {} hours); at most {MAX_LAYER_RATIO} times: make the longest a rotation of its own", lo / 3600, hi / 3600));
                }
                (
                    zone.or_else(|| layers.first().and_then(|l| l.timezone)),
                    layers,
                )
            }
            None => {
                let layer = self.layer(fi, &path, &f, &loc, None);
                (layer.timezone, vec![layer])
            }
        };
        let slack = f
            .get("slack")
            .and_then(|v| self.slack(fi, &join(&path, "slack"), v));
        if self.rotations.contains_key(id) {
            let at = self.at(&self.rotations[id].loc);
            self.problem(&loc, &path, format!("duplicate rotation id {id:?}: already defined at {at}; ids must be unique across all files"));
            return;
        }
        self.rotations.insert(
            id.to_string(),
            RawRotation {
                id: id.to_string(),
                key: path,
                loc,
                name,
                team,
                timezone,
                layers,
                slack,
            },
        );
    }

    /// The cadence of one layer (a plain rotation's own table, or one of its `layers`): members,
    /// zone (`default_zone` when the layer gives none), start, `every` or `rrule`, windows.
    fn layer(
        &mut self,
        fi: usize,
        path: &str,
        f: &HashMap<&str, &Spanned<DeValue<'_>>>,
        loc: &Loc,
        default_zone: Option<Tz>,
    ) -> RawLayer {
        let path = path.to_string();
        let loc = loc.clone();
        let members = match f.get("members") {
            Some(v) => {
                let key = join(&path, "members");
                let m: Vec<(String, Loc, String)> = self
                    .string_list(fi, v, &key)
                    .into_iter()
                    .enumerate()
                    .map(|(i, (m, l))| (m, l, format!("{key}[{i}]")))
                    .collect();
                if m.is_empty() && matches!(v.get_ref(), DeValue::Array(a) if a.is_empty()) {
                    self.problem(&Loc { file: fi, span: v.span() }, &key, "empty member list; a rotation needs at least one member, e.g. members = [\"alice\", \"bob\"]".into());
                }
                m
            }
            None => {
                self.problem(&loc, &path, "missing `members`: the fixed order of people, e.g. members = [\"alice\", \"bob\"]".into());
                Vec::new()
            }
        };
        let timezone = match f.get("timezone") {
            Some(v) => self.timezone(fi, v, &join(&path, "timezone")),
            None if default_zone.is_some() => default_zone,
            None => {
                self.problem(&loc, &path, "missing `timezone`: the IANA zone whose wall clock handoffs follow, e.g. timezone = \"Europe/London\"".into());
                None
            }
        };
        let start = match f.get("start") {
            Some(v) => match self.civil_value(fi, v, &join(&path, "start"), false) {
                Some(TimeVal::Civil(c)) => Some((
                    c,
                    Loc {
                        file: fi,
                        span: v.span(),
                    },
                )),
                _ => None,
            },
            None => {
                self.problem(&loc, &path, "missing `start`: the civil date-time of the first handoff, e.g. start = \"2026-11-02T09:00\"".into());
                None
            }
        };
        let recurrence = match (f.get("every"), f.get("rrule")) {
            (Some(_), Some(r)) => {
                self.problem(
                    &Loc {
                        file: fi,
                        span: r.span(),
                    },
                    &join(&path, "rrule"),
                    "give either `every` or `rrule`, not both".into(),
                );
                None
            }
            (Some(v), None) => {
                let key = join(&path, "every");
                match self.string(fi, v, &key).map(|s| cadence::parse_every(&s)) {
                    Some(Ok(r)) => Some((
                        r,
                        Loc {
                            file: fi,
                            span: v.span(),
                        },
                    )),
                    Some(Err(msg)) => {
                        self.problem(
                            &Loc {
                                file: fi,
                                span: v.span(),
                            },
                            &key,
                            msg,
                        );
                        None
                    }
                    None => None,
                }
            }
            (None, Some(v)) => self.string(fi, v, &join(&path, "rrule")).map(|s| {
                (
                    Recurrence::RRule(s),
                    Loc {
                        file: fi,
                        span: v.span(),
                    },
                )
            }),
            (None, None) => {
                self.problem(&loc, &path, "missing `every` or `rrule`: how often handoffs happen, e.g. every = \"1 week\" or rrule = \"FREQ=WEEKLY;BYDAY=MO,TH\"".into());
                None
            }
        };
        // Compile the handoffs now, so rrule problems are reported at the rule. Handoffs are
        // expanded in civil time, so the zone does not change them: a bad or missing zone does not
        // hide a bad rule. Without a usable start the rule is checked from a stand-in start, and
        // only the rule's own problems are kept (whether `start` is an occurrence, or how far its
        // period runs, cannot be known yet), so one run reports zone, start and rule together.
        if let Some((rec, rloc)) = &recurrence {
            let stand_in = start.is_none();
            let first = start.as_ref().map_or(STAND_IN_START, |s| s.0);
            if let Err(msg) = Handoffs::new(timezone.unwrap_or(Tz::UTC), first, rec) {
                let about_start = msg.starts_with("start") || msg.contains("runs past the year");
                if !(stand_in && about_start) {
                    let (l, key) = match &start {
                        Some((_, sloc)) if msg.starts_with("start") => {
                            (sloc.clone(), join(&path, "start"))
                        }
                        _ => (
                            rloc.clone(),
                            join(
                                &path,
                                if matches!(rec, Recurrence::RRule(_)) {
                                    "rrule"
                                } else {
                                    "every"
                                },
                            ),
                        ),
                    };
                    self.problem(&l, &key, msg);
                }
            }
        }
        let active = f.get("active").and_then(|v| {
            let key = join(&path, "active");
            let windows = self.string_list(fi, v, &key);
            if windows.is_empty() && !matches!(v.get_ref(), DeValue::Array(a) if a.is_empty()) {
                return None; // already reported as not strings
            }
            let texts: Vec<&str> = windows.iter().map(|w| w.0.as_str()).collect();
            match Restriction::parse(&texts) {
                Ok(r) => r,
                Err((i, msg)) => {
                    let (l, k) = match windows.get(i) {
                        Some((_, l)) => (l.clone(), format!("{key}[{i}]")),
                        None => (
                            Loc {
                                file: fi,
                                span: v.span(),
                            },
                            key,
                        ),
                    };
                    self.problem(&l, &k, msg);
                    None
                }
            }
        });
        let advance = match f.get("advance") {
            None => Advance::Always,
            Some(v) => {
                let key = join(&path, "advance");
                match self.string(fi, v, &key).map(|s| Advance::parse(&s)) {
                    Some(Ok(a)) => {
                        if !f.contains_key("active") && a == Advance::WhenActive {
                            self.problem(&Loc { file: fi, span: v.span() }, &key, "`advance = \"when-active\"` needs `active` windows to skip the shifts outside of; give active = [\"Mon-Fri 09:00-17:00\"] or leave `advance` out".into());
                        }
                        a
                    }
                    Some(Err(msg)) => {
                        self.problem(
                            &Loc {
                                file: fi,
                                span: v.span(),
                            },
                            &key,
                            msg,
                        );
                        Advance::Always
                    }
                    None => Advance::Always,
                }
            }
        };
        // The turn table is counted now, so a cadence that never lines up with the week is
        // reported at `advance`.
        if let (Some(w), Advance::WhenActive, Some((rec, _)), Some((first, _))) =
            (&active, advance, &recurrence, &start)
            && let Ok(h) = Handoffs::new(timezone.unwrap_or(Tz::UTC), *first, rec)
            && let Err(msg) = Turns::new(w, h.per_period(), |n| h.civil(n))
        {
            let l = f
                .get("advance")
                .map(|v| Loc {
                    file: fi,
                    span: v.span(),
                })
                .unwrap_or(loc.clone());
            self.problem(&l, &join(&path, "advance"), msg);
        }
        RawLayer {
            id: None,
            name: None,
            loc,
            members,
            timezone,
            start: start.map(|s| s.0),
            recurrence,
            active,
            advance,
        }
    }

    /// `[rotations.ID.slack]`: `usergroup` and `channel` are Slack ids (`S...`, `C...`/`G...`),
    /// `topic` a boolean that needs a channel.
    fn slack(
        &mut self,
        fi: usize,
        path: &str,
        v: &Spanned<DeValue<'_>>,
    ) -> Option<crate::SlackSettings> {
        let DeValue::Table(t) = v.get_ref() else {
            let msg = format!(
                "expected a table (usergroup, channel, topic), found {}",
                kind_name(v.get_ref())
            );
            self.problem(
                &Loc {
                    file: fi,
                    span: v.span(),
                },
                path,
                msg,
            );
            return None;
        };
        let f = self.fields(fi, path, t, &["usergroup", "channel", "topic"]);
        let id = |me: &mut Self, key: &str, prefixes: &[char], example: &str| -> Option<String> {
            let v = f.get(key)?;
            let k = join(path, key);
            let s = me.string(fi, v, &k)?;
            let ok = s.len() >= 2
                && s.starts_with(prefixes)
                && s.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !ok {
                me.problem(&Loc { file: fi, span: v.span() }, &k, format!("{s:?} is not a Slack id like {example:?} (Slack shows it in the {key}'s details)"));
                return None;
            }
            Some(s)
        };
        let usergroup = id(self, "usergroup", &['S'], "S0123ABCD");
        let channel = id(self, "channel", &['C', 'G'], "C0123ABCD");
        let topic = match f.get("topic") {
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => *b,
                other => {
                    let msg = format!("expected true or false, found {}", kind_name(other));
                    self.problem(
                        &Loc {
                            file: fi,
                            span: v.span(),
                        },
                        &join(path, "topic"),
                        msg,
                    );
                    false
                }
            },
            None => false,
        };
        if topic && channel.is_none() && !f.contains_key("channel") {
            self.problem(
                &Loc {
                    file: fi,
                    span: v.span(),
                },
                path,
                "topic = true needs the channel whose topic it sets".into(),
            );
        }
        Some(crate::SlackSettings {
            usergroup,
            channel,
            topic,
        })
    }

    fn link(&mut self, fi: usize, key: String, t: &DeTable<'_>, loc: Loc) {
        let f = self.fields(fi, &key, t, &["from", "to", "displaced"]);
        let from = match f.get("from") {
            Some(v) => self.string(fi, v, &format!("{key}.from")).map(|s| {
                (
                    s,
                    Loc {
                        file: fi,
                        span: v.span(),
                    },
                )
            }),
            None => {
                self.problem(&loc, &key, "missing `from`: the rotation whose on-call person is linked, e.g. from = \"support-hero\"".into());
                None
            }
        };
        let to = match f.get("to") {
            Some(v) => {
                let k = format!("{key}.to");
                let to = self.string_list(fi, v, &k);
                if to.is_empty() {
                    self.problem(&Loc { file: fi, span: v.span() }, &k, "empty `to`: list the team rotations the linked person covers, e.g. to = [\"platform-secondary\"]".into());
                }
                to
            }
            None => {
                self.problem(&loc, &key, "missing `to`: the team rotations the linked person covers, e.g. to = [\"platform-secondary\"]".into());
                Vec::new()
            }
        };
        let mut displaced = Displaced::Skip;
        if let Some(v) = f.get("displaced") {
            let k = format!("{key}.displaced");
            match self.string(fi, v, &k).as_deref() {
                Some("skip") | None => {}
                Some("swap") => displaced = Displaced::Swap,
                Some(other) => self.problem(
                    &Loc {
                        file: fi,
                        span: v.span(),
                    },
                    &k,
                    format!("invalid displaced {other:?}; expected \"skip\" or \"swap\""),
                ),
            }
        }
        if let Some(from) = from {
            self.links.push(RawLink {
                key,
                from,
                to,
                displaced,
            });
        }
    }

    /// A `[[webhooks]]` table: `url` or `url_env`, `events`, `secret_env`, and an optional
    /// `name`. Secrets are never in the files: the URL may be, the signing secret never.
    fn webhook(&mut self, fi: usize, key: String, t: &DeTable<'_>, loc: Loc) {
        let f = self.fields(
            fi,
            &key,
            t,
            &["name", "url", "url_env", "events", "secret_env"],
        );
        let at = |v: &Spanned<DeValue<'_>>| Loc {
            file: fi,
            span: v.span(),
        };
        let env_name = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                && s.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        };
        let url = match (f.get("url"), f.get("url_env")) {
            (Some(_), Some(v)) => {
                self.problem(
                    &at(v),
                    &format!("{key}.url_env"),
                    "give `url` or `url_env`, not both".into(),
                );
                None
            }
            (Some(v), None) => match self.string(fi, v, &format!("{key}.url")) {
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                    Some(crate::WebhookUrl::Url(u))
                }
                Some(u) => {
                    self.problem(
                        &at(v),
                        &format!("{key}.url"),
                        format!("{u:?} is not an http(s) URL"),
                    );
                    None
                }
                None => None,
            },
            (None, Some(v)) => match self.string(fi, v, &format!("{key}.url_env")) {
                Some(e) if env_name(&e) => Some(crate::WebhookUrl::Env(e)),
                Some(e) => {
                    self.problem(
                        &at(v),
                        &format!("{key}.url_env"),
                        format!("{e:?} is not an environment variable name (A-Z, 0-9, _)"),
                    );
                    None
                }
                None => None,
            },
            (None, None) => {
                self.problem(&loc, &key, "missing `url` (or `url_env`, naming the environment variable that holds a secret URL)".into());
                None
            }
        };
        let secret_env = match f.get("secret_env") {
            Some(v) => match self.string(fi, v, &format!("{key}.secret_env")) {
                Some(e) if env_name(&e) => Some(e),
                Some(e) => {
                    self.problem(
                        &at(v),
                        &format!("{key}.secret_env"),
                        format!("{e:?} is not an environment variable name (A-Z, 0-9, _)"),
                    );
                    None
                }
                None => None,
            },
            None => {
                self.problem(&loc, &key, "missing `secret_env`: the environment variable holding the signing secret (whsec_...); deliveries are always signed".into());
                None
            }
        };
        let mut events = Vec::new();
        match f.get("events") {
            Some(v) => {
                let k = format!("{key}.events");
                let listed = self.string_list(fi, v, &k);
                if listed.is_empty() {
                    self.problem(&at(v), &k, "no events: list what it is told about, e.g. events = [\"handoff\", \"swap.accepted\"]".into());
                }
                for (e, l) in listed {
                    match crate::WebhookEvent::parse(&e) {
                        Some(ev) if !events.contains(&ev) => events.push(ev),
                        Some(_) => {}
                        None => self.problem(
                            &l,
                            &k,
                            format!(
                                "unknown event {e:?}{}; known events: {}",
                                suggest(&e, crate::WebhookEvent::ALL.iter().map(|e| e.as_str())),
                                crate::WebhookEvent::ALL.map(|e| e.as_str()).join(", ")
                            ),
                        ),
                    }
                }
            }
            None => self.problem(
                &loc,
                &key,
                "missing `events`, e.g. events = [\"handoff\", \"swap.accepted\"]".into(),
            ),
        }
        let name = f
            .get("name")
            .and_then(|v| self.string(fi, v, &format!("{key}.name")));
        if let (Some(url), Some(secret_env)) = (url, secret_env)
            && !events.is_empty()
        {
            let name = name.unwrap_or_else(|| match &url {
                crate::WebhookUrl::Env(e) => e.clone(),
                crate::WebhookUrl::Url(u) => u.clone(),
            });
            if name == "slack" {
                self.problem(&loc, &key, "the name \"slack\" is taken by rota's Slack messages; give the webhook another `name`".into());
                return;
            }
            if let Some(other) = self.webhooks.iter().find(|w| w.webhook.name == name) {
                let at = self.at(&other.loc);
                self.problem(
                    &loc,
                    &key,
                    format!("a webhook named {name:?} is already at {at}; give each a `name`"),
                );
                return;
            }
            self.webhooks.push(RawWebhook {
                webhook: crate::Webhook {
                    name,
                    url,
                    events,
                    secret_env,
                },
                loc,
            });
        }
    }

    fn override_(&mut self, fi: usize, key: String, t: &DeTable<'_>, loc: Loc) {
        let f = self.fields(
            fi,
            &key,
            t,
            &["id", "rotation", "person", "start", "end", "reason"],
        );
        let req = |me: &mut Self, name: &str, example: &str| -> Option<(String, Loc)> {
            match f.get(name) {
                Some(v) => me.string(fi, v, &format!("{key}.{name}")).map(|s| {
                    (
                        s,
                        Loc {
                            file: fi,
                            span: v.span(),
                        },
                    )
                }),
                None => {
                    me.problem(
                        &loc,
                        &key,
                        format!("missing `{name}`, e.g. {name} = {example}"),
                    );
                    None
                }
            }
        };
        let rotation = req(self, "rotation", "\"support-hero\"");
        let person = req(self, "person", "\"bob\"");
        let time = |me: &mut Self, name: &str| -> Option<(TimeVal, Loc)> {
            match f.get(name) {
                Some(v) => me
                    .civil_value(fi, v, &format!("{key}.{name}"), true)
                    .map(|t| {
                        (
                            t,
                            Loc {
                                file: fi,
                                span: v.span(),
                            },
                        )
                    }),
                None => {
                    me.problem(&loc, &key, format!("missing `{name}`, e.g. {name} = \"2026-12-21T09:00\" (civil time in the rotation's zone) or \"2026-12-21T09:00:00Z\""));
                    None
                }
            }
        };
        let start = time(self, "start");
        let end = time(self, "end");
        let reason = f
            .get("reason")
            .and_then(|v| self.string(fi, v, &format!("{key}.reason")));
        let id_loc = match f.get("id") {
            Some(v) => Loc {
                file: fi,
                span: v.span(),
            },
            None => loc.clone(),
        };
        let id = match f.get("id") {
            Some(v) => self.string(fi, v, &format!("{key}.id")).unwrap_or_default(),
            None => format!(
                "{}#{}",
                self.files[fi].name,
                key.trim_start_matches("overrides")
            ),
        };
        if let (Some(rotation), Some(person)) = (rotation, person) {
            self.overrides.push(RawOverride {
                key,
                id,
                id_loc,
                rotation,
                person,
                start,
                end,
                reason,
            });
        }
    }

    fn finish(mut self) -> Checked {
        if !self.syntax_errors {
            self.cross_check();
            self.overlapping_overrides();
        }
        let warnings = std::mem::take(&mut self.warnings);
        let warnings = self.diagnostics(warnings);
        if !self.problems.is_empty() {
            let problems = std::mem::take(&mut self.problems);
            let diags = self.diagnostics(problems);
            return Checked {
                schedule: Err(Error::new(ErrorKind::Schedule(diags))),
                warnings,
            };
        }
        Checked {
            schedule: self.build(),
            warnings,
        }
    }

    /// Located diagnostics, in file order.
    fn diagnostics(&self, mut found: Vec<(usize, usize, String, String)>) -> Vec<Diagnostic> {
        found.sort_by_key(|p| (p.0, p.1));
        found
            .into_iter()
            .map(|(fi, off, key, message)| {
                let f = &self.files[fi];
                let (line, column) = f.line_col(off);
                Diagnostic {
                    file: f.name.clone(),
                    line,
                    column,
                    key,
                    message,
                }
            })
            .collect()
    }

    /// Warns about file overrides of one rotation that overlap (see [`Schedule::check`]).
    /// Overrides whose rotation or times have problems are left out: those are reported already.
    fn overlapping_overrides(&mut self) {
        // (rotation, start, end, index in self.overrides), for overrides with usable times.
        let mut spans: Vec<(&str, DateTime<Utc>, DateTime<Utc>, usize)> = Vec::new();
        for (i, o) in self.overrides.iter().enumerate() {
            let Some(r) = self.rotations.get(&o.rotation.0) else {
                continue;
            };
            let instant = |t: &Option<(TimeVal, Loc)>| match (t, r.timezone) {
                (Some((TimeVal::Instant(i), _)), _) => Some(*i),
                (Some((TimeVal::Civil(c), _)), Some(tz)) => tz::resolve(tz, *c).map(|r| r.instant),
                _ => None,
            };
            if let (Some(a), Some(b)) = (instant(&o.start), instant(&o.end))
                && a < b
            {
                spans.push((o.rotation.0.as_str(), a, b, i));
            }
        }
        spans.sort();
        // One sweep per rotation, in order of start: each override is compared with the
        // override reaching furthest among those before it, so every override that overlaps an
        // earlier one gets one warning (naming one of them), in O(n log n) whatever the file.
        let mut found = Vec::new();
        let mut reach: Option<(&str, DateTime<Utc>, usize)> = None;
        for &(rot, a, b, j) in &spans {
            match reach {
                Some((r, end, i)) if r == rot && a < end => {
                    // Located at the later-defined (winning) one; it names the other.
                    let (older, newer) = (i.min(j), i.max(j));
                    let (o, w) = (&self.overrides[older], &self.overrides[newer]);
                    found.push((
                        w.id_loc.clone(),
                        w.key.clone(),
                        format!(
                            "override {:?} overlaps override {:?} (at {}) in rotation {rot} \
                             from {} to {}; {:?} wins there: where overrides overlap, the one \
                             defined later (in a later file, or later in the same file) wins",
                            w.id,
                            o.id,
                            self.at(&o.id_loc),
                            a.to_rfc3339(),
                            end.min(b).to_rfc3339(),
                            w.id
                        ),
                    ));
                    if b > end {
                        reach = Some((rot, b, j));
                    }
                }
                _ => reach = Some((rot, b, j)),
            }
        }
        for (loc, key, msg) in found {
            self.warnings.push((loc.file, loc.span.start, key, msg));
        }
    }

    fn cross_check(&mut self) {
        let people: Vec<String> = self.people.keys().cloned().collect();
        let people_ref: Vec<&str> = people.iter().map(String::as_str).collect();
        let teams: Vec<String> = self.teams.keys().cloned().collect();
        let teams_ref: Vec<&str> = teams.iter().map(String::as_str).collect();
        let rotations: Vec<String> = self.rotations.keys().cloned().collect();
        let rot_ref: Vec<&str> = rotations.iter().map(String::as_str).collect();
        let mut problems = Vec::new();
        fn unknown(
            problems: &mut Vec<(Loc, String, String)>,
            loc: &Loc,
            key: String,
            what: &str,
            id: &str,
            known: &[&str],
        ) {
            problems.push((loc.clone(), key, unknown_id_message(what, id, known)));
        }
        if let Some((h, loc)) = &self.hero_rotation
            && !self.rotations.contains_key(h)
        {
            unknown(
                &mut problems,
                loc,
                "hero_rotation".into(),
                "rotation",
                h,
                &rot_ref,
            );
        }
        for (i, (a, loc)) in self.admins.iter().enumerate() {
            if !self.people.contains_key(a) {
                unknown(
                    &mut problems,
                    loc,
                    format!("admins[{i}]"),
                    "person",
                    a,
                    &people_ref,
                );
            }
        }
        for (rp, _) in self.people.values() {
            if let Some((t, loc)) = &rp.team
                && !self.teams.contains_key(t)
            {
                unknown(
                    &mut problems,
                    loc,
                    join(&rp.key, "team"),
                    "team",
                    t,
                    &teams_ref,
                );
            }
        }
        for r in self.rotations.values() {
            if let Some((t, loc)) = &r.team
                && !self.teams.contains_key(t)
            {
                unknown(
                    &mut problems,
                    loc,
                    join(&r.key, "team"),
                    "team",
                    t,
                    &teams_ref,
                );
            }
            for (m, loc, key) in r.layers.iter().flat_map(|l| &l.members) {
                if !self.people.contains_key(m) {
                    unknown(&mut problems, loc, key.clone(), "person", m, &people_ref);
                }
            }
        }
        let link_targets: HashMap<&str, &str> = self
            .links
            .iter()
            .flat_map(|l| l.to.iter().map(move |(t, _)| (t.as_str(), l.key.as_str())))
            .collect();
        for l in &self.links {
            let (from, floc) = &l.from;
            if !self.rotations.contains_key(from) {
                unknown(
                    &mut problems,
                    floc,
                    format!("{}.from", l.key),
                    "rotation",
                    from,
                    &rot_ref,
                );
            } else if let Some(other) = link_targets.get(from.as_str()) {
                problems.push((floc.clone(), format!("{}.from", l.key), format!("rotation {from:?} is itself the target of {other}; links cannot chain (link from the original rotation instead)")));
            }
            let mut seen_teams: HashMap<&str, &str> = HashMap::new();
            for (i, (to, loc)) in l.to.iter().enumerate() {
                let key = format!("{}.to[{i}]", l.key);
                match self.rotations.get(to) {
                    None => unknown(&mut problems, loc, key, "rotation", to, &rot_ref),
                    Some(r) if to == from => {
                        let _ = r;
                        problems.push((loc.clone(), key, "a rotation cannot link to itself".into()));
                    }
                    Some(r) => match &r.team {
                        None => problems.push((loc.clone(), key, format!("link target {to:?} has no team; add `team = \"...\"` to [{}] so the link knows whose secondary it is", r.key))),
                        Some((team, _)) => {
                            if let Some(prev) = seen_teams.insert(team.as_str(), to.as_str()) {
                                problems.push((loc.clone(), key, format!("link targets {prev:?} and {to:?} belong to the same team {team:?}; list one rotation per team")));
                            }
                        }
                    },
                }
            }
        }
        for o in &self.overrides {
            let (rot, rloc) = &o.rotation;
            let (person, ploc) = &o.person;
            let r = self.rotations.get(rot);
            if r.is_none() {
                unknown(
                    &mut problems,
                    rloc,
                    format!("{}.rotation", o.key),
                    "rotation",
                    rot,
                    &rot_ref,
                );
            }
            if !self.people.contains_key(person) {
                unknown(
                    &mut problems,
                    ploc,
                    format!("{}.person", o.key),
                    "person",
                    person,
                    &people_ref,
                );
            }
            let tz = r.and_then(|r| r.timezone);
            let instant = |t: &TimeVal| match (t, tz) {
                (TimeVal::Instant(i), _) => Some(*i),
                (TimeVal::Civil(c), Some(tz)) => tz::resolve(tz, *c).map(|r| r.instant),
                (TimeVal::Civil(_), None) => None,
            };
            // A civil time that parses but lies outside the years rota works with (chrono reads
            // "+10001-01-01T00:00") has no instant; say so here, or `build` fails unlocated.
            for (name, t) in [("start", &o.start), ("end", &o.end)] {
                if let (Some((t, loc)), Some(_)) = (t, tz)
                    && instant(t).is_none()
                {
                    problems.push((
                        loc.clone(),
                        format!("{}.{name}", o.key),
                        "date-time out of range: rota works with the years 1 to 9999".into(),
                    ));
                }
            }
            if let (Some((s, _)), Some((e, eloc))) = (&o.start, &o.end)
                && let (Some(si), Some(ei)) = (instant(s), instant(e))
                && ei <= si
            {
                problems.push((
                    eloc.clone(),
                    format!("{}.end", o.key),
                    format!(
                        "end {} is not after start {}; an override covers [start, end)",
                        ei.to_rfc3339(),
                        si.to_rfc3339()
                    ),
                ));
            }
        }
        let mut ids: HashMap<&str, &RawOverride> = HashMap::new();
        for o in &self.overrides {
            if let Some(prev) = ids.insert(o.id.as_str(), o) {
                problems.push((
                    o.id_loc.clone(),
                    format!("{}.id", o.key),
                    format!(
                        "duplicate override id {:?} (also {} at {})",
                        o.id,
                        prev.key,
                        self.at(&prev.id_loc)
                    ),
                ));
            }
        }
        for (loc, key, msg) in problems {
            self.problem(&loc, &key, msg);
        }
    }

    fn build(self) -> Result<Schedule, Error> {
        let internal = |m: String| {
            Error::new(ErrorKind::Schedule(vec![Diagnostic {
                file: String::new(),
                line: 0,
                column: 0,
                key: String::new(),
                message: m,
            }]))
        };
        let mut rotations = Vec::new();
        let tz_of: HashMap<String, Tz> = self
            .rotations
            .iter()
            .filter_map(|(id, r)| r.timezone.map(|t| (id.clone(), t)))
            .collect();
        for r in self.rotations.into_values() {
            let mut layers = Vec::new();
            for l in r.layers {
                let (Some(tz), Some(start), Some((rec, _))) = (l.timezone, l.start, l.recurrence)
                else {
                    return Err(internal(format!("rotation {} is incomplete", r.id)));
                };
                let handoffs = Handoffs::new(tz, start, &rec).map_err(internal)?;
                let turns = match (&l.active, l.advance) {
                    (Some(w), Advance::WhenActive) => Some(
                        Turns::new(w, handoffs.per_period(), |n| handoffs.civil(n))
                            .map_err(internal)?,
                    ),
                    _ => None,
                };
                let id = l.id.map(|i| i.0);
                layers.push(Layer {
                    tag: id.as_deref().map_or(0, crate::model::layer_tag),
                    id,
                    name: l.name,
                    members: l.members.into_iter().map(|m| m.0).collect(),
                    timezone: tz,
                    start,
                    recurrence: rec,
                    active: l.active,
                    advance: l.advance,
                    handoffs,
                    turns,
                    member_idx: Vec::new(),
                });
            }
            let Some(tz) = r.timezone else {
                return Err(internal(format!("rotation {} has no zone", r.id)));
            };
            rotations.push(Rotation::new(
                r.id,
                r.name,
                r.team.map(|t| t.0),
                tz,
                layers,
                r.slack,
            ));
        }
        let mut overrides = Vec::new();
        for o in self.overrides {
            let tz = tz_of.get(&o.rotation.0).copied();
            let instant = |t: Option<(TimeVal, Loc)>| match (t, tz) {
                (Some((TimeVal::Instant(i), _)), _) => Some(i),
                (Some((TimeVal::Civil(c), _)), Some(tz)) => tz::resolve(tz, c).map(|r| r.instant),
                _ => None,
            };
            let (Some(start), Some(end)) = (instant(o.start), instant(o.end)) else {
                return Err(internal(format!("override {} has no valid times", o.key)));
            };
            overrides.push(Override {
                id: o.id,
                rotation: o.rotation.0,
                person: o.person.0,
                start,
                end,
                reason: o.reason,
            });
        }
        let mut admins: Vec<String> = self.admins.into_iter().map(|a| a.0).collect();
        admins.sort();
        admins.dedup();
        Schedule::assemble(Parts {
            hero_rotation: self.hero_rotation.map(|h| h.0),
            holidays: self.holidays.map(|h| h.0),
            admins,
            teams: self.teams.into_values().map(|t| t.0).collect(),
            people: self.people.into_values().map(|p| p.0.person).collect(),
            rotations,
            links: self
                .links
                .into_iter()
                .map(|l| Link {
                    from: l.from.0,
                    to: l.to.into_iter().map(|t| t.0).collect(),
                    displaced: l.displaced,
                })
                .collect(),
            overrides,
            webhooks: self.webhooks.into_iter().map(|w| w.webhook).collect(),
        })
    }
}
