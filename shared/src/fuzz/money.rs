//! Money parsing: amount strings (the catalogue's and mutations of real ones) and JSON
//! numbers written as raw text, in currencies of 0, 2, 3 and 4 decimals. An amount taken in
//! must be exactly the decimal that was sent — checked against an independent reading of
//! the text, not against the parser itself.

use crate::money::{Currency, Money};
use crate::testing::fuzz::Verdict;
use crate::testing::mutate::Mutator;
use crate::testing::oddities;

const AMOUNTS: &[&str] = &["598.94", "0.00", "29.35", "10.5", "1000", "-12.30", "3", "0.1", "92233720368547758.07"];
const CURRENCIES: &[&str] = &["EUR", "JPY", "KWD", "CLF", "usd", "XXX"];

pub(super) fn target(m: &mut Mutator) -> Verdict {
    let code = match m.rng().u8(..8) {
        0 => m.text(CURRENCIES[0]),
        _ => CURRENCIES[m.rng().usize(..CURRENCIES.len())].to_owned(),
    };
    let currency = match Currency::parse(&code) {
        Ok(currency) => currency,
        Err(e) => return Verdict::Refused(e.to_string()),
    };
    let raw = match m.rng().u8(..3) {
        0 => oddities::MONEY[m.rng().usize(..oddities::MONEY.len())].to_owned(),
        1 => {
            let amount = AMOUNTS[m.rng().usize(..AMOUNTS.len())];
            m.text(amount)
        }
        _ => AMOUNTS[m.rng().usize(..AMOUNTS.len())].to_owned(),
    };
    let parsed = if m.rng().bool() {
        Money::parse_decimal(&raw, currency).map(|money| (money, raw))
    } else {
        // As a JSON number or string: serde_json decides what reaches from_json.
        let json = if m.rng().bool() { raw.clone() } else { serde_json::Value::String(raw.clone()).to_string() };
        match serde_json::from_str::<serde_json::Value>(&json) {
            Ok(value) => {
                let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                Money::from_json(&value, currency).map(|money| (money, text))
            }
            Err(e) => return Verdict::Refused(format!("not JSON: {e}")),
        }
    };
    match parsed {
        Err(e) => Verdict::Refused(e.to_string()),
        Ok((money, text)) => match exact(&text, currency.exponent()) {
            Some(expected) if expected == money.minor() => {
                if Money::parse_decimal(&money.to_string(), currency) == Ok(money) {
                    Verdict::Accepted
                } else {
                    Verdict::Wrong(format!("{money:?} does not read back from {:?}", money.to_string()))
                }
            }
            other => {
                Verdict::Wrong(format!("{text:?} in {currency} became {} minor units, not {other:?}", money.minor()))
            }
        },
    }
}

/// The minor units `text` states, read independently: `-?digits(.digits)?`, with digits
/// beyond the exponent all zeros; `None` if the text is no such amount or overflows.
fn exact(text: &str, exponent: u32) -> Option<i64> {
    let (negative, unsigned) = text.strip_prefix('-').map_or((false, text), |rest| (true, rest));
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (unsigned.contains('.') && !digits(frac)) {
        return None;
    }
    let exponent = exponent as usize;
    if frac.len() > exponent && frac[exponent..].bytes().any(|b| b != b'0') {
        return None;
    }
    let frac = format!("{frac:0<exponent$}");
    let magnitude: i128 = format!("{int}{}", &frac[..exponent]).parse().ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

#[test]
fn money_mutations_parse_exactly_or_are_refused_with_a_reason() {
    super::short().run("money", target);
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_money() {
    super::long().run("money", target);
}
