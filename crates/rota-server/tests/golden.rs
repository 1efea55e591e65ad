//! Golden-file tests: the exact ICS text of a feed, byte for byte. A change to the feed format
//! shows up here as a diff to review. Regenerate with `UPDATE_GOLDEN=1 cargo test -p rota-server`.

use chrono::{DateTime, Utc};
use rota_core::Schedule;
use rota_server::ics::render;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn check(name: &str, text: &str) {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{path} is missing: run with UPDATE_GOLDEN=1"));
    assert_eq!(
        text, want,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 to accept)"
    );
    // And every golden feed is valid for an independent parser.
    let cal = ical::IcalParser::new(text.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    assert!(!cal.events.is_empty());
}

fn example() -> Schedule {
    let files = [
        (
            "people.toml",
            include_str!("../../../schedules/people.toml"),
        ),
        (
            "rotations.toml",
            include_str!("../../../schedules/rotations.toml"),
        ),
        (
            "overrides.toml",
            include_str!("../../../schedules/overrides.toml"),
        ),
    ];
    Schedule::load(&files).unwrap()
}

#[test]
fn platform_secondary_with_a_partial_override() {
    let s = example();
    // Dave's week of 2026-11-30 is split by Erin's one-day cover: three events in one slot, the
    // first keeping the slot's UID.
    let shifts = s
        .shifts(
            "platform-secondary",
            t("2026-11-23T00:00:00Z"),
            t("2026-12-14T00:00:00Z"),
        )
        .unwrap();
    check(
        "platform-secondary.ics",
        &render(&s, "Platform secondary", &shifts, t("2026-11-23T00:00:00Z")),
    );
}

#[test]
fn support_hero_across_the_christmas_swap() {
    let s = example();
    let shifts = s
        .shifts(
            "support-hero",
            t("2026-12-28T00:00:00Z"),
            t("2027-01-25T00:00:00Z"),
        )
        .unwrap();
    check(
        "support-hero.ics",
        &render(&s, "Support Hero", &shifts, t("2026-12-28T00:00:00Z")),
    );
}

#[test]
fn text_is_escaped_and_folded_by_octets() {
    let text = r#"
[people.zoe]
name = "Zoë Ångström, Jr.; née Ørsted \\ the ☃ on-call"
[rotations.edge]
name = "Ops; Nights, Weekends"
members = ["zoe"]
timezone = "Australia/Lord_Howe"
start = "2026-10-01T09:00"
every = "1 week"
"#;
    let s = Schedule::load(&[("edge.toml", text)]).unwrap();
    let shifts = s
        .shifts("edge", t("2026-10-01T00:00:00Z"), t("2026-10-16T00:00:00Z"))
        .unwrap();
    let out = render(
        &s,
        "Ops; Nights, Weekends",
        &shifts,
        t("2026-10-01T00:00:00Z"),
    );
    for line in out.split("\r\n") {
        assert!(line.len() <= 75, "line over 75 octets: {line:?}");
    }
    assert!(
        out.contains("SUMMARY:Ops\\; Nights\\, Weekends: Zo"),
        "{out}"
    );
    check("escaping.ics", &out);
}
