use super::*;
use crate::test_support::{BOB, bobs_shop, sample};
use relance::ports::MemoryProfileStore;

fn imported(id: &str) -> ImportEvent {
    let identity = relance::events::Identity {
        email: Some(relance::ids::Email::parse(BOB).unwrap()),
        ..relance::events::Identity::default()
    };
    let payload = sample("order.paid", |_| {}).payload;
    ImportEvent::new(id.to_owned(), "2026-12-01T10:00:00Z".parse().unwrap(), identity, &payload)
}

#[tokio::test]
async fn settling_counts_the_last_events_filed_and_stops_at_its_deadline() {
    let (store, shop) = bobs_shop().await;
    // Bob's events were applied under their sample ids, not these: none of them is filed.
    let events: Vec<ImportEvent> = (0..30).map(|i| imported(&format!("import:order:{i}:paid"))).collect();
    let settled = settle(&store, &shop, &events, Duration::from_millis(30), Duration::from_millis(10)).await.unwrap();
    assert_eq!(settled, Settled { filed: 0, of: SAMPLE });

    let nobody = MemoryProfileStore::default();
    let settled = settle(&nobody, &shop, &[], Duration::ZERO, Duration::ZERO).await.unwrap();
    assert_eq!(settled, Settled { filed: 0, of: 0 }, "nothing to wait for");
}

#[tokio::test]
async fn an_event_profile_update_applied_counts_as_filed() {
    let (store, shop) = bobs_shop().await;
    let event = imported("import:order:9:paid");
    let canonical = relance::events::Event {
        schema_version: relance::events::SCHEMA_VERSION,
        id: api_event_id(&shop, &event.id).unwrap(),
        shop: shop.clone(),
        platform: relance::events::Platform::Api,
        occurred_at: event.occurred_at,
        received_at: event.occurred_at,
        identity: event.identity.clone(),
        context: event.context.clone(),
        payload: event.payload().unwrap(),
    };
    relance::use_cases::update_profile::apply_event(&store, &relance::ports::RecordingPublisher::default(), &canonical)
        .await
        .unwrap();
    let settled = settle(&store, &shop, &[event], Duration::ZERO, Duration::ZERO).await.unwrap();
    assert_eq!(settled, Settled { filed: 1, of: 1 });
}

#[test]
fn a_summary_reads_as_figures_per_segment() {
    let summary = serde_json::json!({
        "shop": "maison.example", "scored_at": "2026-12-03T10:00:00Z", "currency": "EUR",
        "profiles": 33, "customers": 30, "changed": 33, "deferred": 0, "sunset": 0,
        "segments": { "champions": { "profiles": 4, "revenue_minor": 52000, "revenue_share": 0.41, "average_order_minor": 6500 } },
        "tiers": { "active": 12 }
    });
    let text = render(&summary);
    assert!(
        text.starts_with("scored shop maison.example at 2026-12-03T10:00:00Z: 33 profiles, 30 with orders"),
        "{text}"
    );
    assert!(text.contains("champions") && text.contains("4 profiles, 520.00 EUR (41 % of revenue)"), "{text}");
    assert!(text.contains("engagement tiers: active 12"), "{text}");
}
