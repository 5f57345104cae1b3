//! Publishing on the template's bus reaches the rule's target (its local mirror queue).

use relance::aws::EventBridgePublisher;
use relance::bus::{BusEvent, SOURCE_INGEST};
use relance::ports::EventPublisher;
use relance_tests::fixtures::bus_event;
use relance_tests::queues::receive_matching;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::{Value, json};

async fn receive_ours(stack: &LocalStack, queue_url: &str, marker: &str, expected: usize, polls: u32) -> Vec<Value> {
    receive_matching(&stack.sqs(), queue_url, |body| body["detail"]["marker"] == marker, expected, polls).await.unwrap()
}

#[tokio::test]
async fn a_published_event_arrives_at_the_rule_target_with_its_envelope() {
    let stack = LocalStack::connect().await.unwrap();
    let bus = stack.var("RELANCE_BUS").unwrap().to_owned();
    let publisher = EventBridgePublisher::new(aws_sdk_eventbridge_client(&stack), &bus);
    let marker = unique("marker");
    // 12 events: more than one PutEvents batch of 10.
    let events: Vec<BusEvent> =
        (0..12).map(|i| bus_event("order.placed", json!({ "marker": marker, "n": i }))).collect();

    publisher.publish(&events).await.unwrap();

    let rule = stack.targets.rule_for("profile-update", "Commerce").expect("profile-update commerce rule");
    let received = receive_ours(&stack, &rule.queue_url, &marker, 12, 100).await;
    assert_eq!(received.len(), 12);
    let mut ns: Vec<i64> = received.iter().map(|e| e["detail"]["n"].as_i64().unwrap()).collect();
    ns.sort_unstable();
    assert_eq!(ns, (0..12).collect::<Vec<_>>());
    let envelope = &received[0];
    assert_eq!(envelope["source"], SOURCE_INGEST);
    assert_eq!(envelope["detail-type"], "order.placed");
    assert!(envelope["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(envelope["time"].as_str().is_some());
}

#[tokio::test]
async fn events_outside_a_rule_pattern_do_not_reach_its_target() {
    let stack = LocalStack::connect().await.unwrap();
    let publisher = EventBridgePublisher::new(aws_sdk_eventbridge_client(&stack), stack.var("RELANCE_BUS").unwrap());
    let marker = unique("marker");
    let event = |detail_type: &str| bus_event(detail_type, json!({ "marker": marker }));

    publisher.publish(&[event("cart.updated"), event("checkout.started")]).await.unwrap();

    let rule = stack.targets.rule_for("cart-abandon-timer", "Checkouts").expect("timer checkouts rule");
    // moto routes during PutEvents: once the queue shows nothing more, a wrongly routed
    // event would have been seen.
    let received = receive_ours(&stack, &rule.queue_url, &marker, 2, 100).await;
    let types: Vec<&str> = received.iter().map(|e| e["detail-type"].as_str().unwrap()).collect();
    assert_eq!(types, ["checkout.started"]);
}

fn aws_sdk_eventbridge_client(stack: &LocalStack) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(&stack.sdk)
}
