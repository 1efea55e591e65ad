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
        let mut out = Vec::with_capacity(shifts.len());
        let mut spans = Vec::new();
        for shift in shifts {
            let p = shift.person;
            let (Some(hours), Some(zone)) = (&p.hours, p.timezone) else {
                out.push(Coverage {
                    shift,
                    hours_known: false,
                    gaps: Vec::new(),
                });
                continue;
            };
            let (a, b) = (tz::to_secs(shift.start), tz::to_secs(shift.end));
            hours.active(zone, a, b, &mut spans);
            let mut outside = Vec::new();
            let mut at = a;
            for &(s, e) in &spans {
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
                self.split_by_colleagues(p, gs, ge, &mut gaps);
            }
            out.push(Coverage {
                shift,
                hours_known: true,
                gaps,
            });
        }
        Ok(out)
    }

    /// Cuts `[gs, ge)` where the set of colleagues at work changes, appending the pieces.
    fn split_by_colleagues<'s>(
        &'s self,
        on_call: &Person,
        gs: Secs,
        ge: Secs,
        out: &mut Vec<Gap<'s>>,
    ) {
        let mut at_work: Vec<(&Person, Vec<(Secs, Secs)>)> = Vec::new();
        let mut cuts = vec![gs, ge];
        for c in self.people() {
            if c.id == on_call.id {
                continue;
            }
            let (Some(h), Some(zone)) = (&c.hours, c.timezone) else {
                continue;
            };
            let mut v = Vec::new();
            h.active(zone, gs, ge, &mut v);
            for &(s, e) in &v {
                cuts.extend([s, e].into_iter().filter(|&x| gs < x && x < ge));
            }
            at_work.push((c, v));
        }
        cuts.sort_unstable();
        cuts.dedup();
        let far = DateTime::<Utc>::MAX_UTC;
        for w in cuts.windows(2) {
            let (s, e) = (w[0], w[1]);
            let available: Vec<&Person> = at_work
                .iter()
                .filter(|(_, v)| v.iter().any(|&(x, y)| x <= s && e <= y))
                .map(|(c, _)| *c)
                .collect();
            match out.last_mut() {
                Some(last)
                    if tz::to_secs(last.end) == s
                        && last
                            .available
                            .iter()
                            .map(|p| &p.id)
                            .eq(available.iter().map(|p| &p.id)) =>
                {
                    last.end = tz::from_secs(e).unwrap_or(far);
                }
                _ => out.push(Gap {
                    start: tz::from_secs(s).unwrap_or(far),
                    end: tz::from_secs(e).unwrap_or(far),
                    available,
                }),
            }
        }
    }
}
