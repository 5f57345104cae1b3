//! `POST /webhooks/shopify` (SPECS: Shopify webhooks): every topic, compliance included.

use crate::accept::{OnBusFailure, answer};
use crate::reject::Reject;
use crate::request::{body, header, require_json, require_post, require_size};
use crate::{Deps, MAX_WEBHOOK_BYTES};
use lambda_http::{Body, Request, Response};
use relance::normalise::{Delivery, parse_time, shopify};
use relance::signature::verify_any;

pub async fn handle(request: &Request, deps: &Deps) -> Result<Response<Body>, Reject> {
    require_post(request)?;
    let body = body(request);
    require_size(body, MAX_WEBHOOK_BYTES)?;
    // Verify before parsing anything: the shop is named by a header, the secret is ours.
    let domain = header(request, "x-shopify-shop-domain").ok_or(Reject::Unauthorized)?;
    let shop = deps.shops.find(deps.clock.now(), |s| s.by_shopify_domain(domain).cloned()).await;
    let shop = shop.as_ref().ok_or(Reject::Unauthorized)?;
    let secrets = shop.shopify.as_ref().map(|s| s.secrets.as_slice()).unwrap_or_default();
    let signature = header(request, "x-shopify-hmac-sha256").ok_or(Reject::Unauthorized)?;
    verify_any(secrets, body, signature).map_err(|_| Reject::Unauthorized)?;
    require_json(request)?;

    let topic = header(request, "x-shopify-topic").ok_or_else(|| Reject::bad_request("missing X-Shopify-Topic"))?;
    // SPECS: the same X-Shopify-Event-Id on two deliveries means a duplicate.
    let delivery_id = header(request, "x-shopify-event-id")
        .or_else(|| header(request, "x-shopify-webhook-id"))
        .ok_or_else(|| Reject::bad_request("missing X-Shopify-Event-Id"))?;
    let delivery = Delivery {
        shop: &shop.id,
        topic,
        delivery_id,
        triggered_at: header(request, "x-shopify-triggered-at").and_then(parse_time),
        received_at: deps.clock.now(),
        body,
        shop_currency: shop.currency,
    };
    let outcome = shopify::normalise(&delivery).map_err(|e| Reject::invalid(&e))?;
    answer(deps, &shop.id, topic, outcome, OnBusFailure::AskToRetry).await
}
