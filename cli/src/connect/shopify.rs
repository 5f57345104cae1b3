//! The Shopify Admin GraphQL API's webhook subscriptions (SPECS: "Shopify history …
//! Webhook subscriptions"): `webhookSubscriptions` listed in pages, `webhookSubscriptionCreate`
//! and `webhookSubscriptionUpdate` with the unified `uri` field, through
//! [`ShopifyGraphql`](crate::platforms::shopify::ShopifyGraphql).

use super::{Subscription, WebhookAdmin};
use crate::platforms::PlatformError;
use crate::platforms::shopify::{ShopifyGraphql, cut};
use async_trait::async_trait;
use serde_json::{Value, json};

const PLATFORM: &str = "Shopify";

const LIST: &str = "query RelanceSubscriptions($after: String) { webhookSubscriptions(first: 100, after: $after) { nodes { id topic uri format } pageInfo { hasNextPage endCursor } } }";
const CREATE: &str = "mutation RelanceSubscribe($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) { webhookSubscription { id topic uri format } userErrors { field message } } }";
const UPDATE: &str = "mutation RelanceResubscribe($id: ID!, $subscription: WebhookSubscriptionInput!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: $subscription) { webhookSubscription { id topic uri format } userErrors { field message } } }";

/// `orders/create` → `ORDERS_CREATE`, the `WebhookSubscriptionTopic` enum's spelling.
pub fn topic_enum(topic: &str) -> String {
    topic.replace('/', "_").to_ascii_uppercase()
}

pub struct ShopifyAdmin {
    graphql: ShopifyGraphql,
    uri: String,
}

impl ShopifyAdmin {
    /// The shop's subscriptions, delivering to `uri`.
    pub fn new(graphql: ShopifyGraphql, uri: String) -> Self {
        Self { graphql, uri }
    }

    async fn mutate(
        &self,
        action: String,
        query: &str,
        field: &str,
        variables: Value,
    ) -> Result<String, PlatformError> {
        let data = self.graphql.call(&action, query, variables).await?;
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
            return Err(PlatformError::Rejected { platform: PLATFORM, action, reason: reasons.join("; ") });
        }
        payload["webhookSubscription"]["id"].as_str().map(str::to_owned).ok_or_else(|| PlatformError::Unexpected {
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

#[async_trait]
impl WebhookAdmin for ShopifyAdmin {
    async fn list(&self) -> Result<Vec<Subscription>, PlatformError> {
        let mut found = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = self.graphql.call("list webhook subscriptions", LIST, json!({ "after": after })).await?;
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

    async fn create(&self, topic: &str) -> Result<String, PlatformError> {
        let variables = json!({ "topic": topic, "subscription": self.subscription() });
        self.mutate(format!("subscribe to {topic}"), CREATE, "webhookSubscriptionCreate", variables).await
    }

    async fn fix(&self, id: &str, topic: &str) -> Result<(), PlatformError> {
        let variables = json!({ "id": id, "subscription": self.subscription() });
        self.mutate(format!("update the subscription to {topic}"), UPDATE, "webhookSubscriptionUpdate", variables)
            .await?;
        Ok(())
    }

    fn uri(&self) -> &str {
        &self.uri
    }
}
