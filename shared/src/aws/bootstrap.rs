//! What every function builds once per cold start: the SDK configuration, the shops
//! document, the table's store and the clock, then the clients its use case needs, all
//! from one SDK configuration (each client holds a connection pool: building one per event
//! would waste it). Each function's own `Config::from_env` says which variables it reads.

use super::{
    DynamoProfileStore, EventBridgePublisher, EventBridgeScheduler, LoadShopsError, ScheduleTarget,
    SecretsManagerShopsSource, load_shops,
};
use crate::config::Budget;
use crate::directory::Directory;
use crate::ports::{Clock, SystemClock};
use crate::programs::definition::DefinitionError;
use crate::shops::Shops;
use std::sync::Arc;

/// The parts every function shares.
pub struct Bootstrap {
    pub sdk: aws_config::SdkConfig,
    /// The shops document read at cold start, read again while the instance lives.
    pub shops: Arc<Directory>,
    /// The single table: profiles, records, segments, affinities, runs.
    pub store: Arc<DynamoProfileStore>,
    pub clock: Arc<SystemClock>,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("cannot load the shops document")]
    Shops(#[from] LoadShopsError),
    /// The file, program and step at fault are in the cause.
    #[error("a program definition of this build is broken")]
    Programs(#[source] &'static DefinitionError),
}

impl Bootstrap {
    /// Loads the SDK configuration with the function's timeouts, then the shops document
    /// from `shops_secret` (`None`: a function that reads no shop's settings, such as
    /// profile-update).
    pub async fn load(table: &str, shops_secret: Option<&str>, budget: Budget) -> Result<Self, BootstrapError> {
        let sdk = super::load_sdk_config(budget).await;
        let clock = Arc::new(SystemClock);
        let shops = match shops_secret {
            Some(secret) => {
                let client = aws_sdk_secretsmanager::Client::new(&sdk);
                let shops = load_shops(&client, secret).await?;
                tracing::info!(shops = shops.len(), "cold start");
                Directory::new(shops, clock.now(), Arc::new(SecretsManagerShopsSource::new(client, secret)))
            }
            None => Directory::fixed(Shops::default()),
        };
        let store = Arc::new(DynamoProfileStore::new(aws_sdk_dynamodb::Client::new(&sdk), table));
        Ok(Self { sdk, shops: Arc::new(shops), store, clock })
    }

    pub fn publisher(&self, bus: &str) -> Arc<EventBridgePublisher> {
        Arc::new(EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&self.sdk), bus))
    }

    /// A scheduler that arms schedules for the timer.
    pub fn scheduler(&self, target: ScheduleTarget) -> Arc<EventBridgeScheduler> {
        Arc::new(EventBridgeScheduler::new(aws_sdk_scheduler::Client::new(&self.sdk), target))
    }
}

/// The programs of this build, checked: a function that runs or sends them stops at cold
/// start on a broken definition, before any event.
pub fn check_programs() -> Result<(), BootstrapError> {
    crate::programs::catalogue().map(|_| ()).map_err(BootstrapError::Programs)
}
