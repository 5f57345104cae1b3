//! WooCommerce's REST API v3 webhooks (SPECS: "WooCommerce history and webhooks";
//! developer.woocommerce.com/docs/apis/rest-api/v3/webhooks): `GET /webhooks` in pages of
//! 100 (`X-WP-TotalPages`), `POST /webhooks`, `PUT /webhooks/<id>`, authenticated with a
//! REST API key (consumer key and secret, HTTP Basic over HTTPS).
//!
//! A store's list holds every plugin's webhooks: Relance's are those named `Relance …` or
//! delivering to the stack, and no other is touched. A webhook's `secret` is write-only
//! (never in an answer), so each run writes it on every Relance webhook: after a secret
//! rotation, `connect` is what gives the store the new one.

use super::{Subscription, WebhookAdmin};
use crate::platforms::PlatformError;
use crate::platforms::woocommerce::WooRest;
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

const PLATFORM: &str = "WooCommerce";

/// The name Relance gives its webhooks (WooCommerce → Settings → Advanced → Webhooks).
pub const NAME_PREFIX: &str = "Relance";

pub struct WooAdmin {
    rest: WooRest,
    uri: String,
    webhook_secret: String,
}

impl WooAdmin {
    /// The store's webhooks, delivering to `uri`, signed with `webhook_secret`.
    pub fn new(rest: WooRest, uri: String, webhook_secret: String) -> Self {
        Self { rest, uri, webhook_secret }
    }

    fn body(&self, topic: &str) -> Value {
        json!({
            "name": format!("{NAME_PREFIX} {topic}"),
            "topic": topic,
            "delivery_url": self.uri,
            "secret": self.webhook_secret,
            "status": "active",
        })
    }
}

#[async_trait]
impl WebhookAdmin for WooAdmin {
    async fn list(&self) -> Result<Vec<Subscription>, PlatformError> {
        let hooks = self.rest.list("webhooks", &[], &mut |_, _| {}).await?;
        Ok(hooks
            .iter()
            .map(|hook| {
                let uri = hook["delivery_url"].as_str().unwrap_or_default().to_owned();
                let name = hook["name"].as_str().unwrap_or_default();
                let status = hook["status"].as_str().unwrap_or("active");
                Subscription {
                    id: hook["id"].as_i64().map(|id| id.to_string()).unwrap_or_default(),
                    topic: hook["topic"].as_str().unwrap_or_default().to_owned(),
                    ours: name.starts_with(NAME_PREFIX) || uri == self.uri,
                    uri,
                    faults: if status == "active" { Vec::new() } else { vec![format!("was {status}")] },
                }
            })
            .collect())
    }

    async fn create(&self, topic: &str) -> Result<String, PlatformError> {
        let request = self.rest.request(Method::POST, "webhooks").json(&self.body(topic));
        let (_, answer) = self.rest.call(&format!("create the webhook for {topic}"), request).await?;
        answer["id"].as_i64().map(|id| id.to_string()).ok_or_else(|| PlatformError::Unexpected {
            platform: PLATFORM,
            action: format!("create the webhook for {topic}"),
            status: 201,
            body: answer.to_string().chars().take(300).collect(),
        })
    }

    async fn fix(&self, id: &str, topic: &str) -> Result<(), PlatformError> {
        let request = self.rest.request(Method::PUT, &format!("webhooks/{id}")).json(&self.body(topic));
        self.rest.call(&format!("update webhook {id} ({topic})"), request).await?;
        Ok(())
    }

    fn uri(&self) -> &str {
        &self.uri
    }

    fn rewrites_kept(&self) -> bool {
        true
    }
}
