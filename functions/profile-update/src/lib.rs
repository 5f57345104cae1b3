//! profile-update: applies canonical events to the unified customer profile.
//!
//! Commerce events (`relance.ingest`) go through [`relance::use_cases::update_profile::apply_event`],
//! unless they are late events of an erased person (a tombstone names one of their keys,
//! erased after they occurred): those are dropped. GDPR requests go through
//! [`relance::use_cases::gdpr`]: a customer's erasure deletes (schedules included) and
//! leaves tombstones; a shop's erasure runs in pages, handing itself on with
//! `gdpr.shop_erasure_continues` (source `relance.profile`); a data request writes the
//! export to the export bucket and announces its key as `gdpr.export_ready`. SES sending
//! events (`aws.ses`, default bus) go through
//! [`relance::use_cases::update_profile::apply_mail_event`]: engagement, suppression, message log.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use relance::bus::{SOURCE_INGEST, SOURCE_PROFILE};
use relance::events::{Event, Payload};
use relance::failure::{Classify, Retry};
use relance::normalise::ses::{MailOutcome, mail_event};
use relance::ports::{Clock, EventPublisher, ExportSink, ProfileStore, Scheduler, ShopEraser, StoreError, Tombstones};
use relance::use_cases::gdpr::{
    GdprError, Paging, SHOP_ERASURE_CONTINUES, ShopErasure, ShopErasureContinues, deliver_export, erase_customer,
    erase_shop, erased_before,
};
use relance::use_cases::update_profile::{Applied, ApplyError, apply_event, apply_mail_event};

/// `source` of the events an SES configuration set publishes (SPECS: Amazon SES).
pub const SOURCE_SES: &str = "aws.ses";
use std::sync::Arc;

pub struct Deps {
    pub store: Arc<dyn ProfileStore>,
    pub publisher: Arc<dyn EventPublisher>,
    /// Cancels a customer's pending schedules on erasure.
    pub scheduler: Arc<dyn Scheduler>,
    /// Erased identity keys (hashed): late events of an erased person are dropped.
    pub tombstones: Arc<dyn Tombstones>,
    /// Shop erasure, a page at a time.
    pub shop_eraser: Arc<dyn ShopEraser>,
    pub shop_paging: Paging,
    /// Where data exports are written (the stack's export bucket).
    pub exports: Arc<dyn ExportSink>,
    pub clock: Arc<dyn Clock>,
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
}

impl Classify for HandleError {
    fn retry(&self) -> Retry {
        match self {
            HandleError::Malformed(_) | HandleError::MalformedMail(_) | HandleError::Unsupported { .. } => {
                Retry::Permanent
            }
            HandleError::Apply(e) => e.retry(),
            HandleError::Gdpr(e) => e.retry(),
            HandleError::Store(e) => e.retry(),
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
    /// A page (or a few) of a shop's erasure.
    ShopErasure(ShopErasure),
    Exported {
        profiles: usize,
        key: String,
    },
    /// A late event of an erased person: not applied, so they are not filed again.
    Dropped {
        reason: &'static str,
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
    if envelope.source == SOURCE_PROFILE && envelope.detail_type == SHOP_ERASURE_CONTINUES {
        let next: ShopErasureContinues = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
        let erasure = erase_shop(
            deps.shop_eraser.as_ref(),
            deps.publisher.as_ref(),
            &next.shop,
            deps.shop_paging,
            deps.clock.now(),
        )
        .await?;
        tracing::info!(shop = %next.shop, after_pages = next.pages, ?erasure, "shop erasure continued");
        return Ok(Outcome::ShopErasure(erasure));
    }
    if envelope.source != SOURCE_INGEST {
        return Err(HandleError::Unsupported { source_name: envelope.source, detail_type: envelope.detail_type });
    }
    let canonical: Event = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
    let store = deps.store.as_ref();
    let outcome = match &canonical.payload {
        Payload::CustomerRedacted(redact) => {
            let erased =
                erase_customer(store, deps.scheduler.as_ref(), deps.tombstones.as_ref(), &canonical, redact).await?;
            Outcome::Erased { profiles: erased.profiles.len() }
        }
        Payload::ShopRedacted => Outcome::ShopErasure(
            erase_shop(
                deps.shop_eraser.as_ref(),
                deps.publisher.as_ref(),
                &canonical.shop,
                deps.shop_paging,
                deps.clock.now(),
            )
            .await?,
        ),
        Payload::DataRequested(request) => {
            let ready =
                deliver_export(store, deps.exports.as_ref(), deps.publisher.as_ref(), &canonical, request).await?;
            Outcome::Exported { profiles: ready.profiles, key: ready.key }
        }
        _ => match erased_before(deps.tombstones.as_ref(), &canonical, deps.clock.now()).await? {
            Some(erased_at) => {
                // Ids only; `dropped_erased = 1` is what a metric filter or Logs Insights counts.
                tracing::info!(
                    shop = %canonical.shop,
                    event = %canonical.id,
                    occurred_at = %canonical.occurred_at,
                    %erased_at,
                    dropped_erased = 1u32,
                    "late event of an erased person dropped"
                );
                Outcome::Dropped { reason: "late event of an erased person" }
            }
            None => Outcome::Applied(apply_event(store, deps.publisher.as_ref(), &canonical).await?),
        },
    };
    tracing::info!(shop = %canonical.shop, event = %canonical.id, ?outcome, "handled");
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance::ports::{
        ManualClock, MemoryExportSink, MemoryProfileStore, MemoryScheduler, MemoryTombstones, RecordingPublisher,
    };

    fn sample(name: &str) -> LambdaEvent<EventBridgeEvent<serde_json::Value>> {
        let path = format!("{}/../../events/profile-update/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let payload = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    /// The samples' time: tombstones are judged by it.
    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::at("2026-11-23T18:00:00Z".parse().unwrap()))
    }

    fn deps_with(
        store: Arc<MemoryProfileStore>,
        publisher: Arc<RecordingPublisher>,
        exports: Arc<MemoryExportSink>,
    ) -> Deps {
        Deps {
            store: store.clone(),
            publisher,
            scheduler: Arc::new(MemoryScheduler::default()),
            tombstones: Arc::new(MemoryTombstones::default()),
            shop_eraser: store,
            shop_paging: Paging::default(),
            exports,
            clock: clock(),
        }
    }

    fn deps() -> Deps {
        deps_with(Arc::default(), Arc::default(), Arc::default())
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
        let publisher = Arc::new(RecordingPublisher::default());
        let store = Arc::new(MemoryProfileStore::default());
        let exports = Arc::new(MemoryExportSink::default());
        let deps = deps_with(store.clone(), publisher.clone(), exports.clone());
        // The person the Shopify compliance samples name (customer 191167, john@example.com).
        let mut signup = sample("customer.signed_up");
        signup.payload.detail["identity"] = serde_json::json!({ "email": "john@example.com", "customer_id": "191167" });
        handle(signup, &deps).await.unwrap();

        let Outcome::Exported { profiles: 1, key } = handle(sample("gdpr.data_requested"), &deps).await.unwrap() else {
            panic!("exported")
        };
        let ready = publisher.events().into_iter().find(|e| e.detail_type == "gdpr.export_ready").unwrap();
        assert_eq!(ready.detail["key"], key.as_str());
        assert!(
            !ready.detail.to_string().contains("john@example.com"),
            "no personal data on the bus: {}",
            ready.detail
        );
        let export: serde_json::Value = serde_json::from_slice(&exports.object(&key).unwrap()).unwrap();
        assert_eq!(export["profiles"][0]["contact"]["email"]["value"], "john@example.com");

        assert_eq!(handle(sample("gdpr.customer_redacted"), &deps).await.unwrap(), Outcome::Erased { profiles: 1 });
        let shop = relance::ids::ShopId::parse("demo.myshopify.com").unwrap();
        assert!(store.profiles(&shop).is_empty());
        assert!(store.identity_keys(&shop).is_empty(), "{:?}", store.identity_keys(&shop));
        // The signup (2025) delivered again after the erasure: dropped, not filed again.
        let mut late = sample("customer.signed_up");
        late.payload.detail["identity"] = serde_json::json!({ "email": "john@example.com", "customer_id": "191167" });
        late.payload.detail["id"] = serde_json::json!("shopify:demo.myshopify.com:late-signup");
        assert!(matches!(handle(late, &deps).await.unwrap(), Outcome::Dropped { .. }));
        assert!(store.profiles(&shop).is_empty());
        assert!(matches!(
            handle(sample("gdpr.shop_redacted"), &deps).await.unwrap(),
            Outcome::ShopErasure(ShopErasure::Finished { .. })
        ));
    }

    #[tokio::test]
    async fn a_shop_erasure_hands_itself_on_until_the_shop_is_empty() {
        let publisher = Arc::new(RecordingPublisher::default());
        let store = Arc::new(MemoryProfileStore::default());
        let mut deps = deps_with(store.clone(), publisher.clone(), Arc::default());
        deps.shop_paging = Paging { page_size: 1, pages_per_invocation: 1 };
        for name in ["customer.signed_up", "order.placed", "checkout.started"] {
            handle(sample(name), &deps).await.unwrap();
        }
        let shop = relance::ids::ShopId::parse("demo.myshopify.com").unwrap();
        let first = handle(sample("gdpr.shop_redacted"), &deps).await.unwrap();
        assert!(matches!(first, Outcome::ShopErasure(ShopErasure::Continues { pages: 1, .. })), "{first:?}");
        let mut invocations = 1;
        loop {
            let next = publisher.events().into_iter().rev().find(|e| e.detail_type == SHOP_ERASURE_CONTINUES).unwrap();
            // What the rule delivers: the sample's envelope around the published detail.
            let mut continuation = sample("relance.profile/gdpr.shop_erasure_continues");
            continuation.payload.detail = next.detail;
            invocations += 1;
            match handle(continuation, &deps).await.unwrap() {
                Outcome::ShopErasure(ShopErasure::Continues { .. }) => assert!(invocations < 100),
                Outcome::ShopErasure(ShopErasure::Finished { .. }) => break,
                other => panic!("{other:?}"),
            }
        }
        assert!(invocations > 2, "{invocations}");
        assert!(store.profiles(&shop).is_empty() && store.identity_keys(&shop).is_empty());
        assert!(store.shop_records(&shop).is_empty());
        // The sample itself, redelivered after the end: nothing left to do.
        let again = handle(sample("relance.profile/gdpr.shop_erasure_continues"), &deps).await.unwrap();
        assert!(matches!(again, Outcome::ShopErasure(ShopErasure::Finished { .. })));
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
