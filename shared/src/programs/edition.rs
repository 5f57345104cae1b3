//! A new yearly edition: a `product.published` is about no customer, so rfm-nightly (which
//! pages through a shop's profiles) finds those who bought an earlier edition of the line
//! and not this one, and puts one `edition.released` per buyer on the bus: the product
//! event again, naming that customer. The timer starts the programs triggered by
//! `product.published` from each, as from any event.

use crate::events::{Event, Identity, Payload};
use crate::ids::{EventId, ExternalId, ProfileId};
use crate::profile::{Edition, Profile};

pub const RELEASED: &str = "edition.released";

/// Whether `profile` waits for `edition` (product `id`): bought an earlier year of its line,
/// and neither this product nor a year as recent.
pub fn awaits(profile: &Profile, id: &ExternalId, edition: &Edition) -> bool {
    if profile.products.contains_key(id) {
        return false;
    }
    let years: Vec<u16> = profile
        .products
        .values()
        .filter_map(|p| p.edition())
        .filter(|e| e.family == edition.family)
        .map(|e| e.year)
        .collect();
    !years.is_empty() && years.iter().all(|y| *y < edition.year)
}

/// The product event again, about one customer, with an id of its own: the product and
/// the customer, so a product reported published twice (a redelivery, the generic API and a
/// webhook) names the same occasion, mailed once.
pub fn for_customer(event: &Event, profile: &ProfileId) -> Option<Event> {
    let Payload::ProductPublished(product) = &event.payload else { return None };
    let id = EventId::parse(format!("edition:{}:{}:{profile}", event.shop, product.product_id)).ok()?;
    Some(Event { id, identity: Identity { profile: Some(profile.clone()), ..Identity::default() }, ..event.clone() })
}
