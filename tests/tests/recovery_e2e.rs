//! Abandoned-checkout recovery end to end on the local stack: signed Shopify webhooks over
//! HTTP to webhook-ingest, every function served by `cargo lambda watch`, the dispatcher
//! delivering rules and firing schedules, mail landing in the SES v2 emulator.
//!
//! The dispatcher fast-forwards schedules (it fires those due at the time it is given) while
//! the functions run on the real clock, so the test shop turns off the two time-of-day rules
//! — quiet hours and the frequency cap — which the gate's unit tests cover.

use chrono::{DateTime, Duration, Utc};
use relance::events::ConsentState;
use relance::profile::Record;
use relance_tests::fixtures::shopify_fixture;
use relance_tests::live::LiveShop;
use relance_tests::mailbox::StoredMail;
use relance_tests::ses_events::Signal;
use relance_tests::unique;
use serde_json::{Value, json};

/// One customer of the run.
struct Customer {
    email: String,
    id: u64,
    token: String,
}

impl Customer {
    fn new() -> Self {
        let run = unique("c");
        // A 64-bit platform id unique to this run, as Shopify's are.
        let id = run.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        Self {
            email: format!("{run}@example.fr"),
            id: id % 9_000_000_000_000 + 1_000_000_000_000,
            token: run.replace('-', ""),
        }
    }

    /// Their checkout, started at `now`, from Shopify's sample.
    fn checkout(&self, now: DateTime<Utc>, locale: &str) -> Value {
        let mut body = shopify_fixture("checkouts-create__2025-07.json");
        body["token"] = json!(self.token);
        body["cart_token"] = json!(format!("cart{}", self.token));
        body["email"] = json!(self.email);
        body["customer"]["id"] = json!(self.id);
        body["customer"]["email"] = json!(self.email);
        body["customer_locale"] = json!(locale);
        body["created_at"] = json!(now);
        body["updated_at"] = json!(now);
        body["completed_at"] = Value::Null;
        body["abandoned_checkout_url"] = json!(format!("https://demo.example/checkouts/{}/recover", self.token));
        body
    }

    fn consent(&self, now: DateTime<Utc>, state: &str) -> Value {
        json!({ "customer_id": self.id, "email_address": self.email,
                "email_marketing_consent": { "state": state, "opt_in_level": "single_opt_in",
                                             "consent_updated_at": now - Duration::minutes(5) } })
    }

    /// The order completing their checkout, ten minutes after `now`.
    fn order(&self, now: DateTime<Utc>, order_id: u64) -> Value {
        let mut body = shopify_fixture("orders-create__2025-07.json");
        body["id"] = json!(order_id);
        body["email"] = json!(self.email);
        body["customer"]["id"] = json!(self.id);
        body["customer"]["email"] = json!(self.email);
        body["checkout_token"] = json!(self.token);
        body["cart_token"] = json!(format!("cart{}", self.token));
        // Shopify's order time is `processed_at` (the fixture's is from 2025: history).
        for key in ["created_at", "updated_at", "processed_at"] {
            body[key] = json!(now + Duration::minutes(10));
        }
        body
    }
}

async fn start() -> LiveShop {
    LiveShop::start(json!({
        "sending": { "frequency_cap_hours": 0, "quiet_from": 0, "quiet_until": 0 },
        "cross_sell": [{ "title": "Étui en cuir", "url": "http://localhost:8080/products/etui",
                         "price": { "minor": 1900, "currency": "USD" }, "categories": ["accessoires"] }],
    }))
    .await
}

/// Posts a Shopify webhook under a fresh event id; returns the status.
async fn webhook(shop: &LiveShop, topic: &str, body: &Value) -> u16 {
    shop.post_shopify(topic, &unique("e"), body).await.status
}

/// `c`'s consent in `state`, then their checkout in French.
async fn consents_then_checks_out(shop: &LiveShop, c: &Customer, state: &str) {
    assert_eq!(webhook(shop, "customers_email_marketing_consent/update", &c.consent(shop.now, state)).await, 200);
    assert_eq!(webhook(shop, "checkouts/create", &c.checkout(shop.now, "fr")).await, 200);
}

/// The permanent bounce SES would publish for `c`'s first reminder.
async fn bounce(shop: &LiveShop, c: &Customer, mail: &StoredMail) {
    let token = relance::ids::ExternalId::parse(&c.token).unwrap();
    let key = relance::programs::checkout::message_key(&shop.shop, &token, 1);
    shop.report_ses(mail, &key, &[Signal::PermanentBounce], Utc::now()).await;
}

fn header<'m>(mail: &'m StoredMail, name: &str) -> &'m str {
    mail.header(name).unwrap_or_else(|| panic!("{name} missing"))
}

#[tokio::test]
async fn abandoned_checkouts_are_recovered_and_everything_else_is_left_alone() {
    let shop = start().await;
    let now = shop.now;

    // Anne: subscribed, abandons her checkout (delivered twice by Shopify).
    let anne = Customer::new();
    assert_eq!(webhook(&shop, "customers_email_marketing_consent/update", &anne.consent(now, "subscribed")).await, 200);
    let checkout_event = unique("e");
    for _ in 0..2 {
        assert_eq!(shop.post_shopify("checkouts/create", &checkout_event, &anne.checkout(now, "en")).await.status, 200);
    }
    // Bob: the same, then orders — no reminder, an order confirmation with cross-sell.
    let bob = Customer::new();
    consents_then_checks_out(&shop, &bob, "subscribed").await;
    // Carol unsubscribed before abandoning hers: nothing.
    let carol = Customer::new();
    consents_then_checks_out(&shop, &carol, "unsubscribed").await;
    // Dave: subscribed, abandons; his first reminder hard-bounces.
    let dave = Customer::new();
    consents_then_checks_out(&shop, &dave, "subscribed").await;
    shop.run(Duration::minutes(5)).await;
    assert_eq!(webhook(&shop, "orders/create", &bob.order(now, bob.id + 1)).await, 200);
    shop.run(Duration::minutes(15)).await;

    // Within the hour: nothing yet, but Bob's order confirmation.
    assert!(shop.mails_to(&anne.email).await.is_empty(), "no reminder before its time");
    let bob_mails = shop.mails_to(&bob.email).await;
    assert_eq!(bob_mails.len(), 1, "{bob_mails:?}");
    let confirmation = &bob_mails[0];
    assert!(confirmation.header("List-Unsubscribe").is_none(), "transactional");
    let html = confirmation.body.html.as_deref().unwrap();
    assert!(html.contains("IPod Nano") && html.contains("Étui en cuir"), "lines and the cross-sell block");

    // One hour later: Anne's first reminder, once, despite the duplicated webhook.
    shop.run(Duration::minutes(61)).await;
    let anne_mails = shop.mails_to(&anne.email).await;
    assert_eq!(anne_mails.len(), 1, "exactly one first reminder");
    let first = &anne_mails[0];
    assert_eq!(first.subject, "Your cart is waiting for you", "English, as her checkout's locale");
    assert_eq!(first.from, "Maison Demo <bonjour@demo.localhost>");
    let html = first.body.html.as_deref().unwrap();
    assert!(html.contains("IPod Nano - 8GB") && html.contains("$199.00"), "items and prices");
    assert!(html.contains(&format!("checkouts/{}/recover", anne.token)), "recovery link");
    assert!(html.contains("utm_campaign=abandoned-checkout"));
    assert_eq!(header(first, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    let unsubscribe = header(first, "List-Unsubscribe").trim_matches(['<', '>']).to_owned();
    assert!(shop.mails_to(&bob.email).await.len() == 1 && shop.mails_to(&carol.email).await.is_empty());

    // Dave's reminder bounces for good (SES publishes it on the default bus with the tags
    // send-mail put on the mail): he is suppressed.
    let dave_mails = shop.mails_to(&dave.email).await;
    assert_eq!(dave_mails.len(), 1);
    bounce(&shop, &dave, &dave_mails[0]).await;

    // Scheduler fires the first reminder again (at-least-once): still one mail.
    let due = json!({ "program": "abandoned-checkout", "shop": "demo.myshopify.com", "token": anne.token, "step": 1,
                      "identity": { "email": anne.email, "customer_id": anne.id.to_string() } });
    shop.invoke("cart-abandon-timer", &due).await;
    shop.run(Duration::minutes(62)).await;
    assert_eq!(shop.mails_to(&anne.email).await.len(), 1, "a re-fired schedule sends nothing more");

    // A day later, the second reminder.
    shop.run(Duration::hours(24) + Duration::minutes(2)).await;
    let anne_mails = shop.mails_to(&anne.email).await;
    assert_eq!(anne_mails.len(), 2);
    assert_eq!(anne_mails.iter().filter(|m| m.subject == "Your cart is still here").count(), 1);

    // A forged link changes nothing; the one-click POST from her mail unsubscribes her.
    let token = unsubscribe.split_once("t=").unwrap().1.to_owned();
    let mut forged = token.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    assert_eq!(shop.unsubscribe(&forged).await.status, 403);
    assert_eq!(shop.unsubscribe(&token).await.status, 200);
    shop.run(Duration::hours(25)).await;

    // The third reminder's time: she unsubscribed, so nothing.
    shop.run(Duration::hours(72) + Duration::minutes(5)).await;
    assert_eq!(shop.mails_to(&anne.email).await.len(), 2, "no mail after the unsubscribe");
    assert_eq!(shop.mails_to(&bob.email).await.len(), 1, "Bob got no reminder for the checkout he completed");
    assert!(shop.mails_to(&carol.email).await.is_empty(), "an unsubscribed customer gets nothing");
    assert_eq!(shop.mails_to(&dave.email).await.len(), 1, "a suppressed customer gets nothing more");

    // The CRM's records say why.
    let anne_profile = shop.profile_of(&anne.email).await.expect("Anne's profile");
    assert_eq!(anne_profile.consent_state(), ConsentState::Unsubscribed);
    let sent = shop.records_of(&anne_profile.id).await;
    let sent = sent.iter().filter(|r| matches!(r, Record::Message(m) if m.sent_at.is_some())).count();
    assert_eq!(sent, 2, "two reminders on record");
    assert!(shop.profile_of(&dave.email).await.is_some_and(|p| p.suppression.is_some()), "Dave is suppressed");
}
