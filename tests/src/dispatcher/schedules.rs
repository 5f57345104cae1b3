//! Scheduler's part: one-time schedules fired when due at the time the dispatcher is given.

use super::{DispatchError, Dispatcher, Outcome, Report, scheduler_error, unreachable_error};
use crate::invoke::InvokeError;
use aws_sdk_scheduler::types::ActionAfterCompletion;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

impl Dispatcher {
    /// Fires every one-time schedule due at `now`, honouring `ActionAfterCompletion`.
    pub async fn fire_due_schedules(&self, now: DateTime<Utc>) -> Result<Report, DispatchError> {
        let mut report = Report::default();
        for group in &self.targets.schedule_groups {
            let mut pages = self.scheduler.list_schedules().group_name(group).into_paginator().send();
            let mut names = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(scheduler_error)?;
                names.extend(page.schedules.into_iter().filter_map(|s| s.name));
            }
            for name in names {
                if self.fire_if_due(group, &name, now, &mut report).await? {
                    report.schedules_fired += 1;
                }
            }
        }
        Ok(report)
    }

    async fn fire_if_due(
        &self,
        group: &str,
        name: &str,
        now: DateTime<Utc>,
        report: &mut Report,
    ) -> Result<bool, DispatchError> {
        let key = (group.to_owned(), name.to_owned());
        if self.fired.lock().unwrap_or_else(|p| p.into_inner()).contains(&key) {
            return Ok(false);
        }
        let schedule =
            self.scheduler.get_schedule().group_name(group).name(name).send().await.map_err(scheduler_error)?;
        let expression = schedule.schedule_expression.unwrap_or_default();
        let Some(due) = parse_at(&expression, schedule.schedule_expression_timezone.as_deref()) else {
            // rate()/cron() schedules (the nightly run) are started by hand locally.
            if expression.starts_with("at(") {
                return Err(DispatchError::Expression { name: name.to_owned(), expression });
            }
            return Ok(false);
        };
        if due > now {
            return Ok(false);
        }
        let Some(target) = schedule.target else { return Ok(false) };
        let input = target.input.unwrap_or_else(|| "{}".to_owned());
        let payload: Value = serde_json::from_str(&input).unwrap_or(Value::String(input));
        let outcome = match self.targets.function_by_arn(&target.arn) {
            Some(function) => self.deliver(function, &payload, report).await,
            None => Outcome::Unreachable(InvokeError::Unreachable {
                function: target.arn.clone(),
                source: "no such function".into(),
            }),
        };
        match outcome {
            Outcome::Delivered => {}
            Outcome::FunctionFailed => report.dead_lettered += 1,
            Outcome::Unreachable(error) => {
                let dlq = target.dead_letter_config.and_then(|d| d.arn);
                let Some(dlq) = dlq else { return Err(unreachable_error(error)) };
                let url = self.queue_url_of(&dlq).await?;
                self.send_to(&url, &payload, &error).await?;
                report.dead_lettered += 1;
            }
        }
        if schedule.action_after_completion == Some(ActionAfterCompletion::Delete) {
            self.scheduler.delete_schedule().group_name(group).name(name).send().await.map_err(scheduler_error)?;
        } else {
            self.fired.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
        }
        Ok(true)
    }
}

/// Reads Scheduler's `at(yyyy-mm-ddThh:mm:ss)` in its time zone (UTC by default).
pub fn parse_at(expression: &str, zone: Option<&str>) -> Option<DateTime<Utc>> {
    let inner = expression.strip_prefix("at(")?.strip_suffix(')')?;
    let local = NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S").ok()?;
    let zone: chrono_tz::Tz = zone.unwrap_or("UTC").parse().ok()?;
    zone.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_expressions_are_read_in_their_zone() {
        let utc = parse_at("at(2026-11-23T20:00:00)", None).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-11-23T20:00:00+00:00");
        let paris = parse_at("at(2026-11-23T20:00:00)", Some("Europe/Paris")).unwrap();
        assert_eq!(paris.to_rfc3339(), "2026-11-23T19:00:00+00:00");
        assert_eq!(parse_at("rate(1 day)", None), None);
        assert_eq!(parse_at("at(2026-11-23 20:00)", None), None);
    }
}
