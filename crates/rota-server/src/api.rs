//! The JSON API under `/api/v1`: who is on call, rotations, shifts, overrides.
//!
//! Reads need no credentials (any tool may ask who the hero is). Writes need
//! `Authorization: Bearer TOKEN` (`rota token issue PERSON`); a person may write an override that
//! puts themselves on call, or that hands over shifts that are theirs; admins may write any.
//! Unknown query parameters and JSON fields are refused, so a typo never silently means "default".

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use rota_core::view::{ShiftView, utc};
use rota_core::{Schedule, Shift, Tz, tz::parse_instant};
use rota_store::NewOverride;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;

/// The longest range one request may ask for.
pub const MAX_RANGE_DAYS: i64 = 731;
/// The longest override one request may write.
pub const MAX_OVERRIDE_DAYS: i64 = 366;
/// The longest override reason.
pub const MAX_REASON_CHARS: usize = 500;
/// Default range of shift listings when `to` is not given.
pub const DEFAULT_RANGE_DAYS: i64 = 28;
/// A time as the API takes it, for the OpenAPI document: RFC 3339 with an offset
/// (`2027-01-04T09:00:00Z`), a civil time in the rotation's zone (`2027-01-04T09:00`), or a date
/// (`2027-01-04`, its midnight there). Instants the API answers are always RFC 3339 in UTC.
#[derive(utoipa::ToSchema)]
#[schema(
    value_type = String,
    pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$",
    example = "2027-01-04T09:00:00Z"
)]
#[allow(dead_code)] // Only its schema is used.
pub struct Time(String);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AtQuery {
    /// The instant to ask about: RFC 3339 (`2027-01-06T12:00:00Z`), or a civil time or date in
    /// the rotation's zone (`2027-01-06T12:00`, `2027-01-06`). Default: now.
    #[param(value_type = Option<Time>)]
    at: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RangeQuery {
    /// Start of the range, in the forms of `at`. Default: now.
    #[param(value_type = Option<Time>)]
    pub(crate) from: Option<String>,
    /// End of the range (exclusive), in the forms of `at`; at most 731 days after `from`.
    #[param(value_type = Option<Time>)]
    pub(crate) to: Option<String>,
}

fn instant(field: &str, value: &str, zone: Tz) -> Result<DateTime<Utc>, ApiError> {
    parse_instant(value, zone).map_err(|e| ApiError::field(field, e.to_string()))
}

fn at(q: &AtQuery, zone: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    q.at.as_deref().map_or(Ok(now), |s| instant("at", s, zone))
}

fn range(
    q: &RangeQuery,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    range_or(q, zone, now, Duration::days(DEFAULT_RANGE_DAYS))
}

/// The `[from, to)` of a query: dates or instants in `zone`; `from` defaults to now and `to` to
/// `default` after `from`; at most [`MAX_RANGE_DAYS`] long.
pub(crate) fn range_or(
    q: &RangeQuery,
    zone: Tz,
    now: DateTime<Utc>,
    default: Duration,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let from = q
        .from
        .as_deref()
        .map_or(Ok(now), |s| instant("from", s, zone))?;
    let to =
        q.to.as_deref()
            .map_or(Ok(from + default), |s| instant("to", s, zone))?;
    if to <= from {
        return Err(ApiError::field(
            "to",
            format!("to ({}) must be after from ({})", utc(to), utc(from)),
        ));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::field(
            "to",
            format!(
                "the range is longer than {MAX_RANGE_DAYS} days; ask for at most {MAX_RANGE_DAYS} days a request"
            ),
        ));
    }
    Ok((from, to))
}

fn json<T: Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(serde_json::to_string(value).unwrap_or_default())
}

fn views<'s>(shifts: &'s [Shift<'s>]) -> Vec<ShiftView<'s>> {
    shifts.iter().map(ShiftView::from).collect()
}

/// `GET /api/v1/whoishero[?at=TIME]`: the hero's shift, or `null` before the rotation starts.
#[utoipa::path(
    get,
    path = "/api/v1/whoishero",
    tag = "schedule",
    params(AtQuery),
    responses(
        (status = 200, description = "The hero's shift at that instant, or null before the rotation starts", body = Option<rota_core::view::ShiftView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn whoishero(
    state: web::Data<AppState>,
    q: web::Query<AtQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let s = &snap.schedule;
    let hero = s
        .hero_rotation()
        .ok_or_else(|| ApiError::not_found("the schedule sets no hero_rotation"))?;
    let t = at(&q, hero.timezone, state.now())?;
    let shift = s.whoishero(t)?;
    Ok(json(&shift.as_ref().map(ShiftView::from)))
}

/// `GET /api/v1/oncall[?at=TIME]`: every rotation's shift at that instant, by rotation id.
#[utoipa::path(
    get,
    path = "/api/v1/oncall",
    tag = "schedule",
    params(AtQuery),
    responses(
        (status = 200, description = "Every rotation's shift at that instant", body = Vec<rota_core::view::ShiftView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn oncall(
    state: web::Data<AppState>,
    q: web::Query<AtQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let t = at(&q, Tz::UTC, state.now())?;
    let shifts = snap.schedule.on_call_all(t);
    Ok(json(&views(&shifts)))
}

/// A rotation as JSON.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RotationView<'s> {
    /// Rotation id.
    id: &'s str,
    /// Display name.
    name: &'s str,
    /// The team it belongs to, if any.
    team: Option<&'s str>,
    /// Person ids, in rotation order.
    members: &'s [String],
    /// IANA zone of its handoffs.
    timezone: &'s str,
    /// The first handoff, civil time in its zone (`2026-11-02T09:00`).
    start: String,
    /// How it recurs (`every 1 week` or an RRULE).
    recurrence: String,
    /// Whether it is the Support Hero rotation.
    hero: bool,
    /// The windows of the week in which anyone is on call, on the zone's clock, as written
    /// (`["Mon-Fri 09:00-17:00"]`); absent when the rotation is always on call.
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<&'s [String]>,
    /// With `active`: `always` (every shift is a turn) or `when-active` (shifts outside the
    /// windows are skipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    advance: Option<&'static str>,
    /// With several layers: each, lowest precedence first (the last with someone on call wins).
    /// The fields above then describe the first layer, and `members` lists every layer's.
    #[serde(skip_serializing_if = "Option::is_none")]
    layers: Option<Vec<LayerView<'s>>>,
}

/// One layer of a rotation with several.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LayerView<'s> {
    /// The layer's id, which numbers its slots.
    id: Option<&'s str>,
    /// Display name.
    name: Option<&'s str>,
    /// Person ids, in order.
    members: &'s [String],
    /// IANA zone of its handoffs and windows.
    timezone: &'s str,
    /// The first handoff, civil time in its zone.
    start: String,
    /// How it recurs.
    recurrence: String,
    /// Its windows, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<&'s [String]>,
    /// `always` or `when-active`, with `active`.
    #[serde(skip_serializing_if = "Option::is_none")]
    advance: Option<&'static str>,
}

/// `GET /api/v1/rotations`
#[utoipa::path(
    get,
    path = "/api/v1/rotations",
    tag = "schedule",
    responses(
        (status = 200, description = "The rotations", body = Vec<RotationView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn rotations(
    state: web::Data<AppState>,
    _q: web::Query<crate::ics::NoQuery>,
) -> HttpResponse {
    let snap = state.snapshot();
    let s = &snap.schedule;
    let hero = s.hero_rotation().map(|r| r.id.as_str());
    let list: Vec<RotationView<'_>> = s
        .rotations()
        .iter()
        .map(|r| RotationView {
            id: &r.id,
            name: &r.name,
            team: r.team.as_deref(),
            members: &r.members,
            timezone: r.timezone.name(),
            start: r.start.format("%Y-%m-%dT%H:%M").to_string(),
            recurrence: r.recurrence.to_string(),
            hero: Some(r.id.as_str()) == hero,
            active: r.active.as_ref().map(|w| w.windows.as_slice()),
            advance: r.active.as_ref().map(|_| r.advance.as_str()),
            layers: (r.layers.len() > 1).then(|| {
                r.layers
                    .iter()
                    .map(|l| LayerView {
                        id: l.id.as_deref(),
                        name: l.name.as_deref(),
                        members: &l.members,
                        timezone: l.timezone.name(),
                        start: l.start.format("%Y-%m-%dT%H:%M").to_string(),
                        recurrence: l.recurrence.to_string(),
                        active: l.active.as_ref().map(|w| w.windows.as_slice()),
                        advance: l.active.as_ref().map(|_| l.advance.as_str()),
                    })
                    .collect()
            }),
        })
        .collect();
    json(&list)
}

/// `GET /api/v1/coverage?rotation=ID&from=&to=`: which hours of each shift are outside the
/// on-call person's working hours, and who is at work then.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CoverageQuery {
    /// The rotation id.
    rotation: String,
    /// Start of the range, in the forms of `at`. Default: now.
    #[param(value_type = Option<Time>)]
    from: Option<String>,
    /// End of the range (exclusive), in the forms of `at`; default 14 days after `from`, at most
    /// 92 days after it.
    #[param(value_type = Option<Time>)]
    to: Option<String>,
}

/// `GET /api/v1/coverage`
#[utoipa::path(
    get,
    path = "/api/v1/coverage",
    tag = "schedule",
    params(CoverageQuery),
    responses(
        (status = 200, description = "Each shift overlapping the range, with the parts outside its person's working hours and who is at work in each", body = Vec<rota_core::view::CoverageView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn coverage(
    state: web::Data<AppState>,
    q: web::Query<CoverageQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let s = &snap.schedule;
    let rot = s
        .rotation(&q.rotation)
        .ok_or_else(|| ApiError::not_found(unknown(s, "rotation", &q.rotation)))?;
    let range = RangeQuery {
        from: q.from.clone(),
        to: q.to.clone(),
    };
    let (from, to) = range_or(&range, rot.timezone, state.now(), Duration::days(14))?;
    if to - from > Duration::days(MAX_COVERAGE_DAYS) {
        return Err(ApiError::field(
            "to",
            format!("at most {MAX_COVERAGE_DAYS} days after `from` for coverage"),
        ));
    }
    // Resolving and sweeping everyone's working hours is CPU work: off the async workers.
    let id = rot.id.clone();
    let body = crate::timeoff::off_worker(move || {
        let s = &snap.schedule;
        let list = s.coverage(&id, from, to)?;
        let views: Vec<rota_core::view::CoverageView<'_>> = list.iter().map(Into::into).collect();
        serde_json::to_string(&views).map_err(|e| ApiError::unavailable(e.to_string()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// The longest range `GET /api/v1/coverage` answers for.
const MAX_COVERAGE_DAYS: i64 = 92;

/// `GET /api/v1/rotations/{id}/shifts?from=&to=`
#[utoipa::path(
    get,
    path = "/api/v1/rotations/{id}/shifts",
    tag = "schedule",
    params(("id" = String, Path, description = "Rotation id"), RangeQuery),
    responses(
        (status = 200, description = "The rotation's shifts overlapping the range, split at every handoff", body = Vec<rota_core::view::ShiftView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn rotation_shifts(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let s = &snap.schedule;
    let rot = s
        .rotation(&path)
        .ok_or_else(|| ApiError::not_found(unknown(s, "rotation", &path)))?;
    let (from, to) = range(&q, rot.timezone, state.now())?;
    let shifts = s.shifts(&rot.id, from, to)?;
    Ok(json(&views(&shifts)))
}

/// `GET /api/v1/people/{id}/shifts?from=&to=`
#[utoipa::path(
    get,
    path = "/api/v1/people/{id}/shifts",
    tag = "schedule",
    params(("id" = String, Path, description = "Person id"), RangeQuery),
    responses(
        (status = 200, description = "The person's shifts in every rotation", body = Vec<rota_core::view::ShiftView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn person_shifts(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let s = &snap.schedule;
    let person = s
        .person(&path)
        .ok_or_else(|| ApiError::not_found(unknown(s, "person", &path)))?;
    let (from, to) = range(&q, person.timezone.unwrap_or(Tz::UTC), state.now())?;
    let shifts = s.shifts_for_person(&person.id, from, to)?;
    Ok(json(&views(&shifts)))
}

/// An override as JSON.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OverrideView<'a> {
    /// Override id.
    id: &'a str,
    /// Rotation id.
    rotation: &'a str,
    /// Who is on call instead.
    person: &'a str,
    /// RFC 3339 UTC instant.
    start: String,
    /// RFC 3339 UTC instant.
    end: String,
    /// Why.
    reason: Option<&'a str>,
    /// `"file"` (schedule files; edit the file to change it) or `"api"` (the state file).
    origin: &'static str,
    /// Who made it (run-time overrides).
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<&'a str>,
    /// When (run-time overrides).
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct OverridesQuery {
    /// Only this rotation's overrides.
    rotation: Option<String>,
}

/// `GET /api/v1/overrides[?rotation=ID]`: file overrides and run-time overrides, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/overrides",
    tag = "overrides",
    params(OverridesQuery),
    responses(
        (status = 200, description = "File and run-time overrides, oldest first", body = Vec<OverrideView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn list_overrides(
    state: web::Data<AppState>,
    q: web::Query<OverridesQuery>,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let stored = web::block(move || st.store().overrides())
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))??;
    let snap = state.snapshot();
    let keep = |r: &str| q.rotation.as_deref().is_none_or(|want| want == r);
    if let Some(r) = &q.rotation
        && snap.schedule.rotation(r).is_none()
    {
        return Err(ApiError::not_found(unknown(&snap.schedule, "rotation", r)));
    }
    let stored_ids: std::collections::HashSet<&str> =
        stored.iter().map(|o| o.id.as_str()).collect();
    let mut list: Vec<OverrideView<'_>> = snap
        .schedule
        .overrides()
        .iter()
        .filter(|o| !stored_ids.contains(o.id.as_str()) && keep(&o.rotation))
        .map(|o| OverrideView {
            id: &o.id,
            rotation: &o.rotation,
            person: &o.person,
            start: utc(o.start),
            end: utc(o.end),
            reason: o.reason.as_deref(),
            origin: "file",
            created_by: None,
            created_at: None,
        })
        .collect();
    list.extend(
        stored
            .iter()
            .filter(|o| keep(&o.rotation))
            .map(|o| OverrideView {
                id: &o.id,
                rotation: &o.rotation,
                person: &o.person,
                start: utc(o.start),
                end: utc(o.end),
                reason: o.reason.as_deref(),
                origin: "api",
                created_by: Some(&o.created_by),
                created_at: Some(utc(o.created_at)),
            }),
    );
    Ok(json(&list))
}

/// The body of `POST /api/v1/overrides`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverrideBody {
    /// Rotation id.
    rotation: String,
    /// Who is on call instead.
    person: String,
    /// RFC 3339, or a civil time in the rotation's zone (`2027-01-04T09:00`).
    #[schema(value_type = Time)]
    start: String,
    /// The same forms; after `start`, at most 366 days later.
    #[schema(value_type = Time)]
    end: String,
    /// Why (at most 500 characters).
    reason: Option<String>,
}

/// The answer of `DELETE /api/v1/people/{id}/sessions`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionsEnded {
    /// How many sign-ins were ended.
    ended: u64,
}

/// The person a request acts for, from `Authorization: Bearer TOKEN`.
pub(crate) async fn caller(state: &AppState, req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("this request changes the schedule: send Authorization: Bearer TOKEN (rota token issue PERSON)"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be \"Bearer TOKEN\"")
        })?;
    let st = state.clone();
    let person = web::block(move || st.store().authenticate(&token))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))??;
    person.ok_or_else(|| ApiError::unauthorized("the token is not valid (unknown or revoked)"))
}

/// Whether `who` may put `person` on call in `rotation` over `[start, end)`: admins may write any
/// override; anyone may put themselves on call, or hand over time that is theirs.
fn may_write(
    s: &Schedule,
    who: &str,
    rotation: &str,
    person: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> bool {
    if s.is_admin(who) || person == who {
        return true;
    }
    s.shifts(rotation, start, end)
        .map(|v| !v.is_empty() && v.iter().all(|x| x.person.id == who))
        .unwrap_or(false)
}

/// `POST /api/v1/overrides`
#[utoipa::path(
    post,
    path = "/api/v1/overrides",
    tag = "overrides",
    request_body(content = OverrideBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The override, stored", body = rota_store::StoredOverride),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 16 KiB", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create_override(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // Authenticate before looking at the body: an unauthenticated write is a 401 whatever it sent.
    let who = caller(&state, &req).await?;
    let b: OverrideBody = json_body(&req, &body)?;
    let snap = state.snapshot();
    let s = &snap.schedule;
    let rot = s
        .rotation(&b.rotation)
        .ok_or_else(|| ApiError::field("rotation", unknown(s, "rotation", &b.rotation)))?;
    if s.person(&b.person).is_none() {
        return Err(ApiError::field("person", unknown(s, "person", &b.person)));
    }
    let start = override_time("start", &b.start, rot.timezone)?;
    let end = override_time("end", &b.end, rot.timezone)?;
    if end <= start {
        return Err(ApiError::field(
            "end",
            format!("end ({}) must be after start ({})", utc(end), utc(start)),
        ));
    }
    if end - start > Duration::days(MAX_OVERRIDE_DAYS) {
        return Err(ApiError::field(
            "end",
            format!("an override may last at most {MAX_OVERRIDE_DAYS} days"),
        ));
    }
    let reason = b
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reason
        && (r.chars().count() > MAX_REASON_CHARS || r.chars().any(|c| c.is_control() && c != '\n'))
    {
        return Err(ApiError::field(
            "reason",
            format!(
                "reason must be at most {MAX_REASON_CHARS} characters, without control characters"
            ),
        ));
    }
    if !may_write(s, &who, &rot.id, &b.person, start, end) {
        return Err(ApiError::forbidden(format!(
            "{who} may only put themselves on call or hand over their own shifts; only admins may write overrides for others"
        )));
    }
    let new = NewOverride {
        rotation: rot.id.clone(),
        person: b.person,
        start,
        end,
        reason,
    };
    let st = state.clone();
    let now = state.now();
    let stored = web::block(move || {
        let o = st.store().add_override(new, &who, now)?;
        st.rebuild()?;
        Ok::<_, rota_store::Error>(o)
    })
    .await
    .map_err(|e| ApiError::unavailable(e.to_string()))??;
    tracing::info!(id = %stored.id, rotation = %stored.rotation, person = %stored.person, by = %stored.created_by, "override created");
    state.override_changed(&stored, true, &stored.created_by);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/overrides/{}", stored.id)))
        .content_type("application/json")
        .body(serde_json::to_string(&stored).unwrap_or_default()))
}

/// `DELETE /api/v1/overrides/{id}`
#[utoipa::path(
    delete,
    path = "/api/v1/overrides/{id}",
    tag = "overrides",
    params(("id" = String, Path, description = "Override id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(crate) async fn delete_override(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let id = path.into_inner();
    let st = state.clone();
    let stored = web::block(move || st.store().overrides())
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))??;
    let Some(o) = stored.into_iter().find(|o| o.id == id) else {
        let snap = state.snapshot();
        if let Some(f) = snap.schedule.overrides().iter().find(|o| o.id == id) {
            return Err(ApiError::conflict(format!(
                "override {:?} is defined in the schedule files; edit the files to remove it",
                f.id
            )));
        }
        return Err(ApiError::not_found(format!("no override {id:?}")));
    };
    let snap = state.snapshot();
    if !(snap.schedule.is_admin(&who) || o.created_by == who || o.person == who) {
        return Err(ApiError::forbidden(format!(
            "{who} may only delete overrides they made or that put them on call"
        )));
    }
    let st = state.clone();
    let now = state.now();
    let by = who.clone();
    web::block(move || {
        st.store().delete_override(&id, &who, now)?;
        st.rebuild()
    })
    .await
    .map_err(|e| ApiError::unavailable(e.to_string()))??;
    state.override_changed(&o, false, &by);
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /api/v1/people/{id}/sessions`: ends every page sign-in of a person ("sign out
/// everywhere"), for an admin or the person themselves. Answers `{"ended": N}`.
#[utoipa::path(
    delete,
    path = "/api/v1/people/{id}/sessions",
    tag = "people",
    params(("id" = String, Path, description = "Person id")),
    responses(
        (status = 200, description = "Every page sign-in of the person ended", body = SessionsEnded),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(crate) async fn end_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let person = path.into_inner();
    let snap = state.snapshot();
    if snap.schedule.person(&person).is_none() {
        return Err(ApiError::not_found(format!("unknown person {person:?}")));
    }
    if who != person && !snap.schedule.is_admin(&who) {
        return Err(ApiError::forbidden(format!(
            "{who} may only end their own sessions; only admins may end another person's"
        )));
    }
    let st = state.clone();
    let now = state.now();
    let ended = web::block(move || st.store().end_sessions_of(&person, &who, now))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))??;
    Ok(json(&SessionsEnded {
        ended: ended as u64,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveriesQuery {
    /// How many, newest first: 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// One webhook message and its delivery, for admins.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The message's key: `webhook/{endpoint}/{event}/{event id}`.
    key: String,
    /// The webhook's name.
    endpoint: String,
    /// The event.
    event: String,
    /// RFC 3339 UTC instant: when the event was written to the outbox.
    created_at: String,
    /// `pending` (not tried yet), `sending`, `sent`, `retry` or `failed`.
    state: String,
    /// Delivery attempts so far.
    attempts: u32,
    /// RFC 3339 UTC instant of the next attempt, while retrying.
    next_attempt: Option<String>,
    /// Why the last attempt failed (an HTTP status or a connection error).
    last_error: Option<String>,
    /// RFC 3339 UTC instant of the last change.
    updated_at: Option<String>,
}

/// `GET /api/v1/webhooks/deliveries[?limit=N]`: the newest webhook messages and their deliveries
/// (admins only).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/deliveries",
    tag = "webhooks",
    params(DeliveriesQuery),
    responses(
        (status = 200, description = "Webhook messages, newest first, with their deliveries", body = Vec<DeliveryView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(crate) async fn webhook_deliveries(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    if !state.snapshot().schedule.is_admin(&who) {
        return Err(ApiError::forbidden(format!(
            "only admins may read webhook deliveries ({who} is not one)"
        )));
    }
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 500 {
        return Err(ApiError::field("limit", "limit must be 1 to 500"));
    }
    let st = state.clone();
    let items = web::block(move || st.store().outbox_recent(limit))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))??;
    let out: Vec<DeliveryView> = items
        .into_iter()
        .map(|i| {
            let d = i.delivery.as_ref();
            DeliveryView {
                key: i.key.clone(),
                endpoint: i.endpoint.clone(),
                event: i.event.clone(),
                created_at: utc(i.created_at),
                state: d.map_or("pending".to_string(), |d| {
                    serde_json::to_value(d.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                }),
                attempts: d.map_or(0, |d| d.attempts),
                next_attempt: d.and_then(|d| d.next_attempt).map(utc),
                last_error: d.and_then(|d| d.last_error.clone()),
                updated_at: d.map(|d| utc(d.updated_at)),
            }
        })
        .collect();
    Ok(json(&out))
}

/// Parses a JSON request body (after authentication), with the same problems as actix's extractor.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::unsupported_media(
            "the request body must be JSON (Content-Type: application/json)",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        let field = msg.split('`').nth(1).map(str::to_string);
        ApiError {
            status: actix_web::http::StatusCode::BAD_REQUEST,
            detail: format!("invalid JSON body: {msg}"),
            field,
        }
    })
}

/// An unknown id, worded as `rota check` words it in the files (with "did you mean").
pub(crate) fn unknown(s: &Schedule, what: &str, id: &str) -> String {
    let known: Vec<&str> = match what {
        "person" => s.people().iter().map(|p| p.id.as_str()).collect(),
        _ => s.rotations().iter().map(|r| r.id.as_str()).collect(),
    };
    rota_core::unknown_id_message(what, id, &known)
}

/// An override's `start` or `end`: the schedule files' form (a civil date-time in the rotation's
/// zone, `2026-12-21T09:00`), RFC 3339 with an offset, or a date (midnight in the zone).
pub(crate) fn override_time(field: &str, value: &str, zone: Tz) -> Result<DateTime<Utc>, ApiError> {
    rota_core::tz::parse_override_time(value, zone).map_err(|_| {
        ApiError::field(
            field,
            format!(
                "invalid time {value:?}: expected a civil date-time in the rotation's zone ({}) as in the schedule files (2026-12-21T09:00), RFC 3339 with an offset (2026-12-21T09:00:00Z) or a date (2026-12-21)",
                zone.name()
            ),
        )
    })
}

/// `GET /healthz`
pub(crate) async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let snap = state.snapshot();
    let cals = state.calendars();
    // A failing calendar source, or one not read yet just after start, degrades the service
    // (conflicts may be missed) but never stops it.
    let calendars: Vec<serde_json::Value> = cals
        .statuses
        .iter()
        .map(|(s, people)| {
            serde_json::json!({
                "source": s.location,
                "people": people,
                "ok": s.ok,
                "pending": s.last_attempt.is_none() && s.last_error.is_none(),
                "events": s.events,
                "last_success": s.last_success.map(utc),
                "last_attempt": s.last_attempt.map(utc),
                "last_error": s.last_error,
                // Only how many: a warning may name its event, and event titles can be
                // private. `rota check --conflicts` prints them.
                "warnings": s.warnings.len(),
                // Expanding it hit the per-calendar cap: some absences are not known.
                "capped": s.capped,
            })
        })
        .collect();
    let integrations = state.integrations();
    let degraded =
        snap.reload_error.is_some() || !cals.healthy() || integrations.iter().any(|i| !i.ok);
    let body = serde_json::json!({
        "status": if degraded { "degraded" } else { "ok" },
        "calendars": calendars,
        // Webhooks: whether each can be used (a missing secret is named here, never skipped
        // quietly), and how many messages wait for it.
        "integrations": integrations,
        "schedule": {
            "loaded_at": utc(snap.loaded_at),
            "rotations": snap.schedule.rotations().len(),
            "people": snap.schedule.people().len(),
            "overrides": snap.schedule.overrides().len(),
            "last_reload_error": snap.reload_error,
            // The files' digest: replicas serving different files show different digests.
            "digest": snap.schedule_digest,
        },
        // The run-time state this replica serves: equal versions on two replicas mean equal
        // overrides, swaps and tokens (a replica catches up within its poll interval).
        "state": {
            "backend": state.store().backend(),
            "version": snap.state_version,
        },
        "stale_overrides": snap.stale_overrides,
    });
    json(&body)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::{test, web};
    use serde_json::Value;

    use crate::swaps::tests::{Hand, state};

    #[actix_web::test]
    async fn instants_outside_the_supported_range_are_a_400_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(Mutex::new("2026-11-23T10:00:00Z".parse().unwrap())));
        let app = test::init_service(crate::app(web::Data::new(state(dir.path(), clock)))).await;
        let refused = [
            ("/api/v1/whoishero?at=9999-12-31T23:59:59Z", "at"),
            ("/api/v1/whoishero?at=9001-01-01T00:00:00Z", "at"),
            ("/api/v1/oncall?at=1969-12-31T23:59:59Z", "at"),
            (
                "/api/v1/rotations/support-hero/shifts?from=9000-12-01&to=9001-01-02",
                "to",
            ),
            ("/api/v1/people/alice/shifts?from=0001-01-01", "from"),
        ];
        for (uri, field) in refused {
            let res =
                test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
            assert_eq!(res.status(), 400, "{uri}");
            assert_eq!(
                res.headers().get("content-type").unwrap(),
                "application/problem+json"
            );
            let body: Value = test::read_body_json(res).await;
            assert_eq!(body["field"], field, "{uri}: {body}");
            let detail = body["detail"].as_str().unwrap();
            assert!(
                detail.contains(
                    "outside the supported range, 1970-01-01T00:00:00Z to 9000-12-31T23:59:59Z"
                ),
                "{detail}"
            );
        }
        // The last supported instant answers, with an end that is RFC 3339.
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/api/v1/whoishero?at=9000-12-31T23:59:59Z")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
        let body: Value = test::read_body_json(res).await;
        for k in ["start", "end"] {
            let v = body[k].as_str().unwrap();
            chrono::DateTime::parse_from_rfc3339(v).unwrap_or_else(|e| panic!("{k} {v}: {e}"));
        }
    }
}
