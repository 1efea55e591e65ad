//! rota-calendar: reads people's absence (out-of-office) and public-holiday calendars.
//!
//! A person in a schedule may list absence sources, each an `.ics` file or an `http(s)` URL of a
//! calendar feed; a schedule may also name a public-holidays `.ics`. rota-core takes plain UTC
//! intervals; this crate turns calendar text into those intervals and fetches the sources.
//!
//! - [`parse()`] (module [`mod@parse`], pure: no I/O, no clock) reads RFC 5545 text into a
//!   [`Calendar`]; [`Calendar::busy`] expands it into [`Busy`] intervals for a query range, and
//!   [`Calendar::dates`] lists the civil dates a holiday calendar covers. The module doc there
//!   states the interpretation rules (zones, DST, recurrence) and their limits.
//! - [`Source`] (module `source`, does I/O) is one location plus its last good copy: it reads the
//!   file or fetches the URL with a [`Fetcher`] (conditional requests with ETag), keeps the last
//!   good calendar when a refresh fails, and reports a redacted [`Status`] for `/healthz`.
//!
//! - [`Calendars`] (module `set`) holds a schedule's sources (everyone's absence calendars and the
//!   holiday calendar), refreshes them together, expands each once per read into a capped, merged
//!   absence index, and gives a [`Snapshot`] that reads as rota-core's `TimeOff` and `Holidays`.
//!
//! Secret calendar URLs (Google's `private-<token>/basic.ics`) never appear in errors or status:
//! only `scheme://host/…` does ([`Location::redacted`]).

mod error;
pub mod parse;
pub mod set;
pub mod source;
mod zones;

pub use error::{Error, ErrorKind};
pub use parse::{
    Busy, Calendar, Expanded, MAX_OCCURRENCES, MAX_OCCURRENCES_PER_CALENDAR,
    MAX_STEPS_PER_CALENDAR, parse,
};
pub use set::{Calendars, INDEX_DAYS_AHEAD, INDEX_DAYS_BACK, Snapshot, index_window};
pub use source::{Fetcher, Location, Source, Status};
