//! Planning: which messages are due, as a pure function of the resolved schedule, the ledger and
//! "now". No I/O, no clock, no SMTP: [`crate::run`] does those.
//!
//! # Reminders
//!
//! For every resolved shift that has not started yet, whose person has an email address, and for
//! every lead time, the reminder falls due at [`Lead::due_at`]. A reminder is a *candidate* when it
//! is due (`due_at <= now`) and the shift has not started (`now < start`): so after downtime, a
//! reminder that fell due while rota was down is still sent once if the shift has not started, and
//! never once it has. Its ledger key is `reminder/{rotation}/{slot}/{person}/{lead}` (e.g.
//! `reminder/support-hero/12/alice/P7D`), so the same slot of the same rotation for the same person
//! is reminded once per lead time, even if a reload moves it by an hour. A person who gets the
//! shift later (a swap, an override) has a different key and gets their own reminder; the person
//! who lost it gets a change notice instead.
//!
//! The person actually on call is reminded: the resolved schedule has links and overrides applied.
//!
//! Reminders are per *stretch* (`rota_core::stretch`), not per resolved shift: a person's
//! continuous time in one rotation is one reminder, however many handoffs it crosses, so a weekly
//! hero linked into a daily secondary gets one secondary reminder for the week, not seven. The key
//! names the stretch's *first* slot, which for a plain shift (one slot, one stretch) is the key it
//! always had, so ledgers written before stretches stay valid and a deploy re-sends nothing. A
//! stretch that has started is not reminded, even if slots of it have not (that is the point).
//! The message says when the whole stretch ends; its calendar attachment keeps the first slot's
//! UID (the feeds' per-slot event), so a calendar holding both shows the reminder's event over the
//! feed's first day. If a slot is split so that one person has several stretches in it (a day of
//! their week swapped away), each is reminded: the first piece of the slot under the plain key,
//! each later one under `reminder/{rotation}/{slot}/{person}@{start}/{lead}`, with the feed's UID
//! for that piece. Which piece is first is decided over the whole slot, not the window looked at,
//! so the keys do not change as time passes.
//!
//! When several lead times of one shift are due at once (rota was down, or the shift was assigned
//! at short notice), only the shortest is sent and the longer ones are recorded as *superseded*:
//! two emails at the same moment saying "in 7 days" and "tomorrow" about a shift 20 hours away help
//! nobody.
//!
//! ## Lead times and DST
//!
//! A lead time in days or weeks is counted on the **recipient's wall clock** (their `timezone`, or
//! the rotation's zone if they have none): "1 day before Monday 09:00" is Sunday 09:00 in their
//! zone, which is 23 or 25 hours before when a DST change falls in between. People think of "the
//! day before" as the same time of day, and the handoff itself keeps its wall-clock time across DST
//! for the same reason. If that wall-clock time falls in a gap it moves forward by the gap's length,
//! and in a fold it takes the earlier instant (the rule of `rota_core::tz`). A lead time in hours or
//! minutes is an exact duration.
//!
//! # Change notices
//!
//! Each run takes a [`Snapshot`] of a person's shifts in the next 4 weeks and compares it with the
//! stored one over the part of the window both cover (so shifts entering the window as time passes
//! are not "changes"). If any shift there was added, moved or removed, one notice lists before and
//! after. The key is `change/{person}/{hash of the stored snapshot's time, before and after}`, so a
//! notice that was sent but whose snapshot was not yet stored is recognised and not sent again. A
//! person without a stored snapshot (the first run) only gets one recorded: no flood of notices.
//!
//! A reminder attaches its shift as a calendar event, which the person may have added to their
//! calendar. When a change removes or moves a shift whose reminder the ledger says was sent to
//! them, the notice attaches an update for that event: the same UID with the new times, or
//! `STATUS:CANCELLED` ([`calendar_updates`]; the iTIP side is in [`crate::ics`]). Reminders are
//! found by their ledger keys under the lead times configured now: one sent under a lead time
//! since removed from `ROTA_REMIND_LEADS` is not found, and its event gets no update.
//!
//! # Selection
//!
//! [`select`] compares candidates with their ledger entries: a key already `sent`, `failed` or
//! `superseded` is never sent again; one in `retry` waits for its next attempt and is given up once
//! it has expired (a reminder: its shift started).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Days, Duration, Utc};
use chrono_tz::Tz;
use rota_core::{Person, Schedule, Shift};
use rota_store::{LedgerEntry, LedgerState};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};

/// How long before a shift starts a reminder goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lead {
    /// Exact minutes before the start.
    Minutes(u32),
    /// Calendar days before the start, on the recipient's wall clock (see the module doc).
    Days(u32),
}

impl Lead {
    /// The defaults: 7 days and 1 day before the shift starts.
    pub const DEFAULTS: [Lead; 2] = [Lead::Days(7), Lead::Days(1)];

    /// Parses `"7 days"`, `"1 day"`, `"2 weeks"`, `"12 hours"`, `"30 minutes"`.
    pub fn parse(s: &str) -> Result<Lead, Error> {
        let bad = || {
            Error::new(ErrorKind::Config(format!(
                "lead time {s:?}: expected \"N days\", \"N weeks\", \"N hours\" or \"N minutes\""
            )))
        };
        let mut it = s.split_whitespace();
        let (Some(n), Some(unit), None) = (it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        let n: u32 = n.parse().map_err(|_| bad())?;
        if n == 0 || n > 366 * 24 * 60 {
            return Err(bad());
        }
        let lead = match unit.trim_end_matches('s') {
            "minute" | "min" => Lead::Minutes(n),
            "hour" => Lead::Minutes(n.checked_mul(60).ok_or_else(bad)?),
            "day" => Lead::Days(n),
            "week" => Lead::Days(n.checked_mul(7).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        if lead.approx() > Duration::days(366) {
            return Err(bad());
        }
        Ok(lead)
    }

    /// Parses a comma-separated list (`"7 days, 1 day"`), sorted longest first, without repeats.
    pub fn parse_list(s: &str) -> Result<Vec<Lead>, Error> {
        let mut out = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Lead::parse)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|l| std::cmp::Reverse(l.approx()));
        out.dedup();
        Ok(out)
    }

    /// The ISO 8601 duration used in ledger keys: `P7D`, `PT90M`.
    pub fn label(self) -> String {
        match self {
            Lead::Days(d) => format!("P{d}D"),
            Lead::Minutes(m) => format!("PT{m}M"),
        }
    }

    /// Roughly how long (days as 24 hours), for ordering and windows.
    pub fn approx(self) -> Duration {
        match self {
            Lead::Days(d) => Duration::days(d.into()),
            Lead::Minutes(m) => Duration::minutes(m.into()),
        }
    }

    /// When a reminder for a shift starting at `start` falls due, for a recipient in `zone`.
    ///
    /// ```
    /// use rota_notify::Lead;
    /// let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
    /// // Monday 30 March 2026 09:00 BST; clocks went forward on Sunday 29 March at 01:00 GMT.
    /// let start = "2026-03-30T08:00:00Z".parse().unwrap();
    /// // "1 day before" is Sunday 09:00 BST: 23 hours before, not 24.
    /// assert_eq!(Lead::Days(1).due_at(start, london).to_rfc3339(), "2026-03-29T08:00:00+00:00");
    /// // "7 days before" is the previous Monday 09:00 GMT.
    /// assert_eq!(Lead::Days(7).due_at(start, london).to_rfc3339(), "2026-03-23T09:00:00+00:00");
    /// // Hours are exact.
    /// assert_eq!(Lead::Minutes(24 * 60).due_at(start, london).to_rfc3339(), "2026-03-29T08:00:00+00:00");
    /// ```
    pub fn due_at(self, start: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        match self {
            Lead::Minutes(m) => start - Duration::minutes(m.into()),
            Lead::Days(d) => {
                let civil = start.with_timezone(&zone).naive_local();
                civil
                    .checked_sub_days(Days::new(d.into()))
                    .and_then(|c| rota_core::tz::resolve(zone, c))
                    .map(|r| r.instant)
                    .unwrap_or(start - Duration::days(d.into()))
            }
        }
    }
}

impl fmt::Display for Lead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32, unit: &str| {
            if n == 1 {
                format!("1 {unit}")
            } else {
                format!("{n} {unit}s")
            }
        };
        match *self {
            Lead::Days(d) if d % 7 == 0 => f.write_str(&plural(d / 7, "week")),
            Lead::Days(d) => f.write_str(&plural(d, "day")),
            Lead::Minutes(m) if m % 60 == 0 => f.write_str(&plural(m / 60, "hour")),
            Lead::Minutes(m) => f.write_str(&plural(m, "minute")),
        }
    }
}

/// What the planner needs besides the schedule.
#[derive(Clone, Debug)]
pub struct PlanConfig {
    /// Reminder lead times.
    pub leads: Vec<Lead>,
    /// How far ahead change notices look (4 weeks).
    pub horizon: Duration,
    /// The service's public base URL, for links in messages (`ROTA_BASE_URL`).
    pub base_url: Option<String>,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            leads: Lead::DEFAULTS.to_vec(),
            horizon: Duration::weeks(4),
            base_url: None,
        }
    }
}

/// A shift as a message shows it: owned, so messages outlive the schedule they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShiftInfo {
    /// Rotation id.
    pub rotation: String,
    /// Rotation name.
    pub rotation_name: String,
    /// The rotation's zone.
    pub rotation_zone: Tz,
    /// The slot (index of the rotation's shift).
    pub slot: u64,
    /// Person id.
    pub person: String,
    /// Person name.
    pub person_name: String,
    /// First instant on call.
    pub start: DateTime<Utc>,
    /// First instant no longer on call.
    pub end: DateTime<Utc>,
    /// Why they are on call, in words.
    pub why: String,
    /// The calendar UID, the same as in the feeds: `{rotation}-{slot}@rota`, or
    /// `{rotation}-{slot}-{start}@rota` for a later piece of a split slot.
    pub uid: String,
}

impl ShiftInfo {
    /// Takes what a message needs from a resolved shift.
    pub fn new(schedule: &Schedule, s: &Shift<'_>) -> ShiftInfo {
        // The feed's UID, so a client that also subscribes sees one event; and the same words.
        let uid = rota_ics::uid(schedule, s);
        let why = rota_ics::why(schedule, s);
        ShiftInfo {
            rotation: s.rotation.id.clone(),
            rotation_name: s.rotation.name.clone(),
            rotation_zone: s.rotation.timezone,
            slot: s.slot,
            person: s.person.id.clone(),
            person_name: s.person.name.clone(),
            start: s.start,
            end: s.end,
            why,
            uid,
        }
    }
}

/// Who a message goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Person id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// The zone times are shown in: the person's, else the rotation's (else UTC).
    pub zone: Tz,
}

impl Recipient {
    /// The person as a recipient, or `None` if they have no email address.
    pub fn of(p: &Person, fallback_zone: Tz) -> Option<Recipient> {
        Some(Recipient {
            id: p.id.clone(),
            name: p.name.clone(),
            email: p.email.clone()?,
            zone: p.timezone.unwrap_or(fallback_zone),
        })
    }
}

/// What happened in a swap (issue 4 calls [`plan_swap`] with these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwapKind {
    /// Someone asked the counterpart to swap.
    Requested,
    /// The counterpart accepted: the two overrides exist.
    Accepted,
    /// The counterpart declined.
    Declined,
    /// The requester withdrew the request.
    Cancelled,
    /// One party asked to undo an accepted swap; the other is asked to agree.
    UndoRequested,
    /// An accepted swap was undone: its overrides are gone.
    Undone,
}

impl SwapKind {
    /// `requested`, `accepted`, `declined`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            SwapKind::Requested => "requested",
            SwapKind::Accepted => "accepted",
            SwapKind::Declined => "declined",
            SwapKind::Cancelled => "cancelled",
            SwapKind::UndoRequested => "undo-requested",
            SwapKind::Undone => "undone",
        }
    }
}

/// A swap event, as the swap flow reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapEvent {
    /// The swap request's id.
    pub id: String,
    /// What happened.
    pub kind: SwapKind,
    /// Who asked.
    pub requester: Recipient,
    /// Who was asked.
    pub counterpart: Recipient,
    /// The requester's shift, which the counterpart would take.
    pub give: ShiftInfo,
    /// The counterpart's shift, which the requester would take; `None` for a one-way cover.
    pub take: Option<ShiftInfo>,
    /// Why, as the requester wrote it.
    pub reason: Option<String>,
    /// A take-over of a shift that has started: the email says it is urgent.
    pub urgent: bool,
    /// Who asked to undo it (for [`SwapKind::UndoRequested`]).
    pub undo_asked_by: Option<String>,
}

impl SwapEvent {
    /// The event to tell people about, from a swap request as the state store has it after a
    /// change: pending means it was just requested. `None` for an expired request (nobody is told)
    /// or when the request's rotation or people are no longer in the schedule.
    pub fn from_request(schedule: &Schedule, r: &rota_store::SwapRequest) -> Option<SwapEvent> {
        use rota_store::SwapState;
        let kind = match r.state {
            SwapState::Pending => SwapKind::Requested,
            SwapState::Accepted if r.undo_requested_by.is_some() => SwapKind::UndoRequested,
            SwapState::Accepted => SwapKind::Accepted,
            SwapState::Undone => SwapKind::Undone,
            SwapState::Declined => SwapKind::Declined,
            SwapState::Cancelled => SwapKind::Cancelled,
            SwapState::Expired => return None,
        };
        let rotation = schedule.rotation(&r.rotation)?;
        let zone = rotation.timezone;
        let requester = Recipient::of(schedule.person(&r.requester)?, zone)?;
        let counterpart = Recipient::of(schedule.person(&r.counterpart)?, zone)?;
        // The parts the request names (the whole slot, or part of it), in the rotation: the
        // message names the rotation and the times, and a piece has the feed's UID for it.
        let info = |sl: &rota_store::SwapSlot| {
            let mut part = schedule.base_shift(&r.rotation, sl.slot).ok()??;
            part.start = sl.start;
            part.end = sl.end;
            Some(ShiftInfo::new(schedule, &part))
        };
        let give = info(&r.requester_slot)?;
        let take = match &r.counterpart_slot {
            Some(c) => Some(info(c)?),
            None => None,
        };
        Some(SwapEvent {
            id: r.id.clone(),
            kind,
            requester,
            counterpart,
            give,
            take,
            reason: None,
            urgent: r.is_take_over(),
            undo_asked_by: r.undo_requested_by.clone(),
        })
    }
}

/// One shift in a change-notice snapshot.
///
/// Two snapshots are compared by rotation, name and times only ([`SnapShift::same`]): the slot,
/// UID and reason are there to write calendar updates, and snapshots stored before they existed
/// (read with empty values) must not look changed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SnapShift {
    /// Rotation id.
    pub rotation: String,
    /// Rotation name, for the notice.
    pub name: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// The slot (index of the rotation's shift); `None` in snapshots stored by older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u64>,
    /// The calendar UID, as the feeds and the reminder's attachment have it; empty in snapshots
    /// stored by older versions.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Why they are on call, in words (the calendar event's description).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

impl SnapShift {
    /// Whether `self` and `other` are the same shift for a change notice: same rotation (and
    /// name) and times.
    pub fn same(&self, other: &SnapShift) -> bool {
        self.rotation == other.rotation
            && self.name == other.name
            && self.start == other.start
            && self.end == other.end
    }

    /// The calendar event for this shift of `person_name`, as the feeds describe it.
    fn event(&self, person_name: &str) -> rota_ics::Event {
        let why = if self.why.is_empty() {
            "on call"
        } else {
            self.why.as_str()
        };
        rota_ics::Event::new(
            self.uid.clone(),
            self.start,
            self.end,
            &self.name,
            person_name,
            why,
        )
    }
}

/// A person's shifts in `[from, to)`, as stored between runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Window start (the run's "now").
    pub from: DateTime<Utc>,
    /// Window end.
    pub to: DateTime<Utc>,
    /// The shifts overlapping the window, by start.
    pub shifts: Vec<SnapShift>,
}

impl Snapshot {
    /// `person`'s shifts in `[now, now + horizon)`.
    pub fn take(
        schedule: &Schedule,
        person: &str,
        now: DateTime<Utc>,
        horizon: Duration,
    ) -> Snapshot {
        let to = now + horizon;
        let mut shifts: Vec<SnapShift> = schedule
            .shifts_for_person(person, now, to)
            .unwrap_or_default()
            .iter()
            .map(|s| SnapShift {
                rotation: s.rotation.id.clone(),
                name: s.rotation.name.clone(),
                start: s.start,
                end: s.end,
                slot: Some(s.slot),
                uid: rota_ics::uid(schedule, s),
                why: rota_ics::why(schedule, s),
            })
            .collect();
        shifts.sort();
        Snapshot {
            from: now,
            to,
            shifts,
        }
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form; `None` if it is unreadable (treated like no snapshot).
    pub fn from_json(s: &str) -> Option<Snapshot> {
        serde_json::from_str(s).ok()
    }

    fn within(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<SnapShift> {
        self.shifts
            .iter()
            .filter(|s| s.end > from && s.start < to)
            .cloned()
            .collect()
    }
}

/// What a planned message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// "Your shift starts in 7 days", with the shift as an .ics attachment.
    Reminder {
        /// The shift.
        shift: ShiftInfo,
        /// Which lead time.
        lead: Lead,
        /// When it fell due.
        due_at: DateTime<Utc>,
    },
    /// "Your upcoming shifts changed", before and after.
    Change {
        /// The shifts as they were (within the compared window).
        before: Vec<SnapShift>,
        /// The shifts as they are now.
        after: Vec<SnapShift>,
        /// The snapshot to store once the notice is sent.
        snapshot: Snapshot,
        /// Calendar updates for the shifts a reminder's attachment put in their calendar that
        /// were moved or removed (see [`calendar_updates`]); attached when not empty.
        updates: Vec<(rota_ics::Event, rota_ics::Status)>,
    },
    /// A swap event.
    Swap(Box<SwapEvent>),
    /// "You are on call while you are away": a conflict with the colleagues who could trade.
    Conflict(Box<ConflictNotice>),
    /// "Alice handed over to you": the handoff notes left on the shift before, at the handoff.
    Handoff(Box<HandoffNotice>),
}

/// A handoff with notes, as the email to the person taking over states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandoffNotice {
    /// The shift being taken over (the incoming person's piece of it).
    pub shift: ShiftInfo,
    /// Who handed over: replies go to them when they have an email address.
    pub from: Recipient,
    /// The slot of the shift handed over, whose notes these are.
    pub from_slot: u64,
    /// `(author name, written at, text)`, oldest first.
    pub notes: Vec<(String, DateTime<Utc>, String)>,
}

/// What was handed over to the person on call in `x`: who handed over (the piece of someone else
/// just before their continuous time, [`rota_core::stretch::handed_over`]), when that time began,
/// and the notes on that piece's shift written by someone other than `x`'s person (their own notes
/// for whoever comes after them are not theirs to receive). The one rule the email, the Slack
/// message and the `handoff` webhook all follow. `None` when nobody handed over.
pub fn notes_handed_over<'s>(
    schedule: &'s Schedule,
    x: &Shift<'s>,
    notes_of: &dyn Fn(&str, u64) -> Vec<rota_store::HandoffNote>,
) -> Option<(Shift<'s>, DateTime<Utc>, Vec<rota_store::HandoffNote>)> {
    let (before, began) = rota_core::stretch::handed_over(schedule, x)?;
    let notes = notes_of(&x.rotation.id, before.slot)
        .into_iter()
        .filter(|n| n.author != x.person.id)
        .collect();
    Some((before, began, notes))
}

/// One email per handoff with notes: to whoever is on call in each rotation at `now`, when the
/// person who handed over to them (the piece of someone else just before their continuous time,
/// [`rota_core::stretch::handed_over`]) has notes on that shift (`notes_of(rotation, slot)`) written
/// by someone other than the recipient: their own notes for whoever comes after them are not
/// theirs to receive, which matters when the person before them held part of the same shift. The
/// key is the handoff (`handoff/{rotation}/{start of their continuous time}/{person}`), so it is
/// sent once, however many notes there are and whenever they are written, and a later piece of the
/// same continuous time (after an override of theirs ends) names the same handoff; it expires with
/// the piece running, and a later piece plans it again, so a handoff that happened while rota was
/// down is mailed when it comes back if that time still runs, never afterwards.
pub fn plan_handoff_notes(
    schedule: &Schedule,
    notes_of: &dyn Fn(&str, u64) -> Vec<rota_store::HandoffNote>,
    now: DateTime<Utc>,
    base_url: Option<&str>,
) -> Vec<Planned> {
    let mut out = Vec::new();
    for x in schedule.on_call_all(now) {
        let Some((before, began, notes)) = notes_handed_over(schedule, &x, notes_of) else {
            continue;
        };
        if notes.is_empty() {
            continue;
        }
        let (Some(to), Some(from)) = (
            Recipient::of(x.person, x.rotation.timezone),
            Recipient::of(before.person, x.rotation.timezone).or_else(|| {
                Some(Recipient {
                    id: before.person.id.clone(),
                    name: before.person.name.clone(),
                    email: String::new(),
                    zone: x.rotation.timezone,
                })
            }),
        ) else {
            continue;
        };
        let name = |id: &str| {
            schedule
                .person(id)
                .map_or(id.to_string(), |p| p.name.clone())
        };
        out.push(Planned {
            key: format!(
                "handoff/{}/{}/{}",
                x.rotation.id,
                began.timestamp(),
                x.person.id
            ),
            kind: "handoff".into(),
            why: format!(
                "{} handed {} over to {} at {} with {} note(s)",
                before.person.id,
                x.rotation.id,
                x.person.id,
                rota_core::view::utc(began),
                notes.len()
            ),
            to,
            expires: Some(x.end),
            content: Content::Handoff(Box::new(HandoffNotice {
                shift: ShiftInfo::new(schedule, &x),
                from,
                from_slot: before.slot,
                notes: notes
                    .iter()
                    .map(|n| (name(&n.author), n.created_at, n.text.clone()))
                    .collect(),
            })),
            base_url: base_url.map(str::to_string),
        });
    }
    out
}

/// A conflict as an email states it: the shift, the absences overlapping it, and who could trade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictNotice {
    /// The conflicting shift.
    pub shift: ShiftInfo,
    /// `(start, end, summary)` of each absence overlapping it.
    pub absences: Vec<(DateTime<Utc>, DateTime<Utc>, String)>,
    /// Best first: `(colleague name, their shift to take in return)`.
    pub suggestions: Vec<(String, ShiftInfo)>,
    /// `(rotation name, start, end)` of each stretch a link gives them because of this shift
    /// (the hero's secondary week): reported here, not as conflicts of their own.
    pub linked: Vec<(String, DateTime<Utc>, DateTime<Utc>)>,
}

/// How far ahead conflicts are looked for, and how far ahead a trade-back shift may be.
pub const CONFLICT_HORIZON_DAYS: i64 = 182;

/// One message per conflict that starts within [`CONFLICT_HORIZON_DAYS`] of `now`, to the absent
/// person. The ledger key is the shift (`conflict:{person}:{rotation}:{slot}:{start}`), not the
/// absence: editing the absence or adding another in the same shift is not a new conflict, so it
/// never sends twice. Shifts already started are not mentioned; a message expires at the start.
pub fn plan_conflicts(
    schedule: &Schedule,
    time_off: &rota_core::timeoff::TimeOff,
    now: DateTime<Utc>,
    base_url: Option<&str>,
) -> Vec<Planned> {
    let until = now + Duration::days(CONFLICT_HORIZON_DAYS);
    let Ok(conflicts) = schedule.conflicts(time_off, now, until) else {
        return Vec::new();
    };
    // A hero away during a linked week is one message, about the hero shift (rota_core::stretch).
    let conflicts = rota_core::stretch::fold_linked_conflicts(conflicts);
    let mut out = Vec::new();
    for c in conflicts {
        let x = &c.shift;
        if x.start <= now {
            continue;
        }
        let Some(to) = Recipient::of(x.person, x.rotation.timezone) else {
            continue;
        };
        let suggestions = schedule
            .suggestions(time_off, x, now, until)
            .unwrap_or_default()
            .iter()
            .take(3)
            .map(|s| {
                // What the absent person takes back: the colleague's shift, or the part of it.
                let mut back = s.give_back;
                if let Some((a, b)) = s.give_back_part {
                    back.start = a;
                    back.end = b;
                }
                (s.person().name.clone(), ShiftInfo::new(schedule, &back))
            })
            .collect();
        let key = format!(
            "conflict:{}:{}:{}:{}",
            x.person.id,
            x.rotation.id,
            x.slot,
            x.start.timestamp()
        );
        let why = format!(
            "{} is on call in {} from {} and away for {} of it",
            x.person.id,
            x.rotation.id,
            rota_core::view::utc(x.start),
            crate::message::duration_words(c.away)
        );
        out.push(Planned {
            key,
            kind: "conflict".into(),
            to,
            expires: Some(x.start),
            why,
            content: Content::Conflict(Box::new(ConflictNotice {
                shift: ShiftInfo::new(schedule, x),
                absences: c
                    .absences
                    .iter()
                    .map(|a| (a.start, a.end, a.summary.clone()))
                    .collect(),
                suggestions,
                linked: schedule
                    .linked_by(x)
                    .iter()
                    .map(|l| (l.rotation.name.clone(), l.start, l.end))
                    .collect(),
            })),
            base_url: base_url.map(str::to_string),
        });
    }
    out
}

/// A message that is due, with its ledger key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The ledger key: what was sent, stable across runs.
    pub key: String,
    /// `reminder`, `change`, or `swap-requested` etc.
    pub kind: String,
    /// Who it goes to.
    pub to: Recipient,
    /// After this it is not worth sending (a reminder: the shift's start).
    pub expires: Option<DateTime<Utc>>,
    /// Why it is due, for `--dry-run` and logs.
    pub why: String,
    /// What it says.
    pub content: Content,
    /// The service's base URL, for links.
    pub base_url: Option<String>,
}

/// The ledger key of the `lead` reminder of `person`'s shift in slot `slot` of `rotation`.
pub fn reminder_key(rotation: &str, slot: u64, person: &str, lead: Lead) -> String {
    format!("reminder/{rotation}/{slot}/{person}/{}", lead.label())
}

/// Which reminders are due at `now`: see the module doc. The second list holds the reminders
/// superseded by a shorter lead time of the same shift, due at the same time.
pub fn plan_reminders(
    schedule: &Schedule,
    cfg: &PlanConfig,
    now: DateTime<Utc>,
) -> (Vec<Planned>, Vec<Planned>) {
    let Some(longest) = cfg.leads.iter().map(|l| l.approx()).max() else {
        return (Vec::new(), Vec::new());
    };
    // Days on a wall clock can be up to a day longer than 24 h each way (Apia skipped a day), so
    // look a little further than the longest lead.
    let to = now + longest + Duration::days(2);
    let shifts = schedule.all_shifts(now, to).unwrap_or_default();
    let stretches = rota_core::stretches(&shifts);
    // One reminder before each stretch a person holds. A slot split by an override (a day of a
    // week swapped) gives its owner two stretches in one slot: the first keeps the key a plain
    // shift always had (so a deploy re-sends nothing), each later one gets its start in the key.
    let mut firsts: BTreeMap<(&str, u64, &str, DateTime<Utc>), &rota_core::Stretch<'_>> =
        BTreeMap::new();
    for x in &stretches {
        if x.start <= now || x.person.email.is_none() {
            continue;
        }
        firsts.insert((&x.rotation.id, x.first_slot(), &x.person.id, x.start), x);
    }
    let mut send = Vec::new();
    let mut superseded = Vec::new();
    for x in firsts.values() {
        let s = x.first();
        let Some(to) = Recipient::of(s.person, s.rotation.timezone) else {
            continue;
        };
        let mut due: Vec<(Lead, DateTime<Utc>)> = cfg
            .leads
            .iter()
            .map(|&l| (l, l.due_at(s.start, to.zone)))
            .filter(|&(_, at)| at <= now)
            .collect();
        // Shortest lead (latest due time) first: that one is sent.
        due.sort_by_key(|&(_, at)| std::cmp::Reverse(at));
        let place = place(schedule, s);
        let turn_end = match place {
            // Only time with nobody on call (a restricted rotation's nights) since this person's
            // last piece of the slot: the same turn, reminded once already.
            Some(Place::Continues) => continue,
            Some(Place::First(end) | Place::Later(_, end)) => Some(end),
            None => None,
        };
        let mut info = ShiftInfo::new(schedule, s);
        // The message says when the stretch ends, which may be past the window looked at, or
        // when the turn ends when it goes on after time with nobody on call.
        info.end = stretch_end(schedule, x).max(turn_end.unwrap_or(x.end));
        for (i, (lead, due_at)) in due.into_iter().enumerate() {
            let key = match place {
                Some(Place::Later(start, _)) => reminder_key(
                    &s.rotation.id,
                    s.slot,
                    &format!("{}@{}", s.person.id, start.timestamp()),
                    lead,
                ),
                _ => reminder_key(&s.rotation.id, s.slot, &s.person.id, lead),
            };
            let p = Planned {
                key,
                kind: "reminder".into(),
                to: to.clone(),
                expires: Some(s.start),
                why: format!(
                    "{} shift starts {}; the {lead} reminder fell due {}",
                    s.rotation.name,
                    rota_core::view::utc(s.start),
                    rota_core::view::utc(due_at)
                ),
                content: Content::Reminder {
                    shift: info.clone(),
                    lead,
                    due_at,
                },
                base_url: cfg.base_url.clone(),
            };
            if i == 0 {
                send.push(p);
            } else {
                superseded.push(p);
            }
        }
    }
    (send, superseded)
}

/// Where a piece lies among its person's pieces of its slot.
#[derive(Clone, Copy)]
enum Place {
    /// The first (or only): reminded under the plain key. With where the person's turn in the
    /// slot ends, across time nobody is on call (a restricted rotation's nights and weekends).
    First(DateTime<Utc>),
    /// A later piece, after someone else held part of the slot (an override split it: the
    /// owner's part after a swapped day): reminded on its own, under a key with its start.
    Later(DateTime<Utc>, DateTime<Utc>),
    /// A later piece after time with nobody on call only: the same turn, not reminded again.
    Continues,
}

/// Where `s` lies among its person's pieces of its slot; `None` if the slot cannot be read.
fn place(schedule: &Schedule, s: &Shift<'_>) -> Option<Place> {
    let base = schedule.base_shift(&s.rotation.id, s.slot).ok()??;
    let pieces: Vec<Shift<'_>> = schedule
        .shifts(&s.rotation.id, base.start, base.end)
        .ok()?
        .into_iter()
        .filter(|x| x.slot == s.slot)
        .collect();
    let i = pieces
        .iter()
        .position(|x| x.start == s.start && x.person.id == s.person.id)?;
    let turn_end = pieces[i..]
        .iter()
        .take_while(|x| x.person.id == s.person.id)
        .last()
        .map_or(s.end, |x| x.end);
    match pieces[..i].iter().rposition(|x| x.person.id == s.person.id) {
        None => Some(Place::First(turn_end)),
        Some(j) if pieces[j + 1..i].iter().any(|x| x.person.id != s.person.id) => {
            Some(Place::Later(s.start, turn_end))
        }
        Some(_) => Some(Place::Continues),
    }
}

/// Where stretch `x` really ends: `x` was joined from shifts in a window, so when it reaches the
/// window's end it may go on; follow it, a year at most (a rotation of one member never ends).
fn stretch_end(schedule: &Schedule, x: &rota_core::Stretch<'_>) -> DateTime<Utc> {
    let mut end = x.end;
    let limit = x.start + Duration::days(366);
    while end < limit {
        let Ok(next) = schedule.shifts(&x.rotation.id, end, end + Duration::days(28)) else {
            break;
        };
        let before = end;
        for y in next {
            if y.start == end && y.person.id == x.person.id {
                end = y.end;
            } else if y.start >= end {
                break;
            }
        }
        if end == before {
            break;
        }
    }
    end
}

/// The slots `(rotation, slot)` of `previous`'s shifts that `current` no longer has at the same
/// times (removed or moved), within the window both cover: the ones whose reminder, if one was
/// sent, needs a calendar update. The caller looks them up in the ledger.
pub fn moved_slots(previous: &Snapshot, current: &Snapshot) -> Vec<(String, u64)> {
    let from = current.from.max(previous.from);
    let to = current.to.min(previous.to);
    if to <= from {
        return Vec::new();
    }
    let after = current.within(from, to);
    let mut out: Vec<(String, u64)> = previous
        .within(from, to)
        .into_iter()
        .filter(|b| !after.iter().any(|a| a.same(b)))
        .filter_map(|b| Some((b.rotation, b.slot?)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The calendar updates a change notice carries, for the slots in `reminded` (those whose
/// reminder was sent to this person, so whose event their calendar may hold): for each such slot
/// whose shift was removed or moved,
///
/// - the event the reminder attached (the first piece of the slot they had, by UID) with its new
///   times if they still have a piece with that UID, else `STATUS:CANCELLED`;
/// - any other piece of that slot they now have, as a new event (a partial override split their
///   shift: the calendar should show both parts).
///
/// Slots nobody reminded them of get nothing: their calendar has no event to update, and the
/// notice's text says what changed.
pub fn calendar_updates(
    person_name: &str,
    before: &[SnapShift],
    after: &[SnapShift],
    reminded: &HashSet<(String, u64)>,
) -> Vec<(rota_ics::Event, rota_ics::Status)> {
    use rota_ics::Status;
    let mut out = Vec::new();
    let mut done: HashSet<(String, u64)> = HashSet::new();
    for b in before {
        let Some(slot) = b.slot else { continue };
        let key = (b.rotation.clone(), slot);
        if b.uid.is_empty()
            || after.iter().any(|a| a.same(b))
            || !reminded.contains(&key)
            || done.contains(&key)
        {
            continue;
        }
        // The first piece of the slot they had is the one a reminder attached.
        let Some(first) = before
            .iter()
            .filter(|x| x.rotation == b.rotation && x.slot == Some(slot) && !x.uid.is_empty())
            .min_by_key(|x| x.start)
        else {
            continue;
        };
        done.insert(key);
        let now_pieces: Vec<&SnapShift> = after
            .iter()
            .filter(|a| a.rotation == b.rotation && a.slot == Some(slot))
            .collect();
        match now_pieces.iter().find(|a| a.uid == first.uid) {
            Some(a) if a.same(first) => {}
            Some(a) => out.push((a.event(person_name), Status::Confirmed)),
            None => out.push((first.event(person_name), Status::Cancelled)),
        }
        for a in now_pieces {
            if a.uid != first.uid && !before.iter().any(|x| x.same(a)) {
                out.push((a.event(person_name), Status::Confirmed));
            }
        }
    }
    out
}

/// Compares a person's stored snapshot with the current one: a notice if their shifts in the
/// window both cover changed, else `None` (the caller then just stores `current`). `reminded` are
/// the slots whose reminder was sent to them (see [`moved_slots`] and [`calendar_updates`]).
pub fn plan_change(
    person: &Person,
    previous: Option<&Snapshot>,
    current: &Snapshot,
    base_url: Option<&str>,
    reminded: &HashSet<(String, u64)>,
) -> Option<Planned> {
    let previous = previous?;
    let from = current.from.max(previous.from);
    let to = current.to.min(previous.to);
    if to <= from {
        return None;
    }
    let before = previous.within(from, to);
    let after = current.within(from, to);
    let gone = |x: &SnapShift, other: &[SnapShift]| !other.iter().any(|o| o.same(x));
    let (added, removed) = (
        after.iter().filter(|s| gone(s, &before)).count(),
        before.iter().filter(|s| gone(s, &after)).count(),
    );
    if added == 0 && removed == 0 && before.len() == after.len() {
        return None;
    }
    let to_whom = Recipient::of(person, Tz::UTC)?;
    let mut h = Sha256::new();
    // The stored snapshot stays as it is until the notice is sent, so its time keeps the key
    // stable across retries, and a later change back and forth again gets a new key. Only what
    // the comparison looks at is hashed, serialized as the snapshot's format had it before slots
    // and UIDs were added, so a notice in retry across an upgrade keeps its key.
    #[derive(Serialize)]
    struct Compared<'a> {
        rotation: &'a str,
        name: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    }
    fn key_of(v: &[SnapShift]) -> Vec<Compared<'_>> {
        v.iter()
            .map(|x| Compared {
                rotation: &x.rotation,
                name: &x.name,
                start: x.start,
                end: x.end,
            })
            .collect()
    }
    h.update(
        serde_json::to_string(&(previous.from, key_of(&before), key_of(&after)))
            .unwrap_or_default(),
    );
    let hash: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let updates = calendar_updates(&person.name, &before, &after, reminded);
    Some(Planned {
        key: format!("change/{}/{hash}", person.id),
        kind: "change".into(),
        to: to_whom,
        expires: None,
        why: format!(
            "shifts before {} changed since {}: {added} new or moved, {removed} gone or moved{}",
            rota_core::view::utc(to),
            rota_core::view::utc(previous.from),
            if updates.is_empty() {
                String::new()
            } else {
                format!("; {} calendar update(s) attached", updates.len())
            }
        ),
        content: Content::Change {
            before,
            after,
            snapshot: current.clone(),
            updates,
        },
        base_url: base_url.map(str::to_string),
    })
}

/// The messages a swap event sends: a request goes to the counterpart (with links to accept or
/// decline), the outcome (accepted, declined, cancelled) to both. Keys are
/// `swap-{kind}/{swap id}/{person}`, so telling the swap flow twice sends once.
pub fn plan_swap(event: &SwapEvent, base_url: Option<&str>) -> Vec<Planned> {
    let recipients: Vec<&Recipient> = match event.kind {
        SwapKind::Requested => vec![&event.counterpart],
        // The party who did not ask is asked to agree.
        SwapKind::UndoRequested => [&event.requester, &event.counterpart]
            .into_iter()
            .filter(|r| event.undo_asked_by.as_deref() != Some(r.id.as_str()))
            .collect(),
        _ => vec![&event.requester, &event.counterpart],
    };
    recipients
        .into_iter()
        .map(|r| Planned {
            key: format!("swap-{}/{}/{}", event.kind.as_str(), event.id, r.id),
            kind: format!("swap-{}", event.kind.as_str()),
            to: r.clone(),
            expires: None,
            why: format!(
                "swap {} {}: {} and {}",
                event.id,
                event.kind.as_str(),
                event.requester.id,
                event.counterpart.id
            ),
            content: Content::Swap(Box::new(event.clone())),
            base_url: base_url.map(str::to_string),
        })
        .collect()
}

/// What to do with a planned message, given its ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send it now.
    Send,
    /// Record it as superseded (never sent).
    Supersede,
    /// Give it up: it expired while failing (its shift started).
    Expire,
    /// Nothing to do: already finished, or waiting, or held by another sender.
    Skip(String),
}

/// Decides, for each planned message, what to do given the ledger (pure). `superseded` are the
/// reminders [`plan_reminders`] found covered by a shorter lead.
pub fn select(
    planned: Vec<Planned>,
    superseded: Vec<Planned>,
    ledger: &HashMap<String, LedgerEntry>,
    now: DateTime<Utc>,
) -> Vec<(Planned, Decision)> {
    let mut out = Vec::new();
    for (p, wanted) in planned
        .into_iter()
        .map(|p| (p, Decision::Send))
        .chain(superseded.into_iter().map(|p| (p, Decision::Supersede)))
    {
        let d = match ledger.get(&p.key) {
            None => wanted,
            Some(e) => match e.state {
                LedgerState::Sent => Decision::Skip("already sent".into()),
                LedgerState::Failed => Decision::Skip("given up earlier".into()),
                LedgerState::Superseded => Decision::Skip("superseded earlier".into()),
                LedgerState::Retry if p.expires.is_some_and(|x| x <= now) => Decision::Expire,
                LedgerState::Retry if wanted == Decision::Supersede => Decision::Supersede,
                LedgerState::Retry => match e.next_attempt {
                    Some(t) if t > now => Decision::Skip(format!(
                        "retrying at {} after: {}",
                        rota_core::view::utc(t),
                        e.last_error.as_deref().unwrap_or("an error")
                    )),
                    _ => Decision::Send,
                },
                // A claim in flight (or left by a sender that died): the runner sorts it out.
                LedgerState::Sending => wanted,
            },
        };
        out.push((p, d));
    }
    out
}
