//! `rota import opsgenie`: an Opsgenie schedule (REST API v2) as one rota rotation with a layer
//! per schedule rotation.
//!
//! The readings, from Opsgenie's API reference, its OpenAPI description and its knowledge base
//! (fixtures and sources in `tests/fixtures/import/`):
//!
//! - Turn `k` of a rotation covers `[startDate + k × length × unit, + length × unit)` and belongs
//!   to `participants[k mod n]`; `type` (hourly, daily, weekly) is the unit.
//! - `timeRestriction` limits a rotation to times of day (`time-of-day`, one interval every day)
//!   or to intervals of the week (`weekday-and-time-of-day`, each from a day and time to a day and
//!   time), on the schedule zone's clock: `active` windows. Whether a turn wholly outside them
//!   still uses up its participant is not documented; turns are time slots, so `advance =
//!   "always"`, and the report says so.
//! - Where rotations overlap, Opsgenie has everyone of every rotation on call at once. rota has
//!   one person at a time: the layers are written in the schedule's order, the last winning, and
//!   each overlap the timeline shows is reported.
//! - An override replaces the recipient of the rotations it names (all, when it names none) for
//!   its span: a file override of the rotation, which replaces whoever is on call in any layer.
//! - GET /v2/users is paged (`limit` 20 by default, at most 100; `paging.next` on every page but
//!   the last) and gives the list's total across pages as `totalCount`: the `--users` files are
//!   judged together, and reported only when they hold fewer distinct users than that, or, with
//!   no total, when every one names a next page.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::json::{Doc, J};
use super::{
    DAY, Expected, Final, HOUR, Ids, Import, LayerOut, MAX_CHECK_DAYS, OutArgs, OverrideOut, Pages,
    RotationOut, User, WEEK, Win, cadence, civil, has_dst, slug, utc,
};

/// `rota import opsgenie`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The JSON of GET /v2/schedules/{id}?identifierType=id (with its rotations).
    #[arg(value_name = "SCHEDULE.json")]
    schedule: PathBuf,
    /// The JSON of GET /v2/schedules/{id}/overrides: each becomes a file override.
    #[arg(long, value_name = "FILE")]
    overrides: Option<PathBuf>,
    /// The JSON of GET /v2/schedules/{id}/timeline: its finalTimeline is what the import is
    /// checked against, and where rotations overlap is read from it.
    #[arg(long, value_name = "FILE")]
    timeline: Option<PathBuf>,
    /// The JSON of GET /v2/users (or GET /v2/users/{id}; repeat the option): full names and time
    /// zones. Without it, people are named by their usernames. The list comes 20 users a page
    /// unless asked for more (at most 100): fetch ?limit=100, follow paging.next, and give every
    /// page.
    #[arg(long, value_name = "FILE")]
    users: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutArgs,
}

struct UserInfo {
    full_name: Option<String>,
    time_zone: Option<String>,
}

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn weekday(v: &J<'_>) -> anyhow::Result<i64> {
    let s = v.str()?;
    WEEKDAYS
        .iter()
        .position(|d| d.eq_ignore_ascii_case(s.trim()))
        .map(|i| i as i64)
        .ok_or_else(|| v.error(format!("expected a day such as \"monday\", found {s:?}")))
}

/// Hours and minutes as seconds from midnight; `24:00` is the end of the day.
fn hour_min(r: &J<'_>, h: &str, m: &str) -> anyhow::Result<i64> {
    let hv = r.get(h)?;
    let hour = hv.int()?;
    let min = r.opt_int(m)?.unwrap_or(0);
    if !(0..=24).contains(&hour) || !(0..60).contains(&min) || (hour == 24 && min != 0) {
        return Err(hv.error(format!("{hour}:{min:02} is not a time of day")));
    }
    Ok(hour * HOUR + min * 60)
}

pub(crate) fn import(a: &Args, now: DateTime<Utc>) -> anyhow::Result<Import> {
    let doc = Doc::read(&a.schedule)?;
    let sch = doc.root().get("data")?;
    let sid = sch.opt_str("id")?.unwrap_or_default();
    let name = sch.opt_str("name")?.unwrap_or(sid);
    let mut imp = Import::new("Opsgenie", "opsgenie", format!("schedule {name:?} ({sid})"));
    imp.inputs.push(doc.file().to_string());
    let zone_v = sch.get("timezone")?;
    let zone = rota_core::tz::parse_zone(zone_v.str()?).map_err(|e| zone_v.error(e))?;
    if let Some(e) = sch.opt("enabled")?
        && !e.bool()?
    {
        imp.report
            .note(format!("schedule {name:?}"), "is disabled in Opsgenie");
    }
    if let Some(d) = sch.opt_str("description")?
        && !d.trim().is_empty()
    {
        imp.report.lost(
            format!("schedule {name:?} description"),
            format!("{d:?}: rota's rotations have no description; keep it as a comment by hand"),
        );
    }
    if let Some(t) = sch.opt("ownerTeam")? {
        let tn = t.opt_str("name")?.unwrap_or_default();
        imp.report.lost(
            format!("owner team {tn:?}"),
            "not carried over (a rota team is for links; add `team` by hand if you need one)",
        );
    }

    let mut users: HashMap<String, UserInfo> = HashMap::new();
    let mut pages = Pages::default();
    for f in &a.users {
        let d = Doc::read(f)?;
        imp.inputs.push(d.file().to_string());
        let data = d.root().get("data")?;
        // GET /v2/users/{id} returns one user; GET /v2/users a page of the list.
        let paged = !data.has("id");
        let list = if !paged {
            vec![data]
        } else {
            let next = match d.root().opt("paging")? {
                Some(p) => p.opt_str("next")?.is_some_and(|n| !n.trim().is_empty()),
                None => false,
            };
            pages.page(d.file(), d.root().opt_int("totalCount")?, next);
            data.array()?
        };
        for u in list {
            if paged {
                pages.item(u.str_at("id")?);
            }
            let info = UserInfo {
                full_name: u.opt_str("fullName")?.map(str::to_string),
                // `timeZone` in the OpenAPI `User` and the Go SDK; `timezone` accepted too.
                time_zone: match u.opt_str("timeZone")? {
                    Some(t) => Some(t.to_string()),
                    None => u.opt_str("timezone")?.map(str::to_string),
                },
            };
            if let Some(un) = u.opt_str("username")? {
                users.insert(
                    un.to_ascii_lowercase(),
                    UserInfo {
                        full_name: info.full_name.clone(),
                        time_zone: info.time_zone.clone(),
                    },
                );
            }
            users.insert(u.str_at("id")?.to_string(), info);
        }
    }
    pages.report(
        &mut imp.report,
        ("totalCount", "paging.next"),
        "users",
        "people on the pages not given are named by username; give every page with --users \
         (GET /v2/users returns 20 users a page unless asked for more, at most 100: fetch it \
         with ?limit=100 and follow `paging.next` to the end)",
    );
    let named_by_username = std::cell::Cell::new(false);
    // A recipient ({type: user, id, username}) as a person.
    let person = |imp: &mut Import, r: &J<'_>| -> anyhow::Result<String> {
        let username = match r.opt_str("username")? {
            Some(u) => Some(u),
            None => r.opt_str("name")?,
        };
        let key = match r.opt_str("id")? {
            Some(id) => id,
            None => username.ok_or_else(|| r.error("a user with neither `id` nor `username`"))?,
        };
        let info = users
            .get(key)
            .or_else(|| username.and_then(|u| users.get(&u.to_ascii_lowercase())));
        let full = info.and_then(|i| i.full_name.as_deref());
        if full.is_none() {
            named_by_username.set(true);
        }
        let email = username.filter(|u| super::plain_email(u));
        let what = format!("Opsgenie user {:?}", username.unwrap_or(key));
        Ok(imp.people.add(
            User {
                key,
                name: full.or(username),
                email,
                timezone: info.and_then(|i| i.time_zone.as_deref()),
                what,
            },
            &mut imp.report,
        ))
    };

    let rot_id = [slug(name), slug(sid)]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "opsgenie".into());
    let mut layers: Vec<LayerOut> = Vec::new();
    // Opsgenie rotation id -> layer id.
    let mut imported: HashMap<String, String> = HashMap::new();
    let mut layer_ids = Ids::default();
    let mut restricted = false;
    let rotations = sch.array_at("rotations")?;
    for (i, r) in rotations.iter().enumerate() {
        let rid = r.opt_str("id")?.unwrap_or_default();
        let rname = r.opt_str("name")?.unwrap_or(rid);
        let what = format!("rotation {rname:?} ({rid})");
        let Some(mut layer) = layer(&mut imp, r, &what, zone, now, &person)? else {
            continue;
        };
        restricted |= layer.active.is_some();
        let base = match slug(rname) {
            s if s.is_empty() => format!("rotation-{}", i + 1),
            s => s,
        };
        layer.id = layer_ids.claim(&base);
        layer.name = rname.to_string();
        imported.insert(rid.to_string(), layer.id.clone());
        layers.push(layer);
    }
    if rotations.is_empty() {
        imp.report
            .lost(format!("schedule {name:?}"), "has no rotations");
    }
    if restricted {
        imp.report.note(
            "timeRestriction",
            "Opsgenie does not document whether a turn wholly outside a rotation's restriction \
             uses up its participant; turns are time slots, so it does here (advance = \"always\")",
        );
    }
    if !layers.is_empty() && has_dst(zone, now) {
        imp.report.note(
            format!("time zone {zone}"),
            "Opsgenie does not document whether daily and weekly turns keep their wall-clock \
             handoff time across daylight-saving changes; rota's do",
        );
    }
    let n_layers = layers.len();
    if n_layers > 1 {
        let order: Vec<String> = layers.iter().map(|l| format!("{:?}", l.name)).collect();
        imp.report.lost(
            "rotations",
            format!(
                "Opsgenie has everyone on call in every rotation at once where rotations \
                 overlap; rota has one person at a time: the layers are in the schedule's order \
                 ({}), and where they overlap only the last one's person is on call{}",
                order.join(", "),
                if a.timeline.is_some() {
                    " (the overlaps in the timeline are listed below)"
                } else {
                    " (give --timeline to have the overlaps listed)"
                }
            ),
        );
    }
    if !layers.is_empty() {
        imp.rotation = Some(RotationOut {
            id: rot_id.clone(),
            name: name.to_string(),
            timezone: zone,
            layers,
            slack: None,
        });
    }

    if let Some(path) = &a.overrides {
        let d = Doc::read(path)?;
        imp.inputs.push(d.file().to_string());
        let mut ids = Ids::default();
        for o in d.root().get("data")?.array()? {
            let alias = o.opt_str("alias")?.unwrap_or_default();
            let what = format!("override {alias:?}");
            let start = o.instant_at("startDate")?.with_timezone(&Utc);
            let end = o.instant_at("endDate")?.with_timezone(&Utc);
            let u = o.get("user")?;
            if u.str_at("type")? != "user" {
                imp.report.lost(
                    what,
                    format!(
                        "puts a {} on call, and a rota override names a person: not imported",
                        u.str_at("type")?
                    ),
                );
                continue;
            }
            let who = person(&mut imp, &u)?;
            if end <= start {
                imp.report.lost(what, "ends before it starts: not imported");
                continue;
            }
            if imp.rotation.is_none() {
                imp.report
                    .lost(what, "no rotation was imported to override: not imported");
                continue;
            }
            let named: Vec<(String, String)> = o
                .array_at("rotations")?
                .iter()
                .map(|r| -> anyhow::Result<(String, String)> {
                    let id = r.opt_str("id")?.unwrap_or_default().to_string();
                    let n = r.opt_str("name")?.unwrap_or(&id).to_string();
                    Ok((id, n))
                })
                .collect::<anyhow::Result<_>>()?;
            if !named.is_empty() {
                if !named.iter().any(|(id, _)| imported.contains_key(id)) {
                    imp.report.lost(
                        what,
                        "overrides only rotations that were not imported: not imported",
                    );
                    continue;
                }
                // rota's override replaces whoever is on call in any layer: say where that is
                // someone of a rotation the override leaves alone in Opsgenie.
                let names: Vec<String> = named.iter().map(|(_, n)| format!("{n:?}")).collect();
                let layers = imp
                    .rotation
                    .as_ref()
                    .map(|r| r.layers.clone())
                    .unwrap_or_default();
                let span = end - start;
                if span > chrono::TimeDelta::days(MAX_CHECK_DAYS)
                    && layers
                        .iter()
                        .any(|l| !named.iter().any(|(id, _)| imported.get(id) == Some(&l.id)))
                {
                    imp.report.lost(
                        &what,
                        format!(
                            "overrides only {} in Opsgenie, but rota's override replaces whoever \
                             is on call in any layer, so it replaces the people of the other \
                             layers too; from {} to {} is more than {MAX_CHECK_DAYS} days, so \
                             where is not worked out",
                            names.join(", "),
                            utc(start),
                            utc(end)
                        ),
                    );
                }
                for l in &layers {
                    if span > chrono::TimeDelta::days(MAX_CHECK_DAYS) {
                        break;
                    }
                    if named.iter().any(|(id, _)| imported.get(id) == Some(&l.id)) {
                        continue;
                    }
                    for (s, e, p) in super::layer_shifts(&imp.people, l, start, end)? {
                        imp.report.lost_in(
                            format!("{what}, {:?}", l.name),
                            &what,
                            format!(
                                "overrides only {} in Opsgenie, but rota's override replaces \
                                 whoever is on call in any layer: from {} to {} it replaces {p} \
                                 of {:?} too",
                                names.join(", "),
                                utc(s),
                                utc(e),
                                l.name
                            ),
                        );
                    }
                }
            }
            let base = match slug(alias) {
                s if s.is_empty() => "opsgenie-override".to_string(),
                s => format!("opsgenie-{s}"),
            };
            let id = ids.claim(&base);
            imp.overrides.push(OverrideOut {
                id,
                rotation: rot_id.clone(),
                person: who,
                start,
                end,
                reason: format!("Opsgenie override {alias:?}"),
            });
        }
    }

    if named_by_username.get() {
        imp.report.note(
            "people",
            "Opsgenie's schedule names users by username only: people without a full name in \
             --users are named by their username",
        );
    }

    if let Some(path) = &a.timeline {
        let d = Doc::read(path)?;
        imp.inputs.push(d.file().to_string());
        let data = d.root().get("data")?;
        let from = data.instant_at("startDate")?.with_timezone(&Utc);
        let to = data.instant_at("endDate")?.with_timezone(&Utc);
        let mut entries = Vec::new();
        // (start, end, who, rotation name), for the overlaps.
        let mut by_rotation: Vec<(DateTime<Utc>, DateTime<Utc>, String, String)> = Vec::new();
        for r in data.get("finalTimeline")?.array_at("rotations")? {
            let rname = match r.opt_str("name")? {
                Some(n) => n.to_string(),
                None => r.opt_str("id")?.unwrap_or_default().to_string(),
            };
            for p in r.array_at("periods")? {
                let rec = p.get("recipient")?;
                let kind = rec.str_at("type")?;
                if kind == "none" {
                    continue;
                }
                let id = rec.opt_str("id")?.unwrap_or_default();
                let label = rec.opt_str("name")?.unwrap_or(id);
                let who = match (kind, imp.people.get(id)) {
                    ("user", Some(p)) => p.to_string(),
                    ("user", None) => match imp.people.by_email(label) {
                        Some(p) => p.to_string(),
                        None => format!("Opsgenie user {label:?}"),
                    },
                    (k, _) => format!("Opsgenie {k} {label:?}"),
                };
                let start = p.instant_at("startDate")?.with_timezone(&Utc);
                let end = p.instant_at("endDate")?.with_timezone(&Utc);
                by_rotation.push((start, end, who.clone(), rname.clone()));
                entries.push(Expected { start, end, who });
            }
        }
        overlaps(&mut imp, &by_rotation);
        if imp.rotation.is_some() && from < to {
            imp.finals.push(Final {
                what: "Opsgenie's timeline (finalTimeline)".into(),
                rotation: rot_id.clone(),
                from,
                to,
                entries,
                only_where_expected: false,
            });
        }
    }
    Ok(imp)
}

/// Reports every stretch where the timeline has people of several rotations on call at once: one
/// sweep over the periods' edges, sorted, with who is on call kept as a count per label.
pub(crate) fn overlaps(
    imp: &mut Import,
    periods: &[(DateTime<Utc>, DateTime<Utc>, String, String)],
) {
    /// The most people an overlap names.
    const NAMES: usize = 10;
    let labels: Vec<String> = periods
        .iter()
        .map(|p| format!("{} ({:?})", p.2, p.3))
        .collect();
    // (instant, +1 start / -1 end, period)
    let mut edges: Vec<(DateTime<Utc>, i8, usize)> = periods
        .iter()
        .enumerate()
        .filter(|(_, p)| p.0 < p.1)
        .flat_map(|(i, p)| [(p.0, 1, i), (p.1, -1, i)])
        .collect();
    edges.sort_unstable();
    let mut on: BTreeMap<&str, usize> = BTreeMap::new();
    // (from, to, first names, how many)
    type Stretch = (DateTime<Utc>, DateTime<Utc>, Vec<String>, usize);
    let mut found: Vec<Stretch> = Vec::new();
    let mut k = 0;
    while k < edges.len() {
        let at = edges[k].0;
        while k < edges.len() && edges[k].0 == at {
            let (_, d, i) = edges[k];
            let label = labels[i].as_str();
            if d > 0 {
                *on.entry(label).or_insert(0) += 1;
            } else if let Some(n) = on.get_mut(label) {
                *n -= 1;
                if *n == 0 {
                    on.remove(label);
                }
            }
            k += 1;
        }
        let Some(&(next, _, _)) = edges.get(k) else {
            break;
        };
        if on.len() < 2 {
            continue;
        }
        let names: Vec<String> = on.keys().take(NAMES).map(|s| s.to_string()).collect();
        match found.last_mut() {
            Some((_, to, n, count)) if *to == at && *n == names && *count == on.len() => {
                *to = next;
            }
            _ => found.push((at, next, names, on.len())),
        }
    }
    for (a, b, names, count) in found {
        let more = match count.saturating_sub(names.len()) {
            0 => String::new(),
            n => format!(" and {n} others"),
        };
        imp.report.lost_in(
            "overlaps in the timeline",
            format!("{} to {}", utc(a), utc(b)),
            format!(
                "Opsgenie has {}{more} on call at once; rota has one person at a time",
                names.join(" and ")
            ),
        );
    }
}

fn layer(
    imp: &mut Import,
    r: &J<'_>,
    what: &str,
    zone: rota_core::Tz,
    now: DateTime<Utc>,
    person: &dyn Fn(&mut Import, &J<'_>) -> anyhow::Result<String>,
) -> anyhow::Result<Option<LayerOut>> {
    let start = r.instant_at("startDate")?.with_timezone(&Utc);
    if let Some(end) = r.opt_instant("endDate")? {
        let end = end.with_timezone(&Utc);
        if end <= now {
            imp.report
                .lost(what, format!("ended at {}: not imported", utc(end)));
            return Ok(None);
        }
        imp.report.lost(
            what,
            format!(
                "ends at {}; rota's layers do not end, so the imported one goes on after that: \
                 remove it by then",
                utc(end)
            ),
        );
    }
    let kind_v = r.get("type")?;
    let unit = match kind_v.str()? {
        "hourly" => HOUR,
        "daily" => DAY,
        "weekly" => WEEK,
        other => {
            return Err(kind_v.error(format!(
                "expected \"hourly\", \"daily\" or \"weekly\", found {other:?}"
            )));
        }
    };
    let length_v = r.opt("length")?;
    let length = match &length_v {
        Some(v) => v.int()?,
        None => 1,
    };
    let Some(cad) = (1..=10_000)
        .contains(&length)
        .then(|| cadence(length * unit))
        .flatten()
    else {
        imp.report.lost(
            what,
            format!(
                "turns of {length} × {} cannot be written: not imported",
                kind_v.str()?
            ),
        );
        return Ok(None);
    };
    let mut members = Vec::new();
    for (i, p) in r.array_at("participants")?.iter().enumerate() {
        let kind = p.str_at("type")?;
        if kind != "user" {
            let label = match p.opt_str("name")? {
                Some(n) => format!(" {n:?}"),
                None => String::new(),
            };
            imp.report.lost(
                what,
                format!(
                    "participant {} is a {kind}{label}, and rota's members are people (an empty \
                     turn or a team cannot be written): not imported",
                    i + 1
                ),
            );
            return Ok(None);
        }
        members.push(person(imp, p)?);
    }
    if members.is_empty() {
        imp.report.lost(what, "has no participants: not imported");
        return Ok(None);
    }
    let mut wins = Vec::new();
    if let Some(tr) = r.opt("timeRestriction")? {
        match tr.str_at("type")? {
            "time-of-day" => {
                let x = tr.get("restriction")?;
                let s = hour_min(&x, "startHour", "startMin")?;
                let e = hour_min(&x, "endHour", "endMin")?;
                let secs = (e - s).rem_euclid(DAY);
                if secs == 0 {
                    imp.report.lost(
                        what,
                        "its time-of-day restriction opens and closes at the same time, which \
                         Opsgenie does not define: not imported",
                    );
                    return Ok(None);
                }
                wins.extend((0..7).map(|day| Win {
                    day,
                    start: s % DAY,
                    secs,
                }));
            }
            "weekday-and-time-of-day" => {
                if tr.array_at("restrictions")?.is_empty() {
                    imp.report.lost(
                        what,
                        "has a weekday-and-time-of-day restriction with no intervals \
                         (`restrictions` empty), which Opsgenie does not document: read as no \
                         restriction, so the imported layer is on call at all times; if the \
                         rotation is never on call in Opsgenie, remove the layer",
                    );
                }
                for x in tr.array_at("restrictions")? {
                    let sd = weekday(&x.get("startDay")?)?;
                    let ed = weekday(&x.get("endDay")?)?;
                    let s = sd * DAY + hour_min(&x, "startHour", "startMin")?;
                    let e = ed * DAY + hour_min(&x, "endHour", "endMin")?;
                    let secs = (e - s).rem_euclid(WEEK);
                    if secs == 0 {
                        imp.report.lost(
                            what,
                            "a restriction opens and closes at the same time of the week, which \
                             Opsgenie does not define: not imported",
                        );
                        return Ok(None);
                    }
                    wins.push(Win {
                        day: s.div_euclid(DAY).rem_euclid(7),
                        start: s.rem_euclid(DAY),
                        secs,
                    });
                }
            }
            other => {
                imp.report.lost(
                    what,
                    format!("has a time restriction of type {other:?}: not imported"),
                );
                return Ok(None);
            }
        }
    }
    let Some(active) = imp.active_or_report(what, "its restriction", &wins) else {
        return Ok(None);
    };
    Ok(Some(LayerOut {
        id: String::new(),
        name: String::new(),
        members,
        timezone: zone,
        start: civil(zone, start),
        cadence: cad,
        active,
        when_active: false,
    }))
}
