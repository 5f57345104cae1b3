//! Where an import sends its events: the port, an in-memory fake (which can be told to fail,
//! for the tests of an interrupted import), and the stack's generic API — the same signed,
//! de-duplicated path as a shop's own deliveries (docs/webhooks.md, "Generic API").

use super::event::ImportEvent;
use async_trait::async_trait;
use relance::signature::{Secret, sign_timestamped};
use std::collections::HashSet;
use std::sync::Mutex;

/// The generic API's batch limit.
pub const MAX_BATCH: usize = 100;

/// What the stack said of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub published: usize,
    /// Already taken (a second import, a resumed one): nothing happens twice.
    pub duplicates: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Throttled, busy, unreachable, or no answer: the same batch may be sent again.
    #[error("the stack did not take the batch ({0}); it can be sent again")]
    Retry(String),
    /// Refused for good (signature, shape, size): sending it again changes nothing.
    #[error("the stack refused the batch with {status}: {reason}")]
    Refused { status: u16, reason: String },
}

#[async_trait]
pub trait EventSink: Send + Sync {
    async fn send(&self, batch: &[ImportEvent]) -> Result<Sent, SinkError>;
}

/// In memory: every event id taken once, like the stack's ledger.
#[derive(Debug, Default)]
pub struct MemorySink {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    taken: Vec<ImportEvent>,
    ids: HashSet<String>,
    batches: usize,
    /// Batches still answered before every later one fails with `Retry` (an outage).
    fail_after: Option<usize>,
}

impl MemorySink {
    /// A sink that takes `batches` batches, then fails every one after.
    pub fn failing_after(batches: usize) -> Self {
        let sink = Self::default();
        sink.state.lock().unwrap().fail_after = Some(batches);
        sink
    }

    /// Ends the outage.
    pub fn recover(&self) {
        self.state.lock().unwrap().fail_after = None;
    }

    /// Every event taken, in the order taken, each once.
    pub fn taken(&self) -> Vec<ImportEvent> {
        self.state.lock().unwrap().taken.clone()
    }

    pub fn batches(&self) -> usize {
        self.state.lock().unwrap().batches
    }
}

#[async_trait]
impl EventSink for MemorySink {
    async fn send(&self, batch: &[ImportEvent]) -> Result<Sent, SinkError> {
        let mut state = self.state.lock().unwrap();
        if state.fail_after.is_some_and(|n| state.batches >= n) {
            return Err(SinkError::Retry("503 from the fake".into()));
        }
        state.batches += 1;
        let mut sent = Sent::default();
        for event in batch {
            if state.ids.insert(event.id.clone()) {
                state.taken.push(event.clone());
                sent.published += 1;
            } else {
                sent.duplicates += 1;
            }
        }
        Ok(sent)
    }
}

/// `POST <WebhookUrl>v1/events`, signed with the shop's API secret.
pub struct ApiSink {
    client: reqwest::Client,
    url: String,
    shop: String,
    secret: Secret,
}

impl ApiSink {
    /// `base` is the stack's `WebhookUrl` (ending in `/`).
    pub fn new(base: &str, shop: &str, secret: Secret) -> Self {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("a client without custom TLS roots builds");
        let url = format!("{}/v1/events", base.trim_end_matches('/'));
        Self { client, url, shop: shop.to_owned(), secret }
    }
}

#[derive(serde::Serialize)]
struct Batch<'a> {
    events: &'a [ImportEvent],
}

#[async_trait]
impl EventSink for ApiSink {
    async fn send(&self, batch: &[ImportEvent]) -> Result<Sent, SinkError> {
        let body = serde_json::to_vec(&Batch { events: batch }).expect("events serialise");
        let signature = sign_timestamped(&self.secret, &body, chrono::Utc::now());
        let answer = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-relance-shop", &self.shop)
            .header("x-relance-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| SinkError::Retry(relance::failure::chain(&e)))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| SinkError::Retry(relance::failure::chain(&e)))?;
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status.is_success() {
            let count = |key: &str| json["result"][key].as_u64().unwrap_or(0) as usize;
            return Ok(Sent { published: count("published") + count("parked"), duplicates: count("duplicates") });
        }
        let reason = json["error"].as_str().map(str::to_owned).unwrap_or(text);
        match status.as_u16() {
            408 | 409 | 429 | 500..=599 => Err(SinkError::Retry(format!("{status}: {reason}"))),
            code => Err(SinkError::Refused { status: code, reason }),
        }
    }
}
