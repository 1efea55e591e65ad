//! The JSON shape of a resolved shift, shared by the CLI (`--json`) and the service, so both print
//! exactly this shape (the README's "JSON API" section documents it for users):
//!
//! ```json
//! {"rotation":"support-hero","person":{"id":"alice","name":"Alice Smith","email":"alice@example.com"},
//!  "start":"2026-12-07T09:00:00Z","end":"2026-12-14T09:00:00Z","source":"rotation","slot":5}
//! ```
//!
//! `slot` is the rotation's shift this lies in (handoff `slot` to handoff `slot + 1`, with a
//! layer's tag added for a layer with an id: see `rota_core::Rotation`): what swap
//! requests and handoff notes name.
//!
//! Instants are RFC 3339 in UTC with a `Z`; zones are only for display, elsewhere.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::model::{Person, Shift};

/// A shift as JSON: see the module doc.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The rotation's shift index this lies in.
    pub slot: u64,
}

/// A person as JSON: id, name and email (`null` when the schedule gives none).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
            slot: s.slot,
        }
    }
}

/// Formats an instant as RFC 3339 in UTC with `Z` and whole seconds: `2026-12-07T09:00:00Z`.
pub fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Hours with two decimals, for JSON: `hours(5400) == 1.5`.
pub fn hours(secs: i64) -> f64 {
    (secs as f64 / 36.0).round() / 100.0
}

/// An absence as JSON.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbsenceView<'a> {
    /// RFC 3339 UTC instant.
    pub start: String,
    /// RFC 3339 UTC instant.
    pub end: String,
    /// What the calendar calls it; left out when empty (the service leaves summaries out, since
    /// an out-of-office title may be private).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub summary: &'a str,
}

/// A colleague who could trade, as JSON.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestionView<'s> {
    /// The colleague.
    pub person: PersonView<'s>,
    /// The colleague's shift the absent person would take in return.
    pub give_back: SlotView,
    /// The part of the conflicting shift to cover, when it is not all of it (a partial absence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<Span>,
    /// The part of `give_back` taken in return, when it is not all of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub give_back_part: Option<Span>,
    /// Whether the colleague would be on call twice in a row.
    pub back_to_back: bool,
    /// The colleague's on-call hours around the conflict, before the trade.
    pub load_hours_before: f64,
    /// The same after it.
    pub load_hours_after: f64,
}

/// A stretch of time as JSON.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Span {
    /// RFC 3339 UTC instant.
    pub start: String,
    /// RFC 3339 UTC instant.
    pub end: String,
}

/// A slot of a rotation as JSON.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotView {
    /// The slot number (what swap requests name).
    pub slot: u64,
    /// RFC 3339 UTC instant.
    pub start: String,
    /// RFC 3339 UTC instant.
    pub end: String,
}

/// A conflict as JSON: the shift's fields, its slot, the absences, and the suggestions.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConflictView<'s> {
    /// The conflicting shift.
    #[serde(flatten)]
    pub shift: ShiftView<'s>,
    /// Its slot.
    pub slot: u64,
    /// How long the person is away during it.
    pub away_hours: f64,
    /// The absences overlapping it.
    pub absences: Vec<AbsenceView<'s>>,
    /// Who could trade, best first.
    pub suggestions: Vec<SuggestionView<'s>>,
}

impl<'s> ConflictView<'s> {
    /// The view of `c` with `suggestions`.
    pub fn new(
        c: &'s crate::timeoff::Conflict<'s>,
        suggestions: &[crate::timeoff::Suggestion<'s>],
    ) -> ConflictView<'s> {
        ConflictView {
            shift: (&c.shift).into(),
            slot: c.shift.slot,
            away_hours: hours(c.away.num_seconds()),
            absences: c
                .absences
                .iter()
                .map(|a| AbsenceView {
                    start: utc(a.start),
                    end: utc(a.end),
                    summary: &a.summary,
                })
                .collect(),
            suggestions: suggestions
                .iter()
                .map(|s| SuggestionView {
                    person: s.give_back.person.into(),
                    give_back: SlotView {
                        slot: s.give_back.slot,
                        start: utc(s.give_back.start),
                        end: utc(s.give_back.end),
                    },
                    part: s.part.map(|(a, b)| Span {
                        start: utc(a),
                        end: utc(b),
                    }),
                    give_back_part: s.give_back_part.map(|(a, b)| Span {
                        start: utc(a),
                        end: utc(b),
                    }),
                    back_to_back: s.back_to_back,
                    load_hours_before: hours(s.load_before.num_seconds()),
                    load_hours_after: hours(s.load_after.num_seconds()),
                })
                .collect(),
        }
    }
}

/// One row of the fairness report as JSON (hours, not seconds).
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoadView<'a> {
    /// Person id.
    pub person: &'a str,
    /// Rotation id; absent in per-person totals.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub rotation: &'a str,
    /// Distinct shifts (slots).
    pub shifts: u32,
    /// On-call hours in the window.
    pub hours: f64,
    /// Of those, on a weekend on their wall clock.
    pub weekend_hours: f64,
    /// Of those, on a public holiday on their wall clock.
    pub holiday_hours: f64,
    /// Overrides that gave their turn away.
    pub overrides_given: u32,
    /// Hours given away.
    pub given_hours: f64,
    /// Overrides that put them on call.
    pub overrides_taken: u32,
    /// Hours taken.
    pub taken_hours: f64,
}

impl<'a> From<&'a crate::timeoff::Load> for LoadView<'a> {
    fn from(l: &'a crate::timeoff::Load) -> Self {
        LoadView {
            person: &l.person,
            rotation: &l.rotation,
            shifts: l.shifts,
            hours: hours(l.secs),
            weekend_hours: hours(l.weekend_secs),
            holiday_hours: hours(l.holiday_secs),
            overrides_given: l.overrides_given,
            given_hours: hours(l.given_secs),
            overrides_taken: l.overrides_taken,
            taken_hours: hours(l.taken_secs),
        }
    }
}

/// A spread as JSON.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpreadView<'a> {
    /// Rotation id, or `null` over all rotations.
    pub rotation: Option<&'a str>,
    /// The most loaded person.
    pub most: &'a str,
    /// Their hours.
    pub most_hours: f64,
    /// The least loaded person.
    pub least: &'a str,
    /// Their hours.
    pub least_hours: f64,
    /// The difference in hours.
    pub spread_hours: f64,
}

impl<'a> From<&'a crate::timeoff::Spread> for SpreadView<'a> {
    fn from(s: &'a crate::timeoff::Spread) -> Self {
        SpreadView {
            rotation: s.rotation.as_deref(),
            most: &s.most.0,
            most_hours: hours(s.most.1),
            least: &s.least.0,
            least_hours: hours(s.least.1),
            spread_hours: hours(s.secs()),
        }
    }
}

/// The fairness report as JSON.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportView<'a> {
    /// RFC 3339 UTC instant.
    pub from: String,
    /// RFC 3339 UTC instant.
    pub to: String,
    /// Per person and rotation.
    pub loads: Vec<LoadView<'a>>,
    /// Per person over all rotations.
    pub people: Vec<LoadView<'a>>,
    /// Per rotation.
    pub spreads: Vec<SpreadView<'a>>,
    /// Over everyone.
    pub overall: Option<SpreadView<'a>>,
    /// How many holiday dates the report knew of in its window.
    pub holidays: usize,
}

impl<'a> ReportView<'a> {
    /// The view of `r`; `holidays` is how many holiday dates were known.
    pub fn new(r: &'a crate::timeoff::Report, holidays: usize) -> ReportView<'a> {
        ReportView {
            from: utc(r.from),
            to: utc(r.to),
            loads: r.loads.iter().map(LoadView::from).collect(),
            people: r.totals.iter().map(LoadView::from).collect(),
            spreads: r.spreads.iter().map(SpreadView::from).collect(),
            overall: r.overall.as_ref().map(SpreadView::from),
            holidays,
        }
    }
}

/// The path of the service's swap form for `slot` of `rotation`, pre-filled with a colleague and
/// their shift when `with` is given: `/swaps/new?rotation=..&slot=..[&counterpart=..&their_slot=..]`.
/// Shared by the service's pages and the conflict emails so both link alike. Ids are
/// percent-encoded (they may hold `&`, `#`, `+` or `%`).
///
/// ```
/// use rota_core::view::swap_form_path;
/// assert_eq!(swap_form_path("ops&co", 4, Some(("ann", 5))), "/swaps/new?rotation=ops%26co&slot=4&counterpart=ann&their_slot=5");
/// ```
pub fn swap_form_path(rotation: &str, slot: u64, with: Option<(&str, u64)>) -> String {
    let mut l = format!("/swaps/new?rotation={}&slot={slot}", query_value(rotation));
    if let Some((person, theirs)) = with {
        l.push_str(&format!(
            "&counterpart={}&their_slot={theirs}",
            query_value(person)
        ));
    }
    l
}

fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A shift's coverage as JSON ([`crate::coverage`]): the shift, whether its person gave working
/// hours, and the parts of it outside them with who is at work then.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageView<'s> {
    /// The resolved shift.
    pub shift: ShiftView<'s>,
    /// Whether the on-call person gave working hours; without them there are no gaps to show.
    pub hours_known: bool,
    /// The parts of the shift outside the on-call person's hours, in order.
    pub gaps: Vec<GapView<'s>>,
}

/// A part of a shift outside the on-call person's hours.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GapView<'s> {
    /// RFC 3339 UTC instant.
    pub start: String,
    /// RFC 3339 UTC instant.
    pub end: String,
    /// Who is inside their working hours throughout it; empty when nobody is.
    pub available: Vec<PersonView<'s>>,
}

impl<'s> From<&crate::coverage::Coverage<'s>> for CoverageView<'s> {
    fn from(c: &crate::coverage::Coverage<'s>) -> Self {
        CoverageView {
            shift: (&c.shift).into(),
            hours_known: c.hours_known,
            gaps: c
                .gaps
                .iter()
                .map(|g| GapView {
                    start: utc(g.start),
                    end: utc(g.end),
                    available: g.available.iter().map(|p| (*p).into()).collect(),
                })
                .collect(),
        }
    }
}
