//! Accepting canonical events: de-duplicate, publish, and never lose one.
//!
//! Each event is claimed in the delivery ledger, the fresh ones are published, then the
//! claims are confirmed. When the bus refuses, senders that retry (Shopify, the generic
//! API) get 503 and their claims are released so the retry publishes; senders that never
//! retry (WooCommerce) have their events parked on a queue that is redriven later.

use crate::reject::Reject;
use crate::{Deps, json};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use relance::bus::{BusEvent, MAX_ENTRY_BYTES};
use relance::events::Event;
use relance::ids::ShopId;
use relance::normalise::Outcome;
use relance::ports::Claim;
use std::collections::HashSet;

/// What to do when the bus refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBusFailure {
    /// Answer 5xx: the sender retries.
    AskToRetry,
    /// Park the events durably and answer 2xx: the sender never retries.
    Park,
}

/// How a batch was taken in.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Accepted {
    pub published: usize,
    pub parked: usize,
    pub duplicates: usize,
}

#[tracing::instrument(skip_all, fields(events = events.len()))]
pub async fn accept(deps: &Deps, events: Vec<Event>, on_failure: OnBusFailure) -> Result<Accepted, Reject> {
    let now = deps.clock.now();
    let mut accepted = Accepted::default();
    let mut fresh = Vec::with_capacity(events.len());
    let mut in_flight = 0;
    let mut seen = HashSet::with_capacity(events.len());
    for event in events {
        // The same event twice in one batch is one event: the ledger would take the second
        // copy for a delivery in flight in another request and ask for a retry (409) though
        // the first copy is being published right here (found by fuzzing).
        if !seen.insert((event.shop.clone(), event.id.clone())) {
            tracing::info!(event = %event.id, "repeated within the batch: published once");
            accepted.duplicates += 1;
            continue;
        }
        match deps.ledger.claim(&event.shop, &event.id, now).await {
            Ok(Claim::Fresh) => fresh.push(event),
            Ok(Claim::Duplicate) => {
                tracing::info!(event = %event.id, "duplicate delivery: nothing published");
                accepted.duplicates += 1;
            }
            // A sender that retries comes back once the other request is done (then a
            // duplicate, or fresh again if that request failed and released its claim); one
            // that never retries is better served by the other request, which parks on failure.
            Ok(Claim::InFlight) if on_failure == OnBusFailure::AskToRetry => {
                tracing::info!(event = %event.id, "delivery in flight in another request: asked to retry");
                in_flight += 1;
            }
            Ok(Claim::InFlight) => {
                tracing::info!(event = %event.id, "delivery in flight in another request, which parks it on failure");
                accepted.duplicates += 1;
            }
            // Without the ledger we cannot de-duplicate: a sender that retries is asked to;
            // one that does not gets at-least-once rather than nothing (consumers are
            // idempotent on the event id).
            Err(error) if on_failure == OnBusFailure::Park => {
                tracing::warn!(error = %error, event = %event.id, "ledger unavailable; publishing without de-duplication");
                fresh.push(event);
            }
            Err(error) => {
                tracing::error!(error = %error, "ledger unavailable");
                release(deps, &fresh).await;
                return Err(Reject::Unavailable);
            }
        }
    }
    let done = |accepted| if in_flight > 0 { Err(Reject::InFlight) } else { Ok(accepted) };
    if fresh.is_empty() {
        return done(accepted);
    }
    let entries = match fresh.iter().map(Event::to_bus_event).collect::<Result<Vec<_>, _>>() {
        Ok(entries) => entries,
        Err(error) => {
            tracing::error!(error = %error, "a canonical event cannot be encoded");
            release(deps, &fresh).await;
            return Err(Reject::Internal);
        }
    };
    // The bus (and the parking queue) would refuse it for good: the sender's 413, not our 5xx.
    if let Some(size) = entries.iter().map(BusEvent::entry_size).find(|size| *size > MAX_ENTRY_BYTES) {
        tracing::info!(size, "a canonical event is over the bus's entry limit");
        release(deps, &fresh).await;
        return Err(Reject::EventTooLarge { size, limit: MAX_ENTRY_BYTES });
    }
    match deps.publisher.publish(&entries).await {
        Ok(()) => accepted.published = fresh.len(),
        Err(error) => {
            tracing::error!(error = %error, "bus refused the events");
            if on_failure == OnBusFailure::AskToRetry {
                release(deps, &fresh).await;
                return Err(Reject::Unavailable);
            }
            if let Err(error) = deps.parking.park(&entries).await {
                tracing::error!(error = %error, "parking failed too");
                release(deps, &fresh).await;
                return Err(Reject::Unavailable);
            }
            accepted.parked = fresh.len();
        }
    }
    for event in &fresh {
        // Published (or parked) already: a failed confirm only means a redelivery may be
        // published again, which consumers absorb by event id.
        if let Err(error) = deps.ledger.confirm(&event.shop, &event.id, now).await {
            tracing::warn!(error = %error, event = %event.id, "could not confirm delivery");
        }
    }
    done(accepted)
}

/// The answer to a platform delivery once normalised: a topic Relance does not use gets 2xx
/// and a log line (so the platform keeps the subscription healthy); an event is accepted.
pub async fn answer(
    deps: &Deps,
    shop: &ShopId,
    topic: &str,
    outcome: Outcome,
    on_failure: OnBusFailure,
) -> Result<Response<Body>, Reject> {
    match outcome {
        Outcome::Ignored { reason } => {
            tracing::info!(%shop, topic, reason, "topic ignored");
            Ok(json(StatusCode::OK, serde_json::json!({ "status": "ignored", "reason": reason })))
        }
        Outcome::Event(event) => {
            let accepted = accept(deps, vec![*event], on_failure).await?;
            Ok(json(StatusCode::OK, serde_json::json!({ "status": "accepted", "result": accepted })))
        }
    }
}

async fn release(deps: &Deps, events: &[Event]) {
    for event in events {
        if let Err(error) = deps.ledger.release(&event.shop, &event.id).await {
            tracing::warn!(error = %error, event = %event.id, "could not release claim; it expires by itself");
        }
    }
}
