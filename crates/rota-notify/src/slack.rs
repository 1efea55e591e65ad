//! Slack's Web API, for the messages rota sends there: the user group kept equal to whoever is on
//! call (`usergroups.users.update`), the channel topic (`conversations.setTopic`) and the handoff
//! message (`chat.postMessage`), with people found by email (`users.lookupByEmail`, cached).
//!
//! Each action is an outbox message (see [`crate::webhook`] for the outbox and the ledger's
//! rules), keyed by the rotation, the piece of shift and the person, so it is done once however
//! many replicas or restarts see the handoff. A call answered `429` is retried after its
//! `Retry-After`; one answered `ok: false` is retried with backoff until it expires (the shift's
//! end) and its error is kept in the delivery record. A person Slack does not know by email is
//! left out of the group and reported (`/healthz`), never skipped quietly.
//!
//! The bot token (`ROTA_SLACK_TOKEN`) and the API's base URL (`ROTA_SLACK_API_URL`, default
//! Slack's) come from the settings, never from the schedule files. Its scopes: `usergroups:write`,
//! `users:read.email`, `channels:manage` (topics), `chat:write`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use serde_json::Value;

/// Slack's Web API base URL.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlackError {
    /// `429`: try again after this many seconds.
    RateLimited(u64),
    /// `ok: false` with Slack's error code (`channel_not_found`, `invalid_auth`, ...).
    Api(String),
    /// The call did not get an answer (or not a JSON one).
    Http(String),
}

impl std::fmt::Display for SlackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlackError::RateLimited(s) => write!(f, "rate limited for {s} s"),
            SlackError::Api(e) => write!(f, "Slack said {e}"),
            SlackError::Http(e) => write!(f, "{e}"),
        }
    }
}

/// Whether Slack's error `code` means retrying cannot help (the token, a scope, the channel or
/// the group is wrong, or Slack knows nobody to put in the group).
pub fn is_permanent(code: &str) -> bool {
    matches!(
        code,
        "invalid_auth"
            | "not_authed"
            | "account_inactive"
            | "token_revoked"
            | "missing_scope"
            | "channel_not_found"
            | "not_in_channel"
            | "is_archived"
            | "no_such_subteam"
            | "invalid_users"
            | "users_not_found"
            | "no_one_to_put_in_the_group"
    )
}

/// A client of Slack's Web API with one bot token.
pub struct SlackClient {
    agent: ureq::Agent,
    base: String,
    token: String,
    /// email -> user id (`None`: Slack does not know it).
    users: Mutex<HashMap<String, Option<String>>>,
    /// user id -> email, as `users.info` gave it.
    emails: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl SlackClient {
    /// A client of the API at `base` (no trailing `/`) with `token`.
    pub fn new(token: &str, base: &str) -> SlackClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .http_status_as_error(false)
            .user_agent(format!("rota/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        SlackClient {
            agent,
            base: base.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
            users: Mutex::new(HashMap::new()),
            emails: Mutex::new(HashMap::new()),
        }
    }

    /// Calls `method` with form parameters (every Web API method takes them).
    pub fn call(&self, method: &str, params: &[(&str, &str)]) -> Result<Value, SlackError> {
        let r = self
            .agent
            .post(&format!("{}/{method}", self.base))
            .header("authorization", &format!("Bearer {}", self.token))
            .send_form(params.iter().copied());
        let mut r = r.map_err(|e| SlackError::Http(e.to_string()))?;
        if r.status().as_u16() == 429 {
            let secs = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(30);
            return Err(SlackError::RateLimited(secs.clamp(1, 3600)));
        }
        let status = r.status().as_u16();
        let text = r
            .body_mut()
            .read_to_string()
            .map_err(|e| SlackError::Http(format!("HTTP {status}: {e}")))?;
        let body: Value = serde_json::from_str(&text)
            .map_err(|e| SlackError::Http(format!("HTTP {status}: not JSON: {e}")))?;
        if body["ok"] == true {
            Ok(body)
        } else {
            Err(SlackError::Api(
                body["error"]
                    .as_str()
                    .unwrap_or("unknown_error")
                    .to_string(),
            ))
        }
    }

    /// The Slack user with this email, asked once and remembered.
    pub fn user(&self, email: &str) -> Result<Option<String>, SlackError> {
        let email = email.trim().to_ascii_lowercase();
        if let Some(known) = self
            .users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&email)
        {
            return Ok(known.clone());
        }
        let found = match self.call("users.lookupByEmail", &[("email", &email)]) {
            Ok(v) => v["user"]["id"].as_str().map(str::to_string),
            Err(SlackError::Api(e)) if e == "users_not_found" => None,
            Err(e) => return Err(e),
        };
        self.users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(email, found.clone());
        Ok(found)
    }

    /// The email address of Slack user `uid` (`users.info`, which needs the `users:read.email`
    /// scope), remembered once found; `None` when Slack gives none. Failures are not remembered.
    pub fn email_of(&self, uid: &str) -> Result<Option<String>, SlackError> {
        if let Some(known) = self
            .emails
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(uid)
        {
            return Ok(Some(known.clone()));
        }
        let found = match self.call("users.info", &[("user", uid)]) {
            Ok(v) => v["user"]["profile"]["email"].as_str().map(str::to_string),
            Err(SlackError::Api(e)) if e == "user_not_found" => None,
            Err(e) => return Err(e),
        };
        if let Some(email) = &found {
            let mut cache = self.emails.lock().unwrap_or_else(|p| p.into_inner());
            // Bounded: one entry per person who typed a command.
            if cache.len() >= 10_000 {
                cache.clear();
            }
            cache.insert(uid.to_string(), email.clone());
        }
        Ok(found)
    }

    /// Answers a button click through its `response_url`: the message's buttons are replaced by
    /// `text`. Only Slack's own response URLs (`https://hooks.slack.com/`) or this client's API
    /// host are called: the URL comes in a request, and rota never posts where a request says.
    pub fn respond(&self, response_url: &str, text: &str) -> Result<(), SlackError> {
        let origin = |u: &str| -> Option<String> {
            let (scheme, rest) = u.split_once("://")?;
            let host = rest.split('/').next()?;
            Some(format!("{scheme}://{host}/"))
        };
        let allowed = response_url.starts_with("https://hooks.slack.com/")
            || (origin(response_url).is_some() && origin(response_url) == origin(&self.base));
        if !allowed {
            return Err(SlackError::Http(format!(
                "not a Slack response URL: {}",
                origin(response_url).unwrap_or_default()
            )));
        }
        let body = serde_json::json!({"replace_original": true, "text": text}).to_string();
        self.agent
            .post(response_url)
            .header("content-type", "application/json")
            .send(body.as_bytes())
            .map_err(|e| SlackError::Http(e.to_string()))
            .and_then(|r| {
                if r.status().is_success() {
                    Ok(())
                } else {
                    Err(SlackError::Http(format!("HTTP {}", r.status().as_u16())))
                }
            })
    }

    /// Emails Slack did not know, as last asked.
    pub fn unknown_emails(&self) -> BTreeSet<String> {
        self.users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, id)| id.is_none())
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// Does one outbox message's action. The body is `{"action": ..., ...}`:
    ///
    /// - `usergroup`: `{"usergroup", "emails"}`: the group becomes exactly those people;
    /// - `topic`: `{"channel", "topic"}`;
    /// - `post`: `{"channel", "text"}`;
    /// - `dm`: `{"email", "person", "swap", "text"}`: a swap request with Accept and Decline.
    pub fn perform(&self, body: &Value) -> Result<(), SlackError> {
        let s = |k: &str| body[k].as_str().unwrap_or("").to_string();
        match body["action"].as_str() {
            Some("usergroup") => {
                let mut ids = Vec::new();
                for e in body["emails"].as_array().into_iter().flatten() {
                    if let Some(id) = e.as_str().map(|e| self.user(e)).transpose()?.flatten() {
                        ids.push(id);
                    }
                }
                if ids.is_empty() {
                    // Slack refuses an empty group; nobody it knows is on call.
                    return Err(SlackError::Api("no_one_to_put_in_the_group".into()));
                }
                self.call(
                    "usergroups.users.update",
                    &[("usergroup", &s("usergroup")), ("users", &ids.join(","))],
                )
                .map(|_| ())
            }
            Some("topic") => self
                .call(
                    "conversations.setTopic",
                    &[("channel", &s("channel")), ("topic", &s("topic"))],
                )
                .map(|_| ()),
            Some("post") => self
                .call(
                    "chat.postMessage",
                    &[("channel", &s("channel")), ("text", &s("text"))],
                )
                .map(|_| ()),
            Some("dm") => {
                // A swap request, to the person asked, with Accept and Decline buttons. Each
                // button's value names the request, the person and their Slack id: the
                // interactions endpoint acts only for that Slack user.
                let Some(uid) = self.user(&s("email"))? else {
                    return Err(SlackError::Api("users_not_found".into()));
                };
                let value = format!("{}|{}|{uid}", s("swap"), s("person"));
                let blocks = serde_json::json!([
                    {"type": "section", "text": {"type": "mrkdwn", "text": s("text")}},
                    {"type": "actions", "block_id": "swap", "elements": [
                        {"type": "button", "action_id": "swap_accept", "style": "primary",
                         "text": {"type": "plain_text", "text": "Accept"}, "value": value},
                        {"type": "button", "action_id": "swap_decline", "style": "danger",
                         "text": {"type": "plain_text", "text": "Decline"}, "value": value}
                    ]}
                ]);
                self.call(
                    "chat.postMessage",
                    &[
                        ("channel", uid.as_str()),
                        ("text", &s("text")),
                        ("blocks", &blocks.to_string()),
                    ],
                )
                .map(|_| ())
            }
            other => Err(SlackError::Api(format!("unknown action {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_go_only_to_slacks_response_urls_or_the_api_host() {
        let c = SlackClient::new("xoxb-t", "http://127.0.0.1:9/api");
        let e = c.respond("https://evil.example/steal", "x").unwrap_err();
        assert!(e.to_string().contains("not a Slack response URL"), "{e}");
        let e = c.respond("http://127.0.0.1:10/respond", "x").unwrap_err();
        assert!(e.to_string().contains("not a Slack response URL"), "{e}");
        // The API host itself is allowed (a stand-in); nothing listens on port 9, so it fails
        // to connect rather than being refused.
        let e = c.respond("http://127.0.0.1:9/respond/1", "x").unwrap_err();
        assert!(!e.to_string().contains("not a Slack response URL"), "{e}");
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        assert!(is_permanent("channel_not_found"));
        assert!(is_permanent("users_not_found"));
        assert!(!is_permanent("ratelimited"));
        assert!(!is_permanent("internal_error"));
    }
}
