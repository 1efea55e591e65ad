//! `GET /metrics`: Prometheus metrics in the text exposition format (version 0.0.4).
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `rota_http_requests_total` | counter | `method`, `route`, `status` | requests answered; `route` is the route's pattern (`/api/v1/rotations/{id}/shifts`), `/calendars/...` for feeds, `unmatched` for no route |
//! | `rota_http_request_duration_seconds` | histogram | `method`, `route` | time to the response head |
//! | `rota_schedule_reloads_total` | counter | `result` (`ok`, `error`) | SIGHUP reloads of the schedule files |
//! | `rota_schedule_reload_failing` | gauge | | 1 while the last reload failed (the previous schedule keeps running) |
//! | `rota_schedule_loaded_timestamp_seconds` | gauge | | when the schedule being served was read |
//! | `rota_calendar_source_up` | gauge | `source` | 1 while an absence or holiday calendar reads well, 0 while it fails (its last good copy is used) |
//! | `rota_calendar_source_last_success_timestamp_seconds` | gauge | `source` | its last good read (absent before the first) |
//! | `rota_ledger_queue_depth` | gauge | `state` (`sending`, `retry`) | messages claimed or waiting for a retry |
//! | `rota_messages_sent_total`, `rota_messages_failed_total`, `rota_messages_retried_total` | counter | `kind` | messages sent, given up, and attempts after the first, by kind (`reminder`, `change`, `swap-requested`, ...) |
//! | `rota_swap_requests` | gauge | `state` | swap requests by state (`pending`, `accepted`, `expired`, ...) |
//! | `rota_store_operation_duration_seconds` | histogram | `op` (`read`, `write`), `result` | store latency, waiting for a connection or the write lock included |
//! | `rota_state_version` | gauge | | the run-time state version this replica serves |
//!
//! The ledger and swap figures are read from the shared store (two grouped queries) at most every
//! [`STORE_FIGURES_EVERY`], so on several replicas each reports the same, cluster-wide figures:
//! aggregate them with `max`, not `sum`. The request and store figures are each replica's own.
//!
//! With `ROTA_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer TOKEN` (a 401
//! otherwise); without it, `/metrics` is open, as is usual on a private network.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::{ApiError, AppState};

/// Request latency buckets, in seconds: 0.5 ms to 10 s.
const HTTP_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Store latency buckets, in seconds: 0.1 ms to 5 s.
const STORE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

/// Every metric of one service (one registry per [`AppState`], so in-process tests do not
/// share figures).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    reloads: IntCounterVec,
    reload_failing: IntGauge,
    loaded_at: IntGauge,
    calendar_up: IntGaugeVec,
    calendar_success: IntGaugeVec,
    queue: IntGaugeVec,
    sent: IntCounterVec,
    failed: IntCounterVec,
    retried: IntCounterVec,
    swaps: IntGaugeVec,
    store_seconds: HistogramVec,
    state_version: IntGauge,
    /// When the store's figures were last read, at which state version: again only after
    /// [`STORE_FIGURES_EVERY`] or a change of what is served, however often (or by however
    /// many) `/metrics` is scraped.
    store_read: std::sync::Mutex<Option<(std::time::Instant, i64)>>,
}

/// How long the store's figures (ledger, swaps) are reused between scrapes: they cost two grouped
/// queries on the shared database, and an open `/metrics` must not let anyone load it.
pub const STORE_FIGURES_EVERY: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric");
    r.register(Box::new(c.clone())).expect("registered once");
    c
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid metric");
    r.register(Box::new(g.clone())).expect("registered once");
    g
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("a valid metric");
    r.register(Box::new(g.clone())).expect("registered once");
    g
}

fn histogram(r: &Registry, name: &str, help: &str, labels: &[&str], b: &[f64]) -> HistogramVec {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(b.to_vec()), labels)
        .expect("a valid metric");
    r.register(Box::new(h.clone())).expect("registered once");
    h
}

impl Metrics {
    /// A registry with every metric, at zero.
    pub fn new() -> Metrics {
        let r = Registry::new();
        Metrics {
            requests: counter(
                &r,
                "rota_http_requests_total",
                "HTTP requests answered, by route pattern and status.",
                &["method", "route", "status"],
            ),
            request_seconds: histogram(
                &r,
                "rota_http_request_duration_seconds",
                "Time from a request to its response head.",
                &["method", "route"],
                HTTP_BUCKETS,
            ),
            reloads: counter(
                &r,
                "rota_schedule_reloads_total",
                "Reloads of the schedule files (SIGHUP), by result.",
                &["result"],
            ),
            reload_failing: gauge(
                &r,
                "rota_schedule_reload_failing",
                "1 while the last reload of the schedule files failed (the previous schedule is served).",
            ),
            loaded_at: gauge(
                &r,
                "rota_schedule_loaded_timestamp_seconds",
                "When the schedule files being served were read (Unix time).",
            ),
            calendar_up: gauge_vec(
                &r,
                "rota_calendar_source_up",
                "1 while an absence or holiday calendar source reads well, 0 while it fails.",
                &["source"],
            ),
            calendar_success: gauge_vec(
                &r,
                "rota_calendar_source_last_success_timestamp_seconds",
                "The last good read of a calendar source (Unix time).",
                &["source"],
            ),
            queue: gauge_vec(
                &r,
                "rota_ledger_queue_depth",
                "Outbound messages being sent or waiting for a retry (shared ledger).",
                &["state"],
            ),
            sent: counter(
                &r,
                "rota_messages_sent_total",
                "Outbound messages sent, by kind (shared ledger).",
                &["kind"],
            ),
            failed: counter(
                &r,
                "rota_messages_failed_total",
                "Outbound messages given up, by kind (shared ledger).",
                &["kind"],
            ),
            retried: counter(
                &r,
                "rota_messages_retried_total",
                "Delivery attempts after the first, by kind (shared ledger).",
                &["kind"],
            ),
            swaps: gauge_vec(
                &r,
                "rota_swap_requests",
                "Swap requests by state (shared store).",
                &["state"],
            ),
            store_seconds: histogram(
                &r,
                "rota_store_operation_duration_seconds",
                "Store operations, waiting for a connection or the write lock included.",
                &["op", "result"],
                STORE_BUCKETS,
            ),
            state_version: gauge(
                &r,
                "rota_state_version",
                "The run-time state version this replica serves.",
            ),
            store_read: std::sync::Mutex::new(None),
            registry: r,
        }
    }

    /// Counts one answered request. `route` must be a pattern, never a raw path, so the number
    /// of series stays bounded whatever clients ask for.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        // Methods outside the standard ones are folded, for the same reason.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.request_seconds
            .with_label_values(&[method, route])
            .observe(took.as_secs_f64());
    }

    /// Counts a reload of the schedule files.
    pub fn reload(&self, ok: bool) {
        self.reloads
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }

    /// Records one store operation (the store's observer).
    pub fn store_op(&self, op: rota_store::Op, took: Duration, ok: bool) {
        self.store_seconds
            .with_label_values(&[op.as_str(), if ok { "ok" } else { "error" }])
            .observe(took.as_secs_f64());
    }

    /// Brings a counter up to `to`, a count read from the store (it only grows: ledger rows are
    /// never deleted).
    fn raise(c: &IntCounterVec, label: &str, to: u64) {
        let c = c.with_label_values(&[label]);
        let now = c.get();
        if to > now {
            c.inc_by(to - now);
        }
    }

    /// Reads what is read at scrape time (the schedule, the calendars, the store) and encodes
    /// every metric. A store that cannot be read leaves its figures as they were and is logged.
    fn render(&self, state: &AppState) -> Result<String, String> {
        let snap = state.snapshot();
        self.reload_failing
            .set(i64::from(snap.reload_error.is_some()));
        self.loaded_at.set(snap.loaded_at.timestamp());
        self.state_version.set(snap.state_version);
        let cals = state.calendars();
        self.calendar_up.reset();
        self.calendar_success.reset();
        for (s, _) in &cals.statuses {
            self.calendar_up
                .with_label_values(&[&s.location])
                .set(i64::from(s.ok));
            if let Some(t) = s.last_success {
                self.calendar_success
                    .with_label_values(&[&s.location])
                    .set(t.timestamp());
            }
        }
        let due = {
            let mut last = self.store_read.lock().unwrap_or_else(|p| p.into_inner());
            let due = last
                .is_none_or(|(t, v)| t.elapsed() >= STORE_FIGURES_EVERY || v != snap.state_version);
            if due {
                *last = Some((std::time::Instant::now(), snap.state_version));
            }
            due
        };
        if due {
            self.read_store(state);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .map_err(|e| e.to_string())?;
        String::from_utf8(out).map_err(|e| e.to_string())
    }

    /// The ledger and swap figures, from the store. One that cannot be read leaves its figures
    /// as they were, and is logged.
    fn read_store(&self, state: &AppState) {
        match state.store().ledger_counts() {
            Ok(counts) => {
                let mut sending = 0;
                let mut retry = 0;
                let mut by_kind: std::collections::BTreeMap<&str, (u64, u64, u64)> =
                    Default::default();
                for c in &counts {
                    let k = by_kind.entry(c.kind.as_str()).or_default();
                    k.2 += c.retries;
                    match c.state {
                        rota_store::LedgerState::Sent => k.0 += c.entries,
                        rota_store::LedgerState::Failed => k.1 += c.entries,
                        rota_store::LedgerState::Sending => sending += c.entries,
                        rota_store::LedgerState::Retry => retry += c.entries,
                        rota_store::LedgerState::Superseded => {}
                    }
                }
                self.queue
                    .with_label_values(&["sending"])
                    .set(sending as i64);
                self.queue.with_label_values(&["retry"]).set(retry as i64);
                for (kind, (sent, failed, retried)) in by_kind {
                    Metrics::raise(&self.sent, kind, sent);
                    Metrics::raise(&self.failed, kind, failed);
                    Metrics::raise(&self.retried, kind, retried);
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read the ledger"),
        }
        match state.store().swap_counts(state.now()) {
            Ok(counts) => {
                self.swaps.reset();
                for (s, n) in counts {
                    self.swaps.with_label_values(&[s.as_str()]).set(n as i64);
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read the swap requests"),
        }
    }
}

/// Whether `req` carries `Authorization: Bearer token`, compared in constant time.
fn authorized(req: &HttpRequest, token: &str) -> bool {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`
pub(crate) async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.config().metrics_token
        && !authorized(&req, token)
    {
        return Err(ApiError::unauthorized(
            "/metrics needs Authorization: Bearer with the metrics token (ROTA_METRICS_TOKEN)",
        ));
    }
    let st = state.get_ref().clone();
    // The store queries are blocking I/O: off the async workers.
    let text = web::block(move || st.metrics().render(&st))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
        .map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(text))
}
