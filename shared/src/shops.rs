//! The shops of one deployment and how each one reaches us.
//!
//! Operators keep this document in the Secrets Manager secret the template creates
//! (`ShopsSecret`), because it holds every webhook secret; webhook-ingest reads it once per
//! cold start. Shape (README, "Shops and secrets"):
//!
//! ```json
//! {"shops": [{
//!   "id": "demo.myshopify.com", "currency": "EUR", "locale": "fr", "time_zone": "Europe/Paris",
//!   "shopify": {"domain": "demo.myshopify.com", "secrets": ["…"]},
//!   "woocommerce": {"source": "https://shop.example", "secrets": ["…"]},
//!   "api": {"secrets": ["…"]},
//!   "track": {"public_key": "pk_demo_…", "allowed_origins": ["https://shop.example"]},
//!   "mail": {"from": "Maison Demo <bonjour@demo.example>", "name": "Maison Demo",
//!            "site_url": "https://demo.example", "reply_to": null, "unsubscribe_secrets": ["…"]}
//! }]}
//! ```
//!
//! Every `secrets` list takes several entries so a secret can be rotated without downtime:
//! add the new one, switch the platform, remove the old one. `mail.unsubscribe_secrets`
//! works the same way for the links in mail already sent: the first signs, any verifies.

mod mail;

pub use mail::{MailSettings, mailbox_address};

use crate::ids::ShopId;
use crate::money::Currency;
use crate::programs::settings::{ProgramSettings, SettingsError};
use crate::signature::Secret;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum ShopsError {
    #[error("shops document is not valid")]
    Invalid(#[source] serde_json::Error),
    #[error("{what} {key:?} is claimed by more than one shop")]
    Ambiguous { what: &'static str, key: String },
    #[error("shop {shop}: {what} has no secret")]
    NoSecret { shop: ShopId, what: &'static str },
    #[error("shop {shop}: programs settings are not valid")]
    Programs {
        shop: ShopId,
        #[source]
        source: SettingsError,
    },
    #[error("shop {shop}: mail.{field} {expected}")]
    Mail { shop: ShopId, field: &'static str, expected: &'static str },
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShopConfig {
    pub id: ShopId,
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub shopify: Option<ShopifyConfig>,
    #[serde(default)]
    pub woocommerce: Option<WooCommerceConfig>,
    #[serde(default)]
    pub api: Option<ApiConfig>,
    #[serde(default)]
    pub track: Option<TrackConfig>,
    /// Tuning of the programs (reminder delays, discounts, consent allowance).
    #[serde(default)]
    pub programs: ProgramSettings,
    #[serde(default)]
    pub mail: Option<MailSettings>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShopifyConfig {
    /// `X-Shopify-Shop-Domain` of the store, e.g. `demo.myshopify.com`.
    pub domain: String,
    pub secrets: Vec<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WooCommerceConfig {
    /// `X-WC-Webhook-Source`: the store's site URL.
    pub source: String,
    pub secrets: Vec<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiConfig {
    pub secrets: Vec<Secret>,
}

/// The browser tracker: a public key (it is in the page, so it grants nothing but the
/// right to report page and product views) and the origins allowed to use it.
#[derive(Debug, Clone, Deserialize)]
pub struct TrackConfig {
    pub public_key: String,
    pub allowed_origins: Vec<String>,
}

#[derive(Deserialize)]
struct Document {
    shops: Vec<ShopConfig>,
}

/// The shops, indexed by every key a request can name them by.
#[derive(Debug, Default)]
pub struct Shops {
    by_id: HashMap<ShopId, ShopConfig>,
    by_shopify_domain: HashMap<String, ShopId>,
    by_woocommerce_source: HashMap<String, ShopId>,
    by_track_key: HashMap<String, ShopId>,
}

/// Site URLs compare without scheme case, trailing slash or `www.` differences mattering
/// less than a shop being silently unrecognised.
pub fn normalise_source(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn index(map: &mut HashMap<String, ShopId>, what: &'static str, key: String, shop: &ShopId) -> Result<(), ShopsError> {
    if map.insert(key.clone(), shop.clone()).is_some() {
        return Err(ShopsError::Ambiguous { what, key });
    }
    Ok(())
}

impl Shops {
    pub fn parse(document: &str) -> Result<Self, ShopsError> {
        let document: Document = serde_json::from_str(document).map_err(ShopsError::Invalid)?;
        let mut shops = Shops::default();
        for shop in document.shops {
            let id = shop.id.clone();
            let no_secret = |what| ShopsError::NoSecret { shop: id.clone(), what };
            if let Some(shopify) = &shop.shopify {
                if shopify.secrets.is_empty() {
                    return Err(no_secret("shopify"));
                }
                index(&mut shops.by_shopify_domain, "shopify domain", shopify.domain.trim().to_ascii_lowercase(), &id)?;
            }
            if let Some(woo) = &shop.woocommerce {
                if woo.secrets.is_empty() {
                    return Err(no_secret("woocommerce"));
                }
                index(&mut shops.by_woocommerce_source, "woocommerce source", normalise_source(&woo.source), &id)?;
            }
            if shop.api.as_ref().is_some_and(|api| api.secrets.is_empty()) {
                return Err(no_secret("api"));
            }
            shop.programs
                .abandoned_checkout
                .validate()
                .map_err(|source| ShopsError::Programs { shop: id.clone(), source })?;
            if let Some(track) = &shop.track {
                index(&mut shops.by_track_key, "track key", track.public_key.clone(), &id)?;
            }
            if let Some(mail) = &shop.mail {
                mail::check(&id, mail)?;
            }
            if shops.by_id.insert(id.clone(), shop).is_some() {
                return Err(ShopsError::Ambiguous { what: "shop id", key: id.to_string() });
            }
        }
        Ok(shops)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every shop's id, in order.
    pub fn ids(&self) -> Vec<ShopId> {
        let mut ids: Vec<ShopId> = self.by_id.keys().cloned().collect();
        ids.sort();
        ids
    }

    pub fn get(&self, id: &ShopId) -> Option<&ShopConfig> {
        self.by_id.get(id)
    }

    pub fn by_shopify_domain(&self, domain: &str) -> Option<&ShopConfig> {
        self.by_shopify_domain.get(&domain.trim().to_ascii_lowercase()).and_then(|id| self.by_id.get(id))
    }

    pub fn by_woocommerce_source(&self, source: &str) -> Option<&ShopConfig> {
        self.by_woocommerce_source.get(&normalise_source(source)).and_then(|id| self.by_id.get(id))
    }

    pub fn by_track_key(&self, key: &str) -> Option<&ShopConfig> {
        self.by_track_key.get(key).and_then(|id| self.by_id.get(id))
    }

    /// The keys that verify the shop's unsubscribe links; `None` if the shop is unknown or
    /// has no `mail` section. The lookup [`crate::unsubscribe::UnsubscribeToken::verify`] takes.
    pub fn unsubscribe_secrets(&self, id: &ShopId) -> Option<&[Secret]> {
        self.get(id)?.mail.as_ref().map(|mail| mail.unsubscribe_secrets.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"shops": [
        {"id": "a.myshopify.com", "currency": "EUR",
         "shopify": {"domain": "A.myshopify.com", "secrets": ["s1", "s2"]},
         "track": {"public_key": "pk_a", "allowed_origins": ["https://a.example"]}},
        {"id": "b.example", "woocommerce": {"source": "https://B.example/", "secrets": ["w"]},
         "api": {"secrets": ["api"]}}
    ]}"#;

    #[test]
    fn shops_are_found_by_every_key_a_request_names() {
        let shops = Shops::parse(DOC).unwrap();
        assert_eq!(shops.len(), 2);
        assert_eq!(shops.by_shopify_domain("a.myshopify.com").unwrap().id.as_str(), "a.myshopify.com");
        assert_eq!(shops.by_woocommerce_source("https://b.example").unwrap().id.as_str(), "b.example");
        assert_eq!(shops.by_track_key("pk_a").unwrap().shopify.as_ref().unwrap().secrets.len(), 2);
        assert!(shops.by_track_key("pk_b").is_none());
    }

    #[test]
    fn ambiguous_or_secretless_documents_are_refused() {
        let twice = r#"{"shops": [{"id": "a", "track": {"public_key": "k", "allowed_origins": []}},
                                   {"id": "b", "track": {"public_key": "k", "allowed_origins": []}}]}"#;
        assert!(matches!(Shops::parse(twice), Err(ShopsError::Ambiguous { .. })));
        let empty = r#"{"shops": [{"id": "a", "api": {"secrets": []}}]}"#;
        assert!(matches!(Shops::parse(empty), Err(ShopsError::NoSecret { .. })));
        let blank = r#"{"shops": [{"id": "a", "api": {"secrets": [""]}}]}"#;
        assert!(matches!(Shops::parse(blank), Err(ShopsError::Invalid(_))));
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let shops = Shops::parse(DOC).unwrap();
        let printed = format!("{shops:?}");
        assert!(!printed.contains("s1") && !printed.contains("\"api\""), "{printed}");
    }
}
