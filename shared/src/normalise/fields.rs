//! Reading fields out of platform JSON without trusting its types: ids that are numbers
//! or strings, money that is a string or a number, times with or without an offset.

use super::NormaliseError;
use crate::ids::{Email, ExternalId};
use crate::money::{Currency, Money};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// A non-empty string field, trimmed; `None` when absent, null or blank.
pub fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A platform id given as a JSON integer (exact, never through f64) or string. `0` and
/// blank mean "none" (WooCommerce guests have `customer_id: 0`).
pub fn external_id(value: &Value, key: &'static str) -> Result<Option<ExternalId>, NormaliseError> {
    let raw = match value.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => return Err(NormaliseError::field(key, "is not an id")),
    };
    if raw.is_empty() || raw == "0" {
        return Ok(None);
    }
    ExternalId::parse(raw).map(Some).map_err(|e| NormaliseError::field(key, e))
}

/// Like [`external_id`], but the field must be there.
pub fn required_id(value: &Value, key: &'static str) -> Result<ExternalId, NormaliseError> {
    external_id(value, key)?.ok_or_else(|| NormaliseError::field(key, "is missing"))
}

/// An e-mail field; a malformed address is dropped rather than failing the event (a
/// typo'd address must not lose the order), and blank means none.
pub fn email(value: &Value, key: &str) -> Option<Email> {
    text(value, key).and_then(|raw| Email::parse(raw).ok())
}

/// A time with an offset (`2008-01-10T11:00:00-05:00`, RFC 3339) or, for fields that are
/// documented as UTC without one (WooCommerce `*_gmt`), a naive time read as UTC.
pub fn time(value: &Value, key: &'static str) -> Result<Option<DateTime<Utc>>, NormaliseError> {
    let Some(raw) = text(value, key) else { return Ok(None) };
    parse_time(&raw).map(Some).ok_or_else(|| NormaliseError::field(key, format!("{raw:?} is not a time")))
}

pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc()))
        .or_else(|| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S").ok().map(|t| t.and_utc()))
}

/// An amount field (string or number) in `currency`.
pub fn money(value: &Value, key: &'static str, currency: Currency) -> Result<Option<Money>, NormaliseError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(amount) => Money::from_json(amount, currency).map(Some).map_err(|e| NormaliseError::field(key, e)),
    }
}

pub fn required_money(value: &Value, key: &'static str, currency: Currency) -> Result<Money, NormaliseError> {
    money(value, key, currency)?.ok_or_else(|| NormaliseError::field(key, "is missing"))
}

/// The payload's currency field, else the shop's.
pub fn currency(value: &Value, key: &'static str, fallback: Option<Currency>) -> Result<Currency, NormaliseError> {
    match text(value, key) {
        Some(code) => Currency::parse(code).map_err(|e| NormaliseError::field(key, e)),
        None => fallback.ok_or_else(|| NormaliseError::field(key, "is missing and the shop has no currency")),
    }
}

/// A non-negative integer quantity.
pub fn quantity(value: &Value, key: &'static str) -> Result<u32, NormaliseError> {
    match value.get(key) {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|q| u32::try_from(q).ok())
            .ok_or_else(|| NormaliseError::field(key, "is not a quantity")),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| NormaliseError::field(key, "is not a quantity")),
        _ => Err(NormaliseError::field(key, "is missing")),
    }
}

/// The elements of an array field; absent or null is empty.
pub fn array<'v>(value: &'v Value, key: &'static str) -> Result<&'v [Value], NormaliseError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(NormaliseError::field(key, "is not an array")),
    }
}

/// Parses a delivery body as a JSON object.
pub fn object(body: &[u8]) -> Result<Value, NormaliseError> {
    let value: Value = serde_json::from_slice(body).map_err(NormaliseError::Json)?;
    if value.is_object() { Ok(value) } else { Err(NormaliseError::field("body", "is not a JSON object")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_beyond_f64_precision_stay_exact() {
        let body: Value = serde_json::from_str(r#"{"id": 820982911946154508, "c": 0, "s": " 42 "}"#).unwrap();
        assert_eq!(required_id(&body, "id").unwrap().as_str(), "820982911946154508");
        assert_eq!(external_id(&body, "c").unwrap(), None);
        assert_eq!(external_id(&body, "s").unwrap().unwrap().as_str(), "42");
        assert!(external_id(&json!({"x": 1.5}), "x").is_err());
    }

    #[test]
    fn times_with_offsets_and_woocommerce_gmt_fields_are_utc() {
        assert_eq!(parse_time("2008-01-10T11:00:00-05:00").unwrap().to_rfc3339(), "2008-01-10T16:00:00+00:00");
        assert_eq!(parse_time("2017-03-22T19:09:22").unwrap().to_rfc3339(), "2017-03-22T19:09:22+00:00");
        assert!(parse_time("yesterday").is_none());
    }
}
