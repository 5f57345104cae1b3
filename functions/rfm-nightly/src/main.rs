//! Wiring: configuration, the shops document and clients once per cold start.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relance::aws::{DynamoProfileStore, EventBridgePublisher, load_shops};
use relance::config::{EnvReader, vars};
use relance::ports::SystemClock;
use rfm_nightly::{Deps, handle};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let mut env = EnvReader::from_process();
    let (table, bus, secret) =
        (env.required(vars::TABLE), env.required(vars::BUS), env.required(vars::SHOPS_SECRET_ARN));
    env.finish()?;
    let sdk = relance::aws::load_sdk_config().await;
    let shops = load_shops(&aws_sdk_secretsmanager::Client::new(&sdk), &secret).await?;
    let store = Arc::new(DynamoProfileStore::new(aws_sdk_dynamodb::Client::new(&sdk), table));
    let deps = Arc::new(Deps {
        segments: store.clone(),
        affinities: store.clone(),
        profiles: store.clone(),
        runs: store,
        publisher: Arc::new(EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&sdk), bus)),
        shops: Arc::new(shops),
        clock: Arc::new(SystemClock),
    });
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handle(event, &deps).await.map(|_| ()).map_err(Error::from) }
    }))
    .await
}
