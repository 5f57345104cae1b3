use super::{Applied, apply_event, apply_mail_event};
use crate::events::{
    ConsentChange, Context, Event, Identity, LineItem, Order, Payload, Platform, ProductView, SCHEMA_VERSION,
};
use crate::events::{ConsentState, MailSignal};
use crate::ids::EventId;
use crate::ids::{Email, ExternalId, ProfileId, ShopId, VisitorId};
use crate::money::{Currency, Money};
use crate::ports::ProfileStore;
use crate::ports::{MemoryProfileStore, RecordingPublisher};
use crate::profile::*;
use chrono::{DateTime, Utc};
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
            checkout_token: Some(ExternalId::parse(format!("ck{}", n % 3)).unwrap()),
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
    deliver_with_records(events).0
}

/// [`deliver`], and every record of the shop in key order.
fn deliver_with_records(events: &[Event]) -> (Vec<Profile>, Vec<(String, Record)>) {
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
    let mut records: Vec<(String, Record)> =
        store.shop_records(&shop()).into_iter().map(|r| (r.key().to_string(), r)).collect();
    records.sort_by(|a, b| a.0.cmp(&b.0));
    (profiles, records)
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
    #![proptest_config(crate::testing::proptest_config(120))]

    #[test]
    fn any_delivery_order_with_duplicates_reaches_the_in_order_profile(
        events in stream(),
        shuffle in any::<u64>(),
        duplicates in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let (expected, expected_records) = deliver_with_records(&events);
        let mut delivered = events.clone();
        for index in duplicates {
            delivered.push(index.get(&events).clone());
        }
        let mut state = shuffle | 1;
        for i in (1..delivered.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            delivered.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let (actual, actual_records) = deliver_with_records(&delivered);
        prop_assert_eq!(actual_records, expected_records);
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

fn mail_event(profile: &ProfileId, signal: MailSignal, minute: i64) -> crate::events::MailEvent {
    let at = t0() + Duration::minutes(minute);
    crate::events::MailEvent {
        tags: crate::mail::MailTags { shop: shop(), profile: profile.clone(), message: "m-1".into() },
        signal,
        at,
        provider_id: "0100abc".into(),
        id: EventId::parse(format!("ses:0100abc:{}:{}", signal.as_str(), at.timestamp_millis())).unwrap(),
    }
}

#[tokio::test]
async fn a_complaint_suppresses_and_unsubscribes_once_and_logs_on_the_message() {
    let store = MemoryProfileStore::default();
    let publisher = RecordingPublisher::default();
    let mut subscribe = person_event(1, 1, 1, 0); // minute 0: subscribed
    subscribe.received_at = t0();
    let Applied::Changed { profile, .. } = apply_event(&store, &publisher, &subscribe).await.unwrap() else {
        panic!("applied")
    };
    let opened = mail_event(&profile, MailSignal::Opened, 30);
    let complaint = mail_event(&profile, MailSignal::Complaint, 40);
    for event in [&opened, &complaint, &complaint, &opened] {
        apply_mail_event(&store, &publisher, event).await.unwrap();
    }
    let stored = store.load(&shop(), &profile).await.unwrap().unwrap().value;
    assert_eq!(stored.suppression.as_ref().map(|s| s.value), Some(SuppressionReason::Complaint));
    assert_eq!(stored.consent_state(), ConsentState::Unsubscribed);
    assert_eq!(stored.engagement.last_opened_at, Some(opened.at));
    assert!(!stored.can_receive_marketing());
    let changes = publisher.events().iter().filter(|e| e.detail_type == "consent.changed").count();
    assert_eq!(changes, 2, "subscribed, then unsubscribed by the complaint — once");
    let key = RecordKey::Message("m-1".into());
    let Some(Record::Message(message)) = store.load_record(&shop(), &profile, &key).await.unwrap().map(|v| v.value)
    else {
        panic!("message record")
    };
    assert_eq!(message.signals.keys().collect::<Vec<_>>(), ["complaint", "opened"]);
    // Mail to a profile that no longer exists (erased) changes nothing.
    let ghost = mail_event(&ProfileId::parse("gone").unwrap(), MailSignal::Opened, 50);
    assert_eq!(apply_mail_event(&store, &publisher, &ghost).await.unwrap(), Applied::NoIdentity);
}

#[tokio::test]
async fn an_event_naming_a_merged_profile_reaches_the_profile_it_was_merged_into() {
    let store = MemoryProfileStore::default();
    let publisher = RecordingPublisher::default();
    let browse = person_event(1, 0, 0, 0); // anonymous visitor
    let Applied::Changed { profile: anonymous, .. } = apply_event(&store, &publisher, &browse).await.unwrap() else {
        panic!("applied")
    };
    let signup = person_event(2, 1, 0, 5); // e-mail only: a second profile
    let Applied::Changed { profile: identified, .. } = apply_event(&store, &publisher, &signup).await.unwrap() else {
        panic!("applied")
    };
    let identify = person_event(3, 2, 0, 10); // e-mail and visitor: one merges into the other
    apply_event(&store, &publisher, &identify).await.unwrap();
    let survivor = store.profiles(&shop()).pop().unwrap().id;
    let gone = if survivor == anonymous { identified } else { anonymous };
    let mut unsubscribe = person_event(4, 1, 1, 21); // odd minute: unsubscribes
    unsubscribe.identity = Identity { profile: Some(gone), ..Identity::default() };
    let Applied::Changed { profile, .. } = apply_event(&store, &publisher, &unsubscribe).await.unwrap() else {
        panic!("applied")
    };
    assert_eq!(profile, survivor);
    assert_eq!(store.profiles(&shop()).len(), 1);
    assert_eq!(store.profiles(&shop())[0].consent_state(), ConsentState::Unsubscribed);
    unsubscribe.id = EventId::parse("relance:demo:unknown").unwrap();
    unsubscribe.identity.profile = Some(ProfileId::parse("never-existed").unwrap());
    assert_eq!(apply_event(&store, &publisher, &unsubscribe).await.unwrap(), Applied::NoIdentity);
}
