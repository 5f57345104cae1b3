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
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, PutEventsResultEntry};
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
            let (refused, reason) = refused(pending, output.entries.unwrap_or_default());
            last_error = reason.or(last_error);
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

/// The entries of a PutEvents answer that reported failures (`FailedEntryCount > 0`) to
/// send again, and the reason of the last refusal. Result entries are in request order and a
/// refused one carries an error code; an answer that does not account for every entry (no
/// `Entries`, or fewer than were sent) says nothing of the ones it leaves out, so they are
/// resent too — a duplicate on the bus is absorbed by its consumers (every event has its id),
/// a dropped event is not.
fn refused(
    pending: Vec<PutEventsRequestEntry>,
    results: Vec<PutEventsResultEntry>,
) -> (Vec<PutEventsRequestEntry>, Option<String>) {
    let mut last_error = None;
    let mut results = results.into_iter();
    let mut refused = Vec::new();
    for entry in pending {
        match results.next() {
            Some(result) => {
                if let Some(code) = result.error_code {
                    last_error = Some(format!("{code}: {}", result.error_message.unwrap_or_default()));
                    refused.push(entry);
                }
            }
            None => {
                last_error.get_or_insert_with(|| "the answer does not say which entries failed".to_owned());
                refused.push(entry);
            }
        }
    }
    (refused, last_error)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<PutEventsRequestEntry> {
        (0..n).map(|i| PutEventsRequestEntry::builder().detail(format!("{{\"n\":{i}}}")).build()).collect()
    }

    #[test]
    fn an_answer_that_reports_failures_without_entries_resends_the_whole_batch() {
        let (again, reason) = refused(entries(3), Vec::new());
        assert_eq!(again, entries(3));
        assert_eq!(reason.as_deref(), Some("the answer does not say which entries failed"));
    }

    #[test]
    fn only_the_refused_entries_and_those_the_answer_leaves_out_are_resent() {
        let ok = PutEventsResultEntry::builder().event_id("e0").build();
        let throttled =
            PutEventsResultEntry::builder().error_code("ThrottlingException").error_message("Rate exceeded").build();
        let (again, reason) = refused(entries(4), vec![ok, throttled]);
        assert_eq!(again, entries(4)[1..].to_vec());
        assert_eq!(reason.as_deref(), Some("ThrottlingException: Rate exceeded"));
        let (again, _) = refused(entries(2), vec![PutEventsResultEntry::builder().event_id("e").build(); 2]);
        assert!(again.is_empty());
    }
}
