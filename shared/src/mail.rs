//! A rendered mail ready to hand to the mailer, built so that it cannot carry a header
//! injection: subjects and header values are parsed, never concatenated.

use crate::ids::{Email, ProfileId, ShopId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    #[error("{0:?} is not a mailbox (`Name <address@domain>` or `address@domain`)")]
    Mailbox(String),
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

/// A From or Reply-To mailbox, `Maison Demo <bonjour@demo.example>` or a bare address:
/// one line, with an address in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox(String);

impl Mailbox {
    pub fn parse(raw: impl Into<String>) -> Result<Self, MailError> {
        let raw = raw.into();
        refuse_line_breaks("mailbox", &raw)?;
        let address = match (raw.rfind('<'), raw.rfind('>')) {
            (Some(open), Some(close)) if open < close && close == raw.trim_end().len() - 1 => &raw[open + 1..close],
            (None, None) => raw.trim(),
            _ => return Err(MailError::Mailbox(raw)),
        };
        if Email::parse(address).is_err() {
            return Err(MailError::Mailbox(raw));
        }
        Ok(Self(raw.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Mailbox {
    /// The mailbox as a header carries it: a display name with anything beyond printable
    /// ASCII becomes RFC 2047 encoded words (`=?UTF-8?B?…?=`), which is what SES expects of
    /// a "friendly from" name (it does not support SMTPUTF8). The address itself is checked
    /// ASCII by [`Email::parse`] already.
    pub fn to_header(&self) -> String {
        encode_display_name(&self.0)
    }
}

/// `Maison Démo <bonjour@demo.example>` → `=?UTF-8?B?TWFpc29uIETDqW1v?= <bonjour@demo.example>`;
/// an ASCII name, or a bare address, unchanged.
pub fn encode_display_name(mailbox: &str) -> String {
    use base64::Engine;
    let Some(open) = mailbox.rfind('<') else { return mailbox.to_owned() };
    let (name, address) = (mailbox[..open].trim(), &mailbox[open..]);
    if name.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return mailbox.to_owned();
    }
    let name = name.trim_matches('"');
    // An encoded word is at most 75 characters: 12 of syntax, so 60 of base64, 45 bytes,
    // cut between characters.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in name.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    let encoded: Vec<String> = words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(w.as_bytes())))
        .collect();
    format!("{} {address}", encoded.join(" "))
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    Marketing,
    Transactional,
}

/// What ties a sent mail's later events (delivery, open, click, bounce, complaint) back to
/// a shop, a profile and the message log. Carried as provider message tags, whose values
/// allow only `[A-Za-z0-9_-]` (SPECS: Amazon SES): shop and profile ids, which may hold
/// dots, travel hex-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailTags {
    pub shop: ShopId,
    pub profile: ProfileId,
    /// The message record's key (the profile's message log names each mail by it).
    pub message: String,
}

impl MailTags {
    pub const SHOP: &'static str = "relance-shop";
    pub const PROFILE: &'static str = "relance-profile";
    pub const MESSAGE: &'static str = "relance-message";

    /// `(name, value)` pairs for the provider.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            (Self::SHOP, hex(self.shop.as_str())),
            (Self::PROFILE, hex(self.profile.as_str())),
            (Self::MESSAGE, hex(&self.message)),
        ]
    }

    /// Reads the tags back from an event's `mail.tags` (name → values); `None` if the mail
    /// was not sent by Relance or the tags were altered.
    pub fn from_tags(tags: &BTreeMap<String, Vec<String>>) -> Option<Self> {
        let one = |name: &str| tags.get(name).and_then(|v| v.first()).and_then(|v| unhex(v));
        Some(Self {
            shop: ShopId::parse(one(Self::SHOP)?).ok()?,
            profile: ProfileId::parse(one(Self::PROFILE)?).ok()?,
            message: one(Self::MESSAGE)?,
        })
    }
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    String::from_utf8(bytes?).ok()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: Subject,
    pub html: String,
    pub text: String,
    pub headers: Vec<MailHeader>,
    pub kind: MailKind,
    /// Set on every mail Relance sends, so its events find their way back.
    pub tags: Option<MailTags>,
    /// The shop's own sender; the deployment's default sender when `None`.
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
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
    fn mailboxes_are_one_line_with_an_address() {
        assert!(Mailbox::parse("Maison Demo <bonjour@demo.example>").is_ok());
        assert!(Mailbox::parse("bonjour@demo.example").is_ok());
        assert!(Mailbox::parse("Maison Demo").is_err());
        assert!(Mailbox::parse("Demo <a@b.example>\r\nBcc: x@y.example").is_err());
        assert!(Mailbox::parse("Demo <a@b.example> trailing").is_err());
    }

    #[test]
    fn a_display_name_beyond_ascii_travels_as_rfc_2047_encoded_words() {
        let ascii = Mailbox::parse("Maison Demo <bonjour@demo.example>").unwrap();
        assert_eq!(ascii.to_header(), "Maison Demo <bonjour@demo.example>");
        assert_eq!(Mailbox::parse("bonjour@demo.example").unwrap().to_header(), "bonjour@demo.example");
        let accented = Mailbox::parse("Maison Démo <bonjour@demo.example>").unwrap();
        assert_eq!(accented.to_header(), "=?UTF-8?B?TWFpc29uIETDqW1v?= <bonjour@demo.example>");
        let quoted = Mailbox::parse("\"Café Ünïcode\" <a@b.example>").unwrap();
        assert_eq!(quoted.to_header(), "=?UTF-8?B?Q2Fmw6kgw5xuw69jb2Rl?= <a@b.example>");
        // A long name: several words, none over 75 characters, no character cut in two.
        let long = Mailbox::parse(format!("{} <a@b.example>", "é".repeat(40))).unwrap().to_header();
        let words: Vec<&str> = long.trim_end_matches(" <a@b.example>").split(' ').collect();
        assert_eq!(words.len(), 2);
        assert!(words.iter().all(|w| w.len() <= 75 && w.starts_with("=?UTF-8?B?") && w.ends_with("?=")));
        use base64::Engine;
        let decoded: String = words
            .iter()
            .map(|w| {
                let b64 = &w["=?UTF-8?B?".len()..w.len() - 2];
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
            })
            .collect();
        assert_eq!(decoded, "é".repeat(40));
    }

    #[test]
    fn mail_tags_survive_the_providers_character_rules() {
        let tags = MailTags {
            shop: ShopId::parse("demo.myshopify.com").unwrap(),
            profile: ProfileId::parse("e0123abc").unwrap(),
            message: "m-1.2".into(),
        };
        let pairs = tags.to_pairs();
        assert!(pairs.iter().all(|(_, v)| v.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))));
        let map: BTreeMap<String, Vec<String>> = pairs.into_iter().map(|(k, v)| (k.to_owned(), vec![v])).collect();
        assert_eq!(MailTags::from_tags(&map), Some(tags));
        let mut altered = map.clone();
        altered.insert(MailTags::SHOP.into(), vec!["zz".into()]);
        assert_eq!(MailTags::from_tags(&altered), None);
        assert_eq!(MailTags::from_tags(&BTreeMap::new()), None);
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
