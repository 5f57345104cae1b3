//! The simulated shop's events of the generic API: what its newsletter plugin, server,
//! help desk and carrier report, as JSON the API takes.

use super::SITE;
use crate::sim::{Order, Shop};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

impl Shop {
    /// The generic-API event of a WooCommerce customer's newsletter sign-up (`None`: never
    /// subscribed, nothing to report).
    pub fn api_consent(&self, customer: usize) -> Option<Value> {
        let c = &self.customers[customer];
        c.subscribed.then(|| {
            json!({
                "id": format!("consent-{}", c.id), "type": "consent.changed", "occurred_at": c.signed_up_at,
                "identity": { "email": c.email },
                "data": { "state": "subscribed", "changed_at": c.signed_up_at, "source": "newsletter" },
            })
        })
    }

    /// A product view the shop's server reports (what a tracker beacon also carries).
    pub fn api_view(&self, n: usize, at: DateTime<Utc>) -> Value {
        let (customer, product) = self.views[n];
        let (c, p) = (&self.customers[customer], &self.products[product]);
        json!({
            "id": format!("view-{n}"), "type": "product.viewed", "occurred_at": at,
            "identity": { "email": c.email },
            "context": { "locale": c.locale },
            "data": { "product_id": p.id.to_string(), "title": p.title, "categories": [p.category],
                      "price": { "minor": p.price(c.currency), "currency": c.currency.code() },
                      "url": format!("{SITE}/products/{}", p.slug()) },
        })
    }

    /// A support ticket opened through the shop's help desk.
    pub fn api_ticket(&self, customer: usize, at: DateTime<Utc>) -> Value {
        let c = &self.customers[customer];
        json!({
            "id": format!("ticket-{}", c.id), "type": "support.interaction", "occurred_at": at,
            "identity": { "email": c.email },
            "data": { "ticket_id": format!("T-{}", 1_000 + customer), "kind": "ticket_opened",
                      "channel": "email", "subject": if c.locale == "fr" { "Où est ma commande ?" } else { "Where is my order?" } },
        })
    }

    /// The help desk closes the ticket [`Shop::api_ticket`] opened.
    pub fn api_ticket_closed(&self, customer: usize, at: DateTime<Utc>) -> Value {
        let c = &self.customers[customer];
        json!({
            "id": format!("ticket-closed-{}", c.id), "type": "support.interaction", "occurred_at": at,
            "identity": { "email": c.email },
            "data": { "ticket_id": format!("T-{}", 1_000 + customer), "kind": "ticket_closed", "channel": "email" },
        })
    }

    /// The carrier's delivery of an order, as a shop without delivery webhooks reports it.
    pub fn api_delivered(&self, order: &Order, at: DateTime<Utc>) -> Value {
        let c = &self.customers[order.customer];
        json!({
            "id": format!("delivered-{}", order.id), "type": "order.delivered", "occurred_at": at,
            "identity": { "email": c.email },
            "data": { "order_id": order.id.to_string(), "status": "delivered", "tracking_company": "Colissimo" },
        })
    }
}
