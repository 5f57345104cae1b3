//! profile-update: applies canonical events to the unified customer profile.
//!
//! Commerce events (`relance.ingest`) go through [`relance::profile::service::apply_event`].
//! GDPR requests and SES mail events are routed here too but handled by the issues that
//! build them; until then they fail, so they wait in the dead-letter queue instead of being
//! acknowledged and lost.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use relance::bus::SOURCE_INGEST;
use relance::events::{Event, Payload};
use relance::ports::{EventPublisher, ProfileStore};
use relance::profile::service::{Applied, ApplyError, apply_event};

pub struct Deps {
    pub store: Box<dyn ProfileStore>,
    pub publisher: Box<dyn EventPublisher>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("detail is not a canonical event")]
    Malformed(#[source] serde_json::Error),
    /// Routed here, not handled by this build: fail so it is retried, then dead-lettered.
    #[error("unsupported event {source_name}/{detail_type}")]
    Unsupported { source_name: String, detail_type: String },
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

#[tracing::instrument(skip_all, fields(id = ?event.payload.id, detail_type = %event.payload.detail_type))]
pub async fn handle(
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
    deps: &Deps,
) -> Result<Applied, HandleError> {
    let envelope = event.payload;
    let unsupported =
        || HandleError::Unsupported { source_name: envelope.source.clone(), detail_type: envelope.detail_type.clone() };
    if envelope.source != SOURCE_INGEST {
        return Err(unsupported());
    }
    let canonical: Event = serde_json::from_value(envelope.detail.clone()).map_err(HandleError::Malformed)?;
    if matches!(canonical.payload, Payload::DataRequested(_) | Payload::CustomerRedacted(_) | Payload::ShopRedacted) {
        return Err(unsupported());
    }
    let applied = apply_event(deps.store.as_ref(), deps.publisher.as_ref(), &canonical).await?;
    tracing::info!(shop = %canonical.shop, event = %canonical.id, outcome = ?applied, "applied");
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance::memory::{MemoryProfileStore, RecordingPublisher};

    fn sample(name: &str) -> LambdaEvent<EventBridgeEvent<serde_json::Value>> {
        let path = format!("{}/../../events/profile-update/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let payload = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    fn deps() -> Deps {
        Deps { store: Box::new(MemoryProfileStore::default()), publisher: Box::new(RecordingPublisher::default()) }
    }

    #[tokio::test]
    async fn every_commerce_sample_applies_and_a_redelivery_changes_nothing() {
        let deps = deps();
        for name in [
            "customer.signed_up",
            "checkout.started",
            "order.placed",
            "order.paid",
            "order.refunded",
            "consent.changed",
        ] {
            let outcome = handle(sample(name), &deps).await.unwrap();
            assert!(matches!(outcome, Applied::Changed { .. }), "{name}: {outcome:?}");
        }
        assert!(matches!(handle(sample("order.placed"), &deps).await.unwrap(), Applied::Duplicate { .. }));
        assert_eq!(handle(sample("cart.updated"), &deps).await.unwrap(), Applied::NoIdentity);
    }

    #[tokio::test]
    async fn gdpr_requests_fail_loudly_until_erasure_and_export_land() {
        for name in ["gdpr.customer_redacted", "gdpr.shop_redacted", "gdpr.data_requested"] {
            let err = handle(sample(name), &deps()).await.unwrap_err();
            assert!(matches!(err, HandleError::Unsupported { .. }), "{name}: {err}");
        }
    }
}
