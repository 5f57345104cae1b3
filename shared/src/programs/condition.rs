//! Conditions a step (a branch, a goal) checks when it is due: on the profile and on what
//! its records say the customer recently did.
//!
//! They are evaluated at the step's time, from a fresh read, never at the trigger: a
//! customer who ordered in between, or came back three times, is seen as they are now.

use crate::events::ConsentState;
use crate::ids::ExternalId;
use crate::profile::records::{ActivityKind, ActivityRecord, OrderRecord, OrderStatus};
use crate::profile::{Profile, Record};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// What a condition may look at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub profile: &'a Profile,
    /// The customer's records (orders, activity of the last 90 days, messages).
    pub records: &'a [Record],
    /// When the run started (its trigger's time).
    pub started_at: DateTime<Utc>,
    /// The order the run is about, if any.
    pub order: Option<&'a ExternalId>,
    /// Products the affinity table suggests for the run's order (read only for programs
    /// whose steps `suggest`).
    pub suggestions: &'a [crate::programs::request::MailedProduct],
    pub now: DateTime<Utc>,
}

impl<'a> Facts<'a> {
    pub fn activity(&self) -> impl Iterator<Item = &'a ActivityRecord> + 'a {
        self.records.iter().filter_map(|r| match r {
            Record::Activity(a) => Some(a),
            _ => None,
        })
    }

    fn orders(&self) -> impl Iterator<Item = &'a OrderRecord> + 'a {
        self.records.iter().filter_map(|r| match r {
            Record::Order(o) => Some(o),
            _ => None,
        })
    }

    /// Page and product views within the last `days` before now.
    pub fn views_within(&self, days: u32) -> impl Iterator<Item = &'a ActivityRecord> + 'a {
        let since = self.now - Duration::days(i64::from(days));
        let now = self.now;
        self.activity().filter(move |a| {
            matches!(a.kind, ActivityKind::PageView | ActivityKind::ProductView) && a.at >= since && a.at <= now
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// At least `visits` distinct visit days within `within_days` before now.
    VisitedAtLeast {
        visits: u32,
        within_days: u32,
    },
    /// At least `views` page or product views within `within_days` before now.
    ViewedAtLeast {
        views: u32,
        within_days: u32,
    },
    /// Placed an order since the run started.
    OrderedSince,
    /// The run's order was refunded (in part or whole) or cancelled.
    Refunded,
    /// The customer's standing is this RFM segment.
    InSegment(String),
    /// Marketing consent is given.
    Subscribed,
    /// A ticket is open with the shop's help desk.
    TicketOpen,
    /// The customer's latest order has a line in this category or collection.
    LastPurchaseIn(String),
    Not(Box<Condition>),
    All(Vec<Condition>),
    Any(Vec<Condition>),
}

impl Condition {
    pub fn holds(&self, facts: &Facts<'_>) -> bool {
        let profile = facts.profile;
        match self {
            Condition::VisitedAtLeast { visits, within_days } => {
                let since = facts.now - Duration::days(i64::from(*within_days));
                profile.visit_days_since(since) >= *visits as usize
            }
            Condition::ViewedAtLeast { views, within_days } => {
                facts.views_within(*within_days).count() >= *views as usize
            }
            Condition::OrderedSince => {
                profile.orders.values().any(|o| o.placed_at.is_some_and(|at| at >= facts.started_at))
            }
            Condition::Refunded => facts.order.is_some_and(|id| {
                let summary = profile.orders.get(id);
                let record = facts.orders().find(|o| &o.order_id == id);
                summary.is_some_and(|s| s.cancelled || s.refunded.is_some_and(|r| r.minor() > 0))
                    || record.is_some_and(|o| {
                        o.has(OrderStatus::Refunded) || o.has(OrderStatus::Cancelled) || o.refunded().is_some()
                    })
            }),
            Condition::InSegment(segment) => {
                profile.segment.as_ref().and_then(|s| s.segment).is_some_and(|s| s.as_str() == segment)
            }
            Condition::Subscribed => profile.consent_state() == ConsentState::Subscribed,
            Condition::TicketOpen => profile.has_open_ticket(),
            Condition::LastPurchaseIn(category) => {
                let latest = facts.orders().filter(|o| o.lines.is_some()).max_by_key(|o| o.placed_at());
                latest.and_then(|o| o.lines.as_ref()).is_some_and(|lines| {
                    lines.value.iter().any(|l| l.categories.iter().any(|c| c.eq_ignore_ascii_case(category)))
                })
            }
            Condition::Not(inner) => !inner.holds(facts),
            Condition::All(all) => all.iter().all(|c| c.holds(facts)),
            Condition::Any(any) => any.iter().any(|c| c.holds(facts)),
        }
    }
}
