//! What the domain needs from the outside world, one small trait per capability.
//!
//! Adapters keep their backend's error as the `source` of [`BackendError`] so a log line
//! shows the whole cause chain, while the domain never sees an SDK type.

use crate::bus::BusEvent;
use crate::ids::{ProfileId, ShopId};
use crate::mail::{OutgoingMail, SentMail};
use crate::profile::{Profile, Version, Versioned};
use crate::schedule::{OneTimeSchedule, ScheduleName};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// An adapter's underlying failure, kept whole.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer changed the item since it was read: re-read, re-apply, retry.
    #[error("profile was changed concurrently (expected version {expected:?})")]
    Conflict { expected: Version },
    #[error("stored item is not a valid {entity}")]
    Corrupt {
        entity: &'static str,
        #[source]
        source: BackendError,
    },
    #[error("profile store unavailable")]
    Backend(#[source] BackendError),
}

#[async_trait]
pub trait ProfileStore: Send + Sync {
    async fn load(&self, shop: &ShopId, id: &ProfileId) -> Result<Option<Versioned<Profile>>, StoreError>;

    /// Writes `profile` only if the stored version is still `expected` ([`Version::NEW`]:
    /// only if absent). Returns the version now stored.
    async fn save(&self, profile: &Profile, expected: Version) -> Result<Version, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("event {index} is {size} bytes, over the bus's entry limit")]
    TooLarge { index: usize, size: usize },
    #[error("{failed} of {total} events were not accepted by the bus after retries: {first_error}")]
    Rejected { failed: usize, total: usize, first_error: String },
    #[error("event bus unavailable")]
    Backend(#[source] BackendError),
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes every event or fails: a success means the bus accepted all of them.
    async fn publish(&self, events: &[BusEvent]) -> Result<(), PublishError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("scheduler unavailable")]
    Backend(#[source] BackendError),
}

#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Creates the schedule, or replaces the one of the same name.
    async fn upsert(&self, schedule: &OneTimeSchedule) -> Result<(), ScheduleError>;

    /// Deletes the schedule; `Ok(false)` when there was none (already fired or cancelled).
    async fn delete(&self, name: &ScheduleName) -> Result<bool, ScheduleError>;
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// Over the sending rate: retry later (SPECS: Amazon SES).
    #[error("mail provider throttled the send")]
    Throttled(#[source] BackendError),
    /// The provider will not send this mail as it is (unverified sender, paused account…).
    #[error("mail provider rejected the message")]
    Rejected(#[source] BackendError),
    #[error("mail provider unavailable")]
    Backend(#[source] BackendError),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailerError>;
}

/// Time, passed in: the domain never reads the system clock, so tests and the demo can
/// move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
