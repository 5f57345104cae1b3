//! Platform payloads → canonical [`Event`]s. Pure functions over verified bytes: the
//! signature was checked by the caller, over these exact bytes, before anything here runs.

mod fields;
pub mod ses;
pub mod shopify;
pub mod shopify_bulk;
pub mod woocommerce;

pub use fields::*;

use crate::events::{Context, Event, Identity, Payload, Platform, SCHEMA_VERSION};
use crate::ids::{EventId, ShopId};
use crate::money::Currency;
use chrono::{DateTime, Utc};

/// One verified delivery from a platform.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub shop: &'a ShopId,
    /// `orders/create` (Shopify), `order.updated` (WooCommerce).
    pub topic: &'a str,
    /// The platform's id of this event or delivery (`X-Shopify-Event-Id`,
    /// `X-WC-Webhook-Delivery-ID`): a redelivery carries the same one.
    pub delivery_id: &'a str,
    /// When the platform says the event happened (`X-Shopify-Triggered-At`), if it says.
    pub triggered_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub body: &'a [u8],
    /// The shop's currency, for payloads that do not name theirs.
    pub shop_currency: Option<Currency>,
}

/// A placed order as a platform's admin API lists it, with the times of what became of it
/// since: what an import of the shop's history reads ([`woocommerce::stored_order`],
/// [`shopify_bulk::bulk_order`]), where a webhook tells one change at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrder {
    pub identity: Identity,
    /// As placed; `cancelled_at` set when it was cancelled.
    pub order: crate::events::Order,
    pub placed_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// Refunded to date, when anything was (no date of its own).
    pub refunded: Option<crate::money::Money>,
    /// The buyer's names as the order states them.
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Whether the buyer accepted marketing, as the order states it.
    pub accepts_marketing: Option<bool>,
}

/// What a delivery becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Event(Box<Event>),
    /// A topic Relance does not use (answered 2xx, logged, nothing published).
    Ignored {
        reason: &'static str,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum NormaliseError {
    #[error("body is not valid JSON")]
    Json(#[source] serde_json::Error),
    #[error("{field}: {reason}")]
    Field { field: &'static str, reason: String },
}

impl NormaliseError {
    pub fn field(field: &'static str, reason: impl std::fmt::Display) -> Self {
        NormaliseError::Field { field, reason: reason.to_string() }
    }
}

/// The canonical id of a platform delivery: `<platform>:<shop>:<delivery id>`. Stable
/// across redeliveries, unique across shops and platforms.
pub fn event_id(platform: Platform, shop: &ShopId, delivery_id: &str) -> Result<EventId, NormaliseError> {
    EventId::parse(format!("{}:{shop}:{delivery_id}", platform.as_str()))
        .map_err(|e| NormaliseError::field("delivery id", e))
}

/// Assembles an event of a delivery.
pub fn event(
    platform: Platform,
    delivery: &Delivery<'_>,
    occurred_at: Option<DateTime<Utc>>,
    identity: Identity,
    context: Context,
    payload: Payload,
) -> Result<Outcome, NormaliseError> {
    Ok(Outcome::Event(Box::new(Event {
        schema_version: SCHEMA_VERSION,
        id: event_id(platform, delivery.shop, delivery.delivery_id)?,
        shop: delivery.shop.clone(),
        platform,
        occurred_at: delivery.triggered_at.or(occurred_at).unwrap_or(delivery.received_at),
        received_at: delivery.received_at,
        identity,
        context,
        payload,
    })))
}
