//! `relance`, the operator's command line. This crate's library holds what the commands do,
//! on ports (the shops secret, the profile store) with in-memory fakes beside them, so the
//! commands are tested without AWS and again against the local stack; `main.rs` parses the
//! command line and wires the stack's clients in.

pub mod connect;
pub mod gdpr;
pub mod import;
pub mod platforms;
pub mod profile;
pub mod score;
pub mod shops;
pub mod stack;
#[cfg(test)]
mod test_support;
