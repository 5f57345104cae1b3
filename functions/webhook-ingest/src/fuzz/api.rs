//! `POST /v1/events`: the generic API's batches (the tests' two-event batch and the sample
//! in `events/`) mutated, signed with the timestamped scheme at the handler's now.

use super::{API_SECRET, Route, judge, now, request, sample_body, secret};
use relance::signature::sign_timestamped;
use relance::testing::fuzz::Verdict;
use relance::testing::mutate::{Mutator, Seed};

fn target() -> impl FnMut(&mut Mutator) -> Verdict {
    let route = Route::new();
    let batch = serde_json::from_slice(crate::tests::API_BATCH).expect("the tests' batch is JSON");
    let seeds = [Seed::new(batch), sample_body("api-events")];
    move |m| {
        let seed = &seeds[m.rng().usize(..seeds.len())];
        let body = m.json(seed);
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("x-relance-shop", "demo.myshopify.com".to_owned()),
            ("x-relance-signature", sign_timestamped(&secret(API_SECRET), &body, now())),
        ];
        judge(&route.send(request("POST", "/v1/events", &headers, body)), &[400, 413])
    }
}

#[test]
fn mutated_api_batches_are_taken_in_or_refused_with_a_reason() {
    super::short().run("api route", target());
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_api_route() {
    super::long().run("api route", target());
}
