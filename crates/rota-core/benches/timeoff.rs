//! Time off and fairness at organisation scale: conflicts, suggestions and the fairness report for
//! benchmark (d)'s shape (100 weekly rotations in 8 zones, 308 people, 1,000 overrides) over one
//! year, with 4 week-long absences per person. `all_shifts` over the same year is measured in the
//! same group, so the figures can be read as ratios to plain resolution.
//!
//! ```text
//! cargo bench -p rota-core --bench timeoff
//! ```

mod support;

use std::hint::black_box;
use std::time::Duration;

use chrono::{Duration as Span, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use rota_core::timeoff::{Absence, Holidays, TimeOff};
use support::{Rng, at, from_plus_years, load, many};

fn timeoff(c: &mut Criterion) {
    let mut g = c.benchmark_group("timeoff");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    let (from, to) = from_plus_years(1);
    let s = load("d.toml", &many(100, 1_000, 365, 0xD));
    let mut rng = Rng::new(0x7);
    let mut off = TimeOff::new();
    for p in s.people() {
        for _ in 0..4 {
            let start = at("2026-11-02T00:00:00Z") + Span::days(rng.range(0, 360) as i64);
            off.add(
                &p.id,
                Absence {
                    start,
                    end: start + Span::days(7),
                    summary: "away".into(),
                },
            );
        }
    }
    let mut holidays = Holidays::new();
    for (m, d) in [
        (12, 25),
        (12, 26),
        (1, 1),
        (4, 3),
        (4, 6),
        (5, 4),
        (5, 25),
        (8, 31),
    ] {
        let y = if m == 12 { 2026 } else { 2027 };
        holidays.add(NaiveDate::from_ymd_opt(y, m, d).unwrap(), "holiday");
    }
    let conflicts = s.conflicts(&off, from, to).unwrap();
    eprintln!(
        "timeoff: {} people, {} absences, {} shifts, {} conflicts in a year",
        s.people().len(),
        off.len(),
        s.all_shifts(from, to).unwrap().len(),
        conflicts.len()
    );
    let now = at("2026-11-01T00:00:00Z");
    let until = now + Span::weeks(26);
    g.bench_function("all_shifts/1y (baseline)", |b| {
        b.iter(|| black_box(&s).all_shifts(from, to).unwrap())
    });
    g.bench_function("conflicts/1y", |b| {
        b.iter(|| black_box(&s).conflicts(black_box(&off), from, to).unwrap())
    });
    // A conflict with colleagues to suggest (one that cannot be traded returns at once).
    let first = conflicts
        .iter()
        .find(|c| {
            c.shift.start > now
                && !s
                    .suggestions(&off, &c.shift, now, until)
                    .unwrap()
                    .is_empty()
        })
        .expect("a future conflict with suggestions");
    eprintln!(
        "timeoff: suggestions for {} slot {}: {} colleagues",
        first.shift.rotation.id,
        first.shift.slot,
        s.suggestions(&off, &first.shift, now, until).unwrap().len()
    );
    g.bench_function("suggestions/one conflict", |b| {
        b.iter(|| {
            black_box(&s)
                .suggestions(black_box(&off), &first.shift, now, until)
                .unwrap()
        })
    });
    g.bench_function("report/1y", |b| {
        b.iter(|| {
            black_box(&s)
                .report(from, to, black_box(&holidays))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, timeoff);
criterion_main!(benches);
