//! `POST /v1/track`: tracker beacons (the tests' two views and the sample in `events/`)
//! mutated, from an allowed origin with the shop's public key.

use super::{Route, judge, request, sample_body};
use relance::testing::fuzz::Verdict;
use relance::testing::mutate::{Mutator, Seed};

const BEACON: &str = r#"{"visitor_id": "v-1", "landing": "/?utm_source=newsletter&utm_campaign=soldes",
    "locale": "fr", "time_zone": "Europe/Paris", "referrer": "https://www.google.com/", "events": [
    {"id": "1", "type": "product.viewed", "product_id": "632910392", "variant_id": 808950810, "title": "IPod Nano",
     "categories": ["Vins", "Rouges"], "occurred_at": "2026-11-23T17:59:00Z"},
    {"id": "2", "type": "page.viewed", "url": "https://shop.example/collections/vins", "title": "Vins"}]}"#;

fn target() -> impl FnMut(&mut Mutator) -> Verdict {
    let route = Route::new();
    let seeds = [Seed::new(serde_json::from_str(BEACON).expect("JSON")), sample_body("track")];
    move |m| {
        let seed = &seeds[m.rng().usize(..seeds.len())];
        let body = m.json(seed);
        let content_type = ["text/plain", "application/json", "text/plain;charset=UTF-8"][m.rng().usize(..3)];
        let headers = [("origin", "https://shop.example".to_owned()), ("content-type", content_type.to_owned())];
        judge(&route.send(request("POST", "/v1/track?key=pk_demo", &headers, body)), &[400, 413])
    }
}

#[test]
fn mutated_beacons_are_taken_in_or_refused_with_a_reason() {
    super::short().run("track route", target());
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_track_route() {
    super::long().run("track route", target());
}
