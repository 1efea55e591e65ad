//! Building the emails: subject, a plain-text part and an HTML part (`multipart/alternative`),
//! times in the recipient's zone, and for reminders (and change notices that move or remove a
//! reminded shift) a `text/calendar` attachment ([`crate::ics`]). Pure: no sending here.
//!
//! Every message says it is automated mail, because its recipients are often the people who are
//! away, and their out-of-office replies should not come back to rota (RFC 3834):
//! `Auto-Submitted: auto-generated`, and `X-Auto-Response-Suppress: All` for Exchange, which does
//! not read the former. Swap messages carry `Reply-To:` the other person of the swap, and handoff
//! notes the person who handed over, so a reply reaches a human. Rotations are named by their names, never their ids, in subjects and bodies;
//! the HTML part says its language (`lang="en"`). Links go to pages that exist: `/me` (the
//! person's shifts; it asks them to sign in first), `/swaps/{id}`, the swap form and a shift's page
//! `/shifts/{rotation}/{slot}` (its id percent-encoded), and only
//! when `ROTA_BASE_URL` is set, since a relative link in an email leads nowhere.
//!
//! Every message's `Message-ID` is derived from its ledger key (`<{sha256(key)}.rota@{domain of
//! From}>`), so the one message that a crash may send twice (see the crate doc) arrives twice with
//! the same id, and mail systems that deduplicate by Message-ID show it once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};
use crate::ics;
use crate::plan::{Content, Planned, Recipient, ShiftInfo, SnapShift, SwapKind};

/// `Monday 7 December 2026, 09:00 GMT`.
pub fn local(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .format("%A %-d %B %Y, %H:%M %Z")
        .to_string()
}

fn short(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .format("%a %-d %b %H:%M %Z")
        .to_string()
}

/// `s` percent-encoded for a path segment: everything but RFC 3986's unreserved characters, as
/// the service's own links are.
fn encode(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `Message-ID` for a ledger key, without angle brackets.
pub fn message_id(key: &str, from: &Mailbox) -> String {
    let h = Sha256::digest(key.as_bytes());
    let hex: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.rota@{}", from.email.domain())
}

/// The subject, text and HTML of a planned message, and its attachment (file name, ICS text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
    /// A calendar attachment: the file name and its events (written with the sender as
    /// organizer by [`build`], see [`crate::ics::calendar`]).
    pub attachment: Option<(String, Vec<(ics::Event, ics::Status)>)>,
}

fn shift_line(s: &ShiftInfo, zone: Tz) -> String {
    format!(
        "{}: {} to {}",
        s.rotation_name,
        local(s.start, zone),
        local(s.end, zone)
    )
}

fn snap_line(s: &SnapShift, zone: Tz) -> String {
    format!(
        "{}: {} to {}",
        s.name,
        short(s.start, zone),
        short(s.end, zone)
    )
}

fn in_words(d: chrono::Duration) -> String {
    let hours = d.num_minutes().max(0) as f64 / 60.0;
    if hours < 1.0 {
        format!("in {} minutes", d.num_minutes().max(0))
    } else if hours < 36.0 {
        format!("in {} hours", hours.round())
    } else {
        format!("in {} days", (hours / 24.0).round())
    }
}

/// A length of time in words: "3 days", "5 hours", "45 minutes".
pub fn duration_words(d: chrono::Duration) -> String {
    let mins = d.num_minutes().max(0);
    let plural = |n: i64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if mins < 60 {
        plural(mins, "minute")
    } else if mins < 48 * 60 {
        plural((mins as f64 / 60.0).round() as i64, "hour")
    } else {
        plural((mins as f64 / 1440.0).round() as i64, "day")
    }
}

fn html_doc(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
}

fn html_list(items: &[String]) -> String {
    if items.is_empty() {
        return "<p><em>none</em></p>\n".into();
    }
    let mut s = String::from("<ul>\n");
    for i in items {
        s.push_str(&format!("<li>{}</li>\n", escape(i)));
    }
    s.push_str("</ul>\n");
    s
}

fn text_list(items: &[String]) -> String {
    if items.is_empty() {
        return "  (none)\n".into();
    }
    items.iter().map(|i| format!("  - {i}\n")).collect()
}

/// Renders a planned message at `now` (used for "starts in N days" and the calendar's DTSTAMP).
pub fn render(p: &Planned, now: DateTime<Utc>) -> Rendered {
    let zone = p.to.zone;
    let base = p.base_url.as_deref().map(|b| b.trim_end_matches('/'));
    match &p.content {
        Content::Reminder { shift, .. } => {
            let when = in_words(shift.start - now);
            let subject = format!(
                "Reminder: your {} shift starts {}",
                shift.rotation_name,
                local(shift.start, zone)
            );
            let page = base.map(|b| format!("{b}/me"));
            let mut text = format!(
                "Hello {},\n\nYour {} shift starts {when}.\n\n  Starts: {}\n  Ends:   {}\n  Why:    {}\n\nTimes are in {}. The shift is attached as a calendar file.\n",
                p.to.name,
                shift.rotation_name,
                local(shift.start, zone),
                local(shift.end, zone),
                shift.why,
                zone.name()
            );
            let mut html = format!(
                "<p>Hello {},</p>\n<p>Your <strong>{}</strong> shift starts {when}.</p>\n<table>\n<tr><th align=\"left\">Starts</th><td>{}</td></tr>\n<tr><th align=\"left\">Ends</th><td>{}</td></tr>\n<tr><th align=\"left\">Why</th><td>{}</td></tr>\n</table>\n<p>Times are in {}. The shift is attached as a calendar file.</p>\n",
                escape(&p.to.name),
                escape(&shift.rotation_name),
                escape(&local(shift.start, zone)),
                escape(&local(shift.end, zone)),
                escape(&shift.why),
                escape(zone.name())
            );
            if let Some(page) = page {
                text.push_str(&format!("\nYour shifts: {page}\n"));
                html.push_str(&format!(
                    "<p><a href=\"{}\">Your shifts</a></p>\n",
                    escape(&page)
                ));
            }
            let file = format!("{}-{}.ics", shift.rotation, shift.slot);
            Rendered {
                html: html_doc(&subject, &html),
                subject,
                text,
                attachment: Some((file, vec![(ics::event(shift), ics::Status::Confirmed)])),
            }
        }
        Content::Handoff(h) => {
            let shift = &h.shift;
            let subject = format!(
                "{} handed {} over to you, with notes",
                h.from.name, shift.rotation_name
            );
            let mut text = format!(
                "Hello {},\n\n{} handed {} over to you at {}. You are on call until {} ({}).\n\nTheir handoff notes:\n",
                p.to.name,
                h.from.name,
                shift.rotation_name,
                local(shift.start, zone),
                local(shift.end, zone),
                zone.name()
            );
            let mut html = format!(
                "<p>Hello {},</p>\n<p>{} handed <strong>{}</strong> over to you at {}. You are on call until {} ({}).</p>\n<p>Their handoff notes:</p>\n",
                escape(&p.to.name),
                escape(&h.from.name),
                escape(&shift.rotation_name),
                escape(&local(shift.start, zone)),
                escape(&local(shift.end, zone)),
                escape(zone.name())
            );
            for (author, at, note) in &h.notes {
                text.push_str(&format!("\n{author}, {}:\n", local(*at, zone)));
                for line in note.lines() {
                    text.push_str(&format!("  {line}\n"));
                }
                html.push_str(&format!(
                    "<p><strong>{}</strong>, {}:</p>\n<blockquote style=\"white-space:pre-wrap\">{}</blockquote>\n",
                    escape(author),
                    escape(&local(*at, zone)),
                    escape(note)
                ));
            }
            if let Some(b) = base {
                // The shift's page shows these notes and any added later; it asks for a sign-in.
                let page = format!("{b}/shifts/{}/{}", encode(&shift.rotation), shift.slot);
                text.push_str(&format!("\nThe shift and its notes: {page}\n"));
                html.push_str(&format!(
                    "<p><a href=\"{}\">The shift and its notes</a></p>\n",
                    escape(&page)
                ));
            }
            Rendered {
                html: html_doc(&subject, &html),
                subject,
                text,
                attachment: None,
            }
        }
        Content::Conflict(c) => {
            let shift = &c.shift;
            let subject = format!(
                "Conflict: you are on call in {} from {} while away",
                shift.rotation_name,
                short(shift.start, zone)
            );
            let away: Vec<String> = c
                .absences
                .iter()
                .map(|(a, b, what)| {
                    let what = if what.trim().is_empty() {
                        "away"
                    } else {
                        what.as_str()
                    };
                    format!("{what}: {} to {}", local(*a, zone), local(*b, zone))
                })
                .collect();
            let offers: Vec<String> = c
                .suggestions
                .iter()
                .map(|(name, theirs)| {
                    format!(
                        "{name}: takes your shift, you take theirs from {} to {}",
                        local(theirs.start, zone),
                        local(theirs.end, zone)
                    )
                })
                .collect();
            let link = |theirs: Option<&ShiftInfo>| {
                base.map(|b| {
                    let with = theirs.map(|t| (t.person.as_str(), t.slot));
                    format!(
                        "{b}{}",
                        rota_core::view::swap_form_path(&shift.rotation, shift.slot, with)
                    )
                })
            };
            let mut text = format!(
                "Hello {},\n\nYou are on call in {} from {} to {}, and your calendar says you are away:\n{}\n",
                p.to.name,
                shift.rotation_name,
                local(shift.start, zone),
                local(shift.end, zone),
                text_list(&away)
            );
            let mut html = format!(
                "<p>Hello {},</p>\n<p>You are on call in <strong>{}</strong> from {} to {}, and your calendar says you are away:</p>\n{}",
                escape(&p.to.name),
                escape(&shift.rotation_name),
                escape(&local(shift.start, zone)),
                escape(&local(shift.end, zone)),
                html_list(&away)
            );
            for (name, a, b) in &c.linked {
                let line = format!(
                    "Being on call in {} also puts you on call in {name} from {} to {}; swapping this shift moves that too.",
                    shift.rotation_name,
                    local(*a, zone),
                    local(*b, zone)
                );
                text.push_str(&format!("\n{line}\n"));
                html.push_str(&format!("<p>{}</p>\n", escape(&line)));
            }
            if offers.is_empty() {
                text.push_str("\nNobody in the rotation is free to cover it with a shift you could take back; ask your team or an admin.\n");
                html.push_str("<p>Nobody in the rotation is free to cover it with a shift you could take back; ask your team or an admin.</p>\n");
            } else {
                text.push_str(&format!(
                    "\nColleagues who could cover it, fairest first (for the days you are away, or all of it):\n{}",
                    text_list(&offers)
                ));
                html.push_str(
                    "<p>Colleagues who could cover it, fairest first (for the days you are away, or all of it):</p>\n<ul>\n",
                );
                for (o, (_, theirs)) in offers.iter().zip(&c.suggestions) {
                    match link(Some(theirs)) {
                        Some(l) => html.push_str(&format!(
                            "<li>{} <a href=\"{}\">Propose this swap</a></li>\n",
                            escape(o),
                            escape(&l)
                        )),
                        None => html.push_str(&format!("<li>{}</li>\n", escape(o))),
                    }
                }
                html.push_str("</ul>\n");
            }
            if let Some(l) = link(c.suggestions.first().map(|(_, t)| t)) {
                text.push_str(&format!("\nPropose a swap: {l}\n"));
            }
            text.push_str(&format!("\nTimes are in {}.\n", zone.name()));
            html.push_str(&format!("<p>Times are in {}.</p>\n", escape(zone.name())));
            Rendered {
                html: html_doc(&subject, &html),
                subject,
                text,
                attachment: None,
            }
        }
        Content::Change {
            before,
            after,
            updates,
            ..
        } => {
            // The rotations whose shifts changed, by name, for the subject.
            let mut names: Vec<&str> = before
                .iter()
                .filter(|b| !after.iter().any(|a| a.same(b)))
                .chain(after.iter().filter(|a| !before.iter().any(|b| b.same(a))))
                .map(|x| x.name.as_str())
                .collect();
            names.sort_unstable();
            names.dedup();
            let subject = match names.as_slice() {
                [] => "Your upcoming shifts changed".to_string(),
                [one] => format!("Your upcoming {one} shifts changed"),
                [rest @ .., last] => {
                    format!(
                        "Your upcoming {} and {last} shifts changed",
                        rest.join(", ")
                    )
                }
            };
            let b: Vec<String> = before.iter().map(|s| snap_line(s, zone)).collect();
            let a: Vec<String> = after.iter().map(|s| snap_line(s, zone)).collect();
            let mut text = format!(
                "Hello {},\n\nYour on-call shifts in the next 4 weeks changed (an override, a swap or a schedule change).\n\nBefore:\n{}\nNow:\n{}\nTimes are in {}.\n",
                p.to.name,
                text_list(&b),
                text_list(&a),
                zone.name()
            );
            let mut html = format!(
                "<p>Hello {},</p>\n<p>Your on-call shifts in the next 4 weeks changed (an override, a swap or a schedule change).</p>\n<h3>Before</h3>\n{}<h3>Now</h3>\n{}<p>Times are in {}.</p>\n",
                escape(&p.to.name),
                html_list(&b),
                html_list(&a),
                escape(zone.name())
            );
            if !updates.is_empty() {
                let note = "The attached calendar file updates the shifts that earlier reminders put in your calendar.";
                text.push_str(&format!("\n{note}\n"));
                html.push_str(&format!("<p>{note}</p>\n"));
            }
            if let Some(b) = base {
                let page = format!("{b}/me");
                text.push_str(&format!("\nYour shifts: {page}\n"));
                html.push_str(&format!(
                    "<p><a href=\"{}\">Your shifts</a></p>\n",
                    escape(&page)
                ));
            }
            Rendered {
                html: html_doc(&subject, &html),
                subject,
                text,
                attachment: (!updates.is_empty())
                    .then(|| ("rota-update.ics".to_string(), updates.clone())),
            }
        }
        Content::Swap(e) => {
            let other = if p.to.id == e.requester.id {
                &e.counterpart
            } else {
                &e.requester
            };
            let give = shift_line(&e.give, zone);
            let take = e.take.as_ref().map(|t| shift_line(t, zone));
            let cover = take.is_none();
            let reason = e
                .reason
                .as_deref()
                .map(|r| format!("Reason: {r}\n"))
                .unwrap_or_default();
            let rotation = &e.give.rotation_name;
            let (subject, lead) = match e.kind {
                SwapKind::Requested if e.urgent => (
                    format!(
                        "Urgent: {} asks you to take over their {rotation} shift now",
                        e.requester.name
                    ),
                    format!(
                        "{} is on call now and cannot go on: they ask you to take over the rest of their shift, from when you accept until it ends.",
                        e.requester.name
                    ),
                ),
                SwapKind::Requested if cover => (
                    format!("{} asks you to cover a {rotation} shift", e.requester.name),
                    format!(
                        "{} asks you to cover their shift: you would take it, with nothing in return.",
                        e.requester.name
                    ),
                ),
                SwapKind::Requested => (
                    format!(
                        "{} asks to swap {rotation} shifts with you",
                        e.requester.name
                    ),
                    format!(
                        "{} asks to swap shifts with you: you would take their shift, and they would take yours.",
                        e.requester.name
                    ),
                ),
                SwapKind::Accepted => (
                    format!(
                        "{rotation} swap accepted: {} and {}",
                        e.requester.name, e.counterpart.name
                    ),
                    format!(
                        "The swap between {} and {} was accepted. Two overrides now record it; the rotation order is unchanged.",
                        e.requester.name, e.counterpart.name
                    ),
                ),
                SwapKind::Declined => (
                    format!("{rotation} swap declined by {}", e.counterpart.name),
                    format!(
                        "{} declined the swap {} asked for. Nothing changed.",
                        e.counterpart.name, e.requester.name
                    ),
                ),
                SwapKind::UndoRequested => {
                    let asker = if e.undo_asked_by.as_deref() == Some(e.counterpart.id.as_str()) {
                        &e.counterpart.name
                    } else {
                        &e.requester.name
                    };
                    (
                        format!("{asker} asks to undo your {rotation} swap"),
                        format!(
                            "{asker} asks to undo the swap between {} and {}. If you agree, both shifts go back to who had them before the swap.",
                            e.requester.name, e.counterpart.name
                        ),
                    )
                }
                SwapKind::Undone => (
                    format!(
                        "{rotation} swap undone: {} and {}",
                        e.requester.name, e.counterpart.name
                    ),
                    format!(
                        "The swap between {} and {} was undone. Its overrides are gone: both shifts are back with who had them before the swap.",
                        e.requester.name, e.counterpart.name
                    ),
                ),
                SwapKind::Cancelled => (
                    format!("{rotation} swap cancelled by {}", e.requester.name),
                    format!(
                        "{} cancelled the swap request. Nothing changed.",
                        e.requester.name
                    ),
                ),
            };
            let labels = (
                format!("{}'s shift", e.requester.name),
                format!("{}'s shift", e.counterpart.name),
            );
            let take_text = take
                .as_ref()
                .map(|t| format!("  {}: {t}\n", labels.1))
                .unwrap_or_default();
            let take_html = take
                .as_ref()
                .map(|t| format!("<li>{}: {}</li>\n", escape(&labels.1), escape(t)))
                .unwrap_or_default();
            let mut text = format!(
                "Hello {},\n\n{lead}\n\n  {}: {give}\n{take_text}{reason}\nTimes are in {}. With: {} <{}>\n",
                p.to.name,
                labels.0,
                zone.name(),
                other.name,
                other.email
            );
            let mut html = format!(
                "<p>Hello {},</p>\n<p>{}</p>\n<ul>\n<li>{}: {}</li>\n{take_html}</ul>\n{}<p>Times are in {}.</p>\n",
                escape(&p.to.name),
                escape(&lead),
                escape(&labels.0),
                escape(&give),
                e.reason
                    .as_deref()
                    .map(|r| format!("<p>Reason: {}</p>\n", escape(r)))
                    .unwrap_or_default(),
                escape(zone.name())
            );
            match (e.kind, base) {
                (SwapKind::Requested, Some(b)) => {
                    // One link to the request page, whose Accept and Decline buttons are forms
                    // with a CSRF token: a link in an email must never change anything by being
                    // opened (mail scanners follow links), and the accept/decline routes take
                    // POST only.
                    let page = format!("{b}/swaps/{}", e.id);
                    text.push_str(&format!("\nAccept or decline: {page}\n"));
                    html.push_str(&format!(
                        "<p><a href=\"{}\">Accept or decline this request</a></p>\n",
                        escape(&page)
                    ));
                }
                (SwapKind::Requested, None) => {
                    let note = "Accept or decline it on rota's Swaps page.";
                    text.push_str(&format!("\n{note}\n"));
                    html.push_str(&format!("<p>{note}</p>\n"));
                }
                (SwapKind::UndoRequested, Some(b)) => {
                    let page = format!("{b}/swaps/{}", e.id);
                    text.push_str(&format!("\nAgree or not: {page}\n"));
                    html.push_str(&format!(
                        "<p><a href=\"{}\">Agree to undo it, or not</a></p>\n",
                        escape(&page)
                    ));
                }
                (SwapKind::Accepted | SwapKind::Undone, Some(b)) => {
                    let page = format!("{b}/me");
                    text.push_str(&format!("\nYour shifts: {page}\n"));
                    html.push_str(&format!(
                        "<p><a href=\"{}\">Your shifts</a></p>\n",
                        escape(&page)
                    ));
                }
                _ => {}
            }
            Rendered {
                html: html_doc(&subject, &html),
                subject,
                text,
                attachment: None,
            }
        }
    }
}

fn mailbox(r: &Recipient) -> Result<Mailbox, Error> {
    format!("{} <{}>", r.name, r.email)
        .parse()
        .or_else(|_| r.email.parse())
        .map_err(|e| Error::new(ErrorKind::Address(format!("{} ({}): {e}", r.email, r.id))))
}

/// Builds the email for a planned message, from `from`.
pub fn build(p: &Planned, from: &Mailbox, now: DateTime<Utc>) -> Result<Message, Error> {
    let r = render(p, now);
    let to = mailbox(&p.to)?;
    let alternative = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(r.text),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(r.html),
        );
    let body = match r.attachment {
        Some((name, events)) => MultiPart::mixed().multipart(alternative).singlepart(
            Attachment::new(name).body(
                ics::calendar(from, now, &events),
                // The MIME method must match the calendar's METHOD (RFC 5545 section 3.7.2).
                ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                    .map_err(|e| Error::new(ErrorKind::Build(e.to_string())))?,
            ),
        ),
        None => alternative,
    };
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(r.subject)
        .message_id(Some(format!("<{}>", message_id(&p.key, from))))
        .date(now.into())
        .header(RotaKey(p.key.clone()))
        .header(AutoSubmitted)
        .header(AutoResponseSuppress);
    if let Content::Swap(e) = &p.content {
        // Replies go to the other person of the swap, not to rota's address.
        let other = if p.to.id == e.requester.id {
            &e.counterpart
        } else {
            &e.requester
        };
        builder = builder.reply_to(mailbox(other)?);
    }
    if let Content::Handoff(h) = &p.content
        && !h.from.email.is_empty()
    {
        // Questions about the notes go to whoever wrote them.
        builder = builder.reply_to(mailbox(&h.from)?);
    }
    builder
        .multipart(body)
        .map_err(|e| Error::new(ErrorKind::Build(e.to_string())))
}

/// Declares a header with a fixed value.
macro_rules! fixed_header {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $value:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        struct $ty;

        impl lettre::message::header::Header for $ty {
            fn name() -> lettre::message::header::HeaderName {
                lettre::message::header::HeaderName::new_from_ascii_str($name)
            }

            fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($ty)
            }

            fn display(&self) -> lettre::message::header::HeaderValue {
                lettre::message::header::HeaderValue::new(Self::name(), $value.to_string())
            }
        }
    };
}

fixed_header!(
    /// `Auto-Submitted: auto-generated` (RFC 3834): automatic replies must not be sent to it.
    AutoSubmitted,
    "Auto-Submitted",
    "auto-generated"
);

fixed_header!(
    /// `X-Auto-Response-Suppress: All`: Exchange and Outlook send no out-of-office or other
    /// automatic reply (they do not read `Auto-Submitted`).
    AutoResponseSuppress,
    "X-Auto-Response-Suppress",
    "All"
);

/// `X-Rota-Key`: the ledger key, so a receiver (and the tests) can see what a message is.
#[derive(Clone, Debug)]
struct RotaKey(String);

impl lettre::message::header::Header for RotaKey {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("X-Rota-Key")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(RotaKey(s.to_string()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}
