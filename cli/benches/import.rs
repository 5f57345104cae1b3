//! `relance import` of a shop's history, 100,000 orders by default: the files read and
//! checked, then every event through the path it takes on AWS, in this process — the CLI's
//! batches into webhook-ingest's generic API route (its real handler: signature, parse,
//! ledger claim, publish), then each published event through profile-update's use case —
//! on in-memory ports that count the requests the AWS adapters would make for each call.
//! What only AWS can show (its latency) is left out; the requests are what a real account
//! bills, and the cost is computed from AWS's published prices (printed with the figures).
//!
//! Run: `cargo bench -p relance-cli --bench import` (`RELANCE_BENCH_ORDERS=N` for another size).

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use lambda_http::http::Method;
use lambda_http::{Body, Request};
use relance::directory::Directory;
use relance::events::Event;
use relance::ids::{EventId, ShopId};
use relance::ports::{
    Claim, CountingProfileStore, DeliveryLedger, LedgerError, ManualClock, MemoryLedger, MemoryParkingLot,
    RecordingPublisher,
};
use relance::shops::Shops;
use relance::signature::{Secret, sign_timestamped};
use relance::use_cases::update_profile::apply_event;
use relance_cli::import::{self, EventSink, ImportEvent, MemoryCursor, Pace, Plan, Sent, SinkError};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const SHOP: &str = "bench.example";
const API_SECRET: &str = "bench api secret";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap()
}

/// A shop's history in Relance's generic headers: `orders` orders from `orders / 5`
/// customers over two years, one to three lines each, most paid, some fulfilled, a few
/// refunded or cancelled. Deterministic.
fn write_history(dir: &std::path::Path, orders: usize) -> Vec<std::path::PathBuf> {
    let customers = (orders / 5).max(1);
    let mut rng = fastrand::Rng::with_seed(20261203);
    let customers_path = dir.join("customers.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&customers_path).unwrap());
    writeln!(file, "customer_id,email,first_name,last_name,accepts_marketing,created_at").unwrap();
    for c in 0..customers {
        let created = now() - Duration::days(730 + (c % 365) as i64);
        let consent = if rng.u8(..3) == 0 { "yes" } else { "no" };
        writeln!(file, "c{c},buyer{c}@example.com,Ana{c},Lopez,{consent},{}", created.to_rfc3339()).unwrap();
    }
    file.flush().unwrap();
    let orders_path = dir.join("orders.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&orders_path).unwrap());
    writeln!(file, "order_id,placed_at,email,customer_id,currency,total,paid_at,fulfilled_at,cancelled_at,refunded,product_id,sku,title,quantity,unit_price").unwrap();
    for o in 0..orders {
        let customer = rng.usize(..customers);
        let placed = now() - Duration::minutes(rng.i64(60..730 * 24 * 60));
        let lines: Vec<(u32, i64)> = (0..rng.u32(1..4)).map(|_| (rng.u32(1..4), rng.i64(350..6_000))).collect();
        let total: i64 = lines.iter().map(|(q, p)| i64::from(*q) * p).sum();
        let money = |minor: i64| format!("{}.{:02}", minor / 100, minor % 100);
        let (paid, fulfilled, cancelled, refunded) = match rng.u8(..20) {
            0 => (String::new(), String::new(), (placed + Duration::hours(2)).to_rfc3339(), String::new()),
            1 => (
                (placed + Duration::minutes(1)).to_rfc3339(),
                (placed + Duration::days(2)).to_rfc3339(),
                String::new(),
                money(total / 2),
            ),
            2..=11 => (
                (placed + Duration::minutes(1)).to_rfc3339(),
                (placed + Duration::days(2)).to_rfc3339(),
                String::new(),
                String::new(),
            ),
            _ => ((placed + Duration::minutes(1)).to_rfc3339(), String::new(), String::new(), String::new()),
        };
        for (i, (quantity, price)) in lines.iter().enumerate() {
            let product = rng.u32(1..400);
            if i == 0 {
                writeln!(
                    file,
                    "o{o},{},buyer{customer}@example.com,c{customer},EUR,{},{paid},{fulfilled},{cancelled},{refunded},p{product},SKU-{product},Produit {product},{quantity},{}",
                    placed.to_rfc3339(),
                    money(total),
                    money(*price)
                )
                .unwrap();
            } else {
                writeln!(file, "o{o},,,,,,,,,,p{product},SKU-{product},Produit {product},{quantity},{}", money(*price))
                    .unwrap();
            }
        }
    }
    file.flush().unwrap();
    vec![customers_path, orders_path]
}

/// The in-memory ledger, counting its requests (each a DynamoDB write on AWS).
struct CountingLedger {
    inner: MemoryLedger,
    calls: Arc<AtomicU64>,
}

#[async_trait]
impl DeliveryLedger for CountingLedger {
    async fn claim(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<Claim, LedgerError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.claim(shop, event, now).await
    }
    async fn confirm(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<(), LedgerError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.confirm(shop, event, now).await
    }
    async fn release(&self, shop: &ShopId, event: &EventId) -> Result<(), LedgerError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.release(shop, event).await
    }
}

/// The CLI's batches into webhook-ingest's real handler; what it publishes into
/// profile-update's use case, batch by batch.
struct InProcess {
    ingest: webhook_ingest::Deps,
    publisher: Arc<RecordingPublisher>,
    store: Arc<CountingProfileStore>,
    secret: Secret,
    requests: AtomicU64,
    request_bytes: AtomicU64,
    published: AtomicU64,
    ingest_ns: AtomicU64,
    profile_ns: AtomicU64,
    profile_publisher: RecordingPublisher,
    ledger_calls: Arc<AtomicU64>,
}

#[async_trait]
impl EventSink for InProcess {
    async fn send(&self, batch: &[ImportEvent]) -> Result<Sent, SinkError> {
        let body = serde_json::to_vec(&serde_json::json!({ "events": batch })).unwrap();
        let signature = sign_timestamped(&self.secret, &body, now());
        let mut request = Request::new(Body::Binary(body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = "/v1/events".parse().unwrap();
        for (name, value) in [
            ("content-type", "application/json"),
            ("x-relance-shop", SHOP),
            ("x-relance-signature", signature.as_str()),
        ] {
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        let began = Instant::now();
        let response = webhook_ingest::handle(request, &self.ingest).await;
        self.ingest_ns.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.request_bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        if !response.status().is_success() {
            return Err(SinkError::Refused {
                status: response.status().as_u16(),
                reason: format!("{:?}", response.body()),
            });
        }
        let began = Instant::now();
        let events = self.publisher.take();
        for published in &events {
            let event: Event = serde_json::from_value(published.detail.clone()).unwrap();
            apply_event(self.store.as_ref(), &self.profile_publisher, &event).await.unwrap();
        }
        // What profile-update publishes in turn (derived events) is not counted as import.
        let _ = self.profile_publisher.take();
        self.profile_ns.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.published.fetch_add(events.len() as u64, Ordering::Relaxed);
        Ok(Sent { published: events.len(), duplicates: batch.len() - events.len() })
    }
}

fn main() {
    let orders: usize = std::env::var("RELANCE_BENCH_ORDERS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("relance-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = write_history(&dir, orders);
    let sizes: u64 = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();

    let began = Instant::now();
    let plan = Plan::read(&files, None, now()).unwrap();
    let read = began.elapsed();
    assert!(plan.bad.is_empty(), "{:?}", &plan.bad[..plan.bad.len().min(3)]);

    let shops = Shops::parse(&format!(
        r#"{{"shops": [{{"id": "{SHOP}", "currency": "EUR", "api": {{"secrets": ["{API_SECRET}"]}}}}]}}"#
    ))
    .unwrap();
    let publisher = Arc::new(RecordingPublisher::default());
    let ledger_calls = Arc::new(AtomicU64::default());
    let sink = InProcess {
        ingest: webhook_ingest::Deps {
            shops: Arc::new(Directory::fixed(shops)),
            ledger: Arc::new(CountingLedger { inner: MemoryLedger::default(), calls: ledger_calls.clone() }),
            publisher: publisher.clone(),
            parking: Arc::new(MemoryParkingLot::default()),
            clock: Arc::new(ManualClock::at(now())),
            limiter: webhook_ingest::limiter::RateLimiter::new(1_000_000),
        },
        publisher,
        store: Arc::new(CountingProfileStore::default()),
        secret: Secret::new(API_SECRET.to_owned()).unwrap(),
        requests: AtomicU64::default(),
        request_bytes: AtomicU64::default(),
        published: AtomicU64::default(),
        ingest_ns: AtomicU64::default(),
        profile_ns: AtomicU64::default(),
        profile_publisher: RecordingPublisher::default(),
        ledger_calls,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let pace = Pace { per_second: None, attempts: 1, backoff: std::time::Duration::ZERO };
    let began = Instant::now();
    let summary = runtime.block_on(import::run(&plan, &sink, &MemoryCursor::default(), pace, &mut |_| {})).unwrap();
    let pipeline = began.elapsed();
    let calls: BTreeMap<&'static str, u32> = sink.store.take();
    let first = |counter: &AtomicU64| counter.load(Ordering::Relaxed) as f64;
    let (requests, ingest_s, profile_s, ledger) =
        (first(&sink.requests), first(&sink.ingest_ns) / 1e9, first(&sink.profile_ns) / 1e9, first(&sink.ledger_calls));
    let again = runtime.block_on(import::run(&plan, &sink, &MemoryCursor::default(), pace, &mut |_| {})).unwrap();
    let again_calls: u32 = sink.store.take().values().sum();

    let events = plan.events.len() as f64;
    let dynamo: u32 = calls.values().sum();
    println!("import of {orders} orders ({} customers), {:.1} MB of CSV", orders / 5, sizes as f64 / 1e6);
    println!(
        "  read and checked: {} events in {:.2} s ({:.0} events/s)",
        plan.events.len(),
        read.as_secs_f64(),
        events / read.as_secs_f64()
    );
    println!(
        "  through webhook-ingest's handler and profile-update's use case: {:.2} s ({:.0} events/s; ingest {:.2} s, profile-update {:.2} s)",
        pipeline.as_secs_f64(),
        events / pipeline.as_secs_f64(),
        ingest_s,
        profile_s,
    );
    println!(
        "  published {} new; a second import: {} published, {} duplicates, {again_calls} profile-update requests",
        summary.published, again.published, again.duplicates
    );
    println!(
        "  webhook-ingest requests: {requests:.0} (100 events each, {:.1} MB signed); profile-update invocations: {}",
        sink.request_bytes.load(Ordering::Relaxed) as f64 / 2e6,
        summary.published
    );
    let by_kind: Vec<String> = calls.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!(
        "  profile-update DynamoDB requests: {dynamo} ({}), {:.2} per event",
        by_kind.join(", "),
        f64::from(dynamo) / events
    );
    let (saves, units) = sink.store.profile_writes();
    println!("  profile items written: {saves}, {units} write units (1 per KB started)");

    // Published prices, us-east-1, on demand (aws.amazon.com/lambda/pricing, arm64;
    // /dynamodb/pricing/on-demand; /eventbridge/pricing), as of this run's date: verify
    // before quoting. Consistent reads of items under 4 KB are 1 read unit; a write is 1
    // write unit per KB started (the profile's size measured, the others are under 1 KB).
    const LAMBDA_PER_REQUEST: f64 = 0.20 / 1e6;
    const LAMBDA_PER_GB_S: f64 = 0.000_013_333_4;
    const DYNAMO_PER_WRITE_UNIT: f64 = 0.625 / 1e6;
    const DYNAMO_PER_READ_UNIT: f64 = 0.125 / 1e6;
    const EVENTBRIDGE_PER_EVENT: f64 = 1.00 / 1e6;
    let count = |kind: &str| f64::from(calls.get(kind).copied().unwrap_or(0));
    let (profile_saves, profile_units) = sink.store.profile_writes();
    let write_units = count("PutItem") + count("DeleteItem") + (profile_units - profile_saves) as f64 + ledger;
    let read_units = count("GetItem") + count("Query");
    let invocations = requests + summary.published as f64;
    // The template's memory (256 MB for both functions) times this
    // process's CPU time per call: a lower bound (on AWS the round trips add to the billed time).
    let gb_s = 0.25 * (ingest_s + profile_s);
    let lambda = invocations * LAMBDA_PER_REQUEST + gb_s * LAMBDA_PER_GB_S;
    let dynamo = write_units * DYNAMO_PER_WRITE_UNIT + read_units * DYNAMO_PER_READ_UNIT;
    let bus = summary.published as f64 * EVENTBRIDGE_PER_EVENT;
    println!("  delivery ledger requests (claim, confirm): {ledger:.0}");
    println!(
        "  on a real account, at published prices: Lambda {lambda:.3} USD ({invocations:.0} invocations, {gb_s:.0} GB-s at least), DynamoDB {dynamo:.3} USD ({write_units:.0} write units, {read_units:.0} read units), EventBridge {bus:.3} USD: {:.3} USD in all",
        lambda + dynamo + bus
    );
    let _ = std::fs::remove_dir_all(&dir);
}
