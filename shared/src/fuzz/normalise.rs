//! The normalisers, called directly (the handler adds verification and the ledger, driven
//! in webhook-ingest): every fixture mutated, delivered under its own topic or now and then
//! under another topic of its platform, with or without a shop currency.

use crate::events::Event;
use crate::ids::ShopId;
use crate::money::Currency;
use crate::normalise::{Delivery, NormaliseError, Outcome, shopify, woocommerce};
use crate::testing::fixtures::{Platform, platform_fixtures};
use crate::testing::fuzz::Verdict;
use crate::testing::mutate::{Mutator, Seed};
use chrono::{TimeZone, Utc};

/// Topics drawn for a delivery besides its fixture's own: every topic Relance subscribes
/// to, in the normalisers' own lists (WooCommerce's also padded with spaces, as a proxy may).
fn topics(platform: Platform) -> Vec<&'static str> {
    match platform {
        Platform::Shopify => shopify::SUBSCRIBED_TOPICS.iter().chain(shopify::COMPLIANCE_TOPICS).copied().collect(),
        Platform::Woocommerce => woocommerce::SUBSCRIBED_TOPICS.iter().copied().chain([" order.updated "]).collect(),
    }
}

type Normalise = fn(&Delivery<'_>) -> Result<Outcome, NormaliseError>;

/// The target of one platform's normaliser.
pub(super) fn normaliser(platform: Platform) -> impl FnMut(&mut Mutator) -> Verdict {
    let seeds: Vec<(String, Seed)> = platform_fixtures()
        .into_iter()
        .filter(|f| f.platform == platform)
        .map(|f| (f.topic, Seed::new(serde_json::from_slice(&f.body).expect("fixtures are JSON"))))
        .collect();
    assert!(!seeds.is_empty(), "no {platform:?} fixtures");
    let normalise: Normalise = match platform {
        Platform::Shopify => shopify::normalise,
        Platform::Woocommerce => woocommerce::normalise,
    };
    let topics = topics(platform);
    let shop = ShopId::parse("demo.myshopify.com").expect("a valid shop id");
    let received_at = Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 0).single().expect("a valid time");
    move |m| {
        let (topic, seed) = &seeds[m.rng().usize(..seeds.len())];
        let topic = if m.rng().u8(..5) == 0 { topics[m.rng().usize(..topics.len())] } else { topic.as_str() };
        let body = m.json(seed);
        let shop_currency = [Currency::parse("EUR").ok(), None, Currency::parse("JPY").ok()][m.rng().usize(..3)];
        let delivery = Delivery {
            shop: &shop,
            topic,
            delivery_id: "fuzz-1",
            triggered_at: None,
            received_at,
            body: &body,
            shop_currency,
        };
        judge(normalise(&delivery))
    }
}

/// Accepted only with an event that goes on the bus and reads back as the same event (what
/// profile-update and the timer do with it); refused only with a reason.
pub(crate) fn judge(outcome: Result<Outcome, NormaliseError>) -> Verdict {
    match outcome {
        Ok(Outcome::Ignored { reason: "" }) => Verdict::Wrong("ignored without a reason".to_owned()),
        Ok(Outcome::Ignored { .. }) => Verdict::Accepted,
        Ok(Outcome::Event(event)) => match read_back(&event) {
            Ok(back) if back == *event => Verdict::Accepted,
            Ok(back) => Verdict::Wrong(format!("the bus entry reads back as another event: {back:?} != {event:?}")),
            Err(e) => Verdict::Wrong(format!("accepted, but its bus entry does not read back: {e}")),
        },
        Err(error) => Verdict::Refused(crate::failure::chain(&error)),
    }
}

fn read_back(event: &Event) -> Result<Event, serde_json::Error> {
    let entry = event.to_bus_event()?;
    serde_json::from_str(&serde_json::to_string(&entry.detail)?)
}

#[test]
fn shopify_mutations_are_normalised_or_refused_with_a_reason() {
    super::short_normaliser().run("shopify normaliser", normaliser(Platform::Shopify));
}

#[test]
fn woocommerce_mutations_are_normalised_or_refused_with_a_reason() {
    super::short_normaliser().run("woocommerce normaliser", normaliser(Platform::Woocommerce));
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_shopify_normaliser() {
    super::long().run("shopify normaliser", normaliser(Platform::Shopify));
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_woocommerce_normaliser() {
    super::long().run("woocommerce normaliser", normaliser(Platform::Woocommerce));
}
