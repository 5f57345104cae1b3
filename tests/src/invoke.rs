//! Invoking a function the way Lambda's `Invoke` API does.

use async_trait::async_trait;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The function ran and returned an error (Lambda's `X-Amz-Function-Error`): Lambda
    /// retries these for asynchronous invocations, then sends them to the on-failure
    /// destination.
    #[error("function {function} failed: {error}")]
    Function { function: String, error: Value },
    /// The function could not be reached at all (EventBridge and Scheduler retry these,
    /// then dead-letter them).
    #[error("function {function} could not be invoked")]
    Unreachable {
        function: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

#[async_trait]
pub trait Invoker: Send + Sync {
    /// Invokes the function named by its binary with `payload`; returns its response.
    async fn invoke(&self, function: &str, payload: &Value) -> Result<Value, InvokeError>;
}

/// Invokes through `cargo lambda watch`, which serves each binary of the workspace behind
/// the real Lambda `Invoke` route, running the same binaries, runtime and environment
/// (`--env-file .local/stack.env`) that run on AWS.
pub struct WatchInvoker {
    http: reqwest::Client,
    base_url: String,
}

impl WatchInvoker {
    /// `base_url`: where `cargo lambda watch` listens, e.g. `http://127.0.0.1:9000`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self { http: reqwest::Client::new(), base_url: base_url.into().trim_end_matches('/').to_owned() }
    }
}

#[async_trait]
impl Invoker for WatchInvoker {
    async fn invoke(&self, function: &str, payload: &Value) -> Result<Value, InvokeError> {
        let unreachable = |source: reqwest::Error| InvokeError::Unreachable {
            function: function.to_owned(),
            source: Box::new(source),
        };
        let url = format!("{}/2015-03-31/functions/{function}/invocations", self.base_url);
        let response = self.http.post(url).json(payload).send().await.map_err(unreachable)?;
        let status = response.status();
        let function_error = response.headers().contains_key("x-amz-function-error");
        let body = response.bytes().await.map_err(unreachable)?;
        let body: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        if function_error || !status.is_success() {
            return Err(InvokeError::Function { function: function.to_owned(), error: body });
        }
        Ok(body)
    }
}
