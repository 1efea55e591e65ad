//! Time off and fairness at organisation scale: conflicts, suggestions and the fairness report for
//! benchmark (d)'s shape (100 weekly rotations in 8 zones, 308 people, 1,000 overrides) over one
//! year, with 4 week-long absences per person. `all_shifts` over the same year is measured in the
//! same group, so the figures can be read as ratios to plain resolution.
//!
//! The `absence_index` group (issue 11) measures the absence index the service builds once per
//! calendar read: conflicts for 1,000 people with a year of absences each (target < 5 ms), and
//! the same with one person's calendar at the per-source cap of hostile occurrences, which must
//! add nothing per request; and the one-off cost of merging those into a set.
//!
//! ```text
//! cargo bench -p rota-core --bench timeoff
//! cargo bench -p rota-core --bench timeoff -- absence_index
//! ```

mod support;

use std::hint::black_box;
use std::time::Duration;

use chrono::{Duration as Span, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;

use rota_core::timeoff::{Absence, AbsenceSetBuilder, Holidays, TimeOff};
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

/// A heavy year: a day off every week, two 2-hour appointments a week and four
/// week-long trips (160 absences, some overlapping), from 2026-11-01.
fn a_year_of_absences(rng: &mut Rng) -> AbsenceSetBuilder {
    let mut b = AbsenceSetBuilder::new();
    let base = at("2026-11-01T00:00:00Z");
    for w in 0..52 {
        let week = base + Span::weeks(w);
        let day = week + Span::days(rng.range(0, 6) as i64);
        b.push(day, day + Span::days(1), "Day off");
        for _ in 0..2 {
            let t = week + Span::hours(rng.range(0, 7 * 24 - 3) as i64);
            b.push(t, t + Span::hours(2), "Appointment");
        }
    }
    for _ in 0..4 {
        let t = base + Span::days(rng.range(0, 358) as i64);
        b.push(t, t + Span::days(7), "Trip");
    }
    b
}

/// A typical year: four trips of 5 to 7 days, 10 single days off and 24 two-hour appointments
/// (38 absences).
fn a_typical_year(rng: &mut Rng) -> AbsenceSetBuilder {
    let mut b = AbsenceSetBuilder::new();
    let base = at("2026-11-01T00:00:00Z");
    for _ in 0..4 {
        let t = base + Span::days(rng.range(0, 358) as i64);
        b.push(t, t + Span::days(rng.range(5, 7) as i64), "Trip");
    }
    for _ in 0..10 {
        let t = base + Span::days(rng.range(0, 364) as i64);
        b.push(t, t + Span::days(1), "Day off");
    }
    for _ in 0..24 {
        let t = base + Span::hours(rng.range(0, 365 * 24 - 3) as i64);
        b.push(t, t + Span::hours(2), "Appointment");
    }
    b
}

/// The most one calendar source can put in the index (rota-calendar's per-source cap, 20,000):
/// half-hour occurrences every hour from 2026-11-01, none merging.
fn hostile(b: &mut AbsenceSetBuilder) {
    let base = at("2026-11-01T00:00:00Z");
    for h in 0..20_000 {
        let t = base + Span::hours(h);
        b.push(t, t + Span::minutes(30), "Hourly");
    }
}

fn absence_index(c: &mut Criterion) {
    let mut g = c.benchmark_group("absence_index");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    // 331 weekly rotations of 4 to 7 members over 8 zones: 1,001 people.
    let s = load("k.toml", &many(331, 0, 365, 0x11));
    let mut rng = Rng::new(0x11);
    let (mut typical, mut heavy) = (TimeOff::new(), TimeOff::new());
    for p in s.people() {
        typical.set(&p.id, Arc::new(a_typical_year(&mut rng).build()));
        heavy.set(&p.id, Arc::new(a_year_of_absences(&mut rng).build()));
    }
    // The hostile calendar belongs to someone on call early in the window, on top of their own.
    let now = at("2026-11-01T00:00:00Z");
    let victim = s
        .all_shifts(now, now + Span::days(7))
        .unwrap()
        .first()
        .map(|x| x.person.id.clone())
        .unwrap();
    let with_hostile = |off: &TimeOff| {
        let mut off = off.clone();
        let mut b = a_year_of_absences(&mut Rng::new(0x99));
        hostile(&mut b);
        off.set(&victim, Arc::new(b.build()));
        off
    };
    let (typical_h, heavy_h) = (with_hostile(&typical), with_hostile(&heavy));
    let (d91, y1) = (now + Span::days(91), now + Span::days(365));
    eprintln!(
        "absence_index: {} people, {} rotations; {} shifts in 91 days, {} in a year; typical: {} \
         stretches, {} conflicts in 91 days; heavy: {} stretches, {} conflicts in 91 days; the \
         hostile calendar adds {} stretches",
        s.people().len(),
        s.rotations().len(),
        s.all_shifts(now, d91).unwrap().len(),
        s.all_shifts(now, y1).unwrap().len(),
        typical.len(),
        s.conflicts(&typical, now, d91).unwrap().len(),
        heavy.len(),
        s.conflicts(&heavy, now, d91).unwrap().len(),
        heavy_h.len() - heavy.len(),
    );
    g.bench_function("all_shifts/91d (baseline)", |b| {
        b.iter(|| black_box(&s).all_shifts(now, d91).unwrap())
    });
    let cases = [
        ("conflicts/91d/typical year", &typical, d91),
        (
            "conflicts/91d/typical year + hostile calendar",
            &typical_h,
            d91,
        ),
        ("conflicts/91d/heavy year", &heavy, d91),
        ("conflicts/91d/heavy year + hostile calendar", &heavy_h, d91),
        ("conflicts/1y/typical year", &typical, y1),
    ];
    for (name, off, to) in cases {
        g.bench_function(name, |b| {
            b.iter(|| black_box(&s).conflicts(black_box(off), now, to).unwrap())
        });
    }
    // One lookup, as every shift costs: a person with a heavy year, and the hostile one.
    let t = now + Span::days(200);
    let (one, bad) = (heavy.of(&victim), heavy_h.of(&victim));
    g.bench_function("is_free/a heavy year", |b| {
        b.iter(|| black_box(one).is_free(t, t + Span::days(7)))
    });
    g.bench_function("is_free/hostile calendar at the cap", |b| {
        b.iter(|| black_box(bad).is_free(t, t + Span::days(7)))
    });
    // Once per read, on the refresher's thread: merging what a source expanded.
    g.bench_function("build/a heavy year (160)", |b| {
        b.iter(|| a_year_of_absences(&mut Rng::new(0x99)).build())
    });
    g.bench_function("build/hostile calendar at the cap (20,000)", |b| {
        b.iter(|| {
            let mut b = AbsenceSetBuilder::new();
            hostile(&mut b);
            b.build()
        })
    });
    eprintln!(
        "absence_index: the hostile set holds {} stretches in {} bytes",
        bad.len(),
        bad.heap_bytes()
    );
    g.finish();
}

criterion_group!(benches, timeoff, absence_index);
criterion_main!(benches);
