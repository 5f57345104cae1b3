use super::*;
use crate::profile::look_up;
use crate::test_support::{BOB, bobs_shop, sample};
use chrono::Duration;
use relance::ports::{MemoryScheduler, MemoryTombstones};
use relance::use_cases::gdpr::erased_before;

fn now() -> DateTime<Utc> {
    "2026-12-03T10:00:00Z".parse().unwrap()
}

fn bob() -> Email {
    Email::parse(BOB).unwrap()
}

#[tokio::test]
async fn an_export_holds_the_profile_its_records_and_keys_and_names_no_address_in_its_id() {
    let (store, shop) = bobs_shop().await;
    let export = export(&store, &shop, &bob(), now()).await.unwrap().expect("Bob's export");
    assert_eq!(export.profiles.len(), 1);
    let records = &export.profiles[0].records;
    assert!(records.iter().any(|r| matches!(r, relance::profile::Record::Order(_))), "{records:?}");
    assert!(records.iter().any(|r| matches!(r, relance::profile::Record::Checkout(_))), "{records:?}");
    assert!(export.identity_keys.iter().any(|k| k.contains(BOB)), "{:?}", export.identity_keys);
    let request = export.request.clone().unwrap();
    assert!(request.starts_with("relance-cli:export:20261203T100000"), "{request}");
    assert!(!request.contains("bob"), "{request}");
    let json = serde_json::to_string(&export).unwrap();
    assert!(json.contains("\"order_id\""), "{json}");
}

#[tokio::test]
async fn nobody_with_the_address_exports_nothing() {
    let (store, shop) = bobs_shop().await;
    let nobody = Email::parse("nobody@example.com").unwrap();
    assert!(export(&store, &shop, &nobody, now()).await.unwrap().is_none());
}

#[tokio::test]
async fn an_erasure_removes_the_customer_keeps_their_late_events_out_and_a_second_one_finds_nothing() {
    let (store, shop) = bobs_shop().await;
    let (scheduler, tombstones) = (MemoryScheduler::default(), MemoryTombstones::default());
    let erased = erase(&store, &scheduler, &tombstones, &shop, &bob(), now()).await.unwrap();
    assert_eq!(erased.profiles.len(), 1);
    assert!(erased.records >= 2, "{erased:?}");
    assert!(erased.tombstones >= 2, "e-mail, customer id and order: {erased:?}");
    assert!(look_up(&store, &shop, &bob()).await.unwrap().is_none());
    assert!(export(&store, &shop, &bob(), now()).await.unwrap().is_none());

    // Shopify redelivers Bob's order an hour later: it happened before the erasure, so
    // profile-update drops it instead of filing Bob again.
    let late = sample("order.paid", |_| {});
    assert_eq!(late.shop, shop);
    assert_eq!(erased_before(&tombstones, &late, now() + Duration::hours(1)).await.unwrap(), Some(now()));

    let again = erase(&store, &scheduler, &tombstones, &shop, &bob(), now() + Duration::minutes(5)).await.unwrap();
    assert!(again.profiles.is_empty() && again.records == 0, "{again:?}");
}
