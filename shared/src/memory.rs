//! In-memory implementations of the ports, for fast unit tests of the domain. Each adapter
//! on AWS has its own tests against the local stack; these fakes never replace those.

use crate::bus::BusEvent;
use crate::ids::{EventId, ProfileId, ShopId};
use crate::mail::{OutgoingMail, SentMail};
use crate::ports::{
    AffinityStore, Claim, Clock, DeliveryLedger, EventPublisher, LedgerError, Mailer, MailerError, ParkingError,
    ParkingLot, ProfilePage, ProfileStore, PublishError, RunStore, ScheduleError, Scheduler, SegmentStore, Shard,
    StoreError,
};
use crate::profile::{IdentityKey, Profile, Record, RecordKey, Version, Versioned};
use crate::schedule::{OneTimeSchedule, ScheduleName};
use crate::segments::SegmentState;
use crate::segments::nightly::Summary;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

/// A poisoned lock only means another test thread panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Default)]
pub struct MemoryProfileStore {
    items: Mutex<HashMap<(ShopId, ProfileId), Versioned<Profile>>>,
    identities: Mutex<HashMap<(ShopId, String), ProfileId>>,
    records: Mutex<BTreeMap<(ShopId, ProfileId, RecordKey), Versioned<Record>>>,
    summaries: Mutex<HashMap<ShopId, Summary>>,
    affinities: Mutex<BTreeMap<(ShopId, crate::ids::ExternalId), crate::programs::affinity::ProductAffinity>>,
    parts: Mutex<BTreeMap<(String, String), Vec<u8>>>,
    finished: Mutex<BTreeMap<(String, String), BTreeSet<u32>>>,
}

#[async_trait]
impl AffinityStore for MemoryProfileStore {
    async fn save_affinities(
        &self,
        shop: &ShopId,
        entries: &[crate::programs::affinity::ProductAffinity],
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut table = lock(&self.affinities);
        for entry in entries {
            table.insert((shop.clone(), entry.product.clone()), entry.clone());
        }
        Ok(())
    }

    async fn load_affinities(
        &self,
        shop: &ShopId,
        products: &[crate::ids::ExternalId],
    ) -> Result<Vec<crate::programs::affinity::ProductAffinity>, StoreError> {
        let table = lock(&self.affinities);
        Ok(products.iter().filter_map(|p| table.get(&(shop.clone(), p.clone())).cloned()).collect())
    }
}

/// Pages of this many profiles, so callers exercise paging.
const PAGE: usize = 50;

#[async_trait]
impl SegmentStore for MemoryProfileStore {
    async fn profiles_page(&self, shop: &ShopId, cursor: Option<String>) -> Result<ProfilePage, StoreError> {
        let items = lock(&self.items);
        let mut ids: Vec<&ProfileId> = items.keys().filter(|(s, _)| s == shop).map(|(_, id)| id).collect();
        ids.sort();
        let start = cursor.as_deref().map_or(0, |after| ids.partition_point(|id| id.as_str() <= after));
        let page: Vec<Versioned<Profile>> =
            ids[start..].iter().take(PAGE).map(|id| items[&(shop.clone(), (*id).clone())].clone()).collect();
        let next = (start + PAGE < ids.len()).then(|| page.last().map(|p| p.value.id.to_string())).flatten();
        Ok(ProfilePage { profiles: page, next })
    }

    async fn members_page(
        &self,
        shop: &ShopId,
        segment: crate::segments::Segment,
        cursor: Option<String>,
    ) -> Result<ProfilePage, StoreError> {
        let items = lock(&self.items);
        let mut members: Vec<&Versioned<Profile>> = items
            .iter()
            .filter(|((s, _), p)| s == shop && p.value.segment.and_then(|st| st.segment) == Some(segment))
            .map(|(_, p)| p)
            .collect();
        members.sort_by(|a, b| a.value.id.cmp(&b.value.id));
        let start = cursor.as_deref().map_or(0, |after| members.partition_point(|p| p.value.id.as_str() <= after));
        let page: Vec<Versioned<Profile>> = members[start..].iter().take(PAGE).map(|p| (*p).clone()).collect();
        let next = (start + PAGE < members.len()).then(|| page.last().map(|p| p.value.id.to_string())).flatten();
        Ok(ProfilePage { profiles: page, next })
    }

    async fn set_segment(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        expected: Version,
        state: &SegmentState,
    ) -> Result<Version, StoreError> {
        let mut items = lock(&self.items);
        let Some(stored) = items.get_mut(&(shop.clone(), profile.clone())) else {
            return Err(StoreError::Conflict { expected });
        };
        if stored.version != expected {
            return Err(StoreError::Conflict { expected });
        }
        stored.value.segment = Some(*state);
        stored.version = expected.next();
        Ok(stored.version)
    }

    async fn save_summary(&self, shop: &ShopId, summary: &Summary) -> Result<(), StoreError> {
        lock(&self.summaries).insert(shop.clone(), summary.clone());
        Ok(())
    }

    /// Profiles fall in shards by a hash of their key, as DynamoDB's segments do.
    async fn shard_page(&self, shard: Shard, cursor: Option<String>) -> Result<ProfilePage, StoreError> {
        use sha2::{Digest, Sha256};
        let items = lock(&self.items);
        let in_shard = |shop: &ShopId, id: &ProfileId| {
            let digest = Sha256::digest(format!("{shop}/{id}").as_bytes());
            u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % shard.of.max(1) == shard.index
        };
        let mut keys: Vec<String> =
            items.keys().filter(|(s, id)| in_shard(s, id)).map(|(s, id)| format!("{s}/{id}")).collect();
        keys.sort();
        let start = cursor.as_deref().map_or(0, |after| keys.partition_point(|k| k.as_str() <= after));
        let page: Vec<Versioned<Profile>> = keys[start..]
            .iter()
            .take(PAGE)
            .filter_map(|k| items.values().find(|p| format!("{}/{}", p.value.shop, p.value.id) == *k).cloned())
            .collect();
        let next = (start + PAGE < keys.len()).then(|| keys[start + PAGE - 1].clone());
        Ok(ProfilePage { profiles: page, next })
    }
}

#[async_trait]
impl RunStore for MemoryProfileStore {
    async fn put_part(
        &self,
        run: &str,
        name: &str,
        bytes: &[u8],
        _expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        lock(&self.parts).insert((run.to_owned(), name.to_owned()), bytes.to_vec());
        Ok(())
    }

    async fn parts(&self, run: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(lock(&self.parts)
            .iter()
            .filter(|((r, name), _)| r == run && name.starts_with(prefix))
            .map(|((_, name), bytes)| (name.clone(), bytes.clone()))
            .collect())
    }

    async fn finish(&self, run: &str, phase: &str, shard: u32, _expires_at: DateTime<Utc>) -> Result<u32, StoreError> {
        let mut finished = lock(&self.finished);
        let shards = finished.entry((run.to_owned(), phase.to_owned())).or_default();
        shards.insert(shard);
        Ok(u32::try_from(shards.len()).unwrap_or(u32::MAX))
    }
}

impl MemoryProfileStore {
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

    async fn erase_shop(&self, shop: &ShopId) -> Result<usize, StoreError> {
        let mut items = lock(&self.items);
        let mut identities = lock(&self.identities);
        let mut records = lock(&self.records);
        let before = items.len() + identities.len() + records.len();
        items.retain(|(s, _), _| s != shop);
        identities.retain(|(s, _), _| s != shop);
        records.retain(|(s, _, _), _| s != shop);
        Ok(before - items.len() - identities.len() - records.len())
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
        let mut records = lock(&self.records);
        let key = (shop.clone(), profile.clone(), record.key());
        let current = records.get(&key).map_or(Version::NEW, |v| v.version);
        if current != expected {
            return Err(StoreError::Conflict { expected });
        }
        let version = expected.next();
        records.insert(key, Versioned { value: record.clone(), version });
        Ok(version)
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

/// Records every published event in order; can be told to refuse, like a bus outage.
#[derive(Default)]
pub struct RecordingPublisher {
    events: Mutex<Vec<BusEvent>>,
    failing: std::sync::atomic::AtomicBool,
}

impl RecordingPublisher {
    pub fn events(&self) -> Vec<BusEvent> {
        lock(&self.events).clone()
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[BusEvent]) -> Result<(), PublishError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PublishError::Rejected {
                failed: events.len(),
                total: events.len(),
                first_error: "outage".into(),
            });
        }
        lock(&self.events).extend_from_slice(events);
        Ok(())
    }
}

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

/// Parked events, in order.
#[derive(Default)]
pub struct MemoryParkingLot {
    parked: Mutex<Vec<BusEvent>>,
}

impl MemoryParkingLot {
    pub fn parked(&self) -> Vec<BusEvent> {
        lock(&self.parked).clone()
    }
}

#[async_trait]
impl ParkingLot for MemoryParkingLot {
    async fn park(&self, events: &[BusEvent]) -> Result<(), ParkingError> {
        lock(&self.parked).extend_from_slice(events);
        Ok(())
    }
}

/// Holds schedules by name, as a schedule group does.
#[derive(Default)]
pub struct MemoryScheduler {
    schedules: Mutex<BTreeMap<String, OneTimeSchedule>>,
}

impl MemoryScheduler {
    pub fn pending(&self) -> Vec<OneTimeSchedule> {
        lock(&self.schedules).values().cloned().collect()
    }
}

#[async_trait]
impl Scheduler for MemoryScheduler {
    async fn upsert(&self, schedule: &OneTimeSchedule) -> Result<(), ScheduleError> {
        lock(&self.schedules).insert(schedule.name.as_str().to_owned(), schedule.clone());
        Ok(())
    }

    async fn delete(&self, name: &ScheduleName) -> Result<bool, ScheduleError> {
        Ok(lock(&self.schedules).remove(name.as_str()).is_some())
    }
}

/// Keeps every mail "sent", with a sequential message id.
#[derive(Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<OutgoingMail>>,
}

impl RecordingMailer {
    pub fn sent(&self) -> Vec<OutgoingMail> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailerError> {
        let mut sent = lock(&self.sent);
        sent.push(mail.clone());
        Ok(SentMail { message_id: format!("memory-{}", sent.len()) })
    }
}

/// A clock that stands still until told to move.
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(now) }
    }

    pub fn advance(&self, by: chrono::Duration) {
        *lock(&self.now) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
