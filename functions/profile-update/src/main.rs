//! Wiring: configuration and clients once per cold start, then one handler per event.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use profile_update::{Deps, handle};
use relance::aws::bootstrap::Bootstrap;
use relance::aws::{EventBridgeScheduler, S3ExportSink};
use relance::config::{Budget, ConfigError, EnvReader, vars};
use relance::use_cases::gdpr::Paging;
use std::sync::Arc;

struct Config {
    budget: Budget,
    table: String,
    bus: String,
    /// Erasure cancels the customer's pending schedules in this group.
    schedule_group: String,
    /// Data exports are written to this bucket (template: `ExportsBucket`).
    exports_bucket: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        EnvReader::from_process().read(|env| Config {
            budget: Budget::read(env, Budget::WORKER),
            table: env.required(vars::TABLE),
            bus: env.required(vars::BUS),
            schedule_group: env.required(vars::SCHEDULE_GROUP),
            exports_bucket: env.required(vars::EXPORTS_BUCKET),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let config = Config::from_env()?;
    let base = Bootstrap::load(&config.table, None, config.budget).await?;
    let scheduler = EventBridgeScheduler::cancel_only(aws_sdk_scheduler::Client::new(&base.sdk), config.schedule_group);
    let exports = S3ExportSink::new(S3ExportSink::client(&base.sdk), config.exports_bucket);
    let deps = Arc::new(Deps {
        store: base.store.clone(),
        publisher: base.publisher(&config.bus),
        scheduler: Arc::new(scheduler),
        tombstones: base.store.clone(),
        shop_eraser: base.store.clone(),
        shop_paging: Paging::default(),
        exports: Arc::new(exports),
        clock: base.clock.clone(),
    });
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let deps = deps.clone();
        async move { handle(event, &deps).await.map(|_| ()) }
    }))
    .await
}
