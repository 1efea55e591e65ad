//! Time off and fairness over HTTP: `GET /api/v1/conflicts`, `GET /api/v1/report`, the report page
//! (`GET /report`, with a chart) and the conflicts section of the schedule page.
//!
//! The rules (what a conflict is, who is suggested and in what order, what the report counts) are
//! rota-core's `timeoff` module's; this module only reads the absence index and holiday dates the
//! refresher published ([`AppState::calendars`]; built once per calendar read, so a request does
//! no calendar expansion) and renders the answers. `GET /api/v1/conflicts` also says which span
//! the index covers (`absences_window`) and whether the range asked for lies inside it.
//!
//! Absence *summaries* never leave the service here: an out-of-office title ("Oncology
//! appointment") can be private, and these endpoints are as open as the schedule. The person's own
//! conflict email (rota-notify) does carry them. Every response says whether all calendars were
//! read successfully the last time (`calendars_ok`), since a failing source means the answer may be
//! stale.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use maud::{Markup, html};
use rota_core::Schedule;
use rota_core::timeoff::{Conflict, Report, Suggestion, TimeOff};
use rota_core::view::{ConflictView, ReportView, hours, utc};
use serde::{Deserialize, Serialize};

use crate::api::{RangeQuery, range_or};
use crate::error::ApiError;
use crate::pages::{PageError, SWAP_FORM_WEEKS, layout, respond};
use crate::state::AppState;

/// Default length of `GET /api/v1/conflicts` when `to` is not given.
pub const CONFLICT_DAYS: i64 = 91;
/// The report's default window: this many days before now to this many days after.
pub const REPORT_DAYS: i64 = 91;

/// Registers the JSON routes on the `/api/v1` scope.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/conflicts", crate::get().to(conflicts))
        .route("/report", crate::get().to(report));
}

fn zone(s: &Schedule) -> rota_core::Tz {
    s.hero_rotation().map_or(rota_core::Tz::UTC, |r| r.timezone)
}

/// The absences for conflicts in `[from, to)` and trade-backs up to `until`.
pub(crate) fn time_off_for(
    state: &AppState,
    s: &Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    until: DateTime<Utc>,
) -> TimeOff {
    state.calendars().time_off_for(s, from, to, until)
}

/// Conflicts in `[from, to)` with their suggestions (trade-backs up to [`SWAP_FORM_WEEKS`] ahead,
/// what the swap form offers).
pub(crate) fn conflicts_with_suggestions<'s>(
    s: &'s Schedule,
    off: &TimeOff,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(Conflict<'s>, Vec<Suggestion<'s>>)>, rota_core::Error> {
    let until = now + Duration::weeks(SWAP_FORM_WEEKS);
    let mut out = Vec::new();
    // A hero away during a linked week is one conflict, under the hero shift (rota_core::stretch).
    for c in rota_core::stretch::fold_linked_conflicts(s.conflicts(off, from, to)?) {
        let sug = s.suggestions(off, &c.shift, now, until)?;
        out.push((c, sug));
    }
    Ok(out)
}

/// `GET /api/v1/conflicts?from=&to=`: shifts whose person is away for some of them, with the
/// colleagues who could trade, best first. `from` defaults to now and `to` to
/// [`CONFLICT_DAYS`] later.
#[utoipa::path(
    get,
    path = "/api/v1/conflicts",
    tag = "time off",
    params(RangeQuery),
    responses(
        (status = 200, description = "Shifts whose person is away, with who could trade", body = ConflictsView),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn conflicts(
    state: web::Data<AppState>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let now = state.now();
    let (from, to) = range_or(&q, zone(&snap.schedule), now, Duration::days(CONFLICT_DAYS))?;
    let state = state.get_ref().clone();
    // Expanding calendars and ranking is CPU work: off the async workers.
    let body = off_worker(move || {
        let s = &snap.schedule;
        let until = now + Duration::weeks(SWAP_FORM_WEEKS);
        let off = time_off_for(&state, s, from, to, until);
        let found = conflicts_with_suggestions(s, &off, from, to, now)?;
        let views: Vec<ConflictView<'_>> = found
            .iter()
            .map(|(c, sug)| {
                let mut v = ConflictView::new(c, sug);
                for a in &mut v.absences {
                    a.summary = "";
                }
                v
            })
            .collect();
        let cals = state.calendars();
        // Absences are indexed over a window (rota_calendar::set): say which, and whether the
        // range asked for lies inside it; outside it nobody is known to be away.
        let window = cals.window().map(|(a, b)| Window {
            from: utc(a),
            to: utc(b),
        });
        let body = ConflictsView {
            from: utc(from),
            to: utc(to),
            calendars_ok: cals.healthy(),
            absences_window: window,
            absences_cover_range: cals.covers(from, to),
            conflicts: views,
        };
        Ok(serde_json::to_value(&body).unwrap_or_default())
    })
    .await?;
    Ok(json(&body))
}

/// Runs `f` on actix's blocking pool.
pub(crate) async fn off_worker<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportQuery {
    /// Start of the window (RFC 3339 or a date). Default: 91 days ago.
    #[param(value_type = Option<crate::api::Time>)]
    from: Option<String>,
    /// End of the window (exclusive). Default: 91 days from now (182 days after `from` when only
    /// `from` is given).
    #[param(value_type = Option<crate::api::Time>)]
    to: Option<String>,
}

/// The window the absence calendars were expanded over.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Window {
    /// RFC 3339 UTC instant.
    pub from: String,
    /// RFC 3339 UTC instant.
    pub to: String,
}

/// The answer of `GET /api/v1/conflicts`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConflictsView<'s> {
    /// RFC 3339 UTC instant: the range asked about.
    pub from: String,
    /// RFC 3339 UTC instant.
    pub to: String,
    /// Whether every absence calendar read well the last time (else its last good copy is used).
    pub calendars_ok: bool,
    /// The window absences are known over, once calendars have been read.
    pub absences_window: Option<Window>,
    /// Whether that window covers the range asked about (outside it nobody is known to be away).
    pub absences_cover_range: bool,
    /// The shifts whose person is away, with who could trade.
    pub conflicts: Vec<ConflictView<'s>>,
}

/// The answer of `GET /api/v1/report`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportBody<'a> {
    /// The report.
    #[serde(flatten)]
    pub report: ReportView<'a>,
    /// Whether every holiday calendar read well the last time.
    pub calendars_ok: bool,
}

fn report_range(
    q: &ReportQuery,
    s: &Schedule,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    // As `rota report`: `from` defaults to REPORT_DAYS ago and `to` to REPORT_DAYS from now; with
    // `from` alone, `to` is twice REPORT_DAYS after it (range_or's default).
    let days = Duration::days(REPORT_DAYS);
    let rq = RangeQuery {
        from: Some(q.from.clone().unwrap_or_else(|| utc(now - days))),
        to: match (&q.from, &q.to) {
            (Some(_), None) => None,
            (_, t) => Some(t.clone().unwrap_or_else(|| utc(now + days))),
        },
    };
    range_or(&rq, zone(s), now, days * 2)
}

fn build_report(
    state: &AppState,
    s: &Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Report, usize), ApiError> {
    let holidays = state.calendars().holidays(from, to);
    let r = s.report(from, to, &holidays)?;
    // The holidays inside the window (the set also holds a day either side, for wall clocks
    // ahead of or behind UTC).
    let n = holidays
        .between(
            from.date_naive(),
            (to - Duration::seconds(1))
                .date_naive()
                .succ_opt()
                .unwrap_or(to.date_naive()),
        )
        .count();
    Ok((r, n))
}

/// `GET /api/v1/report?from=&to=`: the fairness report. `from` defaults to [`REPORT_DAYS`] days
/// ago, `to` to as many days from now (twice that after `from` when only `from` is given).
#[utoipa::path(
    get,
    path = "/api/v1/report",
    tag = "time off",
    params(ReportQuery),
    responses(
        (status = 200, description = "The fairness report", body = ReportBody),
        (status = 400, description = "Bad input, naming the field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The state store failed; retry", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn report(
    state: web::Data<AppState>,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let (from, to) = report_range(&q, &snap.schedule, state.now())?;
    let st = state.get_ref().clone();
    let (r, n) = off_worker(move || build_report(&st, &snap.schedule, from, to)).await?;
    let body = ReportBody {
        report: ReportView::new(&r, n),
        calendars_ok: state.calendars().healthy(),
    };
    Ok(json(&serde_json::to_value(&body).unwrap_or_default()))
}

fn json(v: &serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(v.to_string())
}

fn local(t: DateTime<Utc>, zone: rota_core::Tz) -> String {
    t.with_timezone(&zone)
        .format("%a %-d %b %Y %H:%M")
        .to_string()
}

/// The swap form for `c`'s shift, pre-filled with suggestion `sug` when given.
pub(crate) fn swap_link(c: &Conflict<'_>, sug: Option<&Suggestion<'_>>) -> String {
    let span = |p: Option<(DateTime<Utc>, DateTime<Utc>)>| p.map(|(a, b)| (utc(a), utc(b)));
    let (part, theirs) = (
        span(sug.and_then(|x| x.part)),
        span(sug.and_then(|x| x.give_back_part)),
    );
    crate::paths::swap_form_parts(
        &c.shift.rotation.id,
        c.shift.slot,
        sug.map(|x| (x.give_back.person.id.as_str(), Some(x.give_back.slot))),
        part.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        theirs.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
    )
}

/// The schedule page's conflicts section for `[now, to)`: empty when there are none and no
/// calendar is configured. Times are on the clock of the shift's rotation, which is named.
pub(crate) fn conflicts_section(
    state: &AppState,
    s: &Schedule,
    now: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Markup {
    let cals = state.calendars();
    if cals.statuses.is_empty() {
        return html! {};
    }
    let until = now + Duration::weeks(SWAP_FORM_WEEKS);
    let off = time_off_for(state, s, now, to, until);
    let found = conflicts_with_suggestions(s, &off, now, to, now).unwrap_or_default();
    html! {
        h2 #conflicts { "Conflicts" }
        @if !cals.healthy() {
            p.muted { "Some absence calendars could not be read the last time; see "
                a href=(crate::paths::HEALTHZ) { "/healthz" } ". The list below uses their last good copies." }
        }
        @if found.is_empty() {
            p.muted { "Nobody is on call while away in the next weeks." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Conflicts" { table {
                thead { tr { th { "Shift" } th { "Away" } th { "Could trade, fairest first" } } }
                tbody {
                    @for (c, sug) in &found {
                        @let z = c.shift.rotation.timezone;
                        tr {
                            td {
                                strong { (c.shift.person.name) } " in " (c.shift.rotation.name) br;
                                (local(c.shift.start, z)) " to " (local(c.shift.end, z))
                                " " span.muted { "(" (z.name()) ")" }
                            }
                            td {
                                @for (i, a) in c.absences.iter().enumerate() {
                                    @if i > 0 { br; }
                                    (local(a.start, z)) " to " (local(a.end, z)) " " span.muted { "(" (z.name()) ")" }
                                }
                            }
                            td {
                                @if sug.is_empty() {
                                    span.muted { "nobody free with a shift to trade back" }
                                }
                                @for (i, x) in sug.iter().take(3).enumerate() {
                                    @if i > 0 { br; }
                                    a href=(swap_link(c, Some(x))) { (x.give_back.person.name) }
                                    " " span.muted { "(takes this; gives " (local(x.give_back.start, z)) ")" }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// `GET /report?from=&to=`: the fairness report as a page: a chart of everyone's on-call hours
/// (weekend and holiday hours marked), the spread, and a table per rotation. Bad input is an HTML
/// error page, as on every page.
pub(crate) async fn report_page(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, PageError> {
    let who = crate::pages::auth::session(&state, &req).await?;
    let snap = state.snapshot();
    let (from, to) = report_range(&q, &snap.schedule, state.now())?;
    let st = state.get_ref().clone();
    let sched = snap.schedule.clone();
    let (r, n) = off_worker(move || build_report(&st, &sched, from, to)).await?;
    let s = &snap.schedule;
    let z = zone(s);
    let body = html! {
        h1 { "Fairness" }
        p.muted { "From " (local(from, z)) " to " (local(to, z)) " (" (z.name()) "). "
            (n) " public holiday" (if n == 1 { "" } else { "s" }) " known in this window." }
        (chart(&r, s))
        @if let Some(o) = &r.overall {
            p { "Spread: " strong { (format!("{:.1} h", hours(o.secs()))) } " between "
                (name(s, &o.most.0)) (format!(" ({:.1} h) and ", hours(o.most.1)))
                (name(s, &o.least.0)) (format!(" ({:.1} h).", hours(o.least.1))) }
        }
        @for rot in s.rotations() {
            h2 { (rot.name) }
            @if let Some(x) = r.spreads.iter().find(|x| x.rotation.as_deref() == Some(&rot.id)) {
                p.muted { (format!("Spread {:.1} h.", hours(x.secs()))) }
            }
            div.scroll tabindex="0" role="region" aria-label={ (rot.name) ": loads" } { table {
                thead { tr { th { "Who" } th { "Shifts" } th { "Hours" } th { "Weekend" } th { "Holiday" } th { "Given" } th { "Taken" } } }
                tbody {
                    @for l in r.loads.iter().filter(|l| l.rotation == rot.id) {
                        tr {
                            td { (name(s, &l.person)) } td { (l.shifts) }
                            td { (format!("{:.1}", hours(l.secs))) }
                            td { (format!("{:.1}", hours(l.weekend_secs))) }
                            td { (format!("{:.1}", hours(l.holiday_secs))) }
                            td { (format!("{} ({:.1} h)", l.overrides_given, hours(l.given_secs))) }
                            td { (format!("{} ({:.1} h)", l.overrides_taken, hours(l.taken_secs))) }
                        }
                    }
                }
            } }
        }
        p.muted { "As JSON: " a href="/api/v1/report" { "/api/v1/report" }
            ". Weekends and holidays are on each person's own clock." }
    };
    let me = who.and_then(|w| s.person(&w.person).map(|p| p.name.clone()));
    Ok(respond(
        StatusCode::OK,
        layout("Fairness – rota", me.as_deref(), body),
    ))
}

fn name<'a>(s: &'a Schedule, id: &'a str) -> &'a str {
    s.person(id).map_or(id, |p| p.name.as_str())
}

/// A horizontal bar per person: total on-call hours, with the weekend and holiday parts drawn
/// over it. Plain SVG, no script (the pages' CSP allows none). Hours are printed to one decimal,
/// as in the tables below it, so the chart and the table never disagree by a rounding.
fn chart(r: &Report, s: &Schedule) -> Markup {
    let rows: Vec<_> = r
        .totals
        .iter()
        .filter(|t| t.secs > 0 || r.loads.iter().any(|l| l.person == t.person))
        .collect();
    let max = rows.iter().map(|t| t.secs).max().unwrap_or(0).max(1) as f64;
    let (label_w, bar_w, row_h) = (130.0, 520.0, 26.0);
    let h = row_h * rows.len() as f64 + 30.0;
    let w = |secs: i64| secs as f64 / max * bar_w;
    let ly = row_h * rows.len() as f64 + 18.0;
    let f1 = |x: f64| format!("{x:.1}");
    html! {
        figure {
            svg role="img" aria-labelledby="chart-title" viewBox=(format!("0 0 {} {h}", label_w + bar_w + 80.0))
                width="100%" xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="system-ui,sans-serif" {
                title #chart-title { "On-call hours per person" }
                @for (i, t) in rows.iter().enumerate() {
                    @let y = i as f64 * row_h + 4.0;
                    @let hrs = f1(hours(t.secs));
                    g.bar data-person=(t.person) data-hours=(hrs) {
                        title { (name(s, &t.person)) ": " (hrs) " h on call, " (f1(hours(t.weekend_secs)))
                            " h at weekends, " (f1(hours(t.holiday_secs))) " h on holidays" }
                        text x="0" y=(y + 13.0) { (name(s, &t.person)) }
                        rect x=(label_w) y=(y) width=(f1(w(t.secs))) height="18" fill="#9db8e0" {}
                        rect x=(label_w) y=(y) width=(f1(w(t.weekend_secs))) height="9" fill="#2f5d9e" {}
                        rect x=(label_w) y=(y + 9.0) width=(f1(w(t.holiday_secs))) height="9" fill="#c0392b" {}
                        text x=(f1(label_w + w(t.secs) + 6.0)) y=(y + 13.0) { (hrs) " h" }
                    }
                }
                rect x=(label_w) y=(ly - 9.0) width="10" height="10" fill="#9db8e0" {}
                text x=(label_w + 14.0) y=(ly) { "all hours" }
                rect x=(label_w + 90.0) y=(ly - 9.0) width="10" height="10" fill="#2f5d9e" {}
                text x=(label_w + 104.0) y=(ly) { "weekend" }
                rect x=(label_w + 170.0) y=(ly - 9.0) width="10" height="10" fill="#c0392b" {}
                text x=(label_w + 184.0) y=(ly) { "public holiday" }
            }
            figcaption.muted { "On-call hours per person over the window, all rotations." }
        }
    }
}

/// For the swap form: when `person` is away during slot `slot` of `rotation`, a paragraph saying
/// so with the suggested colleagues as links that pre-fill the form. Empty otherwise.
pub(crate) fn suggestion_hint(
    state: &AppState,
    s: &Schedule,
    rotation: &str,
    slot: u64,
    person: &str,
    now: DateTime<Utc>,
) -> Markup {
    let Some(base) = s.base_shift(rotation, slot).ok().flatten() else {
        return html! {};
    };
    let until = now + Duration::weeks(SWAP_FORM_WEEKS);
    let off = time_off_for(state, s, base.start, base.end, until);
    let found = conflicts_with_suggestions(s, &off, base.start, base.end, now).unwrap_or_default();
    let Some((c, sug)) = found.iter().find(|(c, _)| {
        c.shift.rotation.id == rotation && c.shift.slot == slot && c.shift.person.id == person
    }) else {
        return html! {};
    };
    let z = c.shift.rotation.timezone;
    html! {
        @if sug.is_empty() {
            p.hero { "Your calendar says you are away during this shift. Nobody in the rotation is \
                      free to cover it with a shift to trade back; ask for a cover." }
        } @else {
            p.hero {
                "Your calendar says you are away during this shift. Who could cover, fairest first: "
                @for (i, x) in sug.iter().take(3).enumerate() {
                    @if i > 0 { ", " }
                    a.suggestion href=(swap_link(c, Some(x))) { (x.give_back.person.name) }
                    " " span.muted {
                        "("
                        @if let Some((a, b)) = x.part { (local(a, z)) " to " (local(b, z)) "; " }
                        "you take "
                        @if let Some((a, b)) = x.give_back_part { (local(a, z)) " to " (local(b, z)) }
                        @else { (local(x.give_back.start, z)) }
                        ")"
                    }
                }
                ". Times are " (z.name()) " time, the rotation's."
            }
        }
    }
}
