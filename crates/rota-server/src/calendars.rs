//! Keeps the absence and holiday calendars fresh: a background thread that reads every source the
//! schedule names, publishes the result in [`AppState::calendars`], and does it again every
//! refresh interval, and at once after a reload that names new sources.
//!
//! Every source is expanded into the absence index on this thread, once per read (see
//! `rota_calendar::set`), so requests only look the index up. A source that hits the
//! per-calendar expansion cap is logged, naming it (redacted).
//!
//! A source that fails keeps its last good copy (see `rota_calendar::source`); `/healthz` shows it
//! as failing with the error and the time of the last success, and the status is "degraded".
//! Fetching is blocking I/O with timeouts, so it runs on a thread of its own and never holds up a
//! request: readers see the previous snapshot until the new one is published.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rota_calendar::{Calendars, Fetcher};

use crate::state::AppState;

/// The default refresh interval: 15 minutes, about what calendar clients use for subscriptions.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(15 * 60);

/// Stops the refresher when dropped or when [`Refresher::stop`] is called.
#[derive(Debug)]
pub struct Refresher {
    stop: Arc<AtomicBool>,
}

impl Refresher {
    /// Asks the thread to stop at its next tick.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads the file sources now, on this thread, and publishes the result, so the first requests
/// see them. URLs are left to [`spawn`]'s thread, which fetches them at once: an unreachable
/// calendar host must not hold up the start of the service.
pub fn read_files(state: &AppState, base: &std::path::Path, fetcher: &Fetcher) -> Calendars {
    let snap = state.snapshot();
    let mut cals = Calendars::new(&snap.schedule, base);
    cals.refresh_files(fetcher, state.now());
    publish(state, &cals);
    cals
}

fn publish(state: &AppState, cals: &Calendars) {
    let snap = cals.snapshot();
    for (s, people) in &snap.statuses {
        if !s.ok {
            tracing::warn!(source = %s.location, people = ?people, error = s.last_error.as_deref().unwrap_or(""), "calendar source failing; keeping its last good copy");
        }
        // The location is redacted (`scheme://host/…` for URLs). Logged at every publish while
        // it lasts: a refresh every 15 minutes is a few lines an hour.
        if s.capped {
            tracing::warn!(source = %s.location, people = ?people, cap = rota_calendar::MAX_OCCURRENCES_PER_CALENDAR, steps = rota_calendar::MAX_STEPS_PER_CALENDAR, "calendar source hit the per-calendar expansion cap; some of its occurrences are not in the absence index");
        }
    }
    state.set_calendars(snap);
}

/// Starts the refresher thread with `cals`: it reads every source at once, then every `every`.
pub fn spawn(
    state: AppState,
    mut cals: Calendars,
    fetcher: Fetcher,
    every: Duration,
) -> std::io::Result<Refresher> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let mut loaded_at = state.snapshot().loaded_at;
    std::thread::Builder::new()
        .name("rota-calendars".into())
        .spawn(move || {
            let mut last: Option<Instant> = None;
            while !flag.load(Ordering::Relaxed) {
                if last.is_some() {
                    std::thread::sleep(Duration::from_millis(200).min(every));
                }
                let snap = state.snapshot();
                let mut changed = false;
                if snap.loaded_at != loaded_at {
                    loaded_at = snap.loaded_at;
                    // New sources are read at once, and every file again (an edited .ics
                    // usually comes with the reload); URLs wait for their interval.
                    cals.retarget(&snap.schedule);
                    cals.refresh_new(&fetcher, state.now());
                    cals.refresh_files(&fetcher, state.now());
                    changed = true;
                }
                if last.is_none_or(|l| l.elapsed() >= every) {
                    cals.refresh(&fetcher, state.now());
                    last = Some(Instant::now());
                    changed = true;
                }
                if changed {
                    publish(&state, &cals);
                }
            }
        })?;
    Ok(Refresher { stop })
}
