//! Sending: SMTP through lettre's blocking transport, configured from environment variables.
//!
//! | variable | meaning |
//! |---|---|
//! | `ROTA_SMTP_HOST` | the SMTP server; unset means "no email" |
//! | `ROTA_SMTP_PORT` | default 587 (`starttls`), 465 (`tls`), 25 (`plain`) |
//! | `ROTA_SMTP_SECURITY` | `starttls` (default), `tls` (implicit TLS) or `plain` (no TLS: a local relay or tests) |
//! | `ROTA_SMTP_USERNAME`, `ROTA_SMTP_PASSWORD` | credentials, if the server wants them; only ever from the environment |
//! | `ROTA_SMTP_FROM` | the From address, e.g. `rota <rota@example.com>` (required) |
//! | `ROTA_SMTP_TIMEOUT` | seconds per SMTP command, default 30 |
//! | `ROTA_SMTP_EHLO_NAME` | the name rota gives in `EHLO`, e.g. `rota.example.com`; default this host's name |
//!
//! Relays that check the `EHLO` name (or score it for spam) want a fully qualified name that
//! resolves; a container's host name is often neither, hence the setting.
//!
//! TLS is rustls with the `ring` provider and the Mozilla roots (webpki-roots): no OpenSSL and no C
//! build beyond ring's.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};

use crate::error::{Error, ErrorKind};

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required; port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS at all: for a relay on the same host, or tests.
    Plain,
}

/// Where and how to send.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Connection security.
    pub security: Security,
    /// User name and password, if any.
    pub credentials: Option<(String, String)>,
    /// The From address.
    pub from: Mailbox,
    /// Timeout per SMTP command.
    pub timeout: Duration,
    /// The name to give in `EHLO`; `None` for this host's name.
    pub ehlo_name: Option<String>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.credentials.as_ref().map(|c| &c.0))
            .field("from", &self.from.to_string())
            .field("ehlo_name", &self.ehlo_name)
            .finish()
    }
}

fn config(msg: String) -> Error {
    Error::new(ErrorKind::Config(msg))
}

impl SmtpConfig {
    /// Reads the `ROTA_SMTP_*` variables through `get` (`std::env::var(..).ok()` in the binary).
    /// `Ok(None)` when `ROTA_SMTP_HOST` is unset or empty: email is off.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<SmtpConfig>, Error> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let Some(host) = get("ROTA_SMTP_HOST") else {
            return Ok(None);
        };
        let security = match get("ROTA_SMTP_SECURITY").as_deref().map(str::trim) {
            None | Some("starttls") => Security::Starttls,
            Some("tls") => Security::Tls,
            Some("plain") => Security::Plain,
            Some(other) => {
                return Err(config(format!(
                    "ROTA_SMTP_SECURITY={other:?}: expected starttls, tls or plain"
                )));
            }
        };
        let port = match get("ROTA_SMTP_PORT") {
            Some(p) => p
                .trim()
                .parse::<u16>()
                .map_err(|_| config(format!("ROTA_SMTP_PORT={p:?}: expected a port number")))?,
            None => match security {
                Security::Starttls => 587,
                Security::Tls => 465,
                Security::Plain => 25,
            },
        };
        let credentials = match (get("ROTA_SMTP_USERNAME"), get("ROTA_SMTP_PASSWORD")) {
            (Some(u), Some(p)) => Some((u, p)),
            (None, None) => None,
            _ => {
                return Err(config(
                    "set both ROTA_SMTP_USERNAME and ROTA_SMTP_PASSWORD, or neither".into(),
                ));
            }
        };
        let from = get("ROTA_SMTP_FROM").ok_or_else(|| {
            config(
                "ROTA_SMTP_FROM is required with ROTA_SMTP_HOST, e.g. \"rota <rota@example.com>\""
                    .into(),
            )
        })?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| config(format!("ROTA_SMTP_FROM={from:?}: {e}")))?;
        let timeout = match get("ROTA_SMTP_TIMEOUT") {
            Some(t) => Duration::from_secs(
                t.trim()
                    .parse()
                    .map_err(|_| config(format!("ROTA_SMTP_TIMEOUT={t:?}: expected seconds")))?,
            ),
            None => Duration::from_secs(30),
        };
        let ehlo_name = match get("ROTA_SMTP_EHLO_NAME") {
            Some(n) => {
                let n = n.trim();
                // A domain name or an address literal (`[192.0.2.1]`); nothing that would break
                // the command line.
                let ok = n.len() <= 255
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c));
                if !ok {
                    return Err(config(format!(
                        "ROTA_SMTP_EHLO_NAME={n:?}: expected a host name such as rota.example.com"
                    )));
                }
                Some(n.to_string())
            }
            None => None,
        };
        Ok(Some(SmtpConfig {
            host: host.trim().to_string(),
            port,
            security,
            credentials,
            from,
            timeout,
            ehlo_name,
        }))
    }
}

/// Why a message was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendError {
    /// A 5xx answer (the server will never take it): give up rather than retry.
    pub permanent: bool,
    /// What went wrong.
    pub message: String,
}

/// Something that delivers a message, or says why it did not. `Ok` means the server accepted it
/// (its `250` after the data).
pub trait Mailer: Send + Sync {
    /// Sends one message.
    fn send(&self, message: &Message) -> Result<(), SendError>;
}

/// Sends over SMTP with lettre's blocking transport (one connection per message).
pub struct SmtpMailer {
    transport: SmtpTransport,
}

impl SmtpMailer {
    /// A mailer for `cfg`.
    pub fn new(cfg: &SmtpConfig) -> Result<SmtpMailer, Error> {
        let builder = match cfg.security {
            Security::Plain => SmtpTransport::builder_dangerous(&cfg.host),
            Security::Tls => SmtpTransport::relay(&cfg.host)
                .map_err(|e| config(format!("ROTA_SMTP_HOST={}: {e}", cfg.host)))?,
            Security::Starttls => SmtpTransport::starttls_relay(&cfg.host)
                .map_err(|e| config(format!("ROTA_SMTP_HOST={}: {e}", cfg.host)))?,
        };
        let mut builder = builder.port(cfg.port).timeout(Some(cfg.timeout));
        if let Some((u, p)) = &cfg.credentials {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        if let Some(name) = &cfg.ehlo_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
        })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, message: &Message) -> Result<(), SendError> {
        self.transport
            .send(message)
            .map(|_| ())
            .map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(extra: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            [
                ("ROTA_SMTP_HOST", "smtp.example.com"),
                ("ROTA_SMTP_FROM", "rota@example.com"),
            ]
            .iter()
            .chain(extra)
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_ehlo_name_is_this_host_unless_set_and_must_be_a_host_name() {
        let c = SmtpConfig::from_env(env(&[])).unwrap().unwrap();
        assert_eq!(c.ehlo_name, None);
        let c = SmtpConfig::from_env(env(&[("ROTA_SMTP_EHLO_NAME", " rota.example.com ")]))
            .unwrap()
            .unwrap();
        assert_eq!(c.ehlo_name.as_deref(), Some("rota.example.com"));
        assert!(format!("{c:?}").contains("rota.example.com"));
        for bad in ["rota example", "rota.example.com\r\nQUIT", "ünï.example"] {
            let e = SmtpConfig::from_env(env(&[("ROTA_SMTP_EHLO_NAME", bad)])).unwrap_err();
            assert!(e.to_string().contains("ROTA_SMTP_EHLO_NAME"), "{e}");
        }
        // A mailer builds with it.
        let c = SmtpConfig::from_env(env(&[
            ("ROTA_SMTP_EHLO_NAME", "rota.example.com"),
            ("ROTA_SMTP_SECURITY", "plain"),
        ]))
        .unwrap()
        .unwrap();
        assert!(SmtpMailer::new(&c).is_ok());
    }
}
