use super::*;
use chrono::{DateTime, Utc};
use relance::directory::Directory;
use relance::events::Event;
use relance::ids::{ExternalId, ProfileId};
use relance::ports::MemoryAffinityStore;
use relance::ports::{ManualClock, MemoryProfileStore, MemoryScheduler, RecordingPublisher};
use relance::programs::Exit;
use relance::programs::catalogue;
use relance::programs::checkout::PROGRAM;
use relance::programs::checkout::StopReason;
use relance::programs::engine::Stopped;
use relance::programs::request::MailRequest;
use relance::schedule::OneTimeSchedule;
use relance::shops::Shops;
use relance::use_cases::update_profile::apply_event;
use serde_json::{Value, json};

/// The sample checkout (Shopify `checkouts/create`, Bob, checkout token in the sample).
fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

struct World {
    store: Arc<MemoryProfileStore>,
    publisher: Arc<RecordingPublisher>,
    scheduler: Arc<MemoryScheduler>,
    clock: Arc<ManualClock>,
    deps: Deps,
}

fn world(shops: &str) -> World {
    let store = Arc::new(MemoryProfileStore::default());
    let publisher = Arc::new(RecordingPublisher::default());
    let scheduler = Arc::new(MemoryScheduler::default());
    let checkout = sample("cart-abandon-timer/checkout-started");
    let started: DateTime<Utc> = serde_json::from_value(checkout["detail"]["occurred_at"].clone()).unwrap();
    let clock = Arc::new(ManualClock::at(started));
    let deps = Deps {
        store: store.clone(),
        affinities: Arc::new(MemoryAffinityStore::default()),
        publisher: publisher.clone(),
        scheduler: scheduler.clone(),
        shops: Arc::new(Directory::fixed(Shops::parse(shops).unwrap())),
        clock: clock.clone(),
    };
    World { store, publisher, scheduler, clock, deps }
}

const SHOPS: &str = r#"{"shops": [{"id": "demo.myshopify.com"}]}"#;

impl World {
    /// What profile-update does with the same bus event.
    async fn profile_update(&self, envelope: &Value) {
        let event: Event = serde_json::from_value(envelope["detail"].clone()).unwrap();
        apply_event(self.store.as_ref(), self.publisher.as_ref(), &event).await.unwrap();
    }

    async fn subscribe(&self, envelope: &Value) {
        let mut consent = envelope.clone();
        consent["detail"]["id"] = json!("shopify:demo.myshopify.com:consent");
        consent["detail"]["payload"] = json!({ "type": "consent.changed", "state": "subscribed", "changed_at": "2012-10-12T11:00:00Z", "source": "shopify" });
        self.profile_update(&consent).await;
    }

    /// Fires the pending schedule as Scheduler would: its payload, at its time, deleting it
    /// (`ActionAfterCompletion=DELETE`).
    async fn fire(&self) -> Outcome {
        let schedule = self.scheduler.pending().pop().expect("a schedule is pending");
        self.scheduler.delete(&schedule.name).await.unwrap();
        self.clock.advance(schedule.at - self.clock.now());
        handle(schedule.payload, &self.deps).await.unwrap()
    }

    /// A sample bus event happening now (orders are news, not history).
    fn fresh(&self, name: &str) -> Value {
        let mut event = sample(name);
        event["detail"]["occurred_at"] = json!(self.clock.now());
        event
    }

    /// Pending schedules of checkout series.
    fn checkout_schedules(&self) -> Vec<OneTimeSchedule> {
        self.scheduler.pending().into_iter().filter(|s| s.name.as_str().starts_with("checkout-")).collect()
    }

    fn requests(&self) -> Vec<MailRequest> {
        self.publisher
            .events()
            .into_iter()
            .filter(|e| e.detail_type == "mail.requested")
            .map(|e| serde_json::from_value(e.detail).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn a_subscribed_customer_gets_the_three_step_series_then_it_ends() {
    let w = world(SHOPS);
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.subscribe(&checkout).await;
    w.profile_update(&checkout).await;
    let Outcome::Armed { at } = handle(checkout.clone(), &w.deps).await.unwrap() else { panic!("armed") };
    assert_eq!(at - w.clock.now(), chrono::Duration::hours(1));
    assert_eq!(w.scheduler.pending().len(), 1, "one schedule per checkout");

    assert!(matches!(w.fire().await, Outcome::Requested { step: 1, next: Some((2, _)) }));
    assert!(matches!(w.fire().await, Outcome::Requested { step: 2, next: Some((3, _)) }));
    assert!(matches!(w.fire().await, Outcome::Requested { step: 3, next: None }));
    let requests = w.requests();
    assert_eq!(requests.iter().map(|r| r.step).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(requests.iter().all(|r| r.template == "abandoned-checkout" && r.program == PROGRAM));
    assert_eq!(requests[0].checkout.as_ref().map(ExternalId::as_str), checkout["detail"]["payload"]["token"].as_str());
    let keys: std::collections::BTreeSet<&str> = requests.iter().map(|r| r.message_key.as_str()).collect();
    assert_eq!(keys.len(), 3, "one key per step");
}

#[tokio::test]
async fn an_order_disarms_the_series_and_a_late_firing_stops() {
    let w = world(SHOPS);
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.subscribe(&checkout).await;
    w.profile_update(&checkout).await;
    handle(checkout.clone(), &w.deps).await.unwrap();
    assert!(matches!(w.fire().await, Outcome::Requested { step: 1, .. }));
    let pending = w.scheduler.pending().pop().unwrap();
    // Its time comes while the order is on its way.
    w.clock.advance(pending.at - w.clock.now());

    // The order names the checkout: the pending step is cancelled…
    let mut order = w.fresh("profile-update/order.placed");
    order["detail"]["payload"]["checkout_token"] = checkout["detail"]["payload"]["token"].clone();
    order["detail"]["identity"] = checkout["detail"]["identity"].clone();
    w.profile_update(&order).await;
    let outcome = handle(order, &w.deps).await.unwrap();
    assert_eq!(outcome, Outcome::OrderMail { program: "order-confirmation", disarmed: Some(true) });
    assert!(w.checkout_schedules().is_empty(), "the order's own programs (affinity) aside");
    // …and a firing that was already under way when it landed stops on the re-read.
    assert_eq!(handle(pending.payload, &w.deps).await.unwrap(), Outcome::Stopped(StopReason::Ordered));
    let programs: Vec<String> = w.requests().into_iter().map(|r| r.program).collect();
    assert_eq!(programs, ["abandoned-checkout", "order-confirmation"]);
}

#[tokio::test]
async fn without_consent_one_reminder_then_nothing_and_unreachable_checkouts_arm_nothing() {
    let w = world(SHOPS);
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.profile_update(&checkout).await;
    handle(checkout.clone(), &w.deps).await.unwrap();
    assert!(matches!(w.fire().await, Outcome::Requested { step: 1, next: None }));
    assert!(w.scheduler.pending().is_empty());

    let mut anonymous = checkout.clone();
    anonymous["detail"]["identity"] = json!({});
    assert!(matches!(handle(anonymous, &w.deps).await.unwrap(), Outcome::Ignored { .. }));
}

#[tokio::test]
async fn shop_settings_move_the_first_reminder_and_add_the_discount() {
    let shops = r#"{"shops": [{"id": "demo.myshopify.com", "programs": {"abandoned_checkout":
        {"delays_minutes": [30, 120], "discount": {"code": "MERCI10"}, "discount_from_step": 2}}}]}"#;
    let w = world(shops);
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.subscribe(&checkout).await;
    w.profile_update(&checkout).await;
    let Outcome::Armed { at } = handle(checkout, &w.deps).await.unwrap() else { panic!("armed") };
    assert_eq!(at - w.clock.now(), chrono::Duration::minutes(30));
    w.fire().await;
    w.fire().await;
    let codes: Vec<Option<String>> = w.requests().into_iter().map(|r| r.discount_code).collect();
    assert_eq!(codes, [None, Some("MERCI10".to_owned())]);
}

#[tokio::test]
async fn other_sources_fail_loudly_and_garbage_is_malformed() {
    let w = world(SHOPS);
    let mut foreign = sample("cart-abandon-timer/checkout-started");
    foreign["source"] = json!("someone.else");
    assert!(matches!(handle(foreign, &w.deps).await, Err(HandleError::Unsupported { .. })));
    assert!(matches!(handle(json!({"x": 1}), &w.deps).await, Err(HandleError::Malformed(_))));
}

#[tokio::test]
async fn a_deferred_mail_request_is_put_back_on_the_bus_unchanged_but_for_its_time() {
    let w = world(SHOPS);
    let request = MailRequest {
        shop: relance::ids::ShopId::parse("demo.myshopify.com").unwrap(),
        profile: Some(ProfileId::parse("e1").unwrap()),
        identity: Default::default(),
        program: PROGRAM.into(),
        step: 2,
        template: "abandoned-checkout".into(),
        kind: relance::mail::MailKind::Marketing,
        message_key: "k2".into(),
        checkout: None,
        order: None,
        discount_code: None,
        campaign: None,
        products: Vec::new(),
        requested_at: w.clock.now() - chrono::Duration::hours(9),
    };
    let payload =
        serde_json::to_value(relance::programs::request::DeferredMail { deferred: request.clone(), until: None })
            .unwrap();
    assert_eq!(handle(payload, &w.deps).await.unwrap(), Outcome::Redelivered);
    let again = w.requests().pop().unwrap();
    assert_eq!(again, MailRequest { requested_at: w.clock.now(), ..request });
}

#[tokio::test]
async fn orders_request_their_transactional_mails_once_per_order_and_kind() {
    let w = world(SHOPS);
    let placed = w.fresh("profile-update/order.placed");
    let paid = w.fresh("profile-update/order.paid");
    let fulfilled = w.fresh("profile-update/order.fulfilled");
    for event in [&placed, &placed, &paid, &fulfilled] {
        assert!(matches!(handle(event.clone(), &w.deps).await.unwrap(), Outcome::OrderMail { .. }));
    }
    let requests = w.requests();
    let programs: Vec<&str> = requests.iter().map(|r| r.program.as_str()).collect();
    assert_eq!(programs, ["order-confirmation", "order-confirmation", "order-preparing", "order-shipped"]);
    assert_eq!(requests[0].message_key, requests[1].message_key, "a redelivered order asks for the same mail");
    assert!(requests.iter().all(|r| r.kind == relance::mail::MailKind::Transactional && r.order.is_some()));
    // The buyer is named by the order events' keys; a fulfilment names only its order, which
    // send-mail resolves through the order's identity key.
    assert!(requests.iter().all(|r| r.profile.is_none()));
    assert!(requests[..3].iter().all(|r| !r.identity.is_empty()));
}

#[tokio::test]
async fn an_order_naming_only_the_cart_cancels_that_carts_checkout_series() {
    let w = world(SHOPS);
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.subscribe(&checkout).await;
    w.profile_update(&checkout).await;
    handle(checkout.clone(), &w.deps).await.unwrap();
    assert_eq!(w.scheduler.pending().len(), 1);
    let mut order = w.fresh("profile-update/order.placed");
    order["detail"]["identity"] = checkout["detail"]["identity"].clone();
    order["detail"]["payload"]["checkout_token"] = Value::Null;
    order["detail"]["payload"]["cart_token"] = checkout["detail"]["payload"]["cart_token"].clone();
    let outcome = handle(order, &w.deps).await.unwrap();
    assert_eq!(outcome, Outcome::OrderMail { program: "order-confirmation", disarmed: Some(true) });
    assert!(w.checkout_schedules().is_empty(), "the order's own programs (affinity) aside");
}

#[tokio::test]
async fn a_customer_entering_at_risk_gets_the_reactivation_then_the_last_chance_unless_they_order() {
    let w = world(
        r#"{"shops": [{"id": "demo.myshopify.com", "programs": {"reactivation": {"discount_code": "REVIENS"}}}]}"#,
    );
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.profile_update(&checkout).await;
    let profile = w.store.profiles(&relance::ids::ShopId::parse("demo.myshopify.com").unwrap())[0].id.clone();
    let change = json!({ "version": "0", "id": "x", "detail-type": "segment.changed", "source": "relance.segments",
        "account": "1", "time": w.clock.now(), "region": "us-east-1", "resources": [],
        "detail": { "shop": "demo.myshopify.com", "profile": profile, "from": "loyal", "to": "at_risk",
                    "from_tier": "active", "tier": "semi_active" } });
    assert!(matches!(
        handle(change.clone(), &w.deps).await.unwrap(),
        Outcome::Requested { step: 1, next: Some((2, _)) }
    ));
    assert!(matches!(w.fire().await, Outcome::Requested { step: 2, next: None }));
    let requests: Vec<(u32, Option<String>)> = w.requests().into_iter().map(|r| (r.step, r.discount_code)).collect();
    assert_eq!(requests, [(1, None), (2, Some("REVIENS".to_owned()))]);

    // Another episode: the customer orders before the last chance.
    handle(change, &w.deps).await.unwrap();
    let mut order = sample("profile-update/order.placed");
    order["detail"]["identity"] = checkout["detail"]["identity"].clone();
    order["detail"]["occurred_at"] = json!(w.clock.now() + chrono::Duration::days(1));
    w.profile_update(&order).await;
    assert_eq!(w.fire().await, Outcome::Ended(Stopped::Exit(Exit::Ordered)));
}

#[tokio::test]
async fn history_fills_profiles_but_arms_no_reminder_and_asks_for_no_order_mail() {
    let w = world(SHOPS);
    // Three days later, the same checkout and orders arrive (an import, a replay).
    w.clock.advance(chrono::Duration::days(3));
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.profile_update(&checkout).await;
    w.subscribe(&checkout).await;
    assert!(matches!(handle(checkout, &w.deps).await.unwrap(), Outcome::Ignored { .. }));
    assert!(w.scheduler.pending().is_empty());
    for name in ["order.placed", "order.paid", "order.fulfilled"] {
        let mut event = sample(&format!("profile-update/{name}"));
        event["detail"]["occurred_at"] = json!(w.clock.now() - chrono::Duration::hours(49));
        assert!(matches!(handle(event, &w.deps).await.unwrap(), Outcome::Ignored { .. }), "{name}");
    }
    assert!(w.requests().is_empty());
    // Still within Shopify's 48 hours of retries: news.
    let mut late = sample("profile-update/order.placed");
    late["detail"]["occurred_at"] = json!(w.clock.now() - chrono::Duration::hours(47));
    assert!(matches!(handle(late, &w.deps).await.unwrap(), Outcome::OrderMail { .. }));
}

#[tokio::test]
async fn an_import_marked_as_history_fills_profiles_but_arms_and_asks_for_nothing_however_recent() {
    let w = world(SHOPS);
    let history = |mut event: Value| {
        event["detail"]["context"]["history"] = json!(true);
        event
    };
    let checkout = history(w.fresh("cart-abandon-timer/checkout-started"));
    w.profile_update(&checkout).await;
    w.subscribe(&checkout).await;
    assert!(matches!(handle(checkout, &w.deps).await.unwrap(), Outcome::Ignored { .. }));
    for name in ["order.placed", "order.paid", "order.fulfilled", "customer.signed_up"] {
        let event = history(w.fresh(&format!("profile-update/{name}")));
        assert!(matches!(handle(event, &w.deps).await.unwrap(), Outcome::Ignored { .. }), "{name}");
    }
    assert!(w.scheduler.pending().is_empty(), "{:?}", w.scheduler.pending());
    assert!(w.requests().is_empty());
    // The same order as news asks for its mail.
    let order = w.fresh("profile-update/order.placed");
    assert!(matches!(handle(order, &w.deps).await.unwrap(), Outcome::OrderMail { .. }));
}

#[tokio::test]
async fn every_sample_of_events_is_an_input_this_function_takes() {
    let w = world(SHOPS);
    let dir = format!("{}/../../events/cart-abandon-timer", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".json").to_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        let outcome = handle(sample(&format!("cart-abandon-timer/{name}")), &w.deps).await;
        assert!(outcome.is_ok(), "{name}: {outcome:?}");
    }
}

/// A canonical event on the bus, about the customer of the checkout sample.
fn bus(w: &World, id: &str, payload: Value) -> Value {
    let checkout = sample("cart-abandon-timer/checkout-started");
    json!({ "version": "0", "id": id, "detail-type": payload["type"], "source": "relance.ingest", "account": "1",
        "time": w.clock.now(), "region": "us-east-1", "resources": [],
        "detail": { "schema_version": 1, "id": id, "shop": "demo.myshopify.com", "platform": "api",
            "occurred_at": w.clock.now(), "received_at": w.clock.now(),
            "identity": checkout["detail"]["identity"], "payload": payload } })
}

#[tokio::test]
async fn a_delivery_starts_the_delivered_mail_and_a_review_request_a_week_later_paused_by_an_open_ticket() {
    let w = world(
        r#"{"shops": [{"id": "demo.myshopify.com", "time_zone": "Europe/Paris",
            "programs": {"journeys": {"review-request": {"discount_code": "MERCI10"}}}}]}"#,
    );
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.profile_update(&checkout).await;
    w.subscribe(&checkout).await;
    let placed = bus(
        &w,
        "o1",
        json!({ "type": "order.placed", "order_id": "501", "line_items": [],
        "total": { "minor": 4200, "currency": "EUR" } }),
    );
    w.profile_update(&placed).await;
    let delivered = bus(&w, "d1", json!({ "type": "order.delivered", "order_id": "501", "status": "delivered" }));
    w.profile_update(&delivered).await;
    let Outcome::Started { programs } = handle(delivered.clone(), &w.deps).await.unwrap() else { panic!() };
    assert_eq!(programs, ["order-delivered", "review-request"]);
    // Delivered twice: still two runs, each armed once.
    handle(delivered, &w.deps).await.unwrap();
    assert_eq!(w.scheduler.pending().len(), 2);

    // The earliest first: the delivered mail, a minute later.
    let mut pending = w.scheduler.pending();
    pending.sort_by_key(|s| std::cmp::Reverse(s.at));
    let first = pending.pop().unwrap();
    w.scheduler.delete(&first.name).await.unwrap();
    assert!(matches!(handle(first.payload, &w.deps).await.unwrap(), Outcome::Requested { step: 1, next: None }));
    let delivered_mail = w.requests().pop().unwrap();
    assert_eq!(
        (delivered_mail.program.as_str(), delivered_mail.kind),
        ("order-delivered", relance::mail::MailKind::Transactional)
    );

    // A ticket opens before the review request is due: it waits a day, then goes once closed.
    let opened = bus(&w, "t1", json!({ "type": "support.interaction", "ticket_id": "T-9", "kind": "ticket_opened" }));
    w.profile_update(&opened).await;
    assert!(matches!(w.fire().await, Outcome::Waiting { step: 1, paused: true, .. }));
    let closed = bus(&w, "t2", json!({ "type": "support.interaction", "ticket_id": "T-9", "kind": "ticket_closed" }));
    w.profile_update(&closed).await;
    let Outcome::Started { programs } = handle(closed, &w.deps).await.unwrap() else { panic!() };
    assert_eq!(programs, ["satisfaction"]);
    let mut pending = w.scheduler.pending();
    pending.sort_by_key(|s| s.at);
    let review = pending.pop().unwrap();
    w.scheduler.delete(&review.name).await.unwrap();
    w.clock.advance(review.at - w.clock.now());
    assert!(matches!(handle(review.payload, &w.deps).await.unwrap(), Outcome::Requested { step: 1, next: None }));
    let ask = w.requests().pop().unwrap();
    assert_eq!((ask.template.as_str(), ask.discount_code.as_deref()), ("review-request", Some("MERCI10")));
    assert_eq!(ask.order.as_ref().map(|o| o.as_str()), Some("501"));
}

#[test]
fn the_timer_rule_routes_every_event_a_program_starts_on() {
    let template =
        std::fs::read_to_string(format!("{}/../../infra/template.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let timer = &template[template.find("CartAbandonTimerFunction:").unwrap()..];
    let rule = &timer[timer.find("Checkouts:").unwrap()..timer.find("Segments:").unwrap()];
    // A product event is about no customer: rfm-nightly fans it out to the line's past
    // buyers, which reach the timer through its Editions rule.
    assert!(timer.contains("- edition.released\n"));
    let nightly = &template[template.find("RfmNightlyFunction:").unwrap()..];
    assert!(nightly[nightly.find("Editions:").unwrap()..].contains("- product.published\n"));
    for program in catalogue().unwrap() {
        for event in program.trigger.events.iter().filter(|e| *e != "product.published") {
            let canonical = relance::events::Payload::DETAIL_TYPES.contains(&event.as_str());
            assert!(
                !canonical || rule.contains(&format!("- {event}\n")),
                "{}: {event} is not routed to the timer",
                program.id
            );
        }
    }
}

#[tokio::test]
async fn a_bus_outage_is_a_transient_failure_and_a_foreign_payload_a_permanent_one() {
    let w = world(SHOPS);
    w.publisher.set_failing(true);
    let error = handle(w.fresh("profile-update/order.placed"), &w.deps).await.unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "Transient.Run");
    assert!(diagnostic.error_message.contains("not accepted by the bus"), "{}", diagnostic.error_message);
    let diagnostic = lambda_runtime::Diagnostic::from(handle(json!({"x": 1}), &w.deps).await.unwrap_err());
    assert_eq!(diagnostic.error_type, "Permanent.Malformed");
    assert!(diagnostic.error_message.starts_with("input is neither a bus event"), "{}", diagnostic.error_message);
}

#[tokio::test]
async fn views_a_second_apart_start_one_scenario_run_at_the_first_and_mail_a_lists_them_all() {
    let w = world(r#"{"shops": [{"id": "demo.myshopify.com", "time_zone": "Europe/Paris"}]}"#);
    let checkout = sample("cart-abandon-timer/checkout-started");
    w.profile_update(&checkout).await;
    w.subscribe(&checkout).await;
    let first = w.clock.now();
    for (n, title) in ["Chablis 2023", "Meursault 2022", "Chablis 2023 magnum"].iter().enumerate() {
        let view = bus(
            &w,
            &format!("v{n}"),
            json!({ "type": "product.viewed", "product_id": format!("p{n}"), "title": title,
                "url": format!("https://demo.example/p/{n}"), "price": { "minor": 2900, "currency": "EUR" } }),
        );
        w.profile_update(&view).await;
        let Outcome::Started { programs } = handle(view, &w.deps).await.unwrap() else { panic!("{title}") };
        assert_eq!(programs, ["visits-scenario"]);
        // Each view a second after the one before: the run's clock must not move with them.
        w.clock.advance(chrono::Duration::seconds(1));
    }
    let pending = w.scheduler.pending();
    assert_eq!(pending.len(), 1, "one run for the period");
    assert_eq!(pending[0].at, first + chrono::Duration::days(7), "a week after the first view");

    assert!(matches!(w.fire().await, Outcome::Requested { .. }));
    let mail = w.requests().pop().expect("mail A");
    assert_eq!((mail.program.as_str(), mail.template.as_str()), ("visits-scenario", "scenario-a"));
    let viewed: Vec<&str> = mail.products.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(viewed.len(), 3, "{viewed:?}");
}
