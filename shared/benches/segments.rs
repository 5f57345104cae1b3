//! rfm-nightly's scoring, in memory: profiles per second and peak memory for 1 M and 10 M
//! synthetic customers, and the same 1 M scored by pandas' `qcut` (the usual Python RFM)
//! in the same run, for the ratio and the agreement.
//!
//! Run: `cargo bench -p relance --no-default-features --bench segments` (the pandas part
//! needs `.venv/bin/python` with pandas: `make bench` installs it).

// The machine line and the generator are shared here; the timing loop suits micro-benchmarks.
#[allow(dead_code)]
mod support;

use relance::segments::Segment;
use relance::segments::rfm::{RfmInput, score};
use std::hint::black_box;
use std::io::Write;
use std::time::Instant;
use support::print_machine;

/// Skewed like a shop: most customers order once, a few very often; spend log-ish.
fn synthetic(n: usize, seed: u64) -> Vec<RfmInput> {
    let mut next = support::xorshift(seed);
    (0..n)
        .map(|_| {
            let u = (next() % 1_000_000) as f64 / 1_000_000.0;
            let orders = (1.0 / (1.0 - u).powf(0.7)).floor().min(200.0) as u32; // Pareto-like
            RfmInput {
                recency_days: (next() % 730) as u32,
                orders: orders.max(1),
                monetary: 1_000 + (next() % 40_000) as i64 + i64::from(orders % 7) * 500,
            }
        })
        .collect()
}

/// Peak resident memory of the process so far, in MiB (Linux `VmHWM`).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    print_machine();
    println!("\n| profiles | scoring (3 quintile passes + segment) s | profiles/s | peak RSS MiB |");
    println!("|---:|---:|---:|---:|");
    let mut one_million = None;
    for n in [1_000_000usize, 10_000_000] {
        let inputs = synthetic(n, 42);
        let started = Instant::now();
        let scores = score(black_box(&inputs));
        let segments: Vec<Segment> = scores.iter().map(|s| Segment::of(*s)).collect();
        let elapsed = started.elapsed().as_secs_f64();
        black_box(&segments);
        println!("| {n} | {elapsed:.2} | {:.0} | {:.0} |", n as f64 / elapsed, peak_mib());
        if n == 1_000_000 {
            one_million = Some((inputs, scores, elapsed));
        }
    }
    let Some((inputs, scores, rust_seconds)) = one_million else { return };
    pandas(&inputs, &scores, rust_seconds);
}

/// Writes the 1 M inputs and our scores, runs `segments_pandas.py` on them.
fn pandas(inputs: &[RfmInput], scores: &[relance::segments::rfm::RfmScore], rust_seconds: f64) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-segments");
    std::fs::create_dir_all(&dir).expect("a writable target directory");
    let csv = dir.join("rfm.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&csv).expect("a writable CSV"));
    writeln!(out, "recency,frequency,monetary,r,f,m").expect("write");
    for (i, s) in inputs.iter().zip(scores) {
        writeln!(out, "{},{},{},{},{},{}", i.recency_days, i.orders, i.monetary, s.r, s.f, s.m).expect("write");
    }
    drop(out);
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/segments_pandas.py");
    match std::process::Command::new(&python).arg(&script).arg(&csv).arg(format!("{rust_seconds}")).status() {
        Ok(status) if status.success() => {}
        other => println!("\n(pandas comparison not run: {other:?}; `make bench` installs pandas into .venv)"),
    }
}
