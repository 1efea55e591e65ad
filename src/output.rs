//! Human-readable tables and JSON output for the query commands.
//!
//! Tables are for people, so they show one row per *stretch* (`rota_core::stretch`): a person's
//! continuous time in one rotation, however many handoffs it crosses (a weekly hero linked into a
//! daily secondary is one secondary row, not seven). JSON keeps the API's shape, one object per
//! resolved shift that never crosses a handoff, because scripts act on slots.

use std::io::Write;

use chrono::{DateTime, Utc};
use rota_core::view::ShiftView;
use rota_core::{Shift, Stretch, Tz};

/// `Mon 2026-12-07 09:00 GMT`, in `tz`.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

fn person(s: &Shift<'_>) -> String {
    format!("{} ({})", s.person.name, s.person.id)
}

/// One shift, as a short paragraph (for `whoishero`).
pub fn paragraph(out: &mut dyn Write, title: &str, s: &Shift<'_>, tz: Tz) -> std::io::Result<()> {
    writeln!(out, "{title}: {}", person(s))?;
    if let Some(email) = &s.person.email {
        writeln!(out, "  email: {email}")?;
    }
    writeln!(out, "  from:  {}", local(s.start, tz))?;
    writeln!(out, "  until: {}", local(s.end, tz))?;
    let why = match s.source {
        rota_core::Source::Rotation => "their turn in the rotation".to_string(),
        rota_core::Source::Link(l) => format!("linked from {}", l.from),
        rota_core::Source::Override(o) => match &o.reason {
            Some(r) => format!("override {}: {r}", o.id),
            None => format!("override {}", o.id),
        },
    };
    writeln!(out, "  why:   {why}")
}

/// A table of shifts, one line per stretch (see the module doc), with times in `tz` (or each
/// rotation's zone when `None`). SOURCE lists every source inside the stretch, in order
/// (`link+override` when an override takes over part of a linked stretch).
pub fn table(out: &mut dyn Write, shifts: &[Shift<'_>], tz: Option<Tz>) -> std::io::Result<()> {
    let rows: Vec<[String; 5]> = rota_core::stretches(shifts)
        .iter()
        .map(|s: &Stretch<'_>| {
            let z = tz.unwrap_or(s.rotation.timezone);
            [
                s.rotation.id.clone(),
                format!("{} ({})", s.person.name, s.person.id),
                local(s.start, z),
                local(s.end, z),
                s.sources().join("+"),
            ]
        })
        .collect();
    let head = ["ROTATION", "PERSON", "FROM", "UNTIL", "SOURCE"];
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: [&str; 5]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i == 4 {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', w - c.chars().count() + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, head)?;
    for r in &rows {
        line(out, [&r[0], &r[1], &r[2], &r[3], &r[4]])?;
    }
    Ok(())
}

/// Shifts as a JSON array ([`ShiftView`]'s shape, the service's).
pub fn json_array(out: &mut dyn Write, shifts: &[Shift<'_>]) -> anyhow::Result<()> {
    let views: Vec<ShiftView<'_>> = shifts.iter().map(ShiftView::from).collect();
    serde_json::to_writer(&mut *out, &views)?;
    writeln!(out)?;
    Ok(())
}

/// One shift as a JSON object, or `null`.
pub fn json_one(out: &mut dyn Write, shift: Option<&Shift<'_>>) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, &shift.map(ShiftView::from))?;
    writeln!(out)?;
    Ok(())
}
