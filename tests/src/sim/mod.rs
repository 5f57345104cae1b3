//! The simulated shop `make demo` plays: a catalogue, customers with a year of orders, and
//! today's browsing and checkouts — generated from a seed, so two runs with the same seed
//! and start time send the same deliveries.
//!
//! What is simulated is the shop, never Relance: [`bodies`] turns the plan into the
//! webhook bodies Shopify and WooCommerce send and the generic API's events, which go to
//! webhook-ingest over HTTP like a real shop's.

pub mod bodies;
pub mod catalogue;

use catalogue::{Currency, Product, ascii, catalogue};
use chrono::{DateTime, Duration, Utc};

/// Where a customer shops: the shop runs a Shopify storefront and a WooCommerce one (its
/// wholesale site), which Relance unifies by e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Shopify,
    WooCommerce,
}

#[derive(Debug, Clone)]
pub struct Customer {
    /// The platform's id (Shopify's are 64-bit; WooCommerce's small).
    pub id: u64,
    pub email: String,
    pub first_name: String,
    pub locale: &'static str,
    pub currency: Currency,
    pub subscribed: bool,
    pub channel: Channel,
    pub signed_up_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub product: usize,
    pub quantity: u32,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: u64,
    pub number: u32,
    pub customer: usize,
    pub at: DateTime<Utc>,
    pub lines: Vec<Line>,
    /// The checkout it completes (today's orders; past ones are history).
    pub checkout: Option<String>,
}

/// What becomes of one of today's checkouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Ordered at once: never abandoned.
    Completed,
    /// Abandoned; comes back and orders after reminder `n`.
    ReturnsAfter(u32),
    /// Abandoned for good.
    Lost,
}

#[derive(Debug, Clone)]
pub struct Checkout {
    pub token: String,
    pub customer: usize,
    pub lines: Vec<Line>,
    pub fate: Fate,
}

#[derive(Debug, Clone)]
pub struct Shop {
    pub products: Vec<Product>,
    pub customers: Vec<Customer>,
    /// The past year's orders, oldest first.
    pub history: Vec<Order>,
    /// Today: product views (customer, product), before the checkouts.
    pub views: Vec<(usize, usize)>,
    pub checkouts: Vec<Checkout>,
    /// Customers who open a support ticket today.
    pub tickets: Vec<usize>,
}

/// How big a shop to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub customers: usize,
    pub checkouts: usize,
}

impl Default for Size {
    /// Enough for every segment and program to show, small enough for a demo of minutes.
    fn default() -> Self {
        Size { customers: 64, checkouts: 30 }
    }
}

const FIRST_NAMES: [&str; 16] = [
    "Anne",
    "Bruno",
    "Chloé",
    "David",
    "Émilie",
    "François",
    "Gaëlle",
    "Hugo",
    "Inès",
    "Jules",
    "Karim",
    "Léa",
    "Manon",
    "Nathan",
    "Olivia",
    "Paul",
];

impl Shop {
    /// The shop of `seed`, its history ending at `now`.
    pub fn generate(seed: u64, size: Size, now: DateTime<Utc>) -> Shop {
        let mut rng = fastrand::Rng::with_seed(seed);
        let products = catalogue();
        let mut customers = Vec::with_capacity(size.customers);
        for n in 0..size.customers {
            let locale = if rng.u32(0..100) < 65 { "fr" } else { "en" };
            let currency = match (locale, rng.u32(0..100)) {
                ("fr", _) => Currency::Eur,
                (_, 0..50) => Currency::Usd,
                (_, 50..80) => Currency::Gbp,
                _ => Currency::Eur,
            };
            let channel = if rng.u32(0..100) < 80 { Channel::Shopify } else { Channel::WooCommerce };
            let first_name = FIRST_NAMES[n % FIRST_NAMES.len()];
            let id = match channel {
                Channel::Shopify => 7_100_000_000_000 + (n as u64) * 7_919 + rng.u64(0..7_000),
                Channel::WooCommerce => 300 + n as u64,
            };
            customers.push(Customer {
                id,
                email: format!(
                    "{}.{n:03}@example.{}",
                    ascii(first_name).to_lowercase(),
                    if locale == "fr" { "fr" } else { "com" }
                ),
                first_name: first_name.to_owned(),
                locale,
                currency,
                subscribed: rng.u32(0..100) < 75,
                channel,
                signed_up_at: now - Duration::days(i64::from(rng.u32(200..400))),
            });
        }

        // A year of orders, Pareto-like: most customers order once, a few often; a quarter
        // never ordered; some stopped long ago (the reactivation program's audience).
        let mut history = Vec::new();
        for (index, customer) in customers.iter().enumerate() {
            if rng.u32(0..100) < 25 {
                continue;
            }
            let u = rng.f64().max(1e-9);
            let orders = (1.0 / u.powf(1.0 / 1.3)).floor().clamp(1.0, 14.0) as u32;
            let lapsed = rng.u32(0..100) < 30;
            let (from, until) = if lapsed { (360, 130) } else { (330, 2) };
            let first_day = i64::from(rng.u32(until.max(1)..from)).min((now - customer.signed_up_at).num_days());
            let mut days: Vec<i64> = (0..orders)
                .map(|_| {
                    i64::from(rng.u32(until..u32::try_from(first_day.max(i64::from(until) + 1)).unwrap_or(until + 1)))
                })
                .collect();
            days.sort_unstable_by(|a, b| b.cmp(a));
            for day in days {
                let at = now - Duration::days(day) - Duration::minutes(i64::from(rng.u32(0..600)));
                history.push(Order {
                    id: 0,
                    number: 0,
                    customer: index,
                    at,
                    lines: basket(&mut rng, &products),
                    checkout: None,
                });
            }
        }
        history.sort_by_key(|o| o.at);
        for (n, order) in history.iter_mut().enumerate() {
            order.number = 1_001 + n as u32;
            order.id = match customers[order.customer].channel {
                Channel::Shopify => 5_800_000_000_000 + n as u64 * 101,
                Channel::WooCommerce => 9_000 + n as u64,
            };
        }

        // Today: a third of the customers browse; some check out on the Shopify storefront
        // (WooCommerce sends no checkout webhooks); about 70 % of checkouts are abandoned.
        let mut views = Vec::new();
        for index in 0..customers.len() {
            if rng.u32(0..100) < 35 {
                for _ in 0..rng.u32(1..5) {
                    views.push((index, rng.usize(0..products.len())));
                }
            }
        }
        let shoppers: Vec<usize> = (0..customers.len()).filter(|&i| customers[i].channel == Channel::Shopify).collect();
        let mut checkouts = Vec::new();
        for (n, &customer) in shoppers
            .iter()
            .cycle()
            .skip(rng.usize(0..shoppers.len().max(1)))
            .take(size.checkouts.min(shoppers.len()))
            .enumerate()
        {
            let roll = rng.u32(0..100);
            let fate = match roll {
                0..30 => Fate::Completed,
                30..48 => Fate::ReturnsAfter(1),
                48..56 => Fate::ReturnsAfter(2),
                _ => Fate::Lost,
            };
            checkouts.push(Checkout {
                token: format!("{:016x}{:016x}", seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), rng.u64(..) ^ n as u64),
                customer,
                lines: basket(&mut rng, &products),
                fate,
            });
        }
        let tickets = (0..customers.len()).filter(|_| rng.u32(0..100) < 5).collect();
        Shop { products, customers, history, views, checkouts, tickets }
    }

    /// The line items' total in the customer's currency, in minor units.
    pub fn total(&self, customer: usize, lines: &[Line]) -> i64 {
        let currency = self.customers[customer].currency;
        lines.iter().map(|l| self.products[l.product].price(currency) * i64::from(l.quantity)).sum()
    }
}

/// One to three products, wine more often than the rest.
fn basket(rng: &mut fastrand::Rng, products: &[Product]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for _ in 0..rng.u32(1..4) {
        let product = rng.usize(0..products.len());
        if !lines.iter().any(|l| l.product == product) {
            lines.push(Line { product, quantity: rng.u32(1..3) });
        }
    }
    lines
}

#[cfg(test)]
mod tests;
