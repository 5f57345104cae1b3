//! `POST /v1/events`: the signed server-to-server API for shops without webhooks of their
//! own (PrestaShop, Magento, custom). A batch of events already in the canonical model.
//!
//! Headers: `X-Relance-Shop: <shop id>` and
//! `X-Relance-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
//! A request older than [`TOLERANCE`] is refused (replay), and within it every event's id is
//! de-duplicated, so a replayed or retried batch publishes nothing twice.

use crate::accept::{OnBusFailure, accept};
use crate::reject::Reject;
use crate::request::{body, header, require_json, require_post, require_size};
use crate::{Deps, json};
use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use relance::events::{Context, Event, Identity, Payload, Platform, SCHEMA_VERSION};
use relance::ids::ShopId;
use relance::signature::{TIMESTAMPED_HEADER, verify_timestamped};
use serde::Deserialize;

pub const TOLERANCE: Duration = Duration::minutes(5);
pub const MAX_BATCH: usize = 100;
pub const MAX_BYTES: usize = 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    events: Vec<ApiEvent>,
}

/// One event as a shop sends it: its own id (unique per shop, the de-duplication key), the
/// canonical `type`, and the payload fields of that type under `data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    identity: Identity,
    #[serde(default)]
    context: Context,
    #[serde(default)]
    data: serde_json::Map<String, serde_json::Value>,
}

pub async fn handle(request: &Request, deps: &Deps) -> Result<Response<Body>, Reject> {
    require_post(request)?;
    let body = body(request);
    require_size(body, MAX_BYTES)?;
    let id = header(request, "x-relance-shop").and_then(|id| ShopId::parse(id).ok()).ok_or(Reject::Unauthorized)?;
    let shop = deps.shops.find(deps.clock.now(), |s| s.get(&id).cloned()).await;
    let shop = shop.as_ref().ok_or(Reject::Unauthorized)?;
    let secrets = shop.api.as_ref().map(|a| a.secrets.as_slice()).unwrap_or_default();
    let signature = header(request, TIMESTAMPED_HEADER).ok_or(Reject::Unauthorized)?;
    let now = deps.clock.now();
    verify_timestamped(secrets, body, signature, now, TOLERANCE).map_err(|error| {
        tracing::info!(shop = %shop.id, %error, "generic API signature refused");
        Reject::Unauthorized
    })?;
    require_json(request)?;

    let batch: Batch = serde_json::from_slice(body).map_err(|e| Reject::bad_request(format!("invalid batch: {e}")))?;
    if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
        return Err(Reject::bad_request(format!("a batch holds 1 to {MAX_BATCH} events")));
    }
    let events = batch
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            canonical(&shop.id, event, now).map_err(|e| Reject::bad_request(format!("events[{index}]: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let accepted = accept(deps, events, OnBusFailure::AskToRetry).await?;
    Ok(json(StatusCode::OK, serde_json::json!({ "status": "accepted", "result": accepted })))
}

fn canonical(shop: &ShopId, event: ApiEvent, now: DateTime<Utc>) -> Result<Event, String> {
    let id = relance::events::api_event_id(shop, &event.id).map_err(|e| format!("id: {e}"))?;
    let mut fields = event.data;
    fields.insert("type".to_owned(), serde_json::Value::String(event.kind));
    let payload: Payload = serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| e.to_string())?;
    Ok(Event {
        schema_version: SCHEMA_VERSION,
        id,
        shop: shop.clone(),
        platform: Platform::Api,
        occurred_at: event.occurred_at,
        received_at: now,
        identity: event.identity,
        context: event.context,
        payload,
    })
}
