//! Sign-in sessions of the web pages, kept server-side so that they can end.
//!
//! Signing in with an API token makes a session: a random 256-bit secret that the browser keeps
//! in its cookie and the store keeps only as a SHA-256 hash, with the person, the API token it was
//! made from and when it expires. A session is good while it has not expired, has not been ended,
//! and its API token has not been revoked, and all three are checked on every request, so:
//!
//! - revoking a token ends every session made with it at once (a stolen laptop's sign-in stops
//!   working when its token is revoked, not 12 hours later);
//! - signing out ends that session on the server, so a copied cookie stops working too;
//! - an admin can end all of a person's sessions ([`Store::end_sessions_of`]).
//!
//! Rows of ended or expired sessions are deleted when a new session is made, after a day's grace
//! (they are kept that long so the audit log's `session.*` entries can be read against them).

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::{Result, Sql, Store, audit, bump, hex, p, random, secs};

/// The prefix of a session secret, so one is never mistaken for an API token in a log or a form.
const PREFIX: &str = "rs_";

/// A new session: the secret goes into the cookie and is never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// The cookie value.
    pub secret: String,
    /// Who signed in.
    pub person: String,
    /// When it ends unless ended sooner.
    pub expires_at: DateTime<Utc>,
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl Store {
    /// Signs in with an API token: if `token` is valid and unrevoked, makes a session of its
    /// person lasting `length`, audited as `session.start`. `None` for a bad token.
    pub fn start_session(
        &self,
        token: &str,
        length: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<NewSession>> {
        let Some((token_id, person)) = self.token_owner(token)? else {
            return Ok(None);
        };
        let secret = format!("{PREFIX}{}", hex(&random::<32>()?));
        let expires_at = now + length;
        self.write(|c| {
            c.exec(
                "DELETE FROM sessions WHERE expires_at < $1 OR ended_at < $1",
                p![secs(now - Duration::days(1))],
            )?;
            c.exec(
                "INSERT INTO sessions (hash, person, token_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                p![
                    &hash(&secret),
                    &person,
                    &token_id,
                    secs(now),
                    secs(expires_at)
                ],
            )?;
            audit(
                c,
                now,
                &person,
                "session.start",
                &person,
                &serde_json::json!({ "token": token_id, "expires_at": expires_at.to_rfc3339() }),
            )
        })?;
        Ok(Some(NewSession {
            secret,
            person,
            expires_at,
        }))
    }

    /// The person signed in by the session `secret`, if it is still good at `now`: not expired,
    /// not ended, and made with a token that is not revoked.
    pub fn session(&self, secret: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        if !secret.starts_with(PREFIX) || secret.len() != PREFIX.len() + 64 {
            return Ok(None);
        }
        self.read(|c| {
            c.row(
                "SELECT s.person FROM sessions s JOIN api_tokens t ON t.id = s.token_id
                 WHERE s.hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2
                   AND t.revoked_at IS NULL",
                p![&hash(secret), secs(now)],
            )?
            .map(|r| r.text(0))
            .transpose()
        })
    }

    /// Ends the session `secret` (signing out); `false` if it was not a live session.
    pub fn end_session(&self, secret: &str, now: DateTime<Utc>) -> Result<bool> {
        self.write(|c| {
            let person = c
                .row(
                    "SELECT person FROM sessions WHERE hash = $1 AND ended_at IS NULL",
                    p![&hash(secret)],
                )?
                .map(|r| r.text(0))
                .transpose()?;
            let Some(person) = person else {
                return Ok(false);
            };
            c.exec(
                "UPDATE sessions SET ended_at = $2 WHERE hash = $1",
                p![&hash(secret), secs(now)],
            )?;
            audit(
                c,
                now,
                &person,
                "session.end",
                &person,
                &serde_json::json!({}),
            )?;
            bump(c)?;
            Ok(true)
        })
    }

    /// Ends every live session of `person` (an admin's "sign out everywhere"), audited as
    /// `session.end_all` by `actor`. Returns how many were live.
    pub fn end_sessions_of(&self, person: &str, actor: &str, now: DateTime<Utc>) -> Result<usize> {
        self.write(|c: &mut dyn Sql| {
            let n = c.exec(
                "UPDATE sessions SET ended_at = $2
                 WHERE person = $1 AND ended_at IS NULL AND expires_at > $2",
                p![person, secs(now)],
            )?;
            audit(
                c,
                now,
                actor,
                "session.end_all",
                person,
                &serde_json::json!({ "ended": n }),
            )?;
            bump(c)?;
            Ok(n as usize)
        })
    }

    /// How many sessions of `person` are live at `now`.
    pub fn live_sessions(&self, person: &str, now: DateTime<Utc>) -> Result<usize> {
        self.read(|c| {
            Ok(c.row(
                "SELECT count(*) FROM sessions s JOIN api_tokens t ON t.id = s.token_id
                 WHERE s.person = $1 AND s.ended_at IS NULL AND s.expires_at > $2
                   AND t.revoked_at IS NULL",
                p![person, secs(now)],
            )?
            .map(|r| r.i64(0))
            .transpose()?
            .unwrap_or(0) as usize)
        })
    }
}
