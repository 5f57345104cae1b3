//! Which program earned an order: the last Relance mail the customer opened or clicked in
//! the 5 days before it (SPECS: Published figures — the attribution window of the usual
//! tools), so recovered revenue can be reported per program.
//!
//! Computed when read, from the customer's order and message records, rather than stamped
//! on the order when it arrives: an open reported after the order (SES events come late and
//! out of order) still counts if it happened before the order.

use crate::money::{Currency, Money};
use crate::profile::Record;
use crate::profile::records::{MessageRecord, OrderStatus};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

pub const ATTRIBUTION_WINDOW: Duration = Duration::days(5);

/// One order and the mail credited with it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attributed {
    pub order_id: String,
    pub placed_at: DateTime<Utc>,
    /// The order's total, less what was refunded.
    pub net: Money,
    pub program: Option<String>,
    pub message: Option<String>,
}

/// When the customer last engaged with `message` at or before `at`: its click or open.
fn engaged_before(message: &MessageRecord, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    ["clicked", "opened"].iter().filter_map(|s| message.signals.get(*s).copied()).filter(|t| *t <= at).max()
}

/// Every order of one customer's records, each credited to the last mail opened or clicked
/// within [`ATTRIBUTION_WINDOW`] before it. Cancelled orders are left out.
pub fn attribute(records: &[Record]) -> Vec<Attributed> {
    let messages: Vec<&MessageRecord> = records
        .iter()
        .filter_map(|r| match r {
            Record::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    records
        .iter()
        .filter_map(|r| match r {
            Record::Order(order) if !order.has(OrderStatus::Cancelled) => Some(order),
            _ => None,
        })
        .filter_map(|order| {
            let placed_at = order.timeline.iter().map(|e| e.at).min()?;
            let total = order.total?.amount;
            let refunded = order.refunded().filter(|r| r.currency() == total.currency()).map_or(0, |r| r.minor());
            let net = Money::from_minor(total.minor().saturating_sub(refunded).max(0), total.currency());
            let credited = messages
                .iter()
                .filter_map(|m| engaged_before(m, placed_at).map(|t| (t, *m)))
                .filter(|(t, _)| placed_at - *t <= ATTRIBUTION_WINDOW)
                .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.key.cmp(&b.1.key)));
            Some(Attributed {
                order_id: order.order_id.to_string(),
                placed_at,
                net,
                program: credited.and_then(|(_, m)| m.program.clone()),
                message: credited.map(|(_, m)| m.key.clone()),
            })
        })
        .collect()
}

/// Attributed revenue per program and currency: orders and net minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RevenueReport {
    pub by_program: BTreeMap<String, BTreeMap<Currency, ProgramRevenue>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProgramRevenue {
    pub orders: u64,
    pub net_minor: i64,
}

impl RevenueReport {
    /// Adds orders (of any customers) to the report; unattributed ones are not counted.
    pub fn add<'a>(&mut self, orders: impl IntoIterator<Item = &'a Attributed>) {
        for order in orders {
            let Some(program) = &order.program else { continue };
            let slot = self.by_program.entry(program.clone()).or_default().entry(order.net.currency()).or_default();
            slot.orders += 1;
            slot.net_minor = slot.net_minor.saturating_add(order.net.minor());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn order(id: &str, day: u32, minor: i64) -> Record {
        let event: Event = serde_json::from_value(json!({
            "schema_version": 1, "id": format!("shopify:demo:{id}"), "shop": "demo", "platform": "shopify",
            "occurred_at": at(day, 12), "received_at": at(day, 12),
            "payload": { "type": "order.placed", "order_id": id, "line_items": [],
                         "total": { "minor": minor, "currency": "EUR" } },
        }))
        .unwrap();
        Record::from_event(&event).remove(0)
    }

    fn mail(key: &str, program: &str, signal: &str, when: DateTime<Utc>) -> Record {
        let mut message =
            MessageRecord { key: key.into(), program: Some(program.into()), sent_at: Some(when), ..Default::default() };
        message.signals.insert(signal.into(), when);
        Record::Message(message)
    }

    #[test]
    fn an_order_is_credited_to_the_last_mail_engaged_with_in_the_five_days_before() {
        let records = vec![
            mail("m1", "welcome", "opened", at(10, 9)),
            mail("m2", "abandoned-checkout", "clicked", at(12, 9)),
            mail("m3", "reactivation", "opened", at(14, 9)), // after the first order
            order("o1", 13, 4980),
            order("o2", 25, 1000), // nothing within 5 days
        ];
        let attributed = attribute(&records);
        let by_id: BTreeMap<&str, Option<&str>> =
            attributed.iter().map(|a| (a.order_id.as_str(), a.program.as_deref())).collect();
        assert_eq!(by_id["o1"], Some("abandoned-checkout"));
        assert_eq!(by_id["o2"], None);
        let mut report = RevenueReport::default();
        report.add(&attributed);
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(report.by_program["abandoned-checkout"][&eur], ProgramRevenue { orders: 1, net_minor: 4980 });
        assert_eq!(report.by_program.len(), 1);
    }
}
