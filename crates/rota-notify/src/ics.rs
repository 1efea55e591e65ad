//! The calendars attached to emails: iTIP `METHOD:PUBLISH` messages (RFC 5546 section 3.2.1, sent
//! by email as RFC 6047 describes), written by `rota-ics`.
//!
//! - A reminder attaches its shift, described exactly as the feeds describe it (same UID, summary
//!   and description), so a client that also subscribes to the feed sees one event, not two.
//! - A change notice attaches updates for the shifts a reminder put in the calendar that moved or
//!   went away: the same UID with the new times, or `STATUS:CANCELLED`.
//!
//! PUBLISH requires an `ORGANIZER`: the sender (`ROTA_SMTP_FROM`). A client applies a message about
//! a UID it has only when its `SEQUENCE` is higher than the one it holds, so [`sequence`] counts
//! seconds since 2020 at the time the message is built: every later message about a shift
//! (reminder, update, a second update) has a higher number, with nothing stored. Limits: two
//! messages about one UID built in the same second have the same number, and the count fits the
//! 32-bit integers clients use until 2088.

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use crate::plan::ShiftInfo;

pub use rota_ics::{Event, Status};

/// The calendar event of `shift`, as the feeds have it.
pub fn event(shift: &ShiftInfo) -> Event {
    Event::new(
        shift.uid.clone(),
        shift.start,
        shift.end,
        &shift.rotation_name,
        &shift.person_name,
        &shift.why,
    )
}

/// The `SEQUENCE` of a message built at `now`: seconds since 2020-01-01T00:00:00Z (0 before).
pub fn sequence(now: DateTime<Utc>) -> u32 {
    let epoch = 1_577_836_800; // 2020-01-01T00:00:00Z
    u32::try_from((now.timestamp() - epoch).max(0)).unwrap_or(u32::MAX)
}

/// A PUBLISH message of `events` from `organizer`, stamped and sequenced at `now`.
pub fn calendar(organizer: &Mailbox, now: DateTime<Utc>, events: &[(Event, Status)]) -> String {
    let name = organizer.name.as_deref().unwrap_or("rota");
    let address = organizer.email.to_string();
    rota_ics::publish((name, &address), now, sequence(now), events)
}

/// A calendar with one confirmed `VEVENT` for `shift`, from `organizer`, at `now`.
pub fn shift_calendar(shift: &ShiftInfo, organizer: &Mailbox, now: DateTime<Utc>) -> String {
    calendar(organizer, now, &[(event(shift), Status::Confirmed)])
}
