use super::*;
use crate::events::{DataRequest, Event};
use crate::ids::ShopId;
use crate::mail::MailKind;
use crate::ports::{
    ManualClock, MemoryAffinityStore, MemoryExportSink, MemoryProfileStore, MemoryScheduler, MemoryTombstones,
    RecordingMailer, RecordingPublisher, ShopEraser,
};
use crate::programs::request::MailRequest;
use crate::shops::Shops;
use crate::use_cases::run_programs::{Input, Outcome, Runner, run};
use crate::use_cases::send_mail::{Mailing, Sent, send_requested};
use crate::use_cases::update_profile::{Applied, apply_event};
use chrono::TimeZone;
use serde_json::{Value, json};

const SHOP: &str = "demo.myshopify.com";

fn shop() -> ShopId {
    ShopId::parse(SHOP).unwrap()
}

/// 10:00 UTC, 11:00 in Paris.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn shops() -> Shops {
    Shops::parse(
        &json!({ "shops": [{
            "id": SHOP, "locale": "fr", "time_zone": "Europe/Paris",
            "mail": { "from": "Maison Demo <bonjour@demo.example>", "name": "Maison Demo",
                      "site_url": "https://demo.example", "unsubscribe_secrets": ["unsubscribe-secret"] }
        }]})
        .to_string(),
    )
    .unwrap()
}

fn event_at(n: u32, at: DateTime<Utc>, identity: Value, payload: Value) -> Event {
    serde_json::from_value(json!({
        "schema_version": 1, "id": format!("shopify:{SHOP}:{n}"), "shop": SHOP, "platform": "shopify",
        "occurred_at": at, "received_at": at, "identity": identity, "context": { "locale": "fr" },
        "payload": payload,
    }))
    .unwrap()
}

fn anne() -> Value {
    json!({ "email": "anne@example.fr", "customer_id": "42" })
}

fn signup(n: u32, at: DateTime<Utc>) -> Event {
    event_at(
        n,
        at,
        anne(),
        json!({ "type": "customer.signed_up", "first_name": "Anne",
                "marketing_consent": { "state": "subscribed", "changed_at": at, "source": "shopify" } }),
    )
}

fn redact(n: u32, at: DateTime<Utc>) -> (Event, CustomerRedact) {
    let redact = CustomerRedact { orders_to_redact: Vec::new() };
    (event_at(n, at, anne(), json!({ "type": "gdpr.customer_redacted" })), redact)
}

struct World {
    store: MemoryProfileStore,
    publisher: RecordingPublisher,
    scheduler: MemoryScheduler,
    tombstones: MemoryTombstones,
    affinities: MemoryAffinityStore,
    mailer: RecordingMailer,
    shops: Shops,
    clock: ManualClock,
}

impl World {
    fn new() -> Self {
        World {
            store: MemoryProfileStore::default(),
            publisher: RecordingPublisher::default(),
            scheduler: MemoryScheduler::default(),
            tombstones: MemoryTombstones::default(),
            affinities: MemoryAffinityStore::default(),
            mailer: RecordingMailer::default(),
            shops: shops(),
            clock: ManualClock::at(now()),
        }
    }

    fn runner(&self) -> Runner<'_> {
        Runner {
            store: &self.store,
            affinities: &self.affinities,
            publisher: &self.publisher,
            scheduler: &self.scheduler,
            shops: &self.shops,
            clock: &self.clock,
        }
    }

    fn mailing(&self) -> Mailing<'_> {
        Mailing {
            store: &self.store,
            publisher: &self.publisher,
            mailer: &self.mailer,
            scheduler: &self.scheduler,
            shops: &self.shops,
            public_url: "https://hooks.demo.example/",
            attempt: "gdpr-test",
        }
    }

    async fn apply(&self, event: &Event) -> Applied {
        apply_event(&self.store, &self.publisher, event).await.unwrap()
    }

    fn pending(&self) -> Vec<String> {
        self.scheduler.pending().into_iter().map(|s| s.name.to_string()).collect()
    }

    async fn erase(&self, at: DateTime<Utc>) -> Erased {
        let (event, request) = redact(90, at);
        erase_customer(&self.store, &self.scheduler, &self.tombstones, &event, &request).await.unwrap()
    }
}

fn marketing_mail(profile: &ProfileId) -> MailRequest {
    MailRequest {
        shop: shop(),
        profile: Some(profile.clone()),
        identity: Default::default(),
        program: "welcome".into(),
        step: 2,
        template: "welcome-nudge".into(),
        kind: MailKind::Marketing,
        message_key: MailRequest::key_for("welcome", &shop(), "test", 2),
        checkout: None,
        order: None,
        discount_code: None,
        campaign: None,
        products: Vec::new(),
        requested_at: now(),
    }
}

#[tokio::test]
async fn erasure_deletes_the_program_pause_and_deferred_mail_schedules_that_carry_the_person() {
    let w = World::new();
    let signed_up = signup(1, now());
    w.apply(&signed_up).await;
    // The welcome program starts on the signup: its first step is a pending schedule.
    let started = run(&w.runner(), Input::Event(Box::new(signed_up))).await.unwrap();
    assert_eq!(started, Outcome::Started { programs: vec!["welcome".into()] });
    let step = w.scheduler.pending().pop().unwrap();
    assert!(step.name.as_str().starts_with("program-"), "{}", step.name);
    // A ticket opens; the step comes due and is put off: a pause's re-check is pending.
    let ticket = event_at(
        2,
        now(),
        anne(),
        json!({ "type": "support.interaction", "kind": "ticket_opened", "ticket_id": "T-1", "channel": "email" }),
    );
    w.apply(&ticket).await;
    w.scheduler.delete(&step.name).await.unwrap();
    w.clock.advance(step.at - now());
    let due = serde_json::from_value(step.payload).unwrap();
    let paused = run(&w.runner(), Input::Step(due)).await.unwrap();
    assert!(matches!(paused, Outcome::Waiting { paused: true, .. }), "{paused:?}");
    // send-mail defers a marketing mail to the morning (quiet hours).
    let profile = w.store.profiles(&shop()).pop().unwrap().id;
    let night = Utc.with_ymd_and_hms(2026, 11, 23, 22, 30, 0).unwrap();
    let sent = send_requested(&w.mailing(), &marketing_mail(&profile), night).await.unwrap();
    assert!(matches!(sent, Sent::Deferred { .. }), "{sent:?}");
    let pending = w.pending();
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert!(pending.iter().any(|n| n.starts_with("pause-")) && pending.iter().any(|n| n.starts_with("mail-")));

    let erased = w.erase(night).await;
    assert_eq!(erased.schedules, 2);
    assert!(w.pending().is_empty(), "left: {:?}", w.pending());
    assert!(w.store.shop_records(&shop()).is_empty(), "the schedule records went with the rest");
}

#[tokio::test]
async fn a_program_armed_before_profile_update_files_the_person_is_found_by_their_erasure() {
    let w = World::new();
    let signed_up = signup(1, now());
    // The timer gets the signup first; profile-update files it after.
    run(&w.runner(), Input::Event(Box::new(signed_up.clone()))).await.unwrap();
    w.apply(&signed_up).await;
    assert_eq!(w.pending().len(), 1);
    let erased = w.erase(now() + Duration::minutes(5)).await;
    assert_eq!((erased.profiles.len(), erased.schedules), (1, 1));
    assert!(w.pending().is_empty());
}

#[tokio::test]
async fn a_late_event_of_an_erased_person_is_dropped_and_a_later_one_applies() {
    let w = World::new();
    let order = |n: u32, at: DateTime<Utc>, id: &str| {
        event_at(
            n,
            at,
            anne(),
            json!({ "type": "order.placed", "order_id": id, "line_items": [],
                    "total": { "minor": 990, "currency": "EUR" } }),
        )
    };
    w.apply(&signup(1, now() - Duration::days(3))).await;
    let erased_at = now();
    let erased = w.erase(erased_at).await;
    assert!(erased.tombstones >= 2, "{erased:?}");
    // An order of the day before, delivered after the erasure: dropped.
    let late = order(2, erased_at - Duration::days(1), "o-late");
    assert!(erased_before(&w.tombstones, &late, now()).await.unwrap().is_some());
    // The same erasure delivered twice, or an older one after it, keeps the tombstone's time.
    let (older, request) = redact(91, erased_at - Duration::days(10));
    erase_customer(&w.store, &w.scheduler, &w.tombstones, &older, &request).await.unwrap();
    assert_eq!(erased_before(&w.tombstones, &late, now()).await.unwrap(), Some(erased_at));
    // She comes back and orders again: applied, a new profile.
    let back = order(3, erased_at + Duration::days(2), "o-back");
    assert_eq!(erased_before(&w.tombstones, &back, now()).await.unwrap(), None);
    assert!(matches!(w.apply(&back).await, Applied::Changed { .. }));
    // Tombstones hold no key's text, and are forgotten after their time.
    assert!(w.tombstones.keys(&shop()).iter().all(|k| !k.as_str().contains("anne") && !k.as_str().contains("42")));
    let much_later = erased_at + TOMBSTONE_KEEP + Duration::days(1);
    assert_eq!(erased_before(&w.tombstones, &late, much_later).await.unwrap(), None);
}

#[tokio::test]
async fn a_shop_erasure_in_small_pages_resumes_from_its_cursor_and_finishes() {
    let w = World::new();
    for n in 0..7u32 {
        let identity = json!({ "email": format!("c{n}@example.fr") });
        let order = json!({ "type": "order.placed", "order_id": format!("o{n}"), "line_items": [],
                            "total": { "minor": 990, "currency": "EUR" } });
        w.apply(&event_at(n, now(), identity, order)).await;
    }
    let other = ShopId::parse("other.myshopify.com").unwrap();
    let paging = Paging { page_size: 4, pages_per_invocation: 2 };
    // A page done and then lost (the invocation timed out before moving the cursor): redone.
    w.store.erase_page(&shop(), None, 4).await.unwrap();
    let mut invocations = 0;
    let finished = loop {
        invocations += 1;
        match erase_shop(&w.store, &w.publisher, &shop(), paging, now()).await.unwrap() {
            ShopErasure::Continues { .. } => {
                let next = w.publisher.events().pop().unwrap();
                assert_eq!(next.detail_type, SHOP_ERASURE_CONTINUES);
                assert_eq!(next.detail, json!({ "shop": SHOP, "pages": invocations * 2 }), "only the shop on the bus");
            }
            finished => break finished,
        }
        assert!(invocations < 20, "never finishes");
    };
    assert!(invocations > 1, "resumed across invocations");
    let ShopErasure::Finished { pages, .. } = finished else { panic!("{finished:?}") };
    assert!(pages > 2);
    assert!(w.store.profiles(&shop()).is_empty() && w.store.identity_keys(&shop()).is_empty());
    assert!(w.store.shop_records(&shop()).is_empty());
    // A duplicated continuation or a redelivered request finds it finished.
    let again = erase_shop(&w.store, &w.publisher, &shop(), paging, now()).await.unwrap();
    assert!(matches!(again, ShopErasure::Finished { pages: p, .. } if p == pages), "{again:?}");
    assert!(w.store.profiles(&other).is_empty());
}

#[tokio::test]
async fn a_data_request_writes_the_export_to_the_bucket_and_the_bus_names_only_its_key() {
    let w = World::new();
    w.apply(&signup(1, now())).await;
    let sink = MemoryExportSink::default();
    let event = event_at(5, now(), anne(), json!({ "type": "gdpr.data_requested", "request_id": "9999" }));
    let request =
        DataRequest { request_id: Some(crate::ids::ExternalId::parse("9999").unwrap()), orders_requested: Vec::new() };
    let ready = deliver_export(&w.store, &sink, &w.publisher, &event, &request).await.unwrap();
    assert_eq!(ready.key, "exports/demo.myshopify.com/9999.json");
    let export: Value = serde_json::from_slice(&sink.object(&ready.key).unwrap()).unwrap();
    assert_eq!(export["profiles"][0]["contact"]["email"]["value"], "anne@example.fr");
    let announced = w.publisher.events().into_iter().find(|e| e.detail_type == "gdpr.export_ready").unwrap();
    assert_eq!(announced.detail["key"], ready.key.as_str());
    assert!(!announced.detail.to_string().contains("anne"), "no personal data on the bus: {}", announced.detail);
}
