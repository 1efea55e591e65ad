//! Each fixture expanded over a window, compared whole with intervals worked out by hand.

use crate::{busy_lines, fixture, tz};
use chrono::NaiveDate;
use rota_calendar::parse;

#[test]
fn google_export() {
    let cal = parse(&fixture("google.ics")).unwrap();
    assert_eq!(
        cal.events(),
        6,
        "masters, two overridden instances, the cancelled trip"
    );
    assert!(cal.warnings().is_empty(), "{:?}", cal.warnings());
    assert_eq!(cal.name(), Some("Alice Smith - Out of office"));
    let got = busy_lines(&cal, "Europe/London", "2026-10-01", "2026-12-01");
    #[rustfmt::skip]
    let want = [
        // Weekly 14:00-18:00 London: BST (+1) until the clocks go back on 25 October.
        "2026-10-02T13:00Z 2026-10-02T17:00Z Friday afternoons off",
        "2026-10-09T13:00Z 2026-10-09T17:00Z Friday afternoons off",
        // 16 October: EXDATE.
        // All-day 22-26 October (DTEND 27th exclusive), TRANSP:TRANSPARENT and still busy:
        // midnight BST to midnight GMT, five days and an hour.
        "2026-10-21T23:00Z 2026-10-27T00:00Z Half-term holiday (all day)",
        "2026-10-23T13:00Z 2026-10-23T17:00Z Friday afternoons off",
        // GMT from here on: the same wall-clock hours are an hour later in UTC.
        "2026-10-30T14:00Z 2026-10-30T18:00Z Friday afternoons off",
        "2026-11-03T13:00Z 2026-11-03T17:00Z Out of office: dentist",
        // RECURRENCE-ID 6 November moved to Thursday 5 November 12:00-16:00.
        "2026-11-05T12:00Z 2026-11-05T16:00Z Friday afternoons off (moved to Thursday)",
        "2026-11-13T14:00Z 2026-11-13T18:00Z Friday afternoons off",
        // 20 November: a cancelled RECURRENCE-ID removes it. The cancelled trip (10-11 Nov)
        // never shows. UNTIL 27 Nov 23:59:59Z includes the 27th.
        "2026-11-27T14:00Z 2026-11-27T18:00Z Friday afternoons off",
    ];
    assert_eq!(got, want);
}

#[test]
fn google_all_day_dates_are_in_the_persons_zone_not_x_wr_timezone() {
    // X-WR-TIMEZONE (London) is for floating times; a day off is a day where the person is.
    let cal = parse(&fixture("google.ics")).unwrap();
    let got = busy_lines(&cal, "America/New_York", "2026-10-20", "2026-10-23");
    assert_eq!(
        got,
        ["2026-10-22T04:00Z 2026-10-27T04:00Z Half-term holiday (all day)"]
    );
}

#[test]
fn google_dates_touched() {
    let cal = parse(&fixture("google.ics")).unwrap();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let got = cal.dates(tz("Europe/London"), d("2026-10-20"), d("2026-10-31"));
    let got: Vec<String> = got.iter().map(|(d, s)| format!("{d} {s}")).collect();
    assert_eq!(
        got,
        [
            "2026-10-22 Half-term holiday",
            // First summary wins: the holiday starts before Friday afternoon.
            "2026-10-23 Half-term holiday",
            "2026-10-24 Half-term holiday",
            "2026-10-25 Half-term holiday",
            "2026-10-26 Half-term holiday",
            "2026-10-30 Friday afternoons off",
        ]
    );
}

#[test]
fn outlook_export() {
    let text = fixture("outlook.ics");
    assert!(
        text.contains("\r\n"),
        "the fixture keeps Exchange's CRLF line endings"
    );
    let cal = parse(&text).unwrap();
    assert_eq!(cal.events(), 4);
    assert_eq!(cal.warnings().len(), 1, "{:?}", cal.warnings());
    // The custom zone is named, the event is not (titles can be private), and it is kept.
    let w = &cal.warnings()[0];
    assert!(
        w.starts_with("TZID \"Customized Time Zone\" is not a zone rota knows"),
        "{w}"
    );
    assert!(!w.contains("Offsite"), "{w}");
    let got = busy_lines(&cal, "Europe/Berlin", "2026-10-01", "2027-05-01");
    #[rustfmt::skip]
    let want = [
        // "W. Europe Standard Time" is Europe/Berlin (CLDR 001): 09:00 CEST to 17:00 CET,
        // across the 25 October change.
        "2026-10-23T07:00Z 2026-10-26T16:00Z Customer workshop Munich",
        // COUNT=3 Mondays, 08:00-12:00 CET.
        "2026-11-02T07:00Z 2026-11-02T11:00Z Parental leave (mornings)",
        "2026-11-09T07:00Z 2026-11-09T11:00Z Parental leave (mornings)",
        "2026-11-16T07:00Z 2026-11-16T11:00Z Parental leave (mornings)",
        // "Customized Time Zone" is unknown: 09:00-17:00 on the person's clock (Berlin, CET).
        "2026-12-03T08:00Z 2026-12-03T16:00Z Offsite (custom zone)",
        // All-day 26-29 March 2027 in Berlin, across the 28 March change: 95 hours.
        "2027-03-25T23:00Z 2027-03-29T22:00Z Out of office - Easter (all day)",
    ];
    assert_eq!(got, want);
}

#[test]
fn apple_export() {
    let cal = parse(&fixture("apple.ics")).unwrap();
    assert_eq!(cal.events(), 6);
    assert!(cal.warnings().is_empty(), "{:?}", cal.warnings());
    let got = busy_lines(&cal, "America/New_York", "2026-10-01", "2027-01-01");
    #[rustfmt::skip]
    let want = [
        "2026-10-07T13:00Z 2026-10-07T21:00Z Volunteer day",
        // 23:00 EDT to 01:30 on 1 November, which happens twice: the earlier (EDT) is taken.
        "2026-11-01T03:00Z 2026-11-01T05:30Z Red-eye flight SFO-JFK",
        // All-day with DURATION:P1D on the fall-back day: 25 hours.
        "2026-11-01T04:00Z 2026-11-02T05:00Z Marathon weekend (all day)",
        // Starts at 01:30 in the fold (EDT); PT2H is exact.
        "2026-11-01T05:30Z 2026-11-01T07:30Z Night shift handover",
        // RDATE, 09:00-17:00 EST: same wall-clock length as the master.
        "2026-11-04T14:00Z 2026-11-04T22:00Z Volunteer day",
        "2026-11-05T15:00Z 2026-11-05T16:30Z Doctor",
        "2026-11-26T05:00Z 2026-11-30T05:00Z Thanksgiving trip (all day)",
        "2026-12-02T14:00Z 2026-12-02T22:00Z Volunteer day",
    ];
    assert_eq!(got, want);
}

#[test]
fn uk_bank_holidays() {
    let cal = parse(&fixture("holidays.ics")).unwrap();
    assert_eq!(cal.events(), 16);
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let all = cal.dates(tz("Europe/London"), d("2026-01-01"), d("2027-12-31"));
    let all: Vec<String> = all.iter().map(|(d, s)| format!("{d} {s}")).collect();
    assert_eq!(
        all,
        [
            "2026-01-01 New Year’s Day",
            "2026-04-03 Good Friday",
            "2026-04-06 Easter Monday",
            "2026-05-04 Early May bank holiday",
            "2026-05-25 Spring bank holiday",
            "2026-08-31 Summer bank holiday",
            "2026-12-25 Christmas Day",
            "2026-12-28 Boxing Day",
            "2027-01-01 New Year’s Day",
            "2027-03-26 Good Friday",
            "2027-03-29 Easter Monday",
            "2027-05-03 Early May bank holiday",
            "2027-05-31 Spring bank holiday",
            "2027-08-30 Summer bank holiday",
            "2027-12-27 Christmas Day",
            "2027-12-28 Boxing Day",
        ]
    );
    // The range is inclusive at both ends, and holidays outside it are left out.
    let some = cal.dates(tz("Europe/London"), d("2027-03-27"), d("2027-03-29"));
    assert_eq!(some, [(d("2027-03-29"), "Easter Monday".to_string())]);
    assert!(
        cal.dates(tz("Europe/London"), d("2027-03-29"), d("2027-03-27"))
            .is_empty()
    );
    // In a zone far from London the dates are the same: all-day dates are civil dates.
    let tokyo = cal.dates(tz("Asia/Tokyo"), d("2027-03-29"), d("2027-03-29"));
    assert_eq!(tokyo, [(d("2027-03-29"), "Easter Monday".to_string())]);

    // As busy intervals: Good Friday in GMT, Easter Monday in BST (the clocks changed on the
    // Sunday between).
    let got = crate::busy_lines(&cal, "Europe/London", "2027-03-20", "2027-04-01");
    assert_eq!(
        got,
        [
            "2027-03-26T00:00Z 2027-03-27T00:00Z Good Friday (all day)",
            "2027-03-28T23:00Z 2027-03-29T23:00Z Easter Monday (all day)",
        ]
    );
}
