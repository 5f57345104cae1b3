//! One-time schedules through the Scheduler adapter, in the template's schedule group.

use chrono::{Duration, SubsecRound, Utc};
use relance::aws::EventBridgeScheduler;
use relance::ports::Scheduler;
use relance::schedule::{OneTimeSchedule, ScheduleName};
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::json;

fn adapter(stack: &LocalStack) -> (EventBridgeScheduler, String) {
    let group = stack.var("RELANCE_SCHEDULE_GROUP").unwrap().to_owned();
    (stack.timer_scheduler().unwrap(), group)
}

#[tokio::test]
async fn a_one_time_schedule_is_created_replaced_and_deleted() {
    let stack = LocalStack::connect().await.unwrap();
    let (scheduler, group) = adapter(&stack);
    let name = ScheduleName::parse(unique("cart")).unwrap();
    let at = Utc::now().trunc_subsecs(0) + Duration::hours(1);
    let schedule = OneTimeSchedule { name: name.clone(), at, payload: json!({ "checkout": "c1", "step": 1 }) };

    scheduler.upsert(&schedule).await.unwrap();
    // Creating the same schedule again (a retried event) is not an error.
    scheduler.upsert(&schedule).await.unwrap();

    let stored = stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await.unwrap();
    assert_eq!(stored.schedule_expression(), Some(format!("at({})", at.format("%Y-%m-%dT%H:%M:%S")).as_str()));
    assert_eq!(stored.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(stored.action_after_completion(), Some(&aws_sdk_scheduler::types::ActionAfterCompletion::Delete));
    let target = stored.target().unwrap();
    assert_eq!(target.arn(), stack.var("RELANCE_TIMER_ARN").unwrap());
    assert_eq!(serde_json::from_str::<serde_json::Value>(target.input().unwrap()).unwrap(), schedule.payload);

    // Re-arming under the same name replaces time and payload.
    let later =
        OneTimeSchedule { at: at + Duration::hours(23), payload: json!({ "checkout": "c1", "step": 2 }), ..schedule };
    scheduler.upsert(&later).await.unwrap();
    let stored = stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await.unwrap();
    assert_eq!(stored.schedule_expression(), Some(format!("at({})", later.at.format("%Y-%m-%dT%H:%M:%S")).as_str()));
    assert!(stored.target().unwrap().input().unwrap().contains("\"step\":2"));

    assert!(scheduler.delete(&name).await.unwrap());
    assert!(!scheduler.delete(&name).await.unwrap(), "a second delete finds nothing");
    let gone = stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await;
    assert!(gone.is_err());
}

#[tokio::test]
async fn create_arms_a_new_schedule_once_and_leaves_a_pending_one_as_it_is() {
    let stack = LocalStack::connect().await.unwrap();
    let (scheduler, group) = adapter(&stack);
    let name = ScheduleName::parse(unique("program")).unwrap();
    let at = Utc::now().trunc_subsecs(0) + Duration::days(7);
    let first = OneTimeSchedule { name: name.clone(), at, payload: json!({ "step": 1, "started": "first" }) };

    assert!(scheduler.create(&first).await.unwrap(), "created");
    // The same trigger redelivered: no error.
    scheduler.create(&first).await.expect("a repeated create is not an error");
    // A later trigger of the same occasion: the pending schedule keeps its time and payload.
    let later =
        OneTimeSchedule { at: at + Duration::seconds(3), payload: json!({ "step": 1, "started": "later" }), ..first };
    assert!(!scheduler.create(&later).await.unwrap(), "one of that name is pending");
    let stored = stack.scheduler().get_schedule().group_name(&group).name(name.as_str()).send().await.unwrap();
    assert_eq!(stored.schedule_expression(), Some(format!("at({})", at.format("%Y-%m-%dT%H:%M:%S")).as_str()));
    assert!(stored.target().unwrap().input().unwrap().contains("\"first\""));

    assert!(scheduler.delete(&name).await.unwrap());
    assert!(scheduler.create(&later).await.unwrap(), "after it fired (deleted), a new one is armed");
    assert!(scheduler.delete(&name).await.unwrap());
}
