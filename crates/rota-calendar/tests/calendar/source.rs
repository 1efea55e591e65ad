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
            "invalid calendar http://{addr}/… at line 1: expected BEGIN:VCALENDAR"
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
        err.contains("calendar.rs at line 1: expected BEGIN:VCALENDAR"),
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
