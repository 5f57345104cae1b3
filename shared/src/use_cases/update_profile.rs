//! Applying a canonical event to the right profile: the use case behind profile-update.
//!
//! 1. Resolve: every identity key of the event (customer id, e-mail, visitor id, and the
//!    order it is about) is looked up; the strongest key's profile is the target, or a new profile whose id is derived
//!    from that key. Keys not yet known are claimed for it (a conditional write decides
//!    between concurrent first events).
//! 2. Merge: other profiles the keys point at (an anonymous visitor who just identified) are
//!    joined into the target, their keys moved, their profile item deleted.
//! 3. Apply: read, fold, remember the event id in the profile, and write back conditioned
//!    on the version read — one atomic write; a concurrent writer makes it fail and it is
//!    retried (with jittered backoff) on a fresh read; an already-applied event changes
//!    nothing.
//! 4. Derived events (profile created, first order, order delivered, consent changed) are
//!    published before the write: at least once, each naming its cause event for consumers
//!    to de-duplicate.

use super::lookup::locate;
use crate::bus::{BusEvent, SOURCE_PROFILE};
use crate::events::ConsentState;
use crate::events::MailEvent;
use crate::events::{Event, Payload};
use crate::failure::{Classify, Retry};
use crate::ids::{EventId, ExternalId};
use crate::ids::{ProfileId, ShopId};
use crate::lattice::Stamp;
use crate::mail::MailKind;
use crate::ports::{EventPublisher, ProfileStore, PublishError, StoreError};
use crate::profile::records::MessageRecord;
use crate::profile::{IdentityKey, Profile, Record, Version};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Writers racing on one profile retry this many times before giving up (and letting
/// Lambda retry the whole event), backing off with jitter so they stop colliding.
const MAX_ATTEMPTS: u32 = 20;
const FIRST_BACKOFF_MS: u64 = 10;
const MAX_BACKOFF_MS: u64 = 200;

/// Exponential backoff with jitter derived from the event id, so concurrent writers of one
/// profile spread out deterministically.
async fn back_off(seed: &str, attempt: u32) {
    let ceiling = (FIRST_BACKOFF_MS << attempt.min(5)).min(MAX_BACKOFF_MS);
    let seed = seed.bytes().fold(u64::from(attempt).wrapping_add(0x9E37_79B9), |h, b| {
        h.rotate_left(5) ^ u64::from(b).wrapping_mul(0x100_0000_01B3)
    });
    tokio::time::sleep(std::time::Duration::from_millis(ceiling / 2 + seed % (ceiling / 2 + 1))).await;
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("profile {0} kept changing under {MAX_ATTEMPTS} attempts")]
    Contention(ProfileId),
}

impl Classify for ApplyError {
    fn retry(&self) -> Retry {
        match self {
            ApplyError::Store(e) => e.retry(),
            ApplyError::Publish(e) => e.retry(),
            ApplyError::Contention(_) => Retry::Transient,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Applied; these derived events were published.
    Changed { profile: ProfileId, derived: Vec<String> },
    /// Already applied before (a redelivery).
    Duplicate { profile: ProfileId },
    /// The event names nobody (a cart without identity): nothing to apply it to.
    NoIdentity,
}

pub async fn apply_event(
    store: &dyn ProfileStore,
    publisher: &dyn EventPublisher,
    event: &Event,
) -> Result<Applied, ApplyError> {
    let shop = &event.shop;
    let keys = IdentityKey::of(event);
    let named = match &event.identity.profile {
        Some(profile) => locate(store, shop, profile).await?,
        None => None,
    };
    // Nobody named, or only a profile that no longer exists (erased): nothing to apply.
    let Some(target) = resolve(store, shop, &keys, named).await? else { return Ok(Applied::NoIdentity) };

    let order = match &event.payload {
        Payload::OrderDelivered(f) => Some(&f.order_id),
        Payload::OrderPlaced(o) | Payload::OrderPaid(o) => Some(&o.order_id),
        _ => None,
    };
    let change = Change {
        id: &event.id,
        occurred_at: event.occurred_at,
        received_at: event.received_at,
        records: Record::from_event(event),
        delivered: match &event.payload {
            Payload::OrderDelivered(f) => Some(&f.order_id),
            _ => None,
        },
        order,
    };
    commit(store, publisher, shop, target, change, |profile| profile.apply(event)).await
}

/// What the provider reported about a mail Relance sent: engagement times, suppression on
/// a hard bounce or complaint (a complaint also unsubscribes), and the message log.
pub async fn apply_mail_event(
    store: &dyn ProfileStore,
    publisher: &dyn EventPublisher,
    event: &MailEvent,
) -> Result<Applied, ApplyError> {
    let shop = &event.tags.shop;
    let Some(target) = locate(store, shop, &event.tags.profile).await? else { return Ok(Applied::NoIdentity) };
    let record = MessageRecord::signal(event.tags.message.clone(), event.provider_id.clone(), event.signal, event.at);
    let change = Change {
        id: &event.id,
        occurred_at: event.at,
        received_at: event.at,
        records: vec![Record::Message(record)],
        delivered: None,
        order: None,
    };
    let stamp = Stamp { at: event.at, event: event.id.clone() };
    commit(store, publisher, shop, target, change, |profile| profile.record_mail(event.signal, stamp.clone())).await
}

/// Records a mail Relance sent: the message record (sent time, provider id) and, for
/// marketing mail, the profile's last-marketing time the frequency cap reads. Exactly once
/// per message key, like any event.
pub async fn apply_sent_mail(
    store: &dyn ProfileStore,
    publisher: &dyn EventPublisher,
    shop: &ShopId,
    profile: &ProfileId,
    sent: SentRecord,
) -> Result<Applied, ApplyError> {
    let SentRecord { message, kind, at, last_chance } = sent;
    let id = EventId::parse(format!("relance:{shop}:mail:{}", message.key))
        .map_err(|e| ApplyError::Store(StoreError::Corrupt { entity: "message key", source: Box::new(e) }))?;
    let change = Change {
        id: &id,
        occurred_at: at,
        received_at: at,
        records: vec![Record::Message(message)],
        delivered: None,
        order: None,
    };
    commit(store, publisher, shop, profile.clone(), change, |p| p.record_sent(kind, at, last_chance)).await
}

/// What send-mail records of a mail it sent.
#[derive(Debug, Clone)]
pub struct SentRecord {
    pub message: MessageRecord,
    pub kind: MailKind,
    pub at: DateTime<Utc>,
    /// The reactivation program's last mail (the sunset policy counts from it).
    pub last_chance: bool,
}

/// One event's change to one profile, as [`commit`] needs it.
struct Change<'a> {
    id: &'a EventId,
    occurred_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    /// Records to join before the profile commits.
    records: Vec<Record>,
    /// The order this event reports delivered.
    delivered: Option<&'a ExternalId>,
    /// The order the event is about, for derived events' detail.
    order: Option<&'a ExternalId>,
}

/// Read, fold, remember the event, publish what it derived, write conditioned on the
/// version read; retried on a concurrent change. An already-applied event changes nothing.
async fn commit(
    store: &dyn ProfileStore,
    publisher: &dyn EventPublisher,
    shop: &ShopId,
    target: ProfileId,
    change: Change<'_>,
    fold: impl Fn(&mut Profile),
) -> Result<Applied, ApplyError> {
    let mut records = Some(change.records.clone());
    for attempt in 0..MAX_ATTEMPTS {
        let (mut profile, version) = match store.load(shop, &target).await? {
            Some(current) => (current.value, current.version),
            None => (Profile::new(shop.clone(), target.clone(), change.occurred_at), Version::NEW),
        };
        if profile.was_applied(change.id) {
            return Ok(Applied::Duplicate { profile: target });
        }
        // Records before the profile: the profile's write is what marks the event applied,
        // so a crash in between leaves it unapplied and its redelivery re-joins the records.
        for record in records.take().unwrap_or_default() {
            join_record(store, shop, &target, record).await?;
        }
        let before = (version != Version::NEW).then(|| profile.clone());
        fold(&mut profile);
        profile.remember_applied(change.id, change.received_at);
        let derived = derived_events(before.as_ref(), &profile, &change);
        if !derived.is_empty() {
            publisher.publish(&derived).await?;
        }
        match store.save(&profile, version).await {
            Ok(_) => {
                let derived = derived.into_iter().map(|d| d.detail_type).collect();
                return Ok(Applied::Changed { profile: target, derived });
            }
            Err(StoreError::Conflict { .. }) => back_off(change.id.as_str(), attempt).await,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApplyError::Contention(target))
}

/// The profile the event belongs to, after claiming its keys and merging any other
/// profile they pointed at: the profile the event `named`, else the owner of its first
/// known key, else a new profile whose id derives from its strongest key.
async fn resolve(
    store: &dyn ProfileStore,
    shop: &ShopId,
    keys: &[IdentityKey],
    named: Option<ProfileId>,
) -> Result<Option<ProfileId>, ApplyError> {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for key in keys {
        match store.find_identity(shop, key).await? {
            Some(owner) => known.push(owner),
            None => unknown.push(key),
        }
    }
    let Some(target) =
        named.or_else(|| known.first().cloned()).or_else(|| keys.first().map(IdentityKey::derived_profile_id))
    else {
        return Ok(None);
    };
    let mut others: BTreeSet<ProfileId> = known.into_iter().filter(|p| *p != target).collect();
    // Only keys nobody holds are claimed: the conditional write settles a race with a
    // concurrent first event, and a known person costs no write here.
    for key in unknown {
        let owner = store.claim_identity(shop, key, &target).await?;
        if owner != target {
            others.insert(owner);
        }
    }
    for other in others {
        merge_into(store, shop, &target, &other).await?;
    }
    Ok(Some(target))
}

/// Joins profile `from` into `into`, moves its keys, deletes it.
async fn merge_into(
    store: &dyn ProfileStore,
    shop: &ShopId,
    into: &ProfileId,
    from: &ProfileId,
) -> Result<(), ApplyError> {
    let Some(source) = store.load(shop, from).await? else { return Ok(()) };
    let source = source.value;
    let records = store.records(shop, from).await?;
    for record in &records {
        join_record(store, shop, into, record.clone()).await?;
    }
    for attempt in 0..MAX_ATTEMPTS {
        let (mut target, version) = match store.load(shop, into).await? {
            Some(current) => (current.value, current.version),
            None => (Profile::new(shop.clone(), into.clone(), source.created_at), Version::NEW),
        };
        target.merge(source.clone());
        match store.save(&target, version).await {
            Ok(_) => {
                let keys = source.identity_keys().into_iter().chain([IdentityKey::Profile(from.clone())]);
                for key in keys {
                    store.move_identity(shop, &key, into).await?;
                }
                for record in &records {
                    store.delete_record(shop, from, &record.key()).await?;
                }
                store.delete_profile(shop, from).await?;
                tracing::info!(%shop, from = %from, into = %into, "profiles merged");
                return Ok(());
            }
            Err(StoreError::Conflict { .. }) => back_off(from.as_str(), attempt).await,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApplyError::Contention(into.clone()))
}

/// Joins `offered` into the stored record of the same key (read, join, conditional write;
/// retried on a concurrent change). Nothing is written when the join changes nothing.
pub async fn join_record(
    store: &dyn ProfileStore,
    shop: &ShopId,
    profile: &ProfileId,
    offered: Record,
) -> Result<(), ApplyError> {
    let key = offered.key();
    // Activity is written once: create it, and an existing one is the same fact.
    if matches!(offered, Record::Activity(_)) {
        return match store.save_record(shop, profile, &offered, Version::NEW).await {
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(other) => Err(other.into()),
        };
    }
    for attempt in 0..MAX_ATTEMPTS {
        let (record, version) = match store.load_record(shop, profile, &key).await? {
            Some(stored) => {
                let mut joined = stored.value.clone();
                joined.join(offered.clone());
                if joined == stored.value {
                    return Ok(());
                }
                (joined, stored.version)
            }
            None => (offered.clone(), Version::NEW),
        };
        match store.save_record(shop, profile, &record, version).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict { .. }) => back_off(&key.to_string(), attempt).await,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApplyError::Contention(profile.clone()))
}

/// Facts programs trigger on, from the change one event made.
fn derived_events(before: Option<&Profile>, after: &Profile, cause: &Change<'_>) -> Vec<BusEvent> {
    let mut kinds = Vec::new();
    if before.is_none() {
        kinds.push("profile.created");
    }
    let orders_before = before.map_or(0, |p| p.stats().orders);
    if orders_before == 0 && after.stats().orders > 0 {
        kinds.push("order.first");
    }
    if let Some(order) = cause.delivered {
        let was = before.and_then(|p| p.orders.get(order)).and_then(|o| o.delivered_at);
        if was.is_none() {
            kinds.push("order.delivered");
        }
    }
    let consent_before = before.map_or(ConsentState::Unknown, Profile::consent_state);
    if consent_before != after.consent_state() {
        kinds.push("consent.changed");
    }
    kinds
        .into_iter()
        .map(|kind| BusEvent {
            source: SOURCE_PROFILE.to_owned(),
            detail_type: kind.to_owned(),
            time: cause.occurred_at,
            detail: serde_json::json!({
                "shop": after.shop,
                "profile": after.id,
                "cause": cause.id,
                "status": after.stats().status,
                "consent": after.consent_state(),
                "order_id": cause.order,
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests;
