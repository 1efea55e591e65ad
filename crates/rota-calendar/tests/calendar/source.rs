//! Sources: files and URLs, fetched from a scripted HTTP server on 127.0.0.1, keeping the last
//! good copy through every kind of failure, and never showing a secret URL.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{fixture, utc};
use rota_calendar::{ErrorKind, Fetcher, Location, Source};

/// A server that answers one scripted response per connection, records each request's head,
/// and stops listening when the script is done.
struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    handle: JoinHandle<()>,
}

impl Server {
    fn start(addr: &str, script: Vec<String>) -> Server {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let handle = std::thread::spawn(move || {
            for response in script {
                let (mut stream, _) = listener.accept().unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                stream.write_all(response.as_bytes()).unwrap();
            }
            // The listener is dropped here: later connections are refused.
        });
        Server {
            addr,
            requests,
            handle,
        }
    }

    fn finish(self) -> Vec<String> {
        self.handle.join().unwrap();
        Arc::try_unwrap(self.requests)
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

fn response(status: &str, headers: &[&str], body: &str) -> String {
    let mut r = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    r
}

fn header<'a>(request: &'a str, name: &str) -> Option<&'a str> {
    request.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

const TOKEN: &str = "private-5ecr3t0123456789abcdef";

fn secret_url(addr: SocketAddr) -> String {
    format!("http://{addr}/calendar/ical/alice%40example.com/{TOKEN}/basic.ics?key=hunter2")
}

/// Nothing shown about the source may contain the URL's path or query.
fn assert_redacted(source: &Source, addr: SocketAddr) {
    let status = source.status();
    assert_eq!(status.location, format!("http://{addr}/…"));
    let shown = format!(
        "{status:?} {:?}",
        source.last_error().map(|e| e.to_string())
    );
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("alice%40example.com"), "{shown}");
}

#[test]
fn url_source_keeps_the_last_good_copy_through_failures() {
    let google = fixture("google.ics");
    let holidays = fixture("holidays.ics");
    let server = Server::start(
        "127.0.0.1:0",
        vec![
            response(
                "200 OK",
                &[
                    "ETag: \"v1\"",
                    "Last-Modified: Tue, 15 Sep 2026 10:15:00 GMT",
                    "Content-Type: text/calendar; charset=UTF-8",
                ],
                &google,
            ),
            response("304 Not Modified", &["ETag: \"v1\""], ""),
            response("500 Internal Server Error", &[], "oops"),
            response(
                "200 OK",
                &["ETag: \"broken\""],
                "<html><body>Sign in to continue</body></html>",
            ),
        ],
    );
    let addr = server.addr;
    let fetcher = Fetcher::with_limits(Duration::from_secs(2), Duration::from_secs(10), 1 << 20);
    let mut source = Source::new(Location::parse(&secret_url(addr), Path::new("/")).unwrap());
    assert!(!source.status().ok, "nothing fetched yet");

    // 1: 200 with an ETag.
    source.refresh(&fetcher, utc("2026-10-01"));
    let status = source.status();
    assert!(status.ok, "{status:?}");
    assert_eq!(status.events, 6);
    assert_eq!(status.last_success, Some(utc("2026-10-01")));
    let first = Arc::clone(source.calendar().unwrap());
    assert_redacted(&source, addr);

    // 2: conditional request, 304: the same copy, and a success.
    source.refresh(&fetcher, utc("2026-10-02"));
    let status = source.status();
    assert!(status.ok, "{status:?}");
    assert_eq!(status.last_success, Some(utc("2026-10-02")));
    assert!(Arc::ptr_eq(source.calendar().unwrap(), &first));

    // 3: 500: not ok, the error says 500, the copy is kept.
    source.refresh(&fetcher, utc("2026-10-03"));
    let status = source.status();
    assert!(!status.ok);
    assert_eq!(status.last_success, Some(utc("2026-10-02")));
    assert_eq!(status.last_attempt, Some(utc("2026-10-03")));
    let err = status.last_error.clone().unwrap();
    assert!(err.contains("500"), "{err}");
    assert!(matches!(
        source.last_error().unwrap().kind(),
        ErrorKind::Fetch {
            status: Some(500),
            ..
        }
    ));
    assert!(Arc::ptr_eq(source.calendar().unwrap(), &first));
    assert_eq!(status.events, 6);
    assert_redacted(&source, addr);

    // 4: 200 with a body that is not a calendar: the parse error is reported, the copy kept.
    source.refresh(&fetcher, utc("2026-10-04"));
    let status = source.status();
    assert!(!status.ok);
    let err = status.last_error.clone().unwrap();
    assert!(
        err.starts_with(&format!(
            "invalid calendar http://{addr}/… at line 1, column 1: expected BEGIN:VCALENDAR"
        )),
        "{err}"
    );
    assert!(Arc::ptr_eq(source.calendar().unwrap(), &first));
    assert_redacted(&source, addr);

    let requests = server.finish();
    assert_eq!(requests.len(), 4);
    assert!(
        requests[0].starts_with("GET /calendar/ical/alice%40example.com/"),
        "{}",
        requests[0]
    );
    let agent = header(&requests[0], "User-Agent").unwrap();
    assert!(agent.starts_with("rota/"), "{agent}");
    assert_eq!(header(&requests[0], "If-None-Match"), None);
    assert_eq!(header(&requests[1], "If-None-Match"), Some("\"v1\""));
    assert_eq!(
        header(&requests[1], "If-Modified-Since"),
        Some("Tue, 15 Sep 2026 10:15:00 GMT")
    );
    // The broken body's ETag was not kept: the next request still asks about v1.
    assert_eq!(header(&requests[3], "If-None-Match"), Some("\"v1\""));

    // 5: nothing listens any more: connection refused, the copy kept.
    source.refresh(&fetcher, utc("2026-10-05"));
    let status = source.status();
    assert!(!status.ok);
    assert!(status.last_error.is_some());
    assert!(Arc::ptr_eq(source.calendar().unwrap(), &first));
    assert_redacted(&source, addr);

    // 6: the server is back with new content: a new calendar, ok again.
    let server = Server::start(
        &addr.to_string(),
        vec![response("200 OK", &["ETag: \"v2\""], &holidays)],
    );
    source.refresh(&fetcher, utc("2026-10-06"));
    let status = source.status();
    assert!(status.ok, "{status:?}");
    assert_eq!(status.last_error, None);
    assert_eq!(status.events, 16);
    assert!(!Arc::ptr_eq(source.calendar().unwrap(), &first));
    let requests = server.finish();
    assert_eq!(header(&requests[0], "If-None-Match"), Some("\"v1\""));
}

#[test]
fn body_over_the_limit_is_an_error() {
    let big = format!(
        "BEGIN:VCALENDAR\r\n{}END:VCALENDAR\r\n",
        "X-PAD:aaaaaaaaaaaaaaaa\r\n".repeat(200)
    );
    let server = Server::start("127.0.0.1:0", vec![response("200 OK", &[], &big)]);
    let fetcher = Fetcher::with_limits(Duration::from_secs(2), Duration::from_secs(10), 1024);
    let mut source =
        Source::new(Location::parse(&secret_url(server.addr), Path::new("/")).unwrap());
    source.refresh(&fetcher, utc("2026-10-01"));
    let err = source.status().last_error.unwrap();
    assert!(err.contains("larger than 1024 bytes"), "{err}");
    assert!(source.calendar().is_none());
    assert_redacted(&source, server.addr);
    server.finish();
}

#[test]
fn file_sources() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut ok = Source::new(Location::parse("fixtures/apple.ics", &dir).unwrap());
    ok.refresh(&Fetcher::new(), utc("2026-10-01"));
    let status = ok.status();
    assert!(status.ok, "{status:?}");
    assert_eq!(status.events, 6);
    assert_eq!(
        status.location,
        dir.join("fixtures/apple.ics").display().to_string()
    );

    let mut missing = Source::new(Location::parse("fixtures/nope.ics", &dir).unwrap());
    missing.refresh(&Fetcher::new(), utc("2026-10-01"));
    let status = missing.status();
    assert!(!status.ok);
    let err = status.last_error.unwrap();
    assert!(err.contains("fixtures/nope.ics"), "{err}");
    assert!(err.starts_with("cannot read calendar file"), "{err}");
    assert!(missing.calendar().is_none());

    // A file that does not parse names the line.
    let mut bad = Source::new(Location::parse("calendar.rs", &dir).unwrap());
    bad.refresh(&Fetcher::new(), utc("2026-10-01"));
    let err = bad.status().last_error.unwrap();
    assert!(
        err.contains("calendar.rs at line 1, column 1: expected BEGIN:VCALENDAR"),
        "{err}"
    );
}

#[test]
fn locations() {
    let base = Path::new("/etc/rota");
    assert_eq!(
        Location::parse("away.ics", base).unwrap(),
        Location::File("/etc/rota/away.ics".into())
    );
    assert_eq!(
        Location::parse("/srv/cal/away.ics", base).unwrap(),
        Location::File("/srv/cal/away.ics".into())
    );
    assert!(matches!(
        Location::parse(
            "HTTPS://calendar.google.com/calendar/ical/x/private-abc/basic.ics",
            base
        )
        .unwrap(),
        Location::Url(_)
    ));
    let secret =
        "https://calendar.google.com/calendar/ical/alice%40example.com/private-0a1b2c/basic.ics";
    let loc = Location::parse(secret, base).unwrap();
    assert_eq!(loc.redacted(), "https://calendar.google.com/…");

    let webcal =
        Location::parse("webcal://p34-caldav.icloud.com/published/2/MTIzNDU2", base).unwrap_err();
    let msg = webcal.to_string();
    assert!(msg.contains("https://p34-caldav.icloud.com/…"), "{msg}");
    assert!(!msg.contains("MTIzNDU2"), "{msg}");
    let ftp = Location::parse("ftp://files.example.com/cal.ics", base).unwrap_err();
    assert!(
        ftp.to_string().contains("unsupported scheme ftp://"),
        "{ftp}"
    );
    assert!(matches!(ftp.kind(), ErrorKind::Location { .. }));
    assert!(Location::parse("https:///nohost", base).is_err());
    assert!(Location::parse("  ", base).is_err());
}

/// Issue 11 point 2: a calendar file that is a symlink resolving outside the schedules directory
/// is refused, and nothing of the target's text appears in the error; one resolving inside is
/// read.
#[cfg(unix)]
#[test]
fn r11_2_symlink_outside_schedules_is_refused() {
    let outside = tempdir("outside");
    let secret = outside.join("environ");
    std::fs::write(&secret, "ROTA_SMTP_PASSWORD=hunter2\n").unwrap();
    let dir = tempdir("schedules");
    std::fs::create_dir(dir.join("calendars")).unwrap();
    std::os::unix::fs::symlink(&secret, dir.join("calendars/carol.ics")).unwrap();
    // A directory symlink leading out is refused the same way.
    std::os::unix::fs::symlink(&outside, dir.join("calendars/elsewhere")).unwrap();
    for written in ["calendars/carol.ics", "calendars/elsewhere/environ"] {
        let mut s = Source::within(Location::parse(written, &dir).unwrap(), &dir);
        s.refresh(&Fetcher::new(), utc("2026-10-01"));
        let st = s.status();
        assert!(!st.ok);
        let err = st.last_error.unwrap();
        assert!(err.contains("outside the schedules directory"), "{err}");
        assert!(
            !err.contains("hunter2") && !err.contains("ROTA_SMTP"),
            "{err}"
        );
        assert!(
            !err.contains(&*outside.to_string_lossy()),
            "names the target: {err}"
        );
        assert!(s.calendar().is_none());
    }
    // A symlink to a calendar inside the directory is fine.
    std::fs::write(dir.join("real.ics"), "BEGIN:VCALENDAR\nEND:VCALENDAR\n").unwrap();
    std::os::unix::fs::symlink(dir.join("real.ics"), dir.join("calendars/alias.ics")).unwrap();
    let mut s = Source::within(Location::parse("calendars/alias.ics", &dir).unwrap(), &dir);
    s.refresh(&Fetcher::new(), utc("2026-10-01"));
    assert!(s.status().ok, "{:?}", s.status());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&outside);
}

/// Issue 11 point 2: a FIFO (or any file that is not a regular file) is refused at once, not
/// waited on. Run on a thread with a deadline so a regression fails instead of hanging.
#[cfg(unix)]
#[test]
fn r11_2_fifo_is_refused_not_hung() {
    let dir = tempdir("fifo");
    let fifo = dir.join("away.ics");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.clone();
    std::thread::spawn(move || {
        let mut s = Source::within(Location::parse("away.ics", &d).unwrap(), &d);
        s.refresh(&Fetcher::new(), utc("2026-10-01"));
        let _ = tx.send(s.status());
    });
    let st = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("reading a FIFO must not block");
    assert!(!st.ok);
    let err = st.last_error.unwrap();
    assert!(err.contains("not a regular file"), "{err}");
    // A directory likewise.
    std::fs::create_dir(dir.join("dir.ics")).unwrap();
    let mut s = Source::within(Location::parse("dir.ics", &dir).unwrap(), &dir);
    s.refresh(&Fetcher::new(), utc("2026-10-01"));
    let err = s.status().last_error.unwrap();
    assert!(err.contains("not a regular file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 11 point 2: parse errors give line and column, never the text of the file.
#[test]
fn r11_2_parse_errors_never_echo_content() {
    let texts = [
        "ROTA_SMTP_PASSWORD=hunter2\0PATH=/usr/bin\0",
        "root:x:0:0:root:/root:/bin/bash\nhunter2:x:1000:1000::/home/hunter2:/bin/sh\n",
        "\n\n   hunter2 <html>\n",
        "BEGIN:VCALENDAR\nBEGIN:HUNTER2\nEND:HUNTER2\nEND:VCALENDAR\n",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nhunter2\nEND:VEVENT\nEND:VCALENDAR\n",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY;hunter2\nEND:VEVENT\nEND:VCALENDAR\n",
    ];
    for text in texts {
        let Err(e) = rota_calendar::parse(text) else {
            continue;
        };
        let msg = e.to_string().to_ascii_lowercase();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(!msg.contains("root:"), "{msg}");
        assert!(msg.contains("line"), "no position: {msg}");
    }
    let e = rota_calendar::parse("\n\n   hunter2\n").unwrap_err();
    assert!(e.to_string().contains("at line 3, column 4"), "{e}");
}

/// A fresh directory under the system's temp dir (no tempfile dependency in this crate).
fn tempdir(tag: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "rota-calendar-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    // The real path: the temp dir itself may be behind a symlink (macOS /tmp).
    std::fs::canonicalize(&d).unwrap()
}

/// The text of a hostile absence calendar: `n` events of `RRULE:FREQ=HOURLY;COUNT=50000` (the
/// issue's), then one ordinary all-day absence last in the file.
pub fn hostile_calendar(n: usize) -> String {
    let mut t = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rota//tests//EN\r\n");
    for i in 0..n {
        t.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:h{i}\r\nSUMMARY:Hourly {i}\r\nDTSTART:20261101T{:02}0000Z\r\n\
             DURATION:PT30M\r\nRRULE:FREQ=HOURLY;COUNT=50000\r\nEND:VEVENT\r\n",
            i % 24
        ));
    }
    t.push_str(
        "BEGIN:VEVENT\r\nUID:trip\r\nSUMMARY:Ski trip\r\nDTSTART;VALUE=DATE:20270301\r\n\
         DTEND;VALUE=DATE:20270308\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    t
}

/// Issue 11 point 1: a calendar of 200 hourly rules is expanded once, when it is read, within the
/// per-calendar cap (a warning says so and the status is marked), its single events are kept
/// (they are expanded first), and every reader then shares the same index: asking again expands
/// nothing.
#[test]
fn r11_1_hostile_recurrence_is_capped_once_per_source() {
    use rota_calendar::{Calendars, MAX_OCCURRENCES_PER_CALENDAR, parse};
    // The calendar alone: capped, bounded, the single event still there.
    let cal = parse(&hostile_calendar(200)).unwrap();
    let (from, to) = rota_calendar::index_window(utc("2026-11-23"));
    let x = cal.index(chrono_tz::UTC, from, to);
    assert!(x.capped);
    assert!(
        x.occurrences <= MAX_OCCURRENCES_PER_CALENDAR,
        "{}",
        x.occurrences
    );
    assert!(
        x.warnings.iter().any(|w| w.contains("per-calendar cap")),
        "{:?}",
        x.warnings
    );
    let trip: Vec<_> = x
        .set
        .overlapping(utc("2027-03-02"), utc("2027-03-03"))
        .collect();
    assert_eq!(trip.len(), 1);
    assert!(trip[0].summary.contains("Ski trip"), "{:?}", trip[0]);
    // The index is merged: half-hour occurrences every hour stay apart, so it holds as many
    // stretches as occurrences kept, never more.
    assert!(x.set.len() <= x.occurrences);
    assert!(x.set.heap_bytes() <= MAX_OCCURRENCES_PER_CALENDAR * 24 + 64 * 1024);

    // Through a schedule's Calendars: read once, the status says it was capped and warns.
    let dir = tempdir("hostile");
    std::fs::write(dir.join("carol.ics"), hostile_calendar(200)).unwrap();
    let schedule = rota_core::Schedule::load(&[(
        "s.toml",
        r#"
[people.carol]
name = "Carol"
absence = ["carol.ics"]
[people.dan]
name = "Dan"
[rotations.r]
members = ["carol", "dan"]
timezone = "UTC"
start = "2026-11-02T09:00"
every = "1 week"
"#,
    )])
    .unwrap();
    let mut cals = Calendars::new(&schedule, &dir);
    cals.refresh(&Fetcher::new(), utc("2026-11-23"));
    let snap = cals.snapshot();
    let (status, people) = &snap.statuses[0];
    assert_eq!(people, &["carol".to_string()]);
    assert!(status.ok, "{status:?}");
    assert!(status.capped);
    assert!(
        status
            .warnings
            .iter()
            .any(|w| w.contains("per-calendar cap")),
        "{:?}",
        status.warnings
    );
    assert_eq!(snap.window(), Some((from, to)));
    assert!(snap.covers(utc("2026-11-23"), utc("2027-11-23")));
    assert!(!snap.covers(utc("2026-11-23"), utc("2030-01-01")));
    // Every reader gets the same index: no expansion per request.
    let a = snap.time_off_for(
        &schedule,
        utc("2026-11-23"),
        utc("2027-02-22"),
        utc("2027-05-01"),
    );
    let b = snap.time_off_for(
        &schedule,
        utc("2026-11-23"),
        utc("2028-11-23"),
        utc("2027-05-01"),
    );
    assert!(std::ptr::eq(a.of("carol"), b.of("carol")));
    assert!(std::ptr::eq(
        a.of("carol"),
        snap.time_off_of("carol", utc("2026-11-23"), utc("2026-12-23"))
            .of("carol")
    ));
    assert!(!a.is_free("carol", utc("2027-03-02"), utc("2027-03-03")));
    // A refresh the same day of an unchanged file keeps the copy and so the index: nothing is
    // parsed or expanded again (the set is the very same one).
    cals.refresh(
        &Fetcher::new(),
        utc("2026-11-23") + chrono::Duration::hours(6),
    );
    let again = cals.snapshot().time_off();
    assert!(std::ptr::eq(a.of("carol"), again.of("carol")));
    // The next day the window moves, and the index is built again.
    cals.refresh(&Fetcher::new(), utc("2026-11-24"));
    let next = cals.snapshot().time_off();
    assert!(!std::ptr::eq(a.of("carol"), next.of("carol")));
    let _ = std::fs::remove_dir_all(&dir);
}
