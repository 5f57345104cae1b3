//! webhook-ingest end to end on the local stack: signed Shopify deliveries over HTTP to the
//! function URL served by `cargo lambda watch`, canonical events at the rules' targets.

use base64::Engine as _;
use relance_tests::queues::receive_matching;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use relance_tests::watch::LambdaWatch;
use serde_json::Value;

const SHOPS: &str = include_str!("../fixtures/shops.local.json");
const SECRET: &str = "local-shopify-secret";
const CHECKOUT: &[u8] = include_bytes!("../fixtures/shopify/checkouts-create__2025-07.json");
const ORDER: &[u8] = include_bytes!("../fixtures/shopify/orders-create__2025-07.json");

/// The `X-Shopify-Hmac-Sha256` header a shop with this secret would send (the signer is
/// pinned to Python-computed vectors in `relance::signature`'s tests).
fn sign(body: &[u8]) -> String {
    relance::signature::sign_base64_hmac_sha256(&relance::signature::Secret::new(SECRET.to_owned()).unwrap(), body)
}

async fn deliver(client: &reqwest::Client, url: &str, topic: &str, event_id: &str, body: &[u8]) -> (u16, Value) {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-shopify-topic", topic)
        .header("x-shopify-shop-domain", "demo.myshopify.com")
        .header("x-shopify-event-id", event_id)
        .header("x-shopify-hmac-sha256", sign(body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn shopify_checkout_and_order_reach_the_rule_targets_exactly_once() {
    let stack = LocalStack::connect().await.unwrap();
    stack.put_shops(SHOPS).await.unwrap();
    let mut watch = LambdaWatch::start(&stack.dir().join("stack.env")).unwrap();
    watch.wait_until_serving("webhook-ingest", "/health").await.unwrap();
    let url = watch.function_url("webhook-ingest", "/webhooks/shopify");
    let client = reqwest::Client::new();
    let run = unique("evt");
    let (checkout_id, order_id) = (format!("{run}-checkout"), format!("{run}-order"));

    let (status, body) = deliver(&client, &url, "checkouts/create", &checkout_id, CHECKOUT).await;
    assert_eq!((status, &body["result"]["published"]), (200, &Value::from(1)), "{body}");
    let (status, body) = deliver(&client, &url, "orders/create", &order_id, ORDER).await;
    assert_eq!((status, &body["result"]["published"]), (200, &Value::from(1)), "{body}");
    // Shopify redelivers the checkout: accepted, published nothing.
    let (status, body) = deliver(&client, &url, "checkouts/create", &checkout_id, CHECKOUT).await;
    assert_eq!((status, &body["result"]["duplicates"]), (200, &Value::from(1)), "{body}");
    // A wrong signature is refused over HTTP too.
    let tampered = client
        .post(&url)
        .header("content-type", "application/json")
        .header("x-shopify-topic", "orders/create")
        .header("x-shopify-shop-domain", "demo.myshopify.com")
        .header("x-shopify-event-id", format!("{run}-forged"))
        .header("x-shopify-hmac-sha256", base64::engine::general_purpose::STANDARD.encode([0u8; 32]))
        .body(ORDER.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status().as_u16(), 401);

    let ours = |event: &Value| event["detail"]["id"].as_str().is_some_and(|id| id.contains(&run));
    let commerce = stack.targets.rule_for("profile-update", "Commerce").unwrap();
    let events = receive_matching(&stack.sqs(), &commerce.queue_url, ours, 3, 100).await.unwrap();
    let mut kinds: Vec<&str> = events.iter().map(|e| e["detail-type"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["checkout.started", "order.placed"], "each exactly once, nothing forged");

    let order = events.iter().find(|e| e["detail-type"] == "order.placed").unwrap();
    assert_eq!(order["source"], "relance.ingest");
    assert_eq!(order["detail"]["id"], format!("shopify:demo.myshopify.com:{order_id}"));
    assert_eq!(order["detail"]["shop"], "demo.myshopify.com");
    assert_eq!(order["detail"]["payload"]["total"]["currency"], "USD");
    assert!(order["detail"]["payload"]["line_items"].as_array().is_some_and(|l| !l.is_empty()));

    let timer = stack.targets.rule_for("cart-abandon-timer", "Checkouts").unwrap();
    let timer_events = receive_matching(&stack.sqs(), &timer.queue_url, ours, 2, 100).await.unwrap();
    assert_eq!(timer_events.len(), 2, "the cart timer sees the checkout and its order");
}
