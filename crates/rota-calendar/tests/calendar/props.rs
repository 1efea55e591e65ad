//! Property tests: no text, however broken, makes `parse`, `busy` or `dates` panic.

use crate::{fixture, utc};
use proptest::prelude::*;
use rota_calendar::parse;

/// Runs everything a caller can run on a text.
fn exercise(text: &str) {
    if let Ok(cal) = parse(text) {
        let _ = cal.events();
        let _ = cal.warnings();
        for zone in ["Europe/London", "Pacific/Apia", "Australia/Lord_Howe"] {
            let tz = crate::tz(zone);
            let _ = cal.busy(tz, utc("2026-01-01"), utc("2028-01-01"));
            let _ = cal.busy(tz, utc("9999-06-01"), utc("9999-12-31"));
            let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
            let _ = cal.dates(tz, d(2026, 1, 1), d(2027, 12, 31));
            let _ = cal.dates(tz, d(9999, 12, 1), d(9999, 12, 31));
        }
    }
}

fn fixtures() -> Vec<String> {
    ["google.ics", "outlook.ics", "apple.ics", "holidays.ics"]
        .iter()
        .map(|f| fixture(f))
        .collect()
}

/// Content-line fragments that make mutations hit interesting code, not just the tokenizer.
const FRAGMENTS: &[&str] = &[
    "\r\nRRULE:FREQ=DAILY\r\n",
    "\r\nRRULE:FREQ=SECONDLY;BYSECOND=1\r\n",
    "\r\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\r\n",
    "\r\nRRULE:FREQ=WEEKLY;BYDAY=TÜ\r\n",
    "\r\nEXDATE;VALUE=DATE:20261023,x\r\n",
    "\r\nRDATE:99991231T235959Z\r\n",
    "\r\nDTSTART:99991231T235959Z\r\n",
    "\r\nDURATION:P9999999D\r\n",
    "\r\nDTSTART;TZID=Pacific/Apia:20111230T090000\r\n",
    "\r\nRECURRENCE-ID;VALUE=DATE:20261106\r\n",
    "\r\nSTATUS:CANCELLED\r\n",
    "\r\nBEGIN:VEVENT\r\n",
    "\r\nEND:VEVENT\r\n",
    ";TZID=\"",
    "\r\n ",
    "é€😀",
];

fn mutate(text: &str, ops: &[(u8, usize, usize)]) -> String {
    let mut s = text.to_string();
    for &(kind, a, b) in ops {
        let at = floor_char(&s, a % (s.len() + 1));
        match kind % 4 {
            // Delete a short run.
            0 => {
                let end = floor_char(&s, (at + b % 64).min(s.len()));
                s.replace_range(at..end, "");
            }
            // Insert a fragment.
            1 => s.insert_str(at, FRAGMENTS[b % FRAGMENTS.len()]),
            // Duplicate a run (e.g. a whole line or component).
            2 => {
                let end = floor_char(&s, (at + b % 400).min(s.len()));
                let dup = s[at..end].to_string();
                s.insert_str(end, &dup);
            }
            // Flip a digit, the likeliest way to make a date or time invalid or extreme.
            _ => {
                if let Some(i) = s[at..].find(|c: char| c.is_ascii_digit()) {
                    let i = at + i;
                    let digit = char::from(b'0' + (b % 10) as u8);
                    s.replace_range(i..i + 1, &digit.to_string());
                }
            }
        }
    }
    s
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "(BEGIN:VCALENDAR\r\n)?[ -~\r\n\u{e9}\u{fffd}]{0,400}") {
        exercise(&text);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..4,
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..8),
    ) {
        let text = mutate(&fixtures()[which], &ops);
        exercise(&text);
    }
}

#[test]
fn fixtures_unmutated_are_exercised_too() {
    for text in fixtures() {
        assert!(parse(&text).is_ok());
        exercise(&text);
    }
}
