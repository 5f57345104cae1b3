//! The signature headers: Shopify's and WooCommerce's base64 HMAC and the generic API's
//! timestamped one, from valid headers mutated and from malformed ones made on purpose
//! (base64 of the wrong length or alphabet, odd timestamps, repeated or missing parts). A
//! header is accepted only if it really carries the MAC of the body, checked here with the
//! HMAC computed independently of the parser.

use crate::signature::{
    Secret, SignatureError, sign_base64_hmac_sha256, sign_timestamped, verify_any, verify_timestamped,
};
use crate::testing::fuzz::Verdict;
use crate::testing::mutate::Mutator;
use base64::{Engine as _, engine::general_purpose};
use chrono::{DateTime, Duration, Utc};
use hmac::Mac;

const TOLERANCE: Duration = Duration::minutes(5);
const NOW: i64 = 1_795_456_800;

fn secrets() -> Vec<Secret> {
    ["s1", "s2"].map(|s| Secret::new(s.to_owned()).expect("not empty")).into()
}

pub(super) fn base64_target(m: &mut Mutator) -> Verdict {
    let secrets = secrets();
    let body: Vec<u8> = (0..m.rng().usize(..64)).map(|_| m.rng().u8(..)).collect();
    let valid = sign_base64_hmac_sha256(&secrets[m.rng().usize(..2)], &body);
    let header = match m.rng().u8(..6) {
        0 => valid,
        1 | 2 => m.text(&valid),
        3 => {
            // Base64 of the wrong length, in either alphabet, padded or not.
            let bytes: Vec<u8> = (0..m.rng().usize(..48)).map(|_| m.rng().u8(..)).collect();
            match m.rng().u8(..3) {
                0 => general_purpose::STANDARD.encode(&bytes),
                1 => general_purpose::URL_SAFE.encode(&bytes),
                _ => general_purpose::STANDARD_NO_PAD.encode(&bytes),
            }
        }
        4 => format!("sha256={valid}"),
        _ => valid.replace('+', "-").replace('/', "_").trim_end_matches('=').to_owned(),
    };
    let tags: Vec<Vec<u8>> =
        secrets.iter().map(|s| s.mac().chain_update(&body).finalize().into_bytes().to_vec()).collect();
    match verify_any(&secrets, &body, &header) {
        Ok(()) => match general_purpose::STANDARD.decode(header.trim()) {
            Ok(sent) if tags.contains(&sent) => Verdict::Accepted,
            _ => Verdict::Wrong(format!("accepted {header:?}, which is no MAC of the body")),
        },
        Err(e) => refused(e),
    }
}

pub(super) fn timestamped_target(m: &mut Mutator) -> Verdict {
    let secrets = secrets();
    let body: Vec<u8> = (0..m.rng().usize(..64)).map(|_| m.rng().u8(..)).collect();
    let (min, max) = (DateTime::<Utc>::MIN_UTC.timestamp(), DateTime::<Utc>::MAX_UTC.timestamp());
    let signed_at = [0, 1, NOW, NOW - 300, NOW + 300, NOW - 301, NOW + 301, 253_402_300_799, max][m.rng().usize(..9)];
    // Mostly the real now; sometimes the epoch or the ends of chrono's range.
    let now = [NOW, 0, max, min][m.rng().usize(..4) * m.rng().usize(..2)];
    let at = |seconds| DateTime::from_timestamp(seconds, 0).expect("within chrono's range");
    let now = at(now);
    let valid = sign_timestamped(&secrets[m.rng().usize(..2)], &body, at(signed_at));
    let header = match m.rng().u8(..8) {
        0 => valid,
        1..=3 => m.text(&valid),
        4 => {
            let (t, v1) = valid.split_once(',').unwrap_or((&valid, ""));
            let t =
                ["t=", "t=+1", "t=-1", "t=0", "t=000000001795456800", "t=9999999999999999999", "t=1e9", "t= 1", "T=1"]
                    [m.rng().usize(..9)]
                .to_owned()
                    + if m.rng().bool() { &t[2..] } else { "" };
            format!("{t},{v1}")
        }
        5 => {
            let v1 = valid.split_once(',').map_or("", |(_, v1)| v1);
            let parts = [valid.as_str(), v1, &v1.to_uppercase(), "v1=", "v0=ab", "t=1", ""];
            (0..m.rng().usize(..12)).map(|_| parts[m.rng().usize(..parts.len())]).collect::<Vec<_>>().join(",")
        }
        6 => valid.replace(',', [";", ", ", ",,", " ,"][m.rng().usize(..4)]),
        _ => format!("{valid},{}", valid.split_once(',').map_or("", |(_, v1)| v1).repeat(m.rng().usize(..10))),
    };
    match verify_timestamped(&secrets, &body, &header, now, TOLERANCE) {
        Ok(at) => authentic(&secrets, &body, &header, now, at),
        Err(e) => refused(e),
    }
}

/// An accepted timestamped header must hold the MAC of `"<its t>.<body>"` and a time within
/// the tolerance of now.
fn authentic(secrets: &[Secret], body: &[u8], header: &str, now: DateTime<Utc>, at: DateTime<Utc>) -> Verdict {
    let Some(t) = header.trim().split(',').find_map(|p| p.strip_prefix("t=")) else {
        return Verdict::Wrong(format!("accepted {header:?} without a t"));
    };
    let macs: Vec<String> = secrets
        .iter()
        .map(|s| {
            let tag = s.mac().chain_update(t).chain_update(b".").chain_update(body).finalize().into_bytes();
            tag.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect();
    let carried =
        header.trim().split(',').filter_map(|p| p.strip_prefix("v1=")).any(|v| macs.contains(&v.to_ascii_lowercase()));
    if !carried || (now - at).abs() > TOLERANCE || t.parse::<i64>().ok() != Some(at.timestamp()) {
        return Verdict::Wrong(format!("accepted {header:?} at {at} (now {now})"));
    }
    Verdict::Accepted
}

fn refused(error: SignatureError) -> Verdict {
    Verdict::Refused(error.to_string())
}

#[test]
fn base64_signature_mutations_verify_only_when_authentic() {
    super::short().run("base64 signature", base64_target);
}

#[test]
fn timestamped_signature_mutations_verify_only_when_authentic() {
    super::short().run("timestamped signature", timestamped_target);
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_base64_signature() {
    super::long().run("base64 signature", base64_target);
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_timestamped_signature() {
    super::long().run("timestamped signature", timestamped_target);
}
