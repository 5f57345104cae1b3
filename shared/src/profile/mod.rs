//! The unified customer profile: one per person per shop, the fold of every event about them.
//!
//! Every field is a lattice ([`crate::lattice`]): a last-writer-wins register stamped with the
//! event's time and id, an earliest or latest time, a set, or a map of per-order summaries whose
//! status only moves forward. Folding a set of events therefore gives the same profile in any
//! order, and two profiles of one person merge by the same join ([`Profile::merge`]). Exact
//! duplicates are the store's business (an applied-event marker per event): the only
//! non-idempotent fields are the view counts of [`Interest`].

mod fold;
mod stats;

pub use stats::{Stats, Status};

use crate::events::Acquisition;
use crate::ids::{Email, ExternalId, ProfileId, ShopId, VisitorId};
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    #[default]
    Unknown,
    Pending,
    Subscribed,
    Unsubscribed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    HardBounce,
    Complaint,
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
}

/// What the profile keeps of one order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    /// When it was placed (the earliest time any of its events names).
    pub placed_at: Option<DateTime<Utc>>,
    pub total: Option<Lww<Money>>,
    /// Refunded so far: the largest amount any refund event reported.
    pub refunded: Option<Money>,
    pub paid: bool,
    pub fulfilled: bool,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled: bool,
    /// Set once the order's lines have been counted into products and interests.
    pub lines_counted: bool,
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
            consent: None,
            suppression: None,
            acquisition: None,
            engagement: Engagement::default(),
            orders: BTreeMap::new(),
            products: BTreeMap::new(),
            interests: BTreeMap::new(),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn email(&self) -> Option<&Email> {
        self.contact.email.as_ref().map(|e| &e.value)
    }

    pub fn consent_state(&self) -> ConsentState {
        self.consent.as_ref().map_or(ConsentState::Unknown, |c| c.value.state)
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

#[cfg(test)]
mod tests;
