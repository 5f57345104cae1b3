//! The nightly run over 100,000 profiles (or `RELANCE_SCALE_PROFILES`) on the local stack (`make scale`; ignored by
//! `make test`, it takes minutes on moto): seeded with BatchWriteItem, scored through the
//! sparse index, every profile carrying its segment afterwards. Prints the figures recorded
//! in BENCHMARKS.md.

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{Duration, TimeZone, Utc};
use relance::aws::{DynamoProfileStore, profile_item};
use relance::ids::ShopId;
use relance::money::Currency;
use relance::profile::Version;
use relance::segments::rfm::Monetary;
use relance::use_cases::score_nightly::{Settings, run};
use relance_tests::fixtures::buyer;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use std::time::Instant;

/// 100,000 unless `RELANCE_SCALE_PROFILES` says otherwise (moto reads a table page by
/// walking the whole table, so its time grows with the square of the count).
fn profiles() -> usize {
    std::env::var("RELANCE_SCALE_PROFILES").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

#[tokio::test]
#[ignore = "minutes on moto: run with `make scale`"]
async fn a_hundred_thousand_profiles_are_scored_and_each_carries_its_segment() {
    let stack = LocalStack::connect().await.unwrap();
    let table = stack.var("RELANCE_TABLE").unwrap().to_owned();
    let store = DynamoProfileStore::new(stack.dynamodb(), &table);
    // A bus of its own, with no rules: a night's transitions are measured going out, not
    // moto routing each into the dispatcher's mirror queues (minutes per hundred there).
    let bus = unique("scale-bus");
    stack.eventbridge().create_event_bus().name(&bus).send().await.unwrap();
    let publisher = relance::aws::EventBridgePublisher::new(stack.eventbridge(), &bus);
    let shop = ShopId::parse(unique("scale")).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
    let eur = Currency::parse("EUR").unwrap();

    let count = profiles();
    let seeding = Instant::now();
    let mut batch = Vec::with_capacity(25);
    for n in 0..count {
        let orders = (0..1 + (n * 7919) % 9)
            .map(|o| (now - Duration::days(((n * 31 + o * 17) % 700) as i64), 1_000 + ((n * 13) % 97) as i64 * 150))
            .collect();
        let profile = buyer(&shop, &format!("p{n:06}"), now - Duration::days(800), orders);
        // The very item the store would write for a new profile, keys and version included.
        let item = profile_item(&profile, Version::NEW.next()).unwrap();
        batch.push(
            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build(),
        );
        if batch.len() == 25 || n + 1 == count {
            let mut pending = std::mem::take(&mut batch);
            while !pending.is_empty() {
                let out = stack.dynamodb().batch_write_item().request_items(&table, pending).send().await.unwrap();
                pending = out.unprocessed_items.and_then(|mut u| u.remove(&table)).unwrap_or_default();
            }
        }
    }
    let seeded = seeding.elapsed();

    let scoring = Instant::now();
    let settings = Settings { currency: Some(eur), monetary: Monetary::AverageOrderValue, sunset_after: None };
    let summary = run(&store, &store, &publisher, &shop, settings, now).await.unwrap();
    let scored = scoring.elapsed();
    assert_eq!((summary.profiles as usize, summary.changed as usize, summary.deferred), (count, count, 0));

    // Every write succeeded (`changed` counts conditional UpdateItems that DynamoDB
    // accepted), and every profile is listed under its segment in `gsi1`.
    let listing = Instant::now();
    let mut listed = 0usize;
    for segment in relance::segments::Segment::ALL {
        let mut start = None;
        let mut members = 0usize;
        loop {
            let page = stack
                .dynamodb()
                .query()
                .table_name(&table)
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(relance::aws::segment_pk(&shop, segment)))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            members += page.count as usize;
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        assert_eq!(members as u64, summary.segments.get(&segment).map_or(0, |f| f.profiles), "{segment:?}");
        listed += members;
    }
    assert_eq!(listed, count, "every profile carries its segment");
    let listed_in = listing.elapsed();
    println!(
        "{count} profiles: seeded in {:.1} s, scored and written in {:.1} s ({:.0} profiles/s on moto), listed by segment in {:.1} s; segments: {:?}",
        seeded.as_secs_f64(),
        scored.as_secs_f64(),
        count as f64 / scored.as_secs_f64(),
        listed_in.as_secs_f64(),
        summary.segments.iter().map(|(s, f)| (s.as_str(), f.profiles)).collect::<Vec<_>>()
    );
}
