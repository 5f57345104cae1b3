//! The `mail` section of a shop: the sender of its marketing mail and the keys of its
//! unsubscribe links ([`crate::unsubscribe`]).

use super::ShopsError;
use crate::ids::{Email, ShopId};
use crate::signature::Secret;
use serde::Deserialize;

/// The shop's marketing mail: who it comes from, and the keys of its unsubscribe links.
/// Without it the shop sends no marketing mail and its unsubscribe links are refused.
#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// The `From` mailbox, `Maison Demo <bonjour@demo.example>` or a bare address. Its domain
    /// must be verified in SES and aligned with SPF, DKIM and DMARC (SPECS: Mail
    /// deliverability); only the address's shape is checked here.
    pub from: String,
    /// The shop's name as its customers know it: shown on the unsubscribe pages.
    pub name: String,
    /// The shop's site (`https://…`), linked from the unsubscribe pages.
    pub site_url: String,
    /// Where replies go, when not to `from`.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Keys of the unsubscribe links ([`crate::unsubscribe`]): the first signs, any listed
    /// one verifies. Removing a key invalidates every link it signed, in every mail sent.
    pub unsubscribe_secrets: Vec<Secret>,
}

impl MailSettings {
    /// The key new unsubscribe links are signed with. `None` only for a value built by hand:
    /// [`super::Shops::parse`] refuses an empty list.
    pub fn signing_secret(&self) -> Option<&Secret> {
        self.unsubscribe_secrets.first()
    }
}

/// The address of a mailbox (`Name <address>` or a bare address). A minimal check, so that a
/// missing or mistyped address fails at start rather than at the first send; SES stays the
/// authority. A line break anywhere is refused: the value goes into a mail header.
pub fn mailbox_address(mailbox: &str) -> Option<Email> {
    if mailbox.chars().any(char::is_control) {
        return None;
    }
    let mailbox = mailbox.trim();
    let address = match mailbox.rsplit_once('<') {
        Some((_, bracketed)) => bracketed.strip_suffix('>')?,
        None => mailbox,
    };
    Email::parse(address).ok()
}

pub(super) fn check(shop: &ShopId, mail: &MailSettings) -> Result<(), ShopsError> {
    let invalid = |field, expected| Err(ShopsError::Mail { shop: shop.clone(), field, expected });
    if mail.unsubscribe_secrets.is_empty() {
        return Err(ShopsError::NoSecret { shop: shop.clone(), what: "mail.unsubscribe_secrets" });
    }
    if mailbox_address(&mail.from).is_none() {
        return invalid("from", "must hold an address, as in \"Name <address@domain>\"");
    }
    if mail.reply_to.as_deref().is_some_and(|r| mailbox_address(r).is_none()) {
        return invalid("reply_to", "must hold an address, as in \"Name <address@domain>\"");
    }
    if mail.name.trim().is_empty() || mail.name.chars().any(char::is_control) {
        return invalid("name", "must be one non-empty line");
    }
    let url = mail.site_url.to_ascii_lowercase();
    let absolute = url.starts_with("https://") || url.starts_with("http://");
    if !absolute || mail.site_url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("site_url", "must be an absolute http(s) URL");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shops::Shops;

    const MAIL: &str = r#"{"from": "Maison Demo <bonjour@demo.example>", "name": "Maison Demo",
        "site_url": "https://demo.example", "reply_to": null, "unsubscribe_secrets": ["u1", "u0"]}"#;

    fn with_mail(mail: &str) -> Result<Shops, ShopsError> {
        Shops::parse(&format!(r#"{{"shops": [{{"id": "a", "mail": {mail}}}]}}"#))
    }

    #[test]
    fn mail_settings_are_read_and_their_secrets_found_by_shop() {
        let shops = with_mail(MAIL).unwrap();
        let id = ShopId::parse("a").unwrap();
        let mail = shops.get(&id).unwrap().mail.as_ref().unwrap();
        assert_eq!((mail.name.as_str(), mail.reply_to.as_deref()), ("Maison Demo", None));
        assert_eq!(mailbox_address(&mail.from).unwrap().as_str(), "bonjour@demo.example");
        assert_eq!(shops.unsubscribe_secrets(&id).map(<[Secret]>::len), Some(2));
        assert!(shops.unsubscribe_secrets(&ShopId::parse("b").unwrap()).is_none());
        assert!(!format!("{shops:?}").contains("u1"));
        let local = Shops::parse(include_str!("../../../tests/fixtures/shops.local.json")).unwrap();
        assert!(local.unsubscribe_secrets(&ShopId::parse("demo.myshopify.com").unwrap()).is_some());
    }

    #[test]
    fn mail_settings_without_a_secret_or_an_address_are_refused() {
        let no_secret = MAIL.replace(r#"["u1", "u0"]"#, "[]");
        assert!(matches!(with_mail(&no_secret), Err(ShopsError::NoSecret { .. })));
        for (from, to) in [
            ("Maison Demo <bonjour@demo.example>", "Maison Demo"),
            ("Maison Demo <bonjour@demo.example>", "Maison Demo <bonjour>"),
            ("Maison Demo <bonjour@demo.example>", "Maison Demo <bonjour@demo.example"),
            ("Maison Demo <bonjour@demo.example>", r"Maison Demo\r\nBcc: x@y.z <bonjour@demo.example>"),
            (r#""reply_to": null"#, r#""reply_to": "nobody""#),
            ("https://demo.example", "javascript:alert(1)"),
            (r#""name": "Maison Demo""#, r#""name": " ""#),
        ] {
            let result = with_mail(&MAIL.replace(from, to));
            assert!(matches!(result, Err(ShopsError::Mail { .. })), "{to}: {result:?}");
        }
        assert!(with_mail(&MAIL.replace("Maison Demo <bonjour@demo.example>", "bonjour@demo.example")).is_ok());
    }
}
