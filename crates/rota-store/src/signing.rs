//! Signatures for the web pages (CSRF tokens), under a key derived from the state file's secret.

use sha2::Sha256;

use crate::*;

use hmac::{Hmac, Mac};

/// Signatures for the web pages (session cookies, CSRF tokens).
impl Store {
    /// HMAC-SHA256 of `data` for `purpose`, under a key derived from the state file's secret, in
    /// hex. Stateless: whoever holds the state file can verify it, and nothing else can make one.
    pub fn sign(&self, purpose: &str, data: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.feed_secret)
            .expect("HMAC takes any key length");
        mac.update(b"rota signature\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Whether `signature` is [`Store::sign`]`(purpose, data)` (constant-time).
    pub fn verify(&self, purpose: &str, data: &str, signature: &str) -> bool {
        same(self.sign(purpose, data).as_bytes(), signature.as_bytes())
    }
}
