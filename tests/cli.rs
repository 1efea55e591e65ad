//! The CLI as a user runs it: the real binary on schedule files in a directory.

use crate::util::{example_schedules, rota, schedules_dir, stderr, stdout};

const PEOPLE: &str = r#"
hero_rotation = "hero"
[teams.platform]
name = "Platform"
[people.alice]
name = "Alice Smith"
email = "alice@example.com"
team = "platform"
[people.bob]
name = "Bob Jones"
team = "platform"
timezone = "America/Chicago"
"#;

const HERO: &str = r#"
[rotations.hero]
name = "Support Hero"
members = ["alice", "bob"]
timezone = "Europe/London"
start = "2027-03-15T09:00"
every = "1 week"
"#;

#[test]
fn check_passes_on_the_example_schedules() {
    let o = rota(&example_schedules(), &["check"]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "ok: 3 files, 9 people, 3 teams, 4 rotations, 1 links, 3 overrides\n"
    );
}

#[test]
fn check_reports_every_problem_with_location_and_exits_1() {
    let bad_people =
        "[people.alice]\nname = \"Alice\"\nteam = \"platfrom\"\ntimezone = \"Mars/Olympus\"\n";
    let bad_rot = "[rotations.hero]\nmembers = [\"alice\", \"bobb\"]\ntimezone = \"Europe/London\"\nstart = \"2027-03-15T09:00\"\nevery = \"1 fortnight\"\n\n[[overrides]]\nrotation = \"heroo\"\nperson = \"alice\"\nstart = \"2027-03-16T09:00\"\nend = \"2027-03-15T09:00\"\n";
    let dir = schedules_dir(&[
        ("a.toml", bad_people),
        ("b.toml", bad_rot),
        (
            "c.toml",
            "[teams.platform]\nname = \"Platform\"\n[teams.platform2\n",
        ),
    ]);
    let o = rota(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let a = dir.path().join("a.toml").display().to_string();
    let b = dir.path().join("b.toml").display().to_string();
    let c = dir.path().join("c.toml").display().to_string();
    // A syntax error stops the cross-file checks (so "platfrom" is not reported as unknown) but the
    // per-file problems are all there, in file order.
    let expected = [
        format!("{a}:4:12: people.alice.timezone: unknown time zone \"Mars/Olympus\""),
        format!("{b}:5:9: rotations.hero.every: invalid every \"1 fortnight\""),
        format!("{c}:3:"),
    ];
    for e in &expected {
        assert!(err.contains(e.as_str()), "missing {e:?} in:\n{err}");
    }
    assert!(err.contains("TOML syntax"), "{err}");
    assert!(err.contains("error: 3 problems"), "{err}");

    // Without the syntax error, references are checked across files.
    std::fs::remove_file(dir.path().join("c.toml")).unwrap();
    let o = rota(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for e in [
        format!(
            "{a}:3:8: people.alice.team: unknown team \"platfrom\"; known teams: none are defined"
        ),
        format!(
            "{b}:2:21: rotations.hero.members[1]: unknown person \"bobb\"; known people: alice"
        ),
        format!(
            "{b}:8:12: overrides[0].rotation: unknown rotation \"heroo\" (did you mean \"hero\"?); known rotations: hero"
        ),
        "error: 5 problems".to_string(),
    ] {
        assert!(err.contains(e.as_str()), "missing {e:?} in:\n{err}");
    }
}

#[test]
fn whoishero_json_is_the_documented_shape() {
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", HERO)]);
    // 2027-03-29 is after London's spring forward: Bob's week began Monday 22nd 09:00 GMT and
    // ends Monday 29th 09:00 BST, which is 08:00Z.
    let o = rota(
        dir.path(),
        &["whoishero", "--json", "--at", "2027-03-29T07:30:00Z"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"rotation\":\"hero\",\"person\":{\"id\":\"bob\",\"name\":\"Bob Jones\",\"email\":null},\
         \"start\":\"2027-03-22T09:00:00Z\",\"end\":\"2027-03-29T08:00:00Z\",\"source\":\"rotation\",\"slot\":1}\n"
    );
}

#[test]
fn whoishero_before_the_rotation_starts_says_so() {
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", HERO)]);
    let o = rota(
        dir.path(),
        &["whoishero", "--json", "--at", "2027-01-01T00:00:00Z"],
    );
    assert!(o.status.success());
    assert_eq!(stdout(&o), "null\n");
    let o = rota(dir.path(), &["whoishero", "--at", "2027-01-01T00:00:00Z"]);
    assert!(
        stdout(&o).starts_with("Nobody is Support Hero at"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn whoishero_human_output_uses_the_rotation_zone_or_tz() {
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", HERO)]);
    let o = rota(dir.path(), &["whoishero", "--at", "2027-03-29T10:00:00Z"]);
    let out = stdout(&o);
    assert!(
        out.starts_with("Support Hero: Alice Smith (alice)\n"),
        "{out}"
    );
    assert!(out.contains("from:  Mon 2027-03-29 09:00 BST"), "{out}");
    assert!(out.contains("until: Mon 2027-04-05 09:00 BST"), "{out}");
    let o = rota(
        dir.path(),
        &[
            "whoishero",
            "--at",
            "2027-03-29T10:00:00Z",
            "--tz",
            "America/Chicago",
        ],
    );
    assert!(
        stdout(&o).contains("from:  Mon 2027-03-29 03:00 CDT"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn at_accepts_a_date_as_midnight_in_the_rotation_zone() {
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", HERO)]);
    // Midnight 2027-03-22 in London is 00:00Z, still Alice's week (Bob's starts 09:00).
    let o = rota(dir.path(), &["whoishero", "--json", "--at", "2027-03-22"]);
    assert!(stdout(&o).contains("\"id\":\"alice\""), "{}", stdout(&o));
}

#[test]
fn oncall_lists_every_rotation_with_links_and_overrides() {
    let o = rota(
        &example_schedules(),
        &["oncall", "--json", "--at", "2027-01-06T12:00:00Z"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows: Vec<(String, String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["rotation"].as_str().unwrap().into(),
                s["person"]["id"].as_str().unwrap().into(),
                s["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("core-analytics-secondary", "grace", "rotation"),
        // Bob is hero this week by the Christmas swap, so he is also his team's secondary.
        ("core-experience-secondary", "bob", "link"),
        ("platform-secondary", "alice", "rotation"),
        ("support-hero", "bob", "override"),
    ];
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn shifts_of_a_rotation_and_of_a_person() {
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", HERO)]);
    let o = rota(
        dir.path(),
        &[
            "shifts",
            "hero",
            "--from",
            "2027-03-15",
            "--to",
            "2027-04-05",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let starts: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2027-03-15T09:00:00Z",
            "2027-03-22T09:00:00Z",
            "2027-03-29T08:00:00Z"
        ]
    );

    let o = rota(
        dir.path(),
        &[
            "shifts",
            "--person",
            "bob",
            "--from",
            "2027-03-01T00:00:00Z",
            "--to",
            "2027-04-30T00:00:00Z",
        ],
    );
    let out = stdout(&o);
    // Bob's own zone is Chicago: the table shows his shifts there.
    assert!(out.starts_with("ROTATION  PERSON           FROM                      UNTIL                     SOURCE\n"), "{out}");
    assert!(out.contains("hero      Bob Jones (bob)  Mon 2027-03-22 04:00 CDT  Mon 2027-03-29 03:00 CDT  rotation"), "{out}");
    assert_eq!(out.lines().count(), 4, "{out}");
}

#[test]
fn usage_and_input_errors_have_distinct_exit_codes() {
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", HERO)]);
    let o = rota(dir.path(), &["shifts"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "missing ROTATION or --person is a usage error"
    );
    let o = rota(dir.path(), &["whoishero", "--tz", "Nowhere/City"]);
    assert_eq!(o.status.code(), Some(2));
    let o = rota(dir.path(), &["whoishero", "--at", "next tuesday"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid time \"next tuesday\""),
        "{}",
        stderr(&o)
    );
    let o = rota(dir.path(), &["shifts", "villains"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown rotation \"villains\"; known rotations: hero"),
        "{}",
        stderr(&o)
    );
    let o = rota(
        dir.path(),
        &[
            "shifts",
            "hero",
            "--from",
            "2027-03-15",
            "--to",
            "2027-03-01",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("must be after --from"));
    let o = rota(
        dir.path(),
        &[
            "shifts",
            "hero",
            "--from",
            "2027-03-15",
            "--to",
            "2127-03-01",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("longer than"));
}

#[test]
fn a_missing_or_empty_schedules_directory_is_named() {
    let o = rota(
        std::path::Path::new("/nonexistent/schedules"),
        &["whoishero"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot read the schedules directory /nonexistent/schedules"),
        "{}",
        stderr(&o)
    );
    let dir = schedules_dir(&[]);
    let o = rota(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no *.toml schedule files"));
}

#[test]
fn whoishero_without_hero_rotation_explains_the_fix() {
    let dir = schedules_dir(&[
        (
            "people.toml",
            &PEOPLE.replace("hero_rotation = \"hero\"", ""),
        ),
        ("hero.toml", HERO),
    ]);
    let o = rota(dir.path(), &["whoishero"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("add `hero_rotation = \"ROTATION-ID\"`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn schedules_directory_from_the_environment() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rota"))
        .arg("check")
        .env("ROTA_SCHEDULES", example_schedules())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn version_names_the_git_revision() {
    let o = rota(&example_schedules(), &["--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = stdout(&o);
    let rev = v
        .trim()
        .strip_prefix(concat!("rota ", env!("CARGO_PKG_VERSION"), " (git "))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{v:?}"));
    assert!(
        rev == "unknown" || (rev.len() >= 7 && rev.chars().all(|c| c.is_ascii_hexdigit())),
        "{v:?}"
    );
}

#[test]
fn completions_and_man_page_cover_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = rota(&example_schedules(), &["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for word in ["whoishero", "oncall", "state", "completions"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let bash = stdout(&rota(&example_schedules(), &["completions", "bash"]));
    assert!(bash.contains("complete -F _rota"), "{bash}");
    let o = rota(&example_schedules(), &["completions", "tcsh"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );

    let o = rota(&example_schedules(), &["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let man = stdout(&o);
    let th = man
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap_or_else(|| panic!("no .TH line:\n{man}"));
    assert!(th.starts_with(".TH rota 1"), "{th}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(man.contains(section), "man page lacks {section}");
    }
    assert!(man.contains("whoishero"), "{man}");

    // A command's own page has its options.
    let o = rota(&example_schedules(), &["man", "whoishero"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(page.contains(".TH rota-whoishero 1"), "{page}");
    assert!(page.contains("\\fBrota whoishero\\fR"), "{page}");
    for option in ["\\-\\-state", "\\-\\-schedules", "\\-\\-tz"] {
        assert!(page.contains(option), "{option} missing: {page}");
    }
    let o = rota(&example_schedules(), &["man", "whoishere"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("(did you mean \"whoishero\"?)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_says_everything_at_once_and_warns_about_overlapping_overrides() {
    // A bad zone, a bad rule and no start: all three in one run, with a missing absence file.
    let people = "[people.alice]\nname = \"Alice\"\nabsence = [\"https://cal.example/a.ics\", \"away.ics\"]\n";
    let rot = "[rotations.hero]\nmembers = [\"alice\"]\ntimezone = \"Europe/Londn\"\nrrule = \"FREQ=WEEKLY;BYDAY=XX\"\n";
    let dir = schedules_dir(&[("a.toml", people), ("b.toml", rot)]);
    let o = rota(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let a = dir.path().join("a.toml").display().to_string();
    let b = dir.path().join("b.toml").display().to_string();
    for want in [
        format!("{a}:3:41: people.alice.absence[1]: cannot read calendar file \"away.ics\""),
        format!("{b}:1:12: rotations.hero: missing `start`"),
        format!(
            "{b}:3:12: rotations.hero.timezone: unknown time zone \"Europe/Londn\" (did you mean \"Europe/London\"?)"
        ),
        format!("{b}:4:9: rotations.hero.rrule: invalid rrule"),
    ] {
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
    assert!(err.contains("error: 4 problems"), "{err}");
    assert!(
        !err.contains("cal.example"),
        "URLs are for --conflicts: {err}"
    );

    // Overlapping file overrides: a warning naming both and the winner; still exit 0.
    let fixed = "[rotations.hero]\nmembers = [\"alice\", \"bob\"]\ntimezone = \"Europe/London\"\nstart = \"2027-03-15T09:00\"\nevery = \"1 week\"\n\n[[overrides]]\nid = \"cover\"\nrotation = \"hero\"\nperson = \"bob\"\nstart = \"2027-03-16T09:00\"\nend = \"2027-03-18T09:00\"\n\n[[overrides]]\nid = \"dentist\"\nrotation = \"hero\"\nperson = \"alice\"\nstart = \"2027-03-17T09:00\"\nend = \"2027-03-19T09:00\"\n";
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", fixed)]);
    let o = rota(dir.path(), &["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hero = dir.path().join("hero.toml").display().to_string();
    assert_eq!(
        stderr(&o),
        format!(
            "warning: {hero}:15:6: overrides[1]: override \"dentist\" overlaps override \"cover\" (at {hero}:8:6) in rotation hero from 2027-03-17T09:00:00+00:00 to 2027-03-18T09:00:00+00:00; \"dentist\" wins there: where overrides overlap, the one defined later (in a later file, or later in the same file) wins\n"
        )
    );
    assert!(
        stdout(&o).ends_with("2 overrides, 1 warning\n"),
        "{}",
        stdout(&o)
    );
    let o = rota(
        dir.path(),
        &[
            "whoishero",
            "--at",
            "2027-03-17T12:00:00Z",
            "--json",
            "--state",
            "/nonexistent/rota.db",
        ],
    );
    assert!(
        stdout(&o).contains("\"id\":\"alice\""),
        "the later one wins: {}",
        stdout(&o)
    );
}

#[test]
fn tz_and_ids_get_did_you_mean() {
    let o = rota(&example_schedules(), &["oncall", "--tz", "Europe/Londn"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown time zone \"Europe/Londn\" (did you mean \"Europe/London\"?)"),
        "{}",
        stderr(&o)
    );
    let o = rota(&example_schedules(), &["shifts", "--person", "alcie"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("unknown person \"alcie\" (did you mean \"alice\"?); known people: alice"),
        "{}",
        stderr(&o)
    );
}

/// A weekly hero linked into a daily secondary of the same team.
const LINKED_DAILY: &str = r#"
[rotations.platform-secondary]
team = "platform"
members = ["bob", "alice"]
timezone = "Europe/London"
start = "2027-03-15T09:00"
every = "1 day"

[[links]]
from = "hero"
to = ["platform-secondary"]
displaced = "skip"
"#;

#[test]
fn a_linked_hero_week_is_one_row_per_rotation_in_person_tables() {
    let dir = schedules_dir(&[
        ("people.toml", PEOPLE),
        ("hero.toml", HERO),
        ("link.toml", LINKED_DAILY),
    ]);
    let args = [
        "shifts",
        "--person",
        "alice",
        "--from",
        "2027-03-15T09:00:00Z",
        "--to",
        "2027-03-22T09:00:00Z",
    ];
    let out = stdout(&rota(dir.path(), &args));
    assert_eq!(
        out.lines().count(),
        3,
        "a header, the hero week, the secondary week:\n{out}"
    );
    assert!(
        out.contains("platform-secondary  Alice Smith (alice)  Mon 2027-03-15 09:00 UTC  Mon 2027-03-22 09:00 UTC  link"),
        "{out}"
    );
    // JSON keeps the API's shape: one object per slot, never across a handoff.
    let mut json = args.to_vec();
    json.push("--json");
    let v: serde_json::Value = serde_json::from_str(&stdout(&rota(dir.path(), &json))).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 8);
}

#[test]
fn times_outside_the_supported_range_are_refused_clearly() {
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", HERO)]);
    for at in ["9999-12-31T23:59:59Z", "1969-12-31"] {
        let o = rota(dir.path(), &["whoishero", "--json", "--at", at]);
        assert_eq!(o.status.code(), Some(1), "{at}");
        assert!(stdout(&o).is_empty(), "{at}: {}", stdout(&o));
        assert!(
            stderr(&o).contains(&format!(
                "time \"{at}\" is outside the supported range, 1970-01-01T00:00:00Z to 9000-12-31T23:59:59Z"
            )),
            "{}",
            stderr(&o)
        );
    }
}

/// A log format rota does not know stops it at once, naming the setting.
#[test]
fn an_unknown_log_format_is_an_error() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rota"))
        .args(["--schedules"])
        .arg(crate::util::example_schedules())
        .arg("check")
        .env("ROTA_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ROTA_LOG_FORMAT=\"xml\": expected text or json"),
        "{err}"
    );
}

/// Every `ROTA_*` setting the code reads, by scanning the sources for the quoted names.
fn settings_in_the_sources() -> std::collections::BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("src")];
    for c in std::fs::read_dir(root.join("crates")).unwrap() {
        dirs.push(c.unwrap().path().join("src"));
    }
    let mut found = std::collections::BTreeSet::new();
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for piece in text.split("\"ROTA_").skip(1) {
                let name: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                // Test-only and build-time names; ROTA_SMTP (a key prefix) is no setting.
                if piece[name.len()..].starts_with('"')
                    && !name.is_empty()
                    && !name.starts_with("TEST_")
                    && name != "GIT_REV"
                    && !name.ends_with('_')
                {
                    found.insert(format!("ROTA_{name}"));
                }
            }
        }
    }
    found
}

#[test]
fn serve_help_lists_every_setting_with_its_environment_variable() {
    let o = rota(&example_schedules(), &["serve", "--help"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let help = stdout(&o);
    let settings = settings_in_the_sources();
    assert!(settings.len() >= 20, "{settings:?}");
    for s in &settings {
        assert!(
            help.contains(&format!("[env: {s}")),
            "{s} is read by the code but not listed in `rota serve --help`:\n{help}"
        );
    }
}

#[test]
fn rota_config_says_where_each_value_came_from_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rota.toml");
    std::fs::write(
        &file,
        "bind = \"0.0.0.0:9000\"\nsmtp_host = \"smtp.example.com\"\nsmtp_port = 25\n\
         trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nsmtp_password = \"file-secret\"\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rota"))
        .args(["config", "--json", "--smtp-port", "2525", "--config"])
        .arg(&file)
        .env("ROTA_SMTP_PASSWORD", "env-secret")
        .env(
            "ROTA_DATABASE_URL",
            "postgres://rota:db-secret@db.example.com/rota",
        )
        .env_remove("ROTA_BIND")
        .env_remove("ROTA_SMTP_HOST")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for secret in ["file-secret", "env-secret", "db-secret"] {
        assert!(!out.contains(secret), "{secret} shown: {out}");
    }
    let lines: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let by = |k: &str| {
        lines
            .iter()
            .find(|l| l["key"] == k)
            .unwrap_or_else(|| panic!("{k} missing: {out}"))
            .clone()
    };
    assert_eq!(by("bind")["value"], "0.0.0.0:9000");
    assert!(
        by("bind")["source"]
            .as_str()
            .unwrap()
            .starts_with("config file")
    );
    assert_eq!(by("smtp_port")["value"], "2525");
    assert_eq!(by("smtp_port")["source"], "command line (--smtp-port)");
    assert_eq!(by("smtp_password")["value"], "****");
    assert_eq!(
        by("smtp_password")["source"],
        "environment (ROTA_SMTP_PASSWORD)"
    );
    assert_eq!(by("smtp_password")["secret"], true);
    assert_eq!(
        by("database_url")["value"],
        "postgres://rota:****@db.example.com/rota"
    );
    assert_eq!(by("trusted_proxies")["value"], "10.0.0.0/8,::1");
    assert_eq!(by("state_poll_ms")["source"], "default");
    assert!(by("metrics_token")["value"].is_null());
    // Every setting the code reads is in the list (but the config file's own name).
    for s in settings_in_the_sources()
        .into_iter()
        .filter(|s| s != "ROTA_CONFIG")
    {
        assert!(
            lines.iter().any(|l| l["env"] == s.as_str()),
            "{s} missing: {out}"
        );
    }
}

#[test]
fn a_bad_config_file_is_named_with_its_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rota.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:0\"\nsmpt_host = \"x\"\n").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rota"))
        .args(["serve"])
        .env("ROTA_CONFIG", &file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{}:2:1: unknown setting \"smpt_host\" (did you mean \"smtp_host\"?)",
            file.display()
        )),
        "{err}"
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rota"))
        .args(["config", "--config", "/nonexistent/rota.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/nonexistent/rota.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn settings_keep_their_old_leniency_and_a_bad_log_filter_is_named() {
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_rota"));
        c.arg("--schedules").arg(example_schedules()).args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // Spaces, and values out of range, are taken as they always were (trimmed, clamped).
    let o = run(
        &[
            ("ROTA_STATE_POLL_MS", " 10 "),
            ("ROTA_REMIND_INTERVAL", "0"),
            ("ROTA_CALENDAR_REFRESH", "0"),
            ("ROTA_CONFIG", ""),
        ],
        &["config", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A log filter that does not parse stops rota and says which setting it was.
    let o = run(&[("ROTA_LOG", "rota=loud")], &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("ROTA_LOG (--log)=\"rota=loud\" is not a log filter"),
        "{}",
        stderr(&o)
    );
}

/// A restricted hero rotation: inside its windows the hero is named; outside them the CLI says
/// nobody is on call, why, and who is next; `oncall` lists it as having nobody.
#[test]
fn outside_a_rotations_active_hours_the_cli_says_nobody_and_who_is_next() {
    let restricted = format!("{HERO}active = [\"Mon-Fri 09:00-17:00\"]\n");
    let dir = schedules_dir(&[("people.toml", PEOPLE), ("hero.toml", &restricted)]);
    let o = rota(dir.path(), &["whoishero", "--at", "2027-03-16T10:00:00Z"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Alice Smith"), "{}", stdout(&o));
    // Tuesday 20:00 in London: outside; Wednesday 09:00 GMT is next.
    let o = rota(dir.path(), &["whoishero", "--at", "2027-03-16T20:00:00Z"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "Nobody is Support Hero at Tue 2027-03-16 20:00 GMT: outside its active hours (Mon-Fri \
         09:00-17:00, Europe/London); next: Alice Smith from Wed 2027-03-17 09:00 GMT.\n"
    );
    let o = rota(
        dir.path(),
        &["whoishero", "--at", "2027-03-16T20:00:00Z", "--json"],
    );
    assert_eq!(stdout(&o).trim(), "null");
    let o = rota(dir.path(), &["oncall", "--at", "2027-03-20T12:00:00Z"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Support Hero: nobody on call, outside its active hours"),
        "{}",
        stdout(&o)
    );
}
