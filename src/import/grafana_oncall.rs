//! `rota import grafana-oncall`: a Grafana OnCall schedule (public HTTP API v1) as one rota
//! rotation with a layer per rotation shift, ordered by level.
//!
//! The readings, from Grafana OnCall's API reference and server code (fixtures and sources in
//! `tests/fixtures/import/`):
//!
//! - A `rolling_users` shift hands from one group of `rolling_users` to the next every `interval`
//!   `frequency` units from `start` (turned by `start_rotation_from_user_index`); a group is
//!   everyone on call together, so only groups of one person can be written. Each occurrence lasts
//!   `duration`: when that is the whole turn the layer is always on call, otherwise its
//!   occurrences (on the `by_day` days, or at `start`'s time) are the layer's `active` windows.
//!   Weekly turns change on `week_start`, so only shifts starting on that day are written, unless
//!   the shift has one group (every `recurrent_event`), which has no handoff.
//! - `daily` with `by_day` skips the days not listed without using a turn: `advance =
//!   "when-active"`.
//! - The naive `start` is on the clock of the shift's `time_zone`, else (a `calendar` schedule) of
//!   the schedule's, else (a `web` schedule) of UTC: web-UI shifts have no zone and Grafana runs
//!   them on UTC all year, so their layers are written in UTC.
//! - A higher `level` wins where shifts overlap, equal levels are all on call at once; overrides
//!   win over every level: layers by level, lowest first, and `[[overrides]]`.
//! - `until` is UTC, whatever the shift's zone (the rrule's UNTIL is built from it as UTC). A
//!   web-UI shift (a `web` schedule's) has its occurrences cut at it; a shift made through the API
//!   or Terraform (a `calendar` schedule's) has every occurrence that starts at or before it run
//!   its full length. rota's layers do not end: the report says when the shift's last
//!   occurrence ends.
//! - `rotation_start` of a `rolling_users` shift: a web shift's occurrences begin no earlier than
//!   it; an API shift has only the turns that start at or after it, so nobody until the first
//!   handoff from then. The layer starts at the handoff before it, and the report says whom rota
//!   has on call where Grafana has nobody. A `recurrent_event` has no turns, and Grafana ignores
//!   its `rotation_start`.
//! - A paginated list (`results`) gives its total across pages as `count`: the files given for
//!   one list are judged together, and reported only when they hold fewer distinct items than
//!   that, or, with no total, when every one names a `next` page.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Datelike, Days, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc};
use rota_core::Tz;

use super::json::{Doc, J};
use super::{
    Cadence, DAY, DAY_NAMES, Expected, HOUR, Ids, Import, LayerOut, OutArgs, OverrideOut, Pages,
    RotationOut, SlackOut, User, WEEK, Win, cadence, civil, instant, slack_id, slug, utc,
};

/// `rota import grafana-oncall`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The JSON of GET /api/v1/schedules/{id}/.
    #[arg(value_name = "SCHEDULE.json")]
    schedule: PathBuf,
    /// The JSON of GET /api/v1/on_call_shifts/?schedule_id={id} (repeat the option for each
    /// page), or of one GET /api/v1/on_call_shifts/{id}/.
    #[arg(long, value_name = "FILE")]
    shifts: Vec<PathBuf>,
    /// The JSON of GET /api/v1/users/ (repeat the option for each page): email addresses and
    /// time zones.
    #[arg(long, value_name = "FILE")]
    users: Vec<PathBuf>,
    /// The JSON of GET /api/v1/schedules/{id}/final_shifts?start_date=...&end_date=...: what
    /// the import is checked against.
    #[arg(long, value_name = "FILE")]
    final_shifts: Option<PathBuf>,
    /// The start_date of the final_shifts request (RFC 3339, e.g. 2025-06-02T00:00:00Z): the
    /// import is checked from then, where nobody is on call too. Without it, from the first
    /// shift's start.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// The end of the final_shifts request's range (RFC 3339, the instant its end_date stands
    /// for). Without it, to the last shift's end.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    #[command(flatten)]
    pub out: OutArgs,
}

struct UserInfo {
    email: Option<String>,
    username: Option<String>,
    timezone: Option<String>,
}

/// The items of a paginated list (`results`), or the one object a single GET returns. A page is
/// recorded in `pages` with its items, by `id` (or, for rows without one, by place), so that
/// whether the pages given hold the whole list is said once all are read.
fn items<'a>(pages: &mut Pages, d: &'a Doc, id: Option<&str>) -> anyhow::Result<Vec<J<'a>>> {
    let root = d.root();
    if root.has("results") {
        let list = root.get("results")?.array()?;
        pages.page(d.file(), root.opt_int("count")?, root.has("next"));
        for (i, x) in list.iter().enumerate() {
            pages.item(match id {
                Some(k) => x.str_at(k)?.to_string(),
                None => format!("{}#{i}", d.file()),
            });
        }
        Ok(list)
    } else if root.has("id") {
        Ok(vec![root])
    } else {
        Err(root.error("expected a list ({\"results\": [...]}) or one object with an `id`"))
    }
}

/// Grafana's paginated lists (PageNumberPagination): `count` is the total across the pages.
const FIELDS: (&str, &str) = ("count", "next");

fn ical_day(v: &J<'_>) -> anyhow::Result<i64> {
    const ICAL: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    let s = v.str()?;
    ICAL.iter()
        .position(|d| d.eq_ignore_ascii_case(s.trim()))
        .map(|i| i as i64)
        .ok_or_else(|| v.error(format!("expected a day such as \"MO\", found {s:?}")))
}

/// A shift's turns and windows, or why they cannot be written.
struct Pattern {
    cadence: Cadence,
    windows: Option<Vec<Win>>,
    when_active: bool,
}

/// `one_group`: the shift has one group (a `recurrent_event`, or `rolling_users` of one), so it
/// has no handoff, and where Grafana would hand over does not matter.
fn pattern(
    frequency: &str,
    interval: i64,
    by_day: Option<&[i64]>,
    week_start: i64,
    one_group: bool,
    duration: i64,
    start: NaiveDateTime,
) -> Result<Pattern, String> {
    let wd = i64::from(start.weekday().num_days_from_monday());
    let tod = i64::from(start.num_seconds_from_midnight());
    let unit = match frequency {
        "hourly" => HOUR,
        "daily" => DAY,
        "weekly" => WEEK,
        other => return Err(format!("{other} turns cannot be written as rota cadences")),
    };
    if !(1..=10_000).contains(&interval) {
        return Err(format!("an interval of {interval}"));
    }
    let turn = interval * unit;
    let cad = cadence(turn).ok_or_else(|| format!("turns of {interval} {frequency} units"))?;
    let continuous = |when_active| Pattern {
        cadence: cad.clone(),
        windows: None,
        when_active,
    };
    let windows = |days: &[i64], cad: Cadence, when_active| Pattern {
        cadence: cad,
        windows: Some(
            days.iter()
                .map(|&day| Win {
                    day,
                    start: tod,
                    secs: duration,
                })
                .collect(),
        ),
        when_active,
    };
    if duration <= 0 {
        return Err("occurrences of no length".into());
    }
    match (unit, by_day) {
        (HOUR, None) if duration == turn => Ok(continuous(false)),
        (HOUR, _) => Err(
            "hourly occurrences shorter than the turn, or on some days only, cannot be written \
             as windows of the week"
                .into(),
        ),
        (DAY, Some(days)) => {
            if interval != 1 {
                return Err("daily turns of more than one day on some days only".into());
            }
            if duration > DAY {
                return Err("daily occurrences longer than a day overlap the next one".into());
            }
            Ok(windows(days, cad, true))
        }
        (DAY, None) if duration == turn => Ok(continuous(false)),
        (DAY, None) if interval == 1 && duration < DAY => {
            Ok(windows(&[0, 1, 2, 3, 4, 5, 6], cad, false))
        }
        (DAY, None) => Err(format!(
            "occurrences of {duration} seconds every {interval} days do not repeat with the week"
        )),
        (_, by_day) => {
            if wd != week_start && !one_group {
                return Err(format!(
                    "it starts on a {}, not on its week_start {}: Grafana hands over on \
                     week_start, so its first turn is shorter than the others",
                    DAY_NAMES[wd as usize], DAY_NAMES[week_start as usize]
                ));
            }
            if by_day.is_none() && duration == turn {
                return Ok(continuous(false));
            }
            if interval != 1 {
                return Err(
                    "weekly turns of more than one week with shorter occurrences do not repeat \
                     with the week"
                        .into(),
                );
            }
            let own = [wd];
            let days = by_day.unwrap_or(&own);
            let handoff = wd * DAY + tod;
            for &d in days {
                let offset = (d * DAY + tod - handoff).rem_euclid(WEEK);
                if offset + duration > WEEK {
                    return Err(format!(
                        "its {} occurrence runs past the weekly handoff, where Grafana keeps the \
                         person and rota hands over",
                        DAY_NAMES[d as usize]
                    ));
                }
            }
            Ok(windows(days, cad, false))
        }
    }
}

/// When the last occurrence that starts at or before `until` ends, for a shift written as `p`
/// whose occurrences (its turns when it is always on call, else its windows) begin at `start` on
/// `zone`'s clock and last `duration` seconds; `None` when none starts by then.
fn last_end(
    p: &Pattern,
    zone: Tz,
    start: NaiveDateTime,
    duration: i64,
    until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let u = civil(zone, until);
    if u < start {
        return None;
    }
    let last = match &p.windows {
        None => {
            let turn = p.cadence.secs;
            let k = (u - start).num_seconds().div_euclid(turn);
            start.checked_add_signed(TimeDelta::seconds(k * turn))?
        }
        // Every window recurs weekly: the last start is within the week before `u`.
        Some(wins) => (0..=7)
            .filter_map(|back| u.date().checked_sub_days(Days::new(back)))
            .flat_map(|date| {
                let day = i64::from(date.weekday().num_days_from_monday());
                wins.iter()
                    .filter(move |w| w.day == day)
                    .filter_map(move |w| {
                        date.and_time(NaiveTime::MIN)
                            .checked_add_signed(TimeDelta::seconds(w.start))
                    })
            })
            .filter(|t| (start..=u).contains(t))
            .max()?,
    };
    instant(zone, last.checked_add_signed(TimeDelta::seconds(duration))?)
}

pub(crate) fn import(a: &Args, now: DateTime<Utc>) -> anyhow::Result<Import> {
    let doc = Doc::read(&a.schedule)?;
    let sch = doc.root();
    let sid = sch.opt_str("id")?.unwrap_or_default();
    let name = sch.opt_str("name")?.unwrap_or(sid);
    let kind = sch.opt_str("type")?.unwrap_or("web");
    // A calendar schedule's shifts are made through the API or Terraform, a web schedule's in
    // the web UI: Grafana reads their `until` and `rotation_start` differently.
    let api = kind == "calendar";
    let mut imp = Import::new(
        "Grafana OnCall",
        "grafana-oncall",
        format!("schedule {name:?} ({sid})"),
    );
    imp.inputs.push(doc.file().to_string());
    let (since, until) = super::window_flags(a.since.as_deref(), a.until.as_deref())?;
    if let Some(t) = sch.opt_str("team_id")?
        && !t.trim().is_empty()
    {
        imp.report.lost(
            format!("schedule {name:?} team_id {t:?}"),
            "not carried over (a rota team is for links; add `team` by hand if you need one)",
        );
    }
    let mut slack = SlackOut::default();
    if let Some(sl) = sch.opt("slack")? {
        for (key, prefixes, example, field) in [
            ("channel_id", &['C', 'G'][..], "C0123ABCD", "channel"),
            ("user_group_id", &['S'][..], "S0123ABCD", "usergroup"),
        ] {
            let Some(v) = sl.opt_str(key)? else { continue };
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            if slack_id(v, prefixes) {
                if field == "channel" {
                    slack.channel = Some(v.to_string());
                } else {
                    slack.usergroup = Some(v.to_string());
                }
            } else {
                imp.report.lost(
                    format!("slack.{key} {v:?}"),
                    format!(
                        "is not a Slack id like {example:?}, which rota's [rotations.ID.slack] \
                         {field} needs: not carried over; set it by hand"
                    ),
                );
            }
        }
    }
    let slack = (slack.channel.is_some() || slack.usergroup.is_some()).then(|| {
        imp.report.note(
            "slack",
            "the schedule's Slack channel and user group (Slack's own ids, as Grafana's Terraform \
             provider sets them) are written as [rotations.ID.slack]: rota keeps the user group \
             equal to whoever is on call and posts at each handoff in the channel, once \
             ROTA_SLACK_TOKEN is set (README, Slack)",
        );
        slack
    });
    let sched_zone = match sch.opt("time_zone")? {
        Some(v) => Some(rota_core::tz::parse_zone(v.str()?).map_err(|e| v.error(e))?),
        None => None,
    };
    let display = sched_zone.unwrap_or(Tz::UTC);
    if kind == "ical" {
        imp.report.lost(
            format!("schedule {name:?}"),
            "is an iCal schedule, which has no shifts to import: import its calendar \
             (ical_url_primary) with `rota import ics`",
        );
    }
    if let Some(u) = sch.opt_str("ical_url_overrides")?
        && !u.trim().is_empty()
    {
        imp.report.lost(
            "ical_url_overrides",
            "overrides from an iCal feed are not imported: import that calendar with \
             `rota import ics` over the window you need",
        );
    }

    let mut users: HashMap<String, UserInfo> = HashMap::new();
    let mut pages = Pages::default();
    for f in &a.users {
        let d = Doc::read(f)?;
        imp.inputs.push(d.file().to_string());
        for u in items(&mut pages, &d, Some("id"))? {
            users.insert(
                u.str_at("id")?.to_string(),
                UserInfo {
                    email: u.opt_str("email")?.map(str::to_string),
                    username: u.opt_str("username")?.map(str::to_string),
                    timezone: u.opt_str("timezone")?.map(str::to_string),
                },
            );
        }
    }
    pages.report(
        &mut imp.report,
        FIELDS,
        "users",
        "people on the pages not given have no email address or zone from it; give every page \
         with --users",
    );
    let person = |imp: &mut Import, pk: &str| -> String {
        let info = users.get(pk);
        let username = info.and_then(|i| i.username.as_deref());
        imp.people.add(
            User {
                key: pk,
                name: username,
                email: info.and_then(|i| i.email.as_deref()),
                timezone: info.and_then(|i| i.timezone.as_deref()),
                what: format!("Grafana OnCall user {:?}", username.unwrap_or(pk)),
            },
            &mut imp.report,
        )
    };

    let listed: Vec<String> = sch
        .array_at("shifts")?
        .iter()
        .map(|s| s.str().map(str::to_string))
        .collect::<anyhow::Result<_>>()?;
    let listed_set: HashSet<&str> = listed.iter().map(String::as_str).collect();
    let docs: Vec<Doc> = a
        .shifts
        .iter()
        .map(|f| Doc::read(f))
        .collect::<anyhow::Result<_>>()?;
    let mut shifts = Vec::new();
    let mut seen = HashSet::new();
    let mut elsewhere = 0;
    let mut pages = Pages::default();
    for d in &docs {
        imp.inputs.push(d.file().to_string());
        for s in items(&mut pages, d, Some("id"))? {
            let id = s.str_at("id")?.to_string();
            let theirs = match s.opt_str("schedule")? {
                Some(owner) => owner == sid,
                None => listed.is_empty() || listed_set.contains(id.as_str()),
            };
            if !theirs {
                elsewhere += 1;
                continue;
            }
            if seen.insert(id) {
                shifts.push(s);
            }
        }
    }
    pages.report(
        &mut imp.report,
        FIELDS,
        "shifts",
        "shifts on the pages not given are not imported; give every page with --shifts",
    );
    if elsewhere > 0 {
        imp.report.note(
            "--shifts",
            format!("{elsewhere} shifts of other schedules were left out"),
        );
    }
    for id in &listed {
        if !seen.contains(id) {
            imp.report.lost(
                format!("shift {id}"),
                "is listed by the schedule but not in the --shifts files: not imported",
            );
        }
    }

    let rot_id = [slug(name), slug(sid)]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "grafana-oncall".into());
    // (level, layer)
    let mut layers: Vec<(i64, LayerOut)> = Vec::new();
    let mut utc_shifts = Vec::new();
    let mut override_ids = Ids::default();
    for s in &shifts {
        let id = s.str_at("id")?;
        let sname = s.opt_str("name")?.unwrap_or(id);
        let what = format!("shift {sname:?} ({id})");
        if let Some(t) = s.opt_str("team_id")?
            && !t.trim().is_empty()
        {
            imp.report.lost(
                format!("{what} team_id {t:?}"),
                "not carried over (a rota team is for links; add `team` by hand if you need one)",
            );
        }
        let stype = s.str_at("type")?;
        let (zone, zoneless) = match s.opt("time_zone")? {
            Some(v) => (
                rota_core::tz::parse_zone(v.str()?).map_err(|e| v.error(e))?,
                false,
            ),
            None if kind == "calendar" => (display, false),
            None => (Tz::UTC, true),
        };
        let start_v = s.get("start")?;
        let start = start_v.civil()?;
        let start_at = instant(zone, start)
            .ok_or_else(|| start_v.error("a date-time rota cannot place in time"))?;
        let duration = s.int_at("duration")?;
        let user_list = |key: &str| -> anyhow::Result<Vec<String>> {
            s.array_at(key)?
                .iter()
                .map(|u| u.str().map(str::to_string))
                .collect()
        };
        match stype {
            "override" => {
                let who = user_list("users")?;
                if who.is_empty() {
                    imp.report.lost(
                        what,
                        format!(
                            "an override from {} for {duration} seconds with `users` empty in the \
                             response: Grafana's public API may return an override without its \
                             users, so who covers it is not in the input: not imported; add it \
                             by hand as an [[overrides]] entry (the web UI shows who covers)",
                            utc(start_at)
                        ),
                    );
                    continue;
                }
                let [pk] = who.as_slice() else {
                    imp.report.lost(
                        what,
                        format!(
                            "puts {} people on call at once; a rota override names one person: \
                             not imported",
                            who.len()
                        ),
                    );
                    continue;
                };
                let Some(end) = chrono::TimeDelta::try_seconds(duration)
                    .filter(|_| duration > 0)
                    .and_then(|d| start_at.checked_add_signed(d))
                else {
                    imp.report
                        .lost(what, format!("lasts {duration} seconds: not imported"));
                    continue;
                };
                let p = person(&mut imp, pk);
                let oid = override_ids.claim(&format!("grafana-{}", slug(id)));
                imp.overrides.push(OverrideOut {
                    id: oid,
                    rotation: rot_id.clone(),
                    person: p,
                    start: start_at,
                    end,
                    reason: format!("Grafana OnCall override {id}"),
                });
            }
            "single_event" => {
                let who: Vec<String> = user_list("users")?
                    .iter()
                    .map(|pk| {
                        users
                            .get(pk)
                            .and_then(|u| u.username.clone())
                            .unwrap_or_else(|| pk.clone())
                    })
                    .collect();
                imp.report.lost(
                    what,
                    format!(
                        "a single event ({} from {} for {duration} seconds, level {}): rota's \
                         layers repeat, so it is not imported; make it an override if it still \
                         matters",
                        who.join(", "),
                        utc(start_at),
                        s.opt_int("level")?.unwrap_or(0)
                    ),
                );
            }
            "rolling_users" | "recurrent_event" => {
                let groups: Vec<Vec<String>> = if stype == "rolling_users" {
                    s.array_at("rolling_users")?
                        .iter()
                        .map(|g| {
                            g.array()?
                                .iter()
                                .map(|u| u.str().map(str::to_string))
                                .collect::<anyhow::Result<Vec<String>>>()
                        })
                        .collect::<anyhow::Result<_>>()?
                } else {
                    vec![user_list("users")?]
                };
                if groups.is_empty() {
                    imp.report.lost(what, "has nobody on call: not imported");
                    continue;
                }
                if let Some((i, g)) = groups.iter().enumerate().find(|(_, g)| g.len() != 1) {
                    imp.report.lost(
                        what,
                        format!(
                            "its group {} has {} people, who are all on call together in Grafana; \
                             rota has one person at a time: not imported",
                            i + 1,
                            g.len()
                        ),
                    );
                    continue;
                }
                for key in ["by_month", "by_monthday"] {
                    if !s.array_at(key)?.is_empty() {
                        imp.report.lost(
                            &what,
                            format!("has {key}, which rota's windows of the week cannot hold: not imported"),
                        );
                    }
                }
                if !s.array_at("by_month")?.is_empty() || !s.array_at("by_monthday")?.is_empty() {
                    continue;
                }
                let frequency = s.str_at("frequency")?;
                let interval = s.opt_int("interval")?.unwrap_or(1);
                let by_day: Option<Vec<i64>> = match s.opt("by_day")? {
                    Some(v) => {
                        let days: Vec<i64> = v
                            .array()?
                            .iter()
                            .map(ical_day)
                            .collect::<anyhow::Result<_>>()?;
                        (!days.is_empty()).then_some(days)
                    }
                    None => None,
                };
                let week_start = match s.opt("week_start")? {
                    Some(v) => ical_day(&v)?,
                    None => 6,
                };
                let p = match pattern(
                    frequency,
                    interval,
                    by_day.as_deref(),
                    week_start,
                    groups.len() == 1,
                    duration,
                    start,
                ) {
                    Ok(p) => p,
                    Err(why) => {
                        imp.report.lost(
                            what,
                            format!("cannot be written exactly: {why}; not imported"),
                        );
                        continue;
                    }
                };
                let wins = p.windows.as_deref().unwrap_or_default();
                let Some(active) = imp.active_or_report(&what, "its occurrences", wins) else {
                    continue;
                };
                // `until` is UTC whatever the shift's zone: Grafana builds the rrule's UNTIL
                // from it as UTC.
                if let Some(until) = s.opt_civil("until")?.map(|u| u.and_utc()) {
                    // When this shift last has someone on call.
                    let stop = if api {
                        last_end(&p, zone, start, duration, until)
                    } else {
                        (until > start_at).then_some(until)
                    };
                    let Some(stop) = stop else {
                        imp.report.lost(
                            what,
                            format!(
                                "has no occurrence by its until ({}, UTC), as it starts at {}: \
                                 Grafana has nobody on call from it; not imported",
                                utc(until),
                                utc(start_at)
                            ),
                        );
                        continue;
                    };
                    let when = if api {
                        format!(
                            "its last occurrence starting at or before its until, {} (UTC), runs \
                             its full length: Grafana's rrule UNTIL bounds the starts of a shift \
                             made through the API or Terraform (a calendar schedule's)",
                            utc(until)
                        )
                    } else {
                        format!(
                            "Grafana cuts a web shift's occurrences at its until, {} (UTC)",
                            utc(until)
                        )
                    };
                    if stop <= now {
                        imp.report.lost(
                            what,
                            format!("ended at {} ({when}): not imported", utc(stop)),
                        );
                        continue;
                    }
                    imp.report.lost(
                        &what,
                        format!(
                            "ends at {} ({when}); rota's layers do not end, so the imported one \
                             goes on after that: remove it by then",
                            utc(stop)
                        ),
                    );
                }
                let mut members: Vec<String> =
                    groups.iter().map(|g| person(&mut imp, &g[0])).collect();
                let from = s.opt_int("start_rotation_from_user_index")?.unwrap_or(0);
                let n = members.len() as i64;
                members.rotate_left(from.rem_euclid(n) as usize);
                let mut layer = LayerOut {
                    id: match slug(sname) {
                        x if x.is_empty() => slug(id),
                        x => x,
                    },
                    name: sname.to_string(),
                    members,
                    timezone: zone,
                    start,
                    cadence: p.cadence,
                    active,
                    when_active: p.when_active && p.windows.is_some(),
                };
                // Grafana ignores rotation_start for a recurrent_event (it has no turns).
                if stype == "rolling_users"
                    && let Some(rs) = s
                        .opt_civil("rotation_start")?
                        .and_then(|r| instant(zone, r))
                    && rs > start_at
                {
                    match super::start_at(&mut layer, rs) {
                        Some(h) => {
                            let next = layer
                                .start
                                .checked_add_signed(TimeDelta::seconds(layer.cadence.secs))
                                .and_then(|c| instant(zone, c));
                            let why = match next {
                                Some(next) if api => format!(
                                    "takes effect at {} (rotation_start), inside a turn: Grafana \
                                     leaves out every turn of a shift made through the API or \
                                     Terraform (a calendar schedule's) that starts before \
                                     rotation_start, so it has nobody from this shift until the \
                                     next handoff, at {}; rota's layer starts at the handoff \
                                     before, so it has {} on call from {} to {}",
                                    utc(rs),
                                    utc(next),
                                    layer.members[0],
                                    utc(h),
                                    utc(next)
                                ),
                                _ => format!(
                                    "takes effect at {} (rotation_start), inside a turn: Grafana \
                                     starts a web shift's occurrences no earlier than \
                                     rotation_start; rota's layer starts at that turn's handoff, \
                                     so it has {} on call from {} to then, where Grafana had \
                                     nobody from this shift",
                                    utc(rs),
                                    layer.members[0],
                                    utc(h)
                                ),
                            };
                            imp.report.lost(&what, why);
                        }
                        None if layer.when_active => imp.report.lost(
                            &what,
                            format!(
                                "takes effect at {} (rotation_start); rota's layer has its turns \
                                 from {} on",
                                utc(rs),
                                utc(start_at)
                            ),
                        ),
                        None => {}
                    }
                }
                if zoneless {
                    utc_shifts.push(what.clone());
                }
                layers.push((s.opt_int("level")?.unwrap_or(0), layer));
            }
            other => imp.report.lost(
                what,
                format!("is of type {other:?}, which rota does not know: not imported"),
            ),
        }
    }
    if !utc_shifts.is_empty() {
        imp.report.note(
            utc_shifts.join(", "),
            "no time zone: Grafana runs a web schedule's shift without one on UTC all year (its \
             handoffs move against local time when the clocks change), so its layer is written in \
             UTC, which matches Grafana; give the layer your zone and local times if the handoffs \
             should follow local time",
        );
    }
    layers.sort_by_key(|(level, _)| *level);
    let mut by_level: HashMap<i64, Vec<String>> = HashMap::new();
    for (level, l) in &layers {
        by_level
            .entry(*level)
            .or_default()
            .push(format!("{:?}", l.name));
    }
    let mut shared: Vec<(i64, Vec<String>)> =
        by_level.into_iter().filter(|(_, v)| v.len() > 1).collect();
    shared.sort();
    for (level, names) in shared {
        imp.report.lost(
            format!("level {level}"),
            format!(
                "shifts {} share it: where they overlap Grafana has all of them on call at once; \
                 rota has one person at a time, the last one listed",
                names.join(", ")
            ),
        );
    }
    let mut ids = Ids::default();
    let mut out_layers = Vec::new();
    for (_, mut l) in layers {
        l.id = ids.claim(&l.id);
        out_layers.push(l);
    }
    if out_layers.is_empty() {
        if let Some(sl) = &slack {
            imp.report.lost(
                "slack",
                format!(
                    "channel {:?}, user group {:?}: no rotation was imported to set them on",
                    sl.channel.as_deref().unwrap_or("-"),
                    sl.usergroup.as_deref().unwrap_or("-")
                ),
            );
        }
        for o in std::mem::take(&mut imp.overrides) {
            imp.report.lost(
                format!("override {}", o.reason),
                "no rotation was imported to override: not imported",
            );
        }
    } else {
        imp.rotation = Some(RotationOut {
            id: rot_id.clone(),
            name: name.to_string(),
            timezone: display,
            layers: out_layers,
            slack,
        });
    }

    if let Some(path) = &a.final_shifts {
        let d = Doc::read(path)?;
        imp.inputs.push(d.file().to_string());
        let mut entries = Vec::new();
        let mut pages = Pages::default();
        let rows = items(&mut pages, &d, None)?;
        pages.report(
            &mut imp.report,
            FIELDS,
            "rows",
            "the import is checked against the rows read only (Grafana returns final_shifts as \
             one page, `next` null and `count` its rows; a response that says otherwise is cut)",
        );
        for r in rows {
            let pk = r.opt_str("user_pk")?.unwrap_or_default();
            let email = r.opt_str("user_email")?.unwrap_or_default();
            let who = match imp.people.get(pk).or_else(|| imp.people.by_email(email)) {
                Some(p) => p.to_string(),
                None => format!(
                    "Grafana OnCall user {:?}",
                    r.opt_str("user_username")?.unwrap_or(pk)
                ),
            };
            entries.push(Expected {
                start: r.instant_at("shift_start")?.with_timezone(&Utc),
                end: r.instant_at("shift_end")?.with_timezone(&Utc),
                who,
            });
        }
        imp.check_against(
            "Grafana OnCall's final shifts",
            "final_shifts",
            rot_id,
            (since, until),
            entries,
        );
    }
    Ok(imp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        rota_core::tz::parse_civil(s).unwrap()
    }

    #[test]
    fn patterns() {
        // Monday 08:00, weekly, Mon-Fri 8 h: one week a turn, windows on weekdays.
        let p = pattern(
            "weekly",
            1,
            Some(&[0, 1, 2, 3, 4]),
            0,
            false,
            8 * HOUR,
            at("2025-05-05T08:00"),
        )
        .unwrap();
        assert_eq!(p.cadence.every, "1 week");
        assert_eq!(p.windows.unwrap().len(), 5);
        assert!(!p.when_active);
        // Continuous.
        let p = pattern(
            "weekly",
            2,
            None,
            0,
            false,
            2 * WEEK,
            at("2025-05-05T08:00"),
        )
        .unwrap();
        assert_eq!(p.cadence.every, "2 weeks");
        assert!(p.windows.is_none());
        // Daily on some days: turns only on those days.
        let p = pattern(
            "daily",
            1,
            Some(&[0, 2]),
            0,
            false,
            8 * HOUR,
            at("2025-05-05T08:00"),
        )
        .unwrap();
        assert!(p.when_active);
        // Not on week_start.
        let e = pattern("weekly", 1, None, 0, false, WEEK, at("2025-05-07T08:00"))
            .err()
            .unwrap();
        assert!(
            e.contains("starts on a Wed, not on its week_start Mon"),
            "{e}"
        );
        // A Friday occurrence up to Monday's handoff is fine; one past it is not.
        assert!(
            pattern(
                "weekly",
                1,
                Some(&[4]),
                0,
                false,
                3 * DAY,
                at("2025-05-05T08:00")
            )
            .is_ok()
        );
        let e = pattern(
            "weekly",
            1,
            Some(&[4]),
            0,
            false,
            3 * DAY + HOUR,
            at("2025-05-05T08:00"),
        )
        .err()
        .unwrap();
        assert!(e.contains("runs past the weekly handoff"), "{e}");
        assert!(pattern("daily", 2, None, 0, false, HOUR, at("2025-05-05T08:00")).is_err());
        assert!(pattern("monthly", 1, None, 0, false, DAY, at("2025-05-05T08:00")).is_err());
        // One group (a recurrent_event) has no handoff: off week_start is written as it is.
        let p = pattern("weekly", 1, None, 0, true, WEEK, at("2025-05-07T08:00")).unwrap();
        assert!(p.windows.is_none());
        let p = pattern(
            "weekly",
            1,
            Some(&[0, 1, 2, 3, 4]),
            0,
            true,
            8 * HOUR,
            at("2025-05-07T08:00"),
        )
        .unwrap();
        assert_eq!(p.windows.unwrap().len(), 5);
    }

    /// An occurrence that starts at or before `until` runs its full length (an API shift's
    /// UNTIL bounds starts): turns, windows, and `until` as an instant on the zone's clock.
    #[test]
    fn the_last_occurrence_by_until() {
        let t = |s: &str| rota_core::tz::parse_instant(s, Tz::UTC).unwrap();
        let end = |p: &Pattern, zone: Tz, until: &str| {
            last_end(p, zone, at("2025-05-05T08:00"), 8 * HOUR, t(until)).map(utc)
        };
        // Weekly turns from Monday 08:00: the turn holding until, or starting at it, to its end.
        let weekly = pattern("weekly", 1, None, 0, false, WEEK, at("2025-05-05T08:00")).unwrap();
        let turns = |until: &str| {
            last_end(&weekly, Tz::UTC, at("2025-05-05T08:00"), WEEK, t(until)).map(utc)
        };
        assert_eq!(
            turns("2025-05-14T08:00:00Z").as_deref(),
            Some("2025-05-19T08:00:00Z")
        );
        assert_eq!(
            turns("2025-05-12T08:00:00Z").as_deref(),
            Some("2025-05-19T08:00:00Z")
        );
        assert_eq!(
            turns("2025-05-12T07:59:59Z").as_deref(),
            Some("2025-05-12T08:00:00Z")
        );
        assert_eq!(turns("2025-05-05T07:00:00Z"), None);
        // Weekdays 08:00-16:00: the last weekday occurrence started by until.
        let days = pattern(
            "weekly",
            1,
            Some(&[0, 1, 2, 3, 4]),
            0,
            false,
            8 * HOUR,
            at("2025-05-05T08:00"),
        )
        .unwrap();
        assert_eq!(
            end(&days, Tz::UTC, "2025-05-10T12:00:00Z").as_deref(),
            Some("2025-05-09T16:00:00Z")
        );
        assert_eq!(
            end(&days, Tz::UTC, "2025-05-07T10:00:00Z").as_deref(),
            Some("2025-05-07T16:00:00Z")
        );
        // In London (BST), 07:30Z is 08:30 local: Wednesday's occurrence has started.
        let london = rota_core::tz::parse_zone("Europe/London").unwrap();
        assert_eq!(
            end(&days, london, "2025-05-07T07:30:00Z").as_deref(),
            Some("2025-05-07T15:00:00Z")
        );
        assert_eq!(
            end(&days, london, "2025-05-07T06:30:00Z").as_deref(),
            Some("2025-05-06T15:00:00Z")
        );
    }
}
