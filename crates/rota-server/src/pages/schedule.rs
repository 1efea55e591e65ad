//! `GET /`: who is the hero now, and the next [`SCHEDULE_WEEKS`] weeks of every rotation with
//! overrides and links marked (after the hero's time outside their working hours, when people give
//! them), then the conflicts section. The tables show one row per stretch
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
        @if let Some(hero) = s.hero_rotation() {
            (coverage_section(s, hero, now))
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

/// The most rows the coverage section shows.
const COVERAGE_ROWS: usize = 40;

/// The next two weeks of the hero rotation's time outside the on-call person's working hours, and
/// who is at work then (`rota_core::coverage`); nothing when nobody gave working hours.
fn coverage_section(s: &Schedule, hero: &Rotation, now: DateTime<Utc>) -> Markup {
    if s.people().iter().all(|p| p.hours.is_none()) {
        return html! {};
    }
    let list = s
        .coverage(&hero.id, now, now + Duration::weeks(2))
        .unwrap_or_default();
    let rows: Vec<(&str, &rota_core::Gap<'_>)> = list
        .iter()
        .flat_map(|c| {
            c.gaps
                .iter()
                .map(move |g| (c.shift.person.name.as_str(), g))
        })
        .filter(|(_, g)| g.end > now)
        .take(COVERAGE_ROWS)
        .collect();
    let mut unknown: Vec<&str> = list
        .iter()
        .filter(|c| !c.hours_known)
        .map(|c| c.shift.person.name.as_str())
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    html! {
        h2 id="coverage" { "Outside the " (hero.name) "'s hours" }
        p.muted {
            "The next two weeks: when the person on call is outside their working hours, and who is "
            "inside theirs then. Times in " (hero.timezone.name()) "."
        }
        @if rows.is_empty() && list.iter().any(|c| c.hours_known) {
            p { "Nothing: every shift whose person gave working hours lies inside them." }
        } @else if !rows.is_empty() {
            div.scroll tabindex="0" role="region" aria-label="Outside the hero's hours" {
                table {
                    thead { tr { th { "From" } th { "To" } th { "On call" } th { "At work" } } }
                    tbody {
                        @for (who, g) in &rows {
                            tr {
                                td { (local(g.start, hero)) }
                                td { (local(g.end, hero)) }
                                td { (who) }
                                td {
                                    @if g.available.is_empty() { span.muted { "nobody" } }
                                    @else { (g.available.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !unknown.is_empty() {
            p.muted { "No working hours given for: " (unknown.join(", ")) "." }
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
