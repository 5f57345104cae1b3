//! What each program achieved, for the shop's summary: mails sent, delivered, clicked and
//! opened (shown apart: Apple Mail Privacy Protection opens every mail it receives, so opens
//! say little), orders and revenue attributed ([`super::attribution`]), and unsubscribes.
//!
//! Computed from each customer's profile and records, like attribution: SES events and
//! unsubscribes arrive late and out of order, and the records hold the first time of each.

use super::attribution::{RevenueReport, attribute};
use crate::events::ConsentState;
use crate::money::Currency;
use crate::profile::records::MessageRecord;
use crate::profile::{Profile, Record};
use chrono::Duration;
use serde::Serialize;
use std::collections::BTreeMap;

/// An unsubscribe is credited to the last mail sent within this time before it.
pub const UNSUBSCRIBE_WINDOW: Duration = Duration::days(7);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProgramResults {
    pub sent: u64,
    /// Marketing mails SES may have sent without saying so (its answer was lost, or an
    /// attempt claimed them and never recorded them): not sent again, counted here so the
    /// shop sees them (docs/reliability.md).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unconfirmed: u64,
    pub delivered: u64,
    pub clicked: u64,
    /// Counted apart from clicks: machine opens inflate them.
    pub opened: u64,
    pub bounced: u64,
    pub complaints: u64,
    /// Customers who unsubscribed within [`UNSUBSCRIBE_WINDOW`] of this program's mail.
    pub unsubscribes: u64,
    pub orders: u64,
    /// Net attributed revenue per currency, in minor units.
    pub revenue: BTreeMap<Currency, i64>,
}

/// Results by program id (campaign mails under their campaign's program id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Results {
    pub by_program: BTreeMap<String, ProgramResults>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn program_of(message: &MessageRecord) -> String {
    message.program.clone().unwrap_or_else(|| "unknown".to_owned())
}

impl Results {
    /// Adds one customer's mails, orders and unsubscribe.
    pub fn add(&mut self, profile: &Profile, records: &[Record]) {
        for record in records {
            if let Record::Message(m) = record
                && m.sent_at.is_none()
                && m.unconfirmed_at.is_some()
            {
                self.by_program.entry(program_of(m)).or_default().unconfirmed += 1;
            }
        }
        let messages: Vec<&MessageRecord> = records
            .iter()
            .filter_map(|r| match r {
                Record::Message(m) if m.sent_at.is_some() => Some(m),
                _ => None,
            })
            .collect();
        for message in &messages {
            let slot = self.by_program.entry(program_of(message)).or_default();
            let has = |signal: &str| u64::from(message.signals.contains_key(signal));
            slot.sent += 1;
            slot.delivered += has("delivered");
            slot.clicked += has("clicked");
            slot.opened += has("opened");
            slot.bounced += has("hard_bounce");
            slot.complaints += has("complaint");
        }
        let mut revenue = RevenueReport::default();
        revenue.add(&attribute(records));
        for (program, currencies) in revenue.by_program {
            let slot = self.by_program.entry(program).or_default();
            for (currency, figures) in currencies {
                slot.orders += figures.orders;
                *slot.revenue.entry(currency).or_default() += figures.net_minor;
            }
        }
        // The unsubscribe: credited to the last mail sent before it, within the window.
        let Some(consent) = profile.consent.as_ref().filter(|c| c.value.state == ConsentState::Unsubscribed) else {
            return;
        };
        let at = consent.stamp.at;
        let last = messages
            .iter()
            .filter(|m| m.sent_at.is_some_and(|sent| sent <= at && at - sent <= UNSUBSCRIBE_WINDOW))
            .max_by_key(|m| m.sent_at);
        if let Some(message) = last {
            self.by_program.entry(program_of(message)).or_default().unsubscribes += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn event(id: &str, when: DateTime<Utc>, payload: serde_json::Value) -> Event {
        serde_json::from_value(json!({
            "schema_version": 1, "id": id, "shop": "demo", "platform": "api",
            "occurred_at": when, "received_at": when, "identity": { "email": "a@example.fr" }, "payload": payload,
        }))
        .unwrap()
    }

    fn message(key: &str, program: &str, sent: DateTime<Utc>, signals: &[(&str, DateTime<Utc>)]) -> Record {
        Record::Message(MessageRecord {
            key: key.into(),
            program: Some(program.into()),
            sent_at: Some(sent),
            signals: signals.iter().map(|(s, t)| ((*s).to_owned(), *t)).collect(),
            ..MessageRecord::default()
        })
    }

    #[test]
    fn mails_signals_orders_and_an_unsubscribe_are_counted_per_program() {
        let order = event(
            "o1",
            at(10, 12),
            json!({ "type": "order.placed", "order_id": "1", "line_items": [],
            "total": { "minor": 5000, "currency": "EUR" } }),
        );
        let mut records = Record::from_event(&order);
        records.push(message("a", "welcome", at(10, 9), &[("delivered", at(10, 9)), ("opened", at(10, 10))]));
        records.push(message("b", "review-request", at(20, 9), &[("delivered", at(20, 9)), ("clicked", at(20, 11))]));
        // Claimed, never sent: not a mail.
        records.push(Record::Message(MessageRecord {
            key: "c".into(),
            program: Some("welcome".into()),
            claimed_at: Some(at(21, 9)),
            ..MessageRecord::default()
        }));
        // Maybe sent, not said so (SES's answer lost): not a mail sent, but shown.
        records.push(Record::Message(MessageRecord {
            key: "d".into(),
            program: Some("welcome".into()),
            claimed_at: Some(at(21, 10)),
            unconfirmed_at: Some(at(21, 10)),
            ..MessageRecord::default()
        }));
        let mut profile = Profile::new(
            crate::ids::ShopId::parse("demo").unwrap(),
            crate::ids::ProfileId::parse("p1").unwrap(),
            at(1, 0),
        );
        profile.apply(&event(
            "u1",
            at(22, 8),
            json!({ "type": "consent.changed", "state": "unsubscribed",
            "changed_at": at(22, 8), "source": "unsubscribe-link" }),
        ));
        let mut results = Results::default();
        results.add(&profile, &records);
        let welcome = &results.by_program["welcome"];
        assert_eq!((welcome.sent, welcome.delivered, welcome.opened, welcome.clicked), (1, 1, 1, 0));
        assert_eq!(welcome.unconfirmed, 1);
        assert_eq!(
            (welcome.orders, welcome.revenue.get(&Currency::parse("EUR").unwrap()).copied()),
            (1, Some(5000)),
            "opened 2 h before"
        );
        let review = &results.by_program["review-request"];
        assert_eq!((review.sent, review.clicked, review.unsubscribes), (1, 1, 1), "the last mail before it");
        assert_eq!(welcome.unsubscribes, 0);
    }
}
