//! The swap form (`/swaps/new`) and the request page (`/swaps/{id}`).
//!
//! The form works in steps, without JavaScript, and offers only what the request would accept:
//!
//! 1. `/swaps/new` alone lists your shifts that can be swapped (not started, yours, no override).
//! 2. `/swaps/new?rotation=&slot=` is that shift: choose a colleague of the rotation.
//! 3. `...&counterpart=` lists only that colleague's shifts that can be traded for it, or asks
//!    them for a cover, and which part of your shift: all of it, one of its days (each day from
//!    the handoff's wall-clock time in the rotation's zone, so a DST change makes that day 23 or
//!    25 hours long), or a range typed in. Sending it calls the same code as `POST /api/v1/swaps`.
//!
//! The request page shows the request and its state, with Accept / Decline / Cancel for whoever
//! may. A pending request whose shifts changed since it was made says so, and offers no Accept.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use chrono::Duration;
use maud::{Markup, html};
use rota_core::{Rotation, Schedule};
use rota_store::{SwapKind, SwapState};
use serde::Deserialize;

use super::{
    PageError, PageResult, SWAP_FORM_WEEKS, auth, layout, local, redirect, respond, source_tag,
};
use crate::error::ApiError;
use crate::paths;
use crate::state::AppState;
use crate::swaps::{self, SwapBody};

#[derive(Deserialize)]
pub(crate) struct NewSwapQuery {
    rotation: Option<String>,
    slot: Option<u64>,
    /// The colleague (step 3; the conflict suggestions link here with one).
    counterpart: Option<String>,
    /// Pre-selects their shift for a trade.
    their_slot: Option<u64>,
    /// Pre-selects a part of my shift, `START/END` (a conflict suggestion for a partial absence).
    part: Option<String>,
    /// A part of their shift to take in return, `START/END`.
    their_part: Option<String>,
}

/// The tradeable slots of `person` in `rot` from now to [`SWAP_FORM_WEEKS`] ahead, but `except`.
fn tradeable_slots<'s>(
    s: &'s Schedule,
    rot: &'s Rotation,
    person: &str,
    except: Option<u64>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<rota_core::Shift<'s>> {
    let to = now + Duration::weeks(SWAP_FORM_WEEKS);
    let mut out: Vec<rota_core::Shift<'s>> = Vec::new();
    for x in s.shifts(&rot.id, now, to).unwrap_or_default() {
        if Some(x.slot) == except || out.last().is_some_and(|l| l.slot == x.slot) {
            continue;
        }
        if swaps::tradeable(s, &rot.id, x.slot, person, now) {
            out.push(x);
        }
    }
    out
}

/// The days of a shift in `rot`'s zone (see `rota_core::tz::day_parts`).
fn day_parts(
    rot: &Rotation,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    rota_core::tz::day_parts(rot.timezone, start, end)
}

#[cfg(test)]
pub(crate) fn day_parts_for_tests(
    rot: &Rotation,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    day_parts(rot, start, end)
}

fn zone(rot: &Rotation) -> Markup {
    html! { span.muted { "(" (rot.timezone.name()) ")" } }
}

/// `GET /swaps/new[?rotation=&slot=[&counterpart=[&their_slot=]]]`
pub(crate) async fn new_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NewSwapQuery>,
) -> PageResult {
    let sess = match auth::require(&state, &req).await? {
        Ok(s) => s,
        Err(to_signin) => return Ok(to_signin),
    };
    let snap = state.snapshot();
    let s = &snap.schedule;
    let now = state.now();
    let me_name = s.person(&sess.person).map(|p| p.name.as_str());
    let q = q.into_inner();
    let (Some(rot_id), Some(slot)) = (q.rotation.as_deref(), q.slot) else {
        // Step 1: which of your shifts?
        let mine: Vec<(&Rotation, rota_core::Shift<'_>)> = s
            .rotations()
            .iter()
            .filter(|r| r.members.contains(&sess.person))
            .flat_map(|r| {
                tradeable_slots(s, r, &sess.person, None, now)
                    .into_iter()
                    .map(move |x| (r, x))
            })
            .collect();
        let body = html! {
            h1 { "Swap a shift" }
            @if mine.is_empty() {
                p { "You have no shift in the next " (SWAP_FORM_WEEKS) " weeks that can be swapped \
                     (a shift that started, or that an override already covers, cannot be)." }
            } @else {
                p { "Which of your shifts?" }
                ul {
                    @for (rot, x) in &mine {
                        li { a href=(paths::swap_form(&rot.id, x.slot, None)) {
                            (rot.name) ": " (local(x.start, rot)) " to " (local(x.end, rot))
                        } " " (zone(rot)) }
                    }
                }
            }
            p { a href=(paths::ME) { "Back to your page" } }
        };
        return Ok(respond(
            StatusCode::OK,
            layout("Swap a shift", me_name, body),
        ));
    };
    let rot = s.rotation(rot_id).ok_or_else(|| {
        PageError::new(
            StatusCode::NOT_FOUND,
            format!("there is no rotation {rot_id:?}"),
        )
    })?;
    let mine = s.base_shift(&rot.id, slot).ok().flatten().ok_or_else(|| {
        PageError::new(
            StatusCode::NOT_FOUND,
            format!("{} has no shift number {slot}", rot.name),
        )
    })?;
    let colleague = match q.counterpart.as_deref() {
        Some(c) if c != sess.person && rot.members.iter().any(|m| m == c) => s.person(c),
        Some(c) if !c.is_empty() => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                format!("{c:?} is not a colleague in {}", rot.name),
            ));
        }
        _ => None,
    };
    let hint = crate::timeoff::suggestion_hint(&state, s, &rot.id, slot, &sess.person, now);
    // A shift running now can only be handed over: a take-over (a cover from acceptance on).
    let started = mine.start <= now;
    let yours = html! {
        h1 { "Swap a shift" }
        p { "Your " (rot.name) " shift: " strong { (local(mine.start, rot)) } " to " (local(mine.end, rot)) " " (zone(rot)) }
        (hint)
    };
    let body = match colleague {
        None => {
            // Step 2: with whom?
            html! {
                (yours)
                form method="get" action="/swaps/new" {
                    input type="hidden" name="rotation" value=(rot.id);
                    input type="hidden" name="slot" value=(slot);
                    p {
                        label for="counterpart" { "Colleague" } br;
                        select #counterpart name="counterpart" {
                            @for m in rot.members.iter().filter(|m| **m != sess.person) {
                                option value=(m) { (s.person(m).map_or(m.as_str(), |p| p.name.as_str())) }
                            }
                        }
                    }
                    p { button type="submit" { "Next: choose their shift" } }
                }
                p { a href=(paths::ME) { "Back to your page" } }
            }
        }
        Some(them) => {
            // Step 3: a cover, or a trade for one of their shifts that can be traded.
            let theirs = tradeable_slots(s, rot, &them.id, Some(slot), now);
            // A part asked for in the query (a suggestion for a partial absence): a day offered
            // is pre-selected; any other part fills the range, on the rotation's clock.
            let days = day_parts(rot, mine.start, mine.end);
            let civil = |t: &str| {
                t.parse::<chrono::DateTime<chrono::Utc>>().ok().map(|t| {
                    t.with_timezone(&rot.timezone)
                        .format("%Y-%m-%dT%H:%M")
                        .to_string()
                })
            };
            let day_value =
                |(a, b): &(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)| {
                    format!("{}/{}", rota_core::view::utc(*a), rota_core::view::utc(*b))
                };
            let asked = q.part.as_deref().and_then(|p| p.split_once('/'));
            let chosen = asked
                .map(|(a, b)| format!("{a}/{b}"))
                .filter(|v| days.iter().any(|d| day_value(d) == *v));
            let range = match (asked, &chosen) {
                (Some((a, b)), None) => civil(a).zip(civil(b)),
                _ => None,
            };
            let their_part = q.their_part.as_deref().and_then(|p| p.split_once('/'));
            html! {
                (yours)
                form method="post" action="/swaps/new" {
                    (auth::csrf_field(&state, &sess))
                    input type="hidden" name="rotation" value=(rot.id);
                    input type="hidden" name="my_slot" value=(slot);
                    input type="hidden" name="counterpart" value=(them.id);
                    // A suggestion's part of their shift goes with the shift it was suggested
                    // for (`their_part_slot`): choosing another shift, or a cover, drops it.
                    @if let (Some((a, b)), Some(ts), false) = (their_part, q.their_slot, started) {
                        input type="hidden" name="their_start" value=(a);
                        input type="hidden" name="their_end" value=(b);
                        input type="hidden" name="their_part_slot" value=(ts);
                        p.muted { "With the suggested shift, you would take part of it: "
                            (civil(a).unwrap_or_else(|| a.to_string())) " to "
                            (civil(b).unwrap_or_else(|| b.to_string())) " (" (rot.timezone.name()) ")." }
                    }
                    p { "Colleague: " strong { (them.name) } " · "
                        a href=(paths::swap_form(&rot.id, slot, None)) { "choose another" } }
                    @if started {
                        input type="hidden" name="kind" value="cover";
                        // The part of the shift running now, when the link gave it (the rest of
                        // the slot may be someone else's already).
                        @if let Some(p) = q.part.as_deref() { input type="hidden" name="part" value=(p); }
                        @let until = asked
                            .and_then(|(_, b)| b.parse::<chrono::DateTime<chrono::Utc>>().ok())
                            .unwrap_or(mine.end);
                        p.hero { "This shift has started. " (them.name) " would take over the rest of it, "
                            "from when they accept until " (local(until, rot)) " (" (rot.timezone.name()) "); "
                            "the request says it is urgent, and lapses when the shift ends." }
                    } @else {
                        p {
                            label for="their_slot" { "What you ask of " (them.name) } br;
                            select #their_slot name="their_slot" {
                                option value="" { "A cover: they take my shift" }
                                @for x in &theirs {
                                    option value=(x.slot) selected[q.their_slot == Some(x.slot)] {
                                        (local(x.start, rot)) " – " (x.person.name)
                                    }
                                }
                            }
                        }
                        @if theirs.is_empty() {
                            p.muted { (them.name) " has no shift in the next " (SWAP_FORM_WEEKS)
                                " weeks that can be traded: you can ask for a cover." }
                        } @else {
                            p.muted { "A trade: they take yours and you take the one you choose. \
                                       Times in " (rot.timezone.name()) "." }
                        }
                        fieldset {
                            legend { "Which part of your shift?" }
                            p { label { input type="radio" name="part" value="all" checked[chosen.is_none() && range.is_none()]; " All of it" } }
                            @for (a, b) in &days {
                                @let value = format!("{}/{}", rota_core::view::utc(*a), rota_core::view::utc(*b));
                                p { label {
                                    input type="radio" name="part" value=(value) checked[chosen.as_deref() == Some(value.as_str())];
                                    " " (local(*a, rot)) " to " (local(*b, rot))
                                } }
                            }
                            p { label { input type="radio" name="part" value="range" checked[range.is_some()]; " From … to …" } }
                            p {
                                label for="from" { "From" } " "
                                input #from type="datetime-local" name="from" value=[range.as_ref().map(|r| r.0.clone())];
                                " " label for="to" { "to" } " "
                                input #to type="datetime-local" name="to" value=[range.as_ref().map(|r| r.1.clone())];
                                " " span.muted { "(" (rot.timezone.name()) ", whole minutes, at least "
                                    (swaps::MIN_PART_MINUTES) " minutes)" }
                            }
                        }
                    }
                    p { button type="submit" { "Send request" } }
                }
                p { a href=(paths::ME) { "Back to your page" } }
            }
        }
    };
    Ok(respond(
        StatusCode::OK,
        layout("Swap a shift", me_name, body),
    ))
}

#[derive(Deserialize)]
pub(crate) struct NewSwapForm {
    #[serde(default)]
    csrf: String,
    rotation: String,
    my_slot: u64,
    /// `trade` or `cover`; without it, a trade when `their_slot` is given.
    kind: Option<String>,
    counterpart: String,
    #[serde(default)]
    their_slot: String,
    /// Which part of my shift: `all` (or nothing), `START/END` (a day offered), or `range`
    /// with `from` and `to` (civil times in the rotation's zone).
    #[serde(default)]
    part: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// A part of their shift (a suggestion's trade-back), RFC 3339, for their shift
    /// `their_part_slot` only.
    #[serde(default)]
    their_start: String,
    #[serde(default)]
    their_end: String,
    #[serde(default)]
    their_part_slot: String,
}

/// `POST /swaps/new`
pub(crate) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<NewSwapForm>,
) -> PageResult {
    let sess = auth::check_form(&state, &req, &form.csrf).await?;
    let f = form.into_inner();
    let their_slot = match f.their_slot.trim() {
        "" => None,
        t => Some(t.parse().map_err(|_| {
            PageError::new(StatusCode::BAD_REQUEST, "their shift is not a shift number")
        })?),
    };
    let kind = match (f.kind.as_deref(), their_slot) {
        (Some("trade"), _) | (None, Some(_)) => SwapKind::Trade,
        (Some("cover"), _) | (None, None) => SwapKind::Cover,
        (Some(other), _) => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                format!("kind must be trade or cover, not {other:?}"),
            ));
        }
    };
    let given = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    // The part of their shift applies to the shift it came with, and only to a trade.
    let their_part = their_slot.is_some_and(|t: u64| f.their_part_slot.trim() == t.to_string());
    let (start, end) = match f.part.trim() {
        "" | "all" => (None, None),
        "range" => match (given(&f.from), given(&f.to)) {
            (Some(a), Some(b)) => (Some(a), Some(b)),
            _ => {
                return Err(PageError::new(
                    StatusCode::BAD_REQUEST,
                    "for a part of your shift, give both From and To",
                ));
            }
        },
        day => match day.split_once('/') {
            Some((a, b)) => (given(a), given(b)),
            None => {
                return Err(PageError::new(
                    StatusCode::BAD_REQUEST,
                    format!("{day:?} is not a part of your shift"),
                ));
            }
        },
    };
    let body = SwapBody {
        rotation: f.rotation,
        kind,
        my_slot: f.my_slot,
        counterpart: f.counterpart,
        their_slot,
        on_behalf_of: None,
        start,
        end,
        their_start: their_part.then(|| given(&f.their_start)).flatten(),
        their_end: their_part.then(|| given(&f.their_end)).flatten(),
    };
    let r = swaps::propose(&state, sess.person, body).await?;
    Ok(redirect(&paths::swap(&r.id)))
}

/// `GET /swaps/{id}`: the request, with accept / decline / cancel buttons for whoever may.
pub(crate) async fn request_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> PageResult {
    let sess = match auth::require(&state, &req).await? {
        Ok(s) => s,
        Err(to_signin) => return Ok(to_signin),
    };
    let (r, admin) = swaps::load(&state, &sess.person, path.into_inner()).await?;
    let snap = state.snapshot();
    let s = &snap.schedule;
    let now = state.now();
    let pending = r.state_at(now) == SwapState::Pending;
    let stale = pending && swaps::is_stale(s, &r);
    let can_decide = pending && (r.counterpart == sess.person || admin);
    let can_cancel =
        pending && (r.requester == sess.person || r.created_by == sess.person || admin);
    // Undo (before the first shift starts): a party asks, the other agrees; an admin at once.
    let party = r.requester == sess.person || r.counterpart == sess.person;
    let undoable = r.state == SwapState::Accepted
        && r.slots()
            .iter()
            .map(|x| x.start)
            .min()
            .is_some_and(|t| t > now);
    let undo_label = match &r.undo_requested_by {
        Some(asker) if asker != &sess.person && (party || admin) => Some("Agree to undo it"),
        None if party => Some("Ask to undo it"),
        None if admin => Some("Undo it"),
        _ => None,
    }
    .filter(|_| undoable);
    let button = |verb: &str, label: &str| {
        html! {
            form method="post" action=(paths::swap_action(&r.id, verb)) style="display:inline" {
                (auth::csrf_field(&state, &sess))
                button type="submit" { (label) } " "
            }
        }
    };
    let rot_shifts = s.rotation(&r.rotation).map(|rot| {
        let shifts: Vec<rota_core::Shift<'_>> = r
            .slots()
            .iter()
            .flat_map(|sl| s.shifts(&rot.id, sl.start, sl.end).unwrap_or_default())
            .collect();
        (rot, shifts)
    });
    let body = html! {
        h1 { "Swap request" }
        p { (super::me::describe(s, &r)) }
        p { "State: " span.tag { (r.state_at(now).as_str()) } ". Expires "
            (r.expires_at().format("%Y-%m-%d %H:%M UTC")) "." }
        @if let (SwapState::Accepted, Some(asker)) = (r.state, &r.undo_requested_by) {
            p role="status" {
                (s.person(asker).map_or(asker.as_str(), |p| p.name.as_str()))
                " asked to undo this swap; it stands until the other side agrees."
            }
        }
        @if stale {
            p.warn role="alert" {
                strong { "This request is out of date." }
                " The schedule of its shifts changed since it was made (another override or swap, \
                  or an edit of the schedule files), so it can no longer be accepted. Ask for a new one."
            }
        }
        @if let Some((rot, shifts)) = &rot_shifts {
            h2 { "Who is on call in these shifts now" }
            div.scroll tabindex="0" role="region" aria-label="Who is on call in these shifts" { table {
                thead { tr { th { "From" } th { "To" } th { "Who" } } }
                tbody { @for x in shifts { tr {
                    td { (local(x.start, rot)) } td { (local(x.end, rot)) " " (zone(rot)) }
                    td { (x.person.name) (source_tag(x)) }
                } } }
            } }
        }
        p {
            @if can_decide && !stale { (button("accept", "Accept")) }
            @if can_decide { (button("decline", "Decline")) }
            @if can_cancel { (button("cancel", "Cancel request")) }
            @if let Some(label) = undo_label { (button("undo", label)) }
        }
        p { a href=(paths::ME) { "Your page" } " · " a href=(paths::SCHEDULE) { "Schedule" } }
    };
    let name = s.person(&sess.person).map(|p| p.name.as_str());
    Ok(respond(StatusCode::OK, layout("Swap request", name, body)))
}

/// `POST /swaps/{id}/{accept|decline|cancel|undo}`
pub(crate) async fn action(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<auth::CsrfForm>,
) -> PageResult {
    let sess = auth::check_form(&state, &req, &form.csrf).await?;
    let (id, verb) = path.into_inner();
    let back = paths::swap(&id);
    match verb.as_str() {
        "accept" => swaps::accept(&state, &sess.person, id).await?,
        "decline" => swaps::decide_as(&state, &sess.person, id, SwapState::Declined).await?,
        "cancel" => swaps::decide_as(&state, &sess.person, id, SwapState::Cancelled).await?,
        "undo" => swaps::undo(&state, &sess.person, id).await?.1,
        _ => return Err(ApiError::not_found(format!("there is no action {verb:?}")).into()),
    };
    Ok(redirect(&back))
}
