//! webhook-ingest: the public HTTPS endpoint (Lambda function URL) shops deliver to.
//!
//! Routes: `POST /webhooks/shopify`, `POST /webhooks/woocommerce`, `POST /v1/events`
//! (signed server-to-server API), `POST|OPTIONS /v1/track` (browser tracker),
//! `GET|POST /unsubscribe` (one-click unsubscribe link of marketing mail), `GET /health`.
//! Every route verifies before it parses, answers fast, and hands canonical events to
//! [`accept::accept`].

pub mod accept;
pub mod api;
pub mod limiter;
pub mod redrive;
pub mod reject;
pub mod request;
pub mod shopify;
pub mod track;
pub mod unsubscribe;
pub mod woocommerce;

use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use reject::Reject;
use relance::directory::Directory;
use relance::ports::{Clock, DeliveryLedger, EventPublisher, ParkingLot};
use std::sync::Arc;

/// Everything a request needs, built once per cold start.
pub struct Deps {
    /// The shops document, read again for a shop it does not know (`relance::directory`).
    pub shops: Arc<Directory>,
    pub ledger: Arc<dyn DeliveryLedger>,
    pub publisher: Arc<dyn EventPublisher>,
    pub parking: Arc<dyn ParkingLot>,
    pub clock: Arc<dyn Clock>,
    pub limiter: limiter::RateLimiter,
}

/// Webhook bodies above this are refused (413). Shopify's largest orders stay far below;
/// EventBridge's entry limit is 1 MiB (SPECS: EventBridge).
pub const MAX_WEBHOOK_BYTES: usize = 512 * 1024;

pub async fn handle(request: Request, deps: &Deps) -> Response<Body> {
    // The function URL output ends with `/`: `<WebhookUrl>/webhooks/shopify` arrives as
    // `//webhooks/shopify`. Surrounding slashes never change the route.
    let path = format!("/{}", request.uri().path().trim_matches('/'));
    let result = match path.as_str() {
        "/webhooks/shopify" => shopify::handle(&request, deps).await,
        "/webhooks/woocommerce" => woocommerce::handle(&request, deps).await,
        "/v1/events" => api::handle(&request, deps).await,
        "/v1/track" => return track::handle(&request, deps).await,
        "/unsubscribe" => return unsubscribe::handle(&request, deps).await,
        "/health" if request.method() == Method::GET => Ok(json(StatusCode::OK, serde_json::json!({"status": "ok"}))),
        "/health" => Err(Reject::MethodNotAllowed),
        _ => Err(Reject::NotFound),
    };
    result.unwrap_or_else(|reject| rejection(&path, &reject))
}

pub fn rejection(path: &str, reject: &Reject) -> Response<Body> {
    let status = reject.status();
    if status.is_server_error() {
        tracing::error!(path, %status, "request failed");
    } else {
        tracing::info!(path, %status, reason = %reject, "request refused");
    }
    json(status, serde_json::json!({ "error": reject.to_string() }))
}

pub fn json(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
