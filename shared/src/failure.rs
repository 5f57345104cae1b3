//! Whether a failure is worth a retry.
//!
//! Lambda retries a failed asynchronous invocation (twice), Scheduler and EventBridge retry
//! their targets, SQS redelivers: a retry helps when the failure was the moment's (a
//! throttled or unreachable service, a write that lost a race, a customer not filed yet)
//! and only delays the failure destination when it was the input's or the build's (a
//! malformed payload, a program missing from the catalogue). Every error a handler returns
//! says which, as the `error_type` of its Lambda diagnostic (`Transient.…` or
//! `Permanent.…`), so alarms and a redrive can tell them apart.

use std::error::Error;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The same input may succeed later.
    Transient,
    /// The same input fails again: a retry only delays the failure destination.
    Permanent,
}

impl Retry {
    pub fn as_str(self) -> &'static str {
        match self {
            Retry::Transient => "Transient",
            Retry::Permanent => "Permanent",
        }
    }
}

/// An error that knows whether a retry can help.
pub trait Classify {
    fn retry(&self) -> Retry;
}

/// A Lambda diagnostic's two fields for `error`: `error_type` is `Transient.<kind>` or
/// `Permanent.<kind>`, `error_message` the error and its causes, outermost first.
pub fn diagnostic<E: Error + Classify>(error: &E, kind: &str) -> (String, String) {
    (format!("{}.{kind}", error.retry().as_str()), chain(error))
}

/// `error` and its causes on one line, outermost first: what a log line shows.
pub fn chain(error: &dyn Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let _ = write!(message, ": {inner}");
        cause = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    impl Classify for Outer {
        fn retry(&self) -> Retry {
            Retry::Transient
        }
    }

    #[test]
    fn a_diagnostic_names_the_retry_and_keeps_every_cause() {
        let error = Outer(std::io::Error::other("inner"));
        assert_eq!(diagnostic(&error, "Store"), ("Transient.Store".to_owned(), "outer: inner".to_owned()));
    }
}
