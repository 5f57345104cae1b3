//! webhook-ingest end to end on the local stack: signed Shopify deliveries and a tracker
//! beacon over HTTP to the function URL served by `cargo lambda watch`, canonical events at
//! the rules' targets.

use relance_tests::fixtures::shopify_fixture;
use relance_tests::live::LiveShop;
use relance_tests::queues::receive_matching;
use relance_tests::unique;
use serde_json::{Value, json};

#[tokio::test]
async fn shopify_checkout_and_order_reach_the_rule_targets_exactly_once() {
    let shop = LiveShop::start(json!({})).await;
    let (checkout, order) =
        (shopify_fixture("checkouts-create__2025-07.json"), shopify_fixture("orders-create__2025-07.json"));
    let run = unique("evt");
    let (checkout_id, order_id) = (format!("{run}-checkout"), format!("{run}-order"));

    let answer = shop.post_shopify("checkouts/create", &checkout_id, &checkout).await;
    assert_eq!((answer.status, answer.published()), (200, 1), "{}", answer.body);
    let answer = shop.post_shopify("orders/create", &order_id, &order).await;
    assert_eq!((answer.status, answer.published()), (200, 1), "{}", answer.body);
    // Shopify redelivers the checkout: accepted, published nothing.
    let answer = shop.post_shopify("checkouts/create", &checkout_id, &checkout).await;
    assert_eq!((answer.status, answer.duplicates()), (200, 1), "{}", answer.body);
    // A wrong signature is refused over HTTP too.
    let forged = shop.client.forger().shopify("orders/create", &format!("{run}-forged"), &order).await.unwrap();
    assert_eq!(forged.status, 401);

    let stack = &shop.stack;
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

    // The browser tracker: a product view from the shop's pages reaches profile-update.
    let visitor = unique("v");
    let beacon = json!({ "visitor_id": visitor, "landing": "/?utm_source=newsletter",
        "events": [{ "id": "1", "type": "product.viewed", "product_id": "632910392", "title": "IPod Nano" }] });
    let answer = shop.track(&beacon).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mine = |event: &Value| event.to_string().contains(&visitor);
    let views = receive_matching(&stack.sqs(), &commerce.queue_url, mine, 1, 100).await.unwrap();
    assert_eq!(views.len(), 1, "one product view, attributed to the visitor");
    assert_eq!(views[0]["detail-type"], "product.viewed");
}
