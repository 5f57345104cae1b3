//! Fuzz targets of this crate's parsers: the Shopify and WooCommerce normalisers, money and
//! the webhook signatures, fed structured mutations of real inputs
//! ([`crate::testing::mutate`]). The property everywhere: no panic; an input is either taken
//! in (a canonical event came out, one a consumer can read back) or refused with a reason
//! that is not empty.
//!
//! Each target runs twice: a short seeded pass in every `cargo test` (CI fixes the seed), and
//! the long run of `make fuzz` (10,000,000 inputs per target, `#[ignore]`d here so that only
//! that command, in an optimised build, pays for it). The webhook-ingest crate drives the
//! same mutations through the HTTP handler.

mod money;
mod normalise;
mod signature;

use crate::testing::fuzz::Campaign;

/// Inputs per target in the short pass: a second or so in a debug build.
const SHORT: u64 = 1_500;
/// The normalisers read fixtures of up to 28 KB: fewer inputs for the same second.
const SHORT_NORMALISER: u64 = 400;

fn short() -> Campaign {
    Campaign::short(SHORT)
}

fn short_normaliser() -> Campaign {
    Campaign::short(SHORT_NORMALISER)
}

fn long() -> Campaign {
    Campaign::long()
}
