//! A per-container, fixed-window rate limit for the public browser tracker.
//!
//! Best effort by design: each Lambda container counts for itself, so the real ceiling is
//! this limit times the number of containers running. It stops a runaway page or a naive
//! flood cheaply, before any AWS call is paid for; the function's concurrency is not capped,
//! because the same function must always be there for Shopify and WooCommerce.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// Keys kept before old windows are swept, so memory stays bounded.
const MAX_KEYS: usize = 50_000;

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, windows: Mutex::default() }
    }

    /// Counts one request for `key`; false when over the limit in this minute.
    pub fn allow(&self, key: &str, now: DateTime<Utc>) -> bool {
        let minute = now.timestamp().div_euclid(60);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_KEYS {
            windows.retain(|_, (window, _)| *window == minute);
        }
        let entry = windows.entry(key.to_owned()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn requests_over_the_limit_wait_for_the_next_minute() {
        let limiter = RateLimiter::new(2);
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 10).unwrap();
        assert!(limiter.allow("a", t) && limiter.allow("a", t));
        assert!(!limiter.allow("a", t));
        assert!(limiter.allow("b", t), "keys are counted apart");
        assert!(limiter.allow("a", t + chrono::Duration::seconds(50)));
    }
}
