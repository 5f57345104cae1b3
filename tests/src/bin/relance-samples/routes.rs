//! The route samples: function-URL requests for webhook-ingest, one per door, signed as
//! the harness signs them (`relance_tests::signed`) but written to `events/webhook-ingest/`
//! for `cargo lambda invoke` instead of sent.

use super::{Error, at};
use relance::ids::ShopId;
use relance_tests::signed::{Headers, ShopKeys};
use serde_json::{Value, json};
use std::path::Path;

/// Function-URL requests (payload format 2.0) for webhook-ingest, signed with the public
/// test secrets of `tests/fixtures/shops.local.json`.
pub fn write_route_samples() -> Result<(), Error> {
    use relance::signature::Secret;
    use relance::unsubscribe::UnsubscribeToken;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let keys =
        ShopKeys::from_document(&serde_json::from_str(&std::fs::read_to_string(fixtures.join("shops.local.json"))?)?)?;
    // The link of a mail sent an hour before the sample time; links never expire.
    let unsubscribe_token = UnsubscribeToken {
        shop: ShopId::parse(&keys.shop)?,
        profile: relance::ids::ProfileId::parse("e0123456789abcdef0123456789abcdef")?,
        issued_at: at() - chrono::Duration::hours(1),
    }
    .sign(&Secret::new(keys.unsubscribe.clone())?);
    let order = std::fs::read_to_string(fixtures.join("shopify/orders-create__2025-07.json"))?;
    let checkout = std::fs::read_to_string(fixtures.join("shopify/checkouts-create__2025-07.json"))?;
    let woo_order = std::fs::read_to_string(fixtures.join("woocommerce/order.created__rest-api-docs-v3.json"))?;
    let api_body = r#"{"events":[{"id":"order-1001","type":"order.placed","occurred_at":"2026-11-23T17:30:00Z","identity":{"email":"anne@example.fr"},"data":{"order_id":"1001","line_items":[{"title":"Cuvee 2024","quantity":2,"unit_price":{"minor":1250,"currency":"EUR"}}],"total":{"minor":2500,"currency":"EUR"}}}]}"#;
    let beacon = r#"{"visitor_id":"v-7f3c","landing":"/?utm_source=newsletter&utm_campaign=soldes","events":[{"id":"1","type":"product.viewed","product_id":"632910392","title":"IPod Nano"}]}"#;
    let shopify_headers = |topic: &str, event_id: &str, body: &str| {
        let mut headers = as_json(keys.shopify_headers(topic, event_id, body.as_bytes()));
        headers["x-shopify-triggered-at"] = json!("2026-11-23T18:00:00Z");
        headers
    };
    let samples = [
        ("health", "GET", "/health", "", json!({})),
        (
            "shopify-orders-create",
            "POST",
            "/webhooks/shopify",
            order.as_str(),
            shopify_headers("orders/create", "sample-order-1", &order),
        ),
        (
            "shopify-checkouts-create",
            "POST",
            "/webhooks/shopify",
            checkout.as_str(),
            shopify_headers("checkouts/create", "sample-checkout-1", &checkout),
        ),
        (
            "woocommerce-order-created",
            "POST",
            "/webhooks/woocommerce",
            woo_order.as_str(),
            as_json(keys.woocommerce_headers("order.created", "sample-delivery-1", woo_order.as_bytes())),
        ),
        (
            "woocommerce-ping",
            "POST",
            "/webhooks/woocommerce",
            "webhook_id=12",
            json!({"content-type": "application/x-www-form-urlencoded"}),
        ),
        (
            "api-events",
            "POST",
            "/v1/events",
            api_body,
            // Signed at the sample's time: outside the 5-minute window today, so this sample
            // shows the refusal of a replay (401); re-sign it as the README shows.
            as_json(keys.api_headers(api_body.as_bytes(), at())),
        ),
        ("track", "POST", "/v1/track", beacon, json!({"content-type": "text/plain", "origin": keys.track_origin})),
        ("unsubscribe-get", "GET", "/unsubscribe", "", json!({"accept-language": "fr-FR,fr;q=0.9,en;q=0.8"})),
        (
            "unsubscribe-post",
            "POST",
            "/unsubscribe",
            "List-Unsubscribe=One-Click",
            json!({"content-type": "application/x-www-form-urlencoded"}),
        ),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/webhook-ingest");
    std::fs::create_dir_all(&dir)?;
    let count = samples.len();
    for (name, method, path, body, headers) in samples {
        let query = match path {
            "/v1/track" => format!("key={}", keys.track_key),
            "/unsubscribe" => format!("t={unsubscribe_token}"),
            _ => String::new(),
        };
        let request = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": "abcdefghij",
                "domainName": "abcdefghij.lambda-url.us-east-1.on.aws",
                "domainPrefix": "abcdefghij",
                "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "relance-sample" },
                "requestId": format!("sample-{name}"),
                "routeKey": "$default",
                "stage": "$default",
                "time": "23/Nov/2026:18:00:00 +0000",
                "timeEpoch": at().timestamp_millis(),
            },
            "body": body,
            "isBase64Encoded": false,
        });
        std::fs::write(dir.join(format!("{name}.json")), serde_json::to_string_pretty(&request)? + "\n")?;
    }
    println!("wrote {count} route samples to {}", dir.display());
    Ok(())
}

/// Headers as the `headers` object of a function-URL request.
fn as_json(headers: Headers) -> Value {
    Value::Object(headers.into_iter().map(|(name, value)| (name.to_owned(), Value::String(value))).collect())
}
