//! Identifier newtypes, parsed once at the edge so the domain never handles a raw string
//! that might be empty, oversized or carry a key separator.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a raw string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} bytes")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains a forbidden character ({found:?})")]
    Forbidden { kind: &'static str, found: char },
    #[error("{0:?} is not an e-mail address")]
    Email(String),
}

/// Key segments are joined with `#` in DynamoDB keys; ids must never contain it, nor
/// control characters (which would also let a value break a log line or a mail header).
fn check_key_segment(kind: &'static str, raw: &str, max: usize) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if raw.len() > max {
        return Err(IdError::TooLong { kind, max });
    }
    match raw.chars().find(|c| *c == '#' || c.is_control() || c.is_whitespace()) {
        Some(found) => Err(IdError::Forbidden { kind, found }),
        None => Ok(()),
    }
}

macro_rules! key_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                check_key_segment($kind, &raw, $max)?;
                Ok(Self(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

key_id!(
    /// A shop of this deployment, e.g. its Shopify domain `example.myshopify.com`.
    ShopId,
    "shop id",
    255
);
key_id!(
    /// Relance's own id of a unified customer profile (stable across identity merges).
    ProfileId,
    "profile id",
    128
);
key_id!(
    /// A canonical event's id: derived from the platform's delivery or event id, so the
    /// same delivery always maps to the same id and de-duplication can key on it.
    EventId,
    "event id",
    256
);

key_id!(
    /// An id given by the shop's platform (customer, order, product, checkout token…),
    /// kept as text: Shopify ids exceed 2^53 and must never pass through a float.
    ExternalId,
    "external id",
    256
);
key_id!(
    /// The anonymous id a browser keeps for a visitor before they identify themselves.
    VisitorId,
    "visitor id",
    128
);

/// An e-mail address, trimmed and lower-cased so that one person has one key.
///
/// This is deliberately not a full RFC 5322 parser: SES is the authority on deliverability;
/// we only refuse what can never be an address or could inject into a header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: impl AsRef<str>) -> Result<Self, IdError> {
        let candidate = raw.as_ref().trim().to_lowercase();
        let valid = candidate.len() <= 254
            && !candidate.chars().any(|c| c.is_control() || c.is_whitespace() || "<>,;\"#".contains(c))
            && match candidate.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid { Ok(Self(candidate)) } else { Err(IdError::Email(raw.as_ref().chars().take(64).collect())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = IdError;
    fn try_from(raw: String) -> Result<Self, IdError> {
        Self::parse(raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_refuse_separators_controls_and_empty() {
        assert!(ShopId::parse("demo.myshopify.com").is_ok());
        assert_eq!(ShopId::parse(""), Err(IdError::Empty { kind: "shop id" }));
        assert!(matches!(ProfileId::parse("a#b"), Err(IdError::Forbidden { found: '#', .. })));
        assert!(matches!(EventId::parse("a\nb"), Err(IdError::Forbidden { .. })));
        assert!(matches!(ShopId::parse("x".repeat(256)), Err(IdError::TooLong { .. })));
    }

    #[test]
    fn emails_are_normalised_and_header_safe() {
        assert_eq!(Email::parse("  Bob@Example.COM ").unwrap().as_str(), "bob@example.com");
        for bad in ["", "bob", "bob@localhost", "a@b@c.com", "bob@ex.com\r\nBcc: x@y.z", "<a@b.c>", "@b.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ids_deserialize_through_parse() {
        let err = serde_json::from_str::<ShopId>("\"a#b\"").unwrap_err();
        assert!(err.to_string().contains("forbidden"));
        let email: Email = serde_json::from_str("\"A@B.fr\"").unwrap();
        assert_eq!(email.as_str(), "a@b.fr");
    }
}
