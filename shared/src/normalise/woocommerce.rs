//! WooCommerce webhook payloads → canonical events.
//!
//! WooCommerce sends one topic per resource change (`order.updated`, `customer.created`, …)
//! and no refund or fulfilment topic: what happened to an order is read from its `status`
//! and `refunds` on `order.updated`. Times are read only from the `*_gmt` fields (UTC without
//! an offset); the site-local `date_created` would be off by the shop's time zone.

use super::{
    Delivery, NormaliseError, Outcome, StoredOrder, array, currency, email, external_id, money, object, quantity,
    required_id, required_money, text, time,
};
use crate::events::{
    Acquisition, Context, Customer, Fulfillment, Identity, LineItem, Order, Payload, Platform, Product, Refund,
};
use crate::money::{Currency, Money};
use serde_json::Value;

/// The topics a store's webhooks deliver to Relance (`relance connect woocommerce`): every
/// topic [`normalise`] maps.
pub const SUBSCRIBED_TOPICS: &[&str] =
    &["order.created", "order.updated", "customer.created", "customer.updated", "product.created"];

/// Maps one verified WooCommerce delivery (topic from `X-WC-Webhook-Topic`) to one event,
/// or to [`Outcome::Ignored`] for the topics Relance does not use. An unknown topic is
/// ignored, never an error: WooCommerce disables a webhook after repeated failures.
pub fn normalise(delivery: &Delivery<'_>) -> Result<Outcome, NormaliseError> {
    let topic = delivery.topic.trim();
    match topic {
        "order.created" => order_event(delivery, true),
        "order.updated" => order_event(delivery, false),
        "customer.created" => customer_event(delivery, true),
        "customer.updated" => customer_event(delivery, false),
        "product.created" => product_event(delivery),
        _ => Ok(Outcome::Ignored { reason: ignored_reason(topic) }),
    }
}

fn ignored_reason(topic: &str) -> &'static str {
    let (resource, action) = topic.split_once('.').unwrap_or((topic, ""));
    match (resource, action) {
        (_, "deleted") => "woocommerce deletion payloads carry only an id",
        (_, "restored") => "woocommerce restorations are not used",
        ("coupon", _) => "woocommerce coupon topics are not used",
        ("product", _) => "woocommerce product updates are not used (a new product is `product.created`)",
        ("action", _) => "woocommerce action topics are not used",
        _ => "unknown woocommerce topic",
    }
}

/// A product put on sale: `product.published` (the yearly-edition program's trigger). A
/// draft or private product is not on sale yet. Its price is in the shop's currency
/// (WooCommerce prices carry none); without one the product is published unpriced.
fn product_event(delivery: &Delivery<'_>) -> Result<Outcome, NormaliseError> {
    let body = object(delivery.body)?;
    if text(&body, "status").as_deref() != Some("publish") {
        return Ok(Outcome::Ignored { reason: "woocommerce products not published are not on sale" });
    }
    let price = match delivery.shop_currency {
        Some(currency) => money(&body, "price", currency)?,
        None => None,
    };
    let names = |key: &'static str| -> Result<Vec<String>, NormaliseError> {
        Ok(array(&body, key)?.iter().filter_map(|c| text(c, "name")).collect())
    };
    let product = Product {
        product_id: required_id(&body, "id")?,
        title: text(&body, "name").ok_or_else(|| NormaliseError::field("name", "is missing"))?,
        variant_title: None,
        url: text(&body, "permalink"),
        price,
        image_url: array(&body, "images")?.first().and_then(|i| text(i, "src")),
        categories: names("categories")?,
    };
    let occurred_at = time(&body, "date_created_gmt")?;
    super::event(
        Platform::Woocommerce,
        delivery,
        occurred_at,
        Identity::default(),
        Context::default(),
        Payload::ProductPublished(product),
    )
}

/// Statuses of orders nobody placed yet (block-checkout drafts, admin drafts, trash): an
/// "order placed" for them would count revenue and stop cart reminders.
const NOT_PLACED: [&str; 4] = ["checkout-draft", "auto-draft", "draft", "trash"];

fn order_event(delivery: &Delivery<'_>, created: bool) -> Result<Outcome, NormaliseError> {
    let body = object(delivery.body)?;
    let status = text(&body, "status").unwrap_or_default().to_ascii_lowercase();
    if NOT_PLACED.contains(&status.as_str()) {
        return Ok(Outcome::Ignored { reason: "woocommerce draft orders are not placed orders" });
    }
    let currency = currency(&body, "currency", delivery.shop_currency)?;
    let order = read_order(&body, &status, currency)?;
    let identity = order_identity(&body)?;
    let context = Context { acquisition: read_acquisition(&body)?, ..Context::default() };
    let (occurred_at, payload) = if created {
        (time(&body, "date_created_gmt")?, Payload::OrderPlaced(order))
    } else {
        (time(&body, "date_modified_gmt")?, updated_payload(&body, &status, order)?)
    };
    super::event(Platform::Woocommerce, delivery, occurred_at, identity, context, payload)
}

/// A placed order as WooCommerce's REST API lists it (`GET /orders`: the object its
/// webhooks deliver), with the times of what became of it since: for an import of the
/// store's history. `None` for a draft, which nobody placed.
pub fn stored_order(body: &Value, shop_currency: Option<Currency>) -> Result<Option<StoredOrder>, NormaliseError> {
    let status = text(body, "status").unwrap_or_default().to_ascii_lowercase();
    if NOT_PLACED.contains(&status.as_str()) {
        return Ok(None);
    }
    let currency = currency(body, "currency", shop_currency)?;
    let mut order = read_order(body, &status, currency)?;
    if matches!(status.as_str(), "cancelled" | "failed") {
        order.cancelled_at = time(body, "date_modified_gmt")?;
    }
    let refunds = array(body, "refunds")?;
    let refunded = if status == "refunded" || !refunds.is_empty() {
        Some(read_refund(refunds, order.clone())?.amount)
    } else {
        None
    };
    let billing = body.get("billing").unwrap_or(&Value::Null);
    let created_at =
        time(body, "date_created_gmt")?.ok_or_else(|| NormaliseError::field("date_created_gmt", "is missing"))?;
    Ok(Some(StoredOrder {
        identity: order_identity(body)?,
        order,
        placed_at: created_at,
        paid_at: time(body, "date_paid_gmt")?,
        fulfilled_at: time(body, "date_completed_gmt")?.filter(|_| status == "completed"),
        refunded,
        first_name: text(billing, "first_name"),
        last_name: text(billing, "last_name"),
        // WooCommerce core has no marketing-consent field.
        accepts_marketing: None,
    }))
}

/// The buyer: the billing address's e-mail, and the customer id (0 for a guest: none).
fn order_identity(body: &Value) -> Result<Identity, NormaliseError> {
    let billing = body.get("billing").unwrap_or(&Value::Null);
    Ok(Identity {
        email: email(billing, "email"),
        customer_id: external_id(body, "customer_id")?,
        ..Identity::default()
    })
}

/// What an `order.updated` means. A refund is checked before paid and completed: a
/// partial refund leaves the status as it was (only a full refund makes it `refunded`), so
/// the `refunds` array is the only sign of it.
fn updated_payload(body: &Value, status: &str, mut order: Order) -> Result<Payload, NormaliseError> {
    let refunds = array(body, "refunds")?;
    Ok(match status {
        "cancelled" | "failed" => {
            order.cancelled_at = time(body, "date_modified_gmt")?;
            Payload::OrderCancelled(order)
        }
        "refunded" => Payload::OrderRefunded(read_refund(refunds, order)?),
        _ if !refunds.is_empty() => Payload::OrderRefunded(read_refund(refunds, order)?),
        "processing" => Payload::OrderPaid(order),
        "completed" => Payload::OrderFulfilled(Fulfillment {
            order_id: order.order_id,
            fulfillment_id: None,
            status: Some("completed".to_owned()),
            tracking_company: None,
            tracking_numbers: Vec::new(),
            tracking_urls: Vec::new(),
            line_items: order.line_items,
        }),
        _ => Payload::OrderPlaced(order),
    })
}

/// The order's refunded total so far: WooCommerce lists every refund (negative `total`
/// strings, `"-10.00"`) without dates, so one delivery cannot tell which refund is new.
/// A `refunded` order without the list was refunded in full.
fn read_refund(refunds: &[Value], order: Order) -> Result<Refund, NormaliseError> {
    let mut amount = if refunds.is_empty() { order.total } else { Money::from_minor(0, order.total.currency()) };
    for refund in refunds {
        let part = required_money(refund, "total", order.total.currency()).map_err(relabel("refunds.total"))?;
        let magnitude =
            part.minor().checked_abs().ok_or_else(|| NormaliseError::field("refunds.total", "overflows"))?;
        amount = amount
            .checked_add(Money::from_minor(magnitude, part.currency()))
            .map_err(|e| NormaliseError::field("refunds.total", e))?;
    }
    Ok(Refund { order_id: order.order_id, refund_id: None, amount, line_items: Vec::new() })
}

fn read_order(body: &Value, status: &str, currency: Currency) -> Result<Order, NormaliseError> {
    let mut line_items = Vec::new();
    let mut subtotal = Some(Money::from_minor(0, currency));
    for item in array(body, "line_items")? {
        let (line, line_subtotal) = read_line(item, currency)?;
        subtotal = match (subtotal, line_subtotal) {
            (Some(sum), Some(part)) => {
                Some(sum.checked_add(part).map_err(|e| NormaliseError::field("line_items.subtotal", e))?)
            }
            _ => None,
        };
        line_items.push(line);
    }
    let name = match body.get("number") {
        Some(Value::String(n)) if !n.trim().is_empty() => Some(format!("#{}", n.trim())),
        Some(Value::Number(n)) => Some(format!("#{n}")),
        _ => None,
    };
    let discount_codes = array(body, "coupon_lines")?.iter().filter_map(|coupon| text(coupon, "code")).collect();
    Ok(Order {
        order_id: required_id(body, "id")?,
        name,
        checkout_token: None,
        cart_token: external_id(body, "cart_hash")?,
        subtotal: subtotal.filter(|_| !line_items.is_empty()),
        line_items,
        total: required_money(body, "total", currency)?,
        total_discounts: money(body, "discount_total", currency)?,
        discount_codes,
        financial_status: Some(if time(body, "date_paid_gmt")?.is_some() { "paid" } else { "pending" }.to_owned()),
        fulfillment_status: (status == "completed").then(|| "fulfilled".to_owned()),
        cancelled_at: None,
    })
}

/// One line and its pre-discount `subtotal`. The unit price is `subtotal / quantity`, the
/// price before order-level discounts as [`LineItem::unit_price`] promises. WooCommerce's
/// own `price` is `total / quantity`: after coupons, and a PHP float that need not be a
/// whole number of cents (10.00 / 3 = 3.3333333333333335), so it is only the fallback for a
/// line without a subtotal.
fn read_line(item: &Value, currency: Currency) -> Result<(LineItem, Option<Money>), NormaliseError> {
    let quantity = quantity(item, "quantity").map_err(relabel("line_items.quantity"))?;
    let subtotal = money(item, "subtotal", currency).map_err(relabel("line_items.subtotal"))?;
    let unit_price = match subtotal {
        Some(subtotal) if quantity > 0 => per_unit(subtotal, quantity),
        _ => match money(item, "price", currency).map_err(relabel("line_items.price"))?.or(subtotal) {
            Some(price) => price,
            None => return Err(NormaliseError::field("line_items.price", "is missing")),
        },
    };
    let image = item.get("image").unwrap_or(&Value::Null);
    let line = LineItem {
        product_id: external_id(item, "product_id").map_err(relabel("line_items.product_id"))?,
        variant_id: external_id(item, "variation_id").map_err(relabel("line_items.variation_id"))?,
        sku: text(item, "sku"),
        title: text(item, "name").map(|name| decode_entities(&name)).unwrap_or_default(),
        variant_title: None,
        quantity,
        unit_price,
        vendor: None,
        product_type: None,
        categories: Vec::new(),
        image_url: text(image, "src"),
    };
    Ok((line, subtotal))
}

/// `amount / quantity` in minor units, rounded half away from zero when it does not divide
/// (a tax-inclusive subtotal can leave a fraction of a cent per unit).
fn per_unit(amount: Money, quantity: u32) -> Money {
    let (minor, q) = (i128::from(amount.minor()), i128::from(quantity));
    let rounded = (2 * minor + minor.signum() * q) / (2 * q);
    // |rounded| <= |minor|, so it fits back in i64.
    Money::from_minor(i64::try_from(rounded).unwrap_or(amount.minor()), amount.currency())
}

/// Order attribution (WooCommerce ≥ 8.5) kept in `meta_data`, and `created_via` as the
/// channel. UTM values stored by WooCommerce win over those read from the landing URL.
fn read_acquisition(body: &Value) -> Result<Acquisition, NormaliseError> {
    let meta_data = array(body, "meta_data")?;
    let meta = |key: &str| {
        meta_data.iter().find(|m| m.get("key").and_then(Value::as_str) == Some(key)).and_then(|m| text(m, "value"))
    };
    let landing = meta("_wc_order_attribution_session_entry");
    let referrer = meta("_wc_order_attribution_referrer");
    let mut acquisition =
        Acquisition::from_landing(landing.as_deref(), referrer.as_deref(), text(body, "created_via").as_deref());
    let stored = [
        ("_wc_order_attribution_utm_source", &mut acquisition.utm_source),
        ("_wc_order_attribution_utm_medium", &mut acquisition.utm_medium),
        ("_wc_order_attribution_utm_campaign", &mut acquisition.utm_campaign),
        ("_wc_order_attribution_utm_term", &mut acquisition.utm_term),
        ("_wc_order_attribution_utm_content", &mut acquisition.utm_content),
    ];
    for (key, field) in stored {
        if let Some(value) = meta(key) {
            *field = Some(value);
        }
    }
    Ok(acquisition)
}

fn customer_event(delivery: &Delivery<'_>, created: bool) -> Result<Outcome, NormaliseError> {
    let body = object(delivery.body)?;
    let (identity, customer) = stored_customer(&body)?;
    let (occurred_at, payload) = if created {
        (customer.created_at, Payload::SignedUp(customer))
    } else {
        (time(&body, "date_modified_gmt")?, Payload::CustomerUpserted(customer))
    };
    super::event(Platform::Woocommerce, delivery, occurred_at, identity, Context::default(), payload)
}

/// A customer as WooCommerce shows it: in a `customer.*` delivery, and as the REST API
/// lists it (`GET /customers`, the same object), for an import of the store's customers.
pub fn stored_customer(body: &Value) -> Result<(Identity, Customer), NormaliseError> {
    let billing = body.get("billing").unwrap_or(&Value::Null);
    let identity = Identity {
        email: email(body, "email").or_else(|| email(billing, "email")),
        customer_id: Some(required_id(body, "id")?),
        ..Identity::default()
    };
    let customer = Customer {
        first_name: text(body, "first_name").or_else(|| text(billing, "first_name")),
        last_name: text(body, "last_name").or_else(|| text(billing, "last_name")),
        phone: text(billing, "phone"),
        created_at: time(body, "date_created_gmt")?,
        // WooCommerce core has no marketing-consent field.
        marketing_consent: None,
        tags: Vec::new(),
    };
    Ok((identity, customer))
}

/// Names a field error by its place in the order (`line_items.price`, not just `price`).
fn relabel(field: &'static str) -> impl Fn(NormaliseError) -> NormaliseError {
    move |error| match error {
        NormaliseError::Field { reason, .. } => NormaliseError::Field { field, reason },
        other => other,
    }
}

/// Decodes the HTML entities WordPress leaves in product names (`&ndash;`, `&amp;`,
/// `&#8217;`, `&#x2019;`), in one pass: `&amp;ndash;` becomes `&ndash;`. Unknown or
/// malformed entities are kept as written.
fn decode_entities(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let decoded = candidate
            .get(1..candidate.len().min(12))
            .and_then(|window| window.find(';'))
            .and_then(|end| entity(&candidate[1..=end]).map(|c| (c, end + 2)));
        match decoded {
            Some((c, consumed)) => {
                out.push(c);
                rest = &candidate[consumed..];
            }
            None => {
                out.push('&');
                rest = &candidate[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "times" => '×',
        "euro" => '€',
        "pound" => '£',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;
    use crate::ids::ShopId;
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;

    const ORDER_CREATED: &[u8] =
        include_bytes!("../../../tests/fixtures/woocommerce/order.created__rest-api-docs-v3.json");
    const GUEST_COUPON: &[u8] =
        include_bytes!("../../../tests/fixtures/woocommerce/order.created-guest-coupon__appvila-wc6.9.4.json");
    const COMPLETED: &[u8] =
        include_bytes!("../../../tests/fixtures/woocommerce/order.updated__rest-api-docs-v3-completed.json");
    const REFUNDED: &[u8] =
        include_bytes!("../../../tests/fixtures/woocommerce/order.updated__rest-api-docs-v3-refunded.json");
    const CUSTOMER: &[u8] =
        include_bytes!("../../../tests/fixtures/woocommerce/customer.created__rest-api-docs-v3.json");
    const PRODUCT: &[u8] = include_bytes!("../../../tests/fixtures/woocommerce/product.created__rest-api-docs-v3.json");

    fn received_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
    }

    fn deliver(topic: &str, body: &[u8]) -> Result<Outcome, NormaliseError> {
        let shop = ShopId::parse("shop.example").unwrap();
        let delivery = Delivery {
            shop: &shop,
            topic,
            delivery_id: "d-1",
            triggered_at: None,
            received_at: received_at(),
            body,
            shop_currency: Some(Currency::parse("EUR").unwrap()),
        };
        normalise(&delivery)
    }

    fn event(topic: &str, body: &[u8]) -> Event {
        match deliver(topic, body).unwrap() {
            Outcome::Event(event) => *event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// A fixture with some fields replaced, for the cases no published payload shows.
    fn edited(body: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut value: Value = serde_json::from_slice(body).unwrap();
        edit(&mut value);
        serde_json::to_vec(&value).unwrap()
    }

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::parse("USD").unwrap())
    }

    fn assert_envelope(event: &Event, detail_type: &str, occurred_at: &str) {
        assert_eq!(event.id.as_str(), "woocommerce:shop.example:d-1");
        assert_eq!(event.shop.as_str(), "shop.example");
        assert_eq!(event.platform, Platform::Woocommerce);
        assert_eq!(event.payload.detail_type(), detail_type);
        assert_eq!(event.occurred_at, utc(occurred_at));
        assert_eq!(event.received_at, received_at());
    }

    fn ids(line: &LineItem) -> (Option<&str>, Option<&str>) {
        (line.product_id.as_ref().map(|id| id.as_str()), line.variant_id.as_ref().map(|id| id.as_str()))
    }

    /// The two lines of order 727 (docs fixtures): numeric prices 3 and 12, an entity in a name.
    fn assert_order_727_lines(lines: &[LineItem]) {
        assert_eq!(lines.len(), 2);
        assert_eq!(ids(&lines[0]), (Some("93"), None));
        assert_eq!((lines[0].title.as_str(), lines[0].quantity, lines[0].unit_price), ("Woo Single #1", 2, usd(300)));
        assert_eq!(lines[0].sku, None);
        assert_eq!(ids(&lines[1]), (Some("22"), Some("23")));
        assert_eq!(lines[1].title, "Ship Your Idea – Color: Black, Size: M Test");
        assert_eq!((lines[1].quantity, lines[1].unit_price), (1, usd(1200)));
        assert_eq!(lines[1].sku.as_deref(), Some("Bar3"));
    }

    #[test]
    fn order_created_fixture_is_a_placed_guest_order_in_usd() {
        let event = event("order.created", ORDER_CREATED);
        assert_envelope(&event, "order.placed", "2017-03-22T19:28:02Z");
        assert_eq!(event.identity.email.as_ref().map(|e| e.as_str()), Some("john.doe@example.com"));
        assert_eq!(event.identity.customer_id, None);
        assert_eq!(event.context.acquisition.source_name.as_deref(), Some("rest-api"));
        assert_eq!(event.context.locale, None);
        let Payload::OrderPlaced(order) = event.payload else { panic!("not an order") };
        assert_eq!(order.order_id.as_str(), "727");
        assert_eq!(order.name.as_deref(), Some("#727"));
        assert_eq!(order.total, usd(2935));
        assert_eq!(order.subtotal, Some(usd(1800)));
        assert_eq!(order.total_discounts, Some(usd(0)));
        assert!(order.discount_codes.is_empty());
        assert_eq!(order.cart_token, None, "an empty cart_hash is no token");
        assert_eq!(order.financial_status.as_deref(), Some("paid"), "processing with date_paid_gmt");
        assert_eq!(order.fulfillment_status, None);
        assert_order_727_lines(&order.line_items);
    }

    #[test]
    fn guest_coupon_fixture_keeps_codes_discount_and_pre_discount_unit_prices() {
        let event = event("order.created", GUEST_COUPON);
        assert_envelope(&event, "order.placed", "2022-11-15T13:41:52Z");
        assert_eq!(event.identity.email.as_ref().map(|e| e.as_str()), Some("teest@gmail.com"));
        assert_eq!(event.identity.customer_id, None, "customer_id 0 is a guest");
        let Payload::OrderPlaced(order) = event.payload else { panic!("not an order") };
        assert_eq!(order.order_id.as_str(), "116");
        assert_eq!(order.total, usd(7100));
        assert_eq!(order.subtotal, Some(usd(8100)));
        assert_eq!(order.total_discounts, Some(usd(1000)));
        assert_eq!(order.discount_codes, ["amisha"]);
        assert_eq!(order.financial_status.as_deref(), Some("pending"));
        let lines: Vec<_> =
            order.line_items.iter().map(|l| (ids(l).0, l.title.as_str(), l.quantity, l.unit_price.minor())).collect();
        // `price` says 15.5, 15.5, 17.5, 22.5: that is after the coupon, which the order
        // carries as total_discounts; the unit price is the line's subtotal per unit.
        assert_eq!(
            lines,
            [
                (Some("40"), "Vneck Tshirt", 1, 1800),
                (Some("39"), "Tshirt", 1, 1800),
                (Some("38"), "Polo", 1, 2000),
                (Some("37"), "Long Sleeve Tee", 1, 2500),
            ]
        );
        assert_eq!(
            order.line_items[0].image_url.as_deref(),
            Some("http://php74dev.com/wordpress/wp-content/uploads/2022/09/vneck-tee.jpg")
        );
        assert_eq!(order.line_items[2].image_url, None);
    }

    #[test]
    fn completed_order_update_is_a_fulfilment_at_its_gmt_modification_time() {
        let event = event("order.updated", COMPLETED);
        assert_envelope(&event, "order.fulfilled", "2017-03-22T19:30:35Z");
        assert_eq!(event.identity.email.as_ref().map(|e| e.as_str()), Some("john.doe@example.com"));
        assert_eq!(event.identity.customer_id, None);
        let Payload::OrderFulfilled(fulfillment) = event.payload else { panic!("not a fulfilment") };
        assert_eq!(fulfillment.order_id.as_str(), "727");
        assert_eq!(fulfillment.status.as_deref(), Some("completed"));
        assert_eq!(fulfillment.fulfillment_id, None);
        assert_order_727_lines(&fulfillment.line_items);
    }

    #[test]
    fn order_update_with_refunds_is_a_refund_of_their_positive_sum() {
        let event = event("order.updated", REFUNDED);
        assert_envelope(&event, "order.refunded", "2017-03-21T19:54:51Z");
        assert_eq!(event.identity.email.as_ref().map(|e| e.as_str()), Some("joao.silva@example.com"));
        assert_eq!(event.identity.customer_id.as_ref().map(|id| id.as_str()), Some("26"));
        assert_eq!(event.context.acquisition.source_name.as_deref(), Some("checkout"));
        let Payload::OrderRefunded(refund) = event.payload else { panic!("not a refund") };
        assert_eq!(refund.order_id.as_str(), "723");
        assert_eq!(refund.amount, usd(1900), "-10.00 and -9.00");
        assert_eq!(refund.refund_id, None);
    }

    #[test]
    fn customer_created_is_a_sign_up_without_consent() {
        let event = event("customer.created", CUSTOMER);
        assert_envelope(&event, "customer.signed_up", "2017-03-21T19:09:28Z");
        assert_eq!(event.identity.email.as_ref().map(|e| e.as_str()), Some("john.doe@example.com"));
        assert_eq!(event.identity.customer_id.as_ref().map(|id| id.as_str()), Some("25"));
        let Payload::SignedUp(customer) = event.payload else { panic!("not a sign-up") };
        assert_eq!(customer.first_name.as_deref(), Some("John"));
        assert_eq!(customer.last_name.as_deref(), Some("Doe"));
        assert_eq!(customer.phone.as_deref(), Some("(555) 555-5555"));
        assert_eq!(customer.created_at, Some(utc("2017-03-21T19:09:28Z")));
        assert_eq!(customer.marketing_consent, None);
    }

    #[test]
    fn customer_updated_is_an_upsert_at_its_modification_time() {
        let event = event("customer.updated", CUSTOMER);
        assert_envelope(&event, "customer.upserted", "2017-03-21T19:09:30Z");
        let Payload::CustomerUpserted(customer) = event.payload else { panic!("not an upsert") };
        assert_eq!(customer.created_at, Some(utc("2017-03-21T19:09:28Z")));
    }

    #[test]
    fn a_published_product_is_a_product_published_event_priced_in_the_shops_currency() {
        let event = event("product.created", PRODUCT);
        let Payload::ProductPublished(product) = event.payload else { panic!("{:?}", event.payload) };
        assert_eq!((product.product_id.as_str(), product.title.as_str()), ("794", "Premium Quality"));
        assert_eq!(product.url.as_deref(), Some("https://example.com/product/premium-quality-19/"));
        assert_eq!(product.price.map(|p| p.minor()), Some(2199), "the string price, in minor units");
        assert_eq!(product.categories, ["Clothing", "T-shirts"]);
        assert!(product.image_url.is_some_and(|u| u.ends_with("T_2_front-4.jpg")));
        let draft = String::from_utf8_lossy(PRODUCT).replace("\"status\": \"publish\"", "\"status\": \"draft\"");
        assert!(matches!(deliver("product.created", draft.as_bytes()), Ok(Outcome::Ignored { .. })));
        assert!(matches!(deliver("product.updated", PRODUCT), Ok(Outcome::Ignored { .. })));
    }

    #[test]
    fn unused_and_unknown_topics_are_ignored_without_reading_the_body() {
        for topic in ["order.deleted", "customer.deleted", "order.restored", "coupon.created", "action.woocommerce_x"] {
            assert!(matches!(deliver(topic, br#"{"id": 5}"#), Ok(Outcome::Ignored { .. })), "{topic}");
        }
        assert_eq!(
            deliver("subscription.renewed", b"not json").unwrap(),
            Outcome::Ignored { reason: "unknown woocommerce topic" }
        );
        assert_eq!(
            deliver("order.deleted", br#"{"id": 5}"#).unwrap(),
            Outcome::Ignored { reason: "woocommerce deletion payloads carry only an id" }
        );
    }

    #[test]
    fn order_updates_map_by_status() {
        let cases = [
            ("processing", "order.paid"),
            ("completed", "order.fulfilled"),
            ("cancelled", "order.cancelled"),
            ("failed", "order.cancelled"),
            ("refunded", "order.refunded"),
            ("pending", "order.placed"),
            ("on-hold", "order.placed"),
            ("wc-custom-status", "order.placed"),
        ];
        for (status, detail_type) in cases {
            let body = edited(ORDER_CREATED, |o| o["status"] = json!(status));
            assert_eq!(event("order.updated", &body).payload.detail_type(), detail_type, "{status}");
        }
        let body = edited(ORDER_CREATED, |o| o["status"] = json!("cancelled"));
        let Payload::OrderCancelled(order) = event("order.updated", &body).payload else { panic!() };
        assert_eq!(order.cancelled_at, Some(utc("2017-03-22T19:28:08Z")));
        let body = edited(ORDER_CREATED, |o| o["status"] = json!("refunded"));
        let Payload::OrderRefunded(refund) = event("order.updated", &body).payload else { panic!() };
        assert_eq!(refund.amount, usd(2935), "no refunds listed: the whole total");
        let body = edited(ORDER_CREATED, |o| o["status"] = json!("checkout-draft"));
        assert!(matches!(deliver("order.updated", &body), Ok(Outcome::Ignored { .. })));
    }

    #[test]
    fn order_created_stays_placed_whatever_its_status() {
        let body = edited(ORDER_CREATED, |o| o["status"] = json!("completed"));
        assert_eq!(event("order.created", &body).payload.detail_type(), "order.placed");
    }

    #[test]
    fn a_line_without_subtotal_uses_its_numeric_price_and_float_prices_never_fail() {
        let body = edited(ORDER_CREATED, |o| {
            let lines = o["line_items"].as_array_mut().unwrap();
            lines[0].as_object_mut().unwrap().remove("subtotal");
            lines[0]["price"] = json!(29.35);
            lines[1]["quantity"] = json!(3);
            lines[1]["subtotal"] = json!("10.00");
            lines[1]["price"] = json!(10.0 / 3.0);
        });
        let Payload::OrderPlaced(order) = event("order.created", &body).payload else { panic!() };
        assert_eq!(order.line_items[0].unit_price, usd(2935));
        assert_eq!(order.line_items[1].unit_price, usd(333));
        assert_eq!(order.subtotal, None, "a line without subtotal leaves the order's unknown");
    }

    #[test]
    fn shop_currency_is_the_fallback_when_the_order_names_none() {
        let body = edited(ORDER_CREATED, |o| {
            o.as_object_mut().unwrap().remove("currency");
        });
        let Payload::OrderPlaced(order) = event("order.created", &body).payload else { panic!() };
        assert_eq!(order.total, Money::from_minor(2935, Currency::parse("EUR").unwrap()));
    }

    #[test]
    fn malformed_json_is_a_json_error() {
        assert!(matches!(deliver("order.created", b"{\"id\": 727,"), Err(NormaliseError::Json(_))));
    }

    #[test]
    fn malformed_fields_are_field_errors_naming_the_field() {
        let field = |body: Vec<u8>| match deliver("order.updated", &body) {
            Err(NormaliseError::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        };
        assert_eq!(field(edited(ORDER_CREATED, |o| o["total"] = json!("abc"))), "total");
        assert_eq!(
            field(edited(ORDER_CREATED, |o| o["line_items"][0]["subtotal"] = json!("x"))),
            "line_items.subtotal"
        );
        assert_eq!(field(edited(ORDER_CREATED, |o| o["line_items"][1]["quantity"] = json!(-1))), "line_items.quantity");
        assert_eq!(field(edited(ORDER_CREATED, |o| o["date_modified_gmt"] = json!("yesterday"))), "date_modified_gmt");
        assert_eq!(field(edited(REFUNDED, |o| o["refunds"][0]["total"] = json!("-1O.00"))), "refunds.total");
        assert_eq!(field(edited(ORDER_CREATED, |o| o["line_items"] = json!({}))), "line_items");
        assert_eq!(field(edited(ORDER_CREATED, |o| o["currency"] = json!("dollars"))), "currency");
        assert_eq!(field(br"[]".to_vec()), "body");
    }

    #[test]
    fn order_attribution_meta_data_becomes_acquisition() {
        let body = edited(ORDER_CREATED, |o| {
            o["created_via"] = json!("checkout");
            o["meta_data"] = json!([
                {"id": 1, "key": "_wc_order_attribution_source_type", "value": "utm"},
                {"id": 2, "key": "_wc_order_attribution_utm_source", "value": "newsletter"},
                {"id": 3, "key": "_wc_order_attribution_utm_medium", "value": "email"},
                {"id": 4, "key": "_wc_order_attribution_utm_campaign", "value": "spring-sale"},
                {"id": 5, "key": "_wc_order_attribution_referrer", "value": "https://mail.example.com/"},
                {"id": 6, "key": "_wc_order_attribution_session_entry",
                 "value": "https://shop.example/sale/?utm_source=ignored&utm_content=hero"},
                {"id": 7, "key": "_download_permissions_granted", "value": "yes"}
            ]);
        });
        let acquisition = event("order.created", &body).context.acquisition;
        assert_eq!(
            acquisition,
            Acquisition {
                landing_site: Some("https://shop.example/sale/?utm_source=ignored&utm_content=hero".to_owned()),
                referring_site: Some("https://mail.example.com/".to_owned()),
                source_name: Some("checkout".to_owned()),
                utm_source: Some("newsletter".to_owned()),
                utm_medium: Some("email".to_owned()),
                utm_campaign: Some("spring-sale".to_owned()),
                utm_term: None,
                utm_content: Some("hero".to_owned()),
            }
        );
    }

    #[test]
    fn a_non_empty_cart_hash_is_the_cart_token() {
        let body = edited(ORDER_CREATED, |o| o["cart_hash"] = json!("5040ce7273261e31d8bcf79f9be3d279"));
        let Payload::OrderPlaced(order) = event("order.created", &body).payload else { panic!() };
        assert_eq!(order.cart_token.map(String::from).as_deref(), Some("5040ce7273261e31d8bcf79f9be3d279"));
    }

    #[test]
    fn html_entities_decode_once_and_unknown_ones_stay() {
        assert_eq!(decode_entities("Ship &ndash; Tee &amp; Co"), "Ship – Tee & Co");
        assert_eq!(decode_entities("It&#8217;s &#x2019; &#39;"), "It’s ’ '");
        assert_eq!(decode_entities("&amp;ndash; &bogus; & &#; &#xZZ; &"), "&ndash; &bogus; & &#; &#xZZ; &");
        assert_eq!(decode_entities("Café &eacute; fin&"), "Café &eacute; fin&");
    }

    #[test]
    fn every_topic_relance_subscribes_to_is_one_it_maps() {
        for topic in SUBSCRIBED_TOPICS {
            let outcome = deliver(topic, b"{}");
            assert!(
                !matches!(outcome, Ok(Outcome::Ignored { reason }) if reason == ignored_reason(topic)),
                "{topic} is subscribed to but not mapped"
            );
        }
    }

    #[test]
    fn a_stored_order_holds_what_became_of_it_and_a_draft_is_none() {
        let body: Value = serde_json::from_slice(REFUNDED).unwrap();
        let stored = stored_order(&body, None).unwrap().expect("a placed order");
        assert_eq!(stored.order.total.minor(), 3900);
        assert_eq!(stored.fulfilled_at, Some(utc("2017-03-21T19:54:51Z")));
        assert_eq!(stored.refunded.map(|m| m.minor()), Some(1900), "the two refunds of the list");
        assert_eq!(stored.identity.email.as_ref().map(|e| e.as_str()), Some("joao.silva@example.com"));
        assert_eq!(stored.first_name.as_deref(), Some("João"));
        let mut draft = body.clone();
        draft["status"] = json!("checkout-draft");
        assert_eq!(stored_order(&draft, None).unwrap(), None);
        let mut cancelled = body;
        cancelled["status"] = json!("cancelled");
        cancelled["refunds"] = json!([]);
        let stored = stored_order(&cancelled, None).unwrap().unwrap();
        assert!(stored.order.cancelled_at.is_some() && stored.refunded.is_none() && stored.fulfilled_at.is_none());
    }
}
