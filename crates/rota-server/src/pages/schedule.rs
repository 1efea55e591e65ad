//! `GET /`: who is the hero now, and the next [`SCHEDULE_WEEKS`] weeks of every rotation with
//! overrides and links marked, then the conflicts section. The tables show one row per stretch
//! (`rota_core::stretch`): a person's continuous time in the rotation, across handoffs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use chrono::{DateTime, Duration, Utc};
use maud::{Markup, PreEscaped, html};
use rota_core::{Rotation, Schedule, stretches};

use super::{PageResult, SCHEDULE_WEEKS, auth, layout, local, respond, source_tag, stretch_tags};
use crate::paths;
use crate::state::AppState;

/// The schedule's body at `now`.
pub(crate) fn body(s: &Schedule, now: DateTime<Utc>) -> Markup {
    let to = now + Duration::weeks(SCHEDULE_WEEKS);
    let mut rotations: Vec<&Rotation> = s.rotations().iter().collect();
    // The hero rotation first, then the others by id.
    let hero_id = s.hero_rotation().map(|h| h.id.as_str());
    rotations.sort_by_key(|r| (Some(r.id.as_str()) != hero_id, r.id.clone()));
    html! {
        h1 { "On-call schedule" }
        @if let Some(hero) = s.hero_rotation() {
            @match s.on_call(&hero.id, now).ok().flatten() {
                Some(h) => p.hero {
                    (hero.name) " now: " strong { (h.person.name) } (source_tag(&h))
                    " until " (local(h.end, hero)) " " span.muted { "(" (hero.timezone.name()) ")" }
                },
                None => p.hero { (hero.name) " has nobody on call now." },
            }
        }
        @for rot in rotations {
            h2 id=(rot.id) { (rot.name) }
            p.muted {
                "Times in " (rot.timezone.name()) ". "
                a href=(paths::rotation_feed(&rot.id)) { "Calendar feed" }
            }
            div.scroll tabindex="0" role="region" aria-label={ (rot.name) " shifts" } {
                table {
                    thead { tr { th { "From" } th { "To" } th { "Who" } } }
                    tbody {
                        // One row per stretch: a daily secondary during a linked hero week is
                        // one row, not seven.
                        @for x in stretches(&s.shifts(&rot.id, now, to).unwrap_or_default()) {
                            tr.now[x.contains(now)] {
                                td { (local(x.start, rot)) }
                                td { (local(x.end, rot)) }
                                td { (x.person.name) (stretch_tags(&x)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /`
pub(crate) async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    _q: web::Query<crate::ics::NoQuery>,
) -> PageResult {
    let who = auth::session(&state, &req).await?;
    let snap = state.snapshot();
    let now = state.now();
    let st = state.get_ref().clone();
    // Resolving weeks of shifts and expanding calendars is CPU work: off the async workers.
    let html = crate::timeoff::off_worker(move || {
        let conflicts = crate::timeoff::conflicts_section(
            &st,
            &snap.schedule,
            now,
            now + Duration::weeks(SCHEDULE_WEEKS),
        );
        Ok(html! { (body(&snap.schedule, now)) (conflicts) }.into_string())
    })
    .await?;
    let snap = state.snapshot();
    let name = who
        .as_ref()
        .and_then(|w| snap.schedule.person(&w.person))
        .map(|p| p.name.as_str());
    Ok(respond(
        StatusCode::OK,
        layout("On-call schedule", name, html! { (PreEscaped(html)) }),
    ))
}
