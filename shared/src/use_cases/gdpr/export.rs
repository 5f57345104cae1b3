//! A customer's data export (`customers/data_request`): everything Relance holds about
//! them, written as one JSON object to the export bucket; the bus only says where.

use super::{GdprError, profiles_of, request_keys};
use crate::bus::{BusEvent, SOURCE_PROFILE};
use crate::events::{DataRequest, Event};
use crate::ids::ShopId;
use crate::ports::{EventPublisher, ExportLocation, ExportSink, ProfileStore, StoreError};
use crate::profile::{Profile, Record};
use serde::Serialize;

/// `detail-type` of the event that tells an export is ready.
pub const EXPORT_READY: &str = "gdpr.export_ready";

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

/// The detail of `gdpr.export_ready`: where the export is, and nothing of its content (the
/// bus is no place for personal data: its rules, archives and targets can all read it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReady {
    pub shop: ShopId,
    pub request: Option<String>,
    pub bucket: String,
    pub key: String,
    pub profiles: usize,
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

/// `exports/<shop>/<request>.json`: one object per shop and request (the platform's request
/// id, else the event's), so a redelivered request rewrites its own export and a shop's
/// exports list under one prefix. Neither id is personal data.
pub fn export_key(shop: &ShopId, request: Option<&str>, event: &Event) -> String {
    let id = request.unwrap_or(event.id.as_str());
    let safe: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.:".contains(c) { c } else { '_' }).collect();
    format!("exports/{shop}/{safe}.json")
}

/// Writes the export of the customer `event` names to the export bucket, then announces
/// `gdpr.export_ready` with its bucket and key. Written first: an announcement always names
/// an object that exists; a retry rewrites the same key.
#[tracing::instrument(skip_all, fields(shop = %event.shop, event = %event.id))]
pub async fn deliver_export(
    store: &dyn ProfileStore,
    sink: &dyn ExportSink,
    publisher: &dyn EventPublisher,
    event: &Event,
    request: &DataRequest,
) -> Result<ExportReady, GdprError> {
    let id = request.request_id.as_ref().map(ToString::to_string);
    let export = export_customer(store, event, id.clone()).await?;
    let json = serde_json::to_vec_pretty(&export).map_err(|source| GdprError::Encode { what: "the export", source })?;
    let key = export_key(&event.shop, id.as_deref(), event);
    let ExportLocation { bucket, key } = sink.put_export(&key, json).await?;
    let ready = ExportReady { shop: event.shop.clone(), request: id, bucket, key, profiles: export.profiles.len() };
    let detail = serde_json::to_value(&ready).map_err(|source| GdprError::Encode { what: "export_ready", source })?;
    publisher
        .publish(&[BusEvent {
            source: SOURCE_PROFILE.to_owned(),
            detail_type: EXPORT_READY.to_owned(),
            time: event.occurred_at,
            detail,
        }])
        .await?;
    tracing::info!(profiles = ready.profiles, key = %ready.key, "export delivered");
    Ok(ready)
}
