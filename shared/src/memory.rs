//! In-memory implementations of the ports, for fast unit tests of the domain. Each adapter
//! on AWS has its own tests against the local stack; these fakes never replace those.

use crate::bus::BusEvent;
use crate::ids::{ProfileId, ShopId};
use crate::mail::{OutgoingMail, SentMail};
use crate::ports::{
    Clock, EventPublisher, Mailer, MailerError, ProfileStore, PublishError, ScheduleError, Scheduler, StoreError,
};
use crate::profile::{Profile, Version, Versioned};
use crate::schedule::{OneTimeSchedule, ScheduleName};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

/// A poisoned lock only means another test thread panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Default)]
pub struct MemoryProfileStore {
    items: Mutex<HashMap<(ShopId, ProfileId), Versioned<Profile>>>,
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
}

/// Records every published event in order.
#[derive(Default)]
pub struct RecordingPublisher {
    events: Mutex<Vec<BusEvent>>,
}

impl RecordingPublisher {
    pub fn events(&self) -> Vec<BusEvent> {
        lock(&self.events).clone()
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[BusEvent]) -> Result<(), PublishError> {
        lock(&self.events).extend_from_slice(events);
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
