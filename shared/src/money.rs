//! Money as integer minor units in the currency's own ISO 4217 exponent, never floats.
//!
//! Shops send prices as decimal strings (Shopify `"598.94"`, WooCommerce `"29.35"`) and
//! sometimes as JSON numbers (a WooCommerce line's `price`). Both are parsed from their
//! text, exactly: an amount that cannot be represented in minor units is refused, never
//! rounded, because a silently rounded revenue figure is worse than a visible error.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused as a currency or an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an ISO 4217 currency code (three ASCII letters)")]
    Currency(String),
    #[error("{0:?} is not a plain decimal amount (optional '-', digits, optional '.' and digits)")]
    Malformed(String),
    #[error("{raw:?} has non-zero digits beyond the {exponent} decimals of {currency}")]
    TooPrecise { raw: String, currency: Currency, exponent: u32 },
    #[error("amount does not fit in 64-bit minor units")]
    Overflow,
    #[error("a JSON {0} is not an amount")]
    NotAnAmount(&'static str),
    #[error("cannot combine {left} and {right} amounts")]
    CurrencyMismatch { left: Currency, right: Currency },
}

/// Errors echo at most this much of the input: enough to debug, not a log flood.
fn excerpt(raw: &str) -> String {
    raw.chars().take(64).collect()
}

/// An ISO 4217 alphabetic code, upper-cased (`"eur"` parses as `EUR`).
///
/// Unknown but well-formed codes are accepted with the common exponent 2: shops are the
/// authority on what they sell in, and refusing an order would lose more than it protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(raw: impl AsRef<str>) -> Result<Self, MoneyError> {
        let raw = raw.as_ref();
        match raw.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => {
                Ok(Self([a, b, c].map(|byte| byte.to_ascii_uppercase())))
            }
            _ => Err(MoneyError::Currency(excerpt(raw))),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("parse admits only ASCII letters")
    }

    /// Decimal digits of the minor unit, from the ISO 4217 table (2 when not listed).
    pub fn exponent(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG" | b"RWF" | b"UGX"
            | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            b"CLF" | b"UYW" => 4,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(raw: String) -> Result<Self, MoneyError> {
        Self::parse(raw)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units (cents for EUR, yen for JPY, fils for KWD) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Parses `-?digits(.digits)?` exactly. Anything else is refused, including `.5`, `1.`,
    /// `+1`, `1e3`, thousands separators and surrounding whitespace: shop platforms never
    /// send those, so seeing one means the field is not what we think it is.
    /// Fewer decimals than the exponent are padded (`"10.5"` EUR is 1050); more are accepted
    /// only if the extra digits are zeros (`"29.350"` EUR is 2935, `"29.355"` is an error).
    pub fn parse_decimal(raw: &str, currency: Currency) -> Result<Self, MoneyError> {
        let malformed = || MoneyError::Malformed(excerpt(raw));
        let (negative, unsigned) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (int, frac) = match unsigned.split_once('.') {
            Some((int, frac)) => (int, frac),
            None => (unsigned, ""),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || (unsigned.contains('.') && !all_digits(frac)) {
            return Err(malformed());
        }
        let exponent = currency.exponent();
        let kept = frac.len().min(exponent as usize);
        let (frac, beyond) = frac.split_at(kept);
        if beyond.bytes().any(|b| b != b'0') {
            return Err(MoneyError::TooPrecise { raw: excerpt(raw), currency, exponent });
        }
        let padding = std::iter::repeat_n(b'0', exponent as usize - kept);
        // Accumulate towards the sign so that i64::MIN, whose magnitude i64 cannot hold
        // positively, still parses.
        let sign = if negative { -1 } else { 1 };
        let mut minor: i64 = 0;
        for digit in int.bytes().chain(frac.bytes()).chain(padding) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(sign * i64::from(digit - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        Ok(Self { minor, currency })
    }

    /// Reads a JSON string (`"29.35"`) or number (`29.35`, `10`) without going through f64
    /// arithmetic: a number is parsed from its textual form, which serde_json prints as the
    /// shortest text that reads back as the same f64. Any decimal of at most 15 significant
    /// digits (every price up to ten trillion with cents) maps to a distinct f64, so that
    /// shortest text is the decimal the shop sent, give or take trailing zeros. Text in
    /// exponent notation (`1e-7`, `1e16`) is out of that range and refused.
    pub fn from_json(value: &serde_json::Value, currency: Currency) -> Result<Self, MoneyError> {
        use serde_json::Value;
        match value {
            Value::String(text) => Self::parse_decimal(text, currency),
            Value::Number(number) => Self::parse_decimal(&number.to_string(), currency),
            Value::Null => Err(MoneyError::NotAnAmount("null")),
            Value::Bool(_) => Err(MoneyError::NotAnAmount("boolean")),
            Value::Array(_) => Err(MoneyError::NotAnAmount("array")),
            Value::Object(_) => Err(MoneyError::NotAnAmount("object")),
        }
    }

    /// Sums two amounts of the same currency; adding euros to yen is a bug, not a total.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency });
        }
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Self { minor, currency: self.currency })
    }
}

/// The plain decimal with exactly the currency's decimals and no code (`598.94`,
/// `1000` for JPY), the same form [`Money::parse_decimal`] reads back. Templates place the
/// code or symbol themselves ([`Money::currency`]), as locales disagree on where it goes.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let magnitude = self.minor.unsigned_abs();
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return write!(f, "{sign}{magnitude}");
        }
        let unit = 10u64.pow(exponent);
        let width = exponent as usize;
        write!(f, "{sign}{}.{:0width$}", magnitude / unit, magnitude % unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn minor(raw: &str, code: &str) -> Result<i64, MoneyError> {
        Money::parse_decimal(raw, cur(code)).map(|m| m.minor())
    }

    #[test]
    fn currency_codes_are_upper_cased_and_strict() {
        assert_eq!(cur("eur").as_str(), "EUR");
        for bad in ["", "EU", "EURO", "E1R", " EUR", "€UR", "ÉUR"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(serde_json::to_string(&cur("jpy")).unwrap(), "\"JPY\"");
        assert!(serde_json::from_str::<Currency>("\"usd1\"").is_err());
    }

    #[test]
    fn exponents_follow_iso_4217() {
        let expected = [("JPY", 0), ("XOF", 0), ("UYI", 0), ("EUR", 2), ("USD", 2), ("KWD", 3)];
        for (code, exponent) in expected.into_iter().chain([("TND", 3), ("CLF", 4), ("UYW", 4)]) {
            assert_eq!(cur(code).exponent(), exponent, "{code}");
        }
    }

    #[test]
    fn fixture_amounts_parse_to_minor_units() {
        assert_eq!(minor("598.94", "EUR"), Ok(59894));
        assert_eq!(minor("0.00", "USD"), Ok(0));
        assert_eq!(minor("29.35", "EUR"), Ok(2935));
        assert_eq!(minor("10.5", "EUR"), Ok(1050));
        assert_eq!(minor("1000", "JPY"), Ok(1000));
        assert_eq!(minor("1.234", "KWD"), Ok(1234));
        assert_eq!(minor("-12.30", "EUR"), Ok(-1230));
    }

    #[test]
    fn extra_decimals_are_accepted_only_when_zero() {
        assert_eq!(minor("29.350", "EUR"), Ok(2935));
        assert_eq!(minor("1000.00", "JPY"), Ok(1000));
        assert!(matches!(minor("29.355", "EUR"), Err(MoneyError::TooPrecise { exponent: 2, .. })));
        assert!(matches!(minor("1.5", "JPY"), Err(MoneyError::TooPrecise { .. })));
    }

    #[test]
    fn anything_but_plain_digits_is_refused() {
        for bad in ["", "-", "1.", ".5", "-.5", "+1", " 1", "1 ", "1e3", "1,00", "1.2.3", "--1", "١٢"] {
            assert!(matches!(minor(bad, "EUR"), Err(MoneyError::Malformed(_))), "{bad:?} accepted");
        }
    }

    #[test]
    fn amounts_beyond_i64_overflow_instead_of_wrapping() {
        assert_eq!(minor("92233720368547758.07", "EUR"), Ok(i64::MAX));
        assert_eq!(minor("-92233720368547758.08", "EUR"), Ok(i64::MIN));
        assert_eq!(minor("92233720368547758.08", "EUR"), Err(MoneyError::Overflow));
        assert_eq!(minor("99999999999999999999999", "JPY"), Err(MoneyError::Overflow));
    }

    #[test]
    fn json_strings_and_numbers_parse_from_their_text() {
        let eur = cur("EUR");
        let parse = |json: &str| Money::from_json(&serde_json::from_str(json).unwrap(), eur);
        assert_eq!(parse("\"29.35\"").unwrap().minor(), 2935);
        assert_eq!(parse("29.35").unwrap().minor(), 2935);
        assert_eq!(parse("10").unwrap().minor(), 1000);
        assert_eq!(parse("10.0").unwrap().minor(), 1000);
        assert_eq!(parse("0.1").unwrap().minor(), 10);
        assert!(matches!(parse("1e-7"), Err(MoneyError::Malformed(_))));
        assert!(matches!(parse("1e20"), Err(MoneyError::Malformed(_))));
        assert_eq!(parse("null"), Err(MoneyError::NotAnAmount("null")));
        assert_eq!(parse("[1]"), Err(MoneyError::NotAnAmount("array")));
    }

    #[test]
    fn display_writes_the_currency_decimals_without_the_code() {
        assert_eq!(Money::from_minor(59894, cur("EUR")).to_string(), "598.94");
        assert_eq!(Money::from_minor(-5, cur("EUR")).to_string(), "-0.05");
        assert_eq!(Money::from_minor(1000, cur("JPY")).to_string(), "1000");
        assert_eq!(Money::from_minor(1234, cur("KWD")).to_string(), "1.234");
        assert_eq!(Money::from_minor(0, cur("CLF")).to_string(), "0.0000");
    }

    #[test]
    fn addition_refuses_mixed_currencies_and_overflow() {
        let eur = |m| Money::from_minor(m, cur("EUR"));
        assert_eq!(eur(2935).checked_add(eur(65)), Ok(eur(3000)));
        assert_eq!(
            eur(1).checked_add(Money::from_minor(1, cur("JPY"))),
            Err(MoneyError::CurrencyMismatch { left: cur("EUR"), right: cur("JPY") })
        );
        assert_eq!(eur(i64::MAX).checked_add(eur(1)), Err(MoneyError::Overflow));
    }

    proptest! {

        #![proptest_config(crate::testing::proptest_config(256))]
        #[test]
        fn formatting_then_parsing_round_trips(minor in any::<i64>(), code in "JPY|EUR|KWD|CLF") {
            let money = Money::from_minor(minor, cur(&code));
            prop_assert_eq!(Money::parse_decimal(&money.to_string(), money.currency()), Ok(money));
        }

        #[test]
        fn json_numbers_with_cents_are_exact(cents in 0i64..1_000_000_000_000_000, negative: bool) {
            let cents = if negative { -cents } else { cents };
            let money = Money::from_minor(cents, cur("EUR"));
            let number: serde_json::Value = serde_json::from_str(&money.to_string()).unwrap();
            prop_assert!(number.is_f64());
            prop_assert_eq!(Money::from_json(&number, money.currency()), Ok(money));
        }

        #[test]
        fn arbitrary_strings_never_panic(raw in any::<String>(), near in "-?[0-9]{0,22}(\\.[0-9]{0,6})?") {
            for code in ["JPY", "EUR", "KWD"] {
                let _ = Money::parse_decimal(&raw, cur(code));
                let _ = Money::parse_decimal(&near, cur(code));
            }
            let _ = Currency::parse(&raw);
        }
    }
}
