//! Handoff notes: what the person on call leaves for whoever comes next, on the pages
//! (`/shifts/{rotation}/{slot}`), through the API (`/api/v1/rotations/{id}/shifts/{slot}/notes`)
//! and with Slack's `/handoff`. All three call [`write`], so they authorise alike.
//!
//! - **Whose shift.** A note belongs to one shift of a rotation: slot `slot`, from one handoff to
//!   the next (the numbering of `/api/v1/rotations/{id}/shifts` and the swap form). Whoever is on
//!   call in some part of it may write (the rotation's person, someone an override or a swap put
//!   there, the hero a link made the secondary), from the moment their part starts until
//!   [`LATE_HOURS`] after it ends, so a note remembered after the handoff still counts. Admins
//!   may write on any shift. Notes are never edited or deleted: a correction is another note.
//! - **Where it goes.** The shift's page; the handoff message in Slack and the `handoff` webhook
//!   of the next shift (written when the handoff happens, so with the notes written by then); the
//!   email the next person gets at the handoff (sent once, when the shift they take over has
//!   notes, also if the first note is written within [`LATE_HOURS`] after the handoff); and the
//!   audit log (`note.create`, with the text).
//! - **Reading.** Notes may name customers and incidents: reading them needs a token (the API)
//!   or a sign-in (the pages), as writing does. Slack's handoff message goes to the channel the
//!   schedule names.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use rota_core::{Schedule, Shift};
use rota_store::HandoffNote;
use serde::{Deserialize, Serialize};

use crate::api::{caller, json_body, unknown};
use crate::{ApiError, AppState};

/// How long after their part of a shift ends someone may still add a note to it.
pub const LATE_HOURS: i64 = 24;

/// The shifts `person` may write a note on at `now`: each (rotation, slot) in which they are on
/// call in a part that has started and ended at most [`LATE_HOURS`] ago; the part running now
/// first, then the latest.
pub fn writable<'s>(s: &'s Schedule, person: &str, now: DateTime<Utc>) -> Vec<Shift<'s>> {
    let from = now - Duration::hours(LATE_HOURS);
    let mut pieces: Vec<Shift<'s>> = s
        .shifts_for_person(person, from, now + Duration::seconds(1))
        .unwrap_or_default()
        .into_iter()
        .filter(|x| x.start <= now && x.end > from)
        .collect();
    pieces.sort_by_key(|x| (!x.contains(now), std::cmp::Reverse(x.end)));
    let mut out: Vec<Shift<'s>> = Vec::new();
    for x in pieces {
        if !out
            .iter()
            .any(|y| y.rotation.id == x.rotation.id && y.slot == x.slot)
        {
            out.push(x);
        }
    }
    out
}

/// Whether `who` may write a note on slot `slot` of `rotation` at `now` (see the module doc).
pub fn may_write(s: &Schedule, who: &str, rotation: &str, slot: u64, now: DateTime<Utc>) -> bool {
    s.is_admin(who)
        || writable(s, who, now)
            .iter()
            .any(|x| x.rotation.id == rotation && x.slot == slot)
}

/// The planned bounds of slot `slot` of `rotation`, or the 404 that names what is wrong.
pub(crate) fn shift_bounds(
    s: &Schedule,
    rotation: &str,
    slot: u64,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    if s.rotation(rotation).is_none() {
        return Err(ApiError::not_found(unknown(s, "rotation", rotation)));
    }
    match s.base_shift(rotation, slot) {
        Ok(Some(b)) => Ok((b.start, b.end)),
        _ => Err(ApiError::not_found(format!(
            "rotation {rotation} has no shift {slot}"
        ))),
    }
}

/// Adds a note by `who` to slot `slot` of `rotation`: the one way the pages, the API and Slack
/// write one.
pub(crate) async fn write(
    state: &AppState,
    who: &str,
    rotation: &str,
    slot: u64,
    text: &str,
) -> Result<HandoffNote, ApiError> {
    let snap = state.snapshot();
    let s = &snap.schedule;
    shift_bounds(s, rotation, slot)?;
    let now = state.now();
    if !may_write(s, who, rotation, slot, now) {
        return Err(ApiError::forbidden(format!(
            "{who} is not on call in shift {slot} of {rotation}: handoff notes are written by \
             whoever is on call in the shift, from when their part starts until {LATE_HOURS} \
             hours after it ends (admins may write on any shift)"
        )));
    }
    // Checked here too, so a refusal names the field before the store is asked.
    rota_store::clean_note(text).map_err(|e| ApiError::field("text", e.to_string()))?;
    let st = state.clone();
    let (who, rotation, text) = (who.to_string(), rotation.to_string(), text.to_string());
    let note = web::block(move || st.store().add_note(&rotation, slot, &who, &text, now))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))??;
    tracing::info!(id = %note.id, rotation = %note.rotation, slot = note.slot, by = %note.author, "handoff note written");
    Ok(note)
}

/// The notes on slot `slot` of `rotation`, oldest first.
pub(crate) async fn read(
    state: &AppState,
    rotation: &str,
    slot: u64,
) -> Result<Vec<HandoffNote>, ApiError> {
    let st = state.clone();
    let rotation = rotation.to_string();
    web::block(move || st.store().notes(&rotation, slot))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
        .map_err(ApiError::from)
}

/// A shift's handoff notes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NotesView {
    /// The rotation.
    rotation: String,
    /// The shift's index.
    slot: u64,
    /// The shift's planned start (RFC 3339, UTC).
    start: String,
    /// The shift's planned end.
    end: String,
    /// Oldest first.
    notes: Vec<HandoffNote>,
}

/// The body of `POST .../notes`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The note: plain text, at most 4,000 characters; line breaks are kept.
    text: String,
}

/// Registers the notes routes in the API scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/rotations/{id}/shifts/{slot}/notes",
        crate::get().to(list_notes),
    )
    .route(
        "/rotations/{id}/shifts/{slot}/notes",
        web::post().to(create_note),
    );
}

/// `GET /api/v1/rotations/{id}/shifts/{slot}/notes`
#[utoipa::path(
    get,
    path = "/api/v1/rotations/{id}/shifts/{slot}/notes",
    tag = "notes",
    params(
        ("id" = String, Path, description = "Rotation id"),
        ("slot" = u64, Path, description = "The shift's index, as in /rotations/{id}/shifts", minimum = 0)
    ),
    responses(
        (status = 200, description = "The shift's handoff notes", body = NotesView),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation or shift", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_notes(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, u64)>,
) -> Result<HttpResponse, ApiError> {
    caller(&state, &req).await?;
    let (rotation, slot) = path.into_inner();
    let (start, end) = shift_bounds(&state.snapshot().schedule, &rotation, slot)?;
    let notes = read(&state, &rotation, slot).await?;
    Ok(HttpResponse::Ok().json(NotesView {
        rotation,
        slot,
        start: rota_core::view::utc(start),
        end: rota_core::view::utc(end),
        notes,
    }))
}

/// `POST /api/v1/rotations/{id}/shifts/{slot}/notes`
#[utoipa::path(
    post,
    path = "/api/v1/rotations/{id}/shifts/{slot}/notes",
    tag = "notes",
    params(
        ("id" = String, Path, description = "Rotation id"),
        ("slot" = u64, Path, description = "The shift's index, as in /rotations/{id}/shifts", minimum = 0)
    ),
    request_body(content = NoteBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The note, stored", body = HandoffNote),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not on call in that shift", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rotation or shift", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The shift has as many notes as it keeps", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 16 KiB", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create_note(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, u64)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let who = caller(&state, &req).await?;
    let b: NoteBody = json_body(&req, &body)?;
    let (rotation, slot) = path.into_inner();
    let note = write(&state, &who, &rotation, slot, &b.text).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!(
                "/api/v1/rotations/{}/shifts/{slot}/notes",
                crate::paths::encode(&rotation)
            ),
        ))
        .json(note))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::http::header;
    use actix_web::test as at;
    use actix_web::web;
    use chrono::{DateTime, Duration, Utc};
    use serde_json::Value;

    use crate::swaps::tests::{Hand, state};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn post(uri: &str, token: &str, body: &str) -> actix_http::Request {
        at::TestRequest::post()
            .uri(uri)
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body.to_string())
            .to_request()
    }

    /// Whoever is on call in a shift (the rotation's person, or someone an override put in part
    /// of it) writes its notes, until 24 hours after their part ends; admins on any shift;
    /// everyone else is refused. Reading needs a token.
    #[actix_web::test]
    async fn notes_are_written_by_whoever_is_on_call_in_the_shift_and_read_with_a_token() {
        let dir = tempfile::tempdir().unwrap();
        // Support Hero slot 3 runs from Monday 23 November 09:00 London (alice's turn ends then).
        let now = t("2026-11-25T10:00:00Z");
        let clock = Arc::new(Hand(Mutex::new(now)));
        let st = state(dir.path(), clock.clone());
        let snap = st.snapshot();
        let hero = snap.schedule.on_call("support-hero", now).unwrap().unwrap();
        let (p, slot, end) = (hero.person.id.clone(), hero.slot, hero.end);
        // Someone on call nowhere in the last day, and not an admin.
        let q = snap
            .schedule
            .people()
            .iter()
            .map(|x| x.id.clone())
            .find(|x| {
                super::writable(&snap.schedule, x, now).is_empty() && !snap.schedule.is_admin(x)
            })
            .expect("someone off call");
        drop(snap);
        let token = |who: &str| st.store().issue_token(who, "test", now).unwrap().token;
        let (tp, tq, admin) = (token(&p), token(&q), token("alice"));
        let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
        let uri = format!("/api/v1/rotations/support-hero/shifts/{slot}/notes");

        let res = at::call_service(&app, post(&uri, &tq, r#"{"text":"not mine"}"#)).await;
        assert_eq!(res.status(), 403);
        let problem: Value = at::read_body_json(res).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("not on call"),
            "{problem}"
        );

        let res = at::call_service(
            &app,
            post(
                &uri,
                &tp,
                r#"{"text":"Ticket 4411 waits for the customer.\nDeploy is half done."}"#,
            ),
        )
        .await;
        assert_eq!(res.status(), 201);
        let note: Value = at::read_body_json(res).await;
        assert_eq!(note["author"], p.as_str());
        assert_eq!(note["slot"], slot);

        // Bad bodies name the field; unknown shifts are 404.
        for (body, status) in [
            (r#"{"text":"   "}"#, 400),
            (r#"{"text":"x","extra":1}"#, 400),
            ("not json", 400),
        ] {
            let res = at::call_service(&app, post(&uri, &tp, body)).await;
            assert_eq!(res.status(), status, "{body}");
        }
        let res = at::call_service(
            &app,
            post(&uri, &tp, &format!(r#"{{"text":"{}"}}"#, "x".repeat(4001))),
        )
        .await;
        assert_eq!(res.status(), 400);
        let problem: Value = at::read_body_json(res).await;
        assert_eq!(problem["field"], "text", "{problem}");
        for bad in [
            "/api/v1/rotations/nope/shifts/1/notes",
            "/api/v1/rotations/support-hero/shifts/18446744073709551615/notes",
        ] {
            let res = at::call_service(&app, post(bad, &admin, r#"{"text":"x"}"#)).await;
            assert_eq!(res.status(), 404, "{bad}");
        }

        // Reading: a token, then the shift's notes.
        let res = at::call_service(&app, at::TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(res.status(), 401);
        let res = at::call_service(
            &app,
            at::TestRequest::get()
                .uri(&uri)
                .insert_header((header::AUTHORIZATION, format!("Bearer {tq}")))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
        let view: Value = at::read_body_json(res).await;
        assert_eq!(view["notes"].as_array().unwrap().len(), 1);
        assert_eq!(
            view["notes"][0]["text"],
            "Ticket 4411 waits for the customer.\nDeploy is half done."
        );
        assert_eq!(view["end"], rota_core::view::utc(end));

        // An admin may write on any shift.
        let res = at::call_service(
            &app,
            post(
                &uri.replace(&format!("/{slot}/"), &format!("/{}/", slot + 5)),
                &admin,
                r#"{"text":"ahead"}"#,
            ),
        )
        .await;
        assert_eq!(res.status(), 201);

        // Someone an override puts in part of the shift writes on it too.
        st.store()
            .add_override(
                rota_store::NewOverride {
                    rotation: "support-hero".into(),
                    person: q.clone(),
                    start: now + Duration::hours(1),
                    end: now + Duration::hours(2),
                    reason: None,
                },
                "alice",
                now,
            )
            .unwrap();
        st.rebuild().unwrap();
        let res = at::call_service(&app, post(&uri, &tq, r#"{"text":"too early"}"#)).await;
        assert_eq!(res.status(), 403, "before their part starts");
        *clock.0.lock().unwrap() = now + Duration::minutes(90);
        let res = at::call_service(&app, post(&uri, &tq, r#"{"text":"covered an hour"}"#)).await;
        assert_eq!(res.status(), 201);

        // The late window: 24 hours after the part ends, not after.
        *clock.0.lock().unwrap() = end + Duration::hours(23);
        let res = at::call_service(&app, post(&uri, &tp, r#"{"text":"one more thing"}"#)).await;
        assert_eq!(res.status(), 201);
        *clock.0.lock().unwrap() = end + Duration::hours(25);
        let res = at::call_service(&app, post(&uri, &tp, r#"{"text":"too late"}"#)).await;
        assert_eq!(res.status(), 403);

        // Every note is in the audit log with its text.
        let audit = st.store().audit(100, None).unwrap();
        let texts: Vec<&str> = audit
            .iter()
            .filter(|e| e.action == "note.create")
            .filter_map(|e| e.detail["text"].as_str())
            .collect();
        assert_eq!(
            texts,
            [
                "one more thing",
                "covered an hour",
                "ahead",
                "Ticket 4411 waits for the customer.\nDeploy is half done."
            ]
        );
    }
}
