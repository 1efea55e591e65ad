//! rota-notify: email reminders, change notices, conflict and swap emails, handoff notes, and
//! webhook and Slack deliveries, exactly once.
//!
//! - [`plan`] decides which messages are due (reminders, change notices, conflicts, swaps, and the
//!   handoff notes for whoever takes over a shift, [`plan::plan_handoff_notes`]): a pure function of the resolved schedule, the lead
//!   times, "now", the ledger entries and the stored snapshots. No I/O, no clock.
//! - [`message`] builds them: subject, a text and an HTML part, times in the recipient's zone, the
//!   headers of automated mail, and for reminders the shift as an `.ics` attachment (an iTIP
//!   PUBLISH, [`ics`]); a change notice that moves or removes a reminded shift attaches its update.
//! - [`send`] delivers them over SMTP (lettre; STARTTLS, TLS or plain; credentials from the
//!   environment only; the EHLO name configurable).
//! - [`run`] ties them together with the ledger in the state file (rota-store).
//!
//! It never reads the clock itself and never reads the schedule files: the binary passes the
//! resolved schedule (files plus run-time overrides) and a clock. `rota serve` runs [`run_once`]
//! every minute when SMTP is configured; `rota remind --once` runs it once from cron.
//!
//! # Exactly once, and the window that remains
//!
//! Every message has a ledger key that names what it is about (see [`plan`]), and the ledger
//! (`notify_ledger` in the state file, SQLite with `synchronous=FULL`) moves each key through:
//!
//! 1. **`sending`**: claimed, and the claim committed to disk, *before* the SMTP transaction
//!    starts. The claim names its owner (`host/pid`); two processes sharing the file (the service
//!    and a cron job) cannot both claim a key.
//! 2. **`sent`**: committed right after the server's `250` to the message data. A `sent` key is
//!    never sent again, whatever happens later.
//! 3. **`retry`**: the server refused or could not be reached; retried after 1, 2, 4, ... minutes
//!    (at most an hour apart). A reminder is given up (**`failed`**) once its shift has started, and
//!    any message at once on a permanent (5xx) answer.
//! 4. **`superseded`**: a longer-lead reminder not sent because a shorter one of the same shift was
//!    due at the same moment.
//!
//! If the process dies between the claim and recording the outcome, the key stays `sending`. The
//! next run takes it over, at once when its owner is a process on this host that no longer exists,
//! otherwise after a 10-minute lease, and **sends it again**: we cannot know whether the server
//! got it, and a missed shift is worse than a second email. So the one remaining duplicate window
//! is the moment between the server's `250` and our commit of `sent` (one SQLite commit, a few
//! milliseconds), at most one message per crash, since messages go out one at a time. The
//! duplicate has the same `Message-ID` (derived from the key) and an `X-Rota-Key` header, so mail
//! systems and people can tell it is the same message. Nothing is lost: a key is only finished
//! after a `250`, a permanent refusal, or its shift starting.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod ics;
pub mod leader;
pub mod message;
pub mod plan;
pub mod run;
pub mod send;
pub mod slack;
pub mod webhook;

pub use error::{Error, ErrorKind};
pub use plan::{ConflictNotice, Lead, PlanConfig, Planned, SwapEvent, SwapKind, plan_conflicts};
pub use run::{
    Report, Run, Settings, describe, execute, plan_conflict_run, plan_run, run_conflicts, run_once,
    send_swap,
};
pub use send::{Mailer, Security, SendError, SmtpConfig, SmtpMailer};
