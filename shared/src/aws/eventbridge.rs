//! Publishing to the EventBridge bus.
//!
//! SPECS: EventBridge — PutEvents takes at most 10 entries and may accept some and refuse
//! others (`FailedEntryCount`); the refused ones are resent, with backoff, a bounded number
//! of times. Whatever still fails is an error, so the caller can answer 5xx (and be retried)
//! instead of dropping an accepted event.

use super::boxed;
use crate::bus::{BusEvent, MAX_ENTRY_BYTES};
use crate::ports::{EventPublisher, PublishError};
use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_smithy_types::DateTime as SmithyDateTime;
use futures_util::stream::{self, StreamExt};
use std::time::Duration;

const BATCH: usize = 10;
/// PutEvents calls at once: a few, far under the regional PutEvents quota (requests per
/// second per account, adjustable), which the functions share.
const IN_FLIGHT: usize = 8;
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into() }
    }

    fn entry(&self, event: &BusEvent) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&event.source)
            .detail_type(&event.detail_type)
            .detail(event.detail.to_string())
            .time(SmithyDateTime::from_millis(event.time.timestamp_millis()))
            .build()
    }

    /// Sends one batch, resending refused entries; returns how many stayed refused and
    /// the last refusal's reason.
    async fn send_batch(
        &self,
        mut pending: Vec<PutEventsRequestEntry>,
    ) -> Result<Option<(usize, String)>, PublishError> {
        let mut backoff = FIRST_BACKOFF;
        let mut last_error = None;
        for attempt in 1..=ATTEMPTS {
            let output = self
                .client
                .put_events()
                .set_entries(Some(pending.clone()))
                .send()
                .await
                .map_err(|e| PublishError::Backend(boxed(e)))?;
            if output.failed_entry_count == 0 {
                return Ok(None);
            }
            // Result entries are in request order; a refused one carries an error code.
            let results = output.entries.unwrap_or_default();
            let mut refused = Vec::new();
            for (entry, result) in pending.into_iter().zip(results) {
                if let Some(code) = result.error_code {
                    last_error = Some(format!("{code}: {}", result.error_message.unwrap_or_default()));
                    refused.push(entry);
                }
            }
            tracing::warn!(attempt, refused = refused.len(), "bus refused entries; resending");
            pending = refused;
            if pending.is_empty() {
                return Ok(None);
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        Ok(Some((pending.len(), last_error.unwrap_or_default())))
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    #[tracing::instrument(skip_all, fields(events = events.len()))]
    async fn publish(&self, events: &[BusEvent]) -> Result<(), PublishError> {
        if let Some((index, size)) =
            events.iter().map(BusEvent::entry_size).enumerate().find(|(_, size)| *size > MAX_ENTRY_BYTES)
        {
            return Err(PublishError::TooLarge { index, size });
        }
        // Batches go IN_FLIGHT at a time: a night's transitions are tens of thousands of
        // events, one round trip per ten of them.
        let batches: Vec<Vec<PutEventsRequestEntry>> =
            events.chunks(BATCH).map(|chunk| chunk.iter().map(|e| self.entry(e)).collect()).collect();
        let outcomes: Vec<Result<Option<(usize, String)>, PublishError>> =
            stream::iter(batches).map(|batch| self.send_batch(batch)).buffered(IN_FLIGHT).collect().await;
        let mut failed = 0;
        let mut first_error = None;
        for outcome in outcomes {
            if let Some((count, reason)) = outcome? {
                failed += count;
                first_error.get_or_insert(reason);
            }
        }
        match first_error {
            None => Ok(()),
            Some(first_error) => Err(PublishError::Rejected { failed, total: events.len(), first_error }),
        }
    }
}
