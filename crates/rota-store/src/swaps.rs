//! Swap requests: proposed, then accepted (its overrides in one serialised write transaction
//! that re-checks the request and its shifts), declined, cancelled or expired.
//!
//! An accepted request keeps the ids of its overrides: one a side (`override_a`, `override_b`),
//! or, for a layered rotation's shift with another layer's time inside it, one per stretch of
//! each side, the ids after the first two in `override_more`, space-separated.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::*;

/// Whether a swap request is a two-way trade or a one-way cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Accepted, then undone: its overrides are gone.
    Undone,
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
            SwapState::Undone => "undone",
        }
    }

    fn parse(s: &str) -> SwapState {
        match s {
            "pending" => SwapState::Pending,
            "accepted" => SwapState::Accepted,
            "declined" => SwapState::Declined,
            "cancelled" => SwapState::Cancelled,
            "undone" => SwapState::Undone,
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
    /// Who asked to undo it (an accepted request), and when; the other party accepts the undo.
    pub undo_requested_by: Option<String>,
    /// When the undo was asked for.
    pub undo_requested_at: Option<DateTime<Utc>>,
}

impl SwapRequest {
    /// When the first of its shifts starts: the request expires then. A take-over expires when
    /// the shift it takes over ends.
    pub fn expires_at(&self) -> DateTime<Utc> {
        if self.is_take_over() {
            return self.requester_slot.end;
        }
        match self.counterpart_slot {
            Some(c) => c.start.min(self.requester_slot.start),
            None => self.requester_slot.start,
        }
    }

    /// Whether it asks to take over a shift that had started when it was made ("I'm sick, please
    /// take the rest"): a cover whose part starts no later than the request. Accepting it covers
    /// from the moment of acceptance.
    pub fn is_take_over(&self) -> bool {
        self.kind == SwapKind::Cover && self.requester_slot.start <= self.created_at
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
    override_b, fingerprint, undo_requested_by, undo_requested_at, override_more FROM swap_requests";

/// The ids of a swap's overrides after the first two (`override_a`, `override_b`), as the
/// `override_more` column keeps them: space-separated, `None` when there are none.
fn more_ids(stored: &[StoredOverride]) -> Option<String> {
    let more: Vec<&str> = stored.iter().skip(2).map(|o| o.id.as_str()).collect();
    (!more.is_empty()).then(|| more.join(" "))
}

/// The accepted swap request `override_id` belongs to, if any (its id).
pub(crate) fn accepted_swap_of(c: &mut dyn Sql, override_id: &str) -> Result<Option<String>> {
    let rows = c.rows(
        "SELECT id, override_a, override_b, override_more FROM swap_requests
         WHERE state = 'accepted'
            AND (override_a = $1 OR override_b = $1 OR override_more IS NOT NULL)
         ORDER BY rowid",
        p![override_id],
    )?;
    for r in &rows {
        let (a, b, more) = (r.opt_text(1)?, r.opt_text(2)?, r.opt_text(3)?);
        let listed = a.as_deref() == Some(override_id)
            || b.as_deref() == Some(override_id)
            || more.is_some_and(|m| m.split_whitespace().any(|x| x == override_id));
        if listed {
            return Ok(Some(r.text(0)?));
        }
    }
    Ok(None)
}

pub(crate) fn swap_row(r: &db::Row) -> Result<SwapRequest> {
    let kind = r.text(2)?;
    let cslot = r.opt_i64(9)?;
    let cstart = r.opt_i64(10)?;
    let cend = r.opt_i64(11)?;
    let mut overrides: Vec<String> = [r.opt_text(17)?, r.opt_text(18)?]
        .into_iter()
        .flatten()
        .collect();
    if let Some(more) = r.opt_text(22)? {
        overrides.extend(more.split_whitespace().map(str::to_string));
    }
    Ok(SwapRequest {
        id: r.text(0)?,
        rotation: r.text(1)?,
        kind: if kind == "trade" {
            SwapKind::Trade
        } else {
            SwapKind::Cover
        },
        requester: r.text(3)?,
        requester_slot: SwapSlot {
            slot: r.i64(4)? as u64,
            start: instant(r.i64(5)?),
            end: instant(r.i64(6)?),
        },
        requester_person: r.text(7)?,
        counterpart: r.text(8)?,
        counterpart_slot: match (cslot, cstart, cend) {
            (Some(slot), Some(start), Some(end)) => Some(SwapSlot {
                slot: slot as u64,
                start: instant(start),
                end: instant(end),
            }),
            _ => None,
        },
        state: SwapState::parse(&r.text(12)?),
        created_by: r.text(13)?,
        created_at: instant(r.i64(14)?),
        decided_at: r.opt_i64(15)?.map(instant),
        decided_by: r.opt_text(16)?,
        overrides,
        fingerprint: r.text(19)?,
        undo_requested_by: r.opt_text(20)?,
        undo_requested_at: r.opt_i64(21)?.map(instant),
    })
}

/// Request `id`, which must be accepted (to be undone).
fn accepted(c: &mut dyn Sql, id: &str) -> Result<SwapRequest> {
    let req = get_swap(c, id)?.ok_or_else(|| not_found(format!("no swap request {id:?}")))?;
    if req.state != SwapState::Accepted {
        return Err(conflict(format!(
            "swap request {id} is {}: only an accepted swap can be undone",
            req.state.as_str()
        )));
    }
    Ok(req)
}

pub(crate) fn get_swap(c: &mut dyn Sql, id: &str) -> Result<Option<SwapRequest>> {
    c.row(&format!("{SWAP_SELECT} WHERE id = $1"), p![id])?
        .map(|r| swap_row(&r))
        .transpose()
}

/// Swap requests.
impl Store {
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
            undo_requested_by: None,
            undo_requested_at: None,
        };
        self.write(|c| {
            let (a, b) = (req.requester_slot, req.counterpart_slot);
            c.exec(
                "INSERT INTO swap_requests (id, rotation, kind, requester, requester_slot,
                    requester_start, requester_end, requester_person, counterpart, counterpart_slot,
                    counterpart_start, counterpart_end, state, created_by, created_at, fingerprint)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $14, $15)",
                p![
                    &req.id,
                    &req.rotation,
                    req.kind.as_str(),
                    &req.requester,
                    a.slot as i64,
                    secs(a.start),
                    secs(a.end),
                    &req.requester_person,
                    &req.counterpart,
                    b.map(|b| b.slot as i64),
                    b.map(|b| secs(b.start)),
                    b.map(|b| secs(b.end)),
                    &req.created_by,
                    secs(now),
                    &req.fingerprint
                ],
            )?;
            audit(
                c,
                now,
                actor,
                "swap.create",
                &req.id,
                &serde_json::to_value(&req).unwrap_or_default(),
            )?;
            bump(c)
        })?;
        Ok(req)
    }

    /// One swap request.
    pub fn swap(&self, id: &str) -> Result<Option<SwapRequest>> {
        self.read(|c| get_swap(c, id))
    }

    /// How many swap requests are in each state at `now` (a pending request whose first shift
    /// has started counts as expired), ordered by state. One grouped query, and the pending ones
    /// read to tell expired from pending: for `/metrics`.
    pub fn swap_counts(&self, now: DateTime<Utc>) -> Result<Vec<(SwapState, u64)>> {
        self.read(|c| {
            let mut counts: std::collections::BTreeMap<&'static str, (SwapState, u64)> =
                Default::default();
            for r in c.rows(
                "SELECT state, COUNT(*) FROM swap_requests WHERE state <> 'pending' GROUP BY state",
                &[],
            )? {
                let state = SwapState::parse(&r.text(0)?);
                counts.entry(state.as_str()).or_insert((state, 0)).1 += r.i64(1)?.max(0) as u64;
            }
            for r in c.rows(&format!("{SWAP_SELECT} WHERE state = 'pending'"), &[])? {
                let state = swap_row(&r)?.state_at(now);
                counts.entry(state.as_str()).or_insert((state, 0)).1 += 1;
            }
            Ok(counts.into_values().collect())
        })
    }

    /// Swap requests, newest first: all of them, or those `person` made or was asked in.
    pub fn swaps(&self, person: Option<&str>) -> Result<Vec<SwapRequest>> {
        self.read(|c| {
            let rows = match person {
                Some(person) => c.rows(
                    &format!(
                        "{SWAP_SELECT} WHERE requester = $1 OR counterpart = $1
                         ORDER BY created_at DESC, rowid DESC"
                    ),
                    p![person],
                )?,
                None => c.rows(
                    &format!("{SWAP_SELECT} ORDER BY created_at DESC, rowid DESC"),
                    &[],
                )?,
            };
            rows.iter().map(swap_row).collect()
        })
    }

    /// Accepts a pending swap request: in one serialised write transaction, checks that it is
    /// still pending and that no override overlaps its shifts (an accepted swap's overrides count),
    /// writes `overrides` (one per shift, made by `actor`), marks it accepted and audits all of it.
    ///
    /// Errors with [`ErrorKind::Conflict`] when it is no longer pending or a shift is covered, and
    /// [`ErrorKind::NotFound`] when there is no such request. Of several racing accepts of one
    /// request, or of requests naming the same shift, exactly one succeeds, on one server or on
    /// several replicas.
    pub fn accept_swap(
        &self,
        id: &str,
        overrides: Vec<NewOverride>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SwapRequest> {
        self.accept_swap_over(id, overrides, &[], actor, now)
    }

    /// [`Store::accept_swap`] for shifts that may lie under overrides already (a swap on a swap):
    /// the run-time overrides overlapping its shifts must be exactly those in `under` (the ones
    /// the caller checked the request against; the new ones are newer, so they win). Any other
    /// refuses the accept, as for a plain accept, and so does one of `under` that is gone.
    pub fn accept_swap_over(
        &self,
        id: &str,
        overrides: Vec<NewOverride>,
        under: &[String],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SwapRequest> {
        let stored = overrides
            .into_iter()
            .map(|new| StoredOverride::new(new, actor, now))
            .collect::<Result<Vec<_>>>()?;
        self.write(|c| {
            let req =
                get_swap(c, id)?.ok_or_else(|| not_found(format!("no swap request {id:?}")))?;
            if req.state != SwapState::Pending {
                return Err(conflict(format!(
                    "swap request {id} is already {}",
                    req.state.as_str()
                )));
            }
            // The overrides over its shifts now must be exactly those the caller saw (`under`):
            // one more means someone else covered a shift meanwhile, one fewer that the override
            // a shift was held through went (an undo, a delete), so the holder's consent no
            // longer stands.
            let mut found: Vec<String> = Vec::new();
            for s in req.slots() {
                let covering = c
                    .rows(
                        "SELECT id FROM overrides WHERE rotation = $1 AND start_s < $3 AND end_s > $2
                         ORDER BY rowid",
                        p![&req.rotation, secs(s.start), secs(s.end)],
                    )?
                    .iter()
                    .map(|r| r.text(0))
                    .collect::<Result<Vec<_>>>()?;
                if let Some(o) = covering.iter().find(|o| !under.contains(o)) {
                    return Err(conflict(format!(
                        "shift {} of {} ({} to {}) is already covered by override {o}",
                        s.slot,
                        req.rotation,
                        s.start.to_rfc3339(),
                        s.end.to_rfc3339()
                    )));
                }
                found.extend(covering);
            }
            if let Some(gone) = under.iter().find(|o| !found.contains(o)) {
                return Err(conflict(format!(
                    "override {gone}, which a shift of swap request {id} was held through, is gone \
                     (undone or deleted): the request is stale; make a new one"
                )));
            }
            for o in &stored {
                crate::overrides::insert_override(c, o, actor, now)?;
            }
            let n = c.exec(
                "UPDATE swap_requests SET state = 'accepted', decided_at = $2, decided_by = $3,
                    override_a = $4, override_b = $5, override_more = $6
                 WHERE id = $1 AND state = 'pending'",
                p![
                    id,
                    secs(now),
                    actor,
                    stored.first().map(|o| o.id.as_str()),
                    stored.get(1).map(|o| o.id.as_str()),
                    more_ids(&stored).as_deref()
                ],
            )?;
            if n != 1 {
                return Err(conflict(format!("swap request {id} is no longer pending")));
            }
            audit(
                c,
                now,
                actor,
                "swap.accept",
                id,
                &serde_json::json!({ "overrides": stored.iter().map(|o| o.id.as_str()).collect::<Vec<_>>() }),
            )?;
            bump(c)?;
            get_swap(c, id)?.ok_or_else(|| not_found(id.to_string()))
        })
    }

    /// Asks to undo the accepted request `id`, as `by` (one of its parties): recorded, audited
    /// as `swap.undo_request`; the other party then accepts with [`Store::undo_swap`]. Errors with
    /// [`ErrorKind::Conflict`] when it is not accepted or an undo was already asked for.
    pub fn request_undo(&self, id: &str, by: &str, now: DateTime<Utc>) -> Result<SwapRequest> {
        self.write(|c| {
            let req = accepted(c, id)?;
            if let Some(asker) = &req.undo_requested_by {
                return Err(conflict(format!(
                    "{asker} already asked to undo swap request {id}; the other party accepts it"
                )));
            }
            c.exec(
                "UPDATE swap_requests SET undo_requested_by = $2, undo_requested_at = $3
                 WHERE id = $1 AND state = 'accepted' AND undo_requested_by IS NULL",
                p![id, by, secs(now)],
            )?;
            audit(c, now, by, "swap.undo_request", id, &serde_json::json!({}))?;
            bump(c)?;
            get_swap(c, id)?.ok_or_else(|| not_found(id.to_string()))
        })
    }

    /// Undoes the accepted request `id`: in one serialised write transaction, deletes all of
    /// its overrides, marks it `undone` and audits it as `swap.undo` by `actor` (the other party
    /// accepting an undo, or an admin). Refused with [`ErrorKind::Conflict`] when it is not
    /// accepted, or when a later accepted swap lies on its overrides (a swap on this swap: undo
    /// that one first, or its shifts would change under it).
    pub fn undo_swap(&self, id: &str, actor: &str, now: DateTime<Utc>) -> Result<SwapRequest> {
        self.write(|c| {
            let req = accepted(c, id)?;
            // Its overrides (insertion order, range), and any accepted swap whose overrides were
            // written after them over the same time: a swap on this swap.
            let mut ours = Vec::new();
            for o in &req.overrides {
                if let Some(r) = c.row(
                    "SELECT rowid, start_s, end_s FROM overrides WHERE id = $1",
                    p![o],
                )? {
                    ours.push((r.i64(0)?, r.i64(1)?, r.i64(2)?));
                }
            }
            let last = ours.iter().map(|o| o.0).max().unwrap_or(i64::MAX);
            let others = c.rows(
                &format!("{SWAP_SELECT} WHERE rotation = $1 AND state = 'accepted' AND id <> $2"),
                p![&req.rotation, id],
            )?;
            for r in others.iter().map(swap_row) {
                let r = r?;
                for o in &r.overrides {
                    let Some(row) = c.row(
                        "SELECT rowid, start_s, end_s FROM overrides WHERE id = $1",
                        p![o],
                    )?
                    else {
                        continue;
                    };
                    let (rowid, start, end) = (row.i64(0)?, row.i64(1)?, row.i64(2)?);
                    let on_top =
                        rowid > last && ours.iter().any(|(_, a, b)| start < *b && end > *a);
                    if on_top {
                        return Err(conflict(format!(
                            "swap request {} was accepted later over the shifts of {id}: undo it first",
                            r.id
                        )));
                    }
                }
            }
            for o in &req.overrides {
                c.exec("DELETE FROM overrides WHERE id = $1", p![o])?;
            }
            c.exec(
                "UPDATE swap_requests SET state = 'undone' WHERE id = $1 AND state = 'accepted'",
                p![id],
            )?;
            audit(
                c,
                now,
                actor,
                "swap.undo",
                id,
                &serde_json::json!({ "overrides": req.overrides }),
            )?;
            bump(c)?;
            get_swap(c, id)?.ok_or_else(|| not_found(id.to_string()))
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
            SwapState::Pending | SwapState::Accepted | SwapState::Undone => {
                return Err(conflict(format!(
                    "decide_swap cannot move a request to {}",
                    state.as_str()
                )));
            }
        };
        self.write(|c| {
            let n = c.exec(
                "UPDATE swap_requests SET state = $2, decided_at = $3, decided_by = $4
                 WHERE id = $1 AND state = 'pending'",
                p![id, state.as_str(), secs(now), actor],
            )?;
            let req =
                get_swap(c, id)?.ok_or_else(|| not_found(format!("no swap request {id:?}")))?;
            if n != 1 {
                return Err(conflict(format!(
                    "swap request {id} is already {}",
                    req.state.as_str()
                )));
            }
            audit(c, now, actor, action, id, &serde_json::json!({}))?;
            bump(c)?;
            Ok(req)
        })
    }
}
