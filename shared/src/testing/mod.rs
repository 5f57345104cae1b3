//! Test support shared by the workspace's property tests.
//!
//! Each property test takes its configuration from [`proptest_config`]: its own number of
//! cases unless `PROPTEST_CASES` says otherwise (the long exploration, `make explore`), and a
//! seed that is always known — `PROPTEST_RNG_SEED` when set (CI sets a fixed one, so a red
//! run means the change broke something), else a fresh one, printed, so a failure found
//! while exploring can be replayed. proptest also writes every failing case it shrinks to
//! `proptest-regressions/`, replayed first on every run: commit those files.
//!
//! Fuzzing ([`mutate`], [`fuzz`], [`fixtures`]) lives here too, beside the property tests'
//! configuration, for the same reason: both crates with parsers (this one's normalisers,
//! money and signatures; webhook-ingest's routes) drive the same mutator and runner, and
//! neither may reach production code (feature `fakes`, like the in-memory ports).

pub mod fixtures;
pub mod fuzz;
pub mod mutate;
pub mod oddities;

use proptest::test_runner::{Config, RngSeed};

/// The configuration of a property test that runs `cases` cases by default.
pub fn proptest_config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    let mut config = Config { cases, ..Config::default() };
    let seed = match config.rng_seed {
        RngSeed::Fixed(seed) => seed,
        RngSeed::Random => fresh_seed(),
    };
    config.rng_seed = RngSeed::Fixed(seed);
    // Shown by the test harness only when the test fails.
    eprintln!("proptest: replay with PROPTEST_RNG_SEED={seed} PROPTEST_CASES={}", config.cases);
    config
}

fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    hasher.finish()
}
