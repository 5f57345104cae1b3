//! The unified customer profile: one per person per shop.
//!
//! This is the profile's core — identity, contact, locale and consent. Orders, checkouts,
//! activity and interests live in their own items (see the data model in the README) so
//! that the profile item stays small however long a customer's history grows.

use crate::ids::{Email, ProfileId, ShopId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub shop: ShopId,
    pub id: ProfileId,
    pub email: Option<Email>,
    /// BCP 47 tag as the platform sent it (`fr`, `en-GB`); mail falls back to the shop's.
    pub locale: Option<String>,
    /// IANA zone name, when the platform or the browser told us.
    pub time_zone: Option<String>,
    pub consent: Consent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Profile {
    /// A profile known only by its identity, as created by the first event that names it.
    pub fn new(shop: ShopId, id: ProfileId, now: DateTime<Utc>) -> Self {
        Self {
            shop,
            id,
            email: None,
            locale: None,
            time_zone: None,
            consent: Consent::default(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Marketing consent with the time it was given or withdrawn, so that an older
/// delivery can never overwrite a newer decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub state: ConsentState,
    pub changed_at: Option<DateTime<Utc>>,
    /// Where the decision came from (`shopify`, `unsubscribe-link`, `ses-complaint`, …).
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    #[default]
    Unknown,
    Pending,
    Subscribed,
    Unsubscribed,
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
