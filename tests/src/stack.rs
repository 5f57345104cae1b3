//! A handle on the running local stack: the variables `make up` wrote to
//! `.local/stack.env` and SDK configurations pointed at the emulators.
//!
//! Nothing here touches the process environment, so tests can run in parallel threads.

use crate::targets::Targets;
use aws_config::SdkConfig;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("cannot read {path}: is the local stack up? (`make up`)")]
    Missing {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid")]
    Invalid {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has no {name}")]
    MissingVar { path: PathBuf, name: String },
}

pub struct LocalStack {
    dir: PathBuf,
    vars: BTreeMap<String, String>,
    pub targets: Targets,
    /// For every emulated service but SES (moto).
    pub sdk: SdkConfig,
}

/// `.local/` at the workspace root, or where `RELANCE_LOCAL_DIR` says.
pub fn local_dir() -> PathBuf {
    std::env::var_os("RELANCE_LOCAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).join(".local"))
}

pub use relance::config::parse_env_file;

impl LocalStack {
    pub async fn connect() -> Result<Self, StackError> {
        Self::connect_at(local_dir()).await
    }

    pub async fn connect_at(dir: PathBuf) -> Result<Self, StackError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| StackError::Missing { path, source })
        };
        let vars = parse_env_file(&read("stack.env")?);
        let targets_path = dir.join("targets.json");
        let targets = serde_json::from_str(&read("targets.json")?)
            .map_err(|source| StackError::Invalid { path: targets_path, source })?;
        let mut stack = Self { dir, vars, targets, sdk: SdkConfig::builder().build() };
        stack.sdk = relance::aws::local_sdk_config(
            stack.var("AWS_REGION")?,
            stack.var("AWS_ENDPOINT_URL")?,
            stack.var("AWS_ACCESS_KEY_ID")?,
            stack.var("AWS_SECRET_ACCESS_KEY")?,
        )
        .await;
        Ok(stack)
    }

    /// A variable of `.local/stack.env` (the functions' environment, resolved locally).
    pub fn var(&self, name: &str) -> Result<&str, StackError> {
        self.vars
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| StackError::MissingVar { path: self.dir.join("stack.env"), name: name.to_owned() })
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    pub fn scheduler(&self) -> aws_sdk_scheduler::Client {
        aws_sdk_scheduler::Client::new(&self.sdk)
    }

    /// The SES mailer as send-mail builds it, on the emulator.
    pub fn ses_mailer(&self) -> Result<relance::aws::SesMailer, StackError> {
        Ok(relance::aws::SesMailer::new(
            self.sesv2()?,
            self.var("RELANCE_SENDER")?,
            self.var("RELANCE_CONFIGURATION_SET")?,
        ))
    }

    /// The publisher on Relance's bus.
    pub fn publisher(&self) -> Result<relance::aws::EventBridgePublisher, StackError> {
        Ok(relance::aws::EventBridgePublisher::new(self.eventbridge(), self.var("RELANCE_BUS")?))
    }

    /// The Scheduler adapter as the timer and send-mail build it, on the local stack.
    pub fn timer_scheduler(&self) -> Result<relance::aws::EventBridgeScheduler, StackError> {
        let target = relance::aws::ScheduleTarget {
            group: self.var("RELANCE_SCHEDULE_GROUP")?.to_owned(),
            function_arn: self.var("RELANCE_TIMER_ARN")?.to_owned(),
            role_arn: self.var("RELANCE_SCHEDULER_ROLE_ARN")?.to_owned(),
            dead_letter_arn: self.var("RELANCE_SCHEDULE_DLQ_ARN")?.to_owned(),
        };
        Ok(relance::aws::EventBridgeScheduler::new(self.scheduler(), target))
    }

    /// Replaces the shops document (webhook secrets) in the template's Secrets Manager
    /// secret. Functions read it at cold start: set it before starting them.
    pub async fn put_shops(&self, document: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
            .put_secret_value()
            .secret_id(self.var("RELANCE_SHOPS_SECRET_ARN")?)
            .secret_string(document)
            .send()
            .await?;
        Ok(())
    }

    /// The directory holding `stack.env`, for `cargo lambda watch --env-file`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// SES v2 goes to aws-ses-v2-local, which keeps sent mail whole (headers included)
    /// and shows it in a web viewer.
    pub fn sesv2(&self) -> Result<aws_sdk_sesv2::Client, StackError> {
        let config =
            aws_sdk_sesv2::config::Builder::from(&self.sdk).endpoint_url(self.var("AWS_ENDPOINT_URL_SESV2")?).build();
        Ok(aws_sdk_sesv2::Client::from_conf(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_parse_like_cargo_lambda_reads_them() {
        let vars = parse_env_file("# c\nA=1\n\nB = x=y \nnot a pair\n");
        assert_eq!(vars.get("A").map(String::as_str), Some("1"));
        assert_eq!(vars.get("B").map(String::as_str), Some("x=y"));
        assert_eq!(vars.len(), 2);
    }
}
