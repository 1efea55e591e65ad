//! The one-shift calendar attached to a reminder (RFC 5545, written by the `icalendar` crate like
//! the feeds: CRLF, folded at 75 octets, escaped text). Its `UID` is the feed's UID for the same
//! shift, so a client that also subscribes to the feed sees one event, not two.
//!
//! This repeats the few lines of `rota_server::ics::render` for one event rather than depending on
//! the web service: `rota remind` from cron needs no web stack.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, Property};

use crate::plan::ShiftInfo;

/// A calendar with one `VEVENT` for `shift`, stamped `now`.
pub fn shift_calendar(shift: &ShiftInfo, now: DateTime<Utc>) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new(
        "PRODID",
        "-//rota//rota on-call schedule//EN",
    ));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    cal.append_property(Property::new("METHOD", "PUBLISH"));
    let event = Event::new()
        .uid(&shift.uid)
        .timestamp(now)
        .starts(shift.start)
        .ends(shift.end)
        .summary(&format!("{}: {}", shift.rotation_name, shift.person_name))
        .description(&format!(
            "{} is on call in {} ({}).",
            shift.person_name, shift.rotation_name, shift.why
        ))
        .add_property("TRANSP", "TRANSPARENT")
        .done();
    cal.push(event);
    cal.to_string()
}
