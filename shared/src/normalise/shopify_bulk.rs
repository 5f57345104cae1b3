//! A Shopify shop's history as a bulk operation lists it (SPECS: "Shopify history: Admin
//! GraphQL bulk operations"): one JSON object per line, in the shapes of the queries
//! below; a connection nested in a query (an order's line items) comes as lines of its own
//! after their parent, naming it in `__parentId`. The readers here map those objects to a
//! customer and to a [`StoredOrder`], with the same ids the webhooks carry (the
//! `legacyResourceId`s), so an order imported and later updated by a webhook is one order.

use super::fields::{self, external_id, required_id, text, time};
use super::{NormaliseError, StoredOrder};
use crate::events::{ConsentChange, ConsentState, Customer, Identity, LineItem, Order};
use crate::ids::Email;
use crate::money::{Currency, Money};
use serde_json::Value;

/// Every customer: ids, address, names, phone, consent (`defaultEmailAddress`, 2025-04+).
pub const CUSTOMERS_QUERY: &str = "{ customers { edges { node { id legacyResourceId firstName lastName createdAt tags defaultEmailAddress { emailAddress marketingState marketingUpdatedAt } defaultPhoneNumber { phoneNumber } } } } }";

/// Every order, with its line items as child lines.
pub const ORDERS_QUERY: &str = "{ orders { edges { node { id legacyResourceId name email createdAt processedAt cancelledAt currencyCode displayFinancialStatus displayFulfillmentStatus totalPriceSet { shopMoney { amount currencyCode } } subtotalPriceSet { shopMoney { amount } } totalDiscountsSet { shopMoney { amount } } totalRefundedSet { shopMoney { amount } } discountCodes customer { legacyResourceId firstName lastName } fulfillments { createdAt } lineItems { edges { node { title quantity sku vendor variant { legacyResourceId } product { legacyResourceId } originalUnitPriceSet { shopMoney { amount } } } } } } } } }";

/// Financial statuses of an order that was paid (`OrderDisplayFinancialStatus`).
const PAID: &[&str] = &["PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED"];

/// `priceSet.shopMoney.amount` in `currency`.
fn shop_money(value: &Value, set: &'static str, currency: Currency) -> Result<Option<Money>, NormaliseError> {
    match value.get(set).and_then(|s| s.get("shopMoney")) {
        Some(money) => fields::money(money, "amount", currency).map_err(|e| relabel(e, set)),
        None => Ok(None),
    }
}

fn relabel(error: NormaliseError, field: &'static str) -> NormaliseError {
    match error {
        NormaliseError::Field { reason, .. } => NormaliseError::Field { field, reason },
        other => other,
    }
}

/// A customer line of [`CUSTOMERS_QUERY`]: who they are and what they stated.
pub fn bulk_customer(node: &Value) -> Result<(Identity, Customer), NormaliseError> {
    let address = node.get("defaultEmailAddress").unwrap_or(&Value::Null);
    let email = text(address, "emailAddress").and_then(|raw| Email::parse(raw).ok());
    let identity = Identity { email, customer_id: Some(required_id(node, "legacyResourceId")?), ..Identity::default() };
    // SUBSCRIBED / UNSUBSCRIBED are decisions; NOT_SUBSCRIBED, PENDING and INVALID are not.
    let state = match text(address, "marketingState").as_deref() {
        Some("SUBSCRIBED") => Some(ConsentState::Subscribed),
        Some("UNSUBSCRIBED") => Some(ConsentState::Unsubscribed),
        _ => None,
    };
    let marketing_consent = match state {
        Some(state) => time(address, "marketingUpdatedAt")?
            .or(time(node, "createdAt")?)
            .map(|changed_at| ConsentChange { state, changed_at, source: "shopify".to_owned() }),
        None => None,
    };
    let customer = Customer {
        first_name: text(node, "firstName"),
        last_name: text(node, "lastName"),
        phone: node.get("defaultPhoneNumber").and_then(|p| text(p, "phoneNumber")),
        created_at: time(node, "createdAt")?,
        marketing_consent,
        tags: node["tags"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
    };
    Ok((identity, customer))
}

/// An order line of [`ORDERS_QUERY`] and its line-item lines.
pub fn bulk_order(
    node: &Value,
    lines: &[Value],
    shop_currency: Option<Currency>,
) -> Result<StoredOrder, NormaliseError> {
    let total_set = node.get("totalPriceSet").and_then(|s| s.get("shopMoney")).unwrap_or(&Value::Null);
    let currency = match text(total_set, "currencyCode") {
        Some(_) => fields::currency(total_set, "currencyCode", None)?,
        None => fields::currency(node, "currencyCode", shop_currency)?,
    };
    let mut line_items = Vec::new();
    for line in lines {
        let quantity = fields::quantity(line, "quantity").map_err(|e| relabel(e, "lineItems.quantity"))?;
        let unit_price = shop_money(line, "originalUnitPriceSet", currency)
            .map_err(|e| relabel(e, "lineItems.originalUnitPriceSet"))?
            .ok_or_else(|| NormaliseError::field("lineItems.originalUnitPriceSet", "is missing"))?;
        let id_of = |key: &str| line.get(key).filter(|v| !v.is_null());
        line_items.push(LineItem {
            product_id: match id_of("product") {
                Some(product) => external_id(product, "legacyResourceId")?,
                None => None,
            },
            variant_id: match id_of("variant") {
                Some(variant) => external_id(variant, "legacyResourceId")?,
                None => None,
            },
            sku: text(line, "sku"),
            title: text(line, "title").unwrap_or_default(),
            variant_title: None,
            quantity,
            unit_price,
            vendor: text(line, "vendor"),
            product_type: None,
            categories: Vec::new(),
            image_url: None,
        });
    }
    let financial = text(node, "displayFinancialStatus");
    let fulfilled = text(node, "displayFulfillmentStatus").filter(|s| s == "FULFILLED");
    let placed_at = time(node, "createdAt")?.ok_or_else(|| NormaliseError::field("createdAt", "is missing"))?;
    let customer = node.get("customer").filter(|c| !c.is_null()).unwrap_or(&Value::Null);
    let order = Order {
        order_id: required_id(node, "legacyResourceId")?,
        name: text(node, "name"),
        checkout_token: None,
        cart_token: None,
        line_items,
        subtotal: shop_money(node, "subtotalPriceSet", currency)?,
        total: shop_money(node, "totalPriceSet", currency)?
            .ok_or_else(|| NormaliseError::field("totalPriceSet", "is missing"))?,
        total_discounts: shop_money(node, "totalDiscountsSet", currency)?,
        discount_codes: node["discountCodes"]
            .as_array()
            .map(|c| c.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        financial_status: financial.as_ref().map(|s| s.to_ascii_lowercase()),
        fulfillment_status: fulfilled.as_ref().map(|_| "fulfilled".to_owned()),
        cancelled_at: time(node, "cancelledAt")?,
    };
    let paid_at = match financial.as_deref() {
        Some(status) if PAID.contains(&status) => time(node, "processedAt")?.or(Some(placed_at)),
        _ => None,
    };
    let mut fulfilled_at = None;
    if fulfilled.is_some() {
        for fulfillment in node["fulfillments"].as_array().into_iter().flatten() {
            fulfilled_at = fulfilled_at.max(time(fulfillment, "createdAt")?);
        }
    }
    Ok(StoredOrder {
        identity: Identity {
            email: fields::email(node, "email"),
            customer_id: external_id(customer, "legacyResourceId")?,
            ..Identity::default()
        },
        placed_at,
        paid_at,
        fulfilled_at,
        refunded: shop_money(node, "totalRefundedSet", currency)?.filter(|m| m.minor() > 0),
        first_name: text(customer, "firstName"),
        last_name: text(customer, "lastName"),
        accepts_marketing: None,
        order,
    })
}
