//! cart-abandon-timer on the local stack: a checkout arms a real schedule in the template's
//! group; firing its stored Input re-reads DynamoDB and puts `mail.requested` on the bus,
//! where send-mail's rule picks it up; an order naming the checkout deletes the schedule.

use cart_abandon_timer::{Deps, Outcome, handle};
use chrono::{DateTime, Utc};
use relance::aws::DynamoProfileStore;
use relance::directory::Directory;
use relance::events::Event;
use relance::ports::ManualClock;
use relance::schedule::ScheduleName;
use relance::shops::Shops;
use relance::use_cases::update_profile::apply_event;
use relance_tests::queues::receive_matching;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::{Value, json};
use std::sync::Arc;

fn sample(name: &str) -> Value {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_checkout_arms_a_schedule_whose_firing_requests_the_first_reminder() {
    let stack = LocalStack::connect().await.unwrap();
    let shop = unique("shop");
    let group = stack.var("RELANCE_SCHEDULE_GROUP").unwrap().to_owned();
    let store = Arc::new(DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap()));
    let publisher = Arc::new(stack.publisher().unwrap());
    let mut checkout = sample("cart-abandon-timer/checkout-started");
    checkout["detail"]["shop"] = json!(shop);
    checkout["detail"]["id"] = json!(format!("shopify:{shop}:checkout"));
    let token = checkout["detail"]["payload"]["token"].as_str().unwrap().to_owned();
    let started: DateTime<Utc> = serde_json::from_value(checkout["detail"]["occurred_at"].clone()).unwrap();
    let clock = Arc::new(ManualClock::at(started));
    let deps = Deps {
        store: store.clone(),
        affinities: store.clone(),
        publisher: publisher.clone(),
        scheduler: Arc::new(stack.timer_scheduler().unwrap()),
        shops: Arc::new(Directory::fixed(Shops::parse(&json!({ "shops": [{ "id": shop }] }).to_string()).unwrap())),
        clock: clock.clone(),
    };
    // profile-update has folded the checkout (a subscribed customer).
    let mut consent = checkout["detail"].clone();
    consent["id"] = json!(format!("shopify:{shop}:consent"));
    consent["payload"] =
        json!({ "type": "consent.changed", "state": "subscribed", "changed_at": started, "source": "shopify" });
    for event in [consent, checkout["detail"].clone()] {
        let event: Event = serde_json::from_value(event).unwrap();
        apply_event(store.as_ref(), publisher.as_ref(), &event).await.unwrap();
    }

    let Outcome::Armed { at } = handle(checkout.clone(), &deps).await.unwrap() else { panic!("armed") };
    let (shop_id, token_id) =
        (relance::ids::ShopId::parse(&shop).unwrap(), relance::ids::ExternalId::parse(&token).unwrap());
    let name = ScheduleName::for_checkout(&shop_id, &token_id, 1);
    let stored = stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await.unwrap();
    assert_eq!(stored.schedule_expression(), Some(format!("at({})", at.format("%Y-%m-%dT%H:%M:%S")).as_str()));
    let input: Value = serde_json::from_str(stored.target().unwrap().input().unwrap()).unwrap();

    // Scheduler fires at `at` with the stored Input.
    clock.advance(at - started);
    assert!(matches!(handle(input, &deps).await.unwrap(), Outcome::Requested { step: 1, next: Some((2, _)) }));
    let rule = stack.targets.rule_for("send-mail", "MailRequests").expect("send-mail mail requests rule");
    let requests =
        receive_matching(&stack.sqs(), &rule.queue_url, |body| body["detail"]["shop"] == shop.as_str(), 1, 30)
            .await
            .unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["detail"]["step"], 1);
    assert_eq!(requests[0]["detail"]["checkout"], token.as_str());

    // Step 2 is armed under its own name; the order cancels it.
    let name = ScheduleName::for_checkout(&shop_id, &token_id, 2);
    assert!(stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await.is_ok());
    let mut order = sample("profile-update/order.placed");
    order["detail"]["shop"] = json!(shop);
    order["detail"]["payload"]["checkout_token"] = json!(token);
    order["detail"]["occurred_at"] = json!(relance::ports::Clock::now(clock.as_ref()));
    let outcome = handle(order, &deps).await.unwrap();
    assert_eq!(outcome, Outcome::OrderMail { program: "order-confirmation", disarmed: Some(true) });
    assert!(stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await.is_err());
}
