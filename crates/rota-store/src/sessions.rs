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
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::{Result, Store, audit, hex, random, secs};

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
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM sessions WHERE expires_at < ?1 OR ended_at < ?1",
                params![secs(now - Duration::days(1))],
            )?;
            tx.execute(
                "INSERT INTO sessions (hash, person, token_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash(&secret), person, token_id, secs(now), secs(expires_at)],
            )?;
            audit(
                &tx,
                now,
                &person,
                "session.start",
                &person,
                &serde_json::json!({ "token": token_id, "expires_at": expires_at.to_rfc3339() }),
            )?;
            tx.commit()
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
        self.with(|c| {
            c.query_row(
                "SELECT s.person FROM sessions s JOIN api_tokens t ON t.id = s.token_id
                 WHERE s.hash = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2
                   AND t.revoked_at IS NULL",
                params![hash(secret), secs(now)],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Ends the session `secret` (signing out); `false` if it was not a live session.
    pub fn end_session(&self, secret: &str, now: DateTime<Utc>) -> Result<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let person: Option<String> = tx
                .query_row(
                    "SELECT person FROM sessions WHERE hash = ?1 AND ended_at IS NULL",
                    params![hash(secret)],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(person) = person else {
                return Ok(false);
            };
            tx.execute(
                "UPDATE sessions SET ended_at = ?2 WHERE hash = ?1",
                params![hash(secret), secs(now)],
            )?;
            audit(
                &tx,
                now,
                &person,
                "session.end",
                &person,
                &serde_json::json!({}),
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Ends every live session of `person` (an admin's "sign out everywhere"), audited as
    /// `session.end_all` by `actor`. Returns how many were live.
    pub fn end_sessions_of(&self, person: &str, actor: &str, now: DateTime<Utc>) -> Result<usize> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE sessions SET ended_at = ?2
                 WHERE person = ?1 AND ended_at IS NULL AND expires_at > ?2",
                params![person, secs(now)],
            )?;
            audit(
                &tx,
                now,
                actor,
                "session.end_all",
                person,
                &serde_json::json!({ "ended": n }),
            )?;
            tx.commit()?;
            Ok(n)
        })
    }

    /// How many sessions of `person` are live at `now`.
    pub fn live_sessions(&self, person: &str, now: DateTime<Utc>) -> Result<usize> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*) FROM sessions s JOIN api_tokens t ON t.id = s.token_id
                 WHERE s.person = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2
                   AND t.revoked_at IS NULL",
                params![person, secs(now)],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("rota.db")).unwrap();
        (dir, s)
    }

    #[test]
    fn a_session_lives_until_it_expires() {
        let (_d, s) = store();
        let now = at("2026-11-23T10:00:00Z");
        let t = s.issue_token("carol", "cli", now).unwrap();
        assert_eq!(
            s.start_session("rota_wrong", Duration::hours(12), now)
                .unwrap(),
            None
        );
        let sess = s
            .start_session(&t.token, Duration::hours(12), now)
            .unwrap()
            .unwrap();
        assert_eq!(sess.person, "carol");
        assert!(sess.secret.starts_with("rs_"));
        assert_eq!(
            s.session(&sess.secret, now).unwrap().as_deref(),
            Some("carol")
        );
        let late = now + Duration::hours(12);
        assert_eq!(s.session(&sess.secret, late).unwrap(), None, "expired");
        // A tampered secret of the right shape is nobody.
        let mut bad = sess.secret.clone();
        bad.replace_range(5..6, if &bad[5..6] == "0" { "1" } else { "0" });
        assert_eq!(s.session(&bad, now).unwrap(), None);
    }

    /// Issue 11, point 4: revoking the token ends its sessions at once.
    #[test]
    fn r11_4_revoking_a_token_ends_its_sessions() {
        let (_d, s) = store();
        let now = at("2026-11-23T10:00:00Z");
        let t = s.issue_token("carol", "cli", now).unwrap();
        let other = s.issue_token("carol", "cli", now).unwrap();
        let a = s
            .start_session(&t.token, Duration::hours(12), now)
            .unwrap()
            .unwrap();
        let b = s
            .start_session(&other.token, Duration::hours(12), now)
            .unwrap()
            .unwrap();
        assert_eq!(s.live_sessions("carol", now).unwrap(), 2);
        s.revoke_token(&t.id, "cli", now).unwrap();
        assert_eq!(s.session(&a.secret, now).unwrap(), None);
        assert_eq!(s.session(&b.secret, now).unwrap().as_deref(), Some("carol"));
        assert_eq!(s.live_sessions("carol", now).unwrap(), 1);
    }

    /// Issue 11, point 4: signing out ends the session on the server, so a copy of the cookie
    /// stops working too; an admin can end all of a person's sessions.
    #[test]
    fn r11_4_sign_out_and_end_all_end_sessions_server_side() {
        let (_d, s) = store();
        let now = at("2026-11-23T10:00:00Z");
        let t = s.issue_token("carol", "cli", now).unwrap();
        let a = s
            .start_session(&t.token, Duration::hours(12), now)
            .unwrap()
            .unwrap();
        let b = s
            .start_session(&t.token, Duration::hours(12), now)
            .unwrap()
            .unwrap();
        assert!(s.end_session(&a.secret, now).unwrap());
        assert!(!s.end_session(&a.secret, now).unwrap(), "already ended");
        assert_eq!(s.session(&a.secret, now).unwrap(), None);
        assert_eq!(s.session(&b.secret, now).unwrap().as_deref(), Some("carol"));
        assert_eq!(s.end_sessions_of("carol", "alice", now).unwrap(), 1);
        assert_eq!(s.session(&b.secret, now).unwrap(), None);
        let actions: Vec<String> = s
            .audit(10, None)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions[..4],
            [
                "session.end_all",
                "session.end",
                "session.start",
                "session.start"
            ]
        );
    }
}
