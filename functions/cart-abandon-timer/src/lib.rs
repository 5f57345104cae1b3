//! cart-abandon-timer: runs the programs ([`relance::use_cases::run_programs`]).
//!
//! Its inputs: bus events through its rules (checkout and order events and the programs'
//! triggers from ingest, segment transitions, a new edition's past buyers) and the payloads
//! Scheduler invokes it with (a reminder, a program step, a deferred mail). This file only
//! tells them apart, hands them to the runner and says which failures a retry can fix.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use relance::bus::{SOURCE_INGEST, SOURCE_PROGRAMS, SOURCE_SEGMENTS};
use relance::directory::Directory;
use relance::failure::{Classify, Retry};
use relance::ports::{AffinityStore, Clock, EventPublisher, ProfileStore, Scheduler};
use relance::programs::checkout::ReminderDue;
use relance::programs::edition::RELEASED;
use relance::programs::engine::ProgramDue;
use relance::programs::request::DeferredMail;
use relance::use_cases::run_programs::{Input, RunError, Runner, run};
use std::sync::Arc;

pub use relance::use_cases::run_programs::Outcome;

pub struct Deps {
    pub store: Arc<dyn ProfileStore>,
    /// The products-bought-together table (read by programs whose steps suggest).
    pub affinities: Arc<dyn AffinityStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub scheduler: Arc<dyn Scheduler>,
    /// The shops document, kept current (a shop added since the cold start is served).
    pub shops: Arc<Directory>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("input is neither a bus event nor a schedule's payload")]
    Malformed(#[source] serde_json::Error),
    /// Routed here, not handled by this build.
    #[error("unsupported event {source_name}/{detail_type}")]
    Unsupported { source_name: String, detail_type: String },
    #[error(transparent)]
    Run(#[from] RunError),
}

impl Classify for HandleError {
    fn retry(&self) -> Retry {
        match self {
            HandleError::Malformed(_) | HandleError::Unsupported { .. } => Retry::Permanent,
            HandleError::Run(e) => e.retry(),
        }
    }
}

impl From<HandleError> for lambda_runtime::Diagnostic {
    fn from(error: HandleError) -> Self {
        let kind = match &error {
            HandleError::Malformed(_) => "Malformed",
            HandleError::Unsupported { .. } => "Unsupported",
            HandleError::Run(_) => "Run",
        };
        let (error_type, error_message) = relance::failure::diagnostic(&error, kind);
        Self { error_type, error_message }
    }
}

/// The payloads, as serde tells them apart.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Payload {
    // First: these have required fields no bus envelope has.
    Reminder(ReminderDue),
    Program(ProgramDue),
    Deferred(DeferredMail),
    Bus(Box<EventBridgeEvent<serde_json::Value>>),
}

#[tracing::instrument(skip_all)]
pub async fn handle(input: serde_json::Value, deps: &Deps) -> Result<Outcome, HandleError> {
    let named = input.get("shop").or_else(|| input.pointer("/detail/shop")).and_then(|s| s.as_str());
    let shops = deps.shops.for_shop(deps.clock.now(), named).await;
    let runner = Runner {
        store: deps.store.as_ref(),
        affinities: deps.affinities.as_ref(),
        publisher: deps.publisher.as_ref(),
        scheduler: deps.scheduler.as_ref(),
        shops: shops.as_ref(),
        clock: deps.clock.as_ref(),
    };
    Ok(run(&runner, decode(input)?).await?)
}

fn decode(input: serde_json::Value) -> Result<Input, HandleError> {
    Ok(match serde_json::from_value::<Payload>(input).map_err(HandleError::Malformed)? {
        Payload::Reminder(due) => Input::Reminder(due),
        Payload::Program(due) => Input::Step(due),
        Payload::Deferred(deferred) => Input::Deferred(deferred),
        Payload::Bus(envelope) => match (envelope.source.as_str(), envelope.detail_type.as_str()) {
            (SOURCE_SEGMENTS, "segment.changed") => Input::SegmentChanged(detail(envelope.detail)?),
            (SOURCE_PROGRAMS, RELEASED) => Input::Edition(detail(envelope.detail)?),
            (SOURCE_INGEST, _) => Input::Event(detail(envelope.detail)?),
            _ => {
                let EventBridgeEvent { source, detail_type, .. } = *envelope;
                return Err(HandleError::Unsupported { source_name: source, detail_type });
            }
        },
    })
}

fn detail<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, HandleError> {
    serde_json::from_value(value).map_err(HandleError::Malformed)
}

#[cfg(test)]
mod tests;
