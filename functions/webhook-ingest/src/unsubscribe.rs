//! `GET|POST /unsubscribe?t=<token>`: the one-click unsubscribe link of marketing mail
//! (RFC 8058; SPECS: Mail deliverability).
//!
//! The mail's `List-Unsubscribe` header points here ([`relance::unsubscribe::unsubscribe_url`])
//! and its `List-Unsubscribe-Post: List-Unsubscribe=One-Click` tells the mail client to POST
//! that body to it. Only that POST unsubscribes. A GET (a person opening the link, but also
//! every security scanner and link previewer that follows links in mail) shows a confirmation
//! page whose button sends the same POST, and changes nothing.
//!
//! The token is the only credential: it names the shop and Relance's profile id (never the
//! address), is signed with the shop's `mail.unsubscribe_secrets`, and never expires, so the
//! link of an old mail still works. A verified POST becomes one `consent.changed` event
//! (`unsubscribed`, source `unsubscribe-link`) whose id derives from the token, so a second
//! click is a ledger duplicate. A mail client never retries, so when the bus refuses, the
//! event is parked rather than lost, and the person is told they are unsubscribed either way.
//!
//! Checks, in order: method (405), size (413), token present and well formed (400), token's
//! shop and signature (403, one reason for both), then for POST the one-click field (400).
//! Refusals are JSON like every route's; the two pages are HTML. Every answer is `no-store`,
//! `noindex` and sends no referrer: the URL holds the token.

mod page;

use crate::accept::{OnBusFailure, accept};
use crate::reject::Reject;
use crate::request::{body, header, media_type, query_param, require_size};
use crate::{Deps, rejection};
use lambda_http::http::{HeaderMap, HeaderValue, Method};
use lambda_http::{Body, Request, Response};
use relance::events::ConsentState;
use relance::events::{ConsentChange, Context, Event, Identity, Payload, Platform, SCHEMA_VERSION};
use relance::shops::MailSettings;
use relance::unsubscribe::{TokenError, UnsubscribeToken};

/// The one-click body is 26 bytes; a multipart one a few hundred.
pub const MAX_BYTES: usize = 8 * 1024;
/// RFC 8058's body: `List-Unsubscribe=One-Click`.
pub const ONE_CLICK_FIELD: &str = "List-Unsubscribe";
pub const ONE_CLICK_VALUE: &str = "One-Click";
/// `ConsentChange::source` of the events this route publishes.
pub const SOURCE: &str = "unsubscribe-link";

pub async fn handle(request: &Request, deps: &Deps) -> Response<Body> {
    let mut response = answer(request, deps).await.unwrap_or_else(|reject| rejection("/unsubscribe", &reject));
    keep_private(response.headers_mut());
    response
}

async fn answer(request: &Request, deps: &Deps) -> Result<Response<Body>, Reject> {
    let method = request.method();
    if method != Method::GET && method != Method::POST {
        return Err(Reject::MethodNotAllowed);
    }
    let body = body(request);
    require_size(body, MAX_BYTES)?;
    let raw = query_param(request, "t")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Reject::bad_request("missing unsubscribe token (query parameter t)"))?;
    let shops = deps.shops.current(deps.clock.now()).await;
    let token = UnsubscribeToken::verify(&raw, |shop| shops.unsubscribe_secrets(shop)).map_err(refusal)?;
    let shop = shops.get(&token.shop);
    let mail: &MailSettings = shop.and_then(|s| s.mail.as_ref()).ok_or(Reject::Forbidden(INVALID_LINK))?;
    let language =
        page::Language::negotiate(header(request, "accept-language"), shop.and_then(|s| s.locale.as_deref()));
    if method == Method::GET {
        return Ok(page::confirmation(language, mail, &raw));
    }
    if !one_click(request, body) {
        return Err(Reject::bad_request(format!("body must be {ONE_CLICK_FIELD}={ONE_CLICK_VALUE}")));
    }
    unsubscribe(deps, &token).await?;
    Ok(page::unsubscribed(language, mail))
}

const INVALID_LINK: &str = "this unsubscribe link is not valid";

/// Malformed tokens say what is wrong (400); an unknown shop and a bad signature get the
/// same 403, so the answer does not tell which shops exist here.
fn refusal(error: TokenError) -> Reject {
    match error {
        TokenError::Malformed(_) => Reject::bad_request(error),
        TokenError::UnknownShop | TokenError::BadSignature => {
            tracing::info!(%error, "unsubscribe token refused");
            Reject::Forbidden(INVALID_LINK)
        }
    }
}

#[tracing::instrument(skip_all, fields(shop = %token.shop, profile = %token.profile))]
async fn unsubscribe(deps: &Deps, token: &UnsubscribeToken) -> Result<(), Reject> {
    let now = deps.clock.now();
    let event = Event {
        schema_version: SCHEMA_VERSION,
        id: token.event_id(now).map_err(|e| Reject::invalid(&e))?,
        shop: token.shop.clone(),
        platform: Platform::Relance,
        occurred_at: now,
        received_at: now,
        identity: Identity { profile: Some(token.profile.clone()), ..Identity::default() },
        context: Context::default(),
        payload: Payload::ConsentChanged(ConsentChange {
            state: ConsentState::Unsubscribed,
            changed_at: now,
            source: SOURCE.to_owned(),
        }),
    };
    // A mail client never retries: park rather than lose an unsubscribe.
    let accepted = accept(deps, vec![event], OnBusFailure::Park).await?;
    tracing::info!(
        published = accepted.published,
        parked = accepted.parked,
        duplicates = accepted.duplicates,
        issued_at = %token.issued_at,
        "unsubscribed"
    );
    Ok(())
}

/// True if the body carries `List-Unsubscribe=One-Click`: form-encoded, as most clients and
/// the confirmation page send it, or `multipart/form-data`, which RFC 8058 recommends.
fn one_click(request: &Request, body: &[u8]) -> bool {
    let is_one_click = |name: &str, value: &str| {
        name.eq_ignore_ascii_case(ONE_CLICK_FIELD) && value.eq_ignore_ascii_case(ONE_CLICK_VALUE)
    };
    if media_type(request) == "multipart/form-data" {
        let boundary = header(request, "content-type").and_then(boundary);
        return boundary
            .is_some_and(|boundary| multipart_fields(body, boundary).iter().any(|(n, v)| is_one_click(n, v)));
    }
    form_urlencoded::parse(body).any(|(name, value)| is_one_click(&name, value.trim()))
}

/// `boundary=…` of a `multipart/form-data` content type, quoted or not (RFC 2046: 1–70 chars).
fn boundary(content_type: &str) -> Option<&str> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|b| (1..=70).contains(&b.len()))
}

/// The `(name, value)` of each part of a multipart body, values trimmed. Just enough of
/// RFC 7578 for one short text field; anything it cannot read is skipped.
fn multipart_fields(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    text.split(delimiter.as_str())
        .skip(1)
        .filter_map(|part| {
            let (headers, value) = part.split_once("\r\n\r\n").or_else(|| part.split_once("\n\n"))?;
            let name = headers.lines().find_map(|line| {
                let (field, rest) = line.split_once(':')?;
                if !field.trim().eq_ignore_ascii_case("content-disposition") {
                    return None;
                }
                rest.split(';').filter_map(|p| p.split_once('=')).find_map(|(key, value)| {
                    key.trim().eq_ignore_ascii_case("name").then(|| value.trim().trim_matches('"').to_owned())
                })
            })?;
            Some((name, value.trim().to_owned()))
        })
        .collect()
}

/// The URL carries the token: keep it out of caches, search indexes and Referer headers.
fn keep_private(headers: &mut HeaderMap) {
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
}

#[cfg(test)]
mod tests;
