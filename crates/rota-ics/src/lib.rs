//! rota-ics: RFC 5545 text for resolved shifts, shared by the service's calendar feeds and the
//! reminder emails' attachments, so both describe a shift the same way. Pure: no I/O, no clock.
//!
//! The text is written here directly, to RFC 5545 section 3.1: lines end with CRLF; a line longer
//! than 75 octets is folded (CRLF and one space) at a UTF-8 character boundary so that no line,
//! continuation space included, exceeds 75 octets; TEXT values escape `\\`, `;`, `,` and newlines
//! (`\n`) and drop other control characters. (The `icalendar` crate's writer was used first and
//! is correct, but it builds a property map per event and took ~7.8 µs an event, twice the budget
//! for a person's year-long feed; see BENCHMARKS.md. The golden files and the feed checks with
//! Python icalendar and khal hold this writer to the same output.)
//!
//! - `DTSTART`/`DTEND` are UTC instants and there is no `RRULE`: the resolved schedule is already
//!   concrete, and clients disagree about the end of a local-time week across a DST change.
//! - `UID` ([`uid`]) is `{rotation}-{slot}@rota` for a shift that starts at its slot's handoff (the
//!   usual case, and the case of a whole-shift swap, which keeps the UID and changes the person),
//!   and `{rotation}-{slot}-{start unix seconds}@rota` for the later pieces of a slot split by a
//!   partial override or link. The same slot keeps its UID across changes and reloads, and a
//!   reminder's attachment has the UID of the feed's event, so a client sees one event, not two.
//! - `DTSTAMP` is given by the caller: feeds use 00:00 UTC of the day they are generated
//!   ([`window`]), so the same schedule gives byte-identical feeds all day.
//! - `SEQUENCE` is not written (0): a feed is a published snapshot, not an invitation; clients that
//!   subscribe replace events by UID on every refresh.
//! - A feed has no `METHOD`: it is not an iTIP message (RFC 5546), and RFC 5545 section 3.7.2 ties
//!   `METHOD` to the MIME `method` parameter, which a feed served over HTTP does not have. (With
//!   `METHOD:PUBLISH`, iTIP requires an `ORGANIZER` in every event, and libical's restriction
//!   check rejected the feeds for lacking one.) Email attachments are iTIP messages: [`publish`].
//! - `TRANSP:TRANSPARENT`: an on-call week must not mark anyone busy.
//! - `SUMMARY` is `"{rotation name}: {person name}"`; `DESCRIPTION` says why ([`why`]).

use chrono::{DateTime, Duration, Utc};
use rota_core::{Schedule, Shift, Source};
use sha2::{Digest, Sha256};

/// Days before today a feed starts.
pub const DAYS_BACK: i64 = 30;
/// Days after today a feed ends.
pub const DAYS_AHEAD: i64 = 365;

/// The feed window for a feed generated at `now`: `(stamp, from, to)`, where `stamp` is 00:00 UTC of
/// `now`'s day, `from` is [`DAYS_BACK`] days before it and `to` [`DAYS_AHEAD`] days after.
pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    let day = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(now);
    (
        day,
        day - Duration::days(DAYS_BACK),
        day + Duration::days(DAYS_AHEAD),
    )
}

/// The calendar UID of a resolved shift (see the module doc).
pub fn uid(schedule: &Schedule, s: &Shift<'_>) -> String {
    let first = schedule
        .base_shift(&s.rotation.id, s.slot)
        .ok()
        .flatten()
        .is_none_or(|b| b.start == s.start);
    if first {
        format!("{}-{}@rota", s.rotation.id, s.slot)
    } else {
        format!("{}-{}-{}@rota", s.rotation.id, s.slot, s.start.timestamp())
    }
}

/// Why the person is on call, in words: "their turn in the rotation", "linked: ...", "override: REASON".
/// A link names the rotation it comes from by its name, as people know it, not by its id.
pub fn why(schedule: &Schedule, s: &Shift<'_>) -> String {
    match s.source {
        Source::Rotation => "their turn in the rotation".to_string(),
        Source::Link(l) => format!(
            "linked: on call in {} and a member of this rotation's team",
            schedule
                .rotation(&l.from)
                .map_or(l.from.as_str(), |r| r.name.as_str())
        ),
        Source::Override(o) => match &o.reason {
            Some(r) => format!("override: {r}"),
            None => "override".to_string(),
        },
    }
}

/// One calendar event, owned, so it can outlive the schedule it was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The UID.
    pub uid: String,
    /// First instant on call.
    pub start: DateTime<Utc>,
    /// First instant no longer on call.
    pub end: DateTime<Utc>,
    /// `"{rotation name}: {person name}"`.
    pub summary: String,
    /// `"{person} is on call in {rotation} ({why})."`
    pub description: String,
}

impl Event {
    /// An event from its parts: names and the reason in words.
    pub fn new(
        uid: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        rotation_name: &str,
        person_name: &str,
        why: &str,
    ) -> Event {
        Event {
            uid,
            start,
            end,
            summary: format!("{rotation_name}: {person_name}"),
            description: format!("{person_name} is on call in {rotation_name} ({why})."),
        }
    }

    /// The event of a resolved shift.
    pub fn of(schedule: &Schedule, s: &Shift<'_>) -> Event {
        Event::new(
            uid(schedule, s),
            s.start,
            s.end,
            &s.rotation.name,
            &s.person.name,
            &why(schedule, s),
        )
    }
}

/// Appends one content line, folded at 75 octets on character boundaries, ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut rest = content;
    let mut limit = 75;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = 74; // the continuation line's leading space counts
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

/// Whether `value` has a character that TEXT escaping changes: `\\ ; ,`, newline, or a control
/// character other than tab. Scans bytes; any `0xC2` byte counts, because the C1 controls
/// (U+0080 to U+009F) are `0xC2 0x80..=0x9F` in UTF-8 (a false alarm only costs the slow path).
fn needs_escaping(value: &str) -> bool {
    value
        .bytes()
        .any(|b| matches!(b, b'\\' | b';' | b',' | 0..=0x08 | 0x0a..=0x1f | 0x7f | 0xc2))
}

/// Appends `NAME:value` with the value escaped as RFC 5545 TEXT.
fn text(out: &mut String, scratch: &mut String, name: &str, value: &str) {
    scratch.clear();
    scratch.push_str(name);
    scratch.push(':');
    // Names and reasons rarely need escaping: copy them whole then (escaping char by char was
    // about an eighth of a feed's rendering time).
    if !needs_escaping(value) {
        scratch.push_str(value);
        line(out, scratch);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => scratch.push_str("\\\\"),
            ';' => scratch.push_str("\\;"),
            ',' => scratch.push_str("\\,"),
            '\n' => scratch.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => scratch.push(c),
        }
    }
    line(out, scratch);
}

/// Appends `n` as exactly `width` decimal digits (`n` fits: callers pass calendar fields).
fn digits(out: &mut String, n: u32, width: u32) {
    for i in (0..width).rev() {
        let d = (n / 10u32.pow(i)) % 10;
        out.push(char::from(b'0' + d as u8));
    }
}

/// Appends `NAME:20261102T090000Z`. Written digit by digit: chrono's `format` re-parses its format
/// string on every call, which was about a quarter of a feed's rendering time.
fn utc(out: &mut String, name: &str, t: DateTime<Utc>) {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    // RFC 5545 DATE-TIME has a four-digit year; rota's instants are within years 1 to 9999, so
    // this fallback (chrono's own rendering) is never taken in practice.
    if !(0..=9999).contains(&year) {
        line(out, &format!("{name}:{}", t.format("%Y%m%dT%H%M%SZ")));
        return;
    }
    // "DTSTART:" and 16 characters: always shorter than a folded line, so no folding.
    out.push_str(name);
    out.push(':');
    digits(out, year as u32, 4);
    digits(out, t.month(), 2);
    digits(out, t.day(), 2);
    out.push('T');
    digits(out, t.hour(), 2);
    digits(out, t.minute(), 2);
    digits(out, t.second(), 2);
    out.push_str("Z\r\n");
}

/// A calendar of `events`, stamped `stamp`. A `name` makes it a subscribable feed (calendar name,
/// hourly refresh hint); without one it is a plain attachment.
pub fn calendar(name: Option<&str>, stamp: DateTime<Utc>, events: &[Event]) -> String {
    let mut out = String::with_capacity(512 + events.len() * 400);
    let mut scratch = String::with_capacity(256);
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//rota//rota on-call schedule//EN",
        "CALSCALE:GREGORIAN",
    ] {
        line(&mut out, l);
    }
    if let Some(name) = name {
        text(&mut out, &mut scratch, "X-WR-CALNAME", name);
        line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
        line(&mut out, "X-PUBLISHED-TTL:PT1H");
    }
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        text(&mut out, &mut scratch, "DESCRIPTION", &e.description);
        utc(&mut out, "DTEND", e.end);
        utc(&mut out, "DTSTAMP", stamp);
        utc(&mut out, "DTSTART", e.start);
        text(&mut out, &mut scratch, "SUMMARY", &e.summary);
        line(&mut out, "TRANSP:TRANSPARENT");
        text(&mut out, &mut scratch, "UID", &e.uid);
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// An event's status in an iTIP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The shift is (still) theirs, at these times.
    Confirmed,
    /// The shift is no longer theirs: calendars that have the UID mark it cancelled.
    Cancelled,
}

/// An iTIP `METHOD:PUBLISH` message (RFC 5546 section 3.2.1) of `events`, for an email attachment:
/// each `VEVENT` carries what PUBLISH requires (`DTSTAMP`, `DTSTART`, `ORGANIZER`, `SUMMARY`,
/// `UID`), `SEQUENCE` (present, as it must be when above 0) and `STATUS`, and no `ATTENDEE` (which
/// PUBLISH forbids). `organizer` is `(name, email address)`: the sender. A later message about the
/// same UID must have a higher `sequence` for calendars to take it as an update.
///
/// PUBLISH rather than CANCEL for a cancelled event: the event was published (there are no
/// attendees to uninvite), PUBLISH allows `STATUS:CANCELLED`, and one message can then carry both
/// moved and cancelled shifts.
pub fn publish(
    organizer: (&str, &str),
    stamp: DateTime<Utc>,
    sequence: u32,
    events: &[(Event, Status)],
) -> String {
    let mut out = String::with_capacity(512 + events.len() * 500);
    let mut scratch = String::with_capacity(256);
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//rota//rota on-call schedule//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        line(&mut out, l);
    }
    // A quoted parameter value may hold anything but DQUOTE and control characters.
    let cn: String = organizer
        .0
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    let address: String = organizer
        .1
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect();
    let organizer = format!("ORGANIZER;CN=\"{cn}\":mailto:{address}");
    for (e, status) in events {
        line(&mut out, "BEGIN:VEVENT");
        text(&mut out, &mut scratch, "DESCRIPTION", &e.description);
        utc(&mut out, "DTEND", e.end);
        utc(&mut out, "DTSTAMP", stamp);
        utc(&mut out, "DTSTART", e.start);
        line(&mut out, &organizer);
        line(&mut out, &format!("SEQUENCE:{sequence}"));
        line(
            &mut out,
            match status {
                Status::Confirmed => "STATUS:CONFIRMED",
                Status::Cancelled => "STATUS:CANCELLED",
            },
        );
        text(&mut out, &mut scratch, "SUMMARY", &e.summary);
        line(&mut out, "TRANSP:TRANSPARENT");
        text(&mut out, &mut scratch, "UID", &e.uid);
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// A feed named `name` of resolved shifts, stamped `stamp`.
pub fn render(
    schedule: &Schedule,
    name: &str,
    shifts: &[Shift<'_>],
    stamp: DateTime<Utc>,
) -> String {
    let events: Vec<Event> = shifts.iter().map(|s| Event::of(schedule, s)).collect();
    calendar(Some(name), stamp, &events)
}

/// A strong ETag for a body.
pub fn etag(body: &str) -> String {
    let h = Sha256::digest(body.as_bytes());
    let hex: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_every_line_within_75_octets_and_unfolds_to_the_original() {
        for content in [
            "x".repeat(74),
            "x".repeat(75),
            "x".repeat(76),
            "é".repeat(100),
            format!("A{}", "☃".repeat(60)),
            "ab".repeat(300),
        ] {
            let mut out = String::new();
            line(&mut out, &content);
            assert!(out.ends_with("\r\n"));
            for l in out.trim_end_matches("\r\n").split("\r\n") {
                assert!(l.len() <= 75, "{} octets: {l:?}", l.len());
            }
            assert_eq!(out.trim_end_matches("\r\n").replace("\r\n ", ""), content);
        }
    }

    #[test]
    fn feeds_have_no_method_and_publish_has_what_itip_requires() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let e = Event::new(
            "r-1@rota".into(),
            t("2026-11-30T09:00:00Z"),
            t("2026-12-07T09:00:00Z"),
            "Support Hero",
            "Bob",
            "their turn in the rotation",
        );
        let feed = calendar(
            Some("Support Hero"),
            t("2026-11-30T00:00:00Z"),
            std::slice::from_ref(&e),
        );
        assert!(!feed.contains("METHOD"), "{feed}");
        assert!(!feed.contains("ORGANIZER"), "{feed}");
        let msg = publish(
            ("Rota \"bot\"", "rota@example.com"),
            t("2026-11-28T12:00:00Z"),
            7,
            &[(e.clone(), Status::Confirmed), (e, Status::Cancelled)],
        );
        assert!(msg.contains("\r\nMETHOD:PUBLISH\r\n"), "{msg}");
        for ev in msg.split("BEGIN:VEVENT").skip(1) {
            for p in [
                "\r\nDTSTAMP:20261128T120000Z\r\n",
                "\r\nDTSTART:20261130T090000Z\r\n",
                // The name's quotes are dropped: a quoted parameter value cannot hold them.
                "\r\nORGANIZER;CN=\"Rota bot\":mailto:rota@example.com\r\n",
                "\r\nSEQUENCE:7\r\n",
                "\r\nSUMMARY:Support Hero: Bob\r\n",
                "\r\nUID:r-1@rota\r\n",
            ] {
                assert!(ev.contains(p), "no {p:?} in {ev}");
            }
            assert!(!ev.contains("ATTENDEE"), "PUBLISH forbids attendees: {ev}");
        }
        assert_eq!(msg.matches("STATUS:CONFIRMED").count(), 1);
        assert_eq!(msg.matches("STATUS:CANCELLED").count(), 1);
    }

    #[test]
    fn text_is_escaped() {
        let (mut out, mut scratch) = (String::new(), String::new());
        text(&mut out, &mut scratch, "SUMMARY", "a\\b;c,d\ne\u{7}f");
        assert_eq!(out, "SUMMARY:a\\\\b\\;c\\,d\\ne f\r\n".replace(' ', ""));
    }

    #[test]
    fn utc_writes_what_chrono_formats() {
        let mut instants: Vec<DateTime<Utc>> = [
            "0001-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2026-11-02T09:00:00Z",
            "2028-02-29T23:59:59Z",
            "9999-12-31T23:59:59Z",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        // And a spread of instants across the years, odd seconds included.
        instants.extend(
            (0..2000)
                .map(|i| DateTime::from_timestamp(-62_135_596_800 + i * 157_784_631, 0).unwrap()),
        );
        for t in instants {
            let mut out = String::new();
            utc(&mut out, "DTSTART", t);
            assert_eq!(
                out,
                format!("DTSTART:{}\r\n", t.format("%Y%m%dT%H%M%SZ")),
                "{t}"
            );
        }
    }

    #[test]
    fn fast_path_escapes_exactly_like_the_slow_path() {
        fn slow(value: &str) -> String {
            let mut s = String::from("X:");
            for c in value.chars() {
                match c {
                    '\\' => s.push_str("\\\\"),
                    ';' => s.push_str("\\;"),
                    ',' => s.push_str("\\,"),
                    '\n' => s.push_str("\\n"),
                    c if c.is_control() && c != '\t' => {}
                    c => s.push(c),
                }
            }
            let mut out = String::new();
            line(&mut out, &s);
            out
        }
        let pieces = [
            "Support Hero: Alice Smith",
            "é",
            "\u{85}",
            "\u{9f}",
            "\u{a0}",
            "\u{c2}",
            "\t",
            "\n",
            "\r",
            "\u{7f}",
            ";",
            ",",
            "\\",
            "☃",
            "x",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let v = format!("{a}{b}{c}");
                    let (mut out, mut scratch) = (String::new(), String::new());
                    text(&mut out, &mut scratch, "X", &v);
                    assert_eq!(out, slow(&v), "{v:?}");
                }
            }
        }
    }
}
