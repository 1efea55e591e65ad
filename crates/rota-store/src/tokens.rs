//! API tokens (stored hashed) and the calendar feed tokens derived from the feed secret.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::*;

use hmac::{Hmac, Mac};

/// A newly issued API token: the secret is shown once and never stored.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    /// Public id, for listing and revoking.
    pub id: String,
    /// The secret token, `rota_` + 64 hex digits.
    pub token: String,
}

/// An API token as listed (never the secret).
#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    /// Public id.
    pub id: String,
    /// Whose token it is.
    pub person: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Issues a new API token for `person`. The secret is returned once; only its hash is kept.
    pub fn issue_token(
        &self,
        person: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken> {
        let token = format!("rota_{}", hex(&random::<32>()?));
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        let id = hex(&hash[..6]);
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO api_tokens (id, hash, person, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, hash, person, secs(now)],
            )?;
            audit(
                &tx,
                now,
                actor,
                "token.issue",
                &id,
                &serde_json::json!({ "person": person }),
            )?;
            tx.commit()
        })?;
        Ok(IssuedToken { id, token })
    }

    /// Revokes an API token, given its public id or the token itself. Errors if there is no such
    /// token; revoking a revoked token is a no-op that returns `Ok(false)`.
    pub fn revoke_token(&self, id_or_token: &str, actor: &str, now: DateTime<Utc>) -> Result<bool> {
        let id = if id_or_token.starts_with("rota_") {
            hex(&Sha256::digest(id_or_token.as_bytes())[..6])
        } else {
            id_or_token.to_string()
        };
        let found = self.with(|c| {
            let tx = c.transaction()?;
            let row: Option<(String, Option<i64>)> = tx
                .query_row(
                    "SELECT person, revoked_at FROM api_tokens WHERE id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let out = match row {
                None => None,
                Some((_, Some(_))) => Some(false),
                Some((person, None)) => {
                    tx.execute(
                        "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1",
                        params![id, secs(now)],
                    )?;
                    // Its page sessions end with it (they are refused anyway: see `sessions`).
                    tx.execute(
                        "UPDATE sessions SET ended_at = ?2 WHERE token_id = ?1 AND ended_at IS NULL",
                        params![id, secs(now)],
                    )?;
                    audit(
                        &tx,
                        now,
                        actor,
                        "token.revoke",
                        &id,
                        &serde_json::json!({ "person": person }),
                    )?;
                    Some(true)
                }
            };
            tx.commit()?;
            Ok(out)
        })?;
        found.ok_or_else(|| Error {
            kind: ErrorKind::NotFound(format!("no API token with id {id:?}")),
        })
    }

    /// All API tokens (ids and owners, never secrets), newest first.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT id, person, created_at, revoked_at FROM api_tokens ORDER BY created_at DESC, rowid DESC")?;
            let rows = stmt.query_map([], |r| {
                Ok(TokenInfo {
                    id: r.get(0)?,
                    person: r.get(1)?,
                    created_at: instant(r.get(2)?),
                    revoked_at: r.get::<_, Option<i64>>(3)?.map(instant),
                })
            })?;
            rows.collect()
        })
    }

    /// The person an API token belongs to, if it is a valid, unrevoked token.
    pub fn authenticate(&self, token: &str) -> Result<Option<String>> {
        Ok(self.token_owner(token)?.map(|(_, person)| person))
    }

    /// The id and person of a valid, unrevoked API token.
    pub(crate) fn token_owner(&self, token: &str) -> Result<Option<(String, String)>> {
        if !token.starts_with("rota_") || token.len() != 69 {
            return Ok(None);
        }
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        self.with(|c| {
            c.query_row(
                "SELECT id, person FROM api_tokens WHERE hash = ?1 AND revoked_at IS NULL",
                params![hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    pub(crate) fn feed_generation(&self, person: &str) -> Result<i64> {
        self.with(|c| {
            c.query_row(
                "SELECT generation FROM feed_generations WHERE person = ?1",
                params![person],
                |r| r.get(0),
            )
            .optional()
            .map(|g| g.unwrap_or(0))
        })
    }

    pub(crate) fn feed_token_for(&self, person: &str, generation: i64) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.feed_secret)
            .expect("HMAC takes any key length");
        mac.update(b"rota feed token\0");
        mac.update(person.as_bytes());
        mac.update(b"\0");
        mac.update(&generation.to_be_bytes());
        hex(&mac.finalize().into_bytes()[..20])
    }

    /// The current secret token of `person`'s calendar feed.
    pub fn feed_token(&self, person: &str) -> Result<String> {
        Ok(self.feed_token_for(person, self.feed_generation(person)?))
    }

    /// Whether `token` is `person`'s current feed token (constant-time).
    ///
    /// Feed requests are the service's most frequent, so this never waits for a write: it reads
    /// through a read-only connection of its own (in WAL mode a reader does not wait for the
    /// writer), and remembers the generations it read until SQLite's `data_version` says another
    /// connection committed. When nothing changed it costs one `PRAGMA data_version` and an HMAC,
    /// a few microseconds, so the service calls it on its async threads.
    pub fn verify_feed_token(&self, person: &str, token: &str) -> Result<bool> {
        let mut r = self.feed_reader.lock().unwrap_or_else(|p| p.into_inner());
        let r = &mut *r;
        let generation = (|| {
            let version: i64 = r
                .conn
                .prepare_cached("PRAGMA data_version")?
                .query_row([], |row| row.get(0))?;
            if r.data_version != Some(version) {
                r.by_person.clear();
                r.data_version = Some(version);
            }
            if let Some(g) = r.by_person.get(person) {
                return Ok(*g);
            }
            let g = r
                .conn
                .prepare_cached("SELECT generation FROM feed_generations WHERE person = ?1")?
                .query_row(params![person], |row| row.get(0))
                .optional()?
                .unwrap_or(0);
            // Bounded by the people asked about, and emptied by any change to the file.
            if r.by_person.len() < 100_000 {
                r.by_person.insert(person.to_string(), g);
            }
            Ok(g)
        })()
        .map_err(|e| self.err(e))?;
        Ok(same(
            self.feed_token_for(person, generation).as_bytes(),
            token.as_bytes(),
        ))
    }

    /// Invalidates `person`'s feed URL and returns the new token.
    pub fn rotate_feed_token(
        &self,
        person: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let generation = self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO feed_generations (person, generation) VALUES (?1, 1)
                 ON CONFLICT (person) DO UPDATE SET generation = generation + 1",
                params![person],
            )?;
            let g: i64 = tx.query_row(
                "SELECT generation FROM feed_generations WHERE person = ?1",
                params![person],
                |r| r.get(0),
            )?;
            audit(
                &tx,
                now,
                actor,
                "feed_token.rotate",
                person,
                &serde_json::json!({ "generation": g }),
            )?;
            tx.commit()?;
            Ok(g)
        })?;
        Ok(self.feed_token_for(person, generation))
    }
}

/// Feed generations read through `conn`, valid while SQLite's `data_version` on it is
/// `data_version`: it changes whenever another connection commits (this store's writer, or
/// `rota feed rotate` in another process), and only then.
pub(crate) struct FeedReader {
    conn: rusqlite::Connection,
    data_version: Option<i64>,
    by_person: std::collections::HashMap<String, i64>,
}

impl FeedReader {
    pub(crate) fn new(conn: rusqlite::Connection) -> FeedReader {
        FeedReader {
            conn,
            data_version: None,
            by_person: std::collections::HashMap::new(),
        }
    }
}
