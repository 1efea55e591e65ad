//! Feed generation: one person's year-long calendar across 20 rotations (issue target: under 1 ms),
//! and a rotation's year-long feed, each resolved and rendered as the service does per request.

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use rota_core::Schedule;
use rota_server::ics::{render, window};

const ZONES: [&str; 8] = [
    "Europe/London",
    "America/Chicago",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
    "America/Santiago",
    "Europe/Berlin",
    "America/New_York",
];

/// 20 weekly rotations of 5 members each; "p0" is in all of them, so their feed has about a fifth
/// of every rotation's shifts for a year (~200 events), with a few overrides each.
fn schedule() -> Schedule {
    let mut t = String::from("[teams.t]\nname = \"T\"\n");
    for p in 0..43 {
        t.push_str(&format!(
            "[people.p{p}]\nname = \"Person {p}\"\nteam = \"t\"\n"
        ));
    }
    for r in 0..20 {
        let members: Vec<String> = std::iter::once("\"p0\"".to_string())
            .chain((0..4).map(|i| format!("\"p{}\"", 1 + r * 2 + i)))
            .collect();
        t.push_str(&format!(
            "[rotations.r{r}]\nname = \"Rotation {r}\"\nmembers = [{}]\ntimezone = \"{}\"\nstart = \"2026-01-0{}T09:00\"\nevery = \"1 week\"\n",
            members.join(", "),
            ZONES[r % 8],
            1 + r % 7
        ));
        for k in 0..5 {
            t.push_str(&format!(
                "[[overrides]]\nrotation = \"r{r}\"\nperson = \"p{}\"\nstart = \"2027-0{}-1{}T09:00\"\nend = \"2027-0{}-1{}T21:00\"\n",
                1 + r * 2,
                1 + k,
                k,
                1 + k,
                k + 1
            ));
        }
    }
    Schedule::load(&[("bench.toml", &t)]).expect("bench schedule loads")
}

fn feeds(c: &mut Criterion) {
    let s = schedule();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let (stamp, from, to) = window(now);
    let events = s.shifts_for_person("p0", from, to).unwrap().len();
    eprintln!("person feed: {events} events across 20 rotations");
    c.bench_function(
        "person feed, 20 rotations, 395 days (resolve + render)",
        |b| {
            b.iter(|| {
                let shifts = s.shifts_for_person("p0", from, to).unwrap();
                render(&s, "On call: Person 0", &shifts, stamp)
            })
        },
    );
    c.bench_function("person feed, resolve only", |b| {
        b.iter(|| s.shifts_for_person("p0", from, to).unwrap().len())
    });
    c.bench_function("rotation feed, 395 days (resolve + render)", |b| {
        b.iter(|| {
            let shifts = s.shifts("r3", from, to).unwrap();
            render(&s, "Rotation 3", &shifts, stamp)
        })
    });
}

criterion_group!(benches, feeds);
criterion_main!(benches);
