use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    run(service_fn(handle)).await
}

async fn handle(
    event: lambda_runtime::LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value>>,
) -> Result<(), Error> {
    cart_abandon_timer::handle(event).await.map_err(Error::from)
}
