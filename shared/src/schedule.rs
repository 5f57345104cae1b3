//! One-time schedules: "call us back at this instant with this payload".

use crate::ids::{ExternalId, ShopId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A schedule's name: unique within the schedule group, deterministic so that re-arming the
/// same follow-up replaces it instead of adding a second one. Scheduler allows
/// `[0-9a-zA-Z-_.]+`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScheduleName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schedule name {0:?} must be 1-64 characters of [0-9a-zA-Z-_.]")]
pub struct ScheduleNameError(pub String);

impl ScheduleName {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ScheduleNameError> {
        let raw = raw.into();
        let ok =
            !raw.is_empty() && raw.len() <= 64 && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if ok { Ok(Self(raw)) } else { Err(ScheduleNameError(raw)) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `<prefix>-<40 hex digits of SHA-256 over the parts>`: any shop id or token fits the
    /// 64-character rule, and the same parts always give the same name.
    pub fn derived(prefix: &'static str, parts: &[&str]) -> Self {
        use sha2::{Digest, Sha256};
        let mut digest = Sha256::new();
        for part in parts {
            digest.update(part.as_bytes());
            digest.update([0]);
        }
        let hex: String = digest.finalize().iter().take(20).map(|b| format!("{b:02x}")).collect();
        Self(format!("{prefix}-{hex}"))
    }

    /// The schedule of one step of a checkout's reminder series. Each step has its own name:
    /// the step that fires arms the next one while Scheduler is still completing it, and
    /// `ActionAfterCompletion=DELETE` would delete a schedule re-armed under the same name.
    /// The timer keeps one pending per checkout by deleting the others when it arms.
    pub fn for_checkout(shop: &ShopId, token: &ExternalId, step: u32) -> Self {
        Self::derived("checkout", &[shop.as_str(), token.as_str(), &step.to_string()])
    }

    /// Every step name a checkout's series may use ([`MAX_SERIES_STEPS`]).
    pub fn all_for_checkout(shop: &ShopId, token: &ExternalId) -> Vec<Self> {
        (1..=MAX_SERIES_STEPS).map(|step| Self::for_checkout(shop, token, step)).collect()
    }
}

impl fmt::Display for ScheduleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The most steps a reminder series may have: what cancelling a checkout's series deletes.
pub const MAX_SERIES_STEPS: u32 = 5;

/// A follow-up to run once at `at` (UTC, second precision as Scheduler's `at()` takes it),
/// invoking the timer function with `payload`.
/// `at` to the second below: Scheduler's `at()` expressions have second precision.
pub fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Timelike;
    at.with_nanosecond(0).unwrap_or(at)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneTimeSchedule {
    pub name: ScheduleName,
    pub at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_names_follow_scheduler_rules() {
        assert!(ScheduleName::parse("cart-shop_1.abc-step2").is_ok());
        assert!(ScheduleName::parse("").is_err());
        assert!(ScheduleName::parse("a/b").is_err());
        assert!(ScheduleName::parse("x".repeat(65)).is_err());
        let shop = ShopId::parse("a-very-long-shop-name-for-the-limit.myshopify.com").unwrap();
        let name = ScheduleName::for_checkout(&shop, &ExternalId::parse("x".repeat(200)).unwrap(), 1);
        assert_eq!(ScheduleName::parse(name.as_str()), Ok(name.clone()), "derived names are valid");
        assert_ne!(name, ScheduleName::for_checkout(&shop, &ExternalId::parse("y").unwrap(), 1));
        assert_ne!(name, ScheduleName::for_checkout(&shop, &ExternalId::parse("x".repeat(200)).unwrap(), 2));
    }
}
