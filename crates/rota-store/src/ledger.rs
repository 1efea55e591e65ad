//! The delivery ledger: every outbound message, claimed once, retried with backoff, finished.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::*;

/// The state of one ledger entry (one message rota-notify means to send exactly once).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LedgerState {
    /// Claimed by a sender that is (or was, if it died) in the middle of the SMTP transaction.
    Sending,
    /// The SMTP server accepted it (its `250` was received). Never sent again.
    Sent,
    /// The last attempt failed; try again at `next_attempt`.
    Retry,
    /// Given up (the shift started, or the error was permanent). Never sent.
    Failed,
    /// Not sent because another message covers it (e.g. a shorter-lead reminder of the same shift
    /// was due at the same time). Never sent.
    Superseded,
}

impl LedgerState {
    fn as_str(self) -> &'static str {
        match self {
            LedgerState::Sending => "sending",
            LedgerState::Sent => "sent",
            LedgerState::Retry => "retry",
            LedgerState::Failed => "failed",
            LedgerState::Superseded => "superseded",
        }
    }

    fn parse(s: &str) -> LedgerState {
        match s {
            "sending" => LedgerState::Sending,
            "sent" => LedgerState::Sent,
            "retry" => LedgerState::Retry,
            "superseded" => LedgerState::Superseded,
            _ => LedgerState::Failed,
        }
    }
}

/// What a ledger entry is about: the key and who it goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerItem<'a> {
    /// The stable key of what is sent (e.g. `reminder/support-hero/12/alice/P7D`).
    pub key: &'a str,
    /// The kind of message (`reminder`, `change`, `swap-requested`, ...).
    pub kind: &'a str,
    /// The person it is for.
    pub person: &'a str,
    /// The address it goes to.
    pub recipient: &'a str,
    /// After this instant it is no longer worth sending (a reminder: the shift's start).
    pub expires: Option<DateTime<Utc>>,
}

/// One row of the reminder ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// The stable key.
    pub key: String,
    /// The kind of message.
    pub kind: String,
    /// The person it is for.
    pub person: String,
    /// The address it goes to.
    pub recipient: String,
    /// Where it stands.
    pub state: LedgerState,
    /// Who holds the claim while `Sending` (`host/pid`).
    pub owner: Option<String>,
    /// SMTP transactions started so far.
    pub attempts: u32,
    /// When to try again (`Retry` only).
    pub next_attempt: Option<DateTime<Utc>>,
    /// After this instant it is no longer worth sending.
    pub expires: Option<DateTime<Utc>>,
    /// The last SMTP error, if any.
    pub last_error: Option<String>,
    /// When the entry was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// How many ledger entries of one kind are in one state (see [`Store::ledger_counts`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerCount {
    /// The kind of message.
    pub kind: String,
    /// The state.
    pub state: LedgerState,
    /// Entries of that kind in that state.
    pub entries: u64,
    /// Attempts after the first, summed over them: the retries.
    pub retries: u64,
}

/// The answer to [`Store::ledger_claim`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller now owns the entry (state `Sending`, on disk) and must send, then call
    /// [`Store::ledger_sent`] or [`Store::ledger_retry`]. `recovered` is true when the entry was
    /// left in `Sending` by a sender whose claim had lapsed (it probably died mid-transaction, so
    /// the message may already have been delivered once).
    Claimed {
        /// This is attempt number `attempt` (1 for the first).
        attempt: u32,
        /// Taken over from a lapsed `Sending` claim.
        recovered: bool,
    },
    /// Another sender holds a live claim on it.
    Busy {
        /// Its owner.
        owner: String,
        /// When it claimed it.
        since: DateTime<Utc>,
    },
    /// It failed before and its next attempt is later.
    NotYet(DateTime<Utc>),
    /// It is finished (`Sent`, `Failed` or `Superseded`): never send it.
    Done(LedgerState),
}

impl Store {
    /// The ledger entries with these keys (those that exist), in no particular order.
    pub fn ledger_entries(&self, keys: &[&str]) -> Result<Vec<LedgerEntry>> {
        self.read(|c| {
            let mut out = Vec::new();
            for k in keys {
                if let Some(r) = c.row(&format!("{LEDGER_SELECT} WHERE key = $1"), p![*k])? {
                    out.push(ledger_row(&r)?);
                }
            }
            Ok(out)
        })
    }

    /// The ledger in figures: entries by kind and state, and their retries, ordered by kind and
    /// state. Read by `/metrics`: one grouped query, whatever the ledger's size.
    pub fn ledger_counts(&self) -> Result<Vec<LedgerCount>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT kind, state, COUNT(*),
                        CAST(COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0) AS BIGINT)
                 FROM notify_ledger GROUP BY kind, state",
                &[],
            )?;
            let mut out = rows
                .iter()
                .map(|r| {
                    Ok(LedgerCount {
                        kind: r.text(0)?,
                        state: LedgerState::parse(&r.text(1)?),
                        entries: r.i64(2)?.max(0) as u64,
                        retries: r.i64(3)?.max(0) as u64,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.sort_by(|a, b| (&a.kind, a.state.as_str()).cmp(&(&b.kind, b.state.as_str())));
            Ok(out)
        })
    }

    /// The newest `limit` ledger entries, by last change.
    pub fn ledger_recent(&self, limit: u32) -> Result<Vec<LedgerEntry>> {
        self.read(|c| {
            c.rows(
                &format!("{LEDGER_SELECT} ORDER BY updated_at DESC, rowid DESC LIMIT $1"),
                p![limit],
            )?
            .iter()
            .map(ledger_row)
            .collect()
        })
    }

    /// Claims `item` for sending by `owner`, durably (the claim is committed before this
    /// returns), unless it is finished, not yet due for a retry, or held by another sender whose
    /// claim is younger than `lease`. See [`Claim`].
    ///
    /// Two processes sharing the store (replicas, or the service and a cron `rota remind`) cannot
    /// both claim the same entry: the check and the claim are one serialised write transaction.
    pub fn ledger_claim(
        &self,
        item: &LedgerItem<'_>,
        owner: &str,
        lease: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Claim> {
        self.write(|c| {
            let row = c
                .row(&format!("{LEDGER_SELECT} WHERE key = $1"), p![item.key])?
                .map(|r| ledger_row(&r))
                .transpose()?;
            Ok(match row {
                None => {
                    c.exec(
                        "INSERT INTO notify_ledger (key, kind, person, recipient, state, owner,
                            attempts, expires_s, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, 'sending', $5, 1, $6, $7, $7)",
                        p![
                            item.key,
                            item.kind,
                            item.person,
                            item.recipient,
                            owner,
                            item.expires.map(secs),
                            secs(now)
                        ],
                    )?;
                    Claim::Claimed {
                        attempt: 1,
                        recovered: false,
                    }
                }
                Some(e) => match e.state {
                    LedgerState::Sent | LedgerState::Failed | LedgerState::Superseded => {
                        Claim::Done(e.state)
                    }
                    LedgerState::Retry if e.next_attempt.is_some_and(|t| t > now) => {
                        Claim::NotYet(e.next_attempt.unwrap_or(now))
                    }
                    LedgerState::Sending if e.updated_at + lease > now => Claim::Busy {
                        owner: e.owner.unwrap_or_default(),
                        since: e.updated_at,
                    },
                    LedgerState::Retry | LedgerState::Sending => {
                        c.exec(
                            "UPDATE notify_ledger SET state = 'sending', owner = $2,
                                attempts = attempts + 1, next_attempt_s = NULL, recipient = $3,
                                expires_s = $4, updated_at = $5
                             WHERE key = $1",
                            p![
                                item.key,
                                owner,
                                item.recipient,
                                item.expires.map(secs),
                                secs(now)
                            ],
                        )?;
                        Claim::Claimed {
                            attempt: e.attempts + 1,
                            recovered: e.state == LedgerState::Sending,
                        }
                    }
                },
            })
        })
    }

    /// Takes over an entry left in `Sending` by `dead_owner` (a sender known to be gone: a
    /// process on this host that no longer exists, or a replica whose lease on the background
    /// work lapsed), as [`Store::ledger_claim`] would after the lease. Returns the claim, or
    /// `None` if the entry is no longer held by `dead_owner`.
    pub fn ledger_take_over(
        &self,
        key: &str,
        dead_owner: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>> {
        self.write(|c| {
            let row = c.row(
                "UPDATE notify_ledger SET owner = $3, attempts = attempts + 1, updated_at = $4
                 WHERE key = $1 AND state = 'sending' AND owner = $2
                 RETURNING attempts",
                p![key, dead_owner, owner, secs(now)],
            )?;
            row.map(|r| {
                Ok(Claim::Claimed {
                    attempt: u32::try_from(r.i64(0)?).unwrap_or(u32::MAX),
                    recovered: true,
                })
            })
            .transpose()
        })
    }

    /// The keys of entries left in `Sending` by `owner`.
    pub fn ledger_held_by(&self, owner: &str) -> Result<Vec<String>> {
        self.read(|c| {
            c.rows(
                "SELECT key FROM notify_ledger WHERE state = 'sending' AND owner = $1 ORDER BY key",
                p![owner],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect()
        })
    }

    /// Marks an entry claimed by `owner` as sent (the SMTP server said `250`). With `snapshot`,
    /// also records `(person, shifts)` as that person's change-notice snapshot, in the same
    /// transaction. Returns false if `owner` no longer held the claim (it is marked sent anyway:
    /// the message did go out).
    pub fn ledger_sent(
        &self,
        key: &str,
        owner: &str,
        now: DateTime<Utc>,
        snapshot: Option<(&str, &str)>,
    ) -> Result<bool> {
        self.write(|c| {
            let held = c.exec(
                "UPDATE notify_ledger SET state = 'sent', next_attempt_s = NULL, updated_at = $3
                 WHERE key = $1 AND owner = $2",
                p![key, owner, secs(now)],
            )? == 1;
            if !held {
                c.exec(
                    "UPDATE notify_ledger SET state = 'sent', updated_at = $2 WHERE key = $1",
                    p![key, secs(now)],
                )?;
            }
            if let Some((person, shifts)) = snapshot {
                put_snapshot(c, person, shifts, now)?;
            }
            Ok(held)
        })
    }

    /// Records a failed attempt of an entry claimed by `owner`: `Retry` at `next`, or `Failed` (for
    /// good) when `next` is `None`.
    pub fn ledger_retry(
        &self,
        key: &str,
        owner: &str,
        next: Option<DateTime<Utc>>,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let state = if next.is_some() { "retry" } else { "failed" };
        self.write(|c| {
            c.exec(
                "UPDATE notify_ledger SET state = $3, owner = NULL, next_attempt_s = $4,
                    last_error = $5, updated_at = $6
                 WHERE key = $1 AND owner = $2 AND state = 'sending'",
                p![key, owner, state, next.map(secs), error, secs(now)],
            )?;
            Ok(())
        })
    }

    /// Finishes an entry that is not `Sent` without sending it (`Failed` or `Superseded`),
    /// creating it if needed. An entry already `Sent` stays `Sent`; one held by a live sender is
    /// left alone. Returns whether it was changed.
    pub fn ledger_finish(
        &self,
        item: &LedgerItem<'_>,
        state: LedgerState,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        debug_assert!(matches!(
            state,
            LedgerState::Failed | LedgerState::Superseded
        ));
        self.write(|c| {
            let n = c.exec(
                "INSERT INTO notify_ledger (key, kind, person, recipient, state, attempts,
                    expires_s, last_error, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $8)
                 ON CONFLICT (key) DO UPDATE SET state = excluded.state,
                    last_error = excluded.last_error, owner = NULL, updated_at = excluded.updated_at
                 WHERE notify_ledger.state = 'retry'",
                p![
                    item.key,
                    item.kind,
                    item.person,
                    item.recipient,
                    state.as_str(),
                    item.expires.map(secs),
                    reason,
                    secs(now)
                ],
            )?;
            Ok(n == 1)
        })
    }
}

pub(crate) const LEDGER_SELECT: &str =
    "SELECT key, kind, person, recipient, state, owner, attempts,
    next_attempt_s, expires_s, last_error, created_at, updated_at FROM notify_ledger";

pub(crate) fn ledger_row(r: &db::Row) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        key: r.text(0)?,
        kind: r.text(1)?,
        person: r.text(2)?,
        recipient: r.text(3)?,
        state: LedgerState::parse(&r.text(4)?),
        owner: r.opt_text(5)?,
        attempts: u32::try_from(r.i64(6)?).unwrap_or(u32::MAX),
        next_attempt: r.opt_i64(7)?.map(instant),
        expires: r.opt_i64(8)?.map(instant),
        last_error: r.opt_text(9)?,
        created_at: instant(r.i64(10)?),
        updated_at: instant(r.i64(11)?),
    })
}
