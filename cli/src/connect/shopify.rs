//! The Shopify Admin GraphQL API's webhook subscriptions (SPECS: "Shopify history …
//! Webhook subscriptions"): `webhookSubscriptions` listed in pages, `webhookSubscriptionCreate`
//! and `webhookSubscriptionUpdate` with the unified `uri` field, authenticated with the
//! app's Admin API access token (`X-Shopify-Access-Token`).
//!
//! Calls are limited by query cost, a leaky bucket per app and shop. A throttled call is
//! answered with a `THROTTLED` error and the bucket's state in `extensions.cost`: it is
//! retried after the time the bucket needs to hold the query's cost again (or after the
//! `Retry-After` of a 429).

use super::{AdminError, Patience, Subscription, WebhookAdmin};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::time::Duration;

/// The Admin API version Relance speaks (the first with `uri` on subscriptions).
pub const API_VERSION: &str = "2025-10";

const PLATFORM: &str = "Shopify";

const LIST: &str = "query RelanceSubscriptions($after: String) { webhookSubscriptions(first: 100, after: $after) { nodes { id topic uri format } pageInfo { hasNextPage endCursor } } }";
const CREATE: &str = "mutation RelanceSubscribe($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) { webhookSubscription { id topic uri format } userErrors { field message } } }";
const UPDATE: &str = "mutation RelanceResubscribe($id: ID!, $subscription: WebhookSubscriptionInput!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: $subscription) { webhookSubscription { id topic uri format } userErrors { field message } } }";

/// `orders/create` → `ORDERS_CREATE`, the `WebhookSubscriptionTopic` enum's spelling.
pub fn topic_enum(topic: &str) -> String {
    topic.replace('/', "_").to_ascii_uppercase()
}

pub struct ShopifyAdmin {
    http: reqwest::Client,
    endpoint: String,
    token: String,
    uri: String,
    patience: Patience,
}

impl ShopifyAdmin {
    /// The shop's Admin API (`https://<domain>/admin/api/<version>/graphql.json`), with
    /// subscriptions delivering to `uri`.
    pub fn new(domain: &str, token: String, uri: String) -> Self {
        Self::at(format!("https://{domain}/admin/api/{API_VERSION}/graphql.json"), token, uri)
    }

    /// The same API at another endpoint (a local server in tests).
    pub fn at(endpoint: String, token: String, uri: String) -> Self {
        Self { http: reqwest::Client::new(), endpoint, token, uri, patience: Patience::default() }
    }

    pub fn with_patience(mut self, patience: Patience) -> Self {
        self.patience = patience;
        self
    }

    /// One GraphQL call: its `data`, after as many waits as throttling asks for.
    async fn call(&self, action: &str, query: &str, variables: Value) -> Result<Value, AdminError> {
        let body = json!({ "query": query, "variables": variables });
        for _ in 0..self.patience.attempts {
            let response = self
                .http
                .post(&self.endpoint)
                .header("X-Shopify-Access-Token", &self.token)
                .json(&body)
                .send()
                .await
                .map_err(|source| AdminError::Unreachable { platform: PLATFORM, url: self.endpoint.clone(), source })?;
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
                    return Err(AdminError::Unauthorized {
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
                    return Err(AdminError::Unexpected {
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
                return Err(AdminError::Rejected {
                    platform: PLATFORM,
                    action: action.to_owned(),
                    reason: error_text(&json!({ "errors": errors })).unwrap_or_default(),
                });
            }
            return Ok(answer.get("data").cloned().unwrap_or(Value::Null));
        }
        Err(AdminError::Throttled { platform: PLATFORM, attempts: self.patience.attempts })
    }

    async fn wait(&self, seconds: f64) {
        let wait = Duration::from_secs_f64(seconds.clamp(0.05, self.patience.longest_wait.as_secs_f64()));
        tokio::time::sleep(wait).await;
    }

    async fn mutate(&self, action: String, query: &str, field: &str, variables: Value) -> Result<String, AdminError> {
        let data = self.call(&action, query, variables).await?;
        let payload = &data[field];
        if let Some(errors) = payload["userErrors"].as_array().filter(|e| !e.is_empty()) {
            let reasons: Vec<String> = errors
                .iter()
                .map(|e| {
                    let field =
                        e["field"].as_array().map(|f| f.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("."));
                    let message = e["message"].as_str().unwrap_or("refused");
                    match field {
                        Some(field) if !field.is_empty() => format!("{field}: {message}"),
                        _ => message.to_owned(),
                    }
                })
                .collect();
            return Err(AdminError::Rejected { platform: PLATFORM, action, reason: reasons.join("; ") });
        }
        payload["webhookSubscription"]["id"].as_str().map(str::to_owned).ok_or_else(|| AdminError::Unexpected {
            platform: PLATFORM,
            action,
            status: 200,
            body: cut(&data.to_string()),
        })
    }

    fn subscription(&self) -> Value {
        json!({ "uri": self.uri, "format": "JSON" })
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

fn cut(text: &str) -> String {
    text.chars().take(300).collect()
}

#[async_trait]
impl WebhookAdmin for ShopifyAdmin {
    async fn list(&self) -> Result<Vec<Subscription>, AdminError> {
        let mut found = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = self.call("list webhook subscriptions", LIST, json!({ "after": after })).await?;
            let connection = &data["webhookSubscriptions"];
            for node in connection["nodes"].as_array().into_iter().flatten() {
                let format = node["format"].as_str().unwrap_or("JSON");
                found.push(Subscription {
                    id: node["id"].as_str().unwrap_or_default().to_owned(),
                    topic: node["topic"].as_str().unwrap_or_default().to_owned(),
                    uri: node["uri"].as_str().unwrap_or_default().to_owned(),
                    // An app sees only its own subscriptions.
                    ours: true,
                    faults: if format == "JSON" { Vec::new() } else { vec![format!("was in format {format}")] },
                });
            }
            let page = &connection["pageInfo"];
            match (page["hasNextPage"].as_bool(), page["endCursor"].as_str()) {
                (Some(true), Some(cursor)) => after = json!(cursor),
                _ => return Ok(found),
            }
        }
    }

    async fn create(&self, topic: &str) -> Result<String, AdminError> {
        let variables = json!({ "topic": topic, "subscription": self.subscription() });
        self.mutate(format!("subscribe to {topic}"), CREATE, "webhookSubscriptionCreate", variables).await
    }

    async fn fix(&self, id: &str, topic: &str) -> Result<(), AdminError> {
        let variables = json!({ "id": id, "subscription": self.subscription() });
        self.mutate(format!("update the subscription to {topic}"), UPDATE, "webhookSubscriptionUpdate", variables)
            .await?;
        Ok(())
    }

    fn uri(&self) -> &str {
        &self.uri
    }
}
