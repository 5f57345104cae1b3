//! `relance-demo`: plays a simulated shop against the running local CRM, through the doors
//! a real shop and a real marketer use, then reports what Relance did. Started by
//! `make demo` (infra/local/demo.sh), which owns the processes.
//!
//! The shop ([`relance_tests::sim`], seeded): a year of customers and orders as signed
//! Shopify and WooCommerce webhooks and generic-API events; last night's rfm-nightly run;
//! today's browsing and checkouts, about 70 % abandoned; reminders fired by the dispatcher
//! (it fast-forwards schedules), some customers clicking and coming back to order; the
//! orders prepared and shipped; a marketer's campaign put on the bus with `PutEvents`; a
//! week later, the reactivation's last chance. The figures printed and written to
//! `target/demo/report.html` are read back from the CRM's own records.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use relance::aws::DynamoProfileStore;
use relance::ids::{ProfileId, ShopId};
use relance::ports::{ProfileStore, SegmentStore};
use relance::profile::{Profile, Record};
use relance::signature::{Secret, sign_base64_hmac_sha256, sign_timestamped};
use relance_tests::dispatcher::{Dispatcher, Report as Dispatched};
use relance_tests::invoke::{Invoker, WatchInvoker};
use relance_tests::mailbox::{StoredMail, sent_mails};
use relance_tests::report::{Amount, MailCard, ProgramRow, Report, SegmentBar};
use relance_tests::ses_events::{Signal, entry};
use relance_tests::sim::{Channel, Fate, Shop, Size};
use relance_tests::stack::LocalStack;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration as Wait, Instant};

type Error = Box<dyn std::error::Error>;

const SHOPS: &str = include_str!("../../fixtures/shops.demo.json");
const SHOP: &str = "demo.myshopify.com";
const UNSUBSCRIBE_SECRET: &str = "local-unsubscribe-secret";
const FIRST_BUILD_WAIT: Wait = Wait::from_secs(900);
const DEFAULT_SEED: u64 = 2026;

/// What the shop's deliveries came to, from webhook-ingest's answers.
#[derive(Default)]
struct Ingested {
    deliveries: usize,
    published: u64,
    duplicates: u64,
    refused: usize,
}

struct Demo {
    stack: LocalStack,
    http: reqwest::Client,
    base: String,
    invoker: Arc<WatchInvoker>,
    dispatcher: Dispatcher,
    shop: Shop,
    seed: u64,
    now: DateTime<Utc>,
    ingested: Ingested,
    dispatched: Dispatched,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let lambda_url = args.next().unwrap_or_else(|| "http://127.0.0.1:9000".to_owned());
    let seed = match std::env::var("RELANCE_DEMO_SEED") {
        Ok(seed) => seed.parse()?,
        Err(_) => DEFAULT_SEED,
    };
    let started = Instant::now();
    let stack = LocalStack::connect().await?;
    stack.put_shops(SHOPS).await.map_err(|e| e.to_string())?;
    let invoker = Arc::new(WatchInvoker::new(&lambda_url));
    let dispatcher = Dispatcher::new(stack.sqs(), stack.scheduler(), invoker.clone(), stack.targets.clone());
    let now = Utc::now().trunc_subsecs(0);
    let mut demo = Demo {
        stack,
        http: reqwest::Client::new(),
        base: format!("{lambda_url}/lambda-url/webhook-ingest"),
        invoker,
        dispatcher,
        shop: Shop::generate(seed, Size::default(), now),
        seed,
        now,
        ingested: Ingested::default(),
        dispatched: Dispatched::default(),
    };

    step("webhook-ingest answers on its function URL (the first call compiles it)");
    wait_for_health(&demo.http, &demo.base).await?;
    println!(
        "    the shop: {} customers, {} products, {} orders over the past year, {} checkouts today (seed {seed})",
        demo.shop.customers.len(),
        demo.shop.products.len(),
        demo.shop.history.len(),
        demo.shop.checkouts.len()
    );

    step("a year of history: sign-ups and orders, as Shopify and WooCommerce webhooks and API calls");
    demo.history().await?;
    demo.dispatch("profiles built", demo.now).await?;

    step("last night: rfm-nightly scores every customer; the reactivation program follows");
    demo.invoker.invoke("rfm-nightly", &json!({ "run": "nightly" })).await?;
    demo.dispatch("segments filed, reactivation mails sent", demo.now).await?;

    step("today: customers browse, open tickets, sign up and check out; about 70 % abandon");
    demo.today().await?;
    demo.dispatch("checkouts armed, order confirmations sent", demo.now).await?;

    let delays = [20, 120, 360];
    for (step_index, minutes) in delays.iter().enumerate() {
        let step_number = step_index as u32 + 1;
        step(&format!("{minutes} minutes later: reminder {step_number} (the dispatcher fast-forwards schedules)"));
        let at = demo.now + Duration::minutes(minutes + 1);
        let before = demo.mail_count().await?;
        demo.dispatch("reminders due", at).await?;
        let returned = demo.come_back(step_number, before).await?;
        println!("    {returned} customers clicked their reminder and ordered");
        demo.dispatch("recovered orders applied, series stopped", at).await?;
    }

    step("today's orders are paid: the warehouse prepares them");
    demo.ship(false).await?;
    demo.dispatch("preparing mails sent", demo.now + Duration::hours(7)).await?;
    step("the warehouse ships them");
    demo.ship(true).await?;
    demo.dispatch("shipped mails sent", demo.now + Duration::hours(7)).await?;

    step("the next day: parcels delivered, the help desk closes today's tickets");
    demo.deliver_and_close().await?;
    demo.dispatch("delivered mails and satisfaction surveys sent", demo.now + Duration::days(1)).await?;

    step("the new vintage is published through the API: Château Relance millésime 2024");
    demo.publish_vintage().await?;
    demo.dispatch(
        "buyers of earlier vintages told, at 10:00 their time",
        demo.now + Duration::days(1) + Duration::hours(7),
    )
    .await?;

    step("a marketer sends a campaign to a segment with `aws events put-events`");
    let segment = demo.campaign().await?;
    demo.dispatch(&format!("campaign sent to {segment}"), demo.now + Duration::hours(7)).await?;

    step("a week later: the reactivation's last chance");
    demo.dispatch("last-chance mails sent", demo.now + Duration::days(8)).await?;

    step("reading the results back from the CRM's records");
    let summary = demo.summary(started).await?;
    let ok = summary.check();
    println!("    wrote {}", summary.path.display());
    ok
}

impl Demo {
    async fn history(&mut self) -> Result<(), Error> {
        let total = self.shop.customers.len() + self.shop.history.len();
        let mut done = 0;
        let mut consents = Vec::new();
        for index in 0..self.shop.customers.len() {
            match self.shop.customers[index].channel {
                Channel::Shopify => {
                    let body = self.shop.shopify_customer(index);
                    self.shopify("customers/create", &format!("sim-{}-customer-{index}", self.seed), &body).await?;
                }
                Channel::WooCommerce => {
                    let body = self.shop.woo_customer(index);
                    self.woo("customer.created", &format!("sim-{}-customer-{index}", self.seed), &body).await?;
                    consents.extend(self.shop.api_consent(index));
                }
            }
            done += 1;
            progress(done, total, "deliveries");
        }
        self.api(consents).await?;
        for n in 0..self.shop.history.len() {
            let order = self.shop.history[n].clone();
            let id = format!("sim-{}-order-{n}", self.seed);
            match self.shop.channel_of(&order) {
                Channel::Shopify => {
                    let body = self.shop.shopify_order(&order, "paid", Some(order.at + Duration::days(1)));
                    self.shopify("orders/create", &id, &body).await?;
                }
                Channel::WooCommerce => self.woo("order.created", &id, &self.shop.woo_order(&order)).await?,
            }
            done += 1;
            progress(done, total, "deliveries");
        }
        end_progress();
        Ok(())
    }

    async fn today(&mut self) -> Result<(), Error> {
        let views: Vec<Value> = (0..self.shop.views.len())
            .map(|n| self.shop.api_view(n, self.now - Duration::minutes(40) + Duration::seconds(n as i64)))
            .collect();
        let tickets: Vec<Value> =
            self.shop.tickets.iter().map(|&c| self.shop.api_ticket(c, self.now - Duration::minutes(30))).collect();
        println!("    {} product views and {} support tickets through the generic API", views.len(), tickets.len());
        self.api(views).await?;
        self.api(tickets).await?;
        // Newcomers sign up for the newsletter on the shop's form: the welcome series.
        let signups: Vec<Value> = [("Inès", "fr"), ("Oscar", "en"), ("Léa", "fr")]
            .iter()
            .enumerate()
            .map(|(n, (name, locale))| {
                let at = self.now - Duration::minutes(20);
                json!({ "id": format!("signup-{}-{n}", self.seed), "type": "customer.signed_up", "occurred_at": at,
                        "identity": { "email": format!("newcomer{n}@demo.example") }, "context": { "locale": locale },
                        "data": { "first_name": name,
                                  "marketing_consent": { "state": "subscribed", "changed_at": at, "source": "newsletter" } } })
            })
            .collect();
        println!("    {} newsletter sign-ups through the generic API", signups.len());
        self.api(signups).await?;
        let started = self.now - Duration::minutes(5);
        for n in 0..self.shop.checkouts.len() {
            let body = self.shop.shopify_checkout(n, started);
            let id = format!("sim-{}-checkout-{n}", self.seed);
            self.shopify("checkouts/create", &id, &body).await?;
            if n % 4 == 0 {
                // Shopify delivers some webhooks twice.
                self.shopify("checkouts/create", &id, &body).await?;
            }
            if self.shop.checkouts[n].fate == Fate::Completed {
                self.place(n).await?;
            }
            progress(n + 1, self.shop.checkouts.len(), "checkouts");
        }
        end_progress();
        Ok(())
    }

    /// The order completing checkout `n`, placed now.
    async fn place(&mut self, n: usize) -> Result<(), Error> {
        let order = self.shop.checkout_order(n, Utc::now().trunc_subsecs(0));
        let body = self.shop.shopify_order(&order, "pending", None);
        self.shopify("orders/create", &format!("sim-{}-checkout-order-{n}", self.seed), &body).await
    }

    /// The customers whose fate is to come back after reminder `step` click it (SES reports
    /// the delivery, open and click) and order.
    async fn come_back(&mut self, step_number: u32, before: usize) -> Result<usize, Error> {
        let mails = sent_mails(self.stack.var("RELANCE_SES_EMULATOR_URL")?).await?;
        let fresh = &mails[before.min(mails.len())..];
        let shop = ShopId::parse(SHOP)?;
        let events = aws_sdk_eventbridge::Client::new(&self.stack.sdk);
        let mut returned = Vec::new();
        for (n, checkout) in self.shop.checkouts.iter().enumerate() {
            if checkout.fate != Fate::ReturnsAfter(step_number) {
                continue;
            }
            let email = &self.shop.customers[checkout.customer].email;
            let Some(mail) = fresh.iter().find(|m| m.destination.to.contains(email)) else { continue };
            let key = relance::programs::checkout::message_key(
                &shop,
                &relance::ids::ExternalId::parse(&checkout.token)?,
                step_number,
            );
            let at = Utc::now();
            let entries = [Signal::Delivery, Signal::Open, Signal::Click]
                .into_iter()
                .map(|signal| entry(mail, UNSUBSCRIBE_SECRET, &key, signal, at))
                .collect::<Result<Vec<_>, _>>()?;
            events.put_events().set_entries(Some(entries)).send().await?;
            returned.push(n);
        }
        // A click, then the order: platforms stamp orders to the second, so the order must
        // come at least a second after the reminder to read as placed after it.
        tokio::time::sleep(Wait::from_millis(1_100)).await;
        for &n in &returned {
            self.place(n).await?;
        }
        Ok(returned.len())
    }

    /// Today's orders are paid (preparing) then fulfilled with a tracking number (shipped).
    /// Today's orders, paid (`shipped`: false) or fulfilled.
    async fn ship(&mut self, shipped: bool) -> Result<(), Error> {
        let mut count = 0;
        for order in self.todays_orders().await? {
            let n = order.number - 5_001;
            if shipped {
                let fulfilled = self.shop.shopify_order(&order, "paid", Some(order.at + Duration::minutes(2)));
                self.shopify("orders/fulfilled", &format!("sim-{}-fulfilled-{n}", self.seed), &fulfilled).await?;
            } else {
                let paid = self.shop.shopify_order(&order, "paid", None);
                self.shopify("orders/paid", &format!("sim-{}-paid-{n}", self.seed), &paid).await?;
            }
            count += 1;
        }
        println!("    {count} orders {}", if shipped { "shipped" } else { "paid" });
        Ok(())
    }

    /// Today's checkouts that became orders.
    async fn todays_orders(&self) -> Result<Vec<relance_tests::sim::Order>, Error> {
        let profiles = self.profiles().await?;
        let placed: BTreeSet<String> = profiles.iter().flat_map(|p| p.orders.keys().map(|id| id.to_string())).collect();
        Ok((0..self.shop.checkouts.len())
            .map(|n| self.shop.checkout_order(n, Utc::now().trunc_subsecs(0)))
            .filter(|order| placed.contains(&order.id.to_string()))
            .collect())
    }

    /// The carrier reports today's parcels delivered; the help desk closes its tickets.
    async fn deliver_and_close(&mut self) -> Result<(), Error> {
        let now = Utc::now().trunc_subsecs(0);
        let mut events: Vec<Value> =
            self.todays_orders().await?.iter().map(|order| self.shop.api_delivered(order, now)).collect();
        let delivered = events.len();
        events.extend(self.shop.tickets.iter().map(|&c| self.shop.api_ticket_closed(c, now)));
        println!("    {delivered} parcels delivered, {} tickets closed (generic API)", self.shop.tickets.len());
        self.api(events).await
    }

    /// A win-back campaign to the first non-empty segment of those a marketer would pick.
    async fn campaign(&mut self) -> Result<String, Error> {
        let profiles = self.profiles().await?;
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
        let detail = json!({
            "shop": SHOP, "campaign": format!("winback-{}", self.now.format("%Y-%m")), "segment": segment,
            "template": "reactivation", "discount_code": "MERCI10",
        });
        println!("    PutEvents campaign.requested {detail}");
        aws_sdk_eventbridge::Client::new(&self.stack.sdk)
            .put_events()
            .entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(self.stack.var("RELANCE_BUS")?)
                    .source("marketing.team")
                    .detail_type("campaign.requested")
                    .detail(detail.to_string())
                    .build(),
            )
            .send()
            .await?;
        Ok(segment.to_owned())
    }

    async fn dispatch(&mut self, what: &str, at: DateTime<Utc>) -> Result<(), Error> {
        let clock = Instant::now();
        let report = self.dispatcher.run_until_idle(at).await?;
        println!(
            "    dispatcher: {} deliveries, {} schedules fired, {} retried, {} dead-lettered ({:.1} s) — {what}",
            report.events_delivered,
            report.schedules_fired,
            report.retries,
            report.dead_lettered,
            clock.elapsed().as_secs_f64()
        );
        self.dispatched.events_delivered += report.events_delivered;
        self.dispatched.schedules_fired += report.schedules_fired;
        self.dispatched.retries += report.retries;
        self.dispatched.dead_lettered += report.dead_lettered;
        Ok(())
    }

    async fn mail_count(&self) -> Result<usize, Error> {
        Ok(sent_mails(self.stack.var("RELANCE_SES_EMULATOR_URL")?).await?.len())
    }

    fn store(&self) -> Result<DynamoProfileStore, Error> {
        Ok(DynamoProfileStore::new(self.stack.dynamodb(), self.stack.var("RELANCE_TABLE")?))
    }

    async fn profiles(&self) -> Result<Vec<Profile>, Error> {
        let store = self.store()?;
        let shop = ShopId::parse(SHOP)?;
        let (mut profiles, mut cursor) = (Vec::new(), None);
        loop {
            let page = store.profiles_page(&shop, cursor).await?;
            profiles.extend(page.profiles.into_iter().map(|p| p.value));
            cursor = page.next;
            if cursor.is_none() {
                return Ok(profiles);
            }
        }
    }

    async fn shopify(&mut self, topic: &str, event_id: &str, body: &Value) -> Result<(), Error> {
        let secret = Secret::new("local-shopify-secret".to_owned())?;
        let body = body.to_string().into_bytes();
        let response = self
            .http
            .post(format!("{}/webhooks/shopify", self.base))
            .header("content-type", "application/json")
            .header("x-shopify-topic", topic)
            .header("x-shopify-shop-domain", SHOP)
            .header("x-shopify-event-id", event_id)
            .header("x-shopify-hmac-sha256", sign_base64_hmac_sha256(&secret, &body))
            .body(body)
            .send()
            .await?;
        self.count(topic, response).await
    }

    async fn woo(&mut self, topic: &str, delivery_id: &str, body: &Value) -> Result<(), Error> {
        let secret = Secret::new("local-woocommerce-secret".to_owned())?;
        let body = body.to_string().into_bytes();
        let response = self
            .http
            .post(format!("{}/webhooks/woocommerce", self.base))
            .header("content-type", "application/json")
            .header("x-wc-webhook-source", "http://woo.localhost/")
            .header("x-wc-webhook-topic", topic)
            .header("x-wc-webhook-delivery-id", delivery_id)
            .header("x-wc-webhook-signature", sign_base64_hmac_sha256(&secret, &body))
            .body(body)
            .send()
            .await?;
        self.count(topic, response).await
    }

    /// Generic-API events, in signed batches of at most 100.
    /// The next yearly edition of the catalogue's first line, as the shop's back office
    /// would publish it.
    async fn publish_vintage(&mut self) -> Result<(), Error> {
        let line = self.shop.products.iter().filter(|p| p.edition.is_some()).max_by_key(|p| p.edition);
        let Some(latest) = line else { return Ok(()) };
        let year = latest.edition.unwrap_or(2023) + 1;
        let title = latest.title.replace(&latest.edition.unwrap_or_default().to_string(), &year.to_string());
        let event = json!({ "id": format!("vintage-{year}"), "type": "product.published", "occurred_at": self.now,
            "data": { "product_id": (latest.id + 1_000_000).to_string(), "title": title, "variant_title": "75 cl",
                      "price": { "minor": latest.price_eur_minor + 300, "currency": "EUR" },
                      "url": "http://localhost:8080/products/vintage", "categories": [latest.category] } });
        self.api(vec![event]).await
    }

    async fn api(&mut self, events: Vec<Value>) -> Result<(), Error> {
        let secret = Secret::new("local-api-secret".to_owned())?;
        for batch in events.chunks(100) {
            let body = json!({ "events": batch }).to_string();
            let response = self
                .http
                .post(format!("{}/v1/events", self.base))
                .header("content-type", "application/json")
                .header("x-relance-shop", SHOP)
                .header("x-relance-signature", sign_timestamped(&secret, body.as_bytes(), Utc::now()))
                .body(body)
                .send()
                .await?;
            self.count("api batch", response).await?;
        }
        Ok(())
    }

    async fn count(&mut self, what: &str, response: reqwest::Response) -> Result<(), Error> {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        self.ingested.deliveries += 1;
        if status == 200 {
            self.ingested.published += body["result"]["published"].as_u64().unwrap_or(0);
            self.ingested.duplicates += body["result"]["duplicates"].as_u64().unwrap_or(0);
        } else {
            self.ingested.refused += 1;
            println!("\n    {status} {what}: {}", body["error"].as_str().unwrap_or("?"));
        }
        Ok(())
    }

    /// The results, read back from the CRM's records and the SES emulator.
    async fn summary(&self, started: Instant) -> Result<Summary, Error> {
        let store = self.store()?;
        let shop = ShopId::parse(SHOP)?;
        let profiles = self.profiles().await?;
        let mut records: BTreeMap<ProfileId, Vec<Record>> = BTreeMap::new();
        for profile in &profiles {
            records.insert(profile.id.clone(), store.records(&shop, &profile.id).await?);
        }
        let all: Vec<&Record> = records.values().flatten().collect();
        let messages: Vec<&relance::profile::records::MessageRecord> = all
            .iter()
            .filter_map(|r| match r {
                Record::Message(m) if m.sent_at.is_some() => Some(m),
                _ => None,
            })
            .collect();
        let program_of = |m: &relance::profile::records::MessageRecord| {
            m.program.clone().unwrap_or_else(|| m.key.split(':').next().unwrap_or("?").to_owned())
        };

        // Checkouts: abandoned = got a reminder; recovered = completed after one.
        let today: BTreeSet<&str> = self.shop.checkouts.iter().map(|c| c.token.as_str()).collect();
        let orders: BTreeMap<String, &relance::profile::records::OrderRecord> = all
            .iter()
            .filter_map(|r| match r {
                Record::Order(o) => Some((o.order_id.to_string(), o)),
                _ => None,
            })
            .collect();
        let (mut abandoned, mut recovered_count) = (0u64, 0u64);
        let mut recovered: BTreeMap<String, (i64, u64)> = BTreeMap::new();
        for record in &all {
            let Record::Checkout(checkout) = record else { continue };
            if checkout.cart || !today.contains(checkout.token.as_str()) {
                continue;
            }
            let reminders: Vec<DateTime<Utc>> = (1..=3)
                .filter_map(|step| {
                    let key = relance::programs::checkout::message_key(&shop, &checkout.token, step);
                    messages.iter().find(|m| m.key == key).and_then(|m| m.sent_at)
                })
                .collect();
            let Some(first) = reminders.iter().min() else { continue };
            abandoned += 1;
            if checkout.completed_at.is_some_and(|done| done > *first) {
                recovered_count += 1;
                let total = checkout
                    .order_id
                    .as_ref()
                    .and_then(|id| orders.get(id.as_str()))
                    .and_then(|o| o.total.as_ref())
                    .map(|t| t.amount);
                if let Some(total) = total {
                    let slot = recovered.entry(total.currency().to_string()).or_default();
                    slot.0 += total.minor();
                    slot.1 += 1;
                }
            }
        }

        // Results per program, as the CRM computes them from each customer's records.
        let mut results = relance::programs::results::Results::default();
        for profile in &profiles {
            results.add(profile, records.get(&profile.id).map(Vec::as_slice).unwrap_or_default());
        }

        // Segments and the RFM grid, from the standings rfm-nightly wrote.
        let mut segments: BTreeMap<String, u64> = BTreeMap::new();
        let mut grid = [[0u64; 5]; 5];
        for profile in &profiles {
            let Some(state) = profile.segment else { continue };
            if let (Some(segment), Some(score)) = (state.segment, state.score) {
                *segments.entry(segment.as_str().to_owned()).or_default() += 1;
                grid[usize::from(score.r.clamp(1, 5) - 1)][usize::from(score.f.clamp(1, 5) - 1)] += 1;
            }
        }
        // Predicted value, as rfm-nightly wrote it with the standings (shops with history
        // enough for a model).
        let outlooks: Vec<relance::clv::Prediction> =
            profiles.iter().filter_map(|p| p.segment.and_then(|s| s.outlook)).collect();
        let mut predicted: BTreeMap<String, i64> = BTreeMap::new();
        for outlook in &outlooks {
            *predicted.entry(outlook.value_12m.currency().to_string()).or_default() += outlook.value_12m.minor();
        }
        let lapsing = outlooks.iter().filter(|o| o.is_lapsing(Utc::now())).count();
        let top_decile = outlooks.iter().filter(|o| o.value_top_percent.is_some_and(|p| p <= 10)).count();
        let shares = self.revenue_shares().await.unwrap_or_default();
        let mails = sent_mails(self.stack.var("RELANCE_SES_EMULATOR_URL")?).await?;

        let money = |minor: i64| format!("{}.{:02}", minor / 100, (minor % 100).abs());
        let report = Report {
            shop: SHOP.to_owned(),
            generated_at: Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            seed: self.seed,
            figures: vec![],
            segments: relance::segments::Segment::ALL
                .iter()
                .filter_map(|s| {
                    let profiles = segments.get(s.as_str()).copied()?;
                    Some(SegmentBar {
                        name: s.as_str().to_owned(),
                        profiles,
                        revenue_share: format!("{:.1}", shares.get(s.as_str()).copied().unwrap_or(0.0) * 100.0),
                    })
                })
                .collect(),
            grid,
            recovered: recovered
                .iter()
                .map(|(c, (minor, n))| Amount { currency: c.clone(), amount: money(*minor), orders: *n })
                .collect(),
            programs: results
                .by_program
                .iter()
                .filter(|(_, r)| r.sent > 0)
                .map(|(program, r)| ProgramRow {
                    program: program.clone(),
                    sent: r.sent,
                    delivered: r.delivered,
                    opened: r.opened,
                    clicked: r.clicked,
                    unsubscribes: r.unsubscribes,
                    orders: r.orders,
                    revenue: r
                        .revenue
                        .iter()
                        .map(|(c, minor)| format!("{c} {}", money(*minor)))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            mails: gallery(&mails, &messages.iter().map(|m| (m.provider_id.clone(), program_of(m))).collect()),
            viewer_url: format!("{}/", self.stack.var("RELANCE_SES_EMULATOR_URL")?.trim_end_matches('/')),
        };
        let mut summary = Summary {
            lines: vec![
                ("deliveries to webhook-ingest".into(), self.ingested.deliveries.to_string()),
                ("canonical events published".into(), self.ingested.published.to_string()),
                ("duplicates absorbed".into(), self.ingested.duplicates.to_string()),
                ("deliveries refused".into(), self.ingested.refused.to_string()),
                ("function invocations by the dispatcher".into(), self.dispatched.events_delivered.to_string()),
                ("schedules fired".into(), self.dispatched.schedules_fired.to_string()),
                ("dead-lettered".into(), self.dispatched.dead_lettered.to_string()),
                ("customer profiles".into(), profiles.len().to_string()),
                ("checkouts started today".into(), self.shop.checkouts.len().to_string()),
                ("checkouts abandoned (reminded)".into(), abandoned.to_string()),
                ("checkouts recovered".into(), recovered_count.to_string()),
                (
                    "recovered revenue".into(),
                    report
                        .recovered
                        .iter()
                        .map(|a| format!("{} {}", a.currency, a.amount))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                ("mails sent".into(), mails.len().to_string()),
                ("customers with a value outlook".into(), outlooks.len().to_string()),
                (
                    "predicted value, next 12 months".into(),
                    predicted.iter().map(|(c, v)| format!("{c} {}", money(*v))).collect::<Vec<_>>().join(", "),
                ),
                ("top 10 % by predicted value".into(), top_decile.to_string()),
                ("lapsing (next order a month late)".into(), lapsing.to_string()),
                ("run time".into(), format!("{:.0} s", started.elapsed().as_secs_f64())),
            ],
            programs: results.by_program.iter().filter(|(_, r)| r.sent > 0).map(|(p, r)| (p.clone(), r.sent)).collect(),
            segments: segments.clone(),
            recovered: recovered_count,
            refused: self.ingested.refused,
            outlooks: outlooks.len(),
            path: PathBuf::new(),
            report,
        };
        summary.report.figures = summary.lines.clone();
        summary.print();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/demo");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("report.html"), summary.report.render()?)?;
        summary.path = dir.join("report.html").canonicalize()?;
        Ok(summary)
    }

    /// Revenue share per segment from the summary rfm-nightly stored.
    async fn revenue_shares(&self) -> Result<BTreeMap<String, f64>, Error> {
        let item = self
            .stack
            .dynamodb()
            .get_item()
            .table_name(self.stack.var("RELANCE_TABLE")?)
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("SHOP#{SHOP}#SUMMARY")))
            .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("SEGMENTS".into()))
            .send()
            .await?
            .item
            .ok_or("no summary stored")?;
        let summary: Value =
            serde_dynamo::from_attribute_value(item.get("summary").cloned().ok_or("no summary attribute")?)?;
        Ok(summary["segments"]
            .as_object()
            .map(|segments| {
                segments.iter().map(|(name, f)| (name.clone(), f["revenue_share"].as_f64().unwrap_or(0.0))).collect()
            })
            .unwrap_or_default())
    }
}

/// The mails as the emulator holds them, newest first, with the program that sent each.
fn gallery(mails: &[StoredMail], programs: &BTreeMap<Option<String>, String>) -> Vec<MailCard> {
    mails
        .iter()
        .rev()
        .map(|mail| MailCard {
            to: mail.destination.to.join(", "),
            subject: mail.subject.clone(),
            program: programs.get(&Some(mail.message_id.clone())).cloned().unwrap_or_else(|| "?".to_owned()),
            html: offline(mail.body.html.as_deref().unwrap_or_default()),
        })
        .collect()
}

/// A mail's HTML without its web-font imports: the report is opened offline, and a font
/// that cannot load only falls back to the mail's own fallback fonts.
fn offline(html: &str) -> String {
    html.lines()
        .filter(|line| !(line.contains("fonts.googleapis.com") || line.trim_start().starts_with("@import url(")))
        .collect::<Vec<_>>()
        .join("\n")
}

struct Summary {
    lines: Vec<(String, String)>,
    programs: BTreeMap<String, u64>,
    segments: BTreeMap<String, u64>,
    recovered: u64,
    refused: usize,
    outlooks: usize,
    path: PathBuf,
    report: Report,
}

/// The programs live today: the demo fails if one of them sent nothing.
const LIVE_PROGRAMS: [&str; 11] = [
    "abandoned-checkout",
    "welcome",
    "order-confirmation",
    "order-preparing",
    "order-shipped",
    "order-delivered",
    "review-request",
    "satisfaction",
    "visits-scenario",
    "yearly-edition",
    "reactivation",
];

impl Summary {
    fn print(&self) {
        println!();
        println!("Summary");
        for (label, value) in &self.lines {
            println!("  {label:<40} {value}");
        }
        println!("  mails per program");
        for (program, sent) in &self.programs {
            println!("    {program:<38} {sent}");
        }
        println!("  customers per segment");
        for (segment, count) in &self.segments {
            println!("    {segment:<38} {count}");
        }
        println!("  SES emulator's viewer (while the stack runs) {}", self.report.viewer_url);
    }

    fn check(&self) -> Result<(), Error> {
        if self.refused > 0 {
            return Err("webhook-ingest refused some of the shop's deliveries".into());
        }
        if self.recovered == 0 {
            return Err("no abandoned checkout was recovered".into());
        }
        let silent: Vec<&str> =
            LIVE_PROGRAMS.into_iter().filter(|p| !self.programs.keys().any(|k| k.starts_with(p))).collect();
        if !silent.is_empty() {
            return Err(format!("live programs that sent nothing: {silent:?}").into());
        }
        if !self.programs.keys().any(|k| k.starts_with("campaign")) {
            return Err("the campaign sent nothing".into());
        }
        if self.segments.is_empty() {
            return Err("rfm-nightly filed nobody in a segment".into());
        }
        if self.outlooks == 0 {
            return Err("rfm-nightly wrote no value outlook".into());
        }
        Ok(())
    }
}

fn step(what: &str) {
    println!("==> {what}");
}

/// A counter redrawn in place on a terminal; in a log, a line every 50 and at the end.
fn progress(done: usize, total: usize, what: &str) {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        print!("\r    {done}/{total} {what}");
        let _ = std::io::stdout().flush();
    } else if done.is_multiple_of(50) || done == total {
        println!("    {done}/{total} {what}");
    }
}

async fn wait_for_health(http: &reqwest::Client, base: &str) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        match http.get(format!("{base}/health")).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            _ if started.elapsed() > FIRST_BUILD_WAIT => return Err(format!("{base}/health did not answer").into()),
            _ => tokio::time::sleep(Wait::from_secs(1)).await,
        }
    }
}

/// Ends a counter [`progress`] drew in place.
fn end_progress() {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        println!();
    }
}
