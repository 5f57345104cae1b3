//! The profile use case on DynamoDB (local stack): concurrent writers lose nothing, and
//! deliveries in any order with duplicates reach the profile in-order delivery reaches.

use relance::aws::{DynamoProfileStore, EventBridgePublisher};
use relance::events::Event;
use relance::ids::{ProfileId, ShopId};
use relance::ports::ProfileStore;
use relance::ports::{MemoryProfileStore, RecordingPublisher};
use relance::profile::{IdentityKey, Profile};
use relance::use_cases::update_profile::{Applied, apply_event};
use relance_tests::fixtures::{Canonical, eur, order, product_line};
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::{Value, json};
use std::sync::Arc;

fn event(shop: &str, n: usize, kind: &str, minute: u32, identity: Value, payload: Value) -> Event {
    Canonical::shopify(shop, n, kind, payload, &format!("2026-03-01T09:{minute:02}:00Z"))
        .received_at("2026-03-01T12:00:00Z")
        .identity(identity)
        .build()
}

fn order_event(shop: &str, n: usize, order_id: &str, minor: i64, minute: u32) -> Event {
    let lines = vec![product_line("p1", "Cuvée", minor, &["vins"])];
    event(shop, n, "order.placed", minute, json!({ "email": "anne@example.fr" }), order(order_id, lines))
}

async fn dynamo(stack: &LocalStack) -> DynamoProfileStore {
    DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap())
}

fn publisher(stack: &LocalStack) -> EventBridgePublisher {
    EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&stack.sdk), stack.var("RELANCE_BUS").unwrap())
}

async fn profile_of(store: &dyn ProfileStore, shop: &ShopId, email: &str) -> Profile {
    let key = IdentityKey::Email(relance::ids::Email::parse(email).unwrap());
    let id: ProfileId = store.find_identity(shop, &key).await.unwrap().expect("e-mail is mapped");
    store.load(shop, &id).await.unwrap().expect("profile stored").value
}

#[tokio::test]
async fn concurrent_events_for_one_profile_are_all_applied() {
    let stack = LocalStack::connect().await.unwrap();
    let store = Arc::new(dynamo(&stack).await);
    let publisher = Arc::new(publisher(&stack));
    let shop = unique("shop");
    // The first event creates the profile; then 16 orders race on it.
    apply_event(store.as_ref(), publisher.as_ref(), &order_event(&shop, 0, "o0", 1000, 0)).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 1..=16 {
        let (store, publisher, event) =
            (store.clone(), publisher.clone(), order_event(&shop, n, &format!("o{n}"), 1000, n as u32));
        tasks.spawn(async move { apply_event(store.as_ref(), publisher.as_ref(), &event).await.unwrap() });
    }
    let outcomes = tasks.join_all().await;
    assert!(outcomes.iter().all(|o| matches!(o, Applied::Changed { .. })), "{outcomes:?}");

    let profile = profile_of(store.as_ref(), &ShopId::parse(&shop).unwrap(), "anne@example.fr").await;
    assert_eq!(profile.stats().orders, 17, "no concurrent update was lost");
    assert_eq!(profile.products.values().map(|p| p.quantity).sum::<u64>(), 17);
}

/// A small fixed history: a visitor browses, identifies at checkout, orders twice, gets a
/// refund that names nobody, changes consent.
fn history(shop: &str) -> Vec<Event> {
    let visitor = json!({ "visitor_id": "v-anne" });
    let both = json!({ "email": "anne@example.fr", "visitor_id": "v-anne" });
    let view = json!({ "product_id": "p1", "categories": ["vins"] });
    vec![
        event(shop, 1, "product.viewed", 1, visitor.clone(), view.clone()),
        event(shop, 2, "product.viewed", 2, visitor, view),
        event(
            shop,
            3,
            "consent.changed",
            3,
            both.clone(),
            json!({ "state": "subscribed", "changed_at": "2026-03-01T09:03:00Z", "source": "shopify" }),
        ),
        order_event(shop, 4, "o1", 2500, 4),
        order_event(shop, 5, "o2", 4000, 5),
        event(shop, 6, "order.refunded", 6, json!({}), json!({ "order_id": "o2", "amount": eur(1000) })),
        event(
            shop,
            7,
            "consent.changed",
            7,
            both,
            json!({ "state": "unsubscribed", "changed_at": "2026-03-01T09:07:00Z", "source": "unsubscribe-link" }),
        ),
    ]
}

fn essence(p: &Profile) -> impl PartialEq + std::fmt::Debug {
    (p.stats(), p.interests.clone(), p.consent.clone(), p.visitor_ids.clone(), p.orders.clone())
}

#[tokio::test]
async fn shuffled_and_duplicated_deliveries_reach_the_in_order_profile_on_dynamodb() {
    let stack = LocalStack::connect().await.unwrap();
    let store = dynamo(&stack).await;
    let recording = RecordingPublisher::default();
    for seed in 1..=6u64 {
        let shop = unique("shop");
        // The reference: in order, once each, in memory, same shop (stamps name the events).
        let reference_store = MemoryProfileStore::default();
        for event in history(&shop) {
            apply_event(&reference_store, &recording, &event).await.unwrap();
        }
        let reference = profile_of(&reference_store, &ShopId::parse(&shop).unwrap(), "anne@example.fr").await;

        let mut delivered = history(&shop);
        delivered.extend(history(&shop).into_iter().step_by(2)); // duplicates
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for i in (1..delivered.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            delivered.swap(i, (state % (i as u64 + 1)) as usize);
        }
        for event in &delivered {
            apply_event(&store, &recording, event).await.unwrap();
        }
        let profile = profile_of(&store, &ShopId::parse(&shop).unwrap(), "anne@example.fr").await;
        assert_eq!(essence(&profile), essence(&reference), "seed {seed}");
        // Orders, checkouts and activity beside the profile agree too (the anonymous views
        // moved with the merge).
        let shop_id = ShopId::parse(&shop).unwrap();
        let records = store.records(&shop_id, &profile.id).await.unwrap();
        let expected = reference_store.records(&shop_id, &reference.id).await.unwrap();
        assert_eq!(records, expected, "seed {seed}");
        assert_eq!(records.len(), 4, "two orders, two product views");
    }
}
