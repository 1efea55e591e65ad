//! What reading a calendar costs, once per read (issue 11): [`Calendar::index`] of the issue's
//! hostile calendar (200 events of `RRULE:FREQ=HOURLY;COUNT=50000`), of a calendar of minutely
//! rules, and of an ordinary out-of-office calendar, each expanded over the index window. The
//! per-request side (conflicts reading the merged index) is rota-core's `absence_index` bench.
//!
//! ```text
//! cargo bench -p rota-calendar --bench index
//! ```

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use rota_calendar::{index_window, parse};

fn calendar(events: &[String]) -> String {
    let mut t = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rota//bench//EN\r\n");
    for (i, e) in events.iter().enumerate() {
        t.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:e{i}\r\nDTSTAMP:20260101T000000Z\r\n{e}\r\nEND:VEVENT\r\n"
        ));
    }
    t.push_str("END:VCALENDAR\r\n");
    t
}

fn index(c: &mut Criterion) {
    let mut g = c.benchmark_group("calendar_index");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let now: DateTime<Utc> = "2026-11-23T12:00:00Z".parse().unwrap();
    let (from, to) = index_window(now);
    let hourly: Vec<String> = (0..200)
        .map(|i| {
            format!(
                "SUMMARY:Hourly {i}\r\nDTSTART:20261101T{:02}0000Z\r\nDURATION:PT30M\r\n\
                 RRULE:FREQ=HOURLY;COUNT=50000",
                i % 24
            )
        })
        .collect();
    // About 15 KiB of minutely rules starting years before the window (the issue's CLI case).
    let minutely: Vec<String> = (0..120)
        .map(|i| {
            format!(
                "SUMMARY:M{i}\r\nDTSTART:20200101T000000Z\r\nDURATION:PT1M\r\nRRULE:FREQ=MINUTELY"
            )
        })
        .collect();
    // An ordinary year: 12 trips, a weekly recurring half day, a few single days.
    let mut ordinary: Vec<String> = (0..12)
        .map(|m| {
            format!(
                "SUMMARY:Trip\r\nDTSTART;VALUE=DATE:2027{:02}03\r\nDTEND;VALUE=DATE:2027{:02}08",
                m + 1,
                m + 1
            )
        })
        .collect();
    ordinary.push(
        "SUMMARY:Half day\r\nDTSTART;TZID=Europe/London:20261106T130000\r\n\
         DTEND;TZID=Europe/London:20261106T170000\r\nRRULE:FREQ=WEEKLY;BYDAY=FR"
            .to_string(),
    );
    for (name, events) in [
        ("hostile: 200 x HOURLY;COUNT=50000", &hourly),
        ("hostile: 120 x MINUTELY since 2020", &minutely),
        ("ordinary: 12 trips and a weekly half day", &ordinary),
    ] {
        let text = calendar(events);
        let cal = parse(&text).unwrap();
        let x = cal.index(chrono_tz::Europe::London, from, to);
        eprintln!(
            "calendar_index: {name}: {} bytes of text, {} occurrences kept, {} stretches in {} \
             bytes, capped: {}",
            text.len(),
            x.occurrences,
            x.set.len(),
            x.set.heap_bytes(),
            x.capped
        );
        g.bench_function(name, |b| {
            b.iter(|| black_box(&cal).index(chrono_tz::Europe::London, from, to))
        });
    }
    g.finish();
}

criterion_group!(benches, index);
criterion_main!(benches);
