//! webhook-ingest's hot path, "verify + parse + normalise", timed per fixture payload.
//!
//! A plain `harness = false` binary: no criterion, so the workspace gains no dependency.
//! Run with `make bench` (`cargo bench -p relance --no-default-features --bench ingest`);
//! the `bench` profile inherits `release` (opt-level `s`, LTO), so this times what ships.
//! It prints Markdown for BENCHMARKS.md. Single-threaded: events/s is per core.
//!
//! Each iteration is timed on its own with `Instant` (no batching): the timer's own cost,
//! printed below the table, is a few percent of the cheapest payload at most, and timing
//! single iterations keeps p99 honest (a batch would average outliers away).

use chrono::DateTime;
use relance::ids::ShopId;
use relance::money::Currency;
use relance::normalise::{Delivery, NormaliseError, Outcome, shopify, woocommerce};
use relance::signature::{Secret, sign_base64_hmac_sha256, verify_any};
mod support;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use support::{measure, print_machine};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");

type Normalise = fn(&Delivery<'_>) -> Result<Outcome, NormaliseError>;

struct Payload {
    platform: &'static str,
    file: String,
    topic: String,
    body: Vec<u8>,
    header: String,
    normalise: Normalise,
}

fn main() {
    let secrets = [Secret::new("bench-webhook-secret".to_owned()).expect("the secret is not empty")];
    let shop = ShopId::parse("demo.myshopify.com").expect("a valid shop id");
    let received_at = DateTime::from_timestamp(1_767_225_600, 0).expect("a valid time");
    let currency = Currency::parse("EUR").expect("a valid currency");
    let payloads = load_payloads(&secrets[0]);

    // Everything but the topic and body, which each payload supplies.
    let base = Delivery {
        shop: &shop,
        topic: "",
        delivery_id: "evt-1",
        triggered_at: None,
        received_at,
        body: &[],
        shop_currency: Some(currency),
    };
    let run = |payload: &Payload| {
        verify_any(black_box(&secrets), black_box(&payload.body), black_box(&payload.header))
            .expect("the bench signed this body");
        (payload.normalise)(&Delivery { topic: black_box(&payload.topic), body: black_box(&payload.body), ..base })
    };

    print_machine();
    println!(
        "\n| platform | fixture | topic | outcome | bytes | iterations | median µs | p99 µs | mean µs | events/s/core |"
    );
    println!("|---|---|---|---|---:|---:|---:|---:|---:|---:|");
    for payload in &payloads {
        let outcome = match run(payload) {
            Ok(Outcome::Event(event)) => event.payload.detail_type().to_owned(),
            Ok(Outcome::Ignored { .. }) => "ignored".to_owned(),
            Err(error) => panic!("{}: the fixture does not normalise: {error}", payload.file),
        };
        let stats = measure(|| drop(black_box(run(black_box(payload)))));
        println!(
            "| {} | `{}` | `{}` | {outcome} | {} | {} | {:.2} | {:.2} | {:.2} | {:.0} |",
            payload.platform,
            payload.file,
            payload.topic,
            payload.body.len(),
            stats.iterations,
            stats.median,
            stats.p99,
            stats.mean,
            1e6 / stats.mean,
        );
    }

    let largest = payloads.iter().max_by_key(|p| p.body.len()).expect("fixtures exist");
    split_largest(largest, &secrets, base);
    let timer = measure(|| black_box(()));
    println!("\nTimer overhead (an empty iteration between two `Instant::now()`): median {:.3} µs.", timer.median);
}

/// Where the time of the largest payload goes: the HMAC, the JSON parse, the mapping.
fn split_largest(payload: &Payload, secrets: &[Secret], base: Delivery<'_>) {
    let delivery = |body| Delivery { topic: &payload.topic, body, ..base };
    let total = measure(|| {
        drop(black_box(verify_any(black_box(secrets), black_box(&payload.body), black_box(&payload.header))));
        drop(black_box((payload.normalise)(&delivery(black_box(&payload.body)))));
    });
    let verify = measure(|| {
        drop(black_box(verify_any(black_box(secrets), black_box(&payload.body), black_box(&payload.header))))
    });
    let parse = measure(|| drop(black_box(serde_json::from_slice::<serde_json::Value>(black_box(&payload.body)))));
    let normalise = measure(|| drop(black_box((payload.normalise)(&delivery(black_box(&payload.body))))));
    println!("\nLargest payload, `{}` ({} bytes), split:\n", payload.file, payload.body.len());
    println!("| step | median µs | p99 µs | share of median total |");
    println!("|---|---:|---:|---:|");
    for (step, stats) in [
        ("verify + parse + normalise", &total),
        ("verify only (`verify_any`, 1 secret)", &verify),
        ("normalise only (includes the parse)", &normalise),
        ("of which JSON parse (`serde_json::from_slice::<Value>`)", &parse),
    ] {
        println!("| {step} | {:.2} | {:.2} | {:.0} % |", stats.median, stats.p99, 100.0 * stats.median / total.median);
    }
}

fn load_payloads(secret: &Secret) -> Vec<Payload> {
    let mut payloads = Vec::new();
    for (platform, normalise) in [("shopify", shopify::normalise as Normalise), ("woocommerce", woocommerce::normalise)]
    {
        for path in json_files(&Path::new(FIXTURES).join(platform)) {
            let file = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name").to_owned();
            let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let header = sign_base64_hmac_sha256(secret, &body);
            payloads.push(Payload { platform, topic: topic_of(platform, &file), file, body, header, normalise });
        }
    }
    assert!(!payloads.is_empty(), "no fixtures under {FIXTURES}");
    payloads
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// The topic a fixture was delivered under, from the name before `__`: Shopify
/// `orders-create` → `orders/create` (the first `-` is the `/`: `customers-data_request`);
/// WooCommerce `order.created-guest-coupon` → `order.created` (the rest labels the variant).
fn topic_of(platform: &str, file: &str) -> String {
    let stem = file.split("__").next().unwrap_or(file);
    match platform {
        "shopify" => stem.replacen('-', "/", 1),
        _ => stem.split('-').next().unwrap_or(stem).to_owned(),
    }
}
