//! `POST /webhooks/woocommerce` (SPECS: WooCommerce webhooks): order and customer topics
//! and the activation ping. WooCommerce never retries and disables a webhook after five
//! failures, so an accepted delivery is parked rather than refused when the bus fails.

use crate::accept::{OnBusFailure, answer};
use crate::reject::Reject;
use crate::request::{body, header, media_type, require_json, require_post, require_size};
use crate::{Deps, MAX_WEBHOOK_BYTES, json};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use relance::normalise::{Delivery, woocommerce};
use relance::signature::verify_any;

pub async fn handle(request: &Request, deps: &Deps) -> Result<Response<Body>, Reject> {
    require_post(request)?;
    let body = body(request);
    require_size(body, MAX_WEBHOOK_BYTES)?;
    if is_ping(request, body) {
        tracing::info!("woocommerce activation ping");
        return Ok(json(StatusCode::OK, serde_json::json!({ "status": "pong" })));
    }
    let source = header(request, "x-wc-webhook-source").ok_or(Reject::Unauthorized)?;
    let shop = deps.shops.find(deps.clock.now(), |s| s.by_woocommerce_source(source).cloned()).await;
    let shop = shop.as_ref().ok_or(Reject::Unauthorized)?;
    let secrets = shop.woocommerce.as_ref().map(|w| w.secrets.as_slice()).unwrap_or_default();
    let signature = header(request, "x-wc-webhook-signature").ok_or(Reject::Unauthorized)?;
    verify_any(secrets, body, signature).map_err(|_| Reject::Unauthorized)?;
    require_json(request)?;

    let topic =
        header(request, "x-wc-webhook-topic").ok_or_else(|| Reject::bad_request("missing X-WC-Webhook-Topic"))?;
    let delivery_id = header(request, "x-wc-webhook-delivery-id")
        .ok_or_else(|| Reject::bad_request("missing X-WC-Webhook-Delivery-ID"))?;
    let delivery = Delivery {
        shop: &shop.id,
        topic,
        delivery_id,
        triggered_at: None,
        received_at: deps.clock.now(),
        body,
        shop_currency: shop.currency,
    };
    let outcome = woocommerce::normalise(&delivery).map_err(|e| Reject::invalid(&e))?;
    answer(deps, &shop.id, topic, outcome, OnBusFailure::Park).await
}

/// On activation WooCommerce POSTs the form body `webhook_id=N` and expects 2xx. It
/// carries nothing to verify and we publish nothing for it.
fn is_ping(request: &Request, body: &[u8]) -> bool {
    media_type(request) == "application/x-www-form-urlencoded"
        && {
            let mut pairs = form_urlencoded::parse(body);
            matches!(pairs.next(), Some((k, v)) if k == "webhook_id" && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                && pairs.next().is_none()
        }
}
