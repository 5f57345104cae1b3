//! The memory store, counting each call as the DynamoDB request the adapter makes for it
//! (one request per call: GetItem, PutItem, DeleteItem or Query), and the bytes of the
//! profiles it writes (DynamoDB bills a write per KB): for the benchmarks of requests per event.

use super::MemoryProfileStore;
use crate::ids::{ProfileId, ShopId};
use crate::ports::{ProfileStore, StoreError};
use crate::profile::{IdentityKey, Profile, Record, RecordKey, Version, Versioned};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The memory store, counting calls by the DynamoDB request each one is.
#[derive(Default)]
pub struct CountingProfileStore {
    pub inner: MemoryProfileStore,
    /// Profile PutItems, and their write units (1 per KB started), summed.
    profile_writes: Mutex<(u64, u64)>,
    calls: Mutex<BTreeMap<&'static str, u32>>,
}

impl CountingProfileStore {
    fn count(&self, request: &'static str) {
        *self.calls.lock().unwrap().entry(request).or_default() += 1;
    }

    /// The profile PutItems so far, and their write units (1 per KB started).
    pub fn profile_writes(&self) -> (u64, u64) {
        *self.profile_writes.lock().unwrap()
    }

    /// The calls since the last take, by request.
    pub fn take(&self) -> BTreeMap<&'static str, u32> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

#[async_trait]
impl ProfileStore for CountingProfileStore {
    async fn load(&self, shop: &ShopId, id: &ProfileId) -> Result<Option<Versioned<Profile>>, StoreError> {
        self.count("GetItem");
        self.inner.load(shop, id).await
    }
    async fn save(&self, profile: &Profile, expected: Version) -> Result<Version, StoreError> {
        self.count("PutItem");
        let bytes = serde_json::to_vec(profile).map(|b| b.len() as u64).unwrap_or(0);
        {
            let mut writes = self.profile_writes.lock().unwrap();
            *writes = (writes.0 + 1, writes.1 + bytes.div_ceil(1024).max(1));
        }
        self.inner.save(profile, expected).await
    }
    async fn find_identity(&self, shop: &ShopId, key: &IdentityKey) -> Result<Option<ProfileId>, StoreError> {
        self.count("GetItem");
        self.inner.find_identity(shop, key).await
    }
    async fn claim_identity(
        &self,
        shop: &ShopId,
        key: &IdentityKey,
        profile: &ProfileId,
    ) -> Result<ProfileId, StoreError> {
        self.count("PutItem");
        self.inner.claim_identity(shop, key, profile).await
    }
    async fn move_identity(&self, shop: &ShopId, key: &IdentityKey, profile: &ProfileId) -> Result<(), StoreError> {
        self.count("PutItem");
        self.inner.move_identity(shop, key, profile).await
    }
    async fn delete_profile(&self, shop: &ShopId, id: &ProfileId) -> Result<(), StoreError> {
        self.count("DeleteItem");
        self.inner.delete_profile(shop, id).await
    }
    async fn delete_identity(&self, shop: &ShopId, key: &IdentityKey) -> Result<(), StoreError> {
        self.count("DeleteItem");
        self.inner.delete_identity(shop, key).await
    }
    async fn load_record(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        key: &RecordKey,
    ) -> Result<Option<Versioned<Record>>, StoreError> {
        self.count("GetItem");
        self.inner.load_record(shop, profile, key).await
    }
    async fn save_record(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        record: &Record,
        expected: Version,
    ) -> Result<Version, StoreError> {
        self.count("PutItem");
        self.inner.save_record(shop, profile, record, expected).await
    }
    async fn records(&self, shop: &ShopId, profile: &ProfileId) -> Result<Vec<Record>, StoreError> {
        self.count("Query");
        self.inner.records(shop, profile).await
    }
    async fn delete_record(&self, shop: &ShopId, profile: &ProfileId, key: &RecordKey) -> Result<(), StoreError> {
        self.count("DeleteItem");
        self.inner.delete_record(shop, profile, key).await
    }
}
