//! profile-update: applies canonical events to the unified customer profile.
//!
//! Commerce events (`relance.ingest`) go through [`relance::use_cases::update_profile::apply_event`];
//! GDPR requests through [`relance::use_cases::gdpr`]: erasures delete (schedules included),
//! a data request publishes the export as `gdpr.export_ready` on the bus. SES sending
//! events (`aws.ses`, default bus) go through
//! [`relance::use_cases::update_profile::apply_mail_event`]: engagement, suppression, message log.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use relance::bus::{BusEvent, SOURCE_INGEST, SOURCE_PROFILE};
use relance::events::{Event, Payload};
use relance::failure::{Classify, Retry};
use relance::normalise::ses::{MailOutcome, mail_event};
use relance::ports::{EventPublisher, ProfileStore, PublishError, Scheduler, StoreError};
use relance::use_cases::gdpr::{GdprError, erase_customer, export_customer};
use relance::use_cases::update_profile::{Applied, ApplyError, apply_event, apply_mail_event};

/// `source` of the events an SES configuration set publishes (SPECS: Amazon SES).
pub const SOURCE_SES: &str = "aws.ses";
use std::sync::Arc;

pub struct Deps {
    pub store: Arc<dyn ProfileStore>,
    pub publisher: Arc<dyn EventPublisher>,
    /// Cancels a customer's pending reminders on erasure.
    pub scheduler: Arc<dyn Scheduler>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("detail is not a canonical event")]
    Malformed(#[source] serde_json::Error),
    #[error("detail is not an SES sending event")]
    MalformedMail(#[source] relance::normalise::NormaliseError),
    /// Routed here, not handled by this build: fail so it is retried, then dead-lettered.
    #[error("unsupported event {source_name}/{detail_type}")]
    Unsupported { source_name: String, detail_type: String },
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error("GDPR request failed")]
    Gdpr(#[from] GdprError),
    #[error("profile store unavailable")]
    Store(#[from] StoreError),
    #[error("could not publish the export")]
    Export(#[from] PublishError),
    /// Our own export failed to encode: a bug.
    #[error("could not encode the export")]
    Encode(#[source] serde_json::Error),
}

impl Classify for HandleError {
    fn retry(&self) -> Retry {
        match self {
            HandleError::Malformed(_)
            | HandleError::MalformedMail(_)
            | HandleError::Unsupported { .. }
            | HandleError::Encode(_) => Retry::Permanent,
            HandleError::Apply(e) => e.retry(),
            HandleError::Gdpr(e) => e.retry(),
            HandleError::Store(e) => e.retry(),
            HandleError::Export(e) => e.retry(),
        }
    }
}

impl From<HandleError> for lambda_runtime::Diagnostic {
    fn from(error: HandleError) -> Self {
        let kind = match &error {
            HandleError::Malformed(_) | HandleError::MalformedMail(_) => "Malformed",
            HandleError::Unsupported { .. } => "Unsupported",
            HandleError::Apply(_) => "Apply",
            HandleError::Gdpr(_) => "Gdpr",
            HandleError::Store(_) => "Store",
            HandleError::Export(_) => "Export",
            HandleError::Encode(_) => "Encode",
        };
        let (error_type, error_message) = relance::failure::diagnostic(&error, kind);
        Self { error_type, error_message }
    }
}

/// What happened to an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Applied(Applied),
    Erased {
        profiles: usize,
    },
    Exported {
        profiles: usize,
    },
    /// A mail event Relance does not record (not its mail, soft bounce, send…).
    Ignored {
        reason: &'static str,
    },
}

#[tracing::instrument(skip_all, fields(id = ?event.payload.id, detail_type = %event.payload.detail_type))]
pub async fn handle(
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
    deps: &Deps,
) -> Result<Outcome, HandleError> {
    let envelope = event.payload;
    if envelope.source == SOURCE_SES {
        let outcome = match mail_event(&envelope.detail).map_err(HandleError::MalformedMail)? {
            MailOutcome::Event(mail) => {
                Outcome::Applied(apply_mail_event(deps.store.as_ref(), deps.publisher.as_ref(), &mail).await?)
            }
            MailOutcome::Ignored { reason } => Outcome::Ignored { reason },
        };
        tracing::info!(?outcome, "mail event handled");
        return Ok(outcome);
    }
    if envelope.source != SOURCE_INGEST {
        return Err(HandleError::Unsupported { source_name: envelope.source, detail_type: envelope.detail_type });
    }
    let canonical: Event = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
    let store = deps.store.as_ref();
    let outcome = match &canonical.payload {
        Payload::CustomerRedacted(redact) => {
            let erased = erase_customer(store, deps.scheduler.as_ref(), &canonical, redact).await?;
            Outcome::Erased { profiles: erased.profiles.len() }
        }
        Payload::ShopRedacted => Outcome::Erased { profiles: store.erase_shop(&canonical.shop).await? },
        Payload::DataRequested(request) => {
            let id = request.request_id.as_ref().map(ToString::to_string);
            let export = export_customer(store, &canonical, id).await?;
            let profiles = export.profiles.len();
            // Delivered on the bus, for the shop's own rule (mail to the DPO, S3, ticket…).
            let detail = serde_json::to_value(&export).map_err(HandleError::Encode)?;
            deps.publisher
                .publish(&[BusEvent {
                    source: SOURCE_PROFILE.to_owned(),
                    detail_type: "gdpr.export_ready".to_owned(),
                    time: canonical.occurred_at,
                    detail,
                }])
                .await?;
            Outcome::Exported { profiles }
        }
        _ => Outcome::Applied(apply_event(store, deps.publisher.as_ref(), &canonical).await?),
    };
    tracing::info!(shop = %canonical.shop, event = %canonical.id, ?outcome, "handled");
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance::ports::{MemoryProfileStore, MemoryScheduler, RecordingPublisher};

    fn sample(name: &str) -> LambdaEvent<EventBridgeEvent<serde_json::Value>> {
        let path = format!("{}/../../events/profile-update/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let payload = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    fn deps() -> Deps {
        Deps {
            store: Arc::new(MemoryProfileStore::default()),
            publisher: Arc::new(RecordingPublisher::default()),
            scheduler: Arc::new(MemoryScheduler::default()),
        }
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
            assert!(matches!(outcome, Outcome::Applied(Applied::Changed { .. })), "{name}: {outcome:?}");
        }
        let again = handle(sample("order.placed"), &deps).await.unwrap();
        assert!(matches!(again, Outcome::Applied(Applied::Duplicate { .. })));
        assert_eq!(handle(sample("cart.updated"), &deps).await.unwrap(), Outcome::Applied(Applied::NoIdentity));
    }

    #[tokio::test]
    async fn gdpr_samples_erase_and_export_through_the_handler() {
        let publisher = std::sync::Arc::new(RecordingPublisher::default());
        let store = std::sync::Arc::new(MemoryProfileStore::default());
        let deps = Deps {
            store: store.clone(),
            publisher: publisher.clone(),
            scheduler: Arc::new(MemoryScheduler::default()),
        };
        // The person the Shopify compliance samples name (customer 191167, john@example.com).
        let mut signup = sample("customer.signed_up");
        signup.payload.detail["identity"] = serde_json::json!({ "email": "john@example.com", "customer_id": "191167" });
        handle(signup, &deps).await.unwrap();

        let exported = handle(sample("gdpr.data_requested"), &deps).await.unwrap();
        assert_eq!(exported, Outcome::Exported { profiles: 1 });
        let export = publisher.events().into_iter().find(|e| e.detail_type == "gdpr.export_ready").unwrap();
        assert_eq!(export.detail["profiles"][0]["contact"]["email"]["value"], "john@example.com");

        assert_eq!(handle(sample("gdpr.customer_redacted"), &deps).await.unwrap(), Outcome::Erased { profiles: 1 });
        let shop = relance::ids::ShopId::parse("demo.myshopify.com").unwrap();
        assert!(store.profiles(&shop).is_empty());
        assert!(store.identity_keys(&shop).is_empty(), "{:?}", store.identity_keys(&shop));
        assert!(matches!(handle(sample("gdpr.shop_redacted"), &deps).await.unwrap(), Outcome::Erased { .. }));
    }

    #[tokio::test]
    async fn a_hard_bounce_suppresses_the_profile_and_foreign_sources_fail_loudly() {
        let deps = deps();
        let Outcome::Applied(Applied::Changed { profile, .. }) =
            handle(sample("customer.signed_up"), &deps).await.unwrap()
        else {
            panic!("applied")
        };
        let mut bounce = sample("aws.ses/bounce");
        let tags = relance::mail::MailTags {
            shop: relance::ids::ShopId::parse("demo.myshopify.com").unwrap(),
            profile: profile.clone(),
            message: "m-1".into(),
        };
        for (name, value) in tags.to_pairs() {
            bounce.payload.detail["mail"]["tags"][name] = serde_json::json!([value]);
        }
        assert!(matches!(handle(bounce, &deps).await.unwrap(), Outcome::Applied(Applied::Changed { .. })));
        let stored = deps.store.load(&tags.shop, &profile).await.unwrap().unwrap().value;
        assert!(stored.suppression.is_some());
        // The sample itself carries no Relance tags: not our mail.
        assert!(matches!(handle(sample("aws.ses/bounce"), &deps).await.unwrap(), Outcome::Ignored { .. }));
        let mut event = sample("order.placed");
        event.payload.source = "someone.else".to_owned();
        assert!(matches!(handle(event, &deps).await, Err(HandleError::Unsupported { .. })));
    }
}
