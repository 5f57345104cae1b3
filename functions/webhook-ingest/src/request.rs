//! Reading what a route needs from the HTTP request, with the checks every route shares.

use crate::reject::Reject;
use lambda_http::{Body, Request, http::Method};

pub fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// The raw body bytes: signatures are computed over exactly these.
pub fn body(request: &Request) -> &[u8] {
    match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

pub fn require_post(request: &Request) -> Result<(), Reject> {
    if request.method() == Method::POST { Ok(()) } else { Err(Reject::MethodNotAllowed) }
}

pub fn require_size(body: &[u8], limit: usize) -> Result<(), Reject> {
    if body.len() > limit { Err(Reject::TooLarge { limit }) } else { Ok(()) }
}

/// The media type without parameters (`application/json; charset=utf-8` → `application/json`).
pub fn media_type(request: &Request) -> String {
    header(request, "content-type").and_then(|v| v.split(';').next()).unwrap_or_default().trim().to_ascii_lowercase()
}

pub fn require_json(request: &Request) -> Result<(), Reject> {
    if media_type(request) == "application/json" {
        Ok(())
    } else {
        Err(Reject::UnsupportedMediaType { expected: "application/json" })
    }
}

/// A query-string parameter of the request URI.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}
