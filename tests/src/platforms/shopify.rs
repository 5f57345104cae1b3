//! The Shopify Admin GraphQL API of one shop: webhook subscriptions listed in pages,
//! created and updated; a throttled call when asked; 401 for any token but the shop's.

use super::{Answer, Call, Served, fixture, serve};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One subscription as the shop holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: String,
    pub topic: String,
    pub uri: String,
    pub format: String,
}

#[derive(Debug, Default)]
pub struct State {
    pub subscriptions: Vec<Held>,
    /// Answer this many coming calls as throttled.
    pub throttle_next: u32,
    /// Nodes per page (the query asks for 100; a small page exercises paging).
    pub page_size: usize,
    /// Every call's root field, in order (`webhookSubscriptions`, `throttled`, …).
    pub calls: Vec<String>,
    /// Bulk operations started, in order.
    pub bulk: Vec<Bulk>,
    /// How many polls of a new bulk operation answer it still running.
    pub bulk_running_polls: u32,
    next_id: u64,
}

/// A bulk operation and what its result file holds.
#[derive(Debug, Clone)]
pub struct Bulk {
    pub id: String,
    /// The fixture its `url` serves (`bulk-orders.jsonl`).
    pub result: &'static str,
    pub polls_left: u32,
}

/// Topics of the `WebhookSubscriptionTopic` enum the server accepts (a part of it: those
/// Relance uses and a few others).
const TOPICS: &[&str] = &[
    "APP_UNINSTALLED",
    "CARTS_CREATE",
    "CARTS_UPDATE",
    "CHECKOUTS_CREATE",
    "CHECKOUTS_UPDATE",
    "CUSTOMERS_CREATE",
    "CUSTOMERS_UPDATE",
    "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE",
    "FULFILLMENTS_CREATE",
    "FULFILLMENTS_UPDATE",
    "FULFILLMENT_EVENTS_CREATE",
    "ORDERS_CANCELLED",
    "ORDERS_CREATE",
    "ORDERS_FULFILLED",
    "ORDERS_PAID",
    "ORDERS_UPDATED",
    "PRODUCTS_UPDATE",
    "REFUNDS_CREATE",
];

pub struct ShopifyAdminServer {
    pub served: Served,
    pub state: Arc<Mutex<State>>,
}

impl ShopifyAdminServer {
    /// A shop whose only valid token is `token`, holding the subscriptions of
    /// `webhook_subscriptions.json`.
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let listed = fixture("shopify-admin/webhook_subscriptions.json");
        let subscriptions = listed["data"]["webhookSubscriptions"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| Held {
                id: n["id"].as_str().unwrap().to_owned(),
                topic: n["topic"].as_str().unwrap().to_owned(),
                uri: n["uri"].as_str().unwrap().to_owned(),
                format: n["format"].as_str().unwrap().to_owned(),
            })
            .collect();
        let state =
            Arc::new(Mutex::new(State { subscriptions, page_size: 100, next_id: 1_100_000_000, ..State::default() }));
        let token = token.to_owned();
        let shared = state.clone();
        let served = serve(Arc::new(move |call| handle(&shared, &token, call))).await?;
        Ok(Self { served, state })
    }

    /// The shop's GraphQL endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}/admin/api/2025-10/graphql.json", self.served.url)
    }

    pub fn subscriptions(&self) -> Vec<Held> {
        self.state.lock().unwrap().subscriptions.clone()
    }
}

fn cost() -> Value {
    fixture("shopify-admin/webhook_subscriptions.json")["extensions"].clone()
}

fn node(held: &Held) -> Value {
    json!({ "id": held.id, "topic": held.topic, "uri": held.uri, "format": held.format })
}

fn handle(state: &Mutex<State>, token: &str, call: Call) -> Answer {
    // A finished bulk operation's result: a signed URL, no token.
    if call.method == "GET"
        && let Some(name) = call.path.strip_prefix("/bulk-results/")
    {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/shopify-admin/").to_owned() + name;
        return match std::fs::read_to_string(path) {
            Ok(body) => {
                Answer { status: 200, headers: vec![("content-type".into(), "application/jsonl".into())], body }
            }
            Err(_) => Answer { status: 404, headers: Vec::new(), body: String::new() },
        };
    }
    if call.method != "POST" || !call.path.ends_with("/graphql.json") {
        return Answer::json(404, &json!({ "errors": "Not Found" }));
    }
    if call.header("x-shopify-access-token") != Some(token) {
        return Answer::json(401, &fixture("shopify-admin/invalid_token.json"));
    }
    let mut state = state.lock().unwrap();
    if state.throttle_next > 0 {
        state.throttle_next -= 1;
        state.calls.push("throttled".into());
        return Answer::json(200, &fixture("shopify-admin/throttled.json"));
    }
    let request = call.json();
    let query = request["query"].as_str().unwrap_or_default();
    let variables = &request["variables"];
    let root = [
        "webhookSubscriptionCreate",
        "webhookSubscriptionUpdate",
        "webhookSubscriptions",
        "bulkOperationRunQuery",
        "node",
    ]
    .into_iter()
    .find(|field| query.contains(&format!("{field}(")));
    let Some(root) = root else {
        return Answer::json(
            200,
            &json!({ "errors": [{ "message": "this local server answers webhook subscriptions only" }] }),
        );
    };
    state.calls.push(root.to_owned());
    let data = match root {
        "webhookSubscriptions" => {
            let start = variables["after"].as_str().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
            let end = (start + state.page_size).min(state.subscriptions.len());
            let nodes: Vec<Value> = state.subscriptions[start..end].iter().map(node).collect();
            json!({ "webhookSubscriptions": {
                "nodes": nodes,
                "pageInfo": { "hasNextPage": end < state.subscriptions.len(), "endCursor": end.to_string() }
            }})
        }
        "bulkOperationRunQuery" => {
            let bulk_query = variables["query"].as_str().unwrap_or_default();
            let result = if bulk_query.contains("customers {") {
                "bulk-customers.jsonl"
            } else if bulk_query.contains("orders {") {
                "bulk-orders.jsonl"
            } else {
                return Answer::json(
                    200,
                    &json!({ "errors": [{ "message": "this local server runs bulk queries of customers or orders only" }] }),
                );
            };
            if state.bulk.iter().any(|b| b.polls_left > 0) {
                return Answer::json(
                    200,
                    &json!({ "data": { "bulkOperationRunQuery": { "bulkOperation": null, "userErrors": [{ "field": ["query"], "message": "A bulk query operation for this app and shop is already in progress." }] } } }),
                );
            }
            state.next_id += 1;
            let bulk = Bulk {
                id: format!("gid://shopify/BulkOperation/{}", state.next_id),
                result,
                polls_left: state.bulk_running_polls,
            };
            let created = json!({ "bulkOperationRunQuery": { "bulkOperation": { "id": bulk.id, "status": "CREATED" }, "userErrors": [] } });
            state.bulk.push(bulk);
            created
        }
        "node" => {
            let id = variables["id"].as_str().unwrap_or_default();
            let base = call.header("host").map(|h| format!("http://{h}")).unwrap_or_default();
            match state.bulk.iter_mut().find(|b| b.id == id) {
                None => json!({ "node": null }),
                Some(bulk) if bulk.polls_left > 0 => {
                    bulk.polls_left -= 1;
                    json!({ "node": { "id": bulk.id, "status": "RUNNING", "errorCode": null, "objectCount": "2", "url": null, "partialDataUrl": null } })
                }
                Some(bulk) => {
                    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/shopify-admin/").to_owned() + bulk.result;
                    let count = std::fs::read_to_string(path).map(|t| t.lines().count()).unwrap_or(0);
                    json!({ "node": { "id": bulk.id, "status": "COMPLETED", "errorCode": null, "objectCount": count.to_string(), "url": format!("{base}/bulk-results/{}", bulk.result), "partialDataUrl": null } })
                }
            }
        }
        "webhookSubscriptionCreate" => {
            let topic = variables["topic"].as_str().unwrap_or_default();
            if !TOPICS.contains(&topic) {
                return Answer::json(
                    200,
                    &json!({ "errors": [{ "message": format!("Variable $topic of type WebhookSubscriptionTopic! was provided invalid value"), "extensions": { "value": topic, "problems": [{ "path": [], "explanation": format!("Expected \"{topic}\" to be one of: …") }] } }] }),
                );
            }
            match checked(&variables["subscription"]) {
                Err(errors) => {
                    json!({ "webhookSubscriptionCreate": { "webhookSubscription": null, "userErrors": errors } })
                }
                Ok((uri, format)) => {
                    state.next_id += 1;
                    let held = Held {
                        id: format!("gid://shopify/WebhookSubscription/{}", state.next_id),
                        topic: topic.into(),
                        uri,
                        format,
                    };
                    state.subscriptions.push(held.clone());
                    json!({ "webhookSubscriptionCreate": { "webhookSubscription": node(&held), "userErrors": [] } })
                }
            }
        }
        _ => {
            let id = variables["id"].as_str().unwrap_or_default();
            let found = state.subscriptions.iter().position(|s| s.id == id);
            match (found, checked(&variables["subscription"])) {
                (None, _) => {
                    json!({ "webhookSubscriptionUpdate": { "webhookSubscription": null, "userErrors": [{ "field": ["id"], "message": "Webhook subscription does not exist" }] } })
                }
                (_, Err(errors)) => {
                    json!({ "webhookSubscriptionUpdate": { "webhookSubscription": null, "userErrors": errors } })
                }
                (Some(i), Ok((uri, format))) => {
                    let held = &mut state.subscriptions[i];
                    (held.uri, held.format) = (uri, format);
                    json!({ "webhookSubscriptionUpdate": { "webhookSubscription": node(held), "userErrors": [] } })
                }
            }
        }
    };
    let mut body = json!({ "data": data });
    body["extensions"] = cost();
    Answer::json(200, &body)
}

/// A `WebhookSubscriptionInput`'s `uri` and `format`; HTTPS only, as Shopify requires.
fn checked(input: &Value) -> Result<(String, String), Value> {
    let uri = input["uri"].as_str().unwrap_or_default();
    if !uri.starts_with("https://") {
        return Err(
            json!([{ "field": ["webhookSubscription", "uri"], "message": "Address protocol http:// is not supported" }]),
        );
    }
    Ok((uri.to_owned(), input["format"].as_str().unwrap_or("JSON").to_owned()))
}
