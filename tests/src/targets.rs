//! `.local/targets.json`: what the provisioner derived from `infra/template.yaml` about who
//! receives what — each function, each rule's mirror queue, each schedule group.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Targets {
    pub stack: String,
    pub functions: Vec<FunctionTarget>,
    pub rules: Vec<RuleTarget>,
    #[serde(default)]
    pub queue_sources: Vec<QueueSource>,
    pub schedule_groups: Vec<String>,
}

/// An SQS event source mapping: Lambda polls the queue and invokes the function with
/// batches; with `ReportBatchItemFailures`, only the failed messages stay on the queue.
#[derive(Debug, Clone, Deserialize)]
pub struct QueueSource {
    pub function: String,
    pub source: String,
    pub queue_url: String,
    pub batch_size: i32,
    #[serde(default)]
    pub report_batch_item_failures: bool,
}

/// A Lambda function as the template declares it, with its asynchronous-invocation
/// settings (`EventInvokeConfig`): retries after a function error, then the on-failure
/// destination.
#[derive(Debug, Clone, Deserialize)]
pub struct FunctionTarget {
    pub logical_id: String,
    /// The cargo binary, which is also the name `cargo lambda watch` serves it under.
    pub binary: String,
    pub arn: String,
    #[serde(default)]
    pub maximum_retry_attempts: u32,
    pub on_failure_queue_url: Option<String>,
}

/// An EventBridge rule whose Lambda target is mirrored locally by an SQS queue.
#[derive(Debug, Clone, Deserialize)]
pub struct RuleTarget {
    /// Binary name of the target function.
    pub function: String,
    pub rule: String,
    pub event_bus: String,
    pub queue_url: String,
    pub dead_letter_queue_url: Option<String>,
    #[serde(default)]
    pub maximum_retry_attempts: Option<u32>,
    #[serde(default)]
    pub maximum_event_age_seconds: Option<u32>,
}

impl Targets {
    pub fn function_by_binary(&self, binary: &str) -> Option<&FunctionTarget> {
        self.functions.iter().find(|f| f.binary == binary)
    }

    pub fn function_by_arn(&self, arn: &str) -> Option<&FunctionTarget> {
        self.functions.iter().find(|f| f.arn == arn)
    }

    pub fn rule_for(&self, function: &str, rule_suffix: &str) -> Option<&RuleTarget> {
        self.rules.iter().find(|r| r.function == function && r.rule.ends_with(rule_suffix))
    }
}
