//! The schedule loader: `rota check`-style diagnostics (`file:line:col: key: message`, every
//! problem at once), and fuzzing by proptest: no input makes `Schedule::load` panic, and no
//! schedule it accepts makes a query panic.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::utc;
use proptest::prelude::*;
use rota_core::{ErrorKind, Schedule, swap_overrides};

const PEOPLE: &str = include_str!("../../../schedules/people.toml");
const ROTATIONS: &str = include_str!("../../../schedules/rotations.toml");
const OVERRIDES: &str = include_str!("../../../schedules/overrides.toml");

/// The diagnostics of a load that must fail, as `rota check` prints them.
fn diagnostics(files: &[(&str, &str)]) -> Vec<String> {
    match Schedule::load(files) {
        Ok(_) => panic!("loaded without complaint: {files:?}"),
        Err(e) => {
            assert!(
                matches!(e.kind(), ErrorKind::Schedule(_)),
                "not a schedule error: {e}"
            );
            e.diagnostics().iter().map(|d| d.to_string()).collect()
        }
    }
}

/// Asserts the diagnostics, in order: each expected line is either the whole diagnostic or,
/// ending in `...`, its beginning (location, key and the start of the message).
fn assert_diagnostics(files: &[(&str, &str)], want: &[&str]) {
    let got = diagnostics(files);
    let ok = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| match w.strip_suffix("...") {
                Some(prefix) => g.starts_with(prefix),
                None => g == w,
            });
    assert!(
        ok,
        "diagnostics differ\n got:\n  {}\nwant:\n  {}",
        got.join("\n  "),
        want.join("\n  ")
    );
}

#[test]
fn the_real_schedules_load() {
    let s = Schedule::load(&[
        ("people.toml", PEOPLE),
        ("rotations.toml", ROTATIONS),
        ("overrides.toml", OVERRIDES),
    ])
    .unwrap();
    assert_eq!(s.rotations().len(), 4);
    assert_eq!(s.overrides().len(), 3);
    let hero = s.whoishero(utc("2027-01-06T12:00:00Z")).unwrap().unwrap();
    // Slot 9 (alice) is swapped to bob by the file's xmas-swap-a override.
    assert_eq!(
        (hero.person.id.as_str(), hero.slot, hero.source.as_str()),
        ("bob", 9, "override")
    );
}

#[test]
fn toml_syntax_error() {
    assert_diagnostics(
        &[("bad.toml", "[people.alice]\nname = \"Alice\n")],
        // at the end of line 2, where the closing quote is missing
        &["bad.toml:2:14: TOML syntax: invalid basic string, expected `\"`"],
    );
    assert_diagnostics(
        &[(
            "bad.toml",
            "[people.alice]\nname = \"Alice\"\nemail = alice@example.com\n",
        )],
        &["bad.toml:3:9: TOML syntax: string values must be quoted, expected literal string"],
    );
}

/// A value the recovering TOML parser could not read is reported once, as the syntax error,
/// and not again as a wrongly typed value located at 1:1.
#[test]
fn toml_syntax_error_is_not_reported_twice() {
    assert_diagnostics(
        &[("bad.toml", "[people.alice]\nname = = \"Alice\"\n")],
        &[
            "bad.toml:2:8: TOML syntax: extra `=`, expected nothing",
            "bad.toml:2:10: TOML syntax: unexpected key or value, expected newline, `#`",
        ],
    );
}

#[test]
fn unknown_person_team_and_rotation() {
    let text = r#"hero_rotation = "suport-hero"

[teams.platform]
name = "Platform"

[people.alice]
name = "Alice"
team = "platfrom"

[rotations.support-hero]
members = ["alice", "bobb"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
"#;
    assert_diagnostics(
        &[("s.toml", text)],
        &[
            "s.toml:1:17: hero_rotation: unknown rotation \"suport-hero\" (did you mean \
             \"support-hero\"?); known rotations: support-hero",
            "s.toml:8:8: people.alice.team: unknown team \"platfrom\" (did you mean \
             \"platform\"?); known teams: platform",
            "s.toml:11:21: rotations.support-hero.members[1]: unknown person \"bobb\"; known \
             people: alice",
        ],
    );
}

#[test]
fn duplicate_ids_across_files() {
    let text = r#"[teams.platform]
name = "Platform"
[people.alice]
name = "Alice"
[rotations.hero]
members = ["alice"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
"#;
    let ov = |name: &str| {
        format!(
            "[[overrides]]\nid = \"cover\"\nrotation = \"hero\"\nperson = \"alice\"\n\
             start = \"2026-12-01T09:00\"\nend = \"2026-12-02T09:00\"\nreason = \"{name}\"\n"
        )
    };
    let (ov_a, ov_b) = (ov("a"), ov("b"));
    assert_diagnostics(
        &[
            ("a.toml", text),
            ("b.toml", text),
            ("c.toml", &ov_a),
            ("d.toml", &ov_b),
        ],
        &[
            "b.toml:1:8: teams.platform: duplicate team id \"platform\": already defined at \
             a.toml:1:8; ids must be unique across all files",
            "b.toml:3:9: people.alice: duplicate person id \"alice\": already defined at \
             a.toml:3:9; ids must be unique across all files",
            "b.toml:5:12: rotations.hero: duplicate rotation id \"hero\": already defined at \
             a.toml:5:12; ids must be unique across all files",
            // at the second file's `id = "cover"`
            "d.toml:2:6: overrides[0].id: duplicate override id \"cover\" (also overrides[0] at \
             c.toml:2:6)",
        ],
    );
    assert_diagnostics(
        &[
            ("a.toml", "hero_rotation = \"x\"\n"),
            ("b.toml", "\nhero_rotation = \"y\"\n"),
        ],
        &[
            "a.toml:1:17: hero_rotation: unknown rotation \"x\"; known rotations: none are \
             defined",
            "b.toml:2:17: hero_rotation: hero_rotation is already set at a.toml:1:17; set it in \
             one file only",
        ],
    );
}

/// One file with a problem in each rotation: all are reported, in file order.
#[test]
fn rotation_problems_all_at_once() {
    let text = r#"[people.alice]
name = "Alice"

[rotations.empty]
members = []
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"

[rotations.zone]
members = ["alice"]
timezone = "Europe/Londn"
start = "2026-11-02T09:00"
every = "1 week"

[rotations.every]
members = ["alice"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 fortnight"

[rotations.rrule]
members = ["alice"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
rrule = "FREQ=WEEKLY;BYDAY=MO,XX"

[rotations.nostart]
members = ["alice"]
timezone = "Europe/London"
every = "1 week"

[rotations.notoccurrence]
members = ["alice"]
timezone = "Europe/London"
start = "2026-11-04T09:00"
rrule = "FREQ=WEEKLY;BYDAY=MO,TH"

[rotations.count]
members = ["alice"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
rrule = "FREQ=WEEKLY;COUNT=3"
"#;
    assert_diagnostics(
        &[("r.toml", text)],
        &[
            "r.toml:5:11: rotations.empty.members: empty member list; a rotation needs at least \
             one member, e.g. members = [\"alice\", \"bob\"]",
            "r.toml:12:12: rotations.zone.timezone: unknown time zone \"Europe/Londn\" (did you \
             mean \"Europe/London\"?); expected an IANA zone name such as \"Europe/London\" or \
             \"America/Chicago\"",
            "r.toml:20:9: rotations.every.every: invalid every \"1 fortnight\": expected \"N \
             hours\", \"N days\" or \"N weeks\" with N a whole number from 1 to 10000",
            "r.toml:26:9: rotations.rrule.rrule: invalid rrule \"FREQ=WEEKLY;BYDAY=MO,XX\": ...",
            "r.toml:28:12: rotations.nostart: missing `start`: the civil date-time of the first \
             handoff, e.g. start = \"2026-11-02T09:00\"",
            "r.toml:36:9: rotations.notoccurrence.start: start 2026-11-04T09:00 (Wednesday) is \
             not an occurrence of rrule \"FREQ=WEEKLY;BYDAY=MO,TH\": the first handoff must \
             match the rule; its first occurrence from start is 2026-11-05T09:00 (Thursday)",
            "r.toml:43:9: rotations.count.rrule: rrule \"FREQ=WEEKLY;COUNT=3\" has COUNT: a \
             rotation never ends, remove COUNT ...",
        ],
    );
}

#[test]
fn bad_every_values() {
    for (every, col) in [
        ("0 days", 9),
        ("1.5 days", 9),
        ("10001 hours", 9),
        ("week", 9),
    ] {
        let text = format!(
            "[people.a]\n[rotations.r]\nmembers = [\"a\"]\ntimezone = \"UTC\"\n\
             start = \"2026-11-02T09:00\"\nevery = \"{every}\"\n"
        );
        assert_diagnostics(
            &[("e.toml", &text)],
            &[&format!(
                "e.toml:6:{col}: rotations.r.every: invalid every \"{every}\": expected \"N \
                 hours\", \"N days\" or \"N weeks\" with N a whole number from 1 to 10000"
            )],
        );
    }
    // Not a string at all.
    assert_diagnostics(
        &[(
            "e.toml",
            "[people.a]\n[rotations.r]\nmembers = [\"a\"]\ntimezone = \"UTC\"\n\
             start = \"2026-11-02T09:00\"\nevery = 7\n",
        )],
        &["e.toml:6:9: rotations.r.every: expected a string, found an integer"],
    );
}

#[test]
fn override_problems() {
    let text = r#"[people.alice]
name = "Alice"
[rotations.hero]
members = ["alice"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"

[[overrides]]
rotation = "hero"
person = "alice"
start = "2026-12-21T09:00"
end = "2026-12-21T09:00"

[[overrides]]
rotation = "heroo"
person = "alice"
start = "2026-12-21T09:00"
end = "2026-12-28T09:00"

[[overrides]]
rotation = "hero"
person = "alice"
start = "2026-12-21T10:00:00+01:00"
end = "2026-12-21T09:00"

[[overrides]]
rotation = "hero"
person = "alicia"
start = "2026-12-21T09:00"
end = "2026-12-20T09:00:00Z"
"#;
    assert_diagnostics(
        &[("o.toml", text)],
        &[
            "o.toml:13:7: overrides[0].end: end 2026-12-21T09:00:00+00:00 is not after start \
             2026-12-21T09:00:00+00:00; an override covers [start, end)",
            "o.toml:16:12: overrides[1].rotation: unknown rotation \"heroo\" (did you mean \
             \"hero\"?); known rotations: hero",
            // an RFC 3339 start and a civil end (GMT in December) naming the same instant
            "o.toml:25:7: overrides[2].end: end 2026-12-21T09:00:00+00:00 is not after start \
             2026-12-21T09:00:00+00:00; an override covers [start, end)",
            "o.toml:29:10: overrides[3].person: unknown person \"alicia\" (did you mean \
             \"alice\"?); known people: alice",
            "o.toml:31:7: overrides[3].end: end 2026-12-20T09:00:00+00:00 is not after start \
             2026-12-21T09:00:00+00:00; an override covers [start, end)",
        ],
    );
}

#[test]
fn link_problems() {
    let text = r#"[teams.platform]
name = "Platform"
[people.alice]
name = "Alice"
team = "platform"
[rotations.hero]
members = ["alice"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
[rotations.secondary]
members = ["alice"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"

[[links]]
from = "heroo"
to = ["secondary", "platform-secondary"]

[[links]]
from = "hero"
to = []
displaced = "shuffle"
"#;
    assert_diagnostics(
        &[("l.toml", text)],
        &[
            "l.toml:18:8: links[0].from: unknown rotation \"heroo\" (did you mean \"hero\"?); \
             known rotations: hero, secondary",
            "l.toml:19:7: links[0].to[0]: link target \"secondary\" has no team; add `team = \
             \"...\"` to [rotations.secondary] so the link knows whose secondary it is",
            "l.toml:19:20: links[0].to[1]: unknown rotation \"platform-secondary\"; known \
             rotations: hero, secondary",
            "l.toml:23:6: links[1].to: empty `to`: list the team rotations the linked person \
             covers, e.g. to = [\"platform-secondary\"]",
            "l.toml:24:13: links[1].displaced: invalid displaced \"shuffle\"; expected \"skip\" \
             or \"swap\"",
        ],
    );
}

/// Problems in several files are all reported, file by file; a syntax error in one file stops
/// the cross-file checks (so one typo does not cascade into "unknown person" everywhere) but
/// not the checks within each file.
#[test]
fn several_files_several_problems() {
    let people = "[people.alice]\nname = \"Alice\"\nemail = \"alice at example\"\n";
    let rotations = "[rotations.r]\nmembers = [\"alice\", \"zed\"]\ntimezone = \"Mars/Olympus\"\n\
                     start = \"2026-11-02T09:00\"\nevery = \"1 week\"\n";
    assert_diagnostics(
        &[("people.toml", people), ("rotations.toml", rotations)],
        &[
            "people.toml:3:9: people.alice.email: invalid email address \"alice at example\"; \
             expected a plain address such as \"alice@example.com\"",
            "rotations.toml:2:21: rotations.r.members[1]: unknown person \"zed\"; known \
             people: alice",
            "rotations.toml:3:12: rotations.r.timezone: unknown time zone \"Mars/Olympus\"; \
             expected an IANA zone name such as \"Europe/London\" or \"America/Chicago\"",
        ],
    );
    let broken = "[people.alice]\nname = \"Alice\n";
    assert_diagnostics(
        &[("people.toml", broken), ("rotations.toml", rotations)],
        &[
            "people.toml:2:14: TOML syntax: invalid basic string, expected `\"`",
            // no "unknown person \"zed\"": cross-file checks wait for files that parse
            "rotations.toml:3:12: rotations.r.timezone: unknown time zone \"Mars/Olympus\"...",
        ],
    );
    // And the error's Display says how many, one per line.
    let e = Schedule::load(&[("people.toml", people), ("rotations.toml", rotations)]).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.starts_with("3 problems in the schedule files\npeople.toml:3:9: "),
        "{shown}"
    );
    assert_eq!(shown.lines().count(), 4);
}

/// Regression: rrule 0.14 panics ("byte index is not a char boundary") on a BYDAY that is not
/// ASCII; found by `mutated_schedules_never_panic`. Now it is a diagnostic at the rule.
#[test]
fn rrule_not_ascii_is_a_diagnostic_not_a_panic() {
    for rule in [
        "FREQ=WEEKLY;BYDAY=MO,T\u{fffd}H",
        "FREQ=WEEKLY;BYDAY=TÜ",
        "FREQ=DAILY;BYHOUR=９",
    ] {
        let text = format!(
            "[people.a]\n[rotations.r]\nmembers = [\"a\"]\ntimezone = \"UTC\"\n\
             start = \"2026-11-05T09:00\"\nrrule = \"{rule}\"\n"
        );
        assert_diagnostics(
            &[("r.toml", &text)],
            &[&format!(
                "r.toml:6:9: rotations.r.rrule: invalid rrule {rule:?}: a rule is plain ASCII, \
                 such as \"FREQ=WEEKLY;BYDAY=MO,TH\""
            )],
        );
    }
}

/// Regression: chrono reads "+10001-02-02T00:00" as a civil date-time, which has no instant;
/// the loader failed with an unlocated ":0:0: override overrides[0] has no valid times". Found
/// by `structured_schedules_never_panic`.
#[test]
fn override_time_out_of_range_is_located() {
    let text = "[people.a]\n[rotations.r]\nmembers = [\"a\"]\ntimezone = \"UTC\"\n\
                start = \"2026-11-02T09:00\"\nevery = \"1 week\"\n[[overrides]]\n\
                rotation = \"r\"\nperson = \"a\"\nstart = \"9999-12-30T00:00\"\n\
                end = \"+10001-02-02T00:00:00\"\n";
    assert_diagnostics(
        &[("o.toml", text)],
        &[
            "o.toml:11:7: overrides[0].end: date-time out of range: rota works with the years 1 \
           to 9999",
        ],
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    // "Müller" has a two-byte ü; the column is in characters.
    let text = "[people.frank]\nname = \"Frank Müller\"; team = 1\n";
    let got = diagnostics(&[("p.toml", text)]);
    assert!(got[0].starts_with("p.toml:2:22: TOML syntax: "), "{got:?}");
}

// ------------------------------------------------------------------------------------------------
// Calendar sources: `absence` on people, top-level `holidays`
// ------------------------------------------------------------------------------------------------

#[test]
fn absence_and_holidays_values() {
    let text = r#"holidays = "calendars/uk-holidays.ics"

[people.alice]
name = "Alice"
absence = "https://calendar.example.com/alice/ooo.ics"

[people.bob]
name = "Bob"
absence = [
    "bob-ooo.ics",
    "http://intranet.example/bob.ics",
    "shared/team-ooo.ics",
    "bob-ooo.ics",
    "HTTPS://calendar.example.com/bob.ics",
    "http://intranet.example/bob.ics",
]

[people.carol]
name = "Carol"
absence = []

[people.dave]
name = "Dave"
"#;
    let s = Schedule::load(&[("s.toml", text)]).unwrap();
    let absence = |id: &str| s.person(id).unwrap().absence.clone();
    // one string is a list of one
    assert_eq!(
        absence("alice"),
        ["https://calendar.example.com/alice/ooo.ics"]
    );
    // relative paths and http(s) in any case are accepted; duplicates collapse to the first
    assert_eq!(
        absence("bob"),
        [
            "bob-ooo.ics",
            "http://intranet.example/bob.ics",
            "shared/team-ooo.ics",
            "HTTPS://calendar.example.com/bob.ics",
        ]
    );
    assert!(absence("carol").is_empty());
    assert!(absence("dave").is_empty());
    assert_eq!(s.holidays(), Some("calendars/uk-holidays.ics"));

    let s = Schedule::load(&[("s.toml", "[people.a]\nname = \"A\"\n")]).unwrap();
    assert_eq!(s.holidays(), None);
    // set in another file than the people
    let s = Schedule::load(&[
        ("people.toml", "[people.a]\nname = \"A\"\n"),
        ("site.toml", "holidays = \"https://example.com/h.ics\"\n"),
    ])
    .unwrap();
    assert_eq!(s.holidays(), Some("https://example.com/h.ics"));
}

#[test]
fn absence_list_problems() {
    let text = r#"[people.a]
name = "A"
absence = ["webcal://calendar.example.com/a.ics", "ftp://x", "", "ok.ics", " ", "https://", "webcals://x.example/y"]
"#;
    assert_diagnostics(
        &[("p.toml", text)],
        &[
            // The address is never repeated: calendar URLs are often secrets.
            "p.toml:3:12: people.a.absence[0]: webcal:// is how calendar apps spell \
             subscriptions; write the same address with https:// instead",
            "p.toml:3:51: people.a.absence[1]: unsupported scheme \"ftp\"; \
             expected an https:// URL or the path of an .ics file relative to the schedules \
             directory",
            "p.toml:3:62: people.a.absence[2]: empty calendar source; expected an https:// URL \
             or the path of an .ics file relative to the schedules directory",
            // blank is empty too
            "p.toml:3:76: people.a.absence[4]: empty calendar source; expected an https:// URL \
             or the path of an .ics file relative to the schedules directory",
            "p.toml:3:81: people.a.absence[5]: the calendar URL has no host",
            "p.toml:3:93: people.a.absence[6]: webcals:// is how calendar apps spell \
             subscriptions; write the same address with https:// instead",
        ],
    );
    assert_diagnostics(
        &[("p.toml", "[people.a]\nname = \"A\"\nabsence = 5\n")],
        &["p.toml:3:11: people.a.absence: expected an array of strings, found an integer"],
    );
}

/// The problems of `absence = "..."`, one string.
#[test]
fn absence_string_problems() {
    for (value, message) in [
        (
            "\"webcal://calendar.example.com/a.ics\"",
            "webcal:// is how calendar apps spell subscriptions; write the same address with \
             https:// instead",
        ),
        (
            "\"ftp://x\"",
            "unsupported scheme \"ftp\"; expected an https:// URL or the path of an .ics file \
             relative to the schedules directory",
        ),
        (
            "\"\"",
            "empty calendar source; expected an https:// URL or the path of an .ics file \
             relative to the schedules directory",
        ),
    ] {
        let text = format!("[people.a]\nname = \"A\"\nabsence = {value}\n");
        let got = diagnostics(&[("p.toml", &text)]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("p.toml:3:11: people.a.absence") && got[0].ends_with(message),
            "{value}: {got:?}"
        );
    }
}

/// Regression: a problem with `absence = "..."` written as one string was reported under
/// `people.a.absence[0]`, a key that is not in the file.
#[test]
fn absence_string_problem_names_the_key_itself() {
    assert_diagnostics(
        &[(
            "p.toml",
            "[people.a]\nname = \"A\"\nabsence = \"ftp://x\"\n",
        )],
        &["p.toml:3:11: people.a.absence: unsupported scheme \"ftp\"..."],
    );
}

/// Regression: the index in `absence[i]` counted only the elements that were strings, so after a
/// non-string element the next problem named the wrong element (`[0]`, the integer, not `[1]`).
#[test]
fn absence_problem_index_after_a_non_string() {
    assert_diagnostics(
        &[(
            "p.toml",
            "[people.a]\nname = \"A\"\nabsence = [5, \"ftp://x\"]\n",
        )],
        &[
            "p.toml:3:12: people.a.absence[0]: expected a string, found an integer",
            "p.toml:3:15: people.a.absence[1]: unsupported scheme \"ftp\"...",
        ],
    );
}

/// Calendar files are read from the schedules directory only: the service shows read errors on
/// /healthz, which must not become a way to read other files.
#[test]
fn calendar_files_stay_inside_the_schedules_directory() {
    for (value, col) in [
        ("\"/etc/passwd\"", 11),
        ("\"../secrets.ics\"", 11),
        ("\"a/../../b.ics\"", 11),
    ] {
        let text = format!("[people.a]\nname = \"A\"\nabsence = {value}\n");
        let got = diagnostics(&[("p.toml", &text)]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with(&format!("p.toml:3:{col}: people.a.absence: calendar files must be inside the schedules directory")),
            "{got:?}"
        );
    }
    let ok = "[people.a]\nname = \"A\"\nabsence = [\"./a.ics\", \"team/b.ics\"]\n";
    assert!(Schedule::load(&[("p.toml", ok)]).is_ok());
}

#[test]
fn holidays_problems() {
    for (value, col, message) in [
        (
            "\"webcal://example.com/uk.ics\"",
            12,
            "webcal:// is how calendar apps spell subscriptions; write the same address with \
             https:// instead",
        ),
        (
            "\"ftp://x\"",
            12,
            "unsupported scheme \"ftp\"; expected an https:// URL or the path of an .ics file \
             relative to the schedules directory",
        ),
        (
            "\"\"",
            12,
            "empty calendar source; expected an https:// URL or the path of an .ics file \
             relative to the schedules directory",
        ),
        ("[\"uk.ics\"]", 12, "expected a string, found an array"),
    ] {
        let text = format!("holidays = {value}\n");
        assert_diagnostics(
            &[("h.toml", &text)],
            &[&format!("h.toml:1:{col}: holidays: {message}")],
        );
    }
    // Set twice across files: the second names the first.
    assert_diagnostics(
        &[
            ("a.toml", "holidays = \"uk.ics\"\n"),
            ("b.toml", "\n\nholidays = \"https://example.com/h.ics\"\n"),
        ],
        &[
            "b.toml:3:12: holidays: holidays is already set at a.toml:1:12; set it in one file \
           only",
        ],
    );
}

// ------------------------------------------------------------------------------------------------
// Fuzzing
// ------------------------------------------------------------------------------------------------

/// Queries a loaded schedule every which way, at ordinary and extreme instants: none may panic.
fn exercise(s: &Schedule) {
    let year = (utc("2026-06-01T00:00:00Z"), utc("2027-06-01T00:00:00Z"));
    let instants = [
        DateTime::<Utc>::MIN_UTC,
        utc("0001-01-01T00:00:00Z"),
        utc("1000-01-01T00:00:00Z"),
        utc("2011-12-30T12:00:00Z"),
        utc("2026-11-02T09:00:00Z"),
        utc("2027-03-28T01:30:00Z"),
        utc("9999-12-31T23:59:59Z"),
        DateTime::<Utc>::MAX_UTC,
    ];
    for &t in &instants {
        let _ = s.on_call_all(t);
        let _ = s.whoishero(t);
    }
    let _ = s.all_shifts(year.0, year.1).unwrap();
    for p in s.people().iter().take(2) {
        let _ = s.shifts_for_person(&p.id, year.0, year.1).unwrap();
    }
    for r in s.rotations() {
        for &t in &instants {
            let _ = s.on_call(&r.id, t).unwrap();
        }
        let _ = s.shifts(&r.id, year.0, year.1).unwrap();
        // A year from the rotation's own start, and the last days of year 9999.
        if let Some(start) = rota_core::tz::resolve(r.timezone, r.start) {
            let from = start.instant - TimeDelta::days(1);
            let _ = s.shifts(&r.id, from, from + TimeDelta::days(365)).unwrap();
        }
        let _ = s
            .shifts(&r.id, utc("9999-12-01T00:00:00Z"), DateTime::<Utc>::MAX_UTC)
            .unwrap();
        for slot in [0, 1, 1000, u64::MAX / 2, u64::MAX] {
            let _ = s.base_shift(&r.id, slot).unwrap();
        }
        if let (Some(a), Some(b)) = (
            s.base_shift(&r.id, 3).unwrap(),
            s.base_shift(&r.id, 5).unwrap(),
        ) {
            let ovs = swap_overrides(&a, &b, ("x".into(), "y".into()), None);
            let swapped = s.with_overrides(ovs).unwrap();
            let _ = swapped.shifts(&r.id, a.start, b.end).unwrap();
        }
    }
    let _ = s.without_overrides().all_shifts(year.0, year.1).unwrap();
    // Overrides from the beginning to the end of time, and in the last second of it.
    if let (Some(r), Some(p)) = (s.rotations().first(), s.people().last()) {
        let o = |id: &str, start, end| rota_core::Override {
            id: id.into(),
            rotation: r.id.clone(),
            person: p.id.clone(),
            start,
            end,
            reason: None,
        };
        let end = utc("9999-12-31T23:59:59Z");
        let all = s
            .with_overrides([
                o("all", DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
                o("last", end - TimeDelta::seconds(1), end),
            ])
            .unwrap();
        for &t in &instants {
            let _ = all.on_call_all(t);
        }
        let _ = all.all_shifts(year.0, year.1).unwrap();
    }
}

/// Loads and, if that works, queries; if not, every diagnostic must point into a file.
fn load_and_exercise(files: &[(&str, &str)]) {
    match Schedule::load(files) {
        Ok(s) => exercise(&s),
        Err(e) => {
            assert!(!e.diagnostics().is_empty(), "{e}");
            for d in e.diagnostics() {
                let text = files.iter().find(|f| f.0 == d.file).map(|f| f.1);
                let Some(text) = text else {
                    panic!("diagnostic in no file: {d:?}")
                };
                let line = text.split('\n').nth(d.line.wrapping_sub(1));
                let Some(line) = line else {
                    panic!("diagnostic past the end of {}: {d:?}", d.file)
                };
                assert!(
                    d.column >= 1 && d.column <= line.chars().count() + 1,
                    "diagnostic past the end of its line {line:?}: {d:?}"
                );
            }
        }
    }
}

/// Bytes and snippets that matter to TOML and to schedules.
const SNIPPETS: [&str; 28] = [
    "\"",
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\n",
    ".",
    "#",
    ",",
    "{",
    "}",
    "'",
    "\\",
    "\"\"\"",
    "\"1 hour\"",
    "\"3 days\"",
    "\"52 weeks\"",
    "\"Pacific/Apia\"",
    "\"Australia/Lord_Howe\"",
    "\"2011-12-30T09:00\"",
    "\"2027-03-28T01:30\"",
    "\"9999-12-31T23:00\"",
    "\"1000-01-01T00:00\"",
    "\"FREQ=DAILY;BYHOUR=9,21\"",
    "displaced = \"swap\"\n",
    "team = \"platform\"\n",
    "\n[[overrides]]\nrotation = \"support-hero\"\nperson = \"bob\"\nstart = \"2027-03-28T01:30\"\nend = \"2027-03-28T03:00\"\n",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
    Splice(usize, usize),
    SwapLines(usize, usize),
    DuplicateLine(usize),
    Truncate(usize),
    /// Replaces the quoted value of the n-th `key = "value"` line with one of [`VALUES`]: the
    /// file stays valid TOML and the schedule changes meaning.
    ReplaceValue(usize, usize),
}

/// Values, valid and not, for [`Mutation::ReplaceValue`].
const VALUES: [&str; 29] = [
    "1 hour",
    "5 hours",
    "1 day",
    "2 weeks",
    "0 days",
    "FREQ=DAILY;BYHOUR=9,21",
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=HOURLY;INTERVAL=7",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "Pacific/Apia",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "Europe/Londn",
    "2011-12-30T09:00",
    "2027-03-28T01:30",
    "2026-11-01T01:30",
    "2026-09-06T00:00",
    "1000-01-01T00:00",
    "9999-12-30T00:00",
    "2027-01-11T09:00:00+14:00",
    "support-hero",
    "platform-secondary",
    "platform",
    "alice",
    "grace",
    "swap",
    "skip",
    "",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        3 => pos.prop_map(Mutation::Delete),
        3 => (pos, any::<u8>()).prop_map(|(p, b)| Mutation::Insert(p, b)),
        3 => (pos, any::<u8>()).prop_map(|(p, b)| Mutation::Replace(p, b)),
        3 => (pos, 0..SNIPPETS.len()).prop_map(|(p, i)| Mutation::Splice(p, i)),
        2 => (pos, pos).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => pos.prop_map(Mutation::DuplicateLine),
        1 => pos.prop_map(Mutation::Truncate),
        12 => (pos, 0..VALUES.len()).prop_map(|(p, i)| Mutation::ReplaceValue(p, i)),
    ]
}

fn split_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect()
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in muts {
        let n = bytes.len();
        let at = |p: usize| if n == 0 { 0 } else { p % (n + 1) };
        match *m {
            Mutation::Delete(p) if n > 0 => {
                bytes.remove(p % n);
            }
            Mutation::Insert(p, b) => bytes.insert(at(p), b),
            Mutation::Replace(p, b) if n > 0 => bytes[p % n] = b,
            Mutation::Splice(p, i) => {
                let p = at(p);
                bytes.splice(p..p, SNIPPETS[i].bytes());
            }
            Mutation::SwapLines(a, b) => {
                let mut lines = split_lines(&bytes);
                let k = lines.len();
                lines.swap(a % k, b % k);
                bytes = lines.join(&b'\n');
            }
            Mutation::DuplicateLine(a) => {
                let mut lines = split_lines(&bytes);
                let line = lines[a % lines.len()].clone();
                lines.insert(a % lines.len(), line);
                bytes = lines.join(&b'\n');
            }
            Mutation::Truncate(p) => bytes.truncate(at(p)),
            Mutation::ReplaceValue(p, i) => {
                let mut lines = split_lines(&bytes);
                let quoted: Vec<usize> = (0..lines.len())
                    .filter(|&k| lines[k].windows(4).any(|w| w == b" = \""))
                    .collect();
                if !quoted.is_empty() {
                    let k = quoted[p % quoted.len()];
                    let eq = lines[k].windows(4).position(|w| w == b" = \"").unwrap();
                    let mut line = lines[k][..eq + 3].to_vec();
                    line.extend(format!("{:?}", VALUES[i]).bytes());
                    lines[k] = line;
                    bytes = lines.join(&b'\n');
                }
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// An rrule built from its grammar's parts, valid or not.
fn rrule_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        prop::sample::select(vec![
            "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY", "MINUTELY", "SECONDLY", "X", ""
        ])
        .prop_map(|f| format!("FREQ={f}")),
        prop::sample::select(vec![
            "0", "1", "2", "3", "7", "13", "400", "4801", "65535", "65536", "-1"
        ])
        .prop_map(|i| format!("INTERVAL={i}")),
        prop::sample::select(vec![
            "MO", "TH", "MO,TH", "SA,SU", "1MO", "-1FR", "+53MO", "XX", ""
        ])
        .prop_map(|d| format!("BYDAY={d}")),
        prop::sample::select(vec!["0", "9", "9,21", "0,1,2,3", "23", "24", "-1"])
            .prop_map(|h| format!("BYHOUR={h}")),
        prop::sample::select(vec!["0", "30", "0,30", "59", "60"])
            .prop_map(|m| format!("BYMINUTE={m}")),
        prop::sample::select(vec!["1", "-1", "31", "29", "0", "32"])
            .prop_map(|d| format!("BYMONTHDAY={d}")),
        prop::sample::select(vec!["1", "2", "12", "13"]).prop_map(|m| format!("BYMONTH={m}")),
        prop::sample::select(vec!["1", "-1", "2", "0", "366"])
            .prop_map(|p| format!("BYSETPOS={p}")),
        prop::sample::select(vec!["1", "53", "-1", "0"]).prop_map(|w| format!("BYWEEKNO={w}")),
        prop::sample::select(vec!["1", "366", "-366", "0"]).prop_map(|d| format!("BYYEARDAY={d}")),
        prop::sample::select(vec!["MO", "SU", "XX"]).prop_map(|d| format!("WKST={d}")),
        Just("COUNT=3".to_string()),
        Just("UNTIL=20270101T000000Z".to_string()),
        Just("BYSECOND=0".to_string()),
        "[A-Z=;,0-9]{0,12}",
        "\\PC{0,4}",
    ];
    prop::collection::vec(part, 0..5).prop_map(|v| v.join(";"))
}

/// A schedule of people a-d in teams x and y, and generated rotations (r0 is the hero), a link
/// from r0 to the team rotations, and overrides, with mostly valid values: most of these load,
/// so that the queries get fuzzed too.
fn structured_schedule() -> impl Strategy<Value = String> {
    let zone = prop::sample::select(vec![
        "Europe/London",
        "America/Chicago",
        "Australia/Lord_Howe",
        "Pacific/Apia",
        "Asia/Kolkata",
        "America/Santiago",
        "UTC",
    ]);
    let start = prop::sample::select(vec![
        "2026-11-02T09:00",
        "2011-12-30T05:00",
        "2011-12-29T23:30",
        "2027-03-28T01:30",
        "2026-11-01T01:30",
        "2026-10-04T02:15",
        "2026-09-06T00:00",
        "2026-04-04T23:30",
        "1000-01-01T00:00",
        "9999-12-30T00:00",
        "2026-11-02T09:00:30",
    ]);
    let short = vec![
        "every = \"1 hour\"",
        "every = \"2 hours\"",
        "every = \"12 hours\"",
        "every = \"1 day\"",
        "every = \"1 week\"",
        "every = \"3 weeks\"",
        "rrule = \"FREQ=DAILY\"",
        "rrule = \"FREQ=WEEKLY\"",
        "rrule = \"FREQ=WEEKLY;INTERVAL=2\"",
        "rrule = \"FREQ=HOURLY;INTERVAL=5\"",
    ];
    let mut long = short.clone();
    long.extend([
        "every = \"52 weeks\"",
        "rrule = \"FREQ=MONTHLY\"",
        "rrule = \"FREQ=YEARLY\"",
    ]);
    // Only r0, which links point from, gets long shifts and arbitrary rules: a link target whose
    // shifts span thousands of the hero's makes each lookup slow (see the report on `paint`),
    // which is not what this test is after.
    let hero_rec = prop_oneof![
        6 => prop::sample::select(long).prop_map(str::to_string),
        1 => rrule_text().prop_map(|r| format!("rrule = {r:?}")),
    ];
    let rotation = |rec: BoxedStrategy<String>| {
        (
            prop::option::weighted(0.8, prop::sample::select(vec!["x", "y"])),
            prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d"]), 1..4),
            zone.clone(),
            start.clone(),
            rec,
        )
    };
    let first = rotation(hero_rec.boxed());
    let others = rotation(prop::sample::select(short).prop_map(str::to_string).boxed());
    let over = (
        0..4usize,
        prop::sample::select(vec!["a", "b", "c", "d"]),
        start,
        prop::sample::select(vec![-1i64, 1, 2, 24, 24 * 7, 24 * 400]),
    );
    (
        first,
        prop::collection::vec(others, 0..4),
        prop::sample::select(vec!["skip", "swap", "none"]),
        prop::collection::vec(over, 0..4),
        any::<bool>(),
    )
        .prop_map(|(first, mut rotations, displaced, overs, hero)| {
            rotations.insert(0, first);
            let mut t = String::new();
            if hero {
                t.push_str("hero_rotation = \"r0\"\n");
            }
            t.push_str("[teams.x]\n[teams.y]\n");
            for (p, team) in [("a", "x"), ("b", "x"), ("c", "y"), ("d", "y")] {
                t.push_str(&format!("[people.{p}]\nteam = \"{team}\"\n"));
            }
            let mut targets: Vec<(String, &str)> = Vec::new();
            for (i, (team, members, zone, start, rec)) in rotations.iter().enumerate() {
                t.push_str(&format!("[rotations.r{i}]\n"));
                if let Some(team) = team {
                    t.push_str(&format!("team = \"{team}\"\n"));
                    if i > 0 && !targets.iter().any(|(_, tt)| tt == team) {
                        targets.push((format!("r{i}"), team));
                    }
                }
                t.push_str(&format!(
                    "members = {members:?}\ntimezone = \"{zone}\"\nstart = \"{start}\"\n{rec}\n"
                ));
            }
            if displaced != "none" && !targets.is_empty() {
                let to: Vec<&String> = targets.iter().map(|(r, _)| r).collect();
                t.push_str(&format!(
                    "[[links]]\nfrom = \"r0\"\nto = {to:?}\ndisplaced = \"{displaced}\"\n"
                ));
            }
            for (rot, person, start, hours) in &overs {
                let end = rota_core::tz::parse_civil(start).unwrap() + TimeDelta::hours(*hours);
                t.push_str(&format!(
                    "[[overrides]]\nrotation = \"r{}\"\nperson = \"{person}\"\n\
                     start = \"{start}\"\nend = \"{}\"\n",
                    rot % rotations.len(),
                    end.format("%Y-%m-%dT%H:%M:%S")
                ));
            }
            t
        })
}

/// A schedule made of plausible lines in any order, so that fuzzing reaches past the parser.
fn token_soup() -> impl Strategy<Value = String> {
    let start = prop::sample::select(vec![
        "2026-11-02T09:00",
        "2011-12-30T05:00",
        "2027-03-28T01:30",
        "2026-11-01T01:30",
        "2026-09-06T00:00",
        "1000-01-01T00:00",
        "9999-12-30T00:00",
        "0999-12-31T23:00",
        "2026-11-02T09:00:30",
        "2026-13-01T00:00",
        "2026-11-02T09:00:00Z",
    ]);
    let zone = prop::sample::select(vec![
        "Europe/London",
        "America/Chicago",
        "Australia/Lord_Howe",
        "Pacific/Apia",
        "Asia/Kolkata",
        "America/Santiago",
        "UTC",
        "Nowhere/Land",
    ]);
    let every = prop::sample::select(vec![
        "1 hour",
        "2 hours",
        "12 hours",
        "1 day",
        "1 week",
        "3 weeks",
        "0 days",
        "10000 days",
        "1 fortnight",
    ]);
    let line = prop_oneof![
        prop::sample::select(vec!["r", "s", "t"]).prop_map(|r| format!("[rotations.{r}]")),
        prop::sample::select(vec!["a", "b", "c"]).prop_map(|p| format!("[people.{p}]")),
        Just("[teams.x]".to_string()),
        Just("team = \"x\"".to_string()),
        Just("[[links]]".to_string()),
        Just("[[overrides]]".to_string()),
        Just("hero_rotation = \"r\"".to_string()),
        Just("admins = [\"a\"]".to_string()),
        Just("members = [\"a\", \"b\"]".to_string()),
        Just("members = [\"c\"]".to_string()),
        Just("members = []".to_string()),
        zone.prop_map(|z| format!("timezone = \"{z}\"")),
        start.clone().prop_map(|s| format!("start = \"{s}\"")),
        start.prop_map(|s| format!("end = \"{s}\"")),
        every.prop_map(|e| format!("every = \"{e}\"")),
        rrule_text().prop_map(|r| format!("rrule = \"{r}\"")),
        prop::sample::select(vec!["r", "s", "t"]).prop_map(|r| format!("from = \"{r}\"")),
        prop::sample::select(vec!["r", "s", "t"]).prop_map(|r| format!("to = [\"{r}\"]")),
        prop::sample::select(vec!["r", "s", "t"]).prop_map(|r| format!("rotation = \"{r}\"")),
        prop::sample::select(vec!["a", "b", "c"]).prop_map(|p| format!("person = \"{p}\"")),
        Just("displaced = \"swap\"".to_string()),
        Just("displaced = \"skip\"".to_string()),
        "[ -~]{0,20}",
    ];
    prop::collection::vec(line, 0..40).prop_map(|v| v.join("\n"))
}

/// `n` cases, or `PROPTEST_CASES` if set.
fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

proptest! {
    // Most of these load, and the queries on them take longer: fewer cases.
    #![proptest_config(ProptestConfig { cases: cases(128), ..ProptestConfig::default() })]

    #[test]
    fn structured_schedules_never_panic(text in structured_schedule()) {
        load_and_exercise(&[("s.toml", &text)]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        load_and_exercise(&[("x.toml", &text)]);
    }

    #[test]
    fn toml_like_text_never_panics(text in "[\\[\\]=\"a-z0-9._ #,{}\n-]{0,300}") {
        load_and_exercise(&[("x.toml", &text)]);
    }


    #[test]
    fn plausible_schedules_never_panic(a in token_soup(), b in token_soup()) {
        load_and_exercise(&[("a.toml", &a), ("b.toml", &b)]);
    }

    #[test]
    fn rrules_never_panic(rule in rrule_text(), zone in 0..6usize, start in 0..4usize) {
        let starts = ["2026-11-02T09:00", "2011-12-30T05:00", "2027-03-28T01:30", "2026-09-06T00:00"];
        let text = format!(
            "[people.a]\n[rotations.r]\nmembers = [\"a\"]\ntimezone = {:?}\nstart = {:?}\nrrule = {:?}\n",
            common::ZONES[zone], starts[start], rule
        );
        load_and_exercise(&[("r.toml", &text)]);
    }

    #[test]
    fn mutated_schedules_never_panic(
        people in prop::collection::vec(mutation(), 0..3),
        rotations in prop::collection::vec(mutation(), 0..4),
        overrides in prop::collection::vec(mutation(), 0..3),
    ) {
        let (p, r, o) = (apply(PEOPLE, &people), apply(ROTATIONS, &rotations), apply(OVERRIDES, &overrides));
        load_and_exercise(&[("people.toml", &p), ("rotations.toml", &r), ("overrides.toml", &o)]);
    }
}

/// What `main() -> Result<(), Box<dyn Error>>` prints for a failed load (`Error: {err:?}`): the
/// diagnostics as `rota check` prints them, not the struct dump.
#[test]
fn debug_prints_the_diagnostics_readably() {
    let bad = "[rotations.hero]\nmembers = [\"alice\"]\ntimezone = \"Europe/Londn\"\n";
    let err = Schedule::load(&[("hero.toml", bad)]).unwrap_err();
    let boxed: Box<dyn std::error::Error> = Box::new(err.clone());
    let shown = format!("{boxed:?}");
    assert!(
        shown.starts_with("4 problems in the schedule files\n"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "\nhero.toml:3:12: rotations.hero.timezone: unknown time zone \"Europe/Londn\""
        ),
        "{shown}"
    );
    assert!(!shown.contains("Diagnostic {"), "{shown}");
    // The structure is still there for whoever asks for it.
    assert!(format!("{err:#?}").contains("Diagnostic {"), "{err:#?}");
}

/// A rotation with a bad zone, a bad rule and no start gets all three problems in one run: the
/// rule is checked even when the zone and the start cannot be used.
#[test]
fn bad_zone_bad_rrule_and_no_start_are_reported_together() {
    let people = "[people.alice]\nname = \"Alice\"\n";
    let rot = "[rotations.hero]\nmembers = [\"alice\"]\ntimezone = \"Europe/Londn\"\nrrule = \"FREQ=WEEKLY;BYDAY=XX\"\n";
    assert_diagnostics(
        &[("p.toml", people), ("r.toml", rot)],
        &[
            "r.toml:1:12: rotations.hero: missing `start`...",
            "r.toml:3:12: rotations.hero.timezone: unknown time zone \"Europe/Londn\" (did you mean \"Europe/London\"?)...",
            "r.toml:4:9: rotations.hero.rrule: invalid rrule \"FREQ=WEEKLY;BYDAY=XX\"...",
        ],
    );
    // With a start, a bad zone still does not hide the rule's problems, including the start's.
    let rot = "[rotations.hero]\nmembers = [\"alice\"]\ntimezone = \"Mars/Base\"\nstart = \"2026-11-02T09:00\"\nrrule = \"FREQ=WEEKLY;BYDAY=TU\"\n";
    assert_diagnostics(
        &[("p.toml", people), ("r.toml", rot)],
        &[
            "r.toml:3:12: rotations.hero.timezone: unknown time zone \"Mars/Base\"...",
            "r.toml:4:9: rotations.hero.start: start 2026-11-02T09:00 (Monday) is not an occurrence...",
        ],
    );
    // Without a start, a rule that is fine is not blamed for the stand-in start.
    let rot = "[rotations.hero]\nmembers = [\"alice\"]\ntimezone = \"Europe/London\"\nrrule = \"FREQ=WEEKLY;BYDAY=TH\"\n";
    assert_diagnostics(
        &[("p.toml", people), ("r.toml", rot)],
        &["r.toml:1:12: rotations.hero: missing `start`..."],
    );
}

const ONE_ROTATION: &str = "hero_rotation = \"hero\"\n[people.alice]\nname = \"Alice\"\nabsence = [\"https://cal.example/a.ics\", \"away/alice.ics\"]\n[people.bob]\nname = \"Bob\"\n[rotations.hero]\nmembers = [\"alice\", \"bob\"]\ntimezone = \"Europe/London\"\nstart = \"2026-11-02T09:00\"\nevery = \"1 week\"\n";

#[test]
fn check_asks_about_calendar_files_only_and_locates_the_missing_ones() {
    let holidays = "holidays = \"bank.ics\"\n";
    let asked = std::cell::RefCell::new(Vec::new());
    let checked = Schedule::check(&[("a.toml", ONE_ROTATION), ("h.toml", holidays)], &|p| {
        asked.borrow_mut().push(p.to_string());
        if p == "bank.ics" {
            Ok(())
        } else {
            Err(format!("calendar file {p} does not exist"))
        }
    });
    assert_eq!(
        *asked.borrow(),
        ["away/alice.ics", "bank.ics"],
        "URLs are not files"
    );
    let err = checked.schedule.unwrap_err();
    let lines: Vec<String> = err.diagnostics().iter().map(|d| d.to_string()).collect();
    assert_eq!(
        lines,
        ["a.toml:4:41: people.alice.absence[1]: calendar file away/alice.ics does not exist"]
    );
    // Schedule::load never asks, so the service and embedders load as before.
    assert!(Schedule::load(&[("a.toml", ONE_ROTATION)]).is_ok());
}

#[test]
fn overlapping_file_overrides_warn_naming_both_and_the_winner() {
    let overrides = "[[overrides]]\nid = \"first\"\nrotation = \"hero\"\nperson = \"bob\"\nstart = \"2026-11-03T09:00\"\nend = \"2026-11-05T09:00\"\n\n[[overrides]]\nid = \"apart\"\nrotation = \"hero\"\nperson = \"bob\"\nstart = \"2026-12-03T09:00\"\nend = \"2026-12-05T09:00\"\n";
    let later = "[[overrides]]\nid = \"second\"\nrotation = \"hero\"\nperson = \"alice\"\nstart = \"2026-11-04T09:00\"\nend = \"2026-11-06T09:00\"\n";
    let files = [
        ("a.toml", ONE_ROTATION),
        ("b.toml", overrides),
        ("c.toml", later),
    ];
    let checked = Schedule::check(&files, &|_| Ok(()));
    let schedule = checked.schedule.expect("overlaps are allowed");
    let warnings: Vec<String> = checked.warnings.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "c.toml:2:6: overrides[0]: override \"second\" overlaps override \"first\" (at b.toml:2:6) in rotation hero from 2026-11-04T09:00:00+00:00 to 2026-11-05T09:00:00+00:00; \"second\" wins there: where overrides overlap, the one defined later (in a later file, or later in the same file) wins"
        ]
    );
    // And the resolution agrees with what the warning says.
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let who = |t| {
        schedule
            .on_call("hero", at(t))
            .unwrap()
            .unwrap()
            .person
            .id
            .clone()
    };
    assert_eq!(who("2026-11-04T12:00:00Z"), "alice");
    assert_eq!(who("2026-11-03T12:00:00Z"), "bob");
    // No overlap, no warning.
    let checked = Schedule::check(&files[..2], &|_| Ok(()));
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
}

#[test]
fn webhooks_are_loaded_with_their_events_and_every_mistake_named() {
    let good = "[[webhooks]]\nurl = \"https://hooks.example.com/rota\"\nevents = [\"handoff\", \"swap.accepted\"]\nsecret_env = \"ROTA_WEBHOOK_SECRET\"\n\n[[webhooks]]\nname = \"pager\"\nurl_env = \"PAGER_URL\"\nevents = \"override.created\"\nsecret_env = \"PAGER_SECRET\"\n";
    let s = Schedule::load(&[("a.toml", ONE_ROTATION), ("w.toml", good)]).unwrap();
    let w = s.webhooks();
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].name, "https://hooks.example.com/rota");
    assert_eq!(
        w[0].events,
        [
            rota_core::WebhookEvent::Handoff,
            rota_core::WebhookEvent::SwapAccepted
        ]
    );
    assert_eq!(w[1].name, "pager");
    assert_eq!(w[1].url, rota_core::WebhookUrl::Env("PAGER_URL".into()));
    assert_eq!(w[1].secret_env, "PAGER_SECRET");
    let bad = "[[webhooks]]\nurl = \"ftp://x\"\nevents = [\"handof\"]\nsecret_env = \"whsec_abc\"\n\n[[webhooks]]\nurl = \"https://a\"\nurl_env = \"A\"\nevents = []\n";
    assert_diagnostics(
        &[("a.toml", ONE_ROTATION), ("w.toml", bad)],
        &[
            "w.toml:2:7: webhooks[0].url: \"ftp://x\" is not an http(s) URL",
            "w.toml:3:11: webhooks[0].events: unknown event \"handof\" (did you mean \"handoff\"?)...",
            "w.toml:4:14: webhooks[0].secret_env: \"whsec_abc\" is not an environment variable name...",
            "w.toml:6:1: webhooks[1]: missing `secret_env`...",
            "w.toml:8:11: webhooks[1].url_env: give `url` or `url_env`, not both",
            "w.toml:9:10: webhooks[1].events: no events...",
        ],
    );
}

#[test]
fn a_rotations_slack_table_names_ids_and_its_mistakes() {
    let ok = ONE_ROTATION.replace(
        "every = \"1 week\"\n",
        "every = \"1 week\"\n[rotations.hero.slack]\nusergroup = \"S0123ABCD\"\nchannel = \"C0456EFGH\"\ntopic = true\n",
    );
    let s = Schedule::load(&[("a.toml", &ok)]).unwrap();
    assert_eq!(
        s.rotation("hero").unwrap().slack,
        Some(rota_core::SlackSettings {
            usergroup: Some("S0123ABCD".into()),
            channel: Some("C0456EFGH".into()),
            topic: true
        })
    );
    let bad = ONE_ROTATION.replace(
        "every = \"1 week\"\n",
        "every = \"1 week\"\n[rotations.hero.slack]\nusergroup = \"@support-hero\"\ntopic = true\nchanel = \"C1\"\n",
    );
    assert_diagnostics(
        &[("a.toml", &bad)],
        &[
            "a.toml:12:1: rotations.hero.slack: topic = true needs the channel whose topic it sets",
            "a.toml:13:13: rotations.hero.slack.usergroup: \"@support-hero\" is not a Slack id like \"S0123ABCD\"...",
            "a.toml:15:1: rotations.hero.slack.chanel: unknown key (did you mean \"channel\"?)...",
        ],
    );
}
