//! Embedding rota-core in another tool: a chat bot, a dashboard or a status page.
//!
//! Loads a schedules directory the way rota does (every `*.toml` file, merged: the `rota-files`
//! crate), asks who is on call right now in every rotation, and lists one person's next shifts.
//!
//! ```text
//! cargo run --example whos_on_call -- [SCHEDULES_DIR] [PERSON_ID]
//! cargo run --example whos_on_call -- schedules alice
//! ```

use chrono::{Duration, Utc};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "schedules".to_string());
    let person = args.next().unwrap_or_else(|| "alice".to_string());
    // rota-core does no I/O: rota-files reads the directory the way `rota` does. A schedule with
    // problems makes `main` print each one as file:line:col (rota_core::Error's Debug).
    let schedule = rota_files::load_dir(&dir)?;
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
