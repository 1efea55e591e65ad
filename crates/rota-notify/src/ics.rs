//! The one-shift calendar attached to a reminder, written by `rota-ics` exactly as the feeds write
//! the same shift (same UID, summary and description), so a client that also subscribes to the feed
//! sees one event, not two.

use chrono::{DateTime, Utc};

use crate::plan::ShiftInfo;

/// A calendar with one `VEVENT` for `shift`, stamped `now`.
pub fn shift_calendar(shift: &ShiftInfo, now: DateTime<Utc>) -> String {
    let event = rota_ics::Event::new(
        shift.uid.clone(),
        shift.start,
        shift.end,
        &shift.rotation_name,
        &shift.person_name,
        &shift.why,
    );
    rota_ics::calendar(None, now, &[event])
}
