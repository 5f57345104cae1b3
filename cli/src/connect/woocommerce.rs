//! WooCommerce's REST API v3 webhooks (SPECS: "WooCommerce history and webhooks";
//! developer.woocommerce.com/docs/apis/rest-api/v3/webhooks): `GET /webhooks` in pages of
//! 100 (`X-WP-TotalPages`), `POST /webhooks`, `PUT /webhooks/<id>`, authenticated with a
//! REST API key (consumer key and secret, HTTP Basic over HTTPS).
//!
//! A store's list holds every plugin's webhooks: Relance's are those named `Relance …` or
//! delivering to the stack, and no other is touched. A webhook's `secret` is write-only
//! (never in an answer), so each run writes it on every Relance webhook: after a secret
//! rotation, `connect` is what gives the store the new one.

use super::{AdminError, Patience, Subscription, WebhookAdmin};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::time::Duration;

const PLATFORM: &str = "WooCommerce";

/// The name Relance gives its webhooks (WooCommerce → Settings → Advanced → Webhooks).
pub const NAME_PREFIX: &str = "Relance";

/// The REST API's root for a store's site URL.
pub fn api_root(site_url: &str) -> String {
    format!("{}/wp-json/wc/v3", site_url.trim_end_matches('/'))
}

pub struct WooAdmin {
    http: reqwest::Client,
    root: String,
    key: String,
    key_secret: String,
    uri: String,
    webhook_secret: String,
    patience: Patience,
}

impl WooAdmin {
    /// `root` as [`api_root`] gives it; webhooks deliver to `uri`, signed with `webhook_secret`.
    pub fn new(root: String, key: String, key_secret: String, uri: String, webhook_secret: String) -> Self {
        Self { http: reqwest::Client::new(), root, key, key_secret, uri, webhook_secret, patience: Patience::default() }
    }

    pub fn with_patience(mut self, patience: Patience) -> Self {
        self.patience = patience;
        self
    }

    /// One call, retried after a 429 or 503 (a host's limiter, a plugin's maintenance mode).
    async fn call(
        &self,
        action: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::header::HeaderMap, Value), AdminError> {
        for _ in 0..self.patience.attempts {
            let attempt =
                request.try_clone().expect("bodies are in memory").basic_auth(&self.key, Some(&self.key_secret));
            let response = attempt.send().await.map_err(|source| AdminError::Unreachable {
                platform: PLATFORM,
                url: self.root.clone(),
                source,
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap_or_default();
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            match status {
                200..=299 => return Ok((headers, answer)),
                401 | 403 => {
                    return Err(AdminError::Unauthorized {
                        platform: PLATFORM,
                        detail: answer["message"]
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("HTTP {status}")),
                        what_to_do: "the REST API key is wrong, revoked or read-only: WooCommerce → Settings → Advanced → REST API, a key with Read/Write permission, its consumer key and secret on stdin",
                    });
                }
                429 | 503 => {
                    let seconds = headers
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .unwrap_or(1.0);
                    let wait = seconds.clamp(0.05, self.patience.longest_wait.as_secs_f64());
                    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                }
                400 | 404 | 409 | 422 => {
                    return Err(AdminError::Rejected {
                        platform: PLATFORM,
                        action: action.to_owned(),
                        reason: answer["message"].as_str().unwrap_or(&text).to_owned(),
                    });
                }
                _ => {
                    return Err(AdminError::Unexpected {
                        platform: PLATFORM,
                        action: action.to_owned(),
                        status,
                        body: text.chars().take(300).collect(),
                    });
                }
            }
        }
        Err(AdminError::Throttled { platform: PLATFORM, attempts: self.patience.attempts })
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
    async fn list(&self) -> Result<Vec<Subscription>, AdminError> {
        let mut found = Vec::new();
        let mut page = 1u32;
        loop {
            let request = self
                .http
                .get(format!("{}/webhooks", self.root))
                .query(&[("per_page", "100"), ("page", &page.to_string())]);
            let (headers, answer) = self.call("list webhooks", request).await?;
            for hook in answer.as_array().into_iter().flatten() {
                let uri = hook["delivery_url"].as_str().unwrap_or_default().to_owned();
                let name = hook["name"].as_str().unwrap_or_default();
                let status = hook["status"].as_str().unwrap_or("active");
                found.push(Subscription {
                    id: hook["id"].as_i64().map(|id| id.to_string()).unwrap_or_default(),
                    topic: hook["topic"].as_str().unwrap_or_default().to_owned(),
                    ours: name.starts_with(NAME_PREFIX) || uri == self.uri,
                    uri,
                    faults: if status == "active" { Vec::new() } else { vec![format!("was {status}")] },
                });
            }
            let pages = headers
                .get("x-wp-totalpages")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(1);
            if page >= pages {
                return Ok(found);
            }
            page += 1;
        }
    }

    async fn create(&self, topic: &str) -> Result<String, AdminError> {
        let request = self.http.post(format!("{}/webhooks", self.root)).json(&self.body(topic));
        let (_, answer) = self.call(&format!("create the webhook for {topic}"), request).await?;
        answer["id"].as_i64().map(|id| id.to_string()).ok_or_else(|| AdminError::Unexpected {
            platform: PLATFORM,
            action: format!("create the webhook for {topic}"),
            status: 201,
            body: answer.to_string().chars().take(300).collect(),
        })
    }

    async fn fix(&self, id: &str, topic: &str) -> Result<(), AdminError> {
        let request = self.http.put(format!("{}/webhooks/{id}", self.root)).json(&self.body(topic));
        self.call(&format!("update webhook {id} ({topic})"), request).await?;
        Ok(())
    }

    fn uri(&self) -> &str {
        &self.uri
    }

    fn rewrites_kept(&self) -> bool {
        true
    }
}
