//! SQS's part: Lambda's poller over the event-source queues, destination records, dead
//! letters, and the receive and delete calls every drain makes.

use super::{DispatchError, Dispatcher, Report, sqs_error};
use crate::invoke::InvokeError;
use crate::targets::FunctionTarget;
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::HashSet;

impl Dispatcher {
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

    /// Lambda's destination record for a failed asynchronous invocation.
    pub(super) async fn send_destination_record(
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
    pub(super) async fn send_to(
        &self,
        queue_url: &str,
        body: &Value,
        error: &InvokeError,
    ) -> Result<(), DispatchError> {
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
    pub(super) async fn receive(
        &self,
        queue_url: &str,
        at_most: i32,
    ) -> Result<Vec<aws_sdk_sqs::types::Message>, DispatchError> {
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

    pub(super) async fn delete(&self, queue_url: &str, receipt_handle: Option<String>) -> Result<(), DispatchError> {
        if let Some(handle) = receipt_handle {
            self.sqs.delete_message().queue_url(queue_url).receipt_handle(handle).send().await.map_err(sqs_error)?;
        }
        Ok(())
    }

    pub(super) async fn queue_url_of(&self, arn: &str) -> Result<String, DispatchError> {
        let name = arn.rsplit(':').next().unwrap_or(arn);
        let output = self.sqs.get_queue_url().queue_name(name).send().await.map_err(sqs_error)?;
        Ok(output.queue_url.unwrap_or_default())
    }
}
