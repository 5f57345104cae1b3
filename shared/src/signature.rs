//! Webhook signature verification, over the exact bytes received and in constant time.
//!
//! Two schemes: the platforms' base64 HMAC-SHA256 of the raw body (SPECS: Shopify webhooks;
//! SPECS: WooCommerce webhooks), and Relance's own timestamped scheme for shops that call
//! the generic API (PrestaShop, Magento, custom), which also bounds replays in time.
//! Every function takes a list of secrets so that a secret can be rotated without downtime.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use subtle::{Choice, ConstantTimeEq};

pub(crate) type HmacSha256 = Hmac<Sha256>;
pub(crate) type Tag = [u8; 32];

/// The header of the generic API scheme: `t=<unix seconds>,v1=<hex HMAC>[,v1=…]`.
pub const TIMESTAMPED_HEADER: &str = "X-Relance-Signature";

/// At most this many `v1` entries: rotation needs two, more is an attempt to burn CPU.
const MAX_SIGNATURES: usize = 8;

/// Why a request's signature was refused. None of them echo the header: it is
/// attacker-controlled and tells an operator nothing the variant does not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature header is malformed: {0}")]
    Malformed(&'static str),
    #[error("signature does not match the body")]
    Mismatch,
    #[error("signature is {}s old, beyond the tolerance", age.num_seconds())]
    Expired { age: Duration },
    #[error("signature is dated {}s in the future, beyond the tolerance", ahead.num_seconds())]
    FromTheFuture { ahead: Duration },
}

/// An empty secret would let anyone sign: it is a configuration error, refused at init.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret must not be empty")]
pub struct EmptySecret;

/// A shared webhook secret. It never prints (`Secret(***)`) so that it cannot leak into a
/// log line through `{:?}` on a config struct, and it has no `Display` on purpose.
#[derive(Clone, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Result<Self, EmptySecret> {
        if value.is_empty() { Err(EmptySecret) } else { Ok(Self(value)) }
    }

    pub(crate) fn mac(&self) -> HmacSha256 {
        <HmacSha256 as KeyInit>::new_from_slice(self.0.as_bytes()).expect("HMAC accepts keys of any length")
    }
}

impl TryFrom<String> for Secret {
    type Error = EmptySecret;
    fn try_from(value: String) -> Result<Self, EmptySecret> {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

pub(crate) fn tag(mac: HmacSha256) -> Tag {
    mac.finalize().into_bytes().into()
}

/// True if any secret's tag equals any candidate. Every pair is compared, and the results
/// are combined with `subtle`, so timing reveals neither which secret nor how many bytes
/// matched.
pub(crate) fn any_matches(secrets: &[Secret], candidates: &[Tag], sign: impl Fn(HmacSha256) -> Tag) -> bool {
    let mut matched = Choice::from(0);
    for secret in secrets {
        let expected = sign(secret.mac());
        for candidate in candidates {
            matched |= expected.ct_eq(candidate);
        }
    }
    matched.into()
}

/// `base64(HMAC-SHA256(secret, body))`, as Shopify and WooCommerce send it.
pub fn sign_base64_hmac_sha256(secret: &Secret, body: &[u8]) -> String {
    STANDARD.encode(tag(secret.mac().chain_update(body)))
}

/// Checks `X-Shopify-Hmac-Sha256` or `X-WC-Webhook-Signature` against the raw body.
pub fn verify_base64_hmac_sha256(secret: &Secret, body: &[u8], header: &str) -> Result<(), SignatureError> {
    verify_any(std::slice::from_ref(secret), body, header)
}

/// [`verify_base64_hmac_sha256`] against every secret currently valid for the shop.
pub fn verify_any(secrets: &[Secret], body: &[u8], header: &str) -> Result<(), SignatureError> {
    let decoded = STANDARD.decode(header.trim()).map_err(|_| SignatureError::Malformed("not standard base64"))?;
    let candidate: Tag = decoded.try_into().map_err(|_| SignatureError::Malformed("not a 32-byte HMAC-SHA256"))?;
    if any_matches(secrets, &[candidate], |mac| tag(mac.chain_update(body))) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The generic API header for `body` sent at `t`: `t=<unix seconds>,v1=<hex>`.
/// Sub-second precision is dropped; times before 1970 are not verifiable (`t` has no sign).
pub fn sign_timestamped(secret: &Secret, body: &[u8], t: DateTime<Utc>) -> String {
    let seconds = t.timestamp().to_string();
    format!("t={seconds},v1={}", to_hex(&signed_payload(secret.mac(), &seconds, body)))
}

/// The MAC covers `"<t>.<body>"`, so a captured request cannot be replayed with a fresh
/// timestamp; the tolerance then bounds how long a captured request stays replayable.
fn signed_payload(mac: HmacSha256, seconds: &str, body: &[u8]) -> Tag {
    tag(mac.chain_update(seconds).chain_update(b".").chain_update(body))
}

/// Checks an `X-Relance-Signature` header and returns the time it was signed.
///
/// Parsing is strict: exactly one `t` of ASCII digits, one to [`MAX_SIGNATURES`] `v1`
/// entries of 64 hex digits, nothing else, no spaces inside. The signature is checked
/// before the time window, so `Expired` and `FromTheFuture` only ever describe authentic
/// requests (a replay or a skewed clock), never forgeries.
pub fn verify_timestamped(
    secrets: &[Secret],
    body: &[u8],
    header: &str,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<DateTime<Utc>, SignatureError> {
    let mut seconds = None;
    let mut candidates = Vec::new();
    for part in header.trim().split(',') {
        match part.split_once('=') {
            Some(("t", value)) if seconds.is_none() => seconds = Some(value),
            Some(("t", _)) => return Err(SignatureError::Malformed("more than one t")),
            Some(("v1", value)) if candidates.len() < MAX_SIGNATURES => {
                candidates.push(from_hex(value).ok_or(SignatureError::Malformed("v1 is not 64 hex digits"))?)
            }
            Some(("v1", _)) => return Err(SignatureError::Malformed("too many v1 entries")),
            _ => return Err(SignatureError::Malformed("expected t=…,v1=…")),
        }
    }
    let seconds = seconds.ok_or(SignatureError::Malformed("no t"))?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed("no v1"));
    }
    let signed_at = parse_unix_seconds(seconds).ok_or(SignatureError::Malformed("t is not unix seconds"))?;
    if !any_matches(secrets, &candidates, |mac| signed_payload(mac, seconds, body)) {
        return Err(SignatureError::Mismatch);
    }
    let age = now - signed_at;
    if age > tolerance {
        Err(SignatureError::Expired { age })
    } else if -age > tolerance {
        Err(SignatureError::FromTheFuture { ahead: -age })
    } else {
        Ok(signed_at)
    }
}

/// Digits only (no sign, no spaces), and within chrono's range.
fn parse_unix_seconds(text: &str) -> Option<DateTime<Utc>> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    DateTime::from_timestamp(text.parse().ok()?, 0)
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

fn from_hex(text: &str) -> Option<Tag> {
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FOX: &[u8] = b"The quick brown fox jumps over the lazy dog";

    fn secret(value: &str) -> Secret {
        Secret::new(value.to_owned()).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn base64_signature_matches_an_independent_computation() {
        // python3: base64.b64encode(hmac.new(b'key', FOX, hashlib.sha256).digest())
        let expected = "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";
        assert_eq!(sign_base64_hmac_sha256(&secret("key"), FOX), expected);
        assert_eq!(verify_base64_hmac_sha256(&secret("key"), FOX, expected), Ok(()));
        assert_eq!(verify_base64_hmac_sha256(&secret("key"), FOX, &format!(" {expected}\r\n")), Ok(()));
    }

    #[test]
    fn tampered_body_or_wrong_secret_is_a_mismatch() {
        let header = sign_base64_hmac_sha256(&secret("key"), FOX);
        let tampered = b"The quick brown fox jumps over the lazy cat";
        assert_eq!(verify_base64_hmac_sha256(&secret("key"), tampered, &header), Err(SignatureError::Mismatch));
        assert_eq!(verify_base64_hmac_sha256(&secret("other"), FOX, &header), Err(SignatureError::Mismatch));
        assert_eq!(verify_any(&[], FOX, &header), Err(SignatureError::Mismatch));
    }

    #[test]
    fn garbage_empty_or_truncated_headers_are_malformed() {
        let header = sign_base64_hmac_sha256(&secret("key"), FOX);
        for bad in ["", "   ", "not base64!", "sha256=abc", &header[..40], &format!("{header}AAAA")] {
            let result = verify_base64_hmac_sha256(&secret("key"), FOX, bad);
            assert!(matches!(result, Err(SignatureError::Malformed(_))), "{bad:?} gave {result:?}");
        }
    }

    #[test]
    fn any_current_secret_verifies_during_rotation() {
        let header = sign_base64_hmac_sha256(&secret("new"), FOX);
        assert_eq!(verify_any(&[secret("old"), secret("new")], FOX, &header), Ok(()));
        assert_eq!(verify_any(&[secret("old")], FOX, &header), Err(SignatureError::Mismatch));
    }

    #[test]
    fn secrets_never_print_and_are_never_empty() {
        assert_eq!(format!("{:?}", secret("hunter2")), "Secret(***)");
        assert_eq!(Secret::new(String::new()).unwrap_err(), EmptySecret);
    }

    #[test]
    fn timestamped_signature_matches_an_independent_computation() {
        // python3: hmac.new(b'whsec_test', b'1700000000.{"id":1}', hashlib.sha256).hexdigest()
        let expected = "t=1700000000,v1=2f441ba4b3b2d50d28a9ab9d9fd8880376ecd1eb5d0435401553f5d8d0a5dcf8";
        assert_eq!(sign_timestamped(&secret("whsec_test"), br#"{"id":1}"#, at(1_700_000_000)), expected);
    }

    #[test]
    fn timestamped_signature_within_tolerance_returns_its_time() {
        let header = sign_timestamped(&secret("s"), b"{}", at(1_000));
        let verify = |now| verify_timestamped(&[secret("s")], b"{}", &header, at(now), Duration::seconds(300));
        assert_eq!(verify(1_000), Ok(at(1_000)));
        assert_eq!(verify(1_300), Ok(at(1_000)));
        assert_eq!(verify(700), Ok(at(1_000)));
    }

    #[test]
    fn replaying_an_old_header_fails_once_the_tolerance_has_passed() {
        let header = sign_timestamped(&secret("s"), b"{}", at(1_000));
        let verify = |now| verify_timestamped(&[secret("s")], b"{}", &header, at(now), Duration::seconds(300));
        assert_eq!(verify(1_301), Err(SignatureError::Expired { age: Duration::seconds(301) }));
        assert_eq!(verify(699), Err(SignatureError::FromTheFuture { ahead: Duration::seconds(301) }));
    }

    #[test]
    fn timestamped_tampering_is_a_mismatch() {
        let s = [secret("s")];
        let header = sign_timestamped(&s[0], b"{}", at(1_000));
        let verify =
            |body: &[u8], header: &str| verify_timestamped(&s, body, header, at(1_000), Duration::seconds(300));
        assert_eq!(verify(b"{ }", &header), Err(SignatureError::Mismatch));
        let moved = header.replace("t=1000", "t=1001");
        assert_eq!(verify(b"{}", &moved), Err(SignatureError::Mismatch));
        let other = sign_timestamped(&secret("other"), b"{}", at(1_000));
        assert_eq!(verify(b"{}", &other), Err(SignatureError::Mismatch));
    }

    #[test]
    fn several_v1_entries_allow_rotation() {
        let old = sign_timestamped(&secret("old"), b"{}", at(1_000));
        let new = sign_timestamped(&secret("new"), b"{}", at(1_000));
        let both = format!("{old},{}", new.split_once(',').unwrap().1);
        let verify = |secrets: &[Secret]| verify_timestamped(secrets, b"{}", &both, at(1_000), Duration::seconds(5));
        assert_eq!(verify(&[secret("new")]), Ok(at(1_000)));
        assert_eq!(verify(&[secret("old")]), Ok(at(1_000)));
        assert_eq!(verify(&[secret("neither")]), Err(SignatureError::Mismatch));
    }

    #[test]
    fn timestamped_headers_are_parsed_strictly() {
        let good = sign_timestamped(&secret("s"), b"{}", at(1_000));
        let v1 = good.split_once(',').unwrap().1;
        let bad = [
            String::new(),
            "t=1000".to_owned(),
            v1.to_owned(),
            format!("t=1000,{v1},v0=abc"),
            format!("t=1000, {v1}"),
            format!("t=+1000,{v1}"),
            format!("t=-1,{v1}"),
            format!("t=1000,t=1000,{v1}"),
            format!("t=99999999999999999999,{v1}"),
            format!("t=1000,{}", &v1[..v1.len() - 2]),
            format!("t=1000,{}zz", &v1[..v1.len() - 2]),
            format!("t=1000{}", format!(",{v1}").repeat(MAX_SIGNATURES + 1)),
        ];
        for header in &bad {
            let result = verify_timestamped(&[secret("s")], b"{}", header, at(1_000), Duration::seconds(5));
            assert!(matches!(result, Err(SignatureError::Malformed(_))), "{header:?} gave {result:?}");
        }
    }

    proptest! {

        #![proptest_config(crate::testing::proptest_config(256))]
        #[test]
        fn arbitrary_bodies_and_headers_never_panic(body: Vec<u8>, header: String, now in 0i64..4_102_444_800) {
            let secrets = [secret("s")];
            let _ = verify_any(&secrets, &body, &header);
            let now = at(now);
            let _ = verify_timestamped(&secrets, &body, &header, now, Duration::seconds(300));
            let signed = sign_timestamped(&secrets[0], &body, now);
            prop_assert_eq!(verify_timestamped(&secrets, &body, &signed, now, Duration::zero()), Ok(now));
        }

        #[test]
        fn near_miss_timestamped_headers_never_panic(header in "t=[0-9+-]{0,20}(,v1=[0-9a-fA-F]{0,66}){0,3},?") {
            let _ = verify_timestamped(&[secret("s")], b"{}", &header, at(1_000), Duration::seconds(300));
        }
    }
}
