use super::*;
use crate::events::Event;
use crate::profile::{Profile, Record};
use crate::programs::program;
use crate::programs::settings::JourneySettings;
use chrono::{NaiveTime, TimeZone};
use serde_json::{Value, json};

mod property;

pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
}

/// A canonical event about the one customer of these tests.
pub(super) fn event(id: &str, at: DateTime<Utc>, payload: Value) -> Event {
    serde_json::from_value(json!({
        "schema_version": 1, "id": id, "shop": "demo", "platform": "api",
        "occurred_at": at, "received_at": at,
        "identity": { "email": "ann@example.fr", "customer_id": "42" },
        "context": { "locale": "fr", "time_zone": "Europe/Paris" },
        "payload": payload,
    }))
    .unwrap()
}

pub(super) fn consent(state: &str, at: DateTime<Utc>) -> Value {
    json!({ "type": "consent.changed", "state": state, "changed_at": at, "source": "api" })
}

pub(super) fn order(kind: &str, id: &str) -> Value {
    json!({ "type": kind, "order_id": id, "line_items": [], "total": { "minor": 4200, "currency": "EUR" } })
}

pub(super) fn delivered(id: &str) -> Value {
    json!({ "type": "order.delivered", "order_id": id, "status": "delivered" })
}

pub(super) fn view(product: &str) -> Value {
    json!({ "type": "product.viewed", "product_id": product, "title": format!("Vin {product}"),
            "url": format!("https://demo.example/p/{product}"), "price": { "minor": 1500, "currency": "EUR" } })
}

pub(super) fn ticket(kind: &str, id: &str) -> Value {
    json!({ "type": "support.interaction", "ticket_id": id, "kind": kind })
}

/// A profile and its records folded from `events`.
pub(super) struct Customer {
    pub profile: Profile,
    pub records: Vec<Record>,
    pub suggestions: Vec<MailedProduct>,
}

impl Customer {
    pub fn new() -> Self {
        let profile =
            Profile::new(crate::ids::ShopId::parse("demo").unwrap(), crate::ids::ProfileId::parse("p1").unwrap(), t0());
        Self { profile, records: Vec::new(), suggestions: Vec::new() }
    }

    pub fn with(events: &[Event]) -> Self {
        let mut customer = Self::new();
        for e in events {
            customer.apply(e);
        }
        customer
    }

    pub fn apply(&mut self, event: &Event) {
        if self.profile.was_applied(&event.id) {
            return;
        }
        self.profile.apply(event);
        self.profile.remember_applied(&event.id, event.received_at);
        for record in Record::from_event(event) {
            match self.records.iter_mut().find(|r| r.key() == record.key()) {
                Some(mine) => mine.join(record),
                None => self.records.push(record),
            }
        }
    }

    pub fn facts<'a>(&'a self, due: &'a ProgramDue, now: DateTime<Utc>) -> Facts<'a> {
        Facts {
            profile: &self.profile,
            records: &self.records,
            started_at: due.started_at,
            order: due.order.as_ref(),
            suggestions: &self.suggestions,
            now,
        }
    }
}

fn settings(code: Option<&str>) -> JourneySettings {
    JourneySettings { discount_code: code.map(str::to_owned), ..JourneySettings::default() }
}

fn paris() -> Tz {
    "Europe/Paris".parse().unwrap()
}

fn run(id: &str, customer: &Customer, due: &ProgramDue, now: DateTime<Utc>) -> Advance {
    let program = program(id).unwrap();
    advance(program, due, Some(&customer.facts(due, now)), &settings(Some("MERCI10")), paris(), now)
}

#[test]
fn a_review_request_goes_seven_days_after_delivery_at_ten_local_once_per_order_and_not_when_refunded() {
    let program = program("review-request").unwrap();
    let subscribed = event("c1", t0() - Duration::days(30), consent("subscribed", t0() - Duration::days(30)));
    let placed = event("o1", t0() - Duration::days(3), order("order.placed", "1001"));
    let arrived = event("d1", t0(), delivered("1001"));
    let (due, at) = start(program, &arrived, paris(), t0()).unwrap();
    // 7 December 2026, 10:00 in Paris is 09:00 UTC.
    assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap());
    assert_eq!((due.subject.as_deref(), due.order.as_ref().map(|o| o.as_str())), (Some("1001"), Some("1001")));
    // The same delivery reported again names the same run.
    let (again, _) =
        start(program, &event("d1-bis", t0() + Duration::hours(2), delivered("1001")), paris(), t0()).unwrap();
    assert_eq!(again.schedule_name(), due.schedule_name());

    let customer = Customer::with(&[subscribed.clone(), placed.clone(), arrived.clone()]);
    let Advance::Mail { request, next: None } = run("review-request", &customer, &due, at) else { panic!() };
    assert_eq!((request.template.as_str(), request.discount_code.as_deref()), ("review-request", Some("MERCI10")));
    assert_eq!(request.order.as_ref().map(|o| o.as_str()), Some("1001"));
    let Advance::Mail { request: repeat, .. } = run("review-request", &customer, &again, at) else { panic!() };
    assert_eq!(repeat.message_key, request.message_key, "once per order");

    let refund = event(
        "r1",
        t0() + Duration::days(2),
        json!({ "type": "order.refunded", "order_id": "1001",
        "refund_id": "9", "amount": { "minor": 4200, "currency": "EUR" } }),
    );
    let refunded = Customer::with(&[subscribed, placed, arrived, refund]);
    assert_eq!(run("review-request", &refunded, &due, at), Advance::Stop(Stopped::Exit(Exit::Refunded)));
}

#[test]
fn welcome_at_signup_with_consent_then_a_nudge_unless_the_customer_ordered() {
    let program = program("welcome").unwrap();
    let signup = |id: &str, state: &str| {
        event(
            id,
            t0(),
            json!({ "type": "customer.signed_up",
            "marketing_consent": { "state": state, "changed_at": t0(), "source": "api" } }),
        )
    };
    assert!(start(program, &signup("s0", "unsubscribed"), paris(), t0()).is_none(), "no consent, no welcome");
    let joined = signup("s1", "subscribed");
    let (due, at) = start(program, &joined, paris(), t0()).unwrap();
    assert_eq!(at, t0());
    let customer = Customer::with(std::slice::from_ref(&joined));
    let Advance::Mail { request, next: Some((nudge, at)) } = run("welcome", &customer, &due, t0()) else { panic!() };
    assert_eq!(request.template, "welcome");
    assert_eq!(at, t0() + Duration::days(7));
    let Advance::Mail { request, next: None } = run("welcome", &customer, &nudge, at) else { panic!() };
    assert_eq!(request.template, "welcome-nudge");

    let ordered = Customer::with(&[joined, event("o1", t0() + Duration::days(2), order("order.placed", "7"))]);
    assert_eq!(run("welcome", &ordered, &nudge, at), Advance::Stop(Stopped::Exit(Exit::Ordered)));
}

#[test]
fn the_scenario_mails_a_with_the_products_viewed_b_after_an_order_and_nothing_after_a_glance() {
    let program = program("visits-scenario").unwrap();
    let views: Vec<Event> =
        (0..3).map(|n| event(&format!("v{n}"), t0() + Duration::hours(n * 20), view(&format!("p{}", n % 2)))).collect();
    let (first, _) = start(program, &views[0], paris(), t0()).unwrap();
    let (later, at) = start(program, &views[2], paris(), t0()).unwrap();
    assert_eq!(first.schedule_name(), later.schedule_name(), "one run per customer and period");
    assert_eq!(at, views[2].occurred_at + Duration::days(7));
    let now = t0() + Duration::days(6);

    let browsed = Customer::with(&views);
    let Advance::Mail { request, next: None } = run("visits-scenario", &browsed, &later, now) else { panic!() };
    assert_eq!(request.template, "scenario-a");
    let titles: Vec<&str> = request.products.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["Vin p0", "Vin p1"], "each product once, latest first");

    let mut bought = views.clone();
    bought.push(event("o1", t0() + Duration::days(2), order("order.placed", "8")));
    let Advance::Mail { request, .. } = run("visits-scenario", &Customer::with(&bought), &later, now) else { panic!() };
    assert_eq!(request.template, "scenario-b");

    let glance = Customer::with(&views[..1]);
    assert_eq!(run("visits-scenario", &glance, &first, now), Advance::Stop(Stopped::End));
}

#[test]
fn an_open_ticket_pauses_marketing_not_service_mail_and_a_closed_ticket_asks_for_satisfaction() {
    let subscribed = event("c1", t0() - Duration::days(1), consent("subscribed", t0() - Duration::days(1)));
    let opened = event("t1", t0(), ticket("ticket_opened", "T-1"));
    let joined = event(
        "s1",
        t0(),
        json!({ "type": "customer.signed_up",
        "marketing_consent": { "state": "subscribed", "changed_at": t0(), "source": "api" } }),
    );
    let (due, _) = start(program("welcome").unwrap(), &joined, paris(), t0()).unwrap();
    let waiting = Customer::with(&[subscribed.clone(), joined.clone(), opened.clone()]);
    let Advance::Arm { due: paused, at, paused: true } = run("welcome", &waiting, &due, t0()) else { panic!() };
    assert_eq!((paused.step, paused.pauses, at), (1, 1, t0() + PAUSE_RECHECK));
    assert_ne!(paused.pause_name(), due.schedule_name(), "never the firing schedule's name");
    let Advance::Arm { due: again, .. } = run("welcome", &waiting, &paused, t0()) else { panic!() };
    assert_ne!(again.pause_name(), paused.pause_name(), "nor the previous pause's");
    let late = t0() + LONGEST_PAUSE + Duration::days(1);
    assert_eq!(run("welcome", &waiting, &due, late), Advance::Stop(Stopped::PausedTooLong));
    // A shop may turn the pause off.
    let program = program("welcome").unwrap();
    let off = JourneySettings { pause_on_open_ticket: false, ..JourneySettings::default() };
    assert!(matches!(
        advance(program, &due, Some(&waiting.facts(&due, t0())), &off, paris(), t0()),
        Advance::Mail { .. }
    ));

    let closing = event("t2", t0() + Duration::hours(3), ticket("ticket_closed", "T-1"));
    let survey = program_start("satisfaction", &closing);
    assert!(start(crate::programs::program("satisfaction").unwrap(), &opened, paris(), t0()).is_none());
    let closed = Customer::with(&[subscribed, opened, closing.clone()]);
    assert!(!closed.profile.has_open_ticket());
    let Advance::Mail { request, .. } = run("satisfaction", &closed, &survey, closing.occurred_at + Duration::hours(1))
    else {
        panic!()
    };
    assert_eq!((request.template.as_str(), request.kind), ("satisfaction", MailKind::Transactional));
    // Marketing goes again once the ticket is closed.
    let reopened = Customer::with(&[joined, closing]);
    assert!(matches!(run("welcome", &reopened, &due, t0()), Advance::Mail { .. }));
}

fn program_start(id: &str, event: &Event) -> ProgramDue {
    start(program(id).unwrap(), event, paris(), event.occurred_at).unwrap().0
}

#[test]
fn history_and_keyless_events_start_nothing() {
    let program = program("order-delivered").unwrap();
    let old = event("d1", t0() - Duration::days(5), delivered("1"));
    assert!(start(program, &old, paris(), t0()).is_none(), "an import is not news");
    let mut imported = event("d3", t0(), delivered("1"));
    imported.context.history = true;
    assert!(start(program, &imported, paris(), t0()).is_none(), "an import marked as history, however recent");
    assert!(start(program, &event("d4", t0(), delivered("1")), paris(), t0()).is_some(), "the same event as news");
    let mut anonymous = event("d2", t0(), delivered("1"));
    anonymous.identity = Identity::default();
    assert!(start(program, &anonymous, paris(), t0()).is_none());
}

#[test]
fn a_local_time_wait_lands_on_that_time_the_same_or_next_day_across_dst() {
    let wait = Wait { at_local: NaiveTime::from_hms_opt(10, 0, 0), ..Wait::NONE };
    let before = Utc.with_ymd_and_hms(2026, 3, 29, 6, 0, 0).unwrap(); // 08:00 CEST, DST started at 02:00
    assert_eq!(due_at(&wait, before, paris()), Utc.with_ymd_and_hms(2026, 3, 29, 8, 0, 0).unwrap());
    let after = Utc.with_ymd_and_hms(2026, 3, 29, 9, 0, 0).unwrap(); // 11:00 CEST: tomorrow
    assert_eq!(due_at(&wait, after, paris()), Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap());
}

#[test]
fn at_most_limits_a_programs_mails_by_the_message_log() {
    let views: Vec<Event> = (0..3).map(|n| event(&format!("v{n}"), t0(), view("p1"))).collect();
    let mut customer = Customer::with(&views);
    let (due, _) = start(program("visits-scenario").unwrap(), &views[0], paris(), t0()).unwrap();
    let now = t0() + Duration::days(1);
    assert!(matches!(run("visits-scenario", &customer, &due, now), Advance::Mail { .. }));
    customer.records.push(Record::Message(crate::profile::records::MessageRecord {
        key: "k".into(),
        program: Some("visits-scenario".into()),
        sent_at: Some(t0() - Duration::days(10)),
        ..Default::default()
    }));
    assert_eq!(run("visits-scenario", &customer, &due, now), Advance::Stop(Stopped::Limit));
}

#[test]
fn affinity_mails_what_others_bought_with_the_order_two_weeks_on_and_nothing_when_there_is_none() {
    let program = program("affinity").unwrap();
    let subscribed = event("c1", t0() - Duration::days(1), consent("subscribed", t0() - Duration::days(1)));
    let placed = event("o1", t0(), order("order.placed", "1001"));
    let (due, at) = start(program, &placed, paris(), t0()).unwrap();
    assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 14, 9, 0, 0).unwrap(), "14 days on, 10:00 in Paris");
    let mut customer = Customer::with(&[subscribed, placed]);
    assert_eq!(run("affinity", &customer, &due, at), Advance::Stop(Stopped::NothingToSuggest));
    customer.suggestions = vec![MailedProduct {
        title: "Verres à vin".into(),
        url: None,
        price: Some(crate::money::Money::from_minor(1900, crate::money::Currency::parse("EUR").unwrap())),
        image_url: None,
    }];
    let Advance::Mail { request, next: None } = run("affinity", &customer, &due, at) else { panic!() };
    assert_eq!(request.template, "affinity");
    assert_eq!(request.products.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["Verres à vin"]);
}

#[test]
fn a_new_edition_reaches_the_customer_it_was_fanned_out_to_with_the_product_at_ten() {
    let program = program("yearly-edition").unwrap();
    let launch = event(
        "launch",
        t0() - Duration::hours(2),
        json!({ "type": "product.published", "product_id": "c24",
        "title": "Chablis 2024", "url": "https://demo.example/p/c24", "price": { "minor": 2900, "currency": "EUR" } }),
    );
    assert!(
        start(
            program,
            &{
                let mut e = launch.clone();
                e.identity = Identity::default();
                e
            },
            paris(),
            t0()
        )
        .is_none()
    );
    let customer =
        Customer::with(&[event("c1", t0() - Duration::days(1), consent("subscribed", t0() - Duration::days(1)))]);
    let released = crate::programs::edition::for_customer(&launch, &customer.profile.id).unwrap();
    let (due, at) = start(program, &released, paris(), t0()).unwrap();
    assert_eq!(at, t0(), "the next 10:00 in Paris");
    let Advance::Mail { request, .. } = run("yearly-edition", &customer, &due, at) else { panic!() };
    assert_eq!(request.products[0].title, "Chablis 2024");
    let other = crate::programs::edition::for_customer(&launch, &crate::ids::ProfileId::parse("p2").unwrap()).unwrap();
    let (other_due, _) = start(program, &other, paris(), t0()).unwrap();
    assert_ne!(other_due.message_key(program, &customer.profile.id, 1), request.message_key);
}

#[test]
fn a_wait_from_the_last_order_moves_with_a_newer_order() {
    let text = r#"
id = "test"
kind = "marketing"
trigger = { event = "order.placed" }
exits = ["unsubscribed"]

[[steps]]
name = "miss-you"
wait = "60d"
from = "last_order"
send = "reactivation"
"#;
    let program = crate::programs::definition::load("test.toml", text).unwrap();
    let first = event("o1", t0(), order("order.placed", "1"));
    let (due, at) = start(&program, &first, paris(), t0()).unwrap();
    assert_eq!(at, t0() + Duration::days(60));
    let subscribed = event("c1", t0() - Duration::days(1), consent("subscribed", t0() - Duration::days(1)));
    let again = event("o2", t0() + Duration::days(20), order("order.placed", "2"));
    let customer = Customer::with(&[subscribed, first, again]);
    let facts = customer.facts(&due, at);
    let advanced = advance(&program, &due, Some(&facts), &settings(None), paris(), at);
    assert_eq!(advanced, Advance::Arm { due: due.clone(), at: t0() + Duration::days(80), paused: false });
    let later = t0() + Duration::days(80);
    let facts = customer.facts(&due, later);
    assert!(matches!(advance(&program, &due, Some(&facts), &settings(None), paris(), later), Advance::Mail { .. }));
    let bad = crate::programs::definition::load("test.toml", &text.replace("last_order", "birthday")).unwrap_err();
    assert_eq!(bad.problem, crate::programs::definition::Problem::UnknownAnchor("birthday".into()));
}
