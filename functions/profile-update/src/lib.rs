//! profile-update: applies canonical events to the unified customer profile.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// An event this function is routed but cannot handle yet. Failing (rather than
    /// acknowledging) sends it through Lambda's retries to the dead-letter queue, where it
    /// waits to be redriven instead of being lost.
    #[error("unsupported event {source_name}/{detail_type}")]
    Unsupported { source_name: String, detail_type: String },
}

#[tracing::instrument(skip_all, fields(id = ?event.payload.id, detail_type = %event.payload.detail_type))]
pub async fn handle(event: LambdaEvent<EventBridgeEvent<serde_json::Value>>) -> Result<(), HandleError> {
    let envelope = event.payload;
    tracing::warn!("no handler for this event type yet");
    Err(HandleError::Unsupported { source_name: envelope.source, detail_type: envelope.detail_type })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_events_fail_loudly_instead_of_being_dropped() {
        let sample = include_str!("../../../events/profile-update/order.placed.json");
        let payload: EventBridgeEvent<serde_json::Value> = serde_json::from_str(sample).unwrap();
        let event = LambdaEvent::new(payload, lambda_runtime::Context::default());
        let err = handle(event).await.unwrap_err();
        assert!(err.to_string().starts_with("unsupported event"), "{err}");
    }
}
