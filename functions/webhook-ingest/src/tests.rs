//! Route tests with in-memory ports: real signatures, real fixtures, fake AWS.

use crate::{Deps, handle, limiter::RateLimiter};
use chrono::{TimeZone, Utc};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use relance::directory::Directory;
use relance::ports::{Clock, ManualClock, MemoryLedger, MemoryParkingLot, RecordingPublisher};
use relance::shops::Shops;
use relance::signature::{Secret, sign_base64_hmac_sha256, sign_timestamped};
use std::sync::Arc;

pub(crate) const SHOPIFY_SECRET: &str = "shpss_test_secret";
pub(crate) const WOO_SECRET: &str = "woo test secret";
pub(crate) const API_SECRET: &str = "api test secret";

pub(crate) struct World {
    pub(crate) deps: Deps,
    pub(crate) publisher: Arc<RecordingPublisher>,
    pub(crate) parking: Arc<MemoryParkingLot>,
    pub(crate) clock: Arc<ManualClock>,
}

pub(crate) fn world() -> World {
    let shops = Shops::parse(&format!(
        r#"{{"shops": [{{"id": "demo.myshopify.com", "currency": "EUR",
            "shopify": {{"domain": "demo.myshopify.com", "secrets": ["{SHOPIFY_SECRET}"]}},
            "woocommerce": {{"source": "https://shop.example", "secrets": ["{WOO_SECRET}"]}},
            "api": {{"secrets": ["{API_SECRET}"]}},
            "track": {{"public_key": "pk_demo", "allowed_origins": ["https://shop.example"]}}}}]}}"#
    ))
    .unwrap();
    world_with(shops)
}

/// In-memory ports around `shops`, at 2026-11-23T18:00:00Z.
pub(crate) fn world_with(shops: Shops) -> World {
    let publisher = Arc::new(RecordingPublisher::default());
    let parking = Arc::new(MemoryParkingLot::default());
    let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 0).unwrap()));
    let deps = Deps {
        shops: Arc::new(Directory::fixed(shops)),
        ledger: Arc::new(MemoryLedger::default()),
        publisher: publisher.clone(),
        parking: parking.clone(),
        clock: clock.clone(),
        limiter: RateLimiter::new(5),
    };
    World { deps, publisher, parking, clock }
}

pub(crate) fn request(method: Method, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    let mut request = Request::new(Body::Binary(body.to_vec()));
    *request.method_mut() = method;
    *request.uri_mut() = path.parse().unwrap();
    for (name, value) in headers {
        let name = lambda_http::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    request
}

pub(crate) fn secret(value: &str) -> Secret {
    Secret::new(value.to_owned()).unwrap()
}

fn shopify_request(topic: &str, event_id: &str, body: &[u8], signature: &str) -> Request {
    request(
        Method::POST,
        "/webhooks/shopify",
        &[
            ("content-type", "application/json"),
            ("x-shopify-topic", topic),
            ("x-shopify-shop-domain", "demo.myshopify.com"),
            ("x-shopify-event-id", event_id),
            ("x-shopify-hmac-sha256", signature),
            ("x-shopify-triggered-at", "2026-11-23T17:59:58.123Z"),
        ],
        body,
    )
}

fn signed_shopify(topic: &str, event_id: &str, body: &[u8]) -> Request {
    shopify_request(topic, event_id, body, &sign_base64_hmac_sha256(&secret(SHOPIFY_SECRET), body))
}

pub(crate) fn body_json(response: &Response<Body>) -> serde_json::Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap(),
        _ => serde_json::Value::Null,
    }
}

const CHECKOUT: &[u8] = include_bytes!("../../../tests/fixtures/shopify/checkouts-create__2025-07.json");
const ORDER: &[u8] = include_bytes!("../../../tests/fixtures/shopify/orders-create__2025-07.json");
const WOO_ORDER: &[u8] = include_bytes!("../../../tests/fixtures/woocommerce/order.created__rest-api-docs-v3.json");

#[tokio::test]
async fn a_signed_shopify_checkout_is_published_once_as_a_canonical_event() {
    let w = world();
    let response = handle(signed_shopify("checkouts/create", "evt-1", CHECKOUT), &w.deps).await;
    assert_eq!(response.status(), StatusCode::OK, "{:?}", body_json(&response));
    let events = w.publisher.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].source, "relance.ingest");
    assert_eq!(events[0].detail_type, "checkout.started");
    assert_eq!(events[0].detail["id"], "shopify:demo.myshopify.com:evt-1");
    assert_eq!(events[0].detail["occurred_at"], "2026-11-23T17:59:58.123Z");

    let again = handle(signed_shopify("checkouts/create", "evt-1", CHECKOUT), &w.deps).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(body_json(&again)["result"]["duplicates"], 1);
    assert_eq!(w.publisher.events().len(), 1, "a duplicate delivery publishes nothing");
}

#[tokio::test]
async fn a_shop_added_after_the_cold_start_has_its_first_deliveries_accepted() {
    let w = world();
    let shops = w.deps.shops.snapshot();
    // Cold start without the shop; the shops secret then gains it (`relance shops add`).
    let source = Arc::new(relance::ports::MemoryShopsSource::new(r#"{"shops": []}"#));
    let started = w.clock.now();
    let directory = Directory::new(Shops::parse(r#"{"shops": []}"#).unwrap(), started, source.clone());
    let deps = Deps { shops: Arc::new(directory), ..w.deps };
    let refused = handle(signed_shopify("checkouts/create", "evt-a", CHECKOUT), &deps).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "not in the secret yet");
    let document = serde_json::json!({ "shops": shops.ids().iter().map(|id| {
        let shop = shops.get(id).unwrap();
        serde_json::json!({ "id": id, "currency": "EUR",
            "shopify": { "domain": shop.shopify.as_ref().unwrap().domain, "secrets": [SHOPIFY_SECRET] },
            "woocommerce": { "source": "https://shop.example", "secrets": [WOO_SECRET] } })
    }).collect::<Vec<_>>() });
    source.set(&document.to_string());
    w.clock.advance(chrono::Duration::seconds(31));
    let accepted = handle(signed_shopify("checkouts/create", "evt-b", CHECKOUT), &deps).await;
    assert_eq!(accepted.status(), StatusCode::OK, "{:?}", body_json(&accepted));
    let woo = handle(woo_request("order.created", "d-1", WOO_ORDER, WOO_SECRET), &deps).await;
    assert_eq!(woo.status(), StatusCode::OK, "WooCommerce never retries: its first delivery must land");
    assert_eq!(
        source.loads(),
        2,
        "one read per unknown shop seen, {} s apart",
        relance::directory::UNKNOWN_GAP.num_seconds()
    );
}

#[tokio::test]
async fn tampered_unsigned_or_foreign_shopify_deliveries_are_refused_and_publish_nothing() {
    let w = world();
    let signature = sign_base64_hmac_sha256(&secret(SHOPIFY_SECRET), ORDER);
    let mut tampered = ORDER.to_vec();
    tampered[10] ^= 1;
    let wrong_secret = sign_base64_hmac_sha256(&secret("another secret"), ORDER);
    let cases = [
        shopify_request("orders/create", "e1", &tampered, &signature),
        shopify_request("orders/create", "e2", ORDER, &wrong_secret),
        shopify_request("orders/create", "e3", ORDER, "not base64!"),
        request(Method::POST, "/webhooks/shopify", &[("x-shopify-shop-domain", "demo.myshopify.com")], ORDER),
    ];
    for case in cases {
        assert_eq!(handle(case, &w.deps).await.status(), StatusCode::UNAUTHORIZED);
    }
    let mut unknown_shop = signed_shopify("orders/create", "e4", ORDER);
    unknown_shop.headers_mut().insert("x-shopify-shop-domain", "other.myshopify.com".parse().unwrap());
    assert_eq!(handle(unknown_shop, &w.deps).await.status(), StatusCode::UNAUTHORIZED);
    assert!(w.publisher.events().is_empty());
}

#[tokio::test]
async fn bad_requests_get_their_own_status_and_unknown_topics_a_2xx() {
    let w = world();
    let mut form = signed_shopify("orders/create", "e1", ORDER);
    form.headers_mut().insert("content-type", "text/plain".parse().unwrap());
    assert_eq!(handle(form, &w.deps).await.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let mut get = signed_shopify("orders/create", "e2", ORDER);
    *get.method_mut() = Method::GET;
    assert_eq!(handle(get, &w.deps).await.status(), StatusCode::METHOD_NOT_ALLOWED);

    let huge = vec![b' '; crate::MAX_WEBHOOK_BYTES + 1];
    assert_eq!(
        handle(signed_shopify("orders/create", "e3", &huge), &w.deps).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let malformed = handle(signed_shopify("orders/create", "e4", b"{\"id\": "), &w.deps).await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(body_json(&malformed)["error"].as_str().unwrap().contains("JSON"));

    let unknown = handle(signed_shopify("themes/publish", "e5", b"{}"), &w.deps).await;
    assert_eq!(unknown.status(), StatusCode::OK);
    assert_eq!(body_json(&unknown)["status"], "ignored");

    assert_eq!(handle(request(Method::POST, "/nowhere", &[], b""), &w.deps).await.status(), StatusCode::NOT_FOUND);
    // `<WebhookUrl>/webhooks/shopify` with the URL's own trailing slash still routes.
    let doubled = handle(request(Method::GET, "//health/", &[], b""), &w.deps).await;
    assert_eq!(doubled.status(), StatusCode::OK);
    assert!(w.publisher.events().is_empty());
}

#[tokio::test]
async fn when_the_bus_fails_shopify_is_asked_to_retry_and_the_retry_publishes() {
    let w = world();
    w.publisher.set_failing(true);
    let failed = handle(signed_shopify("orders/create", "evt-9", ORDER), &w.deps).await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    w.publisher.set_failing(false);
    let retried = handle(signed_shopify("orders/create", "evt-9", ORDER), &w.deps).await;
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(w.publisher.events().len(), 1, "the released claim let the retry publish");
}

fn woo_request(topic: &str, delivery: &str, body: &[u8], secret_value: &str) -> Request {
    let signature = sign_base64_hmac_sha256(&secret(secret_value), body);
    request(
        Method::POST,
        "/webhooks/woocommerce",
        &[
            ("content-type", "application/json"),
            ("x-wc-webhook-source", "https://shop.example/"),
            ("x-wc-webhook-topic", topic),
            ("x-wc-webhook-delivery-id", delivery),
            ("x-wc-webhook-signature", &signature),
        ],
        body,
    )
}

#[tokio::test]
async fn woocommerce_pings_are_answered_and_orders_parked_when_the_bus_fails() {
    let w = world();
    let ping = request(
        Method::POST,
        "/webhooks/woocommerce",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"webhook_id=12",
    );
    assert_eq!(handle(ping, &w.deps).await.status(), StatusCode::OK);

    assert_eq!(
        handle(woo_request("order.created", "d1", WOO_ORDER, "wrong"), &w.deps).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let ok = handle(woo_request("order.created", "d1", WOO_ORDER, WOO_SECRET), &w.deps).await;
    assert_eq!(ok.status(), StatusCode::OK, "{:?}", body_json(&ok));
    assert_eq!(w.publisher.events()[0].detail_type, "order.placed");

    w.publisher.set_failing(true);
    let parked = handle(woo_request("order.created", "d2", WOO_ORDER, WOO_SECRET), &w.deps).await;
    assert_eq!(parked.status(), StatusCode::OK, "WooCommerce never retries: accept and park");
    assert_eq!(body_json(&parked)["result"]["parked"], 1);
    assert_eq!(w.parking.parked().len(), 1);
    assert_eq!(w.parking.parked()[0].detail["id"], "woocommerce:demo.myshopify.com:d2");
}

/// Found while writing the fuzz targets (the in-memory bus has no size limit, so the fuzzer
/// could not see it): a body under the 512 KB limit became a 1.4 MB event, which EventBridge
/// refuses for good. WooCommerce got a 5xx after parking failed too; Shopify retried a
/// delivery that could never succeed.
#[tokio::test]
async fn a_delivery_whose_event_is_over_the_bus_entry_limit_is_refused_413_and_publishes_nothing() {
    let w = world();
    let line = r#"{"quantity":1,"price":1},"#;
    let lines = line.repeat((crate::MAX_WEBHOOK_BYTES - 100) / line.len());
    let body = format!(r#"{{"id":1,"total":"1","currency":"EUR","line_items":[{lines}{{"quantity":1,"price":1}}]}}"#);
    let response = handle(woo_request("order.created", "big", body.as_bytes(), WOO_SECRET), &w.deps).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{:?}", body_json(&response));
    assert!(body_json(&response)["error"].as_str().unwrap().contains("over the bus's limit"));
    assert!(w.publisher.events().is_empty() && w.parking.parked().is_empty());
}

fn api_request(body: &[u8], signed_at: chrono::DateTime<Utc>, secret_value: &str) -> Request {
    api_request_with(body, signed_at, secret_value)
}

fn api_request_with(body: &[u8], signed_at: chrono::DateTime<Utc>, secret_value: &str) -> Request {
    let signature = sign_timestamped(&secret(secret_value), body, signed_at);
    request(
        Method::POST,
        "/v1/events",
        &[
            ("content-type", "application/json"),
            ("x-relance-shop", "demo.myshopify.com"),
            ("x-relance-signature", &signature),
        ],
        body,
    )
}

pub(crate) const API_BATCH: &[u8] = br#"{"events": [
  {"id": "ticket-7-opened", "type": "support.interaction", "occurred_at": "2026-11-23T17:00:00Z",
   "identity": {"email": "anne@example.fr"}, "data": {"ticket_id": "7", "kind": "ticket_opened", "subject": "Colis"}},
  {"id": "order-1001", "type": "order.placed", "occurred_at": "2026-11-23T17:30:00+01:00",
   "identity": {"email": "anne@example.fr", "customer_id": "42"}, "context": {"locale": "fr"},
   "data": {"order_id": "1001", "line_items": [{"product_id": "p1", "title": "Cuv\u00e9e 2024", "quantity": 2,
            "unit_price": {"minor": 1250, "currency": "EUR"}}], "total": {"minor": 2500, "currency": "EUR"}}}
]}"#;

#[tokio::test]
async fn a_signed_api_batch_is_published_and_a_replay_is_refused() {
    let w = world();
    let now = w.deps.clock.now();
    let response = handle(api_request(API_BATCH, now, API_SECRET), &w.deps).await;
    assert_eq!(response.status(), StatusCode::OK, "{:?}", body_json(&response));
    let events = w.publisher.events();
    assert_eq!(
        events.iter().map(|e| e.detail_type.as_str()).collect::<Vec<_>>(),
        ["support.interaction", "order.placed"]
    );
    assert_eq!(events[1].detail["payload"]["total"]["minor"], 2500);
    assert_eq!(events[1].detail["occurred_at"], "2026-11-23T16:30:00Z");

    // The same signed request again, inside the window: nothing new is published.
    assert_eq!(handle(api_request(API_BATCH, now, API_SECRET), &w.deps).await.status(), StatusCode::OK);
    assert_eq!(w.publisher.events().len(), 2);

    // Replayed after the tolerance window, tampered, or signed with another secret: 401.
    w.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(handle(api_request(API_BATCH, now, API_SECRET), &w.deps).await.status(), StatusCode::UNAUTHORIZED);
    let mut tampered = api_request(API_BATCH, w.deps.clock.now(), API_SECRET);
    *tampered.body_mut() = Body::Binary(API_BATCH.iter().map(|b| if *b == b'7' { b'8' } else { *b }).collect());
    assert_eq!(handle(tampered, &w.deps).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        handle(api_request(API_BATCH, w.deps.clock.now(), "nope"), &w.deps).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(w.publisher.events().len(), 2);
}

/// Found by fuzzing: the second copy was claimed as a delivery in flight elsewhere and the
/// whole batch answered 409, although the first copy had just been published.
#[tokio::test]
async fn an_api_batch_holding_the_same_event_twice_publishes_it_once_and_answers_200() {
    let w = world();
    let body = br#"{"events": [
      {"id": "t-1", "type": "support.interaction", "occurred_at": "2026-11-23T17:00:00Z", "data": {"ticket_id": "1", "kind": "ticket_opened"}},
      {"id": "t-1", "type": "support.interaction", "occurred_at": "2026-11-23T17:00:00Z", "data": {"ticket_id": "1", "kind": "ticket_opened"}}]}"#;
    let response = handle(api_request(body, w.deps.clock.now(), API_SECRET), &w.deps).await;
    assert_eq!(response.status(), StatusCode::OK, "{:?}", body_json(&response));
    assert_eq!(body_json(&response)["result"], serde_json::json!({"published": 1, "parked": 0, "duplicates": 1}));
    assert_eq!(w.publisher.events().len(), 1);
}

/// Found by fuzzing, as for API batches: two views with one id in a beacon answered 409.
#[tokio::test]
async fn a_beacon_repeating_a_view_id_publishes_the_view_once_and_answers_200() {
    let w = world();
    let beacon = br#"{"visitor_id": "v-1", "events": [
        {"id": "1", "type": "page.viewed", "url": "https://shop.example/"},
        {"id": "1", "type": "page.viewed", "url": "https://shop.example/"}]}"#;
    let response = handle(track_request(Method::POST, "https://shop.example", beacon), &w.deps).await;
    assert_eq!(response.status(), StatusCode::OK, "{:?}", body_json(&response));
    assert_eq!(body_json(&response)["result"]["duplicates"], 1);
    assert_eq!(w.publisher.events().len(), 1);
}

#[tokio::test]
async fn api_events_of_an_unknown_type_are_a_bad_request() {
    let w = world();
    let body = br#"{"events": [{"id": "x", "type": "order.teleported", "occurred_at": "2026-11-23T17:00:00Z"}]}"#;
    let response = handle(api_request(body, w.deps.clock.now(), API_SECRET), &w.deps).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body_json(&response)["error"].as_str().unwrap().starts_with("events[0]"));
}

fn track_request(method: Method, origin: &str, body: &[u8]) -> Request {
    request(
        method,
        "/v1/track?key=pk_demo",
        &[("origin", origin), ("content-type", "text/plain"), ("x-forwarded-for", "203.0.113.7")],
        body,
    )
}

#[tokio::test]
async fn the_tracker_honours_cors_origins_and_rate_limits() {
    let w = world();
    let preflight = handle(track_request(Method::OPTIONS, "https://shop.example", b""), &w.deps).await;
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://shop.example");

    let beacon = br#"{"visitor_id": "v-1", "landing": "/?utm_source=newsletter&utm_campaign=soldes", "events": [
        {"id": "1", "type": "product.viewed", "product_id": "632910392", "title": "IPod Nano"},
        {"id": "2", "type": "page.viewed", "url": "https://shop.example/collections/vins"}]}"#;
    let foreign = handle(track_request(Method::POST, "https://evil.example", beacon), &w.deps).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(!foreign.headers().contains_key("access-control-allow-origin"));

    let ok = handle(track_request(Method::POST, "https://shop.example", beacon), &w.deps).await;
    assert_eq!(ok.status(), StatusCode::OK, "{:?}", body_json(&ok));
    let events = w.publisher.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].detail["identity"]["visitor_id"], "v-1");
    assert_eq!(events[0].detail["context"]["acquisition"]["utm_campaign"], "soldes");

    let orders = br#"{"visitor_id": "v-1", "events": [{"id": "3", "type": "order.placed"}]}"#;
    assert_eq!(
        handle(track_request(Method::POST, "https://shop.example", orders), &w.deps).await.status(),
        StatusCode::BAD_REQUEST
    );

    // 5 per minute in this world; two beacons (the valid one and the refused order) were
    // counted above, the forbidden origin was not.
    let statuses: Vec<StatusCode> = {
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(handle(track_request(Method::POST, "https://shop.example", beacon), &w.deps).await.status());
        }
        out
    };
    assert_eq!(statuses, [StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);
    w.clock.advance(chrono::Duration::minutes(1));
    let next_minute = handle(track_request(Method::POST, "https://shop.example", beacon), &w.deps).await;
    assert_eq!(next_minute.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_stranger_rotating_visitor_ids_and_forwarded_addresses_is_limited_by_source_address() {
    use lambda_http::RequestExt;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;
    let w = world();
    let from = |n: usize| {
        let beacon = format!(
            r#"{{"visitor_id": "v-{n}", "events": [{{"id": "1", "type": "page.viewed", "url": "https://shop.example/"}}]}}"#
        );
        let mut request = request(
            Method::POST,
            "/v1/track?key=pk_demo",
            &[
                ("origin", "https://shop.example"),
                ("content-type", "text/plain"),
                ("x-forwarded-for", &format!("198.51.100.{n}")),
            ],
            beacon.as_bytes(),
        );
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some("203.0.113.99".to_owned());
        request = request.with_request_context(RequestContext::ApiGatewayV2(context));
        request
    };
    let mut statuses = Vec::new();
    for n in 0..6 {
        statuses.push(handle(from(n), &w.deps).await.status());
    }
    // 5 per minute in this world, whatever visitor id and X-Forwarded-For the client chose.
    assert_eq!(&statuses[..5], [StatusCode::OK; 5]);
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
}

/// The function-URL samples in `events/webhook-ingest/`, through the real handler, with the
/// shops of `tests/fixtures/shops.local.json` (the secrets the samples are signed with).
#[tokio::test]
async fn every_route_sample_in_events_gets_its_documented_answer() {
    let shops = Shops::parse(include_str!("../../../tests/fixtures/shops.local.json")).unwrap();
    let w = world();
    // An hour after the samples were signed.
    w.clock.advance(chrono::Duration::hours(1));
    let deps = Deps { shops: Arc::new(Directory::fixed(shops)), ..w.deps };
    let expected = [
        ("health", 200),
        ("shopify-orders-create", 200),
        ("shopify-checkouts-create", 200),
        ("woocommerce-order-created", 200),
        ("woocommerce-ping", 200),
        // Signed at the sample's date: a replay outside the 5-minute window.
        ("api-events", 401),
        ("track", 200),
        // The link of a mail: GET shows the confirmation page, the one-click POST unsubscribes.
        ("unsubscribe-get", 200),
        ("unsubscribe-post", 200),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/webhook-ingest");
    for (name, status) in expected {
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
        let lambda_request: lambda_http::request::LambdaRequest = serde_json::from_str(&text).unwrap();
        let response = handle(Request::from(lambda_request), &deps).await;
        assert_eq!(response.status().as_u16(), status, "{name}: {:?}", body_json(&response));
    }
    let published: Vec<String> = w.publisher.events().iter().map(|e| e.detail_type.clone()).collect();
    assert_eq!(published, ["order.placed", "checkout.started", "order.placed", "product.viewed", "consent.changed"]);

    // Re-signed now, the generic API sample is accepted.
    let sample: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("api-events.json")).unwrap()).unwrap();
    let body = sample["body"].as_str().unwrap().as_bytes();
    let response = handle(api_request_with(body, deps.clock.now(), "local-api-secret"), &deps).await;
    assert_eq!(response.status(), StatusCode::OK, "{:?}", body_json(&response));
}

/// Every platform fixture the project keeps, signed with the shop's secret, is taken in and
/// published as one canonical event (the WooCommerce product too: a published product is
/// `product.published`).
#[tokio::test]
async fn every_fixture_signed_with_the_shop_secret_is_accepted() {
    let w = world();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut seen = 0;
    for platform in ["shopify", "woocommerce"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(platform)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in files {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let (topic, _) = name.split_once("__").unwrap();
            let body = std::fs::read(&path).unwrap();
            let request = if platform == "shopify" {
                signed_shopify(&topic.replacen('-', "/", 1), &name, &body)
            } else {
                woo_request(topic.split('-').next().unwrap(), &name, &body, WOO_SECRET)
            };
            let before = w.publisher.events().len();
            let response = handle(request, &w.deps).await;
            assert_eq!(response.status(), StatusCode::OK, "{name}: {:?}", body_json(&response));
            let published = w.publisher.events().len() - before;
            let ignored = body_json(&response)["status"] == "ignored";
            assert!(!ignored, "{name}: every fixture is a topic Relance uses");
            assert_eq!(published, 1, "{name}");
            seen += 1;
        }
    }
    assert_eq!(seen, 18, "12 Shopify and 6 WooCommerce fixtures");
}

#[tokio::test]
async fn a_retry_that_arrives_while_the_first_attempt_still_runs_is_asked_to_come_back() {
    let w = world();
    let shop = relance::ids::ShopId::parse("demo.myshopify.com").unwrap();
    let id = relance::ids::EventId::parse("shopify:demo.myshopify.com:evt-9").unwrap();
    // The first attempt has claimed the delivery and is still publishing.
    let now = relance::ports::Clock::now(w.clock.as_ref());
    assert_eq!(w.deps.ledger.claim(&shop, &id, now).await.unwrap(), relance::ports::Claim::Fresh);
    let retry = handle(signed_shopify("checkouts/create", "evt-9", CHECKOUT), &w.deps).await;
    assert_eq!(retry.status(), StatusCode::CONFLICT, "{:?}", body_json(&retry));
    assert!(w.publisher.events().is_empty());
    // The first attempt failed and gave its claim back: the platform's next retry publishes.
    w.deps.ledger.release(&shop, &id).await.unwrap();
    let again = handle(signed_shopify("checkouts/create", "evt-9", CHECKOUT), &w.deps).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(w.publisher.events().len(), 1);
}
