//! rota-core: pure on-call scheduling.
//!
//! People take turns in **rotations**: a fixed order of members handing off at wall-clock times in
//! an IANA zone (`every = "1 week"`, or an RFC 5545 `rrule`). **Overrides** replace who is on call in
//! one rotation for `[start, end)` and never change who is next; a **swap** is two overrides.
//! **Links** put whoever is on call in one rotation (the Support Hero) on call in their own team's
//! rotation too. The **resolved schedule** applies rotation, then links, then overrides, and every
//! resolved [`Shift`] carries its [`Source`].
//!
//! A rotation may be **restricted** to windows of the week (`active = ["Mon-Fri 09:00-17:00"]`);
//! outside them nobody is on call, and its turns advance `always` or `when-active` ([`restrict`]).
//!
//! This crate does no I/O, no async and never reads the clock: [`Schedule::load`] takes file texts,
//! and every query takes the instant or range it is about. The time rules (gaps, folds, handoffs
//! computed from `start`) are in [`tz`] and on [`Recurrence`].
//!
//! # Example
//!
//! ```
//! use rota_core::Schedule;
//!
//! let text = r#"
//! hero_rotation = "support-hero"
//!
//! [teams.platform]
//! name = "Platform"
//!
//! [people.alice]
//! name = "Alice Smith"
//! team = "platform"
//! [people.bob]
//! name = "Bob Jones"
//! team = "platform"
//!
//! [rotations.support-hero]
//! members = ["alice", "bob"]
//! timezone = "Europe/London"
//! start = "2026-11-02T09:00"
//! every = "1 week"
//! "#;
//! let schedule = Schedule::load(&[("schedule.toml", text)]).unwrap();
//! let hero = schedule.whoishero("2026-11-10T12:00:00Z".parse().unwrap()).unwrap().unwrap();
//! assert_eq!(hero.person.name, "Bob Jones");
//! assert_eq!(hero.start.to_rfc3339(), "2026-11-09T09:00:00+00:00");
//! assert_eq!(hero.source.as_str(), "rotation");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cadence;
pub mod coverage;
mod error;
mod load;
mod model;
pub mod restrict;
mod schedule;
pub mod stretch;
pub mod timeoff;
pub mod tz;
pub mod view;

pub use cadence::{MAX_EVERY, Recurrence, Unit};
pub use coverage::{Coverage, Gap};
pub use error::{Diagnostic, Error, ErrorKind};
pub use load::{Checked, unknown_id_message};
pub use model::{
    Displaced, Layer, Link, Override, Person, Rotation, Shift, SlackSettings, Source, Team,
    Webhook, WebhookEvent, WebhookUrl,
};
pub use restrict::{Advance, Restriction};
pub use schedule::{Schedule, swap_overrides};
pub use stretch::{Stretch, stretches};

/// Re-exported so embedders name the same zone type rota uses.
pub use chrono_tz::Tz;
