//! The programs the engine runs, end to end on the local stack: signed generic-API events
//! over HTTP to webhook-ingest, every function under `cargo lambda watch`, the dispatcher
//! delivering rules and firing schedules at the time it is given (the controllable clock),
//! mail landing in the SES v2 emulator — and every exit: ordered → no nudge, refunded → no
//! review request, unsubscribed → no marketing, open ticket → marketing paused.
//!
//! As in `recovery_e2e`, quiet hours and the frequency cap are off for this shop (the gate's
//! unit tests and the engine's property test cover them).

use chrono::{Duration, SubsecRound, TimeZone, Utc};
use relance_tests::invoke::Invoker;
use relance_tests::live::LiveShop;
use relance_tests::mailbox::StoredMail;
use relance_tests::unique;
use serde_json::{Value, json};

struct Shop(LiveShop);

impl std::ops::Deref for Shop {
    type Target = LiveShop;
    fn deref(&self) -> &LiveShop {
        &self.0
    }
}

struct Customer {
    email: String,
    id: String,
    locale: &'static str,
}

impl Customer {
    fn new(locale: &'static str) -> Self {
        let run = unique("p");
        Self { email: format!("{run}@example.fr"), id: run.replace('-', ""), locale }
    }
}

impl Shop {
    async fn start() -> Self {
        Self(
            LiveShop::start(json!({
                "sending": { "frequency_cap_hours": 0, "quiet_from": 0, "quiet_until": 0 },
                "journeys": { "review-request": { "discount_code": "MERCI10" } },
            }))
            .await,
        )
    }

    /// Posts one signed generic-API event about `c`, happening now.
    async fn event(&self, c: &Customer, kind: &str, data: Value) {
        let event = json!({ "id": unique("e"), "type": kind, "occurred_at": Utc::now().trunc_subsecs(0),
            "identity": { "email": c.email, "customer_id": c.id },
            "context": { "locale": c.locale, "time_zone": "Europe/Paris" }, "data": data });
        self.post(event).await;
    }

    /// Posts one signed generic-API event.
    async fn post(&self, event: Value) {
        let kind = event["type"].as_str().unwrap_or_default().to_owned();
        let body = json!({ "events": [event] }).to_string();
        let secret = relance::signature::Secret::new("local-api-secret".to_owned()).unwrap();
        let response = self
            .http
            .post(self.watch.function_url("webhook-ingest", "/v1/events"))
            .header("content-type", "application/json")
            .header("x-relance-shop", "demo.myshopify.com")
            .header("x-relance-signature", relance::signature::sign_timestamped(&secret, body.as_bytes(), Utc::now()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{kind}: {}", response.text().await.unwrap());
    }

    async fn signup(&self, c: &Customer) {
        let consent = json!({ "state": "subscribed", "changed_at": Utc::now().trunc_subsecs(0), "source": "api" });
        self.event(c, "customer.signed_up", json!({ "first_name": null, "marketing_consent": consent })).await;
    }

    async fn order(&self, c: &Customer, order: &str) {
        self.event(c, "order.placed", json!({ "order_id": order, "name": format!("#{order}"),
            "line_items": [{ "title": "Coffret Millésime", "quantity": 1, "unit_price": { "minor": 4500, "currency": "EUR" } }],
            "total": { "minor": 4500, "currency": "EUR" } }))
            .await;
    }

    /// An order of these catalogue products (id, title).
    async fn order_of(&self, c: &Customer, order: &str, products: &[(&str, &str)]) {
        let lines: Vec<Value> = products
            .iter()
            .map(|(id, title)| {
                json!({ "product_id": id, "title": title, "quantity": 1,
                "unit_price": { "minor": 2400, "currency": "EUR" }, "categories": ["vins"] })
            })
            .collect();
        self.event(
            c,
            "order.placed",
            json!({ "order_id": order, "line_items": lines,
            "total": { "minor": 2400 * products.len() as i64, "currency": "EUR" } }),
        )
        .await;
    }

    async fn views(&self, c: &Customer, products: &[&str]) {
        for (n, product) in products.iter().enumerate() {
            self.event(
                c,
                "product.viewed",
                json!({ "product_id": format!("p{n}"), "title": product,
                "url": format!("http://localhost:8080/products/p{n}"), "price": { "minor": 2900, "currency": "EUR" } }),
            )
            .await;
        }
    }

    async fn mails_to(&self, c: &Customer) -> Vec<StoredMail> {
        self.0.mails_to(&c.email).await
    }

    async fn subjects(&self, c: &Customer) -> Vec<String> {
        self.mails_to(c).await.into_iter().map(|m| m.subject).collect()
    }
}

fn html(mail: &StoredMail) -> &str {
    mail.body.html.as_deref().unwrap_or_default()
}

#[tokio::test]
async fn every_engine_program_mails_on_its_trigger_at_its_time_and_stops_on_every_exit() {
    let shop = Shop::start().await;
    let (alice, bruno, gilles) = (Customer::new("en"), Customer::new("fr"), Customer::new("en"));
    let (chloe, damien) = (Customer::new("fr"), Customer::new("fr"));
    // Order ids unique to this run: an order id is an identity key of its buyer.
    let ids: Vec<String> = (0..4).map(|_| unique("o").replace('-', "")).collect();
    let [o_chloe, o_damien, o_bruno, o_hugo] = [&ids[0], &ids[1], &ids[2], &ids[3]];
    let (emma, hugo, fiona) = (Customer::new("en"), Customer::new("fr"), Customer::new("en"));

    // Signups with consent: a welcome each, within minutes.
    for c in [&alice, &bruno, &gilles] {
        shop.signup(c).await;
    }
    // Orders delivered; Damien's is refunded.
    for (c, order) in [(&chloe, o_chloe), (&damien, o_damien)] {
        shop.event(
            c,
            "consent.changed",
            json!({ "state": "subscribed", "changed_at": Utc::now().trunc_subsecs(0), "source": "api" }),
        )
        .await;
        shop.order(c, order).await;
    }
    // Browsing: Emma looks three times, Hugo too and then orders; Fiona looks, and a ticket
    // of hers is open.
    for c in [&emma, &hugo, &fiona] {
        shop.event(
            c,
            "consent.changed",
            json!({ "state": "subscribed", "changed_at": Utc::now().trunc_subsecs(0), "source": "api" }),
        )
        .await;
        shop.views(c, &["Chablis 2023", "Meursault 2022", "Chablis 2023 magnum"]).await;
    }
    // The shop's history for the affinity table: two customers bought this run's Chablis
    // 2023 with its glasses (no consent: they get no marketing).
    let tag = unique("w").replace('-', "");
    let (chablis, glasses, chablis_2024) = (format!("c23{tag}"), format!("g{tag}"), format!("c24{tag}"));
    let (chablis_title, glasses_title) = (format!("Chablis {tag} 2023"), format!("Verres {tag}"));
    let (xavier, yann, iris) = (Customer::new("fr"), Customer::new("fr"), Customer::new("en"));
    for c in [&xavier, &yann] {
        let order = unique("o").replace('-', "");
        shop.order_of(c, &order, &[(&chablis, &chablis_title), (&glasses, &glasses_title)]).await;
    }
    let ticket = unique("t");
    shop.event(&fiona, "support.interaction", json!({ "ticket_id": ticket, "kind": "ticket_opened" })).await;
    shop.run(Duration::minutes(5)).await;

    assert_eq!(shop.subjects(&alice).await, ["Welcome to Maison Demo"], "English, from her locale");
    assert_eq!(shop.subjects(&bruno).await, ["Bienvenue chez Maison Demo"]);
    assert_eq!(shop.mails_to(&gilles).await.len(), 1);
    assert!(shop.mails_to(&emma).await.is_empty(), "the scenario waits a week");

    // The nightly run counts what is bought together; then Iris, subscribed, buys the
    // Chablis alone.
    shop.invoker.invoke("rfm-nightly", &json!({ "run": "nightly", "shop": "demo.myshopify.com" })).await.unwrap();
    shop.event(
        &iris,
        "consent.changed",
        json!({ "state": "subscribed", "changed_at": Utc::now().trunc_subsecs(0), "source": "api" }),
    )
    .await;
    let iris_order = unique("o").replace('-', "");
    shop.order_of(&iris, &iris_order, &[(&chablis, &chablis_title)]).await;
    shop.run(Duration::minutes(10)).await;

    // The order journey: Chloé's order is paid (preparing), then shipped with its carrier and
    // tracking link (shipped); Damien's ships before its payment is reported, so no
    // "preparing" mail comes after the parcel left.
    let paid = |order: &str| {
        json!({ "order_id": order, "line_items": [], "total": { "minor": 4500, "currency": "EUR" },
        "financial_status": "paid" })
    };
    let shipped = |order: &str| {
        json!({ "order_id": order, "fulfillment_id": format!("f{order}"), "status": "success",
        "tracking_company": "Colissimo", "tracking_numbers": ["6A12345678901"],
        "tracking_urls": ["https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"] })
    };
    shop.event(&chloe, "order.paid", paid(o_chloe)).await;
    shop.run(Duration::minutes(20)).await;
    shop.event(&chloe, "order.fulfilled", shipped(o_chloe)).await;
    shop.event(&damien, "order.fulfilled", shipped(o_damien)).await;
    shop.run(Duration::minutes(25)).await;
    shop.event(&damien, "order.paid", paid(o_damien)).await;
    shop.run(Duration::minutes(30)).await;
    let journey = shop.subjects(&chloe).await;
    assert!(journey.contains(&format!("Votre commande #{o_chloe} est en préparation")), "{journey:?}");
    let shipped_mail = shop
        .mails_to(&chloe)
        .await
        .into_iter()
        .find(|m| m.subject == format!("Votre commande #{o_chloe} est en route"))
        .expect("the shipped mail");
    assert!(html(&shipped_mail).contains("Colissimo") && html(&shipped_mail).contains("6A12345678901"));
    assert!(html(&shipped_mail).contains("laposte.fr/outils/suivre-vos-envois"), "the tracking link");
    let damien_journey = shop.subjects(&damien).await;
    assert!(damien_journey.iter().any(|s| s.ends_with("est en route")), "{damien_journey:?}");
    assert!(!damien_journey.iter().any(|s| s.ends_with("est en préparation")), "already shipped: no preparing mail");

    // Deliveries (the carrier's status through the API); Damien's order is refunded the next
    // day; Bruno orders; Gilles unsubscribes.
    for (c, order) in [(&chloe, o_chloe), (&damien, o_damien)] {
        shop.event(c, "order.delivered", json!({ "order_id": order, "status": "delivered" })).await;
    }
    shop.order(&bruno, o_bruno).await;
    shop.order(&hugo, o_hugo).await;
    shop.event(
        &gilles,
        "consent.changed",
        json!({ "state": "unsubscribed", "changed_at": Utc::now().trunc_subsecs(0), "source": "api" }),
    )
    .await;
    shop.run(Duration::hours(2)).await;
    for c in [&chloe, &damien] {
        let mails = shop.mails_to(c).await;
        let delivered: Vec<&StoredMail> = mails.iter().filter(|m| m.subject.contains("est arrivée")).collect();
        assert_eq!(delivered.len(), 1, "one delivered mail, in French");
        assert!(delivered[0].header("List-Unsubscribe").is_none(), "transactional");
    }
    shop.event(
        &damien,
        "order.refunded",
        json!({ "order_id": o_damien, "refund_id": "r1", "amount": { "minor": 4500, "currency": "EUR" } }),
    )
    .await;
    shop.run(Duration::days(1)).await;

    // The review request is due 7 days after delivery, at 10:00 in Paris.
    let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let week = (Utc::now() + Duration::days(7)).with_timezone(&paris);
    let mut ten = paris.from_local_datetime(&week.date_naive().and_hms_opt(10, 0, 0).unwrap()).unwrap();
    if ten < week {
        ten += Duration::days(1);
    }
    let review_at = ten.with_timezone(&Utc);
    shop.run(review_at - shop.now - Duration::minutes(30)).await;
    assert!(!shop.mails_to(&chloe).await.iter().any(|m| html(m).contains("MERCI10")), "not before 10:00");
    // By then the week is over for the browsers: Emma gets mail A listing what she viewed,
    // Hugo mail B; Fiona's is paused while her ticket is open. Alice gets her nudge; Bruno
    // ordered and Gilles unsubscribed: nothing more.
    let emma_mails = shop.mails_to(&emma).await;
    assert_eq!(emma_mails.len(), 1, "{:?}", emma_mails.iter().map(|m| &m.subject).collect::<Vec<_>>());
    assert_eq!(emma_mails[0].subject, "New arrivals at Maison Demo");
    assert!(["Chablis 2023", "Meursault 2022", "Chablis 2023 magnum"].iter().all(|p| html(&emma_mails[0]).contains(p)));
    assert_eq!(shop.subjects(&hugo).await.len(), 1 + 1, "an order confirmation and mail B");
    assert!(shop.mails_to(&fiona).await.is_empty(), "marketing waits for the ticket");
    assert_eq!(shop.subjects(&alice).await, ["Welcome to Maison Demo", "Still looking around Maison Demo?"]);
    assert_eq!(shop.subjects(&bruno).await.len(), 1 + 1, "the welcome and his order confirmation, no nudge");
    assert_eq!(shop.mails_to(&gilles).await.len(), 1, "no marketing after the unsubscribe");

    shop.run(review_at - shop.now + Duration::minutes(30)).await;
    let review: Vec<StoredMail> =
        shop.mails_to(&chloe).await.into_iter().filter(|m| m.subject.contains("commande")).collect();
    let ask = review.iter().find(|m| html(m).contains("MERCI10")).expect("a review request with the incentive");
    assert!(ask.header("List-Unsubscribe").is_some(), "marketing");
    assert!(html(ask).contains("utm_campaign=review-request"));
    assert!(!shop.mails_to(&damien).await.iter().any(|m| html(m).contains("MERCI10")), "refunded: no review request");

    // Fiona's ticket closes: a satisfaction survey (service mail), and the paused scenario
    // goes at its next look.
    shop.event(&fiona, "support.interaction", json!({ "ticket_id": ticket, "kind": "ticket_closed" })).await;
    shop.run(review_at - shop.now + Duration::days(2)).await;
    let fiona_mails = shop.mails_to(&fiona).await;
    let survey = fiona_mails.iter().find(|m| m.subject == "How did we do?").expect("a satisfaction survey");
    assert!(survey.header("List-Unsubscribe").is_none(), "service mail");
    assert_eq!(fiona_mails.len(), 2, "{:?}", fiona_mails.iter().map(|m| &m.subject).collect::<Vec<_>>());
    assert!(fiona_mails.iter().any(|m| m.subject == "New arrivals at Maison Demo"), "the scenario, resumed");

    // The 2024 edition is published: Iris (subscribed, bought the 2023) hears of it at the
    // next 10:00 in her zone; Xavier and Yann bought it too but gave no consent.
    let launch = json!({ "id": unique("e"), "type": "product.published", "occurred_at": Utc::now().trunc_subsecs(0),
        "data": { "product_id": chablis_2024, "title": format!("Chablis {tag} 2024"),
                  "price": { "minor": 2900, "currency": "EUR" }, "url": "http://localhost:8080/products/c24" } });
    shop.post(launch).await;
    shop.run(review_at - shop.now + Duration::days(4)).await;
    let edition: Vec<StoredMail> =
        shop.mails_to(&iris).await.into_iter().filter(|m| m.subject == "Our yearly edition is here").collect();
    assert_eq!(edition.len(), 1, "one announcement");
    assert!(html(&edition[0]).contains(&format!("Chablis {tag} 2024")));
    for c in [&xavier, &yann] {
        assert!(!shop.subjects(c).await.iter().any(|s| s == "Our yearly edition is here"), "no consent, no marketing");
    }

    // Two weeks after her order, at 10:00: the glasses the other Chablis buyers took, never
    // the Chablis she has.
    shop.run(Duration::days(16)).await;
    let picked: Vec<StoredMail> =
        shop.mails_to(&iris).await.into_iter().filter(|m| m.subject == "A selection picked for you").collect();
    assert_eq!(picked.len(), 1, "{:?}", shop.subjects(&iris).await);
    assert!(html(&picked[0]).contains(&glasses_title));
    assert!(!html(&picked[0]).contains(&chablis_title), "never a product already bought");
}
