//! Coverage: the hours of each shift outside the on-call person's working hours, and who is at
//! work then, across the weeks when Europe and America change their clocks on different Sundays.

mod common;

use common::utc;
use rota_core::Schedule;

const PEOPLE: &str = r#"
[people.ann]
name = "Ann"
timezone = "Europe/London"
hours = "Mon-Fri 09:00-17:30"
[people.cho]
name = "Cho"
timezone = "America/Chicago"
hours = ["Mon-Fri 08:00-12:00", "Mon-Fri 13:00-17:00"]
[people.raj]
name = "Raj"
timezone = "Asia/Kolkata"
hours = "Mon-Fri 09:00-18:00"
[people.zed]
name = "Zed"
"#;

/// Someone always at work (a 24/7 desk): known hours, and at work in every gap.
const NOC: &str = "[people.noc]\nname = \"Noc\"\ntimezone = \"UTC\"\nhours = \"00:00-24:00\"\n";

fn gaps(s: &Schedule, from: &str, to: &str) -> Vec<Vec<String>> {
    s.coverage("hero", utc(from), utc(to))
        .unwrap()
        .iter()
        .map(|c| {
            let mut v = vec![format!("{} known={}", c.shift.person.id, c.hours_known)];
            v.extend(c.gaps.iter().map(|g| {
                let who: Vec<&str> = g.available.iter().map(|p| p.id.as_str()).collect();
                format!(
                    "{} {} [{}]",
                    g.start.format("%a %H:%M"),
                    g.end.format("%a %H:%M"),
                    who.join(",")
                )
            }));
            v
        })
        .collect()
}

#[test]
fn gaps_name_who_is_at_work_by_each_persons_own_clock() {
    let rot = "[rotations.hero]\nmembers = [\"ann\", \"zed\"]\ntimezone = \"Europe/London\"\nstart = \"2027-03-08T09:00\"\nevery = \"1 day\"\n";
    let s = Schedule::load(&[("p.toml", PEOPLE), ("r.toml", rot)]).unwrap();
    // Monday 2027-03-08, all on standard time. Ann's day ends 17:30Z; Cho (CST) works 14:00-18:00
    // and 19:00-23:00Z; Raj (IST) 03:30-12:30Z.
    assert_eq!(
        gaps(&s, "2027-03-08T10:00:00Z", "2027-03-08T11:00:00Z"),
        [[
            "ann known=true",
            "Mon 17:30 Mon 18:00 [cho]",
            "Mon 18:00 Mon 19:00 []",
            "Mon 19:00 Mon 23:00 [cho]",
            "Mon 23:00 Tue 03:30 []",
            "Tue 03:30 Tue 09:00 [raj]",
        ]]
    );
    // Zed gave no hours: rota cannot tell, and says so.
    assert_eq!(
        gaps(&s, "2027-03-09T10:00:00Z", "2027-03-09T11:00:00Z"),
        [["zed known=false"]]
    );
    // Monday 2027-03-22: Chicago on summer time since the 14th (CDT), London not yet. Cho's
    // day is an hour earlier in UTC, so Ann's last half hour falls in Cho's lunch.
    assert_eq!(
        gaps(&s, "2027-03-22T10:00:00Z", "2027-03-22T11:00:00Z"),
        [[
            "ann known=true",
            "Mon 17:30 Mon 18:00 []",
            "Mon 18:00 Mon 22:00 [cho]",
            "Mon 22:00 Tue 03:30 []",
            "Tue 03:30 Tue 09:00 [raj]",
        ]]
    );
}

#[test]
fn someone_always_at_work_has_known_hours_and_covers_every_gap() {
    let rot = "[rotations.hero]\nmembers = [\"ann\", \"noc\"]\ntimezone = \"Europe/London\"\nstart = \"2027-03-08T09:00\"\nevery = \"1 day\"\n";
    let s = Schedule::load(&[("p.toml", PEOPLE), ("n.toml", NOC), ("r.toml", rot)]).unwrap();
    let c = s
        .coverage(
            "hero",
            utc("2027-03-08T10:00:00Z"),
            utc("2027-03-09T10:00:00Z"),
        )
        .unwrap();
    assert_eq!(c.len(), 2);
    assert!(
        c[0].gaps
            .iter()
            .all(|g| g.available.iter().any(|p| p.id == "noc")),
        "{:?}",
        c[0].gaps
    );
    assert!(c[1].hours_known && c[1].gaps.is_empty(), "{:?}", c[1]);
}

#[test]
fn hours_need_a_zone_and_valid_windows() {
    let e = Schedule::load(&[(
        "p.toml",
        "[people.a]\nname = \"A\"\nhours = \"Mon-Fri 09:00-17:00\"\n",
    )])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("people.a.hours: working hours are on the person's own clock"),
        "{e}"
    );
    let e = Schedule::load(&[("p.toml", "[people.a]\nname = \"A\"\ntimezone = \"UTC\"\nhours = [\"Mon-Fri 09:00-17:00\", \"Sun 9-5\"]\n")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("people.a.hours[1]: invalid window \"Sun 9-5\""),
        "{e}"
    );
    let e = Schedule::load(&[(
        "p.toml",
        "[people.a]\nname = \"A\"\ntimezone = \"UTC\"\nhours = []\n",
    )])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("people.a.hours: empty list of working hours"),
        "{e}"
    );
}
