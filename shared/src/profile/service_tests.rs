use super::service::{Applied, apply_event};
use super::*;
use crate::events::{
    ConsentChange, Context, Event, Identity, LineItem, Order, Payload, Platform, ProductView, SCHEMA_VERSION,
};
use crate::ids::EventId;
use crate::memory::{MemoryProfileStore, RecordingPublisher};
use crate::money::Currency;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn shop() -> ShopId {
    ShopId::parse("demo.myshopify.com").unwrap()
}

/// Events of one person: `who` 0 = anonymous visitor, 1 = e-mail only, 2 = e-mail and visitor
/// (the moment they identify), 3 = platform customer id and e-mail.
pub(super) fn person_event(n: usize, who: u8, what: u8, minute: i64) -> Event {
    let visitor = Some(VisitorId::parse("v-anne").unwrap());
    let email = Some(Email::parse("anne@example.fr").unwrap());
    let identity = match who {
        0 => Identity { visitor_id: visitor, ..Identity::default() },
        1 => Identity { email, ..Identity::default() },
        2 => Identity { email, visitor_id: visitor, ..Identity::default() },
        _ => Identity { email, customer_id: Some(ExternalId::parse("42").unwrap()), ..Identity::default() },
    };
    let eur = Currency::parse("EUR").unwrap();
    let order_id = format!("o{}", n % 3);
    let payload = match what {
        0 => Payload::ProductViewed(ProductView {
            product_id: ExternalId::parse("p1").unwrap(),
            variant_id: None,
            title: None,
            url: None,
            categories: vec!["vins".into()],
            price: None,
        }),
        1 => Payload::ConsentChanged(ConsentChange {
            state: if minute % 2 == 0 { ConsentState::Subscribed } else { ConsentState::Unsubscribed },
            changed_at: t0() + Duration::minutes(minute),
            source: "shopify".into(),
        }),
        3 => Payload::OrderRefunded(crate::events::Refund {
            order_id: ExternalId::parse(&order_id).unwrap(),
            refund_id: None,
            amount: Money::from_minor(500, eur),
            line_items: vec![],
        }),
        _ => Payload::OrderPlaced(Order {
            order_id: ExternalId::parse(&order_id).unwrap(),
            name: None,
            checkout_token: None,
            cart_token: None,
            line_items: vec![LineItem {
                product_id: Some(ExternalId::parse("p1").unwrap()),
                variant_id: None,
                sku: None,
                title: "Cuvée".into(),
                variant_title: None,
                quantity: 1,
                unit_price: Money::from_minor(2500, eur),
                vendor: None,
                product_type: None,
                categories: vec!["vins".into()],
                image_url: None,
            }],
            subtotal: None,
            total: Money::from_minor(2500, eur),
            total_discounts: None,
            discount_codes: vec![],
            financial_status: None,
            fulfillment_status: None,
            cancelled_at: None,
        }),
    };
    // Orders are never anonymous: they carry the buyer's e-mail; refunds name nobody.
    let identity = match what {
        3 => Identity::default(),
        2 | 4 if who == 0 => identity_with_email(),
        _ => identity,
    };
    Event {
        schema_version: SCHEMA_VERSION,
        id: EventId::parse(format!("shopify:demo:{n}")).unwrap(),
        shop: shop(),
        platform: Platform::Shopify,
        occurred_at: t0() + Duration::minutes(minute),
        received_at: t0() + Duration::hours(2),
        identity,
        context: Context::default(),
        payload,
    }
}

fn identity_with_email() -> Identity {
    Identity { email: Some(Email::parse("anne@example.fr").unwrap()), ..Identity::default() }
}

/// The shop's profiles after delivering `events` through the use case, ids blanked (which
/// id survives a merge depends on who came first), in a stable order.
pub(super) fn deliver(events: &[Event]) -> Vec<Profile> {
    let store = MemoryProfileStore::default();
    let publisher = RecordingPublisher::default();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for event in events {
        runtime.block_on(apply_event(&store, &publisher, event)).unwrap();
    }
    let mut profiles: Vec<Profile> = store
        .profiles(&shop())
        .into_iter()
        .map(|mut p| {
            p.id = ProfileId::parse("any").unwrap();
            p
        })
        .collect();
    profiles.sort_by_key(|p| (p.email().cloned(), p.orders.keys().cloned().collect::<Vec<_>>()));
    profiles
}

/// What the programs read of a profile (everything but the bookkeeping times).
fn essence(p: &Profile) -> impl PartialEq + std::fmt::Debug {
    (
        p.stats(),
        p.interests.clone(),
        p.consent.clone(),
        p.visitor_ids.clone(),
        p.contact.clone(),
        p.orders.clone(),
        p.engagement.clone(),
    )
}

fn stream() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec((0u8..4, 0u8..5, 0i64..120), 1..25).prop_map(|specs| {
        let mut events: Vec<Event> =
            specs.into_iter().enumerate().map(|(n, (who, what, minute))| person_event(n, who, what, minute)).collect();
        // The person identifies once with both keys, so anonymous browsing must join them.
        events.push(person_event(1000, 2, 1, 200));
        events
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_order_with_duplicates_reaches_the_in_order_profile(
        events in stream(),
        shuffle in any::<u64>(),
        duplicates in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let expected = deliver(&events);
        let mut delivered = events.clone();
        for index in duplicates {
            delivered.push(index.get(&events).clone());
        }
        let mut state = shuffle | 1;
        for i in (1..delivered.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            delivered.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let actual = deliver(&delivered);
        prop_assert_eq!(actual.len(), expected.len());
        // The person (the profile with the e-mail) is one profile, whatever the order.
        prop_assert_eq!(actual.iter().filter(|p| p.email().is_some()).count(), 1);
        for (actual, expected) in actual.iter().zip(&expected) {
            prop_assert_eq!(essence(actual), essence(expected));
        }
    }
}

#[tokio::test]
async fn programs_hear_of_new_profiles_first_orders_and_consent_changes_once() {
    let store = MemoryProfileStore::default();
    let publisher = RecordingPublisher::default();
    let view = person_event(1, 1, 0, 0);
    let order = person_event(2, 1, 2, 5);
    let consent = person_event(3, 1, 1, 10);
    for event in [&view, &order, &order, &consent, &consent] {
        apply_event(&store, &publisher, event).await.unwrap();
    }
    let kinds: Vec<String> = publisher.events().iter().map(|e| e.detail_type.clone()).collect();
    assert_eq!(kinds, ["profile.created", "order.first", "consent.changed"]);
    assert!(publisher.events().iter().all(|e| e.source == "relance.profile"));
    assert_eq!(publisher.events()[1].detail["cause"], "shopify:demo:2");
    let again = apply_event(&store, &publisher, &order).await.unwrap();
    assert!(matches!(again, Applied::Duplicate { .. }));
}

#[tokio::test]
async fn an_event_that_names_nobody_is_not_applied() {
    let store = MemoryProfileStore::default();
    let publisher = RecordingPublisher::default();
    let mut event = person_event(1, 1, 0, 0);
    event.identity = Identity::default();
    assert_eq!(apply_event(&store, &publisher, &event).await.unwrap(), Applied::NoIdentity);
    assert!(store.profiles(&shop()).is_empty());
}

#[test]
fn a_refund_that_arrives_before_its_order_joins_the_buyer_once_the_order_arrives() {
    let refund = person_event(2, 1, 3, 10); // order o2, names nobody
    let order = person_event(5, 1, 2, 5); // order o2, by e-mail
    let alone = deliver(std::slice::from_ref(&refund));
    assert_eq!((alone.len(), alone[0].orders.len()), (1, 1), "the refund waits on an order-keyed profile");
    let merged = deliver(&[refund.clone(), order.clone()]);
    let in_order = deliver(&[order, refund]);
    assert_eq!(merged.len(), 1);
    assert_eq!(essence(&merged[0]), essence(&in_order[0]));
    assert_eq!(merged[0].stats().spend.values().copied().collect::<Vec<_>>(), [2000]);
}
