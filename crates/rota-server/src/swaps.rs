//! Swap requests under `/api/v1/swaps`, and the audit log at `/api/v1/audit`.
//!
//! A person proposes a two-way *trade* ("you take my shift, I take yours") or a one-way *cover*
//! ("please take my shift"); the counterpart accepts or declines; the requester may cancel; an admin
//! may create a request on behalf of someone and accept or decline it for the counterpart.
//! Accepting writes ordinary overrides (one per shift) in one store transaction and rebuilds the
//! snapshot, so `whoishero` and the feeds change at once and the rotation order never does.
//!
//! Shifts are named by *slot*: slot `n` of a rotation runs from handoff `n` to handoff `n + 1`
//! (`GET /api/v1/rotations/{id}/slots` lists them, with whose turn each is and who is on call).
//! A request records the resolved schedule of its slots (a fingerprint); if that changed before
//! the request is accepted (an override, a reload, another swap), the request is stale (409).
//! A request expires when its first shift starts. This module does no SQL and no mail: the store
//! owns the transaction and its checks.
//!
//! # Parts of a shift
//!
//! A request may name part of a slot instead of all of it ("a day off, not a week"): `start` and
//! `end` for the requester's slot, `their_start` and `their_end` for the counterpart's, each in
//! the form override times take (a civil time in the rotation's zone such as `2027-03-02T09:00`,
//! RFC 3339, or a date: midnight in the rotation's zone, so a day is DST-correct). Either bound
//! may be left out (the slot's own). The rules:
//!
//! - a part lies inside its slot: `slot start <= start < end <= slot end`;
//! - its bounds are whole minutes, and it lasts at least [`MIN_PART_MINUTES`] (unless it is the
//!   whole slot, which may be shorter);
//! - the two parts of a trade may differ in length;
//! - everything else is as for whole slots: the part must not have started, must be the named
//!   person's in the resolved schedule and not covered by an override, and accepting writes one
//!   override for exactly each part, so the rest of the slot stays with its owner and the order
//!   never changes.
//!
//! # Layered rotations
//!
//! A layered rotation's slot may have another layer's time inside it: a 24/7 weekly layer under
//! a business-hours layer holds the nights and the weekend of its week. That time is not the
//! slot's: the checks above look at the slot's own time only, and accepting writes an override
//! per stretch of the part between the other layer's time (at most [`MAX_SWAP_PIECES`] a side),
//! so the business-hours people keep their days. The overrides stand, fall and are undone
//! together, as a plain swap's two do.
//!
//! # Swaps on swaps
//!
//! A shift (or part) that someone holds through an override (a swap they accepted, a cover they
//! took) is theirs: they may trade or cover it again, under the same consent rules. The new
//! override is newer, so it wins over the one it lies on; accepting checks, in the store's
//! transaction, that no override other than those the part lay under when the schedule was last
//! read covers it.
//!
//! # Undo
//!
//! An accepted swap can be undone before its first shift (or part) starts: one party asks
//! (`POST /api/v1/swaps/{id}/undo`, 202), the other agrees (the same call, 200), or an admin undoes
//! it at once. Undoing deletes its overrides in one store transaction and marks the request
//! `undone`; both parties are emailed. A swap that a later accepted swap lies on (a swap on a
//! swap) is undone only after that one.
//!
//! # Taking over now
//!
//! A cover may name a shift that has already started ("I'm sick, please take the rest"): the
//! requester's part then runs from the request to `end` (the slot's end if left out), and on
//! acceptance the counterpart is on call from the moment of acceptance to `end`. Such a request
//! is a *take-over*: it expires at `end` rather than at its start, and its email says it is
//! urgent. A trade never takes over (both sides must be in the future).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use rota_core::view::utc;
use rota_core::{Schedule, Source};
use rota_store::{NewOverride, NewSwap, SwapKind, SwapRequest, SwapSlot, SwapState};
use serde::{Deserialize, Serialize};

use crate::api::{caller, json_body};
use crate::error::ApiError;
use crate::state::AppState;

/// The most audit entries one request may list.
pub const MAX_AUDIT_LIMIT: u32 = 1000;

/// Registers the swap and audit routes on the `/api/v1` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/swaps", crate::get().to(list_swaps))
        .route("/swaps", web::post().to(create_swap))
        .route("/swaps/{id}", crate::get().to(get_swap))
        .route("/swaps/{id}/accept", web::post().to(accept_swap))
        .route("/swaps/{id}/decline", web::post().to(decline_swap))
        .route("/swaps/{id}/cancel", web::post().to(cancel_swap))
        .route("/swaps/{id}/undo", web::post().to(undo_swap))
        .route("/rotations/{id}/slots", crate::get().to(slots))
        .route("/audit", crate::get().to(audit));
}

fn problem(status: StatusCode, field: Option<&str>, detail: impl Into<String>) -> ApiError {
    ApiError {
        status,
        detail: detail.into(),
        field: field.map(str::to_string),
    }
}

/// Store errors: a conflict is a 409 and a missing row a 404; anything else is the state file
/// failing (503).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, rota_store::Error> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
        .map_err(ApiError::from)
}

/// One shift named by a swap request, as JSON.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SwapSlotView {
    /// The slot number.
    pub slot: u64,
    /// RFC 3339 UTC instant: the part's start (the slot's start when the whole slot).
    pub start: String,
    /// RFC 3339 UTC instant: the part's end.
    pub end: String,
}

impl From<&SwapSlot> for SwapSlotView {
    fn from(s: &SwapSlot) -> Self {
        SwapSlotView {
            slot: s.slot,
            start: utc(s.start),
            end: utc(s.end),
        }
    }
}

/// A swap request as JSON.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SwapView<'a> {
    /// `swp_` and 16 hex digits.
    pub id: &'a str,
    /// Rotation id.
    pub rotation: &'a str,
    /// A two-way trade or a one-way cover.
    pub kind: rota_store::SwapKind,
    /// Who asks.
    pub requester: &'a str,
    /// The requester's shift (or part of it).
    pub my_slot: SwapSlotView,
    /// Who is asked.
    pub counterpart: &'a str,
    /// The counterpart's shift (or part) taken in return; `null` for a cover.
    pub their_slot: Option<SwapSlotView>,
    /// Where it stands now (a pending request whose first shift started is `expired`).
    pub state: rota_store::SwapState,
    /// Who made it (the requester, or an admin on their behalf).
    pub created_by: &'a str,
    /// RFC 3339 UTC instant.
    pub created_at: String,
    /// When it stops being acceptable: its first shift's start (a take-over: its end).
    pub expires_at: String,
    /// Whether it takes over a shift already running.
    pub take_over: bool,
    /// Who asked to undo it, once accepted.
    pub undo_requested_by: Option<&'a str>,
    /// When.
    pub undo_requested_at: Option<String>,
    /// When it was accepted, declined, cancelled or undone.
    pub decided_at: Option<String>,
    /// By whom.
    pub decided_by: Option<&'a str>,
    /// The overrides an accept wrote.
    pub overrides: &'a [String],
}

fn view(r: &SwapRequest, now: DateTime<Utc>) -> SwapView<'_> {
    SwapView {
        id: &r.id,
        rotation: &r.rotation,
        kind: r.kind,
        requester: &r.requester,
        my_slot: (&r.requester_slot).into(),
        counterpart: &r.counterpart,
        their_slot: r.counterpart_slot.as_ref().map(Into::into),
        state: r.state_at(now),
        created_by: &r.created_by,
        created_at: utc(r.created_at),
        expires_at: utc(r.expires_at()),
        take_over: r.is_take_over(),
        undo_requested_by: r.undo_requested_by.as_deref(),
        undo_requested_at: r.undo_requested_at.map(utc),
        decided_at: r.decided_at.map(utc),
        decided_by: r.decided_by.as_deref(),
        overrides: &r.overrides,
    }
}

/// A slot of a rotation, for choosing what to swap: `GET /api/v1/rotations/{id}/slots`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SlotInfo<'a> {
    /// The slot number (what swap requests name).
    pub slot: u64,
    /// RFC 3339 UTC instant: the slot's start by the rotation order.
    pub start: Option<String>,
    /// RFC 3339 UTC instant.
    pub end: Option<String>,
    /// Whose turn it is by the rotation order.
    pub member: Option<&'a str>,
    /// Who is on call in it after links and overrides, piece by piece.
    pub on_call: Vec<rota_core::view::ShiftView<'a>>,
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(serde_json::to_string(value).unwrap_or_default())
}

/// The resolved schedule of `slots` of `rotation`, as text: the base instants of each slot and
/// who is on call in which part of it, and why. Equal fingerprints mean nothing changed.
fn fingerprint(s: &Schedule, rotation: &str, slots: &[SwapSlot]) -> String {
    let mut out = String::new();
    for sl in slots {
        let base = s
            .base_shift(rotation, sl.slot)
            .ok()
            .flatten()
            .map(|b| format!("{}..{}", utc(b.start), utc(b.end)))
            .unwrap_or_else(|| "none".into());
        out.push_str(&format!("{rotation}#{}[{base}]:", sl.slot));
        // Clipped to the part: a change elsewhere in the slot (another part covered) does not
        // make this part's request stale. A whole slot is unaffected (shifts never cross a
        // handoff), so fingerprints of whole-slot requests read as before.
        // The slot's own time only: another layer's time inside it is not the swap's.
        for x in s
            .shifts(rotation, sl.start, sl.end)
            .unwrap_or_default()
            .into_iter()
            .filter(|x| x.slot == sl.slot)
        {
            let source = match x.source {
                Source::Override(o) => format!("override {}", o.id),
                other => other.as_str().to_string(),
            };
            out.push_str(&format!(
                " {}@{}..{}({source})",
                x.person.id,
                utc(x.start.max(sl.start)),
                utc(x.end.min(sl.end))
            ));
        }
        out.push(';');
    }
    out
}

/// The most overrides one side of a swap may need: stretches of its part between another layer's
/// time (a week of nights under a weekday layer is five).
pub const MAX_SWAP_PIECES: usize = 100;

/// What a swap's overrides cover for the part `[from, end)` of slot `slot`: all of it, less the
/// time another layer holds inside it (an override over that time would take it from that
/// layer's person too), each stretch with some of the slot's own time in it. One range, the part
/// itself, whenever no other layer's time lies inside (every plain rotation).
pub(crate) fn override_ranges(
    s: &Schedule,
    rotation: &str,
    slot: u64,
    from: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let pieces = s.shifts(rotation, from, end).unwrap_or_default();
    ranges_between(&pieces, slot, from, end)
}

/// [`override_ranges`] from the resolved pieces over `[from, end)`.
fn ranges_between(
    pieces: &[rota_core::Shift<'_>],
    slot: u64,
    from: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut at = from;
    for x in pieces.iter().filter(|x| x.slot != slot) {
        let (a, b) = (x.start.max(from), x.end.min(end));
        if a > at {
            out.push((at, a));
        }
        at = at.max(b);
    }
    if at < end {
        out.push((at, end));
    }
    out.retain(|&(a, b)| {
        pieces
            .iter()
            .any(|x| x.slot == slot && x.start < b && x.end > a)
    });
    out
}

/// The shortest part of a slot a request may name (a whole slot may be shorter).
pub const MIN_PART_MINUTES: i64 = 30;

/// Which part of a slot a request names: the request's fields, already parsed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Part {
    pub(crate) start: Option<DateTime<Utc>>,
    pub(crate) end: Option<DateTime<Utc>>,
    /// The fields that gave them, for messages (`start`/`end` or `their_start`/`their_end`).
    pub(crate) fields: (&'static str, &'static str),
    /// A take-over: the part may have started; it then runs from `now`.
    pub(crate) may_have_started: bool,
}

/// Checks that slot `slot` of `rotation` exists, has not started, is `person`'s in the resolved
/// schedule and is not covered by an override. `field` names the request field at fault.
fn check_slot(
    s: &Schedule,
    rotation: &str,
    slot: u64,
    person: &str,
    field: &str,
    now: DateTime<Utc>,
) -> Result<SwapSlot, ApiError> {
    check_part(s, rotation, slot, person, field, Part::default(), now)
}

/// [`check_slot`] for a part of the slot (see the module doc for the rules).
fn check_part(
    s: &Schedule,
    rotation: &str,
    slot: u64,
    person: &str,
    field: &str,
    part: Part,
    now: DateTime<Utc>,
) -> Result<SwapSlot, ApiError> {
    let base = s.base_shift(rotation, slot).ok().flatten().ok_or_else(|| {
        problem(
            StatusCode::NOT_FOUND,
            Some(field),
            format!("{field}: rotation {rotation} has no shift {slot}"),
        )
    })?;
    let (start, end) = (
        part.start.unwrap_or(base.start),
        part.end.unwrap_or(base.end),
    );
    let (start_field, end_field) = part.fields;
    let inside = format!(
        "shift {slot} of {rotation} runs from {} to {}",
        utc(base.start),
        utc(base.end)
    );
    if start < base.start || start >= base.end {
        return Err(ApiError::field(
            start_field,
            format!(
                "{start_field} {} is outside the shift: {inside}",
                utc(start)
            ),
        ));
    }
    if end <= base.start || end > base.end {
        return Err(ApiError::field(
            end_field,
            format!("{end_field} {} is outside the shift: {inside}", utc(end)),
        ));
    }
    if end <= start {
        return Err(ApiError::field(
            end_field,
            format!(
                "{end_field} {} must be after {start_field} {}",
                utc(end),
                utc(start)
            ),
        ));
    }
    let whole = start == base.start && end == base.end;
    if !whole {
        for (f, t) in [(start_field, start), (end_field, end)] {
            if t.timestamp() % 60 != 0 {
                return Err(ApiError::field(
                    f,
                    format!("{f} {} is not a whole minute", utc(t)),
                ));
            }
        }
        if end - start < chrono::Duration::minutes(MIN_PART_MINUTES) {
            return Err(ApiError::field(
                end_field,
                format!(
                    "a part of a shift lasts at least {MIN_PART_MINUTES} minutes; {} to {} is shorter",
                    utc(start),
                    utc(end)
                ),
            ));
        }
    }
    if end <= now {
        return Err(problem(
            StatusCode::CONFLICT,
            Some(field),
            format!("{field}: shift {slot} of {rotation} ended at {}", utc(end)),
        ));
    }
    let start = if start <= now {
        if !part.may_have_started {
            return Err(problem(
                StatusCode::CONFLICT,
                Some(field),
                format!(
                    "{field}: shift {slot} of {rotation} already started at {}{}",
                    utc(start),
                    if part.fields.0 == "start" {
                        " (a cover may take over a started shift; a trade may not)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        now
    } else {
        start
    };
    let sl = SwapSlot { slot, start, end };
    // A layered rotation's slot may have another layer's time inside it (a 24/7 week under a
    // business-hours layer): that time is not the slot's to give, and the swap's overrides leave
    // it out (`override_ranges`).
    let all = s.shifts(rotation, start, end)?;
    let resolved: Vec<_> = all.iter().filter(|x| x.slot == slot).collect();
    if resolved.is_empty() {
        return Err(problem(
            StatusCode::CONFLICT,
            Some(field),
            format!(
                "{field}: nobody is on call in shift {slot} of {rotation} from {} to {} (outside \
                 its active hours, or another layer's time): nothing of it to swap there",
                utc(start),
                utc(end)
            ),
        ));
    }
    let pieces = ranges_between(&all, slot, start, end).len();
    if pieces > MAX_SWAP_PIECES {
        return Err(problem(
            StatusCode::CONFLICT,
            Some(field),
            format!(
                "{field}: shift {slot} of {rotation} lies in {pieces} pieces between another \
                 layer's time from {} to {}; a swap takes at most {MAX_SWAP_PIECES}: swap a \
                 shorter part",
                utc(start),
                utc(end)
            ),
        ));
    }
    // An override that puts `person` on call (a swap they accepted, a cover they took) makes the
    // shift theirs to trade again: swaps on swaps. One that puts someone else there does not.
    if let Some(o) = resolved.iter().find_map(|x| match x.source {
        Source::Override(o) if o.person != person => Some(o),
        _ => None,
    }) {
        return Err(problem(
            StatusCode::CONFLICT,
            Some(field),
            format!(
                "{field}: shift {slot} of {rotation} is already covered by override {} ({} on call)",
                o.id, o.person
            ),
        ));
    }
    if let Some(x) = resolved.iter().find(|x| x.person.id != person) {
        return Err(problem(
            StatusCode::CONFLICT,
            Some(field),
            format!(
                "{field}: shift {slot} of {rotation} is not currently {person}'s ({} is on call from {})",
                x.person.id,
                utc(x.start)
            ),
        ));
    }
    Ok(sl)
}

/// Whether `person` could offer slot `slot` of `rotation` in a swap request made at `now`: it
/// exists, has not started and is theirs in the resolved schedule (by their turn, or through an
/// override that puts them there). The swap form offers only such slots, so it never offers a
/// pair that the request would refuse.
pub(crate) fn tradeable(
    s: &Schedule,
    rotation: &str,
    slot: u64,
    person: &str,
    now: DateTime<Utc>,
) -> bool {
    check_slot(s, rotation, slot, person, "slot", now).is_ok()
}

/// Whether the schedule of `r`'s shifts changed since it was made, so accepting it would be
/// refused. Pages say so before anyone presses Accept.
pub(crate) fn is_stale(s: &Schedule, r: &SwapRequest) -> bool {
    fingerprint(s, &r.rotation, &r.slots()) != r.fingerprint
}

/// The body of `POST /api/v1/swaps`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SwapBody {
    /// Rotation id.
    pub(crate) rotation: String,
    /// `trade` (both ways: needs `their_slot`) or `cover` (one way).
    pub(crate) kind: SwapKind,
    /// The slot to give away (`GET /api/v1/rotations/{id}/slots`).
    pub(crate) my_slot: u64,
    /// Who is asked.
    pub(crate) counterpart: String,
    /// Their slot taken in return (a trade).
    pub(crate) their_slot: Option<u64>,
    /// An admin asking for someone else: that person.
    pub(crate) on_behalf_of: Option<String>,
    /// Part of `my_slot` (see the module doc): its start; the slot's own when left out.
    #[serde(default)]
    #[schema(value_type = Option<crate::api::Time>)]
    pub(crate) start: Option<String>,
    /// Its end.
    #[serde(default)]
    #[schema(value_type = Option<crate::api::Time>)]
    pub(crate) end: Option<String>,
    /// Part of `their_slot`: its start.
    #[serde(default)]
    #[schema(value_type = Option<crate::api::Time>)]
    pub(crate) their_start: Option<String>,
    /// Its end.
    #[serde(default)]
    #[schema(value_type = Option<crate::api::Time>)]
    pub(crate) their_end: Option<String>,
}

fn member(s: &Schedule, rotation: &str, person: &str, field: &str) -> Result<(), ApiError> {
    if s.person(person).is_none() {
        return Err(ApiError::field(
            field,
            crate::api::unknown(s, "person", person),
        ));
    }
    let is_member = s
        .rotation(rotation)
        .is_some_and(|r| r.members.iter().any(|m| m == person));
    if !is_member {
        return Err(ApiError::field(
            field,
            format!("{person} is not a member of rotation {rotation}"),
        ));
    }
    Ok(())
}

/// `POST /api/v1/swaps`
#[utoipa::path(
    post,
    path = "/api/v1/swaps",
    tag = "swaps",
    request_body(content = SwapBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The request, pending", body = SwapView),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 16 KiB", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
async fn create_swap(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let b: SwapBody = json_body(&req, &body)?;
    let now = state.now();
    let created = propose(&state, who, b).await?;
    let mut res = json(StatusCode::CREATED, &view(&created, now));
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&format!("/api/v1/swaps/{}", created.id))
            .unwrap_or(header::HeaderValue::from_static("/api/v1/swaps")),
    );
    Ok(res)
}

/// Validates and records a swap request made by `who` (the API and the swap form).
pub(crate) async fn propose(
    state: &AppState,
    who: String,
    b: SwapBody,
) -> Result<SwapRequest, ApiError> {
    let snap = state.snapshot();
    let s = &snap.schedule;
    let now = state.now();
    let rot = s.rotation(&b.rotation).ok_or_else(|| {
        ApiError::field("rotation", crate::api::unknown(s, "rotation", &b.rotation))
    })?;
    let requester = match &b.on_behalf_of {
        Some(p) if p != &who => {
            if !s.is_admin(&who) {
                return Err(ApiError::forbidden(format!(
                    "{who} may only propose swaps for themselves; only admins may act on behalf of others"
                )));
            }
            p.clone()
        }
        _ => who.clone(),
    };
    let requester_field = if b.on_behalf_of.is_some() {
        "on_behalf_of"
    } else {
        "rotation"
    };
    member(s, &rot.id, &requester, requester_field)?;
    member(s, &rot.id, &b.counterpart, "counterpart")?;
    if b.counterpart == requester {
        return Err(ApiError::field(
            "counterpart",
            "the counterpart must be someone other than the requester",
        ));
    }
    let their = match (b.kind, b.their_slot) {
        (SwapKind::Trade, None) => {
            return Err(ApiError::field(
                "their_slot",
                "a trade names the counterpart's shift: their_slot is required",
            ));
        }
        (SwapKind::Cover, Some(_)) => {
            return Err(ApiError::field(
                "their_slot",
                "a cover is one-way: leave out their_slot",
            ));
        }
        (_, t) => t,
    };
    if their == Some(b.my_slot) {
        return Err(ApiError::field(
            "their_slot",
            format!(
                "trading shift {} for itself would put {requester} and {} on call in the same (overlapping) shift of {}",
                b.my_slot, b.counterpart, rot.id
            ),
        ));
    }
    let zone = rot.timezone;
    let time = |field: &'static str, v: &Option<String>| {
        v.as_deref()
            .map(|v| crate::api::override_time(field, v, zone))
            .transpose()
    };
    if their.is_none() && (b.their_start.is_some() || b.their_end.is_some()) {
        return Err(ApiError::field(
            if b.their_start.is_some() {
                "their_start"
            } else {
                "their_end"
            },
            "a cover is one-way: their_start and their_end belong to a trade",
        ));
    }
    let my_part = Part {
        start: time("start", &b.start)?,
        end: time("end", &b.end)?,
        fields: ("start", "end"),
        may_have_started: b.kind == SwapKind::Cover,
    };
    let their_part = Part {
        start: time("their_start", &b.their_start)?,
        end: time("their_end", &b.their_end)?,
        fields: ("their_start", "their_end"),
        may_have_started: false,
    };
    let mine = check_part(s, &rot.id, b.my_slot, &requester, "my_slot", my_part, now)?;
    let theirs = match their {
        Some(n) => Some(check_part(
            s,
            &rot.id,
            n,
            &b.counterpart,
            "their_slot",
            their_part,
            now,
        )?),
        None => None,
    };
    let slots: Vec<SwapSlot> = std::iter::once(mine).chain(theirs).collect();
    let new = NewSwap {
        rotation: rot.id.clone(),
        kind: b.kind,
        requester,
        requester_slot: mine,
        counterpart: b.counterpart,
        counterpart_slot: theirs,
        fingerprint: fingerprint(s, &rot.id, &slots),
    };
    let st = state.clone();
    let created = blocking(move || st.store().create_swap(new, &who, now)).await?;
    tracing::info!(id = %created.id, rotation = %created.rotation, requester = %created.requester, counterpart = %created.counterpart, "swap requested");
    state.swap_changed(&created);
    Ok(created)
}

/// `GET /api/v1/swaps`: the caller's requests (made or asked), or every request for admins.
#[utoipa::path(
    get,
    path = "/api/v1/swaps",
    tag = "swaps",
    responses(
        (status = 200, description = "The caller's requests (made or asked), or all for admins; newest first", body = Vec<SwapView>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
async fn list_swaps(
    state: web::Data<AppState>,
    req: HttpRequest,
    _q: web::Query<crate::ics::NoQuery>,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let admin = state.snapshot().schedule.is_admin(&who);
    let st = state.clone();
    let list = blocking(move || st.store().swaps((!admin).then_some(who.as_str()))).await?;
    let now = state.now();
    let out: Vec<SwapView<'_>> = list.iter().map(|r| view(r, now)).collect();
    Ok(json(StatusCode::OK, &out))
}

/// Loads request `id` for `who`: 404 if there is none, 403 if `who` is neither party nor admin.
pub(crate) async fn load(
    state: &AppState,
    who: &str,
    id: String,
) -> Result<(SwapRequest, bool), ApiError> {
    let st = state.clone();
    let found = blocking(move || st.store().swap(&id).map(|r| (id, r))).await?;
    let (id, r) = found;
    let r = r.ok_or_else(|| ApiError::not_found(format!("no swap request {id:?}")))?;
    let admin = state.snapshot().schedule.is_admin(who);
    if !admin && r.requester != who && r.counterpart != who {
        return Err(ApiError::forbidden(format!(
            "{who} is not a party to swap request {id}"
        )));
    }
    Ok((r, admin))
}

/// `GET /api/v1/swaps/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/swaps/{id}",
    tag = "swaps",
    params(("id" = String, Path, description = "Swap request id")),
    responses(
        (status = 200, description = "The request", body = SwapView),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
async fn get_swap(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let (r, _) = load(&state, &who, path.into_inner()).await?;
    Ok(json(StatusCode::OK, &view(&r, state.now())))
}

/// 409 unless `r` is pending at `now`; an expired request is recorded as expired on the way.
async fn still_pending(
    state: &AppState,
    r: &SwapRequest,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    match r.state_at(now) {
        SwapState::Pending => Ok(()),
        SwapState::Expired => {
            if r.state == SwapState::Pending {
                let (st, id) = (state.clone(), r.id.clone());
                // Another request may have decided it meanwhile: that is fine either way.
                let _ =
                    blocking(move || st.store().decide_swap(&id, SwapState::Expired, "rota", now))
                        .await;
            }
            Err(ApiError::conflict(if r.is_take_over() {
                format!(
                    "swap request {} expired when the shift it asked to take over ended at {}",
                    r.id,
                    utc(r.expires_at())
                )
            } else {
                format!(
                    "swap request {} expired when its first shift started at {}",
                    r.id,
                    utc(r.expires_at())
                )
            }))
        }
        other => Err(ApiError::conflict(format!(
            "swap request {} is already {}",
            r.id,
            other.as_str()
        ))),
    }
}

/// `POST /api/v1/swaps/{id}/accept`: only the counterpart (or an admin).
#[utoipa::path(
    post,
    path = "/api/v1/swaps/{id}/accept",
    tag = "swaps",
    params(("id" = String, Path, description = "Swap request id")),
    responses(
        (status = 200, description = "Accepted: its overrides are written", body = SwapView),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
async fn accept_swap(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let done = accept(&state, &who, path.into_inner()).await?;
    Ok(json(StatusCode::OK, &view(&done, state.now())))
}

/// Accepts request `id` as `who` (the API and the request page).
pub(crate) async fn accept(
    state: &AppState,
    who: &str,
    id: String,
) -> Result<SwapRequest, ApiError> {
    let who = who.to_string();
    let (r, admin) = load(state, &who, id).await?;
    if r.counterpart != who && !admin {
        return Err(ApiError::forbidden(format!(
            "only {} (the counterpart) or an admin may accept swap request {}",
            r.counterpart, r.id
        )));
    }
    let now = state.now();
    still_pending(state, &r, now).await?;
    let snap = state.snapshot();
    if is_stale(&snap.schedule, &r) {
        return Err(ApiError::conflict(format!(
            "swap request {} is stale: the schedule of its shifts changed since it was made (another override or swap, or the schedule files); make a new request",
            r.id
        )));
    }
    let reason = |text: String| Some(format!("swap {}: {text}", r.id));
    // A take-over covers from the moment of acceptance (the part began before it was asked).
    let from = if r.is_take_over() {
        r.requester_slot.start.max(now)
    } else {
        r.requester_slot.start
    };
    // One override a side, or, in a layered rotation, one per stretch of its part between
    // another layer's time.
    let side = |slot: u64, from, end, person: &str, text: String| {
        override_ranges(&snap.schedule, &r.rotation, slot, from, end)
            .into_iter()
            .map(|(start, end)| NewOverride {
                rotation: r.rotation.clone(),
                person: person.to_string(),
                start,
                end,
                reason: reason(text.clone()),
            })
            .collect::<Vec<_>>()
    };
    let mut overrides = side(
        r.requester_slot.slot,
        from,
        r.requester_slot.end,
        &r.counterpart,
        format!("{} covers {}", r.counterpart, r.requester),
    );
    if let Some(c) = r.counterpart_slot {
        overrides.extend(side(
            c.slot,
            c.start,
            c.end,
            &r.requester,
            format!("{} covers {}", r.requester, r.counterpart),
        ));
    }
    // The run-time overrides over its parts in the snapshot the request was just checked against
    // (a swap on a swap lies on some, hidden ones too): the store refuses the accept unless
    // exactly these cover them when it writes (a race with another accept, an undo, a write on
    // another replica this one has not seen yet).
    let under: Vec<String> = snap
        .run_time_overrides
        .iter()
        .filter(|o| {
            o.rotation == r.rotation
                && r.slots()
                    .iter()
                    .any(|sl| o.start < sl.end && o.end > sl.start)
        })
        .map(|o| o.id.clone())
        .collect();
    let st = state.clone();
    let id = r.id.clone();
    let done = blocking(move || {
        let done = st
            .store()
            .accept_swap_over(&id, overrides, &under, &who, now)?;
        st.rebuild()?;
        Ok(done)
    })
    .await?;
    tracing::info!(id = %done.id, by = ?done.decided_by, "swap accepted");
    state.swap_changed(&done);
    Ok(done)
}

/// `POST /api/v1/swaps/{id}/undo`: a party asks to undo an accepted swap (202), the other party
/// agrees (200, undone), or an admin undoes it at once (200).
#[utoipa::path(
    post,
    path = "/api/v1/swaps/{id}/undo",
    tag = "swaps",
    params(("id" = String, Path, description = "Swap request id")),
    responses(
        (status = 200, description = "Undone (the other party agreed, or an admin undid it)", body = SwapView),
        (status = 202, description = "Undo asked for; the other party must agree", body = SwapView),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
async fn undo_swap(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let (status, r) = undo(&state, &who, path.into_inner()).await?;
    Ok(json(status, &view(&r, state.now())))
}

/// Asks for, agrees to, or (as an admin) carries out the undo of request `id` as `who` (the API
/// and the request page). Returns 202 and the request when it now waits for the other party, 200
/// when it was undone.
pub(crate) async fn undo(
    state: &AppState,
    who: &str,
    id: String,
) -> Result<(StatusCode, SwapRequest), ApiError> {
    let (r, admin) = load(state, who, id).await?;
    if r.state != SwapState::Accepted {
        return Err(ApiError::conflict(format!(
            "swap request {} is {}: only an accepted swap can be undone",
            r.id,
            r.state.as_str()
        )));
    }
    let now = state.now();
    let first = r.slots().iter().map(|s| s.start).min().unwrap_or(now);
    if first <= now {
        return Err(ApiError::conflict(format!(
            "swap request {} cannot be undone: its first shift started at {} (undoing it would rewrite who was on call)",
            r.id,
            utc(first)
        )));
    }
    let party = r.requester == who || r.counterpart == who;
    let other = if r.requester == who {
        r.counterpart.clone()
    } else {
        r.requester.clone()
    };
    let (st, id, actor) = (state.clone(), r.id.clone(), who.to_string());
    let (status, done) = match &r.undo_requested_by {
        // The other party asked: agreeing undoes it. An admin undoes it at once.
        Some(asker) if asker != who && (party || admin) => (StatusCode::OK, true),
        None if admin && !party => (StatusCode::OK, true),
        None if party => (StatusCode::ACCEPTED, false),
        Some(asker) => {
            return Err(ApiError::conflict(format!(
                "{asker} already asked to undo swap request {}; {} agrees by asking too",
                r.id,
                if asker == &r.requester {
                    &r.counterpart
                } else {
                    &r.requester
                }
            )));
        }
        None => {
            return Err(ApiError::forbidden(format!(
                "{who} is not a party to swap request {}",
                r.id
            )));
        }
    };
    let ids = r.overrides.clone();
    let (changed, removed) = blocking(move || {
        if done {
            // The overrides it removes, as they were: told about like any deleted override.
            let removed: Vec<rota_store::StoredOverride> = st
                .store()
                .overrides()?
                .into_iter()
                .filter(|o| ids.contains(&o.id))
                .collect();
            let r = st.store().undo_swap(&id, &actor, now)?;
            st.rebuild()?;
            Ok((r, removed))
        } else {
            st.store()
                .request_undo(&id, &actor, now)
                .map(|r| (r, Vec::new()))
        }
    })
    .await?;
    for o in &removed {
        state.override_changed(o, false, who);
    }
    if done {
        tracing::info!(id = %changed.id, by = %who, "swap undone");
    } else {
        tracing::info!(id = %changed.id, by = %who, waiting_for = %other, "swap undo asked for");
    }
    state.swap_changed(&changed);
    Ok((status, changed))
}

async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: String,
    to: SwapState,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let done = decide_as(&state, &who, id, to).await?;
    Ok(json(StatusCode::OK, &view(&done, state.now())))
}

/// Declines or cancels request `id` as `who` (the API and the request page).
pub(crate) async fn decide_as(
    state: &AppState,
    who: &str,
    id: String,
    to: SwapState,
) -> Result<SwapRequest, ApiError> {
    let who = who.to_string();
    let (r, admin) = load(state, &who, id).await?;
    let (allowed, verb, party) = match to {
        SwapState::Cancelled => (
            r.requester == who || r.created_by == who || admin,
            "cancel",
            "the requester",
        ),
        _ => (r.counterpart == who || admin, "decline", "the counterpart"),
    };
    if !allowed {
        return Err(ApiError::forbidden(format!(
            "only {party} or an admin may {verb} swap request {}",
            r.id
        )));
    }
    let now = state.now();
    still_pending(state, &r, now).await?;
    let st = state.clone();
    let id = r.id.clone();
    let done = blocking(move || st.store().decide_swap(&id, to, &who, now)).await?;
    state.swap_changed(&done);
    Ok(done)
}

/// `POST /api/v1/swaps/{id}/decline`: only the counterpart (or an admin).
#[utoipa::path(
    post,
    path = "/api/v1/swaps/{id}/decline",
    tag = "swaps",
    params(("id" = String, Path, description = "Swap request id")),
    responses(
        (status = 200, description = "Declined", body = SwapView),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
async fn decline_swap(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(state, req, path.into_inner(), SwapState::Declined).await
}

/// `POST /api/v1/swaps/{id}/cancel`: only the requester (or whoever made it, or an admin).
#[utoipa::path(
    post,
    path = "/api/v1/swaps/{id}/cancel",
    tag = "swaps",
    params(("id" = String, Path, description = "Swap request id")),
    responses(
        (status = 200, description = "Cancelled", body = SwapView),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
async fn cancel_swap(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(state, req, path.into_inner(), SwapState::Cancelled).await
}

/// `GET /api/v1/rotations/{id}/slots[?from=&to=]`: the slots (numbered shifts) overlapping the
/// range (default: now to 8 weeks later, at most 731 days), each with whose turn it is by the
/// rotation order and who is on call in it after links and overrides. This is how a client finds
/// the `my_slot` and `their_slot` of a swap request.
#[utoipa::path(
    get,
    path = "/api/v1/rotations/{id}/slots",
    tag = "swaps",
    params(("id" = String, Path, description = "Rotation id"), crate::api::RangeQuery),
    responses(
        (status = 200, description = "The slots overlapping the range (default 8 weeks from now)", body = Vec<SlotInfo>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation, person or resource", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
async fn slots(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<crate::api::RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let s = &snap.schedule;
    let rot = s
        .rotation(&path)
        .ok_or_else(|| ApiError::not_found(crate::api::unknown(s, "rotation", &path)))?;
    let (from, to) =
        crate::api::range_or(&q, rot.timezone, state.now(), chrono::Duration::weeks(8))?;
    let shifts = s.shifts(&rot.id, from, to)?;
    let mut out: Vec<SlotInfo<'_>> = Vec::new();
    let mut i = 0;
    while i < shifts.len() {
        let slot = shifts[i].slot;
        let j = shifts[i..]
            .iter()
            .position(|x| x.slot != slot)
            .map_or(shifts.len(), |k| i + k);
        let base = s.base_shift(&rot.id, slot)?;
        let on_call: Vec<rota_core::view::ShiftView<'_>> =
            shifts[i..j].iter().map(Into::into).collect();
        out.push(SlotInfo {
            slot,
            start: base.as_ref().map(|b| utc(b.start)),
            end: base.as_ref().map(|b| utc(b.end)),
            member: base.as_ref().map(|b| b.person.id.as_str()),
            on_call,
        });
        i = j;
    }
    Ok(json(StatusCode::OK, &out))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// How many entries, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only entries with a smaller sequence number (the next page).
    before: Option<i64>,
}

/// `GET /api/v1/audit[?limit=N][&before=SEQ]`: admins only; newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "Audit entries, newest first", body = Vec<rota_store::AuditEntry>),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
async fn audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    if !state.snapshot().schedule.is_admin(&who) {
        return Err(ApiError::forbidden(format!(
            "only admins may read the audit log ({who} is not one)"
        )));
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_AUDIT_LIMIT {
        return Err(ApiError::field(
            "limit",
            format!("limit must be 1 to {MAX_AUDIT_LIMIT}"),
        ));
    }
    let before = q.before;
    let st = state.clone();
    let entries = blocking(move || st.store().audit(limit, before)).await?;
    Ok(json(StatusCode::OK, &entries))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::test;
    use chrono::{DateTime, Utc};
    use rota_core::Schedule;
    use rota_store::{Store, SwapState};
    use serde_json::{Value, json};

    use crate::state::{AppState, Clock};

    /// A clock the test moves.
    pub(crate) struct Hand(pub(crate) Mutex<DateTime<Utc>>);

    impl Clock for Hand {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    pub(crate) fn state(dir: &std::path::Path, clock: Arc<Hand>) -> AppState {
        let store = Store::open(dir.join("rota.db")).unwrap();
        let loader: crate::Loader = Arc::new(|| {
            Schedule::load(&[
                (
                    "people.toml",
                    include_str!("../../../schedules/people.toml"),
                ),
                (
                    "rotations.toml",
                    include_str!("../../../schedules/rotations.toml"),
                ),
                (
                    "overrides.toml",
                    include_str!("../../../schedules/overrides.toml"),
                ),
            ])
            .map(Into::into)
            .map_err(|e| e.to_string())
        });
        AppState::new(store, clock, loader).unwrap()
    }

    /// A part with none of its shift's own time (a restricted rotation's night, a business day
    /// under a 24/7 layer's week) and a part in more than `MAX_SWAP_PIECES` stretches between
    /// another layer's time are 409s naming the field; a week of the same half-year turn is six
    /// stretches, the part itself for a plain rotation.
    #[actix_web::test]
    async fn parts_with_nothing_to_swap_or_too_many_pieces_are_refused() {
        let text = "[people.a]\nname = \"A\"\n[people.b]\nname = \"B\"\n[people.c]\nname = \"C\"\n\
            [rotations.office]\nmembers = [\"a\", \"b\"]\ntimezone = \"UTC\"\n\
            start = \"2030-01-07T00:00\"\nevery = \"1 week\"\nactive = [\"Mon-Fri 09:00-17:00\"]\n\
            [rotations.half]\ntimezone = \"UTC\"\n\
            [[rotations.half.layers]]\nmembers = [\"a\", \"b\"]\nstart = \"2030-01-07T00:00\"\nevery = \"26 weeks\"\n\
            [[rotations.half.layers]]\nid = \"days\"\nmembers = [\"c\"]\nstart = \"2030-01-07T00:00\"\n\
            every = \"1 day\"\nactive = [\"Mon-Fri 09:00-17:00\"]\n";
        let s = Schedule::load(&[("r.toml", text)]).unwrap();
        let now = t("2029-12-01T00:00:00Z");
        let part = |a: &str, b: &str| super::Part {
            start: Some(t(a)),
            end: Some(t(b)),
            fields: ("start", "end"),
            may_have_started: false,
        };
        let refused = |rotation: &str, p: super::Part| {
            let e = super::check_part(&s, rotation, 0, "a", "my_slot", p, now).unwrap_err();
            assert_eq!(
                e.status,
                actix_web::http::StatusCode::CONFLICT,
                "{}",
                e.detail
            );
            assert_eq!(e.field.as_deref(), Some("my_slot"));
            e.detail
        };
        // Tuesday night: nobody is on call in the office rotation.
        let d = refused(
            "office",
            part("2030-01-08T20:00:00Z", "2030-01-09T06:00:00Z"),
        );
        assert!(d.contains("nobody is on call in shift 0 of office"), "{d}");
        // Tuesday 10:00-16:00 of the half-year turn is the day layer's.
        let d = refused("half", part("2030-01-08T10:00:00Z", "2030-01-08T16:00:00Z"));
        assert!(d.contains("another layer"), "{d}");
        // The whole half-year turn: 130 weekdays split it into 131 stretches.
        let d = refused("half", super::Part::default());
        assert!(d.contains("131 pieces") && d.contains("at most 100"), "{d}");
        // Its first week: Monday 00:00-09:00, four nights, and the weekend into Monday 09:00.
        let week = part("2030-01-07T00:00:00Z", "2030-01-14T09:00:00Z");
        let sl = super::check_part(&s, "half", 0, "a", "my_slot", week, now).unwrap();
        let ranges = super::override_ranges(&s, "half", 0, sl.start, sl.end);
        assert_eq!(ranges.len(), 6, "{ranges:?}");
        assert_eq!(
            ranges[5],
            (t("2030-01-11T17:00:00Z"), t("2030-01-14T09:00:00Z"))
        );
        // A plain rotation's part is one range, itself, nights included.
        let week = part("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z");
        let sl = super::check_part(&s, "office", 0, "a", "my_slot", week, now).unwrap();
        assert_eq!(
            super::override_ranges(&s, "office", 0, sl.start, sl.end),
            [(sl.start, sl.end)]
        );
    }

    /// Issue 11, point 3: after a trade is accepted, neither party can delete their half alone.
    #[actix_web::test]
    async fn r11_3_an_override_of_an_accepted_swap_cannot_be_deleted_alone() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(Mutex::new(t("2026-11-23T10:00:00Z"))));
        let st = state(dir.path(), clock.clone());
        let token = |p: &str| {
            st.store()
                .issue_token(p, "test", clock.now())
                .unwrap()
                .token
        };
        let (carol, erin, alice) = (token("carol"), token("erin"), token("alice"));
        let app = test::init_service(crate::app(actix_web::web::Data::new(st.clone()))).await;
        let call = |method: &str, uri: &str, bearer: &str, body: Option<Value>| {
            let r = match method {
                "POST" => test::TestRequest::post(),
                "DELETE" => test::TestRequest::delete(),
                _ => test::TestRequest::get(),
            }
            .uri(uri)
            .insert_header(("authorization", format!("Bearer {bearer}")));
            match body {
                Some(b) => r.set_json(b).to_request(),
                None => r.to_request(),
            }
        };
        // Carol's week (slot 4) for Erin's (slot 6).
        let req = call(
            "POST",
            "/api/v1/swaps",
            &carol,
            Some(
                json!({"rotation":"support-hero","kind":"trade","my_slot":4,"counterpart":"erin","their_slot":6}),
            ),
        );
        let created: Value = test::call_and_read_body_json(&app, req).await;
        let id = created["id"].as_str().unwrap().to_string();
        let req = call("POST", &format!("/api/v1/swaps/{id}/accept"), &erin, None);
        let accepted: Value = test::call_and_read_body_json(&app, req).await;
        let overrides: Vec<String> = accepted["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap().to_string())
            .collect();
        assert_eq!(overrides.len(), 2);
        // Carol's half puts her on Erin's week: she may delete overrides that put her on call,
        // but not this one; nor may Erin or an admin delete one half alone.
        for (who, ovr) in [
            (&carol, &overrides[1]),
            (&erin, &overrides[0]),
            (&alice, &overrides[0]),
        ] {
            let res = test::call_service(
                &app,
                call("DELETE", &format!("/api/v1/overrides/{ovr}"), who, None),
            )
            .await;
            assert_eq!(res.status(), 409);
            let body: Value = test::read_body_json(res).await;
            assert!(body["detail"].as_str().unwrap().contains(&id), "{body}");
        }
        assert_eq!(st.store().overrides().unwrap().len(), 2, "both halves stay");
        assert_eq!(
            st.store().swap(&id).unwrap().unwrap().state,
            SwapState::Accepted
        );
        // The slot was never freed: Carol, who traded it away, cannot offer it again. (Erin,
        // who holds it now, may: a swap on a swap, issue 13.)
        let req = call(
            "POST",
            "/api/v1/swaps",
            &carol,
            Some(json!({"rotation":"support-hero","kind":"cover","my_slot":4,"counterpart":"bob"})),
        );
        assert_eq!(test::call_service(&app, req).await.status(), 409);
        let req = call(
            "POST",
            "/api/v1/swaps",
            &erin,
            Some(json!({"rotation":"support-hero","kind":"cover","my_slot":4,"counterpart":"bob"})),
        );
        assert_eq!(test::call_service(&app, req).await.status(), 201);
    }

    #[actix_web::test]
    async fn a_request_expires_when_its_first_shift_starts() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(Mutex::new(t("2026-11-23T10:00:00Z"))));
        let st = state(dir.path(), clock.clone());
        let carol = st
            .store()
            .issue_token("carol", "test", clock.now())
            .unwrap()
            .token;
        let bob = st
            .store()
            .issue_token("bob", "test", clock.now())
            .unwrap()
            .token;
        let app = test::init_service(crate::app(actix_web::web::Data::new(st.clone()))).await;
        // Slot 4 of support-hero is Carol's week from 2026-11-30T09:00Z.
        let req = test::TestRequest::post()
            .uri("/api/v1/swaps")
            .insert_header(("authorization", format!("Bearer {carol}")))
            .set_json(
                json!({"rotation":"support-hero","kind":"cover","my_slot":4,"counterpart":"bob"}),
            )
            .to_request();
        let created: Value = test::call_and_read_body_json(&app, req).await;
        assert_eq!(created["expires_at"], "2026-11-30T09:00:00Z");
        let id = created["id"].as_str().unwrap().to_string();

        *clock.0.lock().unwrap() = t("2026-11-30T09:00:00Z");
        let req = test::TestRequest::get()
            .uri(&format!("/api/v1/swaps/{id}"))
            .insert_header(("authorization", format!("Bearer {bob}")))
            .to_request();
        let seen: Value = test::call_and_read_body_json(&app, req).await;
        assert_eq!(seen["state"], "expired");
        let req = test::TestRequest::post()
            .uri(&format!("/api/v1/swaps/{id}/accept"))
            .insert_header(("authorization", format!("Bearer {bob}")))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 409);
        let body: Value = test::read_body_json(res).await;
        assert!(
            body["detail"].as_str().unwrap().contains("expired"),
            "{body}"
        );
        assert_eq!(
            st.store().swap(&id).unwrap().unwrap().state,
            SwapState::Expired
        );
        assert!(st.store().overrides().unwrap().is_empty());
        assert_eq!(
            st.snapshot()
                .schedule
                .on_call("support-hero", t("2026-11-30T12:00:00Z"))
                .unwrap()
                .unwrap()
                .person
                .id,
            "carol"
        );
    }

    #[actix_web::test]
    async fn slots_name_the_turn_and_who_is_on_call() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(Mutex::new(t("2026-11-23T10:00:00Z"))));
        let st = state(dir.path(), clock);
        let app = test::init_service(crate::app(actix_web::web::Data::new(st))).await;
        let req = test::TestRequest::get()
            .uri("/api/v1/rotations/support-hero/slots?from=2027-01-04T09:00:00Z&to=2027-01-18T09:00:00Z")
            .to_request();
        let slots: Value = test::call_and_read_body_json(&app, req).await;
        let rows: Vec<String> = slots
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                format!(
                    "{} {} {} {} {}",
                    v["slot"],
                    v["start"].as_str().unwrap(),
                    v["member"].as_str().unwrap(),
                    v["on_call"][0]["person"]["id"].as_str().unwrap(),
                    v["on_call"][0]["source"].as_str().unwrap()
                )
            })
            .collect();
        // The example files' Christmas swap: the order says Alice then Bob; the overrides say Bob
        // then Alice.
        assert_eq!(
            rows,
            [
                "9 2027-01-04T09:00:00Z alice bob override",
                "10 2027-01-11T09:00:00Z bob alice override",
            ]
        );
    }
}
