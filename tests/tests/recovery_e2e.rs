//! Abandoned-checkout recovery end to end on the local stack: signed Shopify webhooks over
//! HTTP to webhook-ingest, every function served by `cargo lambda watch`, the dispatcher
//! delivering rules and firing schedules, mail landing in the SES v2 emulator.
//!
//! The dispatcher fast-forwards schedules (it fires those due at the time it is given) while
//! the functions run on the real clock, so the test shop turns off the two time-of-day rules
//! — quiet hours and the frequency cap — which the gate's unit tests cover.

use chrono::{Duration, Utc};
use relance_tests::invoke::Invoker;
use relance_tests::live::LiveShop;
use relance_tests::mailbox::StoredMail;
use relance_tests::unique;
use serde_json::{Value, json};

const CHECKOUT: &str = include_str!("../fixtures/shopify/checkouts-create__2025-07.json");
const ORDER: &str = include_str!("../fixtures/shopify/orders-create__2025-07.json");

struct Shop(LiveShop);

impl std::ops::Deref for Shop {
    type Target = LiveShop;
    fn deref(&self) -> &LiveShop {
        &self.0
    }
}

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
}

impl Shop {
    async fn start() -> Self {
        Self(
            LiveShop::start(json!({
                "sending": { "frequency_cap_hours": 0, "quiet_from": 0, "quiet_until": 0 },
                "cross_sell": [{ "title": "Étui en cuir", "url": "http://localhost:8080/products/etui",
                                 "price": { "minor": 1900, "currency": "USD" }, "categories": ["accessoires"] }],
            }))
            .await,
        )
    }

    async fn webhook(&self, topic: &str, event_id: &str, body: &Value) -> u16 {
        let body = body.to_string().into_bytes();
        let secret = relance::signature::Secret::new("local-shopify-secret".to_owned()).unwrap();
        self.http
            .post(self.watch.function_url("webhook-ingest", "/webhooks/shopify"))
            .header("content-type", "application/json")
            .header("x-shopify-topic", topic)
            .header("x-shopify-shop-domain", "demo.myshopify.com")
            .header("x-shopify-event-id", event_id)
            .header("x-shopify-hmac-sha256", relance::signature::sign_base64_hmac_sha256(&secret, &body))
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn mails_to(&self, customer: &Customer) -> Vec<StoredMail> {
        self.0.mails_to(&customer.email).await
    }

    fn checkout(&self, c: &Customer, locale: &str) -> Value {
        let mut body: Value = serde_json::from_str(CHECKOUT).unwrap();
        body["token"] = json!(c.token);
        body["cart_token"] = json!(format!("cart{}", c.token));
        body["email"] = json!(c.email);
        body["customer"]["id"] = json!(c.id);
        body["customer"]["email"] = json!(c.email);
        body["customer_locale"] = json!(locale);
        body["created_at"] = json!(self.now);
        body["updated_at"] = json!(self.now);
        body["completed_at"] = Value::Null;
        body["abandoned_checkout_url"] = json!(format!("https://demo.example/checkouts/{}/recover", c.token));
        body
    }

    fn consent(&self, c: &Customer, state: &str) -> Value {
        json!({ "customer_id": c.id, "email_address": c.email,
                "email_marketing_consent": { "state": state, "opt_in_level": "single_opt_in",
                                             "consent_updated_at": self.now - Duration::minutes(5) } })
    }

    fn order(&self, c: &Customer, order_id: u64) -> Value {
        let mut body: Value = serde_json::from_str(ORDER).unwrap();
        body["id"] = json!(order_id);
        body["email"] = json!(c.email);
        body["customer"]["id"] = json!(c.id);
        body["customer"]["email"] = json!(c.email);
        body["checkout_token"] = json!(c.token);
        body["cart_token"] = json!(format!("cart{}", c.token));
        // Shopify's order time is `processed_at` (the fixture's is from 2025: history).
        for key in ["created_at", "updated_at", "processed_at"] {
            body[key] = json!(self.now + Duration::minutes(10));
        }
        body
    }
}

impl Shop {
    /// The permanent bounce SES would publish for `mail`, tagged as send-mail tags it.
    async fn bounce(&self, c: &Customer, mail: &StoredMail) {
        let (shop, _) = relance_tests::ses_events::recipient_of(mail, "local-unsubscribe-secret").unwrap();
        let key =
            relance::programs::checkout::message_key(&shop, &relance::ids::ExternalId::parse(&c.token).unwrap(), 1);
        let entry = relance_tests::ses_events::entry(
            mail,
            "local-unsubscribe-secret",
            &key,
            relance_tests::ses_events::Signal::PermanentBounce,
            Utc::now(),
        )
        .unwrap();
        aws_sdk_eventbridge::Client::new(&self.stack.sdk).put_events().entries(entry).send().await.unwrap();
    }
}

fn header<'m>(mail: &'m StoredMail, name: &str) -> &'m str {
    mail.header(name).unwrap_or_else(|| panic!("{name} missing"))
}

#[tokio::test]
async fn abandoned_checkouts_are_recovered_and_everything_else_is_left_alone() {
    let shop = Shop::start().await;

    // Anne: subscribed, abandons her checkout (delivered twice by Shopify).
    let anne = Customer::new();
    assert_eq!(
        shop.webhook("customers_email_marketing_consent/update", &unique("e"), &shop.consent(&anne, "subscribed"))
            .await,
        200
    );
    let checkout_event = unique("e");
    assert_eq!(shop.webhook("checkouts/create", &checkout_event, &shop.checkout(&anne, "en")).await, 200);
    assert_eq!(shop.webhook("checkouts/create", &checkout_event, &shop.checkout(&anne, "en")).await, 200);
    // Bob: the same, then orders — no reminder, an order confirmation with cross-sell.
    let bob = Customer::new();
    assert_eq!(
        shop.webhook("customers_email_marketing_consent/update", &unique("e"), &shop.consent(&bob, "subscribed")).await,
        200
    );
    assert_eq!(shop.webhook("checkouts/create", &unique("e"), &shop.checkout(&bob, "fr")).await, 200);
    // Carol unsubscribed before abandoning hers: nothing.
    let carol = Customer::new();
    assert_eq!(
        shop.webhook("customers_email_marketing_consent/update", &unique("e"), &shop.consent(&carol, "unsubscribed"))
            .await,
        200
    );
    assert_eq!(shop.webhook("checkouts/create", &unique("e"), &shop.checkout(&carol, "fr")).await, 200);
    // Dave: subscribed, abandons; his first reminder hard-bounces.
    let dave = Customer::new();
    assert_eq!(
        shop.webhook("customers_email_marketing_consent/update", &unique("e"), &shop.consent(&dave, "subscribed"))
            .await,
        200
    );
    assert_eq!(shop.webhook("checkouts/create", &unique("e"), &shop.checkout(&dave, "fr")).await, 200);
    shop.run(Duration::minutes(5)).await;
    assert_eq!(shop.webhook("orders/create", &unique("e"), &shop.order(&bob, bob.id + 1)).await, 200);
    shop.run(Duration::minutes(15)).await;

    // Within the hour: nothing yet, but Bob's order confirmation.
    assert!(shop.mails_to(&anne).await.is_empty(), "no reminder before its time");
    let bob_mails = shop.mails_to(&bob).await;
    assert_eq!(bob_mails.len(), 1, "{bob_mails:?}");
    let confirmation = &bob_mails[0];
    assert!(confirmation.header("List-Unsubscribe").is_none(), "transactional");
    let html = confirmation.body.html.as_deref().unwrap();
    assert!(html.contains("IPod Nano") && html.contains("Étui en cuir"), "lines and the cross-sell block");

    // One hour later: Anne's first reminder, once, despite the duplicated webhook.
    shop.run(Duration::minutes(61)).await;
    let anne_mails = shop.mails_to(&anne).await;
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
    assert!(shop.mails_to(&bob).await.len() == 1 && shop.mails_to(&carol).await.is_empty());

    // Dave's reminder bounces for good (SES publishes it on the default bus with the tags
    // send-mail put on the mail): he is suppressed.
    let dave_mails = shop.mails_to(&dave).await;
    assert_eq!(dave_mails.len(), 1);
    shop.bounce(&dave, &dave_mails[0]).await;

    // Scheduler fires the first reminder again (at-least-once): still one mail.
    let due = json!({ "program": "abandoned-checkout", "shop": "demo.myshopify.com", "token": anne.token, "step": 1,
                      "identity": { "email": anne.email, "customer_id": anne.id.to_string() } });
    shop.invoker.invoke("cart-abandon-timer", &due).await.unwrap();
    shop.run(Duration::minutes(62)).await;
    assert_eq!(shop.mails_to(&anne).await.len(), 1, "a re-fired schedule sends nothing more");

    // A day later, the second reminder.
    shop.run(Duration::hours(24) + Duration::minutes(2)).await;
    let anne_mails = shop.mails_to(&anne).await;
    assert_eq!(anne_mails.len(), 2);
    assert_eq!(anne_mails.iter().filter(|m| m.subject == "Your cart is still here").count(), 1);

    // A forged link changes nothing; the one-click POST from her mail unsubscribes her.
    let token = unsubscribe.split_once("t=").unwrap().1.to_owned();
    let post = |token: String| {
        shop.http
            .post(shop.watch.function_url("webhook-ingest", &format!("/unsubscribe?t={token}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let mut forged = token.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    assert_eq!(post(forged).await.unwrap().status().as_u16(), 403);
    assert_eq!(post(token).await.unwrap().status().as_u16(), 200);
    shop.run(Duration::hours(25)).await;

    // The third reminder's time: she unsubscribed, so nothing.
    shop.run(Duration::hours(72) + Duration::minutes(5)).await;
    assert_eq!(shop.mails_to(&anne).await.len(), 2, "no mail after the unsubscribe");
    assert_eq!(shop.mails_to(&bob).await.len(), 1, "Bob got no reminder for the checkout he completed");
    assert!(shop.mails_to(&carol).await.is_empty(), "an unsubscribed customer gets nothing");
    assert_eq!(shop.mails_to(&dave).await.len(), 1, "a suppressed customer gets nothing more");
}
