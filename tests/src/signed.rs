//! The one client for webhook-ingest's doors, signing as the shop would: Shopify and
//! WooCommerce webhooks, the generic API, the browser tracker and the one-click unsubscribe.
//!
//! Signatures come from `relance::signature`, the code webhook-ingest verifies with (its
//! signer is pinned to Python-computed vectors), and the secrets from the shops document
//! the functions were given, so a test cannot sign with a secret the shop does not hold.
//! The header builders are public for `relance-samples`, which writes the same requests to
//! files instead of sending them.

use chrono::{DateTime, Utc};
use relance::signature::{Secret, sign_base64_hmac_sha256, sign_timestamped};
use serde_json::{Value, json};

/// Headers of one request, in the order they are sent.
pub type Headers = Vec<(&'static str, String)>;

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("the shops document has no {0}")]
    Missing(&'static str),
    #[error("the shops document holds an empty secret")]
    Empty(#[from] relance::signature::EmptySecret),
}

/// What a shop holds to call Relance: the first shop of a shops document.
#[derive(Debug, Clone)]
pub struct ShopKeys {
    pub shop: String,
    pub shopify: Secret,
    pub woocommerce_source: String,
    pub woocommerce: Secret,
    pub api: Secret,
    pub track_key: String,
    pub track_origin: String,
    /// The secret of the links in its mails, which the SES events name their profile by.
    pub unsubscribe: String,
}

impl ShopKeys {
    /// The first shop of a shops document.
    pub fn from_document(document: &Value) -> Result<Self, KeysError> {
        Self::from_shop(&document["shops"][0])
    }

    /// One shop of a shops document (an element of its `shops`).
    pub fn from_shop(shop: &Value) -> Result<Self, KeysError> {
        let text =
            |value: &Value, what: &'static str| value.as_str().map(str::to_owned).ok_or(KeysError::Missing(what));
        let secret = |value: &Value, what| Ok::<_, KeysError>(Secret::new(text(value, what)?)?);
        Ok(Self {
            shop: text(&shop["id"], "shop id")?,
            shopify: secret(&shop["shopify"]["secrets"][0], "Shopify secret")?,
            // WooCommerce sends the site's home URL, with its trailing slash.
            woocommerce_source: format!("{}/", text(&shop["woocommerce"]["source"], "WooCommerce source")?),
            woocommerce: secret(&shop["woocommerce"]["secrets"][0], "WooCommerce secret")?,
            api: secret(&shop["api"]["secrets"][0], "API secret")?,
            track_key: text(&shop["track"]["public_key"], "tracker key")?,
            track_origin: text(&shop["track"]["allowed_origins"][0], "tracker origin")?,
            unsubscribe: text(&shop["mail"]["unsubscribe_secrets"][0], "unsubscribe secret")?,
        })
    }

    /// The same shop with secrets it never issued: what a forger sends.
    pub fn forged(&self) -> Self {
        let wrong = Secret::new("a secret the shop never issued".to_owned()).expect("a non-empty secret");
        Self { shopify: wrong.clone(), woocommerce: wrong.clone(), api: wrong, ..self.clone() }
    }

    /// SPECS: Shopify webhooks — the topic, shop, event id and the body's HMAC.
    pub fn shopify_headers(&self, topic: &str, event_id: &str, body: &[u8]) -> Headers {
        vec![
            ("content-type", "application/json".to_owned()),
            ("x-shopify-topic", topic.to_owned()),
            ("x-shopify-shop-domain", self.shop.clone()),
            ("x-shopify-event-id", event_id.to_owned()),
            ("x-shopify-hmac-sha256", sign_base64_hmac_sha256(&self.shopify, body)),
        ]
    }

    /// SPECS: WooCommerce webhooks — the source site, topic, delivery id and the body's HMAC.
    pub fn woocommerce_headers(&self, topic: &str, delivery_id: &str, body: &[u8]) -> Headers {
        vec![
            ("content-type", "application/json".to_owned()),
            ("x-wc-webhook-source", self.woocommerce_source.clone()),
            ("x-wc-webhook-topic", topic.to_owned()),
            ("x-wc-webhook-delivery-id", delivery_id.to_owned()),
            ("x-wc-webhook-signature", sign_base64_hmac_sha256(&self.woocommerce, body)),
        ]
    }

    /// The generic API's shop and timestamped signature, signed at `at`.
    pub fn api_headers(&self, body: &[u8], at: DateTime<Utc>) -> Headers {
        vec![
            ("content-type", "application/json".to_owned()),
            ("x-relance-shop", self.shop.clone()),
            ("x-relance-signature", sign_timestamped(&self.api, body, at)),
        ]
    }
}

/// webhook-ingest's answer: its status and JSON body (`Null` when it sent none).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// How many canonical events the delivery published.
    pub fn published(&self) -> u64 {
        self.body["result"]["published"].as_u64().unwrap_or(0)
    }

    /// How many of its events webhook-ingest had already published (a redelivery).
    pub fn duplicates(&self) -> u64 {
        self.body["result"]["duplicates"].as_u64().unwrap_or(0)
    }
}

/// Sends to one webhook-ingest function URL as one shop.
#[derive(Debug, Clone)]
pub struct SignedClient {
    http: reqwest::Client,
    /// webhook-ingest's function URL, without a trailing slash.
    base: String,
    pub keys: ShopKeys,
}

impl SignedClient {
    pub fn new(base: impl Into<String>, keys: ShopKeys) -> Self {
        Self { http: reqwest::Client::new(), base: base.into().trim_end_matches('/').to_owned(), keys }
    }

    /// The same door, signing with secrets the shop never issued.
    pub fn forger(&self) -> Self {
        Self { keys: self.keys.forged(), ..self.clone() }
    }

    pub async fn shopify(&self, topic: &str, event_id: &str, body: &Value) -> Result<Answer, reqwest::Error> {
        let body = body.to_string().into_bytes();
        let headers = self.keys.shopify_headers(topic, event_id, &body);
        self.post("/webhooks/shopify", headers, body).await
    }

    pub async fn woocommerce(&self, topic: &str, delivery_id: &str, body: &Value) -> Result<Answer, reqwest::Error> {
        let body = body.to_string().into_bytes();
        let headers = self.keys.woocommerce_headers(topic, delivery_id, &body);
        self.post("/webhooks/woocommerce", headers, body).await
    }

    /// One signed `POST /v1/events` of these events (at most 100, the API's batch limit).
    pub async fn api(&self, events: &[Value]) -> Result<Answer, reqwest::Error> {
        let body = json!({ "events": events }).to_string().into_bytes();
        let headers = self.keys.api_headers(&body, Utc::now());
        self.post("/v1/events", headers, body).await
    }

    /// A `navigator.sendBeacon` from the shop's pages: public key in the query, text/plain.
    pub async fn track(&self, beacon: &Value) -> Result<Answer, reqwest::Error> {
        let path = format!("/v1/track?key={}", self.keys.track_key);
        let headers = vec![("content-type", "text/plain".to_owned()), ("origin", self.keys.track_origin.clone())];
        self.post(&path, headers, beacon.to_string().into_bytes()).await
    }

    /// The one-click unsubscribe a mail client posts to a mail's `List-Unsubscribe` link.
    pub async fn unsubscribe(&self, token: &str) -> Result<Answer, reqwest::Error> {
        let headers = vec![("content-type", "application/x-www-form-urlencoded".to_owned())];
        self.post(&format!("/unsubscribe?t={token}"), headers, b"List-Unsubscribe=One-Click".to_vec()).await
    }

    async fn post(&self, path: &str, headers: Headers, body: Vec<u8>) -> Result<Answer, reqwest::Error> {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok(Answer { status, body: response.json().await.unwrap_or(Value::Null) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = include_str!("../fixtures/shops.local.json");

    #[test]
    fn the_local_shops_keys_are_read_from_its_document() {
        let keys = ShopKeys::from_document(&serde_json::from_str(LOCAL).unwrap()).unwrap();
        assert_eq!(
            (keys.shop.as_str(), keys.woocommerce_source.as_str()),
            ("demo.myshopify.com", "http://woo.localhost/")
        );
        let headers = keys.shopify_headers("orders/create", "e1", b"{}");
        let signature = &headers.iter().find(|(name, _)| *name == "x-shopify-hmac-sha256").unwrap().1;
        assert!(relance::signature::verify_base64_hmac_sha256(&keys.shopify, b"{}", signature).is_ok());
        assert!(relance::signature::verify_base64_hmac_sha256(&keys.forged().shopify, b"{}", signature).is_err());
    }
}
