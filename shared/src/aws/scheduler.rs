//! One-time schedules on EventBridge Scheduler.
//!
//! SPECS: EventBridge Scheduler — `at(yyyy-mm-ddThh:mm:ss)` in UTC, `FlexibleTimeWindow`
//! OFF (reminders should be on time), `ActionAfterCompletion=DELETE` so fired schedules do
//! not pile up against the 10 M quota, a `ClientToken` so a retried create is not doubled,
//! and the target's own retry policy and dead-letter queue.

use super::boxed;
use crate::ports::{ScheduleError, Scheduler};
use crate::schedule::{OneTimeSchedule, ScheduleName};
use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::operation::create_schedule::CreateScheduleError;
use aws_sdk_scheduler::operation::delete_schedule::DeleteScheduleError;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};
use sha2::{Digest, Sha256};

/// Where fired schedules go: the function to invoke, the role Scheduler assumes to invoke
/// it, and the queue that receives what could not be delivered.
#[derive(Debug, Clone)]
pub struct ScheduleTarget {
    pub group: String,
    pub function_arn: String,
    pub role_arn: String,
    pub dead_letter_arn: String,
}

impl ScheduleTarget {
    /// The target the template hands every function that arms schedules.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &mut crate::config::EnvReader<F>) -> Self {
        use crate::config::vars;
        Self {
            group: env.required(vars::SCHEDULE_GROUP),
            function_arn: env.required(vars::TIMER_ARN),
            role_arn: env.required(vars::SCHEDULER_ROLE_ARN),
            dead_letter_arn: env.required(vars::SCHEDULE_DLQ_ARN),
        }
    }
}

pub struct EventBridgeScheduler {
    client: Client,
    group: String,
    /// `None` for a scheduler that only cancels (GDPR erasure in profile-update): it needs
    /// no target, and its role may not pass the Scheduler role.
    target: Option<ScheduleTarget>,
}

impl EventBridgeScheduler {
    pub fn new(client: Client, target: ScheduleTarget) -> Self {
        Self { client, group: target.group.clone(), target: Some(target) }
    }

    /// A scheduler that can delete schedules of `group` and create none.
    pub fn cancel_only(client: Client, group: impl Into<String>) -> Self {
        Self { client, group: group.into(), target: None }
    }

    fn target(&self, schedule: &OneTimeSchedule) -> Result<Target, ScheduleError> {
        let target = self
            .target
            .as_ref()
            .ok_or_else(|| ScheduleError::Backend("this scheduler only cancels: it has no target".into()))?;
        Target::builder()
            .arn(&target.function_arn)
            .role_arn(&target.role_arn)
            .input(schedule.payload.to_string())
            .retry_policy(
                RetryPolicy::builder().maximum_retry_attempts(10).maximum_event_age_in_seconds(86_400).build(),
            )
            .dead_letter_config(DeadLetterConfig::builder().arn(&target.dead_letter_arn).build())
            .build()
            .map_err(|e| ScheduleError::Backend(boxed(e)))
    }
}

/// Fires at its exact time: no flexible window.
fn off() -> Result<FlexibleTimeWindow, ScheduleError> {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| ScheduleError::Backend(boxed(e)))
}

/// `at()` takes local wall time in the given zone; we always pass UTC.
fn at_expression(schedule: &OneTimeSchedule) -> String {
    format!("at({})", schedule.at.format("%Y-%m-%dT%H:%M:%S"))
}

/// Same schedule, same token: a create retried after a timeout is a no-op, while a
/// re-armed schedule (new time or payload) gets a new token. Scheduler allows 64 chars.
fn client_token(schedule: &OneTimeSchedule) -> String {
    let mut digest = Sha256::new();
    digest.update(schedule.name.as_str());
    digest.update([0]);
    digest.update(at_expression(schedule));
    digest.update([0]);
    digest.update(schedule.payload.to_string());
    digest.finalize().iter().take(32).map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    #[tracing::instrument(skip_all, fields(schedule = %schedule.name, at = %schedule.at))]
    async fn upsert(&self, schedule: &OneTimeSchedule) -> Result<(), ScheduleError> {
        if self.create(schedule).await? {
            return Ok(());
        }
        // Same name already armed: replace it (new time or payload).
        self.client
            .update_schedule()
            .group_name(&self.group)
            .name(schedule.name.as_str())
            .schedule_expression(at_expression(schedule))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(off()?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(self.target(schedule)?)
            .client_token(client_token(schedule))
            .send()
            .await
            .map_err(|e| ScheduleError::Backend(boxed(e)))?;
        Ok(())
    }

    /// `CreateSchedule`; a `ConflictException` means one of that name is pending. A create
    /// retried after its answer was lost finds its own schedule: either answer leaves the one
    /// schedule this call asked for.
    #[tracing::instrument(skip_all, fields(schedule = %schedule.name, at = %schedule.at))]
    async fn create(&self, schedule: &OneTimeSchedule) -> Result<bool, ScheduleError> {
        let created = self
            .client
            .create_schedule()
            .group_name(&self.group)
            .name(schedule.name.as_str())
            .schedule_expression(at_expression(schedule))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(off()?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(self.target(schedule)?)
            .client_token(client_token(schedule))
            .send()
            .await;
        match created {
            Ok(_) => Ok(true),
            Err(err) => match err.into_service_error() {
                CreateScheduleError::ConflictException(_) => Ok(false),
                other => Err(ScheduleError::Backend(boxed(other))),
            },
        }
    }

    #[tracing::instrument(skip_all, fields(schedule = %name))]
    async fn delete(&self, name: &ScheduleName) -> Result<bool, ScheduleError> {
        let deleted = self.client.delete_schedule().group_name(&self.group).name(name.as_str()).send().await;
        match deleted {
            Ok(_) => Ok(true),
            Err(err) => match err.into_service_error() {
                DeleteScheduleError::ResourceNotFoundException(_) => Ok(false),
                other => Err(ScheduleError::Backend(boxed(other))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn schedule(minute: u32) -> OneTimeSchedule {
        OneTimeSchedule {
            name: ScheduleName::parse("cart-abc-1").unwrap(),
            at: chrono::Utc.with_ymd_and_hms(2026, 11, 23, 20, minute, 7).unwrap(),
            payload: serde_json::json!({"checkout": "abc"}),
        }
    }

    #[test]
    fn at_expression_is_utc_second_precision() {
        assert_eq!(at_expression(&schedule(5)), "at(2026-11-23T20:05:07)");
    }

    #[test]
    fn client_token_is_stable_per_content_and_within_limits() {
        assert_eq!(client_token(&schedule(5)), client_token(&schedule(5)));
        assert_ne!(client_token(&schedule(5)), client_token(&schedule(6)));
        assert_eq!(client_token(&schedule(5)).len(), 64);
    }
}
