//! The delivery ledger in memory.

use crate::ids::{EventId, ShopId};
use crate::ports::fake::lock;
use crate::ports::{Claim, DeliveryLedger, LedgerError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// The ledger in memory: `pending` claims older than `stale_after` can be taken over.
/// `(shop, event) → (done, claimed or confirmed at)`.
type LedgerEntries = HashMap<(ShopId, EventId), (bool, DateTime<Utc>)>;

pub struct MemoryLedger {
    entries: Mutex<LedgerEntries>,
    stale_after: chrono::Duration,
}

impl Default for MemoryLedger {
    fn default() -> Self {
        Self { entries: Mutex::default(), stale_after: chrono::Duration::seconds(60) }
    }
}

#[async_trait]
impl DeliveryLedger for MemoryLedger {
    async fn claim(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<Claim, LedgerError> {
        let mut entries = lock(&self.entries);
        let key = (shop.clone(), event.clone());
        match entries.get(&key) {
            Some((true, _)) => Ok(Claim::Duplicate),
            Some((false, at)) if now - *at < self.stale_after => Ok(Claim::InFlight),
            _ => {
                entries.insert(key, (false, now));
                Ok(Claim::Fresh)
            }
        }
    }

    async fn confirm(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<(), LedgerError> {
        lock(&self.entries).insert((shop.clone(), event.clone()), (true, now));
        Ok(())
    }

    async fn release(&self, shop: &ShopId, event: &EventId) -> Result<(), LedgerError> {
        let mut entries = lock(&self.entries);
        if matches!(entries.get(&(shop.clone(), event.clone())), Some((false, _))) {
            entries.remove(&(shop.clone(), event.clone()));
        }
        Ok(())
    }
}
