//! Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`,
//! keyed with the app secret.
//!
//! The check runs on the exact bytes received, before any parsing: re-serialized JSON would not
//! hash the same. The comparison is constant time so that a forger learns nothing from how long
//! a refusal takes.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

/// The header Meta signs webhook bodies in.
pub const HEADER: &str = "X-Hub-Signature-256";

/// What the header value starts with, before the hex digest.
const PREFIX: &str = "sha256=";

/// The length of an HMAC-SHA256 digest, in bytes.
const DIGEST_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook body is not accepted as coming from Meta.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SignatureError {
    /// The request carried no `X-Hub-Signature-256` header.
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    #[error("the X-Hub-Signature-256 header is malformed: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header is well formed but was not made from this body with this inbox's app secret.
    #[error("the X-Hub-Signature-256 header does not match the body")]
    Mismatch,
    /// The inbox has no app secret, so no signature can be checked. Anyone can compute an HMAC
    /// with an empty key, so accepting one would accept forgeries.
    #[error("no app secret is configured for this inbox, so its webhooks cannot be verified")]
    NoAppSecret,
}

/// Checks that `header` (the `X-Hub-Signature-256` value, if the request had one) signs `body`
/// with `app_secret`.
pub fn verify(app_secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    if app_secret.is_empty() {
        return Err(SignatureError::NoAppSecret);
    }
    let claimed = decode_header(header.ok_or(SignatureError::Missing)?)?;

    // `verify_slice` compares in constant time.
    keyed_mac(app_secret, body)
        .verify_slice(&claimed)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature-256` value Meta would send with `body`: `sha256=` and the lowercase hex
/// HMAC-SHA256 of the body keyed with `app_secret`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let digest = keyed_mac(app_secret, body).finalize().into_bytes();
    format!("{PREFIX}{}", hex::encode(digest))
}

/// The digest bytes a header value claims.
fn decode_header(header: &str) -> Result<Vec<u8>, SignatureError> {
    let malformed = |reason| SignatureError::Malformed { reason };
    let hex_digest = header
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(malformed("it does not start with `sha256=`"))?;
    let digest = hex::decode(hex_digest).map_err(|_| malformed("the digest is not hexadecimal"))?;
    if digest.len() != DIGEST_BYTES {
        return Err(malformed("the digest is not 64 hex digits long"));
    }
    Ok(digest)
}

/// An HMAC-SHA256 over `body` keyed with `app_secret`, ready to finalize or verify.
fn keyed_mac(app_secret: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (a long key is hashed first), so this constructor cannot
    // fail; it returns a `Result` only because the trait it comes from serves fixed-size ciphers
    // too.
    let mut mac =
        HmacSha256::new_from_slice(app_secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatsapp::corpus;
    use serde_json::Value;

    /// The recomputed Meta vector: app secret, signed body and expected header.
    fn meta_vector() -> (String, Vec<u8>, String) {
        let vectors: Value =
            serde_json::from_slice(&corpus::read("signatures", "signature_vectors.json")).unwrap();
        let vector = &vectors["meta_x_hub_signature_256_recomputed"];
        let body = corpus::read("messenger", "m4j_signed_valid.json");
        (
            vector["app_secret"].as_str().unwrap().to_owned(),
            body,
            vector["expected"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn signing_the_corpus_body_gives_the_recorded_header() {
        let (secret, body, expected) = meta_vector();

        assert_eq!(sign(&secret, &body), expected);
    }

    #[test]
    fn the_recorded_header_verifies_the_corpus_body() {
        let (secret, body, expected) = meta_vector();

        assert_eq!(verify(&secret, &body, Some(&expected)), Ok(()));
    }

    #[test]
    fn an_uppercase_digest_with_surrounding_spaces_is_accepted() {
        let (secret, body, expected) = meta_vector();
        let header = format!(
            " sha256={} ",
            expected.trim_start_matches(PREFIX).to_uppercase()
        );

        assert_eq!(verify(&secret, &body, Some(&header)), Ok(()));
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let (secret, _, expected) = meta_vector();
        let tampered = corpus::read("messenger", "m4j_signed_tampered.json");

        assert_eq!(
            verify(&secret, &tampered, Some(&expected)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_body_signed_with_another_secret_is_refused() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let header = sign("someone else's secret", body);

        assert_eq!(
            verify("our secret", body, Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_missing_header_is_refused() {
        assert_eq!(verify("secret", b"{}", None), Err(SignatureError::Missing));
    }

    #[test]
    fn headers_that_are_not_sha256_hex_digests_are_malformed() {
        let body = b"{}";
        let good = sign("secret", body);
        let headers = [
            String::new(),
            good.trim_start_matches(PREFIX).to_owned(),
            format!("sha1={}", good.trim_start_matches(PREFIX)),
            "sha256=not hex at all".to_owned(),
            good[..good.len() - 2].to_owned(),
            format!("{good}00"),
        ];

        for header in headers {
            let result = verify("secret", body, Some(&header));

            assert!(
                matches!(result, Err(SignatureError::Malformed { .. })),
                "`{header}` gave {result:?}"
            );
        }
    }

    #[test]
    fn an_inbox_without_an_app_secret_accepts_no_signature() {
        let body = b"{}";
        let header = sign("", body);

        assert_eq!(
            verify("", body, Some(&header)),
            Err(SignatureError::NoAppSecret)
        );
    }
}
