//! The delivery ledger: which webhook deliveries were published.

use super::BackendError;
use crate::failure::{Classify, Retry};
use crate::ids::{EventId, ShopId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryLedger;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("delivery ledger unavailable")]
    Backend(#[source] BackendError),
}

impl Classify for LedgerError {
    fn retry(&self) -> Retry {
        Retry::Transient
    }
}

/// What the ledger says about a delivery we are about to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time seen (or an earlier attempt was abandoned): publish it.
    Fresh,
    /// Already published: answer 2xx and publish nothing.
    Duplicate,
    /// Another request is publishing it right now (concurrent duplicate): answer 2xx; if that
    /// request fails it answers 5xx and the platform retries.
    InFlight,
}

/// Remembers which deliveries were published, so a redelivery publishes nothing.
///
/// A claim is taken before publishing and confirmed after: a crash between the two leaves a
/// pending claim that expires ([`DeliveryLedger::claim`] takes over stale ones), so a
/// delivery is never marked done without having been published.
#[async_trait]
pub trait DeliveryLedger: Send + Sync {
    async fn claim(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<Claim, LedgerError>;
    async fn confirm(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<(), LedgerError>;
    /// Gives a claim back after a failed publish, so the platform's retry publishes.
    async fn release(&self, shop: &ShopId, event: &EventId) -> Result<(), LedgerError>;
}
