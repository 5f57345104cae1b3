//! Wiring: configuration, the shops document and clients once per cold start, then one
//! handler per input (bus event or fired schedule).

use cart_abandon_timer::{Deps, handle};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relance::aws::{DynamoProfileStore, EventBridgePublisher, EventBridgeScheduler, ScheduleTarget, load_shops};
use relance::config::{EnvReader, vars};
use relance::ports::SystemClock;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let mut env = EnvReader::from_process();
    let (table, bus, secret) =
        (env.required(vars::TABLE), env.required(vars::BUS), env.required(vars::SHOPS_SECRET_ARN));
    let target = ScheduleTarget::from_env(&mut env);
    env.finish()?;
    // A broken program definition stops the function here, before any event, with the
    // file, program and step at fault.
    relance::programs::catalogue().map_err(|e| e.to_string())?;
    let sdk = relance::aws::load_sdk_config().await;
    let shops = load_shops(&aws_sdk_secretsmanager::Client::new(&sdk), &secret).await?;
    let store = Arc::new(DynamoProfileStore::new(aws_sdk_dynamodb::Client::new(&sdk), table));
    let deps = Arc::new(Deps {
        store: store.clone(),
        affinities: store,
        publisher: Arc::new(EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&sdk), bus)),
        scheduler: Arc::new(EventBridgeScheduler::new(aws_sdk_scheduler::Client::new(&sdk), target)),
        shops: Arc::new(shops),
        clock: Arc::new(SystemClock),
    });
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handle(event.payload, &deps).await.map(|_| ()).map_err(Error::from) }
    }))
    .await
}
