//! `rota import pagerduty`: a PagerDuty schedule (REST API v2, layer-based schedules) as one rota
//! rotation with a layer per schedule layer.
//!
//! The readings, from PagerDuty's API reference and knowledge base (fixtures and sources in
//! `tests/fixtures/import/`):
//!
//! - Turn `k` of a layer covers `[rotation_virtual_start + k × L, + L)` with
//!   `L = rotation_turn_length_seconds`, and belongs to `users[k mod n]`: `every` is `L` in whole
//!   weeks, days or hours, `start` is `rotation_virtual_start` on the schedule zone's clock.
//! - Restrictions blank time but every turn still advances: `active` windows in the schedule's
//!   zone with `advance = "always"`. A daily restriction is a window on every day, a weekly one a
//!   window from `start_day_of_week` (1 Monday to 7 Sunday) that may last more than a day.
//! - A higher layer wins over a lower one where both have someone on call, and GET lists the
//!   highest first: the layers are written in the opposite order, since rota's last layer wins.
//!   PagerDuty does not state that order; when the response holds the final schedule and it only
//!   matches the other order, that order is written and the report says so.
//! - A layer produces nothing before its `start` or after its `end`.
//! - Overrides sit above every layer for their whole span: `[[overrides]]` of the rotation.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::anyhow;
use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use rota_core::Tz;

use super::json::{Doc, J};
use super::{
    Expected, Ids, Import, LayerOut, OutArgs, OverrideOut, RotationOut, User, Win, cadence, civil,
    has_dst, slug, utc,
};

/// `rota import pagerduty`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The JSON of GET /schedules/{id}. Fetched with ?since=...&until=... it holds
    /// final_schedule, which the import is checked against. Fetch it without time_zone=.
    #[arg(value_name = "SCHEDULE.json")]
    schedule: PathBuf,
    /// The JSON of GET /schedules/{id}/overrides?since=...&until=...: each becomes a file
    /// override.
    #[arg(long, value_name = "FILE")]
    overrides: Option<PathBuf>,
    /// The JSON of GET /users (or of GET /users/{id}; repeat the option): names, email
    /// addresses and time zones. Without it, people have no email address.
    #[arg(long, value_name = "FILE")]
    users: Vec<PathBuf>,
    /// The schedule's IANA time zone, for a schedule whose time_zone is not an IANA name.
    #[arg(long, value_name = "ZONE")]
    time_zone: Option<String>,
    /// The since= of the schedule request (RFC 3339): the import is checked against the final
    /// schedule from then, where it has nobody on call too. Without it, from its first entry.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// The until= of the schedule request (RFC 3339). Without it, to the final schedule's last
    /// entry's end.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    #[command(flatten)]
    pub out: OutArgs,
}

/// A user as GET /users describes them.
struct UserInfo {
    name: Option<String>,
    email: Option<String>,
    time_zone: Option<String>,
}

fn read_users(
    imp: &mut Import,
    doc: &Doc,
    into: &mut HashMap<String, UserInfo>,
) -> anyhow::Result<()> {
    let root = doc.root();
    let list = if root.has("users") {
        if let Some(more) = root.opt("more")?
            && more.bool()?
        {
            let offset = root.opt_int("offset")?.unwrap_or(0);
            let n = root.get("users")?.array()?.len();
            imp.report.lost(
                doc.file(),
                format!(
                    "is one page of a longer list (`more` is true): users after the first {} \
                     were not read, so people among them have no name, email or zone from it; \
                     fetch the next pages (offset={}) and give each with --users",
                    offset.saturating_add(n as i64),
                    offset.saturating_add(n as i64)
                ),
            );
        }
        root.get("users")?.array()?
    } else if root.has("user") {
        vec![root.get("user")?]
    } else {
        return Err(root.error(
            "expected {\"users\": [...]} (GET /users) or {\"user\": {...}} (GET /users/{id})",
        ));
    };
    for u in list {
        into.insert(
            u.str_at("id")?.to_string(),
            UserInfo {
                name: u.opt_str("name")?.map(str::to_string),
                email: u.opt_str("email")?.map(str::to_string),
                time_zone: u.opt_str("time_zone")?.map(str::to_string),
            },
        );
    }
    Ok(())
}

pub(crate) fn import(a: &Args, now: DateTime<Utc>) -> anyhow::Result<Import> {
    let mut imp = read(a, now)?;
    let layered = imp.rotation.as_ref().is_some_and(|r| r.layers.len() > 1);
    let dir = &a.out.out;
    if layered && !imp.finals.is_empty() && super::trial(&imp, dir)?.is_some_and(|d| d > 0) {
        // The order is PagerDuty's observed behaviour, not its contract: try the other one.
        let mut flipped = imp.rotation.clone();
        if let Some(r) = &mut flipped {
            r.layers.reverse();
        }
        let saved = std::mem::replace(&mut imp.rotation, flipped);
        if super::trial(&imp, dir)? == Some(0) {
            imp.report.lost(
                "schedule_layers",
                "PagerDuty's final schedule matches only with the layers in the order the \
                 response lists them, first lowest: written in that order, against the usual \
                 reading (GET lists the highest first)",
            );
        } else {
            imp.rotation = saved;
        }
    }
    Ok(imp)
}

fn read(a: &Args, now: DateTime<Utc>) -> anyhow::Result<Import> {
    let doc = Doc::read(&a.schedule)?;
    let sch = doc.root().get("schedule")?;
    let sid = sch.opt_str("id")?.unwrap_or_default();
    let name = match sch.opt_str("name")? {
        Some(n) => n,
        None => sch.opt_str("summary")?.unwrap_or(sid),
    };
    let mut imp = Import::new(
        "PagerDuty",
        "pagerduty",
        format!("schedule {name:?} ({sid})"),
    );
    let (since, until) = super::window_flags(a.since.as_deref(), a.until.as_deref())?;
    imp.inputs.push(doc.file().to_string());

    if let Some(d) = sch.opt_str("description")?
        && !d.trim().is_empty()
    {
        imp.report.lost(
            format!("schedule {name:?} description"),
            format!("{d:?}: rota's rotations have no description; keep it as a comment by hand"),
        );
    }

    let zone_text = sch.str_at("time_zone")?;
    let zone = match (&a.time_zone, rota_core::tz::parse_zone(zone_text)) {
        (Some(z), parsed) => {
            let z = rota_core::tz::parse_zone(z).map_err(|e| anyhow!("--time-zone: {e}"))?;
            if parsed != Ok(z) {
                imp.report.note(
                    "time_zone",
                    format!("the schedule's zone {zone_text:?} was read as {z} (--time-zone)"),
                );
            }
            z
        }
        (None, Ok(z)) => z,
        (None, Err(_)) => {
            return Err(sch.get("time_zone")?.error(format!(
                "{zone_text:?} is not an IANA zone name; give the same zone's IANA name with \
                 --time-zone (e.g. --time-zone America/New_York)"
            )));
        }
    };

    let mut users = HashMap::new();
    for f in &a.users {
        let d = Doc::read(f)?;
        imp.inputs.push(d.file().to_string());
        read_users(&mut imp, &d, &mut users)?;
    }
    let rot_id = [slug(name), slug(sid)]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "pagerduty".into());

    // A user reference ({id, summary}) as a person.
    let person = |imp: &mut Import, r: &J<'_>| -> anyhow::Result<String> {
        let id = r.str_at("id")?;
        let summary = r.opt_str("summary")?;
        let info = users.get(id);
        let name = info.and_then(|i| i.name.as_deref()).or(summary);
        let what = format!("PagerDuty user {:?} ({id})", name.unwrap_or(id));
        Ok(imp.people.add(
            User {
                key: id,
                name,
                email: info.and_then(|i| i.email.as_deref()),
                timezone: info.and_then(|i| i.time_zone.as_deref()),
                what,
            },
            &mut imp.report,
        ))
    };

    let api_layers = sch.array_at("schedule_layers")?;
    let mut layers: Vec<LayerOut> = Vec::new();
    for (i, l) in api_layers.iter().enumerate().rev() {
        if let Some(layer) = layer(&mut imp, l, i, zone, now, &mut |imp, r| person(imp, r))? {
            layers.push(layer);
        }
    }
    if api_layers.is_empty() {
        imp.report.lost(
            format!("schedule {sid}"),
            "has no schedule_layers: no rotation",
        );
    }
    let mut ids = Ids::default();
    for l in &mut layers {
        l.id = ids.claim(&l.id);
    }
    if layers.len() > 1 {
        imp.report.note(
            "schedule_layers",
            "read highest precedence first, as PagerDuty's GET lists them (observed by its \
             Terraform provider and Grafana's migrator; PagerDuty does not document it), and \
             written lowest first: in rota the last layer wins",
        );
    }
    if !layers.is_empty() && has_dst(zone, now) {
        imp.report.note(
            format!("time zone {zone}"),
            "PagerDuty does not document whether turns keep their wall-clock handoff time across \
             daylight-saving changes; rota's do (handoffs are wall-clock times in the zone), so \
             around a change the two may differ by its length",
        );
    }
    let any_layer = !layers.is_empty();
    if any_layer {
        imp.rotation = Some(RotationOut {
            id: rot_id.clone(),
            name: name.to_string(),
            timezone: zone,
            layers,
            slack: None,
        });
    }

    // Overrides.
    if let Some(path) = &a.overrides {
        let d = Doc::read(path)?;
        imp.inputs.push(d.file().to_string());
        let mut ids = Ids::default();
        for o in d.root().get("overrides")?.array()? {
            let oid = o.opt_str("id")?.unwrap_or_default();
            let start = o.instant_at("start")?.with_timezone(&Utc);
            let end = o.instant_at("end")?.with_timezone(&Utc);
            let who = person(&mut imp, &o.get("user")?)?;
            let what = format!("override {oid}");
            if end <= start {
                imp.report.lost(what, "ends before it starts: not imported");
                continue;
            }
            if !any_layer {
                imp.report
                    .lost(what, "no layer was imported to override: not imported");
                continue;
            }
            let base = format!("pagerduty-{}", slug(oid));
            let id = ids.claim(base.trim_end_matches('-'));
            imp.overrides.push(OverrideOut {
                id,
                rotation: rot_id.clone(),
                person: who,
                start,
                end,
                reason: format!("PagerDuty override {oid}"),
            });
        }
    } else if let Some(sub) = sch.opt("overrides_subschedule")?
        && !sub.array_at("rendered_schedule_entries")?.is_empty()
    {
        imp.report.lost(
            "overrides_subschedule",
            format!(
                "lists {} overrides: not imported; give --overrides with the JSON of \
                 GET /schedules/{sid}/overrides",
                sub.array_at("rendered_schedule_entries")?.len()
            ),
        );
    }

    for ep in sch.array_at("escalation_policies")? {
        let id = ep.opt_str("id")?.unwrap_or_default();
        let what = ep.opt_str("summary")?.unwrap_or(id);
        imp.report.lost(
            format!("escalation policy {what:?} ({id})"),
            "pages this schedule: rota has no escalation policies",
        );
    }
    for t in sch.array_at("teams")? {
        let id = t.opt_str("id")?.unwrap_or_default();
        let what = t.opt_str("summary")?.unwrap_or(id);
        imp.report.lost(
            format!("team {what:?} ({id})"),
            "owns this schedule: not carried over (a rota team is for links; add `team` by hand \
             if you need one)",
        );
    }

    // The final schedule, to check against.
    if let Some(fin) = sch.opt("final_schedule")? {
        let mut entries = Vec::new();
        for e in fin.array_at("rendered_schedule_entries")? {
            let u = e.get("user")?;
            let uid = u.str_at("id")?;
            let who = match imp.people.get(uid) {
                Some(p) => p.to_string(),
                None => format!(
                    "PagerDuty user {:?} ({uid})",
                    u.opt_str("summary")?.unwrap_or(uid)
                ),
            };
            entries.push(Expected {
                start: e.instant_at("start")?.with_timezone(&Utc),
                end: e.instant_at("end")?.with_timezone(&Utc),
                who,
            });
        }
        imp.check_against(
            "PagerDuty's final schedule",
            "final_schedule.rendered_schedule_entries",
            rot_id.clone(),
            (since, until),
            entries,
        );
    }
    Ok(imp)
}

/// `HH:MM:SS` (or `HH:MM`) as seconds from midnight.
fn time_of_day(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut n = [0i64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        n[i] = p.parse().ok()?;
    }
    (n[0] < 24 && n[1] < 60 && n[2] < 60).then(|| n[0] * 3600 + n[1] * 60 + n[2])
}

/// The instant of `v`, which must carry the offset `zone` has then: PagerDuty renders times in
/// the request's `time_zone`, and restrictions too, so a response rendered in another zone would
/// put every window at the wrong hour.
fn in_zone(v: &J<'_>, zone: Tz) -> anyhow::Result<DateTime<Utc>> {
    let t: DateTime<FixedOffset> = v.instant()?;
    let want = zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    if t.offset().fix() != want {
        return Err(v.error(format!(
            "{t} is rendered at offset {}, but the schedule's zone {zone} is at {want} then: \
             the schedule was fetched with another time_zone, which moves its restrictions too; \
             fetch it without time_zone",
            t.offset()
        )));
    }
    Ok(t.with_timezone(&Utc))
}

fn layer(
    imp: &mut Import,
    l: &J<'_>,
    index: usize,
    zone: Tz,
    now: DateTime<Utc>,
    person: &mut dyn FnMut(&mut Import, &J<'_>) -> anyhow::Result<String>,
) -> anyhow::Result<Option<LayerOut>> {
    let lid = l.opt_str("id")?.unwrap_or_default();
    let lname = l.opt_str("name")?.unwrap_or(lid);
    let what = format!("layer {lname:?} ({lid})");
    let start = in_zone(&l.get("start")?, zone)?;
    let anchor = in_zone(&l.get("rotation_virtual_start")?, zone)?;
    let turn = l.int_at("rotation_turn_length_seconds")?;
    if let Some(end) = l.opt_instant("end")? {
        let end = end.with_timezone(&Utc);
        if end <= now {
            imp.report
                .lost(what, format!("ended at {}: not imported", utc(end)));
            return Ok(None);
        }
        imp.report.lost(
            &what,
            format!(
                "ends at {}; rota's layers do not end, so the imported one goes on after that: \
                 remove it by then",
                utc(end)
            ),
        );
    }
    let Some(cad) = cadence(turn) else {
        imp.report.lost(
            what,
            format!("turns of {turn} seconds are not whole hours: not imported"),
        );
        return Ok(None);
    };
    let mut members = Vec::new();
    for u in l.array_at("users")? {
        members.push(person(imp, &u.get("user")?)?);
    }
    if members.is_empty() {
        imp.report.lost(what, "has no users: not imported");
        return Ok(None);
    }
    let mut wins = Vec::new();
    for r in l.array_at("restrictions")? {
        let kind = r.str_at("type")?;
        let tod_v = r.get("start_time_of_day")?;
        let tod = time_of_day(tod_v.str()?)
            .ok_or_else(|| tod_v.error("expected a time of day such as \"09:00:00\""))?;
        let secs = r.int_at("duration_seconds")?;
        match kind {
            "daily_restriction" => wins.extend((0..7).map(|day| Win {
                day,
                start: tod,
                secs,
            })),
            "weekly_restriction" => {
                let d = r.get("start_day_of_week")?;
                let day = d.int()?;
                if !(1..=7).contains(&day) {
                    return Err(d.error(format!("expected 1 (Monday) to 7 (Sunday), found {day}")));
                }
                wins.push(Win {
                    day: day - 1,
                    start: tod,
                    secs,
                });
            }
            other => {
                imp.report.lost(
                    what,
                    format!("has a restriction of type {other:?}, which rota does not know: not imported"),
                );
                return Ok(None);
            }
        }
    }
    let Some(active) = imp.active_or_report(&what, "its restrictions", &wins) else {
        return Ok(None);
    };
    let id = match slug(lname) {
        s if s.is_empty() => format!("layer-{}", index + 1),
        s => s,
    };
    let mut layer = LayerOut {
        id,
        name: lname.to_string(),
        members,
        timezone: zone,
        start: civil(zone, anchor),
        cadence: cad,
        active,
        when_active: false,
    };
    if let Some(h) = super::start_at(&mut layer, start) {
        imp.report.lost(
            &what,
            format!(
                "starts at {}, inside a turn: rota's layer starts at that turn's handoff, so it \
                 has {} on call from {} to then, where PagerDuty's had nobody",
                utc(start),
                layer.members[0],
                utc(h)
            ),
        );
    }
    Ok(Some(layer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(time_of_day("09:00:00"), Some(9 * 3600));
        assert_eq!(time_of_day("16:30"), Some(16 * 3600 + 1800));
        assert_eq!(time_of_day("24:00:00"), None);
        assert_eq!(time_of_day("9"), None);
        assert_eq!(time_of_day("09:0x:00"), None);
    }
}
