//! GDPR on the local stack: after `customers/redact` no item of the customer is left in the
//! table and no reminder schedule is pending; after `shop/redact` no item of the shop; a
//! data request's export lists the person with their records.

use chrono::{Duration, SubsecRound, Utc};
use relance::aws::{DynamoProfileStore, EventBridgePublisher, EventBridgeScheduler};
use relance::events::{CustomerRedact, Event};
use relance::ids::{ExternalId, ShopId};
use relance::ports::{ProfileStore, Scheduler};
use relance::profile::{IdentityKey, Record, RecordKey};
use relance::schedule::{OneTimeSchedule, ScheduleName};
use relance::use_cases::gdpr::{erase_customer, export_customer};
use relance::use_cases::update_profile::apply_event;
use relance_tests::fixtures::{Canonical, eur, order, product_line};
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::{Value, json};

fn event(shop: &str, n: u32, kind: &str, identity: Value, payload: Value) -> Event {
    Canonical::shopify(shop, n, kind, payload, &format!("2026-03-01T09:{n:02}:00Z"))
        .received_at("2026-03-01T12:00:00Z")
        .identity(identity)
        .build()
}

fn order_event(shop: &str, n: u32, email: &str, order_id: &str) -> Event {
    let identity = json!({ "email": email, "customer_id": format!("c-{email}") });
    event(shop, n, "order.placed", identity, order(order_id, vec![product_line("p1", "Cuvée", 990, &[])]))
}

/// Every item of the table, as text, to search for traces.
async fn all_items(stack: &LocalStack) -> Vec<String> {
    let mut pages = stack.dynamodb().scan().table_name(stack.var("RELANCE_TABLE").unwrap()).into_paginator().send();
    let mut items = Vec::new();
    while let Some(page) = pages.next().await {
        items.extend(page.unwrap().items.unwrap_or_default().into_iter().map(|item| format!("{item:?}")));
    }
    items
}

#[tokio::test]
async fn an_erased_customer_leaves_no_item_and_others_keep_theirs() {
    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let publisher =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&stack.sdk), stack.var("RELANCE_BUS").unwrap());
    let shop = unique("shop");
    let anne = format!("{}@example.fr", unique("anne"));
    let bob = format!("{}@example.fr", unique("bob"));
    // Anne browses anonymously, identifies, orders twice; Bob orders once.
    let visitor = unique("v");
    let history = [
        event(&shop, 1, "product.viewed", json!({ "visitor_id": visitor }), json!({ "product_id": "p1" })),
        event(
            &shop,
            2,
            "customer.signed_up",
            json!({ "email": anne, "visitor_id": visitor }),
            json!({ "first_name": "Anne" }),
        ),
        order_event(&shop, 3, &anne, "a-1"),
        order_event(&shop, 4, &anne, "a-2"),
        order_event(&shop, 5, &bob, "b-1"),
        event(
            &shop,
            8,
            "checkout.started",
            json!({ "email": anne }),
            json!({ "token": "ck-anne", "line_items": [], "total": eur(990) }),
        ),
    ];
    for e in &history {
        apply_event(&store, &publisher, e).await.unwrap();
    }
    // Her checkout's reminder is pending.
    let group = stack.var("RELANCE_SCHEDULE_GROUP").unwrap().to_owned();
    let scheduler = stack.timer_scheduler().unwrap();
    let reminder =
        ScheduleName::for_checkout(&ShopId::parse(&shop).unwrap(), &ExternalId::parse("ck-anne").unwrap(), 2);
    let at = Utc::now().trunc_subsecs(0) + Duration::hours(1);
    scheduler.upsert(&OneTimeSchedule { name: reminder.clone(), at, payload: json!({}) }).await.unwrap();
    let anne_profile = {
        let export =
            export_customer(&store, &event(&shop, 6, "gdpr.data_requested", json!({ "email": anne }), json!({})), None)
                .await
                .unwrap();
        assert_eq!(export.profiles.len(), 1);
        let records = &export.profiles[0].records;
        let orders = records.iter().filter(|r| matches!(r, Record::Order(_))).count();
        let activity = records.iter().filter(|r| matches!(r, Record::Activity(_))).count();
        assert_eq!((orders, activity), (2, 2), "two orders; the anonymous view and the checkout joined her");
        assert!(export.identity_keys.iter().any(|k| k == &format!("visitor:{visitor}")), "{:?}", export.identity_keys);
        export.profiles[0].profile.id.to_string()
    };

    let request = event(
        &shop,
        7,
        "gdpr.customer_redacted",
        json!({ "email": anne, "customer_id": format!("c-{anne}") }),
        json!({ "orders_to_redact": ["a-1"] }),
    );
    let redact = CustomerRedact { orders_to_redact: vec![ExternalId::parse("a-1").unwrap()] };
    let canceller = EventBridgeScheduler::cancel_only(stack.scheduler(), &group);
    let erased = erase_customer(&store, &canceller, &request, &redact).await.unwrap();
    assert_eq!((erased.profiles.len(), erased.schedules), (1, 1));
    assert_eq!(erased.records, 5, "two orders, one checkout, two activities");
    let pending = stack.scheduler().get_schedule().group_name(&group).name(reminder.as_str()).send().await;
    assert!(pending.is_err(), "the reminder is cancelled");

    let items = all_items(&stack).await;
    // Her kept order's identity key, and the redacted order's record, by the keys' own text.
    let kept_order = IdentityKey::Order(ExternalId::parse("a-2").unwrap()).to_string();
    let redacted_order = RecordKey::Order(ExternalId::parse("a-1").unwrap()).to_string();
    for trace in [anne.as_str(), anne_profile.as_str(), visitor.as_str(), &kept_order, "ck-anne", &redacted_order] {
        let left: Vec<&String> = items.iter().filter(|i| i.contains(trace) && i.contains(&shop)).collect();
        assert!(left.is_empty(), "{trace} still in {left:?}");
    }
    assert!(items.iter().any(|i| i.contains(&bob)), "Bob's data is untouched");

    // Shop erasure removes everything else of the shop.
    let erased = store.erase_shop(&ShopId::parse(&shop).unwrap()).await.unwrap();
    assert!(erased > 0);
    assert!(all_items(&stack).await.iter().all(|i| !i.contains(&shop)), "no item names the shop");
}
