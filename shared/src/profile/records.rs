//! The items that live beside a profile, under its partition key: one per order, one per
//! checkout or cart, one per on-site action (expiring), one per mail sent.
//!
//! The profile item keeps only what every reader needs (summaries, counters, consent), so a
//! customer with a thousand orders still fits in one item (SPECS: DynamoDB); the detail a
//! program or an export needs — lines, totals, the status timeline, tracking, the recovery
//! link, the message log — is here. Each record is a join-semilattice like the profile:
//! [`Record::join`] is commutative, associative and idempotent, so records are written
//! before the profile commits an event, and a retry or a redelivery re-joins harmlessly.

use crate::events::{Checkout, Event, Fulfillment, LineItem, Order, Payload};
use crate::ids::{EventId, ExternalId};
use crate::lattice::{Lww, Stamp, join_lww, join_min};
use crate::mail::MailKind;
use crate::money::Money;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::TimedMoney;
use crate::events::MailSignal;

/// On-site activity is kept this long (README, "Data model"): enough for the conditional
/// scenarios and browse-abandonment, short enough to stay cheap and respectful.
pub const ACTIVITY_RETENTION: Duration = Duration::days(90);
/// The message log is kept this long: a year of history for frequency caps and reporting.
pub const MESSAGE_RETENTION: Duration = Duration::days(400);

/// A record's sort key within its customer's partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKey {
    Order(ExternalId),
    Checkout(ExternalId),
    Cart(ExternalId),
    /// Time first, so a customer's activity reads in order.
    Activity {
        at: DateTime<Utc>,
        event: String,
    },
    Message(String),
    /// A pending one-time schedule that carries the customer (a program step, a pause's
    /// re-check, a deferred mail), by its name.
    Schedule(String),
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordKey::Order(id) => write!(f, "ORDER#{id}"),
            RecordKey::Checkout(token) => write!(f, "CHECKOUT#{token}"),
            RecordKey::Cart(token) => write!(f, "CART#{token}"),
            RecordKey::Activity { at, event } => {
                write!(f, "ACT#{}#{event}", at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            }
            RecordKey::Message(key) => write!(f, "MSG#{key}"),
            RecordKey::Schedule(name) => write!(f, "SCHED#{name}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    Order(OrderRecord),
    Checkout(CheckoutRecord),
    Activity(ActivityRecord),
    Message(MessageRecord),
    Schedule(ScheduleRecord),
}

/// A one-time schedule armed for the customer, whose payload names them (a program step, a
/// pause's re-check, a deferred mail). Schedule names are hashes, so only this record lets
/// an erasure find and delete them (`use_cases::gdpr`); it holds the name the arming code
/// derived, never a second derivation of it, and no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    pub name: crate::schedule::ScheduleName,
    /// When it is due, the latest of its armings (a deferred mail moved later keeps its name).
    pub due: DateTime<Utc>,
}

/// A schedule record outlives its schedule by this much, then TTL forgets it: Scheduler
/// retries a failed invocation for up to a day, and a record kept too long only costs a
/// `DeleteSchedule` that finds nothing.
pub const SCHEDULE_RECORD_MARGIN: Duration = Duration::days(7);

/// One order: what the order mails and the export show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub order_id: ExternalId,
    #[serde(default)]
    pub name: Option<Lww<String>>,
    #[serde(default)]
    pub checkout_token: Option<ExternalId>,
    /// The lines as last stated (an edit restates them all).
    #[serde(default)]
    pub lines: Option<Lww<Vec<LineItem>>>,
    #[serde(default)]
    pub subtotal: Option<TimedMoney>,
    #[serde(default)]
    pub total: Option<TimedMoney>,
    #[serde(default)]
    pub discount_codes: BTreeSet<String>,
    /// Refund id (or `total` when the platform reports only a running total) → amount; the
    /// largest report of each wins.
    #[serde(default)]
    pub refunds: BTreeMap<String, Money>,
    #[serde(default)]
    pub fulfillments: BTreeMap<String, FulfillmentRecord>,
    /// Every status change with its time and cause, oldest first.
    #[serde(default)]
    pub timeline: BTreeSet<TimelineEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    Paid,
    Fulfilled,
    Delivered,
    Refunded,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub status: OrderStatus,
    pub event: EventId,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfillmentRecord {
    #[serde(default)]
    pub status: Option<Lww<String>>,
    #[serde(default)]
    pub tracking_company: Option<String>,
    #[serde(default)]
    pub tracking_numbers: BTreeSet<String>,
    #[serde(default)]
    pub tracking_urls: BTreeSet<String>,
}

/// A checkout (or a cart, when the platform tells whose it is): what the abandoned-checkout
/// series reads when a reminder is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutRecord {
    pub token: ExternalId,
    /// `true` for a cart (no checkout yet).
    #[serde(default)]
    pub cart: bool,
    #[serde(default)]
    pub cart_token: Option<ExternalId>,
    #[serde(default)]
    pub lines: Option<Lww<Vec<LineItem>>>,
    #[serde(default)]
    pub total: Option<Lww<Money>>,
    #[serde(default)]
    pub recovery_url: Option<Lww<String>>,
    pub started_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// When it was completed: `completed_at`, or the order that names it.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub order_id: Option<ExternalId>,
}

impl CheckoutRecord {
    /// Nothing left to buy: its lines were emptied.
    pub fn is_empty(&self) -> bool {
        self.lines.as_ref().is_some_and(|l| l.value.is_empty())
    }

    pub fn is_completed(&self) -> bool {
        self.completed_at.is_some() || self.order_id.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    PageView,
    ProductView,
    CheckoutStarted,
    Support,
}

/// One thing the customer did on the site. Written once, expires after
/// [`ACTIVITY_RETENTION`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub at: DateTime<Utc>,
    pub event: EventId,
    pub kind: ActivityKind,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub product_id: Option<ExternalId>,
    /// A viewed product's price, when the tracker sent it: mail A of the conditional
    /// scenario lists what was looked at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
}

/// One mail sent to the customer, and what the provider reported about it since. Facts
/// come from two sources in any order (send-mail when it sends, the provider's events
/// after), so every field joins: set-once values keep the least, signals their first time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Relance's key of the mail: the same for a retried request, so it is sent once.
    pub key: String,
    #[serde(default)]
    pub program: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub step: Option<u32>,
    #[serde(default)]
    pub kind: Option<MailKind>,
    #[serde(default)]
    pub subject: Option<String>,
    /// When send-mail took this mail on: a claim, so a retried request never sends twice.
    #[serde(default)]
    pub claimed_at: Option<DateTime<Utc>>,
    /// The attempt that claimed it (an invocation's own id): its claim, found taken after a
    /// lost answer, is still its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<String>,
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
    /// SES may have sent it, but no answer said so (a lost answer, or a claim never
    /// recorded): a marketing mail is then not sent again. Counted in the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub provider_id: Option<String>,
    /// Signal → first time it was reported.
    #[serde(default)]
    pub signals: BTreeMap<String, DateTime<Utc>>,
}

impl MessageRecord {
    /// What a provider report states about a mail.
    pub fn signal(key: String, provider_id: String, signal: MailSignal, at: DateTime<Utc>) -> Self {
        let mut record = Self { key, provider_id: Some(provider_id), ..Self::default() };
        join_min_entry(&mut record.signals, signal.as_str(), at);
        record
    }

    fn join(&mut self, theirs: MessageRecord) {
        join_min_of(&mut self.program, theirs.program);
        join_min_of(&mut self.template, theirs.template);
        join_min_of(&mut self.step, theirs.step);
        join_min_of(&mut self.kind, theirs.kind);
        join_min_of(&mut self.subject, theirs.subject);
        join_min(&mut self.claimed_at, theirs.claimed_at);
        join_min(&mut self.sent_at, theirs.sent_at);
        join_min_of(&mut self.attempt, theirs.attempt);
        join_min(&mut self.unconfirmed_at, theirs.unconfirmed_at);
        join_min_of(&mut self.provider_id, theirs.provider_id);
        for (signal, at) in theirs.signals {
            join_min_entry(&mut self.signals, &signal, at);
        }
    }
}

/// For values that never really differ (a checkout's order): any two statements agree on
/// the least, so the join stays order-independent even if they did.
fn join_min_of<T: Ord>(current: &mut Option<T>, offered: Option<T>) {
    if let Some(offered) = offered
        && current.as_ref().is_none_or(|c| offered < *c)
    {
        *current = Some(offered);
    }
}

fn join_min_entry(map: &mut BTreeMap<String, DateTime<Utc>>, key: &str, at: DateTime<Utc>) {
    let slot = map.entry(key.to_owned()).or_insert(at);
    *slot = (*slot).min(at);
}

impl Record {
    pub fn key(&self) -> RecordKey {
        match self {
            Record::Order(order) => RecordKey::Order(order.order_id.clone()),
            Record::Checkout(checkout) if checkout.cart => RecordKey::Cart(checkout.token.clone()),
            Record::Checkout(checkout) => RecordKey::Checkout(checkout.token.clone()),
            Record::Activity(activity) => {
                RecordKey::Activity { at: activity.at, event: super::fingerprint(&activity.event) }
            }
            Record::Message(message) => RecordKey::Message(message.key.clone()),
            Record::Schedule(schedule) => RecordKey::Schedule(schedule.name.as_str().to_owned()),
        }
    }

    /// When the store may forget it (DynamoDB TTL); `None` for records kept for good.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Record::Activity(activity) => Some(activity.at + ACTIVITY_RETENTION),
            Record::Message(message) => {
                let first = message.sent_at.or(message.claimed_at).or_else(|| message.signals.values().min().copied());
                first.map(|at| at + MESSAGE_RETENTION)
            }
            Record::Schedule(schedule) => Some(schedule.due + SCHEDULE_RECORD_MARGIN),
            Record::Order(_) | Record::Checkout(_) => None,
        }
    }

    /// Joins another statement of the same record (same [`Record::key`]) into this one.
    pub fn join(&mut self, other: Record) {
        match (self, other) {
            (Record::Order(mine), Record::Order(theirs)) => mine.join(theirs),
            (Record::Checkout(mine), Record::Checkout(theirs)) => mine.join(theirs),
            (Record::Message(mine), Record::Message(theirs)) => mine.join(theirs),
            (Record::Schedule(mine), Record::Schedule(theirs)) => mine.due = mine.due.max(theirs.due),
            // Activity is written once; records of different kinds never share a key.
            _ => {}
        }
    }

    /// The records an event states, before joining with what is stored.
    pub fn from_event(event: &Event) -> Vec<Record> {
        let stamp = Stamp { at: event.occurred_at, event: event.id.clone() };
        let activity = |kind, url: Option<&String>, title: Option<&String>, product_id: Option<&ExternalId>| {
            Record::Activity(ActivityRecord {
                at: event.occurred_at,
                event: event.id.clone(),
                kind,
                url: url.cloned(),
                title: title.cloned(),
                product_id: product_id.cloned(),
                price: match &event.payload {
                    Payload::ProductViewed(view) => view.price,
                    _ => None,
                },
            })
        };
        match &event.payload {
            Payload::OrderPlaced(order) => order_records(order, &stamp, OrderStatus::Placed),
            Payload::OrderPaid(order) => order_records(order, &stamp, OrderStatus::Paid),
            Payload::OrderCancelled(order) => order_records(order, &stamp, OrderStatus::Cancelled),
            Payload::OrderRefunded(refund) => {
                let mut record = OrderRecord::new(refund.order_id.clone());
                let id = refund.refund_id.as_ref().map_or("total", ExternalId::as_str);
                record.refunds.insert(id.to_owned(), refund.amount);
                record.timeline.insert(TimelineEntry {
                    at: stamp.at,
                    status: OrderStatus::Refunded,
                    event: stamp.event.clone(),
                });
                vec![Record::Order(record)]
            }
            Payload::OrderFulfilled(fulfillment) => {
                vec![Record::Order(fulfillment_record(fulfillment, &stamp, OrderStatus::Fulfilled))]
            }
            Payload::OrderDelivered(fulfillment) => {
                vec![Record::Order(fulfillment_record(fulfillment, &stamp, OrderStatus::Delivered))]
            }
            Payload::CheckoutStarted(checkout) => vec![
                Record::Checkout(checkout_record(checkout, &stamp)),
                activity(ActivityKind::CheckoutStarted, checkout.recovery_url.as_ref(), None, None),
            ],
            Payload::CheckoutUpdated(checkout) | Payload::CheckoutCompleted(checkout) => {
                let mut record = checkout_record(checkout, &stamp);
                if matches!(event.payload, Payload::CheckoutCompleted(_)) {
                    join_min(&mut record.completed_at, Some(stamp.at));
                }
                vec![Record::Checkout(record)]
            }
            Payload::CartUpdated(cart) => vec![Record::Checkout(CheckoutRecord {
                token: cart.token.clone(),
                cart: true,
                cart_token: Some(cart.token.clone()),
                lines: Some(Lww::new(cart.line_items.clone(), stamp.clone())),
                total: cart.total.map(|t| Lww::new(t, stamp.clone())),
                recovery_url: None,
                started_at: stamp.at,
                last_activity_at: stamp.at,
                completed_at: None,
                order_id: None,
            })],
            Payload::PageViewed(view) => {
                vec![activity(ActivityKind::PageView, Some(&view.url), view.title.as_ref(), None)]
            }
            Payload::ProductViewed(view) => vec![activity(
                ActivityKind::ProductView,
                view.url.as_ref(),
                view.title.as_ref(),
                Some(&view.product_id),
            )],
            Payload::SupportInteraction(support) => {
                vec![activity(ActivityKind::Support, None, support.subject.as_ref(), Some(&support.ticket_id))]
            }
            Payload::CustomerUpserted(_)
            | Payload::ConsentChanged(_)
            | Payload::SignedUp(_)
            | Payload::ProductPublished(_)
            | Payload::DataRequested(_)
            | Payload::CustomerRedacted(_)
            | Payload::ShopRedacted => vec![],
        }
    }
}

/// The order's own record and, when it names its checkout or cart, that one completed.
fn order_records(order: &Order, stamp: &Stamp, status: OrderStatus) -> Vec<Record> {
    let mut record = OrderRecord::new(order.order_id.clone());
    record.name = order.name.clone().map(|n| Lww::new(n, stamp.clone()));
    record.checkout_token = order.checkout_token.clone();
    if !order.line_items.is_empty() {
        record.lines = Some(Lww::new(order.line_items.clone(), stamp.clone()));
    }
    record.subtotal = order.subtotal.map(|amount| TimedMoney { at: stamp.at, amount });
    record.total = Some(TimedMoney { at: stamp.at, amount: order.total });
    record.discount_codes = order.discount_codes.iter().cloned().collect();
    let mut entry = |status| record.timeline.insert(TimelineEntry { at: stamp.at, status, event: stamp.event.clone() });
    entry(status);
    if order.financial_status.as_deref() == Some("paid") {
        entry(OrderStatus::Paid);
    }
    if order.cancelled_at.is_some() && status != OrderStatus::Cancelled {
        entry(OrderStatus::Cancelled);
    }
    let mut records = vec![Record::Order(record)];
    let completes = |token: &ExternalId, cart: bool| {
        Record::Checkout(CheckoutRecord {
            token: token.clone(),
            cart,
            cart_token: None,
            lines: None,
            total: None,
            recovery_url: None,
            started_at: stamp.at,
            last_activity_at: stamp.at,
            completed_at: Some(stamp.at),
            order_id: Some(order.order_id.clone()),
        })
    };
    records.extend(order.checkout_token.as_ref().map(|t| completes(t, false)));
    records.extend(order.cart_token.as_ref().map(|t| completes(t, true)));
    records
}

fn fulfillment_record(fulfillment: &Fulfillment, stamp: &Stamp, status: OrderStatus) -> OrderRecord {
    let mut record = OrderRecord::new(fulfillment.order_id.clone());
    let id = fulfillment.fulfillment_id.as_ref().map_or("default", ExternalId::as_str);
    record.fulfillments.insert(
        id.to_owned(),
        FulfillmentRecord {
            status: fulfillment.status.clone().map(|s| Lww::new(s, stamp.clone())),
            tracking_company: fulfillment.tracking_company.clone(),
            tracking_numbers: fulfillment.tracking_numbers.iter().cloned().collect(),
            tracking_urls: fulfillment.tracking_urls.iter().cloned().collect(),
        },
    );
    record.timeline.insert(TimelineEntry { at: stamp.at, status, event: stamp.event.clone() });
    record
}

fn checkout_record(checkout: &Checkout, stamp: &Stamp) -> CheckoutRecord {
    CheckoutRecord {
        token: checkout.token.clone(),
        cart: false,
        cart_token: checkout.cart_token.clone(),
        lines: Some(Lww::new(checkout.line_items.clone(), stamp.clone())),
        total: Some(Lww::new(checkout.total, stamp.clone())),
        recovery_url: checkout.recovery_url.clone().map(|u| Lww::new(u, stamp.clone())),
        started_at: stamp.at,
        last_activity_at: stamp.at,
        completed_at: checkout.completed_at,
        order_id: None,
    }
}

impl OrderRecord {
    pub fn new(order_id: ExternalId) -> Self {
        Self {
            order_id,
            name: None,
            checkout_token: None,
            lines: None,
            subtotal: None,
            total: None,
            discount_codes: BTreeSet::new(),
            refunds: BTreeMap::new(),
            fulfillments: BTreeMap::new(),
            timeline: BTreeSet::new(),
        }
    }

    /// Refunded so far: refunds add up, except a platform's running total, which already
    /// is their sum.
    pub fn refunded(&self) -> Option<Money> {
        let by_id: Vec<Money> = self.refunds.iter().filter(|(id, _)| *id != "total").map(|(_, m)| *m).collect();
        let summed = by_id.iter().try_fold(None::<Money>, |sum, m| match sum {
            None => Some(Some(*m)),
            Some(s) if s.currency() == m.currency() => {
                Some(Some(Money::from_minor(s.minor().saturating_add(m.minor()), s.currency())))
            }
            Some(_) => None,
        });
        let running = self.refunds.get("total").copied();
        match (summed.flatten(), running) {
            (Some(a), Some(b)) if a.currency() == b.currency() => Some(if a.minor() >= b.minor() { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    pub fn has(&self, status: OrderStatus) -> bool {
        self.timeline.iter().any(|e| e.status == status)
    }

    /// The earliest time its timeline knows (the placing, unless only later events came).
    pub fn placed_at(&self) -> Option<DateTime<Utc>> {
        self.timeline.iter().map(|e| e.at).min()
    }

    fn join(&mut self, theirs: OrderRecord) {
        join_lww(&mut self.name, theirs.name, false);
        join_min_of(&mut self.checkout_token, theirs.checkout_token);
        join_lww(&mut self.lines, theirs.lines, false);
        TimedMoney::join(&mut self.subtotal, theirs.subtotal);
        TimedMoney::join(&mut self.total, theirs.total);
        self.discount_codes.extend(theirs.discount_codes);
        for (id, amount) in theirs.refunds {
            let slot = self.refunds.entry(id).or_insert(amount);
            if slot.currency() == amount.currency() && amount.minor() > slot.minor() {
                *slot = amount;
            }
        }
        for (id, fulfillment) in theirs.fulfillments {
            let mine = self.fulfillments.entry(id).or_default();
            join_lww(&mut mine.status, fulfillment.status, false);
            join_min_of(&mut mine.tracking_company, fulfillment.tracking_company);
            mine.tracking_numbers.extend(fulfillment.tracking_numbers);
            mine.tracking_urls.extend(fulfillment.tracking_urls);
        }
        self.timeline.extend(theirs.timeline);
    }
}

impl CheckoutRecord {
    fn join(&mut self, theirs: CheckoutRecord) {
        join_min_of(&mut self.cart_token, theirs.cart_token);
        join_lww(&mut self.lines, theirs.lines, false);
        join_lww(&mut self.total, theirs.total, false);
        join_lww(&mut self.recovery_url, theirs.recovery_url, false);
        self.started_at = self.started_at.min(theirs.started_at);
        self.last_activity_at = self.last_activity_at.max(theirs.last_activity_at);
        join_min(&mut self.completed_at, theirs.completed_at);
        join_min_of(&mut self.order_id, theirs.order_id);
    }
}
