//! rota-server: the HTTP service teams run (`rota serve`).
//!
//! - [`configure`] registers every route, so tests can mount the same app on
//!   `actix_web::test::init_service(App::new().configure(configure))`.
//! - [`run`] serves a bound listener until a shutdown future resolves, then stops gracefully: it
//!   stops accepting, lets requests in flight finish (up to 30 s), and returns.
//! - [`AppState`] holds the schedule snapshot, the state file and the clock.
//!
//! Routes:
//!
//! | route | what |
//! |---|---|
//! | `GET /`, `/signin`, `/me`, `/swaps/new`, `/swaps/{id}`, `/shifts/{rotation}/{slot}` | HTML pages and their forms (see [`pages`]) |
//! | `GET /healthz` | liveness, the last reload's problems, and each calendar source's state |
//! | `GET /metrics` | Prometheus metrics (see [`metrics`]) |
//! | `POST /integrations/slack/commands` | Slack's `/whoishero`, `/oncall` and `/handoff` (see [`slack`]) |
//! | `POST /integrations/slack/interactions` | the Accept and Decline buttons of swap requests sent in Slack |
//! | `GET /api/v1/openapi.json` | the API's OpenAPI 3.1 document (see [`openapi`]) |
//! | `GET /api/v1/whoishero[?at=]` | the hero's shift ([`rota_core::view::ShiftView`]'s JSON shape) or `null` |
//! | `GET /api/v1/oncall[?at=]` | every rotation's shift |
//! | `GET /api/v1/rotations` | the rotations |
//! | `GET /api/v1/rotations/{id}/shifts?from=&to=` | shifts of a rotation (at most 731 days) |
//! | `GET /api/v1/people/{id}/shifts?from=&to=` | shifts of a person |
//! | `GET/POST /api/v1/overrides`, `DELETE /api/v1/overrides/{id}` | overrides (writes need a token) |
//! | `GET/POST /api/v1/rotations/{id}/shifts/{slot}/notes` | a shift's handoff notes (a token; see [`notes`]) |
//! | `GET/POST /api/v1/swaps`, `GET /api/v1/swaps/{id}`, `POST .../{id}/accept\|decline\|cancel` | swap requests (see [`swaps`]) |
//! | `GET /api/v1/audit[?limit=&before=]` | the audit log (admins) |
//! | `GET /api/v1/webhooks/deliveries[?limit=]` | webhook messages and their deliveries (admins) |
//! | `DELETE /api/v1/people/{id}/sessions` | ends every page sign-in of a person (admins, or the person) |
//! | `GET /api/v1/conflicts?from=&to=` | shifts whose person is away, with who could trade (see [`timeoff`]) |
//! | `GET /api/v1/report?from=&to=` | the fairness report; `GET /report` is the page with a chart |
//! | `GET /calendars/rotations/{id}.ics` | a rotation's feed |
//! | `GET /calendars/people/{id}.ics?token=` | a person's feed (secret token) |
//!
//! Every `GET` route also answers `HEAD` ([`get`]). Responses are gzipped when the client asks
//! (`middleware::Compress`, gzip only). Feeds are cached and answer conditional requests (see
//! [`ics`]). [`Limits`] caps connections and bounds how long a client may take to send a request.
//!
//! Every error is `application/problem+json` (see [`error`]), except what actix-http's HTTP/1
//! parser answers before the app sees the request: a request line or header that does not parse
//! (`Content-Length: abc`) gets a bare `400`, an oversized head `431`, a head not sent within
//! [`Limits::request_timeout`] `408`. actix-http has no hook for those.
//!
//! Each request is logged as one line (method, path without the query string, status, duration):
//! tokens never reach the log, because API tokens travel in a header and feed tokens in the query
//! string.

pub mod api;
pub mod calendars;
pub mod error;
pub mod ics;
pub mod metrics;
pub mod notes;
pub mod openapi;
pub mod pages;
pub mod paths;
pub mod slack;
pub mod state;
pub mod swaps;
pub mod timeoff;

use std::future::Future;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, ErrorHandlerResponse, ErrorHandlers, Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, ResponseError, guard, web};

pub use error::ApiError;
pub use state::{
    AppState, Clock, FixedClock, Integration, Loaded, Loader, OverrideHook, Snapshot, SwapHook,
    SystemClock,
};

/// The largest JSON request body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A route for `GET` and `HEAD`. actix-web routes `HEAD` nowhere by itself (it answered 404, so
/// uptime monitors that probe with `HEAD` reported rota down); this runs the `GET` handler, and
/// actix-http's HTTP/1 encoder then sends the head only: the same status and headers, including
/// the `Content-Length` the body would have had, and no body. Every `GET` route is registered
/// with this instead of `web::get()`.
pub fn get() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The service's settings that are not about the schedule (see the binary's `rota config`).
#[derive(Clone, Debug, Default)]
pub struct ServerConfig {
    /// The pages' security settings: public URL, trusted proxies, single sign-on header.
    pub pages: pages::PagesConfig,
    /// When set, `/metrics` asks for `Authorization: Bearer` this token.
    pub metrics_token: Option<String>,
    /// Slack's signing secret: with it, `/integrations/slack/commands` answers slash commands.
    pub slack_signing_secret: Option<String>,
}

/// Registers every route and the extractor error handlers, with the default settings.
pub fn configure(cfg: &mut web::ServiceConfig) {
    configure_with(cfg, &ServerConfig::default());
}

/// Registers every route and the extractor error handlers.
pub fn configure_with(cfg: &mut web::ServiceConfig, config: &ServerConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(MAX_BODY_BYTES)
            .error_handler(|e, _| error::json_error(e).into()),
    )
    .app_data(web::QueryConfig::default().error_handler(|e, _| error::query_error(e).into()))
    .app_data(web::PayloadConfig::default().limit(MAX_BODY_BYTES))
    .app_data(
        web::PathConfig::default()
            .error_handler(|e, _| ApiError::bad_request(e.to_string()).into()),
    )
    .route("/healthz", crate::get().to(api::healthz))
    .route("/metrics", crate::get().to(metrics::metrics))
    .route(
        "/integrations/slack/commands",
        web::post().to(slack::commands),
    )
    .route(
        "/integrations/slack/interactions",
        web::post().to(slack::interactions),
    )
    .service(
        web::scope("/api/v1")
            .route("/openapi.json", crate::get().to(openapi::openapi_json))
            .route("/whoishero", crate::get().to(api::whoishero))
            .route("/oncall", crate::get().to(api::oncall))
            .route("/rotations", crate::get().to(api::rotations))
            .route(
                "/rotations/{id}/shifts",
                crate::get().to(api::rotation_shifts),
            )
            .route("/people/{id}/shifts", crate::get().to(api::person_shifts))
            .route("/coverage", crate::get().to(api::coverage))
            .route("/overrides", crate::get().to(api::list_overrides))
            .route("/overrides", web::post().to(api::create_override))
            .route("/overrides/{id}", web::delete().to(api::delete_override))
            .route("/people/{id}/sessions", web::delete().to(api::end_sessions))
            .route(
                "/webhooks/deliveries",
                crate::get().to(api::webhook_deliveries),
            )
            .configure(swaps::configure)
            .configure(notes::configure)
            .configure(timeoff::configure_api),
    )
    .service(web::scope("/calendars").default_service(web::to(ics::feeds)))
    .configure(|c| pages::configure_with(c, config.pages.clone()))
    .default_service(web::to(not_found));
}

/// The catch-all: an error response that some part of actix produced on its own (a body over the
/// size limit, a malformed header) becomes a problem+json response too.
fn problemize<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problem responses are already right, and the HTML pages explain their own errors to people.
    let already_explained = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"text/html")
        });
    if already_explained {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = match status.as_u16() {
        413 => format!("request body is larger than {MAX_BODY_BYTES} bytes"),
        405 => "method not allowed for this route".to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let (req, _) = res.into_parts();
    let problem = ApiError {
        status,
        detail,
        field: None,
    }
    .error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}

/// An unknown route: problem+json for the API, the feeds and programs; an HTML page for a
/// browser (one that asks for `text/html`) outside those, so a mistyped page address is a page
/// with a way back, not JSON.
pub(crate) async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    // An API path asked with a method it does not answer: 405 with the methods it does.
    if let Some(allowed) = openapi::allowed_methods(req.path())
        && !allowed.contains(&req.method().as_str())
    {
        let mut res = ApiError {
            status: actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            detail: format!(
                "{} does not answer {}; it answers {}",
                req.path(),
                req.method(),
                allowed.join(", ")
            ),
            field: None,
        }
        .error_response();
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
            res.headers_mut().insert(actix_web::http::header::ALLOW, v);
        }
        return res;
    }
    let detail = format!("no route for {} {}", req.method(), req.path());
    let machine = ["/api/", "/calendars/", "/healthz", "/integrations/"]
        .iter()
        .any(|p| req.path().starts_with(p));
    let browser = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if browser && !machine {
        let page = pages::PageError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            format!("there is no page at {}", req.path()),
        );
        return page.error_response();
    }
    ApiError::not_found(detail).error_response()
}

/// The request's id: the client's `X-Request-Id` when it is a plausible one (1 to 64 of
/// `A-Za-z0-9._-`, as proxies make them), else a new one, unique in this process and unlikely to
/// repeat across replicas (a random per-process prefix and a counter).
fn request_id(req: &ServiceRequest) -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    if let Some(given) = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
    {
        return given.to_string();
    }
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        // std's hasher keys are random per process: a random number without a dependency.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.finish()
    });
    format!(
        "{:08x}{:08x}",
        (*prefix >> 32) as u32,
        NEXT.fetch_add(1, Ordering::Relaxed) as u32
    )
}

async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    // The path only: the query string may carry a feed token.
    let path = req.path().to_string();
    let id = request_id(&req);
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|d| d.get_ref().clone());
    let mut res = next.call(req).await;
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    if let Some(st) = metrics {
        // The route's pattern, never the raw path: a bounded set of series whatever clients
        // ask for. Feeds are matched by hand inside their scope.
        let route = match res.as_ref().ok().and_then(|r| r.request().match_pattern()) {
            _ if path.starts_with("/calendars/") => "/calendars/...".to_string(),
            Some(p) => p,
            None => "unmatched".to_string(),
        };
        st.metrics()
            .request(method.as_str(), &route, status, started.elapsed());
    }
    // The same id in the response header and the access log line, so a user's report of a
    // failed request finds its line.
    if let Ok(r) = &mut res
        && let Ok(v) = actix_web::http::header::HeaderValue::from_str(&id)
    {
        r.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            v,
        );
    }
    tracing::info!(target: "rota::access", request_id = %id, %method, %path, status, micros = started.elapsed().as_micros() as u64);
    res
}

/// The application with every route and middleware, for [`run`] and for in-process tests.
pub fn app(
    data: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let config = data.config().clone();
    App::new()
        .app_data(data)
        .configure(|c| configure_with(c, &config))
        .wrap(ErrorHandlers::new().default_handler(problemize))
        // gzip when the client asks (`Accept-Encoding`), identity otherwise; only the gzip codec is
        // compiled in (feature `compress-gzip`): brotli and zstd cost build time for little gain
        // on text this size. Outside the error handlers, which read the uncompressed response.
        .wrap(Compress::default())
        .wrap(from_fn(log_request))
}

/// Connection limits and timeouts of the HTTP server (see [`run`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open connections served at once, across all workers. Connections past it wait in the
    /// listen backlog (then the kernel refuses them) instead of taking file descriptors the
    /// service needs for its state file, calendars and mail.
    pub max_connections: usize,
    /// How long a client may take to send a request's head (request line and headers) on a new
    /// connection before it gets `408` and is closed: what starves a slowloris.
    pub request_timeout: std::time::Duration,
    /// How long a closing connection may linger.
    pub disconnect_timeout: std::time::Duration,
    /// How long an idle keep-alive connection is kept open.
    pub keep_alive: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 4096,
            request_timeout: std::time::Duration::from_secs(5),
            disconnect_timeout: std::time::Duration::from_secs(1),
            keep_alive: std::time::Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// Limits that fit `fd_limit` open files: connections are capped at three quarters of it
    /// (at least 16), leaving the rest to the state file, calendars, mail and the listener.
    pub fn for_fd_limit(fd_limit: u64) -> Limits {
        let d = Limits::default();
        let fit = usize::try_from(fd_limit / 4 * 3)
            .unwrap_or(usize::MAX)
            .max(16);
        Limits {
            max_connections: d.max_connections.min(fit),
            ..d
        }
    }
}

/// Serves `listener` until `shutdown` resolves, then shuts down gracefully.
pub async fn run(
    listener: std::net::TcpListener,
    state: AppState,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let data = web::Data::new(state);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = HttpServer::new(move || app(data.clone()))
        .workers(workers)
        // actix's limit is per worker.
        .max_connections(limits.max_connections.div_ceil(workers).max(1))
        .client_request_timeout(limits.request_timeout)
        .client_disconnect_timeout(limits.disconnect_timeout)
        .keep_alive(limits.keep_alive)
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(30)
        .run();
    let handle = server.handle();
    let shutdown = std::pin::pin!(shutdown);
    match futures_util::future::select(server, shutdown).await {
        futures_util::future::Either::Left((result, _)) => result,
        futures_util::future::Either::Right(((), server)) => {
            tracing::info!("shutting down: finishing requests in flight");
            // The stop command is sent now; the server future must keep being polled to carry it
            // out (awaiting the stop alone would deadlock).
            let (result, ()) = futures_util::future::join(server, handle.stop(true)).await;
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Limits;

    #[test]
    fn connections_are_capped_below_the_open_files_limit() {
        assert_eq!(Limits::for_fd_limit(1024).max_connections, 768);
        assert_eq!(Limits::for_fd_limit(20_000).max_connections, 4096);
        // RLIM_INFINITY, and limits too small to be real.
        assert_eq!(Limits::for_fd_limit(u64::MAX).max_connections, 4096);
        assert_eq!(Limits::for_fd_limit(0).max_connections, 16);
        let l = Limits::default();
        assert!(l.request_timeout <= std::time::Duration::from_secs(5));
    }
}
