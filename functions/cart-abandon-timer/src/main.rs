//! Wiring: configuration, the shops document and clients once per cold start, then one
//! handler per input (bus event or fired schedule).

use cart_abandon_timer::{Deps, handle};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relance::aws::ScheduleTarget;
use relance::aws::bootstrap::{Bootstrap, check_programs};
use relance::config::{Budget, ConfigError, Deployment, EnvReader};
use std::sync::Arc;

struct Config {
    budget: Budget,
    deployment: Deployment,
    target: ScheduleTarget,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        EnvReader::from_process().read(|env| Config {
            budget: Budget::read(env, Budget::WORKER),
            deployment: Deployment::read(env),
            target: ScheduleTarget::from_env(env),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let config = Config::from_env()?;
    check_programs()?;
    let Config { budget, deployment, target } = config;
    let base = Bootstrap::load(&deployment.table, Some(&deployment.shops_secret), budget).await?;
    let deps = Arc::new(Deps {
        store: base.store.clone(),
        affinities: base.store.clone(),
        publisher: base.publisher(&deployment.bus),
        scheduler: base.scheduler(target),
        shops: base.shops.clone(),
        clock: base.clock.clone(),
    });
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handle(event.payload, &deps).await.map(|_| ()) }
    }))
    .await
}
