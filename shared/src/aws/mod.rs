//! AWS adapters of the domain's ports. Endpoints come from the standard SDK settings, so
//! the same code talks to AWS in production and to the local emulators in tests
//! (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_SESV2`, …).

mod affinity;
pub mod bootstrap;
mod dynamo;
mod eventbridge;
mod exports;
mod gdpr;
mod ledger;
mod parking;
mod runs;
mod scheduler;
mod secrets;
mod ses;

use crate::config::Budget;

pub use dynamo::{DynamoProfileStore, SUMMARY_ATTRIBUTE, profile_item, segment_pk, summary_key};
pub use eventbridge::EventBridgePublisher;
pub use exports::S3ExportSink;
pub use ledger::{DynamoLedger, delivery_pk};
pub use parking::SqsParkingLot;
pub use scheduler::{EventBridgeScheduler, ScheduleTarget};
pub use secrets::{LoadShopsError, SecretsManagerShopsSource, load_shops};
pub use ses::SesMailer;

/// The SDK configuration, loaded once per cold start and shared by every client built
/// from it (each client holds a connection pool; building one per event wastes the pool),
/// with the function's [`Budget`] as its timeouts.
pub async fn load_sdk_config(budget: Budget) -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(budget.connect)
        .operation_attempt_timeout(budget.attempt)
        .operation_timeout(budget.operation)
        .build();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts).load().await
}

/// The SDK configuration of the local stack (`make up`): one endpoint for every emulated
/// service and the emulators' fixed credentials, whatever the environment or profile says.
pub async fn local_sdk_config(
    region: &str,
    endpoint: &str,
    access_key: &str,
    secret_key: &str,
) -> aws_config::SdkConfig {
    let credentials =
        aws_sdk_secretsmanager::config::Credentials::new(access_key, secret_key, None, None, "relance-local-stack");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .load()
        .await
}

/// Keeps an SDK error whole as the `source` of a domain error.
fn boxed<E: std::error::Error + Send + Sync + 'static>(err: E) -> crate::ports::BackendError {
    Box::new(err)
}
