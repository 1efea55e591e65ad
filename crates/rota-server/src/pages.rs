//! Server-rendered HTML pages for people: the schedule (`GET /`), sign-in, a person's own page
//! (`/me`), the swap form (`/swaps/new`) and the request page (`/swaps/{id}`).
//!
//! Pages work without JavaScript and on a phone (one column, tables that scroll sideways) and
//! carry a Content-Security-Policy that allows no scripts at all. Every value from the schedule
//! files is HTML-escaped. Times are shown in each rotation's own zone, since that is the zone its
//! handoffs are defined in. The forms call the same code as the JSON API ([`crate::swaps`]), so
//! they validate and authorise exactly alike.
//!
//! # Sessions and CSRF
//!
//! People sign in with their API token (`rota token issue PERSON`). The session cookie is
//! stateless: `hex(person).expiry.HMAC` signed with a key derived from the state file's secret,
//! `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` when the request came over https, and good for
//! [`SESSION_HOURS`]. Every form that changes something carries a CSRF token (an HMAC of the
//! session cookie) and is refused without it, and a request whose `Origin` is another site is
//! refused too. Limits: signing out deletes the cookie but a copied cookie stays valid until it
//! expires (revoking the API token does not end it), and the sign-in form itself has no CSRF
//! token (SameSite=Lax keeps other sites from using the resulting cookie).
//!
//! For single sign-on, `ROTA_TRUSTED_USER_HEADER` (off by default) names a header that a trusted
//! reverse proxy sets to the signed-in person's id; when a request carries it, it wins over the
//! cookie. The JSON API ignores it and keeps to bearer tokens.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use rota_core::{Rotation, Schedule, Shift, Source};
use rota_store::{SwapKind, SwapRequest, SwapState};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;
use crate::swaps::{self, SwapBody};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rota_session";
/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;
/// How far ahead the swap form offers the counterpart's shifts.
pub const SWAP_FORM_WEEKS: i64 = 26;

/// Settings of the pages.
#[derive(Clone, Debug, Default)]
pub struct PagesConfig {
    /// A request header, set by a trusted reverse proxy doing single sign-on, that names the
    /// signed-in person (e.g. `X-Remote-User`). Off by default: only turn it on when every request
    /// reaches rota through a proxy that sets the header itself and drops any value a client sent.
    pub trusted_user_header: Option<header::HeaderName>,
}

impl PagesConfig {
    /// From `ROTA_TRUSTED_USER_HEADER` (unset or empty: off). An invalid header name is logged and
    /// ignored, which leaves the feature off.
    pub fn from_env() -> PagesConfig {
        let name = std::env::var("ROTA_TRUSTED_USER_HEADER").unwrap_or_default();
        let name = name.trim();
        if name.is_empty() {
            return PagesConfig::default();
        }
        match header::HeaderName::from_bytes(name.as_bytes()) {
            Ok(h) => {
                tracing::warn!(header = %h, "pages trust the reverse proxy's user header");
                PagesConfig {
                    trusted_user_header: Some(h),
                }
            }
            Err(e) => {
                tracing::error!(value = name, error = %e, "ROTA_TRUSTED_USER_HEADER is not a header name; ignored");
                PagesConfig::default()
            }
        }
    }
}

/// Registers the pages, configured from the environment ([`PagesConfig::from_env`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    configure_with(cfg, PagesConfig::from_env());
}

/// Registers the pages with `config`.
pub fn configure_with(cfg: &mut web::ServiceConfig, config: PagesConfig) {
    cfg.app_data(web::Data::new(config))
        .route("/", crate::get().to(schedule))
        .route("/signin", crate::get().to(signin_page))
        .route("/signin", web::post().to(signin))
        .route("/signout", web::post().to(signout))
        .route("/me", crate::get().to(me))
        .route("/swaps/new", crate::get().to(new_swap_page))
        .route("/swaps/new", web::post().to(new_swap))
        .route("/swaps/{id}", crate::get().to(swap_page))
        .route("/swaps/{id}/{verb}", web::post().to(swap_action));
}

/// How far ahead the schedule page looks.
pub const SCHEDULE_WEEKS: i64 = 8;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:52rem;padding:1rem;line-height:1.4;color:#222}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}
.hero{background:#f3f6fb;border:1px solid #cdd8ea;border-radius:.5rem;padding:.8rem 1rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;min-width:22rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e4e4e4;vertical-align:top}
.tag{font-size:.75rem;border-radius:.3rem;padding:.05rem .35rem;white-space:nowrap}
.override{background:#fff1d6;color:#7a4b00}.link{background:#e4f1e4;color:#245c24}
.now{font-weight:600}.muted{color:#666;font-size:.9rem}a{color:#1a4fa0}
";

/// A full page around `body`.
pub fn page(title: &str, body: &str) -> HttpResponse {
    page_with(StatusCode::OK, title, body)
}

/// A full page around `body`, with `status`.
pub fn page_with(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        esc(title)
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Not "no-referrer": under it browsers send `Origin: null` with form posts, which the
        // same-origin check in `check_form` must refuse. "same-origin" still sends nothing to
        // other sites.
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(html)
}

fn local(t: DateTime<Utc>, rot: &Rotation) -> String {
    t.with_timezone(&rot.timezone)
        .format("%a %-d %b %Y %H:%M")
        .to_string()
}

fn source_tag(x: &Shift<'_>) -> String {
    match x.source {
        Source::Rotation => String::new(),
        Source::Link(l) => format!(
            " <span class=\"tag link\" title=\"on call here because they are on call in {}\">link</span>",
            esc(&l.from)
        ),
        Source::Override(o) => format!(
            " <span class=\"tag override\" title=\"{}\">override</span>",
            esc(o.reason.as_deref().unwrap_or("override"))
        ),
    }
}

fn schedule_body(s: &Schedule, now: DateTime<Utc>) -> String {
    let mut b = String::from("<h1>On-call schedule</h1>");
    if let Some(hero_rot) = s.hero_rotation() {
        match s.on_call(&hero_rot.id, now).ok().flatten() {
            Some(h) => b.push_str(&format!(
                "<p class=\"hero\">{} now: <strong>{}</strong>{} until {} <span class=\"muted\">({})</span></p>",
                esc(&hero_rot.name),
                esc(&h.person.name),
                source_tag(&h),
                esc(&local(h.end, hero_rot)),
                esc(hero_rot.timezone.name())
            )),
            None => b.push_str(&format!(
                "<p class=\"hero\">{} has not started yet.</p>",
                esc(&hero_rot.name)
            )),
        }
    }
    let to = now + Duration::weeks(SCHEDULE_WEEKS);
    let mut rotations: Vec<&Rotation> = s.rotations().iter().collect();
    // The hero rotation first, then the others by id.
    rotations.sort_by_key(|r| {
        (
            Some(r.id.as_str()) != s.hero_rotation().map(|h| h.id.as_str()),
            r.id.clone(),
        )
    });
    for rot in rotations {
        b.push_str(&format!(
            "<h2 id=\"{id}\">{name}</h2><p class=\"muted\">Times in {zone}. \
             <a href=\"/calendars/rotations/{id}.ics\">Calendar feed</a></p>\
             <div class=\"scroll\"><table><thead><tr><th>From</th><th>To</th><th>Who</th></tr></thead><tbody>",
            id = esc(&rot.id),
            name = esc(&rot.name),
            zone = esc(rot.timezone.name()),
        ));
        for x in s.shifts(&rot.id, now, to).unwrap_or_default() {
            let class = if x.contains(now) {
                " class=\"now\""
            } else {
                ""
            };
            b.push_str(&format!(
                "<tr{class}><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                esc(&local(x.start, rot)),
                esc(&local(x.end, rot)),
                esc(&x.person.name),
                source_tag(&x)
            ));
        }
        b.push_str("</tbody></table></div>");
    }
    b
}

/// `GET /`: who is hero now, and the next weeks of every rotation, overrides and links marked.
pub(crate) async fn schedule(
    state: web::Data<AppState>,
    _q: web::Query<crate::ics::NoQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let now = state.now();
    let st = state.get_ref().clone();
    // Resolving weeks of shifts and expanding calendars is CPU work: off the async workers.
    let mut body = crate::timeoff::off_worker(move || {
        let mut body = schedule_body(&snap.schedule, now);
        body.push_str(&crate::timeoff::conflicts_section(
            &st,
            &snap.schedule,
            now,
            now + Duration::weeks(SCHEDULE_WEEKS),
        ));
        Ok(body)
    })
    .await?;
    body.push_str("<p class=\"muted\"><a href=\"/report\">Fairness report</a></p>");
    Ok(page("On-call schedule", &body))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// A signed-in person.
struct Session {
    person: String,
    /// The cookie's value, which the CSRF token is derived from.
    cookie: String,
}

fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn session(state: &AppState, req: &HttpRequest) -> Option<Session> {
    let trusted = req
        .app_data::<web::Data<PagesConfig>>()
        .and_then(|c| c.trusted_user_header.as_ref());
    if let Some(value) = trusted.and_then(|name| req.headers().get(name)) {
        let person = value.to_str().ok()?.trim().to_string();
        state.snapshot().schedule.person(&person)?;
        // The CSRF token of a proxy session is fixed per person (still unguessable: an HMAC).
        return Some(Session {
            cookie: format!("proxy:{person}"),
            person,
        });
    }
    let value = cookie(req, SESSION_COOKIE)?;
    let mut parts = value.rsplitn(3, '.');
    let (sig, exp, who) = (parts.next()?, parts.next()?, parts.next()?);
    let exp: i64 = exp.parse().ok()?;
    if exp <= state.now().timestamp()
        || !state
            .store()
            .verify("session", &format!("{who}.{exp}"), sig)
    {
        return None;
    }
    let person = unhex(who)?;
    state.snapshot().schedule.person(&person)?;
    Some(Session {
        person,
        cookie: value,
    })
}

fn csrf_token(state: &AppState, s: &Session) -> String {
    state.store().sign("csrf", &s.cookie)[..32].to_string()
}

fn csrf_field(state: &AppState, s: &Session) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        csrf_token(state, s)
    )
}

fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// A page that says what went wrong, with `status`.
fn error_page(status: StatusCode, detail: &str) -> HttpResponse {
    page_with(
        status,
        "rota: request refused",
        &format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"/me\">Your page</a> · <a href=\"/\">Schedule</a></p>",
            esc(status.canonical_reason().unwrap_or("Error")),
            esc(detail)
        ),
    )
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// The checks every form post passes: same-origin (when the browser says where it came from), a
/// session, and the session's CSRF token.
fn check_form(
    state: &AppState,
    req: &HttpRequest,
    csrf: &str,
) -> Result<Session, (StatusCode, &'static str)> {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let info = req.connection_info();
        let ours = format!("{}://{}", info.scheme(), info.host());
        if origin.as_bytes() != ours.as_bytes() {
            return Err((
                StatusCode::FORBIDDEN,
                "this form was sent from another site; rota only accepts its own forms",
            ));
        }
    }
    let Some(s) = session(state, req) else {
        return Err((
            StatusCode::UNAUTHORIZED,
            "you are not signed in (or your sign-in expired): sign in and try again",
        ));
    };
    let want = csrf_token(state, &s);
    let ok = csrf.len() == want.len()
        && csrf
            .bytes()
            .zip(want.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !ok {
        return Err((
            StatusCode::FORBIDDEN,
            "the form's security token is missing or out of date (CSRF check failed): reload the page and try again",
        ));
    }
    Ok(s)
}

fn signin_body(message: Option<&str>) -> String {
    let msg = message
        .map(|m| format!("<p class=\"hero\">{}</p>", esc(m)))
        .unwrap_or_default();
    format!(
        "<h1>Sign in</h1>{msg}<form method=\"post\" action=\"/signin\">\
         <p><label>API token<br><input type=\"password\" name=\"token\" autocomplete=\"current-password\" \
         required style=\"width:100%;max-width:40rem\"></label></p>\
         <p class=\"muted\">Ask an admin for one: <code>rota token issue YOUR-ID</code>.</p>\
         <p><button type=\"submit\">Sign in</button></p></form>"
    )
}

/// `GET /signin`
async fn signin_page() -> HttpResponse {
    page("Sign in", &signin_body(None))
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
}

/// `POST /signin`: checks the API token and sets the session cookie.
async fn signin(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> HttpResponse {
    let st = state.clone();
    let token = form.into_inner().token.trim().to_string();
    let person = match web::block(move || st.store().authenticate(&token)).await {
        Ok(Ok(Some(p))) => p,
        Ok(Ok(None)) => {
            return page_with(
                StatusCode::UNAUTHORIZED,
                "Sign in",
                &signin_body(Some("That token is not valid (unknown or revoked).")),
            );
        }
        _ => {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "the state file failed; try again",
            );
        }
    };
    let exp = (state.now() + Duration::hours(SESSION_HOURS)).timestamp();
    let who = hex(person.as_bytes());
    let sig = state.store().sign("session", &format!("{who}.{exp}"));
    let secure = if is_https(&req) { "; Secure" } else { "" };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/me"))
        .insert_header((
            header::SET_COOKIE,
            format!(
                "{SESSION_COOKIE}={who}.{exp}.{sig}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                SESSION_HOURS * 3600
            ),
        ))
        .finish()
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`
async fn signout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    if let Err((status, why)) = check_form(&state, &req, &form.csrf) {
        return error_page(status, why);
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .insert_header((
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        ))
        .finish()
}

fn state_word(r: &SwapRequest, now: DateTime<Utc>) -> &'static str {
    r.state_at(now).as_str()
}

fn describe(s: &Schedule, r: &SwapRequest) -> String {
    let name = |p: &str| s.person(p).map_or(p.to_string(), |x| x.name.clone());
    let rot = s.rotation(&r.rotation);
    let when = |start: DateTime<Utc>| rot.map_or(start.to_rfc3339(), |rot| local(start, rot));
    match r.counterpart_slot {
        Some(c) => format!(
            "{} takes {}'s shift of {}, and {} takes {}'s shift of {}",
            name(&r.counterpart),
            name(&r.requester),
            when(r.requester_slot.start),
            name(&r.requester),
            name(&r.counterpart),
            when(c.start)
        ),
        None => format!(
            "{} covers {}'s shift of {}",
            name(&r.counterpart),
            name(&r.requester),
            when(r.requester_slot.start)
        ),
    }
}

/// `GET /me`: your shifts, your swap requests, your calendar subscription.
async fn me(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(sess) = session(&state, &req) else {
        return redirect("/signin");
    };
    let snap = state.snapshot();
    let s = &snap.schedule;
    let now = state.now();
    let Some(person) = s.person(&sess.person) else {
        return redirect("/signin");
    };
    let mut b = format!(
        "<h1>{}</h1><form method=\"post\" action=\"/signout\">{}<p class=\"muted\">Signed in as {}. \
         <a href=\"/\">Schedule</a> <button type=\"submit\">Sign out</button></p></form>",
        esc(&person.name),
        csrf_field(&state, &sess),
        esc(&person.id)
    );
    b.push_str("<h2>Your shifts</h2><div class=\"scroll\"><table><thead><tr><th>Rotation</th><th>From</th><th>To</th><th></th></tr></thead><tbody>");
    let to = now + Duration::weeks(SWAP_FORM_WEEKS);
    // Shifts their absence calendars say they are away for are marked; the swap form then
    // suggests who to ask.
    let off = state.calendars().time_off_of(&person.id, now, to);
    for x in s.shifts_for_person(&person.id, now, to).unwrap_or_default() {
        let action = if x.start > now {
            format!(
                "<a href=\"{}\">Swap…</a>",
                esc(&rota_core::view::swap_form_path(
                    &x.rotation.id,
                    x.slot,
                    None
                ))
            )
        } else {
            "on call now".to_string()
        };
        let away = if off.is_free(&person.id, x.start, x.end) {
            ""
        } else {
            " <span class=\"tag override\" title=\"your absence calendar says you are away during this shift\">away</span>"
        };
        b.push_str(&format!(
            "<tr><td>{}{}{away}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            esc(&x.rotation.name),
            source_tag(&x),
            esc(&local(x.start, x.rotation)),
            esc(&local(x.end, x.rotation)),
        ));
    }
    b.push_str("</tbody></table></div><h2>Swap requests</h2>");
    let st = state.clone();
    let who = person.id.clone();
    let list = web::block(move || st.store().swaps(Some(&who)))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    if list.is_empty() {
        b.push_str("<p class=\"muted\">None.</p>");
    } else {
        b.push_str("<ul>");
        for r in &list {
            b.push_str(&format!(
                "<li><a href=\"/swaps/{}\">{}</a> <span class=\"tag\">{}</span></li>",
                esc(&r.id),
                esc(&describe(s, r)),
                state_word(r, now)
            ));
        }
        b.push_str("</ul>");
    }
    let host = req.connection_info().host().to_string();
    let st = state.clone();
    let who = person.id.clone();
    if let Ok(Ok(token)) = web::block(move || st.store().feed_token(&who)).await {
        let path = format!("/calendars/people/{}.ics?token={token}", person.id);
        let scheme = if is_https(&req) { "https" } else { "http" };
        b.push_str(&format!(
            "<h2>Calendar</h2><p>Subscribe to all your shifts: <a href=\"webcal://{h}{p}\">webcal link</a> \
             (or add <code>{scheme}://{h}{p}</code> to your calendar). The link is secret.</p>",
            h = esc(&host),
            p = esc(&path)
        ));
    }
    page(&format!("{} – rota", person.name), &b)
}

#[derive(Deserialize)]
struct NewSwapQuery {
    rotation: String,
    slot: u64,
    /// Pre-selects a colleague (the conflict suggestions link here with one).
    counterpart: Option<String>,
    /// Pre-selects their shift for a trade.
    their_slot: Option<u64>,
}

/// `GET /swaps/new?rotation=&slot=`: propose a trade or a cover of your shift.
async fn new_swap_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NewSwapQuery>,
) -> HttpResponse {
    let Some(sess) = session(&state, &req) else {
        return redirect("/signin");
    };
    let snap = state.snapshot();
    let s = &snap.schedule;
    let now = state.now();
    let Some(rot) = s.rotation(&q.rotation) else {
        return error_page(
            StatusCode::NOT_FOUND,
            &format!("unknown rotation {:?}", q.rotation),
        );
    };
    let Some(mine) = s.base_shift(&rot.id, q.slot).ok().flatten() else {
        return error_page(
            StatusCode::NOT_FOUND,
            &format!("rotation {} has no shift {}", rot.id, q.slot),
        );
    };
    let mut people = String::new();
    for m in rot.members.iter().filter(|m| **m != sess.person) {
        let name = s.person(m).map_or(m.as_str(), |p| p.name.as_str());
        let selected = if q.counterpart.as_deref() == Some(m.as_str()) {
            " selected"
        } else {
            ""
        };
        people.push_str(&format!(
            "<option value=\"{}\"{selected}>{}</option>",
            esc(m),
            esc(name)
        ));
    }
    let mut theirs = String::from("<option value=\"\">(none: ask for a cover)</option>");
    let to = now + Duration::weeks(SWAP_FORM_WEEKS);
    for x in s.shifts(&rot.id, now, to).unwrap_or_default() {
        if x.start <= now || x.person.id == sess.person || x.slot == q.slot {
            continue;
        }
        let selected = if q.their_slot == Some(x.slot) {
            " selected"
        } else {
            ""
        };
        theirs.push_str(&format!(
            "<option value=\"{}\"{selected}>{} – {}</option>",
            x.slot,
            esc(&local(x.start, rot)),
            esc(&x.person.name)
        ));
    }
    let hint = crate::timeoff::suggestion_hint(&state, s, &rot.id, q.slot, &sess.person, now);
    let b = format!(
        "<h1>Swap a shift</h1><p>Your {rot_name} shift: <strong>{from}</strong> to {to} <span class=\"muted\">({zone})</span></p>{hint}\
         <form method=\"post\" action=\"/swaps/new\">{csrf}\
         <input type=\"hidden\" name=\"rotation\" value=\"{rot_id}\"><input type=\"hidden\" name=\"my_slot\" value=\"{slot}\">\
         <p><label><input type=\"radio\" name=\"kind\" value=\"trade\" checked> Trade: they take mine, I take theirs</label><br>\
         <label><input type=\"radio\" name=\"kind\" value=\"cover\"> Cover: they take mine</label></p>\
         <p><label>Colleague<br><select name=\"counterpart\">{people}</select></label></p>\
         <p><label>Their shift (for a trade)<br><select name=\"their_slot\">{theirs}</select></label></p>\
         <p><button type=\"submit\">Send request</button></p></form><p><a href=\"/me\">Back</a></p>",
        rot_name = esc(&rot.name),
        from = esc(&local(mine.start, rot)),
        to = esc(&local(mine.end, rot)),
        zone = esc(rot.timezone.name()),
        csrf = csrf_field(&state, &sess),
        rot_id = esc(&rot.id),
        slot = q.slot,
    );
    page("Swap a shift", &b)
}

#[derive(Deserialize)]
struct NewSwapForm {
    #[serde(default)]
    csrf: String,
    rotation: String,
    my_slot: u64,
    kind: String,
    counterpart: String,
    #[serde(default)]
    their_slot: String,
}

/// `POST /swaps/new`
async fn new_swap(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<NewSwapForm>,
) -> HttpResponse {
    let sess = match check_form(&state, &req, &form.csrf) {
        Ok(s) => s,
        Err((status, why)) => return error_page(status, why),
    };
    let f = form.into_inner();
    let kind = match f.kind.as_str() {
        "trade" => SwapKind::Trade,
        "cover" => SwapKind::Cover,
        _ => return error_page(StatusCode::BAD_REQUEST, "kind must be trade or cover"),
    };
    let their_slot = match f.their_slot.trim() {
        "" => None,
        t => match t.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                return error_page(StatusCode::BAD_REQUEST, "their shift is not a shift number");
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
    };
    match swaps::propose(&state, sess.person, body).await {
        Ok(r) => redirect(&format!("/swaps/{}", r.id)),
        Err(e) => error_page(e.status, &e.detail),
    }
}

/// `GET /swaps/{id}`: the request, with accept / decline / cancel buttons for whoever may.
async fn swap_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let Some(sess) = session(&state, &req) else {
        return redirect("/signin");
    };
    let (r, admin) = match swaps::load(&state, &sess.person, path.into_inner()).await {
        Ok(x) => x,
        Err(e) => return error_page(e.status, &e.detail),
    };
    let snap = state.snapshot();
    let now = state.now();
    let csrf = csrf_field(&state, &sess);
    let button = |verb: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/swaps/{}/{verb}\" style=\"display:inline\">{csrf}<button type=\"submit\">{label}</button></form> ",
            esc(&r.id)
        )
    };
    let mut actions = String::new();
    if r.state_at(now) == SwapState::Pending {
        if r.counterpart == sess.person || admin {
            actions.push_str(&button("accept", "Accept"));
            actions.push_str(&button("decline", "Decline"));
        }
        if r.requester == sess.person || r.created_by == sess.person || admin {
            actions.push_str(&button("cancel", "Cancel request"));
        }
    }
    let b = format!(
        "<h1>Swap request</h1><p>{}</p><p>State: <span class=\"tag\">{}</span>. Expires {}.</p><p>{actions}</p>\
         <p><a href=\"/me\">Your page</a> · <a href=\"/\">Schedule</a></p>",
        esc(&describe(&snap.schedule, &r)),
        state_word(&r, now),
        esc(&r.expires_at().format("%Y-%m-%d %H:%M UTC").to_string()),
    );
    page("Swap request", &b)
}

/// `POST /swaps/{id}/{accept|decline|cancel}`
async fn swap_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let sess = match check_form(&state, &req, &form.csrf) {
        Ok(s) => s,
        Err((status, why)) => return error_page(status, why),
    };
    let (id, verb) = path.into_inner();
    let back = format!("/swaps/{id}");
    let result = match verb.as_str() {
        "accept" => swaps::accept(&state, &sess.person, id).await,
        "decline" => swaps::decide_as(&state, &sess.person, id, SwapState::Declined).await,
        "cancel" => swaps::decide_as(&state, &sess.person, id, SwapState::Cancelled).await,
        _ => Err(ApiError::not_found(format!("no action {verb:?}"))),
    };
    match result {
        Ok(_) => redirect(&back),
        Err(e) => error_page(e.status, &e.detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Schedule {
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
        .unwrap()
    }

    #[test]
    fn the_schedule_page_marks_overrides_and_links() {
        let s = example();
        let html = schedule_body(&s, "2026-12-30T12:00:00Z".parse().unwrap());
        // Ivan's hero week (slot 8) runs to Monday 4 January; then the Christmas swap.
        assert!(
            html.contains(
                "Support Hero now: <strong>Ivan Petrov</strong> until Mon 4 Jan 2027 09:00"
            ),
            "{html}"
        );
        assert!(html.contains(
            "<td>Mon 4 Jan 2027 09:00</td><td>Mon 11 Jan 2027 09:00</td><td>Bob Jones <span class=\"tag override\" title=\"swap: Bob covers Alice&#39;s week (holiday)\">override</span>"
        ), "{html}");
        assert!(html.contains("class=\"tag link\""), "{html}");
        assert!(html.contains("Frank Müller"));
        // The hero rotation comes first.
        let hero = html.find("<h2 id=\"support-hero\">").unwrap();
        let other = html.find("<h2 id=\"core-analytics-secondary\">").unwrap();
        assert!(hero < other);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }

    use std::sync::{Arc, Mutex};

    use actix_web::body::MessageBody;
    use actix_web::test as at;

    use crate::swaps::tests::{Hand, state};

    fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
        let i = text
            .find(before)
            .unwrap_or_else(|| panic!("{before:?} not in {text}"))
            + before.len();
        let j = text[i..].find(after).unwrap() + i;
        &text[i..j]
    }

    async fn body<B: MessageBody>(res: actix_web::dev::ServiceResponse<B>) -> String {
        String::from_utf8(at::read_body(res).await.to_vec()).unwrap()
    }

    #[actix_web::test]
    async fn sign_in_propose_and_accept_a_swap_with_forms() {
        let dir = tempfile::tempdir().unwrap();
        let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
        let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
        let token = |p: &str| st.store().issue_token(p, "test", now).unwrap().token;
        let (carol_token, bob_token) = (token("carol"), token("bob"));
        let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;

        // Signing in sets an HttpOnly, SameSite=Lax session cookie.
        let sign_in = |t: &str| {
            at::TestRequest::post()
                .uri("/signin")
                .set_form([("token", t)])
                .to_request()
        };
        let res = at::call_service(&app, sign_in("rota_wrong")).await;
        assert_eq!(res.status(), 401);
        let res = at::call_service(&app, sign_in(&carol_token)).await;
        assert_eq!(res.status(), 303);
        let set = res
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            set.contains("; HttpOnly") && set.contains("; SameSite=Lax"),
            "{set}"
        );
        let carol = set.split(';').next().unwrap().to_string();

        // Carol's page: her shifts with swap links, and her feed.
        let req = at::TestRequest::get()
            .uri("/me")
            .insert_header((header::COOKIE, carol.clone()))
            .to_request();
        let page = body(at::call_service(&app, req).await).await;
        assert!(page.contains("<h1>Carol Diaz</h1>"), "{page}");
        assert!(
            page.contains("/swaps/new?rotation=support-hero&amp;slot=4"),
            "{page}"
        );
        assert!(page.contains("webcal://"), "{page}");
        let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();

        let req = at::TestRequest::get()
            .uri("/swaps/new?rotation=support-hero&slot=4")
            .insert_header((header::COOKIE, carol.clone()))
            .to_request();
        let form = body(at::call_service(&app, req).await).await;
        assert!(
            form.contains("<option value=\"bob\">Bob Jones</option>"),
            "{form}"
        );
        assert!(!form.contains("<option value=\"carol\">"), "{form}");

        let propose = |csrf: &str, cookie: &str, origin: Option<&str>| {
            let mut r = at::TestRequest::post()
                .uri("/swaps/new")
                .insert_header((header::COOKIE, cookie.to_string()))
                .set_form([
                    ("csrf", csrf),
                    ("rotation", "support-hero"),
                    ("my_slot", "4"),
                    ("kind", "cover"),
                    ("counterpart", "bob"),
                    ("their_slot", ""),
                ]);
            if let Some(o) = origin {
                r = r.insert_header((header::ORIGIN, o.to_string()));
            }
            r.to_request()
        };
        // Forged posts: no token, a wrong token, another site, no session.
        for (csrf, cookie, origin, status) in [
            ("", carol.as_str(), None, 403),
            (
                "0123456789abcdef0123456789abcdef",
                carol.as_str(),
                None,
                403,
            ),
            (
                csrf.as_str(),
                carol.as_str(),
                Some("https://evil.example"),
                403,
            ),
            (csrf.as_str(), "rota_session=tampered.1.x", None, 401),
        ] {
            let res = at::call_service(&app, propose(csrf, cookie, origin)).await;
            assert_eq!(res.status(), status, "{csrf:?} {origin:?}");
        }
        assert!(
            st.store().swaps(None).unwrap().is_empty(),
            "nothing was created"
        );

        let res = at::call_service(&app, propose(&csrf, &carol, None)).await;
        assert_eq!(res.status(), 303);
        let at = res
            .headers()
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(at.starts_with("/swaps/swp_"), "{at}");

        // Bob signs in, sees Accept, and accepts.
        let res = at::call_service(&app, sign_in(&bob_token)).await;
        let bob = res
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let req = at::TestRequest::get()
            .uri(&at)
            .insert_header((header::COOKIE, bob.clone()))
            .to_request();
        let page = body(at::call_service(&app, req).await).await;
        assert!(
            page.contains("Bob Jones covers Carol Diaz&#39;s shift of Mon 30 Nov 2026 09:00"),
            "{page}"
        );
        assert!(page.contains(">Accept</button>"), "{page}");
        let bob_csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
        // Carol cannot accept her own request, even with a valid form.
        let accept = |csrf: &str, cookie: &str| {
            at::TestRequest::post()
                .uri(&format!("{at}/accept"))
                .insert_header((header::COOKIE, cookie.to_string()))
                .set_form([("csrf", csrf)])
                .to_request()
        };
        assert_eq!(
            at::call_service(&app, accept(&csrf, &carol)).await.status(),
            403
        );
        // Bob's cookie with Carol's token: the CSRF token belongs to the session.
        assert_eq!(
            at::call_service(&app, accept(&csrf, &bob)).await.status(),
            403
        );
        let res = at::call_service(&app, accept(&bob_csrf, &bob)).await;
        assert_eq!(res.status(), 303);
        let hero = st
            .snapshot()
            .schedule
            .on_call("support-hero", "2026-11-30T12:00:00Z".parse().unwrap())
            .unwrap()
            .unwrap()
            .person
            .id
            .clone();
        assert_eq!(hero, "bob");
        let req = at::TestRequest::get()
            .uri(&at)
            .insert_header((header::COOKIE, bob))
            .to_request();
        let page = body(at::call_service(&app, req).await).await;
        assert!(
            page.contains(">accepted</span>") && !page.contains(">Accept</button>"),
            "{page}"
        );

        // Signed out (or tampered with), the pages send you to sign in.
        let req = at::TestRequest::get()
            .uri("/me")
            .insert_header((header::COOKIE, format!("{carol}x")))
            .to_request();
        let res = at::call_service(&app, req).await;
        assert_eq!(
            (
                res.status().as_u16(),
                res.headers()
                    .get(header::LOCATION)
                    .unwrap()
                    .to_str()
                    .unwrap()
            ),
            (303, "/signin")
        );
    }

    #[actix_web::test]
    async fn a_trusted_proxy_header_signs_people_in_only_when_configured() {
        let dir = tempfile::tempdir().unwrap();
        let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
        let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
        let data = web::Data::new(st);
        let trusting = PagesConfig {
            trusted_user_header: Some(header::HeaderName::from_static("x-remote-user")),
        };
        let app = at::init_service(
            actix_web::App::new()
                .app_data(data.clone())
                .configure(|c| configure_with(c, trusting.clone())),
        )
        .await;
        let me = |who: &str| {
            at::TestRequest::get()
                .uri("/me")
                .insert_header(("x-remote-user", who.to_string()))
                .to_request()
        };
        let res = at::call_service(&app, me("carol")).await;
        assert_eq!(res.status(), 200);
        assert!(body(res).await.contains("<h1>Carol Diaz</h1>"));
        // An unknown person is not signed in.
        assert_eq!(at::call_service(&app, me("mallory")).await.status(), 303);
        // Off (the default): the header means nothing.
        let plain = at::init_service(
            actix_web::App::new()
                .app_data(data)
                .configure(|c| configure_with(c, PagesConfig::default())),
        )
        .await;
        assert_eq!(at::call_service(&plain, me("carol")).await.status(), 303);
    }
}
