//! Time off end to end: `rota check --conflicts` and `rota report` on the example schedules (whose
//! people.toml names Carol's out-of-office calendar and the UK bank holidays), and `rota serve`
//! reading an absence calendar from a local HTTP server that fails and recovers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::{Server, client, get_json};
use crate::util::{example_schedules, rota, stderr, stdout};

const NOW: &str = "--now=2026-11-23T12:00:00Z";
const NO_STATE: &str = "--state=/nonexistent/rota.db";

#[test]
fn check_conflicts_lists_carols_two_shifts_with_trades_fairest_first() {
    let o = rota(
        &example_schedules(),
        &[
            "check",
            "--conflicts",
            NOW,
            NO_STATE,
            "--from=2026-11-23",
            "--to=2027-02-22",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "conflicts exit 1: {}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    // Carol (New York) is away Tue 1 to Sat 5 December; she is Support Hero that week and so,
    // through the link, her team's secondary too: one conflict, under the hero shift that causes
    // the secondary one, with the trades for the hero week (trading it moves the link too).
    assert_eq!(
        lines[1],
        "conflict: Carol Diaz (carol) in support-hero, Mon 2026-11-30 04:00 EST to Mon 2026-12-07 04:00 EST (slot 4): away 96.0 h of it"
    );
    assert_eq!(
        lines[2],
        "  also: core-experience-secondary through the link, Mon 2026-11-30 04:00 EST to Mon 2026-12-07 04:00 EST"
    );
    assert_eq!(
        lines[3],
        "  away: Family visit, Tue 2026-12-01 00:00 EST to Sat 2026-12-05 00:00 EST"
    );
    assert!(!out.contains("in core-experience-secondary"), "{out}");
    let hero: Vec<&str> = lines
        .iter()
        .skip_while(|l| !l.contains("in support-hero"))
        .skip(3)
        .take_while(|l| l.starts_with("  could trade"))
        .copied()
        .collect();
    // Lightest load after the trade first, counted over the 91 days either side of the
    // conflict. Carol is away four days of the week, five days from the 04:00 handoff (Monday
    // to Saturday): most of it, so colleagues are offered both the whole week and those five
    // days (for five days of theirs). Ivan 798 h either way; Alice 840 h either way, giving back
    // slot 10, the week she holds through the example files' Christmas swap (a swap on a swap:
    // it is hers to trade); then Heidi at 1248 h.
    let who: Vec<&str> = hero
        .iter()
        .map(|l| {
            l.split(" (")
                .next()
                .unwrap()
                .trim_start_matches("  could trade: ")
        })
        .collect();
    assert_eq!(
        who,
        [
            "Ivan Petrov",
            "Ivan Petrov",
            "Alice Smith",
            "Alice Smith",
            "Heidi Tanaka"
        ],
        "{out}"
    );
    assert!(
        hero[0].contains(
            "carol takes theirs, Mon 2026-12-28 04:00 EST (slot 8); their load 798.0 h -> 798.0 h"
        ),
        "{out}"
    );
    assert!(
        hero[2].contains(
            "Alice Smith (alice) takes it; carol takes theirs, Mon 2027-01-11 04:00 EST (slot 10); their load 840.0 h -> 840.0 h"
        ),
        "{out}"
    );
    assert!(
        out.ends_with("1 conflict from Mon 2026-11-23 00:00 GMT to Mon 2027-02-22 00:00 GMT (2 calendar sources read)\n"),
        "{out}"
    );

    // JSON: the service's shape, with the summary (the command line may show it).
    let o = rota(
        &example_schedules(),
        &[
            "check",
            "--conflicts",
            "--json",
            NOW,
            NO_STATE,
            "--from=2026-11-23",
            "--to=2027-02-22",
        ],
    );
    let out = stdout(&o);
    let json_start = out.find('{').unwrap();
    let v: Value = serde_json::from_str(&out[json_start..]).unwrap();
    assert_eq!(v["calendars_ok"], true);
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 1);
    let c = &v["conflicts"][0];
    assert_eq!(c["rotation"], "support-hero");
    assert_eq!(c["slot"], 4);
    assert_eq!(c["source"], "rotation");
    assert_eq!(c["away_hours"], 96.0);
    assert_eq!(c["absences"][0]["start"], "2026-12-01T05:00:00Z");
    assert_eq!(c["absences"][0]["summary"], "Family visit");
    assert_eq!(c["suggestions"][0]["person"]["id"], "ivan");
    assert_eq!(c["suggestions"][0]["give_back"]["slot"], 8);

    // Before her calendar's dates, no conflict: exit 0.
    let o = rota(
        &example_schedules(),
        &[
            "check",
            "--conflicts",
            NOW,
            NO_STATE,
            "--from=2027-01-01",
            "--to=2027-02-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("0 conflicts"), "{}", stdout(&o));
}

#[test]
fn report_counts_weekend_and_holiday_hours_on_each_persons_clock() {
    let o = rota(
        &example_schedules(),
        &[
            "report",
            "--json",
            NOW,
            NO_STATE,
            "--from=2026-11-23",
            "--to=2027-01-04",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    // Christmas Day, Boxing Day (substitute, 28th) and New Year's Day 2027.
    assert_eq!(v["holidays"], 3);
    let load = |rot: &str, who: &str| -> Value {
        v["loads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rotation"] == rot && l["person"] == who)
            .unwrap_or_else(|| panic!("no row {rot}/{who}"))
            .clone()
    };
    // Frank (Berlin) is hero Mon 21 Dec 09:00 London (10:00 Berlin) to Mon 28 Dec: all of the
    // 25th (24 h) and the 28th until 10:00 Berlin (10 h) are holidays on his clock.
    let f = load("support-hero", "frank");
    assert_eq!(
        (f["shifts"].clone(), f["hours"].clone()),
        (1.into(), 168.0.into())
    );
    assert_eq!(f["holiday_hours"], 34.0);
    assert_eq!(f["weekend_hours"], 48.0);
    // The example override: Erin covers Dave's Platform shift over Christmas Eve.
    let d = load("platform-secondary", "dave");
    let e = load("platform-secondary", "erin");
    assert_eq!(
        (d["overrides_given"].clone(), d["given_hours"].clone()),
        (1.into(), 24.0.into())
    );
    assert_eq!(
        (e["overrides_taken"].clone(), e["taken_hours"].clone()),
        (1.into(), 24.0.into())
    );
    // Members with no time in the window still have a row.
    assert_eq!(load("platform-secondary", "alice")["hours"], 0.0);
    let spread = v["spreads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rotation"] == "core-experience-secondary")
        .unwrap();
    assert_eq!(spread["most"], "frank");
    assert_eq!(spread["least"], "carol");
    assert_eq!(spread["spread_hours"], 336.0);

    // The table says the same.
    let o = rota(
        &example_schedules(),
        &[
            "report",
            NOW,
            NO_STATE,
            "--from=2026-11-23",
            "--to=2027-01-04",
        ],
    );
    let out = stdout(&o);
    assert!(
        out.contains("core-experience-secondary: spread 336.0 h (frank most, carol least)"),
        "{out}"
    );
    assert!(out.contains("3 public holiday dates known"), "{out}");
}

/// A scripted HTTP server for one calendar: serves `body` with `etag` (304 when the request's
/// If-None-Match matches) or fails with 500, and records every If-None-Match it receives.
#[derive(Clone)]
struct CalendarServer {
    mode: Arc<Mutex<Option<(String, String)>>>,
    seen: Arc<Mutex<Vec<Option<String>>>>,
    port: u16,
}

impl CalendarServer {
    fn start() -> CalendarServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = CalendarServer {
            mode: Arc::new(Mutex::new(None)),
            seen: Arc::new(Mutex::new(Vec::new())),
            port,
        };
        let srv = me.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut inm = None;
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("if-none-match")
                    {
                        inm = Some(v.trim().to_string());
                    }
                    line.clear();
                }
                srv.seen.lock().unwrap().push(inm.clone());
                let mode = srv.mode.lock().unwrap().clone();
                let resp = match mode {
                    None => "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\noops".to_string(),
                    Some((_, etag)) if inm.as_deref() == Some(etag.as_str()) => format!(
                        "HTTP/1.1 304 Not Modified\r\netag: {etag}\r\nconnection: close\r\n\r\n"
                    ),
                    Some((body, etag)) => format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/calendar\r\netag: {etag}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                };
                let _ = stream.write_all(resp.as_bytes());
                let _ = stream.flush();
                let _ = reader.read_to_end(&mut Vec::new());
            }
        });
        me
    }

    fn serve(&self, body: &str, etag: &str) {
        *self.mode.lock().unwrap() = Some((body.to_string(), etag.to_string()));
    }

    fn fail(&self) {
        *self.mode.lock().unwrap() = None;
    }
}

fn away(from: &str, to: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{from}@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{from}\r\nDTEND;VALUE=DATE:{to}\r\nSUMMARY:Secret trip\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:tz@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Customized Time Zone:20310305T090000\r\nDTEND;TZID=Customized Time Zone:20310305T100000\r\nSUMMARY:Oncology appointment\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// Polls `f` every 100 ms until it returns `Some`, for up to 20 s.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_absence_url_that_fails_keeps_the_last_good_copy_and_healthz_says_so() {
    let cal = CalendarServer::start();
    // Alice's hero turns are every third week from 2026-11-02. The service indexes absences over
    // a window around its (real) clock, so take her first turn at least 120 days from today;
    // she is away Tuesday to Friday of it.
    use chrono::{Duration as Days, NaiveDate, TimeZone};
    let first = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let soon = chrono::Utc::now().date_naive() + Days::days(120);
    let mut slot = ((soon - first).num_days() / 7).max(0);
    slot += (3 - slot % 3) % 3;
    let monday = first + Days::days(7 * slot);
    let start = chrono_tz::Europe::London
        .from_local_datetime(&monday.and_hms_opt(9, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let ymd = |d: NaiveDate| d.format("%Y%m%d").to_string();
    cal.serve(
        &away(&ymd(monday + Days::days(1)), &ymd(monday + Days::days(4))),
        "\"v1\"",
    );
    let tmp = tempfile::tempdir().unwrap();
    let schedules = tmp.path().join("schedules");
    std::fs::create_dir(&schedules).unwrap();
    let url = format!("http://127.0.0.1:{}/private-s3cr3t/basic.ics", cal.port);
    std::fs::write(
        schedules.join("schedule.toml"),
        format!(
            r#"hero_rotation = "support-hero"
[people.alice]
name = "Alice Smith"
timezone = "Europe/London"
absence = ["{url}"]
[people.bob]
name = "Bob Jones"
[people.carol]
name = "Carol Diaz"
[rotations.support-hero]
members = ["alice", "bob", "carol"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
"#
        ),
    )
    .unwrap();
    let s = Server::start_in_with(tmp.path(), &[("ROTA_CALENDAR_REFRESH", "1")]);
    let c = client();
    let conflicts_url = s.url(&format!(
        "/api/v1/conflicts?from={}&to={}",
        monday - Days::days(14),
        monday + Days::days(14)
    ));
    let conflicts = || -> Vec<Value> {
        let (st, v) = get_json(&c, &conflicts_url);
        assert_eq!(st, 200, "{v}");
        v["conflicts"].as_array().unwrap().clone()
    };
    let health = || get_json(&c, &s.url("/healthz")).1;

    // Fetched at once after start (a URL never holds up the start): one conflict, healthy.
    let h = eventually("the first fetch", || {
        let h = health();
        (h["calendars"][0]["pending"] == false).then_some(h)
    });
    assert_eq!(h["status"], "ok", "{h:#}");
    assert_eq!(h["calendars"][0]["ok"], true, "{h:#}");
    assert_eq!(h["calendars"][0]["people"], serde_json::json!(["alice"]));
    // The Outlook custom zone is read on Alice's clock with a warning, counted here, never
    // described: titles can be private and /healthz is public.
    assert_eq!(h["calendars"][0]["warnings"], 1, "{h:#}");
    assert!(
        !h.to_string().contains("Oncology") && !h.to_string().contains("Secret trip"),
        "{h}"
    );
    let got = conflicts();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["person"]["id"], "alice");
    assert_eq!(got[0]["start"], start.as_str());
    assert_eq!(got[0]["slot"], slot);
    assert_eq!(got[0]["away_hours"], 72.0);
    // The service never shows absence titles.
    assert!(got[0]["absences"][0].get("summary").is_none(), "{got:#?}");

    // Refreshes are conditional: the server sees If-None-Match with the ETag and answers 304.
    eventually("a conditional refresh", || {
        cal.seen
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.as_deref() == Some("\"v1\""))
            .then_some(())
    });

    // The calendar server fails: the last good copy stays in use, /healthz is degraded and says
    // why, without the secret part of the URL.
    cal.fail();
    let h = eventually("healthz to report the failure", || {
        let h = health();
        (h["status"] == "degraded").then_some(h)
    });
    let src = &h["calendars"][0];
    assert_eq!(src["ok"], false);
    assert!(src["last_error"].as_str().unwrap().contains("500"), "{h:#}");
    assert!(src["last_success"].is_string(), "{h:#}");
    assert_eq!(src["events"], 2);
    assert!(!h.to_string().contains("s3cr3t"), "secret URL leaked: {h}");
    assert_eq!(conflicts().len(), 1, "the last good copy is still used");
    let page = c.get(s.url("/")).send().unwrap().text().unwrap();
    assert!(
        page.contains("could not be read"),
        "the schedule page warns"
    );

    // It recovers with a new calendar: Alice moved her trip to a week she is not on call.
    cal.serve(
        &away(&ymd(monday + Days::days(8)), &ymd(monday + Days::days(11))),
        "\"v2\"",
    );
    eventually("healthz to recover", || {
        (health()["status"] == "ok").then_some(())
    });
    eventually("the new calendar", || conflicts().is_empty().then_some(()));
    let log = std::fs::read_to_string(tmp.path().join("server.log")).unwrap();
    assert!(!log.contains("s3cr3t"), "secret URL in the log");
}

#[test]
fn the_report_page_draws_a_bar_per_person_and_the_swap_form_takes_a_suggestion() {
    let s = Server::start();
    let c = client();
    let r = c
        .get(s.url("/report?from=2026-11-23&to=2027-01-04"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().unwrap();
    assert!(html.contains("<svg role=\"img\""), "{html}");
    // Nine people, one bar each, with the same hours as the JSON report.
    assert_eq!(html.matches("<g class=\"bar\"").count(), 9, "{html}");
    let (_, v) = get_json(&c, &s.url("/api/v1/report?from=2026-11-23&to=2027-01-04"));
    for p in v["people"].as_array().unwrap() {
        // To one decimal, as the tables print hours.
        let bar = format!(
            "data-person=\"{}\" data-hours=\"{:.1}\"",
            p["person"].as_str().unwrap(),
            p["hours"].as_f64().unwrap()
        );
        assert!(html.contains(&bar), "no bar {bar}");
    }
    assert!(html.contains("3 public holidays known"), "{html}");
    // Bad windows are 4xx problems naming the field, on the page and in the API.
    let (st, v) = get_json(&c, &s.url("/api/v1/report?from=2027-01-04&to=2026-11-23"));
    assert_eq!((st.as_u16(), v["field"].as_str()), (400, Some("to")), "{v}");
    let (st, v) = get_json(&c, &s.url("/api/v1/conflicts?from=yesterday"));
    assert_eq!(
        (st.as_u16(), v["field"].as_str()),
        (400, Some("from")),
        "{v}"
    );
    let (st, _) = get_json(&c, &s.url("/api/v1/conflicts?until=2027-01-01"));
    assert_eq!(st.as_u16(), 400);

    // A suggestion's link pre-selects the colleague in the swap form.
    let carol = s.token("carol");
    let no_redirect = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .post(s.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={carol}"))
        .send()
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|h| h.to_str().unwrap().split(';').next().unwrap().to_string());
    let cookie = cookie.unwrap_or_else(|| panic!("no session cookie: {}", r.status()));
    let form = c
        .get(s.url("/swaps/new?rotation=support-hero&slot=4&counterpart=ivan&their_slot=8"))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    // With a colleague named, the form is at its last step: a cover, or one of Ivan's shifts.
    assert!(
        form.contains("Colleague: <strong>Ivan Petrov</strong>")
            && form.contains("<input type=\"hidden\" name=\"counterpart\" value=\"ivan\">"),
        "{form}"
    );
}

/// Against the real clock: Alice's next hero turn (at least a day away) gets an absence in her
/// calendar file; her own page marks it, and the swap form for it suggests who to ask, with a
/// link that pre-fills the colleague and their shift.
#[test]
fn my_page_marks_a_shift_i_am_away_for_and_the_form_suggests_who_to_ask() {
    use chrono::{Duration as Days, NaiveDate, Utc};
    let start = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let today = Utc::now().date_naive();
    // Slots are whole weeks from Monday 2 November 2026; Alice has every third one.
    let mut slot = ((today - start).num_days().max(0) / 7 + 1) as u64;
    while !slot.is_multiple_of(3) {
        slot += 1;
    }
    let monday = start + Days::weeks(slot as i64);
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:a@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Away\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        (monday + Days::days(1)).format("%Y%m%d"),
        (monday + Days::days(3)).format("%Y%m%d")
    );
    let tmp = tempfile::tempdir().unwrap();
    let schedules = tmp.path().join("schedules");
    std::fs::create_dir(&schedules).unwrap();
    std::fs::write(schedules.join("alice.ics"), ics).unwrap();
    std::fs::write(
        schedules.join("schedule.toml"),
        r#"hero_rotation = "support-hero"
[people.alice]
name = "Alice Smith"
timezone = "Europe/London"
absence = "alice.ics"
[people.bob]
name = "Bob Jones"
[people.carol]
name = "Carol Diaz"
[rotations.support-hero]
members = ["alice", "bob", "carol"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
"#,
    )
    .unwrap();
    let s = Server::start_in(tmp.path());
    let no_redirect = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = s.token("alice");
    let r = no_redirect
        .post(s.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let get = |path: &str| {
        no_redirect
            .get(s.url(path))
            .header("cookie", &cookie)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let me = get("/me");
    assert_eq!(me.matches(">away</span>").count(), 1, "{me}");
    let form = get(&format!("/swaps/new?rotation=support-hero&slot={slot}"));
    assert!(
        form.contains("Your calendar says you are away during this shift"),
        "{form}"
    );
    // The suggestions' times say their zone.
    assert!(
        form.contains("Times are Europe/London time, the rotation&#39;s.")
            || form.contains("Times are Europe/London time, the rotation's."),
        "{form}"
    );
    // Bob and Carol are both free; each link pre-fills the form with them and their shift.
    let links: Vec<&str> = form
        .split("class=\"suggestion\" href=\"")
        .skip(1)
        .map(|t| t.split('"').next().unwrap())
        .collect();
    assert_eq!(links.len(), 2, "{form}");
    for l in &links {
        let l = l.replace("&amp;", "&");
        assert!(
            l.starts_with(&format!(
                "/swaps/new?rotation=support-hero&slot={slot}&counterpart="
            )),
            "{l}"
        );
        let prefilled = get(&l);
        let who = l
            .split("counterpart=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        let theirs = l
            .split("their_slot=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        assert!(
            prefilled.contains(&format!(
                "<input type=\"hidden\" name=\"counterpart\" value=\"{who}\">"
            )),
            "{prefilled}"
        );
        assert!(
            prefilled.contains(&format!("<option value=\"{theirs}\" selected>")),
            "{prefilled}"
        );
        // A suggestion for the days away pre-fills that part of the shift (issue 13, point 5),
        // and the part of theirs taken back.
        if l.contains("&part=") {
            assert!(!prefilled.contains("value=\"all\" checked"), "{prefilled}");
            assert!(prefilled.contains("name=\"their_start\""), "{prefilled}");
        }
    }
    // An unrelated slot of hers has no hint.
    let other = get(&format!(
        "/swaps/new?rotation=support-hero&slot={}",
        slot + 3
    ));
    assert!(!other.contains("Your calendar says"), "{other}");
}

#[test]
fn bad_windows_and_unreadable_calendars_are_clear_errors() {
    let ex = example_schedules();
    let o = rota(
        &ex,
        &["report", NO_STATE, "--from=2027-01-01", "--to=2026-01-01"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--to (2026-01-01T00:00:00Z) must be after --from"),
        "{}",
        stderr(&o)
    );
    let o = rota(&ex, &["check", "--conflicts", NO_STATE, "--from=yesterday"]);
    assert_eq!(o.status.code(), Some(1));
    // After the note that there is no state file.
    assert!(
        stderr(&o).lines().any(|l| l.starts_with("error: --from:")),
        "{}",
        stderr(&o)
    );

    // A missing file is a problem of the schedule files (located at its key, even without
    // --conflicts); a file that is not a calendar is found when it is read: each named, with why.
    let text = "hero_rotation = \"h\"\n[people.a]\nname = \"A\"\nabsence = [\"gone.ics\", \"page.ics\"]\n\
         [people.b]\nname = \"B\"\n[rotations.h]\nmembers = [\"a\", \"b\"]\ntimezone = \"UTC\"\n\
         start = \"2026-11-02T09:00\"\nevery = \"1 week\"\n";
    let dir = crate::util::schedules_dir(&[
        ("s.toml", text),
        ("page.ics", "<html><body>Sign in</body></html>\n"),
    ]);
    let o = rota(dir.path(), &["check", "--conflicts", NO_STATE, NOW]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("s.toml:4:12: people.a.absence[0]: cannot read calendar file \"gone.ics\""),
        "{err}"
    );
    std::fs::write(
        dir.path().join("s.toml"),
        text.replace("\"gone.ics\", ", ""),
    )
    .unwrap();
    let o = rota(dir.path(), &["check", "--conflicts", NO_STATE, NOW]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("page.ics") && err.contains("line 1"), "{err}");
    assert!(
        stdout(&o).contains("some failed, see above"),
        "{}",
        stdout(&o)
    );
}

// ------------------------------------------------------------------------------------------------
// Issue 11: hostile calendars and calendar files that are not what they seem
// ------------------------------------------------------------------------------------------------

/// A schedules directory (inside a fresh temp dir) where Carol's absence calendar is
/// `calendars/carol.ics`, which `make` creates (a file, a symlink, a FIFO).
fn carol_schedules(make: impl FnOnce(&std::path::Path)) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let schedules = tmp.path().join("schedules");
    std::fs::create_dir_all(schedules.join("calendars")).unwrap();
    std::fs::write(
        schedules.join("schedule.toml"),
        r#"hero_rotation = "support-hero"
[people.alice]
name = "Alice Smith"
[people.bob]
name = "Bob Jones"
[people.carol]
name = "Carol Diaz"
timezone = "America/New_York"
absence = ["calendars/carol.ics"]
[rotations.support-hero]
members = ["alice", "bob", "carol"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
"#,
    )
    .unwrap();
    make(&schedules.join("calendars/carol.ics"));
    tmp
}

/// `rota serve` on `tmp`'s schedules, with `env`; fails (rather than hangs) if it has not said it
/// listens within 20 seconds. The child is killed when the returned guard drops.
struct Serving {
    child: std::process::Child,
    base: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_with_deadline(tmp: &std::path::Path, env: &[(&str, &str)]) -> Serving {
    let log = std::fs::File::create(tmp.join("server.log")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rota"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .arg("--schedules")
        .arg(tmp.join("schedules"))
        .arg("--state")
        .arg(tmp.join("rota.db"))
        .env_remove("ROTA_SCHEDULES")
        .env_remove("ROTA_SMTP_HOST")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start rota serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut serving = Serving {
        child,
        base: String::new(),
    };
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("rota serve did not start listening within 20 s");
    let base = line
        .trim()
        .strip_prefix("rota: listening on ")
        .unwrap_or_else(|| panic!("rota serve did not start: {line:?}"))
        .to_string();
    serving.base = base;
    serving
}

/// Runs `rota check --conflicts` on `dir`, killing it (and failing) after 30 seconds.
fn check_with_deadline(dir: &std::path::Path) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rota"))
        .arg("--schedules")
        .arg(dir)
        .args(["check", "--conflicts", NOW, NO_STATE])
        .env_remove("ROTA_SCHEDULES")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run rota check");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rota check --conflicts hung (killed after 30 s)");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Carol's source as `/healthz` shows it.
fn carol_health(base: &str) -> Value {
    let (st, h) = get_json(&client(), &format!("{base}/healthz"));
    assert_eq!(st, 200, "{h}");
    h["calendars"][0].clone()
}

#[test]
fn r11_2_symlink_outside_schedules_is_refused() {
    // The issue's case: the calendar is a symlink to the server's own environment.
    let tmp = carol_schedules(|p| std::os::unix::fs::symlink("/proc/self/environ", p).unwrap());
    let s = serve_with_deadline(tmp.path(), &[("ROTA_TEST_SECRET", "hunter2-environ")]);
    let src = carol_health(&s.base);
    assert_eq!(src["ok"], false, "{src:#}");
    let err = src["last_error"].as_str().unwrap();
    assert!(err.contains("outside the schedules directory"), "{err}");
    // The source is named relative to the schedules directory: where the service's files live
    // is not for an unauthenticated caller.
    let shown = src["source"].as_str().unwrap();
    assert!(
        shown.starts_with("calendars/") && !shown.contains(&*tmp.path().to_string_lossy()),
        "{shown}"
    );
    let (_, h) = get_json(&client(), &format!("{}/healthz", s.base));
    assert!(!h.to_string().contains("hunter2"), "{h}");
    assert!(!h.to_string().contains("ROTA_"), "{h}");
    let o = check_with_deadline(&tmp.path().join("schedules"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("outside the schedules directory"),
        "{}",
        stderr(&o)
    );
    drop(s);

    // /etc/passwd likewise, and through a symlinked directory too.
    let tmp = carol_schedules(|p| std::os::unix::fs::symlink("/etc/passwd", p).unwrap());
    let o = check_with_deadline(&tmp.path().join("schedules"));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("outside the schedules directory"), "{all}");
    assert!(!all.contains("root:"), "{all}");
    let tmp = carol_schedules(|p| {
        std::os::unix::fs::symlink("/etc", p.parent().unwrap().join("etc")).unwrap();
        std::os::unix::fs::symlink("etc/passwd", p).unwrap();
    });
    let o = check_with_deadline(&tmp.path().join("schedules"));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("outside the schedules directory"), "{all}");
    assert!(!all.contains("root:"), "{all}");
}

#[test]
fn r11_2_fifo_is_refused_not_hung() {
    let tmp = carol_schedules(|p| {
        let made = std::process::Command::new("mkfifo").arg(p).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    });
    // `rota serve` listens (it used to hang reading the FIFO before binding) and says why.
    let s = serve_with_deadline(tmp.path(), &[]);
    let src = carol_health(&s.base);
    assert_eq!(src["ok"], false, "{src:#}");
    assert!(
        src["last_error"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{src:#}"
    );
    drop(s);
    // `rota check --conflicts` ends, failing because the calendar could not be read.
    let o = check_with_deadline(&tmp.path().join("schedules"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
}

#[test]
fn r11_2_parse_errors_never_echo_content() {
    // A regular file inside the directory that is not a calendar (say, a copied .env).
    let tmp = carol_schedules(|p| {
        std::fs::write(p, "ROTA_SMTP_PASSWORD=hunter2\nROTA_SESSION_KEY=s3cret\n").unwrap()
    });
    let s = serve_with_deadline(tmp.path(), &[]);
    let src = carol_health(&s.base);
    let err = src["last_error"].as_str().unwrap();
    assert!(err.contains("at line 1, column 1"), "{err}");
    let (_, h) = get_json(&client(), &format!("{}/healthz", s.base));
    assert!(!h.to_string().contains("hunter2"), "{h}");
    assert!(!h.to_string().contains("PASSWORD"), "{h}");
    drop(s);
    let o = check_with_deadline(&tmp.path().join("schedules"));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("at line 1, column 1"), "{all}");
    assert!(
        !all.contains("hunter2") && !all.contains("PASSWORD"),
        "{all}"
    );
}

#[test]
fn r11_1_hostile_recurrence_is_capped_once_per_source() {
    // The issue's calendar: 200 events of FREQ=HOURLY;COUNT=50000, plus one real absence (Carol
    // away Tue 8 to Sat 12 December 2026, in her hero week from Mon 7 December) last in the file.
    let tmp = carol_schedules(|p| {
        let mut t = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n");
        for i in 0..200 {
            t.push_str(&format!(
                "BEGIN:VEVENT\r\nUID:h{i}\r\nSUMMARY:Hourly\r\nDTSTART:20261101T000000Z\r\n\
                 DURATION:PT1M\r\nRRULE:FREQ=HOURLY;COUNT=50000\r\nEND:VEVENT\r\n"
            ));
        }
        t.push_str(
            "BEGIN:VEVENT\r\nUID:trip\r\nSUMMARY:Family visit\r\nDTSTART;VALUE=DATE:20261208\r\n\
             DTEND;VALUE=DATE:20261212\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        );
        std::fs::write(p, t).unwrap();
    });
    // The command line warns, naming the source, and still finds the real absence.
    let o = check_with_deadline(&tmp.path().join("schedules"));
    let err = stderr(&o);
    assert!(
        err.lines().any(|l| l.starts_with("warning: calendar ")
            && l.contains("calendars/carol.ics")
            && l.contains("per-calendar cap")),
        "{err}"
    );
    // The trip overlaps hourly occurrences, so it is one stretch naming both.
    let out = stdout(&o);
    assert!(
        out.contains("away: Hourly; Family visit, Tue 2026-12-08 00:00 EST"),
        "{out}"
    );

    // The service: read once at start; the source is fine but capped, logged by name.
    let s = serve_with_deadline(tmp.path(), &[]);
    let src = carol_health(&s.base);
    assert_eq!(src["ok"], true, "{src:#}");
    assert!(src["warnings"].as_u64().unwrap() >= 1, "{src:#}");
    let c = client();
    for range in [
        "from=2026-11-23&to=2027-02-22",
        "from=2026-11-23&to=2028-11-23",
    ] {
        let (st, v) = get_json(&c, &format!("{}/api/v1/conflicts?{range}", s.base));
        assert_eq!(st, 200, "{v}");
        assert!(v["absences_window"]["from"].is_string(), "{v}");
        let hero = v["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["person"]["id"] == "carol" && x["start"] == "2026-12-07T09:00:00Z");
        assert!(hero, "{v:#}");
        assert_eq!(v["absences_cover_range"], true, "{v}");
    }
    let (_, v) = get_json(
        &c,
        &format!("{}/api/v1/conflicts?from=2030-01-01&to=2030-06-01", s.base),
    );
    assert_eq!(v["absences_cover_range"], false, "{v}");
    let log = std::fs::read_to_string(tmp.path().join("server.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("per-calendar expansion cap") && l.contains("carol.ics")),
        "{log}"
    );
}
