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

mod redrive;
mod schedules;
mod sqs;

pub use redrive::Redriven;

pub use schedules::parse_at;

use crate::invoke::{InvokeError, Invoker};
use crate::targets::{FunctionTarget, Targets};
use chrono::{DateTime, Utc};
use serde_json::Value;
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
