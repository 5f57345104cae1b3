//! `relance import` end to end on the local stack: the same files imported into two shops
//! through webhook-ingest's generic API, every function served by `cargo lambda watch` and
//! the dispatcher delivering the bus to profile-update — one import interrupted by an outage
//! and resumed, one not. Both shops must end with the same profiles, no mail may go for
//! history, and a second import must change nothing.

use async_trait::async_trait;
use relance::aws::DynamoProfileStore;
use relance_cli::import::{
    self, ApiSink, CursorFile, EventSink, ImportError, ImportEvent, Pace, Plan, Sent, SinkError,
};
use relance_cli::score::{self, LambdaNightly, Nightly};
use relance_tests::live::LiveShop;
use relance_tests::{renamed_shop, unique};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Two shops of the local fixture shop's settings, new to the stack, with an API secret.
fn shops() -> Value {
    let local: Value = serde_json::from_str(include_str!("../../tests/fixtures/shops.local.json")).unwrap();
    let shop = &local["shops"][0];
    json!({ "shops": [renamed_shop(shop, "import-resumed"), renamed_shop(shop, "import-whole")] })
}

/// The stack's API answers `batches` batches, then is out (every batch after refused 503).
struct Outage {
    inner: ApiSink,
    left: AtomicUsize,
}

#[async_trait]
impl EventSink for Outage {
    async fn send(&self, batch: &[ImportEvent]) -> Result<Sent, SinkError> {
        if self.left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_err() {
            return Err(SinkError::Retry("503 Service Unavailable (an outage)".into()));
        }
        self.inner.send(batch).await
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

/// A generic orders file of `n` orders from 30 customers over the past year (the first one
/// yesterday): more than one batch, and customers with several orders.
fn year_of_orders(n: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}.csv", unique("relance-import-e2e")));
    let mut text =
        String::from("order_id,placed_at,email,currency,total,paid_at,title,quantity,unit_price,accepts_marketing\n");
    for i in 0..n {
        let day = 1 + (i * 7) % 360;
        let at = chrono::Utc::now() - chrono::Duration::days(day as i64);
        let at = at.format("%Y-%m-%dT%H:%M:%SZ");
        let consent = if i % 3 == 0 { "yes" } else { "" };
        text.push_str(&format!("y{i},{at},buyer{}@example.com,EUR,25.00,{at},Vin,1,25.00,{consent}\n", i % 30));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn fast() -> Pace {
    Pace { per_second: None, attempts: 1, backoff: std::time::Duration::ZERO }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_interrupted_and_resumed_ends_as_one_run_whole_sends_no_mail_and_a_second_changes_nothing() {
    let stack = relance_tests::stack::LocalStack::connect().await.expect("the local stack (make up)");
    let shops = shops();
    let resumed = LiveShop::start_with(&stack.dir().join("stack.env"), shops.clone(), 0).await;
    let whole = resumed.sibling(&shops, 1).await;
    let secret = |live: &LiveShop| {
        let index = if live.shop == resumed.shop { 0 } else { 1 };
        let text = shops["shops"][index]["api"]["secrets"][0].as_str().unwrap().to_owned();
        relance::signature::Secret::new(text).unwrap()
    };
    let files = [fixture("shopify-customers.csv"), fixture("shopify-orders.csv"), year_of_orders(60)];
    let plan = Plan::read(&files, None, chrono::Utc::now()).unwrap();
    assert!(plan.events.len() > 100, "more than one batch: {}", plan.events.len());

    // Interrupted after one batch, then run again.
    let api =
        |live: &LiveShop| ApiSink::new(&live.function_url("webhook-ingest", ""), live.shop.as_str(), secret(live));
    let cursor = CursorFile { path: std::env::temp_dir().join(format!("{}.cursor", unique("import-e2e"))) };
    let outage = Outage { inner: api(&resumed), left: AtomicUsize::new(1) };
    let stopped = import::run(&plan, &outage, &cursor, fast(), &mut |_| {}).await.unwrap_err();
    assert!(matches!(stopped, ImportError::Stopped { sent: 100, .. }), "{stopped}");
    let summary = import::run(&plan, &api(&resumed), &cursor, fast(), &mut |_| {}).await.unwrap();
    assert_eq!((summary.resumed_from, summary.duplicates), (100, 0), "{summary:?}");
    resumed.run(chrono::Duration::zero()).await;

    // The same files in one run, into the other shop.
    let cursor = CursorFile { path: std::env::temp_dir().join(format!("{}.cursor", unique("import-e2e"))) };
    let summary = import::run(&plan, &api(&whole), &cursor, fast(), &mut |_| {}).await.unwrap();
    assert_eq!(summary.published, plan.events.len());
    whole.run(chrono::Duration::zero()).await;

    let (a, b) = (resumed.comparable_profiles().await, whole.comparable_profiles().await);
    assert_eq!(a.len(), 30 + 3, "30 buyers, Anne, Bruno and Dora (Chloé's only order skipped, Eve's row bad)");
    assert_eq!(a, b, "the resumed import ends as the whole one");
    let anne = whole.profile_of("anne@example.fr").await.expect("Anne");
    assert_eq!(anne.orders.len(), 2);
    assert_eq!(anne.contact.first_name.as_ref().map(|n| n.value.as_str()), Some("Anne"));

    // History sends nothing: not even an order confirmation for yesterday's order, which as
    // news would get one (transactional: no consent needed).
    let to_buyers: Vec<_> =
        whole.mails().await.into_iter().filter(|m| m.destination.to.iter().any(|t| t.starts_with("buyer"))).collect();
    assert!(
        to_buyers.is_empty(),
        "no mail for an import: {:?}",
        to_buyers.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );

    // A second import of the same files: every event a duplicate, the profiles as they were.
    let again = import::run(&plan, &api(&whole), &cursor, fast(), &mut |_| {}).await.unwrap();
    assert_eq!((again.published, again.duplicates), (0, plan.events.len()));
    whole.run(chrono::Duration::zero()).await;
    assert_eq!(whole.comparable_profiles().await, b);

    // Scored right after, as `relance import` does: the last events are found filed, then
    // rfm-nightly runs for the shop through Lambda's Invoke API (the SDK, on cargo lambda watch).
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let settled = score::settle(&store, &whole.shop, &plan.events, Duration::from_secs(60), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(settled, score::Settled { filed: score::SAMPLE, of: score::SAMPLE });
    let lambda = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(&stack.sdk).endpoint_url(whole.lambda_url()).build(),
    );
    let summaries = LambdaNightly::new(lambda, "rfm-nightly").score(&whole.shop).await.unwrap();
    println!("{}", score::render(&summaries[0]));
    assert_eq!(summaries[0]["shop"], whole.shop.as_str());
    assert_eq!(summaries[0]["profiles"], 33, "{summaries}");
    let anne = whole.profile_of("anne@example.fr").await.expect("Anne");
    assert!(anne.segment.is_some(), "Anne has a segment the same day");
}
