//! `rota check --conflicts` and `rota report`: time off and fairness on the command line.
//!
//! Both read the absence and holiday calendars the schedule names once (files from the schedules
//! directory, URLs fetched), take the schedule the service would serve (`schedules::served`: the
//! state file's run-time overrides count), and print the same figures as `/api/v1/conflicts` and `/api/v1/report`. Unlike
//! the service, the command line shows absence summaries: whoever runs it can read the calendars.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Duration, Utc};
use rota_calendar::{Calendars, Fetcher};
use rota_core::Schedule;
use rota_core::view::{ConflictView, ReportView, hours, utc};

use crate::output::local;

/// The trade-back horizon: the swap form's.
const SUGGEST_WEEKS: i64 = rota_server::pages::SWAP_FORM_WEEKS;

/// Reads every calendar source once; prints the failing ones to stderr. Returns the snapshot and
/// whether every source was read.
pub fn read_calendars(
    schedule: &Schedule,
    dir: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<(rota_calendar::Snapshot, bool)> {
    let mut cals = Calendars::new(schedule, dir);
    let fetcher = Fetcher::new();
    cals.refresh(&fetcher, now);
    let snap = cals.snapshot();
    let mut ok = true;
    for (s, people) in &snap.statuses {
        for w in &s.warnings {
            eprintln!("warning: calendar {}: {w}", s.location);
        }
        if !s.ok {
            ok = false;
            let who = if people.is_empty() {
                "holidays".to_string()
            } else {
                people.join(", ")
            };
            eprintln!(
                "error: calendar {} ({who}): {}",
                s.location,
                s.last_error.as_deref().unwrap_or("not read")
            );
        }
    }
    Ok((snap, ok))
}

/// Calendars are expanded over a window around `now` (rota_calendar::set); a range reaching
/// outside it is answered without the absences and holidays there, and this says so.
fn warn_outside_window(cals: &rota_calendar::Snapshot, from: DateTime<Utc>, to: DateTime<Utc>) {
    if cals.statuses.is_empty() || cals.covers(from, to) {
        return;
    }
    if let Some((a, b)) = cals.window() {
        eprintln!(
            "warning: calendars are expanded from {} to {} only; absences and holidays outside that are not known",
            utc(a),
            utc(b)
        );
    }
}

fn zone_of(s: &Schedule) -> rota_core::Tz {
    s.hero_rotation().map_or(rota_core::Tz::UTC, |r| r.timezone)
}

/// `rota check --conflicts`: exit 0 when nobody is on call while away, 1 when someone is or a
/// calendar could not be read.
pub fn conflicts(
    schedule: &Schedule,
    dir: &Path,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (cals, ok) = read_calendars(schedule, dir, now)?;
    warn_outside_window(&cals, from, to);
    let until = now + Duration::weeks(SUGGEST_WEEKS);
    let off = cals.time_off_for(schedule, from, to, until);
    let mut found = Vec::new();
    // A hero away during a linked week is one conflict, under the hero shift (rota_core::stretch).
    for c in rota_core::stretch::fold_linked_conflicts(schedule.conflicts(&off, from, to)?) {
        let sug = schedule.suggestions(&off, &c.shift, now, until)?;
        found.push((c, sug));
    }
    if json {
        let views: Vec<ConflictView<'_>> =
            found.iter().map(|(c, s)| ConflictView::new(c, s)).collect();
        // The service's shape, field for field (`GET /api/v1/conflicts`).
        let window = cals
            .window()
            .map(|(a, b)| serde_json::json!({"from": utc(a), "to": utc(b)}));
        let body = serde_json::json!({
            "from": utc(from), "to": utc(to), "calendars_ok": ok,
            "absences_window": window, "absences_cover_range": cals.covers(from, to),
            "conflicts": views,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
    } else {
        let sources = cals.statuses.len();
        if sources == 0 {
            writeln!(
                out,
                "no absence calendars: add `absence = [\"...\"]` to people in the schedule files"
            )?;
        }
        for (c, sug) in &found {
            let x = &c.shift;
            let z = x.person.timezone.unwrap_or(x.rotation.timezone);
            writeln!(
                out,
                "conflict: {} ({}) in {}, {} to {} (slot {}): away {:.1} h of it",
                x.person.name,
                x.person.id,
                x.rotation.id,
                local(x.start, z),
                local(x.end, z),
                x.slot,
                hours(c.away.num_seconds())
            )?;
            // What the link also makes them, reported here rather than as conflicts of its own.
            for l in schedule.linked_by(x) {
                writeln!(
                    out,
                    "  also: {} through the link, {} to {}",
                    l.rotation.id,
                    local(l.start, z),
                    local(l.end, z)
                )?;
            }
            for a in &c.absences {
                let what = if a.summary.trim().is_empty() {
                    "away"
                } else {
                    a.summary.as_str()
                };
                writeln!(
                    out,
                    "  away: {what}, {} to {}",
                    local(a.start, z),
                    local(a.end, z)
                )?;
            }
            if sug.is_empty() {
                writeln!(
                    out,
                    "  could trade: nobody free to cover it with a shift to give back"
                )?;
            }
            for s in sug.iter().take(5) {
                // A partial absence: the part to cover, and the part taken back.
                let takes = match s.part {
                    Some((a, b)) => format!("takes {} to {}", local(a, z), local(b, z)),
                    None => "takes it".to_string(),
                };
                let back = match s.give_back_part {
                    Some((a, b)) => format!("{} to {}", local(a, z), local(b, z)),
                    None => local(s.give_back.start, z),
                };
                writeln!(
                    out,
                    "  could trade: {} ({}) {takes}; {} takes theirs, {back} (slot {}); their load {:.1} h -> {:.1} h{}",
                    s.person().name,
                    s.person().id,
                    x.person.id,
                    s.give_back.slot,
                    hours(s.load_before.num_seconds()),
                    hours(s.load_after.num_seconds()),
                    if s.back_to_back { ", back to back" } else { "" }
                )?;
            }
        }
        writeln!(
            out,
            "{} conflict{} from {} to {} ({} calendar source{} read{})",
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            local(from, zone_of(schedule)),
            local(to, zone_of(schedule)),
            sources,
            if sources == 1 { "" } else { "s" },
            if ok { "" } else { "; some failed, see above" }
        )?;
    }
    Ok(if found.is_empty() && ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `rota report`: the fairness report as a table or JSON.
pub fn report(
    schedule: &Schedule,
    dir: &Path,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (cals, _) = read_calendars(schedule, dir, now)?;
    warn_outside_window(&cals, from, to);
    let holidays = cals.holidays(from, to);
    let r = schedule.report(from, to, &holidays)?;
    // The holidays inside the window (the set also holds a day either side, for other clocks).
    let last = (to - Duration::seconds(1)).date_naive();
    let n = holidays
        .between(from.date_naive(), last.succ_opt().unwrap_or(last))
        .count();
    if json {
        let v = ReportView::new(&r, n);
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let z = zone_of(schedule);
    writeln!(
        out,
        "Fairness from {} to {}; {} public holiday date{} known",
        local(from, z),
        local(to, z),
        n,
        if n == 1 { "" } else { "s" }
    )?;
    let mut current = "";
    for l in &r.loads {
        if l.rotation != current {
            current = &l.rotation;
            writeln!(out)?;
            let spread = r
                .spreads
                .iter()
                .find(|s| s.rotation.as_deref() == Some(current));
            match spread {
                Some(s) => writeln!(
                    out,
                    "{current}: spread {:.1} h ({} most, {} least)",
                    hours(s.secs()),
                    s.most.0,
                    s.least.0
                )?,
                None => writeln!(out, "{current}")?,
            }
            writeln!(
                out,
                "  {:<12} {:>6} {:>9} {:>9} {:>9} {:>14} {:>14}",
                "PERSON", "SHIFTS", "HOURS", "WEEKEND", "HOLIDAY", "GIVEN", "TAKEN"
            )?;
        }
        writeln!(
            out,
            "  {:<12} {:>6} {:>9.1} {:>9.1} {:>9.1} {:>14} {:>14}",
            l.person,
            l.shifts,
            hours(l.secs),
            hours(l.weekend_secs),
            hours(l.holiday_secs),
            format!("{} ({:.1} h)", l.overrides_given, hours(l.given_secs)),
            format!("{} ({:.1} h)", l.overrides_taken, hours(l.taken_secs)),
        )?;
    }
    if let Some(o) = &r.overall {
        writeln!(
            out,
            "\nOverall spread: {:.1} h between {} ({:.1} h) and {} ({:.1} h)",
            hours(o.secs()),
            o.most.0,
            hours(o.most.1),
            o.least.0,
            hours(o.least.1)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
