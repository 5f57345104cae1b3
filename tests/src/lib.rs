//! The local side of Relance: a handle on the local AWS stack started by `make up`, and
//! the dispatcher that plays EventBridge's, Scheduler's and Lambda's part in front of our
//! functions (moto stores rules and schedules but never invokes Lambda).
//!
//! Integration tests (`tests/tests/*.rs`), the demo and `relance-dispatch` all use it:
//! end-to-end ones through [`live::LiveShop`], with the builders of [`fixtures`].

pub mod demo;
pub mod dispatcher;
pub mod faults;
pub mod fixtures;
pub mod invoke;
pub mod live;
pub mod mailbox;
pub mod platforms;
pub mod queues;
pub mod report;
pub mod ses_events;
pub mod signed;
pub mod sim;
pub mod stack;
pub mod targets;
pub mod watch;

/// A name no other test or earlier run has used, so tests can share the provisioned
/// resources (the template's table, bus and queues) without seeing each other's data.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}-{nanos:x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// `shop` (an entry of a shops document) under a name new to the stack, with everything a
/// delivery is matched by — id, Shopify domain, WooCommerce site, tracker key — derived from
/// it: the delivery ledger remembers every event id for a week, so a test that plays the
/// same deliveries again needs a shop of its own.
pub fn renamed_shop(shop: &serde_json::Value, prefix: &str) -> serde_json::Value {
    let name = unique(prefix);
    let mut shop = shop.clone();
    shop["id"] = serde_json::json!(format!("{name}.myshopify.com"));
    shop["shopify"]["domain"] = serde_json::json!(format!("{name}.myshopify.com"));
    shop["woocommerce"]["source"] = serde_json::json!(format!("http://{name}.woo.localhost"));
    shop["track"]["public_key"] = serde_json::json!(format!("pk_local_{name}"));
    shop
}
