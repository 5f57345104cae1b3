//! The nightly scoring on the local stack: every profile of a shop is read through the
//! sparse profile index, scored, and carries its standing; members are listed by segment
//! through `gsi1` for campaigns; a second run writes nothing.

use chrono::{Duration, TimeZone, Utc};
use relance::aws::DynamoProfileStore;
use relance::ids::{ProfileId, ShopId};
use relance::money::Currency;
use relance::ports::{ProfileStore, SegmentStore};
use relance::profile::Version;
use relance::segments::Segment;
use relance::segments::rfm::Monetary;
use relance::use_cases::score_nightly::{Settings, run};
use relance_tests::fixtures::buyer;
use relance_tests::stack::LocalStack;
use relance_tests::unique;

#[tokio::test]
async fn a_shop_is_scored_and_its_segments_are_listed_for_campaigns() {
    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let publisher = stack.publisher().unwrap();
    let shop = ShopId::parse(unique("shop")).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
    let count = 300usize;
    for n in 0..count {
        let orders = (0..(1 + n % 6))
            .map(|o| (now - Duration::days((n as i64 * 5) % 400 + o as i64 * 9), 1_500 + (n as i64 % 13) * 700))
            .collect();
        let profile = buyer(&shop, &format!("p{n:05}"), now - Duration::days(500), orders);
        store.save(&profile, Version::NEW).await.unwrap();
    }

    let settings =
        Settings { currency: Currency::parse("EUR").ok(), monetary: Monetary::AverageOrderValue, sunset_after: None };
    let summary = run(&store, &store, &publisher, &shop, settings, now).await.unwrap();
    assert_eq!((summary.profiles, summary.customers, summary.changed, summary.deferred), (300, 300, 300, 0));

    // Every profile carries its standing, and its segment's index lists it.
    let mut listed = 0;
    for segment in Segment::ALL {
        let (mut members, mut cursor) = (0, None);
        loop {
            let page = store.members_page(&shop, segment, cursor).await.unwrap();
            members += page.profiles.len();
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(members as u64, summary.segments.get(&segment).map_or(0, |f| f.profiles), "{segment:?}");
        listed += members;
    }
    assert_eq!(listed, count);
    let sample = store.load(&shop, &ProfileId::parse("p00000").unwrap()).await.unwrap().unwrap();
    assert!(sample.value.segment.is_some_and(|s| s.segment.is_some()));
    assert_eq!(sample.version, Version(2), "the standing bumps the version profile-update conditions on");

    let again = run(&store, &store, &publisher, &shop, settings, now).await.unwrap();
    assert_eq!(again.changed, 0, "unchanged standings are not written again");
}

/// Seeds `count` customers of a new shop with a spread of recency, frequency and value.
async fn seed(store: &DynamoProfileStore, prefix: &str, count: usize) -> ShopId {
    let shop = ShopId::parse(unique(prefix)).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
    for n in 0..count {
        let orders = (0..(n * 7 % 5))
            .map(|o| (now - Duration::days((n as i64 * 11) % 380 + o as i64 * 13), 900 + (n as i64 % 17) * 450))
            .collect();
        let profile = buyer(&shop, &format!("p{n:05}"), now - Duration::days(500), orders);
        store.save(&profile, Version::NEW).await.unwrap();
    }
    shop
}

#[tokio::test]
async fn a_night_split_in_shards_over_dynamodb_stands_every_profile_where_one_pass_would() {
    use relance::ports::RecordingPublisher;
    use relance::use_cases::score_nightly::sharded::{TASK, Task, Workers, plan, work};
    use std::collections::BTreeMap;

    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let shop = seed(&store, "sharded", 200).await;
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap() + Duration::seconds(rand_seconds(&shop));
    let settings =
        Settings { currency: Currency::parse("EUR").ok(), monetary: Monetary::AverageOrderValue, sunset_after: None };
    // Only this test's shop is served: the other tests' profiles in the table are passed over.
    let shops = BTreeMap::from([(shop.clone(), settings)]);
    let tasks = RecordingPublisher::default();
    let workers = Workers { segments: &store, profiles: &store, publisher: &tasks, runs: &store, shops: &shops };

    relance::ports::EventPublisher::publish(&tasks, &plan(4, now)).await.unwrap();
    let (mut delivered, mut summaries) = (0, Vec::new());
    while let Some(event) = tasks.events().get(delivered).cloned() {
        delivered += 1;
        if event.detail_type == TASK {
            let task: Task = serde_json::from_value(event.detail).unwrap();
            summaries.extend(work(&workers, &task).await.unwrap());
        }
    }
    assert_eq!(summaries.len(), 1);
    let summary = &summaries[0];
    assert_eq!((summary.profiles, summary.changed, summary.deferred), (200, 200, 0));
    assert_eq!(summary.customers, (0..200).filter(|n| n * 7 % 5 > 0).count() as u64);

    // One pass over the shop now finds every standing already where it would put it.
    let publisher = stack.publisher().unwrap();
    let one_pass = run(&store, &store, &publisher, &shop, settings, now).await.unwrap();
    assert_eq!(one_pass.changed, 0, "the shards stood every profile as one pass does");
    assert_eq!((&one_pass.segments, &one_pass.tiers), (&summary.segments, &summary.tiers));
}

/// A distinct run time per test run (the run is named after its time, and the stack's table
/// outlives test runs).
fn rand_seconds(shop: &ShopId) -> i64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    shop.hash(&mut hasher);
    i64::try_from(hasher.finish() % 100_000_000).unwrap()
}

#[tokio::test]
async fn run_parts_are_split_over_items_and_read_back_whole() {
    use relance::ports::RunStore;
    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let run = unique("run");
    let expires = Utc::now() + Duration::days(1);
    // 900 KB: three items.
    let big: Vec<u8> = (0..900 * 1024).map(|i| (i % 251) as u8).collect();
    store.put_part(&run, "count/000001", &big, expires).await.unwrap();
    store.put_part(&run, "count/000000", b"[1,2]", expires).await.unwrap();
    store.put_part(&run, "cutoffs", b"{}", expires).await.unwrap();
    let parts = store.parts(&run, "count/").await.unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0], ("count/000000".to_owned(), b"[1,2]".to_vec()));
    assert_eq!(parts[1].0, "count/000001");
    assert!(parts[1].1 == big, "read back whole, in order");
    // Rewritten shorter (a retried worker): the longer version's extra chunks are not read.
    store.put_part(&run, "count/000001", b"short", expires).await.unwrap();
    assert_eq!(store.parts(&run, "count/000001").await.unwrap()[0].1, b"short".to_vec());

    assert_eq!(store.finish(&run, "count", 3, expires).await.unwrap(), 1);
    assert_eq!(store.finish(&run, "count", 3, expires).await.unwrap(), 1, "a retried shard counts once");
    assert_eq!(store.finish(&run, "count", 0, expires).await.unwrap(), 2);
    assert_eq!(store.finish(&run, "score", 0, expires).await.unwrap(), 1, "phases are counted apart");
}
