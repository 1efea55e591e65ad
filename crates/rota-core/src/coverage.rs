//! Coverage: which hours of each shift fall outside the on-call person's working hours, and which
//! colleagues are inside theirs then.
//!
//! The Support Hero works their normal hours during their week; people in other time zones catch
//! messages outside them. This module says, for each shift, when that is needed and who can.
//!
//! # Rules
//!
//! - A person's working hours (`hours = "Mon-Fri 09:00-17:30"`) are windows of the week on their
//!   own zone's clock, written and resolved as a rotation's `active` windows
//!   ([`crate::restrict`]): an edge in a DST gap moves forward by the gap's length, an edge in a fold
//!   takes the earlier instant. A person without `hours` has unknown hours.
//! - For each resolved shift of the rotation (after links and overrides), the parts outside the
//!   on-call person's hours are its *gaps*. A shift of a person with unknown hours is listed with
//!   `hours_known = false` and no gaps: rota cannot tell.
//! - In each gap, the colleagues available are the other people of the schedule whose working hours
//!   meet it. A gap is cut wherever that set changes, so each piece names exactly who is at work
//!   throughout it; a piece with nobody is uncovered.
//! - Shifts are whole, as [`Schedule::shifts`] lists them; gaps are not cut at the range.

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::model::{Person, Shift};
use crate::schedule::Schedule;
use crate::tz::{self, Secs};

/// One shift and the parts of it outside the on-call person's working hours.
#[derive(Clone, Debug)]
pub struct Coverage<'s> {
    /// The resolved shift.
    pub shift: Shift<'s>,
    /// Whether the on-call person gave working hours.
    pub hours_known: bool,
    /// The parts of the shift outside their hours, in order, each with who is at work then.
    pub gaps: Vec<Gap<'s>>,
}

/// A part of a shift outside the on-call person's hours, with a constant set of colleagues at work.
#[derive(Clone, Debug)]
pub struct Gap<'s> {
    /// First instant.
    pub start: DateTime<Utc>,
    /// First instant after.
    pub end: DateTime<Utc>,
    /// The other people whose working hours cover all of it, by id; empty when nobody's do.
    pub available: Vec<&'s Person>,
}

impl Schedule {
    /// The coverage of `rotation`'s shifts overlapping `[from, to)`: see the module documentation.
    ///
    /// # Examples
    ///
    /// ```
    /// use rota_core::Schedule;
    /// let text = r#"
    /// [people.ann]
    /// name = "Ann"
    /// timezone = "Europe/London"
    /// hours = "Mon-Fri 09:00-17:00"
    /// [people.raj]
    /// name = "Raj"
    /// timezone = "Asia/Kolkata"
    /// hours = "Mon-Fri 09:00-18:00"
    /// [rotations.hero]
    /// members = ["ann"]
    /// timezone = "Europe/London"
    /// start = "2027-01-04T09:00"
    /// every = "1 day"
    /// "#;
    /// let s = Schedule::load(&[("s.toml", text)]).unwrap();
    /// let c = s.coverage("hero", "2027-01-04T09:00:00Z".parse().unwrap(), "2027-01-04T10:00:00Z".parse().unwrap()).unwrap();
    /// // Monday 17:00 GMT to Tuesday 09:00 GMT is outside Ann's hours; Raj starts at 03:30 GMT.
    /// let g: Vec<String> = c[0].gaps.iter().map(|g| format!("{}-{} {}", g.start.format("%H:%M"), g.end.format("%H:%M"),
    ///     g.available.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(","))).collect();
    /// assert_eq!(g, ["17:00-03:30 ", "03:30-09:00 raj"]);
    /// ```
    pub fn coverage(
        &self,
        rotation: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Coverage<'_>>, Error> {
        let shifts = self.shifts(rotation, from, to)?;
        let (Some(first), Some(last)) = (shifts.first(), shifts.last()) else {
            return Ok(Vec::new());
        };
        // Everyone's working intervals over all the shifts, once: each gap then takes its part
        // by binary search, so a long range with many people stays linear in its output.
        let (lo, hi) = (tz::to_secs(first.start), tz::to_secs(last.end));
        let at_work: Vec<Vec<(Secs, Secs)>> = self
            .people()
            .iter()
            .map(|p| {
                let mut v = Vec::new();
                if let (Some(h), Some(zone)) = (&p.hours, p.timezone) {
                    h.active(zone, lo, hi, &mut v);
                }
                v
            })
            .collect();
        let mut out = Vec::with_capacity(shifts.len());
        for shift in shifts {
            let p = shift.person;
            let Some(me) = self.people().iter().position(|x| x.id == p.id) else {
                continue;
            };
            if p.hours.is_none() || p.timezone.is_none() {
                out.push(Coverage {
                    shift,
                    hours_known: false,
                    gaps: Vec::new(),
                });
                continue;
            }
            let (a, b) = (tz::to_secs(shift.start), tz::to_secs(shift.end));
            let mut outside = Vec::new();
            let mut at = a;
            for &(s, e) in overlapping(&at_work[me], a, b) {
                if s.max(a) > at {
                    outside.push((at, s.max(a)));
                }
                at = at.max(e.min(b));
            }
            if at < b {
                outside.push((at, b));
            }
            let mut gaps = Vec::new();
            for (gs, ge) in outside {
                self.split_by_colleagues(&at_work, me, gs, ge, &mut gaps);
            }
            out.push(Coverage {
                shift,
                hours_known: true,
                gaps,
            });
        }
        Ok(out)
    }

    /// Cuts `[gs, ge)` where the set of people at work (other than `me`) changes, appending the
    /// pieces: a sweep over the intervals' edges.
    fn split_by_colleagues<'s>(
        &'s self,
        at_work: &[Vec<(Secs, Secs)>],
        me: usize,
        gs: Secs,
        ge: Secs,
        out: &mut Vec<Gap<'s>>,
    ) {
        // (instant, joins?, person): leaving sorts before joining at the same instant.
        let mut events: Vec<(Secs, bool, usize)> = Vec::new();
        for (i, v) in at_work.iter().enumerate() {
            if i == me {
                continue;
            }
            for &(s, e) in overlapping(v, gs, ge) {
                events.push((s.max(gs), true, i));
                events.push((e.min(ge), false, i));
            }
        }
        events.sort_unstable();
        let far = DateTime::<Utc>::MAX_UTC;
        let people = self.people();
        let mut set = std::collections::BTreeSet::new();
        let mut at = gs;
        let mut k = 0;
        loop {
            let next = events.get(k).map_or(ge, |e| e.0);
            if next > at {
                let available: Vec<&Person> = set.iter().map(|&i| &people[i]).collect();
                match out.last_mut() {
                    Some(last)
                        if tz::to_secs(last.end) == at
                            && last
                                .available
                                .iter()
                                .map(|p| &p.id)
                                .eq(available.iter().map(|p| &p.id)) =>
                    {
                        last.end = tz::from_secs(next).unwrap_or(far);
                    }
                    _ => out.push(Gap {
                        start: tz::from_secs(at).unwrap_or(far),
                        end: tz::from_secs(next).unwrap_or(far),
                        available,
                    }),
                }
                at = next;
            }
            if k >= events.len() {
                break;
            }
            while let Some(&(_, joins, i)) = events.get(k).filter(|e| e.0 == next) {
                if joins {
                    set.insert(i);
                } else {
                    set.remove(&i);
                }
                k += 1;
            }
        }
    }
}

/// The intervals of `v` (sorted, disjoint) that overlap `[a, b)`.
fn overlapping(v: &[(Secs, Secs)], a: Secs, b: Secs) -> &[(Secs, Secs)] {
    let i = v.partition_point(|&(_, e)| e <= a);
    let j = v.partition_point(|&(s, _)| s < b);
    &v[i..j.max(i)]
}
