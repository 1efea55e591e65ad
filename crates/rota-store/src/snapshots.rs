//! Change-notice snapshots: what each person's upcoming shifts were when they were last told.

use chrono::{DateTime, Utc};

use crate::*;

impl Store {
    /// A person's change-notice snapshot (opaque text, rota-notify's JSON) and when it was taken.
    pub fn notify_snapshot(&self, person: &str) -> Result<Option<(String, DateTime<Utc>)>> {
        self.read(|c| {
            c.row(
                "SELECT shifts, taken_at FROM notify_snapshots WHERE person = $1",
                p![person],
            )?
            .map(|r| Ok((r.text(0)?, instant(r.i64(1)?))))
            .transpose()
        })
    }

    /// Records several people's change-notice snapshots in one transaction.
    pub fn set_notify_snapshots(
        &self,
        snapshots: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|c| {
            for (person, shifts) in snapshots {
                put_snapshot(c, person, shifts, now)?;
            }
            Ok(())
        })
    }

    /// Records a person's change-notice snapshot.
    pub fn set_notify_snapshot(
        &self,
        person: &str,
        shifts: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|c| put_snapshot(c, person, shifts, now))
    }
}

pub(crate) fn put_snapshot(
    c: &mut dyn Sql,
    person: &str,
    shifts: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    c.exec(
        "INSERT INTO notify_snapshots (person, shifts, taken_at) VALUES ($1, $2, $3)
         ON CONFLICT (person) DO UPDATE SET shifts = excluded.shifts, taken_at = excluded.taken_at",
        p![person, shifts, secs(now)],
    )?;
    Ok(())
}
