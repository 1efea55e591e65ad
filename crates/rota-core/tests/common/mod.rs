//! Helpers shared by rota-core's integration tests: building small schedules from TOML text and
//! showing instants as the full strings (with offset) that the tables compare.
//!
//! Each test binary uses only some of these, hence the `dead_code` allowance.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use rota_core::{Schedule, Shift, Tz};

/// The six zones the time rules are pinned in: a European and an American zone with one-hour DST,
/// Lord Howe Island's 30-minute DST, Samoa (which skipped 2011-12-30), India (no DST), and Chile
/// (DST changes at midnight, southern hemisphere).
pub const ZONES: [&str; 6] = [
    "Europe/London",
    "America/Chicago",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
    "America/Santiago",
];

/// The members of every test rotation, in order: three, so that a skipped turn shows.
pub const MEMBERS: [&str; 3] = ["a", "b", "c"];

/// `every = "..."` or `rrule = "..."` (an rrule is recognised by its `=`).
pub fn recurrence_line(rec: &str) -> String {
    if rec.contains('=') {
        format!("rrule = {rec:?}")
    } else {
        format!("every = {rec:?}")
    }
}

/// `[people.ID]` tables for `ids`, with no team.
pub fn people_toml(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("[people.{id}]\nname = \"Person {id}\"\n"))
        .collect()
}

/// A schedule with one rotation `r` of members a, b, c.
pub fn one_rotation(zone: &str, start: &str, rec: &str) -> Schedule {
    let text = format!(
        "{}\n[rotations.r]\nmembers = [\"a\", \"b\", \"c\"]\ntimezone = \"{zone}\"\nstart = \"{start}\"\n{}\n",
        people_toml(&MEMBERS),
        recurrence_line(rec)
    );
    Schedule::load(&[("r.toml", &text)])
        .unwrap_or_else(|e| panic!("{zone} {start} {rec}: {e}\n{text}"))
}

/// An instant as `%Y-%m-%dT%H:%M:%S%:z` in `tz`.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `person start .. end source#slot`, times in the rotation's zone: for assertion messages.
pub fn show(s: &Shift<'_>) -> String {
    let tz = s.rotation.timezone;
    format!(
        "{} {} {} .. {} {}#{}",
        s.rotation.id,
        s.person.id,
        local(s.start, tz),
        local(s.end, tz),
        s.source.as_str(),
        s.slot
    )
}

pub fn show_all(v: &[Shift<'_>]) -> String {
    v.iter().map(show).collect::<Vec<_>>().join("\n")
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}
