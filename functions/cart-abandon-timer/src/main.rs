//! Wiring: configuration, the shops document and clients once per cold start, then one
//! handler per input (bus event or fired schedule).

use cart_abandon_timer::{Deps, handle};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relance::aws::ScheduleTarget;
use relance::aws::bootstrap::{Bootstrap, check_programs};
use relance::config::{ConfigError, EnvReader, vars};
use std::sync::Arc;

struct Config {
    table: String,
    bus: String,
    shops_secret: String,
    target: ScheduleTarget,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        EnvReader::from_process().read(|env| Config {
            table: env.required(vars::TABLE),
            bus: env.required(vars::BUS),
            shops_secret: env.required(vars::SHOPS_SECRET_ARN),
            target: ScheduleTarget::from_env(env),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let config = Config::from_env()?;
    check_programs()?;
    let base = Bootstrap::load(&config.table, Some(&config.shops_secret)).await?;
    let deps = Arc::new(Deps {
        store: base.store.clone(),
        affinities: base.store.clone(),
        publisher: base.publisher(&config.bus),
        scheduler: base.scheduler(config.target),
        shops: base.shops.clone(),
        clock: base.clock.clone(),
    });
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handle(event.payload, &deps).await.map(|_| ()) }
    }))
    .await
}
