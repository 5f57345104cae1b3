//! `POST /v1/track`: page and product views from the shop's pages.
//!
//! The page holds only a public key (`?key=pk_…`, so `navigator.sendBeacon` can use it):
//! it names the shop and grants nothing else. Requests must come from one of the shop's
//! allowed origins (CORS), are small, rate limited per visitor and per address, and can
//! report views only — never orders, consent or identity beyond the anonymous visitor id.

use crate::accept::{OnBusFailure, accept};
use crate::reject::Reject;
use crate::request::{body, header, media_type, query_param, require_size};
use crate::{Deps, json, rejection};
use chrono::{DateTime, Duration, Utc};
use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use relance::events::{
    Acquisition, Context, Event, Identity, PageView, Payload, Platform, ProductView, SCHEMA_VERSION,
};
use relance::ids::{EventId, ExternalId, VisitorId};
use relance::shops::{ShopConfig, normalise_source};
use serde::Deserialize;

pub const MAX_BYTES: usize = 16 * 1024;
pub const MAX_EVENTS: usize = 20;
/// Browser clocks are not trusted beyond this skew: the receive time is used instead.
const CLOCK_SKEW: Duration = Duration::minutes(10);

#[derive(Deserialize)]
struct Beacon {
    visitor_id: VisitorId,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    /// The landing URL of the visit (UTM parameters) and its referrer.
    #[serde(default)]
    landing: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
    events: Vec<View>,
}

#[derive(Deserialize)]
struct View {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
    #[serde(default)]
    product_id: Option<ExternalId>,
    #[serde(default)]
    variant_id: Option<ExternalId>,
    #[serde(default)]
    categories: Vec<String>,
}

pub async fn handle(request: &Request, deps: &Deps) -> Response<Body> {
    let origin = header(request, "origin").map(str::to_owned);
    let key = query_param(request, "key").or_else(|| header(request, "x-relance-key").map(str::to_owned));
    let shop = match key {
        Some(key) => deps.shops.find(deps.clock.now(), |s| s.by_track_key(&key).cloned()).await,
        None => None,
    };
    let allowed = match (&shop, &origin) {
        (Some(shop), Some(origin)) => origin_allowed(shop, origin),
        _ => false,
    };
    let result = if !allowed {
        Err(Reject::Forbidden("unknown key or origin not allowed"))
    } else if request.method() == Method::OPTIONS {
        Ok(preflight())
    } else {
        match &shop {
            Some(shop) => track(request, deps, shop).await,
            None => Err(Reject::Forbidden("unknown key")),
        }
    };
    let mut response = result.unwrap_or_else(|reject| rejection("/v1/track", &reject));
    if allowed && let Some(origin) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        let headers = response.headers_mut();
        headers.insert("access-control-allow-origin", origin);
        headers.insert("vary", HeaderValue::from_static("Origin"));
    }
    response
}

/// The address the request came from, as the function URL saw it (`requestContext.http.
/// sourceIp`): a stranger chooses their `visitor_id` and the first `X-Forwarded-For` entry,
/// not this. Without a request context (a local invoke), the last `X-Forwarded-For` entry,
/// the one the nearest proxy added.
fn source_address(request: &Request) -> String {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let seen = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(context)) => context.identity.source_ip.clone(),
        _ => None,
    };
    seen.or_else(|| {
        let forwarded = request.headers().get("x-forwarded-for")?.to_str().ok()?;
        forwarded.rsplit(',').next().map(|last| last.trim().to_owned())
    })
    .filter(|address| !address.is_empty())
    .unwrap_or_else(|| "unknown".to_owned())
}

fn origin_allowed(shop: &ShopConfig, origin: &str) -> bool {
    let origin = normalise_source(origin);
    shop.track.as_ref().is_some_and(|t| t.allowed_origins.iter().any(|a| normalise_source(a) == origin))
}

fn preflight() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert("access-control-allow-methods", HeaderValue::from_static("POST, OPTIONS"));
    headers.insert("access-control-allow-headers", HeaderValue::from_static("content-type, x-relance-key"));
    headers.insert("access-control-max-age", HeaderValue::from_static("86400"));
    response
}

async fn track(request: &Request, deps: &Deps, shop: &ShopConfig) -> Result<Response<Body>, Reject> {
    if request.method() != Method::POST {
        return Err(Reject::MethodNotAllowed);
    }
    let body = body(request);
    require_size(body, MAX_BYTES)?;
    // sendBeacon posts text/plain, which also spares a CORS preflight.
    if !matches!(media_type(request).as_str(), "text/plain" | "application/json") {
        return Err(Reject::UnsupportedMediaType { expected: "text/plain or application/json" });
    }
    let beacon: Beacon =
        serde_json::from_slice(body).map_err(|e| Reject::bad_request(format!("invalid beacon: {e}")))?;
    if beacon.events.is_empty() || beacon.events.len() > MAX_EVENTS {
        return Err(Reject::bad_request(format!("a beacon holds 1 to {MAX_EVENTS} events")));
    }
    let now = deps.clock.now();
    let address = source_address(request);
    if !deps.limiter.allow(&format!("{}|v|{}", shop.id, beacon.visitor_id), now)
        || !deps.limiter.allow(&format!("{}|ip|{address}", shop.id), now)
    {
        return Err(Reject::TooManyRequests);
    }
    let context = Context {
        locale: beacon.locale.clone(),
        time_zone: beacon.time_zone.clone(),
        acquisition: Acquisition::from_landing(beacon.landing.as_deref(), beacon.referrer.as_deref(), Some("web")),
        ..Context::default()
    };
    let identity = Identity { visitor_id: Some(beacon.visitor_id.clone()), ..Identity::default() };
    let events = beacon
        .events
        .into_iter()
        .enumerate()
        .map(|(i, view)| {
            let id = EventId::parse(format!("browser:{}:{}:{}", shop.id, beacon.visitor_id, view.id))
                .map_err(|e| Reject::bad_request(format!("events[{i}].id: {e}")))?;
            let occurred_at = view.occurred_at.filter(|t| (*t - now).abs() <= CLOCK_SKEW).unwrap_or(now);
            let payload = payload(view).map_err(|e| Reject::bad_request(format!("events[{i}]: {e}")))?;
            Ok(Event {
                schema_version: SCHEMA_VERSION,
                id,
                shop: shop.id.clone(),
                platform: Platform::Browser,
                occurred_at,
                received_at: now,
                identity: identity.clone(),
                context: context.clone(),
                payload,
            })
        })
        .collect::<Result<Vec<_>, Reject>>()?;
    let accepted = accept(deps, events, OnBusFailure::AskToRetry).await?;
    Ok(json(StatusCode::OK, serde_json::json!({ "status": "accepted", "result": accepted })))
}

fn payload(view: View) -> Result<Payload, &'static str> {
    match view.kind.as_str() {
        "page.viewed" => Ok(Payload::PageViewed(PageView {
            url: view.url.ok_or("page.viewed needs url")?,
            title: view.title,
            referrer: view.referrer,
        })),
        "product.viewed" => Ok(Payload::ProductViewed(ProductView {
            product_id: view.product_id.ok_or("product.viewed needs product_id")?,
            variant_id: view.variant_id,
            title: view.title,
            url: view.url,
            categories: view.categories,
            price: None,
        })),
        _ => Err("the tracker reports page.viewed and product.viewed only"),
    }
}
