//! Wiring: configuration, the shops document and clients once per cold start.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relance::aws::bootstrap::Bootstrap;
use relance::config::{Budget, Deployment, EnvReader};
use rfm_nightly::{Deps, handle};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let (config, budget) =
        EnvReader::from_process().read(|env| (Deployment::read(env), Budget::read(env, Budget::NIGHTLY)))?;
    let base = Bootstrap::load(&config.table, Some(&config.shops_secret), budget).await?;
    let deps = Arc::new(Deps {
        segments: base.store.clone(),
        affinities: base.store.clone(),
        profiles: base.store.clone(),
        runs: base.store.clone(),
        publisher: base.publisher(&config.bus),
        shops: base.shops.clone(),
        clock: base.clock.clone(),
    });
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        // The summaries answer a direct invocation (`relance import` prints them); Scheduler ignores them.
        async move { handle(event, &deps).await }
    }))
    .await
}
