//! Redriving parked events: the parking queue is an SQS event source of this function.
//! Each message holds one bus entry; the ones the bus still refuses are reported as batch
//! item failures, so SQS retries them and, after the queue's maxReceiveCount, moves them to
//! its dead-letter queue — never dropped.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use relance::bus::BusEvent;
use relance::ports::EventPublisher;

pub async fn redrive(event: SqsEvent, publisher: &dyn EventPublisher) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let entry: Result<BusEvent, _> = serde_json::from_str(message.body.as_deref().unwrap_or_default());
        let failure: Option<Box<dyn std::error::Error + Send + Sync>> = match entry {
            Ok(entry) => publisher.publish(std::slice::from_ref(&entry)).await.err().map(Into::into),
            Err(e) => Some(Box::new(e)),
        };
        if let Some(error) = failure {
            let error = relance::failure::chain(error.as_ref());
            tracing::error!(message = %id, %error, "redrive failed (a message that is no bus entry never will be); SQS will retry");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
