//! Webhooks and Slack in `rota serve`: the glue between the service's events and rota-notify's
//! outbox and deliveries (see `rota_notify::webhook` and `rota_notify::slack` for the rules).
//!
//! - Overrides and swap requests changed through the API or the pages are written to the outbox
//!   by the replica that made the change, on a thread of its own, never holding up the response.
//! - The lease holder, every second: for each rotation whose piece of shift changed since the last
//!   one announced (the store keeps the last one with a number, so a restart repeats nothing and a
//!   handoff that happened while rota was down is announced once, if the shift is still running),
//!   writes a `handoff` webhook and, for rotations with a `slack` table, the user group, topic and
//!   channel message, each with the handoff notes left on the shift before (see
//!   `rota_server::notes`); a rotation with nobody on call (outside its `active` windows) is a
//!   handoff to nobody, with who comes next, announced the same way; once a minute a
//!   `conflict.found` for each new conflict; then delivers what is due, for at most a few seconds
//!   a run.
//! - A swap request also goes to the person asked as a Slack direct message with buttons, when
//!   Slack's Web API is configured; the buttons' answers go back through `response_url`.
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

/// How long a delivered (or given up) message's body is kept in the outbox; the admin list shows
/// that long.
const OUTBOX_KEEP_DAYS: i64 = 30;

/// Whether Slack's Web API is configured (a bot token): swap requests then go to the person
/// asked as a direct message with buttons.
static SLACK_ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// The direct message asking `r.counterpart` about swap request `r`, in the outbox, once.
fn swap_dm(st: &AppState, r: &rota_store::SwapRequest) {
    let snap = st.snapshot();
    let s = &snap.schedule;
    let (Some(to), Some(rot)) = (s.person(&r.counterpart), s.rotation(&r.rotation)) else {
        return;
    };
    let Some(email) = to.email.clone() else {
        return;
    };
    let name = |id: &str| s.person(id).map_or(id.to_string(), |p| p.name.clone());
    let span = |x: &rota_store::SwapSlot| {
        format!(
            "{} to {}",
            when(x.start, rot.timezone),
            when(x.end, rot.timezone)
        )
    };
    let text = match &r.counterpart_slot {
        Some(theirs) => format!(
            "{} asks you to trade {} shifts: you take theirs, {}, and they take yours, {}.",
            name(&r.requester),
            rot.name,
            span(&r.requester_slot),
            span(theirs)
        ),
        None => format!(
            "{} asks you to cover their {} shift, {}.",
            name(&r.requester),
            rot.name,
            span(&r.requester_slot)
        ),
    };
    let body = json!({
        "action": "dm", "email": email, "person": to.id, "swap": r.id, "text": text,
        "expires": rota_core::view::utc(r.expires_at()),
    });
    let st = st.clone();
    let key = format!("slack/dm/{}", r.id);
    let spawned = std::thread::Builder::new()
        .name("rota-slack-event".into())
        .spawn(move || {
            if let Err(e) = st.store().outbox_put(
                &key,
                webhook::SLACK,
                "slack.dm",
                &body.to_string(),
                st.now(),
            ) {
                tracing::error!(error = %e, "cannot write a Slack message to the outbox");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the Slack event thread");
    }
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
    if r.state == SwapState::Pending && SLACK_ON.get().copied().unwrap_or(false) {
        swap_dm(st, r);
    }
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

/// What was last announced per rotation and consumer, remembered here so a loop reads the store
/// only when something changed (the store's record is what counts: see
/// `rota_store::Store::mark_handoff`).
#[derive(Default)]
struct Marks(std::collections::HashMap<String, String>);

impl Marks {
    /// The announcement number when `name` moved to `value`, `None` when it is where it was.
    fn changed(
        &mut self,
        st: &AppState,
        name: String,
        value: String,
    ) -> anyhow::Result<Option<u64>> {
        if self.0.get(&name) == Some(&value) {
            return Ok(None);
        }
        let n = st.store().mark_handoff(&name, &value)?;
        self.0.insert(name, value);
        Ok(n)
    }
}

/// A rotation with nobody on call now.
struct Nobody<'s> {
    rotation: &'s rota_core::Rotation,
    /// When the last shift before now ended, if one did in the last
    /// [`rota_core::stretch::LOOK_BACK_DAYS`] days.
    since: Option<DateTime<Utc>>,
    /// The next shift, if one starts in the next [`rota_core::stretch::LOOK_BACK_DAYS`] days.
    next: Option<rota_core::Shift<'s>>,
}

/// The rotations `wanted` that have started and have nobody on call at `now` (`on_call` is who
/// is on call in the others): outside their `active` windows, or between layers. Webhooks and
/// Slack both announce this time, once each, as a handoff to nobody. It runs every second, so
/// the shifts either side are looked up only for the rotations wanted.
fn nobody_on_call<'s>(
    schedule: &'s rota_core::Schedule,
    on_call: &[rota_core::Shift<'s>],
    now: DateTime<Utc>,
    wanted: impl Fn(&rota_core::Rotation) -> bool,
) -> Vec<Nobody<'s>> {
    schedule
        .rotations()
        .iter()
        .filter(|rot| wanted(rot))
        .filter(|rot| !on_call.iter().any(|x| x.rotation.id == rot.id))
        .filter(|rot| {
            rot.layers.iter().any(|l| {
                rota_core::tz::resolve(l.timezone, l.start).is_some_and(|r| r.instant <= now)
            })
        })
        .map(|rot| Nobody {
            rotation: rot,
            since: schedule
                .previous_shift(&rot.id, now)
                .ok()
                .flatten()
                .map(|x| x.end),
            next: schedule.next_shift(&rot.id, now).ok().flatten(),
        })
        .collect()
}

/// What a handoff to nobody announces: until whose shift, so a change of who is next (an
/// override made tonight for tomorrow's first hours) is announced again.
fn nobody_mark(next: Option<&rota_core::Shift<'_>>) -> String {
    next.map_or("nobody".into(), |n| {
        format!("nobody/{}/{}", n.person.id, n.start.timestamp())
    })
}

/// Who is on call in a piece of shift, and its bounds: what a handoff announces.
fn piece(shift: &rota_core::Shift<'_>) -> String {
    format!(
        "{}/{}/{}",
        shift.person.id,
        shift.start.timestamp(),
        shift.end.timestamp()
    )
}

/// The handoff notes left for `shift`'s person, as the email states them
/// (`rota_notify::plan::notes_handed_over`).
fn handed_over(st: &AppState, shift: &rota_core::Shift<'_>) -> Vec<rota_store::HandoffNote> {
    let snap = st.snapshot();
    let notes_of = |rotation: &str, slot: u64| {
        st.store().notes(rotation, slot).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read handoff notes");
            Vec::new()
        })
    };
    rota_notify::plan::notes_handed_over(&snap.schedule, shift, &notes_of)
        .map(|(_, _, notes)| notes)
        .unwrap_or_default()
}

/// `text` safe in a Slack message: Slack reads `<...>` as mentions (`<!channel>`) and links, so
/// `&`, `<` and `>` are escaped as its documentation asks.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// How much of the handoff notes a Slack message quotes; the rest is on the shift's page.
const SLACK_NOTES_CHARS: usize = 3000;

/// The notes as a Slack message quotes them: each author's name and their note, quoted.
fn notes_text(s: &rota_core::Schedule, notes: &[rota_store::HandoffNote]) -> String {
    let mut out = String::from("\nHandoff notes:");
    for n in notes {
        let who = s
            .person(&n.author)
            .map_or(n.author.as_str(), |p| p.name.as_str());
        let quoted: Vec<String> = n
            .text
            .lines()
            .map(|l| format!("> {}", slack_escape(l)))
            .collect();
        let mut piece = format!("\n{}:\n{}", slack_escape(who), quoted.join("\n"));
        let room = SLACK_NOTES_CHARS.saturating_sub(out.chars().count());
        if piece.chars().count() > room {
            // The part that fits (never a cut escape), then where the rest is.
            piece = piece.chars().take(room).collect();
            if let Some(amp) = piece.rfind('&')
                && !piece[amp..].contains(';')
            {
                piece.truncate(amp);
            }
            out.push_str(&piece);
            out.push_str("\n… more on the shift's page.");
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// Writes a `handoff` for each rotation whose piece of shift changed since the last one
/// announced.
fn handoffs(st: &AppState, eps: &[Endpoint], marks: &mut Marks) -> anyhow::Result<()> {
    if !eps
        .iter()
        .any(|e| e.events.contains(&WebhookEvent::Handoff))
    {
        return Ok(());
    }
    let snap = st.snapshot();
    let now = st.now();
    let on_call = snap.schedule.on_call_all(now);
    // Nobody on call (outside a rotation's `active` windows, or between layers) is a handoff too:
    // to nobody, with who comes next, so a receiver that pages "the person on call" stops paging
    // the last one.
    for Nobody {
        rotation: rot,
        since,
        next,
    } in nobody_on_call(&snap.schedule, &on_call, now, |_| true)
    {
        let Some(n) = marks.changed(
            st,
            format!("webhook/{}", rot.id),
            nobody_mark(next.as_ref()),
        )?
        else {
            continue;
        };
        let data = json!({
            "rotation": rot.id,
            "rotation_name": rot.name,
            "person": null,
            "start": since.map(rota_core::view::utc),
            "end": next.as_ref().map(|x| rota_core::view::utc(x.start)),
            "slot": null,
            "source": null,
            "notes": [],
            "next": next.as_ref().map(|x| json!({
                "person": rota_core::view::PersonView::from(x.person),
                "start": rota_core::view::utc(x.start),
                "end": rota_core::view::utc(x.end),
                "slot": x.slot,
            })),
        });
        let id = format!("{}/{n}", rot.id);
        webhook::enqueue(
            st.store(),
            eps,
            WebhookEvent::Handoff,
            &id,
            since.unwrap_or(now),
            data,
            now,
        )?;
    }
    for shift in on_call {
        let Some(n) = marks.changed(st, format!("webhook/{}", shift.rotation.id), piece(&shift))?
        else {
            continue;
        };
        let notes: Vec<Value> = handed_over(st, &shift)
            .iter()
            .map(|n| json!({"author": n.author, "text": n.text, "created_at": rota_core::view::utc(n.created_at)}))
            .collect();
        let data = json!({
            "rotation": shift.rotation.id,
            "rotation_name": shift.rotation.name,
            "person": rota_core::view::PersonView::from(shift.person),
            "start": rota_core::view::utc(shift.start),
            "end": rota_core::view::utc(shift.end),
            "slot": shift.slot,
            "source": shift.source.as_str(),
            "notes": notes,
        });
        let id = format!("{}/{n}", shift.rotation.id);
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
fn conflicts(
    st: &AppState,
    eps: &[Endpoint],
    seen: &mut std::collections::HashSet<String>,
) -> anyhow::Result<()> {
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
        // Written once per process; the outbox keeps it once across processes.
        if seen.contains(&id) {
            continue;
        }
        if seen.len() > 50_000 {
            seen.clear();
        }
        seen.insert(id.clone());
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

/// `Mon 14 Dec 09:00 Europe/London`.
fn when(t: DateTime<Utc>, zone: rota_core::Tz) -> String {
    format!(
        "{} {}",
        t.with_timezone(&zone).format("%a %-d %b %H:%M"),
        zone.name()
    )
}

/// The handoff message for `shift`: who is on call now and next in each of the team's rotations,
/// the open swap requests and the known conflicts in them.
fn handoff_text(st: &AppState, shift: &rota_core::Shift<'_>) -> String {
    let snap = st.snapshot();
    let s = &snap.schedule;
    let now = st.now();
    let team: Vec<&rota_core::Rotation> = s
        .rotations()
        .iter()
        .filter(|r| {
            r.id == shift.rotation.id || (r.team.is_some() && r.team == shift.rotation.team)
        })
        .collect();
    let mut text = format!(
        "*{}*: {} is on call now, until {}.",
        shift.rotation.name,
        shift.person.name,
        when(shift.end, shift.rotation.timezone)
    );
    let on_call = s.on_call_all(now);
    for r in &team {
        let current = on_call.iter().find(|x| x.rotation.id == r.id);
        let next = current.and_then(|c| s.next_shift(&r.id, c.end).ok().flatten());
        let line = match (current, next) {
            (Some(c), Some(n)) => format!(
                "\n• {}: {} until {}, then {}",
                r.name,
                c.person.name,
                when(c.end, r.timezone),
                n.person.name
            ),
            (Some(c), None) => format!(
                "\n• {}: {} until {}",
                r.name,
                c.person.name,
                when(c.end, r.timezone)
            ),
            (None, _) => format!("\n• {}: nobody on call now", r.name),
        };
        text.push_str(&line);
    }
    let ids: Vec<&str> = team.iter().map(|r| r.id.as_str()).collect();
    let name = |id: &str| s.person(id).map_or(id.to_string(), |p| p.name.clone());
    let open: Vec<String> = st
        .store()
        .swaps(None)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            ids.contains(&r.rotation.as_str()) && r.state_at(now) == rota_store::SwapState::Pending
        })
        .map(|r| {
            format!(
                "{} asks {} ({})",
                name(&r.requester),
                name(&r.counterpart),
                r.rotation
            )
        })
        .collect();
    if !open.is_empty() {
        text.push_str(&format!("\nOpen swap requests: {}", open.join("; ")));
    }
    let notes = handed_over(st, shift);
    if !notes.is_empty() {
        text.push_str(&notes_text(s, &notes));
    }
    let horizon = now + chrono::Duration::days(28);
    let off = st.calendars().time_off_for(s, now, horizon, horizon);
    if let Ok(found) = s.conflicts(&off, now, horizon) {
        let lines: Vec<String> = rota_core::stretch::fold_linked_conflicts(found)
            .iter()
            .filter(|c| ids.contains(&c.shift.rotation.id.as_str()))
            .map(|c| {
                format!(
                    "{} is away during their {} shift from {}",
                    c.shift.person.name,
                    c.shift.rotation.name,
                    when(c.shift.start, c.shift.rotation.timezone)
                )
            })
            .collect();
        if !lines.is_empty() {
            text.push_str(&format!(
                "\nConflicts in the next 4 weeks: {}",
                lines.join("; ")
            ));
        }
    }
    text
}

/// For each rotation with a `[rotations.ID.slack]` table, the actions of its current piece of
/// shift, once: the user group, the topic, the handoff message.
fn slack_handoffs(st: &AppState, marks: &mut Marks) -> anyhow::Result<()> {
    let snap = st.snapshot();
    let now = st.now();
    let on_call = snap.schedule.on_call_all(now);
    // Nobody on call: the channel says so, once, instead of keeping the last person's topic all
    // night. The user group keeps its members (Slack's user groups cannot be empty).
    for Nobody {
        rotation: rot,
        next,
        ..
    } in nobody_on_call(&snap.schedule, &on_call, now, |rot| {
        rot.slack.as_ref().is_some_and(|s| s.channel.is_some())
    }) {
        let Some(slack) = &rot.slack else { continue };
        let Some(channel) = &slack.channel else {
            continue;
        };
        let Some(n) = marks.changed(st, format!("slack/{}", rot.id), nobody_mark(next.as_ref()))?
        else {
            continue;
        };
        let piece = format!("{}/{n}", rot.id);
        let expires = next
            .as_ref()
            .map_or(now + chrono::Duration::days(1), |n| n.start);
        let until = match &next {
            Some(x) => format!(
                "; next: {} from {}",
                x.person.name,
                when(x.start, rot.timezone)
            ),
            None => String::new(),
        };
        let mut actions: Vec<(&str, Value)> = Vec::new();
        if slack.topic {
            let topic = format!("{}: nobody on call{until}", rot.name);
            actions.push(("topic", json!({"action": "topic", "channel": channel, "topic": topic, "expires": rota_core::view::utc(expires)})));
        }
        let text = format!("*{}*: nobody is on call now{until}.", rot.name);
        actions.push(("post", json!({"action": "post", "channel": channel, "text": text, "expires": rota_core::view::utc(expires)})));
        for (action, body) in actions {
            st.store().outbox_put(
                &format!("slack/{action}/{piece}"),
                webhook::SLACK,
                &format!("slack.{action}"),
                &body.to_string(),
                now,
            )?;
        }
    }
    for shift in on_call {
        let Some(slack) = &shift.rotation.slack else {
            continue;
        };
        let Some(n) = marks.changed(st, format!("slack/{}", shift.rotation.id), piece(&shift))?
        else {
            continue;
        };
        let piece = format!("{}/{n}", shift.rotation.id);
        let expires = rota_core::view::utc(shift.end);
        let mut actions: Vec<(&str, Value)> = Vec::new();
        if let Some(group) = &slack.usergroup {
            let emails: Vec<&str> = shift.person.email.as_deref().into_iter().collect();
            actions.push(("usergroup", json!({"action": "usergroup", "usergroup": group, "emails": emails, "expires": expires})));
        }
        if let Some(channel) = &slack.channel {
            if slack.topic {
                let topic = format!(
                    "{}: {} until {}",
                    shift.rotation.name,
                    shift.person.name,
                    when(shift.end, shift.rotation.timezone)
                );
                actions.push(("topic", json!({"action": "topic", "channel": channel, "topic": topic, "expires": expires})));
            }
            actions.push(("post", json!({"action": "post", "channel": channel, "text": handoff_text(st, &shift), "expires": expires})));
        }
        for (action, body) in actions {
            let key = format!("slack/{action}/{piece}");
            st.store().outbox_put(
                &key,
                webhook::SLACK,
                &format!("slack.{action}"),
                &body.to_string(),
                now,
            )?;
        }
    }
    Ok(())
}

/// Installs the override hook and starts the delivery thread.
pub fn install(
    state: &AppState,
    leader: &Arc<rota_notify::leader::Leader>,
    slack: Option<Arc<rota_notify::slack::SlackClient>>,
) -> anyhow::Result<()> {
    let _ = SLACK_ON.set(slack.is_some());
    if let Some(client) = slack.clone() {
        // `/handoff` finds who typed it by their email address in Slack (`users.info`, cached).
        state.on_slack_user(Arc::new(move |uid| match client.email_of(uid) {
            Ok(email) => email,
            Err(e) => {
                tracing::warn!(error = %e, "cannot ask Slack who typed a command");
                None
            }
        }));
    }
    if let Some(client) = slack.clone() {
        state.on_slack_reply(Arc::new(move |url, text| {
            let client = client.clone();
            let spawned = std::thread::Builder::new()
                .name("rota-slack-reply".into())
                .spawn(move || {
                    if let Err(e) = client.respond(&url, &text) {
                        tracing::warn!(error = %e, "cannot answer a Slack button click");
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the Slack reply thread");
            }
        }));
    }
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
            let mut marks = Marks::default();
            let mut slack_marks = Marks::default();
            let mut conflicts_seen = std::collections::HashSet::new();
            let mut waiting: Vec<(String, u64)> = Vec::new();
            let mut waiting_read: Option<std::time::Instant> = None;
            let mut pruned: Option<std::time::Instant> = None;
            loop {
                let (eps, problems) = endpoints(&st);
                // What /healthz says waits: one grouped query, every 10 s.
                if waiting_read.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(10)) {
                    waiting_read = Some(std::time::Instant::now());
                    waiting = st.store().outbox_waiting().unwrap_or_default();
                }
                let waiting_for = |name: &str| waiting.iter().find(|(e, _)| e == name).map_or(0, |w| w.1);
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
                            pending: waiting_for(&w.name),
                        }
                    })
                    .collect::<Vec<_>>();
                let mut list = list;
                let slack_used = snap.schedule.rotations().iter().any(|r| r.slack.is_some());
                if slack_used {
                    let mut problem = None;
                    match &slack {
                        None => {
                            problem = Some(
                                "rotations have [slack] tables but ROTA_SLACK_TOKEN is not set"
                                    .to_string(),
                            )
                        }
                        Some(c) => {
                            // People by id, never their email addresses: /healthz is public.
                            let unknown: Vec<String> = c
                                .unknown_emails()
                                .into_iter()
                                .map(|e| {
                                    snap.schedule
                                        .people()
                                        .iter()
                                        .find(|p| p.email.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(&e)))
                                        .map_or_else(|| "someone".to_string(), |p| p.id.clone())
                                })
                                .collect();
                            let missing: Vec<&str> = snap
                                .schedule
                                .rotations()
                                .iter()
                                .filter(|r| r.slack.as_ref().is_some_and(|s| s.usergroup.is_some()))
                                .flat_map(|r| r.members.iter())
                                .filter_map(|m| snap.schedule.person(m))
                                .filter(|p| p.email.is_none())
                                .map(|p| p.id.as_str())
                                .collect();
                            let mut parts = Vec::new();
                            if !unknown.is_empty() {
                                parts.push(format!(
                                    "Slack knows nobody by the email of: {} (left out of user groups, which keep their previous members when nobody else is on call)",
                                    unknown.join(", ")
                                ));
                            }
                            if !missing.is_empty() {
                                parts.push(format!(
                                    "no email in the schedule for: {}",
                                    missing.join(", ")
                                ));
                            }
                            if !parts.is_empty() {
                                problem = Some(parts.join("; "));
                            }
                        }
                    }
                    list.push(Integration {
                        kind: "slack",
                        name: "slack".into(),
                        ok: problem.is_none(),
                        problem,
                        pending: waiting_for(webhook::SLACK),
                    });
                }
                st.set_integrations(list);
                if leader.holding()
                    && slack.is_some()
                    && slack_used
                    && let Err(e) = slack_handoffs(&st, &mut slack_marks)
                {
                    tracing::error!(error = %e, "cannot write Slack handoff actions");
                }
                if leader.holding() && (!eps.is_empty() || slack.is_some()) {
                    if let Err(e) = handoffs(&st, &eps, &mut marks) {
                        tracing::error!(error = %e, "cannot write handoff webhooks");
                    }
                    // Conflicts cost more to find: once a minute, as the conflict emails.
                    if conflicts_read
                        .is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(60))
                    {
                        conflicts_read = Some(std::time::Instant::now());
                        if let Err(e) = conflicts(&st, &eps, &mut conflicts_seen) {
                            tracing::error!(error = %e, "cannot write conflict webhooks");
                        }
                    }
                    // Finished messages' bodies go after 30 days (their delivery records stay).
                    if pruned.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(3600)) {
                        pruned = Some(std::time::Instant::now());
                        let before = st.now() - chrono::Duration::days(OUTBOX_KEEP_DAYS);
                        match st.store().outbox_prune(before) {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(deleted = n, "pruned delivered messages from the outbox"),
                            Err(e) => tracing::warn!(error = %e, "cannot prune the outbox"),
                        }
                    }
                    let clock = || st.now();
                    let configured: Vec<&str> =
                        snap.schedule.webhooks().iter().map(|w| w.name.as_str()).collect();
                    if let Err(e) = webhook::deliver_due(
                        st.store(),
                        &eps,
                        &configured,
                        slack.as_deref(),
                        &owner,
                        &settings,
                        &clock,
                    ) {
                        tracing::error!(error = %e, "webhook delivery run failed; trying again");
                    }
                }
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        })
        .context("starting the webhook thread")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Note text cannot ping the channel or hide a link: Slack's `<...>` markup is escaped, and
    /// a long note is cut, never inside an escape, with where the rest is.
    #[test]
    fn notes_in_slack_are_escaped_and_bounded() {
        let s = rota_core::Schedule::load(&[("p.toml", "[people.ann]\nname = \"Ann <A&B>\"\n")])
            .unwrap();
        let note = |text: &str| rota_store::HandoffNote {
            id: "note_1".into(),
            rotation: "r".into(),
            slot: 1,
            author: "ann".into(),
            text: text.into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
        };
        let text = notes_text(
            &s,
            &[note("<!channel> see <https://evil|Runbook> & more\nline 2")],
        );
        assert_eq!(
            text,
            "\nHandoff notes:\nAnn &lt;A&amp;B&gt;:\n> &lt;!channel&gt; see &lt;https://evil|Runbook&gt; &amp; more\n> line 2"
        );
        let long = notes_text(&s, &[note(&"<".repeat(5000))]);
        assert!(long.ends_with("\n… more on the shift's page."), "{long}");
        let body = long.trim_end_matches("\n… more on the shift's page.");
        assert!(body.chars().count() <= SLACK_NOTES_CHARS);
        assert!(body.ends_with("&lt;"), "never a cut escape: {body:.60}");
    }
}
