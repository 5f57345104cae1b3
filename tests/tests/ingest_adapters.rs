//! webhook-ingest's adapters on the local stack: the DynamoDB delivery ledger, and the SQS
//! parking lot redriven onto the bus by the function's own redrive handler.

use async_trait::async_trait;
use chrono::{Duration, Utc};
use relance::aws::{DynamoLedger, EventBridgePublisher, SqsParkingLot};
use relance::bus::BusEvent;
use relance::ids::{EventId, ShopId};
use relance::ports::{Claim, DeliveryLedger, ParkingLot};
use relance_tests::dispatcher::Dispatcher;
use relance_tests::fixtures::bus_event;
use relance_tests::invoke::{InvokeError, Invoker};
use relance_tests::queues::receive_matching;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::test]
async fn the_ledger_lets_exactly_one_of_concurrent_duplicates_publish() {
    let stack = LocalStack::connect().await.unwrap();
    let table = stack.var("RELANCE_TABLE").unwrap();
    // One ledger per Lambda execution environment: each runs one request at a time.
    let environment = || Arc::new(DynamoLedger::new(stack.dynamodb(), table));
    let ledger = environment();
    let shop = ShopId::parse(unique("shop")).unwrap();
    let event = EventId::parse(unique("shopify:evt")).unwrap();
    let now = Utc::now();

    let claims = futures_join(&environment, &shop, &event, now, 8).await;
    assert_eq!(claims.iter().filter(|c| **c == Claim::Fresh).count(), 1, "{claims:?}");
    assert!(claims.iter().all(|c| matches!(c, Claim::Fresh | Claim::InFlight)));

    ledger.confirm(&shop, &event, now).await.unwrap();
    assert_eq!(ledger.claim(&shop, &event, now).await.unwrap(), Claim::Duplicate);
    ledger.release(&shop, &event).await.unwrap();
    assert_eq!(ledger.claim(&shop, &event, now).await.unwrap(), Claim::Duplicate, "release never undoes a publish");

    // A claim abandoned by a crashed attempt is taken over once stale; a released one at once.
    let (elsewhere, other) = (environment(), EventId::parse(unique("shopify:evt")).unwrap());
    assert_eq!(ledger.claim(&shop, &other, now).await.unwrap(), Claim::Fresh);
    assert_eq!(elsewhere.claim(&shop, &other, now + Duration::seconds(10)).await.unwrap(), Claim::InFlight);
    // Our own pending claim (its put applied, the answer lost, the SDK's retry finding it).
    assert_eq!(ledger.claim(&shop, &other, now + Duration::seconds(10)).await.unwrap(), Claim::Fresh);
    assert_eq!(elsewhere.claim(&shop, &other, now + Duration::seconds(120)).await.unwrap(), Claim::Fresh);
    elsewhere.release(&shop, &other).await.unwrap();
    assert_eq!(ledger.claim(&shop, &other, now + Duration::seconds(121)).await.unwrap(), Claim::Fresh);
}

async fn futures_join(
    environment: impl Fn() -> Arc<DynamoLedger>,
    shop: &ShopId,
    event: &EventId,
    now: chrono::DateTime<Utc>,
    n: usize,
) -> Vec<Claim> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (ledger, shop, event) = (environment(), shop.clone(), event.clone());
        tasks.spawn(async move { ledger.claim(&shop, &event, now).await.unwrap() });
    }
    tasks.join_all().await
}

/// Runs webhook-ingest's redrive handler in-process for SQS batches, publishing to the bus.
struct RedriveInvoker {
    publisher: EventBridgePublisher,
}

#[async_trait]
impl Invoker for RedriveInvoker {
    async fn invoke(&self, function: &str, payload: &Value) -> Result<Value, InvokeError> {
        if function != "webhook-ingest" || payload.get("Records").is_none() {
            // Other functions' events are not this test's business: acknowledge them.
            return Ok(Value::Null);
        }
        let batch = serde_json::from_value(payload.clone()).map_err(|e| InvokeError::Function {
            function: function.to_owned(),
            error: json!({ "errorMessage": e.to_string() }),
        })?;
        let response = webhook_ingest::redrive::redrive(batch, &self.publisher).await;
        Ok(serde_json::to_value(response).unwrap_or_default())
    }
}

#[tokio::test]
async fn parked_events_are_redriven_onto_the_bus_by_the_queue_source() {
    let stack = LocalStack::connect().await.unwrap();
    let parking = SqsParkingLot::new(stack.sqs(), stack.var("RELANCE_PARKING_QUEUE_URL").unwrap());
    let marker = unique("parked");
    let events: Vec<BusEvent> =
        (0..12).map(|n| bus_event("order.placed", json!({ "marker": marker, "n": n }))).collect();
    parking.park(&events).await.unwrap();

    let publisher =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&stack.sdk), stack.var("RELANCE_BUS").unwrap());
    let dispatcher =
        Dispatcher::new(stack.sqs(), stack.scheduler(), Arc::new(RedriveInvoker { publisher }), stack.targets.clone());
    // Only the queue sources: the rule queues are read below.
    let mut redriven = 0;
    for _ in 0..5 {
        redriven += dispatcher.drain_queue_sources().await.unwrap().events_delivered;
    }
    assert!(redriven >= 12, "{redriven}");

    let commerce = stack.targets.rule_for("profile-update", "Commerce").unwrap();
    let arrived =
        receive_matching(&stack.sqs(), &commerce.queue_url, |e| e["detail"]["marker"] == marker.as_str(), 12, 100)
            .await
            .unwrap();
    assert_eq!(arrived.len(), 12);
    assert!(arrived.iter().all(|e| e["detail-type"] == "order.placed"));
}
