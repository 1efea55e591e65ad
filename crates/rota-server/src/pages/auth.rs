//! Who is signed in, and the checks every form post passes.
//!
//! # Sessions
//!
//! People sign in with their API token (`rota token issue PERSON`). That makes a server-side
//! session in the state file (see `rota_store`'s sessions): the cookie holds only the session's
//! random secret, `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when the page was reached over
//! https. A session ends after [`SESSION_HOURS`], at sign-out (on the server, so a copied cookie
//! stops working too), when its API token is revoked, and when an admin ends all of a person's
//! sessions (`DELETE /api/v1/people/{id}/sessions`).
//!
//! For single sign-on, `ROTA_TRUSTED_USER_HEADER` (off by default) names a header that a trusted
//! reverse proxy sets to the signed-in person's id; when a request carries it, it wins over the
//! cookie. The JSON API ignores it and keeps to bearer tokens.
//!
//! # Forms, and reverse proxies
//!
//! Every form that changes something carries a CSRF token (an HMAC of the session) and is refused
//! without it. Every form post, sign-in included, is also refused when the browser says it came
//! from another site: its `Origin` (or, without one, `Sec-Fetch-Site`) must be this site.
//!
//! What "this site" is depends on two settings:
//!
//! - `ROTA_BASE_URL`, the URL people reach rota at (the same setting that makes the links in
//!   emails). When set, a form's `Origin` must be exactly its origin, and the session cookie is
//!   `Secure` when it is https.
//! - `ROTA_TRUSTED_PROXIES`, the addresses (or CIDR ranges) of reverse proxies. Only requests from
//!   them have their `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` believed; any other
//!   client's forwarded headers are ignored, so nobody can claim to be another host.
//!
//! Without `ROTA_BASE_URL`, a form's `Origin` must name the host the request was sent to (the
//! `Host` header, or a trusted proxy's forwarded host), whatever the scheme: a TLS proxy that does
//! not say it terminated https still works, and another site still cannot post.

use std::net::IpAddr;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use maud::html;
use serde::Deserialize;

use super::{PageError, PageResult, blocking, layout, redirect, respond};
use crate::paths;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rota_session";
/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;

/// Settings of the pages (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct PagesConfig {
    /// A request header, set by a trusted reverse proxy doing single sign-on, that names the
    /// signed-in person (e.g. `X-Remote-User`). Off by default: only turn it on when every request
    /// reaches rota through a proxy that sets the header itself and drops any value a client sent.
    pub trusted_user_header: Option<header::HeaderName>,
    /// The origin people reach rota at (`https://rota.example.com`), from `ROTA_BASE_URL`.
    pub public_origin: Option<String>,
    /// Reverse proxies whose forwarded headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl PagesConfig {
    /// From the values of `ROTA_TRUSTED_USER_HEADER`, `ROTA_BASE_URL` and `ROTA_TRUSTED_PROXIES`
    /// (empty: off). A value that does not parse is an error naming the setting.
    pub fn from_values(
        user_header: &str,
        base_url: &str,
        proxies: &str,
    ) -> Result<PagesConfig, String> {
        let trusted_user_header = match user_header {
            "" => None,
            h => Some(header::HeaderName::from_bytes(h.as_bytes()).map_err(|e| {
                format!("ROTA_TRUSTED_USER_HEADER={h:?} is not a header name: {e}")
            })?),
        };
        let public_origin = match base_url {
            "" => None,
            u => Some(origin_of(u).ok_or_else(|| {
                format!(
                    "ROTA_BASE_URL={u:?} is not a URL like https://rota.example.com (http or https, \
                     a host, an optional port, and no path: rota is served at the root)"
                )
            })?),
        };
        let mut trusted_proxies = Vec::new();
        for p in proxies.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = p
                .parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    format!(
                        "ROTA_TRUSTED_PROXIES: {p:?} is not an IP address or a CIDR range (e.g. 127.0.0.1, 10.0.0.0/8)"
                    )
                })?;
            trusted_proxies.push(net);
        }
        Ok(PagesConfig {
            trusted_user_header,
            public_origin,
            trusted_proxies,
        })
    }

    /// Whether `req` came straight from a trusted reverse proxy.
    fn via_trusted_proxy(&self, req: &HttpRequest) -> bool {
        req.peer_addr()
            .is_some_and(|a| self.trusted_proxies.iter().any(|n| n.contains(&a.ip())))
    }

    /// Whether the browser reached rota over https, as far as rota can know.
    pub(crate) fn is_https(&self, req: &HttpRequest) -> bool {
        match &self.public_origin {
            Some(o) => o.starts_with("https://"),
            None => self.via_trusted_proxy(req) && req.connection_info().scheme() == "https",
        }
    }

    /// The host the request was sent to: a trusted proxy's forwarded host, else `Host`.
    fn host(&self, req: &HttpRequest) -> String {
        if self.via_trusted_proxy(req) {
            return req.connection_info().host().to_ascii_lowercase();
        }
        req.headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase)
            .or_else(|| {
                req.uri()
                    .authority()
                    .map(|a| a.as_str().to_ascii_lowercase())
            })
            .unwrap_or_default()
    }

    /// The site's own origin for links that must be absolute (calendar subscriptions).
    pub(crate) fn origin(&self, req: &HttpRequest) -> String {
        match &self.public_origin {
            Some(o) => o.clone(),
            None => {
                let scheme = if self.is_https(req) { "https" } else { "http" };
                format!("{scheme}://{}", self.host(req))
            }
        }
    }

    /// Whether a form post came from this site (see the module doc).
    fn same_site(&self, req: &HttpRequest) -> bool {
        let Some(origin) = req.headers().get(header::ORIGIN) else {
            // No Origin: a browser that sends neither it nor Sec-Fetch-Site is not a browser that
            // CSRF can use; one that says the post is cross-site is refused.
            return !req
                .headers()
                .get("sec-fetch-site")
                .is_some_and(|v| v.as_bytes() == b"cross-site" || v.as_bytes() == b"same-site");
        };
        let Some(origin) = origin.to_str().ok().and_then(origin_of) else {
            return false; // "null", or not a URL
        };
        match &self.public_origin {
            Some(o) => &origin == o,
            None if self.via_trusted_proxy(req) => origin == self.origin(req),
            None => origin
                .split_once("://")
                .is_some_and(|(_, host)| host == self.host(req)),
        }
    }
}

/// The origin (`scheme://host[:port]`, lower case, default port left out) of an http(s) URL with
/// no path beyond `/`.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix(default).unwrap_or(&host);
    Some(format!("{scheme}://{host}"))
}

/// The pages' settings registered by [`super::configure_with`] (the defaults if a test mounted the
/// pages without them).
fn config(req: &HttpRequest) -> PagesConfig {
    req.app_data::<web::Data<PagesConfig>>()
        .map(|c| c.get_ref().clone())
        .unwrap_or_default()
}

/// A signed-in person.
pub(crate) struct Session {
    pub(crate) person: String,
    /// What the CSRF token is derived from: the session's secret (or the proxy's person).
    key: String,
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

/// Who is signed in, if anyone.
pub(crate) async fn session(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<Session>, PageError> {
    let cfg = config(req);
    if let Some(value) = cfg
        .trusted_user_header
        .as_ref()
        .and_then(|name| req.headers().get(name))
    {
        let Some(person) = value.to_str().ok().map(|v| v.trim().to_string()) else {
            return Ok(None);
        };
        if state.snapshot().schedule.person(&person).is_none() {
            return Ok(None);
        }
        // The CSRF token of a proxy session is fixed per person (still unguessable: an HMAC).
        return Ok(Some(Session {
            key: format!("proxy:{person}"),
            person,
        }));
    }
    let Some(secret) = cookie(req, SESSION_COOKIE) else {
        return Ok(None);
    };
    let st = state.clone();
    let now = state.now();
    let key = secret.clone();
    let Some(person) = blocking(move || st.store().session(&secret, now)).await? else {
        return Ok(None);
    };
    // Someone removed from the schedule files is no longer anyone here.
    if state.snapshot().schedule.person(&person).is_none() {
        return Ok(None);
    }
    Ok(Some(Session { person, key }))
}

/// The session, or a redirect to sign in that comes back to this page.
pub(crate) async fn require(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Result<Session, HttpResponse>, PageError> {
    Ok(match session(state, req).await? {
        Some(s) => Ok(s),
        None => {
            let here = match req.query_string() {
                "" => req.path().to_string(),
                q => format!("{}?{q}", req.path()),
            };
            Err(redirect(&paths::signin(Some(&here))))
        }
    })
}

/// The CSRF token of a session.
pub(crate) fn csrf_token(state: &AppState, s: &Session) -> String {
    state.store().sign("csrf", &s.key)[..32].to_string()
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf_field(state: &AppState, s: &Session) -> maud::Markup {
    html! { input type="hidden" name="csrf" value=(csrf_token(state, s)); }
}

/// The checks every form post passes: from this site, a session, and its CSRF token.
pub(crate) async fn check_form(
    state: &AppState,
    req: &HttpRequest,
    csrf: &str,
) -> Result<Session, PageError> {
    if !config(req).same_site(req) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "this form was sent from another site; rota only accepts its own forms",
        ));
    }
    let Some(s) = session(state, req).await? else {
        return Err(PageError::new(
            StatusCode::UNAUTHORIZED,
            "you are not signed in (or your sign-in ended): sign in and try again",
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
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "the form's security token is missing or out of date (CSRF check failed): reload the page and try again",
        ));
    }
    Ok(s)
}

fn signin_markup(message: Option<&str>, next: &str) -> maud::Markup {
    html! {
        h1 { "Sign in" }
        @if let Some(m) = message { p.warn role="alert" { (m) } }
        form method="post" action="/signin" {
            input type="hidden" name="next" value=(next);
            p {
                label for="token" { "API token" } br;
                input #token type="password" name="token" autocomplete="current-password" required
                    style="width:100%;max-width:40rem";
            }
            p.muted { "Ask an admin for one: " code { "rota token issue YOUR-ID" } "." }
            p { button type="submit" { "Sign in" } }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

fn next_or_me(next: Option<&str>) -> String {
    next.filter(|n| paths::is_local(n))
        .unwrap_or(paths::ME)
        .to_string()
}

/// `GET /signin[?next=PATH]`
pub(crate) async fn signin_page(q: web::Query<NextQuery>) -> HttpResponse {
    let next = next_or_me(q.next.as_deref());
    respond(
        StatusCode::OK,
        layout("Sign in", None, signin_markup(None, &next)),
    )
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    token: String,
    next: Option<String>,
}

/// `POST /signin`: checks the API token, starts a session and goes back to `next`.
pub(crate) async fn signin(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> PageResult {
    let cfg = config(&req);
    if !cfg.same_site(&req) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "this sign-in form was sent from another site; sign in on rota's own page",
        ));
    }
    let SignInForm { token, next } = form.into_inner();
    let next = next_or_me(next.as_deref());
    let st = state.clone();
    let now = state.now();
    let token = token.trim().to_string();
    let started = blocking(move || {
        st.store()
            .start_session(&token, Duration::hours(SESSION_HOURS), now)
    })
    .await?;
    let Some(s) = started else {
        return Ok(respond(
            StatusCode::UNAUTHORIZED,
            layout(
                "Sign in",
                None,
                signin_markup(Some("That token is not valid (unknown or revoked)."), &next),
            ),
        ));
    };
    let secure = if cfg.is_https(&req) { "; Secure" } else { "" };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next))
        .insert_header((
            header::SET_COOKIE,
            format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                s.secret,
                SESSION_HOURS * 3600
            ),
        ))
        .finish())
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

/// `POST /signout`: ends the session on the server and deletes the cookie.
pub(crate) async fn signout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> PageResult {
    check_form(&state, &req, &form.csrf).await?;
    if let Some(secret) = cookie(&req, SESSION_COOKIE) {
        let st = state.clone();
        let now = state.now();
        blocking(move || st.store().end_session(&secret, now)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, paths::SCHEDULE))
        .insert_header((
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        ))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            origin_of("https://Rota.Example.com/").as_deref(),
            Some("https://rota.example.com")
        );
        assert_eq!(
            origin_of("https://rota.example.com:443").as_deref(),
            Some("https://rota.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        for bad in [
            "null",
            "ftp://x",
            "https://",
            "https://x/rota",
            "rota.example.com",
        ] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let e = PagesConfig::from_values("", "https://x/rota", "").unwrap_err();
        assert!(e.starts_with("ROTA_BASE_URL="), "{e}");
        let e = PagesConfig::from_values("", "", "10.0.0.1, nonsense").unwrap_err();
        assert!(
            e.contains("ROTA_TRUSTED_PROXIES") && e.contains("nonsense"),
            "{e}"
        );
        let c =
            PagesConfig::from_values("", "https://rota.example.com", "10.0.0.0/8, ::1").unwrap();
        assert_eq!(c.public_origin.as_deref(), Some("https://rota.example.com"));
        assert_eq!(c.trusted_proxies.len(), 2);
    }
}
