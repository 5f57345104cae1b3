use super::*;
use crate::sim::Size;
use chrono::TimeZone;
use relance::events::Payload;
use relance::normalise::{Delivery, Outcome};

#[test]
fn decimals_are_written_as_platforms_write_them() {
    assert_eq!(decimal(123_456), "1234.56");
    assert_eq!(decimal(5), "0.05");
}

fn normalised(topic: &str, body: &Value, woo: bool) -> relance::events::Event {
    let shop = relance::ids::ShopId::parse("demo.myshopify.com").unwrap();
    let body = body.to_string();
    let delivery = Delivery {
        shop: &shop,
        topic,
        delivery_id: "d-1",
        triggered_at: None,
        received_at: Utc::now(),
        body: body.as_bytes(),
        shop_currency: relance::money::Currency::parse("EUR").ok(),
    };
    let outcome = if woo {
        relance::normalise::woocommerce::normalise(&delivery)
    } else {
        relance::normalise::shopify::normalise(&delivery)
    };
    match outcome {
        Ok(Outcome::Event(event)) => *event,
        other => panic!("{topic}: {other:?}"),
    }
}

/// Every body the simulator sends is one the normalisers take, with the shop's data.
#[test]
fn the_bodies_normalise_into_the_shops_events() {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
    let shop = Shop::generate(3, Size::default(), now);
    for channel in [Channel::Shopify, Channel::WooCommerce] {
        let past = shop.history.iter().find(|o| shop.channel_of(o) == channel).unwrap();
        let event = match channel {
            Channel::Shopify => normalised("orders/create", &shop.shopify_order(past, "paid", None), false),
            Channel::WooCommerce => normalised("order.created", &shop.woo_order(past), true),
        };
        let Payload::OrderPlaced(order) = &event.payload else { panic!("{event:?}") };
        assert_eq!(order.total.minor(), shop.total(past.customer, &past.lines), "{channel:?}");
        assert_eq!(order.total.currency().as_str(), shop.customers[past.customer].currency.code());
        assert_eq!(order.line_items.len(), past.lines.len());
        assert_eq!(event.occurred_at, past.at);
        assert_eq!(
            event.identity.email.as_ref().map(|e| e.as_str()),
            Some(shop.customers[past.customer].email.as_str())
        );
    }
    let signed_up = normalised("customers/create", &shop.shopify_customer(0), false);
    assert!(matches!(signed_up.payload, Payload::SignedUp(_)));
    let woo = shop.customers.iter().position(|c| c.channel == Channel::WooCommerce).unwrap();
    assert!(matches!(normalised("customer.created", &shop.woo_customer(woo), true).payload, Payload::SignedUp(_)));
    let checkout = normalised("checkouts/create", &shop.shopify_checkout(0, now), false);
    let Payload::CheckoutStarted(started) = &checkout.payload else { panic!("{checkout:?}") };
    assert_eq!(started.token.as_str(), shop.checkouts[0].token);
    let order = shop.checkout_order(0, now);
    let shipped = normalised("orders/fulfilled", &shop.shopify_order(&order, "paid", Some(now)), false);
    assert!(matches!(shipped.payload, Payload::OrderFulfilled(_)), "{shipped:?}");
}
