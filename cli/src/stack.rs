//! Which deployment a command talks to: a stack deployed from `infra/template.yaml`, found by
//! its CloudFormation name and read from its outputs, or the local stack of `make up`, read
//! from the `.local/stack.env` it writes. Either way a command gets the same names, and an
//! SDK configuration that reaches them.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use relance::config::parse_env_file;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stack's outputs (infra/template.yaml `Outputs`) a command may need.
const OUTPUT_SHOPS_SECRET: &str = "ShopsSecretArn";
const OUTPUT_TABLE: &str = "TableName";
const OUTPUT_WEBHOOK_URL: &str = "WebhookUrl";
const OUTPUT_SCHEDULE_GROUP: &str = "ScheduleGroupName";
const OUTPUT_NIGHTLY: &str = "NightlyFunctionName";

/// rfm-nightly's name under `cargo lambda watch` (its binary's).
pub const LOCAL_NIGHTLY: &str = "rfm-nightly";

/// Where to find the deployment, as the command line named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A CloudFormation stack, in the region of the AWS profile unless one is given.
    Deployed { name: String, region: Option<String> },
    /// The local stack's environment file.
    Local(PathBuf),
}

/// A deployment's resources, by name, and how to reach them.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The stack's name, for messages.
    pub name: String,
    pub shops_secret: String,
    pub table: String,
    /// The public URL of webhook-ingest (shops point their webhooks here).
    pub webhook_url: Option<String>,
    /// The EventBridge Scheduler group of the customers' reminders (an erasure cancels theirs).
    pub schedule_group: Option<String>,
    /// rfm-nightly's function name (a local stack's functions run under `cargo lambda watch`).
    pub nightly_function: Option<String>,
    pub sdk: SdkConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("cannot read {}: start the local stack with `make up`, or name a deployed stack with --stack NAME", .path.display())]
    LocalMissing {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} has no {variable}: run `make up` again to rewrite it", .path.display())]
    LocalIncomplete { path: PathBuf, variable: &'static str },
    #[error(
        "cannot describe stack {name}: check its name (`aws cloudformation describe-stacks`), your AWS credentials and the region (--region)"
    )]
    Describe {
        name: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("stack {name} has no output {output}: was it deployed from Relance's infra/template.yaml?")]
    MissingOutput { name: String, output: &'static str },
}

impl Target {
    /// Resolves the target into the stack's names and an SDK configuration.
    pub async fn resolve(&self) -> Result<Stack, StackError> {
        match self {
            Target::Local(path) => local(path).await,
            Target::Deployed { name, region } => deployed(name, region.as_deref()).await,
        }
    }
}

/// The local stack: moto's endpoint and its fixed test credentials, from `stack.env`.
async fn local(path: &Path) -> Result<Stack, StackError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| StackError::LocalMissing { path: path.to_owned(), source })?;
    let vars = parse_env_file(&text);
    let get = |variable: &'static str| {
        vars.get(variable)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| StackError::LocalIncomplete { path: path.to_owned(), variable })
    };
    let sdk = relance::aws::local_sdk_config(
        &get("AWS_REGION")?,
        &get("AWS_ENDPOINT_URL")?,
        &get("AWS_ACCESS_KEY_ID")?,
        &get("AWS_SECRET_ACCESS_KEY")?,
    )
    .await;
    Ok(Stack {
        name: vars.get("RELANCE_STACK").cloned().unwrap_or_else(|| "local".to_owned()),
        shops_secret: get("RELANCE_SHOPS_SECRET_ARN")?,
        table: get("RELANCE_TABLE")?,
        webhook_url: vars.get("RELANCE_PUBLIC_URL").cloned(),
        schedule_group: vars.get(relance::config::vars::SCHEDULE_GROUP).cloned(),
        nightly_function: Some(LOCAL_NIGHTLY.to_owned()),
        sdk,
    })
}

/// A deployed stack: the standard credential chain, and the stack's outputs.
async fn deployed(name: &str, region: Option<&str>) -> Result<Stack, StackError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let sdk = loader.load().await;
    let outputs = stack_outputs(&aws_sdk_cloudformation::Client::new(&sdk), name).await?;
    from_outputs(name, &outputs, sdk)
}

/// Every output of the stack `name`, by key.
pub async fn stack_outputs(
    client: &aws_sdk_cloudformation::Client,
    name: &str,
) -> Result<BTreeMap<String, String>, StackError> {
    let described = client
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| StackError::Describe { name: name.to_owned(), source: Box::new(e) })?;
    Ok(described
        .stacks()
        .iter()
        .flat_map(|s| s.outputs())
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect())
}

/// The stack's names from its outputs.
pub fn from_outputs(name: &str, outputs: &BTreeMap<String, String>, sdk: SdkConfig) -> Result<Stack, StackError> {
    let get = |output: &'static str| {
        outputs.get(output).cloned().ok_or_else(|| StackError::MissingOutput { name: name.to_owned(), output })
    };
    Ok(Stack {
        name: name.to_owned(),
        shops_secret: get(OUTPUT_SHOPS_SECRET)?,
        table: get(OUTPUT_TABLE)?,
        webhook_url: outputs.get(OUTPUT_WEBHOOK_URL).cloned(),
        schedule_group: outputs.get(OUTPUT_SCHEDULE_GROUP).cloned(),
        nightly_function: outputs.get(OUTPUT_NIGHTLY).cloned(),
        sdk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk() -> SdkConfig {
        SdkConfig::builder().behavior_version(BehaviorVersion::latest()).build()
    }

    #[test]
    fn a_stack_is_named_by_its_outputs() {
        let outputs: BTreeMap<String, String> = [
            ("ShopsSecretArn", "arn:aws:secretsmanager:eu-west-3:1:secret:shops"),
            ("TableName", "relance-Table"),
            ("WebhookUrl", "https://abc.lambda-url.eu-west-3.on.aws/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let stack = from_outputs("relance", &outputs, sdk()).unwrap();
        assert_eq!(stack.shops_secret, "arn:aws:secretsmanager:eu-west-3:1:secret:shops");
        assert_eq!(stack.table, "relance-Table");
        assert_eq!(stack.webhook_url.as_deref(), Some("https://abc.lambda-url.eu-west-3.on.aws/"));
    }

    #[test]
    fn a_stack_without_the_templates_outputs_is_named_for_what_it_lacks() {
        let outputs = BTreeMap::from([("TableName".to_owned(), "t".to_owned())]);
        let error = from_outputs("other", &outputs, sdk()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "stack other has no output ShopsSecretArn: was it deployed from Relance's infra/template.yaml?"
        );
    }

    #[tokio::test]
    async fn a_missing_local_environment_says_to_start_the_stack() {
        let error = Target::Local(PathBuf::from("/nonexistent/stack.env")).resolve().await.unwrap_err();
        assert!(error.to_string().contains("make up"), "{error}");
    }

    #[tokio::test]
    async fn a_local_environment_without_the_table_names_the_variable() {
        let dir = std::env::temp_dir().join(format!("relance-cli-stack-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stack.env");
        std::fs::write(
            &path,
            "AWS_REGION=eu-west-3\nAWS_ACCESS_KEY_ID=test\nAWS_SECRET_ACCESS_KEY=test\nAWS_ENDPOINT_URL=http://127.0.0.1:1\nRELANCE_SHOPS_SECRET_ARN=arn\n",
        )
        .unwrap();
        let error = Target::Local(path).resolve().await.unwrap_err();
        assert!(matches!(error, StackError::LocalIncomplete { variable: "RELANCE_TABLE", .. }), "{error}");
    }
}
