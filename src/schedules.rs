//! Reading the schedules directory (every `*.toml` file in it, in name order, merged into one
//! schedule: the `rota-files` crate's rule, shared with embedders). The only place the binary
//! reads schedule files, and where the query
//! commands get "the schedule the service would serve" ([`served`]): the files plus the state
//! file's run-time overrides, built by the same code `rota serve` uses.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rota_core::Schedule;

/// The schedule files of `dir`, as `(display name, text)`, sorted by file name (see
/// [`rota_files::read_dir`]).
pub fn read_dir(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    rota_files::read_dir(dir).map_err(hint)
}

/// Loads and merges the schedules directory; the error lists every problem, one per line.
pub fn load(dir: &Path) -> anyhow::Result<Schedule> {
    rota_files::load_dir(dir).map_err(hint)
}

/// [`load`] for the service: the schedule with the digest of the files it came from.
pub fn load_for_service(dir: &Path) -> Result<rota_server::Loaded, String> {
    let (schedule, digest) = rota_files::load_dir_with_digest(dir)
        .map_err(hint)
        .map_err(|e| format!("{e:#}"))?;
    Ok(rota_server::Loaded {
        schedule,
        digest: Some(digest),
    })
}

/// The error, with how to point the command at another directory when this one cannot be read.
fn hint(e: rota_files::Error) -> anyhow::Error {
    match e {
        rota_files::Error::Dir { .. } | rota_files::Error::NoFiles { .. } => {
            anyhow::anyhow!("{e} (set --schedules DIR or ROTA_SCHEDULES)")
        }
        e => e.into(),
    }
}

/// The service's state over `store`, with the schedules in `dir` loaded as `rota serve` loads them
/// and the clock fixed at `now` (run-time overrides that no longer fit the files are set aside
/// exactly as the service sets them aside).
pub fn app_state(
    dir: &Path,
    store: rota_store::Store,
    now: DateTime<Utc>,
) -> anyhow::Result<rota_server::AppState> {
    let d = dir.to_path_buf();
    let loader: rota_server::Loader = Arc::new(move || load_for_service(&d));
    rota_server::AppState::new(store, Arc::new(rota_server::FixedClock(now)), loader)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The schedule `rota serve` would serve at `now` with the state file `state`: the schedule files
/// plus the state file's run-time overrides (API overrides, accepted swaps). Every query command
/// (whoishero, oncall, shifts, ics, report, check --conflicts) builds its schedule here, so the
/// command line and the service give one answer.
///
/// A read-only command never creates the state file: when it does not exist, there are no
/// run-time overrides, and that is said once on stderr (a typo in `--state` would otherwise
/// silently show a schedule without the accepted swaps). An existing state file is opened as the
/// service opens it, which may bring its schema up to date.
pub fn served(dir: &Path, state: &Path, now: DateTime<Utc>) -> anyhow::Result<Arc<Schedule>> {
    if rota_store::is_database_url(&state.to_string_lossy()) {
        let store = crate::cli::open_store(state)?;
        return Ok(app_state(dir, store, now)?.snapshot().schedule.clone());
    }
    let exists = state
        .try_exists()
        .with_context(|| format!("looking for the state file {}", state.display()))?;
    if !exists {
        eprintln!(
            "no state file at {}: showing the schedule files only",
            state.display()
        );
        return Ok(Arc::new(load(dir)?));
    }
    let store = rota_store::Store::open(state)
        .with_context(|| format!("opening the state file {}", state.display()))?;
    Ok(app_state(dir, store, now)?.snapshot().schedule.clone())
}
