//! The Shopify Admin GraphQL API of one shop, for every command that calls it (`connect`,
//! `import --from shopify`): authenticated with the app's Admin API access token
//! (`X-Shopify-Access-Token`), and patient with its limits.
//!
//! Calls are limited by query cost, a leaky bucket per app and shop. A throttled call is
//! answered with a `THROTTLED` error and the bucket's state in `extensions.cost`: it is
//! retried after the time the bucket needs to hold the query's cost again (or after the
//! `Retry-After` of a 429).

use super::{Patience, PlatformError};
use serde_json::{Value, json};
use std::time::Duration;

/// The Admin API version Relance speaks (the first with `uri` on webhook subscriptions).
pub const API_VERSION: &str = "2025-10";

const PLATFORM: &str = "Shopify";

pub struct ShopifyGraphql {
    http: reqwest::Client,
    endpoint: String,
    token: String,
    patience: Patience,
}

impl ShopifyGraphql {
    /// The shop's Admin API (`https://<domain>/admin/api/<version>/graphql.json`).
    pub fn new(domain: &str, token: String) -> Self {
        Self::at(format!("https://{domain}/admin/api/{API_VERSION}/graphql.json"), token)
    }

    /// The same API at another endpoint (a local server in tests).
    pub fn at(endpoint: String, token: String) -> Self {
        Self { http: reqwest::Client::new(), endpoint, token, patience: Patience::default() }
    }

    pub fn with_patience(mut self, patience: Patience) -> Self {
        self.patience = patience;
        self
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// One GraphQL call: its `data`, after as many waits as throttling asks for.
    pub async fn call(&self, action: &str, query: &str, variables: Value) -> Result<Value, PlatformError> {
        let body = json!({ "query": query, "variables": variables });
        for _ in 0..self.patience.attempts {
            let response = self
                .http
                .post(&self.endpoint)
                .header("X-Shopify-Access-Token", &self.token)
                .json(&body)
                .send()
                .await
                .map_err(|source| PlatformError::Unreachable {
                    platform: PLATFORM,
                    url: self.endpoint.clone(),
                    source,
                })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok());
            let text = response.text().await.unwrap_or_default();
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            match status {
                401 | 403 => {
                    return Err(PlatformError::Unauthorized {
                        platform: PLATFORM,
                        detail: error_text(&answer).unwrap_or_else(|| format!("HTTP {status}")),
                        what_to_do: "the Admin API access token is wrong, expired or lacks a scope: install the app again (or create a new token in the custom app's settings) and give it on stdin",
                    });
                }
                429 => {
                    self.wait(retry_after.unwrap_or(1.0)).await;
                    continue;
                }
                200 => {}
                _ => {
                    return Err(PlatformError::Unexpected {
                        platform: PLATFORM,
                        action: action.to_owned(),
                        status,
                        body: cut(&text),
                    });
                }
            }
            if let Some(seconds) = throttled(&answer) {
                self.wait(seconds).await;
                continue;
            }
            if let Some(errors) = answer.get("errors") {
                return Err(PlatformError::Rejected {
                    platform: PLATFORM,
                    action: action.to_owned(),
                    reason: error_text(&json!({ "errors": errors })).unwrap_or_default(),
                });
            }
            return Ok(answer.get("data").cloned().unwrap_or(Value::Null));
        }
        Err(PlatformError::Throttled { platform: PLATFORM, attempts: self.patience.attempts })
    }

    async fn wait(&self, seconds: f64) {
        let wait = Duration::from_secs_f64(seconds.clamp(0.05, self.patience.longest_wait.as_secs_f64()));
        tokio::time::sleep(wait).await;
    }
}

/// Seconds to wait when the answer is a `THROTTLED` error: until the bucket holds the
/// requested cost again, from `extensions.cost.throttleStatus`.
fn throttled(answer: &Value) -> Option<f64> {
    let errors = answer.get("errors")?.as_array()?;
    let throttled = errors
        .iter()
        .any(|e| e["extensions"]["code"].as_str() == Some("THROTTLED") || e["message"].as_str() == Some("Throttled"));
    if !throttled {
        return None;
    }
    let cost = &answer["extensions"]["cost"];
    let requested = cost["requestedQueryCost"].as_f64().unwrap_or(0.0);
    let status = &cost["throttleStatus"];
    let available = status["currentlyAvailable"].as_f64().unwrap_or(0.0);
    let rate = status["restoreRate"].as_f64().filter(|r| *r > 0.0).unwrap_or(50.0);
    Some(((requested - available) / rate).max(0.0) + 0.05)
}

/// GraphQL's `errors` as one line: a string (401: `"[API] Invalid API key or access
/// token …"`) or a list of `{message}`.
fn error_text(answer: &Value) -> Option<String> {
    match answer.get("errors")? {
        Value::String(text) => Some(text.clone()),
        Value::Array(errors) => {
            Some(errors.iter().filter_map(|e| e["message"].as_str()).collect::<Vec<_>>().join("; "))
        }
        other => Some(other.to_string()),
    }
}

pub fn cut(text: &str) -> String {
    text.chars().take(300).collect()
}
