//! The profile store in memory: one map per kind of item, as the table keeps them. It also
//! serves [`super::super::SegmentStore`] (its profiles, paged), as the DynamoDB table does.

use crate::ids::{ProfileId, ShopId};
use crate::ports::fake::lock;
use crate::ports::{ProfileStore, StoreError};
use crate::profile::{IdentityKey, Profile, Record, RecordKey, Version, Versioned};
use crate::segments::Summary;
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryProfileStore {
    pub(in crate::ports) items: Mutex<HashMap<(ShopId, ProfileId), Versioned<Profile>>>,
    pub(in crate::ports) identities: Mutex<HashMap<(ShopId, String), ProfileId>>,
    pub(in crate::ports) records: Mutex<BTreeMap<(ShopId, ProfileId, RecordKey), Versioned<Record>>>,
    pub(in crate::ports) summaries: Mutex<HashMap<ShopId, Summary>>,
    /// Shop erasures in progress ([`crate::ports::ShopEraser`]).
    pub(in crate::ports) erasures: Mutex<HashMap<ShopId, crate::ports::ErasureCursor>>,
    faults: Mutex<RecordFaults>,
}

/// What a test asks of the next record writes (`save_record`, `delete_record`), as
/// DynamoDB and the SDK give them.
#[derive(Default)]
struct RecordFaults {
    /// Writes let through before `refuse` starts.
    skip: u32,
    /// Refused (a throttle that outlasted the SDK's retries): nothing written.
    refuse: u32,
    /// Applied, then the answer lost: the SDK's retry of the same write gets the answer,
    /// which for a conditional write is a conflict with itself.
    lose_answer: u32,
}

fn take(counter: &mut u32) -> bool {
    let due = *counter > 0;
    *counter = counter.saturating_sub(1);
    due
}

impl MemoryProfileStore {
    /// After `after` record writes, the next `n` fail with a backend error, writing nothing.
    pub fn refuse_record_writes(&self, after: u32, n: u32) {
        let mut faults = lock(&self.faults);
        (faults.skip, faults.refuse) = (after, n);
    }

    /// The next `n` record writes are applied and their answer lost: the caller gets what
    /// the SDK's retry would (a conditional create: a conflict).
    pub fn lose_record_answers(&self, n: u32) {
        lock(&self.faults).lose_answer = n;
    }

    fn refused(&self) -> Result<(), StoreError> {
        let mut faults = lock(&self.faults);
        if take(&mut faults.skip) {
            return Ok(());
        }
        match take(&mut faults.refuse) {
            true => Err(StoreError::Backend("injected: ProvisionedThroughputExceededException".into())),
            false => Ok(()),
        }
    }

    fn write_record(
        &self,
        key: (ShopId, ProfileId, RecordKey),
        record: &Record,
        expected: Version,
    ) -> Result<Version, StoreError> {
        let mut records = lock(&self.records);
        let current = records.get(&key).map_or(Version::NEW, |v| v.version);
        if current != expected {
            return Err(StoreError::Conflict { expected });
        }
        let version = expected.next();
        records.insert(key, Versioned { value: record.clone(), version });
        Ok(version)
    }

    /// Every stored profile of a shop.
    pub fn profiles(&self, shop: &ShopId) -> Vec<Profile> {
        let mut profiles: Vec<Profile> =
            lock(&self.items).iter().filter(|((s, _), _)| s == shop).map(|(_, v)| v.value.clone()).collect();
        profiles.sort_by(|a, b| a.id.cmp(&b.id));
        profiles
    }
}

#[async_trait]
impl ProfileStore for MemoryProfileStore {
    async fn load(&self, shop: &ShopId, id: &ProfileId) -> Result<Option<Versioned<Profile>>, StoreError> {
        Ok(lock(&self.items).get(&(shop.clone(), id.clone())).cloned())
    }

    async fn save(&self, profile: &Profile, expected: Version) -> Result<Version, StoreError> {
        let mut items = lock(&self.items);
        let key = (profile.shop.clone(), profile.id.clone());
        let current = items.get(&key).map_or(Version::NEW, |v| v.version);
        if current != expected {
            return Err(StoreError::Conflict { expected });
        }
        let version = expected.next();
        items.insert(key, Versioned { value: profile.clone(), version });
        Ok(version)
    }

    async fn find_identity(&self, shop: &ShopId, key: &IdentityKey) -> Result<Option<ProfileId>, StoreError> {
        Ok(lock(&self.identities).get(&(shop.clone(), key.to_string())).cloned())
    }

    async fn claim_identity(
        &self,
        shop: &ShopId,
        key: &IdentityKey,
        profile: &ProfileId,
    ) -> Result<ProfileId, StoreError> {
        Ok(lock(&self.identities).entry((shop.clone(), key.to_string())).or_insert_with(|| profile.clone()).clone())
    }

    async fn move_identity(&self, shop: &ShopId, key: &IdentityKey, profile: &ProfileId) -> Result<(), StoreError> {
        lock(&self.identities).insert((shop.clone(), key.to_string()), profile.clone());
        Ok(())
    }

    async fn delete_profile(&self, shop: &ShopId, id: &ProfileId) -> Result<(), StoreError> {
        lock(&self.items).remove(&(shop.clone(), id.clone()));
        Ok(())
    }

    async fn delete_identity(&self, shop: &ShopId, key: &IdentityKey) -> Result<(), StoreError> {
        lock(&self.identities).remove(&(shop.clone(), key.to_string()));
        Ok(())
    }

    async fn load_record(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        key: &RecordKey,
    ) -> Result<Option<Versioned<Record>>, StoreError> {
        Ok(lock(&self.records).get(&(shop.clone(), profile.clone(), key.clone())).cloned())
    }

    async fn save_record(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        record: &Record,
        expected: Version,
    ) -> Result<Version, StoreError> {
        self.refused()?;
        let key = (shop.clone(), profile.clone(), record.key());
        let written = self.write_record(key.clone(), record, expected)?;
        if take(&mut lock(&self.faults).lose_answer) {
            return self.write_record(key, record, expected);
        }
        Ok(written)
    }

    async fn records(&self, shop: &ShopId, profile: &ProfileId) -> Result<Vec<Record>, StoreError> {
        let mut records: Vec<Record> = lock(&self.records)
            .iter()
            .filter(|((s, p, _), _)| s == shop && p == profile)
            .map(|(_, v)| v.value.clone())
            .collect();
        // The order of the keys as stored (text), as a DynamoDB query returns them.
        records.sort_by_cached_key(|r| r.key().to_string());
        Ok(records)
    }

    async fn delete_record(&self, shop: &ShopId, profile: &ProfileId, key: &RecordKey) -> Result<(), StoreError> {
        self.refused()?;
        lock(&self.records).remove(&(shop.clone(), profile.clone(), key.clone()));
        Ok(())
    }
}

impl MemoryProfileStore {
    /// The last nightly summary saved for a shop.
    pub fn summary(&self, shop: &ShopId) -> Option<Summary> {
        lock(&self.summaries).get(shop).cloned()
    }

    /// Every record of a shop, whoever it belongs to.
    pub fn shop_records(&self, shop: &ShopId) -> Vec<Record> {
        lock(&self.records).iter().filter(|((s, _, _), _)| s == shop).map(|(_, v)| v.value.clone()).collect()
    }

    /// Identity keys (as text) still mapped for a shop.
    pub fn identity_keys(&self, shop: &ShopId) -> Vec<String> {
        let mut keys: Vec<String> =
            lock(&self.identities).keys().filter(|(s, _)| s == shop).map(|(_, k)| k.clone()).collect();
        keys.sort();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[tokio::test]
    async fn memory_store_refuses_stale_writes_like_the_real_one() {
        let store = MemoryProfileStore::default();
        let now = Utc::now();
        let profile = Profile::new(ShopId::parse("s").unwrap(), ProfileId::parse("p").unwrap(), now);
        let v1 = store.save(&profile, Version::NEW).await.unwrap();
        assert!(matches!(store.save(&profile, Version::NEW).await, Err(StoreError::Conflict { .. })));
        let v2 = store.save(&profile, v1).await.unwrap();
        assert!(matches!(store.save(&profile, v1).await, Err(StoreError::Conflict { .. })));
        assert_eq!(store.load(&profile.shop, &profile.id).await.unwrap().unwrap().version, v2);
    }
}
