//! What the simulated shop and its marketer do, in the order the demo plays it. Each
//! delivery goes through the harness's signed client and is counted from its answer.

use super::{Demo, Error, end_progress, progress};
use crate::fixtures::campaign;
use crate::invoke::Invoker;
use crate::live::API_BATCH;
use crate::ses_events::Signal;
use crate::sim::{Channel, Fate, Order};
use chrono::{Duration, SubsecRound, Utc};
use relance::ids::ExternalId;
use relance::programs::checkout::message_key;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration as Wait;

impl Demo {
    pub(super) async fn history(&mut self) {
        let total = self.shop.customers.len() + self.shop.history.len();
        let mut done = 0;
        let mut consents = Vec::new();
        for index in 0..self.shop.customers.len() {
            let id = format!("sim-{}-customer-{index}", self.seed);
            match self.shop.customers[index].channel {
                Channel::Shopify => self.shopify("customers/create", &id, &self.shop.shopify_customer(index)).await,
                Channel::WooCommerce => {
                    self.woo("customer.created", &id, &self.shop.woo_customer(index)).await;
                    consents.extend(self.shop.api_consent(index));
                }
            }
            done += 1;
            progress(done, total, "deliveries");
        }
        self.api(consents).await;
        for n in 0..self.shop.history.len() {
            let order = self.shop.history[n].clone();
            let id = format!("sim-{}-order-{n}", self.seed);
            match self.shop.channel_of(&order) {
                Channel::Shopify => {
                    let body = self.shop.shopify_order(&order, "paid", Some(order.at + Duration::days(1)));
                    self.shopify("orders/create", &id, &body).await;
                }
                Channel::WooCommerce => self.woo("order.created", &id, &self.shop.woo_order(&order)).await,
            }
            done += 1;
            progress(done, total, "deliveries");
        }
        end_progress();
    }

    pub(super) async fn today(&mut self) {
        let now = self.live.now;
        let views: Vec<Value> = (0..self.shop.views.len())
            .map(|n| self.shop.api_view(n, now - Duration::minutes(40) + Duration::seconds(n as i64)))
            .collect();
        let tickets: Vec<Value> =
            self.shop.tickets.iter().map(|&c| self.shop.api_ticket(c, now - Duration::minutes(30))).collect();
        println!("    {} product views and {} support tickets through the generic API", views.len(), tickets.len());
        self.api(views).await;
        self.api(tickets).await;
        // Newcomers sign up for the newsletter on the shop's form: the welcome series.
        let signups: Vec<Value> = [("Inès", "fr"), ("Oscar", "en"), ("Léa", "fr")]
            .iter()
            .enumerate()
            .map(|(n, (name, locale))| {
                let at = now - Duration::minutes(20);
                json!({ "id": format!("signup-{}-{n}", self.seed), "type": "customer.signed_up", "occurred_at": at,
                        "identity": { "email": format!("newcomer{n}@demo.example") }, "context": { "locale": locale },
                        "data": { "first_name": name,
                                  "marketing_consent": { "state": "subscribed", "changed_at": at, "source": "newsletter" } } })
            })
            .collect();
        println!("    {} newsletter sign-ups through the generic API", signups.len());
        self.api(signups).await;
        let started = now - Duration::minutes(5);
        for n in 0..self.shop.checkouts.len() {
            let body = self.shop.shopify_checkout(n, started);
            let id = format!("sim-{}-checkout-{n}", self.seed);
            self.shopify("checkouts/create", &id, &body).await;
            if n % 4 == 0 {
                // Shopify delivers some webhooks twice.
                self.shopify("checkouts/create", &id, &body).await;
            }
            if self.shop.checkouts[n].fate == Fate::Completed {
                self.place(n).await;
            }
            progress(n + 1, self.shop.checkouts.len(), "checkouts");
        }
        end_progress();
    }

    /// The order completing checkout `n`, placed now.
    async fn place(&mut self, n: usize) {
        let order = self.shop.checkout_order(n, Utc::now().trunc_subsecs(0));
        let body = self.shop.shopify_order(&order, "pending", None);
        self.shopify("orders/create", &format!("sim-{}-checkout-order-{n}", self.seed), &body).await;
    }

    /// The customers whose fate is to come back after reminder `step` click it (SES reports
    /// the delivery, open and click) and order.
    pub(super) async fn come_back(&mut self, step_number: u32, before: usize) -> Result<usize, Error> {
        let mails = self.live.mails().await;
        let fresh = &mails[before.min(mails.len())..];
        let mut returned = Vec::new();
        for (n, checkout) in self.shop.checkouts.iter().enumerate() {
            if checkout.fate != Fate::ReturnsAfter(step_number) {
                continue;
            }
            let email = &self.shop.customers[checkout.customer].email;
            let Some(mail) = fresh.iter().find(|m| m.destination.to.contains(email)) else { continue };
            let key = message_key(&self.live.shop, &ExternalId::parse(&checkout.token)?, step_number);
            let signals = [Signal::Delivery, Signal::Open, Signal::Click];
            self.live.report_ses(mail, &key, &signals, Utc::now()).await;
            returned.push(n);
        }
        // A click, then the order: platforms stamp orders to the second, so the order must
        // come at least a second after the reminder to read as placed after it.
        tokio::time::sleep(Wait::from_millis(1_100)).await;
        for &n in &returned {
            self.place(n).await;
        }
        Ok(returned.len())
    }

    /// Today's orders, paid (`shipped`: false) or fulfilled with a tracking number.
    pub(super) async fn ship(&mut self, shipped: bool) {
        let mut count = 0;
        for order in self.todays_orders().await {
            let n = order.number - 5_001;
            if shipped {
                let fulfilled = self.shop.shopify_order(&order, "paid", Some(order.at + Duration::minutes(2)));
                self.shopify("orders/fulfilled", &format!("sim-{}-fulfilled-{n}", self.seed), &fulfilled).await;
            } else {
                let paid = self.shop.shopify_order(&order, "paid", None);
                self.shopify("orders/paid", &format!("sim-{}-paid-{n}", self.seed), &paid).await;
            }
            count += 1;
        }
        println!("    {count} orders {}", if shipped { "shipped" } else { "paid" });
    }

    /// Today's checkouts that became orders.
    async fn todays_orders(&self) -> Vec<Order> {
        let profiles = self.live.profiles().await;
        let placed: BTreeSet<String> = profiles.iter().flat_map(|p| p.orders.keys().map(|id| id.to_string())).collect();
        (0..self.shop.checkouts.len())
            .map(|n| self.shop.checkout_order(n, Utc::now().trunc_subsecs(0)))
            .filter(|order| placed.contains(&order.id.to_string()))
            .collect()
    }

    /// The carrier reports today's parcels delivered; the help desk closes its tickets.
    pub(super) async fn deliver_and_close(&mut self) {
        let now = Utc::now().trunc_subsecs(0);
        let mut events: Vec<Value> =
            self.todays_orders().await.iter().map(|order| self.shop.api_delivered(order, now)).collect();
        let delivered = events.len();
        events.extend(self.shop.tickets.iter().map(|&c| self.shop.api_ticket_closed(c, now)));
        println!("    {delivered} parcels delivered, {} tickets closed (generic API)", self.shop.tickets.len());
        self.api(events).await;
    }

    /// The next yearly edition of the catalogue's first line, as the shop's back office
    /// would publish it.
    pub(super) async fn publish_vintage(&mut self) {
        let line = self.shop.products.iter().filter(|p| p.edition.is_some()).max_by_key(|p| p.edition);
        let Some(latest) = line else { return };
        let year = latest.edition.unwrap_or(2023) + 1;
        let title = latest.title.replace(&latest.edition.unwrap_or_default().to_string(), &year.to_string());
        let event = json!({ "id": format!("vintage-{year}"), "type": "product.published", "occurred_at": self.live.now,
            "data": { "product_id": (latest.id + 1_000_000).to_string(), "title": title, "variant_title": "75 cl",
                      "price": { "minor": latest.price_eur_minor + 300, "currency": "EUR" },
                      "url": "http://localhost:8080/products/vintage", "categories": [latest.category] } });
        self.api(vec![event]).await;
    }

    /// A win-back campaign to the first non-empty segment of those a marketer would pick.
    pub(super) async fn campaign(&mut self) -> String {
        let profiles = self.live.profiles().await;
        let count = |name: &str| {
            profiles.iter().filter(|p| p.segment.and_then(|s| s.segment).is_some_and(|s| s.as_str() == name)).count()
        };
        // The segments the reactivation program leaves alone, the most populous first.
        let segment = ["about_to_sleep", "needs_attention", "cant_lose", "promising", "loyal"]
            .into_iter()
            .rev() // ties go to the first listed
            .max_by_key(|s| count(s))
            .filter(|s| count(s) > 0)
            .unwrap_or("champions");
        let name = format!("winback-{}", self.live.now.format("%Y-%m"));
        let mut detail = campaign(self.live.shop.as_str(), &name, segment);
        detail["discount_code"] = json!("MERCI10");
        println!("    PutEvents campaign.requested {detail}");
        self.live.request_campaign(&detail).await;
        segment.to_owned()
    }

    /// rfm-nightly, as its schedule's asynchronous invocation runs it: retried twice on an
    /// error (its `EventInvokeConfig`).
    pub(super) async fn nightly(&mut self) -> Result<(), Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let run = json!({ "run": "nightly", "shop": self.live.shop });
            match self.live.invoker.invoke("rfm-nightly", &run).await {
                Ok(_) => return Ok(()),
                Err(error) if attempt < 3 => println!("    rfm-nightly failed ({error}); Lambda retries it"),
                Err(error) => return Err(error.into()),
            }
        }
    }

    async fn shopify(&mut self, topic: &str, event_id: &str, body: &Value) {
        let mut answer = self.live.post_shopify(topic, event_id, body).await;
        // Shopify sends the same event (same id) again after a non-2xx.
        for _ in 0..self.resends() {
            if answer.status == 200 {
                break;
            }
            self.ingested.resent += 1;
            tokio::time::sleep(Wait::from_millis(200)).await;
            answer = self.live.post_shopify(topic, event_id, body).await;
        }
        self.ingested.count(topic, &answer);
    }

    /// How many times a retrying sender sends a refused delivery again.
    fn resends(&self) -> u32 {
        match self.senders {
            super::Senders::Once => 0,
            super::Senders::RetryLikePlatforms(times) => times,
        }
    }

    async fn woo(&mut self, topic: &str, delivery_id: &str, body: &Value) {
        let answer = self.live.post_woocommerce(topic, delivery_id, body).await;
        self.ingested.count(topic, &answer);
    }

    /// Generic-API events, in signed batches of at most [`API_BATCH`].
    async fn api(&mut self, events: Vec<Value>) {
        for batch in events.chunks(API_BATCH) {
            let mut answer = self.live.post_api_batch(batch).await;
            // An API client resends the same batch (same event ids, signed anew) after a 5xx.
            for _ in 0..self.resends() {
                if answer.status < 500 && answer.status != 409 {
                    break;
                }
                self.ingested.resent += 1;
                tokio::time::sleep(Wait::from_millis(200)).await;
                answer = self.live.post_api_batch(batch).await;
            }
            self.ingested.count("api batch", &answer);
        }
    }
}
