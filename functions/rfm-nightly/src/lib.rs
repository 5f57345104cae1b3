//! rfm-nightly: nightly RFM scoring, segments and engagement tiers, shop by shop.
//!
//! Invoked by EventBridge Scheduler with the schedule's `Input` as payload (not an
//! EventBridge envelope): `{"run": "nightly"}` scores every shop of the shops document in
//! this invocation, `{"run": "nightly", "shop": "<id>"}` one. Each shop goes through
//! [`relance::use_cases::score_nightly::run`]; a shop that fails fails the invocation after the
//! others ran, so Lambda retries it (the writes are idempotent: unchanged standings are not
//! written again).
//!
//! Past what one invocation reads and writes in 15 minutes, `{"run": "nightly", "shards":
//! N}` splits the night: this invocation only puts N tasks on the bus, and the bus brings
//! each back here as a `segments.shard` event (a worker, [`relance::use_cases::score_nightly::sharded`]).

use lambda_runtime::LambdaEvent;
use relance::directory::Directory;
use relance::failure::{Classify, Retry};
use relance::ids::ShopId;
use relance::ports::{AffinityStore, Clock, EventPublisher, ProfileStore, RunStore, SegmentStore};
use relance::segments::Summary;
use relance::segments::rfm::Monetary;
use relance::shops::Shops;
use relance::use_cases::announce_edition::{FanOutError, fan_out};
use relance::use_cases::score_nightly::sharded::{self, Task, Workers};
use relance::use_cases::score_nightly::{NightlyError, Settings, run_with};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Deps {
    pub segments: Arc<dyn SegmentStore>,
    /// The products-bought-together table the night writes for the affinity program.
    pub affinities: Arc<dyn AffinityStore>,
    pub profiles: Arc<dyn ProfileStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub runs: Arc<dyn RunStore>,
    /// The shops document, kept current (a shop added since the cold start is scored).
    pub shops: Arc<Directory>,
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
    #[error("events of type {0} are not for rfm-nightly")]
    NotATask(String),
    #[error("the run's tasks could not be put on the bus")]
    Plan(#[source] relance::ports::PublishError),
    #[error("a new edition could not be announced")]
    FanOut(#[source] FanOutError),
    #[error("shard {index} of {of} ({phase:?}) failed")]
    Shard { index: u32, of: u32, phase: sharded::Phase, source: NightlyError },
}

impl Classify for HandleError {
    fn retry(&self) -> Retry {
        match self {
            HandleError::Malformed(_) | HandleError::UnknownShop(_) | HandleError::NotATask(_) => Retry::Permanent,
            HandleError::Shops { first: e, .. } | HandleError::Shard { source: e, .. } => e.retry(),
            HandleError::Plan(e) => e.retry(),
            HandleError::FanOut(e) => e.retry(),
        }
    }
}

impl From<HandleError> for lambda_runtime::Diagnostic {
    fn from(error: HandleError) -> Self {
        let kind = match &error {
            HandleError::Malformed(_) => "Malformed",
            HandleError::UnknownShop(_) => "UnknownShop",
            HandleError::Shops { .. } => "Shops",
            HandleError::NotATask(_) => "NotATask",
            HandleError::Plan(_) => "Plan",
            HandleError::FanOut(_) => "FanOut",
            HandleError::Shard { .. } => "Shard",
        };
        let (error_type, error_message) = relance::failure::diagnostic(&error, kind);
        Self { error_type, error_message }
    }
}

#[derive(Debug, Deserialize)]
struct Run {
    #[serde(default)]
    shop: Option<ShopId>,
    /// Split the run into this many shards (0 or absent: one invocation).
    #[serde(default)]
    shards: u32,
}

/// A task the bus brings back (an EventBridge envelope).
#[derive(Debug, Deserialize)]
struct TaskEvent {
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: serde_json::Value,
}

/// How each shop served is scored, from the shops document.
fn settings(shops: &Shops, shop: &ShopId) -> Settings {
    let config = shops.get(shop);
    Settings {
        currency: config.and_then(|s| s.currency),
        monetary: Monetary::AverageOrderValue,
        sunset_after: config.and_then(|s| s.programs.reactivation.sunset_after()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn handle(event: LambdaEvent<serde_json::Value>, deps: &Deps) -> Result<Vec<Summary>, HandleError> {
    // An envelope is a task or nothing: never mistaken for a schedule's input (which would
    // start a whole run).
    if event.payload.get("detail-type").is_some() {
        let envelope: TaskEvent = serde_json::from_value(event.payload).map_err(HandleError::Malformed)?;
        if envelope.detail_type == "product.published" {
            let product: relance::events::Event =
                serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
            fan_out(deps.segments.as_ref(), deps.publisher.as_ref(), &product).await.map_err(HandleError::FanOut)?;
            return Ok(Vec::new());
        }
        if envelope.detail_type != sharded::TASK {
            return Err(HandleError::NotATask(envelope.detail_type));
        }
        let task: Task = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
        return work(&task, deps).await;
    }
    let run_input: Run = serde_json::from_value(event.payload).map_err(HandleError::Malformed)?;
    if run_input.shards > 0 && run_input.shop.is_none() {
        let tasks = sharded::plan(run_input.shards, deps.clock.now());
        deps.publisher.publish(&tasks).await.map_err(HandleError::Plan)?;
        tracing::info!(shards = run_input.shards, "nightly run split into shards");
        return Ok(Vec::new());
    }
    let now = deps.clock.now();
    let shops: Vec<ShopId> = match run_input.shop {
        Some(shop) => match deps.shops.find(now, |s| s.get(&shop).map(|_| ())).await {
            Some(()) => vec![shop],
            None => return Err(HandleError::UnknownShop(shop)),
        },
        None => deps.shops.current(now).await.ids(),
    };
    let document = deps.shops.snapshot();
    let (mut summaries, mut failures) = (Vec::new(), Vec::new());
    for shop in &shops {
        let settings = settings(&document, shop);
        let scored = run_with(
            deps.segments.as_ref(),
            deps.profiles.as_ref(),
            deps.publisher.as_ref(),
            Some(deps.affinities.as_ref()),
            shop,
            settings,
            now,
        )
        .await;
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

/// One shard's task of a split run.
async fn work(task: &Task, deps: &Deps) -> Result<Vec<Summary>, HandleError> {
    let document = deps.shops.current(deps.clock.now()).await;
    let shops: BTreeMap<ShopId, Settings> =
        document.ids().into_iter().map(|shop| (shop.clone(), settings(&document, &shop))).collect();
    let workers = Workers {
        segments: deps.segments.as_ref(),
        profiles: deps.profiles.as_ref(),
        publisher: deps.publisher.as_ref(),
        runs: deps.runs.as_ref(),
        shops: &shops,
    };
    sharded::work(&workers, task).await.map_err(|source| HandleError::Shard {
        index: task.shard.index,
        of: task.shard.of,
        phase: task.phase,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance::ports::{ManualClock, MemoryAffinityStore, MemoryProfileStore, MemoryRunStore, RecordingPublisher};
    use relance::use_cases::update_profile::apply_event;

    /// The sample order's customer, the test shops, and the day after the order.
    async fn one_customer() -> (Deps, Arc<RecordingPublisher>) {
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
            affinities: Arc::new(MemoryAffinityStore::default()),
            profiles: store.clone(),
            publisher: publisher.clone(),
            runs: Arc::new(MemoryRunStore::default()),
            shops: Arc::new(Directory::fixed(Shops::parse(&shops).unwrap())),
            clock: Arc::new(ManualClock::at(order.occurred_at + chrono::Duration::days(1))),
        };
        (deps, publisher)
    }

    #[tokio::test]
    async fn the_sample_run_scores_every_shop_and_announces_its_summary() {
        let (deps, publisher) = one_customer().await;
        let sample = include_str!("../../../events/rfm-nightly/nightly.json");
        let event = LambdaEvent::new(serde_json::from_str(sample).unwrap(), lambda_runtime::Context::default());
        let summaries = handle(event, &deps).await.unwrap();
        assert_eq!(summaries.len(), 1);
        assert_eq!((summaries[0].profiles, summaries[0].customers, summaries[0].changed), (1, 1, 1));
        assert!(publisher.events().iter().any(|e| e.detail_type == "segments.summary"));
        let unknown = LambdaEvent::new(serde_json::json!({"run": "nightly", "shop": "nope"}), Default::default());
        assert!(matches!(handle(unknown, &deps).await, Err(HandleError::UnknownShop(_))));
    }

    #[tokio::test]
    async fn a_split_run_comes_back_through_the_bus_as_tasks_and_ends_in_the_summary() {
        let (deps, publisher) = one_customer().await;
        let start = serde_json::json!({"run": "nightly", "shards": 3});
        assert!(handle(LambdaEvent::new(start, Default::default()), &deps).await.unwrap().is_empty());
        let mut delivered = 0;
        let mut summaries = Vec::new();
        while let Some(event) = publisher.events().get(delivered).cloned() {
            delivered += 1;
            if event.detail_type != sharded::TASK {
                continue;
            }
            let envelope = serde_json::json!({
                "version": "0", "id": "x", "source": event.source, "detail-type": event.detail_type,
                "time": event.time, "region": "eu-west-3", "resources": [], "detail": event.detail,
            });
            summaries.extend(handle(LambdaEvent::new(envelope, Default::default()), &deps).await.unwrap());
        }
        let tasks = publisher.events().iter().filter(|e| e.detail_type == sharded::TASK).count();
        assert_eq!(tasks, 6, "three count tasks, then three score tasks");
        assert_eq!(summaries.len(), 1);
        assert_eq!((summaries[0].profiles, summaries[0].customers, summaries[0].changed), (1, 1, 1));

        // The samples of events/ do what the README says.
        let before = publisher.events().len();
        let sample: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/rfm-nightly/nightly-sharded.json")).unwrap();
        handle(LambdaEvent::new(sample, Default::default()), &deps).await.unwrap();
        assert_eq!(publisher.events()[before..].iter().filter(|e| e.detail_type == sharded::TASK).count(), 4);
        let before = publisher.events().len();
        let sample: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/rfm-nightly/segments-shard.json")).unwrap();
        handle(LambdaEvent::new(sample, Default::default()), &deps).await.unwrap();
        let next: Vec<Task> =
            publisher.events()[before..].iter().map(|e| serde_json::from_value(e.detail.clone()).unwrap()).collect();
        assert_eq!(next.len(), 1, "the only count shard merged and asked for the score pass");
        assert_eq!(next[0].phase, sharded::Phase::Score);

        let foreign = serde_json::json!({"detail-type": "order.placed", "detail": {}});
        let refused = handle(LambdaEvent::new(foreign, Default::default()), &deps).await;
        assert!(matches!(refused, Err(HandleError::NotATask(_))), "{refused:?}");
    }

    #[tokio::test]
    async fn a_published_vintage_is_announced_to_the_buyers_of_an_earlier_one() {
        let (deps, publisher) = one_customer().await;
        let mut order: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/profile-update/order.placed.json")).unwrap();
        order["detail"]["id"] = serde_json::json!("api:demo.myshopify.com:vintage-2023");
        order["detail"]["identity"] = serde_json::json!({ "email": "amateur@example.fr" });
        order["detail"]["payload"]["order_id"] = serde_json::json!("77");
        order["detail"]["payload"]["line_items"] = serde_json::json!([{ "product_id": "8200000000034",
            "title": "Château Relance millésime 2023", "quantity": 2, "unit_price": { "minor": 2700, "currency": "EUR" } }]);
        let order: relance::events::Event = serde_json::from_value(order["detail"].clone()).unwrap();
        let store = MemoryProfileStore::default();
        apply_event(&store, publisher.as_ref(), &order).await.unwrap();
        let deps = Deps { segments: Arc::new(store), ..deps };
        let sample: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/rfm-nightly/product-published.json")).unwrap();
        assert!(handle(LambdaEvent::new(sample, Default::default()), &deps).await.unwrap().is_empty());
        let released: Vec<_> =
            publisher.events().into_iter().filter(|e| e.detail_type == relance::programs::edition::RELEASED).collect();
        assert_eq!(released.len(), 1, "the one buyer of the 2023, not the sample's other customer");
    }
}
