use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<serde_json::Value>) -> Result<(), Error> {
    rfm_nightly::handle(event).await.map_err(Error::from)
}
