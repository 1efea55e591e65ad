//! The things a schedule is made of: people, teams, rotations, links, overrides, and the resolved
//! shifts that come out of them. Plain data; resolution lives in `schedule`.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::cadence::{Handoffs, Recurrence};
use crate::restrict::{Advance, Restriction, Turns};
use crate::tz::Secs;

/// A person who can be on call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The id used in schedule files (`[people.alice]` has id `alice`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where reminders go, if anywhere.
    pub email: Option<String>,
    /// The id of the person's team, if any.
    pub team: Option<String>,
    /// The person's own zone, used to show times and to time reminders.
    pub timezone: Option<Tz>,
    /// Where their absences (out-of-office calendars) are read from, as written in the schedule:
    /// `http(s)://` URLs or `.ics` paths relative to the schedules directory. rota-core does not
    /// read them; see `timeoff`.
    pub absence: Vec<String>,
    /// Working hours on the person's own clock (`hours = "Mon-Fri 09:00-17:30"`), windows of the
    /// week as a rotation's `active` ([`crate::restrict`]); `None` when not given. Used by
    /// [`crate::coverage`].
    pub hours: Option<Restriction>,
}

/// A team, which owns at most one secondary rotation that links point into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    /// The id used in schedule files.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A rotation: who is on call, one person at a time, by a fixed order of members handing off at
/// wall-clock times in a zone. Most rotations are one such order; a rotation may also have several
/// [`Layer`]s, each with its own members, zone, start, cadence and windows, and then at any
/// instant the *last* layer with someone on call wins (PagerDuty's rule: a higher layer over a
/// lower one).
///
/// The fields `members` to `advance` describe a plain rotation's only layer. For a rotation with
/// several layers, `members` lists every layer's members (first appearance first), `timezone` is
/// the rotation's own zone (its `timezone`, else its first layer's), `start`, `recurrence`, `active`
/// and `advance` are its first layer's; read `layers` for the rest.
///
/// # Slot numbers
///
/// A shift's slot (see [`Shift::slot`]) is the index `n` of its layer's handoff, so that swaps,
/// notes and calendar UIDs keep naming the same turn. A layer without an `id` (a plain rotation's,
/// or at most one layer of a layered rotation) numbers its slots `n`; a layer with an `id` numbers
/// them `n + tag × 2^40`, where the tag (1 to 2^13 − 1) comes from a hash of the id (FNV-1a), so
/// that every slot number stays below 2^53 and survives JSON readers that use doubles. So
/// adding, removing or reordering layers never renumbers another layer's shifts, and a plain
/// rotation that gains layers keeps its numbers by leaving its own layer without an id.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// The id used in schedule files and URLs.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The team this rotation belongs to, if any (link targets must have one).
    pub team: Option<String>,
    /// Member ids in their fixed order; shift `n` belongs to `members[n % members.len()]` (with
    /// `advance = "when-active"`, the `i`-th shift that meets a window belongs to
    /// `members[i % members.len()]`; see [`crate::restrict`]). With several layers, every
    /// layer's members.
    pub members: Vec<String>,
    /// Handoffs happen at this zone's wall-clock times; with several layers, the zone the rotation
    /// is shown in.
    pub timezone: Tz,
    /// Civil date-time of the first handoff, in `timezone` (the first layer's).
    pub start: NaiveDateTime,
    /// How handoffs recur (the first layer's).
    pub recurrence: Recurrence,
    /// The windows of the week in which anyone is on call (`active = [...]`); `None` when the
    /// rotation is always on call. See [`crate::restrict`]. (The first layer's.)
    pub active: Option<Restriction>,
    /// How turns advance around `active` (`advance = "always" | "when-active"`).
    pub advance: Advance,
    /// The layers, lowest precedence first; one for a plain rotation.
    pub layers: Vec<Layer>,
    /// Where the team sees this rotation in Slack (`[rotations.ID.slack]`), if anywhere.
    pub slack: Option<SlackSettings>,
}

impl Rotation {
    pub(crate) fn new(
        id: String,
        name: String,
        team: Option<String>,
        timezone: Tz,
        layers: Vec<Layer>,
        slack: Option<SlackSettings>,
    ) -> Rotation {
        let first = &layers[0];
        let mut members: Vec<String> = Vec::new();
        for m in layers.iter().flat_map(|l| &l.members) {
            if layers.len() == 1 || !members.contains(m) {
                members.push(m.clone());
            }
        }
        Rotation {
            id,
            name,
            team,
            members,
            timezone,
            start: first.start,
            recurrence: first.recurrence.clone(),
            active: first.active.clone(),
            advance: first.advance,
            layers,
            slack,
        }
    }
}

impl PartialEq for Rotation {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.team == other.team
            && self.timezone == other.timezone
            && self.layers == other.layers
    }
}

/// One layer of a rotation: a fixed order of members handing off at wall-clock times in a zone,
/// on call inside its windows if it has any.
#[derive(Clone, Debug)]
pub struct Layer {
    /// The layer's id, unique in its rotation (`id = "weekdays"`); numbers its slots.
    pub id: Option<String>,
    /// Display name, if given.
    pub name: Option<String>,
    /// Member ids in their fixed order.
    pub members: Vec<String>,
    /// Handoffs and windows follow this zone's wall clock.
    pub timezone: Tz,
    /// Civil date-time of the first handoff, in `timezone`.
    pub start: NaiveDateTime,
    /// How handoffs recur.
    pub recurrence: Recurrence,
    /// The windows of the week in which the layer has anyone on call.
    pub active: Option<Restriction>,
    /// How turns advance around `active`.
    pub advance: Advance,
    /// Added to slot numbers, from the id (0 without one): see [`Rotation`].
    pub(crate) tag: u64,
    pub(crate) handoffs: Handoffs,
    /// With `advance = "when-active"` and windows: which slots are turns.
    pub(crate) turns: Option<Turns>,
    /// Indexes into `Schedule::people`, parallel to `members`.
    pub(crate) member_idx: Vec<u32>,
}

impl PartialEq for Layer {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.members == other.members
            && self.timezone == other.timezone
            && self.start == other.start
            && self.recurrence == other.recurrence
            && self.active == other.active
            && self.advance == other.advance
    }
}

/// Bits of a slot number below a layer's tag.
pub(crate) const TAG_SHIFT: u32 = 40;

/// The tag of a layer id: FNV-1a of its bytes, folded into 1 to 2^13 − 1.
pub(crate) fn layer_tag(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    1 + h % ((1 << 13) - 1)
}

/// What happens to the person a link displaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Displaced {
    /// The displaced person's turn is simply covered by the linked person.
    Skip,
    /// The displaced person takes the linked person's next turn in that rotation.
    Swap,
}

/// "Whoever is on call in `from` is also on call in the rotation of their own team among `to`."
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The rotation whose on-call person is linked (the Support Hero rotation).
    pub from: String,
    /// Candidate rotations; the one whose team is the person's team is covered.
    pub to: Vec<String>,
    /// What happens to the person who would have been on call there.
    pub displaced: Displaced,
}

/// Replaces whoever is on call in one rotation for `[start, end)`. Never changes who is next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// A stable id: given in the file, or `FILE#N` for the N-th override of a file, or the state
    /// store's id for overrides made at run time.
    pub id: String,
    /// The rotation it applies to.
    pub rotation: String,
    /// Who is on call instead.
    pub person: String,
    /// First instant covered.
    pub start: DateTime<Utc>,
    /// First instant no longer covered; after `start`.
    pub end: DateTime<Utc>,
    /// Why, for people reading the schedule.
    pub reason: Option<String>,
}

/// Where a resolved shift comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<'s> {
    /// The rotation's own order.
    Rotation,
    /// A link (the hero also covering their team's secondary rotation, or, with
    /// `displaced = "swap"`, the displaced person taking the hero's next turn).
    Link(&'s Link),
    /// An override.
    Override(&'s Override),
}

impl Source<'_> {
    /// `"rotation"`, `"link"` or `"override"`, as in the JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Rotation => "rotation",
            Source::Link(_) => "link",
            Source::Override(_) => "override",
        }
    }
}

/// One piece of the resolved schedule: a person on call in a rotation for `[start, end)`.
///
/// A shift never crosses a handoff of its rotation: `slot` is the index `n` of the rotation's
/// shift it lies in (its *slot*), so the same slot of the same rotation can be recognised across
/// changes (calendar UIDs use it). An override or link that covers only part of a slot splits it
/// into several shifts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shift<'s> {
    /// The rotation.
    pub rotation: &'s Rotation,
    /// Who is on call.
    pub person: &'s Person,
    /// First instant on call.
    pub start: DateTime<Utc>,
    /// First instant no longer on call.
    pub end: DateTime<Utc>,
    /// The slot this lies in: the index `n` of its layer's shift (handoff `n` to handoff `n + 1`),
    /// plus the layer's tag for a layer with an id (see [`Rotation`]).
    pub slot: u64,
    /// Why this person is on call.
    pub source: Source<'s>,
}

impl Shift<'_> {
    /// Whether `t` is within `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// Internal resolved piece: indexes instead of references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) start: Secs,
    pub(crate) end: Secs,
    pub(crate) slot: i64,
    pub(crate) person: u32,
    pub(crate) src: Src,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Src {
    Rotation,
    Link(u32),
    Override(u32),
}

/// An endpoint told about what happens (a `[[webhooks]]` table of the schedule files). The
/// service signs and delivers; the schedule only names things, and reads no environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// What delivery records and `/healthz` call it: `name` in the file, else the `url_env`
    /// variable's name, else the URL. Deliveries are once per event and name, so it should stay
    /// the same when the file changes.
    pub name: String,
    /// Where to deliver.
    pub url: WebhookUrl,
    /// The events it wants.
    pub events: Vec<WebhookEvent>,
    /// The environment variable holding its signing secret (`whsec_` and base64).
    pub secret_env: String,
}

/// Where a webhook delivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookUrl {
    /// Written in the file.
    Url(String),
    /// In this environment variable (for URLs that are secrets themselves).
    Env(String),
}

/// What a webhook can be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WebhookEvent {
    /// Someone new is on call in a rotation.
    Handoff,
    /// An override was made (through the API or a swap).
    OverrideCreated,
    /// An override was deleted.
    OverrideDeleted,
    /// A swap was asked for.
    SwapRequested,
    /// A swap was accepted.
    SwapAccepted,
    /// A swap was declined.
    SwapDeclined,
    /// A swap was cancelled by whoever asked.
    SwapCancelled,
    /// A shift's person is away according to their absence calendar.
    ConflictFound,
}

impl WebhookEvent {
    /// Every event, in the order the README lists them.
    pub const ALL: [WebhookEvent; 8] = [
        WebhookEvent::Handoff,
        WebhookEvent::OverrideCreated,
        WebhookEvent::OverrideDeleted,
        WebhookEvent::SwapRequested,
        WebhookEvent::SwapAccepted,
        WebhookEvent::SwapDeclined,
        WebhookEvent::SwapCancelled,
        WebhookEvent::ConflictFound,
    ];

    /// Its name in files and payloads: `handoff`, `override.created`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Handoff => "handoff",
            WebhookEvent::OverrideCreated => "override.created",
            WebhookEvent::OverrideDeleted => "override.deleted",
            WebhookEvent::SwapRequested => "swap.requested",
            WebhookEvent::SwapAccepted => "swap.accepted",
            WebhookEvent::SwapDeclined => "swap.declined",
            WebhookEvent::SwapCancelled => "swap.cancelled",
            WebhookEvent::ConflictFound => "conflict.found",
        }
    }

    /// The event named `s`.
    pub fn parse(s: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A rotation's place in Slack: the `[rotations.ID.slack]` table. Ids, not names: Slack's ids stay
/// when a group or channel is renamed. The bot token is never in the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlackSettings {
    /// The user group (`S0123ABCD`) kept equal to whoever is on call.
    pub usergroup: Option<String>,
    /// The channel (`C0123ABCD`) that gets a message at each handoff.
    pub channel: Option<String>,
    /// Whether that channel's topic says who is on call until when.
    pub topic: bool,
}
