//! Embedding rota-core in another tool: a chat bot, a dashboard or a status page.
//!
//! Loads a schedules directory the way rota does (every `*.toml` file, merged), asks who is on call
//! right now in every rotation, and lists one person's next shifts.
//!
//! ```text
//! cargo run --example whos_on_call -- [SCHEDULES_DIR] [PERSON_ID]
//! cargo run --example whos_on_call -- schedules alice
//! ```

use std::path::Path;

use chrono::{Duration, Utc};
use rota_core::Schedule;

fn load_dir(dir: &Path) -> Result<Schedule, Box<dyn std::error::Error>> {
    // rota-core does no I/O: the embedding program reads the files and hands over their texts.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push((path.display().to_string(), std::fs::read_to_string(&path)?));
        }
    }
    files.sort();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    Ok(Schedule::load(&refs)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "schedules".to_string());
    let person = args.next().unwrap_or_else(|| "alice".to_string());
    let schedule = load_dir(Path::new(&dir))?;
    // The embedding program owns the clock; rota-core only answers for the instant it is given.
    let now = Utc::now();

    match schedule.whoishero(now) {
        Ok(Some(hero)) => println!(
            "Support Hero now: {} until {}",
            hero.person.name,
            hero.end.format("%a %d %b %H:%M UTC")
        ),
        Ok(None) => println!("The hero rotation has not started yet."),
        Err(e) => println!("No hero: {e}"),
    }
    println!("\nOn call now:");
    for shift in schedule.on_call_all(now) {
        println!(
            "  {:<28} {:<16} ({})",
            shift.rotation.name,
            shift.person.name,
            shift.source.as_str()
        );
    }

    let upcoming = schedule.shifts_for_person(&person, now, now + Duration::weeks(12))?;
    println!("\nNext shifts of {person} (12 weeks):");
    if upcoming.is_empty() {
        println!("  none");
    }
    for s in upcoming {
        let tz = s.person.timezone.unwrap_or(s.rotation.timezone);
        println!(
            "  {:<28} {} -> {}",
            s.rotation.name,
            s.start.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z"),
            s.end.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z")
        );
    }
    Ok(())
}
