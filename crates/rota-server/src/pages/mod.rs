//! Server-rendered HTML pages for people: the schedule (`GET /`), sign-in, a person's own page
//! (`/me`), the swap form (`/swaps/new`), the request page (`/swaps/{id}`) and a shift's page with
//! its handoff notes (`/shifts/{rotation}/{slot}`).
//!
//! - [`auth`]: sessions, sign-in and sign-out, and the checks every form post passes (same
//!   origin, behind a reverse proxy too, and a CSRF token).
//! - [`schedule`], [`me`], [`swap`], [`shift`]: one file per page.
//!
//! Pages work without JavaScript and on a phone (one column, tables that scroll inside their own
//! box that the keyboard can scroll, controls at least 24 px tall), have one `main` landmark and a `lang`, and carry a
//! Content-Security-Policy that allows no scripts at all. HTML is written with maud, which escapes
//! every value by construction: nothing from the schedule files or a request reaches a page
//! unescaped. Times are shown in each rotation's own zone, named next to them, since that is the
//! zone its handoffs are defined in. The forms call the same code as the JSON API
//! ([`crate::swaps`]), so they validate and authorise exactly alike.
//!
//! A browser never sees JSON from a page route: a refusal, a missing or malformed query or form,
//! and a failing state file are all an HTML page ([`PageError`]) that says what went wrong, with a
//! way back. A page that needs a session sends a signed-out visitor to sign in, and back to the
//! page afterwards.
//!
//! Limits: the pages are links to the service's root (`/me`, `/swaps/..`), so rota must be served
//! at the root of its host, not under a sub-path.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError, web};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rota_core::{Rotation, Shift, Source, Stretch};

use crate::error::ApiError;
use crate::paths;

pub mod auth;
pub mod me;
pub mod schedule;
pub mod shift;
pub mod swap;

#[cfg(test)]
mod tests;

pub use auth::{PagesConfig, SESSION_COOKIE, SESSION_HOURS};

/// How far ahead the swap form offers shifts, and `/me` lists yours.
pub const SWAP_FORM_WEEKS: i64 = 26;
/// How far ahead the schedule page looks.
pub const SCHEDULE_WEEKS: i64 = 8;

/// Registers the pages with the default settings (no public URL, no trusted proxies); the
/// service passes its own to [`configure_with`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    configure_with(cfg, PagesConfig::default());
}

/// Registers the pages with `config`. A malformed query or form on a page is answered with an
/// HTML page, not the API's problem+json.
pub fn configure_with(cfg: &mut web::ServiceConfig, config: PagesConfig) {
    let query = || {
        web::QueryConfig::default().error_handler(|e, _| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                format!("this address is not right: {e}"),
            )
            .into()
        })
    };
    let form = || {
        web::FormConfig::default()
            .limit(crate::MAX_BODY_BYTES)
            .error_handler(|e, _| {
                // Keep actix's status (415 for a body that is not a form, 413 for one too large).
                let status = ResponseError::status_code(&e);
                PageError::new(status, format!("the form was not right: {e}")).into()
            })
    };
    let path = || {
        web::PathConfig::default()
            .error_handler(|e, _| PageError::new(StatusCode::NOT_FOUND, e.to_string()).into())
    };
    cfg.app_data(web::Data::new(config))
        .service(
            web::resource("/")
                .default_service(web::to(method_not_allowed))
                .app_data(query())
                .route(crate::get().to(schedule::page)),
        )
        .service(
            web::resource("/signin")
                .default_service(web::to(method_not_allowed))
                .app_data(query())
                .app_data(form())
                .route(crate::get().to(auth::signin_page))
                .route(web::post().to(auth::signin)),
        )
        .service(
            web::resource("/signout")
                .default_service(web::to(method_not_allowed))
                .app_data(form())
                .route(web::post().to(auth::signout)),
        )
        .service(
            web::resource("/me")
                .default_service(web::to(method_not_allowed))
                .route(crate::get().to(me::page)),
        )
        .service(
            web::resource("/report")
                .default_service(web::to(method_not_allowed))
                .app_data(query())
                .route(crate::get().to(crate::timeoff::report_page)),
        )
        .service(
            web::resource("/swaps/new")
                .default_service(web::to(method_not_allowed))
                .app_data(query())
                .app_data(form())
                .route(crate::get().to(swap::new_page))
                .route(web::post().to(swap::create)),
        )
        .service(
            web::resource("/swaps/{id}")
                .default_service(web::to(method_not_allowed))
                .app_data(path())
                .route(crate::get().to(swap::request_page)),
        )
        .service(
            web::resource("/shifts/{rotation}/{slot}")
                .default_service(web::to(method_not_allowed))
                .app_data(path())
                .route(crate::get().to(shift::page)),
        )
        .service(
            web::resource("/shifts/{rotation}/{slot}/notes")
                .default_service(web::to(method_not_allowed))
                .app_data(path())
                // A form percent-encodes every byte of non-ASCII text (up to 9 bytes a
                // character): room for a whole note in any script.
                .app_data(form().limit(shift::NOTE_FORM_BYTES))
                .route(web::post().to(shift::add)),
        )
        .service(
            web::resource("/swaps/{id}/{verb}")
                .default_service(web::to(method_not_allowed))
                .app_data(path())
                .app_data(form())
                .route(web::post().to(swap::action)),
        );
}

/// Another method on a page's path: an HTML 405 page, as every page error is.
async fn method_not_allowed(req: actix_web::HttpRequest) -> HttpResponse {
    PageError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not something this page does", req.method()),
    )
    .error_response()
}

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:52rem;padding:1rem;line-height:1.4;color:#222}
header nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;border-bottom:1px solid #e4e4e4;padding-bottom:.5rem}
h1{font-size:1.5rem;margin:.6rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}
.hero{background:#f3f6fb;border:1px solid #cdd8ea;border-radius:.5rem;padding:.8rem 1rem}
.warn{background:#fff4e5;border:1px solid #e8c48a;border-radius:.5rem;padding:.8rem 1rem}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e4e4e4;vertical-align:top}
.tag{font-size:.8rem;border-radius:.3rem;padding:.05rem .35rem;white-space:nowrap}
.override{background:#fff1d6;color:#6b4200}.link{background:#e4f1e4;color:#1f4f1f}
.now{font-weight:600}.note{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0 .6rem}textarea{font-size:1rem;width:100%;box-sizing:border-box}.muted{color:#555;font-size:.9rem}a{color:#1a4fa0}
button,select,input{min-height:24px;font-size:1rem;padding:.3rem .5rem;max-width:100%;box-sizing:border-box}
.scroll:focus{outline:2px solid #1a4fa0}
nav a,td a,li a{display:inline-block;padding:.15rem 0;min-height:24px}
";

/// A whole page: the header with where you can go (and who you are), `body` in the one `main`.
pub fn layout(title: &str, signed_in: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    nav aria-label="rota" {
                        a href=(paths::SCHEDULE) { "Schedule" }
                        a href=(paths::REPORT) { "Fairness report" }
                        @match signed_in {
                            Some(name) => a href=(paths::ME) { "Your page (" (name) ")" },
                            None => a href=(paths::signin(None)) { "Sign in" },
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// `markup` as an HTML response with the pages' security headers.
pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Not "no-referrer": under it browsers send `Origin: null` with form posts, which the
        // same-origin check must refuse. "same-origin" still sends nothing to other sites.
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(markup.into_string())
}

/// An error on a page: an HTML page that says what went wrong, with a way back.
#[derive(Debug, Clone)]
pub struct PageError {
    status: StatusCode,
    detail: String,
}

impl PageError {
    /// An error page with `status` saying `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> PageError {
        PageError {
            status,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let heading = self.status.canonical_reason().unwrap_or("Error");
        respond(
            self.status,
            layout(
                &format!("rota: {heading}"),
                None,
                html! {
                    h1 { (heading) }
                    p { (self.detail) }
                    p { a href=(paths::ME) { "Your page" } " · " a href=(paths::SCHEDULE) { "Schedule" } }
                },
            ),
        )
    }
}

impl From<ApiError> for PageError {
    /// The API's refusal, naming its field as the problem+json body would.
    fn from(e: ApiError) -> PageError {
        match e.field {
            Some(f) if !e.detail.starts_with(f.as_str()) => {
                PageError::new(e.status, format!("{f}: {}", e.detail))
            }
            _ => PageError::new(e.status, e.detail),
        }
    }
}

impl From<rota_store::Error> for PageError {
    fn from(e: rota_store::Error) -> PageError {
        ApiError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(e: actix_web::error::BlockingError) -> PageError {
        PageError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
    }
}

/// A page's result.
pub type PageResult = Result<HttpResponse, PageError>;

/// Runs a store call off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, rota_store::Error> + Send + 'static,
) -> Result<T, PageError> {
    Ok(web::block(f).await??)
}

/// A 303 to `to`.
pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// `t` on the clock of `rot`'s zone, e.g. `Mon 7 Dec 2026 09:00`.
pub(crate) fn local(t: DateTime<Utc>, rot: &Rotation) -> String {
    t.with_timezone(&rot.timezone)
        .format("%a %-d %b %Y %H:%M")
        .to_string()
}

/// The tags after a person's name in a stretch: one per kind of source in it other than the
/// rotation's order (`link`, `override`), each titled by the first piece of that kind.
pub(crate) fn stretch_tags(x: &Stretch<'_>) -> Markup {
    let mut firsts: Vec<&Shift<'_>> = Vec::new();
    for p in x.pieces() {
        if !firsts
            .iter()
            .any(|f| f.source.as_str() == p.source.as_str())
        {
            firsts.push(p);
        }
    }
    html! { @for p in firsts { (source_tag(p)) } }
}

/// The tag after a person's name saying why they are on call, if not by the rotation's order.
pub(crate) fn source_tag(x: &Shift<'_>) -> Markup {
    html! {
        @match x.source {
            Source::Rotation => {},
            Source::Link(l) => {
                " " span.tag.link title={ "on call here because they are on call in " (l.from) } { "link" }
            },
            Source::Override(o) => {
                " " span.tag.override title=(o.reason.as_deref().unwrap_or("override")) { "override" }
            },
        }
    }
}
