//! Shopify webhook payloads → canonical events.
//!
//! The topic comes from `X-Shopify-Topic`; the body is the resource itself (an order, a
//! checkout, a customer…), never wrapped. Every topic Relance uses maps to exactly one
//! event; any other topic is [`Outcome::Ignored`], never an error, because Shopify removes
//! subscriptions that keep failing (SPECS: Shopify webhooks).
//!
//! Ids are read as exact integers or strings (real ones exceed 2^53), money as decimal
//! strings in the resource's currency, times with their offset and stored in UTC.

use super::{Delivery, NormaliseError, Outcome, fields};
use crate::events::ConsentState;
use crate::events::{
    Acquisition, Cart, Checkout, ConsentChange, Context, Customer, CustomerRedact, DataRequest, Fulfillment, Identity,
    LineItem, Order, Payload, Platform, Refund,
};
use crate::ids::{Email, ExternalId};
use crate::money::{Currency, Money};
use chrono::{DateTime, Utc};
use serde_json::Value;

type Build = fn(&Delivery<'_>, &Value) -> Result<Outcome, NormaliseError>;

/// The topics a shop subscribes Relance to through the Admin API (`relance connect
/// shopify`): every topic [`normalise`] maps but the compliance topics.
pub const SUBSCRIBED_TOPICS: &[&str] = &[
    "customers/create",
    "customers/update",
    "customers_email_marketing_consent/update",
    "checkouts/create",
    "checkouts/update",
    "carts/create",
    "carts/update",
    "orders/create",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "refunds/create",
    "fulfillments/create",
    "fulfillments/update",
    "fulfillment_events/create",
];

/// The mandatory compliance topics (SPECS: Shopify webhooks): set in the app's
/// configuration, not through the Admin API's subscriptions.
pub const COMPLIANCE_TOPICS: &[&str] = &["customers/data_request", "customers/redact", "shop/redact"];

/// Maps one verified Shopify delivery to its canonical event.
pub fn normalise(delivery: &Delivery<'_>) -> Result<Outcome, NormaliseError> {
    let build: Build = match delivery.topic {
        "customers/create" => |d, b| customer(d, b, Payload::SignedUp),
        "customers/update" => |d, b| customer(d, b, Payload::CustomerUpserted),
        "customers_email_marketing_consent/update" => consent_update,
        "checkouts/create" => |d, b| checkout(d, b, true),
        "checkouts/update" => |d, b| checkout(d, b, false),
        "carts/create" | "carts/update" => cart,
        "orders/create" => |d, b| order_event(d, b, OrderTopic::Placed),
        "orders/paid" => |d, b| order_event(d, b, OrderTopic::Paid),
        "orders/cancelled" => |d, b| order_event(d, b, OrderTopic::Cancelled),
        "orders/fulfilled" => |d, b| order_event(d, b, OrderTopic::Fulfilled),
        "refunds/create" => refund,
        "fulfillments/create" | "fulfillments/update" => fulfillment,
        "fulfillment_events/create" => fulfillment_event,
        "customers/data_request" => data_request,
        "customers/redact" => customer_redact,
        "shop/redact" => |d, _| event(d, None, Identity::default(), Context::default(), Payload::ShopRedacted),
        // app/uninstalled, products/*, orders/updated, …: nothing Relance acts on.
        _ => return Ok(Outcome::Ignored { reason: "shopify topic not used by relance" }),
    };
    let body = fields::object(delivery.body)?;
    build(delivery, &body)
}

fn event(
    delivery: &Delivery<'_>,
    occurred_at: Option<DateTime<Utc>>,
    identity: Identity,
    context: Context,
    payload: Payload,
) -> Result<Outcome, NormaliseError> {
    super::event(Platform::Shopify, delivery, occurred_at, identity, context, payload)
}

// --- customers and consent -------------------------------------------------------------

fn customer(delivery: &Delivery<'_>, body: &Value, wrap: fn(Customer) -> Payload) -> Result<Outcome, NormaliseError> {
    let identity = Identity {
        email: fields::email(body, "email"),
        customer_id: fields::external_id(body, "id")?,
        ..Identity::default()
    };
    let created_at = fields::time(body, "created_at")?;
    let updated_at = fields::time(body, "updated_at")?;
    let customer = Customer {
        first_name: fields::text(body, "first_name"),
        last_name: fields::text(body, "last_name"),
        phone: fields::text(body, "phone"),
        created_at,
        marketing_consent: customer_consent(body, updated_at)?,
        tags: tags(body)?,
    };
    let context = Context { locale: fields::text(body, "locale"), ..Context::default() };
    event(delivery, updated_at.or(created_at), identity, context, wrap(customer))
}

/// Consent stated on a customer record: `email_marketing_consent` (API 2022-04 to 2024-10),
/// else the legacy `accepts_marketing` flag. Since API 2025-01 customer payloads carry
/// neither (SPECS: Shopify webhooks) and consent arrives through its own topic: `None`.
/// A decision without any time is dropped: it could not be ordered against newer ones.
fn customer_consent(body: &Value, updated_at: Option<DateTime<Utc>>) -> Result<Option<ConsentChange>, NormaliseError> {
    let (state, changed_at) = match body.get("email_marketing_consent").filter(|c| c.is_object()) {
        Some(consent) => (consent_state(consent)?, fields::time(consent, "consent_updated_at")?),
        None => match body.get("accepts_marketing").and_then(Value::as_bool) {
            Some(accepts) => (
                if accepts { ConsentState::Subscribed } else { ConsentState::Unsubscribed },
                fields::time(body, "accepts_marketing_updated_at")?,
            ),
            None => return Ok(None),
        },
    };
    Ok(changed_at.or(updated_at).map(|changed_at| ConsentChange { state, changed_at, source: "shopify".to_owned() }))
}

/// Shopify's `email_marketing_consent.state` → [`ConsentState`]:
/// - `subscribed` → `Subscribed`;
/// - `pending` (double opt-in not yet confirmed) → `Pending`;
/// - `unsubscribed` (withdrawn), `not_subscribed` (never given), `redacted` (erased) and
///   `invalid` (address cannot receive marketing) → `Unsubscribed`: none allows marketing;
/// - a state a later API version adds → `Unknown`, rather than failing the delivery.
fn consent_state(consent: &Value) -> Result<ConsentState, NormaliseError> {
    let state = fields::text(consent, "state").ok_or_else(|| NormaliseError::field("state", "is missing"))?;
    Ok(match state.to_ascii_lowercase().as_str() {
        "subscribed" => ConsentState::Subscribed,
        "pending" => ConsentState::Pending,
        "unsubscribed" | "not_subscribed" | "redacted" | "invalid" => ConsentState::Unsubscribed,
        _ => ConsentState::Unknown,
    })
}

/// Tags: a comma-separated string in REST payloads (`"Léon, Noël"`), a list elsewhere.
fn tags(body: &Value) -> Result<Vec<String>, NormaliseError> {
    let split = |raw: &str| raw.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
    match body.get("tags") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(raw)) => Ok(split(raw)),
        Some(Value::Array(items)) => Ok(items.iter().filter_map(Value::as_str).flat_map(split).collect()),
        Some(_) => Err(NormaliseError::field("tags", "is neither a string nor a list")),
    }
}

/// `customers_email_marketing_consent/update`: `{customer_id, email_address,
/// email_marketing_consent{state, opt_in_level, consent_updated_at}}`. Without a
/// `consent_updated_at` the change is dated by the delivery (the topic fires on the change).
fn consent_update(delivery: &Delivery<'_>, body: &Value) -> Result<Outcome, NormaliseError> {
    let identity = Identity {
        email: fields::email(body, "email_address"),
        customer_id: fields::external_id(body, "customer_id")?,
        ..Identity::default()
    };
    let consent = body
        .get("email_marketing_consent")
        .filter(|c| c.is_object())
        .ok_or_else(|| NormaliseError::field("email_marketing_consent", "is missing"))?;
    let state = consent_state(consent)?;
    let stated_at = fields::time(consent, "consent_updated_at")?;
    let changed_at = stated_at.or(delivery.triggered_at).unwrap_or(delivery.received_at);
    let change = ConsentChange { state, changed_at, source: "shopify".to_owned() };
    event(delivery, stated_at, identity, Context::default(), Payload::ConsentChanged(change))
}

// --- checkouts and carts ----------------------------------------------------------------

fn checkout(delivery: &Delivery<'_>, body: &Value, created: bool) -> Result<Outcome, NormaliseError> {
    let currency = currency(body, delivery.shop_currency)?;
    let completed_at = fields::time(body, "completed_at")?;
    let checkout = Checkout {
        token: fields::required_id(body, "token")?,
        cart_token: fields::external_id(body, "cart_token")?,
        line_items: line_items(fields::array(body, "line_items")?, currency)?,
        subtotal: amount(body, "subtotal_price", currency)?,
        total: required_amount(body, "total_price", currency)?,
        recovery_url: fields::text(body, "abandoned_checkout_url"),
        completed_at,
    };
    let (occurred_at, payload) = if created {
        (fields::time(body, "created_at")?, Payload::CheckoutStarted(checkout))
    } else if completed_at.is_some() {
        (completed_at, Payload::CheckoutCompleted(checkout))
    } else {
        (fields::time(body, "updated_at")?, Payload::CheckoutUpdated(checkout))
    };
    event(delivery, occurred_at, buyer(body)?, buyer_context(body), payload)
}

/// `carts/*` carry a token and lines, no identity (SPECS: Shopify webhooks) and often no
/// currency: the shop's is used, and without one a priced line is an error.
fn cart(delivery: &Delivery<'_>, body: &Value) -> Result<Outcome, NormaliseError> {
    let currency = currency(body, delivery.shop_currency)?;
    let token = match fields::external_id(body, "token")? {
        Some(token) => token,
        None => fields::required_id(body, "id")?,
    };
    let cart = Cart {
        token,
        line_items: line_items(fields::array(body, "line_items")?, currency)?,
        total: amount(body, "total_price", currency)?,
    };
    let occurred_at = fields::time(body, "updated_at")?.or(fields::time(body, "created_at")?);
    event(delivery, occurred_at, Identity::default(), Context::default(), Payload::CartUpdated(cart))
}

// --- orders, refunds, fulfillments --------------------------------------------------------

#[derive(Clone, Copy)]
enum OrderTopic {
    Placed,
    Paid,
    Cancelled,
    Fulfilled,
}

fn order_event(delivery: &Delivery<'_>, body: &Value, topic: OrderTopic) -> Result<Outcome, NormaliseError> {
    let order = order(body, delivery.shop_currency)?;
    let created = || -> Result<_, NormaliseError> {
        Ok(fields::time(body, "processed_at")?.or(fields::time(body, "created_at")?))
    };
    let updated = fields::time(body, "updated_at")?;
    let (occurred_at, payload) = match topic {
        OrderTopic::Placed => (created()?, Payload::OrderPlaced(order)),
        OrderTopic::Paid => (updated.or(created()?), Payload::OrderPaid(order)),
        OrderTopic::Cancelled => (order.cancelled_at.or(updated), Payload::OrderCancelled(order)),
        OrderTopic::Fulfilled => {
            let last = fields::array(body, "fulfillments")?.last().filter(|f| f.is_object());
            let (mut fulfillment, at) = match last {
                Some(last) => (fulfillment_of(last, order.order_id.clone())?, fields::time(last, "updated_at")?),
                None => (bare_fulfillment(order.order_id.clone()), None),
            };
            fulfillment.status = fulfillment.status.or(order.fulfillment_status);
            fulfillment.line_items = order.line_items;
            (at.or(updated), Payload::OrderFulfilled(fulfillment))
        }
    };
    event(delivery, occurred_at, buyer(body)?, buyer_context(body), payload)
}

fn order(body: &Value, shop_currency: Option<Currency>) -> Result<Order, NormaliseError> {
    let currency = currency(body, shop_currency)?;
    let discount_codes =
        fields::array(body, "discount_codes")?.iter().filter_map(|d| fields::text(d, "code")).collect();
    Ok(Order {
        order_id: fields::required_id(body, "id")?,
        name: fields::text(body, "name"),
        checkout_token: fields::external_id(body, "checkout_token")?,
        cart_token: fields::external_id(body, "cart_token")?,
        line_items: line_items(fields::array(body, "line_items")?, currency)?,
        subtotal: amount(body, "subtotal_price", currency)?,
        total: required_amount(body, "total_price", currency)?,
        total_discounts: amount(body, "total_discounts", currency)?,
        discount_codes,
        financial_status: fields::text(body, "financial_status"),
        fulfillment_status: fields::text(body, "fulfillment_status"),
        cancelled_at: fields::time(body, "cancelled_at")?,
    })
}

/// `refunds/create`: the amount is what successful `refund` transactions returned, in
/// their currency; a refund without transactions (restock only, or an older payload) is
/// worth the sum of its lines' subtotals.
fn refund(delivery: &Delivery<'_>, body: &Value) -> Result<Outcome, NormaliseError> {
    let shop = delivery.shop_currency;
    let refund_lines = fields::array(body, "refund_line_items")?;
    let transactions = fields::array(body, "transactions")?;
    let mut total: Option<Money> = None;
    let mut add = |money: Money| -> Result<(), NormaliseError> {
        total = Some(match total {
            Some(sum) => sum.checked_add(money).map_err(|e| NormaliseError::field("amount", e))?,
            None => money,
        });
        Ok(())
    };
    // The currency of a refund that returned nothing: the first one the payload names.
    let mut named: Option<Currency> = None;
    let mut line_items = Vec::with_capacity(refund_lines.len());
    for refund_line in refund_lines {
        let currency = set_currency(refund_line, "subtotal_set")?.or(shop);
        named = named.or(currency);
        if transactions.is_empty() {
            let subtotal = match refund_line.get("subtotal_set").and_then(|s| s.get("shop_money")) {
                Some(shop_money) => amount(shop_money, "amount", currency)?,
                None => amount(refund_line, "subtotal", currency)?,
            };
            if let Some(subtotal) = subtotal {
                add(subtotal)?;
            }
        }
        if let Some(line) = refund_line.get("line_item").filter(|l| l.is_object()) {
            let mut item = line_item(line, set_currency(line, "price_set")?.or(currency))?;
            item.quantity = fields::quantity(refund_line, "quantity")?;
            line_items.push(item);
        }
    }
    for transaction in transactions {
        let kind = fields::text(transaction, "kind");
        let status = fields::text(transaction, "status");
        let currency = currency(transaction, shop)?;
        named = named.or(currency);
        if kind.as_deref() == Some("refund") && status.as_deref() == Some("success") {
            add(required_amount(transaction, "amount", currency)?)?;
        }
    }
    let amount = match (total, named) {
        (Some(total), _) => total,
        (None, Some(currency)) => Money::from_minor(0, currency),
        (None, None) => return Err(NormaliseError::field("transactions", "no refunded amount and no currency")),
    };
    let refund = Refund {
        order_id: fields::required_id(body, "order_id")?,
        refund_id: fields::external_id(body, "id")?,
        amount,
        line_items,
    };
    let occurred_at = fields::time(body, "processed_at")?.or(fields::time(body, "created_at")?);
    event(delivery, occurred_at, Identity::default(), Context::default(), Payload::OrderRefunded(refund))
}

/// `fulfillments/*`: a shipment. It becomes a delivery once its `shipment_status` is
/// `delivered` (SPECS: Shopify webhooks — the trigger for a review request).
fn fulfillment(delivery: &Delivery<'_>, body: &Value) -> Result<Outcome, NormaliseError> {
    let mut fulfillment = fulfillment_of(body, fields::required_id(body, "order_id")?)?;
    let currency = currency(body, delivery.shop_currency)?;
    fulfillment.line_items = line_items(fields::array(body, "line_items")?, currency)?;
    let shipment_status = fields::text(body, "shipment_status");
    let delivered = shipment_status.as_deref() == Some("delivered");
    fulfillment.status = shipment_status.or(fulfillment.status);
    let occurred_at = fields::time(body, "updated_at")?.or(fields::time(body, "created_at")?);
    let payload = if delivered { Payload::OrderDelivered(fulfillment) } else { Payload::OrderFulfilled(fulfillment) };
    event(delivery, occurred_at, Identity::default(), Context::default(), payload)
}

/// `fulfillment_events/create` (`{order_id, fulfillment_id, status, happened_at, …}`).
/// Only `delivered` is used: the shipment itself was already reported by
/// `fulfillments/create`, and carrier steps (`in_transit`, `out_for_delivery`…) trigger
/// nothing, so they are ignored rather than published as more fulfillments.
fn fulfillment_event(delivery: &Delivery<'_>, body: &Value) -> Result<Outcome, NormaliseError> {
    if fields::text(body, "status").as_deref() != Some("delivered") {
        return Ok(Outcome::Ignored { reason: "shopify fulfillment event is not a delivery" });
    }
    let fulfillment = Fulfillment {
        fulfillment_id: fields::external_id(body, "fulfillment_id")?,
        status: Some("delivered".to_owned()),
        ..bare_fulfillment(fields::required_id(body, "order_id")?)
    };
    let occurred_at = fields::time(body, "happened_at")?.or(fields::time(body, "created_at")?);
    event(delivery, occurred_at, Identity::default(), Context::default(), Payload::OrderDelivered(fulfillment))
}

/// The shipment facts of a Shopify fulfillment object (lines are added by the caller).
fn fulfillment_of(value: &Value, order_id: ExternalId) -> Result<Fulfillment, NormaliseError> {
    let strings = |list: &'static str, single: &str| -> Result<Vec<String>, NormaliseError> {
        let listed: Vec<String> = fields::array(value, list)?
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(if listed.is_empty() { fields::text(value, single).into_iter().collect() } else { listed })
    };
    Ok(Fulfillment {
        fulfillment_id: fields::external_id(value, "id")?,
        status: fields::text(value, "status"),
        tracking_company: fields::text(value, "tracking_company"),
        tracking_numbers: strings("tracking_numbers", "tracking_number")?,
        tracking_urls: strings("tracking_urls", "tracking_url")?,
        ..bare_fulfillment(order_id)
    })
}

/// A fulfillment of `order_id` with nothing else known yet.
fn bare_fulfillment(order_id: ExternalId) -> Fulfillment {
    Fulfillment {
        order_id,
        fulfillment_id: None,
        status: None,
        tracking_company: None,
        tracking_numbers: Vec::new(),
        tracking_urls: Vec::new(),
        line_items: Vec::new(),
    }
}

// --- GDPR compliance topics ----------------------------------------------------------------

fn data_request(delivery: &Delivery<'_>, body: &Value) -> Result<Outcome, NormaliseError> {
    let request = DataRequest {
        request_id: match body.get("data_request") {
            Some(request) => fields::external_id(request, "id")?,
            None => None,
        },
        orders_requested: id_list(body, "orders_requested")?,
    };
    event(delivery, None, compliance_identity(body)?, Context::default(), Payload::DataRequested(request))
}

fn customer_redact(delivery: &Delivery<'_>, body: &Value) -> Result<Outcome, NormaliseError> {
    let redact = CustomerRedact { orders_to_redact: id_list(body, "orders_to_redact")? };
    event(delivery, None, compliance_identity(body)?, Context::default(), Payload::CustomerRedacted(redact))
}

fn compliance_identity(body: &Value) -> Result<Identity, NormaliseError> {
    let Some(customer) = body.get("customer").filter(|c| c.is_object()) else { return Ok(Identity::default()) };
    Ok(Identity {
        email: fields::email(customer, "email"),
        customer_id: fields::external_id(customer, "id")?,
        ..Identity::default()
    })
}

/// A list of ids (`[299938, 280263]`), each exact and never through f64.
fn id_list(body: &Value, key: &'static str) -> Result<Vec<ExternalId>, NormaliseError> {
    let mut ids = Vec::new();
    for item in fields::array(body, key)? {
        let raw = match item {
            Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
            Value::String(s) => s.trim().to_owned(),
            _ => return Err(NormaliseError::field(key, "holds something that is not an id")),
        };
        if !raw.is_empty() && raw != "0" {
            ids.push(ExternalId::parse(raw).map_err(|e| NormaliseError::field(key, e))?);
        }
    }
    Ok(ids)
}

// --- shared pieces ----------------------------------------------------------------------

/// Who bought (checkouts and orders): the resource's `email`, else `contact_email`, else
/// its customer's; the customer's id.
fn buyer(body: &Value) -> Result<Identity, NormaliseError> {
    let customer = body.get("customer").filter(|c| c.is_object());
    let email: Option<Email> = fields::email(body, "email")
        .or_else(|| fields::email(body, "contact_email"))
        .or_else(|| customer.and_then(|c| fields::email(c, "email")));
    Ok(Identity {
        email,
        customer_id: match customer {
            Some(customer) => fields::external_id(customer, "id")?,
            None => None,
        },
        ..Identity::default()
    })
}

fn buyer_context(body: &Value) -> Context {
    let raw = |key| body.get(key).and_then(Value::as_str);
    Context {
        locale: fields::text(body, "customer_locale"),
        time_zone: None,
        acquisition: Acquisition::from_landing(raw("landing_site"), raw("referring_site"), raw("source_name")),
        ..Context::default()
    }
}

/// The currency of a resource's amounts: its `currency`, else `presentment_currency`,
/// else the shop's. `None` when nobody names one: then no amount can be read.
fn currency(body: &Value, shop: Option<Currency>) -> Result<Option<Currency>, NormaliseError> {
    for key in ["currency", "presentment_currency"] {
        if fields::text(body, key).is_some() {
            return fields::currency(body, key, None).map(Some);
        }
    }
    Ok(shop)
}

/// The shop currency of a `*_set` field (`price_set.shop_money.currency_code`).
fn set_currency(value: &Value, set: &str) -> Result<Option<Currency>, NormaliseError> {
    match value.get(set).and_then(|s| s.get("shop_money")) {
        Some(shop_money) => currency_code(shop_money),
        None => Ok(None),
    }
}

fn currency_code(shop_money: &Value) -> Result<Option<Currency>, NormaliseError> {
    match fields::text(shop_money, "currency_code") {
        Some(_) => fields::currency(shop_money, "currency_code", None).map(Some),
        None => Ok(None),
    }
}

/// An optional amount; present without any known currency, it is an error.
fn amount(value: &Value, key: &'static str, currency: Option<Currency>) -> Result<Option<Money>, NormaliseError> {
    match (value.get(key), currency) {
        (_, Some(currency)) => fields::money(value, key, currency),
        (None | Some(Value::Null), None) => Ok(None),
        (Some(Value::String(s)), None) if s.trim().is_empty() => Ok(None),
        (Some(_), None) => {
            Err(NormaliseError::field(key, "has no currency: neither the payload nor the shop names one"))
        }
    }
}

fn required_amount(value: &Value, key: &'static str, currency: Option<Currency>) -> Result<Money, NormaliseError> {
    amount(value, key, currency)?.ok_or_else(|| NormaliseError::field(key, "is missing"))
}

fn line_items(items: &[Value], currency: Option<Currency>) -> Result<Vec<LineItem>, NormaliseError> {
    items.iter().map(|item| line_item(item, currency)).collect()
}

/// One product line of a cart, checkout, order, refund or fulfillment. A line without a
/// `title` falls back to its `name`, then to an empty title: a missing label must not
/// lose the order.
fn line_item(item: &Value, currency: Option<Currency>) -> Result<LineItem, NormaliseError> {
    if !item.is_object() {
        return Err(NormaliseError::field("line_items", "holds something that is not an object"));
    }
    Ok(LineItem {
        product_id: fields::external_id(item, "product_id")?,
        variant_id: fields::external_id(item, "variant_id")?,
        sku: fields::text(item, "sku"),
        title: fields::text(item, "title").or_else(|| fields::text(item, "name")).unwrap_or_default(),
        variant_title: fields::text(item, "variant_title"),
        quantity: fields::quantity(item, "quantity")?,
        unit_price: required_amount(item, "price", currency)?,
        vendor: fields::text(item, "vendor"),
        product_type: fields::text(item, "product_type"),
        categories: Vec::new(),
        image_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;
    use crate::ids::ShopId;
    use chrono::TimeZone;
    use serde_json::json;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::parse("USD").unwrap())
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
    }

    fn deliver_with(topic: &str, body: &[u8], shop_currency: Option<Currency>) -> Result<Outcome, NormaliseError> {
        let shop = ShopId::parse("demo.myshopify.com").unwrap();
        normalise(&Delivery {
            shop: &shop,
            topic,
            delivery_id: "evt-1",
            triggered_at: None,
            received_at: Utc.with_ymd_and_hms(2025, 7, 3, 12, 0, 0).unwrap(),
            body,
            shop_currency,
        })
    }

    fn deliver(topic: &str, body: &[u8]) -> Result<Outcome, NormaliseError> {
        deliver_with(topic, body, Some(eur()))
    }

    /// The event of a delivery that must become one, with the envelope facts every event shares.
    fn event_of(topic: &str, body: &[u8]) -> Event {
        match deliver(topic, body) {
            Ok(Outcome::Event(event)) => {
                assert_eq!(event.id.as_str(), "shopify:demo.myshopify.com:evt-1");
                assert_eq!(event.shop.as_str(), "demo.myshopify.com");
                assert_eq!(event.platform, Platform::Shopify);
                *event
            }
            other => panic!("{topic}: expected an event, got {other:?}"),
        }
    }

    /// A fixture with some fields replaced, for variants of a real payload.
    fn edited(fixture: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut value: Value = serde_json::from_slice(fixture).unwrap();
        edit(&mut value);
        serde_json::to_vec(&value).unwrap()
    }

    fn assert_identity(event: &Event, email: &str, customer_id: &str) {
        assert_eq!(event.identity.email.as_ref().map(Email::as_str), Some(email));
        assert_eq!(event.identity.customer_id.as_ref().map(ExternalId::as_str), Some(customer_id));
    }

    fn id(value: &Option<ExternalId>) -> Option<&str> {
        value.as_ref().map(ExternalId::as_str)
    }

    const CARTS_UPDATE: &[u8] = include_bytes!("../../../tests/fixtures/shopify/carts-update__legacy.json");
    const CHECKOUTS_CREATE: &[u8] = include_bytes!("../../../tests/fixtures/shopify/checkouts-create__2025-07.json");
    const CHECKOUTS_UPDATE: &[u8] = include_bytes!("../../../tests/fixtures/shopify/checkouts-update__legacy.json");
    const CUSTOMERS_CREATE: &[u8] = include_bytes!("../../../tests/fixtures/shopify/customers-create__2025-07.json");
    const CUSTOMERS_UPDATE: &[u8] = include_bytes!("../../../tests/fixtures/shopify/customers-update__legacy.json");
    const DATA_REQUEST: &[u8] = include_bytes!("../../../tests/fixtures/shopify/customers-data_request__template.json");
    const CUSTOMERS_REDACT: &[u8] = include_bytes!("../../../tests/fixtures/shopify/customers-redact__template.json");
    const SHOP_REDACT: &[u8] = include_bytes!("../../../tests/fixtures/shopify/shop-redact__template.json");
    const FULFILLMENTS_CREATE: &[u8] =
        include_bytes!("../../../tests/fixtures/shopify/fulfillments-create__legacy.json");
    const ORDERS_CREATE: &[u8] = include_bytes!("../../../tests/fixtures/shopify/orders-create__2025-07.json");
    const ORDERS_CREATE_LEGACY: &[u8] = include_bytes!("../../../tests/fixtures/shopify/orders-create__legacy.json");
    const REFUNDS_CREATE: &[u8] = include_bytes!("../../../tests/fixtures/shopify/refunds-create__2025-07.json");

    #[test]
    fn cart_update_without_currency_is_priced_in_the_shop_currency() {
        let event = event_of("carts/update", CARTS_UPDATE);
        assert_eq!(event.payload.detail_type(), "cart.updated");
        assert!(event.identity.is_empty());
        assert_eq!(event.occurred_at, utc("2012-02-13T19:39:37Z"));
        let Payload::CartUpdated(cart) = event.payload else { panic!("{:?}", event.payload) };
        assert_eq!(cart.token.as_str(), "3eed8183d4281db6ea82ee2b8f23e9cc");
        assert_eq!(cart.total, None);
        assert_eq!(cart.line_items.len(), 1);
        let line = &cart.line_items[0];
        assert_eq!((id(&line.product_id), id(&line.variant_id)), (None, Some("1")));
        assert_eq!(line.sku, None, "a blank sku is no sku");
        assert_eq!((line.title.as_str(), line.quantity), ("test", 1));
        assert_eq!(line.unit_price, Money::from_minor(100, eur()));
        assert_eq!(line.vendor.as_deref(), Some("test"));
    }

    #[test]
    fn cart_create_is_a_cart_update_too() {
        let event = event_of("carts/create", CARTS_UPDATE);
        assert_eq!(event.payload.detail_type(), "cart.updated");
    }

    #[test]
    fn cart_without_any_currency_is_a_field_error() {
        let err = deliver_with("carts/update", CARTS_UPDATE, None).unwrap_err();
        assert!(matches!(err, NormaliseError::Field { field: "price", .. }), "{err}");
    }

    #[test]
    fn cart_without_token_uses_its_id() {
        let body = edited(CARTS_UPDATE, |v| v["token"] = Value::Null);
        let Payload::CartUpdated(cart) = event_of("carts/update", &body).payload else { panic!() };
        assert_eq!(cart.token.as_str(), "2");
    }

    #[test]
    fn checkout_create_starts_a_checkout_with_its_recovery_link() {
        let event = event_of("checkouts/create", CHECKOUTS_CREATE);
        assert_eq!(event.payload.detail_type(), "checkout.started");
        assert_identity(&event, "bob.norman@mail.example.com", "207119551");
        assert_eq!(event.occurred_at, utc("2012-10-12T11:05:27Z"));
        assert_eq!(event.context.locale.as_deref(), Some("en"));
        assert_eq!(event.context.acquisition.source_name.as_deref(), Some("web"));
        assert_eq!(event.context.acquisition.landing_site, None);
        let Payload::CheckoutStarted(checkout) = event.payload else { panic!() };
        assert_eq!(checkout.token.as_str(), "2a1ace52255252df566af0faaedfbfa7");
        assert_eq!(id(&checkout.cart_token), Some("68778783ad298f1c80c3bafcddeea02f"));
        assert_eq!(
            checkout.recovery_url.as_deref(),
            Some("https://checkout.local/548380009/checkouts/2a1ace52255252df566af0faaedfbfa7/recover")
        );
        assert_eq!(checkout.subtotal, Some(usd(35820)));
        assert_eq!(checkout.total, usd(37969));
        assert_eq!(checkout.completed_at, None);
        assert_eq!(checkout.line_items.len(), 2);
        let line = &checkout.line_items[0];
        assert_eq!((id(&line.product_id), id(&line.variant_id)), (Some("632910392"), Some("49148385")));
        assert_eq!((line.sku.as_deref(), line.variant_title.as_deref()), (Some("IPOD2008RED"), Some("Red")));
        assert_eq!((line.quantity, line.unit_price), (1, usd(19900)));
        assert_eq!(line.vendor.as_deref(), Some("Apple"));
    }

    #[test]
    fn checkout_update_without_completion_is_an_update() {
        let event = event_of("checkouts/update", CHECKOUTS_UPDATE);
        assert_eq!(event.payload.detail_type(), "checkout.updated");
        assert_identity(&event, "bob.norman@hostmail.com", "207119551");
        assert_eq!(event.occurred_at, utc("2012-10-12T11:05:27Z"));
        assert_eq!(event.context.locale, None);
        let Payload::CheckoutUpdated(checkout) = event.payload else { panic!() };
        assert_eq!(checkout.token.as_str(), "2a1ace52255252df566af0faaedfbfa7");
        assert_eq!(
            checkout.recovery_url.as_deref(),
            Some("https://checkout.local/orders/690933842/2a1ace52255252df566af0faaedfbfa7?recovered=1")
        );
        assert_eq!((checkout.subtotal, checkout.total), (Some(usd(39800)), usd(40994)));
        assert_eq!(checkout.line_items.len(), 2);
        assert_eq!(id(&checkout.line_items[1].variant_id), Some("808950810"));
        assert_eq!(checkout.line_items[1].unit_price, usd(19900));
    }

    #[test]
    fn checkout_update_with_completed_at_completes_the_checkout() {
        let body = edited(CHECKOUTS_UPDATE, |v| v["completed_at"] = json!("2012-10-12T08:00:00-04:00"));
        let event = event_of("checkouts/update", &body);
        assert_eq!(event.payload.detail_type(), "checkout.completed");
        assert_eq!(event.occurred_at, utc("2012-10-12T12:00:00Z"));
        let Payload::CheckoutCompleted(checkout) = event.payload else { panic!() };
        assert_eq!(checkout.completed_at, Some(utc("2012-10-12T12:00:00Z")));
    }

    #[test]
    fn customer_create_signs_up_with_tags_and_consent() {
        let event = event_of("customers/create", CUSTOMERS_CREATE);
        assert_eq!(event.payload.detail_type(), "customer.signed_up");
        assert_identity(&event, "bob.norman@mail.example.com", "207119551");
        assert_eq!(event.occurred_at, utc("2025-07-02T16:25:58Z"));
        let Payload::SignedUp(customer) = event.payload else { panic!() };
        assert_eq!((customer.first_name.as_deref(), customer.last_name.as_deref()), (Some("Bob"), Some("Norman")));
        assert_eq!(customer.phone.as_deref(), Some("+16136120707"));
        assert_eq!(customer.created_at, Some(utc("2025-07-02T16:25:58Z")));
        assert_eq!(customer.tags, ["Léon", "Noël"]);
        let consent = customer.marketing_consent.unwrap();
        assert_eq!(consent.state, ConsentState::Unsubscribed, "not_subscribed allows no marketing");
        assert_eq!(consent.changed_at, utc("2004-06-13T15:57:11Z"));
        assert_eq!(consent.source, "shopify");
    }

    #[test]
    fn legacy_customer_update_reads_accepts_marketing() {
        let event = event_of("customers/update", CUSTOMERS_UPDATE);
        assert_eq!(event.payload.detail_type(), "customer.upserted");
        assert_identity(&event, "bob.norman@hostmail.com", "207119551");
        assert_eq!(event.occurred_at, utc("2015-05-27T22:11:24Z"));
        let Payload::CustomerUpserted(customer) = event.payload else { panic!() };
        assert!(customer.tags.is_empty());
        assert_eq!(customer.phone, None);
        let consent = customer.marketing_consent.unwrap();
        assert_eq!((consent.state, consent.changed_at), (ConsentState::Unsubscribed, utc("2015-05-27T22:11:24Z")));

        let body = edited(CUSTOMERS_UPDATE, |v| {
            v["accepts_marketing"] = json!(true);
            v["accepts_marketing_updated_at"] = json!("2015-05-28T10:00:00+02:00");
        });
        let Payload::CustomerUpserted(customer) = event_of("customers/update", &body).payload else { panic!() };
        let consent = customer.marketing_consent.unwrap();
        assert_eq!((consent.state, consent.changed_at), (ConsentState::Subscribed, utc("2015-05-28T08:00:00Z")));
    }

    #[test]
    fn customer_payload_without_consent_has_none() {
        // SPECS: Shopify webhooks — since 2025-01 customers/* carry no consent and no tags.
        let body = edited(CUSTOMERS_CREATE, |v| {
            let customer = v.as_object_mut().unwrap();
            customer.remove("email_marketing_consent");
            customer.remove("tags");
            customer.insert("locale".into(), json!("fr"));
        });
        let event = event_of("customers/update", &body);
        assert_eq!(event.context.locale.as_deref(), Some("fr"));
        let Payload::CustomerUpserted(customer) = event.payload else { panic!() };
        assert_eq!(customer.marketing_consent, None);
        assert!(customer.tags.is_empty());
    }

    #[test]
    fn consent_topic_changes_consent_with_an_exact_64_bit_customer_id() {
        // Constructed from the payload shape Shopify documents for this topic.
        let body = br#"{"customer_id": 706405506930370084, "email_address": "bob@biller.com",
            "email_marketing_consent": {"state": "subscribed", "opt_in_level": "confirmed_opt_in",
            "consent_updated_at": "2022-04-01T12:00:00-04:00"}}"#;
        let event = event_of("customers_email_marketing_consent/update", body);
        assert_eq!(event.payload.detail_type(), "consent.changed");
        assert_identity(&event, "bob@biller.com", "706405506930370084");
        assert_eq!(event.occurred_at, utc("2022-04-01T16:00:00Z"));
        let Payload::ConsentChanged(change) = event.payload else { panic!() };
        assert_eq!(change.state, ConsentState::Subscribed);
        assert_eq!(change.changed_at, utc("2022-04-01T16:00:00Z"));
        assert_eq!(change.source, "shopify");

        let pending =
            br#"{"customer_id": 1, "email_marketing_consent": {"state": "pending", "consent_updated_at": null}}"#;
        let Payload::ConsentChanged(change) = event_of("customers_email_marketing_consent/update", pending).payload
        else {
            panic!()
        };
        assert_eq!(change.state, ConsentState::Pending);
        assert_eq!(change.changed_at, Utc.with_ymd_and_hms(2025, 7, 3, 12, 0, 0).unwrap(), "dated by the delivery");
    }

    #[test]
    fn data_request_names_the_request_and_its_orders() {
        let event = event_of("customers/data_request", DATA_REQUEST);
        assert_eq!(event.payload.detail_type(), "gdpr.data_requested");
        assert_identity(&event, "john@example.com", "191167");
        assert_eq!(event.occurred_at, event.received_at);
        let Payload::DataRequested(request) = event.payload else { panic!() };
        assert_eq!(id(&request.request_id), Some("9999"));
        let orders: Vec<&str> = request.orders_requested.iter().map(ExternalId::as_str).collect();
        assert_eq!(orders, ["299938", "280263", "220458"]);
    }

    #[test]
    fn customer_redact_names_the_customer_and_orders() {
        let event = event_of("customers/redact", CUSTOMERS_REDACT);
        assert_eq!(event.payload.detail_type(), "gdpr.customer_redacted");
        assert_identity(&event, "john@example.com", "191167");
        let Payload::CustomerRedacted(redact) = event.payload else { panic!() };
        let orders: Vec<&str> = redact.orders_to_redact.iter().map(ExternalId::as_str).collect();
        assert_eq!(orders, ["299938", "280263", "220458"]);
    }

    #[test]
    fn shop_redact_is_about_the_whole_shop() {
        let event = event_of("shop/redact", SHOP_REDACT);
        assert_eq!(event.payload, Payload::ShopRedacted);
        assert!(event.identity.is_empty());
        assert_eq!(event.occurred_at, event.received_at);
    }

    #[test]
    fn fulfillment_create_carries_tracking_and_lines() {
        let event = event_of("fulfillments/create", FULFILLMENTS_CREATE);
        assert_eq!(event.payload.detail_type(), "order.fulfilled");
        assert_eq!(event.occurred_at, utc("2013-11-01T20:06:08Z"));
        let Payload::OrderFulfilled(fulfillment) = event.payload else { panic!() };
        assert_eq!(fulfillment.order_id.as_str(), "450789469");
        assert_eq!(id(&fulfillment.fulfillment_id), Some("255858046"));
        assert_eq!(fulfillment.status.as_deref(), Some("pending"));
        assert_eq!(fulfillment.tracking_company.as_deref(), Some("null-company"));
        assert_eq!(fulfillment.tracking_numbers, ["1Z2345"]);
        assert_eq!(fulfillment.tracking_urls, ["http://www.google.com/search?q=1Z2345"]);
        assert_eq!(fulfillment.line_items.len(), 1);
        let line = &fulfillment.line_items[0];
        assert_eq!((id(&line.product_id), id(&line.variant_id)), (Some("632910392"), Some("39072856")));
        assert_eq!((line.quantity, line.unit_price), (1, Money::from_minor(19900, eur())));
    }

    #[test]
    fn delivered_shipment_status_is_a_delivery() {
        let body = edited(FULFILLMENTS_CREATE, |v| v["shipment_status"] = json!("delivered"));
        let event = event_of("fulfillments/update", &body);
        assert_eq!(event.payload.detail_type(), "order.delivered");
        let Payload::OrderDelivered(fulfillment) = event.payload else { panic!() };
        assert_eq!(fulfillment.status.as_deref(), Some("delivered"));
        assert_eq!(fulfillment.tracking_numbers, ["1Z2345"]);
    }

    #[test]
    fn fulfillment_events_are_used_only_when_delivered() {
        let delivered = br#"{"id": 944956395, "fulfillment_id": 255858046, "order_id": 450789469,
            "status": "delivered", "happened_at": "2025-07-02T11:35:15-05:00"}"#;
        let event = event_of("fulfillment_events/create", delivered);
        assert_eq!(event.occurred_at, utc("2025-07-02T16:35:15Z"));
        let Payload::OrderDelivered(fulfillment) = event.payload else { panic!() };
        assert_eq!((fulfillment.order_id.as_str(), id(&fulfillment.fulfillment_id)), ("450789469", Some("255858046")));

        let in_transit = br#"{"fulfillment_id": 255858046, "order_id": 450789469, "status": "in_transit"}"#;
        assert!(matches!(deliver("fulfillment_events/create", in_transit), Ok(Outcome::Ignored { .. })));
    }

    #[test]
    fn order_create_places_an_order_with_exact_money() {
        let event = event_of("orders/create", ORDERS_CREATE);
        assert_eq!(event.payload.detail_type(), "order.placed");
        assert_identity(&event, "bob.norman@mail.example.com", "207119551");
        assert_eq!(event.occurred_at, utc("2008-01-10T16:00:00Z"));
        assert_eq!(event.context.locale, None);
        let acquisition = &event.context.acquisition;
        assert_eq!(acquisition.landing_site.as_deref(), Some("http://www.example.com?source=abc"));
        assert_eq!(acquisition.referring_site.as_deref(), Some("http://www.otherexample.com"));
        assert_eq!((acquisition.source_name.as_deref(), acquisition.utm_source.as_deref()), (Some("web"), None));
        let Payload::OrderPlaced(order) = event.payload else { panic!() };
        assert_eq!((order.order_id.as_str(), order.name.as_deref()), ("450789469", Some("#1001")));
        assert_eq!(id(&order.checkout_token), Some("bd5a8aa1ecd019dd3520ff791ee3a24c"));
        assert_eq!(id(&order.cart_token), Some("68778783ad298f1c80c3bafcddeea02f"));
        assert_eq!((order.subtotal, order.total), (Some(usd(59700)), usd(59894)));
        assert_eq!(order.total_discounts, Some(usd(1000)));
        assert_eq!(order.discount_codes, ["TENOFF"]);
        assert_eq!(order.financial_status.as_deref(), Some("partially_refunded"));
        assert_eq!((order.fulfillment_status.as_deref(), order.cancelled_at), (None, None));
        assert_eq!(order.line_items.len(), 3);
        let line = &order.line_items[0];
        assert_eq!((id(&line.product_id), id(&line.variant_id)), (Some("632910392"), Some("39072856")));
        assert_eq!((line.title.as_str(), line.quantity, line.unit_price), ("IPod Nano - 8gb", 1, usd(19900)));
    }

    #[test]
    fn order_paid_and_cancelled_carry_the_order() {
        let paid = event_of("orders/paid", ORDERS_CREATE);
        assert_eq!(paid.payload.detail_type(), "order.paid");
        assert_eq!(paid.occurred_at, utc("2008-01-10T16:00:00Z"));
        let body = edited(ORDERS_CREATE, |v| v["cancelled_at"] = json!("2008-01-11T09:00:00+01:00"));
        let cancelled = event_of("orders/cancelled", &body);
        assert_eq!(cancelled.occurred_at, utc("2008-01-11T08:00:00Z"));
        let Payload::OrderCancelled(order) = cancelled.payload else { panic!() };
        assert_eq!(order.cancelled_at, Some(utc("2008-01-11T08:00:00Z")));
        assert_eq!(order.total, usd(59894));
    }

    #[test]
    fn order_fulfilled_uses_the_last_fulfillment() {
        let event = event_of("orders/fulfilled", ORDERS_CREATE);
        assert_eq!(event.payload.detail_type(), "order.fulfilled");
        assert_identity(&event, "bob.norman@mail.example.com", "207119551");
        assert_eq!(event.occurred_at, utc("2025-07-02T16:29:59Z"));
        let Payload::OrderFulfilled(fulfillment) = event.payload else { panic!() };
        assert_eq!((fulfillment.order_id.as_str(), id(&fulfillment.fulfillment_id)), ("450789469", Some("255858046")));
        assert_eq!(fulfillment.tracking_company.as_deref(), Some("USPS"));
        assert_eq!(fulfillment.tracking_numbers, ["1Z1234512345123456"]);
        assert_eq!(
            fulfillment.tracking_urls,
            ["https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=1Z1234512345123456"]
        );
        assert_eq!(fulfillment.line_items.len(), 3, "the order's lines");
    }

    #[test]
    fn legacy_order_create_has_no_checkout_token() {
        let event = event_of("orders/create", ORDERS_CREATE_LEGACY);
        assert_identity(&event, "bob.norman@hostmail.com", "207119551");
        assert_eq!(event.occurred_at, utc("2008-01-10T16:00:00Z"));
        let Payload::OrderPlaced(order) = event.payload else { panic!() };
        assert_eq!(order.checkout_token, None);
        assert_eq!(id(&order.cart_token), Some("68778783ad298f1c80c3bafcddeea02f"));
        assert_eq!((order.subtotal, order.total, order.total_discounts), (Some(usd(39800)), usd(40994), Some(usd(0))));
        assert_eq!(order.financial_status.as_deref(), Some("authorized"));
        assert_eq!(order.line_items.len(), 3);
        assert_eq!(id(&order.line_items[2].variant_id), Some("457924702"));
        assert_eq!(order.line_items[2].unit_price, usd(19900));

        let Payload::OrderFulfilled(fulfillment) = event_of("orders/fulfilled", ORDERS_CREATE_LEGACY).payload else {
            panic!()
        };
        assert_eq!(fulfillment.tracking_company, None);
        assert_eq!(fulfillment.status.as_deref(), Some("failure"));
    }

    #[test]
    fn order_identity_falls_back_to_contact_email() {
        let body = edited(ORDERS_CREATE, |v| v["email"] = Value::Null);
        let event = event_of("orders/create", &body);
        assert_eq!(event.identity.email.as_ref().map(Email::as_str), Some("bob.norman@mail.example.com"));
    }

    #[test]
    fn landing_site_utm_parameters_become_acquisition() {
        let body = edited(ORDERS_CREATE, |v| {
            v["landing_site"] =
                json!("/products/ipod?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale");
            v["customer_locale"] = json!("fr-CA");
        });
        let event = event_of("orders/create", &body);
        let acquisition = &event.context.acquisition;
        assert_eq!(acquisition.utm_source.as_deref(), Some("newsletter"));
        assert_eq!(acquisition.utm_medium.as_deref(), Some("email"));
        assert_eq!(acquisition.utm_campaign.as_deref(), Some("spring sale"));
        assert_eq!(event.context.locale.as_deref(), Some("fr-CA"));
    }

    #[test]
    fn ids_beyond_2_pow_53_stay_exact_in_lines() {
        let body = edited(ORDERS_CREATE, |v| {
            v["id"] = json!(820982911946154508u64);
            v["line_items"][0]["product_id"] = json!(9007199254740993u64);
        });
        let Payload::OrderPlaced(order) = event_of("orders/create", &body).payload else { panic!() };
        assert_eq!(order.order_id.as_str(), "820982911946154508");
        assert_eq!(id(&order.line_items[0].product_id), Some("9007199254740993"));
    }

    #[test]
    fn refund_amount_is_its_successful_refund_transactions() {
        let event = event_of("refunds/create", REFUNDS_CREATE);
        assert_eq!(event.payload.detail_type(), "order.refunded");
        assert!(event.identity.is_empty());
        assert_eq!(event.occurred_at, utc("2025-07-02T16:38:34Z"));
        let Payload::OrderRefunded(refund) = event.payload else { panic!() };
        assert_eq!((refund.order_id.as_str(), id(&refund.refund_id)), ("450789469", Some("929361472")));
        assert_eq!(refund.amount, usd(4194));
        assert_eq!(refund.line_items.len(), 1);
        let line = &refund.line_items[0];
        assert_eq!((id(&line.product_id), id(&line.variant_id)), (Some("632910392"), Some("49148385")));
        assert_eq!((line.quantity, line.unit_price), (1, usd(19900)));
    }

    #[test]
    fn refund_ignores_failed_transactions_and_sums_lines_without_transactions() {
        let failed = edited(REFUNDS_CREATE, |v| v["transactions"][0]["status"] = json!("failure"));
        let Payload::OrderRefunded(refund) = event_of("refunds/create", &failed).payload else { panic!() };
        assert_eq!(refund.amount, usd(0), "nothing returned, in the refund's currency");

        let no_transactions = edited(REFUNDS_CREATE, |v| {
            v["transactions"] = json!([]);
            v["refund_line_items"][0]["subtotal_set"]["shop_money"]["amount"] = json!("187.06");
        });
        let Payload::OrderRefunded(refund) = event_of("refunds/create", &no_transactions).payload else { panic!() };
        assert_eq!(refund.amount, usd(18706));
    }

    #[test]
    fn topics_relance_does_not_use_are_ignored_whatever_the_body() {
        for topic in ["app/uninstalled", "products/update", "orders/updated", "inventory_levels/update", "nonsense"] {
            assert!(matches!(deliver(topic, b"not json"), Ok(Outcome::Ignored { .. })), "{topic}");
        }
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(matches!(deliver("orders/create", b"{\"id\": "), Err(NormaliseError::Json(_))));
        assert!(matches!(deliver("orders/create", b"[1, 2]"), Err(NormaliseError::Field { field: "body", .. })));
        let body = edited(ORDERS_CREATE, |v| v["line_items"][1]["price"] = json!("abc"));
        assert!(matches!(deliver("orders/create", &body), Err(NormaliseError::Field { field: "price", .. })));
        let body = edited(ORDERS_CREATE, |v| v["id"] = json!(4.5));
        assert!(matches!(deliver("orders/create", &body), Err(NormaliseError::Field { field: "id", .. })));
        let body = edited(CHECKOUTS_CREATE, |v| v["created_at"] = json!("yesterday"));
        assert!(matches!(deliver("checkouts/create", &body), Err(NormaliseError::Field { field: "created_at", .. })));
    }

    #[test]
    fn every_topic_relance_subscribes_to_or_must_receive_is_one_it_maps() {
        for topic in SUBSCRIBED_TOPICS.iter().chain(COMPLIANCE_TOPICS) {
            let outcome = deliver(topic, b"{}");
            assert!(
                !matches!(outcome, Ok(Outcome::Ignored { reason: "shopify topic not used by relance" })),
                "{topic} is subscribed to but not mapped"
            );
        }
        assert!(matches!(deliver("app/uninstalled", b"{}"), Ok(Outcome::Ignored { .. })));
    }
}
