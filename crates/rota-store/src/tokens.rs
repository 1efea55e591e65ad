//! API tokens (stored hashed) and the calendar feed tokens derived from the feed secret.

use chrono::{DateTime, Utc};
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
        self.write(|c| {
            c.exec(
                "INSERT INTO api_tokens (id, hash, person, created_at) VALUES ($1, $2, $3, $4)",
                p![&id, &hash, person, secs(now)],
            )?;
            audit(
                c,
                now,
                actor,
                "token.issue",
                &id,
                &serde_json::json!({ "person": person }),
            )?;
            bump(c)
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
        let found = self.write(|c| {
            let row = c.row(
                "SELECT person, revoked_at FROM api_tokens WHERE id = $1",
                p![&id],
            )?;
            let Some(row) = row else { return Ok(None) };
            if row.opt_i64(1)?.is_some() {
                return Ok(Some(false));
            }
            let person = row.text(0)?;
            c.exec(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1",
                p![&id, secs(now)],
            )?;
            // Its page sessions end with it (they are refused anyway: see `sessions`).
            c.exec(
                "UPDATE sessions SET ended_at = $2 WHERE token_id = $1 AND ended_at IS NULL",
                p![&id, secs(now)],
            )?;
            audit(
                c,
                now,
                actor,
                "token.revoke",
                &id,
                &serde_json::json!({ "person": person }),
            )?;
            bump(c)?;
            Ok(Some(true))
        })?;
        found.ok_or_else(|| not_found(format!("no API token with id {id:?}")))
    }

    /// All API tokens (ids and owners, never secrets), newest first.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        self.read(|c| {
            c.rows(
                "SELECT id, person, created_at, revoked_at FROM api_tokens
                 ORDER BY created_at DESC, rowid DESC",
                &[],
            )?
            .into_iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.text(0)?,
                    person: r.text(1)?,
                    created_at: instant(r.i64(2)?),
                    revoked_at: r.opt_i64(3)?.map(instant),
                })
            })
            .collect()
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
        self.read(|c| {
            c.row(
                "SELECT id, person FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL",
                p![&hash],
            )?
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .transpose()
        })
    }

    pub(crate) fn feed_generation(&self, person: &str) -> Result<i64> {
        self.read(|c| {
            Ok(c.row(
                "SELECT generation FROM feed_generations WHERE person = $1",
                p![person],
            )?
            .map(|r| r.i64(0))
            .transpose()?
            .unwrap_or(0))
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
    /// Feed requests are the service's most frequent, so this does not go to the store per
    /// request: it remembers the generations it read, with the state version they were read at,
    /// and reads the version again at most once a second. A rotation made through
    /// this `Store` takes effect at once; one made elsewhere (another replica, `rota feed rotate`
    /// in another process) within that second. When nothing changed a check costs an HMAC.
    pub fn verify_feed_token(&self, person: &str, token: &str) -> Result<bool> {
        // The lock is never held while the store is read, so a slow or unreachable store holds
        // up the requests that must read it, not every feed request behind a mutex.
        let recheck = {
            let cache = self.feed_cache.lock().unwrap_or_else(|p| p.into_inner());
            stale(cache.checked)
        };
        if recheck {
            match self.state_version() {
                Ok(version) => self.note_state_version(version),
                Err(e) => {
                    // Keep answering from what is known; try again after the next interval.
                    let mut cache = self.feed_cache.lock().unwrap_or_else(|p| p.into_inner());
                    cache.checked = Some(std::time::Instant::now());
                    if cache.version.is_none() {
                        return Err(e);
                    }
                }
            }
        }
        let known = {
            let cache = self.feed_cache.lock().unwrap_or_else(|p| p.into_inner());
            cache.by_person.get(person).copied()
        };
        let generation = match known {
            Some(g) => g,
            None => {
                let g = self.feed_generation(person)?;
                let mut cache = self.feed_cache.lock().unwrap_or_else(|p| p.into_inner());
                // Bounded by the people asked about, and emptied by any change.
                if cache.by_person.len() < 100_000 {
                    cache.by_person.insert(person.to_string(), g);
                }
                g
            }
        };
        Ok(same(
            self.feed_token_for(person, generation).as_bytes(),
            token.as_bytes(),
        ))
    }

    /// Tells the store the state version just read elsewhere (the service's watcher polls it):
    /// cached feed generations are dropped if it moved, and the store need not read it again for
    /// a while. A feed request then rarely reads the store at all.
    pub fn note_state_version(&self, version: i64) {
        let mut cache = self.feed_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.version != Some(version) {
            cache.by_person.clear();
            cache.version = Some(version);
        }
        cache.checked = Some(std::time::Instant::now());
    }

    /// Invalidates `person`'s feed URL and returns the new token.
    pub fn rotate_feed_token(
        &self,
        person: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let generation = self.write(|c| {
            let g = c
                .row(
                    "INSERT INTO feed_generations (person, generation) VALUES ($1, 1)
                     ON CONFLICT (person) DO UPDATE
                        SET generation = feed_generations.generation + 1
                     RETURNING generation",
                    p![person],
                )?
                .map(|r| r.i64(0))
                .transpose()?
                .unwrap_or(1);
            audit(
                c,
                now,
                actor,
                "feed_token.rotate",
                person,
                &serde_json::json!({ "generation": g }),
            )?;
            bump(c)?;
            Ok(g)
        })?;
        self.invalidate();
        Ok(self.feed_token_for(person, generation))
    }
}

/// Feed generations as last read, valid while the state version is `version` (checked again
/// when `checked` is older than [`RECHECK`]).
#[derive(Debug, Default)]
pub(crate) struct FeedCache {
    version: Option<i64>,
    checked: Option<std::time::Instant>,
    by_person: std::collections::HashMap<String, i64>,
}

impl FeedCache {
    pub(crate) fn clear(&mut self) {
        self.version = None;
        self.checked = None;
        self.by_person.clear();
    }
}
