//! What the domain needs from the outside world, one small trait per capability.
//!
//! Adapters keep their backend's error as the `source` of [`BackendError`] so a log line
//! shows the whole cause chain, while the domain never sees an SDK type.

use crate::bus::BusEvent;
use crate::ids::{EventId, ProfileId, ShopId};
use crate::mail::{OutgoingMail, SentMail};
use crate::profile::{IdentityKey, Profile, Record, RecordKey, Version, Versioned};
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

    /// Deletes every item of the shop, whatever it is; returns how many (shop erasure).
    async fn erase_shop(&self, shop: &ShopId) -> Result<usize, StoreError>;

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

/// One page of a shop's profiles, for a pass over all of them.
#[derive(Debug, Clone, Default)]
pub struct ProfilePage {
    pub profiles: Vec<Versioned<Profile>>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<String>,
}

/// What the nightly scoring needs beyond [`ProfileStore`]: every profile of a shop, page by
/// page, and writing a profile's standing alone.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    async fn profiles_page(&self, shop: &ShopId, cursor: Option<String>) -> Result<ProfilePage, StoreError>;

    /// One page of a segment's members, as the last nightly run filed them.
    async fn members_page(
        &self,
        shop: &ShopId,
        segment: crate::segments::Segment,
        cursor: Option<String>,
    ) -> Result<ProfilePage, StoreError>;

    /// Writes `state` on the profile if it is still at `expected`, and files the profile
    /// under its segment for campaigns; returns the version now stored.
    async fn set_segment(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        expected: Version,
        state: &crate::segments::SegmentState,
    ) -> Result<Version, StoreError>;

    /// Keeps the run's per-shop summary (the latest replaces the previous).
    async fn save_summary(&self, shop: &ShopId, summary: &crate::segments::nightly::Summary) -> Result<(), StoreError>;

    /// One page of one shard of a pass over every shop's profiles, for a run split across
    /// invocations: the shards `0..of` split the profiles between them, each profile in
    /// exactly one, and each shard is read independently (DynamoDB's parallel scan).
    async fn shard_page(&self, shard: Shard, cursor: Option<String>) -> Result<ProfilePage, StoreError>;
}

/// The shop's table of products bought together ([`crate::programs::affinity`]), one entry
/// per product: the nightly run writes it, the affinity program reads the entries of an
/// order's products.
#[async_trait]
pub trait AffinityStore: Send + Sync {
    /// Writes the entries (an entry not rewritten for a few nights expires).
    async fn save_affinities(
        &self,
        shop: &ShopId,
        entries: &[crate::programs::affinity::ProductAffinity],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The entries of these products, those that exist.
    async fn load_affinities(
        &self,
        shop: &ShopId,
        products: &[crate::ids::ExternalId],
    ) -> Result<Vec<crate::programs::affinity::ProductAffinity>, StoreError>;
}

/// One of `of` disjoint shares of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub of: u32,
}

/// The scratch space of a run split across invocations: what each worker hands on, and who
/// has finished. Entries expire on their own a few days after the run.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Keeps `bytes` as the part `name` of `run`, replacing a part of that name; any size
    /// (the store splits what it must).
    async fn put_part(&self, run: &str, name: &str, bytes: &[u8], expires_at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Every part of `run` whose name starts with `prefix`, by name.
    async fn parts(&self, run: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Records that `shard` finished `phase` and returns how many distinct shards have: a
    /// retried shard counts once, so exactly the calls after the last shard's see them all.
    async fn finish(&self, run: &str, phase: &str, shard: u32, expires_at: DateTime<Utc>) -> Result<u32, StoreError>;
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

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("delivery ledger unavailable")]
    Backend(#[source] BackendError),
}

/// What the ledger says about a delivery we are about to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time seen (or an earlier attempt was abandoned): publish it.
    Fresh,
    /// Already published: answer 2xx and publish nothing.
    Duplicate,
    /// Another request is publishing it right now (concurrent duplicate): answer 2xx; if that
    /// request fails it answers 5xx and the platform retries.
    InFlight,
}

/// Remembers which deliveries were published, so a redelivery publishes nothing.
///
/// A claim is taken before publishing and confirmed after: a crash between the two leaves a
/// pending claim that expires ([`DeliveryLedger::claim`] takes over stale ones), so a
/// delivery is never marked done without having been published.
#[async_trait]
pub trait DeliveryLedger: Send + Sync {
    async fn claim(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<Claim, LedgerError>;
    async fn confirm(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<(), LedgerError>;
    /// Gives a claim back after a failed publish, so the platform's retry publishes.
    async fn release(&self, shop: &ShopId, event: &EventId) -> Result<(), LedgerError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ParkingError {
    #[error("parking queue unavailable")]
    Backend(#[source] BackendError),
}

/// A durable place for accepted events the bus refused, redriven later: for senders that
/// never retry (WooCommerce), answering 5xx would lose the event.
#[async_trait]
pub trait ParkingLot: Send + Sync {
    async fn park(&self, events: &[BusEvent]) -> Result<(), ParkingError>;
}
