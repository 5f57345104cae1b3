//! The local dispatcher on the local stack: real queues, rules and schedules on moto; the
//! function invocation is recorded in-process so each test can decide what a function does.

use async_trait::async_trait;
use chrono::{Duration, SubsecRound, Utc};
use relance::aws::EventBridgePublisher;
use relance::bus::{BusEvent, SOURCE_INGEST};
use relance::ports::{EventPublisher, Scheduler};
use relance::schedule::{OneTimeSchedule, ScheduleName};
use relance_tests::dispatcher::Dispatcher;
use relance_tests::fixtures::bus_event;
use relance_tests::invoke::{InvokeError, Invoker};
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The dispatcher drains every queue and group: tests in this file take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Records invocations; fails those whose payload mentions `fail_marker`.
#[derive(Default)]
struct RecordingInvoker {
    calls: Mutex<Vec<(String, Value)>>,
    fail_marker: Option<String>,
}

impl RecordingInvoker {
    fn calls_with(&self, marker: &str) -> Vec<(String, Value)> {
        let calls = self.calls.lock().unwrap();
        calls.iter().filter(|(_, payload)| payload.to_string().contains(marker)).cloned().collect()
    }
}

#[async_trait]
impl Invoker for RecordingInvoker {
    async fn invoke(&self, function: &str, payload: &Value) -> Result<Value, InvokeError> {
        self.calls.lock().unwrap().push((function.to_owned(), payload.clone()));
        match &self.fail_marker {
            Some(marker) if payload.to_string().contains(marker.as_str()) => Err(InvokeError::Function {
                function: function.to_owned(),
                error: json!({ "errorType": "Boom", "errorMessage": "test failure" }),
            }),
            _ => Ok(Value::Null),
        }
    }
}

fn dispatcher(stack: &LocalStack, invoker: Arc<RecordingInvoker>) -> Dispatcher {
    Dispatcher::new(stack.sqs(), stack.scheduler(), invoker, stack.targets.clone())
}

fn event(detail_type: &str, marker: &str) -> BusEvent {
    bus_event(detail_type, json!({ "marker": marker }))
}

async fn publish(stack: &LocalStack, events: &[BusEvent]) {
    let client = aws_sdk_eventbridge::Client::new(&stack.sdk);
    EventBridgePublisher::new(client, stack.var("RELANCE_BUS").unwrap()).publish(events).await.unwrap();
}

#[tokio::test]
async fn bus_events_reach_every_matching_function_with_the_eventbridge_envelope() {
    let _turn = SERIAL.lock().await;
    let stack = LocalStack::connect().await.unwrap();
    let invoker = Arc::new(RecordingInvoker::default());
    let marker = unique("m");

    publish(&stack, &[event("checkout.started", &marker)]).await;
    let report = dispatcher(&stack, invoker.clone()).run_until_idle(Utc::now()).await.unwrap();

    let mut functions: Vec<String> = invoker.calls_with(&marker).into_iter().map(|(f, _)| f).collect();
    functions.sort();
    // Commerce rule → profile-update; Checkouts rule → cart-abandon-timer.
    assert_eq!(functions, ["cart-abandon-timer", "profile-update"]);
    let (_, envelope) = &invoker.calls_with(&marker)[0];
    assert_eq!(envelope["detail-type"], "checkout.started");
    assert_eq!(envelope["source"], SOURCE_INGEST);
    assert_eq!(envelope["account"], "123456789012");
    assert_eq!(envelope["detail"]["marker"], marker.as_str());
    assert!(report.events_delivered >= 2);

    // Delivered events are gone from the queues: a second pass delivers nothing of ours.
    let again = Arc::new(RecordingInvoker::default());
    dispatcher(&stack, again.clone()).run_until_idle(Utc::now()).await.unwrap();
    assert!(again.calls_with(&marker).is_empty());
}

#[tokio::test]
async fn a_failing_function_is_retried_then_its_event_goes_to_the_on_failure_queue() {
    let _turn = SERIAL.lock().await;
    let stack = LocalStack::connect().await.unwrap();
    let marker = unique("fail");
    let invoker = Arc::new(RecordingInvoker { fail_marker: Some(marker.clone()), ..Default::default() });

    publish(&stack, &[event("order.delivered", &marker)]).await;
    let report = dispatcher(&stack, invoker.clone()).run_until_idle(Utc::now()).await.unwrap();

    let function = stack.targets.function_by_binary("profile-update").unwrap();
    // order.delivered also reaches cart-abandon-timer (the programs' trigger): count
    // profile-update's attempts.
    let attempts = invoker.calls_with(&marker).iter().filter(|(f, _)| f == "profile-update").count() as u32;
    assert_eq!(attempts, 1 + function.maximum_retry_attempts, "first try plus the configured retries");
    assert!(report.dead_lettered >= 1);

    let queue = function.on_failure_queue_url.as_deref().expect("profile-update has an on-failure queue");
    let mut records = Vec::new();
    for _ in 0..5 {
        let out = stack.sqs().receive_message().queue_url(queue).max_number_of_messages(10).send().await.unwrap();
        for message in out.messages.unwrap_or_default() {
            let record: Value = serde_json::from_str(message.body().unwrap_or_default()).unwrap();
            if record.to_string().contains(&marker) {
                records.push(record);
            }
        }
        if !records.is_empty() {
            break;
        }
    }
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(records[0]["requestPayload"]["detail"]["marker"], marker.as_str());
    assert_eq!(records[0]["responsePayload"]["errorType"], "Boom");
}

#[tokio::test]
async fn a_due_schedule_fires_once_with_its_input_and_is_deleted() {
    let _turn = SERIAL.lock().await;
    let stack = LocalStack::connect().await.unwrap();
    let group = stack.var("RELANCE_SCHEDULE_GROUP").unwrap().to_owned();
    let scheduler = stack.timer_scheduler().unwrap();
    let marker = unique("sched");
    let at = Utc::now().trunc_subsecs(0) + Duration::hours(1);
    let name = ScheduleName::parse(unique("cart")).unwrap();
    scheduler.upsert(&OneTimeSchedule { name: name.clone(), at, payload: json!({ "marker": marker }) }).await.unwrap();
    let invoker = Arc::new(RecordingInvoker::default());
    let dispatcher = dispatcher(&stack, invoker.clone());

    dispatcher.run_until_idle(at - Duration::seconds(1)).await.unwrap();
    assert!(invoker.calls_with(&marker).is_empty(), "not due yet");

    dispatcher.run_until_idle(at).await.unwrap();
    dispatcher.run_until_idle(at + Duration::minutes(5)).await.unwrap();
    let calls = invoker.calls_with(&marker);
    assert_eq!(calls.len(), 1, "fired exactly once");
    assert_eq!(calls[0].0, "cart-abandon-timer");
    assert_eq!(calls[0].1, json!({ "marker": marker }), "the schedule's input is the payload");
    let gone = stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await;
    assert!(gone.is_err(), "ActionAfterCompletion=DELETE removed it");
}
