use super::*;
use relance::events::{ConsentState, Event, Payload, Platform, SCHEMA_VERSION};
use relance::ids::{Email, ShopId};
use relance::ports::{MemoryProfileStore, ProfileStore, RecordingPublisher};
use relance::profile::IdentityKey;
use relance::use_cases::update_profile::apply_event;
use std::path::Path;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

fn now() -> DateTime<Utc> {
    chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 3, 9, 0, 0).unwrap()
}

fn plan(names: &[&str]) -> Plan {
    let files: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    Plan::read(&files, None, now()).unwrap()
}

fn ids(plan: &Plan) -> Vec<&str> {
    plan.events.iter().map(|e| e.id.as_str()).collect()
}

/// The event webhook-ingest makes of an imported one (functions/webhook-ingest/src/api.rs).
fn canonical(shop: &ShopId, event: &ImportEvent) -> Event {
    Event {
        schema_version: SCHEMA_VERSION,
        id: relance::events::api_event_id(shop, &event.id).unwrap(),
        shop: shop.clone(),
        platform: Platform::Api,
        occurred_at: event.occurred_at,
        received_at: now(),
        identity: event.identity.clone(),
        context: event.context.clone(),
        payload: event.payload().expect("webhook-ingest reads the payload back"),
    }
}

async fn imported(plan: &Plan) -> (MemoryProfileStore, ShopId) {
    let (store, publisher) = (MemoryProfileStore::default(), RecordingPublisher::default());
    let shop = ShopId::parse("maison.myshopify.com").unwrap();
    for event in &plan.events {
        apply_event(&store, &publisher, &canonical(&shop, event)).await.unwrap();
    }
    (store, shop)
}

async fn profile_of(store: &MemoryProfileStore, shop: &ShopId, email: &str) -> relance::profile::Profile {
    let key = IdentityKey::Email(Email::parse(email).unwrap());
    let id = store.find_identity(shop, &key).await.unwrap().expect(email);
    store.load(shop, &id).await.unwrap().unwrap().value
}

#[test]
fn a_shopify_orders_export_becomes_each_orders_events_and_an_order_with_a_bad_line_is_skipped_whole() {
    let plan = plan(&["shopify-orders.csv"]);
    assert_eq!(plan.files[0].1, Format::ShopifyOrders);
    assert_eq!(
        ids(&plan),
        [
            "import:order:7410991464714:placed",
            "import:order:7410991464714:consent",
            "import:order:7410991464714:paid",
            "import:order:7410991464714:fulfilled",
            "import:order:7410991464715:placed",
            "import:order:7410991464715:consent",
            "import:order:7410991464715:paid",
            "import:order:7410991464715:cancelled",
            "import:order:7410991464715:refunded",
            "import:order:7410991464717:placed",
            "import:order:7410991464717:consent",
        ]
    );
    assert_eq!(plan.bad.len(), 1, "{:?}", plan.bad);
    assert_eq!(plan.bad[0].place.to_string(), format!("{}:6", fixture("shopify-orders.csv").display()));
    assert!(plan.bad[0].reason.starts_with("Lineitem price:"), "{}", plan.bad[0].reason);
    assert!(plan.events.iter().all(|e| e.context.history), "every imported event is history");

    let Ok(Payload::OrderPlaced(order)) = plan.events[0].payload() else { panic!("order.placed") };
    assert_eq!(order.name.as_deref(), Some("#1001"));
    assert_eq!(order.line_items.len(), 2);
    assert_eq!((order.line_items[1].quantity, order.line_items[1].unit_price.minor()), (2, 1250));
    assert_eq!(order.total.minor(), 5391);
    assert_eq!(order.discount_codes, ["WELCOME10"]);
    assert_eq!(plan.events[0].occurred_at.to_rfc3339(), "2025-10-07T07:50:26+00:00");
    let Ok(Payload::OrderRefunded(refund)) = plan.events[8].payload() else { panic!("order.refunded") };
    assert_eq!(refund.amount.minor(), 2490);
    assert_eq!(plan.events[8].occurred_at, plan.events[7].occurred_at, "stamped with the order's latest time");
}

#[tokio::test]
async fn imported_orders_fill_the_profiles_they_name() {
    let (store, shop) = imported(&plan(&["shopify-orders.csv"])).await;
    let anne = profile_of(&store, &shop, "anne@example.fr").await;
    assert_eq!(anne.orders.len(), 2, "#1001 and #1004, the second under a differently cased address");
    assert_eq!(anne.consent_state(), ConsentState::Subscribed);
    let bruno = profile_of(&store, &shop, "bruno@example.fr").await;
    assert_eq!(bruno.consent_state(), ConsentState::Unsubscribed);
    let order = bruno.orders.values().next().unwrap();
    assert!(order.cancelled && order.refunded.is_some_and(|r| r.minor() == 2490));
    let chloe = IdentityKey::Email(Email::parse("chloe@example.fr").unwrap());
    assert_eq!(store.find_identity(&shop, &chloe).await.unwrap(), None, "her only order was skipped");
}

#[tokio::test]
async fn a_customers_export_fills_names_and_never_overrides_a_dated_unsubscribe() {
    let plan = plan(&["shopify-customers.csv"]);
    assert_eq!(plan.files[0].1, Format::ShopifyCustomers);
    assert_eq!(plan.events.len(), 3);
    assert_eq!(plan.bad.len(), 1);
    assert_eq!(plan.bad[0].place.line, 5);
    assert!(plan.bad[0].reason.starts_with("Email:"), "{}", plan.bad[0].reason);
    assert!(plan.events.iter().all(|e| !e.id.contains('@')), "no address in an event id (ids are logged)");

    let (store, publisher) = (MemoryProfileStore::default(), RecordingPublisher::default());
    let shop = ShopId::parse("maison.myshopify.com").unwrap();
    // Anne unsubscribed through Relance's link before the import.
    let unsubscribe = serde_json::json!({
        "schema_version": 1, "id": "relance:maison.myshopify.com:unsub-1", "shop": shop, "platform": "relance",
        "occurred_at": "2025-12-02T10:00:00Z", "received_at": "2025-12-02T10:00:00Z",
        "identity": { "email": "anne@example.fr" },
        "payload": { "type": "consent.changed", "state": "unsubscribed", "changed_at": "2025-12-02T10:00:00Z", "source": "unsubscribe-link" },
    });
    apply_event(&store, &publisher, &serde_json::from_value(unsubscribe).unwrap()).await.unwrap();
    for event in &plan.events {
        apply_event(&store, &publisher, &canonical(&shop, event)).await.unwrap();
    }
    let anne = profile_of(&store, &shop, "anne@example.fr").await;
    assert_eq!(anne.consent_state(), ConsentState::Unsubscribed, "the dated unsubscribe wins");
    assert_eq!(anne.contact.first_name.as_ref().map(|n| n.value.as_str()), Some("Anne"));
    assert_eq!(anne.customer_ids.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["8123456789012"]);
    let dora = profile_of(&store, &shop, "dora@example.fr").await;
    assert_eq!(dora.consent_state(), ConsentState::Subscribed, "nothing newer is known of Dora");
}

#[test]
fn the_generic_headers_are_read_and_their_bad_rows_named() {
    let plan = plan(&["orders.csv", "customers.csv"]);
    assert_eq!(plan.files.iter().map(|f| f.1).collect::<Vec<_>>(), [Format::Orders, Format::Customers]);
    let reasons: Vec<String> = plan.bad.iter().map(|b| format!("{}: {}", b.place.line, b.reason)).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].starts_with("4: email is empty: the order names no customer"), "{reasons:?}");
    assert!(reasons[1].starts_with("4: created_at \"2025-13-01T00:00:00Z\" is not a time"), "{reasons:?}");
    assert!(ids(&plan).contains(&"import:order:A-77:customer"), "the generic header's names");
    assert!(ids(&plan).contains(&"import:customer:id:c-10"));
}

/// A generic orders file of `n` one-line orders.
fn many_orders(n: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("relance-import-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("orders.csv");
    let mut text = String::from("order_id,placed_at,email,currency,total,title,quantity,unit_price\n");
    for i in 0..n {
        text.push_str(&format!("o{i},2025-06-01T10:00:00Z,c{}@example.com,EUR,10.00,Vin,1,10.00\n", i % 40));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn fast() -> Pace {
    Pace { per_second: None, attempts: 2, backoff: Duration::from_millis(1) }
}

#[tokio::test]
async fn an_interrupted_import_resumes_where_the_stack_last_acknowledged_and_sends_each_event_once() {
    let plan = Plan::read(&[many_orders(250)], None, now()).unwrap();
    assert_eq!(plan.events.len(), 250);
    let (sink, cursor) = (MemorySink::failing_after(1), MemoryCursor::default());
    let error = run(&plan, &sink, &cursor, fast(), &mut |_| {}).await.unwrap_err();
    assert!(matches!(error, ImportError::Stopped { sent: 100, total: 250, .. }), "{error}");
    assert_eq!(cursor.load(&plan.fingerprint()).unwrap(), 100);

    sink.recover();
    let mut seen = Vec::new();
    let summary = run(&plan, &sink, &cursor, fast(), &mut |done| seen.push(done)).await.unwrap();
    assert_eq!(summary, Summary { events: 250, resumed_from: 100, published: 150, duplicates: 0 });
    assert_eq!(seen, [100, 200, 250]);
    assert_eq!(sink.taken().iter().map(|e| e.id.clone()).collect::<Vec<_>>(), ids(&plan), "each once, in order");
    assert_eq!(sink.batches(), 3);
}

#[tokio::test]
async fn a_second_import_of_the_same_files_publishes_nothing() {
    let plan = Plan::read(&[many_orders(120)], None, now()).unwrap();
    let (sink, cursor) = (MemorySink::default(), MemoryCursor::default());
    run(&plan, &sink, &cursor, fast(), &mut |_| {}).await.unwrap();
    let again = run(&plan, &sink, &cursor, fast(), &mut |_| {}).await.unwrap();
    assert_eq!(again, Summary { events: 120, resumed_from: 0, published: 0, duplicates: 120 });
}

#[tokio::test]
async fn a_cursor_of_another_plan_is_not_taken_and_a_file_cursor_survives_a_restart() {
    let path = std::env::temp_dir().join(format!("relance-cursor-{}.json", std::process::id()));
    let cursor = CursorFile { path: path.clone() };
    cursor.save("plan-a", 300).unwrap();
    assert_eq!(CursorFile { path: path.clone() }.load("plan-a").unwrap(), 300);
    assert_eq!(cursor.load("plan-b").unwrap(), 0);
    cursor.finish("plan-a").unwrap();
    assert_eq!(cursor.load("plan-a").unwrap(), 0);
    assert!(!path.exists());
}

#[test]
fn a_file_whose_header_names_no_format_is_refused_before_anything_is_sent() {
    let path = std::env::temp_dir().join(format!("relance-unknown-{}.csv", std::process::id()));
    std::fs::write(&path, "foo,bar\n1,2\n").unwrap();
    let error = Plan::read(&[path], None, now()).unwrap_err();
    assert!(error.to_string().contains("names no format"), "{error}");
}

fn platform_fixture(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn jsonl(path: &str) -> Vec<Result<serde_json::Value, String>> {
    platform_fixture(path).lines().map(|l| serde_json::from_str(l).map_err(|e| e.to_string())).collect()
}

fn eur() -> Option<relance::money::Currency> {
    Some(relance::money::Currency::parse("EUR").unwrap())
}

#[tokio::test]
async fn a_shopify_bulk_result_files_customers_with_their_consent_and_orders_with_what_became_of_them() {
    let (events, bad) = shopify::events(
        &jsonl("shopify-admin/bulk-customers.jsonl"),
        &jsonl("shopify-admin/bulk-orders.jsonl"),
        eur(),
        now(),
    );
    let places: Vec<String> = bad.iter().map(|b| b.place.to_string()).collect();
    assert_eq!(places, ["shopify/customers.jsonl:4", "shopify/orders.jsonl:8"], "{bad:?}");
    assert!(bad[1].reason.contains("lineItems.originalUnitPriceSet"), "{}", bad[1].reason);
    let plan = Plan::from_events(events, bad);
    assert!(ids(&plan).contains(&"import:order:450789470:refunded"), "{:?}", ids(&plan));
    assert!(ids(&plan).contains(&"import:customer:id:207119551"));
    let (store, shop) = imported(&plan).await;

    let bob = profile_of(&store, &shop, "bob.norman@mail.example.com").await;
    assert_eq!(bob.customer_ids.len(), 1);
    let consent = bob.consent.as_ref().expect("Bob's consent");
    assert_eq!(consent.value.state, ConsentState::Subscribed);
    assert_eq!(consent.stamp.at.to_rfc3339(), "2024-03-02T10:13:01+00:00");
    let records = store.records(&shop, &bob.id).await.unwrap();
    let orders: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            relance::profile::Record::Order(o) => Some(o),
            _ => None,
        })
        .collect();
    assert_eq!(orders.len(), 2, "{orders:?}");

    let jane = profile_of(&store, &shop, "jane.smith@mail.example.com").await;
    assert_eq!(jane.consent_state(), ConsentState::Unsubscribed);
    // Chloé's only order is skipped; she is filed from the customers' lines, with no consent stated.
    let chloe = profile_of(&store, &shop, "chloe.martin@mail.example.com").await;
    assert_eq!(chloe.consent_state(), ConsentState::Unknown);
}

#[tokio::test]
async fn a_woocommerce_stores_lists_file_its_customers_and_placed_orders_and_skip_drafts() {
    let order = |name: &str| -> serde_json::Value {
        serde_json::from_str(&platform_fixture(&format!("woocommerce/{name}"))).unwrap()
    };
    let customers = vec![order("customer.created__rest-api-docs-v3.json")];
    let mut draft = order("order.created__rest-api-docs-v3.json");
    draft["id"] = serde_json::json!(730);
    draft["status"] = serde_json::json!("checkout-draft");
    let orders = vec![
        order("order.updated__rest-api-docs-v3-completed.json"),
        order("order.updated__rest-api-docs-v3-refunded.json"),
        order("order.created-guest-coupon__appvila-wc6.9.4.json"),
        draft,
    ];
    let (events, bad) = woocommerce::events(&customers, &orders, eur(), now());
    assert!(bad.is_empty(), "{bad:?}");
    let plan = Plan::from_events(events, bad);
    let ids = ids(&plan);
    assert!(ids.contains(&"import:customer:id:25"));
    assert!(ids.contains(&"import:order:727:fulfilled") && ids.contains(&"import:order:723:refunded"), "{ids:?}");
    assert!(!ids.iter().any(|id| id.contains(":730:")), "a draft is no order: {ids:?}");
    let (store, shop) = imported(&plan).await;
    let john = profile_of(&store, &shop, "john.doe@example.com").await;
    assert!(john.customer_ids.iter().any(|id| id.as_str() == "25"), "{:?}", john.customer_ids);
}
