//! Predicted customer value: fit and scoring time for 10 k, 1 M and 10 M synthetic
//! customers drawn from a BG/NBD process, and the same customers through the reference
//! Python library (lifetimes) in the same run, for the ratio.
//!
//! Run: `cargo bench -p relance --no-default-features --bench clv` (the lifetimes part
//! needs `.venv/bin/python` with lifetimes: `make bench` installs it).

#[allow(dead_code)]
mod support;

use chrono::{Duration, TimeZone, Utc};
use relance::clv::{Customer, FitSettings, TimeUnit, fit};
use relance::money::Currency;
use std::hint::black_box;
use std::io::Write;
use std::time::Instant;
use support::print_machine;

/// xorshift, then the few distributions the process needs (Marsaglia–Tsang for the gamma).
struct Random(u64);

impl Random {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        (-2.0 * self.uniform().ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }

    fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        if shape < 1.0 {
            return self.gamma(shape + 1.0, rate) * self.uniform().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v > 0.0 && self.uniform().ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v / rate;
            }
        }
    }

    fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        x / (x + self.gamma(b, 1.0))
    }
}

/// Customers of a shop two years old: λ ~ Gamma(0.5, 20) purchases a day, dropout after
/// each purchase p ~ Beta(0.8, 2.5), order values Gamma(6, 6/40 €) around a customer mean.
fn synthetic(n: usize, seed: u64, now: chrono::DateTime<Utc>) -> Vec<Customer> {
    let mut random = Random(seed | 1);
    (0..n)
        .map(|_| {
            let age = 1.0 + random.uniform() * 729.0;
            let rate = random.gamma(0.5, 20.0);
            let dropout = random.beta(0.8, 2.5);
            let (mut t, mut repeat, mut last) = (0.0, 0u32, 0.0);
            loop {
                t += -random.uniform().ln() / rate;
                if t > age {
                    break;
                }
                repeat += 1;
                last = t;
                if random.uniform() < dropout {
                    break;
                }
            }
            let first = now - Duration::days(age as i64);
            let mean = random.gamma(6.0, 6.0 / 40.0);
            Customer {
                first_order: first,
                last_order: first + Duration::days(last as i64),
                orders: repeat + 1,
                mean_order_minor: (mean * 100.0) as i64 + 100,
            }
        })
        .collect()
}

fn main() {
    print_machine();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
    let settings = FitSettings { unit: TimeUnit::Days, penalty: 0.0, currency: Currency::parse("EUR").unwrap() };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-clv");
    std::fs::create_dir_all(&dir).expect("a writable target directory");
    println!(
        "\n| customers | distinct histories fitted | Relance fit s | Relance scoring s | customers scored/s | r, α, a, b (true 0.5, 20, 0.8, 2.5) |"
    );
    println!("|---:|---:|---:|---:|---:|---|");
    let mut files = Vec::new();
    for n in [10_000usize, 1_000_000, 10_000_000] {
        let customers = synthetic(n, 7, now);
        let started = Instant::now();
        let model = fit(black_box(&customers), now, settings).expect("the synthetic shop fits");
        let fitted = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut value = 0i64;
        for customer in &customers {
            value = value.wrapping_add(model.predict(customer, now).value_12m.minor());
        }
        black_box(value);
        let scored = started.elapsed().as_secs_f64();
        let p = model.purchases;
        println!(
            "| {n} | {} | {fitted:.2} | {scored:.2} | {:.0} | {:.3}, {:.2}, {:.3}, {:.3} |",
            model.distinct_histories,
            n as f64 / scored,
            p.r,
            p.alpha,
            p.a,
            p.b
        );
        let csv = dir.join(format!("customers-{n}.csv"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&csv).expect("a writable CSV"));
        writeln!(out, "frequency,recency,T,monetary_value").expect("write");
        for c in &customers {
            let h = c.history(now, TimeUnit::Days);
            writeln!(out, "{},{},{},{:.2}", h.repeat, h.recency, h.age, c.mean_order_minor as f64 / 100.0)
                .expect("write");
        }
        drop(out);
        files.push((n, csv, fitted, scored));
    }
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/clv_lifetimes.py");
    let mut command = std::process::Command::new(&python);
    command.arg(&script);
    for (n, csv, fitted, scored) in &files {
        command.arg(format!("{n}:{}:{fitted}:{scored}", csv.display()));
    }
    match command.status() {
        Ok(status) if status.success() => {}
        other => println!("\n(lifetimes comparison not run: {other:?}; `make bench` installs it into .venv)"),
    }
}
