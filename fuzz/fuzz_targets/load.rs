//! Fuzzes the schedule loader and the resolution behind it.
//!
//! The input is split at NUL bytes into up to four schedule files (so merging across files is
//! fuzzed too), each read as UTF-8 lossily (invalid bytes become U+FFFD, which is also worth
//! feeding to the parsers). `Schedule::load` must never panic; when it accepts the files,
//! `on_call_all` and `all_shifts` over a year must not panic either, both for a fixed year
//! (2026-11-01 on) and for the year from the first rotation's start (which may be anywhere
//! between the years 1000 and 9999). The two must also agree: `on_call` at the first second, the
//! middle and the last second of a resolved shift returns that shift, for up to 64 shifts spread
//! over the year and up to 256 whose length differs from the one before (DST changes), which puts
//! lookups right at handoffs in gaps and folds, where `index_at` corrects its civil estimate.
//!
//! ```text
//! cargo fuzz run load fuzz/corpus/load -- -max_total_time=600
//! ```

#![no_main]

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use libfuzzer_sys::fuzz_target;
use rota_core::{ErrorKind, Schedule};

fuzz_target!(|data: &[u8]| {
    let texts: Vec<String> = data
        .splitn(4, |&b| b == 0)
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect();
    let names = ["a.toml", "b.toml", "c.toml", "d.toml"];
    let files: Vec<(&str, &str)> = names
        .iter()
        .zip(&texts)
        .map(|(n, t)| (*n, t.as_str()))
        .collect();
    let Ok(schedule) = Schedule::load(&files) else {
        return;
    };

    let fixed = NaiveDate::from_ymd_opt(2026, 11, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .expect("a valid date");
    let mut starts = vec![fixed];
    if let Some(r) = schedule.rotations().first() {
        starts.push(r.start.and_utc());
    }
    for from in starts {
        year(&schedule, from);
    }
});

fn year(schedule: &Schedule, from: DateTime<Utc>) {
    let to = from + Duration::days(366);
    for shift in schedule.on_call_all(from) {
        assert!(
            shift.contains(from),
            "on_call_all returned a shift not containing `at`"
        );
    }
    let shifts = match schedule.all_shifts(from, to) {
        Ok(shifts) => shifts,
        // rota clamps instants to the year 9999, so a year from a start at its very end is empty.
        Err(e) if matches!(e.kind(), ErrorKind::EmptyRange) && from.year() == 9999 => return,
        Err(e) => panic!("all_shifts({from}, {to}): {e}"),
    };
    for s in &shifts {
        assert!(s.start < s.end, "empty shift {s:?}");
        assert!(s.start < to && s.end > from, "shift outside the range");
    }
    // Up to 64 shifts spread over the year, plus up to 256 whose length differs from the previous
    // shift's in the same rotation (that is where a DST change moved a handoff).
    let step = shifts.len().div_ceil(64).max(1);
    let mut last_len = std::collections::HashMap::new();
    let mut irregular = 0;
    for (i, s) in shifts.iter().enumerate() {
        let len = s.end - s.start;
        let changed = last_len
            .insert(&s.rotation.id, len)
            .is_some_and(|l| l != len);
        if changed && irregular < 256 {
            irregular += 1;
        } else if i % step != 0 {
            continue;
        }
        let mid = s.start + (s.end - s.start) / 2;
        for t in [s.start, mid, s.end - Duration::seconds(1)] {
            let got = schedule
                .on_call(&s.rotation.id, t)
                .expect("a known rotation")
                .unwrap_or_else(|| panic!("nobody on call at {t} inside {s:?}"));
            let same = (got.start, got.end, &got.person.id, got.source.as_str())
                == (s.start, s.end, &s.person.id, s.source.as_str());
            assert!(same, "on_call at {t} gave {got:?}, all_shifts gave {s:?}");
        }
    }
}
