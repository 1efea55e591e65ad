//! Point lookups: who is on call at one instant. Figures and targets: `BENCHMARKS.md`.
//!
//! - `on_call/weekly_10_overrides/*`: benchmark (a), target < 1 µs.
//! - `far_lookup/*`: benchmark (b), a lookup 50 (and 500) years ahead must cost the same as one next
//!   week, for an `every = "1 week"` rotation, an rrule rotation, one restricted to daytime
//!   windows, one whose turns advance only in them (`when-active`), and one with three layers:
//!   nothing walks from `start`.
//!   Criterion measures the instants one after the other, so on a shared machine a change in load
//!   between them skews their ratio; the setup therefore also prints an *interleaved* ratio
//!   (batches of each instant alternating, median batch against median batch), which is the
//!   figure to quote for "costs the same".
//! - `link_on_call/*`: a secondary rotation with the hero linked into it (`skip`, `swap`) against
//!   the same schedule without the link, so the cost of resolving the link is visible.

mod support;

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use rota_core::Schedule;
use support::{at, linked, load, single, weekly_with_overrides};

fn on_call(c: &mut Criterion) {
    let s = load("weekly.toml", &weekly_with_overrides());
    assert_eq!(s.overrides().len(), 10);
    let plain = at("2027-02-10T12:00:00Z");
    let covered = at("2027-03-03T12:00:00Z");
    assert_eq!(
        s.on_call("hero", plain).unwrap().unwrap().source.as_str(),
        "rotation"
    );
    assert_eq!(
        s.on_call("hero", covered).unwrap().unwrap().source.as_str(),
        "override"
    );

    let mut g = c.benchmark_group("on_call/weekly_10_overrides");
    g.bench_function("rotation", |b| {
        b.iter(|| {
            black_box(&s)
                .on_call(black_box("hero"), black_box(plain))
                .unwrap()
        })
    });
    g.bench_function("in_override", |b| {
        b.iter(|| {
            black_box(&s)
                .on_call(black_box("hero"), black_box(covered))
                .unwrap()
        })
    });
    g.finish();
}

fn far_lookup(c: &mut Criterion) {
    let cases = [
        ("every_1_week", "every = \"1 week\""),
        ("rrule_mo_th", "rrule = \"FREQ=WEEKLY;BYDAY=MO,TH\""),
        // Restricted to daytime: the windows around the instant are converted, every slot a turn.
        (
            "restricted_1_week",
            "every = \"1 week\"\nactive = [\"06:00-18:00\"]",
        ),
        // Turns only in daytime slots, counted arithmetically from the slot number.
        (
            "when_active_4_hours",
            "every = \"4 hours\"\nactive = [\"06:00-18:00\"]\nadvance = \"when-active\"",
        ),
    ];
    let instants = [
        ("next_week", at("2026-12-02T12:00:00Z")),
        ("50_years", at("2076-12-02T12:00:00Z")),
        // A Wednesday too, like the other two: the instant's place in the week decides how
        // many slots a layered rotation composes around it, and that is not the horizon.
        ("500_years", at("2526-12-04T12:00:00Z")),
    ];
    let texts = cases
        .iter()
        .map(|(name, recurrence)| (*name, single(recurrence)))
        // Three layers composed around the instant (one restricted, one when-active).
        .chain([("layered_3", support::layered())]);
    for (name, text) in texts {
        let s = load("single.toml", &text);
        let ratios = interleaved(&s, &instants);
        eprintln!(
            "far_lookup/{name}: interleaved median ns per lookup {:?}; 50_years / next_week = \
             {:.3}, 500_years / next_week = {:.3}",
            ratios,
            ratios[1] / ratios[0],
            ratios[2] / ratios[0]
        );
        let mut g = c.benchmark_group(format!("far_lookup/{name}"));
        for (label, t) in instants {
            let shift = s.on_call("hero", t).unwrap().unwrap();
            assert!(shift.contains(t));
            g.bench_function(label, |b| {
                b.iter(|| {
                    black_box(&s)
                        .on_call(black_box("hero"), black_box(t))
                        .unwrap()
                })
            });
        }
        g.finish();
    }
}

/// Median nanoseconds per `on_call` for each instant, measured in alternating batches so that
/// every instant sees the same machine load.
fn interleaved(s: &Schedule, instants: &[(&str, DateTime<Utc>)]) -> Vec<f64> {
    const BATCHES: usize = 101;
    const PER_BATCH: u32 = 2_000;
    let mut times = vec![Vec::with_capacity(BATCHES); instants.len()];
    for _ in 0..BATCHES {
        for (i, (_, t)) in instants.iter().enumerate() {
            let start = Instant::now();
            for _ in 0..PER_BATCH {
                black_box(
                    black_box(s)
                        .on_call(black_box("hero"), black_box(*t))
                        .unwrap(),
                );
            }
            times[i].push(start.elapsed().as_nanos() as f64 / f64::from(PER_BATCH));
        }
    }
    times
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            (v[BATCHES / 2] * 10.0).round() / 10.0
        })
        .collect()
}

fn link_on_call(c: &mut Criterion) {
    let t = at("2027-02-10T12:00:00Z");
    let mut g = c.benchmark_group("link_on_call");
    for (label, link) in [
        ("none", None),
        ("skip", Some("skip")),
        ("swap", Some("swap")),
    ] {
        let s = load("linked.toml", &linked(link));
        assert!(s.on_call("team-0-secondary", t).unwrap().is_some());
        g.bench_function(label, |b| {
            b.iter(|| {
                black_box(&s)
                    .on_call(black_box("team-0-secondary"), black_box(t))
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, on_call, far_lookup, link_on_call);
criterion_main!(benches);
