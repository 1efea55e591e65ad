//! Change-notice snapshots: what each person's upcoming shifts were when they were last told.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::*;

impl Store {
    /// A person's change-notice snapshot (opaque text, rota-notify's JSON) and when it was taken.
    pub fn notify_snapshot(&self, person: &str) -> Result<Option<(String, DateTime<Utc>)>> {
        self.with(|c| {
            c.query_row(
                "SELECT shifts, taken_at FROM notify_snapshots WHERE person = ?1",
                params![person],
                |r| Ok((r.get(0)?, instant(r.get(1)?))),
            )
            .optional()
        })
    }

    /// Records several people's change-notice snapshots in one transaction.
    pub fn set_notify_snapshots(
        &self,
        snapshots: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            for (person, shifts) in snapshots {
                put_snapshot(&tx, person, shifts, now)?;
            }
            tx.commit()
        })
    }

    /// Records a person's change-notice snapshot.
    pub fn set_notify_snapshot(
        &self,
        person: &str,
        shifts: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            put_snapshot(&tx, person, shifts, now)?;
            tx.commit()
        })
    }
}

pub(crate) fn put_snapshot(
    tx: &Transaction<'_>,
    person: &str,
    shifts: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO notify_snapshots (person, shifts, taken_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (person) DO UPDATE SET shifts = excluded.shifts, taken_at = excluded.taken_at",
        params![person, shifts, secs(now)],
    )?;
    Ok(())
}
