//! Random bytes, headers, methods and routes: what a byte fuzzer reaches (mostly the JSON
//! parser's first error). Kept beside the structured targets for the header and routing
//! paths they do not vary.

use crate::handle;
use crate::tests::{API_SECRET, SHOPIFY_SECRET, WOO_SECRET, request, secret, world};
use lambda_http::http::Method;
use proptest::prelude::*;
use relance::signature::{sign_base64_hmac_sha256, sign_timestamped};

const ROUTES: [&str; 7] = [
    "/webhooks/shopify",
    "/webhooks/woocommerce",
    "/v1/events",
    "/v1/track?key=pk_demo",
    "/unsubscribe?t=v1.x.y.1.z",
    "/health",
    "/x",
];
const HEADERS: [&str; 12] = [
    "content-type",
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-hmac-sha256",
    "x-shopify-event-id",
    "x-wc-webhook-source",
    "x-wc-webhook-signature",
    "x-wc-webhook-topic",
    "x-relance-shop",
    "x-relance-signature",
    "origin",
    "x-shopify-triggered-at",
];

proptest! {
    #![proptest_config(relance::testing::proptest_config(256))]
    #[test]
    fn no_input_makes_any_route_panic(
        route in 0..ROUTES.len(),
        method in prop::sample::select(vec![Method::GET, Method::POST, Method::OPTIONS, Method::PUT]),
        headers in prop::collection::vec((0..HEADERS.len(), "[ -~]{0,40}"), 0..8),
        body in prop::collection::vec(any::<u8>(), 0..512),
        sign in any::<bool>(),
    ) {
        let w = world();
        let mut request = request(method, ROUTES[route], &[], &body);
        for (name, value) in headers {
            if let Ok(value) = value.parse() {
                request.headers_mut().insert(HEADERS[name], value);
            }
        }
        if sign {
            // Valid signatures get the fuzzed body past verification, into the parsers.
            request.headers_mut().insert("x-shopify-shop-domain", "demo.myshopify.com".parse().unwrap());
            request.headers_mut().insert("x-shopify-hmac-sha256", sign_base64_hmac_sha256(&secret(SHOPIFY_SECRET), &body).parse().unwrap());
            request.headers_mut().insert("x-wc-webhook-source", "https://shop.example".parse().unwrap());
            request.headers_mut().insert("x-wc-webhook-signature", sign_base64_hmac_sha256(&secret(WOO_SECRET), &body).parse().unwrap());
            request.headers_mut().insert("x-relance-shop", "demo.myshopify.com".parse().unwrap());
            request.headers_mut().insert("x-relance-signature", sign_timestamped(&secret(API_SECRET), &body, w.deps.clock.now()).parse().unwrap());
        }
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let response = runtime.block_on(handle(request, &w.deps));
        prop_assert!(response.status().as_u16() >= 200);
    }
}
