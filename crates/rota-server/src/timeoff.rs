//! Time off and fairness over HTTP: `GET /api/v1/conflicts`, `GET /api/v1/report`, the report page
//! (`GET /report`, with a chart) and the conflicts section of the schedule page.
//!
//! The rules (what a conflict is, who is suggested and in what order, what the report counts) are
//! rota-core's `timeoff` module's; this module only reads the calendars the refresher published
//! ([`AppState::calendars`]) for the window asked about and renders the answers.
//!
//! Absence *summaries* never leave the service here: an out-of-office title ("Oncology
//! appointment") can be private, and these endpoints are as open as the schedule. The person's own
//! conflict email (rota-notify) does carry them. Every response says whether all calendars were
//! read successfully the last time (`calendars_ok`), since a failing source means the answer may be
//! stale.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use rota_core::Schedule;
use rota_core::timeoff::{Conflict, Report, Suggestion, TimeOff};
use rota_core::view::{ConflictView, ReportView, hours, utc};
use serde::Deserialize;

use crate::api::{RangeQuery, range_or};
use crate::error::ApiError;
use crate::pages::{SWAP_FORM_WEEKS, esc, page};
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
    for c in s.conflicts(off, from, to)? {
        let sug = s.suggestions(off, &c.shift, now, until)?;
        out.push((c, sug));
    }
    Ok(out)
}

/// `GET /api/v1/conflicts?from=&to=`: shifts whose person is away for some of them, with the
/// colleagues who could trade, best first. `from` defaults to now and `to` to
/// [`CONFLICT_DAYS`] later.
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
        Ok(serde_json::json!({
            "from": utc(from),
            "to": utc(to),
            "calendars_ok": state.calendars().healthy(),
            "conflicts": views,
        }))
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
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
pub(crate) async fn report(
    state: web::Data<AppState>,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let (from, to) = report_range(&q, &snap.schedule, state.now())?;
    let st = state.get_ref().clone();
    let (r, n) = off_worker(move || build_report(&st, &snap.schedule, from, to)).await?;
    let mut body = serde_json::to_value(ReportView::new(&r, n)).unwrap_or_default();
    if let Some(o) = body.as_object_mut() {
        o.insert(
            "calendars_ok".into(),
            serde_json::Value::Bool(state.calendars().healthy()),
        );
    }
    Ok(json(&body))
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
    rota_core::view::swap_form_path(
        &c.shift.rotation.id,
        c.shift.slot,
        sug.map(|x| (x.give_back.person.id.as_str(), x.give_back.slot)),
    )
}

/// The schedule page's conflicts section for `[now, to)`: empty when there are none and no
/// calendar is configured.
pub(crate) fn conflicts_section(
    state: &AppState,
    s: &Schedule,
    now: DateTime<Utc>,
    to: DateTime<Utc>,
) -> String {
    let cals = state.calendars();
    if cals.statuses.is_empty() {
        return String::new();
    }
    let until = now + Duration::weeks(SWAP_FORM_WEEKS);
    let off = time_off_for(state, s, now, to, until);
    let found = conflicts_with_suggestions(s, &off, now, to, now).unwrap_or_default();
    let mut b = String::from("<h2 id=\"conflicts\">Conflicts</h2>");
    if !cals.healthy() {
        b.push_str("<p class=\"muted\">Some absence calendars could not be read the last time; see <a href=\"/healthz\">/healthz</a>. The list below uses their last good copies.</p>");
    }
    if found.is_empty() {
        b.push_str("<p class=\"muted\">Nobody is on call while away in the next weeks.</p>");
        return b;
    }
    b.push_str("<div class=\"scroll\"><table><thead><tr><th>Shift</th><th>Away</th><th>Could trade, fairest first</th></tr></thead><tbody>");
    for (c, sug) in &found {
        let z = c.shift.rotation.timezone;
        let away: Vec<String> = c
            .absences
            .iter()
            .map(|a| format!("{} to {}", esc(&local(a.start, z)), esc(&local(a.end, z))))
            .collect();
        let offers: Vec<String> = sug
            .iter()
            .take(3)
            .map(|x| {
                format!(
                    "<a href=\"{}\">{}</a> <span class=\"muted\">(takes this; gives {})</span>",
                    esc(&swap_link(c, Some(x))),
                    esc(&x.give_back.person.name),
                    esc(&local(x.give_back.start, z))
                )
            })
            .collect();
        let offers = if offers.is_empty() {
            "<span class=\"muted\">nobody free with a shift to trade back</span>".to_string()
        } else {
            offers.join("<br>")
        };
        b.push_str(&format!(
            "<tr><td><strong>{}</strong> in {}<br>{} to {}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.shift.person.name),
            esc(&c.shift.rotation.name),
            esc(&local(c.shift.start, z)),
            esc(&local(c.shift.end, z)),
            away.join("<br>"),
            offers
        ));
    }
    b.push_str("</tbody></table></div>");
    b
}

/// `GET /report?from=&to=`: the fairness report as a page: a chart of everyone's on-call hours
/// (weekend and holiday hours marked), the spread, and a table per rotation.
pub(crate) async fn report_page(
    state: web::Data<AppState>,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot();
    let (from, to) = report_range(&q, &snap.schedule, state.now())?;
    let st = state.get_ref().clone();
    let sched = snap.schedule.clone();
    let (r, n) = off_worker(move || build_report(&st, &sched, from, to)).await?;
    let s = &snap.schedule;
    let z = zone(s);
    let mut b = format!(
        "<h1>Fairness</h1><p class=\"muted\">From {} to {} ({}). {} public holiday{} known in this window.</p>",
        esc(&local(from, z)),
        esc(&local(to, z)),
        esc(z.name()),
        n,
        if n == 1 { "" } else { "s" }
    );
    b.push_str(&chart(&r));
    if let Some(o) = &r.overall {
        b.push_str(&format!(
            "<p>Spread: <strong>{:.1} h</strong> between {} ({:.1} h) and {} ({:.1} h).</p>",
            hours(o.secs()),
            esc(name(s, &o.most.0)),
            hours(o.most.1),
            esc(name(s, &o.least.0)),
            hours(o.least.1)
        ));
    }
    for rot in s.rotations() {
        let spread = r
            .spreads
            .iter()
            .find(|x| x.rotation.as_deref() == Some(&rot.id));
        b.push_str(&format!(
            "<h2>{}</h2>{}<div class=\"scroll\"><table><thead><tr><th>Who</th><th>Shifts</th><th>Hours</th><th>Weekend</th><th>Holiday</th><th>Given</th><th>Taken</th></tr></thead><tbody>",
            esc(&rot.name),
            spread.map_or(String::new(), |x| format!(
                "<p class=\"muted\">Spread {:.1} h.</p>",
                hours(x.secs())
            ))
        ));
        for l in r.loads.iter().filter(|l| l.rotation == rot.id) {
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{} ({:.1} h)</td><td>{} ({:.1} h)</td></tr>",
                esc(name(s, &l.person)),
                l.shifts,
                hours(l.secs),
                hours(l.weekend_secs),
                hours(l.holiday_secs),
                l.overrides_given,
                hours(l.given_secs),
                l.overrides_taken,
                hours(l.taken_secs)
            ));
        }
        b.push_str("</tbody></table></div>");
    }
    b.push_str("<p class=\"muted\">As JSON: <a href=\"/api/v1/report\">/api/v1/report</a>. Weekends and holidays are on each person's own clock.</p>");
    Ok(page("Fairness – rota", &b))
}

fn name<'a>(s: &'a Schedule, id: &'a str) -> &'a str {
    s.person(id).map_or(id, |p| p.name.as_str())
}

/// A horizontal bar per person: total on-call hours, with the weekend and holiday parts drawn
/// over it. Plain SVG, no script (the pages' CSP allows none).
fn chart(r: &Report) -> String {
    let rows: Vec<_> = r
        .totals
        .iter()
        .filter(|t| t.secs > 0 || r.loads.iter().any(|l| l.person == t.person))
        .collect();
    let max = rows.iter().map(|t| t.secs).max().unwrap_or(0).max(1) as f64;
    let (label_w, bar_w, row_h) = (130.0, 520.0, 26.0);
    let h = row_h * rows.len() as f64 + 30.0;
    let mut svg = format!(
        "<figure><svg role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 {w} {h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\" font-family=\"system-ui,sans-serif\">\
         <title id=\"chart-title\">On-call hours per person</title>",
        w = label_w + bar_w + 80.0
    );
    for (i, t) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = |secs: i64| secs as f64 / max * bar_w;
        svg.push_str(&format!(
            "<g class=\"bar\" data-person=\"{p}\" data-hours=\"{hrs}\"><title>{p}: {hrs} h on call, {we} h at weekends, {ho} h on holidays</title>\
             <text x=\"0\" y=\"{ty}\">{p}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{tw:.1}\" height=\"18\" fill=\"#9db8e0\"/>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{ww:.1}\" height=\"9\" fill=\"#2f5d9e\"/>\
             <rect x=\"{label_w}\" y=\"{y2}\" width=\"{hw:.1}\" height=\"9\" fill=\"#c0392b\"/>\
             <text x=\"{tx:.1}\" y=\"{ty}\">{hrs} h</text></g>",
            p = esc(&t.person),
            hrs = hours(t.secs),
            we = hours(t.weekend_secs),
            ho = hours(t.holiday_secs),
            ty = y + 13.0,
            tw = w(t.secs),
            ww = w(t.weekend_secs),
            y2 = y + 9.0,
            hw = w(t.holiday_secs),
            tx = label_w + w(t.secs) + 6.0,
        ));
    }
    let ly = row_h * rows.len() as f64 + 18.0;
    svg.push_str(&format!(
        "<rect x=\"{label_w}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"#9db8e0\"/><text x=\"{a}\" y=\"{t}\">all hours</text>\
         <rect x=\"{b}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"#2f5d9e\"/><text x=\"{c}\" y=\"{t}\">weekend</text>\
         <rect x=\"{d}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"#c0392b\"/><text x=\"{e}\" y=\"{t}\">public holiday</text></svg>\
         <figcaption class=\"muted\">On-call hours per person over the window, all rotations.</figcaption></figure>",
        y = ly - 9.0,
        t = ly,
        a = label_w + 14.0,
        b = label_w + 90.0,
        c = label_w + 104.0,
        d = label_w + 170.0,
        e = label_w + 184.0,
    ));
    svg
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
) -> String {
    let Some(base) = s.base_shift(rotation, slot).ok().flatten() else {
        return String::new();
    };
    let until = now + Duration::weeks(SWAP_FORM_WEEKS);
    let off = time_off_for(state, s, base.start, base.end, until);
    let found = conflicts_with_suggestions(s, &off, base.start, base.end, now).unwrap_or_default();
    let Some((c, sug)) = found.iter().find(|(c, _)| {
        c.shift.rotation.id == rotation && c.shift.slot == slot && c.shift.person.id == person
    }) else {
        return String::new();
    };
    let z = c.shift.rotation.timezone;
    if sug.is_empty() {
        return "<p class=\"hero\">Your calendar says you are away during this shift. Nobody in the rotation is free for all of it with a shift to trade back; ask for a cover.</p>".into();
    }
    let links: Vec<String> = sug
        .iter()
        .take(3)
        .map(|x| {
            format!(
                "<a class=\"suggestion\" href=\"{}\">{}</a> <span class=\"muted\">(you take {})</span>",
                esc(&swap_link(c, Some(x))),
                esc(&x.give_back.person.name),
                esc(&local(x.give_back.start, z))
            )
        })
        .collect();
    format!(
        "<p class=\"hero\">Your calendar says you are away during this shift. Free for all of it, fairest first: {}</p>",
        links.join(", ")
    )
}
