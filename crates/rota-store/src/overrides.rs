//! Overrides made at run time (the API and accepted swaps): listed, added and deleted, each change
//! with its audit entry in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::*;

/// An override made at run time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredOverride {
    /// `ovr_` + 16 hex digits.
    pub id: String,
    /// Rotation id.
    pub rotation: String,
    /// Who is on call instead.
    pub person: String,
    /// First instant covered.
    pub start: DateTime<Utc>,
    /// First instant no longer covered.
    pub end: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
    /// The person (or `admin:cli`) who made it.
    pub created_by: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// What is needed to record a new override.
#[derive(Clone, Debug)]
pub struct NewOverride {
    /// Rotation id.
    pub rotation: String,
    /// Who is on call instead.
    pub person: String,
    /// First instant covered.
    pub start: DateTime<Utc>,
    /// First instant no longer covered; after `start`.
    pub end: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
}

impl Store {
    /// All run-time overrides, oldest first (the order that decides which wins).
    pub fn overrides(&self) -> Result<Vec<StoredOverride>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, rotation, person, start_s, end_s, reason, created_by, created_at
                 FROM overrides ORDER BY created_at, rowid",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(StoredOverride {
                    id: r.get(0)?,
                    rotation: r.get(1)?,
                    person: r.get(2)?,
                    start: instant(r.get(3)?),
                    end: instant(r.get(4)?),
                    reason: r.get(5)?,
                    created_by: r.get(6)?,
                    created_at: instant(r.get(7)?),
                })
            })?;
            rows.collect()
        })
    }

    /// Records a new override made by `actor`, with its audit entry, in one transaction.
    pub fn add_override(
        &self,
        new: NewOverride,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredOverride> {
        let o = StoredOverride::new(new, actor, now)?;
        self.with(|c| {
            let tx = c.transaction()?;
            insert_override(&tx, &o, actor, now)?;
            tx.commit()
        })?;
        Ok(o)
    }

    /// Deletes a run-time override; returns it, or `None` if there is no such override. An override
    /// written by accepting a swap request is refused with [`ErrorKind::Conflict`] naming the
    /// request: the two overrides of a trade are one change.
    pub fn delete_override(
        &self,
        id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredOverride>> {
        let Some(o) = self.overrides()?.into_iter().find(|o| o.id == id) else {
            return Ok(None);
        };
        let deleted = self.with_swaps(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // An accepted swap is two overrides that stand or fall together: deleting one alone
            // would leave one person working both shifts while the request still says accepted,
            // and free the slot for a second trade.
            let swap: Option<String> = tx
                .query_row(
                    "SELECT id FROM swap_requests
                     WHERE state = 'accepted' AND (override_a = ?1 OR override_b = ?1)",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(swap) = swap {
                return Err(Refusal::Conflict(format!(
                    "override {id} belongs to the accepted swap request {swap}: it cannot be \
                     deleted alone, because the other side of the trade would stay"
                )));
            }
            let n = tx.execute("DELETE FROM overrides WHERE id = ?1", params![id])?;
            if n == 1 {
                audit(
                    &tx,
                    now,
                    actor,
                    "override.delete",
                    id,
                    &serde_json::to_value(&o).unwrap_or_default(),
                )?;
            }
            tx.commit()?;
            Ok(n == 1)
        })?;
        Ok(deleted.then_some(o))
    }
}

impl StoredOverride {
    /// A new override made by `actor` at `now`, with a fresh random id.
    pub(crate) fn new(new: NewOverride, actor: &str, now: DateTime<Utc>) -> Result<StoredOverride> {
        Ok(StoredOverride {
            id: format!("ovr_{}", hex(&random::<8>()?)),
            rotation: new.rotation,
            person: new.person,
            start: new.start,
            end: new.end,
            reason: new.reason,
            created_by: actor.to_string(),
            created_at: now,
        })
    }
}

/// Writes `o` and its `override.create` audit entry inside the caller's transaction (an API write
/// and a swap's acceptance alike).
pub(crate) fn insert_override(
    tx: &Transaction<'_>,
    o: &StoredOverride,
    actor: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO overrides (id, rotation, person, start_s, end_s, reason, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![o.id, o.rotation, o.person, secs(o.start), secs(o.end), o.reason, o.created_by, secs(now)],
    )?;
    audit(
        tx,
        now,
        actor,
        "override.create",
        &o.id,
        &serde_json::to_value(o).unwrap_or_default(),
    )
}
