//! Leases: which process does the background work (reminders, change notices, and whatever else
//! must happen once across replicas).
//!
//! A lease is a named row with a holder and an expiry. A holder renews it well before it expires;
//! another process takes it only once it has expired, and learns whom it took it from, so it can
//! at once take over the messages that holder left half-sent (see
//! [`Store::ledger_take_over`]). Taking and renewing are serialised write transactions, so two
//! processes can never both hold a lease. A holder shutting down releases it, so a successor
//! does not wait for the expiry.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::*;

/// A lease as it stands after [`Store::take_lease`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lease {
    /// What it is for (e.g. `notify`).
    pub name: String,
    /// Who holds it.
    pub holder: String,
    /// Since when the holder has held it without a break.
    pub since: DateTime<Utc>,
    /// When it lapses unless renewed.
    pub expires: DateTime<Utc>,
    /// Set when this call took the lease from another holder whose lease had expired: that
    /// holder, presumably dead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_from: Option<String>,
}

impl Store {
    /// Takes or renews the lease `name` for `holder` until `now + ttl`, if it is free, expired,
    /// or already `holder`'s. Returns the lease as it stands: held by `holder` if this worked,
    /// by someone else if not.
    pub fn take_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<Lease> {
        self.write(|c| {
            let current = c
                .row(
                    "SELECT holder, since_s, expires_s FROM leases WHERE name = $1",
                    p![name],
                )?
                .map(|r| Ok::<_, Error>((r.text(0)?, instant(r.i64(1)?), instant(r.i64(2)?))))
                .transpose()?;
            let expires = now + ttl;
            let (since, taken_from) = match current {
                Some((h, since, _)) if h == holder => (since, None),
                Some((h, since, exp)) if exp > now => {
                    return Ok(Lease {
                        name: name.to_string(),
                        holder: h,
                        since,
                        expires: exp,
                        taken_from: None,
                    });
                }
                Some((h, _, _)) => (now, Some(h)),
                None => (now, None),
            };
            c.exec(
                "INSERT INTO leases (name, holder, since_s, expires_s) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                    since_s = excluded.since_s, expires_s = excluded.expires_s",
                p![name, holder, secs(since), secs(expires)],
            )?;
            Ok(Lease {
                name: name.to_string(),
                holder: holder.to_string(),
                since,
                expires,
                taken_from,
            })
        })
    }

    /// Gives up the lease `name` if `holder` holds it (a clean shutdown), so another process can
    /// take it at once. Returns whether it was held.
    pub fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        self.write(|c| {
            Ok(c.exec(
                "DELETE FROM leases WHERE name = $1 AND holder = $2",
                p![name, holder],
            )? == 1)
        })
    }

    /// Every lease, expired or not, by name.
    pub fn leases(&self) -> Result<Vec<Lease>> {
        self.read(|c| {
            c.rows(
                "SELECT name, holder, since_s, expires_s FROM leases ORDER BY name",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(Lease {
                    name: r.text(0)?,
                    holder: r.text(1)?,
                    since: instant(r.i64(2)?),
                    expires: instant(r.i64(3)?),
                    taken_from: None,
                })
            })
            .collect()
        })
    }
}
