//! Handoff notes: what the person on call leaves for whoever comes next ("the deploy of the
//! billing fix is half done; ticket 4411 waits for the customer"). A note belongs to one shift,
//! slot `slot` of a rotation, and is never edited or deleted: a correction is another note. Each
//! is written with its `note.create` audit entry (text included) in one transaction, so the audit
//! log keeps what was handed over even if a shift's notes are shown differently later.
//!
//! Who may write on which shift is the service's rule, not the store's (see rota-server's
//! `notes`); the store bounds what it keeps: [`NOTE_MAX_CHARS`] per note and
//! [`NOTES_PER_SHIFT`] per shift.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::Row;
use crate::*;

/// The longest note, in characters.
pub const NOTE_MAX_CHARS: usize = 4000;
/// The most notes one shift keeps.
pub const NOTES_PER_SHIFT: usize = 50;

/// A handoff note on a shift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoffNote {
    /// Its id (`note_` and 16 hex digits).
    pub id: String,
    /// The rotation.
    pub rotation: String,
    /// The rotation's slot (see `rota_core::Rotation` for how layers number theirs).
    pub slot: u64,
    /// Who wrote it (a person id).
    pub author: String,
    /// What it says: plain text, line breaks kept.
    pub text: String,
    /// When it was written.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
}

const NOTE_SELECT: &str = "SELECT id, rotation, slot, author, body, created_at FROM handoff_notes";

fn note_row(r: &Row) -> Result<HandoffNote> {
    Ok(HandoffNote {
        id: r.text(0)?,
        rotation: r.text(1)?,
        slot: u64::try_from(r.i64(2)?).unwrap_or(0),
        author: r.text(3)?,
        text: r.text(4)?,
        created_at: instant(r.i64(5)?),
    })
}

/// `text` as a note keeps it: trimmed, with `\r\n` as `\n`; refused when empty, longer than
/// [`NOTE_MAX_CHARS`], or holding control characters other than line breaks and tabs.
pub fn clean_note(text: &str) -> Result<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    let invalid = |m: String| Error {
        kind: ErrorKind::Invalid(m),
    };
    if text.is_empty() {
        return Err(invalid("the note is empty".into()));
    }
    let n = text.chars().count();
    if n > NOTE_MAX_CHARS {
        return Err(invalid(format!(
            "the note is {n} characters long; at most {NOTE_MAX_CHARS} are kept"
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(invalid(format!(
            "the note holds the control character U+{:04X}",
            c as u32
        )));
    }
    Ok(text.to_string())
}

impl Store {
    /// Adds a note by `author` to slot `slot` of `rotation`, with its audit entry, in one
    /// transaction. The text is cleaned by [`clean_note`]; a shift that already has
    /// [`NOTES_PER_SHIFT`] notes is refused with [`ErrorKind::Conflict`].
    pub fn add_note(
        &self,
        rotation: &str,
        slot: u64,
        author: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<HandoffNote> {
        let note = HandoffNote {
            id: format!("note_{}", hex(&random::<8>()?)),
            rotation: rotation.to_string(),
            slot,
            author: author.to_string(),
            text: clean_note(text)?,
            // Whole seconds, as stored: what POST answers is what GET reads back.
            created_at: instant(secs(now)),
        };
        let slot_i = i64::try_from(slot).map_err(|_| Error {
            kind: ErrorKind::Invalid(format!("slot {slot} is out of range")),
        })?;
        self.write(|c| {
            let count = c
                .row(
                    "SELECT COUNT(*) FROM handoff_notes WHERE rotation = $1 AND slot = $2",
                    p![rotation, slot_i],
                )?
                .map(|r| r.i64(0))
                .transpose()?
                .unwrap_or(0);
            if count >= NOTES_PER_SHIFT as i64 {
                return Err(conflict(format!(
                    "this shift already has {NOTES_PER_SHIFT} handoff notes, the most it keeps"
                )));
            }
            c.exec(
                "INSERT INTO handoff_notes (id, rotation, slot, author, body, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                p![&note.id, rotation, slot_i, author, &note.text, secs(now)],
            )?;
            audit(
                c,
                now,
                author,
                "note.create",
                &note.id,
                &serde_json::to_value(&note).unwrap_or_default(),
            )
        })?;
        Ok(note)
    }

    /// The notes on slot `slot` of `rotation`, oldest first.
    pub fn notes(&self, rotation: &str, slot: u64) -> Result<Vec<HandoffNote>> {
        let Ok(slot) = i64::try_from(slot) else {
            return Ok(Vec::new());
        };
        self.read(|c| {
            c.rows(
                &format!("{NOTE_SELECT} WHERE rotation = $1 AND slot = $2 ORDER BY rowid"),
                p![rotation, slot],
            )?
            .iter()
            .map(note_row)
            .collect()
        })
    }
}
