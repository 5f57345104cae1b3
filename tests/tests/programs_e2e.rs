//! The programs the engine runs, end to end on the local stack: signed generic-API events
//! over HTTP to webhook-ingest, every function under `cargo lambda watch`, the dispatcher
//! delivering rules and firing schedules at the time it is given (the controllable clock),
//! mail landing in the SES v2 emulator — and every exit: ordered → no nudge, refunded → no
//! review request, unsubscribed → no marketing, open ticket → marketing paused.
//!
//! As in `recovery_e2e`, quiet hours and the frequency cap are off for this shop (the gate's
//! unit tests and the engine's property test cover them).

// Beside this file, not in `tests/`, so that Cargo does not take it for a test of its own.
#[path = "programs_e2e/shop.rs"]
mod shop;

use chrono::{Duration, SubsecRound, TimeZone, Utc};
use relance_tests::fixtures::eur;
use relance_tests::mailbox::StoredMail;
use relance_tests::unique;
use serde_json::json;
use shop::{Customer, consents, event, html, orders, orders_products, post, signup, start, subjects, views};

#[tokio::test]
async fn every_engine_program_mails_on_its_trigger_at_its_time_and_stops_on_every_exit() {
    let shop = start().await;
    let (alice, bruno, gilles) = (Customer::new("en"), Customer::new("fr"), Customer::new("en"));
    let (chloe, damien) = (Customer::new("fr"), Customer::new("fr"));
    // Order ids unique to this run: an order id is an identity key of its buyer.
    let ids: Vec<String> = (0..4).map(|_| unique("o").replace('-', "")).collect();
    let [o_chloe, o_damien, o_bruno, o_hugo] = [&ids[0], &ids[1], &ids[2], &ids[3]];
    let (emma, hugo, fiona) = (Customer::new("en"), Customer::new("fr"), Customer::new("en"));

    // Signups with consent: a welcome each, within minutes.
    for c in [&alice, &bruno, &gilles] {
        signup(&shop, c).await;
    }
    // Orders delivered; Damien's is refunded.
    for (c, order) in [(&chloe, o_chloe), (&damien, o_damien)] {
        consents(&shop, c, "subscribed").await;
        orders(&shop, c, order).await;
    }
    // Browsing: Emma looks three times, Hugo too and then orders; Fiona looks, and a ticket
    // of hers is open.
    for c in [&emma, &hugo, &fiona] {
        consents(&shop, c, "subscribed").await;
        views(&shop, c, &["Chablis 2023", "Meursault 2022", "Chablis 2023 magnum"]).await;
    }
    // The shop's history for the affinity table: two customers bought this run's Chablis
    // 2023 with its glasses (no consent: they get no marketing).
    let tag = unique("w").replace('-', "");
    let (chablis, glasses, chablis_2024) = (format!("c23{tag}"), format!("g{tag}"), format!("c24{tag}"));
    let (chablis_title, glasses_title) = (format!("Chablis {tag} 2023"), format!("Verres {tag}"));
    let (xavier, yann, iris) = (Customer::new("fr"), Customer::new("fr"), Customer::new("en"));
    for c in [&xavier, &yann] {
        let order = unique("o").replace('-', "");
        orders_products(&shop, c, &order, &[(&chablis, &chablis_title), (&glasses, &glasses_title)]).await;
    }
    let ticket = unique("t");
    event(&shop, &fiona, "support.interaction", json!({ "ticket_id": ticket, "kind": "ticket_opened" })).await;
    shop.run(Duration::minutes(5)).await;

    assert_eq!(subjects(&shop, &alice).await, ["Welcome to Maison Demo"], "English, from her locale");
    assert_eq!(subjects(&shop, &bruno).await, ["Bienvenue chez Maison Demo"]);
    assert_eq!(shop.mails_to(&gilles.email).await.len(), 1);
    assert!(shop.mails_to(&emma.email).await.is_empty(), "the scenario waits a week");

    // The nightly run counts what is bought together; then Iris, subscribed, buys the
    // Chablis alone.
    shop.invoke("rfm-nightly", &json!({ "run": "nightly", "shop": "demo.myshopify.com" })).await;
    consents(&shop, &iris, "subscribed").await;
    let iris_order = unique("o").replace('-', "");
    orders_products(&shop, &iris, &iris_order, &[(&chablis, &chablis_title)]).await;
    shop.run(Duration::minutes(10)).await;

    // The order journey: Chloé's order is paid (preparing), then shipped with its carrier and
    // tracking link (shipped); Damien's ships before its payment is reported, so no
    // "preparing" mail comes after the parcel left.
    let paid =
        |order: &str| json!({ "order_id": order, "line_items": [], "total": eur(4500), "financial_status": "paid" });
    let shipped = |order: &str| {
        json!({ "order_id": order, "fulfillment_id": format!("f{order}"), "status": "success",
        "tracking_company": "Colissimo", "tracking_numbers": ["6A12345678901"],
        "tracking_urls": ["https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"] })
    };
    event(&shop, &chloe, "order.paid", paid(o_chloe)).await;
    shop.run(Duration::minutes(20)).await;
    event(&shop, &chloe, "order.fulfilled", shipped(o_chloe)).await;
    event(&shop, &damien, "order.fulfilled", shipped(o_damien)).await;
    shop.run(Duration::minutes(25)).await;
    event(&shop, &damien, "order.paid", paid(o_damien)).await;
    shop.run(Duration::minutes(30)).await;
    let journey = subjects(&shop, &chloe).await;
    assert!(journey.contains(&format!("Votre commande #{o_chloe} est en préparation")), "{journey:?}");
    let shipped_mail = shop
        .mails_to(&chloe.email)
        .await
        .into_iter()
        .find(|m| m.subject == format!("Votre commande #{o_chloe} est en route"))
        .expect("the shipped mail");
    assert!(html(&shipped_mail).contains("Colissimo") && html(&shipped_mail).contains("6A12345678901"));
    assert!(html(&shipped_mail).contains("laposte.fr/outils/suivre-vos-envois"), "the tracking link");
    let damien_journey = subjects(&shop, &damien).await;
    assert!(damien_journey.iter().any(|s| s.ends_with("est en route")), "{damien_journey:?}");
    assert!(!damien_journey.iter().any(|s| s.ends_with("est en préparation")), "already shipped: no preparing mail");

    // Deliveries (the carrier's status through the API); Damien's order is refunded the next
    // day; Bruno orders; Gilles unsubscribes.
    for (c, order) in [(&chloe, o_chloe), (&damien, o_damien)] {
        event(&shop, c, "order.delivered", json!({ "order_id": order, "status": "delivered" })).await;
    }
    orders(&shop, &bruno, o_bruno).await;
    orders(&shop, &hugo, o_hugo).await;
    consents(&shop, &gilles, "unsubscribed").await;
    shop.run(Duration::hours(2)).await;
    for c in [&chloe, &damien] {
        let mails = shop.mails_to(&c.email).await;
        let delivered: Vec<&StoredMail> = mails.iter().filter(|m| m.subject.contains("est arrivée")).collect();
        assert_eq!(delivered.len(), 1, "one delivered mail, in French");
        assert!(delivered[0].header("List-Unsubscribe").is_none(), "transactional");
    }
    event(&shop, &damien, "order.refunded", json!({ "order_id": o_damien, "refund_id": "r1", "amount": eur(4500) }))
        .await;
    shop.run(Duration::days(1)).await;

    // The review request is due 7 days after delivery, at 10:00 in Paris.
    let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let week = (Utc::now() + Duration::days(7)).with_timezone(&paris);
    let mut ten = paris.from_local_datetime(&week.date_naive().and_hms_opt(10, 0, 0).unwrap()).unwrap();
    // The check below runs 30 minutes before 10:00, and it must fall after the scenario's
    // week (counted from views a little after now): a run between 09:15 and 10:00 Paris
    // takes the next day's 10:00, else "not before 10:00" would be checked inside the week.
    if ten - Duration::minutes(45) < week {
        ten += Duration::days(1);
    }
    let review_at = ten.with_timezone(&Utc);
    shop.run(review_at - shop.now - Duration::minutes(30)).await;
    assert!(!shop.mails_to(&chloe.email).await.iter().any(|m| html(m).contains("MERCI10")), "not before 10:00");
    // By then the week is over for the browsers: Emma gets mail A listing what she viewed,
    // Hugo mail B; Fiona's is paused while her ticket is open. Alice gets her nudge; Bruno
    // ordered and Gilles unsubscribed: nothing more.
    let emma_mails = shop.mails_to(&emma.email).await;
    assert_eq!(emma_mails.len(), 1, "{:?}", emma_mails.iter().map(|m| &m.subject).collect::<Vec<_>>());
    assert_eq!(emma_mails[0].subject, "New arrivals at Maison Demo");
    assert!(["Chablis 2023", "Meursault 2022", "Chablis 2023 magnum"].iter().all(|p| html(&emma_mails[0]).contains(p)));
    assert_eq!(subjects(&shop, &hugo).await.len(), 1 + 1, "an order confirmation and mail B");
    assert!(shop.mails_to(&fiona.email).await.is_empty(), "marketing waits for the ticket");
    assert_eq!(subjects(&shop, &alice).await, ["Welcome to Maison Demo", "Still looking around Maison Demo?"]);
    assert_eq!(subjects(&shop, &bruno).await.len(), 1 + 1, "the welcome and his order confirmation, no nudge");
    assert_eq!(shop.mails_to(&gilles.email).await.len(), 1, "no marketing after the unsubscribe");

    shop.run(review_at - shop.now + Duration::minutes(30)).await;
    let review: Vec<StoredMail> =
        shop.mails_to(&chloe.email).await.into_iter().filter(|m| m.subject.contains("commande")).collect();
    let ask = review.iter().find(|m| html(m).contains("MERCI10")).expect("a review request with the incentive");
    assert!(ask.header("List-Unsubscribe").is_some(), "marketing");
    assert!(html(ask).contains("utm_campaign=review-request"));
    assert!(
        !shop.mails_to(&damien.email).await.iter().any(|m| html(m).contains("MERCI10")),
        "refunded: no review request"
    );

    // Fiona's ticket closes: a satisfaction survey (service mail), and the paused scenario
    // goes at its next look.
    event(&shop, &fiona, "support.interaction", json!({ "ticket_id": ticket, "kind": "ticket_closed" })).await;
    shop.run(review_at - shop.now + Duration::days(2)).await;
    let fiona_mails = shop.mails_to(&fiona.email).await;
    let survey = fiona_mails.iter().find(|m| m.subject == "How did we do?").expect("a satisfaction survey");
    assert!(survey.header("List-Unsubscribe").is_none(), "service mail");
    assert_eq!(fiona_mails.len(), 2, "{:?}", fiona_mails.iter().map(|m| &m.subject).collect::<Vec<_>>());
    assert!(fiona_mails.iter().any(|m| m.subject == "New arrivals at Maison Demo"), "the scenario, resumed");

    // The 2024 edition is published: Iris (subscribed, bought the 2023) hears of it at the
    // next 10:00 in her zone; Xavier and Yann bought it too but gave no consent.
    let launch = json!({ "id": unique("e"), "type": "product.published", "occurred_at": Utc::now().trunc_subsecs(0),
        "data": { "product_id": chablis_2024, "title": format!("Chablis {tag} 2024"),
                  "price": eur(2900), "url": "http://localhost:8080/products/c24" } });
    post(&shop, launch).await;
    shop.run(review_at - shop.now + Duration::days(4)).await;
    let edition: Vec<StoredMail> =
        shop.mails_to(&iris.email).await.into_iter().filter(|m| m.subject == "Our yearly edition is here").collect();
    assert_eq!(edition.len(), 1, "one announcement");
    assert!(html(&edition[0]).contains(&format!("Chablis {tag} 2024")));
    for c in [&xavier, &yann] {
        assert!(
            !subjects(&shop, c).await.iter().any(|s| s == "Our yearly edition is here"),
            "no consent, no marketing"
        );
    }

    // Two weeks after her order, at 10:00: the glasses the other Chablis buyers took, never
    // the Chablis she has.
    shop.run(Duration::days(16)).await;
    let picked: Vec<StoredMail> =
        shop.mails_to(&iris.email).await.into_iter().filter(|m| m.subject == "A selection picked for you").collect();
    assert_eq!(picked.len(), 1, "{:?}", subjects(&shop, &iris).await);
    assert!(html(&picked[0]).contains(&glasses_title));
    assert!(!html(&picked[0]).contains(&chablis_title), "never a product already bought");
}
