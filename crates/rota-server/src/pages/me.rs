//! `GET /me`: your next shift first (when, which rotation, who hands over to you; while you are on
//! call, a link to the shift's page for handoff notes), then your shifts with a swap link each,
//! your swap requests, and your calendar subscription.
//!
//! Shifts show as *stretches* (`rota_core::stretch`): a person's continuous time in one rotation,
//! so a weekly hero week that a link carries into a daily secondary is one secondary row, not
//! seven. A stretch spans several slots but a swap names one, so each row's swap link goes to
//! `swap_link`'s slot.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use chrono::{DateTime, Duration, Utc};
use maud::{Markup, html};
use rota_core::{Schedule, Stretch, stretches};
use rota_store::SwapRequest;

use super::{PageResult, SWAP_FORM_WEEKS, auth, blocking, layout, local, respond, stretch_tags};
use crate::paths;
use crate::state::AppState;

/// What a swap request is, in a sentence.
pub(crate) fn describe(s: &Schedule, r: &SwapRequest) -> String {
    let name = |p: &str| s.person(p).map_or(p.to_string(), |x| x.name.clone());
    let rot = s.rotation(&r.rotation);
    let when = |start: DateTime<Utc>| {
        rot.map_or(start.to_rfc3339(), |rot| {
            format!("{} ({})", local(start, rot), rot.timezone.name())
        })
    };
    let rot_name = rot.map_or(r.rotation.as_str(), |x| x.name.as_str());
    // A whole slot is named by its start; a part by both ends.
    let span = |sl: &rota_store::SwapSlot| {
        let whole = s
            .base_shift(&r.rotation, sl.slot)
            .ok()
            .flatten()
            .is_some_and(|b| b.start == sl.start && b.end == sl.end);
        if whole {
            format!("shift of {}", when(sl.start))
        } else {
            let start = rot.map_or(sl.start.to_rfc3339(), |rot| local(sl.start, rot));
            format!("shift from {start} to {}", when(sl.end))
        }
    };
    if r.is_take_over() {
        return format!(
            "{} takes over the rest of {}'s {rot_name} shift, from when it is accepted until {}",
            name(&r.counterpart),
            name(&r.requester),
            when(r.requester_slot.end)
        );
    }
    match &r.counterpart_slot {
        Some(c) => format!(
            "{} takes {}'s {rot_name} {}, and {} takes {}'s {}",
            name(&r.counterpart),
            name(&r.requester),
            span(&r.requester_slot),
            name(&r.requester),
            name(&r.counterpart),
            span(c)
        ),
        None => format!(
            "{} covers {}'s {rot_name} {}",
            name(&r.counterpart),
            name(&r.requester),
            span(&r.requester_slot)
        ),
    }
}

/// Where a stretch's swap link goes, and what it says.
///
/// - A stretch a link made (the hero's week carried into their team's secondary) goes to the hero
///   slot that causes it. Trading one linked secondary slot would trade one day of a daily
///   secondary and leave the person hero (and so on call) for the rest; what someone who cannot
///   do the week needs is to trade the hero week, which moves the linked stretch with it.
/// - Any other stretch goes to its first slot in its own rotation. When the stretch spans several
///   slots the form trades that first one; the others are a swap each.
pub(crate) fn swap_link(s: &Schedule, x: &Stretch<'_>) -> (String, String) {
    if x.is_link_made()
        && let Some(cause) = s.link_cause(x.first())
    {
        return (
            paths::swap_form(&cause.rotation.id, cause.slot, None),
            format!("Swap via {}…", cause.rotation.name),
        );
    }
    (
        paths::swap_form(&x.rotation.id, x.first_slot(), None),
        "Swap…".to_string(),
    )
}

/// The "your next shift" box: the stretches you are on now, or else the next ones to start
/// (several when, say, a hero week also makes you your team's secondary), the hero rotation
/// first, each with who hands it over to you.
fn next_shift(s: &Schedule, me: &str, shifts: &[Stretch<'_>], now: DateTime<Utc>) -> Markup {
    let current: Vec<&Stretch<'_>> = shifts.iter().filter(|x| x.contains(now)).collect();
    if !current.is_empty() {
        return html! {
            p.hero {
                strong { "You are on call now" }
                @for (i, x) in current.iter().enumerate() {
                    (if i == 0 { " in " } else { "; in " }) (x.rotation.name) " until "
                    (local(x.end, x.rotation)) " " span.muted { "(" (x.rotation.timezone.name()) ")" }
                }
                "."
                // Cannot go on ("I'm sick")? Ask someone to take over the rest: a cover of the
                // slot running now (a take-over), for the shifts of your own turn in a rotation.
                // The piece running now, to its end: a later part of the slot someone else
                // already covers is not asked for again.
                // What is still open at the end goes into a handoff note on the shift's page.
                @for x in current.iter() {
                    @if let Some(y) = x.pieces().iter().find(|y| y.start <= now && now < y.end) {
                        " " a href=(paths::shift(&x.rotation.id, y.slot)) {
                            "Handoff notes for " (x.rotation.name)
                        }
                    }
                }
                @for x in current.iter().filter(|x| !x.is_link_made()) {
                    @if let Some(y) = x.pieces().iter().find(|y| y.start <= now && now < y.end) {
                        @let (a, b) = (rota_core::view::utc(y.start), rota_core::view::utc(y.end));
                        " " a href=(paths::swap_form_parts(&x.rotation.id, y.slot, None, Some((&a, &b)), None)) {
                            "Ask someone to take over " (x.rotation.name) " now"
                        }
                    }
                }
            }
        };
    }
    let Some(first) = shifts.iter().find(|x| x.start > now) else {
        return html! {
            p.hero { "You have no shifts in the next " (SWAP_FORM_WEEKS) " weeks." }
        };
    };
    let hero = s.hero_rotation().map(|h| h.id.as_str());
    let mut next: Vec<&Stretch<'_>> = shifts.iter().filter(|x| x.start == first.start).collect();
    next.sort_by_key(|x| (Some(x.rotation.id.as_str()) != hero, x.rotation.id.as_str()));
    let handed_by = |x: &Stretch<'_>| {
        s.on_call(&x.rotation.id, x.start - Duration::seconds(1))
            .ok()
            .flatten()
            .filter(|h| h.person.id != me)
            .map(|h| h.person.name.clone())
    };
    html! {
        p.hero {
            strong { "Your next shift" }
            @for (i, x) in next.iter().enumerate() {
                (if i == 0 { ": " } else { "; and " }) (x.rotation.name) ", " (local(x.start, x.rotation))
                " to " (local(x.end, x.rotation)) " " span.muted { "(" (x.rotation.timezone.name()) ")" }
                @if let Some(h) = handed_by(x) { ". " (h) " hands over to you" }
            }
            "."
        }
    }
}

/// The "your shifts" table: one row per stretch, marked when the person's absence calendars say
/// they are away for some of it, with a swap link ([`swap_link`]) unless it has started.
pub(crate) fn shift_table(
    s: &Schedule,
    me: &str,
    shifts: &[Stretch<'_>],
    off: &rota_core::timeoff::TimeOff,
    now: DateTime<Utc>,
) -> Markup {
    html! {
        div.scroll tabindex="0" role="region" aria-label="Your shifts" {
            table {
                thead { tr { th { "Rotation" } th { "From" } th { "To" } th { span.muted { "Action" } } } }
                tbody {
                    @for x in shifts {
                        tr {
                            td {
                                (x.rotation.name) (stretch_tags(x))
                                @if !off.is_free(me, x.start, x.end) {
                                    " " span.tag.override title="your absence calendar says you are away during this shift" { "away" }
                                }
                            }
                            td { (local(x.start, x.rotation)) }
                            td { (local(x.end, x.rotation)) " " span.muted { "(" (x.rotation.timezone.name()) ")" } }
                            td {
                                @if x.start > now {
                                    @let (href, label) = swap_link(s, x);
                                    a href=(href) { (label) }
                                } @else { "on call now" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /me`
pub(crate) async fn page(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    let sess = match auth::require(&state, &req).await? {
        Ok(s) => s,
        Err(to_signin) => return Ok(to_signin),
    };
    let snap = state.snapshot();
    let s = &snap.schedule;
    let now = state.now();
    let Some(person) = s.person(&sess.person) else {
        return Ok(super::redirect(&paths::signin(Some(paths::ME))));
    };
    let to = now + Duration::weeks(SWAP_FORM_WEEKS);
    let shifts = stretches(&s.shifts_for_person(&person.id, now, to).unwrap_or_default());
    // Shifts their absence calendars say they are away for are marked; the swap form then
    // suggests who to ask.
    let off = state.calendars().time_off_of(&person.id, now, to);
    let st = state.clone();
    let who = person.id.clone();
    let requests = blocking(move || st.store().swaps(Some(&who))).await?;
    let st = state.clone();
    let who = person.id.clone();
    let feed_token = blocking(move || st.store().feed_token(&who)).await?;
    let feed = format!(
        "{}{}",
        auth_origin(&req),
        paths::person_feed(&person.id, &feed_token)
    );
    let webcal = feed
        .split_once("://")
        .map_or(feed.clone(), |(_, rest)| format!("webcal://{rest}"));
    let body = html! {
        h1 { (person.name) }
        form method="post" action="/signout" {
            (auth::csrf_field(&state, &sess))
            p.muted { "Signed in as " (person.id) ". " button type="submit" { "Sign out" } }
        }
        (next_shift(s, &person.id, &shifts, now))
        h2 { "Your shifts" }
        (shift_table(s, &person.id, &shifts, &off, now))
        h2 { "Swap requests" }
        @if requests.is_empty() {
            p.muted { "None." }
        } @else {
            ul {
                @for r in &requests {
                    li {
                        a href=(paths::swap(&r.id)) { (describe(s, r)) }
                        " " span.tag { (r.state_at(now).as_str()) }
                    }
                }
            }
        }
        h2 { "Calendar" }
        p {
            "Subscribe to all your shifts: " a href=(webcal) { "webcal link" }
            " (or add " code style="overflow-wrap:anywhere" { (feed) } " to your calendar). The link is secret."
        }
    };
    Ok(respond(
        StatusCode::OK,
        layout(&format!("{} – rota", person.name), Some(&person.name), body),
    ))
}

fn auth_origin(req: &HttpRequest) -> String {
    req.app_data::<web::Data<auth::PagesConfig>>()
        .map(|c| c.origin(req))
        .unwrap_or_else(|| auth::PagesConfig::default().origin(req))
}
