//! The outbox: the body of every webhook delivery, written when its event happens and kept until
//! the delivery ledger says it is done. Delivery itself goes through the ledger as emails do
//! (claimed once, retried with backoff, finished): the ledger's key is the outbox key.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::Row;
use crate::*;

/// One message waiting in, or delivered from, the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxItem {
    /// The key, also the delivery ledger's: `webhook/{endpoint}/{event id}`.
    pub key: String,
    /// The webhook's name.
    pub endpoint: String,
    /// The event (`handoff`, `swap.accepted`, ...).
    pub event: String,
    /// What is sent, as it is sent (signed byte for byte).
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// Its ledger entry, once a delivery was tried.
    pub delivery: Option<LedgerEntry>,
}

const OUTBOX_SELECT: &str = "SELECT key, endpoint, event, body, created_at FROM outbox";

fn outbox_row(r: &Row) -> Result<OutboxItem> {
    Ok(OutboxItem {
        key: r.text(0)?,
        endpoint: r.text(1)?,
        event: r.text(2)?,
        body: r.text(3)?,
        created_at: instant(r.i64(4)?),
        delivery: None,
    })
}

impl Store {
    /// Writes a message to the outbox unless one with its key is there already: an event is
    /// written once however many times (or by however many replicas) it is seen. True when it was
    /// new.
    pub fn outbox_put(
        &self,
        key: &str,
        endpoint: &str,
        event: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|c| {
            if c.row("SELECT 1 FROM outbox WHERE key = $1", p![key])?
                .is_some()
            {
                return Ok(false);
            }
            c.exec(
                "INSERT INTO outbox (key, endpoint, event, body, created_at) VALUES ($1, $2, $3, $4, $5)",
                p![key, endpoint, event, body, secs(now)],
            )?;
            Ok(true)
        })
    }

    /// The messages whose turn it is at `now`, oldest first, at most `limit`: never tried, due
    /// for a retry, or claimed by a sender whose claim is older than `lease` (it died). Messages
    /// waiting for a later retry are not returned, so they never hold up the others.
    pub fn outbox_due(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        self.read(|c| {
            c.rows(
                "SELECT o.key, o.endpoint, o.event, o.body, o.created_at FROM outbox o
                 LEFT JOIN notify_ledger l ON l.key = o.key
                 WHERE l.key IS NULL
                    OR (l.state = 'retry' AND (l.next_attempt_s IS NULL OR l.next_attempt_s <= $1))
                    OR (l.state = 'sending' AND l.updated_at <= $2)
                 ORDER BY o.created_at, o.key LIMIT $3",
                p![secs(now), secs(now - lease), limit],
            )?
            .iter()
            .map(outbox_row)
            .collect()
        })
    }

    /// The messages a sender claimed and has not finished (`sending`), with that sender's owner
    /// id, oldest first, at most `limit`. The caller takes over those whose sender it knows to be
    /// dead ([`Store::ledger_take_over`]), rather than waiting for the claim's lease to lapse.
    pub fn outbox_in_flight(&self, limit: u32) -> Result<Vec<(OutboxItem, String)>> {
        self.read(|c| {
            c.rows(
                "SELECT o.key, o.endpoint, o.event, o.body, o.created_at, l.owner FROM outbox o
                 JOIN notify_ledger l ON l.key = o.key
                 WHERE l.state = 'sending'
                 ORDER BY o.created_at, o.key LIMIT $1",
                p![limit],
            )?
            .iter()
            .map(|r| Ok((outbox_row(r)?, r.opt_text(5)?.unwrap_or_default())))
            .collect()
        })
    }

    /// How many messages of each endpoint are not finished (never tried, being sent, or waiting
    /// for a retry), by endpoint: one grouped query.
    pub fn outbox_waiting(&self) -> Result<Vec<(String, u64)>> {
        self.read(|c| {
            c.rows(
                "SELECT o.endpoint, COUNT(*) FROM outbox o
                 LEFT JOIN notify_ledger l ON l.key = o.key
                 WHERE l.key IS NULL OR l.state IN ('sending', 'retry')
                 GROUP BY o.endpoint ORDER BY o.endpoint",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, r.i64(1)?.max(0) as u64)))
            .collect()
        })
    }

    /// Records that `name` (a rotation's handoffs, for one consumer) is now at `value` (who is on
    /// call and their piece of shift). Returns the new sequence number when `value` differs from
    /// what was recorded, `None` when it is the same. One serialised write: of two replicas, one
    /// sees the change. The number names the announcement, so a person coming back after an
    /// override is deleted is announced again, while a restart announces nothing twice.
    pub fn mark_handoff(&self, name: &str, value: &str) -> Result<Option<u64>> {
        let key = format!("handoff/{name}");
        self.write(|c| {
            let current = c
                .row("SELECT value FROM settings WHERE key = $1", p![&key])?
                .map(|r| r.bytes(0))
                .transpose()?
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            let (n, old) = match current.as_deref().and_then(|v| v.split_once('|')) {
                Some((n, old)) => (n.parse::<u64>().unwrap_or(0), Some(old.to_string())),
                None => (0, None),
            };
            if old.as_deref() == Some(value) {
                return Ok(None);
            }
            let next = n + 1;
            let stored = format!("{next}|{value}").into_bytes();
            c.exec(
                "INSERT INTO settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                p![&key, &stored],
            )?;
            Ok(Some(next))
        })
    }

    /// Deletes the bodies of messages written before `before` whose delivery is finished (sent,
    /// failed or superseded), so the outbox does not grow for ever; their ledger entries stay (the
    /// delivery record and the metrics' counts). Returns how many were deleted.
    pub fn outbox_prune(&self, before: DateTime<Utc>) -> Result<u64> {
        self.write(|c| {
            c.exec(
                "DELETE FROM outbox WHERE created_at < $1 AND key IN (
                    SELECT key FROM notify_ledger
                    WHERE state IN ('sent', 'failed', 'superseded'))",
                p![secs(before)],
            )
        })
    }

    /// The newest `limit` messages with their deliveries, newest first: what admins see.
    pub fn outbox_recent(&self, limit: u32) -> Result<Vec<OutboxItem>> {
        let mut items: Vec<OutboxItem> = self.read(|c| {
            c.rows(
                &format!("{OUTBOX_SELECT} ORDER BY created_at DESC, key DESC LIMIT $1"),
                p![limit],
            )?
            .iter()
            .map(outbox_row)
            .collect::<Result<Vec<_>>>()
        })?;
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        let mut entries = self.ledger_entries(&keys)?;
        for item in &mut items {
            if let Some(i) = entries.iter().position(|e| e.key == item.key) {
                item.delivery = Some(entries.swap_remove(i));
            }
        }
        Ok(items)
    }
}
