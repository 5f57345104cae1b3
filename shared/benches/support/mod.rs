//! What the bench binaries share: timing each iteration on its own, and naming the machine.

use std::time::{Duration, Instant};

/// Time spent on each measured item, after calibration.
pub const TARGET: Duration = Duration::from_millis(300);
pub const MIN_ITERATIONS: usize = 1_000;
/// Bounds the sample buffer when an iteration costs next to nothing (the timer check).
pub const MAX_ITERATIONS: usize = 2_000_000;

/// Microseconds per iteration.
pub struct Stats {
    pub iterations: usize,
    pub median: f64,
    pub p99: f64,
    pub mean: f64,
}

/// Warms up, picks an iteration count for about [`TARGET`] (at least [`MIN_ITERATIONS`]),
/// then times every iteration on its own.
pub fn measure(mut f: impl FnMut()) -> Stats {
    let warm_up = Instant::now();
    let mut calls = 0u32;
    while warm_up.elapsed() < TARGET / 10 {
        f();
        calls += 1;
    }
    let per_call = warm_up.elapsed() / calls;
    let iterations = ((TARGET.as_nanos() / per_call.as_nanos().max(1)) as usize).clamp(MIN_ITERATIONS, MAX_ITERATIONS);
    let mut samples: Vec<f64> = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        f();
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);
    let rank = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats { iterations, median: rank(0.5), p99: rank(0.99), mean: samples.iter().sum::<f64>() / iterations as f64 }
}

/// A xorshift generator: synthetic data the same on every run, without a dependency. (Not
/// every bench binary generates data: each compiles this module on its own.)
#[allow(dead_code)]
pub fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// Prints cores, CPU model and compiler, for BENCHMARKS.md.
pub fn print_machine() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map_or_else(|| "unknown".to_owned(), |out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    println!("Machine: nproc {cores}, CPU {cpu}, {rustc}; single-threaded, profile `bench` (= release).");
}
