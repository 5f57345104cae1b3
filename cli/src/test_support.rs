//! Shared by the crate's unit tests: the repository's sample events, and a shop where Bob
//! ordered, paid, left a checkout and stated his consent.

use relance::events::Event;
use relance::ids::ShopId;
use relance::ports::{MemoryProfileStore, RecordingPublisher};
use relance::use_cases::update_profile::apply_event;

/// The repository's own sample events (events/profile-update), as profile-update gets them.
pub fn sample(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Event {
    let text = match name {
        "order.placed" => include_str!("../../events/profile-update/order.placed.json"),
        "order.paid" => include_str!("../../events/profile-update/order.paid.json"),
        "checkout.started" => include_str!("../../events/profile-update/checkout.started.json"),
        "consent.changed" => include_str!("../../events/profile-update/consent.changed.json"),
        other => panic!("no sample {other}"),
    };
    let mut envelope: serde_json::Value = serde_json::from_str(text).unwrap();
    edit(&mut envelope["detail"]);
    serde_json::from_value(envelope["detail"].take()).unwrap()
}

pub const BOB: &str = "bob.norman@mail.example.com";

pub async fn bobs_shop() -> (MemoryProfileStore, ShopId) {
    let (store, publisher) = (MemoryProfileStore::default(), RecordingPublisher::default());
    let consent = sample("consent.changed", |d| {
        d["identity"] = serde_json::json!({ "customer_id": "207119551", "email": BOB });
        d["shop"] = serde_json::json!("demo.myshopify.com");
    });
    let mut shop = None;
    for event in
        [sample("order.placed", |_| {}), sample("order.paid", |_| {}), sample("checkout.started", |_| {}), consent]
    {
        shop = Some(event.shop.clone());
        apply_event(&store, &publisher, &event).await.unwrap();
    }
    (store, shop.unwrap())
}
