//! The integration tests of rota-calendar, in one binary: the fixtures (Google, Outlook, Apple,
//! gov.uk holidays) expanded to exact UTC intervals, the interpretation rules one by one,
//! property tests that no input panics, and sources fetched from a scripted local HTTP server.

// The modules live in tests/calendar/ (tests/fixtures/ holds the .ics files); a test binary's
// root is in tests/, so the paths are spelled out.
#[path = "calendar/fixtures.rs"]
mod fixtures;
#[path = "calendar/props.rs"]
mod props;
#[path = "calendar/rules.rs"]
mod rules;
#[path = "calendar/source.rs"]
mod source;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rota_calendar::{Calendar, parse};

/// A fixture's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn tz(name: &str) -> Tz {
    name.parse().unwrap()
}

/// Midnight UTC of a date given as "2026-10-01".
pub fn utc(date: &str) -> DateTime<Utc> {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
}

/// The busy intervals in `[from, to)` as `"start end summary"` lines (UTC, RFC 3339 with `Z`),
/// with ` (all day)` for all-day events: easy to compare whole.
pub fn busy_lines(cal: &Calendar, zone: &str, from: &str, to: &str) -> Vec<String> {
    cal.busy(tz(zone), utc(from), utc(to))
        .into_iter()
        .map(|b| {
            format!(
                "{} {} {}{}",
                b.start.format("%Y-%m-%dT%H:%MZ"),
                b.end.format("%Y-%m-%dT%H:%MZ"),
                b.summary,
                if b.all_day { " (all day)" } else { "" }
            )
        })
        .collect()
}

/// Parses a calendar made of VEVENT bodies (each a list of content lines) with a standard
/// header, for the rule tests.
pub fn calendar_of(header: &str, events: &[&str]) -> Calendar {
    let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rota//tests//EN\r\n");
    for line in header.lines().map(str::trim).filter(|l| !l.is_empty()) {
        text.push_str(line);
        text.push_str("\r\n");
    }
    for (i, ev) in events.iter().enumerate() {
        text.push_str("BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\n");
        if !ev.contains("UID:") {
            text.push_str(&format!("UID:ev{i}\r\n"));
        }
        for line in ev.lines().map(str::trim).filter(|l| !l.is_empty()) {
            text.push_str(line);
            text.push_str("\r\n");
        }
        text.push_str("END:VEVENT\r\n");
    }
    text.push_str("END:VCALENDAR\r\n");
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}
