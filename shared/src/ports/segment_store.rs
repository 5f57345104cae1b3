//! What the nightly scoring and campaigns read and write beyond [`super::ProfileStore`].

use super::StoreError;
use crate::ids::{ProfileId, ShopId};
use crate::profile::{Profile, Version, Versioned};
use crate::segments::{Segment, SegmentState, Summary};
use async_trait::async_trait;

#[cfg(any(test, feature = "fakes"))]
mod memory;

/// One page of a shop's profiles, for a pass over all of them.
#[derive(Debug, Clone, Default)]
pub struct ProfilePage {
    pub profiles: Vec<Versioned<Profile>>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<String>,
}

/// What the nightly scoring needs beyond [`super::ProfileStore`]: every profile of a shop, page by
/// page, and writing a profile's standing alone.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    async fn profiles_page(&self, shop: &ShopId, cursor: Option<String>) -> Result<ProfilePage, StoreError>;

    /// One page of a segment's members, as the last nightly run filed them.
    async fn members_page(
        &self,
        shop: &ShopId,
        segment: Segment,
        cursor: Option<String>,
    ) -> Result<ProfilePage, StoreError>;

    /// Writes `state` on the profile if it is still at `expected`, and files the profile
    /// under its segment for campaigns; returns the version now stored.
    async fn set_segment(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        expected: Version,
        state: &SegmentState,
    ) -> Result<Version, StoreError>;

    /// Keeps the run's per-shop summary (the latest replaces the previous).
    async fn save_summary(&self, shop: &ShopId, summary: &Summary) -> Result<(), StoreError>;

    /// One page of one shard of a pass over every shop's profiles, for a run split across
    /// invocations: the shards `0..of` split the profiles between them, each profile in
    /// exactly one, and each shard is read independently (DynamoDB's parallel scan).
    async fn shard_page(&self, shard: Shard, cursor: Option<String>) -> Result<ProfilePage, StoreError>;
}

/// One of `of` disjoint shares of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub of: u32,
}
