//! The two calendar feed routes. What a feed contains (UIDs, DTSTAMP, SEQUENCE, TRANSP) is decided
//! in the `rota-ics` crate, shared with the reminder attachments; this module serves it: one
//! `VEVENT` per resolved shift in the window (30 days back to 365 days ahead of today, 00:00 UTC),
//! an ETag with `304` on `If-None-Match`, and person feeds behind a secret token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
pub use rota_ics::{DAYS_AHEAD, DAYS_BACK, etag, render, window};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

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
        .ok_or_else(|| ApiError::not_found(crate::api::unknown(schedule, "rotation", id)))?;
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
