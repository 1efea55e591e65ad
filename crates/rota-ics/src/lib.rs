//! rota-ics: RFC 5545 text for resolved shifts, shared by the service's calendar feeds and the
//! reminder emails' attachments, so both describe a shift the same way. Pure: no I/O, no clock.
//!
//! Text is written by the `icalendar` crate, which ends lines with CRLF, folds them at 75 octets
//! and escapes text values.
//!
//! - `DTSTART`/`DTEND` are UTC instants and there is no `RRULE`: the resolved schedule is already
//!   concrete, and clients disagree about the end of a local-time week across a DST change.
//! - `UID` ([`uid`]) is `{rotation}-{slot}@rota` for a shift that starts at its slot's handoff (the
//!   usual case, and the case of a whole-shift swap, which keeps the UID and changes the person),
//!   and `{rotation}-{slot}-{start unix seconds}@rota` for the later pieces of a slot split by a
//!   partial override or link. The same slot keeps its UID across changes and reloads, and a
//!   reminder's attachment has the UID of the feed's event, so a client sees one event, not two.
//! - `DTSTAMP` is given by the caller: feeds use 00:00 UTC of the day they are generated
//!   ([`window`]), so the same schedule gives byte-identical feeds all day.
//! - `SEQUENCE` is not written (0): a feed is a published snapshot, not an invitation; clients that
//!   subscribe replace events by UID on every refresh.
//! - `TRANSP:TRANSPARENT`: an on-call week must not mark anyone busy.
//! - `SUMMARY` is `"{rotation name}: {person name}"`; `DESCRIPTION` says why ([`why`]).

use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, Component, EventLike, Property};
use rota_core::{Schedule, Shift, Source};
use sha2::{Digest, Sha256};

/// Days before today a feed starts.
pub const DAYS_BACK: i64 = 30;
/// Days after today a feed ends.
pub const DAYS_AHEAD: i64 = 365;

/// The feed window for a feed generated at `now`: `(stamp, from, to)`, where `stamp` is 00:00 UTC of
/// `now`'s day, `from` is [`DAYS_BACK`] days before it and `to` [`DAYS_AHEAD`] days after.
pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    let day = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(now);
    (
        day,
        day - Duration::days(DAYS_BACK),
        day + Duration::days(DAYS_AHEAD),
    )
}

/// The calendar UID of a resolved shift (see the module doc).
pub fn uid(schedule: &Schedule, s: &Shift<'_>) -> String {
    let first = schedule
        .base_shift(&s.rotation.id, s.slot)
        .ok()
        .flatten()
        .is_none_or(|b| b.start == s.start);
    if first {
        format!("{}-{}@rota", s.rotation.id, s.slot)
    } else {
        format!("{}-{}-{}@rota", s.rotation.id, s.slot, s.start.timestamp())
    }
}

/// Why the person is on call, in words: "their turn in the rotation", "linked: ...", "override: REASON".
pub fn why(s: &Shift<'_>) -> String {
    match s.source {
        Source::Rotation => "their turn in the rotation".to_string(),
        Source::Link(l) => format!(
            "linked: on call in {} and a member of this rotation's team",
            l.from
        ),
        Source::Override(o) => match &o.reason {
            Some(r) => format!("override: {r}"),
            None => "override".to_string(),
        },
    }
}

/// One calendar event, owned, so it can outlive the schedule it was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The UID.
    pub uid: String,
    /// First instant on call.
    pub start: DateTime<Utc>,
    /// First instant no longer on call.
    pub end: DateTime<Utc>,
    /// `"{rotation name}: {person name}"`.
    pub summary: String,
    /// `"{person} is on call in {rotation} ({why})."`
    pub description: String,
}

impl Event {
    /// An event from its parts: names and the reason in words.
    pub fn new(
        uid: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        rotation_name: &str,
        person_name: &str,
        why: &str,
    ) -> Event {
        Event {
            uid,
            start,
            end,
            summary: format!("{rotation_name}: {person_name}"),
            description: format!("{person_name} is on call in {rotation_name} ({why})."),
        }
    }

    /// The event of a resolved shift.
    pub fn of(schedule: &Schedule, s: &Shift<'_>) -> Event {
        Event::new(
            uid(schedule, s),
            s.start,
            s.end,
            &s.rotation.name,
            &s.person.name,
            &why(s),
        )
    }
}

/// A calendar of `events`, stamped `stamp`. A `name` makes it a subscribable feed (calendar name,
/// hourly refresh hint); without one it is a plain attachment.
pub fn calendar(name: Option<&str>, stamp: DateTime<Utc>, events: &[Event]) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new(
        "PRODID",
        "-//rota//rota on-call schedule//EN",
    ));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    cal.append_property(Property::new("METHOD", "PUBLISH"));
    if let Some(name) = name {
        cal.append_property(Property::new("X-WR-CALNAME", name));
        cal.append_property(
            Property::new("REFRESH-INTERVAL", "PT1H")
                .add_parameter("VALUE", "DURATION")
                .done(),
        );
        cal.append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    }
    for e in events {
        let event = icalendar::Event::new()
            .uid(&e.uid)
            .timestamp(stamp)
            .starts(e.start)
            .ends(e.end)
            .summary(&e.summary)
            .description(&e.description)
            .add_property("TRANSP", "TRANSPARENT")
            .done();
        cal.push(event);
    }
    cal.to_string()
}

/// A feed named `name` of resolved shifts, stamped `stamp`.
pub fn render(
    schedule: &Schedule,
    name: &str,
    shifts: &[Shift<'_>],
    stamp: DateTime<Utc>,
) -> String {
    let events: Vec<Event> = shifts.iter().map(|s| Event::of(schedule, s)).collect();
    calendar(Some(name), stamp, &events)
}

/// A strong ETag for a body.
pub fn etag(body: &str) -> String {
    let h = Sha256::digest(body.as_bytes());
    let hex: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}
