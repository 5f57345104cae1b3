//! Relance's domain crate.
//!
//! The modules at the top are the hexagon's inside: plain data and rules, no I/O, time
//! passed in. [`ports`] names what the domain needs from the outside world as small traits;
//! [`memory`] implements them in memory for fast unit tests; [`aws`] (feature `aws`)
//! implements them on DynamoDB, EventBridge, EventBridge Scheduler and SES v2.

pub mod bus;
pub mod clv;
pub mod config;
pub mod events;
pub mod html;
pub mod ids;
pub mod lattice;
pub mod mail;
pub mod memory;
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
pub mod unsubscribe;

#[cfg(feature = "aws")]
pub mod aws;
