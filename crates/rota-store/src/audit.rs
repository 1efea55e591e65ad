//! The audit log: who changed what, when. Every change is written with its entry in one
//! transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::*;

/// One entry of the audit log.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Increasing sequence number.
    pub seq: i64,
    /// When.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
    /// Who (a person id, or `cli` for the command line).
    pub actor: String,
    /// What: `override.create`, `override.delete`, `token.issue`, `token.revoke`,
    /// `feed_token.rotate`, ...
    pub action: String,
    /// What it was done to (an override id, a token id, a person id).
    pub subject: String,
    /// Details, as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

impl Store {
    /// The newest `limit` audit entries with `seq < before` (all if `before` is `None`), newest
    /// first.
    pub fn audit(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        self.read(|c| {
            c.rows(
                "SELECT seq, at, actor, action, subject, detail FROM audit
                 WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
                p![before.unwrap_or(i64::MAX), limit],
            )?
            .into_iter()
            .map(|r| {
                let detail = r.text(5)?;
                Ok(AuditEntry {
                    seq: r.i64(0)?,
                    at: instant(r.i64(1)?),
                    actor: r.text(2)?,
                    action: r.text(3)?,
                    subject: r.text(4)?,
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                })
            })
            .collect()
        })
    }
}

/// Writes an audit entry inside the caller's write transaction.
pub(crate) fn audit(
    c: &mut dyn Sql,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    c.exec(
        "INSERT INTO audit (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
        p![secs(now), actor, action, subject, &detail.to_string()],
    )?;
    Ok(())
}
