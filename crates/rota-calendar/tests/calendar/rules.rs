//! The interpretation rules, one at a time, on small hand-written calendars.

use crate::{busy_lines, calendar_of, tz, utc};
use rota_calendar::{ErrorKind, MAX_OCCURRENCES, parse};

#[test]
fn day_long_absences_on_dst_change_days_are_23_or_25_hours() {
    #[rustfmt::skip]
    let rows = [
        // (zone, date, start, end)
        // London springs forward on 28 March 2027: 23 hours.
        ("Europe/London", "20270328", "2027-03-28T00:00Z", "2027-03-28T23:00Z"),
        // and falls back on 25 October 2026: 25 hours.
        ("Europe/London", "20261025", "2026-10-24T23:00Z", "2026-10-26T00:00Z"),
        // Chicago falls back on 1 November 2026: 25 hours.
        ("America/Chicago", "20261101", "2026-11-01T05:00Z", "2026-11-02T06:00Z"),
        // Lord Howe's 30-minute change on 4 October 2026: 23.5 hours.
        ("Australia/Lord_Howe", "20261004", "2026-10-03T13:30Z", "2026-10-04T13:00Z"),
        // Santiago's midnight does not exist on 6 September 2026: the day starts at 01:00.
        ("America/Santiago", "20260906", "2026-09-06T04:00Z", "2026-09-07T03:00Z"),
        // Kolkata: no DST, 24 hours at +05:30.
        ("Asia/Kolkata", "20270328", "2027-03-27T18:30Z", "2027-03-28T18:30Z"),
    ];
    for (zone, date, start, end) in rows {
        let cal = calendar_of("", &[&format!("SUMMARY:Off\nDTSTART;VALUE=DATE:{date}")]);
        let got = busy_lines(&cal, zone, "2026-01-01", "2028-01-01");
        assert_eq!(
            got,
            [format!("{start} {end} Off (all day)")],
            "{zone} {date}"
        );
    }
}

#[test]
fn gaps_move_forward_and_folds_take_the_earlier_offset() {
    let cal = calendar_of(
        "",
        &[
            // 01:30 does not exist in London on 28 March 2027: it becomes 02:30 BST.
            "SUMMARY:Gap\nDTSTART;TZID=Europe/London:20270328T013000\nDURATION:PT1H",
            // 01:30 happens twice on 31 October 2027: the first (BST) is taken.
            "SUMMARY:Fold\nDTSTART;TZID=Europe/London:20271031T013000\nDURATION:PT1H",
        ],
    );
    let got = busy_lines(&cal, "UTC", "2027-01-01", "2028-01-01");
    assert_eq!(
        got,
        [
            "2027-03-28T01:30Z 2027-03-28T02:30Z Gap",
            "2027-10-31T00:30Z 2027-10-31T01:30Z Fold",
        ]
    );
}

#[test]
fn duration_days_are_calendar_days_hours_are_exact() {
    let cal = calendar_of(
        "",
        &[
            // P1D from noon BST on the 24th to noon GMT on the 25th: 25 hours.
            "SUMMARY:Day\nDTSTART;TZID=Europe/London:20261024T120000\nDURATION:P1D",
            // PT24H is exactly 24 hours: 11:00 GMT.
            "SUMMARY:Hours\nDTSTART;TZID=Europe/London:20261024T120000\nDURATION:PT24H",
            "SUMMARY:Weeks\nDTSTART:20261201T090000Z\nDURATION:P2W",
            "SUMMARY:Mixed\nDTSTART:20261201T090000Z\nDURATION:P1DT12H",
            // All-day with P3D: three calendar days.
            "SUMMARY:Trip\nDTSTART;VALUE=DATE:20261102\nDURATION:P3D",
        ],
    );
    let got = busy_lines(&cal, "Europe/London", "2026-10-01", "2027-01-01");
    assert_eq!(
        got,
        [
            "2026-10-24T11:00Z 2026-10-25T11:00Z Hours",
            "2026-10-24T11:00Z 2026-10-25T12:00Z Day",
            "2026-11-02T00:00Z 2026-11-05T00:00Z Trip (all day)",
            "2026-12-01T09:00Z 2026-12-02T21:00Z Mixed",
            "2026-12-01T09:00Z 2026-12-15T09:00Z Weeks",
        ]
    );
}

#[test]
fn zero_length_timed_events_are_kept_but_never_busy() {
    let cal = calendar_of(
        "",
        &[
            "SUMMARY:Reminder\nDTSTART:20261201T090000Z",
            "SUMMARY:Same\nDTSTART:20261202T090000Z\nDTEND:20261202T090000Z",
        ],
    );
    assert_eq!(cal.events(), 2);
    assert!(cal.warnings().is_empty());
    assert!(busy_lines(&cal, "UTC", "2026-11-01", "2027-01-01").is_empty());
    // A holiday calendar still sees the date it is on.
    let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    assert_eq!(cal.dates(tz("UTC"), d, d), [(d, "Reminder".to_string())]);
}

#[test]
fn end_before_start_is_a_warning_and_the_event_is_skipped() {
    let cal = calendar_of(
        "",
        &[
            "SUMMARY:Backwards\nDTSTART:20261201T090000Z\nDTEND:20261201T080000Z",
            "SUMMARY:Negative\nDTSTART:20261201T090000Z\nDURATION:-PT1H",
            "SUMMARY:Fine\nDTSTART:20261201T090000Z\nDURATION:PT1H",
        ],
    );
    assert_eq!(cal.events(), 1);
    let w = cal.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("event \"Backwards\" (UID ev0): its end"),
        "{}",
        w[0]
    );
    assert!(
        w[1].contains("\"Negative\"") && w[1].contains("negative"),
        "{}",
        w[1]
    );
}

#[test]
fn unknown_tzid_is_read_on_the_persons_clock_with_a_warning_naming_it() {
    let cal = calendar_of(
        "",
        &["SUMMARY:Ski trip\nDTSTART;TZID=Mars/Olympus:20270110T090000\nDURATION:P7D"],
    );
    assert_eq!(cal.events(), 1);
    assert_eq!(cal.warnings().len(), 1);
    let w = &cal.warnings()[0];
    assert!(
        w.starts_with("TZID \"Mars/Olympus\" is not a zone rota knows"),
        "{w}"
    );
    assert!(!w.contains("Ski trip"), "{w}");
    // 09:00 on the caller's clock: Kolkata is UTC+05:30.
    let kolkata: chrono_tz::Tz = "Asia/Kolkata".parse().unwrap();
    let b = cal.busy(
        kolkata,
        "2027-01-01T00:00:00Z".parse().unwrap(),
        "2027-02-01T00:00:00Z".parse().unwrap(),
    );
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].start.to_rfc3339(), "2027-01-10T03:30:00+00:00");
    assert_eq!(b[0].end.to_rfc3339(), "2027-01-17T03:30:00+00:00");
}

#[test]
fn tzid_forms_windows_mozilla_and_x_lic_location() {
    let header = "BEGIN:VTIMEZONE\nTZID:Eastern (custom)\nX-LIC-LOCATION:America/New_York\n\
                  BEGIN:STANDARD\nDTSTART:19701101T020000\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\n\
                  END:STANDARD\nEND:VTIMEZONE";
    let cal = calendar_of(
        header,
        &[
            "SUMMARY:Windows\nDTSTART;TZID=\"Romance Standard Time\":20261201T090000\nDURATION:PT1H",
            "SUMMARY:Mozilla\nDTSTART;TZID=/mozilla.org/20050126_1/Europe/London:20261201T090000\nDURATION:PT1H",
            "SUMMARY:Lic\nDTSTART;TZID=Eastern (custom):20261201T090000\nDURATION:PT1H",
            "SUMMARY:India\nDTSTART;TZID=India Standard Time:20261201T090000\nDURATION:PT1H",
        ],
    );
    assert!(cal.warnings().is_empty(), "{:?}", cal.warnings());
    let got = busy_lines(&cal, "UTC", "2026-12-01", "2026-12-02");
    assert_eq!(
        got,
        [
            "2026-12-01T03:30Z 2026-12-01T04:30Z India",
            "2026-12-01T08:00Z 2026-12-01T09:00Z Windows",
            "2026-12-01T09:00Z 2026-12-01T10:00Z Mozilla",
            "2026-12-01T14:00Z 2026-12-01T15:00Z Lic",
        ]
    );
}

#[test]
fn floating_times_use_x_wr_timezone_else_the_persons_zone() {
    let ev = "SUMMARY:Floating\nDTSTART:20261201T090000\nDURATION:PT1H";
    let plain = calendar_of("", &[ev]);
    assert_eq!(
        busy_lines(&plain, "Asia/Tokyo", "2026-11-30", "2026-12-02"),
        ["2026-12-01T00:00Z 2026-12-01T01:00Z Floating"]
    );
    let wr = calendar_of("X-WR-TIMEZONE:Europe/London", &[ev]);
    assert_eq!(
        busy_lines(&wr, "Asia/Tokyo", "2026-11-30", "2026-12-02"),
        ["2026-12-01T09:00Z 2026-12-01T10:00Z Floating"]
    );
    let bad = calendar_of("X-WR-TIMEZONE:Nowhere/Special", &[ev]);
    assert!(bad.warnings()[0].contains("Nowhere/Special"));
    assert_eq!(
        busy_lines(&bad, "Asia/Tokyo", "2026-11-30", "2026-12-02"),
        ["2026-12-01T00:00Z 2026-12-01T01:00Z Floating"]
    );
}

#[test]
fn exdate_lists_and_all_day_recurrence() {
    let cal = calendar_of(
        "",
        &[
            "SUMMARY:Christmas break\nDTSTART;VALUE=DATE:20261228\nRRULE:FREQ=DAILY;COUNT=5\n\
         EXDATE;VALUE=DATE:20261229,20261231\nEXDATE;VALUE=DATE:20270101",
        ],
    );
    let got = busy_lines(&cal, "Europe/London", "2026-12-01", "2027-02-01");
    assert_eq!(
        got,
        [
            "2026-12-28T00:00Z 2026-12-29T00:00Z Christmas break (all day)",
            "2026-12-30T00:00Z 2026-12-31T00:00Z Christmas break (all day)",
        ]
    );
}

#[test]
fn exdate_and_recurrence_id_in_utc_or_floating_match_the_zoned_occurrence() {
    let cal = calendar_of(
        "",
        &[
            // Daily 09:00 Berlin, 1-5 March 2027.
            "UID:series\nSUMMARY:Standup off\nDTSTART;TZID=Europe/Berlin:20270301T090000\n\
         DTEND;TZID=Europe/Berlin:20270301T093000\nRRULE:FREQ=DAILY;UNTIL=20270305T080000Z\n\
         EXDATE:20270302T080000Z\nEXDATE:20270303T090000",
            "UID:series\nSUMMARY:Cancelled one\nRECURRENCE-ID:20270304T080000Z\n\
         DTSTART;TZID=Europe/Berlin:20270304T090000\nSTATUS:CANCELLED",
        ],
    );
    assert!(cal.warnings().is_empty(), "{:?}", cal.warnings());
    let got = busy_lines(&cal, "UTC", "2027-02-01", "2027-04-01");
    assert_eq!(
        got,
        [
            "2027-03-01T08:00Z 2027-03-01T08:30Z Standup off",
            // 2nd: EXDATE in UTC; 3rd: floating EXDATE read in the DTSTART's zone; 4th: cancelled.
            // UNTIL 08:00Z on the 5th is 09:00 Berlin: included.
            "2027-03-05T08:00Z 2027-03-05T08:30Z Standup off",
        ]
    );
}

#[test]
fn override_without_master_is_still_busy_and_cancelled_master_is_not() {
    let cal = calendar_of(
        "",
        &[
            "UID:gone\nSUMMARY:Orphan\nRECURRENCE-ID:20261201T090000Z\nDTSTART:20261201T100000Z\nDURATION:PT1H",
            "UID:c\nSUMMARY:Cancelled series\nSTATUS:CANCELLED\nDTSTART:20261201T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY",
        ],
    );
    assert_eq!(
        busy_lines(&cal, "UTC", "2026-11-01", "2027-01-01"),
        ["2026-12-01T10:00Z 2026-12-01T11:00Z Orphan"]
    );
}

#[test]
fn non_ascii_and_invalid_rrules_are_warnings_not_panics() {
    let cal = calendar_of(
        "",
        &[
            "SUMMARY:Bad day\nDTSTART:20261201T090000Z\nDURATION:PT1H\nRRULE:FREQ=WEEKLY;BYDAY=TÜ",
            "SUMMARY:Bad freq\nDTSTART:20261201T090000Z\nDURATION:PT1H\nRRULE:FREQ=FORTNIGHTLY",
            "SUMMARY:Bad until\nDTSTART:20261201T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;UNTIL=soon",
        ],
    );
    assert_eq!(cal.events(), 0);
    let w = cal.warnings();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].contains("not plain ASCII"), "{}", w[0]);
    assert!(w[1].contains("invalid RRULE"), "{}", w[1]);
    assert!(w[2].contains("UNTIL"), "{}", w[2]);
}

#[test]
fn until_before_dtstart_leaves_just_dtstart() {
    let cal = calendar_of(
        "",
        &[
            "SUMMARY:Once\nDTSTART:20261201T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;UNTIL=20261101T000000Z",
        ],
    );
    // The rule yields nothing, but DTSTART is always an occurrence.
    assert_eq!(cal.events(), 1);
    assert_eq!(
        busy_lines(&cal, "UTC", "2026-01-01", "2027-01-01"),
        ["2026-12-01T09:00Z 2026-12-01T10:00Z Once"]
    );
}

#[test]
fn expansion_is_capped_with_a_warning_and_far_ranges_do_not_panic() {
    let cal = calendar_of(
        "",
        &[
            "SUMMARY:Every hour off\nDTSTART:20000101T000000Z\nDURATION:PT30M\nRRULE:FREQ=DAILY;BYHOUR=0,6,12,18",
        ],
    );
    // Year 9999 is millions of occurrences away: stopped at the cap, with a warning.
    let far = cal.busy(tz("UTC"), utc("9999-12-01"), utc("9999-12-31"));
    assert!(far.is_empty());
    let w = cal.expansion_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains(&format!("stopped expanding after {MAX_OCCURRENCES}")),
        "{}",
        w[0]
    );
    // Ranges before the start, at the edges of what rota handles, and empty ranges.
    assert!(
        cal.busy(tz("UTC"), utc("0001-01-01"), utc("0001-12-31"))
            .is_empty()
    );
    assert!(
        cal.busy(tz("UTC"), utc("2026-01-02"), utc("2026-01-01"))
            .is_empty()
    );
    let max = chrono::DateTime::<chrono::Utc>::MAX_UTC;
    let min = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let _ = cal.busy(tz("Pacific/Apia"), min, max);
    let _ = cal.busy(tz("Pacific/Apia"), max - chrono::TimeDelta::days(1), max);
    // A near range is exact and cheap.
    let near = busy_lines(&cal, "UTC", "2010-06-01", "2010-06-02");
    assert_eq!(near.len(), 4);
    assert_eq!(
        near[0],
        "2010-06-01T00:00Z 2010-06-01T00:30Z Every hour off"
    );
}

#[test]
fn malformed_input_is_an_error_with_a_line() {
    let err = |text: &str| parse(text).unwrap_err();
    let line = |text: &str| match err(text).kind() {
        ErrorKind::Parse { line, .. } => *line,
        other => panic!("{other:?}"),
    };
    assert!(err("").to_string().contains("empty"));
    let html = "<!DOCTYPE html>\n<html><body>Sign in</body></html>\n";
    assert_eq!(line(html), Some(1));
    assert!(err(html).to_string().contains("expected BEGIN:VCALENDAR"));
    let unclosed = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:1\n";
    assert_eq!(line(unclosed), Some(3));
    assert!(
        err(unclosed)
            .to_string()
            .contains("BEGIN:VEVENT is never closed")
    );
    let no_colon = "BEGIN:VCALENDAR\nVERSION:2.0\nSUMMARY\nEND:VCALENDAR\n";
    assert_eq!(line(no_colon), Some(3), "{}", err(no_colon));
    let nested =
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VEVENT\nEND:VEVENT\nEND:VEVENT\nEND:VCALENDAR\n";
    assert_eq!(line(nested), Some(3));
    assert!(
        err(nested)
            .to_string()
            .contains("invalid calendar at line 3"),
        "{}",
        err(nested)
    );
    // A byte-order mark is not an error.
    assert!(parse("\u{feff}BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").is_ok());
}

#[test]
fn events_without_dtstart_or_with_bad_dates_are_warnings() {
    let cal = calendar_of(
        "",
        &[
            "SUMMARY:No start",
            "SUMMARY:Bad date\nDTSTART;VALUE=DATE:2026-12-01",
            "SUMMARY:Year zero\nDTSTART:00001201T090000Z",
            "SUMMARY:Bad exdate\nDTSTART:20261201T090000Z\nEXDATE:tomorrow",
        ],
    );
    assert_eq!(cal.events(), 0);
    assert_eq!(cal.warnings().len(), 4, "{:?}", cal.warnings());
    assert!(cal.warnings()[0].contains("no DTSTART"));
}
