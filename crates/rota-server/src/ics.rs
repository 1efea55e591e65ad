//! The two calendar feed routes. What a feed contains (UIDs, DTSTAMP, SEQUENCE, TRANSP) is decided
//! in the `rota-ics` crate, shared with the reminder attachments; this module serves it: one
//! `VEVENT` per resolved shift in the window (30 days back to 365 days ahead of today, 00:00 UTC),
//! person feeds behind a secret token, and HTTP caching:
//!
//! - **Validators.** `ETag` is a hash of the body, weak (`W/"…"`) because the same feed may go out
//!   gzipped or not (a strong tag would promise byte-identical representations). `Last-Modified`
//!   is the later of when the schedule snapshot was published (start, reload, or a write) and
//!   00:00 UTC of the feed's day (the feed's `DTSTAMP` changes then): stable across requests.
//! - **Conditional requests** (RFC 9110 section 13.2.2): `If-None-Match` is compared weakly (`*`,
//!   `"tag"` and `W/"tag"` all match) and, when present, decides alone; otherwise
//!   `If-Modified-Since` at or after `Last-Modified` gives `304`. A malformed condition header is
//!   ignored, as the RFC asks.
//! - **Rendered feeds are cached** ([`FeedCache`]) by feed, feed day and snapshot version, so a
//!   repeat request, conditional or not, neither resolves nor renders. `If-Modified-Since` is
//!   answered before any rendering; `If-None-Match` too once the feed is in the cache (the tag is
//!   a hash of the body, so the first request after a change must render to know it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use actix_web::http::header::{
    self, CacheControl, CacheDirective, ETag, EntityTag, Header, HttpDate, IfModifiedSince,
    IfNoneMatch, LastModified,
};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
pub use rota_ics::{DAYS_AHEAD, DAYS_BACK, etag, render, window};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::{AppState, Snapshot};

/// Which feed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Feed {
    Rotation(String),
    Person(String),
}

/// A rendered feed and its validators.
#[derive(Debug)]
pub(crate) struct Rendered {
    body: Bytes,
    etag: EntityTag,
}

/// Rendered feeds of one generation: one snapshot version and one feed day. Everything in it is
/// current until the schedule changes or the day turns; then the first request of the new
/// generation empties it. So it holds at most one entry per rotation and person of the schedule
/// (unknown ids are refused before the cache is asked), and never anything stale.
#[derive(Debug, Default)]
pub struct FeedCache {
    inner: Mutex<Generation>,
}

#[derive(Debug, Default)]
struct Generation {
    /// `(snapshot version, feed day)`.
    key: (u64, DateTime<Utc>),
    feeds: HashMap<Feed, Arc<Rendered>>,
}

impl FeedCache {
    fn get(&self, generation: (u64, DateTime<Utc>), feed: &Feed) -> Option<Arc<Rendered>> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if g.key != generation {
            return None;
        }
        g.feeds.get(feed).cloned()
    }

    fn put(&self, generation: (u64, DateTime<Utc>), feed: Feed, r: Arc<Rendered>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // A request that read an older snapshot (or an earlier day) finishing late must not
        // replace the newer generation's entries.
        if generation < g.key {
            return;
        }
        if generation > g.key {
            g.key = generation;
            g.feeds.clear();
        }
        g.feeds.insert(feed, r);
    }
}

/// `Last-Modified` of a feed of `snap` for the feed day `stamp`, to the second (HTTP dates have
/// no fractions, so a finer value would never compare equal to what the client sends back).
fn last_modified(snap: &Snapshot, stamp: DateTime<Utc>) -> HttpDate {
    let t = snap.published_at.max(stamp);
    let secs = u64::try_from(t.timestamp()).unwrap_or(0);
    HttpDate::from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// What the request's conditions say: `Some(true)` not modified, `Some(false)` modified, `None`
/// cannot tell without the entity tag (there is an `If-None-Match` and no tag yet).
fn not_modified(req: &HttpRequest, tag: Option<&EntityTag>, modified: HttpDate) -> Option<bool> {
    if req.headers().contains_key(header::IF_NONE_MATCH) {
        return match IfNoneMatch::parse(req) {
            Ok(IfNoneMatch::Any) => Some(true),
            // (actix drops the items that do not parse, so an empty list was malformed.)
            Ok(IfNoneMatch::Items(items)) if !items.is_empty() => {
                tag.map(|tag| items.iter().any(|t| t.weak_eq(tag)))
            }
            // Malformed: evaluate as if absent (RFC 9110 section 13.1: a server may ignore it),
            // which falls through to If-Modified-Since.
            _ => not_modified_since(req, modified),
        };
    }
    not_modified_since(req, modified)
}

fn not_modified_since(req: &HttpRequest, modified: HttpDate) -> Option<bool> {
    if !req.headers().contains_key(header::IF_MODIFIED_SINCE) {
        return Some(false);
    }
    Some(match IfModifiedSince::parse(req) {
        Ok(IfModifiedSince(since)) => modified <= since,
        Err(_) => false,
    })
}

fn respond(rendered: Option<&Rendered>, modified: HttpDate, not_modified: bool) -> HttpResponse {
    let mut res = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    if let Some(r) = rendered {
        res.insert_header(ETag(r.etag.clone()));
    }
    res.insert_header(LastModified(modified))
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::MaxAge(300),
        ]));
    match rendered {
        Some(r) if !not_modified => res
            .content_type("text/calendar; charset=utf-8")
            .body(r.body.clone()),
        _ => res.finish(),
    }
}

/// Serves `feed`: the conditions first, then the cache, then `render` (and caches what it made).
fn serve_feed(
    req: &HttpRequest,
    state: &AppState,
    snap: &Snapshot,
    stamp: DateTime<Utc>,
    feed: Feed,
    render: impl FnOnce() -> Result<String, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let generation = (snap.version, stamp);
    let modified = last_modified(snap, stamp);
    let cached = state.feeds().get(generation, &feed);
    match not_modified(req, cached.as_ref().map(|r| &r.etag), modified) {
        Some(true) => return Ok(respond(cached.as_deref(), modified, true)),
        Some(false) if cached.is_some() => {
            return Ok(respond(cached.as_deref(), modified, false));
        }
        _ => {}
    }
    let body = render()?;
    let tag = etag(&body);
    let rendered = Arc::new(Rendered {
        etag: EntityTag::new_weak(tag.trim_matches('"').to_string()),
        body: Bytes::from(body),
    });
    state.feeds().put(generation, feed, rendered.clone());
    let unchanged = not_modified(req, Some(&rendered.etag), modified) == Some(true);
    Ok(respond(Some(&rendered), modified, unchanged))
}

fn strip_ics(file: &str) -> Result<&str, ApiError> {
    file.strip_suffix(".ics")
        .ok_or_else(|| ApiError::not_found(format!("no calendar {file:?}: feeds end in .ics")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoQuery {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// `GET /calendars/rotations/{id}.ics` and `GET /calendars/people/{id}.ics?token=SECRET`.
///
/// One handler for the `/calendars` scope, which splits the path itself: actix-router matches a
/// `{file}` segment with a regex, and the two feed routes' regexes were about 12 % of a feed
/// request's CPU in a profile under load (BENCHMARKS.md). The path is the one actix's routes see
/// (percent-decoded, `match_info().unprocessed()`), so URLs mean what they meant.
pub(crate) async fn feeds(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let method = req.method();
    if method != actix_web::http::Method::GET && method != actix_web::http::Method::HEAD {
        return crate::not_found(req).await;
    }
    let rest = req.match_info().unprocessed().to_string();
    let served = match rest.strip_prefix('/').and_then(|r| r.split_once('/')) {
        Some(("rotations", file)) if !file.is_empty() && !file.contains('/') => {
            web::Query::<NoQuery>::from_query(req.query_string())
                .map_err(crate::error::query_error)
                .and_then(|_| rotation_feed(&state, &req, file))
        }
        Some(("people", file)) if !file.is_empty() && !file.contains('/') => {
            web::Query::<TokenQuery>::from_query(req.query_string())
                .map_err(crate::error::query_error)
                .and_then(|q| {
                    person_feed(&state, &req, file, q.into_inner().token.unwrap_or_default())
                })
        }
        _ => return crate::not_found(req).await,
    };
    served.unwrap_or_else(|e| e.error_response())
}

fn rotation_feed(
    state: &AppState,
    req: &HttpRequest,
    file: &str,
) -> Result<HttpResponse, ApiError> {
    let id = strip_ics(file)?;
    let snap = state.snapshot();
    let schedule = &snap.schedule;
    let rotation = schedule
        .rotation(id)
        .ok_or_else(|| ApiError::not_found(crate::api::unknown(schedule, "rotation", id)))?;
    let (stamp, from, to) = window(state.now());
    serve_feed(
        req,
        state,
        &snap,
        stamp,
        Feed::Rotation(rotation.id.clone()),
        || {
            let shifts = schedule.shifts(&rotation.id, from, to)?;
            Ok(render(schedule, &rotation.name, &shifts, stamp))
        },
    )
}

fn person_feed(
    state: &AppState,
    req: &HttpRequest,
    file: &str,
    token: String,
) -> Result<HttpResponse, ApiError> {
    let id = strip_ics(file)?.to_string();
    // Checked here, not on a blocking thread: the check never waits for a write and costs an HMAC
    // when nothing changed (`Store::verify_feed_token` reads the store at most once a second).
    let ok = state.store().verify_feed_token(&id, &token)?;
    let snap = state.snapshot();
    let schedule = &snap.schedule;
    // An unknown person and a wrong token look the same, so feed URLs cannot be probed for names.
    let person = match schedule.person(&id) {
        Some(p) if ok => p,
        _ => {
            return Err(ApiError::not_found(
                "no such calendar feed (check the URL and its token)",
            ));
        }
    };
    let (stamp, from, to) = window(state.now());
    serve_feed(req, state, &snap, stamp, Feed::Person(id.clone()), || {
        let shifts = schedule.shifts_for_person(&id, from, to)?;
        Ok(render(
            schedule,
            &format!("On call: {}", person.name),
            &shifts,
            stamp,
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::http::StatusCode;
    use actix_web::http::header::{self, HeaderValue};
    use actix_web::{test, web};
    use chrono::{DateTime, Utc};

    use crate::state::Clock;
    use crate::swaps::tests::{Hand, state};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const FEED: &str = "/calendars/rotations/support-hero.ics";

    /// GET `FEED` with `headers`: (status, ETag, Last-Modified, body).
    async fn get(
        app: &impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
        headers: &[(&str, &str)],
    ) -> (StatusCode, String, String, String) {
        let mut req = test::TestRequest::get().uri(FEED);
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let res = test::call_service(app, req.to_request()).await;
        let status = res.status();
        let h = |name| {
            res.headers()
                .get(name)
                .map(|v: &HeaderValue| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let (etag, modified) = (h(header::ETAG), h(header::LAST_MODIFIED));
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        (status, etag, modified, body)
    }

    /// Issue 11, point 8: the feeds are matched by hand (no router regex), and every URL means
    /// what it meant when actix matched `{file}`: percent-decoded ids, GET and HEAD only,
    /// unknown query parameters refused, anything else a 404 problem.
    #[actix_web::test]
    async fn r11_8_feed_urls_are_matched_without_the_router_and_mean_what_they_meant() {
        use actix_web::http::Method;
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(Mutex::new(t("2026-11-23T10:00:00Z"))));
        let st = state(dir.path(), clock);
        let token = st.store().feed_token("alice").unwrap();
        let app = test::init_service(crate::app(web::Data::new(st))).await;
        let mine = format!("/calendars/people/alice.ics?token={token}");
        let encoded = format!("/calendars/people/al%69ce.ics?token={token}");
        let cases: Vec<(Method, &str, u16)> = vec![
            (Method::GET, FEED, 200),
            (Method::HEAD, FEED, 200),
            (Method::GET, "/calendars/rotations/support-%68ero.ics", 200),
            (Method::GET, &mine, 200),
            (Method::HEAD, &mine, 200),
            (Method::GET, &encoded, 200),
            (Method::GET, "/calendars/people/alice.ics?token=nope", 404),
            (Method::GET, "/calendars/people/alice.ics", 404),
            (
                Method::GET,
                "/calendars/rotations/support-hero.ics?x=1",
                400,
            ),
            (Method::GET, "/calendars/rotations/support-hero", 404),
            (Method::GET, "/calendars/rotations/nope.ics", 404),
            (Method::POST, FEED, 404),
            (Method::DELETE, &mine, 404),
            (Method::GET, "/calendars/rotations/", 404),
            (Method::GET, "/calendars/rotations/a/b.ics", 404),
            (Method::GET, "/calendars/other/x.ics", 404),
            (Method::GET, "/calendars", 404),
            (Method::GET, "/calendars/", 404),
        ];
        for (method, uri, status) in cases {
            let req = test::TestRequest::default()
                .method(method.clone())
                .uri(uri)
                .to_request();
            let res = test::call_service(&app, req).await;
            assert_eq!(res.status().as_u16(), status, "{method} {uri}");
            if status >= 400 {
                assert_eq!(
                    res.headers().get(header::CONTENT_TYPE).unwrap(),
                    "application/problem+json",
                    "{method} {uri}"
                );
            }
        }
    }

    #[actix_web::test]
    async fn if_none_match_is_weak_and_if_modified_since_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(Mutex::new(t("2026-11-23T10:00:00Z"))));
        let st = state(dir.path(), clock.clone());
        let app = test::init_service(crate::app(web::Data::new(st))).await;
        let (status, etag, modified, body) = get(&app, &[]).await;
        assert_eq!(status, 200);
        let either = format!("\"nope\", {etag}");
        assert!(body.starts_with("BEGIN:VCALENDAR"));
        // Weak, because the same feed goes out gzipped or not.
        let opaque = etag.strip_prefix("W/").expect("a weak ETag");
        assert!(opaque.starts_with('"') && opaque.ends_with('"'), "{etag}");
        // Published at start (10:00), after 00:00 of the feed day.
        assert_eq!(modified, "Mon, 23 Nov 2026 10:00:00 GMT");

        let not_modified = [
            vec![("if-none-match", etag.as_str())],
            vec![("if-none-match", opaque)],
            vec![("if-none-match", "*")],
            vec![("if-none-match", either.as_str())],
            vec![("if-modified-since", modified.as_str())],
            vec![("if-modified-since", "Tue, 24 Nov 2026 00:00:00 GMT")],
            // A malformed If-None-Match is ignored; If-Modified-Since then decides.
            vec![
                ("if-none-match", "no quotes"),
                ("if-modified-since", &modified),
            ],
        ];
        for headers in &not_modified {
            let (status, tag, lm, body) = get(&app, headers).await;
            assert_eq!(status, 304, "{headers:?}");
            assert_eq!(
                (tag.as_str(), lm.as_str()),
                (etag.as_str(), modified.as_str())
            );
            assert!(body.is_empty(), "{headers:?}");
        }
        let modified_since = [
            vec![("if-none-match", "\"nope\"")],
            vec![("if-none-match", "W/\"nope\"")],
            vec![("if-modified-since", "Mon, 23 Nov 2026 09:59:59 GMT")],
            vec![("if-modified-since", "yesterday")],
            // If-None-Match, when present, decides alone (RFC 9110 section 13.2.2).
            vec![
                ("if-none-match", "\"nope\""),
                ("if-modified-since", &modified),
            ],
        ];
        for headers in &modified_since {
            let (status, tag, _, got) = get(&app, headers).await;
            assert_eq!(status, 200, "{headers:?}");
            assert_eq!(tag, etag);
            assert_eq!(got, body, "{headers:?}");
        }
    }

    #[actix_web::test]
    async fn cached_feeds_follow_writes_reloads_and_the_day() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(Mutex::new(t("2026-11-23T10:00:00Z"))));
        let st = state(dir.path(), clock.clone());
        let app = test::init_service(crate::app(web::Data::new(st.clone()))).await;
        let fresh = |st: &crate::AppState| {
            let snap = st.snapshot();
            let (stamp, from, to) = super::window(st.now());
            let shifts = snap.schedule.shifts("support-hero", from, to).unwrap();
            super::render(&snap.schedule, "Support Hero", &shifts, stamp)
        };
        let (_, etag1, lm1, body1) = get(&app, &[]).await;
        assert_eq!(body1, fresh(&st));

        // Later the same day, nothing changed: the same feed and validators.
        *clock.0.lock().unwrap() = t("2026-11-23T17:00:00Z");
        let (_, etag, lm, body) = get(&app, &[]).await;
        assert_eq!((&etag, &lm, &body), (&etag1, &lm1, &body1));

        // A write (Bob covers a day of the hero's week) changes the feed at once.
        st.store()
            .add_override(
                rota_store::NewOverride {
                    rotation: "support-hero".into(),
                    person: "bob".into(),
                    start: t("2026-12-01T09:00:00Z"),
                    end: t("2026-12-02T09:00:00Z"),
                    reason: Some("cover".into()),
                },
                "alice",
                clock.now(),
            )
            .unwrap();
        st.rebuild().unwrap();
        let (status, etag2, lm2, body2) = get(&app, &[("if-none-match", &etag1)]).await;
        assert_eq!(status, 200, "the old tag no longer matches");
        assert_ne!(etag2, etag1);
        assert_eq!(lm2, "Mon, 23 Nov 2026 17:00:00 GMT");
        assert_eq!(body2, fresh(&st));
        assert!(body2.contains("override: cover"));
        let (status, ..) = get(&app, &[("if-modified-since", &lm1)]).await;
        assert_eq!(status, 200, "modified since the first Last-Modified");

        // A reload publishes a new snapshot: Last-Modified moves, the text (same files) does not.
        *clock.0.lock().unwrap() = t("2026-11-23T18:00:00Z");
        st.reload().unwrap();
        let (_, etag3, lm3, body3) = get(&app, &[]).await;
        assert_eq!((&etag3, &body3), (&etag2, &body2));
        assert_eq!(lm3, "Mon, 23 Nov 2026 18:00:00 GMT");

        // The next day the window and DTSTAMP move: a new feed, modified at 00:00 of its day.
        *clock.0.lock().unwrap() = t("2026-11-24T00:00:01Z");
        let (status, etag4, lm4, body4) = get(&app, &[("if-none-match", &etag3)]).await;
        assert_eq!(status, 200);
        assert_ne!(etag4, etag3);
        assert_eq!(lm4, "Tue, 24 Nov 2026 00:00:00 GMT");
        assert_eq!(body4, fresh(&st));
        assert!(body4.contains("DTSTAMP:20261124T000000Z"));
    }

    #[actix_web::test]
    async fn feeds_are_gzipped_when_asked_and_decode_to_the_same_text() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(Mutex::new(t("2026-11-23T10:00:00Z"))));
        let app = test::init_service(crate::app(web::Data::new(state(dir.path(), clock)))).await;
        let (_, _, _, plain) = get(&app, &[]).await;
        let req = test::TestRequest::get()
            .uri(FEED)
            .insert_header(("accept-encoding", "gzip"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
        let etag = res.headers().get(header::ETAG).unwrap().to_str().unwrap();
        assert!(etag.starts_with("W/"), "{etag}");
        let gz = test::read_body(res).await;
        assert!(
            gz.len() * 4 < plain.len(),
            "{} vs {}",
            gz.len(),
            plain.len()
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, plain);
        // Not asked, not compressed; and never anything but gzip (brotli is not built in).
        let req = test::TestRequest::get()
            .uri(FEED)
            .insert_header(("accept-encoding", "br"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert!(
            res.headers()
                .get(header::CONTENT_ENCODING)
                .is_none_or(|v| v == "identity")
        );
    }
}
