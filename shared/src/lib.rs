//! Relance's domain crate, in layers: a module only ever uses the layers below it.
//!
//! 1. Base types: [`ids`], [`money`], [`bus`], [`signature`], [`schedule`], [`lattice`],
//!    [`html`], [`failure`], [`config`], [`telemetry`].
//! 2. The domain model, pure (no I/O, time passed in): [`events`] (what every platform's
//!    webhook becomes) and [`normalise`] (how), [`mail`], [`unsubscribe`], [`clv`],
//!    [`segments`], [`profile`], [`templates`], [`shops`], [`programs`].
//! 3. [`ports`]: what the domain needs from the outside world, one small trait per file,
//!    with its in-memory fake beside it (feature `fakes`, for tests and benches).
//! 4. [`use_cases`]: what each function does, the only code that calls ports.
//! 5. [`aws`] (feature `aws`): the ports on DynamoDB, EventBridge, EventBridge Scheduler, SES
//!    v2, SQS and Secrets Manager, and the functions' bootstrap.

pub mod bus;
pub mod clv;
pub mod config;
pub mod directory;
pub mod events;
pub mod failure;
pub mod html;
pub mod ids;
pub mod lattice;
pub mod mail;
pub mod money;
pub mod normalise;
pub mod ports;
pub mod profile;
pub mod programs;
pub mod schedule;
pub mod segments;
pub mod shops;
pub mod signature;
pub mod telemetry;
pub mod templates;
#[cfg(any(test, feature = "fakes"))]
pub mod testing;
pub mod unsubscribe;
pub mod use_cases;

#[cfg(test)]
mod fuzz;

#[cfg(feature = "aws")]
pub mod aws;
