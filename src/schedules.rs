//! Reading the schedules directory: every `*.toml` file in it, in name order, merged into one
//! schedule by rota-core. The only place the binary reads schedule files.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
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
