//! Every public path of the service that a page, an email or a feed links to, built in one place
//! next to the routes ([`crate::configure`]) and percent-encoded here, so a link can never name a
//! route that does not exist or break on an id holding `&`, `#`, `+` or `%`. The tests request
//! each built path through the real routes.

/// Percent-encodes `s` for a path segment or a query value: everything but RFC 3986's unreserved
/// characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The schedule page.
pub const SCHEDULE: &str = "/";
/// The signed-in person's page.
pub const ME: &str = "/me";
/// The fairness report page.
pub const REPORT: &str = "/report";
/// The health check.
pub const HEALTHZ: &str = "/healthz";

/// The sign-in page, returning to `next` (a local path) after signing in.
pub fn signin(next: Option<&str>) -> String {
    match next {
        Some(n) if n != ME => format!("/signin?next={}", encode(n)),
        _ => "/signin".to_string(),
    }
}

/// The swap form for `slot` of `rotation`, with a colleague and their shift chosen when `with` is
/// given.
pub fn swap_form(rotation: &str, slot: u64, with: Option<(&str, Option<u64>)>) -> String {
    let mut l = format!("/swaps/new?rotation={}&slot={slot}", encode(rotation));
    if let Some((person, theirs)) = with {
        l.push_str(&format!("&counterpart={}", encode(person)));
        if let Some(t) = theirs {
            l.push_str(&format!("&their_slot={t}"));
        }
    }
    l
}

/// [`swap_form`] pre-filled with parts: `part` of my shift and `their_part` of theirs, as
/// `START/END` RFC 3339 instants.
pub fn swap_form_parts(
    rotation: &str,
    slot: u64,
    with: Option<(&str, Option<u64>)>,
    part: Option<(&str, &str)>,
    their_part: Option<(&str, &str)>,
) -> String {
    let mut l = swap_form(rotation, slot, with);
    if let Some((a, b)) = part {
        l.push_str(&format!("&part={}/{}", encode(a), encode(b)));
    }
    if let Some((a, b)) = their_part {
        l.push_str(&format!("&their_part={}/{}", encode(a), encode(b)));
    }
    l
}

/// The page of swap request `id`.
pub fn swap(id: &str) -> String {
    format!("/swaps/{}", encode(id))
}

/// A form action on swap request `id` (`accept`, `decline`, `cancel`).
pub fn swap_action(id: &str, verb: &str) -> String {
    format!("/swaps/{}/{verb}", encode(id))
}

/// The page of shift `slot` of `rotation`, with its handoff notes.
pub fn shift(rotation: &str, slot: u64) -> String {
    format!("/shifts/{}/{slot}", encode(rotation))
}

/// Where the shift page's form adds a handoff note.
pub fn shift_notes(rotation: &str, slot: u64) -> String {
    format!("/shifts/{}/{slot}/notes", encode(rotation))
}

/// A rotation's calendar feed.
pub fn rotation_feed(rotation: &str) -> String {
    format!("/calendars/rotations/{}.ics", encode(rotation))
}

/// A person's secret calendar feed.
pub fn person_feed(person: &str, token: &str) -> String {
    format!(
        "/calendars/people/{}.ics?token={}",
        encode(person),
        encode(token)
    )
}

/// Whether `next` is safe to redirect to after signing in: a path on this site (not `//host`,
/// not a scheme, no backslash or control character, which browsers may read as another host).
pub fn is_local(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && !next.bytes().any(|b| b == b'\\' || b.is_ascii_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded() {
        assert_eq!(
            swap_form("ops&co", 4, Some(("ann#1", Some(5)))),
            "/swaps/new?rotation=ops%26co&slot=4&counterpart=ann%231&their_slot=5"
        );
        assert_eq!(
            person_feed("a b", "t"),
            "/calendars/people/a%20b.ics?token=t"
        );
        assert_eq!(
            signin(Some("/swaps/x?y=1")),
            "/signin?next=%2Fswaps%2Fx%3Fy%3D1"
        );
        assert_eq!(signin(Some(ME)), "/signin");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for ok in ["/", "/me", "/swaps/new?rotation=a&slot=1"] {
            assert!(is_local(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "me",
            "/a\nb",
            "",
        ] {
            assert!(!is_local(bad), "{bad:?}");
        }
    }
}
