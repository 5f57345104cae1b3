//! Finding the profile something is about: the one it names (or what that profile was
//! merged into), else the owner of the first of its identity keys that is known, strongest
//! first. Every use case that reads a customer finds them here, so they all agree.

use crate::ids::{ProfileId, ShopId};
use crate::ports::{ProfileStore, StoreError};
use crate::profile::{IdentityKey, Profile};

/// Where a profile id Relance issued lives now: itself, or the profile it was merged into.
pub async fn locate(store: &dyn ProfileStore, shop: &ShopId, id: &ProfileId) -> Result<Option<ProfileId>, StoreError> {
    if store.load(shop, id).await?.is_some() {
        return Ok(Some(id.clone()));
    }
    store.find_identity(shop, &IdentityKey::Profile(id.clone())).await
}

/// The profile that owns the first known key of `keys`.
pub async fn owner_of(
    store: &dyn ProfileStore,
    shop: &ShopId,
    keys: &[IdentityKey],
) -> Result<Option<ProfileId>, StoreError> {
    for key in keys {
        if let Some(owner) = store.find_identity(shop, key).await? {
            return Ok(Some(owner));
        }
    }
    Ok(None)
}

/// The profile `named` (followed through merges), else the owner of `keys`, read.
pub async fn find_profile(
    store: &dyn ProfileStore,
    shop: &ShopId,
    named: Option<&ProfileId>,
    keys: &[IdentityKey],
) -> Result<Option<Profile>, StoreError> {
    let id = match named {
        Some(named) => locate(store, shop, named).await?,
        None => owner_of(store, shop, keys).await?,
    };
    match id {
        Some(id) => Ok(store.load(shop, &id).await?.map(|v| v.value)),
        None => Ok(None),
    }
}
