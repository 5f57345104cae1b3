//! Reading a function's configuration from its environment, once, at cold start.
//!
//! Every missing variable is reported in one error, so a misconfigured deployment is fixed
//! in one round instead of one variable per failed cold start.

use std::collections::{BTreeMap, BTreeSet};

/// Parses `KEY=VALUE` lines, as `make up` writes `.local/stack.env` and `cargo lambda watch
/// --env-file` reads them; blank lines and `#` comments are skipped.
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing or empty environment variables: {}", .0.join(", "))]
pub struct ConfigError(pub Vec<String>);

/// Collects variables and the names of the missing ones.
pub struct EnvReader<F> {
    lookup: F,
    missing: BTreeSet<String>,
}

impl EnvReader<fn(&str) -> Option<String>> {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self::new(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> EnvReader<F> {
    /// Reads through `lookup`, so tests need not touch the process environment.
    pub fn new(lookup: F) -> Self {
        Self { lookup, missing: BTreeSet::new() }
    }

    /// A required variable; when absent or empty, it is noted and `""` returned, and
    /// [`EnvReader::finish`] fails.
    pub fn required(&mut self, name: &str) -> String {
        match self.optional(name) {
            Some(value) => value,
            None => {
                self.missing.insert(name.to_owned());
                String::new()
            }
        }
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// An optional duration in whole milliseconds; a value that is not one is noted like a
    /// missing variable, so a typo fails the cold start instead of being ignored.
    pub fn millis(&mut self, name: &str) -> Option<std::time::Duration> {
        let value = self.optional(name)?;
        match value.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Some(std::time::Duration::from_millis(ms)),
            _ => {
                self.missing.insert(format!("{name} (a whole number of milliseconds)"));
                None
            }
        }
    }

    /// Builds a function's configuration with `build`, then ends reading: `Err` listing every
    /// variable `build` found missing.
    pub fn read<T>(mut self, build: impl FnOnce(&mut Self) -> T) -> Result<T, ConfigError> {
        let config = build(&mut self);
        self.finish().map(|()| config)
    }

    /// Ends reading: `Err` listing every missing variable, if any.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.missing.is_empty() { Ok(()) } else { Err(ConfigError(self.missing.into_iter().collect())) }
    }
}

/// What every function but profile-update reads: the deployment's table, its bus and where
/// its shops document is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub table: String,
    pub bus: String,
    pub shops_secret: String,
}

impl Deployment {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &mut EnvReader<F>) -> Self {
        Self {
            table: env.required(vars::TABLE),
            bus: env.required(vars::BUS),
            shops_secret: env.required(vars::SHOPS_SECRET_ARN),
        }
    }
}

/// How long a function waits on one AWS call: each attempt, and all attempts with the SDK's
/// retries. Without these the SDK waits as long as the connection lives, so one hung call
/// spends the whole invocation (and a webhook's sender gives up first); each function's
/// budget follows from its own timeout and its caller's patience. An attempt that times out
/// is retried like a throttle, so an attempt is short and the operation leaves room for
/// the retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub connect: std::time::Duration,
    pub attempt: std::time::Duration,
    pub operation: std::time::Duration,
}

impl Budget {
    const fn ms(connect: u64, attempt: u64, operation: u64) -> Self {
        use std::time::Duration;
        Self {
            connect: Duration::from_millis(connect),
            attempt: Duration::from_millis(attempt),
            operation: Duration::from_millis(operation),
        }
    }

    /// webhook-ingest: Shopify waits 5 s for an answer (SPECS: Shopify webhooks), so every
    /// call of a delivery (ledger, bus, confirm) ends well within it.
    pub const WEBHOOK: Budget = Budget::ms(500, 1_000, 3_000);
    /// profile-update, cart-abandon-timer and send-mail (30 to 60 s): a few calls per event.
    pub const WORKER: Budget = Budget::ms(1_000, 3_000, 10_000);
    /// rfm-nightly (15 min): Scan and Query pages of up to 1 MB.
    pub const NIGHTLY: Budget = Budget::ms(2_000, 20_000, 60_000);

    /// `default`, with `RELANCE_AWS_ATTEMPT_TIMEOUT_MS` and `RELANCE_AWS_OPERATION_TIMEOUT_MS`
    /// when set (the local stack sets them: an emulator on 2 cores answers slower than AWS).
    pub fn read<F: Fn(&str) -> Option<String>>(env: &mut EnvReader<F>, default: Budget) -> Self {
        let attempt = env.millis(vars::ATTEMPT_TIMEOUT_MS).unwrap_or(default.attempt);
        let operation = env.millis(vars::OPERATION_TIMEOUT_MS).unwrap_or(default.operation).max(attempt);
        Self { connect: default.connect.min(attempt), attempt, operation }
    }
}

/// Names of the variables the SAM template sets (`infra/template.yaml`).
pub mod vars {
    pub const TABLE: &str = "RELANCE_TABLE";
    pub const BUS: &str = "RELANCE_BUS";
    pub const SHOPS_SECRET_ARN: &str = "RELANCE_SHOPS_SECRET_ARN";
    pub const SCHEDULE_GROUP: &str = "RELANCE_SCHEDULE_GROUP";
    pub const SCHEDULER_ROLE_ARN: &str = "RELANCE_SCHEDULER_ROLE_ARN";
    pub const TIMER_ARN: &str = "RELANCE_TIMER_ARN";
    pub const SCHEDULE_DLQ_ARN: &str = "RELANCE_SCHEDULE_DLQ_ARN";
    pub const SENDER: &str = "RELANCE_SENDER";
    pub const CONFIGURATION_SET: &str = "RELANCE_CONFIGURATION_SET";
    pub const PUBLIC_URL: &str = "RELANCE_PUBLIC_URL";
    pub const PARKING_QUEUE_URL: &str = "RELANCE_PARKING_QUEUE_URL";
    pub const ATTEMPT_TIMEOUT_MS: &str = "RELANCE_AWS_ATTEMPT_TIMEOUT_MS";
    pub const OPERATION_TIMEOUT_MS: &str = "RELANCE_AWS_OPERATION_TIMEOUT_MS";
    pub const EXPORTS_BUCKET: &str = "RELANCE_EXPORTS_BUCKET";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let mut env = EnvReader::new(|name| match name {
            "A" => Some("1".to_owned()),
            "EMPTY" => Some(" ".to_owned()),
            _ => None,
        });
        assert_eq!(env.required("A"), "1");
        env.required("B");
        env.required("EMPTY");
        assert_eq!(env.optional("C"), None);
        let err = env.finish().unwrap_err();
        assert_eq!(err.to_string(), "missing or empty environment variables: B, EMPTY");
        let lookup = |name: &str| (name == "A").then(|| "1".to_owned());
        let read = EnvReader::new(lookup).read(|env| (env.required("A"), env.required("B"), env.required("C")));
        assert_eq!(read.unwrap_err(), ConfigError(vec!["B".into(), "C".into()]));
    }

    #[test]
    fn a_budget_takes_the_overrides_and_refuses_what_is_not_milliseconds() {
        let env = |attempt: &'static str| {
            EnvReader::new(move |name| match name {
                vars::ATTEMPT_TIMEOUT_MS => Some(attempt.to_owned()),
                _ => None,
            })
        };
        let budget = env("250").read(|env| Budget::read(env, Budget::WORKER)).unwrap();
        assert_eq!(budget.attempt, std::time::Duration::from_millis(250));
        assert_eq!(budget.connect, std::time::Duration::from_millis(250));
        assert_eq!(budget.operation, Budget::WORKER.operation);
        let long = env("60000").read(|env| Budget::read(env, Budget::WEBHOOK)).unwrap();
        assert_eq!(long.operation, long.attempt, "an operation is never shorter than one attempt");
        let err = env("2s").read(|env| Budget::read(env, Budget::WORKER)).unwrap_err();
        assert_eq!(err, ConfigError(vec![format!("{} (a whole number of milliseconds)", vars::ATTEMPT_TIMEOUT_MS)]));
    }
}
