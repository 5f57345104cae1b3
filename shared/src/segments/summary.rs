//! What a nightly run reports per shop: profiles per segment and tier, and their spend.

use super::{Segment, Tier};
use crate::ids::ShopId;
use crate::money::Currency;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Per segment: members, their spend and what it is of the shop's.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SegmentFigures {
    pub profiles: u64,
    /// Net spend of the members, in the summary's currency's minor units.
    pub revenue_minor: i64,
    /// Share of the shop's revenue, 0–1.
    pub revenue_share: f64,
    pub average_order_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub shop: ShopId,
    pub scored_at: DateTime<Utc>,
    pub currency: Option<Currency>,
    pub profiles: u64,
    /// Profiles with at least one order (the ones with an RFM score).
    pub customers: u64,
    /// Standings written back (new or changed).
    pub changed: u64,
    /// Writes that kept losing to concurrent updates: scored again next night.
    pub deferred: u64,
    /// Addresses suppressed tonight by the sunset policy.
    pub sunset: u64,
    pub segments: BTreeMap<Segment, SegmentFigures>,
    pub tiers: BTreeMap<Tier, u64>,
}
