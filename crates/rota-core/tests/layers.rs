//! Layers: several orders in one rotation, the last layer with someone on call winning.
//!
//! - A weekday layer with a weekend layer over it, and follow-the-sun across the weeks when the
//!   US and the EU change their clocks on different Sundays.
//! - Slot numbers: a layer without an id keeps a plain rotation's numbers; adding a layer with
//!   an id renumbers nothing.
//! - Overrides and links over layered rotations; the loader's checks.
//! - Properties against a model built from the layers as separate one-layer rotations (each
//!   already checked by the time tables and properties of the other suites): at every probe, the
//!   layered rotation has the last layer's person that has one, in that layer's slot.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{ZONES, people_toml, show_all, utc};
use proptest::prelude::*;
use rota_core::{Override, Schedule};

const TAG_BITS: u32 = 40;

fn load(text: &str) -> Schedule {
    let people = people_toml(&["a", "b", "c", "d", "e", "f"]);
    Schedule::load(&[("people.toml", &people), ("r.toml", text)])
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

const WEEKDAYS_AND_WEEKEND: &str = r#"
[rotations.r]
name = "Primary"
timezone = "Europe/London"
[[rotations.r.layers]]
members = ["a", "b", "c"]
start = "2027-03-01T09:00"
every = "1 week"
[[rotations.r.layers]]
id = "weekend"
members = ["d", "e"]
start = "2027-03-05T17:00"
every = "1 week"
active = ["Fri 17:00-Mon 09:00"]
"#;

#[test]
fn a_higher_layer_wins_where_it_has_someone_on_call() {
    let s = load(WEEKDAYS_AND_WEEKEND);
    let who = |t: &str| {
        let x = s.on_call("r", utc(t)).unwrap().unwrap();
        (x.person.id.clone(), x.slot, x.start, x.end)
    };
    // Wednesday: the weekday layer's first week, slot 0 as in a plain rotation.
    assert_eq!(
        who("2027-03-03T12:00:00Z"),
        (
            "a".into(),
            0,
            utc("2027-03-01T09:00:00Z"),
            utc("2027-03-05T17:00:00Z")
        )
    );
    // Saturday: the weekend layer, its slot numbered from its id's tag.
    let (p, wslot, start, end) = who("2027-03-06T12:00:00Z");
    assert_eq!(
        (p.as_str(), start, end),
        (
            "d",
            utc("2027-03-05T17:00:00Z"),
            utc("2027-03-08T09:00:00Z")
        )
    );
    assert_ne!(wslot >> TAG_BITS, 0);
    assert_eq!(wslot & ((1 << TAG_BITS) - 1), 0);
    // The next week, across the change to summer time on 28 March: 09:00 BST is 08:00Z.
    let (p, slot, start, end) = who("2027-03-29T12:00:00Z");
    assert_eq!(
        (p.as_str(), slot, start, end),
        (
            "b",
            4,
            utc("2027-03-29T08:00:00Z"),
            utc("2027-04-02T16:00:00Z")
        )
    );
    let week = s
        .shifts(
            "r",
            utc("2027-03-08T09:00:00Z"),
            utc("2027-03-15T09:00:00Z"),
        )
        .unwrap();
    let got: Vec<String> = week
        .iter()
        .map(|x| format!("{} {}", x.person.id, x.start.format("%a %H:%M")))
        .collect();
    assert_eq!(got, ["b Mon 09:00", "e Fri 17:00"], "{}", show_all(&week));
    // base_shift of a weekday slot is the part its layer holds: Monday 09:00 to Friday 17:00.
    let base = s.base_shift("r", 1).unwrap().unwrap();
    assert_eq!(
        (base.start, base.end),
        (utc("2027-03-08T09:00:00Z"), utc("2027-03-12T17:00:00Z"))
    );
    let weekend = s.base_shift("r", wslot + 1).unwrap().unwrap();
    assert_eq!(
        (weekend.person.id.as_str(), weekend.start),
        ("e", utc("2027-03-12T17:00:00Z"))
    );
}

#[test]
fn follow_the_sun_hands_over_by_each_zones_own_clock() {
    let s = load(
        r#"
[rotations.r]
timezone = "Europe/London"
[[rotations.r.layers]]
id = "emea"
members = ["a", "b"]
start = "2027-03-01T08:00"
every = "1 week"
active = ["08:00-20:00"]
[[rotations.r.layers]]
id = "amer"
timezone = "America/Chicago"
members = ["c", "d"]
start = "2027-03-01T08:00"
every = "1 week"
active = ["08:00-20:00"]
"#,
    );
    let who = |t: &str| s.on_call("r", utc(t)).unwrap().map(|x| x.person.id.clone());
    // 2027-03-10: both on standard time. Chicago opens at 14:00Z and wins (listed last).
    assert_eq!(who("2027-03-10T13:59:00Z").as_deref(), Some("b"));
    assert_eq!(who("2027-03-10T14:00:00Z").as_deref(), Some("d"));
    assert_eq!(who("2027-03-11T01:59:00Z").as_deref(), Some("d"));
    assert_eq!(who("2027-03-11T02:00:00Z"), None); // 20:00 CST: nobody until 08:00 GMT
    // 2027-03-17: Chicago on summer time (since 14 March), London not yet.
    assert_eq!(who("2027-03-17T12:59:00Z").as_deref(), Some("a")); // the third week
    assert_eq!(who("2027-03-17T13:00:00Z").as_deref(), Some("c"));
    assert_eq!(who("2027-03-18T01:00:00Z"), None);
    // 2027-03-31: both on summer time; London opens at 07:00Z.
    assert_eq!(who("2027-03-31T06:59:00Z"), None);
    assert_eq!(who("2027-03-31T07:00:00Z").as_deref(), Some("a"));
}

#[test]
fn adding_a_layer_renumbers_nothing_and_one_layer_is_a_plain_rotation() {
    let plain = load(
        "[rotations.r]\nmembers = [\"a\", \"b\", \"c\"]\ntimezone = \"Australia/Lord_Howe\"\nstart = \"2026-10-01T09:00\"\nevery = \"3 days\"\nactive = [\"Mon-Fri 09:00-17:00\"]\nadvance = \"when-active\"\n",
    );
    let one = load(
        "[rotations.r]\n[[rotations.r.layers]]\nmembers = [\"a\", \"b\", \"c\"]\ntimezone = \"Australia/Lord_Howe\"\nstart = \"2026-10-01T09:00\"\nevery = \"3 days\"\nactive = [\"Mon-Fri 09:00-17:00\"]\nadvance = \"when-active\"\n",
    );
    let two = load(
        "[rotations.r]\n[[rotations.r.layers]]\nmembers = [\"a\", \"b\", \"c\"]\ntimezone = \"Australia/Lord_Howe\"\nstart = \"2026-10-01T09:00\"\nevery = \"3 days\"\nactive = [\"Mon-Fri 09:00-17:00\"]\nadvance = \"when-active\"\n\
         [[rotations.r.layers]]\nid = \"fridays\"\nmembers = [\"f\"]\ntimezone = \"Australia/Lord_Howe\"\nstart = \"2026-10-02T09:00\"\nevery = \"1 week\"\nactive = [\"Fri 12:00-17:00\"]\n",
    );
    let (from, to) = (utc("2026-10-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
    let p = plain.shifts("r", from, to).unwrap();
    assert_eq!(p, one.shifts("r", from, to).unwrap());
    let t = two.shifts("r", from, to).unwrap();
    assert!(t.iter().any(|x| x.person.id == "f"));
    // Every shift of the first layer in `two` is a piece of the same slot, same person, in `plain`.
    for x in t.iter().filter(|x| x.person.id != "f") {
        let inside = p.iter().any(|y| {
            y.slot == x.slot && y.person.id == x.person.id && y.start <= x.start && x.end <= y.end
        });
        assert!(inside, "{x:?} is no piece of the plain rotation's slot");
    }
}

#[test]
fn overrides_and_links_work_on_layered_rotations() {
    let text = format!(
        "[teams.t]\nname = \"T\"\n{WEEKDAYS_AND_WEEKEND}team = \"t\"\n\
         [rotations.hero]\nmembers = [\"f\"]\ntimezone = \"Europe/London\"\nstart = \"2027-03-01T09:00\"\nevery = \"1 week\"\n\
         [[links]]\nfrom = \"hero\"\nto = [\"r\"]\n"
    );
    // `team` after the layers belongs to the last layer table in TOML: put it first instead.
    let text = text.replace(
        "[rotations.r]\nname = \"Primary\"",
        "[rotations.r]\nname = \"Primary\"\nteam = \"t\"",
    );
    let text = text.replace(
        "active = [\"Fri 17:00-Mon 09:00\"]\nteam = \"t\"",
        "active = [\"Fri 17:00-Mon 09:00\"]",
    );
    let people = "[people.a]\nname = \"A\"\n[people.b]\nname = \"B\"\n[people.c]\nname = \"C\"\n[people.d]\nname = \"D\"\n[people.e]\nname = \"E\"\n[people.f]\nname = \"F\"\nteam = \"t\"\n";
    let s = Schedule::load(&[("p.toml", people), ("r.toml", &text)])
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    // The hero F is linked over both layers.
    for t in ["2027-03-03T12:00:00Z", "2027-03-06T12:00:00Z"] {
        let x = s.on_call("r", utc(t)).unwrap().unwrap();
        assert_eq!(
            (x.person.id.as_str(), x.source.as_str()),
            ("f", "link"),
            "{t}"
        );
    }
    let o = Override {
        id: "o".into(),
        rotation: "r".into(),
        person: "c".into(),
        start: utc("2027-03-05T12:00:00Z"),
        end: utc("2027-03-06T12:00:00Z"),
        reason: None,
    };
    let s = s.with_overrides([o]).unwrap();
    let v = s
        .shifts(
            "r",
            utc("2027-03-05T00:00:00Z"),
            utc("2027-03-07T00:00:00Z"),
        )
        .unwrap();
    let got: Vec<String> = v
        .iter()
        .map(|x| {
            format!(
                "{} {} {}",
                x.person.id,
                x.source.as_str(),
                x.start.format("%a %H:%M")
            )
        })
        .collect();
    // The override is cut at the layers' boundary (Friday 17:00): each piece keeps its slot.
    assert_eq!(
        got,
        [
            "f link Mon 09:00",
            "c override Fri 12:00",
            "c override Fri 17:00",
            "f link Sat 12:00"
        ],
        "{}",
        show_all(&v)
    );
    assert_ne!(v[1].slot, v[2].slot);
}

#[test]
fn layer_problems_are_reported_where_they_are_written() {
    let bad = |text: &str| {
        let people = people_toml(&["a", "b"]);
        Schedule::load(&[("p.toml", &people), ("r.toml", text)])
            .unwrap_err()
            .to_string()
    };
    let layer = "members = [\"a\"]\ntimezone = \"Europe/London\"\nstart = \"2027-01-04T09:00\"\nevery = \"1 week\"\n";
    let e = bad(&format!(
        "[rotations.r]\n[[rotations.r.layers]]\n{layer}[[rotations.r.layers]]\n{layer}"
    ));
    assert!(
        e.contains("rotations.r.layers[1]: at most one layer may go without an `id`"),
        "{e}"
    );
    let e = bad(&format!(
        "[rotations.r]\n[[rotations.r.layers]]\nid = \"x\"\n{layer}[[rotations.r.layers]]\nid = \"x\"\n{layer}"
    ));
    assert!(
        e.contains("rotations.r.layers[1].id: duplicate layer id \"x\""),
        "{e}"
    );
    let e = bad(&format!(
        "[rotations.r]\nmembers = [\"a\"]\n[[rotations.r.layers]]\n{layer}"
    ));
    assert!(
        e.contains("rotations.r.members: a rotation with `layers` gives `members` in each layer"),
        "{e}"
    );
    let e = bad(&format!(
        "[rotations.r]\n[[rotations.r.layers]]\n{}",
        layer.replace("\"a\"", "\"zed\"")
    ));
    assert!(
        e.contains("rotations.r.layers[0].members[0]: unknown person \"zed\""),
        "{e}"
    );
    let e = bad("[rotations.r]\nlayers = []\n");
    assert!(
        e.contains("rotations.r.layers: empty list of layers"),
        "{e}"
    );
    // An hourly layer under one with 10,000-week shifts: each lookup would walk 1.7 million slots.
    let e = bad(&format!(
        "[rotations.r]\n[[rotations.r.layers]]\n{}[[rotations.r.layers]]\nid = \"long\"\n{}",
        layer.replace("1 week", "1 hour"),
        layer.replace("1 week", "10000 weeks")
    ));
    assert!(
        e.contains("rotations.r.layers: the layers' shifts differ too much in length"),
        "{e}"
    );
    let e = bad(&format!(
        "[rotations.r]\n[[rotations.r.layers]]\nid = \"a b\"\n{layer}"
    ));
    assert!(
        e.contains("rotations.r.layers[0].id: invalid layer id"),
        "{e}"
    );
}

// ---- properties ----

#[derive(Clone, Debug)]
struct L {
    zone: &'static str,
    start: String,
    cadence: &'static str,
    window: Option<&'static str>,
    members: Vec<&'static str>,
}

impl L {
    fn body(&self) -> String {
        let mut b = format!(
            "members = {:?}\ntimezone = \"{}\"\nstart = \"{}\"\n{}\n",
            self.members, self.zone, self.start, self.cadence
        );
        if let Some(w) = self.window {
            b.push_str(&format!("active = [{w:?}]\n"));
        }
        b
    }
}

fn layer() -> impl Strategy<Value = L> {
    (
        prop::sample::select(ZONES.to_vec()),
        (0i64..60, 0i64..24),
        prop::sample::select(vec![
            "every = \"1 week\"",
            "every = \"1 day\"",
            "every = \"8 hours\"",
            "every = \"2 weeks\"",
        ]),
        prop::option::of(prop::sample::select(vec![
            "Mon-Fri 09:00-17:00",
            "22:00-06:00",
            "Fri 17:00-Mon 09:00",
            "Sat-Sun 00:00-24:00",
            "12:00-13:30",
        ])),
        prop::collection::vec(
            prop::sample::select(vec!["a", "b", "c", "d", "e", "f"]),
            1..=3,
        ),
    )
        .prop_map(|(zone, (d, h), cadence, window, members)| L {
            zone,
            start: (chrono::NaiveDate::from_ymd_opt(2026, 9, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                + TimeDelta::days(d)
                + TimeDelta::hours(h))
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
            cadence,
            window,
            members,
        })
}

fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    /// At every probe the layered rotation's person and slot are the last layer's that has someone
    /// on call (each layer resolved as a rotation of its own); shifts never overlap, `on_call`
    /// agrees with `shifts`, and two halves resolve as the whole.
    #[test]
    fn the_last_layer_with_someone_on_call_wins(
        layers in prop::collection::vec(layer(), 2..=3),
        offset_h in 0i64..24 * 120,
        len_h in 1i64..24 * 10,
        probes in prop::collection::vec(0.0f64..1.0, 24),
    ) {
        let mut text = "[rotations.r]\n".to_string();
        for (i, l) in layers.iter().enumerate() {
            text.push_str(&format!("[[rotations.r.layers]]\nid = \"l{i}\"\n{}", l.body()));
        }
        for (i, l) in layers.iter().enumerate() {
            text.push_str(&format!("[rotations.l{i}]\n{}", l.body()));
        }
        let s = load(&text);
        let from = utc("2026-09-01T00:00:00Z") + TimeDelta::hours(offset_h);
        let to = from + TimeDelta::hours(len_h);
        let v = s.shifts("r", from, to).unwrap();
        for w in v.windows(2) {
            prop_assert!(w[0].end <= w[1].start, "overlap\n{}", show_all(&v));
        }
        let low = |slot: u64| slot & ((1 << TAG_BITS) - 1);
        for p in &probes {
            let t: DateTime<Utc> = from + TimeDelta::seconds(((to - from).num_seconds() as f64 * p) as i64);
            let want = (0..layers.len()).rev().find_map(|i| s.on_call(&format!("l{i}"), t).unwrap().map(|x| (i, x)));
            let got = s.on_call("r", t).unwrap();
            prop_assert_eq!(got.map(|x| x.person.id.clone()), want.as_ref().map(|(_, x)| x.person.id.clone()), "at {}\n{}", t, text);
            if let (Some(g), Some((i, w))) = (got, &want) {
                prop_assert_eq!(low(g.slot), w.slot, "slot at {}", t);
                // The layer's tag is the same for all of its shifts.
                let other = s.shifts("r", g.start, g.end).unwrap();
                prop_assert!(other.iter().all(|o| o.slot >> TAG_BITS != g.slot >> TAG_BITS || low(o.slot) == low(g.slot) || o.start != g.start), "{i}");
            }
            let listed = v.iter().find(|x| x.contains(t));
            prop_assert_eq!(got.map(|x| (x.start, x.end, x.slot)), listed.map(|x| (x.start, x.end, x.slot)), "at {}", t);
        }
        let mid = from + (to - from) / 2;
        let mut halves = s.shifts("r", from, mid).unwrap();
        for sh in s.shifts("r", mid, to).unwrap() {
            if halves.last() != Some(&sh) {
                halves.push(sh);
            }
        }
        prop_assert!(halves == v, "halves differ\n{}\n--\n{}", show_all(&halves), show_all(&v));
    }
}
