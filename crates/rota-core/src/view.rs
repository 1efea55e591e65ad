//! The JSON shape of a resolved shift, shared by the CLI (`--json`) and the service, so both print
//! exactly what DESIGN.md fixes:
//!
//! ```json
//! {"rotation":"support-hero","person":{"id":"alice","name":"Alice Smith","email":"alice@example.com"},
//!  "start":"2026-12-07T09:00:00Z","end":"2026-12-14T09:00:00Z","source":"rotation"}
//! ```
//!
//! Instants are RFC 3339 in UTC with a `Z`; zones are only for display, elsewhere.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::model::{Person, Shift};

/// A shift as JSON: see the module doc.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ShiftView<'s> {
    /// Rotation id.
    pub rotation: &'s str,
    /// Who is on call.
    pub person: PersonView<'s>,
    /// RFC 3339 UTC instant.
    pub start: String,
    /// RFC 3339 UTC instant.
    pub end: String,
    /// `"rotation"`, `"link"` or `"override"`.
    pub source: &'static str,
}

/// A person as JSON: id, name and email (`null` when the schedule gives none).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PersonView<'s> {
    /// Person id.
    pub id: &'s str,
    /// Display name.
    pub name: &'s str,
    /// Email address, if any.
    pub email: Option<&'s str>,
}

impl<'s> From<&'s Person> for PersonView<'s> {
    fn from(p: &'s Person) -> Self {
        PersonView {
            id: &p.id,
            name: &p.name,
            email: p.email.as_deref(),
        }
    }
}

impl<'s> From<&Shift<'s>> for ShiftView<'s> {
    fn from(s: &Shift<'s>) -> Self {
        ShiftView {
            rotation: &s.rotation.id,
            person: s.person.into(),
            start: utc(s.start),
            end: utc(s.end),
            source: s.source.as_str(),
        }
    }
}

/// Formats an instant as RFC 3339 in UTC with `Z` and whole seconds: `2026-12-07T09:00:00Z`.
pub fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
