//! The keys a person is known by, and the profile id a new person gets.

use crate::events::{Event, Identity, Payload};
use crate::ids::{Email, ExternalId, ProfileId, VisitorId};
use sha2::{Digest, Sha256};
use std::fmt;

/// One identity key. Order of strength: platform customer id, e-mail, anonymous visitor,
/// order id. The order id is how refunds and fulfilments (which name no customer) find
/// theirs, even when they arrive before the order itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityKey {
    Customer(ExternalId),
    Email(Email),
    Visitor(VisitorId),
    Order(ExternalId),
    /// A profile id that was merged into another one: links Relance issued for the old id
    /// (unsubscribe) still find their person.
    Profile(ProfileId),
}

impl IdentityKey {
    /// Every key an identity names, strongest first.
    pub fn all(identity: &Identity) -> Vec<IdentityKey> {
        let mut keys = Vec::with_capacity(4);
        keys.extend(identity.customer_id.clone().map(IdentityKey::Customer));
        keys.extend(identity.email.clone().map(IdentityKey::Email));
        keys.extend(identity.visitor_id.clone().map(IdentityKey::Visitor));
        keys
    }

    /// Every key an event names: its identity's, then the order it is about.
    pub fn of(event: &Event) -> Vec<IdentityKey> {
        let mut keys = Self::all(&event.identity);
        let order = match &event.payload {
            Payload::OrderPlaced(o) | Payload::OrderPaid(o) | Payload::OrderCancelled(o) => Some(&o.order_id),
            Payload::OrderRefunded(r) => Some(&r.order_id),
            Payload::OrderFulfilled(f) | Payload::OrderDelivered(f) => Some(&f.order_id),
            _ => None,
        };
        keys.extend(order.cloned().map(IdentityKey::Order));
        keys
    }

    /// The id a person first seen by this key gets. Derived, not random, so that two
    /// concurrent first events of one person pick the same profile.
    pub fn derived_profile_id(&self) -> ProfileId {
        let digest = Sha256::digest(self.to_string().as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let prefix = match self {
            IdentityKey::Customer(_) => 'c',
            IdentityKey::Email(_) => 'e',
            IdentityKey::Visitor(_) => 'v',
            IdentityKey::Order(_) => 'o',
            IdentityKey::Profile(_) => 'p',
        };
        // 33 hex-safe characters: always a valid id.
        ProfileId::parse(format!("{prefix}{hex}")).unwrap_or_else(|_| unreachable!("hex ids are valid"))
    }
}

impl fmt::Display for IdentityKey {
    /// `customer:42`, `email:anne@example.fr`, `visitor:v-1`: the key's text in storage.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityKey::Customer(id) => write!(f, "customer:{id}"),
            IdentityKey::Email(email) => write!(f, "email:{email}"),
            IdentityKey::Visitor(id) => write!(f, "visitor:{id}"),
            IdentityKey::Order(id) => write!(f, "order:{id}"),
            IdentityKey::Profile(id) => write!(f, "profile:{id}"),
        }
    }
}
