//! The schedule and its resolution: who is on call, when, and why.
//!
//! # Resolution
//!
//! Each rotation is resolved one *slot* (shift `n`, from handoff `n` to handoff `n + 1`) at a time,
//! by painting layers over the slot, later layers winning:
//!
//! 1. **Rotation**: `members[n % len]` for the whole slot, or, for a rotation with `active`
//!    windows, for the parts of the slot inside them, with nobody on call in the rest (under
//!    `advance = "when-active"` the member is the one whose turn the slot is, and a slot outside
//!    every window has nobody; see [`crate::restrict`]).
//! 2. **Swap-back** (links with `displaced = "swap"` only): if this slot is member X's turn, and in
//!    an earlier slot since X's previous turn X was linked in over member D (X was on call in the
//!    link's `from` rotation during that slot, and X's team is this rotation's team), then D takes
//!    this slot: "the displaced person takes the hero's next turn". If several were displaced, the
//!    earliest does. The order itself never changes.
//! 3. **Links**: for each link into this rotation, wherever the person on call in the link's `from`
//!    rotation (its own rotation and overrides, resolved the same way) belongs to this rotation's
//!    team, that person is on call here.
//! 4. **Overrides** of this rotation, oldest first, so the newest wins where two overlap.
//!
//! Links and overrides replace whoever is on call, so they paint only where someone is: inside a
//! restricted rotation's windows.
//!
//! # Layers
//!
//! A rotation with several layers (see [`Rotation`]) first composes them: at each instant the
//! last layer with someone on call (by step 1, in its own slot) wins, and the time is cut into
//! pieces wherever the winning layer or its slot changes. Each run of one layer's slot is then
//! painted by steps 3 and 4 as a slot is (step 2 is refused for layered rotations). A lookup at
//! an instant composes every layer's slots around that instant only: nothing walks from `start`.
//!
//! Adjacent pieces with the same person and source are merged; a slot is never merged with the
//! next, so a shift never crosses a handoff. Links may not chain (a link's `from` may not be the
//! target of another link), so resolution never recurses more than one level.
//!
//! Every query takes the instant or range it is about: nothing here reads the clock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind};
use crate::model::{
    Displaced, Layer, Link, Override, Person, Piece, Rotation, Shift, Source, Src, TAG_SHIFT, Team,
};
use crate::tz::{self, Secs};

/// The person of a piece of time in which nobody is on call (outside a rotation's windows).
/// Such pieces exist only while a slot is resolved; they are never returned.
const NOBODY: u32 = u32::MAX;

/// A validated, merged schedule: everything needed to answer "who is on call".
///
/// Build one with [`Schedule::load`] from schedule file texts; add run-time overrides with
/// [`Schedule::with_overrides`]. Cheap to share behind an `Arc`; queries take `&self`.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub(crate) hero_rotation: Option<String>,
    pub(crate) holidays: Option<String>,
    pub(crate) admins: Vec<String>,
    pub(crate) teams: Vec<Team>,
    pub(crate) people: Vec<Person>,
    pub(crate) rotations: Vec<Rotation>,
    pub(crate) links: Vec<Link>,
    pub(crate) overrides: Vec<Override>,
    pub(crate) webhooks: Vec<crate::Webhook>,
    person_idx: HashMap<String, u32>,
    rotation_idx: HashMap<String, u32>,
    plans: Vec<Plan>,
}

/// Per-rotation indexes for resolution.
#[derive(Clone, Debug, Default)]
struct Plan {
    /// This rotation's overrides, sorted by start: (start, end, index into `overrides`, person
    /// index).
    overrides: Vec<(Secs, Secs, u32, u32)>,
    /// `max_end[i]` = the latest end among `overrides[..=i]`, to stop backward scans early.
    max_end: Vec<Secs>,
    /// Links into this rotation: (link index, from-rotation index).
    links_in: Vec<(u32, u32)>,
    /// Whether any link into this rotation has `displaced = "swap"`.
    swap_back: bool,
}

/// The raw parts of a schedule, already checked by the loader.
pub(crate) struct Parts {
    pub(crate) hero_rotation: Option<String>,
    pub(crate) holidays: Option<String>,
    pub(crate) admins: Vec<String>,
    pub(crate) teams: Vec<Team>,
    pub(crate) people: Vec<Person>,
    pub(crate) rotations: Vec<Rotation>,
    pub(crate) links: Vec<Link>,
    pub(crate) overrides: Vec<Override>,
    pub(crate) webhooks: Vec<crate::Webhook>,
}

impl Schedule {
    pub(crate) fn assemble(parts: Parts) -> Result<Schedule, Error> {
        let Parts {
            hero_rotation,
            holidays,
            admins,
            mut teams,
            mut people,
            mut rotations,
            links,
            overrides,
            webhooks,
        } = parts;
        teams.sort_by(|a, b| a.id.cmp(&b.id));
        people.sort_by(|a, b| a.id.cmp(&b.id));
        rotations.sort_by(|a, b| a.id.cmp(&b.id));
        let person_idx: HashMap<String, u32> = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i as u32))
            .collect();
        let rotation_idx: HashMap<String, u32> = rotations
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i as u32))
            .collect();
        for r in &mut rotations {
            for l in &mut r.layers {
                l.member_idx = l
                    .members
                    .iter()
                    .map(|m| {
                        person_idx
                            .get(m)
                            .copied()
                            .ok_or_else(|| Error::new(ErrorKind::UnknownPerson(m.clone())))
                    })
                    .collect::<Result<_, _>>()?;
                if l.member_idx.is_empty() {
                    return Err(Error::new(ErrorKind::InvalidOverride {
                        id: r.id.clone(),
                        message: "a rotation needs at least one member".into(),
                    }));
                }
            }
        }
        let mut schedule = Schedule {
            hero_rotation,
            holidays,
            admins,
            teams,
            people,
            rotations,
            links,
            overrides: Vec::new(),
            webhooks,
            person_idx,
            rotation_idx,
            plans: Vec::new(),
        };
        schedule.plans = vec![Plan::default(); schedule.rotations.len()];
        for (li, link) in schedule.links.iter().enumerate() {
            let from = schedule.rot_idx(&link.from)?;
            for to in &link.to {
                let t = schedule.rot_idx(to)? as usize;
                if link.displaced == Displaced::Swap && schedule.rotations[t].layers.len() > 1 {
                    return Err(Error::new(ErrorKind::InvalidOverride {
                        id: to.clone(),
                        message: "a link with displaced = \"swap\" cannot target a rotation with \
                                  several layers"
                            .into(),
                    }));
                }
                schedule.plans[t].links_in.push((li as u32, from));
                schedule.plans[t].swap_back |= link.displaced == Displaced::Swap;
            }
        }
        schedule.add_overrides(overrides)?;
        Ok(schedule)
    }

    fn add_overrides(&mut self, extra: Vec<Override>) -> Result<(), Error> {
        for o in extra {
            let invalid = |message: String| {
                Error::new(ErrorKind::InvalidOverride {
                    id: o.id.clone(),
                    message,
                })
            };
            let Some(&r) = self.rotation_idx.get(&o.rotation) else {
                return Err(invalid(format!("unknown rotation {:?}", o.rotation)));
            };
            let Some(&person) = self.person_idx.get(&o.person) else {
                return Err(invalid(format!("unknown person {:?}", o.person)));
            };
            let (s, e) = (tz::to_secs(o.start), tz::to_secs(o.end));
            if e <= s {
                return Err(invalid("end must be after start".into()));
            }
            let i = self.overrides.len() as u32;
            self.plans[r as usize].overrides.push((s, e, i, person));
            self.overrides.push(o);
        }
        for plan in &mut self.plans {
            // Stable: equal starts keep their age order.
            plan.overrides.sort_by_key(|&(s, _, _, _)| s);
            let mut m = i64::MIN;
            plan.max_end = plan
                .overrides
                .iter()
                .map(|&(_, e, _, _)| {
                    m = m.max(e);
                    m
                })
                .collect();
        }
        Ok(())
    }

    /// A copy of this schedule with `extra` overrides added after (so newer than) the ones it has.
    /// Used for overrides made at run time. Each must name a known rotation and person, and end
    /// after it starts.
    ///
    /// # Examples
    ///
    /// ```
    /// # let text = include_str!("../../../schedules/rotations.toml");
    /// # let people = include_str!("../../../schedules/people.toml");
    /// use rota_core::{Override, Schedule};
    /// let schedule = Schedule::load(&[("people.toml", people), ("rotations.toml", text)]).unwrap();
    /// let at = "2027-01-06T12:00:00Z".parse().unwrap();
    /// let o = Override {
    ///     id: "o1".into(),
    ///     rotation: "support-hero".into(),
    ///     person: "grace".into(),
    ///     start: "2027-01-06T00:00:00Z".parse().unwrap(),
    ///     end: "2027-01-07T00:00:00Z".parse().unwrap(),
    ///     reason: Some("dentist".into()),
    /// };
    /// let changed = schedule.with_overrides([o]).unwrap();
    /// assert_eq!(changed.whoishero(at).unwrap().unwrap().person.id, "grace");
    /// ```
    pub fn with_overrides(
        &self,
        extra: impl IntoIterator<Item = Override>,
    ) -> Result<Schedule, Error> {
        let mut s = self.clone();
        s.add_overrides(extra.into_iter().collect())?;
        Ok(s)
    }

    /// A copy of this schedule with no overrides at all: the rotations and links only.
    ///
    /// # Examples
    ///
    /// ```
    /// # let people = include_str!("../../../schedules/people.toml");
    /// # let rotations = include_str!("../../../schedules/rotations.toml");
    /// # let overrides = include_str!("../../../schedules/overrides.toml");
    /// use rota_core::Schedule;
    /// let files = [("people.toml", people), ("rotations.toml", rotations), ("overrides.toml", overrides)];
    /// let s = Schedule::load(&files).unwrap();
    /// let at = "2027-01-06T12:00:00Z".parse().unwrap();
    /// assert_eq!(s.whoishero(at).unwrap().unwrap().person.id, "bob");
    /// assert_eq!(s.without_overrides().whoishero(at).unwrap().unwrap().person.id, "alice");
    /// ```
    pub fn without_overrides(&self) -> Schedule {
        let mut s = self.clone();
        s.overrides.clear();
        for p in &mut s.plans {
            p.overrides.clear();
            p.max_end.clear();
        }
        s
    }

    fn rot_idx(&self, id: &str) -> Result<u32, Error> {
        self.rotation_idx
            .get(id)
            .copied()
            .ok_or_else(|| Error::new(ErrorKind::UnknownRotation(id.to_string())))
    }

    /// The rotation `whoishero` answers for, if the schedule names one.
    pub fn hero_rotation(&self) -> Option<&Rotation> {
        self.hero_rotation
            .as_deref()
            .and_then(|id| self.rotation(id))
    }

    /// Where public holidays are read from (`holidays = "..."` in a schedule file), as written: an
    /// `http(s)://` URL or an `.ics` path relative to the schedules directory.
    pub fn holidays(&self) -> Option<&str> {
        self.holidays.as_deref()
    }

    /// People who may write overrides and swaps for anyone.
    pub fn admins(&self) -> &[String] {
        &self.admins
    }

    /// Whether `person` is an admin.
    pub fn is_admin(&self, person: &str) -> bool {
        self.admins.iter().any(|a| a == person)
    }

    /// All teams, by id.
    pub fn teams(&self) -> &[Team] {
        &self.teams
    }

    /// All people, by id.
    pub fn people(&self) -> &[Person] {
        &self.people
    }

    /// All rotations, by id.
    pub fn rotations(&self) -> &[Rotation] {
        &self.rotations
    }

    /// All links, in file order.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The webhooks of the `[[webhooks]]` tables, in file order.
    pub fn webhooks(&self) -> &[crate::Webhook] {
        &self.webhooks
    }

    /// All overrides, oldest first (file overrides in file order, then run-time ones).
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// The team with this id.
    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    /// The person with this id.
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.person_idx.get(id).map(|&i| &self.people[i as usize])
    }

    /// The rotation with this id.
    pub fn rotation(&self, id: &str) -> Option<&Rotation> {
        self.rotation_idx
            .get(id)
            .map(|&i| &self.rotations[i as usize])
    }

    /// Who is on call in `rotation` at `at`, or `None` before its first handoff or outside its
    /// `active` windows.
    ///
    /// # Examples
    ///
    /// A weekly rotation handing off Mondays 09:00 in London keeps 09:00 local across the change
    /// to summer time, so the handoff instant moves from 09:00Z to 08:00Z:
    ///
    /// ```
    /// use rota_core::Schedule;
    /// let text = r#"
    /// [people.alice]
    /// name = "Alice"
    /// [people.bob]
    /// name = "Bob"
    /// [rotations.hero]
    /// members = ["alice", "bob"]
    /// timezone = "Europe/London"
    /// start = "2027-03-22T09:00"
    /// every = "1 week"
    /// "#;
    /// let s = Schedule::load(&[("hero.toml", text)]).unwrap();
    /// let shift = s.on_call("hero", "2027-03-29T08:30:00Z".parse().unwrap()).unwrap().unwrap();
    /// assert_eq!(shift.person.id, "bob"); // 09:30 BST on Monday: Bob's week began at 08:00Z
    /// assert_eq!(shift.start.to_rfc3339(), "2027-03-29T08:00:00+00:00");
    /// assert_eq!(shift.end.to_rfc3339(), "2027-04-05T08:00:00+00:00");
    /// let before = s.on_call("hero", "2027-03-29T07:59:59Z".parse().unwrap()).unwrap().unwrap();
    /// assert_eq!(before.person.id, "alice");
    /// assert_eq!(before.end.to_rfc3339(), "2027-03-29T08:00:00+00:00"); // 6 days 23 hours
    /// ```
    pub fn on_call(&self, rotation: &str, at: DateTime<Utc>) -> Result<Option<Shift<'_>>, Error> {
        let r = self.rot_idx(rotation)?;
        Ok(self.on_call_idx(r, tz::to_secs(at)))
    }

    fn on_call_idx(&self, r: u32, t: Secs) -> Option<Shift<'_>> {
        let rot = &self.rotations[r as usize];
        let mut buf = Vec::with_capacity(4);
        if rot.layers.len() > 1 {
            self.resolve_layered(r, t, t.saturating_add(1), &mut buf);
        } else {
            let (n, a, b) = rot.layers[0].handoffs.slot_at(t)?;
            self.resolve_slot(r, n, a, b, (t, t + 1), &mut buf);
        }
        buf.iter()
            .find(|p| p.start <= t && t < p.end)
            .map(|p| self.shift(r, p))
    }

    /// Who is on call next in `rotation` from `at` on: its first shift starting at or after `at`,
    /// within [`crate::stretch::LOOK_BACK_DAYS`] days; across time with nobody on call (a
    /// restricted rotation's nights), unlike `on_call(at)`.
    pub fn next_shift(
        &self,
        rotation: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Shift<'_>>, Error> {
        let days = chrono::TimeDelta::days(crate::stretch::LOOK_BACK_DAYS);
        let v = self.shifts(rotation, at, at.checked_add_signed(days).unwrap_or(at))?;
        Ok(v.into_iter().find(|x| x.start >= at))
    }

    /// Who was on call last in `rotation` before `at`: its last shift ending at or before `at`,
    /// within [`crate::stretch::LOOK_BACK_DAYS`] days; across time with nobody on call, as
    /// [`Schedule::next_shift`]. With `next_shift`, a shift's neighbours in time (not slot ± 1,
    /// which under windows or layers may be empty or another layer's).
    pub fn previous_shift(
        &self,
        rotation: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Shift<'_>>, Error> {
        let days = chrono::TimeDelta::days(crate::stretch::LOOK_BACK_DAYS);
        let v = self.shifts(rotation, at.checked_sub_signed(days).unwrap_or(at), at)?;
        Ok(v.into_iter().rfind(|x| x.end <= at))
    }

    /// Who is on call in every rotation at `at`, ordered by rotation id. Rotations that have not
    /// started yet are left out.
    ///
    /// # Examples
    ///
    /// ```
    /// # let people = include_str!("../../../schedules/people.toml");
    /// # let rotations = include_str!("../../../schedules/rotations.toml");
    /// # let overrides = include_str!("../../../schedules/overrides.toml");
    /// use rota_core::Schedule;
    /// let files = [("people.toml", people), ("rotations.toml", rotations), ("overrides.toml", overrides)];
    /// let s = Schedule::load(&files).unwrap();
    /// // Bob is hero by a swap, so the link also makes him Core Experience secondary.
    /// let now: Vec<String> = s
    ///     .on_call_all("2027-01-06T12:00:00Z".parse().unwrap())
    ///     .iter()
    ///     .map(|x| format!("{} {} {}", x.rotation.id, x.person.id, x.source.as_str()))
    ///     .collect();
    /// assert_eq!(now, [
    ///     "core-analytics-secondary grace rotation",
    ///     "core-experience-secondary bob link",
    ///     "platform-secondary alice rotation",
    ///     "support-hero bob override",
    /// ]);
    /// ```
    pub fn on_call_all(&self, at: DateTime<Utc>) -> Vec<Shift<'_>> {
        let t = tz::to_secs(at);
        (0..self.rotations.len() as u32)
            .filter_map(|r| self.on_call_idx(r, t))
            .collect()
    }

    /// Who is the Support Hero at `at`: the person on call in the `hero_rotation`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let people = include_str!("../../../schedules/people.toml");
    /// # let rotations = include_str!("../../../schedules/rotations.toml");
    /// # let overrides = include_str!("../../../schedules/overrides.toml");
    /// use rota_core::Schedule;
    /// let files = [("people.toml", people), ("rotations.toml", rotations), ("overrides.toml", overrides)];
    /// let s = Schedule::load(&files).unwrap();
    /// let hero = s.whoishero("2026-11-10T12:00:00Z".parse().unwrap()).unwrap().unwrap();
    /// assert_eq!((hero.person.id.as_str(), hero.source.as_str()), ("bob", "rotation"));
    /// // Before the rotation's first handoff nobody is on call.
    /// assert!(s.whoishero("2026-01-01T00:00:00Z".parse().unwrap()).unwrap().is_none());
    /// ```
    pub fn whoishero(&self, at: DateTime<Utc>) -> Result<Option<Shift<'_>>, Error> {
        let id = self
            .hero_rotation
            .as_deref()
            .ok_or_else(|| Error::new(ErrorKind::NoHeroRotation))?;
        self.on_call(id, at)
    }

    /// The resolved shifts of `rotation` that overlap `[from, to)`, in order. Shifts are whole (the
    /// first may start before `from`, the last end after `to`) and never overlap; they are
    /// contiguous from the rotation's first handoff on, but for the gaps outside a restricted
    /// rotation's `active` windows.
    ///
    /// # Examples
    ///
    /// ```
    /// use rota_core::Schedule;
    /// let text = r#"
    /// [people.ann]
    /// name = "Ann"
    /// [people.raj]
    /// name = "Raj"
    /// [rotations.ops]
    /// members = ["ann", "raj"]
    /// timezone = "America/Chicago"
    /// start = "2026-10-26T09:00"
    /// rrule = "FREQ=WEEKLY;BYDAY=MO,TH"
    /// "#;
    /// let s = Schedule::load(&[("ops.toml", text)]).unwrap();
    /// let from = "2026-10-29T00:00:00Z".parse().unwrap();
    /// let to = "2026-11-02T15:00:00Z".parse().unwrap(); // Monday 09:00 CST: the end is exclusive
    /// let shifts = s.shifts("ops", from, to).unwrap();
    /// let got: Vec<String> = shifts
    ///     .iter()
    ///     .map(|s| format!("{} {} {}", s.person.id, s.start.to_rfc3339(), s.end.to_rfc3339()))
    ///     .collect();
    /// assert_eq!(got, [
    ///     "ann 2026-10-26T14:00:00+00:00 2026-10-29T14:00:00+00:00",
    ///     // Thursday 09:00 CDT to Monday 09:00 CST: 4 days and 1 hour (clocks fell back Sunday)
    ///     "raj 2026-10-29T14:00:00+00:00 2026-11-02T15:00:00+00:00",
    /// ]);
    /// ```
    pub fn shifts(
        &self,
        rotation: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Shift<'_>>, Error> {
        let r = self.rot_idx(rotation)?;
        let (f, t) = range(from, to)?;
        let mut pieces = Vec::new();
        self.resolve_range(r, f, t, &mut pieces);
        Ok(pieces.iter().map(|p| self.shift(r, p)).collect())
    }

    /// The resolved shifts of every rotation that overlap `[from, to)`, ordered by start, then
    /// rotation id.
    pub fn all_shifts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Shift<'_>>, Error> {
        let (f, t) = range(from, to)?;
        let mut all = Vec::new();
        let mut pieces = Vec::new();
        for r in 0..self.rotations.len() as u32 {
            pieces.clear();
            self.resolve_range(r, f, t, &mut pieces);
            all.extend(pieces.iter().map(|&p| (r, p)));
        }
        sort_pieces(&mut all);
        Ok(all.iter().map(|(r, p)| self.shift(*r, p)).collect())
    }

    /// The resolved shifts of `person` in every rotation that overlap `[from, to)`, ordered by
    /// start, then rotation id.
    ///
    /// # Examples
    ///
    /// ```
    /// # let people = include_str!("../../../schedules/people.toml");
    /// # let rotations = include_str!("../../../schedules/rotations.toml");
    /// # let overrides = include_str!("../../../schedules/overrides.toml");
    /// use rota_core::Schedule;
    /// let files = [("people.toml", people), ("rotations.toml", rotations), ("overrides.toml", overrides)];
    /// let s = Schedule::load(&files).unwrap();
    /// let from = "2027-01-01T00:00:00Z".parse().unwrap();
    /// let to = "2027-02-01T00:00:00Z".parse().unwrap();
    /// let alice: Vec<String> = s
    ///     .shifts_for_person("alice", from, to)
    ///     .unwrap()
    ///     .iter()
    ///     .map(|x| format!("{} {}", x.rotation.id, x.start.format("%d %b")))
    ///     .collect();
    /// // Alice swapped her hero week for Bob's; as hero she is also Platform secondary.
    /// assert_eq!(alice, ["platform-secondary 04 Jan", "platform-secondary 11 Jan", "support-hero 11 Jan"]);
    /// ```
    pub fn shifts_for_person(
        &self,
        person: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Shift<'_>>, Error> {
        let p = *self
            .person_idx
            .get(person)
            .ok_or_else(|| Error::new(ErrorKind::UnknownPerson(person.to_string())))?;
        let (f, t) = range(from, to)?;
        let mut all = Vec::new();
        let mut pieces = Vec::new();
        for r in 0..self.rotations.len() as u32 {
            pieces.clear();
            self.resolve_range(r, f, t, &mut pieces);
            all.extend(pieces.iter().filter(|x| x.person == p).map(|&x| (r, x)));
        }
        sort_pieces(&mut all);
        Ok(all.iter().map(|(r, x)| self.shift(*r, x)).collect())
    }

    /// Slot `slot` of `rotation` as the rotation alone has it (no links, no overrides), or `None` if
    /// that slot is squeezed to zero length by a DST change, or nobody is on call in any of it
    /// (a slot outside a restricted rotation's windows). For a restricted rotation the shift runs
    /// from handoff to handoff; its member is on call only inside the windows.
    ///
    /// # Examples
    ///
    /// ```
    /// # let people = include_str!("../../../schedules/people.toml");
    /// # let rotations = include_str!("../../../schedules/rotations.toml");
    /// # let overrides = include_str!("../../../schedules/overrides.toml");
    /// use rota_core::Schedule;
    /// let files = [("people.toml", people), ("rotations.toml", rotations), ("overrides.toml", overrides)];
    /// let s = Schedule::load(&files).unwrap();
    /// // Slot 9 of the hero rotation is Alice's by the order, whatever the overrides say.
    /// let base = s.base_shift("support-hero", 9).unwrap().unwrap();
    /// assert_eq!(base.person.id, "alice");
    /// assert_eq!(base.start.to_rfc3339(), "2027-01-04T09:00:00+00:00");
    /// let resolved = s.on_call("support-hero", base.start).unwrap().unwrap();
    /// assert_eq!(resolved.person.id, "bob");
    /// ```
    pub fn base_shift(&self, rotation: &str, slot: u64) -> Result<Option<Shift<'_>>, Error> {
        let r = self.rot_idx(rotation)?;
        let rot = &self.rotations[r as usize];
        let (tag, n) = (slot >> TAG_SHIFT, (slot & ((1 << TAG_SHIFT) - 1)) as i64);
        let Some(j) = rot.layers.iter().position(|l| l.tag == tag) else {
            return Ok(None);
        };
        let layer = &rot.layers[j];
        let (mut a, mut b) = (layer.handoffs.instant(n), layer.handoffs.instant(n + 1));
        if b <= a || b == crate::cadence::NEVER {
            return Ok(None);
        }
        let Some(person) = self.member_of(r, j, n) else {
            return Ok(None);
        };
        let slot = encode(layer, n);
        if rot.layers.len() > 1 {
            // The part of the slot its layer holds, first to last instant.
            let held: Vec<Piece> = self
                .compose(r, a, b)
                .into_iter()
                .filter(|p| p.slot == slot)
                .collect();
            let (Some(f), Some(l)) = (held.first(), held.last()) else {
                return Ok(None);
            };
            (a, b) = (f.start, l.end);
        } else if let Some(w) = &layer.active {
            let mut spans = Vec::new();
            w.active(layer.timezone, a, b, &mut spans);
            if !spans.iter().any(|&(s, e)| s.max(a) < e.min(b)) {
                return Ok(None);
            }
        }
        Ok(Some(self.shift(
            r,
            &Piece {
                start: a,
                end: b,
                slot,
                person,
                src: Src::Rotation,
            },
        )))
    }

    fn shift(&self, r: u32, p: &Piece) -> Shift<'_> {
        let far = || DateTime::<Utc>::MAX_UTC;
        Shift {
            rotation: &self.rotations[r as usize],
            person: &self.people[p.person as usize],
            start: tz::from_secs(p.start).unwrap_or_else(far),
            end: tz::from_secs(p.end).unwrap_or_else(far),
            slot: p.slot as u64,
            source: match p.src {
                Src::Rotation => Source::Rotation,
                Src::Link(l) => Source::Link(&self.links[l as usize]),
                Src::Override(o) => Source::Override(&self.overrides[o as usize]),
            },
        }
    }

    /// Resolves every slot of rotation `r` overlapping `[from, to)` into `out`, keeping only the
    /// pieces that overlap the range.
    fn resolve_range(&self, r: u32, from: Secs, to: Secs, out: &mut Vec<Piece>) {
        let rot = &self.rotations[r as usize];
        if rot.layers.len() > 1 {
            self.resolve_layered(r, from, to, out);
            return;
        }
        let h = &rot.layers[0].handoffs;
        for (n, a, b) in h.shifts(from, to) {
            let mark = out.len();
            self.resolve_slot(r, n, a, b, (from, to), out);
            if a < from || b > to {
                // Only the first and last slot can have pieces outside the range.
                let mut i = mark;
                while i < out.len() {
                    if out[i].end <= from || out[i].start >= to {
                        out.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
        }
    }

    /// Resolves slot `n` (`[a, b)`, non-empty) of a one-layer rotation `r`, appending its pieces
    /// to `out`. Pieces of a restricted rotation are found only around the query range `q` (which
    /// meets the slot), so a lookup in a long slot converts a few windows, not all of them; pieces
    /// are whole either way.
    fn resolve_slot(
        &self,
        r: u32,
        n: i64,
        a: Secs,
        b: Secs,
        q: (Secs, Secs),
        out: &mut Vec<Piece>,
    ) {
        let first = out.len();
        self.layer_slot_pieces(r, 0, n, a, b, q, out);
        if self.plans[r as usize].swap_back
            && out[first..].iter().any(|p| p.person != NOBODY)
            && let Some((person, link)) = self.swap_back(r, n)
        {
            for p in out[first..].iter_mut().filter(|p| p.person != NOBODY) {
                p.person = person;
                p.src = Src::Link(link);
            }
        }
        self.finish(r, a, b, first, out);
    }

    /// The pieces of slot `n` (`[a, b)`) of layer `j` by the order alone, contiguous over the slot:
    /// its member inside the layer's windows (found around `q`), [`NOBODY`] elsewhere.
    #[allow(clippy::too_many_arguments)]
    fn layer_slot_pieces(
        &self,
        r: u32,
        j: usize,
        n: i64,
        a: Secs,
        b: Secs,
        q: (Secs, Secs),
        out: &mut Vec<Piece>,
    ) {
        let layer = &self.rotations[r as usize].layers[j];
        let base = Piece {
            start: a,
            end: b,
            slot: encode(layer, n),
            person: self.member_of(r, j, n).unwrap_or(NOBODY),
            src: Src::Rotation,
        };
        match &layer.active {
            Some(w) if base.person != NOBODY => {
                let mut spans = Vec::new();
                w.active(layer.timezone, a.max(q.0), b.min(q.1), &mut spans);
                let mut at = a;
                for (s, e) in spans {
                    let (s, e) = (s.max(a), e.min(b));
                    if e <= s {
                        continue;
                    }
                    if s > at {
                        out.push(Piece {
                            start: at,
                            end: s,
                            person: NOBODY,
                            ..base
                        });
                    }
                    out.push(Piece {
                        start: s,
                        end: e,
                        ..base
                    });
                    at = e;
                }
                if at < b {
                    out.push(Piece {
                        start: at,
                        end: b,
                        person: NOBODY,
                        ..base
                    });
                }
            }
            Some(_) => out.push(Piece {
                person: NOBODY,
                ..base
            }),
            None => out.push(base),
        }
    }

    /// Links and overrides over the pieces from `first` on (contiguous over `[a, b)`, one slot),
    /// then neighbours merged and the time nobody is on call dropped.
    fn finish(&self, r: u32, a: Secs, b: Secs, first: usize, out: &mut Vec<Piece>) {
        let rot = &self.rotations[r as usize];
        let plan = &self.plans[r as usize];
        let gaps = rot.layers.len() > 1 || rot.layers[0].active.is_some();
        if !plan.links_in.is_empty() {
            let team = rot.team.as_deref();
            let mut from_pieces = Vec::new();
            for &(li, f) in &plan.links_in {
                from_pieces.clear();
                self.resolve_range(f, a, b, &mut from_pieces);
                for fp in &from_pieces {
                    if team.is_some() && self.people[fp.person as usize].team.as_deref() == team {
                        paint_on_call(
                            out,
                            first,
                            gaps,
                            (fp.start.max(a), fp.end.min(b)),
                            fp.person,
                            Src::Link(li),
                        );
                    }
                }
            }
        }
        if !plan.overrides.is_empty() {
            let hits = overlapping(plan, a, b);
            for &(s, e, oi, person) in &hits {
                paint_on_call(
                    out,
                    first,
                    gaps,
                    (s.max(a), e.min(b)),
                    person,
                    Src::Override(oi),
                );
            }
        }
        // Merge neighbours with the same person and source (painting can split a piece that a
        // later layer restores), and drop the time nobody is on call.
        let mut w = first;
        for i in first + 1..out.len() {
            if out[i].person == out[w].person
                && out[i].src == out[w].src
                && out[i].start == out[w].end
            {
                out[w].end = out[i].end;
            } else {
                w += 1;
                out[w] = out[i];
            }
        }
        out.truncate(w + 1);
        if gaps {
            let mut k = first;
            for i in first..out.len() {
                if out[i].person != NOBODY {
                    out[k] = out[i];
                    k += 1;
                }
            }
            out.truncate(k);
        }
    }

    /// A rotation with several layers: its pieces overlapping `[from, to)`, whole.
    fn resolve_layered(&self, r: u32, from: Secs, to: Secs, out: &mut Vec<Piece>) {
        let comp = self.compose(r, from, to);
        let mut seg = Vec::new();
        let mut i = 0;
        while i < comp.len() {
            let mut k = i + 1;
            while k < comp.len() && comp[k].slot == comp[i].slot && comp[k].start == comp[k - 1].end
            {
                k += 1;
            }
            if comp[i].person != NOBODY && comp[k - 1].end > from && comp[i].start < to {
                seg.clear();
                seg.extend_from_slice(&comp[i..k]);
                let (a, b) = (comp[i].start, comp[k - 1].end);
                self.finish(r, a, b, 0, &mut seg);
                out.extend(seg.iter().filter(|p| p.end > from && p.start < to));
            }
            i = k;
        }
    }

    /// The layers of rotation `r` composed by precedence (the last layer with someone on call
    /// wins), before links and overrides: contiguous pieces, [`NOBODY`]'s (slot −1) where no
    /// layer has anyone. Covers every slot of every layer that meets `[from, to)`, so that the
    /// pieces overlapping the range are whole: a piece lies inside its own layer's slot, and every
    /// other layer is known over all of that slot.
    fn compose(&self, r: u32, from: Secs, to: Secs) -> Vec<Piece> {
        let rot = &self.rotations[r as usize];
        let (mut lo, mut hi) = (from, to);
        for l in &rot.layers {
            if let Some((_, a, _)) = l.handoffs.slot_at(from) {
                lo = lo.min(a);
            }
            if let Some((_, _, b)) = l.handoffs.slot_at(to - 1) {
                hi = hi.max(b);
            }
        }
        let mut per: Vec<Vec<Piece>> = Vec::with_capacity(rot.layers.len());
        for (j, l) in rot.layers.iter().enumerate() {
            let mut v = Vec::new();
            for (n, a, b) in l.handoffs.shifts(lo, hi) {
                self.layer_slot_pieces(r, j, n, a, b, (lo, hi), &mut v);
            }
            per.push(v);
        }
        let mut cuts: Vec<Secs> = vec![lo, hi];
        for p in per.iter().flatten() {
            for c in [p.start, p.end] {
                if lo < c && c < hi {
                    cuts.push(c);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut cursor = vec![0usize; per.len()];
        let mut out: Vec<Piece> = Vec::new();
        for w in cuts.windows(2) {
            let (s, e) = (w[0], w[1]);
            let mut pick = None;
            for (j, v) in per.iter().enumerate().rev() {
                let k = &mut cursor[j];
                while *k < v.len() && v[*k].end <= s {
                    *k += 1;
                }
                if *k < v.len() && v[*k].start <= s && v[*k].person != NOBODY {
                    pick = Some(v[*k]);
                    break;
                }
            }
            let piece = match pick {
                Some(p) => Piece {
                    start: s,
                    end: e,
                    ..p
                },
                None => Piece {
                    start: s,
                    end: e,
                    slot: -1,
                    person: NOBODY,
                    src: Src::Rotation,
                },
            };
            match out.last_mut() {
                Some(last) if last.person == piece.person && last.slot == piece.slot => {
                    last.end = e
                }
                _ => out.push(piece),
            }
        }
        out
    }

    /// The member whose turn slot `n` of layer `j` of rotation `r` is: `members[n % len]`, or under
    /// `advance = "when-active"` the member of the slot's turn, `None` for a slot that is no turn.
    fn member_of(&self, r: u32, j: usize, n: i64) -> Option<u32> {
        let layer = &self.rotations[r as usize].layers[j];
        let turn = match &layer.turns {
            None => n,
            Some(t) => t.turn(n)?,
        };
        let m = &layer.member_idx;
        Some(m[turn.rem_euclid(m.len() as i64) as usize])
    }

    /// With `displaced = "swap"`: whether slot `n` of rotation `r` (member X's turn) goes to a
    /// member D whom X displaced through a link in an earlier slot since X's previous turn.
    fn swap_back(&self, r: u32, n: i64) -> Option<(u32, u32)> {
        let rot = &self.rotations[r as usize];
        let team = rot.team.as_deref()?;
        let layer = &rot.layers[0];
        let len = layer.member_idx.len() as i64;
        let x = self.member_of(r, 0, n)?;
        if self.people[x as usize].team.as_deref() != Some(team) {
            return None;
        }
        // The slots since X's previous turn (at most `len - 1` turns back; slots that are no turn
        // are passed over).
        let mut k = n - 1;
        let mut turns = 0;
        while k >= 0 {
            match self.member_of(r, 0, k) {
                Some(p) if p == x => break,
                Some(_) => {
                    turns += 1;
                    if turns >= len {
                        break;
                    }
                }
                None => {}
            }
            k -= 1;
        }
        let h = &layer.handoffs;
        let mut pieces = Vec::new();
        let mut spans = Vec::new();
        for n0 in k + 1..n {
            let (a0, b0) = (h.instant(n0), h.instant(n0 + 1));
            let Some(d) = self.member_of(r, 0, n0).filter(|_| b0 > a0) else {
                continue;
            };
            // Where D would have been on call: the slot, or its window time.
            match &layer.active {
                Some(w) => w.active(layer.timezone, a0, b0, &mut spans),
                None => {
                    spans.clear();
                    spans.push((a0, b0));
                }
            }
            for &(li, f) in &self.plans[r as usize].links_in {
                if self.links[li as usize].displaced != Displaced::Swap {
                    continue;
                }
                pieces.clear();
                self.resolve_range(f, a0, b0, &mut pieces);
                let displaced = pieces.iter().any(|p| {
                    p.person == x
                        && spans
                            .iter()
                            .any(|&(s, e)| s.max(a0).max(p.start) < e.min(b0).min(p.end))
                });
                if displaced {
                    return Some((d, li));
                }
            }
        }
        None
    }

    /// The person index for an id, for other modules of this crate.
    #[allow(dead_code)]
    pub(crate) fn person_index(&self, id: &str) -> Option<u32> {
        self.person_idx.get(id).copied()
    }
}

/// The overrides of a plan that overlap `[a, b)`, oldest first.
fn overlapping(plan: &Plan, a: Secs, b: Secs) -> Vec<(Secs, Secs, u32, u32)> {
    let mut hits = Vec::new();
    let mut i = plan.overrides.partition_point(|&(s, _, _, _)| s < b);
    while i > 0 {
        i -= 1;
        if plan.max_end[i] <= a {
            break;
        }
        let o = plan.overrides[i];
        if o.1 > a {
            hits.push(o);
        }
    }
    hits.sort_unstable_by_key(|&(_, _, oi, _)| oi);
    hits
}

/// The slot number of shift `n` of `layer`: see [`Rotation`]'s slot numbers.
fn encode(layer: &Layer, n: i64) -> i64 {
    ((layer.tag << TAG_SHIFT) as i64) | n
}

/// Paints `(s, e)` with `person` from `src` where someone is on call: all of it, or in a
/// rotation with gaps (windows, layers) only over the pieces that are not [`NOBODY`]'s.
fn paint_on_call(
    out: &mut Vec<Piece>,
    first: usize,
    restricted: bool,
    (s, e): (Secs, Secs),
    person: u32,
    src: Src,
) {
    if !restricted {
        paint(out, first, s, e, person, src);
        return;
    }
    let parts: Vec<(Secs, Secs)> = out[first..]
        .iter()
        .filter(|p| p.person != NOBODY && p.start < e && s < p.end)
        .map(|p| (s.max(p.start), e.min(p.end)))
        .collect();
    for (x, y) in parts {
        paint(out, first, x, y, person, src);
    }
}

/// Paints `[s, e)` (inside the pieces from `first` on, which cover a contiguous range) with
/// `person` from `src`.
fn paint(out: &mut Vec<Piece>, first: usize, s: Secs, e: Secs, person: u32, src: Src) {
    if e <= s {
        return;
    }
    let slot = out[first].slot;
    let new = Piece {
        start: s,
        end: e,
        slot,
        person,
        src,
    };
    // The pieces overlapping [s, e) are out[i0..i1]; they are replaced in place by the part of the
    // first before s, the new piece, and the part of the last after e (no allocation: painting runs
    // once per override per slot).
    let i0 = first + out[first..].partition_point(|p| p.end <= s);
    let i1 = first + out[first..].partition_point(|p| p.start < e);
    if i0 >= i1 {
        out.insert(i0, new);
        return;
    }
    let (head, tail) = (out[i0], out[i1 - 1]);
    let mut repl = [new; 3];
    let mut k = 0;
    if head.start < s {
        repl[k] = Piece { end: s, ..head };
        k += 1;
    }
    repl[k] = new;
    k += 1;
    if tail.end > e {
        repl[k] = Piece { start: e, ..tail };
        k += 1;
    }
    out.splice(i0..i1, repl[..k].iter().copied());
}

fn range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(Secs, Secs), Error> {
    let (f, t) = (tz::to_secs(from), tz::to_secs(to));
    if t <= f {
        return Err(Error::new(ErrorKind::EmptyRange));
    }
    Ok((f, t))
}

/// Orders pieces of several rotations by start, then rotation id. Rotations are kept sorted by id,
/// so their index orders the same way, and integer keys sort much faster than instants and strings.
/// The sort is stable and each rotation's pieces are already in order, so it merges runs.
fn sort_pieces(v: &mut [(u32, Piece)]) {
    v.sort_by_key(|&(r, p)| (p.start, r));
}

/// The two overrides that make a swap: `b`'s person takes shift `a`, and `a`'s person takes shift
/// `b`. The rotation order is untouched; the overrides get ids `ids.0` and `ids.1`.
///
/// # Examples
///
/// ```
/// # let people = include_str!("../../../schedules/people.toml");
/// # let text = include_str!("../../../schedules/rotations.toml");
/// use rota_core::{swap_overrides, Schedule};
/// let s = Schedule::load(&[("people.toml", people), ("rotations.toml", text)]).unwrap();
/// let a = s.base_shift("support-hero", 10).unwrap().unwrap();
/// let b = s.base_shift("support-hero", 11).unwrap().unwrap();
/// let [oa, ob] = swap_overrides(&a, &b, ("s1a".into(), "s1b".into()), Some("holiday".into()));
/// assert_eq!((oa.person.as_str(), ob.person.as_str()), (b.person.id.as_str(), a.person.id.as_str()));
/// assert_eq!((oa.start, oa.end), (a.start, a.end));
/// ```
pub fn swap_overrides(
    a: &Shift<'_>,
    b: &Shift<'_>,
    ids: (String, String),
    reason: Option<String>,
) -> [Override; 2] {
    [
        Override {
            id: ids.0,
            rotation: a.rotation.id.clone(),
            person: b.person.id.clone(),
            start: a.start,
            end: a.end,
            reason: reason.clone(),
        },
        Override {
            id: ids.1,
            rotation: b.rotation.id.clone(),
            person: a.person.id.clone(),
            start: b.start,
            end: b.end,
            reason,
        },
    ]
}
