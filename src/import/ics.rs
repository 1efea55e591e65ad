//! `rota import ics`: any tool's exported on-call calendar, as file overrides of one rotation over
//! a window. The fallback for a schedule that cannot be imported from its API.
//!
//! Times are read by rota-calendar, as absence calendars are (zones, all-day events, `RRULE`,
//! `EXDATE`, `RECURRENCE-ID`). Who an event is about is read from its properties with the `ical`
//! crate: the email of an `ATTENDEE` that is a person of the schedule, else the one person of the
//! schedule whose name, email or id is in the `SUMMARY`. To tie each occurrence rota-calendar
//! expands to its event, every event's `SUMMARY` is replaced by a tag and the calendar written
//! back (properties as read, values untouched) before rota-calendar reads it.
//!
//! With `--force` over an `overrides.toml` already there, its text is kept as it is and the new
//! overrides are added after it (none already there with the same rotation, person and times).

use std::io::BufReader;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use ical::parser::ical::component::IcalCalendar;
use ical::property::Property;
use rota_core::Schedule;

use super::{Expected, Final, Ids, Import, OutArgs, OverrideOut, utc};

/// `rota import ics`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The calendar: an .ics file, or an http(s):// URL to fetch it from.
    #[arg(value_name = "FILE|URL")]
    calendar: String,
    /// The rotation (of the schedules directory, --schedules) the events override.
    #[arg(long, value_name = "ID")]
    rotation: String,
    /// Start of the window: RFC 3339 or a date (midnight in the rotation's zone).
    #[arg(long, value_name = "TIME")]
    from: String,
    /// End of the window (exclusive).
    #[arg(long, value_name = "TIME")]
    to: String,
    #[command(flatten)]
    pub out: OutArgs,
}

/// The longest window read, as for `rota shifts`.
const MAX_DAYS: i64 = 366 * 20;

/// The largest calendar file read.
const MAX_BYTES: u64 = rota_calendar::Fetcher::DEFAULT_MAX_BYTES;

const TAG: &str = "rota-import-event-";

/// What one VEVENT says about who is on call.
struct Event {
    summary: String,
    uid: String,
    /// Email addresses of its attendees.
    attendees: Vec<String>,
}

fn prop<'a>(props: &'a [Property], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .and_then(|p| p.value.as_deref())
}

/// A TEXT value as meant (RFC 5545 escapes undone, line breaks as spaces).
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// A property as a content line, as read (value untouched, parameter values quoted where they
/// need it).
fn line(p: &Property) -> String {
    let mut s = p.name.clone();
    for (k, vs) in p.params.iter().flatten() {
        s.push(';');
        s.push_str(k);
        s.push('=');
        let vals: Vec<String> = vs
            .iter()
            .map(|v| {
                let v: String = v.chars().filter(|c| *c != '"' && !c.is_control()).collect();
                if v.contains([':', ';', ',']) {
                    format!("\"{v}\"")
                } else {
                    v
                }
            })
            .collect();
        s.push_str(&vals.join(","));
    }
    s.push(':');
    s.push_str(p.value.as_deref().unwrap_or(""));
    s.push_str("\r\n");
    s
}

/// The calendars written back with every event's SUMMARY a tag naming its index in `events`.
fn tagged(cals: &[IcalCalendar], events: &mut Vec<Event>) -> String {
    let mut s = String::new();
    for cal in cals {
        s.push_str("BEGIN:VCALENDAR\r\n");
        for p in &cal.properties {
            s.push_str(&line(p));
        }
        for tz in &cal.timezones {
            s.push_str("BEGIN:VTIMEZONE\r\n");
            for p in &tz.properties {
                s.push_str(&line(p));
            }
            s.push_str("END:VTIMEZONE\r\n");
        }
        for ev in &cal.events {
            let attendees = ev
                .properties
                .iter()
                .filter(|p| p.name.eq_ignore_ascii_case("ATTENDEE"))
                .flat_map(|p| {
                    let from_param = p
                        .params
                        .iter()
                        .flatten()
                        .filter(|(k, _)| k.eq_ignore_ascii_case("EMAIL"))
                        .flat_map(|(_, v)| v.clone());
                    let from_value = p.value.as_deref().and_then(|v| {
                        let v = v.trim();
                        v.get(..7)
                            .filter(|m| m.eq_ignore_ascii_case("mailto:"))
                            .map(|_| v[7..].trim().to_string())
                    });
                    from_param.chain(from_value).collect::<Vec<_>>()
                })
                .collect();
            events.push(Event {
                summary: prop(&ev.properties, "SUMMARY")
                    .map(unescape)
                    .unwrap_or_default(),
                uid: prop(&ev.properties, "UID")
                    .map(unescape)
                    .unwrap_or_default(),
                attendees,
            });
            s.push_str("BEGIN:VEVENT\r\n");
            for p in &ev.properties {
                if !p.name.eq_ignore_ascii_case("SUMMARY") {
                    s.push_str(&line(p));
                }
            }
            s.push_str(&format!("SUMMARY:{TAG}{}\r\n", events.len() - 1));
            s.push_str("END:VEVENT\r\n");
        }
        s.push_str("END:VCALENDAR\r\n");
    }
    s
}

/// A warning of rota-calendar about the re-tagged calendar, with each event's tag replaced by
/// its own summary (as the warning quotes it).
fn untag(w: &str, events: &[Event]) -> String {
    let mut out = String::with_capacity(w.len());
    let mut rest = w;
    while let Some(at) = rest.find(TAG) {
        out.push_str(&rest[..at]);
        let after = &rest[at + TAG.len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match after[..digits]
            .parse::<usize>()
            .ok()
            .and_then(|i| events.get(i))
        {
            Some(e) => {
                let quoted = format!("{:?}", e.summary);
                out.push_str(&quoted[1..quoted.len() - 1]);
                rest = &after[digits..];
            }
            None => {
                out.push_str(TAG);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `word` occurs in `text` with no letter or digit right before or after it.
fn has_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Who an event is about: `Ok(person id)`, or why nobody can be said.
fn attribute(e: &Event, schedule: &Schedule) -> Result<String, String> {
    let people = schedule.people();
    let mut by_mail: Vec<&str> = e
        .attendees
        .iter()
        .filter_map(|a| {
            people.iter().find(|p| {
                p.email
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(a))
            })
        })
        .map(|p| p.id.as_str())
        .collect();
    by_mail.sort_unstable();
    by_mail.dedup();
    match by_mail.as_slice() {
        [one] => return Ok(one.to_string()),
        [] => {}
        many => {
            return Err(format!(
                "its attendees are several people of the schedule ({})",
                many.join(", ")
            ));
        }
    }
    let text = e.summary.to_lowercase();
    let strong: Vec<&str> = people
        .iter()
        .filter(|p| {
            has_word(&text, &p.name.to_lowercase())
                || p.email
                    .as_deref()
                    .is_some_and(|m| has_word(&text, &m.to_lowercase()))
        })
        .map(|p| p.id.as_str())
        .collect();
    let weak: Vec<&str> = people
        .iter()
        .filter(|p| has_word(&text, &p.id.to_lowercase()))
        .map(|p| p.id.as_str())
        .collect();
    match (strong.as_slice(), weak.as_slice()) {
        ([one], _) | ([], [one]) => Ok(one.to_string()),
        ([], []) => Err(
            "no attendee with the email of a person of the schedule, and no person's name, email \
             or id in its summary"
                .into(),
        ),
        (many, _) if !many.is_empty() => Err(format!(
            "its summary names several people of the schedule ({})",
            many.join(", ")
        )),
        (_, many) => Err(format!(
            "its summary names several people of the schedule ({})",
            many.join(", ")
        )),
    }
}

fn read_text(source: &str) -> anyhow::Result<String> {
    let lower = source.trim().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(rota_calendar::Fetcher::new().get_text(source.trim())?);
    }
    let len = std::fs::metadata(source)
        .with_context(|| format!("reading {source}"))?
        .len();
    if len > MAX_BYTES {
        bail!("{source}: larger than {} MiB", MAX_BYTES >> 20);
    }
    let bytes = std::fs::read(source).with_context(|| format!("reading {source}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) fn import(
    schedules: &std::path::Path,
    a: &Args,
    _now: DateTime<Utc>,
) -> anyhow::Result<Import> {
    // The written file joins the schedules directory's files. An overrides.toml already where it
    // goes (the schedules directory's own, or an earlier import's) is replaced only with --force,
    // and then kept: its text first, the new overrides after it. Without --force the import is
    // refused before anything is written, so it is left out here.
    let target = a.out.out.join("overrides.toml");
    let replaced = |name: &str| match (std::fs::canonicalize(name), std::fs::canonicalize(&target))
    {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    let files: Vec<(String, String)> = crate::schedules::read_dir(schedules)?
        .into_iter()
        .filter(|(n, _)| !replaced(n))
        .collect();
    let kept: Option<String> = if a.out.force && target.is_file() {
        let bytes =
            std::fs::read(&target).with_context(|| format!("reading {}", target.display()))?;
        Some(String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "{}: not UTF-8 text, so it cannot be added to",
                target.display()
            )
        })?)
    } else {
        None
    };
    let mut loaded = files.clone();
    if let Some(k) = &kept {
        loaded.push((target.display().to_string(), k.clone()));
    }
    let refs: Vec<(&str, &str)> = loaded
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let schedule = Schedule::load(&refs).map_err(|e| {
        anyhow::anyhow!(
            "the schedules directory {}{} must load, for its people and rotation: {e}",
            schedules.display(),
            if kept.is_some() && !files.iter().any(|(n, _)| replaced(n)) {
                format!(
                    " with {}, which the new overrides are added to,",
                    target.display()
                )
            } else {
                String::new()
            }
        )
    })?;
    let Some(rot) = schedule.rotation(&a.rotation) else {
        let known: Vec<&str> = schedule.rotations().iter().map(|r| r.id.as_str()).collect();
        bail!(
            "{}",
            rota_core::unknown_id_message("rotation", &a.rotation, &known)
        );
    };
    let zone = rot.timezone;
    let from = rota_core::tz::parse_instant(&a.from, zone).context("--from")?;
    let to = rota_core::tz::parse_instant(&a.to, zone).context("--to")?;
    if to <= from {
        bail!("--to ({}) must be after --from ({})", utc(to), utc(from));
    }
    if to - from > Duration::days(MAX_DAYS) {
        bail!("the window is longer than {MAX_DAYS} days");
    }

    let shown = if a.calendar.contains("://") {
        rota_calendar::Location::parse(&a.calendar, std::path::Path::new("."))
            .map(|l| l.redacted())
            .unwrap_or_else(|_| "(the calendar URL)".into())
    } else {
        a.calendar.clone()
    };
    let text = read_text(&a.calendar)?;
    // rota-calendar's own reading first: its errors say what is wrong without quoting the text.
    rota_calendar::parse(&text).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let cals: Vec<IcalCalendar> = ical::IcalParser::new(BufReader::new(text.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{shown}: not a calendar rota can read: {e}"))?;
    let mut events = Vec::new();
    let retagged = tagged(&cals, &mut events);
    let cal = rota_calendar::parse(&retagged).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;

    let mut imp = Import::new(
        "calendar",
        "ics",
        format!("{shown}, as overrides of rotation `{}`", rot.id),
    );
    imp.inputs.push(shown.clone());
    for w in cal.warnings() {
        imp.report.lost("calendar", untag(w, &events));
    }
    let label = |e: &Event| {
        if e.uid.is_empty() {
            format!("event {:?}", e.summary)
        } else {
            format!("event {:?} (UID {})", e.summary, e.uid)
        }
    };
    // (start, end, person, event index)
    let mut pieces: Vec<(DateTime<Utc>, DateTime<Utc>, String, usize)> = Vec::new();
    let busy = cal.busy(zone, from, to);
    // What expanding stopped at or skipped (a rule the rrule crate fails on, the occurrence caps):
    // recorded by the expansion, so read after it. `index` repeats the same expansion and returns
    // every warning; the calendar itself remembers only the first hundred.
    let mut seen = std::collections::HashSet::new();
    let mut warnings = cal.expansion_warnings();
    if warnings.len() >= 100 {
        warnings = cal.index(zone, from, to).warnings;
    }
    for w in warnings {
        if seen.insert(w.clone()) {
            imp.report.lost_in(
                "calendar expansion",
                "calendar",
                format!("{}: not imported", untag(&w, &events)),
            );
        }
    }
    for b in busy {
        let Some(i) = b
            .summary
            .strip_prefix(TAG)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&i| i < events.len())
        else {
            continue;
        };
        let (s, e) = (b.start.max(from), b.end.min(to));
        if s >= e {
            continue;
        }
        match attribute(&events[i], &schedule) {
            Ok(p) => pieces.push((s, e, p, i)),
            Err(why) => imp.report.lost_in(
                label(&events[i]),
                format!("{} from {} to {}", label(&events[i]), utc(s), utc(e)),
                format!("{why}: not imported"),
            ),
        }
    }
    pieces.sort();
    // Overlaps: the later override (by start) wins in rota.
    let mut reach: Option<(DateTime<Utc>, usize)> = None;
    for (k, p) in pieces.iter().enumerate() {
        if let Some((end, j)) = reach
            && p.0 < end
            && pieces[j].2 != p.2
        {
            imp.report.lost_in(
                "overlapping events",
                format!(
                    "{} and {}",
                    label(&events[pieces[j].3]),
                    label(&events[p.3])
                ),
                format!(
                    "overlap from {} to {}, with {} and {} on call; rota has one person at a \
                     time: {} (the later override) there",
                    utc(p.0),
                    utc(end.min(p.1)),
                    pieces[j].2,
                    p.2,
                    p.2
                ),
            );
        }
        if reach.is_none_or(|(end, _)| p.1 > end) {
            reach = Some((p.1, k));
        }
    }
    let mut ids = Ids::new(schedule.overrides().iter().map(|o| o.id.clone()));
    // Overrides already in the files, to leave out the same again (a calendar imported twice).
    type Key<'a> = (&'a str, &'a str, DateTime<Utc>, DateTime<Utc>);
    let existing: std::collections::HashMap<Key<'_>, &str> = schedule
        .overrides()
        .iter()
        .map(|o| {
            (
                (o.rotation.as_str(), o.person.as_str(), o.start, o.end),
                o.id.as_str(),
            )
        })
        .collect();
    for (n, (s, e, p, i)) in pieces.iter().enumerate() {
        if let Some(id) = existing.get(&(rot.id.as_str(), p.as_str(), *s, *e)) {
            imp.report.note(
                format!("{} from {} to {}", label(&events[*i]), utc(*s), utc(*e)),
                format!("already in the schedule files as override {id:?}: not added again"),
            );
            continue;
        }
        let id = ids.claim(&format!("ics-{}", n + 1));
        let summary: String = events[*i].summary.chars().take(200).collect();
        imp.overrides.push(OverrideOut {
            id,
            rotation: rot.id.clone(),
            person: p.clone(),
            start: *s,
            end: *e,
            reason: format!("calendar event {summary:?}"),
        });
    }
    if !pieces.is_empty() {
        imp.finals.push(Final {
            what: "The calendar's events".into(),
            rotation: rot.id.clone(),
            from,
            to,
            entries: pieces
                .iter()
                .map(|(s, e, p, _)| Expected {
                    start: *s,
                    end: *e,
                    who: p.clone(),
                })
                .collect(),
            only_where_expected: true,
        });
    } else {
        imp.report.note(
            "calendar",
            format!(
                "no event of a person of the schedule between {} and {}",
                utc(from),
                utc(to)
            ),
        );
    }
    imp.joins = Some(files);
    imp.keep = kept;
    Ok(imp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert!(has_word("on call: alice smith (platform)", "alice smith"));
        assert!(!has_word("on call: alicesmith", "alice"));
        assert!(has_word("bob", "bob"));
        assert!(!has_word("bobby", "bob"));
        assert_eq!(
            unescape("Alice\\, Bob\\nand \\\\ Carol"),
            "Alice, Bob and \\ Carol"
        );
    }

    #[test]
    fn content_lines_keep_values_and_quote_parameters() {
        let p = Property {
            name: "ATTENDEE".into(),
            params: Some(vec![("CN".into(), vec!["Smith, Ann: \"x\"".into()])]),
            value: Some("mailto:ann@example.com".into()),
        };
        assert_eq!(
            line(&p),
            "ATTENDEE;CN=\"Smith, Ann: x\":mailto:ann@example.com\r\n"
        );
    }
}
