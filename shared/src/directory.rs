//! The shops a running function serves, kept current. The functions read the shops
//! document at cold start; an instance then lives for hours, and a shop added meanwhile
//! (`relance shops add`) would be refused by it — WooCommerce, which never retries, would
//! lose those deliveries and disable its webhooks after five. So the document is read again:
//!
//! - every [`REFRESH`] at most, when an invocation asks for it ([`Directory::current`]), so a
//!   changed secret (a rotation, a new shop's settings) reaches every function within minutes;
//! - when webhook-ingest meets a shop it does not know ([`Directory::reload_for_unknown`]),
//!   at most once per [`UNKNOWN_GAP`]: strangers who post made-up shop ids cost at most one
//!   read of the secret per instance per gap.
//!
//! A read that fails keeps the document already held (logged): a flaky secret never stops
//! the shops already served. Time is passed in.

use crate::ports::ShopsSource;
use crate::shops::Shops;
use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

/// How old the held document may get before an invocation reads it again.
pub const REFRESH: Duration = Duration::minutes(5);

/// The least time between two reads for shops the document does not know.
pub const UNKNOWN_GAP: Duration = Duration::seconds(30);

struct Held {
    shops: Arc<Shops>,
    /// When the document was last read (or a read last tried).
    read_at: DateTime<Utc>,
    /// When a read for an unknown shop was last tried.
    unknown_at: Option<DateTime<Utc>>,
}

pub struct Directory {
    source: Option<Arc<dyn ShopsSource>>,
    held: Mutex<Held>,
}

impl Directory {
    /// The document read at cold start (`at`), read again from `source` as described above.
    pub fn new(shops: Shops, at: DateTime<Utc>, source: Arc<dyn ShopsSource>) -> Self {
        Self { source: Some(source), held: Mutex::new(Held { shops: Arc::new(shops), read_at: at, unknown_at: None }) }
    }

    /// A document that is never read again (tests, and functions that read no shop).
    pub fn fixed(shops: Shops) -> Self {
        Self {
            source: None,
            held: Mutex::new(Held { shops: Arc::new(shops), read_at: DateTime::<Utc>::MAX_UTC, unknown_at: None }),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The document held now, without reading.
    pub fn snapshot(&self) -> Arc<Shops> {
        self.held().shops.clone()
    }

    /// The document, read again first when it is older than [`REFRESH`].
    pub async fn current(&self, now: DateTime<Utc>) -> Arc<Shops> {
        let due = {
            let mut held = self.held();
            let due = self.source.is_some() && now - held.read_at >= REFRESH;
            if due {
                // Concurrent invocations of one instance read once.
                held.read_at = now;
            }
            due
        };
        if due {
            self.read("refresh").await;
        }
        self.snapshot()
    }

    /// For a shop the held document does not know: reads the document again, unless a
    /// read for an unknown shop was tried less than [`UNKNOWN_GAP`] ago. The document
    /// read, or `None` when it was not read.
    pub async fn reload_for_unknown(&self, now: DateTime<Utc>) -> Option<Arc<Shops>> {
        {
            let mut held = self.held();
            if self.source.is_none() || held.unknown_at.is_some_and(|at| now - at < UNKNOWN_GAP) {
                return None;
            }
            held.unknown_at = Some(now);
            held.read_at = now;
        }
        self.read("unknown shop").await.then(|| self.snapshot())
    }

    /// What `pick` finds in the [`current`](Self::current) document; on a miss, what it
    /// finds after [`reload_for_unknown`](Self::reload_for_unknown).
    pub async fn find<T>(&self, now: DateTime<Utc>, pick: impl Fn(&Shops) -> Option<T>) -> Option<T> {
        if let Some(found) = pick(&*self.current(now).await) {
            return Some(found);
        }
        pick(&*self.reload_for_unknown(now).await?)
    }

    /// The document to handle an input about `shop` (its id as the input names it, if it
    /// names one): the [`current`](Self::current) one, read again when it does not know the shop.
    pub async fn for_shop(&self, now: DateTime<Utc>, shop: Option<&str>) -> Arc<Shops> {
        let current = self.current(now).await;
        let known = |shops: &Shops| {
            shop.and_then(|id| crate::ids::ShopId::parse(id).ok()).is_none_or(|id| shops.get(&id).is_some())
        };
        if known(&current) {
            return current;
        }
        self.reload_for_unknown(now).await.unwrap_or(current)
    }

    /// Reads the document; keeps the one held when the read fails. True when read.
    async fn read(&self, why: &'static str) -> bool {
        let Some(source) = &self.source else { return false };
        match source.load().await {
            Ok(shops) => {
                tracing::info!(shops = shops.len(), why, "shops document read again");
                self.held().shops = Arc::new(shops);
                true
            }
            Err(error) => {
                tracing::warn!(why, error = %crate::failure::chain(&error), "shops document not read again; keeping the one held");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests;
