use super::*;
use crate::events::MailSignal;
use crate::events::{
    Acquisition, ConsentChange, Context, Customer, Event, Fulfillment, Identity, LineItem, Order, Payload, Platform,
    ProductView, Refund, SCHEMA_VERSION,
};
use crate::ids::EventId;
use crate::lattice::Stamp;
use crate::money::Currency;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;
use std::collections::HashSet;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::parse("EUR").unwrap())
}

fn event(id: &str, minutes: i64, payload: Payload) -> Event {
    Event {
        schema_version: SCHEMA_VERSION,
        id: EventId::parse(id).unwrap(),
        shop: ShopId::parse("shop").unwrap(),
        platform: Platform::Shopify,
        occurred_at: t0() + Duration::minutes(minutes),
        received_at: t0() + Duration::days(1),
        identity: Identity { email: Some(Email::parse("anne@example.fr").unwrap()), ..Identity::default() },
        context: Context::default(),
        payload,
    }
}

fn order(id: &str, total: i64, lines: &[(&str, u32, &str)]) -> Order {
    Order {
        order_id: ExternalId::parse(id).unwrap(),
        name: None,
        checkout_token: None,
        cart_token: None,
        line_items: lines
            .iter()
            .map(|(product, quantity, category)| LineItem {
                product_id: Some(ExternalId::parse(*product).unwrap()),
                variant_id: None,
                sku: None,
                title: format!("Product {product}"),
                variant_title: None,
                quantity: *quantity,
                unit_price: eur(1000),
                vendor: Some("Domaine".to_owned()),
                product_type: None,
                categories: vec![(*category).to_owned()],
                image_url: None,
            })
            .collect(),
        subtotal: None,
        total: eur(total),
        total_discounts: None,
        discount_codes: vec![],
        financial_status: None,
        fulfillment_status: None,
        cancelled_at: None,
    }
}

fn consent(state: ConsentState, minutes: i64) -> Payload {
    Payload::ConsentChanged(ConsentChange {
        state,
        changed_at: t0() + Duration::minutes(minutes),
        source: "shopify".into(),
    })
}

fn fresh() -> Profile {
    Profile::new(ShopId::parse("shop").unwrap(), ProfileId::parse("p").unwrap(), t0() + Duration::days(365))
}

#[test]
fn a_newer_unsubscribe_wins_and_an_older_subscribe_never_undoes_it() {
    let mut profile = fresh();
    profile.apply(&event("e2", 20, consent(ConsentState::Unsubscribed, 20)));
    profile.apply(&event("e1", 10, consent(ConsentState::Subscribed, 10)));
    assert_eq!(profile.consent_state(), ConsentState::Unsubscribed);
    // Same instant: unsubscribing wins, whatever the event ids.
    let mut tie = fresh();
    tie.apply(&event("z", 5, consent(ConsentState::Unsubscribed, 5)));
    tie.apply(&event("zz", 5, consent(ConsentState::Subscribed, 5)));
    assert_eq!(tie.consent_state(), ConsentState::Unsubscribed);
}

#[test]
fn a_complaint_suppresses_and_unsubscribes() {
    let mut profile = fresh();
    profile.apply(&event("e1", 1, consent(ConsentState::Subscribed, 1)));
    assert!(profile.can_receive_marketing());
    profile.record_mail(
        MailSignal::Complaint,
        Stamp { at: t0() + Duration::minutes(2), event: EventId::parse("ses-1").unwrap() },
    );
    assert!(!profile.can_receive_marketing());
    assert_eq!(profile.suppression.as_ref().unwrap().value, SuppressionReason::Complaint);
    assert_eq!(profile.consent_state(), ConsentState::Unsubscribed);
}

#[test]
fn every_event_of_an_order_counts_it_once_and_refunds_and_cancellations_adjust_spend() {
    let mut profile = fresh();
    let placed = order("o1", 5000, &[("p1", 2, "vins")]);
    profile.apply(&event("e1", 1, Payload::OrderPlaced(placed.clone())));
    profile.apply(&event("e2", 2, Payload::OrderPaid(placed.clone())));
    profile.apply(&event("e3", 3, Payload::OrderFulfilled(fulfillment("o1"))));
    profile.apply(&event(
        "e4",
        4,
        Payload::OrderRefunded(Refund {
            order_id: ExternalId::parse("o1").unwrap(),
            refund_id: None,
            amount: eur(1000),
            line_items: vec![],
        }),
    ));
    profile.apply(&event("e5", 5, Payload::OrderPlaced(order("o2", 3000, &[("p2", 1, "vins")]))));
    profile.apply(&event("e6", 6, Payload::OrderCancelled(order("o3", 9900, &[]))));
    let stats = profile.stats();
    assert_eq!(stats.orders, 2);
    assert_eq!(stats.status, Status::Repeat);
    let eur_code = Currency::parse("EUR").unwrap();
    assert_eq!(stats.spend[&eur_code], 4000 + 3000);
    assert_eq!(stats.average_order[&eur_code], 3500);
    assert_eq!(stats.first_order_at, Some(t0() + Duration::minutes(1)));
    assert_eq!(profile.products[&ExternalId::parse("p1").unwrap()].quantity, 2, "placed and paid carry the same lines");
    assert_eq!(profile.interests["category:vins"].purchases, 3);
}

fn fulfillment(order_id: &str) -> Fulfillment {
    Fulfillment {
        order_id: ExternalId::parse(order_id).unwrap(),
        fulfillment_id: None,
        status: None,
        tracking_company: None,
        tracking_numbers: vec![],
        tracking_urls: vec![],
        line_items: vec![],
    }
}

/// A random history of one person: names, consent, acquisition, orders and their later
/// events, views. Ids are unique; times may collide (ties must still resolve one way).
fn history() -> impl Strategy<Value = Vec<Event>> {
    let one = (0u8..9, 0i64..60, 0usize..4, 1i64..9, 0u8..3);
    prop::collection::vec(one, 1..40).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(n, (kind, minute, order_n, amount, category))| {
                let id = format!("e{n}");
                let order_id = format!("o{order_n}");
                let lines = [("p1", 1, "vins"), ("p2", 2, "champagnes"), ("p3", 1, "coffrets")];
                let line = [lines[usize::from(category)]];
                let payload = match kind {
                    0 => Payload::CustomerUpserted(Customer {
                        first_name: Some(format!("Anne{n}")),
                        ..Customer::default()
                    }),
                    1 => consent(ConsentState::Subscribed, minute),
                    2 => consent(ConsentState::Unsubscribed, minute),
                    // The same order always has the same total and lines, as platforms send it.
                    3 => Payload::OrderPlaced(order(&order_id, 1000 * (order_n as i64 + 1), &[lines[order_n % 3]])),
                    4 => Payload::OrderPaid(order(&order_id, 1000 * (order_n as i64 + 1), &[lines[order_n % 3]])),
                    5 => Payload::OrderRefunded(Refund {
                        order_id: ExternalId::parse(&order_id).unwrap(),
                        refund_id: None,
                        amount: eur(100 * amount),
                        line_items: vec![],
                    }),
                    6 => Payload::OrderDelivered(fulfillment(&order_id)),
                    7 => Payload::ProductViewed(ProductView {
                        product_id: ExternalId::parse(line[0].0).unwrap(),
                        variant_id: None,
                        title: None,
                        url: None,
                        categories: vec![line[0].2.to_owned()],
                        price: None,
                    }),
                    _ => Payload::OrderCancelled(order(&order_id, 1000 * (order_n as i64 + 1), &[lines[order_n % 3]])),
                };
                let mut event = event(&id, minute, payload);
                if kind == 0 {
                    event.context.acquisition =
                        Acquisition::from_landing(Some(&format!("/?utm_source=s{minute}")), None, None);
                    event.context.locale = Some(if minute % 2 == 0 { "fr" } else { "en" }.to_owned());
                }
                event
            })
            .collect()
    })
}

/// Applies events once each, as the store does with its applied-event markers.
fn fold_once(events: &[Event]) -> Profile {
    let mut seen = HashSet::new();
    let mut profile = fresh();
    for event in events {
        if seen.insert(event.id.clone()) {
            profile.apply(event);
        }
    }
    profile
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(300))]

    #[test]
    fn any_order_with_any_duplicates_reaches_the_in_order_profile(
        events in history(),
        seed in any::<u64>(),
        duplicates in prop::collection::vec(any::<prop::sample::Index>(), 0..15),
    ) {
        let expected = fold_once(&events);
        let mut delivered: Vec<Event> = events.clone();
        for index in duplicates {
            delivered.push(index.get(&events).clone());
        }
        // A deterministic shuffle from the seed (Fisher–Yates on a xorshift stream).
        let mut state = seed | 1;
        for i in (1..delivered.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            delivered.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(fold_once(&delivered), expected);
    }

    #[test]
    fn everything_but_view_counts_is_unchanged_by_reapplying_an_event(events in history()) {
        let once = fold_once(&events);
        let mut twice = fold_once(&events);
        for event in events.iter().filter(|e| !matches!(e.payload, Payload::ProductViewed(_))) {
            twice.apply(event);
        }
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn merging_two_partial_profiles_equals_one_profile_of_every_event(events in history(), split in any::<u64>()) {
        let (left, right): (Vec<_>, Vec<_>) = events.iter().cloned().enumerate().partition(|(i, _)| split >> (i % 64) & 1 == 1);
        let left: Vec<Event> = left.into_iter().map(|(_, e)| e).collect();
        let right: Vec<Event> = right.into_iter().map(|(_, e)| e).collect();
        let mut merged = fold_once(&left);
        merged.merge(fold_once(&right));
        let whole = fold_once(&events);
        // Each order's lines are counted in each half that saw one of its events: compare all
        // but the purchase tallies, which merge adds up (documented on `merge`).
        prop_assert_eq!(strip_tallies(merged), strip_tallies(whole));
    }
}

fn strip_tallies(mut profile: Profile) -> Profile {
    for product in profile.products.values_mut() {
        product.quantity = 0;
        product.orders = 0;
    }
    for interest in profile.interests.values_mut() {
        interest.purchases = 0;
    }
    profile
}

#[test]
fn applied_ids_are_kept_for_the_window_and_up_to_the_cap() {
    let mut profile = fresh();
    let id = |n: usize| EventId::parse(format!("e{n}")).unwrap();
    profile.remember_applied(&id(0), t0());
    profile.remember_applied(&id(1), t0() + APPLIED_WINDOW);
    assert!(profile.was_applied(&id(0)) && profile.was_applied(&id(1)), "inside the window");
    profile.remember_applied(&id(2), t0() + APPLIED_WINDOW + Duration::seconds(1));
    assert!(!profile.was_applied(&id(0)), "older than the window is forgotten");
    for n in 3..APPLIED_MAX + 10 {
        profile.remember_applied(&id(n), t0() + APPLIED_WINDOW + Duration::seconds(n as i64));
    }
    assert_eq!(profile.applied.len(), APPLIED_MAX);
    assert!(!profile.was_applied(&id(2)) && profile.was_applied(&id(APPLIED_MAX + 9)), "the oldest go first");
}

#[test]
fn a_subscribe_stamped_in_the_future_never_beats_a_later_unsubscribe() {
    // Received a day after t0 but claiming to be from a week later (a wrong clock, or forged).
    let mut p = fresh();
    p.apply(&event("future", 0, consent(ConsentState::Subscribed, 7 * 24 * 60)));
    let mut unsubscribe = event("later", 0, consent(ConsentState::Unsubscribed, 24 * 60 + 1));
    unsubscribe.received_at = t0() + Duration::days(1) + Duration::minutes(2);
    p.apply(&unsubscribe);
    assert_eq!(p.consent_state(), ConsentState::Unsubscribed);
    // The same two in the other order.
    let mut q = fresh();
    q.apply(&unsubscribe);
    q.apply(&event("future", 0, consent(ConsentState::Subscribed, 7 * 24 * 60)));
    assert_eq!(q.consent_state(), ConsentState::Unsubscribed);
}

#[test]
fn a_flood_of_views_with_made_up_categories_keeps_the_interests_bounded_and_the_bought_ones() {
    let mut p = fresh();
    p.apply(&event("o1", 0, Payload::OrderPlaced(order("o1", 2000, &[("vin", 2, "rouges")]))));
    // What a stranger holding the visitor id could send: many beacons, many new categories.
    for n in 0..400 {
        let categories = (0..20).map(|c| format!("made-up-{n}-{c}")).chain(["x".repeat(5000)]).collect();
        let view = ProductView {
            product_id: ExternalId::parse("p").unwrap(),
            variant_id: None,
            title: None,
            url: None,
            categories,
            price: None,
        };
        p.apply(&event(&format!("v{n}"), n, Payload::ProductViewed(view)));
    }
    assert_eq!(p.interests.len(), MAX_INTERESTS);
    assert_eq!(p.interests["category:rouges"].purchases, 2, "what was bought outweighs views");
    assert!(p.interests.keys().all(|k| k.chars().count() <= MAX_INTEREST_CHARS + "category:".len()));
    let bytes = serde_json::to_vec(&p).unwrap().len();
    assert!(bytes < 16 * 1024, "{bytes} bytes");
}
