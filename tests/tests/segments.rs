//! The nightly scoring on the local stack: every profile of a shop is read through the
//! sparse profile index, scored, and carries its standing; members are listed by segment
//! through `gsi1` for campaigns; a second run writes nothing.

use chrono::{Duration, TimeZone, Utc};
use relance::aws::DynamoProfileStore;
use relance::ids::{ExternalId, ProfileId, ShopId};
use relance::money::{Currency, Money};
use relance::ports::ProfileStore;
use relance::profile::{OrderSummary, Profile, TimedMoney, Version};
use relance::segments::Segment;
use relance::segments::nightly::{Settings, run};
use relance::segments::rfm::Monetary;
use relance_tests::stack::LocalStack;
use relance_tests::unique;

#[tokio::test]
async fn a_shop_is_scored_and_its_segments_are_listed_for_campaigns() {
    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let publisher = stack.publisher().unwrap();
    let shop = ShopId::parse(unique("shop")).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
    let eur = Currency::parse("EUR").unwrap();
    let count = 300usize;
    for n in 0..count {
        let mut profile =
            Profile::new(shop.clone(), ProfileId::parse(format!("p{n:05}")).unwrap(), now - Duration::days(500));
        for o in 0..(1 + n % 6) {
            let at = now - Duration::days((n as i64 * 5) % 400 + o as i64 * 9);
            let amount = Money::from_minor(1_500 + (n as i64 % 13) * 700, eur);
            profile.orders.insert(
                ExternalId::parse(format!("o{n}-{o}")).unwrap(),
                OrderSummary { placed_at: Some(at), total: Some(TimedMoney { at, amount }), ..OrderSummary::default() },
            );
        }
        store.save(&profile, Version::NEW).await.unwrap();
    }

    let settings = Settings { currency: Some(eur), monetary: Monetary::AverageOrderValue, sunset_after: None };
    let summary = run(&store, &store, &publisher, &shop, settings, now).await.unwrap();
    assert_eq!((summary.profiles, summary.customers, summary.changed, summary.deferred), (300, 300, 300, 0));

    // Every profile carries its standing, and its segment's index lists it.
    let mut listed = 0;
    for segment in Segment::ALL {
        let members = stack
            .dynamodb()
            .query()
            .table_name(stack.var("RELANCE_TABLE").unwrap())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(relance::aws::segment_pk(&shop, segment)),
            )
            .send()
            .await
            .unwrap()
            .count as usize;
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
