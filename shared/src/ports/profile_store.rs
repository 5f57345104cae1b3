//! Where profiles, their identity keys and their records are kept.

use super::BackendError;
use crate::failure::{Classify, Retry};
use crate::ids::{ProfileId, ShopId};
use crate::profile::{IdentityKey, Profile, Record, RecordKey, Version, Versioned};
use async_trait::async_trait;

#[cfg(any(test, feature = "fakes"))]
mod counting;
#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use counting::CountingProfileStore;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryProfileStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer changed the item since it was read: re-read, re-apply, retry.
    #[error("profile was changed concurrently (expected version {expected:?})")]
    Conflict { expected: Version },
    /// The profile outgrew one item (SPECS: DynamoDB, 400 KB): a limit to raise an alarm on.
    #[error("profile item would be {size} bytes, over the {limit}-byte item limit")]
    TooLarge { size: usize, limit: usize },
    #[error("stored item is not a valid {entity}")]
    Corrupt {
        entity: &'static str,
        #[source]
        source: BackendError,
    },
    #[error("profile store unavailable")]
    Backend(#[source] BackendError),
}

impl Classify for StoreError {
    fn retry(&self) -> Retry {
        match self {
            StoreError::Conflict { .. } | StoreError::Backend(_) => Retry::Transient,
            StoreError::TooLarge { .. } | StoreError::Corrupt { .. } => Retry::Permanent,
        }
    }
}

#[async_trait]
pub trait ProfileStore: Send + Sync {
    async fn load(&self, shop: &ShopId, id: &ProfileId) -> Result<Option<Versioned<Profile>>, StoreError>;

    /// Writes `profile` only if the stored version is still `expected` ([`Version::NEW`]:
    /// only if absent). Returns the version now stored.
    async fn save(&self, profile: &Profile, expected: Version) -> Result<Version, StoreError>;

    /// The profile an identity key belongs to.
    async fn find_identity(&self, shop: &ShopId, key: &IdentityKey) -> Result<Option<ProfileId>, StoreError>;

    /// Points `key` at `profile` unless it already points elsewhere; returns the owner.
    async fn claim_identity(
        &self,
        shop: &ShopId,
        key: &IdentityKey,
        profile: &ProfileId,
    ) -> Result<ProfileId, StoreError>;

    /// Points `key` at `profile` whatever it pointed at (after a merge).
    async fn move_identity(&self, shop: &ShopId, key: &IdentityKey, profile: &ProfileId) -> Result<(), StoreError>;

    /// Deletes the profile item (after it was merged into another, or on erasure).
    async fn delete_profile(&self, shop: &ShopId, id: &ProfileId) -> Result<(), StoreError>;

    /// Deletes an identity-map item (erasure).
    async fn delete_identity(&self, shop: &ShopId, key: &IdentityKey) -> Result<(), StoreError>;

    /// One record of a customer ([`crate::profile::records`]). The store deletes expired
    /// records eventually, never on time (SPECS: DynamoDB): readers that care compare
    /// [`Record::expires_at`] with their clock.
    async fn load_record(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        key: &RecordKey,
    ) -> Result<Option<Versioned<Record>>, StoreError>;

    /// Writes a record only if the stored version is still `expected`, like [`Self::save`].
    async fn save_record(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        record: &Record,
        expected: Version,
    ) -> Result<Version, StoreError>;

    /// Every record of a customer, in key order (export, merge, erasure).
    async fn records(&self, shop: &ShopId, profile: &ProfileId) -> Result<Vec<Record>, StoreError>;

    async fn delete_record(&self, shop: &ShopId, profile: &ProfileId, key: &RecordKey) -> Result<(), StoreError>;
}
