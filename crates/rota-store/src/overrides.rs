//! Overrides made at run time (the API and accepted swaps): listed, added and deleted, each change
//! with its audit entry in one transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::*;

/// An override made at run time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredOverride {
    /// `ovr_` + 16 hex digits.
    pub id: String,
    /// Rotation id.
    pub rotation: String,
    /// Who is on call instead.
    pub person: String,
    /// First instant covered.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: DateTime<Utc>,
    /// First instant no longer covered.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub end: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
    /// The person (or `admin:cli`) who made it.
    pub created_by: String,
    /// When it was made.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
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
    /// All run-time overrides, oldest first (the order that decides which wins). Oldest by
    /// insertion (rowid), not by `created_at`: that is each replica's clock, and a replica whose
    /// clock is behind must not make a newer override lose.
    pub fn overrides(&self) -> Result<Vec<StoredOverride>> {
        self.read(|c| {
            c.rows(
                "SELECT id, rotation, person, start_s, end_s, reason, created_by, created_at
                 FROM overrides ORDER BY rowid",
                &[],
            )?
            .into_iter()
            .map(|r| {
                Ok(StoredOverride {
                    id: r.text(0)?,
                    rotation: r.text(1)?,
                    person: r.text(2)?,
                    start: instant(r.i64(3)?),
                    end: instant(r.i64(4)?),
                    reason: r.opt_text(5)?,
                    created_by: r.text(6)?,
                    created_at: instant(r.i64(7)?),
                })
            })
            .collect()
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
        self.write(|c| insert_override(c, &o, actor, now))?;
        Ok(o)
    }

    /// Deletes a run-time override; returns it, or `None` if there is no such override. An override
    /// written by accepting a swap request is refused with [`ErrorKind::Conflict`] naming the
    /// request: the overrides of a swap are one change.
    pub fn delete_override(
        &self,
        id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredOverride>> {
        let Some(o) = self.overrides()?.into_iter().find(|o| o.id == id) else {
            return Ok(None);
        };
        let deleted = self.write(|c| {
            // An accepted swap's overrides (one per side, or one per piece of each side's own
            // time in a layered rotation) stand or fall together: deleting one alone
            // would leave one person working both shifts while the request still says accepted,
            // and free the slot for a second trade.
            let swap = crate::swaps::accepted_swap_of(c, id)?;
            if let Some(swap) = swap {
                return Err(conflict(format!(
                    "override {id} belongs to the accepted swap request {swap}: it cannot be \
                     deleted alone, because the other side of the trade would stay"
                )));
            }
            let n = c.exec("DELETE FROM overrides WHERE id = $1", p![id])?;
            if n == 1 {
                audit(
                    c,
                    now,
                    actor,
                    "override.delete",
                    id,
                    &serde_json::to_value(&o).unwrap_or_default(),
                )?;
                bump(c)?;
            }
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
    c: &mut dyn Sql,
    o: &StoredOverride,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    c.exec(
        "INSERT INTO overrides (id, rotation, person, start_s, end_s, reason, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        p![
            &o.id,
            &o.rotation,
            &o.person,
            secs(o.start),
            secs(o.end),
            o.reason.as_deref(),
            &o.created_by,
            secs(now)
        ],
    )?;
    audit(
        c,
        now,
        actor,
        "override.create",
        &o.id,
        &serde_json::to_value(o).unwrap_or_default(),
    )?;
    bump(c)
}
