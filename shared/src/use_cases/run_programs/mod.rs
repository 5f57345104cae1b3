//! cart-abandon-timer's use case: every program run, from the event that starts it to the
//! mail each due step asks for.
//!
//! Three runners share one set of ports ([`Runner`]):
//! - the checkout series ([`checkout`]): one pending schedule per checkout, armed and re-armed
//!   on activity, cancelled by completion or an order; a due reminder re-reads the profile
//!   and the checkout and lets [`crate::programs::checkout::decide`] choose;
//! - the order mails ([`orders`]): requested the moment the order event arrives;
//! - every other program of `shared/programs/` ([`steps`]): a run starts when an event
//!   matches a trigger, and each due step is decided by [`crate::programs::engine`] from a
//!   fresh read of the profile, its records and the products bought with its order.
//!
//! A deferred mail (quiet hours, frequency cap, an open ticket) comes back here when due and
//! is put back on the bus for send-mail, at the time it was put off to.
//!
//! Arming is idempotent (deterministic schedule names, replaced in place); a due step
//! publishes at most one `mail.requested` whose key is stable per occasion and step, then
//! arms the next — a retry after a failure repeats both harmlessly.

mod checkout;
mod orders;
mod steps;

use crate::events::Event;
use crate::failure::{Classify, Retry};
use crate::ports::{
    AffinityStore, Clock, EventPublisher, ProfileStore, PublishError, ScheduleError, Scheduler, StoreError,
};
use crate::programs::checkout::{ReminderDue, StopReason};
use crate::programs::engine::{ProgramDue, Stopped};
use crate::programs::reactivation::{self, SegmentChange};
use crate::programs::request::{DeferredMail, MailRequest};
use crate::schedule::OneTimeSchedule;
use crate::shops::Shops;
use chrono::{DateTime, Utc};

/// The ports the runners use, built once per cold start.
pub struct Runner<'a> {
    pub store: &'a dyn ProfileStore,
    /// The products-bought-together table (read by programs whose steps suggest).
    pub affinities: &'a dyn AffinityStore,
    pub publisher: &'a dyn EventPublisher,
    pub scheduler: &'a dyn Scheduler,
    pub shops: &'a Shops,
    pub clock: &'a dyn Clock,
}

/// What the timer is handed, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A checkout reminder's schedule fired.
    Reminder(ReminderDue),
    /// A step of an engine program came due.
    Step(ProgramDue),
    /// A mail send-mail put off is due again.
    Deferred(DeferredMail),
    /// A canonical event from ingest: checkouts and orders, and any program's trigger.
    Event(Box<Event>),
    /// A new edition announced to one past buyer of its line (by rfm-nightly): triggers only.
    Edition(Box<Event>),
    /// A customer's standing changed in the nightly run.
    SegmentChanged(SegmentChange),
}

/// What became of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Armed {
        at: DateTime<Utc>,
    },
    /// Disarmed; `false` when no schedule was pending (already fired or never armed).
    Disarmed {
        existed: bool,
    },
    Ignored {
        reason: &'static str,
    },
    Requested {
        step: u32,
        next: Option<(u32, DateTime<Utc>)>,
    },
    Stopped(StopReason),
    /// A program run ended ([`crate::programs::engine::advance`]).
    Ended(Stopped),
    /// A program step was put off: a branch into a later step, or an open ticket.
    Waiting {
        step: u32,
        at: DateTime<Utc>,
        paused: bool,
    },
    /// Program runs this event started (their first steps armed).
    Started {
        programs: Vec<String>,
    },
    /// A deferred mail request was put back on the bus.
    Redelivered,
    /// A transactional order mail was requested; `disarmed` tells whether the order's
    /// checkout had a pending reminder (`None`: the order names no checkout).
    OrderMail {
        program: &'static str,
        disarmed: Option<bool>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The schedule could not be filed under its customer (for their erasure).
    #[error("could not file the schedule under its customer")]
    File(#[from] crate::use_cases::update_profile::ApplyError),
    /// A program this build runs is missing from its catalogue, or has no mail to send.
    #[error("program {0} is not in the catalogue")]
    NoProgram(String),
    /// A program step for a customer profile-update has not filed yet: a retry finds them.
    #[error("the program's customer is not filed yet")]
    NotFiledYet,
    /// Our own payload (a schedule's input, a mail request) failed to encode: a bug.
    #[error("could not encode {what}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl Classify for RunError {
    fn retry(&self) -> Retry {
        match self {
            RunError::Schedule(e) => e.retry(),
            RunError::Store(e) => e.retry(),
            RunError::Publish(e) => e.retry(),
            RunError::File(e) => e.retry(),
            RunError::NotFiledYet => Retry::Transient,
            RunError::NoProgram(_) | RunError::Encode { .. } => Retry::Permanent,
        }
    }
}

/// Runs one input.
#[tracing::instrument(skip_all)]
pub async fn run(r: &Runner<'_>, input: Input) -> Result<Outcome, RunError> {
    let outcome = match input {
        Input::Reminder(due) => checkout::remind(r, &due).await?,
        Input::Step(due) => steps::advance(r, &due).await?,
        Input::Deferred(deferred) => redeliver(r, deferred).await?,
        Input::SegmentChanged(change) if change.starts_reactivation() => {
            steps::advance(r, &reactivation::episode(&change, r.clock.now())).await?
        }
        Input::SegmentChanged(_) => Outcome::Ignored { reason: "no program starts on this transition" },
        Input::Edition(event) => match steps::start(r, &event).await? {
            programs if programs.is_empty() => Outcome::Ignored { reason: "no program starts on this edition" },
            programs => Outcome::Started { programs },
        },
        Input::Event(event) => {
            let outcome = match checkout::on_event(r, &event).await? {
                Some(outcome) => outcome,
                None => orders::on_event(r, &event).await?,
            };
            let programs = steps::start(r, &event).await?;
            match outcome {
                Outcome::Ignored { .. } if !programs.is_empty() => Outcome::Started { programs },
                outcome => outcome,
            }
        }
    };
    tracing::info!(?outcome, "handled");
    Ok(outcome)
}

/// Puts a deferred request back on the bus, at the time it was put off to (never before
/// the clock).
async fn redeliver(r: &Runner<'_>, DeferredMail { deferred, until }: DeferredMail) -> Result<Outcome, RunError> {
    let now = r.clock.now();
    publish(r, &MailRequest { requested_at: until.map_or(now, |at| at.max(now)), ..deferred }).await?;
    Ok(Outcome::Redelivered)
}

/// Publishes one mail request for send-mail.
async fn publish(r: &Runner<'_>, request: &MailRequest) -> Result<(), RunError> {
    let event = request.to_bus_event().map_err(|source| RunError::Encode { what: "a mail request", source })?;
    r.publisher.publish(&[event]).await?;
    Ok(())
}

/// Creates or replaces the one-time schedule `name`, due at `at` (to the second), with
/// `payload` as the timer's input.
async fn arm<T: serde::Serialize>(
    r: &Runner<'_>,
    name: crate::schedule::ScheduleName,
    at: DateTime<Utc>,
    payload: &T,
) -> Result<(), RunError> {
    r.scheduler.upsert(&one_time(name, at, payload)?).await?;
    Ok(())
}

/// The one-time schedule `name`, due at `at` (to the second), with `payload` as the
/// timer's input.
fn one_time<T: serde::Serialize>(
    name: crate::schedule::ScheduleName,
    at: DateTime<Utc>,
    payload: &T,
) -> Result<OneTimeSchedule, RunError> {
    let payload =
        serde_json::to_value(payload).map_err(|source| RunError::Encode { what: "a schedule's input", source })?;
    Ok(OneTimeSchedule { name, at: crate::schedule::whole_seconds(at), payload })
}
