//! Wiring: configuration, the shops document and clients once per cold start, then one
//! handler per mail request.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relance::aws::{
    DynamoProfileStore, EventBridgePublisher, EventBridgeScheduler, ScheduleTarget, SesMailer, load_shops,
};
use relance::config::{EnvReader, vars};
use relance::ports::SystemClock;
use send_mail::{Deps, handle};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let mut env = EnvReader::from_process();
    let (table, bus, secret) =
        (env.required(vars::TABLE), env.required(vars::BUS), env.required(vars::SHOPS_SECRET_ARN));
    let (sender, configuration_set, public_url) =
        (env.required(vars::SENDER), env.required(vars::CONFIGURATION_SET), env.required(vars::PUBLIC_URL));
    // Deferred mail comes back through the timer, like a reminder.
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
        segments: store,
        publisher: Arc::new(EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&sdk), bus)),
        mailer: Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(&sdk), sender, configuration_set)),
        scheduler: Arc::new(EventBridgeScheduler::new(aws_sdk_scheduler::Client::new(&sdk), target)),
        shops: Arc::new(shops),
        clock: Arc::new(SystemClock),
        public_url,
    });
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let deps = deps.clone();
        async move { handle(event, &deps).await.map(|_| ()).map_err(Error::from) }
    }))
    .await
}
