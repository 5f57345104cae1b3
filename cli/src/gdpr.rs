//! `relance export EMAIL` and `relance erase EMAIL`: the GDPR requests a customer makes to
//! the shop directly (by mail, at the counter) rather than through the platform. They run
//! the same use cases as the platforms' compliance webhooks (`customers/data_request`,
//! `customers/redact`: [`relance::use_cases::gdpr`]), on a request built here, so an
//! operator's erasure leaves the same tombstones and cancels the same schedules, and the
//! customer's late webhooks are dropped the same way.

use chrono::{DateTime, Utc};
use relance::events::{Context, CustomerRedact, DataRequest, Event, Identity, Payload, Platform, SCHEMA_VERSION};
use relance::ids::{Email, EventId, IdError, ShopId};
use relance::ports::{ProfileStore, Scheduler, StoreError, Tombstones};
use relance::use_cases::gdpr::{Erased, Export, GdprError, erase_customer, export_customer};

/// The request an operator makes about the customer with `email`, stated at `now`.
///
/// Its id names the command and the instant, never the address: event ids reach the logs.
pub fn request(shop: &ShopId, email: &Email, payload: Payload, now: DateTime<Utc>) -> Result<Event, IdError> {
    let verb = match payload {
        Payload::CustomerRedacted(_) => "erase",
        _ => "export",
    };
    Ok(Event {
        schema_version: SCHEMA_VERSION,
        id: EventId::parse(format!("relance-cli:{verb}:{}", now.format("%Y%m%dT%H%M%S%.6fZ")))?,
        shop: shop.clone(),
        platform: Platform::Relance,
        occurred_at: now,
        received_at: now,
        identity: Identity { email: Some(email.clone()), ..Identity::default() },
        context: Context::default(),
        payload,
    })
}

/// Everything the deployment holds about the customer with `email`: their profile(s) and
/// every record beside them, as the platforms' data requests get it. `None` when nobody in
/// the shop has that address.
pub async fn export(
    store: &dyn ProfileStore,
    shop: &ShopId,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<Option<Export>, ExportError> {
    let event = request(
        shop,
        email,
        Payload::DataRequested(DataRequest { request_id: None, orders_requested: Vec::new() }),
        now,
    )?;
    let export = export_customer(store, &event, Some(event.id.to_string())).await?;
    Ok((!export.profiles.is_empty()).then_some(export))
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Id(#[from] IdError),
    #[error("could not read the customer's profile")]
    Store(#[from] StoreError),
}

/// Erases the customer with `email`, as a `customers/redact` would: pending schedules,
/// profile(s), records, identity keys, and tombstones so their late events do not file
/// them again. Run twice, the second finds nothing and erases nothing.
pub async fn erase(
    store: &dyn ProfileStore,
    scheduler: &dyn Scheduler,
    tombstones: &dyn Tombstones,
    shop: &ShopId,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<Erased, EraseError> {
    let redact = CustomerRedact { orders_to_redact: Vec::new() };
    let event = request(shop, email, Payload::CustomerRedacted(redact.clone()), now)?;
    Ok(erase_customer(store, scheduler, tombstones, &event, &redact).await?)
}

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error(transparent)]
    Id(#[from] IdError),
    #[error("the erasure stopped part way; run it again, it resumes where it stopped")]
    Gdpr(#[from] GdprError),
}

#[cfg(test)]
mod tests;
