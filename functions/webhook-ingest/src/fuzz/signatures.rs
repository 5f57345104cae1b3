//! The signature headers through the routes: a delivery's valid header mutated (cut, padded,
//! other alphabet, other timestamp, repeated parts). Whatever the header, a request whose
//! signature does not verify is a 401 with a reason and publishes nothing; one that still
//! verifies (a mutation that kept it valid, such as added whitespace) is judged as a delivery.

use super::{API_SECRET, Route, SHOPIFY_SECRET, WOO_SECRET, judge, now, request, secret};
use crate::api::TOLERANCE;
use relance::signature::{sign_base64_hmac_sha256, sign_timestamped, verify_any, verify_timestamped};
use relance::testing::fixtures::{Platform, platform_fixtures};
use relance::testing::fuzz::Verdict;
use relance::testing::mutate::Mutator;

fn target() -> impl FnMut(&mut Mutator) -> Verdict {
    let route = Route::new();
    let fixtures = platform_fixtures();
    move |m| {
        if m.rng().u8(..3) == 0 {
            let batch = crate::tests::API_BATCH.to_vec();
            let header = vary(m, &sign_timestamped(&secret(API_SECRET), &batch, now()));
            let verified = delivered(&header)
                .is_some_and(|h| verify_timestamped(&[secret(API_SECRET)], &batch, h.trim(), now(), TOLERANCE).is_ok());
            let headers = [
                ("content-type", "application/json".to_owned()),
                ("x-relance-shop", "demo.myshopify.com".to_owned()),
                ("x-relance-signature", header),
            ];
            return check(&route.send(request("POST", "/v1/events", &headers, batch)), verified);
        }
        let fixture = &fixtures[m.rng().usize(..fixtures.len())];
        let (path, name, key) = match fixture.platform {
            Platform::Shopify => ("/webhooks/shopify", "x-shopify-hmac-sha256", SHOPIFY_SECRET),
            Platform::Woocommerce => ("/webhooks/woocommerce", "x-wc-webhook-signature", WOO_SECRET),
        };
        let header = vary(m, &sign_base64_hmac_sha256(&secret(key), &fixture.body));
        let verified = delivered(&header).is_some_and(|h| verify_any(&[secret(key)], &fixture.body, h.trim()).is_ok());
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("x-shopify-topic", fixture.topic.clone()),
            ("x-shopify-shop-domain", "demo.myshopify.com".to_owned()),
            ("x-shopify-event-id", "fuzz-1".to_owned()),
            ("x-wc-webhook-source", "https://shop.example".to_owned()),
            ("x-wc-webhook-topic", fixture.topic.clone()),
            ("x-wc-webhook-delivery-id", "fuzz-1".to_owned()),
            (name, header),
        ];
        check(&route.send(request("POST", path, &headers, fixture.body.clone())), verified)
    }
}

/// The header as the route reads it: HTTP carries visible ASCII (and tabs) only, so a value
/// with anything else arrives unreadable, as if missing — whatever `verify_*` makes of it.
fn delivered(header: &str) -> Option<String> {
    let value: lambda_http::http::HeaderValue = header.parse().ok()?;
    value.to_str().ok().map(str::to_owned)
}

/// The valid header as it is, padded with whitespace, or mutated.
fn vary(m: &mut Mutator, valid: &str) -> String {
    match m.rng().u8(..6) {
        0 => valid.to_owned(),
        1 => format!(" {valid}\t"),
        _ => m.text(valid),
    }
}

/// A header that verifies leaves a valid delivery (accepted); one that does not, a 401.
/// (A header the HTTP layer cannot even hold arrives missing: a 401 as well.)
fn check(answer: &super::Answer, verified: bool) -> Verdict {
    match (verified, answer.response.status().as_u16()) {
        (true, 401) => {
            Verdict::Wrong(format!("a header that verifies was refused: {:?}", super::body_json(&answer.response)))
        }
        (true, _) => judge(answer, &[]),
        (false, _) => judge(answer, &[401]),
    }
}

#[test]
fn mutated_signature_headers_are_refused_unless_they_still_verify() {
    super::short().run("signature headers", target());
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_signature_headers() {
    super::long().run("signature headers", target());
}
