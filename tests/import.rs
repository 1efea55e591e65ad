//! `rota import`: the real binary on the fixtures in `tests/fixtures/import/`, written from each
//! product's published API documentation (see the README there).
//!
//! # The proofs
//!
//! Each product's fixture holds, besides the configuration, the product's own resolved schedule
//! over two weeks: PagerDuty's `final_schedule.rendered_schedule_entries`, Opsgenie's
//! `finalTimeline`, Grafana OnCall's `final_shifts` (truncated to the window, end exclusive). The
//! proofs import the configuration, ask the binary for the imported rotation's resolved shifts
//! over that window (`rota shifts ROTATION --from --to --json`) and compare them with the
//! product's entries, person by email address and start and end to the second.
//!
//! The comparison rule: on both sides, pieces are first cut to the window, and adjacent pieces
//! (one ending where the next starts) of the same person are joined. rota splits a shift at every
//! handoff and override edge, and the products split theirs at restriction windows, layers and
//! days (Grafana OnCall gives one row per 8-hour weekday occurrence); the joining makes those
//! cuts irrelevant and nothing else. After it, the two lists must be equal entry for entry.
//!
//! Where the product has several people on call at once (Opsgenie's overlapping rotations),
//! rota, which has one person at a time, cannot equal it: there the expected list is the
//! product's with the later layer winning, and the report must list each such overlap.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::util::{example_schedules, rota, stderr, stdout};

const NOW: &str = "2025-06-01T12:00:00Z";

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(path)
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(path)).unwrap()).unwrap()
}

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.display().to_string()
}

/// `rota import ARGS --now NOW` (the schedules directory is the examples, which a vendor import
/// does not read).
fn import(args: &[&str]) -> Output {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--now", NOW]);
    rota(&example_schedules(), &all)
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// (who, start, end), cut to `[from, to)`, sorted, adjacent pieces of one person joined.
fn joined(
    mut pieces: Vec<(String, DateTime<Utc>, DateTime<Utc>)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    pieces = pieces
        .into_iter()
        .map(|(w, s, e)| (w, s.max(from), e.min(to)))
        .filter(|(_, s, e)| s < e)
        .collect();
    pieces.sort_by_key(|p| (p.1, p.2));
    let mut out: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for p in pieces {
        match out.last_mut() {
            Some(last) if last.0 == p.0 && last.2 == p.1 => last.2 = p.2,
            _ => out.push(p),
        }
    }
    out
}

/// The imported rotation's resolved shifts over `[from, to)`, by the binary, as (email, start,
/// end), joined.
fn rota_shifts(
    dir: &Path,
    rotation: &str,
    from: &str,
    to: &str,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let state = dir.join("no-such-state.db");
    let o = rota(
        dir,
        &[
            "shifts",
            rotation,
            "--from",
            from,
            "--to",
            to,
            "--json",
            "--state",
            state.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let pieces = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["person"]["email"].as_str().unwrap().to_string(),
                t(s["start"].as_str().unwrap()),
                t(s["end"].as_str().unwrap()),
            )
        })
        .collect();
    joined(pieces, t(from), t(to))
}

fn check_ok(dir: &Path) -> String {
    let o = rota(dir, &["check"]);
    assert!(
        o.status.success(),
        "rota check failed on the import:\n{}\n{}",
        stderr(&o),
        files(dir)
    );
    stdout(&o)
}

/// Every file of `dir`, named, for failure messages.
fn files(dir: &Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            format!(
                "--- {}\n{}",
                p.display(),
                std::fs::read_to_string(p).unwrap_or_default()
            )
        })
        .collect()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn report(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("IMPORT-REPORT.md")).unwrap()
}

/// A second import into `dir` is refused and leaves its files as they are (one edited by hand
/// here); with --force it replaces them. `run(force)` runs the import.
fn refuses_then_forces(dir: &Path, run: impl Fn(bool) -> Output) {
    let file = dir.join("overrides.toml");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{original}# edited by hand\n")).unwrap();
    let names = names_in(dir);
    let o = run(false);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("already there; rota import never overwrites files"),
        "{}",
        stderr(&o)
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .ends_with("# edited by hand\n")
    );
    assert_eq!(names_in(dir), names, "nothing added or left behind");
    let o = run(true);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    assert_eq!(names_in(dir), names, "nothing added or left behind");
}

/// PagerDuty user id -> email, from the users fixture.
fn pd_emails() -> std::collections::HashMap<String, String> {
    read_json("pagerduty/users.json")["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_string(),
                u["email"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// PagerDuty's rendered entries as (email, start, end).
fn pd_entries(entries: &Value) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let emails = pd_emails();
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                emails[e["user"]["id"].as_str().unwrap()].clone(),
                t(e["start"].as_str().unwrap()),
                t(e["end"].as_str().unwrap()),
            )
        })
        .collect()
}

const PD_FROM: &str = "2025-06-02T00:00:00+01:00";
const PD_TO: &str = "2025-06-16T00:00:00+01:00";

/// The proof for PagerDuty, with both layers (needs rota's layered rotations).
#[test]
fn pagerduty_import_equals_pagerdutys_final_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pd");
    let schedule = fixture("pagerduty/schedule.json");
    let overrides = fixture("pagerduty/overrides.json");
    let users = fixture("pagerduty/users.json");
    let args = [
        "pagerduty",
        schedule.to_str().unwrap(),
        "--overrides",
        overrides.to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let o = import(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        check_ok(&out),
        "ok: 3 files, 5 people, 0 teams, 1 rotations, 0 links, 1 overrides\n"
    );

    let got = rota_shifts(&out, "platform-primary", PD_FROM, PD_TO);
    let sch = read_json("pagerduty/schedule.json");
    let want = joined(
        pd_entries(&sch["schedule"]["final_schedule"]["rendered_schedule_entries"]),
        t(PD_FROM),
        t(PD_TO),
    );
    assert_eq!(
        want.len(),
        14,
        "Bob's and Carol's weekdays are separate entries"
    );
    assert_eq!(got, want);

    // The layers in rota's order (PagerDuty's highest, listed first by GET, written last), the
    // weekly restriction of 65 hours as one window.
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    let weekday = rotations.find("id = \"weekday-business-hours\"").unwrap();
    let weekend = rotations.find("id = \"weekend-cover\"").unwrap();
    assert!(weekday < weekend, "{rotations}");
    assert!(
        rotations.contains("active = [\"Fri 16:00-Mon 09:00\"]"),
        "{rotations}"
    );
    assert!(
        rotations.contains("active = [\"Mon-Fri 09:00-17:00\"]"),
        "{rotations}"
    );
    assert!(rotations.contains("advance = \"always\""), "{rotations}");

    // The report: printed and written, with the check and what is not carried over.
    let r = report(&out);
    assert!(stdout(&o).starts_with(&r), "{}", stdout(&o));
    assert!(
        r.contains("(14 entries), compared with the imported rotation `platform-primary`: the same people on call at every instant."),
        "{r}"
    );
    assert!(
        r.contains("- **escalation policy \"Platform Escalation\" (PEP4PLT)**: pages this schedule: rota has no escalation policies"),
        "{r}"
    );
    assert!(r.contains("- **team \"Platform\" (PT7PLAT)**"), "{r}");
    assert!(
        r.contains("- **schedule \"Platform Primary\" description**: \"Weekday business hours rotation plus weekend cover (weekend cover starts Friday 16:00).\": rota's rotations have no description"),
        "{r}"
    );
    assert!(r.contains("## Not carried over (3)"), "{r}");
    assert!(
        r.contains("- **schedule_layers**: read highest precedence first"),
        "{r}"
    );

    // Never over an existing file without --force; nothing half-written either way.
    let people = out.join("people.toml");
    let original = std::fs::read_to_string(&people).unwrap();
    std::fs::write(&people, format!("{original}# edited by hand\n")).unwrap();
    let o = import(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("people.toml"), "{err}");
    assert!(
        err.contains("already there; rota import never overwrites files: give --force"),
        "{err}"
    );
    assert!(
        std::fs::read_to_string(&people)
            .unwrap()
            .ends_with("# edited by hand\n")
    );
    assert_eq!(
        names_in(&out),
        [
            "IMPORT-REPORT.md",
            "overrides.toml",
            "people.toml",
            "rotations.toml"
        ]
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    let o = import(&forced);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&people).unwrap(), original);
    assert_eq!(
        names_in(&out),
        [
            "IMPORT-REPORT.md",
            "overrides.toml",
            "people.toml",
            "rotations.toml"
        ]
    );
}

/// One layer, written as a plain rotation: its own rendered entries are then the final
/// schedule.
#[test]
fn pagerduty_single_layer_equals_its_rendered_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sch = read_json("pagerduty/schedule.json");
    let layer = sch["schedule"]["schedule_layers"][1].clone();
    assert_eq!(layer["id"], "PL1WKDY");
    sch["schedule"]["final_schedule"]["rendered_schedule_entries"] =
        layer["rendered_schedule_entries"].clone();
    sch["schedule"]["schedule_layers"] = json!([layer]);
    let path = write_json(tmp.path(), "one-layer.json", &sch);
    let out = tmp.path().join("out");
    let users = fixture("pagerduty/users.json");
    let o = import(&[
        "pagerduty",
        &path,
        "--users",
        users.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        check_ok(&out),
        "ok: 3 files, 3 people, 0 teams, 1 rotations, 0 links, 0 overrides\n"
    );
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    assert!(!rotations.contains("layers"), "{rotations}");
    assert!(rotations.contains(
        "[rotations.platform-primary]\nname = \"Platform Primary\"\nmembers = [\"alice\", \"bob\", \"carol\"]\ntimezone = \"Europe/London\"\nstart = \"2025-05-05T09:00\"\nevery = \"1 week\"\nactive = [\"Mon-Fri 09:00-17:00\"]\nadvance = \"always\"\n"
    ), "{rotations}");
    let got = rota_shifts(&out, "platform-primary", PD_FROM, PD_TO);
    let want = joined(
        pd_entries(&layer["rendered_schedule_entries"]),
        t(PD_FROM),
        t(PD_TO),
    );
    assert_eq!(want.len(), 10);
    assert_eq!(got, want);
    let r = report(&out);
    assert!(
        r.contains("the same people on call at every instant"),
        "{r}"
    );
    assert!(
        r.contains("overrides_subschedule**: lists 1 overrides: not imported; give --overrides"),
        "{r}"
    );
}

/// PagerDuty does not document the order of layers in GET: when the final schedule only matches
/// the other order, that one is written, and the report says so.
#[test]
fn pagerduty_layer_order_follows_the_final_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sch = read_json("pagerduty/schedule.json");
    let layers = sch["schedule"]["schedule_layers"].as_array_mut().unwrap();
    layers.reverse();
    let path = write_json(tmp.path(), "reversed.json", &sch);
    let out = tmp.path().join("out");
    let overrides = fixture("pagerduty/overrides.json");
    let o = import(&[
        "pagerduty",
        &path,
        "--overrides",
        overrides.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_ok(&out);
    let r = report(&out);
    assert!(
        r.contains("PagerDuty's final schedule matches only with the layers in the order the response lists them"),
        "{r}"
    );
    assert!(
        r.contains("the same people on call at every instant"),
        "{r}"
    );
    // Without the users file, people have no email address: named in the report, one by one.
    for who in [
        "Alice Ng",
        "Bob Okafor",
        "Carol Diaz",
        "Dave Patel",
        "Erin Walsh",
    ] {
        assert!(
            r.contains(&format!("PagerDuty user \"{who}\"")) && r.contains("no email address"),
            "{who}: {r}"
        );
    }
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    assert!(
        rotations.find("weekday-business-hours").unwrap()
            < rotations.find("weekend-cover").unwrap(),
        "{rotations}"
    );
}

/// What cannot be carried over is listed item by item, with the source object's id.
#[test]
fn pagerduty_report_lists_what_cannot_be_carried_over() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sch = read_json("pagerduty/schedule.json");
    let s = &mut sch["schedule"];
    s.as_object_mut().unwrap().remove("final_schedule");
    let base = s["schedule_layers"][1].clone();
    // A layer that ended, one with 90-minute turns, one with a restriction at 09:00:30, and one
    // that starts inside a turn.
    let mut ended = base.clone();
    ended["id"] = json!("PLENDED");
    ended["name"] = json!("Old layer");
    ended["end"] = json!("2025-05-01T00:00:00+01:00");
    let mut odd = base.clone();
    odd["id"] = json!("PLODD");
    odd["name"] = json!("Ninety minutes");
    odd["rotation_turn_length_seconds"] = json!(5400);
    let mut seconds = base.clone();
    seconds["id"] = json!("PLSECS");
    seconds["name"] = json!("Odd restriction");
    seconds["restrictions"][0]["start_time_of_day"] = json!("09:00:30");
    let mut late = base.clone();
    late["id"] = json!("PLLATE");
    late["name"] = json!("Late start");
    late["start"] = json!("2025-06-04T12:00:00+01:00");
    s["schedule_layers"] = json!([late, ended, odd, seconds]);
    let path = write_json(tmp.path(), "s.json", &sch);
    // An override on a Saturday, when no layer has anyone on call.
    let ov = json!({"overrides": [{
        "id": "PSATURD", "start": "2025-06-07T10:00:00+01:00", "end": "2025-06-07T12:00:00+01:00",
        "user": {"id": "PA1LN0G", "type": "user_reference", "summary": "Alice Ng"}}]});
    let ov = write_json(tmp.path(), "o.json", &ov);
    let out = tmp.path().join("out");
    let users = fixture("pagerduty/users.json");
    let o = import(&[
        "pagerduty",
        &path,
        "--overrides",
        &ov,
        "--users",
        users.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_ok(&out);
    let r = report(&out);
    for item in [
        "- **layer \"Old layer\" (PLENDED)**: ended at 2025-04-30T23:00:00Z: not imported",
        "- **layer \"Ninety minutes\" (PLODD)**: turns of 5400 seconds are not whole hours: not imported",
        "- **layer \"Odd restriction\" (PLSECS)**: its restrictions cannot be written as rota windows (a window that does not start and end on whole minutes): not imported",
        // Turn 4 from 2025-05-05 09:00 is Bob's, Mon 2025-06-02 09:00 BST.
        "- **layer \"Late start\" (PLLATE)**: starts at 2025-06-04T11:00:00Z, inside a turn: rota's layer starts at that turn's handoff, so it has bob on call from 2025-06-02T08:00:00Z to then, where PagerDuty's had nobody",
        "- **override PagerDuty override PSATURD**: 2025-06-07T09:00:00Z to 2025-06-07T11:00:00Z: no layer has anyone on call then",
        "Not checked: the input holds no final schedule",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    assert!(
        rotations.contains("members = [\"bob\", \"carol\", \"alice\"]\ntimezone = \"Europe/London\"\nstart = \"2025-06-02T09:00\""),
        "{rotations}"
    );
}

#[test]
fn bad_input_is_named_by_file_and_json_path_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let broken = tmp.path().join("broken.json");
    std::fs::write(&broken, "{\"schedule\": {\"id\": ").unwrap();
    let o = import(&[
        "pagerduty",
        broken.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!(
            "{}: not valid JSON: EOF while parsing",
            broken.display()
        )),
        "{}",
        stderr(&o)
    );
    let mut sch = read_json("pagerduty/schedule.json");
    sch["schedule"]["schedule_layers"][1]["rotation_turn_length_seconds"] = json!("a week");
    let path = write_json(tmp.path(), "shape.json", &sch);
    let o = import(&["pagerduty", &path, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!(
            "{path}: schedule.schedule_layers[1].rotation_turn_length_seconds: expected a whole number, found a string"
        )),
        "{}",
        stderr(&o)
    );
    // Rendered in another zone than the schedule's: restrictions would be off by the offset.
    let mut sch = read_json("pagerduty/schedule.json");
    sch["schedule"]["schedule_layers"][0]["rotation_virtual_start"] = json!("2025-05-02T15:00:00Z");
    let path = write_json(tmp.path(), "utc.json", &sch);
    let o = import(&["pagerduty", &path, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("schedule.schedule_layers[0].rotation_virtual_start: 2025-05-02 15:00:00 +00:00 is rendered at offset +00:00, but the schedule's zone Europe/London is at +01:00 then"),
        "{}",
        stderr(&o)
    );
    let o = import(&[
        "opsgenie",
        fixture("grafana-oncall/schedule.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("schedule.json: missing `data`"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "nothing is written on an error");
}

/// Opsgenie's timeline as rota can have it: the rotations in the schedule's order, the later one
/// winning where they overlap, and the overrides over both.
fn opsgenie_expected() -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let tl = read_json("opsgenie/timeline.json");
    let mut painted: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut paint = |p: (String, DateTime<Utc>, DateTime<Utc>)| {
        let mut kept = Vec::new();
        for q in painted.drain(..) {
            if q.2 <= p.1 || q.1 >= p.2 {
                kept.push(q);
                continue;
            }
            if q.1 < p.1 {
                kept.push((q.0.clone(), q.1, p.1));
            }
            if q.2 > p.2 {
                kept.push((q.0.clone(), p.2, q.2));
            }
        }
        kept.push(p);
        painted = kept;
    };
    let rotations = tl["data"]["finalTimeline"]["rotations"].as_array().unwrap();
    let periods = |kind_is_override: bool| {
        rotations
            .iter()
            .flat_map(|r| r["periods"].as_array().unwrap().iter())
            .filter(move |p| (p["type"] == "override") == kind_is_override)
            .map(|p| {
                (
                    p["recipient"]["name"].as_str().unwrap().to_string(),
                    t(p["startDate"].as_str().unwrap()),
                    t(p["endDate"].as_str().unwrap()),
                )
            })
            .collect::<Vec<_>>()
    };
    for p in periods(false).into_iter().chain(periods(true)) {
        paint(p);
    }
    joined(
        painted,
        t(tl["data"]["startDate"].as_str().unwrap()),
        t(tl["data"]["endDate"].as_str().unwrap()),
    )
}

#[test]
fn opsgenie_import_equals_the_timeline_where_rota_can_and_reports_the_overlaps() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("og");
    let args = [
        "opsgenie".to_string(),
        fixture("opsgenie/schedule.json").display().to_string(),
        "--overrides".into(),
        fixture("opsgenie/overrides.json").display().to_string(),
        "--timeline".into(),
        fixture("opsgenie/timeline.json").display().to_string(),
        "--users".into(),
        fixture("opsgenie/users.json").display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = import(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        check_ok(&out),
        "ok: 3 files, 5 people, 0 teams, 1 rotations, 0 links, 1 overrides\n"
    );
    let tl = read_json("opsgenie/timeline.json");
    let (from, to) = (
        tl["data"]["startDate"].as_str().unwrap(),
        tl["data"]["endDate"].as_str().unwrap(),
    );
    let want = opsgenie_expected();
    // Bob's Friday is cut at 16:00 BST by Erin's weekend, Carol's by Dave's.
    assert!(want.contains(&(
        "bob@example.com".into(),
        t("2025-06-06T08:00:00Z"),
        t("2025-06-06T15:00:00Z")
    )));
    assert_eq!(rota_shifts(&out, "platform-primary", from, to), want);

    let r = report(&out);
    for item in [
        "- **2025-06-06T15:00:00Z to 2025-06-06T16:00:00Z**: Opsgenie has bob (\"Business hours\") and erin (\"Weekend cover\") on call at once; rota has one person at a time",
        "- **2025-06-13T15:00:00Z to 2025-06-13T16:00:00Z**: Opsgenie has carol (\"Business hours\") and dave (\"Weekend cover\") on call at once; rota has one person at a time",
        "- **rotations**: Opsgenie has everyone on call in every rotation at once where rotations overlap",
        "- 2025-06-06T15:00:00Z to 2025-06-06T16:00:00Z: Opsgenie has bob and erin (all on call at once; rota has one person at a time); rota has erin",
        "(13 entries), compared with the imported rotation `platform-primary`: 2 differences:",
        "- **owner team \"platform\"**",
        "- **timeRestriction**: Opsgenie does not document whether a turn wholly outside",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }
    // Full names and zones from GET /v2/users; the schedule alone names users by username.
    let people = std::fs::read_to_string(out.join("people.toml")).unwrap();
    assert!(
        people.contains("[people.carol]\nname = \"Carol Diaz\"\nemail = \"carol@example.com\"\ntimezone = \"Europe/Madrid\"\n"),
        "{people}"
    );
    assert!(!r.contains("named by their username"), "{r}");
    // The override of "Business hours" only meets Carol's time: nothing to say about it.
    assert!(!r.contains("override \"carol-dentist"), "{r}");
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    assert!(
        rotations.contains("active = [\"Fri 16:00-Mon 00:00\"]"),
        "{rotations}"
    );

    refuses_then_forces(&out, |force| {
        let mut a = args.clone();
        if force {
            a.push("--force");
        }
        import(&a)
    });
}

#[test]
fn opsgenie_report_lists_what_cannot_be_carried_over() {
    let tmp = tempfile::tempdir().unwrap();
    // A team among the participants.
    let mut sch = read_json("opsgenie/schedule.json");
    sch["data"]["rotations"][1]["participants"][1] =
        json!({"type": "team", "id": "t1", "name": "sre"});
    let path = write_json(tmp.path(), "s.json", &sch);
    let out = tmp.path().join("a");
    let o = import(&["opsgenie", &path, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_ok(&out);
    let r = report(&out);
    for item in [
        "- **rotation \"Weekend cover\" (5e2b7d10-3f4a-4b8c-9d6e-7f8a9b0c1d2e)**: participant 2 is a team \"sre\", and rota's members are people (an empty turn or a team cannot be written): not imported",
        "Not checked: the input holds no final schedule",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }
    // An override of "Business hours" until Friday 18:00 BST: in rota it also replaces Dave's
    // weekend cover from 16:00.
    let mut ov = read_json("opsgenie/overrides.json");
    ov["data"][0]["endDate"] = json!("2025-06-13T17:00:00Z");
    let ov = write_json(tmp.path(), "o.json", &ov);
    let out = tmp.path().join("b");
    let schedule = fixture("opsgenie/schedule.json");
    let o = import(&[
        "opsgenie",
        schedule.to_str().unwrap(),
        "--overrides",
        &ov,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    let item = "- **override \"carol-dentist-2025-06-11\"**: overrides only \"Business hours\" in Opsgenie, but rota's override replaces whoever is on call in any layer: from 2025-06-13T15:00:00Z to 2025-06-13T17:00:00Z it replaces dave of \"Weekend cover\" too";
    assert!(r.contains(item), "missing {item:?} in:\n{r}");
}

/// Grafana OnCall's final shifts as (email, start, end).
fn grafana_final() -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    read_json("grafana-oncall/final-shifts.json")["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user_email"].as_str().unwrap().to_string(),
                t(r["shift_start"].as_str().unwrap()),
                t(r["shift_end"].as_str().unwrap()),
            )
        })
        .collect()
}

fn grafana_args(out: &Path, shifts: &str) -> Vec<String> {
    vec![
        "grafana-oncall".into(),
        fixture("grafana-oncall/schedule.json")
            .display()
            .to_string(),
        "--shifts".into(),
        shifts.into(),
        "--users".into(),
        fixture("grafana-oncall/users.json").display().to_string(),
        "--final-shifts".into(),
        fixture("grafana-oncall/final-shifts.json")
            .display()
            .to_string(),
        "--out".into(),
        out.display().to_string(),
    ]
}

#[test]
fn grafana_oncall_import_equals_the_final_shifts() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("gr");
    let args = grafana_args(
        &out,
        &fixture("grafana-oncall/shifts.json").display().to_string(),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = import(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        check_ok(&out),
        "ok: 3 files, 5 people, 0 teams, 1 rotations, 0 links, 1 overrides\n"
    );
    // final_shifts is truncated to the window, its end exclusive.
    let (from, to) = ("2025-06-02T00:00:00Z", "2025-06-16T00:00:00Z");
    let want = joined(grafana_final(), t(from), t(to));
    assert_eq!(grafana_final().len(), 22);
    assert_eq!(rota_shifts(&out, "platform-primary", from, to), want);
    let r = report(&out);
    assert!(r.contains("(22 entries), compared with the imported rotation `platform-primary`: the same people on call at every instant."), "{r}");
    assert!(
        r.contains("- **shift \"Primary 24x7 (weekly)\" (O2NIGHT5W8RZP), shift \"Business hours (weekly, Mon-Fri)\" (O1BIZHRS7K2QM)**: no time zone: Grafana runs a web schedule's shift without one on UTC"),
        "{r}"
    );
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    // Level 1 first, level 2 last (it wins); web-UI shifts on UTC.
    assert!(
        rotations.find("Primary 24x7").unwrap() < rotations.find("Business hours").unwrap(),
        "{rotations}"
    );
    assert!(rotations.contains("timezone = \"UTC\""), "{rotations}");
    assert!(
        rotations.contains("active = [\"Mon-Fri 08:00-16:00\"]"),
        "{rotations}"
    );
    refuses_then_forces(&out, |force| {
        let mut a = args.clone();
        if force {
            a.push("--force");
        }
        import(&a)
    });
}

#[test]
fn grafana_oncall_report_lists_what_cannot_be_carried_over() {
    let tmp = tempfile::tempdir().unwrap();
    let mut shifts = read_json("grafana-oncall/shifts.json");
    let list = shifts["results"].as_array_mut().unwrap();
    // Two people on call together; a monthly day; a single event; and a daily shift on
    // weekdays, which advances on those days only.
    let mut pair = list[0].clone();
    pair["id"] = json!("OPAIR");
    pair["name"] = json!("Pairs");
    pair["rolling_users"] = json!([["UD4V7PL5NM2KX", "UE1NW5H8QJ4RT"]]);
    let mut monthly = list[0].clone();
    monthly["id"] = json!("OMONTH");
    monthly["name"] = json!("First of the month");
    monthly["by_monthday"] = json!([1]);
    let single = json!({"id": "OSINGLE", "name": "Launch", "type": "single_event",
        "schedule": "S3PLAT7XQ2M4K", "time_zone": "Europe/London", "level": 3,
        "start": "2025-06-10T09:00:00", "duration": 3600, "users": ["UB0K4F9R1TX6P"]});
    let mut daily = list[1].clone();
    daily["id"] = json!("ODAILY");
    daily["name"] = json!("Daily weekdays");
    daily["frequency"] = json!("daily");
    daily["time_zone"] = json!("Europe/London");
    daily["start"] = json!("2025-05-05T09:00:00");
    daily["level"] = json!(2);
    list.truncate(1);
    list.extend([pair, monthly, single, daily]);
    let path = write_json(tmp.path(), "shifts.json", &shifts);
    let out = tmp.path().join("out");
    let mut args = grafana_args(&out, &path);
    args.remove(6); // --final-shifts FILE: it is of the fixture's shifts
    args.remove(6);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = import(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    check_ok(&out);
    let r = report(&out);
    for item in [
        "- **shift \"Pairs\" (OPAIR)**: its group 1 has 2 people, who are all on call together in Grafana; rota has one person at a time: not imported",
        "- **shift \"First of the month\" (OMONTH)**: has by_monthday, which rota's windows of the week cannot hold: not imported",
        "- **shift \"Launch\" (OSINGLE)**: a single event (bob from 2025-06-10T08:00:00Z for 3600 seconds, level 3)",
        "- **shift O1BIZHRS7K2QM**: is listed by the schedule but not in the --shifts files: not imported",
        "- **shift O3OVRD4T6YJCN**: is listed by the schedule but not in the --shifts files",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    assert!(
        rotations.contains(
            "every = \"1 day\"\nactive = [\"Mon-Fri 09:00-17:00\"]\nadvance = \"when-active\""
        ),
        "{rotations}"
    );
    // Daily on weekdays: Alice, Bob, Carol, Alice, ... on weekdays only, weekends skipped.
    let got = rota_shifts(
        &out,
        "platform-primary",
        "2025-05-09T00:00:00Z",
        "2025-05-14T00:00:00Z",
    );
    let daily: Vec<(String, String)> = got
        .iter()
        .filter(|(w, _, _)| !w.starts_with("dave") && !w.starts_with("erin"))
        .map(|(w, s, _)| (w.clone(), s.format("%a").to_string()))
        .collect();
    assert_eq!(
        daily,
        [
            ("bob@example.com".to_string(), "Fri".to_string()),
            ("carol@example.com".into(), "Mon".into()),
            ("alice@example.com".into(), "Tue".into()),
        ]
    );
}

/// A copy of the example schedules without their overrides, for `rota import ics`.
fn examples_without_overrides() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["people.toml", "rotations.toml"] {
        std::fs::copy(example_schedules().join(f), dir.path().join(f)).unwrap();
    }
    let cals = dir.path().join("calendars");
    std::fs::create_dir(&cals).unwrap();
    for e in std::fs::read_dir(example_schedules().join("calendars")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, cals.join(p.file_name().unwrap())).unwrap();
    }
    dir
}

const ICS_FROM: &str = "2026-12-07T00:00:00Z";
const ICS_TO: &str = "2026-12-21T00:00:00Z";

fn ics_args<'a>(source: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "import",
        "ics",
        source,
        "--rotation",
        "support-hero",
        "--from",
        "2026-12-07",
        "--to",
        "2026-12-21",
        "--out",
        out,
    ]
}

/// The override pieces the calendar gives, joined.
fn ics_overrides(dir: &Path) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let state = dir.join("no-such-state.db");
    let o = rota(
        dir,
        &[
            "shifts",
            "support-hero",
            "--from",
            ICS_FROM,
            "--to",
            ICS_TO,
            "--json",
            "--state",
            state.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let pieces = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "override")
        .map(|s| {
            (
                s["person"]["id"].as_str().unwrap().to_string(),
                t(s["start"].as_str().unwrap()),
                t(s["end"].as_str().unwrap()),
            )
        })
        .collect();
    joined(pieces, t(ICS_FROM), t(ICS_TO))
}

#[test]
fn ics_events_become_overrides_of_a_rotation() {
    let dir = examples_without_overrides();
    let d = dir.path().to_str().unwrap();
    let ics = fixture("ics/oncall.ics");
    let o = rota(dir.path(), &ics_args(ics.to_str().unwrap(), d));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        check_ok(dir.path()),
        // The warning: Erin's cover overlaps Bob's shift (the report says so too).
        "ok: 3 files, 9 people, 3 teams, 4 rotations, 1 links, 9 overrides, 1 warning\n"
    );
    let p = |w: &str, s: &str, e: &str| (w.to_string(), t(s), t(e));
    assert_eq!(
        ics_overrides(dir.path()),
        [
            // Heidi's week reaches into the window (window days are London midnights: GMT).
            p("heidi", "2026-12-07T00:00:00Z", "2026-12-07T09:00:00Z"),
            // ATTENDEE (any case); Erin's overlapping cover starts later and wins.
            p("bob", "2026-12-07T09:00:00Z", "2026-12-08T09:00:00Z"),
            p("erin", "2026-12-08T09:00:00Z", "2026-12-08T12:00:00Z"),
            p("bob", "2026-12-08T12:00:00Z", "2026-12-09T09:00:00Z"),
            // Names in the summary, one with an accent.
            p("carol", "2026-12-09T09:00:00Z", "2026-12-10T09:00:00Z"),
            p("frank", "2026-12-10T09:00:00Z", "2026-12-10T21:00:00Z"),
            // A daily rule for three nights, the middle one excluded.
            p("grace", "2026-12-14T00:00:00Z", "2026-12-14T06:00:00Z"),
            p("grace", "2026-12-16T00:00:00Z", "2026-12-16T06:00:00Z"),
            // An all-day event, on the rotation's clock.
            p("ivan", "2026-12-18T00:00:00Z", "2026-12-19T00:00:00Z"),
            // Cut at the window's end.
            p("dave", "2026-12-20T09:00:00Z", "2026-12-21T00:00:00Z"),
        ]
    );
    let r = report(dir.path());
    for item in [
        "- **event \"On call - Zed Unknown\" (UID shift-4@oncall.example.com) from 2026-12-10T21:00:00Z to 2026-12-11T09:00:00Z**: no attendee with the email of a person of the schedule, and no person's name, email or id in its summary: not imported",
        "- **event \"Handover: Alice Smith to Bob Jones\" (UID shift-5@oncall.example.com) from 2026-12-11T09:00:00Z to 2026-12-11T10:00:00Z**: its summary names several people of the schedule (alice, bob): not imported",
        "- **event \"On call - Support Hero\" (UID shift-1@oncall.example.com) and event \"Cover\" (UID shift-8@oncall.example.com)**: overlap from 2026-12-08T09:00:00Z to 2026-12-08T12:00:00Z, with bob and erin on call",
        "- 2026-12-08T09:00:00Z to 2026-12-08T12:00:00Z: calendar has bob and erin (all on call at once; rota has one person at a time); rota has erin",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }
    assert!(
        !r.contains("heidi@example.com\"") && !r.contains("shift-9"),
        "{r}"
    );

    // Again over the overrides.toml it wrote, with one more override and a comment added by
    // hand: refused without --force; with it, everything there is kept as it was, ids too, and
    // the calendar's overrides already there are not added twice.
    let file = dir.path().join("overrides.toml");
    let by_hand = format!(
        "{}# edited by hand\n\n[[overrides]]\nid = \"ics-10\"\nrotation = \"support-hero\"\n\
         person = \"alice\"\nstart = \"2026-12-19T09:00:00Z\"\nend = \"2026-12-19T12:00:00Z\"\n",
        std::fs::read_to_string(&file).unwrap()
    );
    std::fs::write(&file, &by_hand).unwrap();
    let names = names_in(dir.path());
    let o = rota(dir.path(), &ics_args(ics.to_str().unwrap(), d));
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("already there; rota import never overwrites files"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), by_hand);
    let mut forced = ics_args(ics.to_str().unwrap(), d);
    forced.push("--force");
    let o = rota(dir.path(), &forced);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), by_hand);
    assert_eq!(names_in(dir.path()), names, "nothing added or left behind");
    let r = report(dir.path());
    assert!(
        r.contains("overrides.toml (0 overrides added after the ones already there)"),
        "{r}"
    );
    assert!(
        r.contains("already in the schedule files as override \"ics-2\": not added again"),
        "{r}"
    );
}

/// `rota import ics --force` into the schedules directory itself keeps the overrides already in
/// its overrides.toml, text and ids, and adds the calendar's after them; `rota check` then
/// loads them all.
#[test]
fn ics_into_the_schedules_directory_keeps_its_overrides() {
    let dir = examples_without_overrides();
    let original = std::fs::read_to_string(example_schedules().join("overrides.toml")).unwrap();
    let file = dir.path().join("overrides.toml");
    std::fs::write(&file, &original).unwrap();
    let d = dir.path().to_str().unwrap();
    let ics = fixture("ics/oncall.ics");
    let o = rota(dir.path(), &ics_args(ics.to_str().unwrap(), d));
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    let mut forced = ics_args(ics.to_str().unwrap(), d);
    forced.push("--force");
    let o = rota(dir.path(), &forced);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with(&original), "{text}");
    assert!(
        text[original.len()..].contains("# Added by `rota import ics`, after the overrides above."),
        "{text}"
    );
    for id in [
        "xmas-swap-a",
        "xmas-swap-b",
        "dave-dentist",
        "ics-1",
        "ics-9",
    ] {
        assert!(text.contains(&format!("id = \"{id}\"")), "{id}: {text}");
    }
    assert_eq!(
        check_ok(dir.path()),
        "ok: 3 files, 9 people, 3 teams, 4 rotations, 1 links, 12 overrides, 1 warning\n"
    );
    assert!(
        report(dir.path())
            .contains("overrides.toml (9 overrides added after the ones already there)"),
        "{}",
        report(dir.path())
    );
}

/// Occurrences rota-calendar could not expand (here an hourly rule from 2020, stopped at its
/// per-event cap before the window) are in the report, named by the event's own summary.
#[test]
fn ics_occurrences_not_expanded_are_reported() {
    let dir = examples_without_overrides();
    let d = dir.path().to_str().unwrap();
    let ics = dir.path().join("runaway.ics");
    std::fs::write(
        &ics,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
         BEGIN:VEVENT\r\nUID:runaway@example.com\r\nDTSTAMP:20200101T000000Z\r\n\
         DTSTART:20200101T000000Z\r\nDTEND:20200101T003000Z\r\nRRULE:FREQ=HOURLY\r\n\
         SUMMARY:Bob hourly check\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:carol@example.com\r\nDTSTAMP:20200101T000000Z\r\n\
         DTSTART:20261209T090000Z\r\nDTEND:20261210T090000Z\r\n\
         SUMMARY:On call - Carol Diaz\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let o = rota(dir.path(), &ics_args(ics.to_str().unwrap(), d));
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(dir.path());
    assert!(
        r.contains("- **calendar**: event \"Bob hourly check\" (UID runaway@example.com): stopped expanding after 50000 occurrences"),
        "{r}"
    );
    assert!(!r.contains("rota-import-event"), "{r}");
    assert!(r.contains("overrides.toml (1 override)"), "{r}");
}

#[test]
fn ics_from_a_url_reads_the_same() {
    let text = std::fs::read_to_string(fixture("ics/oncall.ics")).unwrap();
    let base = crate::util::http_stand_in(move |_| ("200 OK".into(), String::new(), text.clone()));
    let url = format!("{base}/private-secret/basic.ics");
    let from_url = examples_without_overrides();
    let from_file = examples_without_overrides();
    let o = rota(
        from_url.path(),
        &ics_args(&url, from_url.path().to_str().unwrap()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The secret part of the URL is not repeated.
    assert!(!stdout(&o).contains("private-secret"), "{}", stdout(&o));
    let ics = fixture("ics/oncall.ics");
    let o = rota(
        from_file.path(),
        &ics_args(ics.to_str().unwrap(), from_file.path().to_str().unwrap()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        ics_overrides(from_url.path()),
        ics_overrides(from_file.path())
    );
    // An unknown rotation is refused, with the closest name.
    let mut args = ics_args(&url, "unused");
    args[4] = "support-heroo";
    let o = rota(from_url.path(), &args);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown rotation \"support-heroo\" (did you mean \"support-hero\"?)"),
        "{}",
        stderr(&o)
    );
}

/// PagerDuty's schedule and users, the fixture's arguments, into `out`, with `more` extra
/// arguments.
fn pd_args(out: &Path, more: &[&str]) -> Vec<String> {
    let mut a = vec![
        "pagerduty".to_string(),
        fixture("pagerduty/schedule.json").display().to_string(),
        "--overrides".into(),
        fixture("pagerduty/overrides.json").display().to_string(),
        "--users".into(),
        fixture("pagerduty/users.json").display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    a.extend(more.iter().map(|m| m.to_string()));
    a
}

fn import_strings(args: &[String]) -> Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    import(&a)
}

/// The files are checked with the other schedule files already in --out, as `rota check` will
/// load them: a clash (a person defined twice) refuses the import, named by file and line, and
/// nothing is written.
#[test]
fn an_import_that_would_not_load_with_the_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("schedules");
    std::fs::create_dir(&out).unwrap();
    let mine = "# mine\n[people.alice]\nname = \"Alice from before\"\n";
    std::fs::write(out.join("team.toml"), mine).unwrap();
    let o = import_strings(&pd_args(&out, &[]));
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "nothing was written: the files rota import made do not load together with the other schedule files in {} ({})",
            out.display(),
            out.join("team.toml").display()
        )),
        "{err}"
    );
    // Where, as rota's loader says it.
    assert!(
        err.contains(&format!("{}:", out.join("people.toml").display()))
            && err.contains(&format!("{}:2", out.join("team.toml").display())),
        "{err}"
    );
    assert_eq!(names_in(&out), ["team.toml"]);
    assert_eq!(
        std::fs::read_to_string(out.join("team.toml")).unwrap(),
        mine
    );
    // Files that load together are checked together, and written.
    std::fs::write(
        out.join("team.toml"),
        "[teams.platform]\nname = \"Platform\"\n",
    )
    .unwrap();
    let o = import_strings(&pd_args(&out, &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    check_ok(&out);
}

/// With --force, a file that cannot be moved into place (here IMPORT-REPORT.md is a directory)
/// undoes the files moved before it: the directory is left as it was, nothing half-replaced and
/// no temporary or backup file left behind.
#[test]
fn a_forced_import_that_fails_midway_leaves_the_directory_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pd");
    let o = import_strings(&pd_args(&out, &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let people = out.join("people.toml");
    let edited = format!(
        "{}# edited by hand\n",
        std::fs::read_to_string(&people).unwrap()
    );
    std::fs::write(&people, &edited).unwrap();
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    std::fs::remove_file(out.join("overrides.toml")).unwrap();
    std::fs::remove_file(out.join("IMPORT-REPORT.md")).unwrap();
    std::fs::create_dir(out.join("IMPORT-REPORT.md")).unwrap();
    std::fs::write(out.join("IMPORT-REPORT.md").join("keep"), "x").unwrap();
    let o = import_strings(&pd_args(&out, &["--force"]));
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "IMPORT-REPORT.md (nothing was changed: the files moved before it were put back)"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&people).unwrap(), edited);
    assert_eq!(
        std::fs::read_to_string(out.join("rotations.toml")).unwrap(),
        rotations
    );
    assert_eq!(
        names_in(&out),
        ["IMPORT-REPORT.md", "people.toml", "rotations.toml"],
        "overrides.toml, new, removed again; no .tmp or .bak left"
    );
}

/// --since and --until, the range the final schedule was requested for: where the product has
/// nobody on call at the range's edge and rota has someone, that is a difference; without them
/// the check starts at the first entry and cannot see it.
#[test]
fn the_check_covers_the_requested_range_with_since_and_until() {
    let tmp = tempfile::tempdir().unwrap();
    // PagerDuty: Dave's Monday night, the first entry, dropped: nobody on call then.
    let mut sch = read_json("pagerduty/schedule.json");
    let entries = sch["schedule"]["final_schedule"]["rendered_schedule_entries"]
        .as_array_mut()
        .unwrap();
    let first = entries.remove(0);
    assert_eq!(first["start"], PD_FROM);
    let path = write_json(tmp.path(), "s.json", &sch);
    let run = |out: &str, more: &[&str]| {
        let mut a = pd_args(&tmp.path().join(out), more);
        a[1] = path.clone();
        let o = import_strings(&a);
        assert!(o.status.success(), "{}", stderr(&o));
        report(&tmp.path().join(out))
    };
    let r = run("a", &[]);
    assert!(
        r.contains("the same people on call at every instant"),
        "{r}"
    );
    assert!(r.contains("from its first entry's start to its last entry's end: give the request's since and until as --since and --until"), "{r}");
    let r = run("b", &["--since", PD_FROM, "--until", PD_TO]);
    assert!(
        r.contains("(final_schedule.rendered_schedule_entries, over --since and --until) from 2025-06-01T23:00:00Z to 2025-06-15T23:00:00Z (13 entries), compared with the imported rotation `platform-primary`: 1 difference:"),
        "{r}"
    );
    assert!(
        r.contains(
            "- 2025-06-01T23:00:00Z to 2025-06-02T08:00:00Z: PagerDuty has nobody; rota has dave"
        ),
        "{r}"
    );
    let mut a = pd_args(
        &tmp.path().join("c"),
        &["--since", PD_TO, "--until", PD_FROM],
    );
    a[1] = path.clone();
    let o = import_strings(&a);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "--until (2025-06-01T23:00:00Z) must be after --since (2025-06-15T23:00:00Z)"
        ),
        "{}",
        stderr(&o)
    );

    // Grafana OnCall: Erin's first night dropped from final_shifts.
    let mut fin = read_json("grafana-oncall/final-shifts.json");
    let first = fin["results"].as_array_mut().unwrap().remove(0);
    assert_eq!(first["shift_start"], "2025-06-02T00:00:00Z");
    let fin = write_json(tmp.path(), "final.json", &fin);
    let run = |out: &str, more: &[&str]| {
        let dir = tmp.path().join(out);
        let mut a = grafana_args(
            &dir,
            &fixture("grafana-oncall/shifts.json").display().to_string(),
        );
        assert_eq!(a[6], "--final-shifts");
        a[7] = fin.clone();
        a.extend(more.iter().map(|m| m.to_string()));
        let o = import_strings(&a);
        assert!(o.status.success(), "{}", stderr(&o));
        report(&dir)
    };
    let r = run("d", &[]);
    assert!(
        r.contains("the same people on call at every instant"),
        "{r}"
    );
    let r = run(
        "e",
        &[
            "--since",
            "2025-06-02T00:00:00Z",
            "--until",
            "2025-06-16T00:00:00Z",
        ],
    );
    assert!(
        r.contains("- 2025-06-02T00:00:00Z to 2025-06-02T08:00:00Z: Grafana OnCall has nobody; rota has erin"),
        "{r}"
    );
}

/// Names from the input cannot put links, HTML or emphasis into IMPORT-REPORT.md.
#[test]
fn the_report_escapes_markdown_and_html_from_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sch = read_json("pagerduty/schedule.json");
    sch["schedule"]["name"] =
        json!("Primary <img src=x onerror=alert(1)> [click](https://evil.example) **bold** &amp;");
    sch["schedule"]["escalation_policies"][0]["summary"] =
        json!("<script>alert(1)</script> [x](javascript:alert(1)) www.evil.example _em_");
    let path = write_json(tmp.path(), "s.json", &sch);
    let out = tmp.path().join("out");
    let mut a = pd_args(&out, &[]);
    a[1] = path;
    let o = import_strings(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    // Each markup character is escaped with a backslash (a `<` only as `\<`).
    let unescaped = |raw: &str| {
        r.match_indices(raw)
            .any(|(i, _)| i == 0 || r.as_bytes()[i - 1] != b'\\')
    };
    for raw in [
        "<img",
        "<script>",
        "[click](",
        "[x](",
        "**bold**",
        "&amp;",
        "_em_",
        "https://evil",
        " www.evil",
    ] {
        assert!(!unescaped(raw), "{raw:?} unescaped in:\n{r}");
    }
    assert!(r.contains("\\<script\\>alert(1)\\</script\\> \\[x\\](javascript:alert(1)) www\\.evil.example \\_em\\_"), "{r}");
    // Underscores inside words are left alone.
    assert!(r.contains("- **schedule_layers**"), "{r}");
}

/// An Opsgenie override of one rotation over years is not resolved layer by layer (an override
/// to 9999 over hourly turns would be millions of pieces): the report says so. Over months, the
/// pieces it replaces in another layer are listed up to 20, the rest counted.
#[test]
fn opsgenie_override_checks_are_bounded_and_their_lines_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sch = read_json("opsgenie/schedule.json");
    sch["data"]["rotations"][1]["type"] = json!("hourly");
    sch["data"]["rotations"][1]["timeRestriction"] = json!(null);
    let sch = write_json(tmp.path(), "s.json", &sch);
    let mut ov = read_json("opsgenie/overrides.json");
    ov["data"][0]["endDate"] = json!("9999-12-31T00:00:00Z");
    let ov = write_json(tmp.path(), "o.json", &ov);
    let out = tmp.path().join("a");
    let started = std::time::Instant::now();
    let o = import(&[
        "opsgenie",
        &sch,
        "--overrides",
        &ov,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let r = report(&out);
    assert!(
        r.contains("- **override \"carol-dentist-2025-06-11\"**: overrides only \"Business hours\" in Opsgenie, but rota's override replaces whoever is on call in any layer, so it replaces the people of the other layers too; from 2025-06-11T11:00:00Z to 9999-12-31T00:00:00Z is more than 1098 days, so where is not worked out"),
        "{r}"
    );

    let mut ov = read_json("opsgenie/overrides.json");
    ov["data"][0]["endDate"] = json!("2025-12-31T00:00:00Z");
    let ov = write_json(tmp.path(), "o2.json", &ov);
    let out = tmp.path().join("b");
    let schedule = fixture("opsgenie/schedule.json");
    let o = import(&[
        "opsgenie",
        schedule.to_str().unwrap(),
        "--overrides",
        &ov,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    let listed = r
        .lines()
        .filter(|l| l.contains("it replaces dave of") || l.contains("it replaces erin of"))
        .count();
    assert_eq!(listed, 20, "{r}");
    // 29 weekends from Fri 13 June to Fri 26 December.
    assert!(
        r.contains("- **override \"carol-dentist-2025-06-11\", \"Weekend cover\"**: and 9 more like the 20 above, not listed one by one"),
        "{r}"
    );
}

/// Fields with no place in rota's files are reported, not dropped: descriptions, teams, an
/// empty restriction, a page of a longer user list (fewer users than its `totalCount`);
/// Grafana's Slack channel and user group are written as the rotation's [slack] when they are
/// Slack ids.
#[test]
fn fields_without_a_place_in_rota_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    // Opsgenie.
    let mut sch = read_json("opsgenie/schedule.json");
    sch["data"]["rotations"][0]["timeRestriction"]["restrictions"] = json!([]);
    let sch = write_json(tmp.path(), "og.json", &sch);
    // The first page of GET /v2/users?limit=2: 2 of 5 users (`totalCount`).
    let mut users = read_json("opsgenie/users.json");
    users["data"].as_array_mut().unwrap().truncate(2);
    users["paging"] = json!({"next": "https://api.opsgenie.com/v2/users?limit=2&offset=2"});
    let users = write_json(tmp.path(), "og-users.json", &users);
    let out = tmp.path().join("og");
    let o = import(&[
        "opsgenie",
        &sch,
        "--users",
        &users,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_ok(&out);
    let r = report(&out);
    for item in [
        "- **schedule \"platform_primary\" description**: \"Weekday business hours rotation plus weekend cover (Fri 16:00 to Mon 00:00).\": rota's rotations have no description",
        "- **rotation \"Business hours\" (a47c1e93-0541-4aa3-bac6-4084cbb06a8a)**: has a weekday-and-time-of-day restriction with no intervals (`restrictions` empty), which Opsgenie does not document: read as no restriction, so the imported layer is on call at all times",
        "og-users.json**: is one page of a longer list: it holds 2 of its 5 users (`totalCount`); people on the pages not given are named by username; give every page with --users (GET /v2/users returns 20 users a page unless asked for more, at most 100: fetch it with ?limit=100 and follow `paging.next` to the end)",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }

    // PagerDuty: a page of GET /users with more to come.
    let mut users = read_json("pagerduty/users.json");
    users["more"] = json!(true);
    users["limit"] = json!(5);
    let users = write_json(tmp.path(), "pd-users.json", &users);
    let out = tmp.path().join("pd");
    let mut a = pd_args(&out, &[]);
    a[5] = users;
    let o = import_strings(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    assert!(
        r.contains("pd-users.json**: is one page of a longer list (`more` is true): users after the first 5 were not read, so people among them have no name, email or zone from it; fetch the next pages (offset=5) and give each with --users"),
        "{r}"
    );

    // Grafana OnCall: the schedule's team and Slack settings, a shift's team, an override whose
    // users came back empty.
    let mut gs = read_json("grafana-oncall/schedule.json");
    gs["slack"] = json!({"channel_id": "C0123ABCD", "user_group_id": "S0456EFGH"});
    let gs = write_json(tmp.path(), "gr.json", &gs);
    let mut shifts = read_json("grafana-oncall/shifts.json");
    shifts["results"][0]["team_id"] = json!("TSHIFT1");
    shifts["results"][2]["users"] = json!([]);
    let shifts = write_json(tmp.path(), "gr-shifts.json", &shifts);
    let out = tmp.path().join("gr");
    let mut a = grafana_args(&out, &shifts);
    a[1] = gs;
    let o = import_strings(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    check_ok(&out);
    let rotations = std::fs::read_to_string(out.join("rotations.toml")).unwrap();
    assert!(
        rotations.contains("[rotations.platform-primary.slack]\nusergroup = \"S0456EFGH\"\nchannel = \"C0123ABCD\"\n"),
        "{rotations}"
    );
    let r = report(&out);
    for item in [
        "- **schedule \"Platform primary\" team_id \"TPLAT4K7N2QXR\"**: not carried over",
        "(O2NIGHT5W8RZP) team_id \"TSHIFT1\"**: not carried over",
        "(O3OVRD4T6YJCN)**: an override from 2025-06-11T11:00:00Z for 18000 seconds with `users` empty in the response: Grafana's public API may return an override without its users",
        "- **slack**: the schedule's Slack channel and user group",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }
    // Not Slack ids: reported, not written.
    let mut gs = read_json("grafana-oncall/schedule.json");
    gs["slack"] = json!({"channel_id": "#platform", "user_group_id": null});
    let gs = write_json(tmp.path(), "gr2.json", &gs);
    let out = tmp.path().join("gr2");
    let mut a = grafana_args(
        &out,
        &fixture("grafana-oncall/shifts.json").display().to_string(),
    );
    a[1] = gs;
    let o = import_strings(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    assert!(
        r.contains("- **slack.channel_id \"#platform\"**: is not a Slack id like \"C0123ABCD\""),
        "{r}"
    );
    assert!(
        !std::fs::read_to_string(out.join("rotations.toml"))
            .unwrap()
            .contains("slack")
    );
}

/// A user list given in pages, one --users each: every page but the last names a next one, so
/// the pages are judged together once all are read. All of them: nothing to report. Some: the
/// report says how many of the list's total (Opsgenie's `totalCount`, Grafana's `count`) were
/// read, or, with no total, that no page given is the last.
#[test]
fn a_list_given_in_pages_is_reported_only_when_pages_are_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let cut = |v: &Value, list: &str, range: std::ops::Range<usize>| {
        let mut v = v.clone();
        let items: Vec<Value> = v[list].as_array().unwrap()[range].to_vec();
        v[list] = json!(items);
        v
    };
    let page_of_more =
        |r: &str| r.contains("page of a longer list") || r.contains("pages of one list");

    // Opsgenie: GET /v2/users?limit=3, two pages.
    let users = read_json("opsgenie/users.json");
    let mut p1 = cut(&users, "data", 0..3);
    p1["paging"]["next"] = json!("https://api.opsgenie.com/v2/users?limit=3&offset=3");
    let mut p2 = cut(&users, "data", 3..5);
    p2["paging"]["prev"] = json!("https://api.opsgenie.com/v2/users?limit=3&offset=0");
    let (p1_path, p2_path) = (
        write_json(tmp.path(), "og-1.json", &p1),
        write_json(tmp.path(), "og-2.json", &p2),
    );
    let schedule = fixture("opsgenie/schedule.json").display().to_string();
    let og = |name: &str, pages: &[&str]| {
        let out = tmp.path().join(name);
        let mut a = vec!["opsgenie", &schedule];
        for p in pages {
            a.extend(["--users", p]);
        }
        a.extend(["--out", out.to_str().unwrap()]);
        let o = import(&a);
        assert!(o.status.success(), "{}", stderr(&o));
        (
            report(&out),
            std::fs::read_to_string(out.join("people.toml")).unwrap(),
        )
    };
    let (r, people) = og("og-all", &[&p1_path, &p2_path]);
    assert!(!page_of_more(&r), "{r}");
    assert!(people.contains("name = \"Alice Ng\"") && people.contains("name = \"Erin Walsh\""));
    let (r, people) = og("og-first", &[&p1_path]);
    assert!(
        r.contains("og-1.json**: is one page of a longer list: it holds 3 of its 5 users (`totalCount`); people on the pages not given are named by username"),
        "{r}"
    );
    assert!(!people.contains("Erin Walsh"), "{people}");
    // The last page alone: fewer users than totalCount, though it names no next page.
    let (r, _) = og("og-last", &[&p2_path]);
    assert!(
        r.contains(
            "og-2.json**: is one page of a longer list: it holds 2 of its 5 users (`totalCount`)"
        ),
        "{r}"
    );
    // No totalCount: only a missing last page tells.
    for p in [&mut p1, &mut p2] {
        p.as_object_mut().unwrap().remove("totalCount");
    }
    let (p1_path, p2_path) = (
        write_json(tmp.path(), "og-1n.json", &p1),
        write_json(tmp.path(), "og-2n.json", &p2),
    );
    let (r, _) = og("og-all-n", &[&p1_path, &p2_path]);
    assert!(!page_of_more(&r), "{r}");
    let (r, _) = og("og-first-n", &[&p1_path]);
    assert!(
        r.contains("og-1n.json**: is one page of a longer list (`paging.next` is set, and no `totalCount` is given): only that page was read"),
        "{r}"
    );

    // Grafana OnCall: GET /api/v1/users/?perpage=3, two pages.
    let users = read_json("grafana-oncall/users.json");
    let mut g1 = cut(&users, "results", 0..3);
    g1["next"] = json!("https://oncall.example.com/api/v1/users/?page=2&perpage=3");
    let mut g2 = cut(&users, "results", 3..5);
    g2["previous"] = json!("https://oncall.example.com/api/v1/users/?perpage=3");
    let (g1, g2) = (
        write_json(tmp.path(), "gr-1.json", &g1),
        write_json(tmp.path(), "gr-2.json", &g2),
    );
    let gr = |name: &str, pages: &[&str]| {
        let out = tmp.path().join(name);
        let mut a = grafana_args(
            &out,
            &fixture("grafana-oncall/shifts.json").display().to_string(),
        );
        a.drain(4..6);
        for p in pages {
            a.extend(["--users".to_string(), p.to_string()]);
        }
        let o = import_strings(&a);
        assert!(o.status.success(), "{}", stderr(&o));
        report(&out)
    };
    let r = gr("gr-all", &[&g1, &g2]);
    assert!(!page_of_more(&r), "{r}");
    assert!(
        r.contains("the same people on call at every instant"),
        "{r}"
    );
    let r = gr("gr-first", &[&g1]);
    assert!(
        r.contains("gr-1.json**: is one page of a longer list: it holds 3 of its 5 users (`count`); people on the pages not given have no email address or zone from it; give every page with --users"),
        "{r}"
    );
}

/// Grafana OnCall's `until` is UTC, and what it ends depends on who made the shift: a web
/// schedule's occurrences are cut at it; a calendar schedule's (API, Terraform) run their full
/// length when they start by it. `rotation_start` likewise: a web shift's turn that holds it
/// starts there, an API shift's is left out. A recurrent_event has no turns: rotation_start and
/// week_start mean nothing to it.
#[test]
fn grafana_oncall_until_and_rotation_start_follow_the_schedule_type() {
    let tmp = tempfile::tempdir().unwrap();
    let base = read_json("grafana-oncall/shifts.json")["results"].clone();
    let run = |name: &str, schedule: &Value, shifts: Vec<Value>| {
        let out = tmp.path().join(name);
        let sch = write_json(tmp.path(), &format!("{name}-schedule.json"), schedule);
        let list = write_json(
            tmp.path(),
            &format!("{name}-shifts.json"),
            &json!({"count": shifts.len(), "next": null, "results": shifts}),
        );
        let users = fixture("grafana-oncall/users.json").display().to_string();
        let o = import(&[
            "grafana-oncall",
            &sch,
            "--shifts",
            &list,
            "--users",
            &users,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        check_ok(&out);
        (
            report(&out),
            std::fs::read_to_string(out.join("rotations.toml")).unwrap(),
        )
    };
    let carol = |id: &str, level: i64, start: &str| {
        json!({"id": id, "name": id, "type": "recurrent_event", "schedule": "S3PLAT7XQ2M4K",
            "time_zone": null, "level": level, "start": start, "duration": 28800,
            "rotation_start": "2025-06-04T12:00:00", "frequency": "weekly", "interval": 1,
            "until": null, "week_start": "MO", "by_day": ["MO", "TU", "WE", "TH", "FR"],
            "by_month": null, "by_monthday": null, "users": ["UC4RL2D8WZ3HQ"]})
    };

    // A web schedule: shifts with no zone, on UTC.
    let mut weekly = base[0].clone();
    weekly["until"] = json!("2025-07-02T12:00:00");
    weekly["rotation_start"] = json!("2025-06-04T12:00:00");
    let mut biz = base[1].clone();
    biz["until"] = json!("2025-05-31T12:00:00");
    let schedule = read_json("grafana-oncall/schedule.json");
    let (r, rotations) = run(
        "web",
        &schedule,
        vec![
            weekly.clone(),
            biz.clone(),
            carol("ORECMON", 3, "2025-05-05T08:00:00"),
            carol("ORECWED", 4, "2025-05-07T08:00:00"),
        ],
    );
    for item in [
        "- **shift \"Primary 24x7 (weekly)\" (O2NIGHT5W8RZP)**: ends at 2025-07-02T12:00:00Z (Grafana cuts a web shift's occurrences at its until, 2025-07-02T12:00:00Z (UTC)); rota's layers do not end",
        "- **shift \"Primary 24x7 (weekly)\" (O2NIGHT5W8RZP)**: takes effect at 2025-06-04T12:00:00Z (rotation_start), inside a turn: Grafana starts a web shift's occurrences no earlier than rotation_start; rota's layer starts at that turn's handoff, so it has dave on call from 2025-06-02T08:00:00Z to then, where Grafana had nobody from this shift",
        "- **shift \"Business hours (weekly, Mon-Fri)\" (O1BIZHRS7K2QM)**: ended at 2025-05-31T12:00:00Z (Grafana cuts a web shift's occurrences at its until, 2025-05-31T12:00:00Z (UTC)): not imported",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }
    // The recurrent events: imported as they are, rotation_start and week_start left alone.
    assert!(!r.contains("(ORECMON)**: takes effect"), "{r}");
    assert!(!r.contains("week_start"), "{r}");
    for (name, start) in [
        ("ORECMON", "2025-05-05T08:00"),
        ("ORECWED", "2025-05-07T08:00"),
    ] {
        let at = rotations
            .find(&format!("name = \"{name}\""))
            .unwrap_or_else(|| panic!("no layer {name} in:\n{rotations}"));
        let layer = &rotations[at..];
        let layer = &layer[..layer.find("[[").unwrap_or(layer.len())];
        assert!(
            layer.contains(&format!("start = \"{start}\""))
                && layer.contains("Mon-Fri 08:00-16:00"),
            "{layer}"
        );
    }

    // A calendar schedule (shifts of the API or Terraform) in Europe/London, shifts in its zone.
    let mut schedule = schedule;
    schedule["type"] = json!("calendar");
    weekly["time_zone"] = json!("Europe/London");
    biz["time_zone"] = json!("Europe/London");
    // 07:30 UTC is 08:30 in London: Tuesday's 08:00 occurrence has started by then.
    biz["until"] = json!("2025-07-01T07:30:00");
    let (r, _) = run("calendar", &schedule, vec![weekly.clone(), biz]);
    for item in [
        "- **shift \"Primary 24x7 (weekly)\" (O2NIGHT5W8RZP)**: ends at 2025-07-07T07:00:00Z (its last occurrence starting at or before its until, 2025-07-02T12:00:00Z (UTC), runs its full length: Grafana's rrule UNTIL bounds the starts of a shift made through the API or Terraform (a calendar schedule's)); rota's layers do not end",
        "- **shift \"Primary 24x7 (weekly)\" (O2NIGHT5W8RZP)**: takes effect at 2025-06-04T11:00:00Z (rotation_start), inside a turn: Grafana leaves out every turn of a shift made through the API or Terraform (a calendar schedule's) that starts before rotation_start, so it has nobody from this shift until the next handoff, at 2025-06-09T07:00:00Z; rota's layer starts at the handoff before, so it has dave on call from 2025-06-02T07:00:00Z to 2025-06-09T07:00:00Z",
        "- **shift \"Business hours (weekly, Mon-Fri)\" (O1BIZHRS7K2QM)**: ends at 2025-07-01T15:00:00Z (its last occurrence starting at or before its until, 2025-07-01T07:30:00Z (UTC)",
    ] {
        assert!(r.contains(item), "missing {item:?} in:\n{r}");
    }
    // Its until a day before now, on a Saturday: the week's turn that started on Monday runs on
    // to the next Monday, so the shift has not ended.
    weekly["until"] = json!("2025-05-31T12:00:00");
    let (r, _) = run("calendar-ended", &schedule, vec![weekly]);
    assert!(
        r.contains("- **shift \"Primary 24x7 (weekly)\" (O2NIGHT5W8RZP)**: ends at 2025-06-02T07:00:00Z (its last occurrence starting at or before its until, 2025-05-31T12:00:00Z (UTC)"),
        "{r}"
    );
}
