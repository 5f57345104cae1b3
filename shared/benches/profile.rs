//! profile-update's cost per event: DynamoDB requests by event type, and CPU per event.
//!
//! Requests are counted on a store that records each port call; the DynamoDB adapter makes
//! exactly one request per call (GetItem, PutItem or DeleteItem), so the counts are the
//! DynamoDB requests. CPU is the use case on the in-memory store (fold, serialisation of
//! derived events, bookkeeping), per event, median and p99 over many iterations.
//!
//! Run: `cargo bench -p relance --no-default-features --bench profile`

use relance::events::Event;
use relance::ports::{CountingProfileStore, RecordingPublisher};
use relance::use_cases::update_profile::apply_event;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

fn sample(name: &str) -> Event {
    let path = format!("{}/../events/profile-update/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let envelope: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_value(envelope["detail"].clone()).unwrap()
}

fn with_id(event: &Event, n: usize) -> Event {
    let mut event = event.clone();
    event.id = relance::ids::EventId::parse(format!("{}-{n}", event.id)).unwrap();
    event
}

fn format_calls(calls: &BTreeMap<&'static str, u32>) -> String {
    let total: u32 = calls.values().sum();
    let parts: Vec<String> = calls.iter().map(|(k, v)| format!("{v} {k}")).collect();
    format!("{total} ({})", parts.join(", "))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let kinds = [
        "customer.signed_up",
        "customer.upserted",
        "consent.changed",
        "checkout.started",
        "order.placed",
        "order.paid",
        "order.refunded",
        "order.fulfilled",
        "order.delivered",
        "product.viewed",
        "page.viewed",
        "support.interaction",
    ];
    println!("| event | requests, new person | requests, known person | requests, redelivery | median µs | p99 µs |");
    println!("|---|---|---|---|---:|---:|");
    for kind in kinds {
        let event = sample(kind);
        let store = CountingProfileStore::default();
        let publisher = RecordingPublisher::default();
        runtime.block_on(apply_event(&store, &publisher, &event)).unwrap();
        let first = store.take();
        let known = with_id(&event, 1);
        runtime.block_on(apply_event(&store, &publisher, &known)).unwrap();
        let second = store.take();
        runtime.block_on(apply_event(&store, &publisher, &known)).unwrap();
        let duplicate = store.take();

        // CPU: a known person with some history, one new event each iteration.
        let iterations = 3_000;
        let mut times = Vec::with_capacity(iterations);
        for n in 0..iterations {
            let next = with_id(&event, n + 10);
            let started = Instant::now();
            black_box(runtime.block_on(apply_event(&store, &publisher, black_box(&next))).unwrap());
            times.push(started.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| {kind} | {} | {} | {} | {:.1} | {:.1} |",
            format_calls(&first),
            format_calls(&second),
            format_calls(&duplicate),
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
}
