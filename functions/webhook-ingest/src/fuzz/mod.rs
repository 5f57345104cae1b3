//! Fuzzing the routes through the real handler: every input is a whole request, signed with
//! the shop's secret over its mutated body so that it gets past verification and into the
//! parsers, and judged by its answer. The property: no panic, never a 5xx; a 2xx only with
//! what it says it took in actually published; a 4xx only with a reason (`{"error": …}`),
//! and only the statuses the route's rules give (400, and 401, 403 or 413 where those apply).
//!
//! The mutations and the runner are `relance::testing` (shared with the normalisers' direct
//! targets); each target has a short seeded pass here and a long run for `make fuzz`.

mod api;
mod bytes;
mod platforms;
mod signatures;
mod track;
mod unsubscribe;

use crate::{Deps, handle, limiter::RateLimiter};
use chrono::{DateTime, TimeZone, Utc};
use lambda_http::{Body, Request, Response};
use relance::directory::Directory;
use relance::ports::{ManualClock, MemoryLedger, MemoryParkingLot, RecordingPublisher};
use relance::shops::Shops;
use relance::signature::Secret;
use relance::testing::fuzz::{Campaign, Verdict};
use relance::testing::mutate::Seed;
use std::sync::Arc;

const SHOPIFY_SECRET: &str = "fuzz shopify secret";
const WOO_SECRET: &str = "fuzz woo secret";
const API_SECRET: &str = "fuzz api secret";
const MAIL_SECRET: &str = "fuzz unsubscribe secret";

/// Inputs per route in the short pass (a debug build runs a few hundred requests a second
/// on the largest fixtures).
const SHORT: u64 = 150;

fn short() -> Campaign {
    Campaign::short(SHORT)
}

fn long() -> Campaign {
    Campaign::long()
}

/// One shop with every section, so each route has a secret to verify against.
fn shops() -> Arc<Directory> {
    let json = format!(
        r#"{{"shops": [{{"id": "demo.myshopify.com", "currency": "EUR", "locale": "fr",
            "shopify": {{"domain": "demo.myshopify.com", "secrets": ["{SHOPIFY_SECRET}"]}},
            "woocommerce": {{"source": "https://shop.example", "secrets": ["{WOO_SECRET}"]}},
            "api": {{"secrets": ["{API_SECRET}"]}},
            "track": {{"public_key": "pk_demo", "allowed_origins": ["https://shop.example"]}},
            "mail": {{"from": "Shop <bonjour@shop.example>", "name": "Maison Demo",
                      "site_url": "https://shop.example", "unsubscribe_secrets": ["{MAIL_SECRET}"]}}}}]}}"#
    );
    Arc::new(Directory::fixed(Shops::parse(&json).expect("the fuzz shop parses")))
}

fn secret(value: &str) -> Secret {
    Secret::new(value.to_owned()).expect("not empty")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 0).single().expect("a valid time")
}

/// A request's own world: fresh in-memory ports around the shared shops (nothing one input
/// leaves behind changes the next), no rate limit, the clock at [`now`].
struct Route {
    shops: Arc<Directory>,
    runtime: tokio::runtime::Runtime,
}

/// The answer to one request, and what it published (or parked).
struct Answer {
    response: Response<Body>,
    published: usize,
}

impl Route {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        Self { shops: shops(), runtime }
    }

    fn send(&self, request: Request) -> Answer {
        let publisher = Arc::new(RecordingPublisher::default());
        let parking = Arc::new(MemoryParkingLot::default());
        let deps = Deps {
            shops: self.shops.clone(),
            ledger: Arc::new(MemoryLedger::default()),
            publisher: publisher.clone(),
            parking: parking.clone(),
            clock: Arc::new(ManualClock::at(now())),
            limiter: RateLimiter::new(u32::MAX),
        };
        let response = self.runtime.block_on(handle(request, &deps));
        Answer { response, published: publisher.events().len() + parking.parked().len() }
    }
}

fn request(method: &str, uri: &str, headers: &[(&'static str, String)], body: Vec<u8>) -> Request {
    let mut request = Request::new(Body::Binary(body));
    *request.method_mut() = method.parse().expect("a method");
    *request.uri_mut() = uri.parse().expect("a valid URI");
    for (name, value) in headers {
        // A mutated value that is no header value is left out: the route sees it missing.
        if let Ok(value) = value.parse() {
            request.headers_mut().insert(*name, value);
        }
    }
    request
}

/// Judges a JSON route's answer against the statuses `allowed` for refusals.
fn judge(answer: &Answer, allowed: &[u16]) -> Verdict {
    let status = answer.response.status().as_u16();
    let body = body_json(&answer.response);
    if answer.response.status().is_success() {
        return accepted(&body, answer.published);
    }
    let reason = body["error"].as_str().unwrap_or_default();
    if !allowed.contains(&status) {
        return Verdict::Wrong(format!("{status} {reason:?}"));
    }
    if answer.published > 0 {
        return Verdict::Wrong(format!("{status} {reason:?}, yet {} events published", answer.published));
    }
    Verdict::Refused(format!("{status} {reason}"))
}

/// A 2xx says what it took in; it must be what was published.
fn accepted(body: &serde_json::Value, published: usize) -> Verdict {
    let result = &body["result"];
    let count = |key: &str| result[key].as_u64().unwrap_or(0) as usize;
    match body["status"].as_str() {
        Some("accepted")
            if count("published") + count("parked") == published && published + count("duplicates") > 0 =>
        {
            Verdict::Accepted
        }
        Some("ignored" | "pong") if published == 0 => Verdict::Accepted,
        _ => Verdict::Wrong(format!("2xx {body} with {published} events published")),
    }
}

fn body_json(response: &Response<Body>) -> serde_json::Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or_default(),
        Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or_default(),
        _ => serde_json::Value::Null,
    }
}

/// The body of a function-URL sample in `events/webhook-ingest/`, as a seed.
fn sample_body(name: &str) -> Seed {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../events/webhook-ingest/{name}.json"));
    let sample: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the sample is there")).expect("JSON");
    Seed::new(serde_json::from_str(sample["body"].as_str().expect("a text body")).expect("a JSON body"))
}
