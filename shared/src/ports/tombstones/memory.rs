//! Tombstones in memory.

use crate::ids::ShopId;
use crate::ports::fake::lock;
use crate::ports::{StoreError, TombstoneKey, Tombstones};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// `(shop, key) → (erased at, expires at)`.
type Graves = BTreeMap<(ShopId, TombstoneKey), (DateTime<Utc>, DateTime<Utc>)>;

#[derive(Default)]
pub struct MemoryTombstones {
    graves: Mutex<Graves>,
}

impl MemoryTombstones {
    /// Every tombstone of a shop, for tests that look for traces.
    pub fn keys(&self, shop: &ShopId) -> Vec<TombstoneKey> {
        lock(&self.graves).keys().filter(|(s, _)| s == shop).map(|(_, k)| k.clone()).collect()
    }
}

#[async_trait]
impl Tombstones for MemoryTombstones {
    async fn bury(
        &self,
        shop: &ShopId,
        keys: &[TombstoneKey],
        erased_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut graves = lock(&self.graves);
        for key in keys {
            let grave = graves.entry((shop.clone(), key.clone())).or_insert((erased_at, expires_at));
            if erased_at > grave.0 {
                *grave = (erased_at, expires_at);
            }
        }
        Ok(())
    }

    async fn erased_at(
        &self,
        shop: &ShopId,
        keys: &[TombstoneKey],
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let graves = lock(&self.graves);
        Ok(keys
            .iter()
            .filter_map(|key| graves.get(&(shop.clone(), key.clone())))
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(erased_at, _)| *erased_at)
            .max())
    }
}
