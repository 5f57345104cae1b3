//! `POST /webhooks/shopify` and `/webhooks/woocommerce` with every fixture mutated, signed
//! as the platform signs, and headers (topic, delivery id, trigger time) now and then odd.

use super::{Route, SHOPIFY_SECRET, WOO_SECRET, judge, request, secret};
use relance::signature::sign_base64_hmac_sha256;
use relance::testing::fixtures::{Platform, platform_fixtures};
use relance::testing::fuzz::Verdict;
use relance::testing::mutate::{Mutator, Seed};
use relance::testing::oddities;

fn target(platform: Platform) -> impl FnMut(&mut Mutator) -> Verdict {
    let route = Route::new();
    let seeds: Vec<(String, Seed)> = platform_fixtures()
        .into_iter()
        .filter(|f| f.platform == platform)
        .map(|f| (f.topic, Seed::new(serde_json::from_slice(&f.body).expect("fixtures are JSON"))))
        .collect();
    move |m| {
        let (topic, seed) = &seeds[m.rng().usize(..seeds.len())];
        let body = m.json(seed);
        let odd = |m: &mut Mutator, value: &str| if m.rng().u8(..10) == 0 { m.text(value) } else { value.to_owned() };
        let topic = odd(m, topic);
        let delivery = odd(m, "fuzz-delivery-1");
        let request = match platform {
            Platform::Shopify => {
                let triggered = if m.rng().u8(..10) == 0 {
                    oddities::TIMES[m.rng().usize(..oddities::TIMES.len())].to_owned()
                } else {
                    "2026-11-23T17:59:58.123Z".to_owned()
                };
                let headers = [
                    ("content-type", "application/json".to_owned()),
                    ("x-shopify-topic", topic),
                    ("x-shopify-shop-domain", "demo.myshopify.com".to_owned()),
                    ("x-shopify-event-id", delivery),
                    ("x-shopify-hmac-sha256", sign_base64_hmac_sha256(&secret(SHOPIFY_SECRET), &body)),
                    ("x-shopify-triggered-at", triggered),
                ];
                request("POST", "/webhooks/shopify", &headers, body)
            }
            Platform::Woocommerce => {
                let content_type =
                    ["application/json", "application/json; charset=UTF-8", "application/x-www-form-urlencoded"]
                        [m.rng().usize(..3) * m.rng().usize(..2)];
                let headers = [
                    ("content-type", content_type.to_owned()),
                    ("x-wc-webhook-source", "https://shop.example/".to_owned()),
                    ("x-wc-webhook-topic", topic),
                    ("x-wc-webhook-delivery-id", delivery),
                    ("x-wc-webhook-signature", sign_base64_hmac_sha256(&secret(WOO_SECRET), &body)),
                ];
                request("POST", "/webhooks/woocommerce", &headers, body)
            }
        };
        // 413 for a body grown past the limit, 415 for WooCommerce's form type without a ping.
        judge(&route.send(request), &[400, 413, 415])
    }
}

#[test]
fn mutated_shopify_deliveries_are_taken_in_or_refused_with_a_reason() {
    super::short().run("shopify route", target(Platform::Shopify));
}

#[test]
fn mutated_woocommerce_deliveries_are_taken_in_or_refused_with_a_reason() {
    super::short().run("woocommerce route", target(Platform::Woocommerce));
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_shopify_route() {
    super::long().run("shopify route", target(Platform::Shopify));
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_woocommerce_route() {
    super::long().run("woocommerce route", target(Platform::Woocommerce));
}
