//! A schedule group in memory.

use crate::ports::fake::lock;
use crate::ports::{ScheduleError, Scheduler};
use crate::schedule::{OneTimeSchedule, ScheduleName};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Holds schedules by name, as a schedule group does.
#[derive(Default)]
pub struct MemoryScheduler {
    schedules: Mutex<BTreeMap<String, OneTimeSchedule>>,
}

impl MemoryScheduler {
    pub fn pending(&self) -> Vec<OneTimeSchedule> {
        lock(&self.schedules).values().cloned().collect()
    }
}

#[async_trait]
impl Scheduler for MemoryScheduler {
    async fn upsert(&self, schedule: &OneTimeSchedule) -> Result<(), ScheduleError> {
        lock(&self.schedules).insert(schedule.name.as_str().to_owned(), schedule.clone());
        Ok(())
    }

    async fn create(&self, schedule: &OneTimeSchedule) -> Result<bool, ScheduleError> {
        let mut schedules = lock(&self.schedules);
        if schedules.contains_key(schedule.name.as_str()) {
            return Ok(false);
        }
        schedules.insert(schedule.name.as_str().to_owned(), schedule.clone());
        Ok(true)
    }

    async fn delete(&self, name: &ScheduleName) -> Result<bool, ScheduleError> {
        Ok(lock(&self.schedules).remove(name.as_str()).is_some())
    }
}
