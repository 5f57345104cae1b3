//! One-time schedules (EventBridge Scheduler's `at()`).

use super::BackendError;
use crate::failure::{Classify, Retry};
use crate::schedule::{OneTimeSchedule, ScheduleName};
use async_trait::async_trait;

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryScheduler;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("scheduler unavailable")]
    Backend(#[source] BackendError),
}

impl Classify for ScheduleError {
    fn retry(&self) -> Retry {
        Retry::Transient
    }
}

#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Creates the schedule, or replaces the one of the same name.
    async fn upsert(&self, schedule: &OneTimeSchedule) -> Result<(), ScheduleError>;

    /// Creates the schedule unless one of its name is pending; `Ok(false)` when one is, and
    /// it is left as it is (a run's start: the first trigger of an occasion sets its clock).
    async fn create(&self, schedule: &OneTimeSchedule) -> Result<bool, ScheduleError>;

    /// Deletes the schedule; `Ok(false)` when there was none (already fired or cancelled).
    async fn delete(&self, name: &ScheduleName) -> Result<bool, ScheduleError>;
}
