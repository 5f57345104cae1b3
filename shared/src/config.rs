//! Reading a function's configuration from its environment, once, at cold start.
//!
//! Every missing variable is reported in one error, so a misconfigured deployment is fixed
//! in one round instead of one variable per failed cold start.

use std::collections::BTreeSet;

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
}
