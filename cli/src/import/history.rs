//! One order's history as import events, whatever it was read from (a CSV export, Shopify's
//! bulk operation, WooCommerce's REST API): placed, then paid, fulfilled, cancelled and
//! refunded at their own times. The ids derive from the order's id and what happened
//! (`import:order:<id>:paid`), so the same order read from two sources is one order.

use super::event::ImportEvent;
use relance::events::{ConsentChange, ConsentState, Customer, Fulfillment, Payload, Refund};
use relance::normalise::StoredOrder;

pub fn order_events(h: &StoredOrder) -> Vec<ImportEvent> {
    let order_id = &h.order.order_id;
    let id = |what: &str| format!("import:order:{order_id}:{what}");
    let event = |what: &str, at, payload: &Payload| ImportEvent::new(id(what), at, h.identity.clone(), payload);
    let mut events = vec![event("placed", h.placed_at, &Payload::OrderPlaced(h.order.clone()))];
    let mut latest = h.placed_at;
    if let Some(first_name) = &h.first_name {
        let customer =
            Customer { first_name: Some(first_name.clone()), last_name: h.last_name.clone(), ..Customer::default() };
        events.push(event("customer", h.placed_at, &Payload::CustomerUpserted(customer)));
    }
    if let Some(accepts) = h.accepts_marketing {
        let state = if accepts { ConsentState::Subscribed } else { ConsentState::Unsubscribed };
        let consent = ConsentChange { state, changed_at: h.placed_at, source: "import".to_owned() };
        events.push(event("consent", h.placed_at, &Payload::ConsentChanged(consent)));
    }
    if let Some(paid_at) = h.paid_at {
        latest = latest.max(paid_at);
        events.push(event("paid", paid_at, &Payload::OrderPaid(h.order.clone())));
    }
    if let Some(fulfilled_at) = h.fulfilled_at {
        latest = latest.max(fulfilled_at);
        let fulfillment = Fulfillment {
            order_id: order_id.clone(),
            fulfillment_id: None,
            status: Some("success".to_owned()),
            tracking_company: None,
            tracking_numbers: Vec::new(),
            tracking_urls: Vec::new(),
            line_items: Vec::new(),
        };
        events.push(event("fulfilled", fulfilled_at, &Payload::OrderFulfilled(fulfillment)));
    }
    if let Some(cancelled_at) = h.order.cancelled_at {
        latest = latest.max(cancelled_at);
        events.push(event("cancelled", cancelled_at, &Payload::OrderCancelled(h.order.clone())));
    }
    if let Some(refunded) = h.refunded.filter(|m| m.minor() > 0) {
        let refund = Refund { order_id: order_id.clone(), refund_id: None, amount: refunded, line_items: Vec::new() };
        events.push(event("refunded", latest, &Payload::OrderRefunded(refund)));
    }
    events
}
