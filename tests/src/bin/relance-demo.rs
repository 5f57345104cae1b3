//! `relance-demo [lambda URL]`: the demo `make demo` runs against the `cargo lambda watch`
//! that infra/local/demo.sh started (see [`relance_tests::demo`]). `RELANCE_DEMO_SEED`
//! picks another shop.

use relance_tests::demo::{DEFAULT_SEED, Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let lambda_url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:9000".to_owned());
    let seed = match std::env::var("RELANCE_DEMO_SEED") {
        Ok(seed) => seed.parse()?,
        Err(_) => DEFAULT_SEED,
    };
    run(&lambda_url, seed).await
}
