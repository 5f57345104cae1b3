//! Scoring the shop right after an import, so segments, tiers and predicted value exist the
//! same day rather than after the next night: wait until profile-update has filed the
//! import's last events ([`settle`]), then run rfm-nightly for the shop ([`Nightly`]).
//!
//! profile-update takes the events from the bus, asynchronously: the last batch the stack
//! acknowledged is not yet filed. The last events sent are the ones to wait for; they are
//! looked up the way every function looks a customer up, and checked applied
//! ([`relance::profile::Profile::was_applied`]).

use crate::import::ImportEvent;
use async_trait::async_trait;
use relance::events::api_event_id;
use relance::ids::ShopId;
use relance::ports::{ProfileStore, StoreError};
use relance::profile::IdentityKey;
use relance::use_cases::lookup::find_profile;
use serde_json::{Value, json};
use std::time::Duration;

/// How many of the last events sent [`settle`] waits for.
pub const SAMPLE: usize = 20;

/// How many of the events looked at were filed when [`settle`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub filed: usize,
    pub of: usize,
}

/// Waits, polling every `poll`, until the last [`SAMPLE`] events of `events` are filed in
/// the shop's profiles, or `deadline` has passed.
pub async fn settle(
    store: &dyn ProfileStore,
    shop: &ShopId,
    events: &[ImportEvent],
    deadline: Duration,
    poll: Duration,
) -> Result<Settled, StoreError> {
    let last = &events[events.len().saturating_sub(SAMPLE)..];
    let began = tokio::time::Instant::now();
    loop {
        let mut filed = 0;
        for event in last {
            let Ok(id) = api_event_id(shop, &event.id) else { continue };
            let keys = IdentityKey::all(&event.identity);
            if let Some(profile) = find_profile(store, shop, None, &keys).await?
                && profile.was_applied(&id)
            {
                filed += 1;
            }
        }
        let settled = Settled { filed, of: last.len() };
        if filed == last.len() || began.elapsed() >= deadline {
            return Ok(settled);
        }
        tokio::time::sleep(poll).await;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NightlyError {
    #[error("cannot invoke {function}")]
    Invoke {
        function: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{function} failed: {error}")]
    Failed { function: String, error: String },
}

/// rfm-nightly, run for one shop.
#[async_trait]
pub trait Nightly: Send + Sync {
    /// The scoring's summary (`relance::segments::Summary`, as JSON).
    async fn score(&self, shop: &ShopId) -> Result<Value, NightlyError>;
}

/// The deployed function, through Lambda's `Invoke` (a request and its answer: a shop's
/// scoring takes seconds to minutes, within Invoke's 15).
pub struct LambdaNightly {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaNightly {
    pub fn new(client: aws_sdk_lambda::Client, function: impl Into<String>) -> Self {
        Self { client, function: function.into() }
    }
}

#[async_trait]
impl Nightly for LambdaNightly {
    async fn score(&self, shop: &ShopId) -> Result<Value, NightlyError> {
        let payload = json!({ "run": "nightly", "shop": shop });
        let answer = self
            .client
            .invoke()
            .function_name(&self.function)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| NightlyError::Invoke { function: self.function.clone(), source: Box::new(e) })?;
        let body = answer.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default();
        let value: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        if answer.function_error().is_some() {
            return Err(NightlyError::Failed { function: self.function.clone(), error: value.to_string() });
        }
        Ok(value)
    }
}

/// One shop's scoring as a person reads it: how many were scored, and each segment's size
/// and share of the revenue.
pub fn render(summary: &Value) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let number = |key: &str| summary[key].as_u64().unwrap_or(0);
    let _ = writeln!(
        out,
        "scored shop {} at {}: {} profiles, {} with orders, {} standings written",
        summary["shop"].as_str().unwrap_or("?"),
        summary["scored_at"].as_str().unwrap_or("?"),
        number("profiles"),
        number("customers"),
        number("changed"),
    );
    let currency = summary["currency"].as_str().and_then(|c| relance::money::Currency::parse(c).ok());
    for (segment, figures) in summary["segments"].as_object().into_iter().flatten() {
        let revenue = match (currency, figures["revenue_minor"].as_i64()) {
            (Some(currency), Some(minor)) => {
                format!(", {} {currency}", relance::money::Money::from_minor(minor, currency))
            }
            _ => String::new(),
        };
        let share = figures["revenue_share"].as_f64().unwrap_or(0.0) * 100.0;
        let _ = writeln!(
            out,
            "  {segment:<20} {:>6} profiles{revenue} ({share:.0} % of revenue)",
            figures["profiles"].as_u64().unwrap_or(0)
        );
    }
    let tiers: Vec<String> = summary["tiers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(tier, n)| format!("{tier} {}", n.as_u64().unwrap_or(0)))
        .collect();
    if !tiers.is_empty() {
        let _ = writeln!(out, "  engagement tiers: {}", tiers.join(", "));
    }
    out
}

#[cfg(test)]
mod tests;
