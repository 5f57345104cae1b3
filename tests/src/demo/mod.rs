//! The demo `make demo` runs (`relance-demo`): plays a simulated shop against the running
//! local CRM, through the doors a real shop and a real marketer use, then reports what
//! Relance did. infra/local/demo.sh owns the processes; the demo attaches to them through
//! the end-to-end harness ([`LiveShop::attach`]).
//!
//! The shop ([`crate::sim`], seeded): a year of customers and orders as signed Shopify and
//! WooCommerce webhooks and generic-API events; last night's rfm-nightly run; today's
//! browsing and checkouts, about 70 % abandoned; reminders fired by the dispatcher (it
//! fast-forwards schedules), some customers clicking and coming back to order; the orders
//! prepared and shipped; a marketer's campaign put on the bus with `PutEvents`; a week
//! later, the reactivation's last chance ([`scenario`]). The figures printed and written to
//! `target/demo/report.html` are read back from the CRM's own records ([`summary`]).

mod figures;
mod scenario;
mod summary;

use crate::dispatcher::Report as Dispatched;
use crate::live::LiveShop;
use crate::signed::Answer;
use crate::sim::{Shop, Size};
use chrono::Duration;
use std::io::Write;
use std::time::Instant;

pub type Error = Box<dyn std::error::Error>;

const SHOPS: &str = include_str!("../../fixtures/shops.demo.json");
pub const DEFAULT_SEED: u64 = 2026;

/// What the shop's deliveries came to, from webhook-ingest's answers.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ingested {
    pub deliveries: usize,
    pub published: u64,
    pub duplicates: u64,
    /// Deliveries refused for good (after the platform's own retries, if it retries).
    pub refused: usize,
    /// Deliveries answered non-2xx and sent again, as Shopify and API clients do.
    pub resent: usize,
}

impl Ingested {
    /// Counts one answer; a refusal is printed, and fails the demo at the end.
    fn count(&mut self, what: &str, answer: &Answer) {
        self.deliveries += 1;
        if answer.status == 200 {
            self.published += answer.published();
            self.duplicates += answer.duplicates();
        } else {
            self.refused += 1;
            println!("\n    {} {what}: {}", answer.status, answer.body["error"].as_str().unwrap_or("?"));
        }
    }
}

/// How the platforms' senders treat a non-2xx answer (SPECS: Shopify webhooks retries 8
/// times over 4 hours; WooCommerce never retries a delivery; API clients are told to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Senders {
    /// Every delivery is sent once: any refusal fails the demo.
    Once,
    /// Shopify and API deliveries answered non-2xx are sent again, up to this many times.
    RetryLikePlatforms(u32),
}

struct Demo {
    live: LiveShop,
    shop: Shop,
    seed: u64,
    senders: Senders,
    ingested: Ingested,
    dispatched: Dispatched,
}

/// What a played shop came to.
pub struct Played {
    pub live: LiveShop,
    pub ingested: Ingested,
    pub dispatched: Dispatched,
    /// The segment the marketer's campaign went to.
    pub campaign_segment: String,
}

/// The whole demo against the `cargo lambda watch` at `lambda_url`, the shop of `seed`.
pub async fn run(lambda_url: &str, seed: u64) -> Result<(), Error> {
    let started = Instant::now();
    step("webhook-ingest answers on its function URL (the first call compiles it)");
    let live = LiveShop::attach(lambda_url, SHOPS).await;
    let mut demo = Demo::new(live, seed, Size::default(), Senders::Once);
    demo.play().await?;
    step("reading the results back from the CRM's records");
    let summary = demo.summary(started).await?;
    let ok = summary.check();
    println!("    wrote {}", summary.path.display());
    // The customer with the most orders, for `relance profile` at the end (infra/local/demo.sh).
    let best = demo.live.profiles().await.into_iter().max_by_key(|p| (p.orders.len(), p.id.clone()));
    if let Some(email) = best.as_ref().and_then(|p| p.email()) {
        std::fs::write(summary.path.with_file_name("customer.txt"), email.to_string())?;
    }
    ok
}

/// The demo's scenario on `live`'s shop, the shop of `seed` at `size`: the same deliveries
/// and dispatches as `make demo`, without its report (the chaos test plays it twice).
pub async fn play(live: LiveShop, seed: u64, size: Size, senders: Senders) -> Result<Played, Error> {
    let mut demo = Demo::new(live, seed, size, senders);
    let campaign_segment = demo.play().await?;
    Ok(Played { live: demo.live, ingested: demo.ingested, dispatched: demo.dispatched, campaign_segment })
}

impl Demo {
    fn new(live: LiveShop, seed: u64, size: Size, senders: Senders) -> Self {
        let shop = Shop::generate(seed, size, live.now);
        Demo { live, shop, seed, senders, ingested: Ingested::default(), dispatched: Dispatched::default() }
    }

    /// Every step of the scenario; returns the campaign's segment.
    async fn play(&mut self) -> Result<String, Error> {
        let demo = self;
        let seed = demo.seed;
        println!(
            "    the shop: {} customers, {} products, {} orders over the past year, {} checkouts today (seed {seed})",
            demo.shop.customers.len(),
            demo.shop.products.len(),
            demo.shop.history.len(),
            demo.shop.checkouts.len()
        );

        step("a year of history: sign-ups and orders, as Shopify and WooCommerce webhooks and API calls");
        demo.history().await;
        demo.dispatch("profiles built", Duration::zero()).await;

        step("last night: rfm-nightly scores every customer; the reactivation program follows");
        demo.nightly().await?;
        demo.dispatch("segments filed, reactivation mails sent", Duration::zero()).await;

        step("today: customers browse, open tickets, sign up and check out; about 70 % abandon");
        demo.today().await;
        demo.dispatch("checkouts armed, order confirmations sent", Duration::zero()).await;

        for (step_index, minutes) in [20, 120, 360].into_iter().enumerate() {
            let step_number = step_index as u32 + 1;
            step(&format!("{minutes} minutes later: reminder {step_number} (the dispatcher fast-forwards schedules)"));
            let after = Duration::minutes(minutes + 1);
            let before = demo.live.mails().await.len();
            demo.dispatch("reminders due", after).await;
            let returned = demo.come_back(step_number, before).await?;
            println!("    {returned} customers clicked their reminder and ordered");
            demo.dispatch("recovered orders applied, series stopped", after).await;
        }

        step("today's orders are paid: the warehouse prepares them");
        demo.ship(false).await;
        demo.dispatch("preparing mails sent", Duration::hours(7)).await;
        step("the warehouse ships them");
        demo.ship(true).await;
        demo.dispatch("shipped mails sent", Duration::hours(7)).await;

        step("the next day: parcels delivered, the help desk closes today's tickets");
        demo.deliver_and_close().await;
        demo.dispatch("delivered mails and satisfaction surveys sent", Duration::days(1)).await;

        step("the new vintage is published through the API: Château Relance millésime 2024");
        demo.publish_vintage().await;
        demo.dispatch("buyers of earlier vintages told, at 10:00 their time", Duration::days(1) + Duration::hours(7))
            .await;

        step("a marketer sends a campaign to a segment with `aws events put-events`");
        let segment = demo.campaign().await;
        demo.dispatch(&format!("campaign sent to {segment}"), Duration::hours(7)).await;

        step("a week later: the reactivation's last chance");
        demo.dispatch("last-chance mails sent", Duration::days(8)).await;
        Ok(segment)
    }

    /// Runs everything due `after` the start, and says what it came to.
    async fn dispatch(&mut self, what: &str, after: Duration) {
        let clock = Instant::now();
        let report = self.live.run(after).await;
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

/// Ends a counter [`progress`] drew in place.
fn end_progress() {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        println!();
    }
}
