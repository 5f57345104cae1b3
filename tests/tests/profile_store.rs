//! The DynamoDB profile store on the local stack, on the table the template declares.

use chrono::{TimeZone, Utc};
use relance::aws::DynamoProfileStore;
use relance::events::ConsentState;
use relance::ids::EventId;
use relance::ids::{Email, ProfileId, ShopId};
use relance::lattice::{Lww, Stamp};
use relance::ports::{ProfileStore, StoreError};
use relance::profile::{ConsentDecision, Profile, Version};
use relance_tests::fixtures::{Canonical, order, product_line};
use relance_tests::stack::LocalStack;
use relance_tests::unique;

async fn store() -> DynamoProfileStore {
    let stack = LocalStack::connect().await.expect("local stack");
    DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").expect("table"))
}

fn profile() -> Profile {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 0).unwrap();
    let mut profile = Profile::new(ShopId::parse(unique("shop")).unwrap(), ProfileId::parse(unique("p")).unwrap(), now);
    let stamp = Stamp { at: now, event: EventId::parse("shopify:shop:e1").unwrap() };
    profile.contact.email = Some(Lww::new(Email::parse("Anne@Example.fr").unwrap(), stamp.clone()));
    profile.contact.locale = Some(Lww::new("fr".to_owned(), stamp.clone()));
    let decision = ConsentDecision { state: ConsentState::Subscribed, source: "shopify".to_owned() };
    profile.consent = Some(Lww::new(decision, stamp));
    // Orders, products and interests too: the maps must survive DynamoDB's item encoding.
    for sample in ["order.placed", "order.refunded", "customer.upserted", "product.viewed"] {
        let path = format!("{}/../events/profile-update/{sample}.json", env!("CARGO_MANIFEST_DIR"));
        let envelope: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        profile.apply(&serde_json::from_value(envelope["detail"].clone()).unwrap());
    }
    assert!(!profile.orders.is_empty() && !profile.products.is_empty());
    profile
}

#[tokio::test]
async fn a_profile_round_trips_through_dynamodb() {
    let store = store().await;
    let profile = profile();
    assert!(store.load(&profile.shop, &profile.id).await.unwrap().is_none());

    let version = store.save(&profile, Version::NEW).await.unwrap();
    let loaded = store.load(&profile.shop, &profile.id).await.unwrap().unwrap();

    assert_eq!(loaded.value, profile);
    assert_eq!(loaded.version, version);
    assert_eq!(version, Version(1));
}

#[tokio::test]
async fn a_stale_write_is_rejected_and_changes_nothing() {
    let store = store().await;
    let mut profile = profile();
    let v1 = store.save(&profile, Version::NEW).await.unwrap();

    // Writer A saves on top of v1.
    let later = Stamp { at: profile.updated_at, event: EventId::parse("shopify:shop:e2").unwrap() };
    profile.contact.locale = Some(Lww::new("en".to_owned(), later.clone()));
    let v2 = store.save(&profile, v1).await.unwrap();

    // Writer B read v1 too; its write must be refused.
    let mut stale = profile.clone();
    stale.contact.locale = Some(Lww::new("de".to_owned(), later));
    let refused = store.save(&stale, v1).await;
    assert!(matches!(refused, Err(StoreError::Conflict { expected }) if expected == v1), "{refused:?}");

    // Creating an existing profile is refused the same way.
    assert!(matches!(store.save(&stale, Version::NEW).await, Err(StoreError::Conflict { .. })));

    let stored = store.load(&profile.shop, &profile.id).await.unwrap().unwrap();
    assert_eq!(stored.version, v2);
    assert_eq!(stored.value.contact.locale.map(|l| l.value).as_deref(), Some("en"));
}

#[tokio::test]
async fn the_affinity_table_is_written_in_batches_and_read_back_by_product() {
    use relance::ports::AffinityStore;
    use relance::programs::affinity::CoOccurrence;
    let store = store().await;
    let shop = ShopId::parse(unique("shop")).unwrap();
    // 30 customers, each with their own product and a shared one: 31 entries, two batches.
    let mut together = CoOccurrence::default();
    for n in 0..30 {
        let mut customer = profile();
        customer.products.clear();
        for (id, title) in [(format!("solo{n}"), format!("Produit {n}")), ("shared".to_owned(), "Carafe".to_owned())] {
            let order_id = format!("o{n}-{id}");
            let placed = order(&order_id, vec![product_line(&id, &title, 1500, &["maison"])]);
            customer.apply(
                &Canonical::api(shop.as_str(), &order_id, "order.placed", placed, "2026-11-20T10:00:00Z").build(),
            );
        }
        together.add(&customer);
    }
    let table = together.finish();
    assert_eq!(table.len(), 31);
    store.save_affinities(&shop, &table, Utc::now()).await.unwrap();
    let ids = ["shared", "solo7", "missing"].map(|id| relance::ids::ExternalId::parse(id).unwrap());
    let read = store.load_affinities(&shop, &ids).await.unwrap();
    assert_eq!(read.len(), 2, "the missing product has no entry");
    assert_eq!(read[0].companions.len(), relance::programs::affinity::COMPANIONS);
    assert_eq!(read[1].companions[0].product.as_str(), "shared");
    assert_eq!(read[1].card.price.map(|p| p.minor()), Some(1500));
    assert_eq!(
        read,
        table.iter().filter(|e| ["shared", "solo7"].contains(&e.product.as_str())).cloned().collect::<Vec<_>>()
    );
}
