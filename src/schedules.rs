//! Reading the schedules directory: every `*.toml` file in it, in name order, merged into one
//! schedule by rota-core. The only place the binary reads schedule files, and where the query
//! commands get "the schedule the service would serve" ([`served`]): the files plus the state
//! file's run-time overrides, built by the same code `rota serve` uses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use rota_core::Schedule;

/// The schedule files of `dir`, as `(display name, text)`, sorted by file name.
pub fn read_dir(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "cannot read the schedules directory {} (set --schedules DIR or ROTA_SCHEDULES)",
            dir.display()
        )
    })?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        bail!("no *.toml schedule files in {}", dir.display());
    }
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not UTF-8 text (byte {})",
                    p.display(),
                    e.utf8_error().valid_up_to()
                )
            })?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// Loads and merges the schedules directory; the error lists every problem, one per line.
pub fn load(dir: &Path) -> anyhow::Result<Schedule> {
    let files = read_dir(dir)?;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    Ok(Schedule::load(&refs)?)
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
    let loader: rota_server::Loader = Arc::new(move || load(&d).map_err(|e| format!("{e:#}")));
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
