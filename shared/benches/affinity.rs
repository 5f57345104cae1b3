//! The nightly affinity count: products bought together over a shop's customers (what
//! rfm-nightly adds to its pass over the profiles), and one suggestion as the affinity
//! program computes it when its mail is due.
//!
//! Run: `cargo bench -p relance --no-default-features --bench affinity`.

#[allow(dead_code)]
mod support;

use chrono::{TimeZone, Utc};
use relance::ids::{ExternalId, ProfileId, ShopId};
use relance::lattice::{Lww, Stamp};
use relance::money::{Currency, Money};
use relance::profile::{BoughtProduct, Profile};
use relance::programs::affinity::{CoOccurrence, suggest};
use std::hint::black_box;
use std::time::Instant;
use support::{measure, print_machine};

/// `n` customers over a catalogue of `products`: most buy 1–2 products, a few up to 12,
/// popular products far more often (a shop's long tail).
fn customers(n: usize, products: u64, seed: u64) -> Vec<Profile> {
    let mut next = support::xorshift(seed);
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
    let stamp = Stamp { at, event: relance::ids::EventId::parse("bench").unwrap() };
    let shop = ShopId::parse("bench").unwrap();
    let eur = Currency::parse("EUR").unwrap();
    (0..n)
        .map(|i| {
            let mut profile = Profile::new(shop.clone(), ProfileId::parse(format!("p{i}")).unwrap(), at);
            let u = (next() % 1_000) as f64 / 1_000.0;
            let basket = ((1.0 / (1.0 - u).powf(0.6)).floor() as usize).clamp(1, 12);
            for _ in 0..basket {
                // Squared uniform: low ids (best sellers) come up far more often.
                let r = (next() % 10_000) as f64 / 10_000.0;
                let product = ((r * r) * products as f64) as u64;
                profile.products.insert(
                    ExternalId::parse(format!("prod{product}")).unwrap(),
                    BoughtProduct {
                        title: Lww::new(format!("Produit {product}"), stamp.clone()),
                        variant_title: None,
                        vendor: None,
                        first_bought_at: at,
                        last_bought_at: at + chrono::Duration::days((next() % 300) as i64),
                        quantity: 1,
                        orders: 1,
                        unit_price: Some(Lww::new(Money::from_minor(1_000 + product as i64, eur), stamp.clone())),
                        image_url: None,
                        categories: [format!("cat{}", product % 12)].into_iter().collect(),
                    },
                );
            }
            profile
        })
        .collect()
}

fn main() {
    print_machine();
    println!("\n| customers | products | count + table s | customers/s | table entries |");
    println!("|---:|---:|---:|---:|---:|");
    let mut last = None;
    for (n, products) in [(100_000usize, 500u64), (1_000_000, 2_000)] {
        let profiles = customers(n, products, 7);
        let started = Instant::now();
        let mut together = CoOccurrence::default();
        for profile in &profiles {
            together.add(black_box(profile));
        }
        let table = together.finish();
        let elapsed = started.elapsed().as_secs_f64();
        println!("| {n} | {products} | {elapsed:.2} | {:.0} | {} |", n as f64 / elapsed, table.len());
        last = Some((profiles, table));
    }
    let Some((profiles, table)) = last else { return };
    // One suggestion: the entries of a 3-product order, ranked against what the customer has.
    let seeds: Vec<_> = table.iter().take(3).cloned().collect();
    let stats = measure(|| {
        black_box(suggest(black_box(&seeds), &profiles[0], 3));
    });
    println!(
        "\nsuggest (3 seed entries of {} companions each): median {:.1} µs, p99 {:.1} µs ({} iterations)",
        relance::programs::affinity::COMPANIONS,
        stats.median,
        stats.p99,
        stats.iterations
    );
}
