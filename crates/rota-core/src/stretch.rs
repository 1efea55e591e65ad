//! Stretches: what people read as "one shift".
//!
//! A resolved [`Shift`] never crosses a handoff of its rotation (see the `schedule` module), which
//! is what the API, swaps and calendar UIDs need. People read the schedule differently: when a
//! weekly Support Hero is linked into a *daily* secondary rotation, the hero's week in the
//! secondary is seven resolved shifts (one per daily slot), yet it is one stretch of on-call. This
//! module owns the rule that joins them, for every reader that shows shifts to people (pages, the
//! CLI's person tables, reminders, the report's shift counts, conflicts).
//!
//! # The rule
//!
//! Two shifts are **continuous** when they are in the same rotation, held by the same person, and
//! the first ends at the very instant the second starts (`a.end == b.start`). A [`Stretch`] is a
//! maximal run of continuous shifts. So:
//!
//! - a gap of any length (even one second: someone else covered an hour) starts a new stretch;
//! - shifts in *different* rotations never join, even when they coincide: a hero week and the
//!   secondary stretch the link gives the same person are two stretches, one per rotation;
//! - the **sources may differ inside a stretch**: a day the rotation gives you, then a day a link
//!   gives you, then a day an override gives you, is one stretch. [`Stretch::pieces`] keeps every
//!   resolved shift with its slot and source, so a reader can still say why, and act on a slot
//!   (a swap form, a ledger key) when it needs one;
//! - the join compares **instants**, not civil times or durations, so a day that is 23 or 25
//!   hours long because the clocks changed (Europe/London), or a half-hour change (Lord_Howe), or
//!   a change at midnight (America/Santiago), joins like any other: handoffs are already instants
//!   computed on the rotation's wall clock, and the next slot starts where the last ended.
//!
//! [`stretches`] takes shifts in any order (a person's shifts in all rotations, one rotation's
//! shifts, or everything) and is pure: it never consults the schedule, so it joins exactly the
//! shifts it is given. A range query clips nothing (shifts overlapping a range are whole), but a
//! stretch that continues past the queried range is cut where the given shifts stop.
//!
//! [`Schedule::link_cause`] answers the other question readers have about a link-made stretch:
//! which shift of the link's `from` rotation (the hero shift) put this person here.
//!
//! [`fold_linked_conflicts`] applies the same reading to conflicts: a hero who is away during a
//! linked week is one conflict, reported under the hero shift that causes it (whose suggestions
//! are the trades that help: trading the hero week moves the linked stretch with it), not one
//! more per linked secondary slot.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::{Person, Rotation, Shift, Source};
use crate::schedule::Schedule;
use crate::timeoff::Conflict;

/// A continuous stretch of one person on call in one rotation: one or more resolved shifts joined
/// end to start (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct Stretch<'s> {
    /// The rotation.
    pub rotation: &'s Rotation,
    /// Who is on call.
    pub person: &'s Person,
    /// First instant on call.
    pub start: DateTime<Utc>,
    /// First instant no longer on call.
    pub end: DateTime<Utc>,
    /// The resolved shifts it is made of, in order; never empty.
    pieces: Vec<Shift<'s>>,
}

impl<'s> Stretch<'s> {
    /// The resolved shifts this stretch is made of, in order (each with its slot and source).
    pub fn pieces(&self) -> &[Shift<'s>] {
        &self.pieces
    }

    /// The first resolved shift: its slot is the stretch's first slot.
    pub fn first(&self) -> &Shift<'s> {
        // Never empty: `stretches` builds every stretch from at least one shift.
        &self.pieces[0]
    }

    /// The slot of the first piece.
    pub fn first_slot(&self) -> u64 {
        self.first().slot
    }

    /// The slot of the last piece.
    pub fn last_slot(&self) -> u64 {
        self.pieces.last().map_or(self.first_slot(), |p| p.slot)
    }

    /// The distinct slots it spans, ascending.
    pub fn slots(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.pieces.iter().map(|p| p.slot).collect();
        v.dedup();
        v
    }

    /// The distinct sources of its pieces (`"rotation"`, `"link"`, `"override"`), in the order
    /// they first appear.
    pub fn sources(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        for p in &self.pieces {
            let s = p.source.as_str();
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v
    }

    /// Whether a link made every piece of it (the hero also covering their team's rotation).
    pub fn is_link_made(&self) -> bool {
        self.pieces
            .iter()
            .all(|p| matches!(p.source, Source::Link(_)))
    }

    /// Whether `t` is within `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// Joins `shifts` into stretches (see the module doc), ordered by start, then rotation id, then
/// person id. Takes shifts in any order; shifts that overlap within one rotation and person (which
/// resolution never produces) are kept apart rather than joined.
///
/// # Examples
///
/// ```
/// use rota_core::{Schedule, stretch::stretches};
/// let text = r#"
/// [teams.ops]
/// name = "Ops"
/// [people.ann]
/// name = "Ann"
/// team = "ops"
/// [people.raj]
/// name = "Raj"
/// team = "ops"
/// [rotations.hero]
/// members = ["ann", "raj"]
/// timezone = "Europe/London"
/// start = "2026-11-02T09:00"
/// every = "1 week"
/// [rotations.ops-secondary]
/// team = "ops"
/// members = ["raj", "ann"]
/// timezone = "Europe/London"
/// start = "2026-11-02T09:00"
/// every = "1 day"
/// [[links]]
/// from = "hero"
/// to = ["ops-secondary"]
/// displaced = "skip"
/// "#;
/// let s = Schedule::load(&[("s.toml", text)]).unwrap();
/// let (from, to) = ("2026-11-02T09:00:00Z".parse().unwrap(), "2026-11-09T09:00:00Z".parse().unwrap());
/// let shifts = s.shifts_for_person("ann", from, to).unwrap();
/// assert_eq!(shifts.len(), 8); // the hero week, and 7 daily secondary slots
/// let got: Vec<String> = stretches(&shifts)
///     .iter()
///     .map(|x| format!("{} {:?} {}", x.rotation.id, x.slots(), x.sources().join("+")))
///     .collect();
/// assert_eq!(got, ["hero [0] rotation", "ops-secondary [0, 1, 2, 3, 4, 5, 6] link"]);
/// ```
pub fn stretches<'s>(shifts: &[Shift<'s>]) -> Vec<Stretch<'s>> {
    let mut sorted: Vec<&Shift<'s>> = shifts.iter().collect();
    sorted.sort_by(|a, b| {
        (a.rotation.id.as_str(), a.person.id.as_str(), a.start, a.end).cmp(&(
            b.rotation.id.as_str(),
            b.person.id.as_str(),
            b.start,
            b.end,
        ))
    });
    let mut out: Vec<Stretch<'s>> = Vec::new();
    for x in sorted {
        if let Some(last) = out.last_mut()
            && last.rotation.id == x.rotation.id
            && last.person.id == x.person.id
            && last.end == x.start
        {
            last.end = x.end;
            last.pieces.push(*x);
            continue;
        }
        out.push(Stretch {
            rotation: x.rotation,
            person: x.person,
            start: x.start,
            end: x.end,
            pieces: vec![*x],
        });
    }
    out.sort_by(|a, b| {
        (a.start, a.rotation.id.as_str(), a.person.id.as_str()).cmp(&(
            b.start,
            b.rotation.id.as_str(),
            b.person.id.as_str(),
        ))
    });
    out
}

impl Schedule {
    /// The shift of the link's `from` rotation (the hero shift) that makes `shift` what it is, when
    /// a link made it: the same person on call in `from` at `shift`'s start. `None` when `shift`
    /// is not from a link, or when its link is a swap-back (the displaced person taking a turn,
    /// which no concurrent hero shift causes).
    pub fn link_cause(&self, shift: &Shift<'_>) -> Option<Shift<'_>> {
        let Source::Link(link) = shift.source else {
            return None;
        };
        self.on_call(&link.from, shift.start)
            .ok()
            .flatten()
            .filter(|h| h.person.id == shift.person.id)
    }
}

impl Schedule {
    /// The stretches a link gives `hero`'s person because of `hero` (a shift of a link's `from`
    /// rotation): their link-made time in the link's target rotations during `hero`, joined. What
    /// a conflict reported under the hero shift also covers ([`fold_linked_conflicts`]).
    pub fn linked_by<'s>(&'s self, hero: &Shift<'s>) -> Vec<Stretch<'s>> {
        let mut out = Vec::new();
        for link in self.links().iter().filter(|l| l.from == hero.rotation.id) {
            for to in &link.to {
                let Ok(v) = self.shifts(to, hero.start, hero.end) else {
                    continue;
                };
                out.extend(v.into_iter().filter(|x| {
                    x.person.id == hero.person.id
                        && matches!(x.source, Source::Link(l) if std::ptr::eq(l, link))
                        && x.start < hero.end
                        && hero.start < x.end
                }));
            }
        }
        stretches(&out)
    }
}

/// `conflicts` without the ones a link made that a conflict of the link's `from` rotation (the
/// hero shift) already reports: a conflict is left out when its shift comes from a link, and the
/// list also has a conflict of the same person in the link's `from` rotation overlapping it in
/// time. The person is on call in the secondary only because they are hero then, so the hero
/// conflict is the one to act on, and its suggestions are for the hero shift. Order is kept.
///
/// A link-made conflict whose hero conflict is not in the list (a caller filtered it out) is
/// kept, so nothing is lost silently. A swap-back (`displaced = "swap"`: the displaced person
/// taking the hero's next turn) has no hero shift of the same person at the same time, so it is
/// kept too. Pure: it reads only the list.
///
/// # Examples
///
/// ```
/// # let people = include_str!("../../../schedules/people.toml");
/// # let rotations = include_str!("../../../schedules/rotations.toml");
/// use rota_core::{Schedule, stretch::fold_linked_conflicts, timeoff::{Absence, TimeOff}};
/// let s = Schedule::load(&[("people.toml", people), ("rotations.toml", rotations)]).unwrap();
/// let mut off = TimeOff::new();
/// // Carol is away during her Support Hero week, which makes her Core Experience secondary too.
/// off.add("carol", Absence {
///     start: "2026-12-02T05:00:00Z".parse().unwrap(),
///     end: "2026-12-03T05:00:00Z".parse().unwrap(),
///     summary: "Dentist".into(),
/// });
/// let (from, to) = ("2026-11-01T00:00:00Z".parse().unwrap(), "2026-12-01T00:00:00Z".parse().unwrap());
/// let all = s.conflicts(&off, from, to).unwrap();
/// assert_eq!(all.len(), 2);
/// let folded = fold_linked_conflicts(all);
/// let got: Vec<&str> = folded.iter().map(|c| c.shift.rotation.id.as_str()).collect();
/// assert_eq!(got, ["support-hero"]);
/// ```
pub fn fold_linked_conflicts(conflicts: Vec<Conflict<'_>>) -> Vec<Conflict<'_>> {
    // (rotation, person) -> the spans of their conflicts, so an organisation's worth of
    // conflicts is not compared pairwise.
    type Span = (DateTime<Utc>, DateTime<Utc>);
    let mut spans: HashMap<(&str, &str), Vec<Span>> = HashMap::new();
    for c in &conflicts {
        spans
            .entry((&c.shift.rotation.id, &c.shift.person.id))
            .or_default()
            .push((c.shift.start, c.shift.end));
    }
    let under_hero = |c: &Conflict<'_>| {
        let Source::Link(link) = c.shift.source else {
            return false;
        };
        spans
            .get(&(link.from.as_str(), c.shift.person.id.as_str()))
            .is_some_and(|v| v.iter().any(|&(s, e)| s < c.shift.end && c.shift.start < e))
    };
    let keep: Vec<bool> = conflicts.iter().map(|c| !under_hero(c)).collect();
    conflicts
        .into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect()
}

/// How far back [`handed_over`] looks past time with nobody on call.
pub const LOOK_BACK_DAYS: i64 = 35;

/// Who handed over to the person on call in `shift`: the piece of someone else just before that
/// person's continuous time in the rotation (walking back over their own pieces: a turn split by
/// an override they hold, a turn that follows their own), with when that time began. `None` when
/// nobody was on call in the [`LOOK_BACK_DAYS`] before it (the rotation's start). Time with
/// nobody on call (a restricted rotation's nights) is passed over: the person on call before it
/// handed over, and a person's turn that goes on after such time is still the same continuous
/// time.
///
/// Handoff notes use it: what is handed over at `start` are the notes on the returned piece's
/// shift (slot), and a message about it is keyed by `start`, so later pieces of the same
/// continuous time name the same handoff.
pub fn handed_over<'s>(s: &'s Schedule, shift: &Shift<'s>) -> Option<(Shift<'s>, DateTime<Utc>)> {
    let mut start = shift.start;
    // Bounded: a rotation of one member hands over to nobody.
    for _ in 0..1000 {
        let before = match s
            .on_call(&shift.rotation.id, start - chrono::Duration::seconds(1))
            .ok()
            .flatten()
        {
            Some(b) if b.end == start => b,
            // Nobody just before: the last piece before, if any.
            _ => s.previous_shift(&shift.rotation.id, start).ok()??,
        };
        if before.person.id != shift.person.id {
            return Some((before, start));
        }
        start = before.start;
    }
    None
}
