//! Filing the schedules a customer's runs arm under that customer, so an erasure can find
//! them: a schedule's name is a hash and its payload names the person, and Scheduler cannot
//! be searched by payload (nor listed by a prefix that would mean anything).

use super::lookup::{locate, owner_of};
use super::update_profile::{ApplyError, join_record};
use crate::ids::{ProfileId, ShopId};
use crate::ports::ProfileStore;
use crate::profile::records::ScheduleRecord;
use crate::profile::{IdentityKey, Record};
use crate::schedule::ScheduleName;
use chrono::{DateTime, Utc};

/// Files schedule `name`, due at `due`, under the person it is for: the profile named
/// (followed through merges), else the owner of the first known of `keys`, else the
/// profile profile-update will create for them — the id derived from their strongest key,
/// exactly as [`super::update_profile`] picks it — since a program can start on the very
/// event that files a new person. Called before the schedule is armed: a crash in between
/// leaves a record of a schedule that never existed, which erasure deletes harmlessly.
pub async fn remember_schedule(
    store: &dyn ProfileStore,
    shop: &ShopId,
    profile: Option<&ProfileId>,
    keys: &[IdentityKey],
    name: &ScheduleName,
    due: DateTime<Utc>,
) -> Result<(), ApplyError> {
    let owner = match profile {
        // Gone (erased): nobody left for an erasure to look for.
        Some(named) => locate(store, shop, named).await?,
        None => match owner_of(store, shop, keys).await? {
            Some(owner) => Some(owner),
            None => keys.first().map(IdentityKey::derived_profile_id),
        },
    };
    // Nobody named: the payload names nobody either.
    let Some(owner) = owner else { return Ok(()) };
    join_record(store, shop, &owner, Record::Schedule(ScheduleRecord { name: name.clone(), due })).await
}
