//! The payloads of canonical events: what happened, in platform-neutral terms.
//!
//! Money is always [`Money`] (integer minor units with the currency), platform ids are
//! [`ExternalId`] text, times are UTC. Optional fields are what some platform does not send.

use crate::ids::ExternalId;
use crate::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened. Serialised with its `type` beside its fields:
/// `{"type": "order.placed", "order_id": "…", …}`.
/// Where a person stands on marketing mail, as a platform or the person stated it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    #[default]
    Unknown,
    Pending,
    Subscribed,
    Unsubscribed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Payload {
    #[serde(rename = "customer.upserted")]
    CustomerUpserted(Customer),
    #[serde(rename = "consent.changed")]
    ConsentChanged(ConsentChange),
    #[serde(rename = "customer.signed_up")]
    SignedUp(Customer),
    #[serde(rename = "checkout.started")]
    CheckoutStarted(Checkout),
    #[serde(rename = "checkout.updated")]
    CheckoutUpdated(Checkout),
    #[serde(rename = "checkout.completed")]
    CheckoutCompleted(Checkout),
    #[serde(rename = "cart.updated")]
    CartUpdated(Cart),
    #[serde(rename = "order.placed")]
    OrderPlaced(Order),
    #[serde(rename = "order.paid")]
    OrderPaid(Order),
    #[serde(rename = "order.cancelled")]
    OrderCancelled(Order),
    #[serde(rename = "order.refunded")]
    OrderRefunded(Refund),
    #[serde(rename = "order.fulfilled")]
    OrderFulfilled(Fulfillment),
    #[serde(rename = "order.delivered")]
    OrderDelivered(Fulfillment),
    #[serde(rename = "product.viewed")]
    ProductViewed(ProductView),
    #[serde(rename = "page.viewed")]
    PageViewed(PageView),
    #[serde(rename = "support.interaction")]
    SupportInteraction(Support),
    /// A product put on sale (a new yearly edition of a line, say): about no customer.
    #[serde(rename = "product.published")]
    ProductPublished(Product),
    #[serde(rename = "gdpr.data_requested")]
    DataRequested(DataRequest),
    #[serde(rename = "gdpr.customer_redacted")]
    CustomerRedacted(CustomerRedact),
    #[serde(rename = "gdpr.shop_redacted")]
    ShopRedacted,
}

impl Payload {
    /// Every detail-type, in the order of the README's table.
    pub const DETAIL_TYPES: [&'static str; 20] = [
        "customer.upserted",
        "consent.changed",
        "customer.signed_up",
        "checkout.started",
        "checkout.updated",
        "checkout.completed",
        "cart.updated",
        "order.placed",
        "order.paid",
        "order.cancelled",
        "order.refunded",
        "order.fulfilled",
        "order.delivered",
        "product.viewed",
        "page.viewed",
        "support.interaction",
        "product.published",
        "gdpr.data_requested",
        "gdpr.customer_redacted",
        "gdpr.shop_redacted",
    ];

    /// The EventBridge `detail-type` (also the serialised `type`).
    pub fn detail_type(&self) -> &'static str {
        let index = match self {
            Payload::CustomerUpserted(_) => 0,
            Payload::ConsentChanged(_) => 1,
            Payload::SignedUp(_) => 2,
            Payload::CheckoutStarted(_) => 3,
            Payload::CheckoutUpdated(_) => 4,
            Payload::CheckoutCompleted(_) => 5,
            Payload::CartUpdated(_) => 6,
            Payload::OrderPlaced(_) => 7,
            Payload::OrderPaid(_) => 8,
            Payload::OrderCancelled(_) => 9,
            Payload::OrderRefunded(_) => 10,
            Payload::OrderFulfilled(_) => 11,
            Payload::OrderDelivered(_) => 12,
            Payload::ProductViewed(_) => 13,
            Payload::PageViewed(_) => 14,
            Payload::SupportInteraction(_) => 15,
            Payload::ProductPublished(_) => 16,
            Payload::DataRequested(_) => 17,
            Payload::CustomerRedacted(_) => 18,
            Payload::ShopRedacted => 19,
        };
        Self::DETAIL_TYPES[index]
    }
}

/// A product line of a cart, checkout, order, refund or fulfillment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_title: Option<String>,
    pub quantity: u32,
    /// Price of one unit before order-level discounts.
    pub unit_price: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    /// Collections, categories or tags the platform attached to the line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Consent stated on the customer record by platforms that still send it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_consent: Option<ConsentChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A marketing-consent decision and when it was taken: a newer decision always wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChange {
    pub state: ConsentState,
    pub changed_at: DateTime<Utc>,
    /// Who recorded it: `shopify`, `woocommerce`, `api`, `unsubscribe-link`, …
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkout {
    pub token: ExternalId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_token: Option<ExternalId>,
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtotal: Option<Money>,
    pub total: Money,
    /// Link that brings the buyer back to this checkout (Shopify's `abandoned_checkout_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    pub token: ExternalId,
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: ExternalId,
    /// The number the customer sees (`#1001`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_token: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_token: Option<ExternalId>,
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtotal: Option<Money>,
    pub total: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_discounts: Option<Money>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discount_codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub financial_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub order_id: ExternalId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<ExternalId>,
    /// Money returned to the customer (positive): by this refund when `refund_id` is set
    /// (Shopify); refunded to date on the order when it is not (WooCommerce sends no
    /// per-refund identity), so consumers must take the larger, never add them up.
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fulfillment {
    pub order_id: ExternalId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_id: Option<ExternalId>,
    /// The platform's status (`success`, `delivered`, `in_transit`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_company: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracking_numbers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracking_urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductView {
    pub product_id: ExternalId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageView {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportKind {
    TicketOpened,
    TicketClosed,
    Satisfaction,
}

/// A customer-service interaction reported by the shop's help desk through the generic API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Support {
    pub ticket_id: ExternalId,
    pub kind: SupportKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Satisfaction score 1–5, for `satisfaction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
}

/// A product of the shop's catalogue, as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub product_id: ExternalId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

/// GDPR access request (Shopify `customers/data_request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders_requested: Vec<ExternalId>,
}

/// GDPR erasure of one customer (Shopify `customers/redact`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRedact {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders_to_redact: Vec<ExternalId>,
}
