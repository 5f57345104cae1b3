//! Wiring: configuration and clients once per cold start, then one handler per event.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use profile_update::{Deps, handle};
use relance::aws::{DynamoProfileStore, EventBridgePublisher, EventBridgeScheduler};
use relance::config::{EnvReader, vars};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let mut env = EnvReader::from_process();
    let (table, bus, group) = (env.required(vars::TABLE), env.required(vars::BUS), env.required(vars::SCHEDULE_GROUP));
    env.finish()?;
    let sdk = relance::aws::load_sdk_config().await;
    let deps = Arc::new(Deps {
        store: Arc::new(DynamoProfileStore::new(aws_sdk_dynamodb::Client::new(&sdk), table)),
        publisher: Arc::new(EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&sdk), bus)),
        scheduler: Arc::new(EventBridgeScheduler::cancel_only(aws_sdk_scheduler::Client::new(&sdk), group)),
    });
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let deps = deps.clone();
        async move { handle(event, &deps).await.map(|_| ()).map_err(Error::from) }
    }))
    .await
}
