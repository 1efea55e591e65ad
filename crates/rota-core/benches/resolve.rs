//! Range resolution: every shift in a range. Figures and targets: `BENCHMARKS.md`.
//!
//! - `shifts/weekly_10_overrides/10y`: benchmark (c), one weekly rotation's 10 years of shifts,
//!   target < 50 µs (`no_overrides` is the same rotation without its overrides, for comparison).
//! - `all_shifts/d_100rot_8zones_1000ovr/10y`: benchmark (d), target < 10 ms (peak memory is
//!   measured by `examples/peak_memory.rs`, not here).
//! - `all_shifts/e_1000rot_10000ovr/1y`: benchmark (e), target < 100 ms.
//! - `link_shifts/*` and `link_all_shifts/*`: a year of a linked secondary rotation (and of the
//!   whole linked schedule) with `skip`, `swap` and no link.
//! - `load/d_100rot_8zones_1000ovr`: loading (d)'s TOML text, for context (no target).

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use support::{from_plus_years, linked, load, many, single, weekly_with_overrides};

fn shifts(c: &mut Criterion) {
    let (from, to) = from_plus_years(10);
    let mut g = c.benchmark_group("shifts/weekly_10_overrides");
    let with = load("weekly.toml", &weekly_with_overrides());
    let without = load("single.toml", &single("every = \"1 week\""));
    for (label, s) in [("10y", &with), ("10y_no_overrides", &without)] {
        let n = s.shifts("hero", from, to).unwrap().len();
        eprintln!("shifts/weekly_10_overrides/{label}: {n} shifts");
        g.bench_function(label, |b| {
            b.iter(|| {
                black_box(s)
                    .shifts(black_box("hero"), black_box(from), black_box(to))
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn all_shifts(c: &mut Criterion) {
    let mut g = c.benchmark_group("all_shifts");
    g.sample_size(30).measurement_time(Duration::from_secs(15));

    let (from, to) = from_plus_years(10);
    let d = load("d.toml", &many(100, 1_000, 3_652, 0xD));
    eprintln!(
        "all_shifts/d: {} rotations, {} overrides, {} shifts",
        d.rotations().len(),
        d.overrides().len(),
        d.all_shifts(from, to).unwrap().len()
    );
    g.bench_function("d_100rot_8zones_1000ovr/10y", |b| {
        b.iter(|| {
            black_box(&d)
                .all_shifts(black_box(from), black_box(to))
                .unwrap()
        })
    });
    drop(d);

    let (from, to) = from_plus_years(1);
    let e = load("e.toml", &many(1_000, 10_000, 365, 0xE));
    eprintln!(
        "all_shifts/e: {} rotations, {} overrides, {} shifts",
        e.rotations().len(),
        e.overrides().len(),
        e.all_shifts(from, to).unwrap().len()
    );
    g.bench_function("e_1000rot_10000ovr/1y", |b| {
        b.iter(|| {
            black_box(&e)
                .all_shifts(black_box(from), black_box(to))
                .unwrap()
        })
    });
    g.finish();
}

fn link_shifts(c: &mut Criterion) {
    let (from, to) = from_plus_years(1);
    let schedules: Vec<_> = [
        ("none", None),
        ("skip", Some("skip")),
        ("swap", Some("swap")),
    ]
    .into_iter()
    .map(|(label, link)| (label, load("linked.toml", &linked(link))))
    .collect();
    let mut g = c.benchmark_group("link_shifts/team-0-secondary/1y");
    for (label, s) in &schedules {
        let n = s.shifts("team-0-secondary", from, to).unwrap();
        let links = n.iter().filter(|x| x.source.as_str() == "link").count();
        eprintln!(
            "link_shifts/{label}: {} shifts, {links} from the link",
            n.len()
        );
        g.bench_function(*label, |b| {
            b.iter(|| {
                black_box(s)
                    .shifts(
                        black_box("team-0-secondary"),
                        black_box(from),
                        black_box(to),
                    )
                    .unwrap()
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("link_all_shifts/4rot/1y");
    for (label, s) in &schedules {
        g.bench_function(*label, |b| {
            b.iter(|| {
                black_box(s)
                    .all_shifts(black_box(from), black_box(to))
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn load_text(c: &mut Criterion) {
    let text = many(100, 1_000, 3_652, 0xD);
    let mut g = c.benchmark_group("load");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("d_100rot_8zones_1000ovr", |b| {
        b.iter(|| rota_core::Schedule::load(&[("d.toml", black_box(&text))]).unwrap())
    });
    g.finish();
}

criterion_group!(benches, shifts, all_shifts, link_shifts, load_text);
criterion_main!(benches);
