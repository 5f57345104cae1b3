//! The shops document as an operator edits it: kept as JSON, so fields this version of the
//! tool does not know (a shop's `programs` tuning, a newer release's sections) survive an
//! edit untouched, and checked with the functions' own parser ([`Shops::parse`]) before it
//! is written, so an edit the functions would refuse at cold start is never saved.

use relance::ids::ShopId;
use relance::shops::{Shops, ShopsError};
use serde_json::{Map, Value, json};

/// Where a shop keeps one list of secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretKind {
    /// `shopify.secrets`: the app's client secret, which signs Shopify's webhooks.
    Shopify,
    /// `woocommerce.secrets`: the secret of the store's webhooks.
    Woocommerce,
    /// `api.secrets`: signs the generic API's requests.
    Api,
    /// `mail.unsubscribe_secrets`: signs the unsubscribe links in mail.
    Unsubscribe,
}

impl SecretKind {
    fn path(self) -> (&'static str, &'static str) {
        match self {
            SecretKind::Shopify => ("shopify", "secrets"),
            SecretKind::Woocommerce => ("woocommerce", "secrets"),
            SecretKind::Api => ("api", "secrets"),
            SecretKind::Unsubscribe => ("mail", "unsubscribe_secrets"),
        }
    }

    pub fn name(self) -> String {
        let (section, list) = self.path();
        format!("{section}.{list}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the shops document is not valid JSON")]
    Json(#[from] serde_json::Error),
    #[error("the shops document has no \"shops\" list")]
    NoShops,
    #[error("the edited document would be refused by the functions: {0}")]
    Refused(#[source] ShopsError),
    #[error("shop {0} is already in the document: edit it with `relance shops rotate-secret`, or pick another id")]
    Exists(ShopId),
    #[error("no shop {0} in the document (`relance shops list` shows them)")]
    NoShop(ShopId),
    #[error("shop {shop} has no {section} section to hold {kind}")]
    NoSection { shop: ShopId, section: &'static str, kind: String },
}

/// One shop as `relance shops list` shows it: how it reaches Relance, and how many secrets
/// each list holds (never the secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopSummary {
    pub id: String,
    pub currency: Option<String>,
    pub time_zone: Option<String>,
    pub shopify_domain: Option<String>,
    pub woocommerce_source: Option<String>,
    /// `(list, number of secrets)` for every list the shop has.
    pub secrets: Vec<(String, usize)>,
    pub sends_marketing: bool,
}

/// A new shop, as `relance shops add` is given it.
#[derive(Debug, Clone)]
pub struct NewShop {
    pub id: ShopId,
    pub currency: String,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    /// The store's domain and the app's client secret.
    pub shopify: Option<(String, String)>,
    /// The store's site URL.
    pub woocommerce: Option<String>,
    /// The tracker's allowed origins (none: no tracker).
    pub track_origins: Vec<String>,
    pub mail: Option<NewMail>,
}

#[derive(Debug, Clone, Default)]
pub struct NewMail {
    pub from: String,
    pub name: String,
    pub site_url: String,
}

/// The secrets Relance drew for a new shop, to give to the platforms once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drawn {
    pub secrets: Vec<(SecretKind, String)>,
    pub track_key: Option<String>,
}

pub struct ShopsDocument(Value);

impl ShopsDocument {
    /// Reads a document the functions would accept; an empty text is an empty document.
    pub fn parse(text: &str) -> Result<Self, DocumentError> {
        let text = if text.trim().is_empty() { r#"{"shops": []}"# } else { text };
        let document = ShopsDocument(serde_json::from_str(text)?);
        document.check()?;
        Ok(document)
    }

    fn check(&self) -> Result<(), DocumentError> {
        if !self.0.get("shops").is_some_and(Value::is_array) {
            return Err(DocumentError::NoShops);
        }
        Shops::parse(&self.0.to_string()).map(drop).map_err(DocumentError::Refused)
    }

    /// The document as it is stored: indented, so a diff of two versions reads.
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(&self.0).expect("a JSON value serialises")
    }

    fn shops(&self) -> &[Value] {
        self.0["shops"].as_array().map(Vec::as_slice).unwrap_or_default()
    }

    fn shop_mut(&mut self, id: &ShopId) -> Result<&mut Map<String, Value>, DocumentError> {
        self.0["shops"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
            .find(|shop| shop.get("id").and_then(Value::as_str) == Some(id.as_str()))
            .ok_or_else(|| DocumentError::NoShop(id.clone()))
    }

    pub fn summaries(&self) -> Vec<ShopSummary> {
        let text = |shop: &Value, pointer: &str| shop.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
        self.shops()
            .iter()
            .map(|shop| ShopSummary {
                id: text(shop, "/id").unwrap_or_default(),
                currency: text(shop, "/currency"),
                time_zone: text(shop, "/time_zone"),
                shopify_domain: text(shop, "/shopify/domain"),
                woocommerce_source: text(shop, "/woocommerce/source"),
                secrets: [SecretKind::Shopify, SecretKind::Woocommerce, SecretKind::Api, SecretKind::Unsubscribe]
                    .into_iter()
                    .filter_map(|kind| {
                        let (section, list) = kind.path();
                        Some((kind.name(), shop.get(section)?.get(list)?.as_array()?.len()))
                    })
                    .collect(),
                sends_marketing: shop.get("mail").is_some_and(Value::is_object),
            })
            .collect()
    }

    /// Adds `shop`, with secrets from `draw` for every list Relance signs or checks itself
    /// (WooCommerce, API, unsubscribe links) and a tracker key when it has origins. The
    /// document is unchanged when the result would not be accepted.
    pub fn add(&mut self, shop: &NewShop, draw: &mut dyn FnMut() -> String) -> Result<Drawn, DocumentError> {
        if self.shops().iter().any(|s| s.get("id").and_then(Value::as_str) == Some(shop.id.as_str())) {
            return Err(DocumentError::Exists(shop.id.clone()));
        }
        let mut drawn = Drawn::default();
        let mut secret = |kind: SecretKind| {
            let value = draw();
            drawn.secrets.push((kind, value.clone()));
            json!([value])
        };
        let mut entry = json!({ "id": shop.id.as_str(), "currency": shop.currency });
        entry["locale"] = json!(shop.locale);
        entry["time_zone"] = json!(shop.time_zone);
        if let Some((domain, client_secret)) = &shop.shopify {
            entry["shopify"] = json!({ "domain": domain, "secrets": [client_secret] });
        }
        if let Some(source) = &shop.woocommerce {
            entry["woocommerce"] = json!({ "source": source, "secrets": secret(SecretKind::Woocommerce) });
        }
        entry["api"] = json!({ "secrets": secret(SecretKind::Api) });
        if let Some(mail) = &shop.mail {
            entry["mail"] = json!({
                "from": mail.from, "name": mail.name, "site_url": mail.site_url, "reply_to": null,
                "unsubscribe_secrets": secret(SecretKind::Unsubscribe),
            });
        }
        if !shop.track_origins.is_empty() {
            let key = format!("pk_{}", draw());
            entry["track"] = json!({ "public_key": key, "allowed_origins": shop.track_origins });
            drawn.track_key = Some(key);
        }
        self.edit(|document| {
            document.0["shops"].as_array_mut().expect("checked at parse").push(entry);
            Ok(())
        })?;
        Ok(drawn)
    }

    /// Puts `secret` first in the shop's `kind` list, keeping the others valid until the
    /// platform uses the new one ([`ShopsDocument::retire`]). The first signs what Relance
    /// signs (unsubscribe links); any listed one verifies. Adding one already listed moves it
    /// first, so running the same rotation twice changes nothing more.
    pub fn rotate(&mut self, id: &ShopId, kind: SecretKind, secret: &str) -> Result<usize, DocumentError> {
        let mut kept = 0;
        self.edit(|document| {
            let list = document.list_mut(id, kind)?;
            list.retain(|s| s.as_str() != Some(secret));
            list.insert(0, json!(secret));
            kept = list.len();
            Ok(())
        })?;
        Ok(kept)
    }

    /// Keeps only the first secret of the shop's `kind` list; returns how many were removed.
    pub fn retire(&mut self, id: &ShopId, kind: SecretKind) -> Result<usize, DocumentError> {
        let mut removed = 0;
        self.edit(|document| {
            let list = document.list_mut(id, kind)?;
            removed = list.len().saturating_sub(1);
            list.truncate(1);
            Ok(())
        })?;
        Ok(removed)
    }

    /// The first secret of the shop's `kind` list: the one the platform must have (what
    /// `relance connect woocommerce` gives the store's webhooks).
    pub fn newest(&self, id: &ShopId, kind: SecretKind) -> Result<String, DocumentError> {
        let (section, list) = kind.path();
        let shop = self
            .shops()
            .iter()
            .find(|s| s.get("id").and_then(Value::as_str) == Some(id.as_str()))
            .ok_or_else(|| DocumentError::NoShop(id.clone()))?;
        shop.get(section)
            .and_then(|s| s.get(list))
            .and_then(Value::as_array)
            .and_then(|l| l.first())
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| DocumentError::NoSection { shop: id.clone(), section, kind: kind.name() })
    }

    fn list_mut(&mut self, id: &ShopId, kind: SecretKind) -> Result<&mut Vec<Value>, DocumentError> {
        let (section, list) = kind.path();
        let shop = self.shop_mut(id)?;
        shop.get_mut(section)
            .and_then(|s| s.get_mut(list))
            .and_then(Value::as_array_mut)
            .ok_or_else(|| DocumentError::NoSection { shop: id.clone(), section, kind: kind.name() })
    }

    /// Applies `change` to a copy, keeps it only if the functions would accept the result.
    fn edit(&mut self, change: impl FnOnce(&mut Self) -> Result<(), DocumentError>) -> Result<(), DocumentError> {
        let mut edited = ShopsDocument(self.0.clone());
        change(&mut edited)?;
        edited.check()?;
        *self = edited;
        Ok(())
    }
}
