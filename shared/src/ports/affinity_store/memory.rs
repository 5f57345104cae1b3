//! The affinity table in memory.

use crate::ids::{ExternalId, ShopId};
use crate::ports::fake::lock;
use crate::ports::{AffinityStore, StoreError};
use crate::programs::affinity::ProductAffinity;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryAffinityStore {
    table: Mutex<BTreeMap<(ShopId, ExternalId), ProductAffinity>>,
}

#[async_trait]
impl AffinityStore for MemoryAffinityStore {
    async fn save_affinities(
        &self,
        shop: &ShopId,
        entries: &[ProductAffinity],
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut table = lock(&self.table);
        for entry in entries {
            table.insert((shop.clone(), entry.product.clone()), entry.clone());
        }
        Ok(())
    }

    async fn load_affinities(
        &self,
        shop: &ShopId,
        products: &[ExternalId],
    ) -> Result<Vec<ProductAffinity>, StoreError> {
        let table = lock(&self.table);
        Ok(products.iter().filter_map(|p| table.get(&(shop.clone(), p.clone())).cloned()).collect())
    }
}
