//! What starts a program: a canonical event (or a derived one: a segment transition, the
//! nightly run), narrowed by filters on what the event says.
//!
//! Filters read only the event, never the profile: the timer sees an event at the same time
//! as profile-update, before the profile has it. What depends on the profile is a step's
//! condition or an exit, checked when the step is due.

use crate::events::ConsentState;
use crate::events::{Event, Payload, SupportKind};
use serde::Serialize;

/// The events a trigger may name: every canonical detail-type but the GDPR ones, and the
/// two Relance derives (`segment.changed` from the nightly run, `nightly` itself).
pub fn is_trigger_event(name: &str) -> bool {
    let canonical = Payload::DETAIL_TYPES.contains(&name) && !name.starts_with("gdpr.");
    canonical || [SEGMENT_CHANGED, NIGHTLY].contains(&name)
}

pub const SEGMENT_CHANGED: &str = "segment.changed";
pub const NIGHTLY: &str = "nightly";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// Any of these detail-types starts it.
    pub events: Vec<String>,
    /// All must hold.
    pub filters: Vec<Filter>,
}

/// A test on the triggering event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// A support interaction of this kind (`ticket_closed`, …).
    Support(SupportKind),
    /// A `segment.changed` into this segment (checked by the nightly side).
    Segment(String),
    /// The event states marketing consent (a signup with the newsletter box ticked).
    Subscribed,
    /// A line, viewed product or fulfilment status names this (category, collection or
    /// status), case-insensitive.
    Mentions(String),
}

impl Trigger {
    pub fn on(event: &str) -> Self {
        Self { events: vec![event.to_owned()], filters: Vec::new() }
    }

    /// Whether a canonical event starts this program.
    pub fn matches(&self, event: &Event) -> bool {
        let kind = event.payload.detail_type();
        self.events.iter().any(|e| e == kind) && self.filters.iter().all(|f| f.holds(event))
    }

    /// The segment a `segment.changed` trigger names, if it is one.
    pub fn segment(&self) -> Option<&str> {
        if !self.events.iter().any(|e| e == SEGMENT_CHANGED) {
            return None;
        }
        self.filters.iter().find_map(|f| match f {
            Filter::Segment(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

impl Filter {
    fn holds(&self, event: &Event) -> bool {
        match self {
            Filter::Support(kind) => matches!(&event.payload, Payload::SupportInteraction(s) if s.kind == *kind),
            // Decided nightly, never by a canonical event.
            Filter::Segment(_) => false,
            Filter::Subscribed => match &event.payload {
                Payload::SignedUp(c) | Payload::CustomerUpserted(c) => {
                    c.marketing_consent.as_ref().is_some_and(|m| m.state == ConsentState::Subscribed)
                }
                Payload::ConsentChanged(change) => change.state == ConsentState::Subscribed,
                _ => false,
            },
            Filter::Mentions(word) => {
                let same = |s: &str| s.eq_ignore_ascii_case(word);
                match &event.payload {
                    Payload::OrderPlaced(o) | Payload::OrderPaid(o) => {
                        o.line_items.iter().any(|l| l.categories.iter().any(|c| same(c)))
                    }
                    Payload::ProductViewed(v) => v.categories.iter().any(|c| same(c)),
                    Payload::OrderFulfilled(f) | Payload::OrderDelivered(f) => f.status.as_deref().is_some_and(same),
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(payload: serde_json::Value) -> Event {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1, "id": "e1", "shop": "demo", "platform": "api",
            "occurred_at": "2026-11-30T10:00:00Z", "received_at": "2026-11-30T10:00:00Z",
            "identity": { "email": "a@example.fr" }, "payload": payload,
        }))
        .unwrap()
    }

    #[test]
    fn a_trigger_matches_its_events_when_every_filter_holds() {
        let closed =
            event(serde_json::json!({ "type": "support.interaction", "ticket_id": "t1", "kind": "ticket_closed" }));
        let opened =
            event(serde_json::json!({ "type": "support.interaction", "ticket_id": "t1", "kind": "ticket_opened" }));
        let trigger = Trigger {
            events: vec!["support.interaction".into()],
            filters: vec![Filter::Support(SupportKind::TicketClosed)],
        };
        assert!(trigger.matches(&closed));
        assert!(!trigger.matches(&opened));
        assert!(!Trigger::on("order.placed").matches(&closed));

        let signup = |state: &str| {
            event(serde_json::json!({ "type": "customer.signed_up", "marketing_consent":
                { "state": state, "changed_at": "2026-11-30T10:00:00Z", "source": "api" } }))
        };
        let subscribed = Trigger { events: vec!["customer.signed_up".into()], filters: vec![Filter::Subscribed] };
        assert!(subscribed.matches(&signup("subscribed")));
        assert!(!subscribed.matches(&signup("unsubscribed")));
        assert!(!subscribed.matches(&event(serde_json::json!({ "type": "customer.signed_up" }))));
    }

    #[test]
    fn gdpr_events_start_nothing_and_derived_events_are_known() {
        assert!(is_trigger_event("order.delivered") && is_trigger_event("segment.changed"));
        assert!(!is_trigger_event("gdpr.customer_redacted") && !is_trigger_event("order.deliverd"));
    }
}
