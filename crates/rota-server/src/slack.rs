//! Slack slash commands: `POST /integrations/slack/commands`.
//!
//! - `/whoishero`: the Support Hero now, until when, and who is next.
//! - `/oncall [rotation]`: who is on call now in every rotation, or in one (with did-you-mean).
//! - `/handoff [rotation] NOTE`: a handoff note on the caller's shift (see [`crate::notes`]); the
//!   caller is the schedule's person with the email address Slack gives for them (`users.info`).
//!
//! Every request is checked as Slack's "Verifying requests from Slack" says: `X-Slack-Signature`
//! must be `v0=` and the hex HMAC-SHA256, keyed with the signing secret
//! (`ROTA_SLACK_SIGNING_SECRET`), of `v0:{X-Slack-Request-Timestamp}:{body}`, compared in constant
//! time, and the timestamp within 5 minutes of now (a replayed request is refused). Without a
//! signing secret the route answers 404: Slack is off. Answers come from the in-memory schedule,
//! well inside Slack's 3-second limit, and are ephemeral (only the person who asked sees them).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rota_core::{Schedule, Shift};
use sha2::Sha256;

use crate::{ApiError, AppState};

/// How far a request's timestamp may be from now.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Whether `signature` is Slack's signature of `body` sent at `timestamp`, and `timestamp` is
/// within [`MAX_SKEW_SECS`] of `now`.
pub fn verify(secret: &str, timestamp: &str, signature: &str, body: &[u8], now: i64) -> bool {
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if (now - ts).abs() > MAX_SKEW_SECS {
        return false;
    }
    let Some(hex) = signature.trim().strip_prefix("v0=") else {
        return false;
    };
    let Some(given) = decode_hex(hex) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(b"v0:");
    // The header as sent: Slack signs its text.
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Refuses a request unless Slack is configured (404) and the request carries Slack's signature
/// of its body with this app's signing secret, made within [`MAX_SKEW_SECS`] (401).
fn check_request(req: &HttpRequest, body: &[u8], state: &AppState) -> Result<(), ApiError> {
    let Some(secret) = state.config().slack_signing_secret.as_deref() else {
        return Err(ApiError::not_found(
            "Slack is not configured here (ROTA_SLACK_SIGNING_SECRET)",
        ));
    };
    let h = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if verify(
        secret,
        &h("x-slack-request-timestamp"),
        &h("x-slack-signature"),
        body,
        state.now().timestamp(),
    ) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "not signed by Slack with this app's signing secret, or older than 5 minutes",
        ))
    }
}

/// The fields of a slash command Slack sends that rota reads.
#[derive(serde::Deserialize)]
struct Command {
    command: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    user_id: String,
}

/// `Mon 14 Dec 09:00 Europe/London`.
fn when(t: DateTime<Utc>, zone: rota_core::Tz) -> String {
    format!(
        "{} {}",
        t.with_timezone(&zone).format("%a %-d %b %H:%M"),
        zone.name()
    )
}

fn line(s: &Shift<'_>) -> String {
    format!(
        "*{}*: {} until {}",
        s.rotation.name,
        s.person.name,
        when(s.end, s.rotation.timezone)
    )
}

/// The answer to `/whoishero`.
pub fn whoishero_text(schedule: &Schedule, now: DateTime<Utc>) -> String {
    let Some(hero) = schedule.hero_rotation() else {
        return "The schedule names no hero_rotation.".into();
    };
    match schedule.whoishero(now) {
        Ok(Some(s)) => {
            let next = schedule
                .next_shift(&hero.id, s.end)
                .ok()
                .flatten()
                .map(|n| {
                    format!(
                        " Next: {} from {}.",
                        n.person.name,
                        when(n.start, hero.timezone)
                    )
                })
                .unwrap_or_default();
            format!("{}.{next}", line(&s))
        }
        Ok(None) => format!("*{}* has nobody on call now.", hero.name),
        Err(e) => format!("Cannot tell: {e}"),
    }
}

/// The answer to `/oncall [rotation]`.
pub fn oncall_text(schedule: &Schedule, now: DateTime<Utc>, text: &str) -> String {
    let want = text.trim();
    let shifts = schedule.on_call_all(now);
    if want.is_empty() {
        if shifts.is_empty() {
            return "Nobody is on call now.".into();
        }
        return shifts.iter().map(line).collect::<Vec<_>>().join("\n");
    }
    let Some(rot) = schedule
        .rotations()
        .iter()
        .find(|r| r.id == want || r.name.eq_ignore_ascii_case(want))
    else {
        let ids: Vec<&str> = schedule.rotations().iter().map(|r| r.id.as_str()).collect();
        return rota_core::unknown_id_message("rotation", want, &ids);
    };
    match shifts.iter().find(|s| s.rotation.id == rot.id) {
        Some(s) => line(s),
        None => format!("*{}* has nobody on call now.", rot.name),
    }
}

/// `POST /integrations/slack/commands`
pub(crate) async fn commands(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_request(&req, &body, &state)?;
    let cmd: Command = serde_urlencoded_from(&body)
        .map_err(|e| ApiError::bad_request(format!("not a slash command: {e}")))?;
    let snap = state.snapshot();
    let t = state.now();
    let text = match cmd.command.trim_start_matches('/') {
        "whoishero" => whoishero_text(&snap.schedule, t),
        "oncall" => oncall_text(&snap.schedule, t, &cmd.text),
        "handoff" => handoff(&state, &cmd.user_id, &cmd.text).await,
        other => format!(
            "rota does not know /{other}; it answers /whoishero, /oncall [rotation] and /handoff [rotation] NOTE."
        ),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(serde_json::json!({"response_type": "ephemeral", "text": text}).to_string()))
}

/// How `/handoff` is used.
const HANDOFF_USAGE: &str = "/handoff [rotation] NOTE leaves a handoff note on the shift you are on call in (or were, in the last 24 hours): what is still open for whoever comes next. It goes into the handoff message and their email.";

/// The rota person who is Slack user `uid`: the one person of the schedule with the email address
/// Slack gives for them (`users.info`, one call, cached), or why not.
async fn person_of(state: &AppState, uid: &str) -> Result<String, String> {
    let st = state.clone();
    let id = uid.to_string();
    let email = web::block(move || st.slack_email(&id)).await.ok().flatten();
    let Some(email) = email else {
        return Err("rota cannot tell who you are: Slack gave no email address for you (the app needs the users:read.email scope). Leave the note on the shift's page instead.".into());
    };
    let snap = state.snapshot();
    let people: Vec<&str> = snap
        .schedule
        .people()
        .iter()
        .filter(|p| {
            p.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email.trim()))
        })
        .map(|p| p.id.as_str())
        .collect();
    match people.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err("rota cannot tell who you are: nobody in the schedule has your Slack email address. Leave the note on the shift's page instead.".into()),
        several => Err(format!(
            "rota cannot tell who you are: {} share your Slack email address in the schedule.",
            several.join(" and ")
        )),
    }
}

/// `/handoff [rotation] NOTE`: a handoff note on the caller's shift, through the same
/// [`crate::notes::write`] as the pages and the API. The rotation may be left out when the caller
/// is on call in one (a rotation a link put them in counts only when it is the only one).
async fn handoff(state: &AppState, uid: &str, text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return HANDOFF_USAGE.into();
    }
    let person = match person_of(state, uid).await {
        Ok(p) => p,
        Err(why) => return why,
    };
    let snap = state.snapshot();
    let s = &snap.schedule;
    let now = state.now();
    let shifts = crate::notes::writable(s, &person, now);
    // A first word naming one of the caller's rotations chooses it.
    let (first, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let named = shifts
        .iter()
        .find(|x| x.rotation.id == first || x.rotation.name.eq_ignore_ascii_case(first));
    let (shift, note) = match named {
        Some(x) if !rest.trim().is_empty() => (x, rest.trim()),
        Some(_) => return HANDOFF_USAGE.into(),
        None => {
            // Running shifts first; a rotation a link made counts only when alone.
            let running: Vec<&Shift<'_>> = shifts.iter().filter(|x| x.contains(now)).collect();
            let pool: Vec<&Shift<'_>> = if running.is_empty() {
                shifts.iter().collect()
            } else {
                running
            };
            let own: Vec<&Shift<'_>> = pool
                .iter()
                .copied()
                .filter(|x| !matches!(x.source, rota_core::Source::Link(_)))
                .collect();
            let pool = if own.is_empty() { pool } else { own };
            match pool.as_slice() {
                [] => return "You are not on call now and were not in the last 24 hours, so there is no shift of yours to leave a note on.".into(),
                [one] => (*one, text),
                several => {
                    let ids: Vec<&str> = several.iter().map(|x| x.rotation.id.as_str()).collect();
                    return format!(
                        "You are on call in {}: say which, e.g. /handoff {} NOTE",
                        ids.join(" and "),
                        ids[0]
                    );
                }
            }
        }
    };
    match crate::notes::write(state, &person, &shift.rotation.id, shift.slot, note).await {
        Ok(_) => format!(
            "Noted on your *{}* shift ({} to {}). Whoever comes next gets it in the handoff message and their email.",
            shift.rotation.name,
            when(shift.start, shift.rotation.timezone),
            when(shift.end, shift.rotation.timezone)
        ),
        Err(e) => format!("Not noted: {}", e.detail),
    }
}

/// The fields of an interaction payload rota reads (a `block_actions` click).
#[derive(serde::Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    user: SlackUser,
    #[serde(default)]
    actions: Vec<Action>,
    /// Where the answer goes (Slack ignores the HTTP response's body for button clicks).
    #[serde(default)]
    response_url: Option<String>,
}

#[derive(serde::Deserialize)]
struct SlackUser {
    id: String,
}

#[derive(serde::Deserialize)]
struct Action {
    action_id: String,
    #[serde(default)]
    value: String,
}

#[derive(serde::Deserialize)]
struct Payload {
    payload: String,
}

/// `POST /integrations/slack/interactions`: the Accept and Decline buttons of a swap request's
/// direct message. Signed as the commands are. The button's value names the request, the rota
/// person and their Slack id; a click counts only from that Slack user, and then runs exactly what
/// the request page's buttons run (the same permission checks, the same 409 for a stale request).
/// The answer replaces the message's buttons with what happened (posted to the click's
/// `response_url`, as Slack asks for button clicks).
pub(crate) async fn interactions(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_request(&req, &body, &state)?;
    let p: Payload = serde_urlencoded_from(&body)
        .map_err(|e| ApiError::bad_request(format!("not an interaction: {e}")))?;
    let i: Interaction = serde_json::from_str(&p.payload)
        .map_err(|e| ApiError::bad_request(format!("not an interaction payload: {e}")))?;
    let reply = |text: String| {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(serde_json::json!({"replace_original": true, "text": text}).to_string())
    };
    let Some(action) = i.actions.first().filter(|_| i.kind == "block_actions") else {
        return Ok(reply(
            "rota only answers the buttons of its own messages.".into(),
        ));
    };
    let mut parts = action.value.splitn(3, '|');
    let (Some(swap), Some(person), Some(uid)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ApiError::bad_request("not a rota button"));
    };
    if uid != i.user.id {
        return Err(ApiError::forbidden(
            "this swap request was sent to someone else",
        ));
    }
    let done = match action.action_id.as_str() {
        "swap_accept" => crate::swaps::accept(&state, person, swap.to_string()).await,
        "swap_decline" => {
            crate::swaps::decide_as(
                &state,
                person,
                swap.to_string(),
                rota_store::SwapState::Declined,
            )
            .await
        }
        other => return Err(ApiError::bad_request(format!("unknown action {other:?}"))),
    };
    let text = match done {
        Ok(r) => format!("You {} the swap request.", r.state.as_str()),
        // A stale or already decided request: say so in Slack, as the request page does.
        Err(e) => format!("Not done: {}", e.detail),
    };
    if let Some(url) = i.response_url.filter(|u| !u.is_empty()) {
        state.slack_reply(url, text.clone());
    }
    Ok(reply(text))
}

/// A form body, with actix's own decoder.
fn serde_urlencoded_from<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let s = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    web::Query::<T>::from_query(s)
        .map(web::Query::into_inner)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in Slack's "Verifying requests from Slack".
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn the_signature_check_matches_slacks_example() {
        let now = 1531420618;
        assert!(verify(SECRET, TS, SIG, BODY.as_bytes(), now));
        // Within 5 minutes either way, and not after.
        assert!(verify(SECRET, TS, SIG, BODY.as_bytes(), now + 300));
        assert!(!verify(SECRET, TS, SIG, BODY.as_bytes(), now + 301));
        assert!(!verify(SECRET, TS, SIG, BODY.as_bytes(), now - 301));
        // Any change to the body, the secret, the signature or its form fails.
        assert!(!verify(
            SECRET,
            TS,
            SIG,
            format!("{BODY}&x=1").as_bytes(),
            now
        ));
        assert!(!verify("another-secret", TS, SIG, BODY.as_bytes(), now));
        assert!(!verify(
            SECRET,
            TS,
            &SIG.replace("a211", "a210"),
            BODY.as_bytes(),
            now
        ));
        assert!(!verify(
            SECRET,
            TS,
            SIG.trim_start_matches("v0="),
            BODY.as_bytes(),
            now
        ));
        assert!(!verify(SECRET, "1531420618x", SIG, BODY.as_bytes(), now));
        assert!(!verify(SECRET, TS, "v0=zz", BODY.as_bytes(), now));
    }
}
