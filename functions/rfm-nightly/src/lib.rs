//! rfm-nightly: nightly RFM scoring, segments and engagement tiers, shop by shop.
//!
//! Invoked by EventBridge Scheduler with the schedule's `Input` as payload (not an
//! EventBridge envelope): `{"run": "nightly"}` scores every shop of the shops document,
//! `{"run": "nightly", "shop": "<id>"}` one. Each shop goes through
//! [`relance::segments::nightly::run`]; a shop that fails fails the invocation after the
//! others ran, so Lambda retries it (the writes are idempotent: unchanged standings are not
//! written again).

use lambda_runtime::LambdaEvent;
use relance::ids::ShopId;
use relance::ports::{Clock, EventPublisher, ProfileStore, SegmentStore};
use relance::segments::nightly::{NightlyError, Settings, Summary, run};
use relance::segments::rfm::Monetary;
use relance::shops::Shops;
use serde::Deserialize;
use std::sync::Arc;

pub struct Deps {
    pub segments: Arc<dyn SegmentStore>,
    pub profiles: Arc<dyn ProfileStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub shops: Arc<Shops>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("input is not a nightly run: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error("shop {0} is not served by this deployment")]
    UnknownShop(ShopId),
    #[error("{failed} of {total} shops could not be scored; first: {first}")]
    Shops { failed: usize, total: usize, first: NightlyError },
}

#[derive(Debug, Deserialize)]
struct Run {
    #[serde(default)]
    shop: Option<ShopId>,
}

#[tracing::instrument(skip_all)]
pub async fn handle(event: LambdaEvent<serde_json::Value>, deps: &Deps) -> Result<Vec<Summary>, HandleError> {
    let run_input: Run = serde_json::from_value(event.payload).map_err(HandleError::Malformed)?;
    let shops: Vec<ShopId> = match run_input.shop {
        Some(shop) if deps.shops.get(&shop).is_some() => vec![shop],
        Some(shop) => return Err(HandleError::UnknownShop(shop)),
        None => deps.shops.ids(),
    };
    let now = deps.clock.now();
    let (mut summaries, mut failures) = (Vec::new(), Vec::new());
    for shop in &shops {
        let config = deps.shops.get(shop);
        let settings = Settings {
            currency: config.and_then(|s| s.currency),
            monetary: Monetary::AverageOrderValue,
            sunset_after: config.and_then(|s| s.programs.reactivation.sunset_after()),
        };
        let scored =
            run(deps.segments.as_ref(), deps.profiles.as_ref(), deps.publisher.as_ref(), shop, settings, now).await;
        match scored {
            Ok(summary) => summaries.push(summary),
            Err(error) => {
                tracing::error!(%shop, error = %error, "shop not scored");
                failures.push(error);
            }
        }
    }
    match failures.into_iter().next() {
        None => Ok(summaries),
        Some(first) => Err(HandleError::Shops { failed: shops.len() - summaries.len(), total: shops.len(), first }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance::memory::{ManualClock, MemoryProfileStore, RecordingPublisher};
    use relance::profile::service::apply_event;

    #[tokio::test]
    async fn the_sample_run_scores_every_shop_and_announces_its_summary() {
        let store = Arc::new(MemoryProfileStore::default());
        let publisher = Arc::new(RecordingPublisher::default());
        let order = format!("{}/../../events/profile-update/order.placed.json", env!("CARGO_MANIFEST_DIR"));
        let order: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(order).unwrap()).unwrap();
        let order: relance::events::Event = serde_json::from_value(order["detail"].clone()).unwrap();
        apply_event(store.as_ref(), publisher.as_ref(), &order).await.unwrap();
        let shops =
            std::fs::read_to_string(format!("{}/../../tests/fixtures/shops.local.json", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        let deps = Deps {
            segments: store.clone(),
            profiles: store.clone(),
            publisher: publisher.clone(),
            shops: Arc::new(Shops::parse(&shops).unwrap()),
            clock: Arc::new(ManualClock::at(order.occurred_at + chrono::Duration::days(1))),
        };
        let sample = include_str!("../../../events/rfm-nightly/nightly.json");
        let event = LambdaEvent::new(serde_json::from_str(sample).unwrap(), lambda_runtime::Context::default());
        let summaries = handle(event, &deps).await.unwrap();
        assert_eq!(summaries.len(), 1);
        assert_eq!((summaries[0].profiles, summaries[0].customers, summaries[0].changed), (1, 1, 1));
        assert!(publisher.events().iter().any(|e| e.detail_type == "segments.summary"));
        let unknown = LambdaEvent::new(serde_json::json!({"run": "nightly", "shop": "nope"}), Default::default());
        assert!(matches!(handle(unknown, &deps).await, Err(HandleError::UnknownShop(_))));
    }
}
