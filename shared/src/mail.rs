//! A rendered mail ready to hand to the mailer, built so that it cannot carry a header
//! injection: subjects and header values are parsed, never concatenated.

use crate::ids::Email;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("subject is empty")]
    EmptySubject,
    #[error("{what} contains CR or LF")]
    LineBreak { what: &'static str },
    #[error("header name {0:?} is not a valid RFC 5322 field name")]
    HeaderName(String),
    #[error("unsubscribe URL must be absolute https or http: {0:?}")]
    UnsubscribeUrl(String),
}

fn refuse_line_breaks(what: &'static str, value: &str) -> Result<(), MailError> {
    if value.contains(['\r', '\n']) { Err(MailError::LineBreak { what }) } else { Ok(()) }
}

/// A subject line: one line, non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject(String);

impl Subject {
    pub fn parse(raw: impl Into<String>) -> Result<Self, MailError> {
        let raw = raw.into();
        refuse_line_breaks("subject", &raw)?;
        if raw.trim().is_empty() {
            return Err(MailError::EmptySubject);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An extra header (List-Unsubscribe and friends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailHeader {
    name: String,
    value: String,
}

impl MailHeader {
    pub fn parse(name: impl Into<String>, value: impl Into<String>) -> Result<Self, MailError> {
        let (name, value) = (name.into(), value.into());
        // RFC 5322 §3.6.8: printable US-ASCII except colon.
        if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
            return Err(MailError::HeaderName(name));
        }
        refuse_line_breaks("header value", &value)?;
        Ok(Self { name, value })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// The RFC 8058 pair that Gmail and Yahoo require on marketing mail
    /// (SPECS: Mail deliverability): a one-click POST target and the flag announcing it.
    pub fn one_click_unsubscribe(url: &str) -> Result<[MailHeader; 2], MailError> {
        let absolute = url.starts_with("https://") || url.starts_with("http://");
        if !absolute || url.contains(['<', '>', ' ']) {
            return Err(MailError::UnsubscribeUrl(url.to_owned()));
        }
        Ok([
            MailHeader::parse("List-Unsubscribe", format!("<{url}>"))?,
            MailHeader::parse("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")?,
        ])
    }
}

/// Marketing mail needs consent and carries unsubscribe headers; transactional mail
/// (order confirmation, shipping) does not, and bypasses frequency caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    Marketing,
    Transactional,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: Subject,
    pub html: String,
    pub text: String,
    pub headers: Vec<MailHeader>,
    pub kind: MailKind,
}

/// What the mail provider answered: its message id, the key that ties later delivery,
/// open, click, bounce and complaint events back to this mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMail {
    pub message_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_header_values_refuse_line_breaks() {
        assert!(Subject::parse("Votre panier vous attend").is_ok());
        assert_eq!(Subject::parse("Hi\r\nBcc: victim@example.com"), Err(MailError::LineBreak { what: "subject" }));
        assert_eq!(Subject::parse("  "), Err(MailError::EmptySubject));
        assert!(MailHeader::parse("X-Ok", "a\nb").is_err());
        assert!(MailHeader::parse("Bad Name", "v").is_err());
        assert!(MailHeader::parse("Bad:Name", "v").is_err());
    }

    #[test]
    fn one_click_unsubscribe_is_the_rfc_8058_pair() {
        let [list, post] = MailHeader::one_click_unsubscribe("https://x.test/u?t=abc").unwrap();
        assert_eq!((list.name(), list.value()), ("List-Unsubscribe", "<https://x.test/u?t=abc>"));
        assert_eq!(post.value(), "List-Unsubscribe=One-Click");
        assert!(MailHeader::one_click_unsubscribe("mailto:x@y.z").is_err());
        assert!(MailHeader::one_click_unsubscribe("https://x.test/>,<https://evil").is_err());
    }
}
