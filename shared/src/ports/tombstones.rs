//! Erasures remembered without personal data, so that a late event of an erased person
//! (an order that happened before the erasure, delivered after it) does not file them again.

use super::StoreError;
use crate::ids::ShopId;
use crate::profile::IdentityKey;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt;

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryTombstones;

/// An erased identity key as a tombstone names it: SHA-256 over the shop and the key's
/// text, in hex. The key itself (an e-mail, a customer id) is never stored; the hash lets
/// the same key, seen again on a late event, find its tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TombstoneKey(String);

impl TombstoneKey {
    pub fn of(shop: &ShopId, key: &IdentityKey) -> Self {
        use sha2::{Digest, Sha256};
        let mut digest = Sha256::new();
        digest.update(shop.as_str().as_bytes());
        digest.update([0]);
        digest.update(key.to_string().as_bytes());
        Self(digest.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TombstoneKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[async_trait]
pub trait Tombstones: Send + Sync {
    /// Records that `keys` were erased at `erased_at`. A key erased twice keeps the later
    /// time, so a redelivered or reordered erasure changes nothing. The store may forget a
    /// tombstone after `expires_at`.
    async fn bury(
        &self,
        shop: &ShopId,
        keys: &[TombstoneKey],
        erased_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The latest erasure of any of `keys` that has not expired by `now` (TTL deletes late:
    /// SPECS: DynamoDB).
    async fn erased_at(
        &self,
        shop: &ShopId,
        keys: &[TombstoneKey],
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
}
