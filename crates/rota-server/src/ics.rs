//! ICS calendar feeds (RFC 5545): a pure renderer and the two feed routes.
//!
//! # What a feed contains
//!
//! One `VEVENT` per resolved shift in the window (by default 30 days back to 365 days ahead of
//! today, 00:00 UTC), written by the `icalendar` crate, which ends lines with CRLF, folds them at 75
//! octets and escapes text.
//!
//! - `DTSTART`/`DTEND` are UTC instants and there is no `RRULE`: the resolved schedule is already
//!   concrete, and clients disagree about the end of a local-time week across a DST change.
//! - `UID` is `{rotation}-{slot}@rota` for a shift that starts at its slot's handoff (the usual
//!   case, and the case of a whole-shift swap, which keeps the UID and changes the person), and
//!   `{rotation}-{slot}-{start unix seconds}@rota` for the later pieces of a slot split by a partial
//!   override or link. So the same slot keeps its UID across changes and reloads.
//! - `DTSTAMP` is 00:00 UTC of the day the feed was generated: the instant the window is anchored
//!   on, so the same schedule gives byte-identical feeds all day (from the service and from
//!   `rota ics`) and the ETag only changes when the content does or the window moves.
//! - `SEQUENCE` is not written (0): a feed is a published snapshot, not an invitation; clients that
//!   subscribe replace events by UID on every refresh.
//! - `TRANSP:TRANSPARENT`: an on-call week must not mark anyone busy.
//! - `SUMMARY` is `"{rotation name}: {person name}"`; `DESCRIPTION` says why (rotation, link,
//!   override and its reason).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike, Property};
use rota_core::{Schedule, Shift, Source};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Days before today a feed starts.
pub const DAYS_BACK: i64 = 30;
/// Days after today a feed ends.
pub const DAYS_AHEAD: i64 = 365;

/// The feed window for a feed generated at `now`: `(stamp, from, to)`, where `stamp` is 00:00 UTC of
/// `now`'s day.
pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    let day = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(now);
    (
        day,
        day - Duration::days(DAYS_BACK),
        day + Duration::days(DAYS_AHEAD),
    )
}

fn uid(schedule: &Schedule, s: &Shift<'_>) -> String {
    let first = schedule
        .base_shift(&s.rotation.id, s.slot)
        .ok()
        .flatten()
        .is_none_or(|b| b.start == s.start);
    if first {
        format!("{}-{}@rota", s.rotation.id, s.slot)
    } else {
        format!("{}-{}-{}@rota", s.rotation.id, s.slot, s.start.timestamp())
    }
}

fn description(s: &Shift<'_>) -> String {
    let why = match s.source {
        Source::Rotation => "their turn in the rotation".to_string(),
        Source::Link(l) => format!(
            "linked: on call in {} and a member of this rotation's team",
            l.from
        ),
        Source::Override(o) => match &o.reason {
            Some(r) => format!("override: {r}"),
            None => "override".to_string(),
        },
    };
    format!(
        "{} is on call in {} ({why}).",
        s.person.name, s.rotation.name
    )
}

/// Renders shifts as an RFC 5545 calendar named `name`, stamped `stamp`.
pub fn render(
    schedule: &Schedule,
    name: &str,
    shifts: &[Shift<'_>],
    stamp: DateTime<Utc>,
) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new(
        "PRODID",
        "-//rota//rota on-call schedule//EN",
    ));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    cal.append_property(Property::new("METHOD", "PUBLISH"));
    cal.append_property(Property::new("X-WR-CALNAME", name));
    cal.append_property(
        Property::new("REFRESH-INTERVAL", "PT1H")
            .add_parameter("VALUE", "DURATION")
            .done(),
    );
    cal.append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    for s in shifts {
        let event = Event::new()
            .uid(&uid(schedule, s))
            .timestamp(stamp)
            .starts(s.start)
            .ends(s.end)
            .summary(&format!("{}: {}", s.rotation.name, s.person.name))
            .description(&description(s))
            .add_property("TRANSP", "TRANSPARENT")
            .done();
        cal.push(event);
    }
    cal.to_string()
}

/// A strong ETag for a body.
pub fn etag(body: &str) -> String {
    let h = Sha256::digest(body.as_bytes());
    let hex: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn respond(req: &HttpRequest, body: String) -> HttpResponse {
    let tag = etag(&body);
    let matches = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == tag || t.trim() == "*");
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, tag.clone()))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"));
    if matches {
        return res.finish();
    }
    res.content_type("text/calendar; charset=utf-8").body(body)
}

fn strip_ics(file: &str) -> Result<&str, ApiError> {
    file.strip_suffix(".ics")
        .ok_or_else(|| ApiError::not_found(format!("no calendar {file:?}: feeds end in .ics")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoQuery {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// `GET /calendars/rotations/{id}.ics`
pub(crate) async fn rotation_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    _q: web::Query<NoQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = strip_ics(&path)?;
    let snap = state.snapshot();
    let schedule = &snap.schedule;
    let rotation = schedule
        .rotation(id)
        .ok_or_else(|| ApiError::not_found(format!("unknown rotation {id:?}")))?;
    let (stamp, from, to) = window(state.now());
    let shifts = schedule.shifts(id, from, to)?;
    Ok(respond(
        &req,
        render(schedule, &rotation.name, &shifts, stamp),
    ))
}

/// `GET /calendars/people/{id}.ics?token=SECRET`
pub(crate) async fn person_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = strip_ics(&path)?.to_string();
    let token = q.into_inner().token.unwrap_or_default();
    let st = state.clone();
    let pid = id.clone();
    let ok = web::block(move || st.store().verify_feed_token(&pid, &token))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))??;
    let snap = state.snapshot();
    let schedule = &snap.schedule;
    // An unknown person and a wrong token look the same, so feed URLs cannot be probed for names.
    let person = match schedule.person(&id) {
        Some(p) if ok => p,
        _ => {
            return Err(ApiError::not_found(
                "no such calendar feed (check the URL and its token)",
            ));
        }
    };
    let (stamp, from, to) = window(state.now());
    let shifts = schedule.shifts_for_person(&id, from, to)?;
    Ok(respond(
        &req,
        render(
            schedule,
            &format!("On call: {}", person.name),
            &shifts,
            stamp,
        ),
    ))
}
