//! One reminder run: plan (pure, [`crate::plan`]), then for each due message claim its ledger
//! key, send, and record the outcome. See the crate doc for the exactly-once discipline.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use lettre::message::Mailbox;
use rota_core::Schedule;
use rota_store::{Claim, LedgerItem, LedgerState, Store};

use crate::error::{Error, ErrorKind};
use crate::message;
use crate::plan::{self, Content, Decision, Lead, PlanConfig, Planned, Snapshot, SwapEvent};
use crate::send::Mailer;

/// Everything a run needs besides the schedule, the store and the mailer.
#[derive(Clone, Debug)]
pub struct Settings {
    /// What to plan.
    pub plan: PlanConfig,
    /// The From address.
    pub from: Mailbox,
    /// How long a `sending` claim of another live sender is respected before it is taken over.
    pub lease: Duration,
    /// The first retry waits this long; each further one twice as long as the one before ...
    pub backoff: Duration,
    /// ... up to this.
    pub backoff_cap: Duration,
}

impl Settings {
    /// Reads `ROTA_REMIND_LEADS` (default `"7 days, 1 day"`), `ROTA_BASE_URL` and `ROTA_SMTP_FROM`
    /// (default `rota <rota@localhost>`, for dry runs) through `get`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Settings, Error> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let leads = match get("ROTA_REMIND_LEADS") {
            Some(s) => Lead::parse_list(&s)?,
            None => Lead::DEFAULTS.to_vec(),
        };
        let from = get("ROTA_SMTP_FROM").unwrap_or_else(|| "rota <rota@localhost>".into());
        let from: Mailbox = from
            .parse()
            .map_err(|e| Error::new(ErrorKind::Config(format!("ROTA_SMTP_FROM={from:?}: {e}"))))?;
        Ok(Settings {
            plan: PlanConfig {
                leads,
                base_url: get("ROTA_BASE_URL"),
                ..PlanConfig::default()
            },
            from,
            lease: Duration::minutes(10),
            backoff: Duration::minutes(1),
            backoff_cap: Duration::hours(1),
        })
    }

    /// How long to wait after failed attempt number `attempt` (1-based).
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let factor = 1i32 << attempt.saturating_sub(1).min(20);
        (self.backoff * factor).min(self.backoff_cap)
    }
}

/// What a run will do: the decisions for every due message, and the snapshots to store for people
/// whose shifts did not change (or who get no notice).
#[derive(Clone, Debug)]
pub struct Run {
    /// Each due message and what to do with it.
    pub decisions: Vec<(Planned, Decision)>,
    /// `(person, snapshot)` to store as they are.
    pub snapshots: Vec<(String, Snapshot)>,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Keys sent.
    pub sent: Vec<String>,
    /// Keys that failed this time: (key, error). They are retried unless the error was permanent.
    pub failed: Vec<(String, String)>,
    /// Keys recorded as superseded or expired without sending.
    pub finished: Vec<String>,
    /// Keys left alone (already sent, waiting, held by another sender).
    pub skipped: usize,
}

/// Plans a run at `now`: reads the ledger and the snapshots, writes nothing.
pub fn plan_run(
    schedule: &Schedule,
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Run, Error> {
    let (mut due, superseded) = plan::plan_reminders(schedule, &settings.plan, now);
    // Handoff notes for whoever took over: one store read per rotation whose person changed.
    let notes_of = |rotation: &str, slot: u64| {
        store.notes(rotation, slot).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read handoff notes");
            Vec::new()
        })
    };
    due.extend(plan::plan_handoff_notes(
        schedule,
        &notes_of,
        now,
        settings.plan.base_url.as_deref(),
    ));
    let mut snapshots = Vec::new();
    for person in schedule.people() {
        let current = Snapshot::take(schedule, &person.id, now, settings.plan.horizon);
        let previous = store
            .notify_snapshot(&person.id)?
            .and_then(|(json, _)| Snapshot::from_json(&json));
        let reminded = match &previous {
            Some(prev) => reminded_slots(store, settings, &person.id, prev, &current)?,
            None => HashSet::new(),
        };
        match plan::plan_change(
            person,
            previous.as_ref(),
            &current,
            settings.plan.base_url.as_deref(),
            &reminded,
        ) {
            Some(p) => due.push(p),
            None => snapshots.push((person.id.clone(), current)),
        }
    }
    let keys: Vec<&str> = due
        .iter()
        .chain(&superseded)
        .map(|p| p.key.as_str())
        .collect();
    let ledger: HashMap<String, _> = store
        .ledger_entries(&keys)?
        .into_iter()
        .map(|e| (e.key.clone(), e))
        .collect();
    let mut decisions = plan::select(due, superseded, &ledger, now);
    // A change notice already sent (its snapshot is stored with it, so this is rare): store the
    // snapshot now.
    for (p, d) in &decisions {
        if let (Content::Change { snapshot, .. }, Decision::Skip(_)) = (&p.content, d)
            && ledger
                .get(&p.key)
                .is_some_and(|e| e.state != LedgerState::Retry)
        {
            snapshots.push((p.to.id.clone(), snapshot.clone()));
        }
    }
    decisions.sort_by_key(|(p, _)| p.expires.unwrap_or(DateTime::<Utc>::MAX_UTC));
    Ok(Run {
        decisions,
        snapshots,
    })
}

/// Of the slots `person` had in `previous` that moved or went away, those whose reminder (under
/// any lead time configured now) the ledger says was sent, or may have been (`sending`): their
/// event may be in the person's calendar, so the change notice carries an update for it.
fn reminded_slots(
    store: &Store,
    settings: &Settings,
    person: &str,
    previous: &Snapshot,
    current: &Snapshot,
) -> Result<HashSet<(String, u64)>, Error> {
    let slots = plan::moved_slots(previous, current);
    if slots.is_empty() {
        return Ok(HashSet::new());
    }
    let mut by_key: HashMap<String, (String, u64)> = HashMap::new();
    for (rotation, slot) in &slots {
        for &lead in &settings.plan.leads {
            by_key.insert(
                plan::reminder_key(rotation, *slot, person, lead),
                (rotation.clone(), *slot),
            );
        }
    }
    let keys: Vec<&str> = by_key.keys().map(String::as_str).collect();
    Ok(store
        .ledger_entries(&keys)?
        .into_iter()
        .filter(|e| matches!(e.state, LedgerState::Sent | LedgerState::Sending))
        .filter_map(|e| by_key.get(&e.key).cloned())
        .collect())
}

/// This process, as a ledger owner: `host/pid`.
pub fn owner() -> String {
    format!("{}/{}", host(), std::process::id())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Owners known to be dead though not on this host: replicas whose background-work lease lapsed
/// and was taken over (see [`crate::leader`]).
static DEAD: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Records that `owner` is dead (its lease lapsed), so a message it left in `sending` is taken
/// over at once rather than after the ledger's claim lease.
pub fn declare_dead(owner: &str) {
    let mut dead = DEAD.lock().unwrap_or_else(|p| p.into_inner());
    if !dead.iter().any(|d| d == owner) {
        // Bounded: one entry per takeover, and takeovers are rare; keep the latest hundred.
        if dead.len() >= 100 {
            dead.remove(0);
        }
        dead.push(owner.to_string());
    }
}

/// Whether `owner` is a process on this host that no longer exists (Linux: no `/proc/PID`), or
/// a replica declared dead by [`declare_dead`].
pub(crate) fn is_dead(owner: &str) -> bool {
    if owner != crate::run::owner()
        && DEAD
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|d| d == owner)
    {
        return true;
    }
    let Some((h, pid)) = owner.rsplit_once('/') else {
        return false;
    };
    std::path::Path::new("/proc/self").exists()
        && h == host()
        && pid.parse::<u32>().is_ok()
        && pid != std::process::id().to_string()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Carries out a planned run: claims, sends and records each message in turn. `clock` gives the
/// instants written to the ledger.
pub fn execute(
    run: Run,
    store: &Store,
    mailer: &dyn Mailer,
    settings: &Settings,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<Report, Error> {
    let me = owner();
    let mut report = Report::default();
    let snaps: Vec<(String, String)> = run
        .snapshots
        .iter()
        .map(|(p, s)| (p.clone(), s.to_json()))
        .collect();
    let refs: Vec<(&str, &str)> = snaps
        .iter()
        .map(|(p, s)| (p.as_str(), s.as_str()))
        .collect();
    if !refs.is_empty() {
        store.set_notify_snapshots(&refs, clock())?;
    }
    for (p, decision) in run.decisions {
        let item = LedgerItem {
            key: &p.key,
            kind: &p.kind,
            person: &p.to.id,
            recipient: &p.to.email,
            expires: p.expires,
        };
        match decision {
            Decision::Skip(_) => report.skipped += 1,
            Decision::Supersede => {
                store.ledger_finish(
                    &item,
                    LedgerState::Superseded,
                    "a shorter lead time was due at the same time",
                    clock(),
                )?;
                report.finished.push(p.key.clone());
            }
            Decision::Expire => {
                store.ledger_finish(
                    &item,
                    LedgerState::Failed,
                    "expired: the shift started",
                    clock(),
                )?;
                report.finished.push(p.key.clone());
            }
            Decision::Send => {
                send_one(&p, &item, store, mailer, settings, clock, &me, &mut report)?
            }
        }
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn send_one(
    p: &Planned,
    item: &LedgerItem<'_>,
    store: &Store,
    mailer: &dyn Mailer,
    settings: &Settings,
    clock: &dyn Fn() -> DateTime<Utc>,
    me: &str,
    report: &mut Report,
) -> Result<(), Error> {
    let mut claim = store.ledger_claim(item, me, settings.lease, clock())?;
    if let Claim::Busy { owner, .. } = &claim
        && is_dead(owner)
        && let Some(c) = store.ledger_take_over(&p.key, owner, me, clock())?
    {
        claim = c;
    }
    let (attempt, recovered) = match claim {
        Claim::Claimed { attempt, recovered } => (attempt, recovered),
        _ => {
            report.skipped += 1;
            return Ok(());
        }
    };
    if recovered {
        tracing::warn!(key = %p.key, "a previous sender died while sending this message; sending again with the same Message-ID (it may arrive twice)");
    }
    let now = clock();
    let result = message::build(p, &settings.from, now)
        .map_err(|e| crate::send::SendError {
            permanent: true,
            message: e.to_string(),
        })
        .and_then(|m| mailer.send(&m));
    match result {
        Ok(()) => {
            let snapshot = match &p.content {
                Content::Change { snapshot, .. } => Some(snapshot.to_json()),
                _ => None,
            };
            store.ledger_sent(
                &p.key,
                me,
                clock(),
                snapshot.as_deref().map(|s| (p.to.id.as_str(), s)),
            )?;
            tracing::info!(key = %p.key, to = %p.to.email, attempt, "sent");
            report.sent.push(p.key.clone());
        }
        Err(e) => {
            let now = clock();
            let next = (!e.permanent)
                .then(|| now + settings.backoff_after(attempt))
                .filter(|n| p.expires.is_none_or(|x| *n < x));
            store.ledger_retry(&p.key, me, next, &e.message, now)?;
            match next {
                Some(n) => {
                    tracing::warn!(key = %p.key, to = %p.to.email, attempt, error = %e.message, retry_at = %rota_core::view::utc(n), "not sent; will retry")
                }
                None => {
                    tracing::error!(key = %p.key, to = %p.to.email, attempt, error = %e.message, "not sent; giving up")
                }
            }
            report.failed.push((p.key.clone(), e.message));
        }
    }
    Ok(())
}

/// Plans and executes one run at `clock()`.
pub fn run_once(
    schedule: &Schedule,
    store: &Store,
    mailer: &dyn Mailer,
    settings: &Settings,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<Report, Error> {
    let run = plan_run(schedule, store, settings, clock())?;
    execute(run, store, mailer, settings, clock)
}

/// Sends the messages of a swap event, exactly once per (event, person). For the swap flow.
pub fn send_swap(
    event: &SwapEvent,
    store: &Store,
    mailer: &dyn Mailer,
    settings: &Settings,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<Report, Error> {
    let planned = plan::plan_swap(event, settings.plan.base_url.as_deref());
    let keys: Vec<&str> = planned.iter().map(|p| p.key.as_str()).collect();
    let ledger: HashMap<String, _> = store
        .ledger_entries(&keys)?
        .into_iter()
        .map(|e| (e.key.clone(), e))
        .collect();
    let decisions = plan::select(planned, Vec::new(), &ledger, clock());
    execute(
        Run {
            decisions,
            snapshots: Vec::new(),
        },
        store,
        mailer,
        settings,
        clock,
    )
}

/// Plans the conflict emails due at `now` (one per new conflict; see
/// [`plan::plan_conflicts`]): reads the ledger, writes nothing.
pub fn plan_conflict_run(
    schedule: &Schedule,
    time_off: &rota_core::timeoff::TimeOff,
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Run, Error> {
    let planned = plan::plan_conflicts(schedule, time_off, now, settings.plan.base_url.as_deref());
    let keys: Vec<&str> = planned.iter().map(|p| p.key.as_str()).collect();
    let ledger: HashMap<String, _> = store
        .ledger_entries(&keys)?
        .into_iter()
        .map(|e| (e.key.clone(), e))
        .collect();
    Ok(Run {
        decisions: plan::select(planned, Vec::new(), &ledger, now),
        snapshots: Vec::new(),
    })
}

/// Sends one email per new conflict (a shift whose person is away for some of it), exactly once
/// per conflict through the ledger. `time_off` holds everyone's absences around `clock()`.
pub fn run_conflicts(
    schedule: &Schedule,
    time_off: &rota_core::timeoff::TimeOff,
    store: &Store,
    mailer: &dyn Mailer,
    settings: &Settings,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<Report, Error> {
    let run = plan_conflict_run(schedule, time_off, store, settings, clock())?;
    execute(run, store, mailer, settings, clock)
}

/// `--dry-run`: one line per due message: what, to whom, and why.
pub fn describe(run: &Run, now: DateTime<Utc>) -> Vec<String> {
    run.decisions
        .iter()
        .map(|(p, d)| {
            let what = match d {
                Decision::Send => "send".to_string(),
                Decision::Supersede => "supersede (not sent)".to_string(),
                Decision::Expire => "give up (expired)".to_string(),
                Decision::Skip(why) => format!("skip ({why})"),
            };
            let subject = message::render(p, now).subject;
            format!(
                "{what}: {} to {} <{}>: {:?}; because {}",
                p.key, p.to.name, p.to.email, subject, p.why
            )
        })
        .collect()
}
