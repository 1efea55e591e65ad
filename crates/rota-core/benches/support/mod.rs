//! Synthetic schedules for the rota-core benchmarks and the `peak_memory` example.
//!
//! Every schedule is written as TOML text and loaded with [`Schedule::load`], exactly as the CLI and
//! the server load `schedules/*.toml`, so the benchmarks measure the same compiled schedule a user
//! gets. The generators are deterministic (a fixed-seed splitmix64), so every run and every machine
//! resolves the same schedule.
//!
//! All rotations start on Monday 2026-11-02 (or a day or two later), so a range starting
//! [`FROM`] covers every rotation from its first handoff.

#![allow(dead_code)] // each bench binary uses a different subset

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use rota_core::Schedule;

/// Start of every benchmark range (the first handoff of the earliest rotation is after it).
pub const FROM: &str = "2026-11-01T00:00:00Z";

/// Eight zones, chosen for variety: two southern-hemisphere DST zones (one with Lord Howe's
/// 30-minute shift), a zone without DST, and the usual European and American ones.
pub const ZONES: [&str; 8] = [
    "Europe/London",
    "America/Chicago",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Australia/Lord_Howe",
];

/// Parses an RFC 3339 instant.
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse()
        .unwrap_or_else(|e| panic!("bad instant {s:?}: {e}"))
}

/// [`FROM`] plus `years` × 365 days (close enough to calendar years for a range).
pub fn from_plus_years(years: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = at(FROM);
    (from, from + Duration::days(365 * years))
}

/// Loads one generated file, panicking with the diagnostics if it does not load.
pub fn load(name: &str, text: &str) -> Schedule {
    match Schedule::load(&[(name, text)]) {
        Ok(s) => s,
        Err(e) => {
            let lines: Vec<String> = e.diagnostics().iter().map(|d| d.to_string()).collect();
            panic!("{name} does not load: {e}\n{}", lines.join("\n"))
        }
    }
}

/// splitmix64: a tiny, good-enough deterministic generator (no `rand` dependency).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

fn person(out: &mut String, id: &str, team: Option<&str>) {
    writeln!(out, "[people.{id}]\nname = \"Person {id}\"").unwrap();
    if let Some(t) = team {
        writeln!(out, "team = \"{t}\"").unwrap();
    }
    out.push('\n');
}

fn rotation(
    out: &mut String,
    id: &str,
    team: Option<&str>,
    members: &[String],
    zone: &str,
    start: &str,
    recurrence: &str,
) {
    writeln!(out, "[rotations.{id}]").unwrap();
    if let Some(t) = team {
        writeln!(out, "team = \"{t}\"").unwrap();
    }
    let quoted: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
    writeln!(
        out,
        "members = [{}]\ntimezone = \"{zone}\"\nstart = \"{start}\"\n{recurrence}\n",
        quoted.join(", ")
    )
    .unwrap();
}

fn override_(out: &mut String, rotation: &str, person: &str, start: DateTime<Utc>, hours: i64) {
    let end = start + Duration::hours(hours);
    let f = "%Y-%m-%dT%H:%M:%SZ";
    writeln!(
        out,
        "[[overrides]]\nrotation = \"{rotation}\"\nperson = \"{person}\"\nstart = \"{}\"\nend = \"{}\"\n",
        start.format(f),
        end.format(f)
    )
    .unwrap();
}

/// One rotation `hero` (8 members, Europe/London, Mondays 09:00) with `recurrence` (a whole TOML
/// line: `every = "1 week"` or `rrule = "..."`) and no overrides.
pub fn single(recurrence: &str) -> String {
    let mut out = String::new();
    let members: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
    for m in &members {
        person(&mut out, m, None);
    }
    rotation(
        &mut out,
        "hero",
        None,
        &members,
        "Europe/London",
        "2026-11-02T09:00",
        recurrence,
    );
    out
}

/// Benchmark (a) and (c): a weekly rotation `hero` (8 members, Europe/London, Mondays 09:00) with
/// 10 overrides, one every fifth week from week 2, each from Tuesday 00:00Z for 48 hours.
/// Override `k` covers `2026-11-03T00:00Z + (5k + 2) weeks` for 2 days.
pub fn weekly_with_overrides() -> String {
    let mut out = single("every = \"1 week\"");
    for k in 0..10 {
        let start = at("2026-11-03T00:00:00Z") + Duration::weeks(5 * k + 2);
        override_(&mut out, "hero", &format!("p{}", (k + 3) % 8), start, 48);
    }
    out
}

/// Benchmarks (d) and (e): `rotations` weekly rotations spread over the 8 [`ZONES`], each with 4 to
/// 7 members (people shared between neighbouring rotations), starting Monday 2026-11-02 to
/// Wednesday 2026-11-04 at 08:00 to 11:00 local, plus `overrides` overrides of 1 to 48 whole hours,
/// on random rotations (by one of their members), starting at a random hour in
/// `[2026-11-02, 2026-11-02 + override_days)`.
pub fn many(rotations: usize, overrides: usize, override_days: i64, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let pool = rotations * 3 + 8;
    let mut out = String::with_capacity(rotations * 300 + overrides * 150 + pool * 40);
    for p in 0..pool {
        person(&mut out, &format!("p{p:05}"), None);
    }
    let mut members_of = Vec::with_capacity(rotations);
    for r in 0..rotations {
        let len = 4 + r % 4;
        let members: Vec<String> = (0..len)
            .map(|j| format!("p{:05}", (r * 3 + j) % pool))
            .collect();
        let start = format!("2026-11-0{}T{:02}:00", 2 + r % 3, 8 + (r / 3) % 4);
        rotation(
            &mut out,
            &format!("r{r:04}"),
            None,
            &members,
            ZONES[r % ZONES.len()],
            &start,
            "every = \"1 week\"",
        );
        members_of.push(members);
    }
    let base = at("2026-11-02T00:00:00Z");
    let hours = override_days as u64 * 24;
    for _ in 0..overrides {
        let r = rng.range(0, rotations as u64 - 1) as usize;
        let m = &members_of[r];
        let who = &m[rng.range(0, m.len() as u64 - 1) as usize];
        let start = base + Duration::hours(rng.range(0, hours - 1) as i64);
        let len = rng.range(1, 48) as i64;
        override_(&mut out, &format!("r{r:04}"), who, start, len);
    }
    out
}

/// The link case: a weekly `hero` rotation of 9 people from 3 teams, and one weekly secondary
/// rotation per team (`team-0-secondary` ...; 3 members each, the same people), all Europe/London
/// Mondays 09:00, plus 3 overrides per rotation in the first year. With `link = Some("skip")` or
/// `Some("swap")`, the hero is linked into the 3 secondaries with that `displaced`; with `None`
/// there is no link (the baseline).
pub fn linked(link: Option<&str>) -> String {
    // Top-level keys first: after a table header they would belong to that table.
    let mut out = String::from("hero_rotation = \"hero\"\n\n");
    for t in 0..3 {
        writeln!(out, "[teams.team-{t}]\nname = \"Team {t}\"\n").unwrap();
    }
    let mut hero = Vec::new();
    for i in 0..9 {
        let id = format!("p{i}");
        person(&mut out, &id, Some(&format!("team-{}", i % 3)));
        hero.push(id);
    }
    // Members of team t are p{t}, p{t+3}, p{t+6}; the hero order interleaves the teams.
    rotation(
        &mut out,
        "hero",
        None,
        &hero,
        "Europe/London",
        "2026-11-02T09:00",
        "every = \"1 week\"",
    );
    for t in 0..3 {
        // A secondary order that is not the hero order, so the link really displaces people.
        let members: Vec<String> = [6, 0, 3].iter().map(|o| format!("p{}", t + o)).collect();
        rotation(
            &mut out,
            &format!("team-{t}-secondary"),
            Some(&format!("team-{t}")),
            &members,
            "Europe/London",
            "2026-11-02T09:00",
            "every = \"1 week\"",
        );
    }
    if let Some(displaced) = link {
        writeln!(
            out,
            "[[links]]\nfrom = \"hero\"\nto = [\"team-0-secondary\", \"team-1-secondary\", \
             \"team-2-secondary\"]\ndisplaced = \"{displaced}\"\n"
        )
        .unwrap();
    }
    let rots = [
        "hero",
        "team-0-secondary",
        "team-1-secondary",
        "team-2-secondary",
    ];
    for (i, r) in rots.iter().enumerate() {
        for k in 0..3 {
            let start = at("2026-11-04T00:00:00Z") + Duration::weeks(7 * k + 3 + i as i64);
            override_(
                &mut out,
                r,
                &format!("p{}", (i + 3 * k as usize) % 9),
                start,
                24,
            );
        }
    }
    out
}

/// One rotation `hero` with three layers, follow-the-sun style: London weekly all day, Chicago
/// weekly 08:00-20:00 over it, and a Kolkata daily layer 09:00-12:00 on weekdays on top.
pub fn layered() -> String {
    let mut out = String::new();
    for i in 0..8 {
        person(&mut out, &format!("p{i}"), None);
    }
    out.push_str(
        "[rotations.hero]\ntimezone = \"Europe/London\"\n\
         [[rotations.hero.layers]]\nmembers = [\"p0\", \"p1\", \"p2\"]\nstart = \"2026-11-02T09:00\"\nevery = \"1 week\"\n\
         [[rotations.hero.layers]]\nid = \"amer\"\ntimezone = \"America/Chicago\"\nmembers = [\"p3\", \"p4\"]\nstart = \"2026-11-02T08:00\"\nevery = \"1 week\"\nactive = [\"08:00-20:00\"]\n\
         [[rotations.hero.layers]]\nid = \"apac\"\ntimezone = \"Asia/Kolkata\"\nmembers = [\"p5\", \"p6\", \"p7\"]\nstart = \"2026-11-02T09:00\"\nevery = \"1 day\"\nactive = [\"Mon-Fri 09:00-12:00\"]\nadvance = \"when-active\"\n",
    );
    out
}
