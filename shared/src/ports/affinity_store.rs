//! The shop's table of products bought together.

use super::StoreError;
use crate::ids::{ExternalId, ShopId};
use crate::programs::affinity::ProductAffinity;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryAffinityStore;

/// The shop's table of products bought together ([`ProductAffinity`]), one entry
/// per product: the nightly run writes it, the affinity program reads the entries of an
/// order's products.
#[async_trait]
pub trait AffinityStore: Send + Sync {
    /// Writes the entries (an entry not rewritten for a few nights expires).
    async fn save_affinities(
        &self,
        shop: &ShopId,
        entries: &[ProductAffinity],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The entries of these products, those that exist.
    async fn load_affinities(&self, shop: &ShopId, products: &[ExternalId])
    -> Result<Vec<ProductAffinity>, StoreError>;
}
