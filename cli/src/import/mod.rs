//! `relance import`: a shop's history as canonical events, through the generic API like its
//! own deliveries, each marked as history (no program starts, no mail goes). Every file is
//! read and checked before the first event is sent; bad rows are reported (`file:line`) and
//! skipped, an order with a bad row skipped whole. Event ids derive from what they state, so
//! a second import is taken as duplicates; a cursor beside the input lets an interrupted
//! import resume where the stack last acknowledged.

mod cells;
mod cursor;
mod customers;
mod event;
mod history;
mod orders;
pub mod shopify;
mod sink;
mod table;
pub mod woocommerce;

pub use cursor::{Cursor, CursorError, CursorFile, MemoryCursor};
pub use event::ImportEvent;
pub use sink::{ApiSink, EventSink, MAX_BATCH, MemorySink, Sent, SinkError};
pub use table::{BadRow, Format, Place, TableError};

use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::time::Duration;

/// Everything an import will send, read from its files before anything is sent.
#[derive(Debug, Clone)]
pub struct Plan {
    pub files: Vec<(PathBuf, Format)>,
    pub events: Vec<ImportEvent>,
    pub bad: Vec<BadRow>,
}

impl Plan {
    /// Reads `files` (each in `format`, or the format its header names). `now` stamps what
    /// an export states as current (a customers export's names).
    pub fn read(files: &[PathBuf], format: Option<Format>, now: DateTime<Utc>) -> Result<Plan, TableError> {
        let mut plan = Plan { files: Vec::new(), events: Vec::new(), bad: Vec::new() };
        for path in files {
            let table = table::Table::read(path, format)?;
            let (mut events, mut bad) = match table.format {
                Format::ShopifyOrders | Format::Orders => orders::events(&table),
                Format::ShopifyCustomers | Format::Customers => customers::events(&table, now),
            };
            plan.files.push((path.clone(), table.format));
            plan.events.append(&mut events);
            plan.bad.append(&mut bad);
        }
        Ok(plan)
    }

    /// A plan of events read from elsewhere than files (a platform's admin API).
    pub fn from_events(events: Vec<ImportEvent>, bad: Vec<BadRow>) -> Plan {
        Plan { files: Vec::new(), events, bad }
    }

    /// Identifies what the plan sends, in order: a cursor is valid for this plan only.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut digest = Sha256::new();
        for event in &self.events {
            digest.update(event.id.as_bytes());
            digest.update([0]);
        }
        digest.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// How fast to send: the stack absorbs bursts (webhook-ingest answers in milliseconds), but
/// profile-update's writes follow behind; a steady rate keeps the shop's live deliveries
/// unhurried while an import runs.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Events per second; `None` for as fast as the stack answers.
    pub per_second: Option<u32>,
    /// Attempts per batch the stack did not take, with doubling waits from `backoff`.
    pub attempts: u32,
    pub backoff: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { per_second: Some(200), attempts: 6, backoff: Duration::from_secs(1) }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub events: usize,
    /// Acknowledged by an earlier, interrupted run of the same import.
    pub resumed_from: usize,
    pub published: usize,
    pub duplicates: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the import stopped after {sent} of {total} events; run the same command again to resume")]
    Stopped {
        sent: usize,
        total: usize,
        #[source]
        cause: SinkError,
    },
    #[error(transparent)]
    Cursor(#[from] CursorError),
}

/// Sends `plan` through `sink` in batches, from where `cursor` says the stack last
/// acknowledged, advancing it after each batch; `progress` hears how many are done.
pub async fn run(
    plan: &Plan,
    sink: &dyn EventSink,
    cursor: &dyn Cursor,
    pace: Pace,
    progress: &mut dyn FnMut(usize),
) -> Result<Summary, ImportError> {
    let fingerprint = plan.fingerprint();
    let start = cursor.load(&fingerprint)?.min(plan.events.len());
    let mut summary = Summary { events: plan.events.len(), resumed_from: start, ..Summary::default() };
    let mut done = start;
    progress(done);
    for batch in plan.events[start..].chunks(MAX_BATCH) {
        let began = tokio::time::Instant::now();
        let sent = send_with_retries(sink, batch, pace).await.map_err(|cause| ImportError::Stopped {
            sent: done,
            total: plan.events.len(),
            cause,
        })?;
        summary.published += sent.published;
        summary.duplicates += sent.duplicates;
        done += batch.len();
        cursor.save(&fingerprint, done)?;
        progress(done);
        if let Some(rate) = pace.per_second.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(batch.len() as f64 / f64::from(rate));
            tokio::time::sleep_until(began + due).await;
        }
    }
    cursor.finish(&fingerprint)?;
    Ok(summary)
}

async fn send_with_retries(sink: &dyn EventSink, batch: &[ImportEvent], pace: Pace) -> Result<Sent, SinkError> {
    let mut wait = pace.backoff;
    let mut attempt = 1;
    loop {
        match sink.send(batch).await {
            Err(SinkError::Retry(_)) if attempt < pace.attempts => {
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests;
