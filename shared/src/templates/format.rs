//! Amounts and user text as a mail shows them.
//!
//! Money is formatted from its integer minor units with [`Currency::exponent`], never
//! through a float, so `1234.50` cannot print as `1234.4999`. How a language writes numbers
//! (separators, where the symbol goes) is data in its catalogue, not code here: this file
//! only knows digits. It applies CLDR's one spacing rule the patterns cannot express: a
//! symbol made of letters (`CHF`) gets a no-break space where a sign (`€`) sits against the
//! digits.

use super::Language;
use super::catalogue::{self, NumberFormat};
use crate::money::Money;
use std::collections::BTreeMap;

const NO_BREAK_SPACE: char = '\u{a0}';

/// `1 234,50 €` in French (narrow no-break space between thousands, no-break space before
/// the symbol), `€1,234.50` in English; decimals follow the currency (`¥1,235`).
pub fn format_money(amount: Money, language: Language) -> String {
    match catalogue::get(language) {
        Ok(catalogue) => format_with(amount, &catalogue.number, &catalogue.currencies),
        // Unreachable once the catalogue tests pass; a plain amount beats a failed send.
        Err(_) => format!("{amount} {}", amount.currency()),
    }
}

pub(crate) fn format_with(amount: Money, number: &NumberFormat, symbols: &BTreeMap<String, String>) -> String {
    let exponent = amount.currency().exponent();
    let magnitude = amount.minor().unsigned_abs();
    let unit = 10u64.pow(exponent);
    let mut digits = group_thousands(magnitude / unit, &number.group);
    if exponent > 0 {
        let width = exponent as usize;
        digits.push_str(&number.decimal);
        digits.push_str(&format!("{:0width$}", magnitude % unit));
    }
    let code = amount.currency();
    let symbol = symbols.get(code.as_str()).map_or(code.as_str(), String::as_str);
    let is_letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
    let pattern = if is_letter(symbol.chars().last()) {
        number.pattern.replace("{symbol}{amount}", &format!("{{symbol}}{NO_BREAK_SPACE}{{amount}}"))
    } else {
        number.pattern.clone()
    };
    let pattern = if is_letter(symbol.chars().next()) {
        pattern.replace("{amount}{symbol}", &format!("{{amount}}{NO_BREAK_SPACE}{{symbol}}"))
    } else {
        pattern
    };
    let sign = if amount.minor() < 0 { "-" } else { "" };
    format!("{sign}{}", pattern.replace("{amount}", &digits).replace("{symbol}", symbol))
}

fn group_thousands(integer: u64, separator: &str) -> String {
    let digits = integer.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * separator.len());
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn money(minor: i64, code: &str) -> Money {
        Money::from_minor(minor, Currency::parse(code).unwrap())
    }

    #[test]
    fn amounts_follow_each_language_and_currency() {
        let table = [
            (money(123_450, "EUR"), Language::Fr, "1\u{202f}234,50\u{a0}€"),
            (money(123_450, "EUR"), Language::En, "€1,234.50"),
            (money(5, "EUR"), Language::Fr, "0,05\u{a0}€"),
            (money(100_000_000, "EUR"), Language::En, "€1,000,000.00"),
            (money(1_235, "JPY"), Language::En, "¥1,235"),
            (money(1_235, "JPY"), Language::Fr, "1\u{202f}235\u{a0}JPY"),
            (money(2_990, "USD"), Language::En, "$29.90"),
            (money(2_990, "USD"), Language::Fr, "29,90\u{a0}$US"),
            (money(999, "GBP"), Language::En, "£9.99"),
            (money(4_500, "CHF"), Language::En, "CHF\u{a0}45.00"),
            (money(4_500, "CHF"), Language::Fr, "45,00\u{a0}CHF"),
            (money(4_500, "CAD"), Language::En, "CA$45.00"),
            (money(1_234, "KWD"), Language::En, "KWD\u{a0}1.234"),
            (money(700, "SEK"), Language::Fr, "7,00\u{a0}SEK"),
        ];
        for (amount, language, expected) in table {
            assert_eq!(format_money(amount, language), expected, "{amount:?} in {language}");
        }
    }

    #[test]
    fn thousands_are_grouped_from_the_right() {
        assert_eq!(group_thousands(0, ","), "0");
        assert_eq!(group_thousands(999, ","), "999");
        assert_eq!(group_thousands(1_000, ","), "1,000");
        assert_eq!(group_thousands(12_345_678, "."), "12.345.678");
        assert_eq!(group_thousands(u64::MAX, ","), "18,446,744,073,709,551,615");
    }
}
