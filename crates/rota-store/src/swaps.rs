//! Swap requests: proposed, then accepted (both overrides in one `BEGIN IMMEDIATE` transaction
//! that re-checks the request and its shifts), declined, cancelled or expired.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::*;

/// Whether a swap request is a two-way trade or a one-way cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SwapKind {
    /// "You take my shift, I take yours": two overrides.
    Trade,
    /// "Please take my shift": one override.
    Cover,
}

impl SwapKind {
    fn as_str(self) -> &'static str {
        match self {
            SwapKind::Trade => "trade",
            SwapKind::Cover => "cover",
        }
    }
}

/// Where a swap request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SwapState {
    /// Waiting for the counterpart.
    Pending,
    /// Accepted: its overrides are written.
    Accepted,
    /// Declined by the counterpart.
    Declined,
    /// Cancelled by the requester.
    Cancelled,
    /// Its first shift started before anyone decided.
    Expired,
}

impl SwapState {
    /// `"pending"`, `"accepted"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SwapState::Pending => "pending",
            SwapState::Accepted => "accepted",
            SwapState::Declined => "declined",
            SwapState::Cancelled => "cancelled",
            SwapState::Expired => "expired",
        }
    }

    fn parse(s: &str) -> SwapState {
        match s {
            "pending" => SwapState::Pending,
            "accepted" => SwapState::Accepted,
            "declined" => SwapState::Declined,
            "cancelled" => SwapState::Cancelled,
            _ => SwapState::Expired,
        }
    }
}

/// One shift named by a swap request: slot `slot` of the request's rotation, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SwapSlot {
    /// The rotation's shift index.
    pub slot: u64,
    /// Its start when the request was made.
    pub start: DateTime<Utc>,
    /// Its end when the request was made.
    pub end: DateTime<Utc>,
}

/// What is needed to record a new swap request.
#[derive(Clone, Debug)]
pub struct NewSwap {
    /// Rotation id.
    pub rotation: String,
    /// Trade or cover.
    pub kind: SwapKind,
    /// Who asks (whose shift `requester_slot` is).
    pub requester: String,
    /// The requester's shift.
    pub requester_slot: SwapSlot,
    /// Who is asked.
    pub counterpart: String,
    /// The counterpart's shift (trades only).
    pub counterpart_slot: Option<SwapSlot>,
    /// The resolved schedule of the slots at request time (opaque to the store).
    pub fingerprint: String,
}

/// A swap request as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SwapRequest {
    /// `swp_` + 16 hex digits.
    pub id: String,
    /// Rotation id.
    pub rotation: String,
    /// Trade or cover.
    pub kind: SwapKind,
    /// Who asks.
    pub requester: String,
    /// The requester's shift.
    pub requester_slot: SwapSlot,
    /// Who was on call in the requester's slot at request time (the requester).
    pub requester_person: String,
    /// Who is asked.
    pub counterpart: String,
    /// The counterpart's shift (trades only).
    pub counterpart_slot: Option<SwapSlot>,
    /// Where it stands, as stored (a pending request whose first shift has started is expired
    /// even before anyone writes that down: see [`SwapRequest::state_at`]).
    pub state: SwapState,
    /// Who made it (the requester, or an admin on their behalf).
    pub created_by: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided it.
    pub decided_by: Option<String>,
    /// The overrides written when it was accepted.
    pub overrides: Vec<String>,
    /// The resolved schedule of the slots at request time.
    pub fingerprint: String,
}

impl SwapRequest {
    /// When the first of its shifts starts: the request expires then.
    pub fn expires_at(&self) -> DateTime<Utc> {
        match self.counterpart_slot {
            Some(c) => c.start.min(self.requester_slot.start),
            None => self.requester_slot.start,
        }
    }

    /// Its state at `now`: a pending request whose first shift has started is expired.
    pub fn state_at(&self, now: DateTime<Utc>) -> SwapState {
        if self.state == SwapState::Pending && now >= self.expires_at() {
            SwapState::Expired
        } else {
            self.state
        }
    }

    /// The shifts it names, requester's first.
    pub fn slots(&self) -> Vec<SwapSlot> {
        let mut v = vec![self.requester_slot];
        v.extend(self.counterpart_slot);
        v
    }
}

pub(crate) const SWAP_SELECT: &str =
    "SELECT id, rotation, kind, requester, requester_slot, requester_start,
    requester_end, requester_person, counterpart, counterpart_slot, counterpart_start,
    counterpart_end, state, created_by, created_at, decided_at, decided_by, override_a,
    override_b, fingerprint FROM swap_requests";

pub(crate) fn swap_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SwapRequest> {
    let kind: String = r.get(2)?;
    let cslot: Option<i64> = r.get(9)?;
    let cstart: Option<i64> = r.get(10)?;
    let cend: Option<i64> = r.get(11)?;
    let overrides: Vec<String> = [r.get::<_, Option<String>>(17)?, r.get(18)?]
        .into_iter()
        .flatten()
        .collect();
    Ok(SwapRequest {
        id: r.get(0)?,
        rotation: r.get(1)?,
        kind: if kind == "trade" {
            SwapKind::Trade
        } else {
            SwapKind::Cover
        },
        requester: r.get(3)?,
        requester_slot: SwapSlot {
            slot: r.get::<_, i64>(4)? as u64,
            start: instant(r.get(5)?),
            end: instant(r.get(6)?),
        },
        requester_person: r.get(7)?,
        counterpart: r.get(8)?,
        counterpart_slot: match (cslot, cstart, cend) {
            (Some(slot), Some(start), Some(end)) => Some(SwapSlot {
                slot: slot as u64,
                start: instant(start),
                end: instant(end),
            }),
            _ => None,
        },
        state: SwapState::parse(&r.get::<_, String>(12)?),
        created_by: r.get(13)?,
        created_at: instant(r.get(14)?),
        decided_at: r.get::<_, Option<i64>>(15)?.map(instant),
        decided_by: r.get(16)?,
        overrides,
        fingerprint: r.get(19)?,
    })
}

/// Why a store method refused a swap change (becomes [`ErrorKind::Conflict`]).
pub(crate) enum Refusal {
    Sql(rusqlite::Error),
    Conflict(String),
    NotFound(String),
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Refusal {
        Refusal::Sql(e)
    }
}

pub(crate) fn get_swap(c: &Connection, id: &str) -> rusqlite::Result<Option<SwapRequest>> {
    c.query_row(
        &format!("{SWAP_SELECT} WHERE id = ?1"),
        params![id],
        swap_row,
    )
    .optional()
}

/// Swap requests.
impl Store {
    pub(crate) fn refusal<T>(&self, r: std::result::Result<T, Refusal>) -> Result<T> {
        r.map_err(|e| match e {
            Refusal::Sql(e) => self.err(e),
            Refusal::Conflict(m) => Error {
                kind: ErrorKind::Conflict(m),
            },
            Refusal::NotFound(m) => Error {
                kind: ErrorKind::NotFound(m),
            },
        })
    }

    pub(crate) fn with_swaps<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> std::result::Result<T, Refusal>,
    ) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let r = f(&mut conn);
        drop(conn);
        self.refusal(r)
    }

    /// Records a new pending swap request made by `actor`, with its audit entry.
    pub fn create_swap(
        &self,
        new: NewSwap,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SwapRequest> {
        let id = format!("swp_{}", hex(&random::<8>()?));
        let req = SwapRequest {
            id,
            rotation: new.rotation,
            kind: new.kind,
            requester_person: new.requester.clone(),
            requester: new.requester,
            requester_slot: new.requester_slot,
            counterpart: new.counterpart,
            counterpart_slot: new.counterpart_slot,
            state: SwapState::Pending,
            created_by: actor.to_string(),
            created_at: now,
            decided_at: None,
            decided_by: None,
            overrides: Vec::new(),
            fingerprint: new.fingerprint,
        };
        self.with(|c| {
            let tx = c.transaction()?;
            let (a, b) = (req.requester_slot, req.counterpart_slot);
            tx.execute(
                "INSERT INTO swap_requests (id, rotation, kind, requester, requester_slot,
                    requester_start, requester_end, requester_person, counterpart, counterpart_slot,
                    counterpart_start, counterpart_end, state, created_by, created_at, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending', ?13, ?14, ?15)",
                params![
                    req.id,
                    req.rotation,
                    req.kind.as_str(),
                    req.requester,
                    a.slot as i64,
                    secs(a.start),
                    secs(a.end),
                    req.requester_person,
                    req.counterpart,
                    b.map(|b| b.slot as i64),
                    b.map(|b| secs(b.start)),
                    b.map(|b| secs(b.end)),
                    req.created_by,
                    secs(now),
                    req.fingerprint
                ],
            )?;
            audit(
                &tx,
                now,
                actor,
                "swap.create",
                &req.id,
                &serde_json::to_value(&req).unwrap_or_default(),
            )?;
            tx.commit()
        })?;
        Ok(req)
    }

    /// One swap request.
    pub fn swap(&self, id: &str) -> Result<Option<SwapRequest>> {
        self.with(|c| get_swap(c, id))
    }

    /// Swap requests, newest first: all of them, or those `person` made or was asked in.
    pub fn swaps(&self, person: Option<&str>) -> Result<Vec<SwapRequest>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{SWAP_SELECT} WHERE ?1 IS NULL OR requester = ?1 OR counterpart = ?1
                 ORDER BY created_at DESC, rowid DESC"
            ))?;
            let rows = stmt.query_map(params![person], swap_row)?;
            rows.collect()
        })
    }

    /// Accepts a pending swap request: in one `BEGIN IMMEDIATE` transaction, checks that it is
    /// still pending and that no override overlaps its shifts (an accepted swap's overrides count),
    /// writes `overrides` (one per shift, made by `actor`), marks it accepted and audits all of it.
    ///
    /// Errors with [`ErrorKind::Conflict`] when it is no longer pending or a shift is covered, and
    /// [`ErrorKind::NotFound`] when there is no such request. Of several racing accepts of one
    /// request, or of requests naming the same shift, exactly one succeeds.
    pub fn accept_swap(
        &self,
        id: &str,
        overrides: Vec<NewOverride>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SwapRequest> {
        let stored = overrides
            .into_iter()
            .map(|new| StoredOverride::new(new, actor, now))
            .collect::<Result<Vec<_>>>()?;
        self.with_swaps(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let req =
                get_swap(&tx, id)?.ok_or_else(|| Refusal::NotFound(format!("no swap request {id:?}")))?;
            if req.state != SwapState::Pending {
                return Err(Refusal::Conflict(format!(
                    "swap request {id} is already {}",
                    req.state.as_str()
                )));
            }
            for s in req.slots() {
                let covering: Option<String> = tx
                    .query_row(
                        "SELECT id FROM overrides WHERE rotation = ?1 AND start_s < ?3 AND end_s > ?2
                         LIMIT 1",
                        params![req.rotation, secs(s.start), secs(s.end)],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(o) = covering {
                    return Err(Refusal::Conflict(format!(
                        "shift {} of {} ({} to {}) is already covered by override {o}",
                        s.slot,
                        req.rotation,
                        s.start.to_rfc3339(),
                        s.end.to_rfc3339()
                    )));
                }
            }
            for o in &stored {
                crate::overrides::insert_override(&tx, o, actor, now)?;
            }
            let n = tx.execute(
                "UPDATE swap_requests SET state = 'accepted', decided_at = ?2, decided_by = ?3,
                    override_a = ?4, override_b = ?5
                 WHERE id = ?1 AND state = 'pending'",
                params![
                    id,
                    secs(now),
                    actor,
                    stored.first().map(|o| o.id.as_str()),
                    stored.get(1).map(|o| o.id.as_str())
                ],
            )?;
            if n != 1 {
                return Err(Refusal::Conflict(format!("swap request {id} is no longer pending")));
            }
            audit(
                &tx,
                now,
                actor,
                "swap.accept",
                id,
                &serde_json::json!({ "overrides": stored.iter().map(|o| o.id.as_str()).collect::<Vec<_>>() }),
            )?;
            let out = get_swap(&tx, id)?.ok_or_else(|| Refusal::NotFound(id.to_string()))?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// Moves a pending swap request to `state` (declined, cancelled or expired), audited as
    /// `swap.decline` / `swap.cancel` / `swap.expire`. Errors with [`ErrorKind::Conflict`] when it
    /// is no longer pending.
    pub fn decide_swap(
        &self,
        id: &str,
        state: SwapState,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SwapRequest> {
        let action = match state {
            SwapState::Declined => "swap.decline",
            SwapState::Cancelled => "swap.cancel",
            SwapState::Expired => "swap.expire",
            SwapState::Pending | SwapState::Accepted => {
                return Err(Error {
                    kind: ErrorKind::Conflict(format!(
                        "decide_swap cannot move a request to {}",
                        state.as_str()
                    )),
                });
            }
        };
        self.with_swaps(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE swap_requests SET state = ?2, decided_at = ?3, decided_by = ?4
                 WHERE id = ?1 AND state = 'pending'",
                params![id, state.as_str(), secs(now), actor],
            )?;
            let req = get_swap(&tx, id)?
                .ok_or_else(|| Refusal::NotFound(format!("no swap request {id:?}")))?;
            if n != 1 {
                return Err(Refusal::Conflict(format!(
                    "swap request {id} is already {}",
                    req.state.as_str()
                )));
            }
            audit(&tx, now, actor, action, id, &serde_json::json!({}))?;
            tx.commit()?;
            Ok(req)
        })
    }
}
