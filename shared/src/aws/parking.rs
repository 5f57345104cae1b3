//! Parking accepted events on SQS when the bus refuses them; webhook-ingest's SQS event
//! source redrives them onto the bus (SPECS: WooCommerce webhooks — it never retries).

use super::boxed;
use crate::bus::BusEvent;
use crate::ports::{ParkingError, ParkingLot};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

pub struct SqsParkingLot {
    client: Client,
    queue_url: String,
}

impl SqsParkingLot {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl ParkingLot for SqsParkingLot {
    async fn park(&self, events: &[BusEvent]) -> Result<(), ParkingError> {
        // SendMessageBatch takes at most 10 entries.
        for chunk in events.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, event)| {
                    let body = serde_json::to_string(event).map_err(|e| ParkingError::Backend(boxed(e)))?;
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| ParkingError::Backend(boxed(e)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| ParkingError::Backend(boxed(e)))?;
            if let Some(failed) = output.failed.first() {
                let reason = format!("{}: {}", failed.code, failed.message.as_deref().unwrap_or_default());
                return Err(ParkingError::Backend(reason.into()));
            }
        }
        Ok(())
    }
}
