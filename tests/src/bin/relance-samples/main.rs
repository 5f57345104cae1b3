//! `relance-samples`: writes `events/profile-update/<detail-type>.json`, one EventBridge
//! envelope per canonical event type, for `cargo lambda invoke`. Fixtures go through the real
//! normalisers; types no fixture produces are built from the model. Re-run it when the
//! model changes: `cargo run -p relance-tests --bin relance-samples`.

use chrono::{DateTime, TimeZone, Utc};
use relance::events::ConsentState;
use relance::events::*;
use relance::ids::{Email, EventId, ExternalId, ShopId, VisitorId};
use relance::money::{Currency, Money};
use relance::normalise::{Delivery, Outcome, shopify, woocommerce};
use serde_json::json;
use std::path::Path;

mod routes;

type Error = Box<dyn std::error::Error>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 0).single().unwrap_or_default()
}

fn from_fixture(platform: &str, file: &str, topic: &str, delivery_id: &str) -> Result<Event, Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let body = std::fs::read(root.join(platform).join(file))?;
    let shop = ShopId::parse(if platform == "shopify" { "demo.myshopify.com" } else { "woo.localhost" })?;
    let delivery = Delivery {
        shop: &shop,
        topic,
        delivery_id,
        triggered_at: None,
        received_at: at(),
        body: &body,
        shop_currency: Some(Currency::parse("EUR")?),
    };
    let outcome =
        if platform == "shopify" { shopify::normalise(&delivery)? } else { woocommerce::normalise(&delivery)? };
    match outcome {
        Outcome::Event(event) => Ok(*event),
        Outcome::Ignored { reason } => Err(format!("{file} as {topic} was ignored: {reason}").into()),
    }
}

fn built(kind: &str, identity: Identity, payload: Payload) -> Result<Event, Error> {
    Ok(Event {
        schema_version: SCHEMA_VERSION,
        id: EventId::parse(format!("api:demo.myshopify.com:sample-{kind}"))?,
        shop: ShopId::parse("demo.myshopify.com")?,
        platform: if kind.ends_with("viewed") { Platform::Browser } else { Platform::Api },
        occurred_at: at(),
        received_at: at(),
        identity,
        context: Context {
            locale: Some("fr".to_owned()),
            time_zone: Some("Europe/Paris".to_owned()),
            ..Context::default()
        },
        payload,
    })
}

fn main() -> Result<(), Error> {
    let anne = Identity {
        email: Some(Email::parse("anne@example.fr")?),
        customer_id: Some(ExternalId::parse("42")?),
        ..Identity::default()
    };
    let visitor = Identity { visitor_id: Some(VisitorId::parse("v-7f3c")?), ..Identity::default() };
    let eur = Currency::parse("EUR")?;
    let events = vec![
        from_fixture("shopify", "customers-update__legacy.json", "customers/update", "sample-customer-upserted")?,
        built(
            "consent.changed",
            anne.clone(),
            Payload::ConsentChanged(ConsentChange {
                state: ConsentState::Subscribed,
                changed_at: at(),
                source: "shopify".to_owned(),
            }),
        )?,
        from_fixture("shopify", "customers-create__2025-07.json", "customers/create", "sample-signed-up")?,
        from_fixture("shopify", "checkouts-create__2025-07.json", "checkouts/create", "sample-checkout-started")?,
        from_fixture("shopify", "checkouts-update__legacy.json", "checkouts/update", "sample-checkout-updated")?,
        {
            let mut event = from_fixture(
                "shopify",
                "checkouts-create__2025-07.json",
                "checkouts/update",
                "sample-checkout-completed",
            )?;
            if let Payload::CheckoutUpdated(checkout) = event.payload {
                event.payload = Payload::CheckoutCompleted(Checkout { completed_at: Some(at()), ..checkout });
            }
            event
        },
        from_fixture("shopify", "carts-update__legacy.json", "carts/update", "sample-cart-updated")?,
        from_fixture("shopify", "orders-create__2025-07.json", "orders/create", "sample-order-placed")?,
        from_fixture("shopify", "orders-create__2025-07.json", "orders/paid", "sample-order-paid")?,
        from_fixture("woocommerce", "order.created__rest-api-docs-v3.json", "order.created", "sample-woo-order")
            .and_then(|mut e| {
                let Payload::OrderPlaced(order) = e.payload else { return Err("not an order".into()) };
                e.payload = Payload::OrderCancelled(Order { cancelled_at: Some(at()), ..order });
                Ok(e)
            })?,
        from_fixture("shopify", "refunds-create__2025-07.json", "refunds/create", "sample-order-refunded")?,
        from_fixture("shopify", "fulfillments-create__legacy.json", "fulfillments/create", "sample-order-fulfilled")?,
        built(
            "order.delivered",
            anne.clone(),
            Payload::OrderDelivered(Fulfillment {
                order_id: ExternalId::parse("820982911946154508")?,
                fulfillment_id: Some(ExternalId::parse("255858046")?),
                status: Some("delivered".to_owned()),
                tracking_company: Some("La Poste".to_owned()),
                tracking_numbers: vec!["6A12345678901".to_owned()],
                tracking_urls: vec!["https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901".to_owned()],
                line_items: vec![],
            }),
        )?,
        built(
            "product.viewed",
            visitor.clone(),
            Payload::ProductViewed(ProductView {
                product_id: ExternalId::parse("632910392")?,
                variant_id: None,
                title: Some("Cuvée des Vignes 2024".to_owned()),
                url: Some("https://shop.example/products/cuvee-2024".to_owned()),
                categories: vec!["Vins rouges".to_owned()],
                price: Some(Money::parse_decimal("24.90", eur)?),
            }),
        )?,
        built(
            "page.viewed",
            visitor,
            Payload::PageViewed(PageView {
                url: "https://shop.example/collections/vins-rouges".to_owned(),
                title: Some("Vins rouges".to_owned()),
                referrer: Some("https://www.google.com/".to_owned()),
            }),
        )?,
        built(
            "support.interaction",
            anne.clone(),
            Payload::SupportInteraction(Support {
                ticket_id: ExternalId::parse("T-1042")?,
                kind: SupportKind::TicketOpened,
                subject: Some("Colis abîmé".to_owned()),
                channel: Some("email".to_owned()),
                score: None,
            }),
        )?,
        from_fixture(
            "shopify",
            "customers-data_request__template.json",
            "customers/data_request",
            "sample-data-request",
        )?,
        from_fixture("shopify", "customers-redact__template.json", "customers/redact", "sample-customer-redact")?,
        from_fixture("shopify", "shop-redact__template.json", "shop/redact", "sample-shop-redact")?,
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/profile-update");
    std::fs::create_dir_all(&dir)?;
    for (n, event) in events.iter().enumerate() {
        let detail_type = event.payload.detail_type();
        let envelope = json!({
            "version": "0",
            "id": format!("6a7e3f1c-1b2d-4c5e-9f00-{:012}", n + 100),
            "detail-type": detail_type,
            "source": "relance.ingest",
            "account": "123456789012",
            "time": event.occurred_at,
            "region": "us-east-1",
            "resources": [],
            "detail": event,
        });
        let text = serde_json::to_string_pretty(&envelope)? + "\n";
        std::fs::write(dir.join(format!("{detail_type}.json")), &text)?;
        // cart-abandon-timer's own sample: the event its Checkouts rule routes to it.
        if detail_type == "checkout.started" {
            std::fs::write(dir.join("../cart-abandon-timer/checkout-started.json"), &text)?;
        }
    }
    println!("wrote {} samples to {}", events.len(), dir.display());
    routes::write_route_samples()
}
