//! [`SegmentStore`] on [`MemoryProfileStore`]: pages of its profiles, by shop, segment or
//! shard.

use crate::ids::{ProfileId, ShopId};
use crate::ports::fake::lock;
use crate::ports::{MemoryProfileStore, ProfilePage, SegmentStore, Shard, StoreError};
use crate::profile::{Profile, Version, Versioned};
use crate::segments::{Segment, SegmentState, Summary};
use async_trait::async_trait;

/// Pages of this many profiles, so callers exercise paging.
const PAGE: usize = 50;

#[async_trait]
impl SegmentStore for MemoryProfileStore {
    async fn profiles_page(&self, shop: &ShopId, cursor: Option<String>) -> Result<ProfilePage, StoreError> {
        let items = lock(&self.items);
        let mut ids: Vec<&ProfileId> = items.keys().filter(|(s, _)| s == shop).map(|(_, id)| id).collect();
        ids.sort();
        let start = cursor.as_deref().map_or(0, |after| ids.partition_point(|id| id.as_str() <= after));
        let page: Vec<Versioned<Profile>> =
            ids[start..].iter().take(PAGE).map(|id| items[&(shop.clone(), (*id).clone())].clone()).collect();
        let next = (start + PAGE < ids.len()).then(|| page.last().map(|p| p.value.id.to_string())).flatten();
        Ok(ProfilePage { profiles: page, next })
    }

    async fn members_page(
        &self,
        shop: &ShopId,
        segment: Segment,
        cursor: Option<String>,
    ) -> Result<ProfilePage, StoreError> {
        let items = lock(&self.items);
        let mut members: Vec<&Versioned<Profile>> = items
            .iter()
            .filter(|((s, _), p)| s == shop && p.value.segment.and_then(|st| st.segment) == Some(segment))
            .map(|(_, p)| p)
            .collect();
        members.sort_by(|a, b| a.value.id.cmp(&b.value.id));
        let start = cursor.as_deref().map_or(0, |after| members.partition_point(|p| p.value.id.as_str() <= after));
        let page: Vec<Versioned<Profile>> = members[start..].iter().take(PAGE).map(|p| (*p).clone()).collect();
        let next = (start + PAGE < members.len()).then(|| page.last().map(|p| p.value.id.to_string())).flatten();
        Ok(ProfilePage { profiles: page, next })
    }

    async fn set_segment(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        expected: Version,
        state: &SegmentState,
    ) -> Result<Version, StoreError> {
        let mut items = lock(&self.items);
        let Some(stored) = items.get_mut(&(shop.clone(), profile.clone())) else {
            return Err(StoreError::Conflict { expected });
        };
        if stored.version != expected {
            return Err(StoreError::Conflict { expected });
        }
        stored.value.segment = Some(*state);
        stored.version = expected.next();
        Ok(stored.version)
    }

    async fn save_summary(&self, shop: &ShopId, summary: &Summary) -> Result<(), StoreError> {
        lock(&self.summaries).insert(shop.clone(), summary.clone());
        Ok(())
    }

    /// Profiles fall in shards by a hash of their key, as DynamoDB's segments do.
    async fn shard_page(&self, shard: Shard, cursor: Option<String>) -> Result<ProfilePage, StoreError> {
        use sha2::{Digest, Sha256};
        let items = lock(&self.items);
        let in_shard = |shop: &ShopId, id: &ProfileId| {
            let digest = Sha256::digest(format!("{shop}/{id}").as_bytes());
            u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % shard.of.max(1) == shard.index
        };
        let mut keys: Vec<String> =
            items.keys().filter(|(s, id)| in_shard(s, id)).map(|(s, id)| format!("{s}/{id}")).collect();
        keys.sort();
        let start = cursor.as_deref().map_or(0, |after| keys.partition_point(|k| k.as_str() <= after));
        let page: Vec<Versioned<Profile>> = keys[start..]
            .iter()
            .take(PAGE)
            .filter_map(|k| items.values().find(|p| format!("{}/{}", p.value.shop, p.value.id) == *k).cloned())
            .collect();
        let next = (start + PAGE < keys.len()).then(|| keys[start + PAGE - 1].clone());
        Ok(ProfilePage { profiles: page, next })
    }
}
