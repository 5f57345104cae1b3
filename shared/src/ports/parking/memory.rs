//! Parked events in memory.

use crate::bus::BusEvent;
use crate::ports::fake::lock;
use crate::ports::{ParkingError, ParkingLot};
use async_trait::async_trait;
use std::sync::Mutex;

/// Parked events, in order.
#[derive(Default)]
pub struct MemoryParkingLot {
    parked: Mutex<Vec<BusEvent>>,
}

impl MemoryParkingLot {
    pub fn parked(&self) -> Vec<BusEvent> {
        lock(&self.parked).clone()
    }
}

#[async_trait]
impl ParkingLot for MemoryParkingLot {
    async fn park(&self, events: &[BusEvent]) -> Result<(), ParkingError> {
        lock(&self.parked).extend_from_slice(events);
        Ok(())
    }
}
