//! The service's shared state: the schedule (files plus run-time overrides), the state file and the
//! clock, behind one cheap-to-clone handle.
//!
//! Requests read an immutable [`Snapshot`] (an `Arc` swapped under a short lock), so a reload or a
//! write never blocks or tears a request in flight: a request sees the schedule before the change
//! or after it, never half of it.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use chrono::{DateTime, Utc};
use rota_core::{Override, Schedule};
use rota_store::Store;

/// Where "now" comes from. The service never calls `Utc::now()` directly, so tests can fix it.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always says the same instant (tests, golden files).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Loads the schedule files; returns the problems as text (one per line) when they are invalid.
pub type Loader = Arc<dyn Fn() -> Result<Loaded, String> + Send + Sync>;

/// What a [`Loader`] read: the schedule, and a digest of the files it came from (shown in
/// `/healthz`, so a monitor sees replicas serving different files).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged schedule files.
    pub schedule: Schedule,
    /// A digest of the files' names and contents, if the loader knows one.
    pub digest: Option<String>,
}

impl From<Schedule> for Loaded {
    fn from(schedule: Schedule) -> Loaded {
        Loaded {
            schedule,
            digest: None,
        }
    }
}

/// The schedule files as last loaded.
struct Files {
    schedule: Arc<Schedule>,
    loaded_at: DateTime<Utc>,
    digest: Option<String>,
    /// The problems of the last reload, if it failed: kept with the files it failed to replace,
    /// so that every rebuild (a write, the state poller) carries it until a reload succeeds.
    reload_error: Option<String>,
}

/// Called after a swap request changed (made, accepted, declined, cancelled), with the request as
/// stored. It must not block: the binary's hook sends email on a thread of its own.
pub type SwapHook = Arc<dyn Fn(&AppState, &rota_store::SwapRequest) + Send + Sync>;

/// Answers a Slack button click through its `response_url` (`(url, text)`), off the request.
pub type SlackReplyHook = Arc<dyn Fn(String, String) + Send + Sync>;

/// Finds the email address of a Slack user id (`users.info`, cached); `None` when Slack gives
/// none or cannot be asked. It may block on Slack's API: called off the workers.
pub type SlackUserHook = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// An outbound integration as `/healthz` shows it: a webhook, by name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Integration {
    /// `webhook`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Whether it can be used (its variables are set and valid).
    pub ok: bool,
    /// Why not, naming the variable, never showing a secret.
    pub problem: Option<String>,
    /// Messages waiting for delivery (pending or retrying).
    pub pending: u64,
}

/// Told about a run-time override made (`true`) or deleted (`false`) through the API, with who
/// did it (see [`AppState::on_override_change`]).
pub type OverrideHook =
    Arc<dyn Fn(&AppState, &rota_store::StoredOverride, bool, &str) + Send + Sync>;

/// What requests read: one consistent view of the schedule.
#[derive(Debug)]
pub struct Snapshot {
    /// Files plus the run-time overrides that still fit them.
    pub schedule: Arc<Schedule>,
    /// When the schedule files were last loaded.
    pub loaded_at: DateTime<Utc>,
    /// Run-time overrides that no longer fit the schedule files (their rotation or person was
    /// removed), and are ignored until the files have them again.
    pub stale_overrides: Vec<String>,
    /// The problems of the last reload that failed, if the last reload failed.
    pub reload_error: Option<String>,
    /// Counts the snapshots this process has published: every reload and every write makes a new
    /// one with a larger version, so "same version" means "same schedule". Keys the feed cache.
    /// It restarts at 1 with the process, so it never leaves the process (ETags hash the body).
    pub version: u64,
    /// When this snapshot was published (by the state's clock): the feeds' `Last-Modified`, with
    /// the feed's day.
    pub published_at: DateTime<Utc>,
    /// The store's state version the overrides were read at ([`Store::state_version`]): equal on
    /// replicas that serve the same run-time state.
    pub state_version: i64,
    /// The digest of the schedule files (see [`Loaded`]).
    pub schedule_digest: Option<String>,
    /// The run-time overrides as read with `state_version` (all of them, hidden or not): what a
    /// swap accepted against this snapshot expects to lie under its shifts.
    pub run_time_overrides: Vec<rota_store::StoredOverride>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    loader: Loader,
    files: RwLock<Files>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Serialises writers (rebuilds), so two writes cannot publish snapshots out of order.
    write: Mutex<()>,
    /// Told about swap request changes (email), if anyone listens.
    swap_hook: OnceLock<SwapHook>,
    /// Told about overrides made or deleted through the API, if anyone listens.
    override_hook: OnceLock<OverrideHook>,
    /// What `/healthz` says of the outbound integrations (webhooks): set by whoever runs them.
    integrations: RwLock<Vec<Integration>>,
    /// Answers Slack button clicks, when Slack's Web API is configured.
    slack_reply: OnceLock<SlackReplyHook>,
    slack_user: OnceLock<SlackUserHook>,
    /// The absence and holiday calendars as last read (see [`crate::calendars`]).
    calendars: RwLock<Arc<rota_calendar::Snapshot>>,
    /// The last snapshot version handed out (see [`Snapshot::version`]).
    version: AtomicU64,
    /// Rendered calendar feeds (see [`crate::ics`]).
    feeds: crate::ics::FeedCache,
    /// The state version of the published snapshot.
    state_version: AtomicI64,
    /// The service's settings (see [`crate::ServerConfig`]); the defaults until [`AppState::configure`].
    config: OnceLock<crate::ServerConfig>,
    /// What `/metrics` shows.
    metrics: Arc<crate::metrics::Metrics>,
}

/// The shared state handle.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.0.store)
            .finish_non_exhaustive()
    }
}

impl AsRef<Store> for AppState {
    fn as_ref(&self) -> &Store {
        &self.0.store
    }
}

impl AppState {
    /// Loads the schedule files with `loader` and applies the store's overrides.
    pub fn new(store: Store, clock: Arc<dyn Clock>, loader: Loader) -> Result<AppState, String> {
        let Loaded { schedule, digest } = loader()?;
        let now = clock.now();
        let empty = Arc::new(Snapshot {
            schedule: Arc::new(schedule.clone()),
            loaded_at: now,
            stale_overrides: Vec::new(),
            reload_error: None,
            version: 0,
            published_at: now,
            state_version: -1,
            schedule_digest: digest.clone(),
            run_time_overrides: Vec::new(),
        });
        let state = AppState(Arc::new(Inner {
            store,
            clock,
            loader,
            files: RwLock::new(Files {
                schedule: Arc::new(schedule),
                loaded_at: now,
                digest,
                reload_error: None,
            }),
            snapshot: RwLock::new(empty),
            write: Mutex::new(()),
            swap_hook: OnceLock::new(),
            override_hook: OnceLock::new(),
            integrations: RwLock::new(Vec::new()),
            slack_reply: OnceLock::new(),
            slack_user: OnceLock::new(),
            calendars: RwLock::new(Arc::new(rota_calendar::Snapshot::default())),
            version: AtomicU64::new(0),
            feeds: crate::ics::FeedCache::default(),
            state_version: AtomicI64::new(-1),
            config: OnceLock::new(),
            metrics: Arc::new(crate::metrics::Metrics::new()),
        }));
        let metrics = state.0.metrics.clone();
        // A store shared with another AppState (tests) keeps its first observer.
        let _ = state
            .0
            .store
            .observe(Arc::new(move |op, took, ok| metrics.store_op(op, took, ok)));
        state.rebuild().map_err(|e| e.to_string())?;
        Ok(state)
    }

    /// Sets the service's settings, once, before serving; false when they were set (or read)
    /// before, and are not changed.
    pub fn configure(&self, config: crate::ServerConfig) -> bool {
        self.0.config.set(config).is_ok()
    }

    /// The service's settings.
    pub fn config(&self) -> &crate::ServerConfig {
        self.0.config.get_or_init(crate::ServerConfig::default)
    }

    /// The service's metrics (see [`crate::metrics`]).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.0.metrics
    }

    /// The current view of the schedule.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.0
            .snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The absence and holiday calendars as last read.
    pub fn calendars(&self) -> Arc<rota_calendar::Snapshot> {
        self.0
            .calendars
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Publishes newly read calendars.
    pub fn set_calendars(&self, c: rota_calendar::Snapshot) {
        *self.0.calendars.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
    }

    /// Sets the hook told about swap request changes; only the first call takes effect.
    pub fn on_swap_change(&self, hook: SwapHook) -> bool {
        self.0.swap_hook.set(hook).is_ok()
    }

    /// Tells the hook, if any, that swap request `r` changed.
    pub fn swap_changed(&self, r: &rota_store::SwapRequest) {
        if let Some(hook) = self.0.swap_hook.get() {
            hook(self, r);
        }
    }

    /// Sets the hook told about overrides made or deleted through the API; only the first call
    /// takes effect.
    pub fn on_override_change(&self, hook: OverrideHook) -> bool {
        self.0.override_hook.set(hook).is_ok()
    }

    /// Tells the hook, if any, that override `o` was made (`created`) or deleted by `by`.
    pub fn override_changed(&self, o: &rota_store::StoredOverride, created: bool, by: &str) {
        if let Some(hook) = self.0.override_hook.get() {
            hook(self, o, created, by);
        }
    }

    /// Sets how Slack button clicks are answered; only the first call takes effect.
    pub fn on_slack_reply(&self, hook: SlackReplyHook) -> bool {
        self.0.slack_reply.set(hook).is_ok()
    }

    /// Answers a Slack button click, if a hook is set.
    pub fn slack_reply(&self, response_url: String, text: String) {
        if let Some(hook) = self.0.slack_reply.get() {
            hook(response_url, text);
        }
    }

    /// Sets how a Slack user's email address is found (for `/handoff`); only the first call
    /// takes effect.
    pub fn on_slack_user(&self, hook: SlackUserHook) -> bool {
        self.0.slack_user.set(hook).is_ok()
    }

    /// The email address of Slack user `uid`, if a hook is set and Slack gives one. May block.
    pub fn slack_email(&self, uid: &str) -> Option<String> {
        self.0.slack_user.get().and_then(|hook| hook(uid))
    }

    /// Replaces what `/healthz` says of the outbound integrations.
    pub fn set_integrations(&self, list: Vec<Integration>) {
        *self
            .0
            .integrations
            .write()
            .unwrap_or_else(|p| p.into_inner()) = list;
    }

    /// The outbound integrations, as last set.
    pub fn integrations(&self) -> Vec<Integration> {
        self.0
            .integrations
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The rendered feeds.
    pub(crate) fn feeds(&self) -> &crate::ics::FeedCache {
        &self.0.feeds
    }

    /// The state file.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// Now, by the state's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    /// Rebuilds the snapshot if the store's state version moved since it was built: a write by
    /// another replica, or by the CLI on a shared SQLite file. Returns whether it rebuilt. One
    /// cheap read when nothing changed.
    pub fn refresh(&self) -> Result<bool, rota_store::Error> {
        let version = self.0.store.state_version()?;
        // The feed token check need not read the version itself then.
        self.0.store.note_state_version(version);
        if version == self.0.state_version.load(Ordering::Relaxed) {
            return Ok(false);
        }
        self.rebuild()?;
        Ok(true)
    }

    /// Starts a thread that calls [`AppState::refresh`] every `every`, so that every replica
    /// serves a write made on another within about that long. Requests themselves never go to
    /// the store for the schedule.
    pub fn spawn_state_watcher(
        &self,
        every: std::time::Duration,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let st = self.clone();
        std::thread::Builder::new()
            .name("rota-state-watch".into())
            .spawn(move || {
                let mut failing = false;
                loop {
                    std::thread::sleep(every);
                    match st.refresh() {
                        Ok(changed) => {
                            if failing {
                                tracing::info!("the state store answers again");
                            }
                            failing = false;
                            if changed {
                                tracing::debug!("run-time state changed elsewhere; schedule rebuilt");
                            }
                        }
                        // Logged once per outage, not every tick; requests keep being served
                        // from the last snapshot.
                        Err(e) if !failing => {
                            failing = true;
                            tracing::error!(error = %e, "cannot read the state version; serving the last known schedule");
                        }
                        Err(_) => {}
                    }
                }
            })
    }

    /// Re-reads the schedule files (SIGHUP). If they are invalid, the old schedule keeps running
    /// and the problems are returned (and shown in `/healthz`).
    pub fn reload(&self) -> Result<(), String> {
        let r = self.load_files();
        self.0.metrics.reload(r.is_ok());
        r
    }

    fn load_files(&self) -> Result<(), String> {
        match (self.0.loader)() {
            Ok(Loaded { schedule, digest }) => {
                *self.0.files.write().unwrap_or_else(|p| p.into_inner()) = Files {
                    schedule: Arc::new(schedule),
                    loaded_at: self.now(),
                    digest,
                    reload_error: None,
                };
                self.rebuild().map_err(|e| e.to_string())
            }
            Err(problems) => {
                // The previous files keep running; the problems stay with them.
                self.0
                    .files
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .reload_error = Some(problems.clone());
                self.rebuild().map_err(|e| e.to_string())?;
                Err(problems)
            }
        }
    }

    /// Recomputes the snapshot from the files and the store's overrides. Called after every write.
    pub fn rebuild(&self) -> Result<(), rota_store::Error> {
        let _guard = self.0.write.lock().unwrap_or_else(|p| p.into_inner());
        let (files, loaded_at, digest, reload_error) = {
            let f = self.0.files.read().unwrap_or_else(|p| p.into_inner());
            (
                f.schedule.clone(),
                f.loaded_at,
                f.digest.clone(),
                f.reload_error.clone(),
            )
        };
        // The version first: a write landing between the two reads makes the version older than
        // the overrides, so the next check rebuilds again (never the other way round).
        let state_version = self.0.store.state_version()?;
        let stored = self.0.store.overrides()?;
        let run_time_overrides = stored.clone();
        let mut stale = Vec::new();
        let mut fitting = Vec::with_capacity(stored.len());
        for o in stored {
            if files.rotation(&o.rotation).is_some()
                && files.person(&o.person).is_some()
                && o.end > o.start
            {
                fitting.push(Override {
                    id: o.id,
                    rotation: o.rotation,
                    person: o.person,
                    start: o.start,
                    end: o.end,
                    reason: o.reason,
                });
            } else {
                tracing::warn!(id = %o.id, rotation = %o.rotation, person = %o.person, "override no longer fits the schedule files; ignored");
                stale.push(o.id);
            }
        }
        // Every override was checked against the files above, so this cannot fail; if it somehow
        // does, keep serving the files alone rather than nothing.
        let schedule = files.with_overrides(fitting).unwrap_or_else(|e| {
            tracing::error!(error = %e, "run-time overrides rejected; serving the schedule files alone");
            (*files).clone()
        });
        let snapshot = Arc::new(Snapshot {
            schedule: Arc::new(schedule),
            loaded_at,
            stale_overrides: stale,
            reload_error,
            // Under the write lock, so versions are published in order.
            version: self.0.version.fetch_add(1, Ordering::Relaxed) + 1,
            published_at: self.now(),
            state_version,
            schedule_digest: digest,
            run_time_overrides,
        });
        self.0.state_version.store(state_version, Ordering::Relaxed);
        *self.0.snapshot.write().unwrap_or_else(|p| p.into_inner()) = snapshot;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use chrono::{DateTime, Utc};
    use rota_core::Schedule;
    use rota_store::Store;

    use super::{AppState, FixedClock};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A failed reload is reported until a reload succeeds, whatever rebuilds the snapshot in
    /// between: a write through the API, or the poller seeing another replica's write. (It was
    /// once carried by the snapshot alone, and a write's rebuild forgot it: `/healthz` and
    /// `rota_schedule_reload_failing` said all was well while broken files sat on disk.)
    #[test]
    fn a_failed_reload_is_reported_until_a_reload_succeeds_across_writes() {
        let dir = tempfile::tempdir().unwrap();
        let broken = Arc::new(AtomicBool::new(false));
        let b = broken.clone();
        let loader: crate::Loader = Arc::new(move || {
            if b.load(Ordering::SeqCst) {
                return Err("rotations.toml: line 1: expected `]`".into());
            }
            Schedule::load(&[
                (
                    "people.toml",
                    include_str!("../../../schedules/people.toml"),
                ),
                (
                    "rotations.toml",
                    include_str!("../../../schedules/rotations.toml"),
                ),
            ])
            .map(Into::into)
            .map_err(|e| e.to_string())
        });
        let now = t("2026-11-23T10:00:00Z");
        let st = AppState::new(
            Store::open(dir.path().join("rota.db")).unwrap(),
            Arc::new(FixedClock(now)),
            loader,
        )
        .unwrap();
        let other = Store::open(dir.path().join("rota.db")).unwrap();
        let write = |person: &str| {
            other
                .add_override(
                    rota_store::NewOverride {
                        rotation: "support-hero".into(),
                        person: person.into(),
                        start: t("2026-12-01T09:00:00Z"),
                        end: t("2026-12-02T09:00:00Z"),
                        reason: None,
                    },
                    "alice",
                    now,
                )
                .unwrap()
        };
        assert!(st.snapshot().reload_error.is_none());

        broken.store(true, Ordering::SeqCst);
        let problems = st.reload().unwrap_err();
        assert_eq!(
            st.snapshot().reload_error.as_deref(),
            Some(problems.as_str())
        );
        let served = st.snapshot().schedule.people().len();
        assert!(served > 0, "the previous files keep running");

        // A write in this process rebuilds the snapshot: the failure is still reported.
        write("bob");
        st.rebuild().unwrap();
        assert_eq!(
            st.snapshot().reload_error.as_deref(),
            Some(problems.as_str())
        );
        // A write elsewhere, seen by the poller: still reported.
        write("carol");
        assert!(st.refresh().unwrap());
        assert_eq!(
            st.snapshot().reload_error.as_deref(),
            Some(problems.as_str())
        );
        assert_eq!(st.snapshot().run_time_overrides.len(), 2);

        // Fixed files: the report goes.
        broken.store(false, Ordering::SeqCst);
        st.reload().unwrap();
        assert!(st.snapshot().reload_error.is_none());
        write("dave");
        assert!(st.refresh().unwrap());
        assert!(st.snapshot().reload_error.is_none());
    }
}
