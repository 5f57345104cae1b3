//! The local dispatcher: drains each rule's mirror queue and fires due one-time schedules,
//! invoking the target function the way AWS would.
//!
//! Failure handling follows AWS's asynchronous invocation model:
//! - the function runs and fails → retried `MaximumRetryAttempts` times (its
//!   `EventInvokeConfig`), then a Lambda destination record goes to its on-failure queue;
//! - the function cannot be reached → retried (a few times locally, instead of
//!   EventBridge's 24 h), then the event goes to the rule's or schedule's dead-letter queue.
//!
//! Time is passed in, so tests and the demo decide when schedules are due.

use crate::invoke::{InvokeError, Invoker};
use crate::targets::{FunctionTarget, Targets};
use aws_sdk_scheduler::types::ActionAfterCompletion;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Local stand-in for EventBridge's and Scheduler's delivery retries (185 over 24 h on
/// AWS): enough to ride out a function being rebuilt by `cargo lambda watch`.
const DELIVERY_ATTEMPTS: u32 = 3;
/// Bound on dispatch rounds in [`Dispatcher::run_until_idle`], so a function that keeps
/// emitting events cannot spin forever.
const MAX_ROUNDS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("SQS call failed")]
    Sqs(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("Scheduler call failed")]
    Scheduler(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("{0} names no function of the template")]
    UnknownFunction(String),
    #[error("schedule {name}: cannot read expression {expression:?}")]
    Expression { name: String, expression: String },
    #[error("undeliverable and no dead-letter queue to hold it")]
    Undeliverable(#[source] InvokeError),
    #[error("still dispatching after {MAX_ROUNDS} rounds: a loop of events?")]
    NoQuiescence,
}

fn sqs_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> DispatchError {
    DispatchError::Sqs(Box::new(e))
}

fn scheduler_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> DispatchError {
    DispatchError::Scheduler(Box::new(e))
}

/// What a dispatch pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub events_delivered: usize,
    pub schedules_fired: usize,
    /// Invocations that failed and were retried.
    pub retries: usize,
    /// Events or schedule inputs handed to an on-failure or dead-letter queue.
    pub dead_lettered: usize,
}

impl Report {
    fn is_idle(&self) -> bool {
        self.events_delivered == 0 && self.schedules_fired == 0 && self.dead_lettered == 0
    }

    fn add(&mut self, other: Report) {
        self.events_delivered += other.events_delivered;
        self.schedules_fired += other.schedules_fired;
        self.retries += other.retries;
        self.dead_lettered += other.dead_lettered;
    }
}

/// How one delivery ended.
enum Outcome {
    Delivered,
    /// Function errors exhausted its retries; the destination record was sent.
    FunctionFailed,
    Unreachable(InvokeError),
}

pub struct Dispatcher {
    sqs: aws_sdk_sqs::Client,
    scheduler: aws_sdk_scheduler::Client,
    invoker: Arc<dyn Invoker>,
    targets: Targets,
    /// One-time schedules kept after firing (`ActionAfterCompletion=NONE`) fire once.
    fired: Mutex<HashSet<(String, String)>>,
}

impl Dispatcher {
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        scheduler: aws_sdk_scheduler::Client,
        invoker: Arc<dyn Invoker>,
        targets: Targets,
    ) -> Self {
        Self { sqs, scheduler, invoker, targets, fired: Mutex::default() }
    }

    /// Dispatches until nothing is left to do at `now`: events published by a function
    /// are delivered in the same call.
    pub async fn run_until_idle(&self, now: DateTime<Utc>) -> Result<Report, DispatchError> {
        let mut total = Report::default();
        for _ in 0..MAX_ROUNDS {
            let mut round = self.drain_rules().await?;
            round.add(self.drain_queue_sources().await?);
            round.add(self.fire_due_schedules(now).await?);
            total.add(round);
            if round.is_idle() {
                return Ok(total);
            }
        }
        Err(DispatchError::NoQuiescence)
    }

    /// One pass over every rule's mirror queue, until each is empty.
    pub async fn drain_rules(&self) -> Result<Report, DispatchError> {
        let mut report = Report::default();
        for rule in &self.targets.rules {
            let function = self
                .targets
                .function_by_binary(&rule.function)
                .ok_or_else(|| DispatchError::UnknownFunction(rule.function.clone()))?;
            loop {
                let messages = self.receive(&rule.queue_url, 10).await?;
                if messages.is_empty() {
                    break;
                }
                for message in messages {
                    let body = message.body.unwrap_or_default();
                    // moto delivers the full EventBridge envelope as the message body.
                    let mut envelope: Value = serde_json::from_str(&body).unwrap_or(Value::String(body.clone()));
                    complete_envelope(&mut envelope, &function.arn);
                    match self.deliver(function, &envelope, &mut report).await {
                        Outcome::Delivered => report.events_delivered += 1,
                        Outcome::FunctionFailed => report.dead_lettered += 1,
                        Outcome::Unreachable(error) => {
                            let Some(dlq) = &rule.dead_letter_queue_url else { return Err(unreachable_error(error)) };
                            self.send_to(dlq, &envelope, &error).await?;
                            report.dead_lettered += 1;
                        }
                    }
                    self.delete(&rule.queue_url, message.receipt_handle).await?;
                }
            }
        }
        Ok(report)
    }

    /// One pass over every SQS event source: each visible batch is handed to its function
    /// as Lambda's poller would. Messages the function reports as failed (or all of them,
    /// if it fails) stay on the queue for the visibility timeout, then come back; the
    /// queue's redrive policy moves repeat failures to its dead-letter queue.
    pub async fn drain_queue_sources(&self) -> Result<Report, DispatchError> {
        let mut report = Report::default();
        for source in &self.targets.queue_sources {
            let messages = self.receive(&source.queue_url, source.batch_size).await?;
            if messages.is_empty() {
                continue;
            }
            let arn = format!(
                "arn:aws:sqs:us-east-1:123456789012:{}",
                source.queue_url.rsplit('/').next().unwrap_or_default()
            );
            let records: Vec<Value> = messages
                .iter()
                .map(|m| {
                    json!({
                        "messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                        "attributes": {}, "messageAttributes": {}, "md5OfBody": m.md5_of_body,
                        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1",
                    })
                })
                .collect();
            let failed: HashSet<String> =
                match self.invoker.invoke(&source.function, &json!({ "Records": records })).await {
                    Ok(response) if source.report_batch_item_failures => response["batchItemFailures"]
                        .as_array()
                        .map(|items| {
                            items.iter().filter_map(|i| i["itemIdentifier"].as_str().map(str::to_owned)).collect()
                        })
                        .unwrap_or_default(),
                    Ok(_) => HashSet::new(),
                    Err(error) => {
                        tracing::warn!(source = %source.source, %error, "batch failed; messages stay on the queue");
                        report.retries += messages.len();
                        continue;
                    }
                };
            for message in messages {
                let id = message.message_id.unwrap_or_default();
                if failed.contains(&id) {
                    report.retries += 1;
                    continue;
                }
                self.delete(&source.queue_url, message.receipt_handle).await?;
                report.events_delivered += 1;
            }
        }
        Ok(report)
    }

    /// Fires every one-time schedule due at `now`, honouring `ActionAfterCompletion`.
    pub async fn fire_due_schedules(&self, now: DateTime<Utc>) -> Result<Report, DispatchError> {
        let mut report = Report::default();
        for group in &self.targets.schedule_groups {
            let mut pages = self.scheduler.list_schedules().group_name(group).into_paginator().send();
            let mut names = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(scheduler_error)?;
                names.extend(page.schedules.into_iter().filter_map(|s| s.name));
            }
            for name in names {
                if self.fire_if_due(group, &name, now, &mut report).await? {
                    report.schedules_fired += 1;
                }
            }
        }
        Ok(report)
    }

    async fn fire_if_due(
        &self,
        group: &str,
        name: &str,
        now: DateTime<Utc>,
        report: &mut Report,
    ) -> Result<bool, DispatchError> {
        let key = (group.to_owned(), name.to_owned());
        if self.fired.lock().unwrap_or_else(|p| p.into_inner()).contains(&key) {
            return Ok(false);
        }
        let schedule =
            self.scheduler.get_schedule().group_name(group).name(name).send().await.map_err(scheduler_error)?;
        let expression = schedule.schedule_expression.unwrap_or_default();
        let Some(due) = parse_at(&expression, schedule.schedule_expression_timezone.as_deref()) else {
            // rate()/cron() schedules (the nightly run) are started by hand locally.
            if expression.starts_with("at(") {
                return Err(DispatchError::Expression { name: name.to_owned(), expression });
            }
            return Ok(false);
        };
        if due > now {
            return Ok(false);
        }
        let Some(target) = schedule.target else { return Ok(false) };
        let input = target.input.unwrap_or_else(|| "{}".to_owned());
        let payload: Value = serde_json::from_str(&input).unwrap_or(Value::String(input));
        let outcome = match self.targets.function_by_arn(&target.arn) {
            Some(function) => self.deliver(function, &payload, report).await,
            None => Outcome::Unreachable(InvokeError::Unreachable {
                function: target.arn.clone(),
                source: "no such function".into(),
            }),
        };
        match outcome {
            Outcome::Delivered => {}
            Outcome::FunctionFailed => report.dead_lettered += 1,
            Outcome::Unreachable(error) => {
                let dlq = target.dead_letter_config.and_then(|d| d.arn);
                let Some(dlq) = dlq else { return Err(unreachable_error(error)) };
                let url = self.queue_url_of(&dlq).await?;
                self.send_to(&url, &payload, &error).await?;
                report.dead_lettered += 1;
            }
        }
        if schedule.action_after_completion == Some(ActionAfterCompletion::Delete) {
            self.scheduler.delete_schedule().group_name(group).name(name).send().await.map_err(scheduler_error)?;
        } else {
            self.fired.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
        }
        Ok(true)
    }

    /// Invokes with Lambda's asynchronous retry behaviour.
    async fn deliver(&self, function: &FunctionTarget, payload: &Value, report: &mut Report) -> Outcome {
        let mut unreachable_tries = 0;
        let mut function_tries = 0;
        loop {
            match self.invoker.invoke(&function.binary, payload).await {
                Ok(_) => return Outcome::Delivered,
                Err(InvokeError::Function { error, .. }) => {
                    function_tries += 1;
                    tracing::warn!(function = %function.binary, attempt = function_tries, %error, "function failed");
                    if function_tries > function.maximum_retry_attempts {
                        return match self.send_destination_record(function, payload, &error, function_tries).await {
                            Ok(()) => Outcome::FunctionFailed,
                            Err(e) => Outcome::Unreachable(InvokeError::Unreachable {
                                function: function.binary.clone(),
                                source: Box::new(e),
                            }),
                        };
                    }
                }
                Err(error @ InvokeError::Unreachable { .. }) => {
                    unreachable_tries += 1;
                    if unreachable_tries >= DELIVERY_ATTEMPTS {
                        return Outcome::Unreachable(error);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(unreachable_tries))).await;
                }
            }
            report.retries += 1;
        }
    }

    /// Lambda's destination record for a failed asynchronous invocation.
    async fn send_destination_record(
        &self,
        function: &FunctionTarget,
        payload: &Value,
        error: &Value,
        attempts: u32,
    ) -> Result<(), DispatchError> {
        let Some(queue) = &function.on_failure_queue_url else {
            tracing::error!(function = %function.binary, "failed with no on-failure destination: event discarded, as Lambda would");
            return Ok(());
        };
        let record = json!({
            "version": "1.0",
            "timestamp": Utc::now().to_rfc3339(),
            "requestContext": {
                "functionArn": format!("{}:$LATEST", function.arn),
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": payload,
            "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
            "responsePayload": error,
        });
        self.sqs.send_message().queue_url(queue).message_body(record.to_string()).send().await.map_err(sqs_error)?;
        Ok(())
    }

    /// An undeliverable event, as EventBridge and Scheduler put it on a dead-letter queue.
    async fn send_to(&self, queue_url: &str, body: &Value, error: &InvokeError) -> Result<(), DispatchError> {
        let attribute = |value: String| {
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(sqs_error)
        };
        self.sqs
            .send_message()
            .queue_url(queue_url)
            .message_body(body.to_string())
            .message_attributes("ERROR_CODE", attribute("InvocationFailed".to_owned())?)
            .message_attributes("ERROR_MESSAGE", attribute(error.to_string())?)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(())
    }

    /// What is visible on the queue now (no long polling: the dispatcher loops itself).
    async fn receive(&self, queue_url: &str, at_most: i32) -> Result<Vec<aws_sdk_sqs::types::Message>, DispatchError> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(at_most.clamp(1, 10))
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(received.messages.unwrap_or_default())
    }

    async fn delete(&self, queue_url: &str, receipt_handle: Option<String>) -> Result<(), DispatchError> {
        if let Some(handle) = receipt_handle {
            self.sqs.delete_message().queue_url(queue_url).receipt_handle(handle).send().await.map_err(sqs_error)?;
        }
        Ok(())
    }

    async fn queue_url_of(&self, arn: &str) -> Result<String, DispatchError> {
        let name = arn.rsplit(':').next().unwrap_or(arn);
        let output = self.sqs.get_queue_url().queue_name(name).send().await.map_err(sqs_error)?;
        Ok(output.queue_url.unwrap_or_default())
    }
}

fn unreachable_error(error: InvokeError) -> DispatchError {
    DispatchError::Undeliverable(error)
}

/// moto's envelope lacks EventBridge's `account` field; AWS always sets it (the account
/// of the bus), so we add it from the target's ARN for functions to see the real shape.
fn complete_envelope(envelope: &mut Value, function_arn: &str) {
    if let Some(fields) = envelope.as_object_mut() {
        let account = function_arn.split(':').nth(4).unwrap_or_default();
        fields.entry("account").or_insert_with(|| Value::String(account.to_owned()));
    }
}

/// Reads Scheduler's `at(yyyy-mm-ddThh:mm:ss)` in its time zone (UTC by default).
pub fn parse_at(expression: &str, zone: Option<&str>) -> Option<DateTime<Utc>> {
    let inner = expression.strip_prefix("at(")?.strip_suffix(')')?;
    let local = NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S").ok()?;
    let zone: chrono_tz::Tz = zone.unwrap_or("UTC").parse().ok()?;
    zone.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_expressions_are_read_in_their_zone() {
        let utc = parse_at("at(2026-11-23T20:00:00)", None).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-11-23T20:00:00+00:00");
        let paris = parse_at("at(2026-11-23T20:00:00)", Some("Europe/Paris")).unwrap();
        assert_eq!(paris.to_rfc3339(), "2026-11-23T19:00:00+00:00");
        assert_eq!(parse_at("rate(1 day)", None), None);
        assert_eq!(parse_at("at(2026-11-23 20:00)", None), None);
    }
}
