//! Peak memory of resolving benchmark (d) (or (e)) once: reads `VmHWM` (peak resident set) from
//! `/proc/self/status`. Linux only. Part of the benchmarks: see `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release -p rota-core --example peak_memory          # (d): 100 rotations, 10 years
//! cargo run --release -p rota-core --example peak_memory -- e     # (e): 1,000 rotations, 1 year
//! /usr/bin/time -v target/release/examples/peak_memory d --no-reset   # seen from outside
//! ```
//!
//! It prints the peak for the whole process (binary, generated TOML text, loaded schedule and the
//! resolved shifts) and, after resetting the peak with `/proc/self/clear_refs` (Linux 4.0+), the
//! peak of the `all_shifts` call alone on top of the loaded schedule. `--no-reset` skips the reset,
//! so that `/usr/bin/time -v` (which reads the kernel's peak at exit) sees the whole run's peak.

#[path = "../benches/support/mod.rs"]
mod support;

use std::fs;

use support::{from_plus_years, load, many};

/// `VmHWM` and `VmRSS` from `/proc/self/status`, in KiB.
fn vm() -> (u64, u64) {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let no_reset = args.iter().any(|a| a == "--no-reset");
    let which = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "d".into());
    let (rotations, overrides, days, years, seed) = match which.as_str() {
        "d" => (100, 1_000, 3_652, 10, 0xD),
        "e" => (1_000, 10_000, 365, 1, 0xE),
        other => panic!("unknown case {other:?}: expected d or e"),
    };
    let (_, rss0) = vm();
    println!("case ({which}): {rotations} rotations, {overrides} overrides, {years} years");
    println!("start:            VmRSS {}", mib(rss0));

    let text = many(rotations, overrides, days, seed);
    let schedule = load("bench.toml", &text);
    let (hwm, rss) = vm();
    println!(
        "loaded:           VmRSS {}, VmHWM {} (TOML text {} KiB)",
        mib(rss),
        mib(hwm),
        text.len() / 1024
    );
    drop(text);

    // Reset the peak so the next reading is the peak of `all_shifts` alone (on top of the loaded
    // schedule, which stays resident).
    let reset = !no_reset && fs::write("/proc/self/clear_refs", "5").is_ok();
    let (hwm_before, rss_before) = vm();
    let (from, to) = from_plus_years(years);
    let shifts = schedule.all_shifts(from, to).unwrap();
    let (hwm_after, rss_after) = vm();
    let result_bytes = shifts.capacity() * size_of::<rota_core::Shift<'_>>();
    println!(
        "resolved:         {} shifts, result Vec {} ({} B per shift)",
        shifts.len(),
        mib(result_bytes as u64 / 1024),
        size_of::<rota_core::Shift<'_>>()
    );
    println!(
        "all_shifts call:  VmRSS {} -> {}, peak during the call {}{}",
        mib(rss_before),
        mib(rss_after),
        mib(hwm_after),
        if reset {
            format!(
                " (+{} over the loaded schedule)",
                mib(hwm_after.saturating_sub(hwm_before.min(rss_before)))
            )
        } else {
            " (peak not reset: this is the process peak)".into()
        }
    );
    drop(shifts);
    println!("process peak:     VmHWM {}", mib(hwm.max(hwm_after)));
}
