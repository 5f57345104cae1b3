//! The test shop's customers and what they do through the generic API, each event signed
//! by the harness and required to be accepted.

use chrono::{SubsecRound, Utc};
use relance_tests::fixtures::{eur, line, order, product_line};
use relance_tests::live::LiveShop;
use relance_tests::mailbox::StoredMail;
use relance_tests::unique;
use serde_json::{Value, json};

pub struct Customer {
    pub email: String,
    id: String,
    locale: &'static str,
}

impl Customer {
    pub fn new(locale: &'static str) -> Self {
        let run = unique("p");
        Self { email: format!("{run}@example.fr"), id: run.replace('-', ""), locale }
    }

    /// A generic-API event about them, happening now.
    pub fn event(&self, kind: &str, data: Value) -> Value {
        json!({ "id": unique("e"), "type": kind, "occurred_at": Utc::now().trunc_subsecs(0),
            "identity": { "email": self.email, "customer_id": self.id },
            "context": { "locale": self.locale, "time_zone": "Europe/Paris" }, "data": data })
    }
}

pub async fn start() -> LiveShop {
    LiveShop::start(json!({
        "sending": { "frequency_cap_hours": 0, "quiet_from": 0, "quiet_until": 0 },
        "journeys": { "review-request": { "discount_code": "MERCI10" } },
    }))
    .await
}

/// Posts one signed generic-API event; webhook-ingest must take it.
pub async fn post(shop: &LiveShop, event: Value) {
    let kind = event["type"].as_str().unwrap_or_default().to_owned();
    let answer = shop.post_api(event).await;
    assert_eq!(answer.status, 200, "{kind}: {}", answer.body);
}

/// `c`'s `kind` event, happening now.
pub async fn event(shop: &LiveShop, c: &Customer, kind: &str, data: Value) {
    post(shop, c.event(kind, data)).await;
}

pub fn consent(state: &str) -> Value {
    json!({ "state": state, "changed_at": Utc::now().trunc_subsecs(0), "source": "api" })
}

pub async fn signup(shop: &LiveShop, c: &Customer) {
    event(shop, c, "customer.signed_up", json!({ "first_name": null, "marketing_consent": consent("subscribed") }))
        .await;
}

/// `c` subscribes (or unsubscribes) through the API.
pub async fn consents(shop: &LiveShop, c: &Customer, state: &str) {
    event(shop, c, "consent.changed", consent(state)).await;
}

/// One gift box ordered.
pub async fn orders(shop: &LiveShop, c: &Customer, order_id: &str) {
    let mut data = order(order_id, vec![line("Coffret Millésime", 4500)]);
    data["name"] = json!(format!("#{order_id}"));
    event(shop, c, "order.placed", data).await;
}

/// An order of these catalogue products (id, title).
pub async fn orders_products(shop: &LiveShop, c: &Customer, order_id: &str, products: &[(&str, &str)]) {
    let lines = products.iter().map(|(id, title)| product_line(id, title, 2400, &["vins"])).collect();
    event(shop, c, "order.placed", order(order_id, lines)).await;
}

pub async fn views(shop: &LiveShop, c: &Customer, products: &[&str]) {
    for (n, product) in products.iter().enumerate() {
        let view = json!({ "product_id": format!("p{n}"), "title": product,
            "url": format!("http://localhost:8080/products/p{n}"), "price": eur(2900) });
        event(shop, c, "product.viewed", view).await;
    }
}

pub async fn subjects(shop: &LiveShop, c: &Customer) -> Vec<String> {
    shop.mails_to(&c.email).await.into_iter().map(|m| m.subject).collect()
}

pub fn html(mail: &StoredMail) -> &str {
    mail.body.html.as_deref().unwrap_or_default()
}
