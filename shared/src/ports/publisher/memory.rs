//! A bus that records what it is given.

use crate::bus::BusEvent;
use crate::ports::fake::lock;
use crate::ports::{EventPublisher, PublishError};
use async_trait::async_trait;
use std::sync::Mutex;

/// Records every published event in order; can be told to refuse, like a bus outage.
#[derive(Default)]
pub struct RecordingPublisher {
    events: Mutex<Vec<BusEvent>>,
    failing: std::sync::atomic::AtomicBool,
}

impl RecordingPublisher {
    pub fn events(&self) -> Vec<BusEvent> {
        lock(&self.events).clone()
    }

    /// Every event recorded so far, forgotten here (a long run that reads as it goes).
    pub fn take(&self) -> Vec<BusEvent> {
        std::mem::take(&mut *lock(&self.events))
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[BusEvent]) -> Result<(), PublishError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PublishError::Rejected {
                failed: events.len(),
                total: events.len(),
                first_error: "outage".into(),
            });
        }
        lock(&self.events).extend_from_slice(events);
        Ok(())
    }
}
