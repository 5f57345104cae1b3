//! A clock a test moves by hand.

use crate::ports::Clock;
use crate::ports::fake::lock;
use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// A clock that stands still until told to move.
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(now) }
    }

    pub fn advance(&self, by: chrono::Duration) {
        *lock(&self.now) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.now)
    }
}
