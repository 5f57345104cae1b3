//! Putting events on the bus.

use super::BackendError;
use crate::bus::BusEvent;
use crate::failure::{Classify, Retry};
use async_trait::async_trait;

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::RecordingPublisher;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("event {index} is {size} bytes, over the bus's entry limit")]
    TooLarge { index: usize, size: usize },
    #[error("{failed} of {total} events were not accepted by the bus after retries: {first_error}")]
    Rejected { failed: usize, total: usize, first_error: String },
    #[error("event bus unavailable")]
    Backend(#[source] BackendError),
}

impl Classify for PublishError {
    /// Rejected entries are the bus's throttling or an internal failure: retried.
    fn retry(&self) -> Retry {
        match self {
            PublishError::TooLarge { .. } => Retry::Permanent,
            PublishError::Rejected { .. } | PublishError::Backend(_) => Retry::Transient,
        }
    }
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes every event or fails: a success means the bus accepted all of them.
    async fn publish(&self, events: &[BusEvent]) -> Result<(), PublishError>;
}
