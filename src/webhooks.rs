//! Webhooks in `rota serve`: the glue between the service's events and rota-notify's outbox and
//! deliveries (see `rota_notify::webhook` for the rules).
//!
//! - Overrides and swap requests changed through the API or the pages are written to the outbox
//!   by the replica that made the change, on a thread of its own, never holding up the response.
//! - The lease holder, every second: writes a `handoff` for each rotation whose current piece of
//!   shift it has not announced (a handoff that happened while rota was down is announced once
//!   when it comes back, if the shift is still running), once a minute a `conflict.found` for each
//!   new conflict, then delivers what is due.
//! - Endpoints are read from the schedule as it is now (a reload takes effect at once) and from
//!   the environment variables it names; `/healthz` shows each one's state.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rota_core::WebhookEvent;
use rota_notify::webhook::{self, Endpoint};
use rota_server::{AppState, Integration};
use serde_json::{Value, json};

/// The endpoints of the schedule being served, and the problems of those that cannot be used.
fn endpoints(st: &AppState) -> (Vec<Endpoint>, Vec<(String, String)>) {
    let snap = st.snapshot();
    let (ok, problems) = webhook::endpoints(&snap.schedule, |k| std::env::var(k).ok());
    let named = problems
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix("webhook ")
                .and_then(|r| r.split_once(':'))
                .map_or(String::new(), |(n, _)| n.to_string());
            (name, p)
        })
        .collect();
    (ok, named)
}

/// Writes `event` to the outbox on a thread of its own.
fn enqueue_later(st: &AppState, event: WebhookEvent, id: String, at: DateTime<Utc>, data: Value) {
    let st = st.clone();
    let spawned = std::thread::Builder::new()
        .name("rota-webhook-event".into())
        .spawn(move || {
            let (eps, _) = endpoints(&st);
            if eps.is_empty() {
                return;
            }
            if let Err(e) = webhook::enqueue(st.store(), &eps, event, &id, at, data, st.now()) {
                tracing::error!(event = event.as_str(), error = %e, "cannot write a webhook message to the outbox");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the webhook event thread");
    }
}

fn override_data(o: &rota_store::StoredOverride, by: &str) -> Value {
    json!({
        "id": o.id,
        "rotation": o.rotation,
        "person": o.person,
        "start": rota_core::view::utc(o.start),
        "end": rota_core::view::utc(o.end),
        "reason": o.reason,
        "by": by,
    })
}

/// A swap request changed: `swap.requested`, `.accepted` (and `override.created` for each of its
/// overrides), `.declined` or `.cancelled`, by its new state.
pub fn swap_changed(st: &AppState, r: &rota_store::SwapRequest) {
    use rota_store::SwapState;
    let event = match r.state {
        SwapState::Pending => WebhookEvent::SwapRequested,
        SwapState::Accepted => WebhookEvent::SwapAccepted,
        SwapState::Declined => WebhookEvent::SwapDeclined,
        SwapState::Cancelled => WebhookEvent::SwapCancelled,
        _ => return,
    };
    let slot = |s: &rota_store::SwapSlot| json!({"slot": s.slot, "start": rota_core::view::utc(s.start), "end": rota_core::view::utc(s.end)});
    let at = r.decided_at.unwrap_or(r.created_at);
    let data = json!({
        "id": r.id,
        "rotation": r.rotation,
        "kind": r.kind,
        "requester": r.requester,
        "counterpart": r.counterpart,
        "my_slot": slot(&r.requester_slot),
        "their_slot": r.counterpart_slot.as_ref().map(slot),
        "state": r.state,
        "decided_by": r.decided_by,
        "overrides": r.overrides,
    });
    enqueue_later(st, event, format!("{}/{}", r.id, event.as_str()), at, data);
    if r.state == SwapState::Accepted {
        let st2 = st.clone();
        let ids = r.overrides.clone();
        let by = r.decided_by.clone().unwrap_or_default();
        let spawned = std::thread::Builder::new()
            .name("rota-webhook-event".into())
            .spawn(move || {
                let Ok(all) = st2.store().overrides() else {
                    return;
                };
                for o in all.iter().filter(|o| ids.contains(&o.id)) {
                    enqueue_later(
                        &st2,
                        WebhookEvent::OverrideCreated,
                        o.id.clone(),
                        o.created_at,
                        override_data(o, &by),
                    );
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the webhook event thread");
        }
    }
}

/// Writes a `handoff` for each rotation's current piece of shift not announced yet.
fn handoffs(st: &AppState, eps: &[Endpoint]) -> anyhow::Result<()> {
    if !eps
        .iter()
        .any(|e| e.events.contains(&WebhookEvent::Handoff))
    {
        return Ok(());
    }
    let snap = st.snapshot();
    let now = st.now();
    for shift in snap.schedule.on_call_all(now) {
        let data = json!({
            "rotation": shift.rotation.id,
            "rotation_name": shift.rotation.name,
            "person": rota_core::view::PersonView::from(shift.person),
            "start": rota_core::view::utc(shift.start),
            "end": rota_core::view::utc(shift.end),
            "source": shift.source.as_str(),
        });
        let id = format!(
            "{}/{}/{}",
            shift.rotation.id,
            shift.start.timestamp(),
            shift.person.id
        );
        webhook::enqueue(
            st.store(),
            eps,
            WebhookEvent::Handoff,
            &id,
            shift.start,
            data,
            now,
        )?;
    }
    Ok(())
}

/// Writes a `conflict.found` for each shift starting within the conflict horizon whose person is
/// away, once per shift (as the conflict email): absences without their titles, which may be
/// private.
fn conflicts(st: &AppState, eps: &[Endpoint]) -> anyhow::Result<()> {
    if !eps
        .iter()
        .any(|e| e.events.contains(&WebhookEvent::ConflictFound))
    {
        return Ok(());
    }
    let snap = st.snapshot();
    let now = st.now();
    let horizon = now + chrono::Duration::days(rota_notify::plan::CONFLICT_HORIZON_DAYS);
    let off = st
        .calendars()
        .time_off_for(&snap.schedule, now, horizon, horizon);
    let found = snap.schedule.conflicts(&off, now, horizon)?;
    for c in rota_core::stretch::fold_linked_conflicts(found) {
        if c.shift.start <= now {
            continue;
        }
        let mut view = rota_core::view::ConflictView::new(&c, &[]);
        for a in &mut view.absences {
            a.summary = "";
        }
        let id = format!(
            "{}/{}/{}/{}",
            c.shift.person.id,
            c.shift.rotation.id,
            c.shift.slot,
            c.shift.start.timestamp()
        );
        webhook::enqueue(
            st.store(),
            eps,
            WebhookEvent::ConflictFound,
            &id,
            now,
            serde_json::to_value(&view)?,
            now,
        )?;
    }
    Ok(())
}

/// Installs the override hook and starts the delivery thread.
pub fn install(state: &AppState, leader: &Arc<rota_notify::leader::Leader>) -> anyhow::Result<()> {
    state.on_override_change(Arc::new(|st, o, created, by| {
        let event = if created {
            WebhookEvent::OverrideCreated
        } else {
            WebhookEvent::OverrideDeleted
        };
        let at = if created { o.created_at } else { st.now() };
        enqueue_later(st, event, o.id.clone(), at, override_data(o, by));
    }));
    let st = state.clone();
    let leader = leader.clone();
    let settings = webhook::DeliverySettings::default();
    let owner = rota_notify::run::owner();
    std::thread::Builder::new()
        .name("rota-webhooks".into())
        .spawn(move || {
            let mut conflicts_read: Option<std::time::Instant> = None;
            loop {
                let (eps, problems) = endpoints(&st);
                let pending = st.store().outbox_pending(1000).unwrap_or_default();
                let snap = st.snapshot();
                let list = snap
                    .schedule
                    .webhooks()
                    .iter()
                    .map(|w| {
                        let problem = problems
                            .iter()
                            .find(|(n, _)| *n == w.name)
                            .map(|(_, p)| p.clone());
                        Integration {
                            kind: "webhook",
                            name: w.name.clone(),
                            ok: problem.is_none(),
                            problem,
                            pending: pending.iter().filter(|i| i.endpoint == w.name).count() as u64,
                        }
                    })
                    .collect();
                st.set_integrations(list);
                if leader.holding() && !eps.is_empty() {
                    if let Err(e) = handoffs(&st, &eps) {
                        tracing::error!(error = %e, "cannot write handoff webhooks");
                    }
                    // Conflicts cost more to find: once a minute, as the conflict emails.
                    if conflicts_read
                        .is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(60))
                    {
                        conflicts_read = Some(std::time::Instant::now());
                        if let Err(e) = conflicts(&st, &eps) {
                            tracing::error!(error = %e, "cannot write conflict webhooks");
                        }
                    }
                    let clock = || st.now();
                    if let Err(e) =
                        webhook::deliver_due(st.store(), &eps, &owner, &settings, &clock)
                    {
                        tracing::error!(error = %e, "webhook delivery run failed; trying again");
                    }
                }
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        })
        .context("starting the webhook thread")?;
    Ok(())
}
