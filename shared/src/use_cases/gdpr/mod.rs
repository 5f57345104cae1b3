//! GDPR requests (SPECS: Shopify webhooks — the mandatory compliance topics, and their
//! generic-API equivalents): erase a customer, erase a shop ([`shop`]), export a customer
//! ([`export`]), and keep an erased person erased when their late events arrive.

mod export;
mod shop;
#[cfg(test)]
mod tests;

pub use export::{Export, ExportReady, ExportedProfile, deliver_export, export_customer, export_key};
pub use shop::{Paging, SHOP_ERASURE_CONTINUES, ShopErasure, ShopErasureContinues, erase_shop};

use crate::events::{CustomerRedact, Event, Identity};
use crate::failure::{Classify, Retry};
use crate::ids::{ProfileId, ShopId};
use crate::ports::{
    ExportError, ProfileStore, PublishError, ScheduleError, Scheduler, StoreError, TombstoneKey, Tombstones,
};
use crate::profile::{IdentityKey, Record};
use crate::schedule::ScheduleName;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// How long a tombstone outlives its erasure. Late events reach profile-update after
/// Shopify's retries (4 h, up to a day late: SPECS: Shopify webhooks), EventBridge's (a
/// day) and, at worst, an operator's redrive from a dead-letter queue, which keeps
/// messages 14 days: 30 days covers them all, and the table's TTL bounds the tombstones.
pub const TOMBSTONE_KEEP: Duration = Duration::days(30);

/// What an erasure removed, for the audit log (ids only, no personal data).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub profiles: Vec<ProfileId>,
    pub identity_keys: usize,
    pub records: usize,
    /// Pending schedules deleted: checkout reminders, program steps, pauses, deferred mails
    /// (those already fired or cancelled are not counted).
    pub schedules: usize,
    /// Identity keys remembered as erased (hashed), so their late events are dropped.
    pub tombstones: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum GdprError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not cancel the customer's pending schedules")]
    Schedule(#[from] ScheduleError),
    #[error("could not deliver the export")]
    Export(#[from] ExportError),
    #[error("could not publish on the bus")]
    Publish(#[from] PublishError),
    /// Our own export or continuation failed to encode: a bug.
    #[error("could not encode {what}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl Classify for GdprError {
    fn retry(&self) -> Retry {
        match self {
            GdprError::Store(e) => e.retry(),
            GdprError::Schedule(e) => e.retry(),
            GdprError::Export(e) => e.retry(),
            GdprError::Publish(e) => e.retry(),
            GdprError::Encode { .. } => Retry::Permanent,
        }
    }
}

/// The profiles an identity (and orders) point at.
async fn profiles_of(
    store: &dyn ProfileStore,
    shop: &ShopId,
    keys: &[IdentityKey],
) -> Result<BTreeSet<ProfileId>, StoreError> {
    let mut found = BTreeSet::new();
    for key in keys {
        if let Some(profile) = store.find_identity(shop, key).await? {
            found.insert(profile);
        }
    }
    Ok(found)
}

fn request_keys(identity: &Identity, redact: Option<&CustomerRedact>) -> Vec<IdentityKey> {
    let mut keys = IdentityKey::all(identity);
    if let Some(redact) = redact {
        keys.extend(redact.orders_to_redact.iter().cloned().map(IdentityKey::Order));
    }
    keys
}

/// The schedules a record tells of, by the names the code that armed them derived: a
/// checkout's every reminder step, and each schedule filed under the customer when it was
/// armed (program steps, pauses, deferred mails: `use_cases::schedules`).
fn schedules_of(shop: &ShopId, record: &Record) -> Vec<ScheduleName> {
    match record {
        Record::Checkout(checkout) if !checkout.cart => ScheduleName::all_for_checkout(shop, &checkout.token),
        Record::Schedule(schedule) => vec![schedule.name.clone()],
        _ => Vec::new(),
    }
}

/// Erases the customer the request names: their pending schedules, their profile(s), every
/// record and every identity-map item pointing at them, and the keys the request itself
/// names; and leaves a tombstone per key (a hash, no personal data) so that their late
/// events do not file them again ([`erased_before`]).
///
/// Order matters for a retry after a failure: tombstones first (an event arriving while we
/// erase is dropped), then schedules (a reminder must not fire for an erased person), then
/// records, then the profile, then the identity map that finds it. Every step is
/// idempotent, so a redelivered request finds less and erases nothing twice.
#[tracing::instrument(skip_all, fields(shop = %event.shop, event = %event.id))]
pub async fn erase_customer(
    store: &dyn ProfileStore,
    scheduler: &dyn Scheduler,
    tombstones: &dyn Tombstones,
    event: &Event,
    redact: &CustomerRedact,
) -> Result<Erased, GdprError> {
    let shop = &event.shop;
    let requested = request_keys(&event.identity, Some(redact));
    let mut erased = Erased::default();
    let mut keys: BTreeSet<IdentityKey> = requested.iter().cloned().collect();
    let mut people = Vec::new();
    for id in profiles_of(store, shop, &requested).await? {
        if let Some(profile) = store.load(shop, &id).await? {
            keys.extend(profile.value.identity_keys());
        }
        let records = store.records(shop, &id).await?;
        keys.extend(records.iter().filter_map(|r| match r {
            Record::Order(order) => Some(IdentityKey::Order(order.order_id.clone())),
            _ => None,
        }));
        people.push((id, records));
    }
    let graves: Vec<TombstoneKey> = keys.iter().map(|key| TombstoneKey::of(shop, key)).collect();
    let expires_at = event.received_at.max(event.occurred_at) + TOMBSTONE_KEEP;
    tombstones.bury(shop, &graves, event.occurred_at, expires_at).await?;
    erased.tombstones = graves.len();
    for (id, records) in people {
        for name in records.iter().flat_map(|record| schedules_of(shop, record)) {
            if scheduler.delete(&name).await? {
                erased.schedules += 1;
            }
        }
        for record in &records {
            store.delete_record(shop, &id, &record.key()).await?;
        }
        erased.records += records.len();
        store.delete_profile(shop, &id).await?;
        erased.profiles.push(id);
    }
    for key in &keys {
        store.delete_identity(shop, key).await?;
    }
    erased.identity_keys = keys.len();
    tracing::info!(
        profiles = erased.profiles.len(),
        keys = erased.identity_keys,
        records = erased.records,
        schedules = erased.schedules,
        tombstones = erased.tombstones,
        "customer erased"
    );
    Ok(erased)
}

/// When `event` is a late event of an erased person: the erasure time of one of its keys
/// at or after the time the event occurred. Such an event happened before the erasure, so
/// applying it would file the person again; one that occurred later (they came back and
/// ordered again) is theirs to keep, and is applied.
pub async fn erased_before(
    tombstones: &dyn Tombstones,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let keys: Vec<TombstoneKey> = IdentityKey::of(event).iter().map(|key| TombstoneKey::of(&event.shop, key)).collect();
    if keys.is_empty() {
        return Ok(None);
    }
    let erased_at = tombstones.erased_at(&event.shop, &keys, now).await?;
    Ok(erased_at.filter(|at| event.occurred_at <= *at))
}
