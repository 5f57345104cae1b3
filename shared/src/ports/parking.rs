//! The parking lot for accepted events the bus refused.

use super::BackendError;
use crate::bus::BusEvent;
use crate::failure::{Classify, Retry};
use async_trait::async_trait;

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryParkingLot;

#[derive(Debug, thiserror::Error)]
pub enum ParkingError {
    #[error("parking queue unavailable")]
    Backend(#[source] BackendError),
}

impl Classify for ParkingError {
    fn retry(&self) -> Retry {
        Retry::Transient
    }
}

/// A durable place for accepted events the bus refused, redriven later: for senders that
/// never retry (WooCommerce), answering 5xx would lose the event.
#[async_trait]
pub trait ParkingLot: Send + Sync {
    async fn park(&self, events: &[BusEvent]) -> Result<(), ParkingError>;
}
