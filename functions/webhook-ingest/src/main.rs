//! Wiring: configuration, clients and shops once per cold start, then one handler for the
//! function URL's HTTP requests and for the parking queue's SQS batches.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Error, Request};
use relance::aws::bootstrap::Bootstrap;
use relance::aws::{DynamoLedger, SqsParkingLot};
use relance::config::{Budget, ConfigError, Deployment, EnvReader, vars};
use serde_json::Value;
use std::sync::Arc;
use webhook_ingest::{Deps, handle, limiter::RateLimiter, redrive::redrive};

/// Tracker requests per minute per visitor and per address, per container.
const TRACK_PER_MINUTE: u32 = 120;

struct Config {
    budget: Budget,
    deployment: Deployment,
    parking_queue_url: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        EnvReader::from_process().read(|env| Config {
            budget: Budget::read(env, Budget::WEBHOOK),
            deployment: Deployment::read(env),
            parking_queue_url: env.required(vars::PARKING_QUEUE_URL),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    relance::telemetry::init();
    let config = Config::from_env()?;
    let Config { budget, deployment, parking_queue_url } = config;
    let base = Bootstrap::load(&deployment.table, Some(&deployment.shops_secret), budget).await?;
    let deps = Arc::new(Deps {
        shops: base.shops.clone(),
        ledger: Arc::new(DynamoLedger::new(aws_sdk_dynamodb::Client::new(&base.sdk), &deployment.table)),
        publisher: base.publisher(&deployment.bus),
        parking: Arc::new(SqsParkingLot::new(aws_sdk_sqs::Client::new(&base.sdk), &parking_queue_url)),
        clock: base.clock.clone(),
        limiter: RateLimiter::new(TRACK_PER_MINUTE),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let deps = deps.clone();
        async move { dispatch(event.payload, &deps).await }
    }))
    .await
}

/// SQS batches carry `Records`; everything else is the function URL's HTTP event.
async fn dispatch(payload: Value, deps: &Deps) -> Result<Value, Error> {
    if payload.get("Records").is_some_and(Value::is_array) {
        let batch = serde_json::from_value(payload)?;
        return Ok(serde_json::to_value(redrive(batch, deps.publisher.as_ref()).await)?);
    }
    let request: LambdaRequest = serde_json::from_value(payload)?;
    let response = handle(Request::from(request), deps).await;
    Ok(serde_json::to_value(function_url_response(response))?)
}

/// The function URL (payload format 2.0) response.
fn function_url_response(response: lambda_http::Response<Body>) -> aws_lambda_events::apigw::ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut out = aws_lambda_events::apigw::ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = parts.headers;
    out.is_base64_encoded = matches!(body, Body::Binary(_));
    out.body = match body {
        Body::Empty => None,
        other => Some(other),
    };
    out
}
