//! `GET /shifts/{rotation}/{slot}`: one shift of a rotation (from one handoff to the next): who is
//! on call in it, the handoff notes left on the shift before it and on this one, and, for whoever
//! may write one ([`crate::notes`]), a form to leave a note. `POST .../notes` writes it through
//! the same code as the API and Slack's `/handoff`. Notes may name customers and incidents, so the
//! page asks for a sign-in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use maud::{Markup, html};
use rota_store::{HandoffNote, NOTE_MAX_CHARS};

use super::{PageResult, auth, layout, local, redirect, respond, source_tag};
use crate::notes;
use crate::paths;
use crate::state::AppState;

/// The largest note form taken: [`NOTE_MAX_CHARS`] characters of up to 4 bytes each, every byte
/// percent-encoded (3 characters), and room for the CSRF token.
pub const NOTE_FORM_BYTES: usize = NOTE_MAX_CHARS * 4 * 3 + 1024;

/// The form of `POST /shifts/{rotation}/{slot}/notes`.
#[derive(serde::Deserialize)]
pub(crate) struct NoteForm {
    csrf: String,
    text: String,
}

fn note_list(s: &rota_core::Schedule, notes: &[HandoffNote], rot: &rota_core::Rotation) -> Markup {
    let name = |id: &str| s.person(id).map_or(id.to_string(), |p| p.name.clone());
    html! {
        @if notes.is_empty() {
            p.muted { "None." }
        } @else {
            ul.notes {
                @for n in notes {
                    li {
                        strong { (name(&n.author)) } " " span.muted { (local(n.created_at, rot)) }
                        p.note { (n.text) }
                    }
                }
            }
        }
    }
}

/// `GET /shifts/{rotation}/{slot}`
pub(crate) async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, u64)>,
) -> PageResult {
    let sess = match auth::require(&state, &req).await? {
        Ok(s) => s,
        Err(to_signin) => return Ok(to_signin),
    };
    let (rotation, slot) = path.into_inner();
    let snap = state.snapshot();
    let s = &snap.schedule;
    let (start, end) = notes::shift_bounds(s, &rotation, slot)?;
    let Some(rot) = s.rotation(&rotation) else {
        return Err(crate::ApiError::not_found(format!("no rotation {rotation}")).into());
    };
    let now = state.now();
    // This slot's pieces (another layer may hold time inside it), and its neighbours in time:
    // the shifts before and after, across time with nobody on call (not slot ± 1, which under
    // windows or layers may be empty or another layer's).
    let pieces: Vec<_> = s
        .shifts(&rotation, start, end)
        .unwrap_or_default()
        .into_iter()
        .filter(|x| x.slot == slot)
        .collect();
    let prev_slot = s
        .previous_shift(&rotation, start)
        .ok()
        .flatten()
        .map(|x| x.slot)
        .filter(|&p| p != slot);
    let next_slot = s
        .next_shift(&rotation, end)
        .ok()
        .flatten()
        .map(|x| x.slot)
        .filter(|&n| n != slot);
    let mine = notes::read(&state, &rotation, slot).await?;
    let before = match prev_slot {
        Some(p) => notes::read(&state, &rotation, p).await?,
        None => Vec::new(),
    };
    let may_write = notes::may_write(s, &sess.person, &rotation, slot, now);
    let me = s.person(&sess.person).map(|p| p.name.as_str());
    let body = html! {
        h1 { (rot.name) ": " (local(start, rot)) " to " (local(end, rot)) }
        p.muted { "Times in " (rot.timezone.name()) ". Shift " (slot) " of the rotation." }
        h2 { "Who is on call" }
        div.scroll tabindex="0" role="region" aria-label="Who is on call in this shift" {
            table {
                thead { tr { th { "From" } th { "To" } th { "Who" } } }
                tbody {
                    @for x in &pieces {
                        tr.now[x.contains(now)] {
                            td { (local(x.start, rot)) }
                            td { (local(x.end, rot)) }
                            td { (x.person.name) (source_tag(x)) }
                        }
                    }
                }
            }
        }
        @if prev_slot.is_some() {
            h2 { "Handed over from the shift before" }
            (note_list(s, &before, rot))
        }
        h2 { "Handoff notes on this shift" }
        (note_list(s, &mine, rot))
        @if may_write {
            form method="post" action=(paths::shift_notes(&rotation, slot)) {
                (auth::csrf_field(&state, &sess))
                p {
                    label for="text" { "Leave a note for whoever comes next (what is still open, what to watch):" }
                    br;
                    textarea id="text" name="text" rows="5" cols="60" maxlength=(NOTE_MAX_CHARS) required {}
                }
                p { button type="submit" { "Add the note" } }
                p.muted {
                    "The note goes into the handoff message and the next person's email at the handoff; "
                    "notes are kept and cannot be edited (add another to correct one)."
                }
            }
        } @else {
            p.muted {
                "Whoever is on call in this shift can leave notes here, while it runs and for "
                (notes::LATE_HOURS) " hours after."
            }
        }
        p {
            @if let Some(p) = prev_slot { a href=(paths::shift(&rotation, p)) { "← The shift before" } }
            @if prev_slot.is_some() && next_slot.is_some() { " · " }
            @if let Some(n) = next_slot { a href=(paths::shift(&rotation, n)) { "The shift after →" } }
        }
    };
    Ok(respond(
        StatusCode::OK,
        layout(&format!("{} shift – rota", rot.name), me, body),
    ))
}

/// `POST /shifts/{rotation}/{slot}/notes`
pub(crate) async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, u64)>,
    form: web::Form<NoteForm>,
) -> PageResult {
    let sess = auth::check_form(&state, &req, &form.csrf).await?;
    let (rotation, slot) = path.into_inner();
    notes::write(&state, &sess.person, &rotation, slot, &form.text).await?;
    Ok(redirect(&paths::shift(&rotation, slot)))
}
