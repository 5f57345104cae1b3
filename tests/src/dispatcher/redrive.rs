//! Redrive: what an operator does once an incident is over (SQS's "start DLQ redrive", or a
//! Lambda destination record re-invoked): each message of a function's on-failure queue or
//! a rule's dead-letter queue goes back to its function, with the same retries as the
//! first delivery. What fails again is dead-lettered again and counted.

use super::{DispatchError, Dispatcher, Outcome, Report};
use serde_json::Value;
use std::collections::BTreeSet;

/// What a redrive did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Redriven {
    /// Messages taken from a queue and delivered again.
    pub redriven: usize,
    /// Of those, how many failed again (back in a queue).
    pub failed_again: usize,
}

impl Dispatcher {
    /// Redrives the messages whose body `keep` selects (a test's shop: other tests' messages
    /// stay where they are).
    pub async fn redrive(&self, keep: impl Fn(&str) -> bool) -> Result<Redriven, DispatchError> {
        let mut done = Redriven::default();
        let mut report = Report::default();
        let mut queues: Vec<(String, String, bool)> = Vec::new();
        for function in &self.targets.functions {
            if let Some(queue) = &function.on_failure_queue_url {
                queues.push((queue.clone(), function.binary.clone(), true));
            }
        }
        for rule in &self.targets.rules {
            if let Some(queue) = &rule.dead_letter_queue_url {
                queues.push((queue.clone(), rule.function.clone(), false));
            }
        }
        let mut seen = BTreeSet::new();
        for (queue, binary, destination_record) in queues {
            loop {
                let messages = self.receive(&queue, 10).await?;
                let fresh: Vec<_> = messages
                    .into_iter()
                    .filter(|m| m.message_id.as_ref().is_none_or(|id| seen.insert(id.clone())))
                    .collect();
                if fresh.is_empty() {
                    break;
                }
                for message in fresh {
                    let body = message.body.clone().unwrap_or_default();
                    if !keep(&body) {
                        continue;
                    }
                    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    // A destination record names its function and carries the event; a
                    // dead-letter message is the event itself.
                    let (function, payload) = if destination_record {
                        let arn = parsed["requestContext"]["functionArn"].as_str().unwrap_or_default();
                        let arn = arn.trim_end_matches(":$LATEST");
                        let function =
                            self.targets.function_by_arn(arn).map(|f| f.binary.clone()).unwrap_or(binary.clone());
                        (function, parsed["requestPayload"].clone())
                    } else {
                        (binary.clone(), parsed)
                    };
                    let target = self
                        .targets
                        .function_by_binary(&function)
                        .ok_or_else(|| DispatchError::UnknownFunction(function.clone()))?
                        .clone();
                    self.delete(&queue, message.receipt_handle).await?;
                    done.redriven += 1;
                    match self.deliver(&target, &payload, &mut report).await {
                        Outcome::Delivered => {}
                        Outcome::FunctionFailed => done.failed_again += 1,
                        Outcome::Unreachable(error) => {
                            self.send_to(&queue, &payload, &error).await?;
                            done.failed_again += 1;
                        }
                    }
                }
            }
        }
        Ok(done)
    }
}
