//! Reading one cell as a value of the domain: times, money, yes/no, ids. Each error names
//! the column and says what was expected, for the report of rows skipped.

use super::table::Row;
use chrono::{DateTime, Utc};
use relance::ids::{Email, ExternalId};
use relance::money::{Currency, Money};

/// An import's statements with no date of their own (a customers export has none) are
/// stamped with this instant: any dated statement — a webhook, the unsubscribe link — is
/// newer and wins, so an import never overrides what Relance already knows.
pub const UNDATED: DateTime<Utc> = DateTime::UNIX_EPOCH;

pub type Cell<T> = Result<T, String>;

pub fn required<'r>(row: &'r Row<'_>, column: &str) -> Cell<&'r str> {
    row.get(column).ok_or_else(|| format!("{column} is empty"))
}

/// RFC 3339 (`2026-11-23T17:30:00+01:00`) or Shopify's export form (`2025-10-07 09:50:26 +0200`).
pub fn time(row: &Row<'_>, column: &str) -> Cell<Option<DateTime<Utc>>> {
    let Some(text) = row.get(column) else { return Ok(None) };
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z"))
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| format!("{column} {text:?} is not a time with an offset (2026-11-23T17:30:00+01:00)"))
}

pub fn currency(row: &Row<'_>, column: &str) -> Cell<Currency> {
    let text = required(row, column)?;
    Currency::parse(text).map_err(|e| format!("{column}: {e}"))
}

/// An amount in the currency's decimal notation (`598.94`), exact: never through a float.
pub fn money(row: &Row<'_>, column: &str, currency: Currency) -> Cell<Option<Money>> {
    let Some(text) = row.get(column) else { return Ok(None) };
    Money::parse_decimal(text, currency).map(Some).map_err(|e| format!("{column}: {e}"))
}

pub fn yes_no(row: &Row<'_>, column: &str) -> Cell<Option<bool>> {
    let Some(text) = row.get(column) else { return Ok(None) };
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Ok(Some(true)),
        "no" | "false" | "0" => Ok(Some(false)),
        _ => Err(format!("{column} {text:?} is neither yes nor no")),
    }
}

pub fn quantity(row: &Row<'_>, column: &str) -> Cell<u32> {
    let text = required(row, column)?;
    text.parse().map_err(|_| format!("{column} {text:?} is not a whole number"))
}

pub fn email(row: &Row<'_>, column: &str) -> Cell<Option<Email>> {
    row.get(column).map(|text| Email::parse(text).map_err(|e| format!("{column}: {e}"))).transpose()
}

pub fn external_id(row: &Row<'_>, column: &str) -> Cell<Option<ExternalId>> {
    row.get(column).map(|text| ExternalId::parse(text).map_err(|e| format!("{column}: {e}"))).transpose()
}

/// A list in one cell, comma-separated (Shopify's `Tags`).
pub fn list(row: &Row<'_>, column: &str) -> Vec<String> {
    row.get(column)
        .map(|text| text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A key for event ids that holds no personal data: ids appear in logs, e-mail addresses
/// must not (a SHA-256 prefix of the address).
pub fn hashed(email: &Email) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(email.as_str().as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
}
