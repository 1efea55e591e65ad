//! Webhooks: what happens in rota, signed per the Standard Webhooks specification and delivered
//! through the outbox and the delivery ledger, once per event and endpoint.
//!
//! - **Configuration.** `[[webhooks]]` tables in the schedule files ([`rota_core::Webhook`]) name
//!   the URL (or the environment variable holding a secret URL), the events, and the environment
//!   variable holding the signing secret (`whsec_` and base64). [`endpoints`] resolves them; one
//!   whose variables are missing is reported (in `/healthz`), never used unsigned.
//! - **Payload.** `{"type": EVENT, "timestamp": RFC 3339 of the event, "data": {...}}`, with
//!   `data` as the README documents per event.
//! - **Signature.** `webhook-id` (`msg_` and 32 hex digits, the same for every attempt of one
//!   message, so receivers deduplicate on it), `webhook-timestamp` (Unix seconds of the attempt),
//!   and `webhook-signature: v1,BASE64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))`
//!   ([`sign`], checked against the specification's test vector).
//! - **Once.** [`enqueue`] writes the message to the outbox under a key made of the endpoint and
//!   the event's own identity (an override's id, a swap's id and new state, a handoff's rotation,
//!   start and person), so an event seen twice (by two replicas, or again after a restart) is
//!   one message. [`deliver_due`] claims each pending message in the ledger, posts it, and marks
//!   it sent on a 2xx. Otherwise it is retried with backoff (1 min doubling to 1 h, or after the
//!   `Retry-After` seconds the receiver asked for), until it expires: a day after the event, or, for a
//!   handoff, when the shift ends. The bound is the email's: a kill after the receiver's 2xx and
//!   before the ledger records it means one more delivery of the same `webhook-id`. A message a
//!   dead sender left claimed is taken over at the next run (the process is gone from this host,
//!   or its replica's lease was taken over), not after the claim's lease.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rota_core::{Schedule, WebhookEvent, WebhookUrl};
use rota_store::{Claim, LedgerItem, Store};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};

/// A webhook ready to deliver to: its URL and secret resolved.
#[derive(Clone)]
pub struct Endpoint {
    /// Its name (the ledger's and the outbox's).
    pub name: String,
    /// Where to post.
    pub url: String,
    /// The signing key (the secret without `whsec_`, base64-decoded).
    key: Vec<u8>,
    /// The events it wants.
    pub events: Vec<WebhookEvent>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may be a secret (url_env) and the key is one.
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// The signing key of a secret: `whsec_` and base64 (padding optional), or base64 alone.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.trim();
    let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
    // As the specification's own libraries read secrets: padding optional, trailing bits allowed.
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    match LENIENT.decode(b64) {
        Ok(k) if !k.is_empty() => Ok(k),
        _ => Err("not a webhook secret (whsec_ and base64)".into()),
    }
}

/// `v1,BASE64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The webhooks of `schedule` with their URLs and secrets read through `env`, and a problem for
/// each that cannot be used (named, never showing a secret).
pub fn endpoints(
    schedule: &Schedule,
    env: impl Fn(&str) -> Option<String>,
) -> (Vec<Endpoint>, Vec<String>) {
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    for w in schedule.webhooks() {
        let url = match &w.url {
            WebhookUrl::Url(u) => Some(u.clone()),
            WebhookUrl::Env(var) => match env(var).filter(|v| !v.trim().is_empty()) {
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                    Some(u.trim().to_string())
                }
                Some(_) => {
                    problems.push(format!(
                        "webhook {}: {var} does not hold an http(s) URL",
                        w.name
                    ));
                    None
                }
                None => {
                    problems.push(format!("webhook {}: {var} is not set", w.name));
                    None
                }
            },
        };
        let key = match env(&w.secret_env) {
            Some(s) => match secret_key(&s) {
                Ok(k) => Some(k),
                Err(e) => {
                    problems.push(format!("webhook {}: {}: {e}", w.name, w.secret_env));
                    None
                }
            },
            None => {
                problems.push(format!(
                    "webhook {}: {} is not set (its signing secret)",
                    w.name, w.secret_env
                ));
                None
            }
        };
        if let (Some(url), Some(key)) = (url, key) {
            ok.push(Endpoint {
                name: w.name.clone(),
                url,
                key,
                events: w.events.clone(),
            });
        }
    }
    (ok, problems)
}

/// The `webhook-id` of a message: the same for every attempt, with no `.` in it.
pub fn message_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("msg_{hex}")
}

/// Writes the message for `event` (identified by `id`, which makes it one message however often
/// it is seen) to the outbox, for every endpoint that wants it. `at` is when it happened.
/// Returns how many messages were new.
pub fn enqueue(
    store: &Store,
    endpoints: &[Endpoint],
    event: WebhookEvent,
    id: &str,
    at: DateTime<Utc>,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let body = serde_json::json!({
        "type": event.as_str(),
        "timestamp": rota_core::view::utc(at),
        "data": data,
    })
    .to_string();
    let mut new = 0;
    for e in endpoints.iter().filter(|e| e.events.contains(&event)) {
        let key = format!("webhook/{}/{}/{id}", e.name, event.as_str());
        if store.outbox_put(&key, &e.name, event.as_str(), &body, now)? {
            new += 1;
        }
    }
    Ok(new)
}

/// How deliveries are made.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// How long a claim of another live sender is respected.
    pub lease: Duration,
    /// The first retry waits this long, each further one twice as long ...
    pub backoff: Duration,
    /// ... up to this.
    pub backoff_cap: Duration,
    /// A message not delivered this long after it was written is given up.
    pub give_up_after: Duration,
    /// The longest one attempt may take.
    pub timeout: std::time::Duration,
    /// A run takes no new message after this long.
    pub run_budget: std::time::Duration,
}

impl Default for DeliverySettings {
    fn default() -> DeliverySettings {
        DeliverySettings {
            lease: Duration::minutes(2),
            backoff: Duration::minutes(1),
            backoff_cap: Duration::hours(1),
            give_up_after: Duration::days(1),
            timeout: std::time::Duration::from_secs(10),
            run_budget: std::time::Duration::from_secs(5),
        }
    }
}

/// What one delivery run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Keys delivered (2xx).
    pub sent: Vec<String>,
    /// Keys that failed this time: (key, why). Retried until they expire.
    pub failed: Vec<(String, String)>,
}

/// When a message stops being worth delivering: a day (`give_up_after`) after it was written, or
/// for a handoff, when its shift ends (the body's `data.end`), if sooner.
fn expiry(item: &rota_store::OutboxItem, settings: &DeliverySettings) -> DateTime<Utc> {
    let mut until = item.created_at + settings.give_up_after;
    if item.event == WebhookEvent::Handoff.as_str()
        && let Some(end) = serde_json::from_str::<serde_json::Value>(&item.body)
            .ok()
            .and_then(|v| v["data"]["end"].as_str().map(str::to_string))
            .and_then(|e| e.parse::<DateTime<Utc>>().ok())
    {
        until = until.min(end);
    }
    until
}

/// The outbox name of Slack actions (see [`crate::slack`]).
pub const SLACK: &str = "slack";

/// Delivers every message whose turn it is: webhooks to their endpoints, Slack actions through
/// `slack`. `configured` names every webhook in the schedule: a message for one of them whose
/// variables are missing here waits, one for a webhook no longer in the schedule (or for Slack,
/// when it is off) is given up. `owner` names this sender in the ledger. A run stops after
/// `run_budget`; what is left is taken next time.
pub fn deliver_due(
    store: &Store,
    endpoints: &[Endpoint],
    configured: &[&str],
    slack: Option<&crate::slack::SlackClient>,
    owner: &str,
    settings: &DeliverySettings,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<DeliveryReport, Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(settings.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(format!("rota/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut report = DeliveryReport::default();
    let began = std::time::Instant::now();
    // What a sender that died left half-sent (a process of this host that is gone, or a replica
    // whose lease was taken over) is taken over at once, as emails are, not after the claim's
    // lease: it may have reached its receiver, so it goes again under the same `webhook-id`.
    let mut taken: Vec<(rota_store::OutboxItem, u32)> = Vec::new();
    for (item, holder) in store.outbox_in_flight(50)? {
        if holder != owner
            && crate::run::is_dead(&holder)
            && let Some(Claim::Claimed { attempt, .. }) =
                store.ledger_take_over(&item.key, &holder, owner, clock())?
        {
            tracing::warn!(key = %item.key, from = %holder, "a sender died while delivering this message; delivering it again (it may arrive twice)");
            taken.push((item, attempt));
        }
    }
    let due = store.outbox_due(clock(), settings.lease, 200)?;
    let work = taken
        .into_iter()
        .map(|(i, a)| (i, Some(a)))
        .chain(due.into_iter().map(|i| (i, None)));
    for (item, taken_attempt) in work {
        // One run never holds up handoff detection for long: what is left waits for the next.
        if began.elapsed() > settings.run_budget {
            break;
        }
        let now = clock();
        let expires = expiry(&item, settings);
        let is_slack = item.endpoint == SLACK;
        let ledger = LedgerItem {
            key: &item.key,
            kind: if is_slack { "slack" } else { "webhook" },
            person: &item.endpoint,
            recipient: &item.endpoint,
            expires: Some(expires),
        };
        let attempt = match taken_attempt {
            Some(a) => a,
            None => match store.ledger_claim(&ledger, owner, settings.lease, now)? {
                Claim::Claimed { attempt, .. } => attempt,
                _ => continue,
            },
        };
        let endpoint = endpoints.iter().find(|e| e.name == item.endpoint);
        let slack = slack.filter(|_| is_slack);
        // What cannot be delivered: given up (failed), or, for a webhook still in the schedule
        // whose variables are missing on this replica, left to wait.
        let stop = if now >= expires {
            Some((None, "expired before it could be delivered".to_string()))
        } else if endpoint.is_none() && slack.is_none() {
            if is_slack {
                Some((
                    None,
                    "Slack is not configured (ROTA_SLACK_TOKEN)".to_string(),
                ))
            } else if configured.iter().any(|n| *n == item.endpoint) {
                Some((
                    Some(now + settings.backoff),
                    "the webhook's variables are not set on this replica".to_string(),
                ))
            } else {
                Some((None, "the webhook is no longer in the schedule".to_string()))
            }
        } else {
            None
        };
        if let Some((next, why)) = stop {
            store.ledger_retry(&item.key, owner, next, &why, now)?;
            report.failed.push((item.key.clone(), why));
            continue;
        }
        let outcome = match (endpoint, slack) {
            (Some(endpoint), _) => post(&agent, endpoint, &item),
            (None, Some(slack)) => {
                let body: serde_json::Value = serde_json::from_str(&item.body).unwrap_or_default();
                slack.perform(&body).map_err(|e| match &e {
                    crate::slack::SlackError::RateLimited(s) => {
                        (e.to_string(), Some(Duration::seconds(*s as i64)))
                    }
                    // Retrying cannot help: given up now, and reported.
                    crate::slack::SlackError::Api(code) if crate::slack::is_permanent(code) => {
                        (e.to_string(), Some(Duration::zero()))
                    }
                    other => (other.to_string(), None),
                })
            }
            (None, None) => continue,
        };
        let now = clock();
        let name = endpoint.map_or(SLACK, |e| e.name.as_str());
        match outcome {
            Ok(()) => {
                store.ledger_sent(&item.key, owner, now, None)?;
                report.sent.push(item.key.clone());
            }
            Err((why, retry_after)) => {
                let factor = 1i32 << attempt.saturating_sub(1).min(20);
                let backoff = (settings.backoff * factor).min(settings.backoff_cap);
                // The receiver's Retry-After when it gave one, else the backoff; zero: give up.
                let next = match retry_after {
                    Some(d) if d.is_zero() => None,
                    Some(d) => Some(now + d),
                    None => Some(now + backoff),
                };
                let next = next.filter(|n| *n < expires);
                store.ledger_retry(&item.key, owner, next, &why, now)?;
                tracing::warn!(key = %item.key, endpoint = %name, attempt, error = %why, "delivery failed");
                report.failed.push((item.key.clone(), why));
            }
        }
    }
    Ok(report)
}

/// Posts a webhook message, signed; `Err((why, retry_after))` unless it got a 2xx.
fn post(
    agent: &ureq::Agent,
    endpoint: &Endpoint,
    item: &rota_store::OutboxItem,
) -> Result<(), (String, Option<Duration>)> {
    let id = message_id(&item.key);
    let ts = Utc::now().timestamp();
    let result = agent
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", &ts.to_string())
        .header(
            "webhook-signature",
            &sign(&endpoint.key, &id, ts, &item.body),
        )
        .send(item.body.as_bytes());
    match result {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => {
            let retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
                .map(|s| Duration::seconds(s.clamp(1, 86_400)));
            Err((format!("HTTP {}", r.status().as_u16()), retry_after))
        }
        Err(e) => Err((format!("{e}"), None)),
    }
}

/// A configuration problem, as the crate's error.
pub fn config_error(problems: &[String]) -> Error {
    Error::new(ErrorKind::Config(problems.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's own test vector (its libraries' `test_sign_function`).
    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // With or without the prefix, with or without padding.
        assert_eq!(key, secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        assert_eq!(
            secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS").unwrap(),
            secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=").unwrap()
        );
        assert!(secret_key("whsec_").is_err());
        assert!(secret_key("not base64!").is_err());
    }

    #[test]
    fn message_ids_are_stable_and_have_no_dots() {
        let a = message_id("webhook/pager/handoff/x");
        assert_eq!(a, message_id("webhook/pager/handoff/x"));
        assert_ne!(a, message_id("webhook/pager/handoff/y"));
        assert!(a.starts_with("msg_") && !a.contains('.') && a.len() == 36);
    }
}
