//! A Shopify shop's history through Admin GraphQL bulk operations (SPECS: "Shopify
//! history"): one bulk query for the customers, then one for the orders (a shop runs one
//! at a time), each polled until it is done, its JSONL result downloaded and read line by
//! line with the domain's readers ([`relance::normalise::shopify_bulk`]). A bad object is
//! reported as `shopify/orders.jsonl:<line>` and skipped (an order with a bad line item
//! whole).

use super::event::ImportEvent;
use super::history;
use super::table::{BadRow, Place};
use crate::platforms::PlatformError;
use crate::platforms::shopify::{ShopifyGraphql, cut};
use chrono::{DateTime, Utc};
use relance::events::Payload;
use relance::money::Currency;
use relance::normalise::shopify_bulk::{CUSTOMERS_QUERY, ORDERS_QUERY, bulk_customer, bulk_order};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

const PLATFORM: &str = "Shopify";

const RUN: &str = "mutation RelanceBulk($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message } } }";
const POLL: &str = "query RelanceBulkStatus($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount url partialDataUrl } } }";

/// How often to ask whether a bulk operation is done: from `first`, doubling to `longest`;
/// given up after `deadline` (Shopify's own limit for one is 10 days; a shop's history
/// takes minutes).
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub first: Duration,
    pub longest: Duration,
    pub deadline: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            longest: Duration::from_secs(15),
            deadline: Duration::from_secs(6 * 3600),
        }
    }
}

/// Runs one bulk query to its end; the URL of its result (`None`: nothing matched).
/// `status` hears each poll's status and object count.
pub async fn run_bulk(
    graphql: &ShopifyGraphql,
    query: &str,
    polling: Polling,
    status: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<Option<String>, PlatformError> {
    let action = "start a bulk operation";
    let data = graphql.call(action, RUN, json!({ "query": query })).await?;
    let run = &data["bulkOperationRunQuery"];
    if let Some(errors) = run["userErrors"].as_array().filter(|e| !e.is_empty()) {
        let reasons: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
        return Err(PlatformError::Rejected { platform: PLATFORM, action: action.into(), reason: reasons.join("; ") });
    }
    let id = run["bulkOperation"]["id"].as_str().map(str::to_owned).ok_or_else(|| PlatformError::Unexpected {
        platform: PLATFORM,
        action: action.into(),
        status: 200,
        body: cut(&data.to_string()),
    })?;
    let began = tokio::time::Instant::now();
    let mut wait = polling.first;
    loop {
        let data = graphql.call("ask how the bulk operation goes", POLL, json!({ "id": id })).await?;
        let node = &data["node"];
        let state = node["status"].as_str().unwrap_or("UNKNOWN");
        let count = node["objectCount"].as_str().and_then(|c| c.parse().ok()).unwrap_or(0);
        status(state, count);
        match state {
            "COMPLETED" => return Ok(node["url"].as_str().map(str::to_owned)),
            "CREATED" | "RUNNING" => {}
            other => {
                return Err(PlatformError::Rejected {
                    platform: PLATFORM,
                    action: format!("finish bulk operation {id}"),
                    reason: format!("it ended {other} ({})", node["errorCode"].as_str().unwrap_or("no error code")),
                });
            }
        }
        if began.elapsed() > polling.deadline {
            return Err(PlatformError::Rejected {
                platform: PLATFORM,
                action: format!("finish bulk operation {id}"),
                reason: format!("still {state} after {} s: run the import again later", polling.deadline.as_secs()),
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(polling.longest);
    }
}

/// A bulk result, read as it downloads: one JSON value per line (blank lines skipped), or
/// the line number of one that is not JSON.
pub async fn download(http: &reqwest::Client, url: &str) -> Result<Vec<Result<Value, String>>, PlatformError> {
    let unreachable = |source| PlatformError::Unreachable { platform: PLATFORM, url: url.to_owned(), source };
    let mut response = http.get(url).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(PlatformError::Unexpected {
            platform: PLATFORM,
            action: "download the bulk result".into(),
            status: response.status().as_u16(),
            body: String::new(),
        });
    }
    let (mut lines, mut pending) = (Vec::new(), Vec::<u8>::new());
    let take = |line: &[u8], lines: &mut Vec<Result<Value, String>>| {
        if !line.iter().all(u8::is_ascii_whitespace) {
            lines.push(serde_json::from_slice(line).map_err(|e| e.to_string()));
        }
    };
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            take(&line, &mut lines);
        }
    }
    take(&pending, &mut lines);
    Ok(lines)
}

fn place(file: &str, line: usize) -> Place {
    Place { file: PathBuf::from(format!("shopify/{file}")), line: line as u64 }
}

/// The events of the customers' lines and the orders' lines (each order with the line-item
/// lines after it), and the lines skipped.
pub fn events(
    customers: &[Result<Value, String>],
    orders: &[Result<Value, String>],
    currency: Option<Currency>,
    now: DateTime<Utc>,
) -> (Vec<ImportEvent>, Vec<BadRow>) {
    let (mut events, mut bad) = (Vec::new(), Vec::new());
    for (i, line) in customers.iter().enumerate() {
        let read = line.as_ref().map_err(Clone::clone).and_then(|node| bulk_customer(node).map_err(|e| e.to_string()));
        match read {
            Ok((identity, customer)) => {
                let id = identity.customer_id.as_ref().map(ToString::to_string).unwrap_or_default();
                events.push(ImportEvent::new(
                    format!("import:customer:id:{id}"),
                    now,
                    identity,
                    &Payload::CustomerUpserted(customer),
                ));
            }
            Err(reason) => bad.push(BadRow { place: place("customers.jsonl", i + 1), reason }),
        }
    }
    // Orders with their children: a line naming a `__parentId` belongs to the order before.
    let mut groups: Vec<(usize, &Value, Vec<Value>)> = Vec::new();
    for (i, line) in orders.iter().enumerate() {
        match line {
            Err(reason) => bad.push(BadRow { place: place("orders.jsonl", i + 1), reason: reason.clone() }),
            Ok(value) => match value.get("__parentId").and_then(Value::as_str) {
                Some(parent) => {
                    match groups.iter_mut().rev().find(|(_, order, _)| order["id"].as_str() == Some(parent)) {
                        Some((_, _, lines)) => lines.push(value.clone()),
                        None => bad.push(BadRow {
                            place: place("orders.jsonl", i + 1),
                            reason: format!("a line item of {parent}, which is not listed before it"),
                        }),
                    }
                }
                None => groups.push((i + 1, value, Vec::new())),
            },
        }
    }
    for (line, order, items) in groups {
        match bulk_order(order, &items, currency) {
            Ok(stored) if stored.identity.email.is_none() && stored.identity.customer_id.is_none() => {
                bad.push(BadRow { place: place("orders.jsonl", line), reason: "the order names no customer".into() })
            }
            Ok(stored) => events.extend(history::order_events(&stored)),
            Err(e) => bad.push(BadRow { place: place("orders.jsonl", line), reason: e.to_string() }),
        }
    }
    bad.sort_by(|a, b| a.place.cmp(&b.place));
    (events, bad)
}

/// The shop's customers and orders, by two bulk operations one after the other.
pub async fn read(
    graphql: &ShopifyGraphql,
    currency: Option<Currency>,
    now: DateTime<Utc>,
    polling: Polling,
    status: &mut (dyn FnMut(&str, &str, u64) + Send),
) -> Result<(Vec<ImportEvent>, Vec<BadRow>), PlatformError> {
    let mut results = Vec::new();
    for (what, query) in [("customers", CUSTOMERS_QUERY), ("orders", ORDERS_QUERY)] {
        let url = run_bulk(graphql, query, polling, &mut |state, count| status(what, state, count)).await?;
        results.push(match url {
            Some(url) => download(graphql.http(), &url).await?,
            None => Vec::new(),
        });
    }
    Ok(events(&results[0], &results[1], currency, now))
}
