//! GDPR requests (SPECS: Shopify webhooks — the mandatory compliance topics, and their
//! generic-API equivalents): erase a customer, erase a shop, export a customer.

use crate::events::{CustomerRedact, Event, Identity};
use crate::failure::{Classify, Retry};
use crate::ids::{ProfileId, ShopId};
use crate::ports::{ProfileStore, ScheduleError, Scheduler, StoreError};
use crate::profile::{IdentityKey, Profile, Record};
use crate::schedule::ScheduleName;
use serde::Serialize;
use std::collections::BTreeSet;

/// What an erasure removed, for the audit log (ids only, no personal data).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub profiles: Vec<ProfileId>,
    pub identity_keys: usize,
    pub records: usize,
    /// Pending reminder schedules deleted (those already fired or cancelled are not counted).
    pub schedules: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum GdprError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not cancel the customer's pending schedules")]
    Schedule(#[from] ScheduleError),
}

impl Classify for GdprError {
    fn retry(&self) -> Retry {
        match self {
            GdprError::Store(e) => e.retry(),
            GdprError::Schedule(e) => e.retry(),
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

/// Erases the customer the request names: their profile(s) and every identity-map item
/// pointing at them, and the keys the request itself names.
///
/// Order matters for a retry after a failure: schedules first (a reminder must not fire for
/// an erased person), then records, then the profile, then the identity map that finds it.
pub async fn erase_customer(
    store: &dyn ProfileStore,
    scheduler: &dyn Scheduler,
    event: &Event,
    redact: &CustomerRedact,
) -> Result<Erased, GdprError> {
    let shop = &event.shop;
    let requested = request_keys(&event.identity, Some(redact));
    let mut erased = Erased::default();
    let mut keys: BTreeSet<IdentityKey> = requested.iter().cloned().collect();
    for id in profiles_of(store, shop, &requested).await? {
        if let Some(profile) = store.load(shop, &id).await? {
            keys.extend(profile.value.identity_keys());
        }
        let records = store.records(shop, &id).await?;
        for record in &records {
            let Record::Checkout(checkout) = record else { continue };
            if checkout.cart {
                continue;
            }
            for name in ScheduleName::all_for_checkout(shop, &checkout.token) {
                if scheduler.delete(&name).await? {
                    erased.schedules += 1;
                }
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
        %shop,
        profiles = erased.profiles.len(),
        keys = erased.identity_keys,
        records = erased.records,
        schedules = erased.schedules,
        "customer erased"
    );
    Ok(erased)
}

/// Everything Relance holds about the customer a data request names, as one JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub shop: ShopId,
    pub request: Option<String>,
    pub profiles: Vec<ExportedProfile>,
    /// Identity keys (customer ids, e-mail, visitor ids, orders) mapped to those profiles.
    pub identity_keys: Vec<String>,
}

/// A profile and every record beside it: orders, checkouts, activity, messages.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedProfile {
    #[serde(flatten)]
    pub profile: Profile,
    pub records: Vec<Record>,
}

pub async fn export_customer(
    store: &dyn ProfileStore,
    event: &Event,
    request: Option<String>,
) -> Result<Export, StoreError> {
    let shop = &event.shop;
    let mut export = Export { shop: shop.clone(), request, profiles: Vec::new(), identity_keys: Vec::new() };
    for id in profiles_of(store, shop, &request_keys(&event.identity, None)).await? {
        if let Some(profile) = store.load(shop, &id).await? {
            let mut profile = profile.value;
            // Bookkeeping, not personal data.
            profile.applied.clear();
            export.identity_keys.extend(profile.identity_keys().iter().map(ToString::to_string));
            let records = store.records(shop, &id).await?;
            export.profiles.push(ExportedProfile { profile, records });
        }
    }
    Ok(export)
}
