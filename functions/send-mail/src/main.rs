//! Wiring: configuration, the shops document and clients once per cold start, then one
//! handler per mail request.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relance::aws::bootstrap::{Bootstrap, check_programs};
use relance::aws::{ScheduleTarget, SesMailer};
use relance::config::{Budget, ConfigError, Deployment, EnvReader, vars};
use send_mail::{Deps, handle};
use std::sync::Arc;

struct Config {
    budget: Budget,
    deployment: Deployment,
    sender: String,
    configuration_set: String,
    /// webhook-ingest's public base URL, for unsubscribe links.
    public_url: String,
    /// Deferred mail comes back through the timer, like a reminder.
    target: ScheduleTarget,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        EnvReader::from_process().read(|env| Config {
            budget: Budget::read(env, Budget::WORKER),
            deployment: Deployment::read(env),
            sender: env.required(vars::SENDER),
            configuration_set: env.required(vars::CONFIGURATION_SET),
            public_url: env.required(vars::PUBLIC_URL),
            target: ScheduleTarget::from_env(env),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let config = Config::from_env()?;
    check_programs()?;
    let deployment = &config.deployment;
    let base = Bootstrap::load(&deployment.table, Some(&deployment.shops_secret), config.budget).await?;
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&base.sdk), config.sender, config.configuration_set);
    let deps = Arc::new(Deps {
        store: base.store.clone(),
        segments: base.store.clone(),
        publisher: base.publisher(&deployment.bus),
        mailer: Arc::new(mailer),
        scheduler: base.scheduler(config.target),
        shops: base.shops.clone(),
        clock: base.clock.clone(),
        public_url: config.public_url,
    });
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let deps = deps.clone();
        async move { handle(event, &deps).await.map(|_| ()) }
    }))
    .await
}
