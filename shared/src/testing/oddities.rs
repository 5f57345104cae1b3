//! The values senders get wrong, as catalogues the mutator draws from: amounts, numbers,
//! text, times and ids at and beyond the edges the parsers define. Kept apart from the
//! mutation logic so a new oddity (one a bug report showed) is one line here.

use fastrand::Rng;

/// Amount strings: over-precise, signed zero, exponents, not-a-number, separators, other
/// scripts' digits, beyond 64-bit minor units, and the valid edges (`i64::MIN` in cents).
pub const MONEY: &[&str] = &[
    "1e400",
    "-0.00",
    "12.345",
    "NaN",
    "Infinity",
    "-Infinity",
    "-",
    "",
    " ",
    " 1.00",
    "1.00 ",
    "1,00",
    "1.000,00",
    "١٢٫٥",
    "１２",
    "0x10",
    "+1",
    "1.",
    ".5",
    "-.5",
    "--1",
    "1.2.3",
    "1e3",
    "1E-2",
    "00012.30",
    "-0",
    "0.0000000000000000000001",
    "12.30000000000000000000",
    "12.30000000000000000001",
    "99999999999999999999999",
    "92233720368547758.07",
    "92233720368547758.08",
    "-92233720368547758.08",
    "-92233720368547758.09",
    "18446744073709551616",
    "€12.00",
    "12.00 EUR",
    "12\u{0}",
    "1_000",
];

/// JSON number tokens `serde_json::Value` cannot hold or never writes (out of f64 range,
/// beyond u64, odd forms) and tokens that are not JSON at all; inserted as raw text.
pub const RAW_NUMBERS: &[&str] = &[
    "1e400",
    "-1e400",
    "1e-400",
    "1E+2",
    "0e0",
    "-0",
    "-0.0",
    "123456789012345678901234567890",
    "-123456789012345678901234567890",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    "4.9e-324",
    "NaN",
    "Infinity",
    "-Infinity",
    "01",
    "1.",
    ".5",
    "+1",
    "0x10",
];

/// Numbers a `Value` can hold: integer edges, 2^53 + 1, negatives, fractions, exponents.
pub fn number(rng: &mut Rng) -> serde_json::Value {
    use serde_json::json;
    match rng.u8(..14) {
        0 => json!(u64::MAX),
        1 => json!(i64::MIN),
        2 => json!(9_007_199_254_740_993u64),
        3 => json!(-1),
        4 => json!(0),
        5 => json!(-0.0),
        6 => json!(12.345),
        7 => json!(0.1),
        8 => json!(1e300),
        9 => json!(5e-324),
        10 => json!(f64::MAX),
        11 => json!(u32::MAX as u64 + 1),
        12 => json!(rng.i64(..)),
        _ => json!(rng.f64() * 10f64.powi(rng.i32(-10..30))),
    }
}

/// Raw JSON string literals (quotes included) a `Value` cannot hold: lone and reversed
/// surrogates, escaped as the sender wrote them. serde_json refuses these; what matters is
/// that the refusal is a 400, not a crash.
pub const RAW_STRINGS: &[&str] = &[
    r#""\ud800""#,
    r#""\udc00\ud800""#,
    r#""a\ud83d""#,
    r#""\ud83d\ude00""#,
    r#""\u0000""#,
    r#""\uDFFF""#,
    r#""\u""#,
    r#""\x41""#,
];

/// Odd text: combining marks, bidirectional overrides, NUL and control characters, emoji
/// sequences, invisible and separator characters, entities, and lengths at the id limits.
pub fn text(rng: &mut Rng) -> String {
    match rng.u8(..20) {
        0 => "e\u{301}\u{302}\u{303}\u{304}".repeat(rng.usize(1..2_000)),
        1 => "\u{202e}gnirts\u{202c} \u{200f}عربي\u{200e}".to_owned(),
        2 => "a\u{0}b".to_owned(),
        3 => "👩‍👩‍👧‍👦🏳️‍🌈🇫🇷".repeat(rng.usize(1..50)),
        4 => "\u{feff}\u{200b}\u{2028}\u{2029}\u{85}".to_owned(),
        5 => "\r\n\t \u{b}\u{c}".to_owned(),
        6 => "&#x110000;&#0;&amp;ndash;&#99999999999;&#xD800;&".to_owned(),
        7 => "x".repeat(100 * 1024),
        8 => "é".repeat(50 * 1024),
        9 => "a".repeat(255),
        10 => "a".repeat(256),
        11 => "a".repeat(257),
        12 => "a#b".to_owned(),
        13 => "   ".to_owned(),
        14 => "@".to_owned(),
        15 => "anne@example.fr\u{0}".to_owned(),
        16 => "/?utm_source=%FF%FE&utm_campaign=%&utm_medium=a=b#?".to_owned(),
        17 => "<script>alert(1)</script>".to_owned(),
        18 => "\u{10ffff}\u{fffd}\u{fffe}".to_owned(),
        _ => (0..rng.usize(1..64)).map(|_| rng.char(..)).collect(),
    }
}

/// Times: out of range fields, leap seconds, far years, missing offsets, other formats.
pub const TIMES: &[&str] = &[
    "2026-13-45T25:61:61Z",
    "2026-02-30T00:00:00Z",
    "2016-12-31T23:59:60Z",
    "+275760-09-13T00:00:00Z",
    "9999-12-31T23:59:59.999999999-23:59",
    "0000-01-01T00:00:00+00:00",
    "0000-00-00 00:00:00",
    "2026-11-23T18:00:00",
    "2026-11-23 18:00:00",
    "2026-11-23",
    "1795456800",
    "2026-11-23T18:00:00.123456789123456789Z",
    "2026-11-23T18:00:00+99:99",
    "yesterday",
];

/// Ids: zero, negative, beyond u64, with a key separator, blank, very long.
pub const IDS: &[&str] = &["0", "-1", "18446744073709551616", "a#b", " ", "1 2", "\u{0}", "1.5", "0x1f"];

/// Any one oddity as a string.
pub fn string(rng: &mut Rng) -> String {
    match rng.u8(..4) {
        0 => MONEY[rng.usize(..MONEY.len())].to_owned(),
        1 => TIMES[rng.usize(..TIMES.len())].to_owned(),
        2 => IDS[rng.usize(..IDS.len())].to_owned(),
        _ => text(rng),
    }
}
