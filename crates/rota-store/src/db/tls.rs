//! TLS to PostgreSQL, with libpq's `sslmode` meanings, so a URL that works with `psql` works here.
//!
//! | `sslmode` | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `allow`, `prefer` (the default) | if the server offers TLS | no |
//! | `require` | always | no (as libpq: unless `sslrootcert` is given, then as `verify-ca`) |
//! | `verify-ca` | always | chain to a trusted root |
//! | `verify-full` | always | chain, and the host name matches |
//!
//! Trusted roots are the PEM certificates of `sslrootcert=/path/ca.pem` (a managed database's CA
//! bundle: RDS, Cloud SQL...), or Mozilla's (webpki-roots) with `sslrootcert=system`. As with
//! libpq, `verify-ca` and `verify-full` need `sslrootcert`, and `sslrootcert=system` needs
//! `verify-full` (any public certificate chains to a public root; only the host name tells
//! them apart). `sslmode` and `sslrootcert` are taken out of the URL here; the client library
//! knows only `disable`/`prefer`/`require`.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How certificates are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Encrypt, check nothing (libpq's `prefer` and `require`).
    Nothing,
    /// The chain only (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// The URL without `sslmode`/`sslrootcert`, the client library's mode, and the TLS connector.
pub(crate) struct Tls {
    pub(crate) url: String,
    pub(crate) mode: postgres::config::SslMode,
    pub(crate) connector: MakeRustlsConnect,
    /// What is checked (read by the tests).
    #[cfg(test)]
    pub(crate) check: Option<Check>,
}

/// Reads `sslmode` and `sslrootcert` off `url` and makes the connector they ask for.
pub(crate) fn from_url(url: &str) -> Result<Tls, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let (mut sslmode, mut rootcert) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", v)) => sslmode = Some(decode(v)),
            Some(("sslrootcert", v)) => rootcert = Some(decode(v)),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    use postgres::config::SslMode;
    let (mode, check) = match sslmode.as_deref().unwrap_or("prefer") {
        "disable" => (SslMode::Disable, None),
        "allow" | "prefer" => (SslMode::Prefer, Some(Check::Nothing)),
        "require" if rootcert.is_some() => (SslMode::Require, Some(Check::Chain)),
        "require" => (SslMode::Require, Some(Check::Nothing)),
        "verify-ca" => (SslMode::Require, Some(Check::Chain)),
        "verify-full" => (SslMode::Require, Some(Check::Full)),
        other => {
            return Err(format!(
                "sslmode={other:?} in the database URL: expected disable, allow, prefer, require, \
                 verify-ca or verify-full"
            ));
        }
    };
    match (check, rootcert.as_deref()) {
        (Some(Check::Chain | Check::Full), None) => {
            return Err(format!(
                "sslmode={} needs sslrootcert: the CA's certificate (sslrootcert=/path/ca.pem), \
                 or sslrootcert=system for the public roots (with verify-full)",
                sslmode.as_deref().unwrap_or("")
            ));
        }
        (Some(c), Some("system")) if c != Check::Full => {
            return Err(
                "sslrootcert=system needs sslmode=verify-full: a public certificate proves \
                 nothing without its host name"
                    .into(),
            );
        }
        _ => {}
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = roots(rootcert.as_deref())?;
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let config = match check {
        None | Some(Check::Full) => builder.with_root_certificates(roots).with_no_client_auth(),
        Some(Check::Nothing) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
            .with_no_client_auth(),
        Some(Check::Chain) => {
            let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("TLS: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
                .with_no_client_auth()
        }
    };
    Ok(Tls {
        url,
        mode,
        connector: MakeRustlsConnect::new(config),
        #[cfg(test)]
        check,
    })
}

fn decode(v: &str) -> String {
    // %XX escapes only (a path in a URL); anything malformed is kept as written.
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn roots(rootcert: Option<&str>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    match rootcert {
        None | Some("system") => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| format!("sslrootcert={path}: {e}"))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("sslrootcert={path}: no certificate in it"));
            }
        }
    }
    Ok(roots)
}

/// Encrypts without checking the certificate (libpq's `prefer` and `require`): protects against
/// eavesdropping, not against an impostor. The handshake's signatures are still verified.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Checks the chain but not the host name (`verify-ca`).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_off_the_url() {
        let t = from_url("postgres://u@h/db?sslmode=disable&application_name=rota").unwrap();
        assert_eq!(t.url, "postgres://u@h/db?application_name=rota");
        assert_eq!(
            (t.mode, t.check),
            (postgres::config::SslMode::Disable, None)
        );
        let t = from_url("postgres://u@h/db").unwrap();
        assert_eq!(t.check, Some(Check::Nothing), "prefer, as libpq");
        let t = from_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=system").unwrap();
        assert_eq!(t.check, Some(Check::Full));
        // As libpq: verification needs a root certificate, and the public roots the host name.
        let e = from_url("postgres://u@h/db?sslmode=verify-full")
            .err()
            .unwrap();
        assert!(e.contains("needs sslrootcert"), "{e}");
        let e = from_url("postgres://u@h/db?sslmode=verify-ca&sslrootcert=system")
            .err()
            .unwrap();
        assert!(e.contains("needs sslmode=verify-full"), "{e}");
        let e = from_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fno%2Fsuch.pem")
            .err()
            .unwrap();
        assert!(e.contains("sslrootcert=/no/such.pem"), "{e}");
        let e = from_url("postgres://u@h/db?sslmode=on").err().unwrap();
        assert!(e.contains("expected disable, allow"), "{e}");
    }
}
