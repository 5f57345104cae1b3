//! rfm-nightly: nightly RFM scoring and segment assignment.
//!
//! Invoked by EventBridge Scheduler with the schedule's `Input` as payload (not an
//! EventBridge envelope).

use lambda_runtime::LambdaEvent;

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Scoring is not wired yet; failing sends the invocation to the dead-letter queue
    /// instead of reporting a run that did nothing as a success.
    #[error("rfm scoring is not available in this build")]
    NotAvailable,
}

#[tracing::instrument(skip_all)]
pub async fn handle(_event: LambdaEvent<serde_json::Value>) -> Result<(), HandleError> {
    tracing::warn!("rfm scoring is not available in this build");
    Err(HandleError::NotAvailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_run_that_cannot_score_fails_instead_of_reporting_success() {
        let sample = include_str!("../../../events/rfm-nightly/nightly.json");
        let payload: serde_json::Value = serde_json::from_str(sample).unwrap();
        let event = LambdaEvent::new(payload, lambda_runtime::Context::default());
        assert!(handle(event).await.is_err());
    }
}
