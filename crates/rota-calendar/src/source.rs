//! Calendar sources: where a calendar comes from, fetching it, and keeping its last good copy.
//!
//! This is the only module that does I/O. It never reads the clock: [`Source::refresh`] takes
//! `now` from the caller, which owns the refresh interval and the thread it runs on.
//!
//! A refresh that fails in any way (file missing, connection refused, timeout, a non-2xx status,
//! a body over the size limit, text that does not parse) keeps the last good [`Calendar`] and
//! records the error; [`Source::status`] reports both. For URLs the ETag and Last-Modified of the
//! last good copy are sent back (`If-None-Match`, `If-Modified-Since`), and a `304 Not Modified`
//! keeps the copy and counts as a success. The validators are only replaced when a new body
//! parses, so a bad body is fetched (and reported) again next time rather than hidden by a 304.
//!
//! # Files
//!
//! A file source is read only when it is a *regular file*, opened without blocking (a FIFO or a
//! device would otherwise hang the reader, and with it `rota serve` before it listens), and, for a
//! source made with [`Source::within`] (as [`crate::Calendars`] makes every one), only when its
//! *real* path, after every symlink is resolved, lies inside the given directory (the schedules
//! directory). Git can commit a symlink, so `calendars/carol.ics -> /proc/self/environ` is one
//! merged change away; the path as written is checked at load time, the resolved path here. Limit:
//! the check and the open are two steps, so a directory swapped for a symlink in between by someone
//! who can write the schedules directory is not caught (they could edit the schedule anyway). No
//! error repeats the file's text: parse errors give line and column only (see [`mod@crate::parse`]).
//!
//! Calendar URLs are secrets: a Google "secret address" (`.../private-<token>/basic.ics`) lets
//! anyone read the calendar. Nothing this module reports (status, errors) contains a URL's path,
//! query or user info: only `scheme://host/…`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind};
use crate::parse::{Calendar, parse};

/// Where a calendar comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An `.ics` file.
    File(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
}

impl Location {
    /// Reads a location as written in a schedule: `http://` and `https://` (any case) are URLs;
    /// any other scheme (`webcal://`, `ftp://`, `file://`) is an error, and anything else is a path,
    /// relative to `base_dir` (the schedule file's directory) unless absolute.
    ///
    /// # Examples
    ///
    /// ```
    /// use rota_calendar::Location;
    /// use std::path::Path;
    ///
    /// let loc = Location::parse("https://calendar.google.com/calendar/ical/x/private-abc/basic.ics",
    ///                           Path::new("/etc/rota")).unwrap();
    /// assert_eq!(loc.redacted(), "https://calendar.google.com/…");
    /// let loc = Location::parse("holidays/uk.ics", Path::new("/etc/rota")).unwrap();
    /// assert_eq!(loc, Location::File("/etc/rota/holidays/uk.ics".into()));
    /// let err = Location::parse("webcal://p01-calendars.icloud.com/published/2/abc", Path::new(".")).unwrap_err();
    /// assert!(err.to_string().contains("https://p01-calendars.icloud.com/…"));
    /// ```
    pub fn parse(s: &str, base_dir: &Path) -> Result<Location, Error> {
        let s = s.trim();
        let invalid =
            |input: String, message: String| Error::new(ErrorKind::Location { input, message });
        if s.is_empty() {
            return Err(invalid(
                String::new(),
                "empty: expected a path to an .ics file or an https:// URL".into(),
            ));
        }
        if let Some((scheme, rest)) = split_scheme(s) {
            let shown = redact_url(s);
            let lower = scheme.to_ascii_lowercase();
            if lower == "http" || lower == "https" {
                if host_of(rest).is_empty() {
                    return Err(invalid(shown, "the URL has no host".into()));
                }
                return Ok(Location::Url(s.to_string()));
            }
            let message = if lower == "webcal" || lower == "webcals" {
                format!(
                    "webcal:// is not fetched; use the same address with https:// ({})",
                    redact_url(&format!("https://{rest}"))
                )
            } else {
                format!("unsupported scheme {scheme}://: expected https://, http:// or a file path")
            };
            return Err(invalid(shown, message));
        }
        let path = Path::new(s);
        Ok(Location::File(if path.is_absolute() {
            path.to_path_buf()
        } else {
            base_dir.join(path)
        }))
    }

    /// The location as it may be shown: a file's path, or a URL as `scheme://host/…` (the path
    /// and query of a calendar URL are often a secret token).
    pub fn redacted(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Url(u) => redact_url(u),
        }
    }
}

/// `("https", "host/path")` for `https://host/path`; `None` when there is no `scheme://`. A
/// scheme is letters, digits, `+`, `-`, `.`, starting with a letter (RFC 3986).
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        Some((scheme, rest))
    } else {
        None
    }
}

/// The host (and port) of what follows `scheme://`, without any user info.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit('@').next().unwrap_or("")
}

/// `scheme://host/…`.
fn redact_url(url: &str) -> String {
    match split_scheme(url) {
        Some((scheme, rest)) => format!("{}://{}/…", scheme.to_ascii_lowercase(), host_of(rest)),
        None => "(unparseable URL)".into(),
    }
}

/// Replaces every URL in `msg` by its redacted form, and any raw occurrence of `secret` (the
/// path and query of the URL being fetched), so that an error message from the HTTP client
/// cannot leak a calendar's token.
fn scrub(msg: &str, secret: &str) -> String {
    let mut msg = msg.to_string();
    if secret.len() > 1 {
        msg = msg.replace(secret, "/…");
    }
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg.as_str();
    while let Some(i) = rest.find("://") {
        // Back up over the scheme's letters.
        let start = rest[..i]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map(|(j, _)| j)
            .unwrap_or(i);
        let end = rest[i..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ')' | ']' | '>' | ','))
            .map(|j| i + j)
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        out.push_str(&redact_url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// An HTTP client for calendar feeds: connect timeout 10 s, whole request 30 s, bodies up to
/// 10 MiB, `User-Agent: rota/<version>`. Cheap to share: make one and pass it to every refresh
/// (it pools connections).
#[derive(Clone, Debug)]
pub struct Fetcher {
    agent: ureq::Agent,
    max_bytes: u64,
}

impl Default for Fetcher {
    fn default() -> Fetcher {
        Fetcher::new()
    }
}

impl Fetcher {
    /// The largest calendar body or file accepted by [`Fetcher::new`]: 10 MiB, a few hundred
    /// thousand events, far more than any absence calendar.
    pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

    /// A fetcher with the default limits.
    pub fn new() -> Fetcher {
        Fetcher::with_limits(
            Duration::from_secs(10),
            Duration::from_secs(30),
            Self::DEFAULT_MAX_BYTES,
        )
    }

    /// A fetcher with other limits (tests use short ones).
    pub fn with_limits(connect: Duration, whole_request: Duration, max_bytes: u64) -> Fetcher {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(connect))
            .timeout_global(Some(whole_request))
            // Statuses are ours to interpret: 304 is a success, and we word the others.
            .http_status_as_error(false)
            .user_agent(format!("rota/{}", env!("CARGO_PKG_VERSION")))
            .build();
        Fetcher {
            agent: ureq::Agent::new_with_config(config),
            max_bytes,
        }
    }

    /// The body of `url` as text, read once with this fetcher's limits (for a one-off read such
    /// as `rota import ics`; a [`Source`] keeps a calendar fresh). Errors name the URL as
    /// `scheme://host/…` only, as every error of this crate does.
    pub fn get_text(&self, url: &str) -> Result<String, Error> {
        match self.fetch(url, None)? {
            Fetched::Body { text, .. } => Ok(text),
            // Only an answer to a conditional request, which this is not.
            Fetched::NotModified => Err(Error::new(ErrorKind::Fetch {
                location: redact_url(url),
                status: Some(304),
                message: "the server answered 304 Not Modified to a plain request".into(),
            })),
        }
    }

    fn fetch(&self, url: &str, validators: Option<&Validators>) -> Result<Fetched, Error> {
        let location = redact_url(url);
        let secret = split_scheme(url)
            .map(|(_, rest)| &rest[host_of_len(rest)..])
            .unwrap_or("");
        let fail = |status: Option<u16>, message: String| {
            Error::new(ErrorKind::Fetch {
                location: location.clone(),
                status,
                message: scrub(&message, secret),
            })
        };
        let mut req = self.agent.get(url);
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                req = req.header("If-None-Match", etag);
            }
            if let Some(lm) = &v.last_modified {
                req = req.header("If-Modified-Since", lm);
            }
        }
        let mut resp = req.call().map_err(|e| fail(None, describe(&e)))?;
        let status = resp.status().as_u16();
        if status == 304 {
            return Ok(Fetched::NotModified);
        }
        if !(200..300).contains(&status) {
            let reason = resp.status().canonical_reason().unwrap_or("");
            return Err(fail(
                Some(status),
                format!("the server answered HTTP {status} {reason}")
                    .trim_end()
                    .to_string(),
            ));
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(self.max_bytes)
            .read_to_vec()
            .map_err(|e| fail(None, describe(&e)))?;
        Ok(Fetched::Body {
            // Feeds are UTF-8 in practice; a stray Latin-1 byte in a description should not
            // lose the whole calendar.
            text: String::from_utf8_lossy(&bytes).into_owned(),
            validators,
        })
    }
}

fn host_of_len(rest: &str) -> usize {
    rest.find(['/', '?', '#']).unwrap_or(rest.len())
}

/// A short wording of an HTTP client error (scrubbed by the caller).
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::BodyExceedsLimit(limit) => format!("the body is larger than {limit} bytes"),
        ureq::Error::TooManyRedirects => "too many redirects".into(),
        ureq::Error::Io(io) => format!("connection error: {io}"),
        other => other.to_string(),
    }
}

#[derive(Clone, Debug, Default)]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
}

enum Fetched {
    NotModified,
    Body {
        text: String,
        validators: Validators,
    },
}

/// One calendar location and its last good copy.
#[derive(Debug)]
pub struct Source {
    location: Location,
    /// For a file: the directory its real path must lie inside, if confined.
    root: Option<PathBuf>,
    /// A digest of the text the current copy was parsed from: an unchanged file or body is not
    /// parsed (nor its index built) again.
    file_digest: Option<u64>,
    calendar: Option<Arc<Calendar>>,
    validators: Option<Validators>,
    last_success: Option<DateTime<Utc>>,
    last_attempt: Option<DateTime<Utc>>,
    last_error: Option<Error>,
}

/// What `/healthz` shows about a source. Contains no secret: `location` is redacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The file path, or the URL as `scheme://host/…`.
    pub location: String,
    /// Whether the last refresh succeeded (and there is a calendar).
    pub ok: bool,
    /// When a refresh last succeeded (a 304 counts).
    pub last_success: Option<DateTime<Utc>>,
    /// When a refresh was last tried.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Why the last refresh failed, if it did.
    pub last_error: Option<String>,
    /// Events in the calendar in use (the last good copy), 0 if none.
    pub events: usize,
    /// The calendar's warnings (skipped events) and expansion warnings.
    pub warnings: Vec<String>,
    /// Whether expanding it hit the per-calendar cap (a warning says so): some of its
    /// occurrences are not in the absence index. Set by [`crate::Calendars::snapshot`].
    pub capped: bool,
}

impl Source {
    /// A source that has not been read yet.
    pub fn new(location: Location) -> Source {
        Source {
            location,
            root: None,
            file_digest: None,
            calendar: None,
            validators: None,
            last_success: None,
            last_attempt: None,
            last_error: None,
        }
    }

    /// A source whose file (if it is one) is read only when its real path, symlinks resolved, is
    /// inside `root`: what [`crate::Calendars`] uses, with the schedules directory. URLs are not
    /// affected.
    pub fn within(location: Location, root: &Path) -> Source {
        Source {
            root: Some(root.to_path_buf()),
            ..Source::new(location)
        }
    }

    /// Reads the file or fetches the URL. For URLs, sends `If-None-Match` with the last ETag
    /// (and `If-Modified-Since` with the last Last-Modified), and a 304 keeps the copy. On any
    /// failure the last good calendar is kept and the error recorded. `now` is the caller's
    /// clock.
    pub fn refresh(&mut self, fetcher: &Fetcher, now: DateTime<Utc>) {
        self.last_attempt = Some(now);
        let result = match &self.location {
            Location::File(path) => {
                read_file(path, self.root.as_deref(), fetcher.max_bytes).and_then(|text| {
                    // An unchanged file keeps its copy, like a 304: not parsed again, and its
                    // absence index (keyed by the copy) not expanded again.
                    let digest = digest(&text);
                    if self.calendar.is_some() && self.file_digest == Some(digest) {
                        return Ok((None, None));
                    }
                    self.file_digest = None;
                    parse(&text)
                        .map(|cal| {
                            self.file_digest = Some(digest);
                            (Some(cal), None)
                        })
                        .map_err(|e| in_location(&self.location, e))
                })
            }
            Location::Url(url) => {
                let validators = self.calendar.as_ref().and(self.validators.as_ref());
                match fetcher.fetch(url, validators) {
                    Ok(Fetched::NotModified) if self.calendar.is_some() => Ok((None, None)),
                    Ok(Fetched::NotModified) => Err(Error::new(ErrorKind::Fetch {
                        location: self.location.redacted(),
                        status: Some(304),
                        message: "304 Not Modified, but there is no earlier copy".into(),
                    })),
                    Ok(Fetched::Body { text, validators }) => {
                        // A server without validators sends the same body again: keep the copy
                        // (and its index) as for a 304, with the new validators.
                        let digest = digest(&text);
                        if self.calendar.is_some() && self.file_digest == Some(digest) {
                            self.validators = Some(validators);
                            Ok((None, None))
                        } else {
                            self.file_digest = None;
                            parse(&text)
                                .map(|cal| {
                                    self.file_digest = Some(digest);
                                    (Some(cal), Some(validators))
                                })
                                .map_err(|e| in_location(&self.location, e))
                        }
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Ok((calendar, validators)) => {
                if let Some(cal) = calendar {
                    self.calendar = Some(Arc::new(cal));
                    self.validators = validators;
                }
                self.last_success = Some(now);
                self.last_error = None;
            }
            Err(e) => self.last_error = Some(e),
        }
    }

    /// Records that a refresh at `now` did not finish (it panicked): the last good copy stays.
    pub(crate) fn record_panic(&mut self, now: DateTime<Utc>) {
        self.last_attempt = Some(now);
        self.last_error = Some(Error::new(ErrorKind::Fetch {
            location: self.location.redacted(),
            status: None,
            message: "reading the calendar failed unexpectedly (an internal error); the last good copy is kept".into(),
        }));
    }

    /// The last good copy, if any refresh has succeeded.
    pub fn calendar(&self) -> Option<&Arc<Calendar>> {
        self.calendar.as_ref()
    }

    /// Where this source reads from.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The error of the last refresh, if it failed.
    pub fn last_error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// The location as `/healthz` shows it: a confined file relative to its root (where the
    /// service's files live is nobody's business), a URL redacted.
    fn shown_location(&self) -> String {
        match (&self.location, &self.root) {
            (Location::File(p), Some(root)) => p.strip_prefix(root).map_or_else(
                |_| self.location.redacted(),
                |rel| rel.display().to_string(),
            ),
            _ => self.location.redacted(),
        }
    }

    /// The state of this source, for `/healthz`.
    pub fn status(&self) -> Status {
        let (events, warnings) = match &self.calendar {
            Some(cal) => {
                let mut w = cal.warnings().to_vec();
                w.extend(cal.expansion_warnings());
                (cal.events(), w)
            }
            None => (0, Vec::new()),
        };
        Status {
            location: self.shown_location(),
            ok: self.last_error.is_none() && self.calendar.is_some(),
            last_success: self.last_success,
            last_attempt: self.last_attempt,
            last_error: self.last_error.as_ref().map(|e| e.to_string()),
            events,
            warnings,
            capped: false,
        }
    }
}

/// Prefixes a parse error with the (redacted) location it came from.
fn in_location(location: &Location, e: Error) -> Error {
    match e.kind() {
        ErrorKind::Parse {
            line,
            column,
            message,
            ..
        } => Error::new(ErrorKind::Parse {
            origin: Some(location.redacted()),
            line: *line,
            column: *column,
            message: message.clone(),
        }),
        _ => e,
    }
}

/// Reads a calendar file: refused unless its real path is inside `root` (when given) and it is a
/// regular file; opened non-blocking so a FIFO cannot hang the caller. Errors name the path as
/// configured, never the symlink's target (which could be anything on the machine).
fn read_file(path: &Path, root: Option<&Path>, max_bytes: u64) -> Result<String, Error> {
    let err = |message: String| {
        Error::new(ErrorKind::Read {
            path: path.to_path_buf(),
            message,
        })
    };
    // Resolve every symlink (the file's and its directories') first, then check and open the
    // resolved path, so what is checked is what is read.
    let real = std::fs::canonicalize(path).map_err(|e| err(os_reason(&e)))?;
    if let Some(root) = root {
        let root = std::fs::canonicalize(root)
            .map_err(|e| err(format!("the schedules directory: {}", os_reason(&e))))?;
        if !real.starts_with(&root) {
            return Err(err(
                "it resolves (through a symlink) to a file outside the schedules directory; \
                 calendar files must be inside it"
                    .into(),
            ));
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, forever.
        // O_NOFOLLOW: `real` has no symlinks left; one appearing since is refused, not followed.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options.open(&real).map_err(|e| err(os_reason(&e)))?;
    let meta = file.metadata().map_err(|e| err(os_reason(&e)))?;
    if !meta.is_file() {
        return Err(err(
            "not a regular file (a directory, FIFO, socket or device); calendar files must be \
             regular files"
                .into(),
        ));
    }
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| err(os_reason(&e)))?;
    if bytes.len() as u64 > max_bytes {
        return Err(err(format!("the file is larger than {max_bytes} bytes")));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A digest of a file's text, to tell an unchanged file (SipHash; not a security measure: the
/// text is read anyway, this only skips parsing it again).
fn digest(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The operating system's reason, without anything else an `io::Error` might carry.
fn os_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => match e.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
            None => e.kind().to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_paths_and_tokens() {
        let secret = "/calendar/ical/a%40b.com/private-0123abcd/basic.ics";
        let msg = format!(
            "io error connecting to https://calendar.google.com{secret}?x=1, see also {secret}"
        );
        let s = scrub(&msg, secret);
        assert!(!s.contains("private-0123abcd"), "{s}");
        assert!(s.contains("https://calendar.google.com/…"), "{s}");
        assert_eq!(scrub("no url here", ""), "no url here");
        assert_eq!(scrub("://", ""), "(unparseable URL)");
    }

    #[test]
    fn redaction_drops_user_info_path_and_query() {
        assert_eq!(
            redact_url("https://user:pw@cal.example.com:8443/a/b?token=x#f"),
            "https://cal.example.com:8443/…"
        );
        assert_eq!(redact_url("HTTPS://Example.com"), "https://Example.com/…");
        assert_eq!(redact_url("not a url"), "(unparseable URL)");
    }
}
