//! GDPR on the local stack: after `customers/redact` no item of the customer is left in the
//! table and no schedule that carries them is pending (reminders, program steps, deferred
//! mails), only tombstones that hold no personal data and drop their late events; the
//! delivery ledger never held their visitor id; `shop/redact` erases in pages that resume
//! across invocations until no item of the shop is left; a data request's export lands in
//! the export bucket and the bus names only its key.

use chrono::{Duration, SubsecRound, Utc};
use relance::aws::{DynamoLedger, DynamoProfileStore, EventBridgePublisher, EventBridgeScheduler, S3ExportSink};
use relance::events::{CustomerRedact, DataRequest, Event};
use relance::ids::{EventId, ExternalId, ShopId};
use relance::ports::{DeliveryLedger, ManualClock, Scheduler};
use relance::profile::{IdentityKey, Record, RecordKey};
use relance::programs::request::MailRequest;
use relance::schedule::{OneTimeSchedule, ScheduleName};
use relance::shops::Shops;
use relance::use_cases::gdpr::{
    Paging, SHOP_ERASURE_CONTINUES, ShopErasure, deliver_export, erase_customer, erase_shop, erased_before,
    export_customer,
};
use relance::use_cases::run_programs::{Input, Outcome, Runner, run};
use relance::use_cases::send_mail::{Mailing, Sent, send_requested};
use relance::use_cases::update_profile::apply_event;
use relance_tests::fixtures::{Canonical, eur, order, product_line};
use relance_tests::queues::receive_matching;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::{Value, json};

fn event(shop: &str, n: u32, kind: &str, identity: Value, payload: Value) -> Event {
    Canonical::shopify(shop, n, kind, payload, &format!("2026-03-01T09:{n:02}:00Z"))
        .received_at("2026-03-01T12:00:00Z")
        .identity(identity)
        .build()
}

fn order_event(shop: &str, n: u32, email: &str, order_id: &str) -> Event {
    let identity = json!({ "email": email, "customer_id": format!("c-{email}") });
    event(shop, n, "order.placed", identity, order(order_id, vec![product_line("p1", "Cuvée", 990, &[])]))
}

/// Every item of the table, as text, to search for traces.
async fn all_items(stack: &LocalStack) -> Vec<String> {
    let mut pages = stack.dynamodb().scan().table_name(stack.var("RELANCE_TABLE").unwrap()).into_paginator().send();
    let mut items = Vec::new();
    while let Some(page) = pages.next().await {
        items.extend(page.unwrap().items.unwrap_or_default().into_iter().map(|item| format!("{item:?}")));
    }
    items
}

#[tokio::test]
async fn an_erased_customer_leaves_no_item_and_others_keep_theirs() {
    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let publisher =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&stack.sdk), stack.var("RELANCE_BUS").unwrap());
    let shop = unique("shop");
    let anne = format!("{}@example.fr", unique("anne"));
    let bob = format!("{}@example.fr", unique("bob"));
    // Anne browses anonymously, identifies, orders twice; Bob orders once.
    let visitor = unique("v");
    let history = [
        event(&shop, 1, "product.viewed", json!({ "visitor_id": visitor }), json!({ "product_id": "p1" })),
        event(
            &shop,
            2,
            "customer.signed_up",
            json!({ "email": anne, "visitor_id": visitor }),
            json!({ "first_name": "Anne" }),
        ),
        order_event(&shop, 3, &anne, "a-1"),
        order_event(&shop, 4, &anne, "a-2"),
        order_event(&shop, 5, &bob, "b-1"),
        event(
            &shop,
            8,
            "checkout.started",
            json!({ "email": anne }),
            json!({ "token": "ck-anne", "line_items": [], "total": eur(990) }),
        ),
    ];
    for e in &history {
        apply_event(&store, &publisher, e).await.unwrap();
    }
    // Her checkout's reminder is pending.
    let group = stack.var("RELANCE_SCHEDULE_GROUP").unwrap().to_owned();
    let scheduler = stack.timer_scheduler().unwrap();
    let reminder =
        ScheduleName::for_checkout(&ShopId::parse(&shop).unwrap(), &ExternalId::parse("ck-anne").unwrap(), 2);
    let at = Utc::now().trunc_subsecs(0) + Duration::hours(1);
    scheduler.upsert(&OneTimeSchedule { name: reminder.clone(), at, payload: json!({}) }).await.unwrap();
    let anne_profile = {
        let export =
            export_customer(&store, &event(&shop, 6, "gdpr.data_requested", json!({ "email": anne }), json!({})), None)
                .await
                .unwrap();
        assert_eq!(export.profiles.len(), 1);
        let records = &export.profiles[0].records;
        let orders = records.iter().filter(|r| matches!(r, Record::Order(_))).count();
        let activity = records.iter().filter(|r| matches!(r, Record::Activity(_))).count();
        assert_eq!((orders, activity), (2, 2), "two orders; the anonymous view and the checkout joined her");
        assert!(export.identity_keys.iter().any(|k| k == &format!("visitor:{visitor}")), "{:?}", export.identity_keys);
        export.profiles[0].profile.id.to_string()
    };

    let request = event(
        &shop,
        7,
        "gdpr.customer_redacted",
        json!({ "email": anne, "customer_id": format!("c-{anne}") }),
        json!({ "orders_to_redact": ["a-1"] }),
    );
    let redact = CustomerRedact { orders_to_redact: vec![ExternalId::parse("a-1").unwrap()] };
    let canceller = EventBridgeScheduler::cancel_only(stack.scheduler(), &group);
    let erased = erase_customer(&store, &canceller, &store, &request, &redact).await.unwrap();
    assert_eq!((erased.profiles.len(), erased.schedules), (1, 1));
    assert!(erased.tombstones >= 4, "customer id, e-mail, visitor, orders: {erased:?}");
    assert_eq!(erased.records, 5, "two orders, one checkout, two activities");
    let pending = stack.scheduler().get_schedule().group_name(&group).name(reminder.as_str()).send().await;
    assert!(pending.is_err(), "the reminder is cancelled");

    let items = all_items(&stack).await;
    // Her kept order's identity key, and the redacted order's record, by the keys' own text.
    let kept_order = IdentityKey::Order(ExternalId::parse("a-2").unwrap()).to_string();
    let redacted_order = RecordKey::Order(ExternalId::parse("a-1").unwrap()).to_string();
    for trace in [anne.as_str(), anne_profile.as_str(), visitor.as_str(), &kept_order, "ck-anne", &redacted_order] {
        let left: Vec<&String> = items.iter().filter(|i| i.contains(trace) && i.contains(&shop)).collect();
        assert!(left.is_empty(), "{trace} still in {left:?}");
    }
    assert!(items.iter().any(|i| i.contains(&bob)), "Bob's data is untouched");
    let tombs = items.iter().filter(|i| i.contains(&format!("SHOP#{shop}#TOMB#"))).count();
    assert_eq!(tombs, erased.tombstones, "one tombstone per erased key, none naming her (checked above)");

    // Her order of before the erasure, delivered late, is dropped; one of after it is hers.
    // (Judged at the request's time: the fixtures' dates are fixed, tombstones expire.)
    let late = order_event(&shop, 6, &anne, "a-3");
    assert!(late.occurred_at < request.occurred_at);
    assert!(erased_before(&store, &late, request.received_at).await.unwrap().is_some(), "a late order is dropped");
    let mut back = order_event(&shop, 10, &anne, "a-4");
    back.occurred_at = request.occurred_at + Duration::days(1);
    assert_eq!(erased_before(&store, &back, request.received_at).await.unwrap(), None, "she came back: applied");
}

/// Shops document of one shop that sends mail, for the program and send-mail runners.
fn shops(shop: &str) -> Shops {
    Shops::parse(
        &json!({ "shops": [{
            "id": shop, "locale": "fr", "time_zone": "Europe/Paris",
            "mail": { "from": "Maison Demo <bonjour@demo.example>", "name": "Maison Demo",
                      "site_url": "https://demo.example", "unsubscribe_secrets": ["unsubscribe-secret"] }
        }]})
        .to_string(),
    )
    .unwrap()
}

#[tokio::test]
async fn erasure_deletes_the_program_and_deferred_mail_schedules_that_carry_the_person() {
    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let publisher = stack.publisher().unwrap();
    let scheduler = stack.timer_scheduler().unwrap();
    let group = stack.var("RELANCE_SCHEDULE_GROUP").unwrap().to_owned();
    let shop = unique("shop");
    let shops = shops(&shop);
    let email = format!("{}@example.fr", unique("carla"));
    let now = Utc::now().trunc_subsecs(0);
    let clock = ManualClock::at(now);
    let signup = Canonical::shopify(
        &shop,
        1,
        "customer.signed_up",
        json!({ "first_name": "Carla",
            "marketing_consent": { "state": "subscribed", "changed_at": now, "source": "shopify" } }),
        &now.to_rfc3339(),
    )
    .received_at(&now.to_rfc3339())
    .identity(json!({ "email": email }))
    .build();
    // The timer sees the signup before profile-update files her: the welcome program starts.
    let runner = Runner {
        store: &store,
        affinities: &store,
        publisher: &publisher,
        scheduler: &scheduler,
        shops: &shops,
        clock: &clock,
    };
    let started = run(&runner, Input::Event(Box::new(signup.clone()))).await.unwrap();
    assert_eq!(started, Outcome::Started { programs: vec!["welcome".into()] });
    apply_event(&store, &publisher, &signup).await.unwrap();
    // send-mail defers a nudge to the morning (quiet hours in Paris).
    let profile = export_customer(&store, &signup, None).await.unwrap().profiles[0].profile.id.clone();
    let key = MailRequest::key_for("welcome", &signup.shop, &unique("nudge"), 2);
    let request = MailRequest {
        shop: signup.shop.clone(),
        profile: Some(profile.clone()),
        identity: Default::default(),
        program: "welcome".into(),
        step: 2,
        template: "welcome-nudge".into(),
        kind: relance::mail::MailKind::Marketing,
        message_key: key,
        checkout: None,
        order: None,
        discount_code: None,
        campaign: None,
        products: Vec::new(),
        requested_at: now,
    };
    let mailer = stack.ses_mailer().unwrap();
    let mailing = Mailing {
        store: &store,
        publisher: &publisher,
        mailer: &mailer,
        scheduler: &scheduler,
        shops: &shops,
        public_url: "https://hooks.demo.example/",
        attempt: "gdpr-test",
    };
    let night = (now + Duration::days(1)).date_naive().and_hms_opt(22, 30, 0).unwrap().and_utc();
    assert!(matches!(send_requested(&mailing, &request, night).await.unwrap(), Sent::Deferred { .. }));
    let records = export_customer(&store, &signup, None).await.unwrap().profiles[0].records.clone();
    let names: Vec<ScheduleName> = records
        .iter()
        .filter_map(|r| match r {
            Record::Schedule(s) => Some(s.name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names.len(), 2, "the program step and the deferred mail are filed under her: {records:?}");
    for name in &names {
        let found = stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await;
        assert!(found.is_ok(), "{name} is pending");
    }

    let (request, redact) = (
        Canonical::shopify(&shop, 2, "gdpr.customer_redacted", json!({}), &night.to_rfc3339())
            .received_at(&night.to_rfc3339())
            .identity(json!({ "email": email }))
            .build(),
        CustomerRedact { orders_to_redact: Vec::new() },
    );
    let canceller = EventBridgeScheduler::cancel_only(stack.scheduler(), &group);
    let erased = erase_customer(&store, &canceller, &store, &request, &redact).await.unwrap();
    assert_eq!(erased.schedules, 2, "{erased:?}");
    for name in &names {
        let found = stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await;
        assert!(found.is_err(), "{name} is still pending");
    }
}

#[tokio::test]
async fn the_delivery_ledger_keeps_no_visitor_id_for_an_erasure_to_miss() {
    let stack = LocalStack::connect().await.unwrap();
    let ledger = DynamoLedger::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let shop = ShopId::parse(unique("shop")).unwrap();
    let visitor = unique("visitor");
    // A browser beacon's event id, as webhook-ingest's track route derives it.
    let event = EventId::parse(format!("browser:{shop}:{visitor}:view-1")).unwrap();
    let now = Utc::now();
    ledger.claim(&shop, &event, now).await.unwrap();
    ledger.confirm(&shop, &event, now).await.unwrap();
    let items = all_items(&stack).await;
    let deliveries: Vec<&String> = items.iter().filter(|i| i.contains(&format!("SHOP#{shop}#DELIVERY#"))).collect();
    assert_eq!(deliveries.len(), 1);
    assert!(!deliveries[0].contains(&visitor), "the ledger names the visitor: {}", deliveries[0]);
    assert_eq!(
        ledger.claim(&shop, &event, now).await.unwrap(),
        relance::ports::Claim::Duplicate,
        "still de-duplicates"
    );
}

#[tokio::test]
async fn a_shop_erasure_resumes_page_after_page_until_no_item_of_the_shop_is_left() {
    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let publisher = stack.publisher().unwrap();
    let shop = unique("shop");
    for n in 0..12 {
        let e = order_event(&shop, n, &format!("c{n}@example.fr"), &format!("o{n}"));
        apply_event(&store, &publisher, &e).await.unwrap();
    }
    let shop_id = ShopId::parse(&shop).unwrap();
    // Small pages: the table holds every other test's items too, so a page of 25 keys
    // holds few of this shop's and the erasure must hand on many times.
    let paging = Paging { page_size: 25, pages_per_invocation: 2 };
    let started = std::time::Instant::now();
    let mut invocations = 0u32;
    let finished = loop {
        invocations += 1;
        match erase_shop(&store, &publisher, &shop_id, paging, Utc::now()).await.unwrap() {
            ShopErasure::Continues { .. } => {}
            other => break other,
        }
    };
    eprintln!("shop erasure: {invocations} invocations of {paging:?} in {:?}", started.elapsed());
    let ShopErasure::Finished { erased, .. } = finished else { panic!("{finished:?}") };
    assert!(invocations > 1, "it resumed from its cursor");
    assert!(erased >= 12 * 3, "profiles, identity and order items: {erased}");
    assert!(all_items(&stack).await.iter().all(|i| !i.contains(&format!("SHOP#{shop}#"))), "no item of the shop");
    // Each hand-on reached profile-update's rule, naming only the shop.
    let rule = stack.targets.rule_for("profile-update", "ShopErasure").expect("the shop erasure rule");
    let handed =
        receive_matching(&stack.sqs(), &rule.queue_url, |e| e["detail"]["shop"] == shop.as_str(), 1, 50).await.unwrap();
    assert_eq!(handed[0]["detail-type"], SHOP_ERASURE_CONTINUES);
    assert_eq!(handed[0]["detail"].as_object().unwrap().len(), 2, "shop and pages only: {}", handed[0]["detail"]);
    // A duplicated continuation finds it finished.
    assert!(matches!(
        erase_shop(&store, &publisher, &shop_id, paging, Utc::now()).await.unwrap(),
        ShopErasure::Finished { .. }
    ));
}

#[tokio::test]
async fn a_data_request_lands_in_the_exports_bucket_and_the_bus_names_only_its_key() {
    let stack = LocalStack::connect().await.unwrap();
    let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap());
    let publisher = stack.publisher().unwrap();
    let bucket = stack.var("RELANCE_EXPORTS_BUCKET").unwrap().to_owned();
    let s3 = S3ExportSink::client(&stack.sdk);
    let sink = S3ExportSink::new(s3.clone(), &bucket);
    let shop = unique("shop");
    let email = format!("{}@example.fr", unique("dora"));
    apply_event(&store, &publisher, &order_event(&shop, 1, &email, "d-1")).await.unwrap();
    let id = unique("req");
    let event = event(&shop, 2, "gdpr.data_requested", json!({ "email": email }), json!({ "request_id": id }));
    let request = DataRequest { request_id: Some(ExternalId::parse(&id).unwrap()), orders_requested: Vec::new() };
    let ready = deliver_export(&store, &sink, &publisher, &event, &request).await.unwrap();
    assert_eq!((ready.bucket.as_str(), ready.key.clone()), (bucket.as_str(), format!("exports/{shop}/{id}.json")));
    assert!(!serde_json::to_string(&ready).unwrap().contains(&email), "no personal data on the bus");
    let object = s3.get_object().bucket(&bucket).key(&ready.key).send().await.unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    let export: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(export["profiles"][0]["contact"]["email"]["value"], email.as_str());
    assert_eq!(export["profiles"][0]["records"][0]["order_id"], "d-1");
}
