use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    run(service_fn(|request: Request| async move { Ok::<_, Error>(webhook_ingest::handle(request).await) })).await
}
