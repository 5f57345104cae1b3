//! The signed token of a marketing mail's one-click unsubscribe link (RFC 8058), and the
//! link itself: `<public url>/unsubscribe?t=<token>`, served by webhook-ingest.
//!
//! Why it is shaped this way:
//! - **No personal data in the link.** Links get forwarded, pasted into support tickets and
//!   written to proxy and scanner logs. The token names the shop and Relance's opaque profile
//!   id, never the e-mail address; profile-update finds the person by that id, even after
//!   the profile was merged into another one.
//! - **It never expires.** A mail from last year must still unsubscribe (and the Gmail and
//!   Yahoo bulk-sender rules judge senders on it). `issued_at` is kept for the audit trail,
//!   not checked. To revoke links, remove the secret that signed them.
//! - **Signed, per shop, with rotation.** HMAC-SHA256 under the shop's
//!   `mail.unsubscribe_secrets`: the first signs, any listed one verifies, so links signed
//!   with an old secret keep working while it stays listed. The MAC covers everything but
//!   itself, shop included, so a token cannot be moved to another shop, and it is
//!   domain-separated ([`DOMAIN`]) so that it never equals a tag of another scheme even if
//!   an operator reused a secret. Tags are compared in constant time.
//! - **Acting is the endpoint's business:** a GET only shows a confirmation page (link
//!   scanners follow GETs), the RFC 8058 POST unsubscribes (webhook-ingest `unsubscribe`).
//!
//! Format, URL-safe as is (`A–Z a–z 0–9 - _ .`), about 130 characters for a typical shop:
//! `v1.<base64url(shop)>.<base64url(profile)>.<issued_at, unix seconds>.<base64url(tag)>`,
//! base64url without padding, `tag = HMAC-SHA256(secret, DOMAIN ‖ <everything before the
//! last dot>)`. Ids are encoded because a valid id may contain `.`, `?` or `&`.

use crate::ids::{EventId, IdError, ProfileId, ShopId};
use crate::signature::{HmacSha256, Secret, Tag, any_matches, tag};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::Mac;
use sha2::{Digest, Sha256};

/// Prefixed to every MAC input: ties a tag to this scheme and version.
pub const DOMAIN: &[u8] = b"relance-unsubscribe-v1\n";
const VERSION: &str = "v1";
/// Longer input is refused before any decoding; the longest valid token (255-byte shop,
/// 128-byte profile) is about 570 characters.
pub const MAX_TOKEN_LEN: usize = 1024;

/// Who unsubscribes from which shop's marketing mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeToken {
    pub shop: ShopId,
    pub profile: ProfileId,
    /// When the link was made (whole seconds: the token drops sub-seconds). Not an expiry.
    pub issued_at: DateTime<Utc>,
}

/// Why a token was refused. None of them echo the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("unsubscribe token is malformed: {0}")]
    Malformed(&'static str),
    /// The shop is not served here, or has no `mail` section.
    #[error("unsubscribe token names an unknown shop")]
    UnknownShop,
    /// Altered, forged, or signed with a key the shop does not (or no longer) list.
    #[error("unsubscribe token signature does not match")]
    BadSignature,
}

impl UnsubscribeToken {
    /// The token text, signed with `secret` (a shop's first `mail.unsubscribe_secrets`).
    pub fn sign(&self, secret: &Secret) -> String {
        let message = self.message();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac(secret.mac(), &message)))
    }

    /// Parses `raw` and checks its MAC against every secret `secrets_of` lists for the shop
    /// the token names (`None`: the shop is unknown or has no unsubscribe secrets).
    pub fn verify<'s>(
        raw: &str,
        secrets_of: impl Fn(&ShopId) -> Option<&'s [Secret]>,
    ) -> Result<UnsubscribeToken, TokenError> {
        if raw.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed("too long"));
        }
        let (message, signature) = raw.rsplit_once('.').ok_or(TokenError::Malformed("expected five parts"))?;
        let parts: Vec<&str> = message.split('.').collect();
        let [version, shop, profile, seconds] = parts[..] else {
            return Err(TokenError::Malformed("expected five parts"));
        };
        if version != VERSION {
            return Err(TokenError::Malformed("unknown version"));
        }
        let shop = decode_text(shop).and_then(|s| ShopId::parse(s).ok()).ok_or(TokenError::Malformed("shop"))?;
        let profile =
            decode_text(profile).and_then(|p| ProfileId::parse(p).ok()).ok_or(TokenError::Malformed("profile"))?;
        let issued_at = parse_seconds(seconds).ok_or(TokenError::Malformed("issued_at is not unix seconds"))?;
        let candidate: Tag = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(TokenError::Malformed("signature is not a base64url HMAC-SHA256"))?;
        let secrets = secrets_of(&shop).ok_or(TokenError::UnknownShop)?;
        if !any_matches(secrets, &[candidate], |key| mac(key, message)) {
            return Err(TokenError::BadSignature);
        }
        Ok(UnsubscribeToken { shop, profile, issued_at })
    }

    /// The id of the consent event a click on this link at `clicked_at` becomes: one per
    /// link and minute, whichever secret signed it. The mail client's one-click POST and the
    /// page's, seconds apart, are one event (the delivery ledger publishes it once); a click
    /// after the person subscribed again is a new one, never taken for a duplicate of the
    /// first. Refused only for a shop id over about 200 bytes (event ids hold 256).
    pub fn event_id(&self, clicked_at: DateTime<Utc>) -> Result<EventId, IdError> {
        let minute = clicked_at.timestamp().div_euclid(60);
        let digest = Sha256::digest(format!("{}.{minute}", self.message()).as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        EventId::parse(format!("relance:{}:unsubscribe:{hex}", self.shop))
    }

    fn message(&self) -> String {
        let encode = |text: &str| URL_SAFE_NO_PAD.encode(text);
        format!(
            "{VERSION}.{}.{}.{}",
            encode(self.shop.as_str()),
            encode(self.profile.as_str()),
            self.issued_at.timestamp()
        )
    }
}

fn mac(key: HmacSha256, message: &str) -> Tag {
    tag(key.chain_update(DOMAIN).chain_update(message.as_bytes()))
}

fn decode_text(part: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// Canonical decimal only (what `sign` writes): no sign, no leading zero, within chrono's range.
fn parse_seconds(text: &str) -> Option<DateTime<Utc>> {
    let seconds: i64 = text.parse().ok()?;
    if seconds.to_string() != text {
        return None;
    }
    DateTime::from_timestamp(seconds, 0)
}

/// `<public_url>/unsubscribe?t=<token>`: the `List-Unsubscribe` target. `public_url` is
/// webhook-ingest's base URL, with or without its trailing slash.
pub fn unsubscribe_url(public_url: &str, token: &str) -> String {
    let token: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("{}/unsubscribe?t={token}", public_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests;
