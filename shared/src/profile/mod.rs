//! The unified customer profile: one per person per shop, the fold of every event about them.
//!
//! Every field is a lattice ([`crate::lattice`]): a last-writer-wins register stamped with the
//! event's time and id, an earliest or latest time, a set, or a map of per-order summaries whose
//! status only moves forward. Folding a set of events therefore gives the same profile in any
//! order, and two profiles of one person merge by the same join ([`Profile::merge`]). Exact
//! duplicates are caught before folding: the only
//! non-idempotent fields are the view counts of [`Interest`]; the use case keeps them exact
//! with the profile's applied-event ids ([`Profile::applied`]).

mod edition;
mod fold;
pub use fold::{MAX_INTEREST_CHARS, MAX_INTERESTS, MAX_VIEW_CATEGORIES};
mod identity;
pub mod records;
mod stats;

pub use edition::{Edition, edition_of};
pub use identity::IdentityKey;
pub use records::{Record, RecordKey};
pub use stats::{Stats, Status};

use crate::events::{Acquisition, ConsentState};
use crate::ids::{Email, EventId, ExternalId, ProfileId, ShopId, VisitorId};
use crate::lattice::Lww;
use crate::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub shop: ShopId,
    pub id: ProfileId,
    #[serde(default)]
    pub contact: Contact,
    /// Every platform customer id and anonymous visitor id known to be this person.
    #[serde(default)]
    pub customer_ids: BTreeSet<ExternalId>,
    #[serde(default)]
    pub visitor_ids: BTreeSet<VisitorId>,
    /// Ids of profiles merged into this one: mail sent under them still finds this person.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub merged: BTreeSet<ProfileId>,
    #[serde(default)]
    pub consent: Option<Lww<ConsentDecision>>,
    /// Hard bounce or complaint: never mail this address again. The earliest one is kept.
    #[serde(default)]
    pub suppression: Option<Lww<SuppressionReason>>,
    /// First touch: the earliest acquisition we heard of.
    #[serde(default)]
    pub acquisition: Option<Lww<Acquisition>>,
    #[serde(default)]
    pub engagement: Engagement,
    /// One compact summary per order: counters are derived from it, so an order is never
    /// counted twice however many of its events arrive. Orders themselves, with their lines
    /// and timeline, are items of their own.
    #[serde(default)]
    pub orders: BTreeMap<ExternalId, OrderSummary>,
    /// Products bought, for cross-sell and the yearly-edition program.
    #[serde(default)]
    pub products: BTreeMap<ExternalId, BoughtProduct>,
    /// `category:…`, `type:…`, `vendor:…`, `tag:…` → weights from views and purchases.
    #[serde(default)]
    pub interests: BTreeMap<String, Interest>,
    /// Help-desk tickets reported through the generic API: an open one pauses marketing
    /// programs (the shop's `customer_service` settings).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tickets: BTreeMap<ExternalId, Ticket>,
    /// What the last nightly scoring said (rfm-nightly writes it; campaigns read segment
    /// membership through the `gsi1` index the store derives from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<crate::segments::SegmentState>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Events already applied (64-bit fingerprint of the id → Unix seconds received), so a
    /// redelivery changes nothing. Kept in the profile item itself, so that "apply and
    /// remember" is one conditional write; bounded by [`APPLIED_WINDOW`] and [`APPLIED_MAX`]
    /// (about 40 KB). Bookkeeping, not customer data.
    #[serde(default)]
    pub applied: BTreeMap<String, i64>,
}

/// Redeliveries come within hours (Shopify retries over 4 hours; a late delivery within a
/// day): two weeks of applied ids covers them with a wide margin.
pub const APPLIED_WINDOW: chrono::Duration = chrono::Duration::days(14);
/// At most this many applied ids are kept, the oldest dropped first.
pub const APPLIED_MAX: usize = 1_500;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub email: Option<Lww<Email>>,
    pub first_name: Option<Lww<String>>,
    pub last_name: Option<Lww<String>>,
    pub phone: Option<Lww<String>>,
    pub locale: Option<Lww<String>>,
    pub time_zone: Option<Lww<String>>,
}

/// A marketing-consent decision. Between two decisions of the same instant, unsubscribing
/// wins (see [`fold`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentDecision {
    pub state: ConsentState,
    /// Who recorded it: `shopify`, `unsubscribe-link`, `ses-complaint`, …
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    HardBounce,
    Complaint,
    /// Silent after the reactivation program's last chance (the shop's sunset policy).
    Sunset,
}

/// Latest times of what the engagement tiers read (opens count little: Apple Mail Privacy
/// Protection opens every mail).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    pub first_seen_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_viewed_at: Option<DateTime<Utc>>,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub last_opened_at: Option<DateTime<Utc>>,
    pub last_clicked_at: Option<DateTime<Utc>>,
    /// When Relance last sent this person marketing mail: the frequency cap reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_marketing_at: Option<DateTime<Utc>>,
    /// When the reactivation program's last-chance mail went: the sunset policy reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_chance_at: Option<DateTime<Utc>>,
    /// Days (UTC) with an on-site view, the last [`VISIT_DAYS_KEPT`] days before the latest:
    /// "visited three times" counts days, so a burst of page views is one visit.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub visit_days: BTreeSet<chrono::NaiveDate>,
}

/// How far back visit days are kept (the longest look-back a program uses, with margin).
pub const VISIT_DAYS_KEPT: i64 = 120;

impl Engagement {
    /// Adds visit days and forgets those older than [`VISIT_DAYS_KEPT`] before the latest:
    /// the threshold only moves forward, so the result does not depend on arrival order.
    pub(crate) fn join_visits(&mut self, days: impl IntoIterator<Item = chrono::NaiveDate>) {
        self.visit_days.extend(days);
        if let Some(latest) = self.visit_days.last().copied() {
            let oldest = latest - chrono::Duration::days(VISIT_DAYS_KEPT);
            self.visit_days.retain(|d| *d >= oldest);
        }
    }
}

/// What the profile keeps of one order: small, since a loyal customer has a thousand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    /// When it was placed (the earliest time any of its events names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_at: Option<DateTime<Utc>>,
    /// The latest total stated (edits change it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<TimedMoney>,
    /// Refunded so far: the largest amount any refund event reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded: Option<Money>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub paid: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub fulfilled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub cancelled: bool,
    /// Set once the order's lines have been counted into products and interests.
    #[serde(default, skip_serializing_if = "is_false")]
    pub lines_counted: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// An amount and when it was stated. The later statement wins; at the same instant, the
/// larger amount (an arbitrary but deterministic choice, so any arrival order agrees).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedMoney {
    pub at: DateTime<Utc>,
    pub amount: Money,
}

impl TimedMoney {
    pub fn join(current: &mut Option<TimedMoney>, offered: Option<TimedMoney>) {
        let Some(offered) = offered else { return };
        let key = |t: &TimedMoney| (t.at, t.amount.minor(), t.amount.currency());
        if current.as_ref().is_none_or(|c| key(&offered) > key(c)) {
            *current = Some(offered);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoughtProduct {
    pub title: Lww<String>,
    pub variant_title: Option<Lww<String>>,
    pub vendor: Option<Lww<String>>,
    pub first_bought_at: DateTime<Utc>,
    pub last_bought_at: DateTime<Utc>,
    /// Units bought, over every order.
    pub quantity: u64,
    pub orders: u32,
    /// The unit price last paid, the picture and the collections of the line: what an
    /// affinity mail shows of a product other customers bought ([`crate::programs::affinity`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Lww<Money>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<Lww<String>>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub categories: BTreeSet<String>,
}

/// A help-desk ticket: opened and closed times join by earliest and latest, so a close
/// that arrives before its open still leaves the ticket closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// The customer's satisfaction score (1–5), the latest stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Lww<u8>>,
}

impl Ticket {
    pub fn is_open(&self) -> bool {
        self.opened_at.is_some() && self.closed_at.is_none()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    pub views: u32,
    /// Units bought.
    pub purchases: u32,
}

impl Interest {
    /// A purchase says more than a view: the affinity programs rank by this.
    pub fn weight(&self) -> u32 {
        self.views.saturating_add(self.purchases.saturating_mul(5))
    }
}

impl Profile {
    /// A profile that knows nothing yet.
    pub fn new(shop: ShopId, id: ProfileId, now: DateTime<Utc>) -> Self {
        Self {
            shop,
            id,
            contact: Contact::default(),
            customer_ids: BTreeSet::new(),
            visitor_ids: BTreeSet::new(),
            merged: BTreeSet::new(),
            consent: None,
            suppression: None,
            acquisition: None,
            engagement: Engagement::default(),
            orders: BTreeMap::new(),
            products: BTreeMap::new(),
            interests: BTreeMap::new(),
            tickets: BTreeMap::new(),
            segment: None,
            created_at: now,
            updated_at: now,
            applied: BTreeMap::new(),
        }
    }

    pub fn was_applied(&self, event: &EventId) -> bool {
        self.applied.contains_key(&fingerprint(event))
    }

    /// Remembers `event`, forgetting ids older than the window or beyond the cap.
    pub fn remember_applied(&mut self, event: &EventId, received_at: DateTime<Utc>) {
        self.remember_fingerprint(fingerprint(event), received_at.timestamp());
    }

    pub(crate) fn remember_fingerprint(&mut self, key: String, at: i64) {
        self.applied.insert(key, at);
        let newest = self.applied.values().max().copied().unwrap_or(at);
        self.applied.retain(|_, seen| newest - *seen <= APPLIED_WINDOW.num_seconds());
        while self.applied.len() > APPLIED_MAX {
            let Some(oldest) =
                self.applied.iter().min_by_key(|(k, seen)| (**seen, (*k).clone())).map(|(k, _)| k.clone())
            else {
                break;
            };
            self.applied.remove(&oldest);
        }
    }

    /// Every key this profile is known by, so a merge moves them all and an erasure leaves
    /// none pointing at an erased person.
    pub fn identity_keys(&self) -> Vec<IdentityKey> {
        self.customer_ids
            .iter()
            .cloned()
            .map(IdentityKey::Customer)
            .chain(self.email().cloned().map(IdentityKey::Email))
            .chain(self.visitor_ids.iter().cloned().map(IdentityKey::Visitor))
            .chain(self.orders.keys().cloned().map(IdentityKey::Order))
            .chain(self.merged.iter().cloned().map(IdentityKey::Profile))
            .collect()
    }

    pub fn email(&self) -> Option<&Email> {
        self.contact.email.as_ref().map(|e| &e.value)
    }

    pub fn consent_state(&self) -> ConsentState {
        self.consent.as_ref().map_or(ConsentState::Unknown, |c| c.value.state)
    }

    /// Distinct days with an on-site view since `since`.
    pub fn visit_days_since(&self, since: DateTime<Utc>) -> usize {
        self.engagement.visit_days.range(since.date_naive()..).count()
    }

    /// A help-desk ticket is open.
    pub fn has_open_ticket(&self) -> bool {
        self.tickets.values().any(Ticket::is_open)
    }

    /// Marketing mail may go to this profile: subscribed, reachable, not suppressed.
    pub fn can_receive_marketing(&self) -> bool {
        self.email().is_some() && self.suppression.is_none() && self.consent_state() == ConsentState::Subscribed
    }
}

/// A value read from a store together with the version it had, for optimistic concurrency:
/// the write that follows names the version it read and is refused if another writer
/// got there first.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: Version,
}

/// Version of a stored item. `Version::NEW` means "must not exist yet".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version(pub u64);

impl Version {
    pub const NEW: Version = Version(0);

    pub fn next(self) -> Version {
        Version(self.0 + 1)
    }
}

/// 16 hex digits of SHA-256: collisions are out of reach at a few thousand ids.
pub(crate) fn fingerprint(event: &EventId) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(event.as_str().as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
