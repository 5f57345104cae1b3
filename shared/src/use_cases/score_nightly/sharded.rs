//! The nightly run split across invocations, for tables one Lambda run cannot read and write
//! in its 15 minutes (BENCHMARKS.md puts the limit near ten million profiles).
//!
//! A coordinator puts `shards` count tasks on the bus. Each count worker reads its shard of
//! every shop's profiles (a parallel scan) and keeps each shop's [`Distribution`] as a part
//! of the run. Distributions add up, so the worker that finishes last merges them into each
//! shop's [`Cutoffs`] — exactly the scores one pass over the whole shop gives — and puts the
//! score tasks on the bus. Each score worker reads its shard again, scores, writes the
//! standings that changed and announces their transitions, keeping a [`Tally`]; the last one
//! adds the tallies into each shop's summary.
//!
//! Every step is safe to repeat (Lambda retries a failed task; the bus may deliver one
//! twice): parts are replaced, finishing is counted per shard, and a standing already
//! written is not written again. Profiles that change between the two passes score against
//! the counted distribution (their new values take the score of the nearest counted one).

use super::{NightlyError, Row, Settings, Summary, Tally, announce, distribution, rows_of, stand, value_model};
use crate::bus::{BusEvent, SOURCE_SEGMENTS};
use crate::clv::Customer;
use crate::ids::ShopId;
use crate::ports::{EventPublisher, ProfileStore, RunStore, SegmentStore, Shard, StoreError};
use crate::segments::distribution::{Cutoffs, Distribution};
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The detail-type of a task on the bus (source [`SOURCE_SEGMENTS`]).
pub const TASK: &str = "segments.shard";

/// A run's parts outlive it by this much, for a look after a failure; then they expire.
const KEEP_PARTS: Duration = Duration::days(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Count,
    Score,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Count => "count",
            Phase::Score => "score",
        }
    }
}

/// What a count worker hands on for a shop: its distribution, and a sample of its customers
/// for the value model.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Counted {
    distribution: Distribution,
    sample: Vec<Customer>,
}

/// What the score workers receive for a shop.
#[derive(Debug, Serialize, Deserialize)]
struct Scoring {
    cutoffs: Cutoffs,
    model: Option<crate::clv::Model>,
}

/// One worker's task: which run, which phase, which shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub run: String,
    pub phase: Phase,
    pub shard: Shard,
    /// The run's clock: every shard scores against the same "now".
    pub at: DateTime<Utc>,
}

/// The coordinator's work: the count tasks of a run over `shards` shards (at least one).
pub fn plan(shards: u32, at: DateTime<Utc>) -> Vec<BusEvent> {
    // Named after its time, so a retried coordinator restarts the same run.
    let run = format!("nightly-{}", at.format("%Y%m%dT%H%M%SZ"));
    tasks(&run, Phase::Count, shards.max(1), at)
}

fn tasks(run: &str, phase: Phase, shards: u32, at: DateTime<Utc>) -> Vec<BusEvent> {
    (0..shards)
        .map(|index| {
            let task = Task { run: run.to_owned(), phase, shard: Shard { index, of: shards }, at };
            BusEvent {
                source: SOURCE_SEGMENTS.to_owned(),
                detail_type: TASK.to_owned(),
                time: at,
                detail: serde_json::to_value(&task).unwrap_or_default(),
            }
        })
        .collect()
}

/// What a worker reaches.
pub struct Workers<'a> {
    pub segments: &'a dyn SegmentStore,
    pub profiles: &'a dyn ProfileStore,
    pub publisher: &'a dyn EventPublisher,
    pub runs: &'a dyn RunStore,
    /// The shops served and how each is scored; profiles of other shops are passed over.
    pub shops: &'a BTreeMap<ShopId, Settings>,
}

/// Does one task; returns the shops' summaries when it was the run's last score task.
pub async fn work(workers: &Workers<'_>, task: &Task) -> Result<Vec<Summary>, NightlyError> {
    let rows = read_shard(workers, task).await?;
    let expires_at = task.at + KEEP_PARTS;
    let runs = workers.runs;
    match task.phase {
        Phase::Count => {
            // Each shard's share of the value model's sample (crate::clv::MAX_FIT_CUSTOMERS
            // in all), taken evenly through its customers.
            let share = (crate::clv::MAX_FIT_CUSTOMERS / task.shard.of.max(1) as usize).max(1);
            let counted: BTreeMap<&ShopId, Counted> = rows
                .iter()
                .map(|(shop, rows)| {
                    let customers: Vec<Customer> = rows.iter().filter_map(|r| r.customer).collect();
                    let stride = customers.len().div_ceil(share).max(1);
                    let sample = customers.into_iter().step_by(stride).collect();
                    (*shop, Counted { distribution: distribution(rows), sample })
                })
                .collect();
            if !hand_on(runs, task, &encode(&counted)?).await? {
                return Ok(Vec::new());
            }
            let mut merged: BTreeMap<ShopId, Counted> = BTreeMap::new();
            for part in decode_parts::<BTreeMap<ShopId, Counted>>(runs, &task.run, "count/").await? {
                for (shop, counted) in part {
                    let mine = merged.entry(shop).or_default();
                    mine.distribution.merge(counted.distribution);
                    mine.sample.extend(counted.sample);
                }
            }
            let cutoffs: BTreeMap<ShopId, Scoring> = merged
                .iter()
                .map(|(shop, counted)| {
                    let settings = workers.shops.get(shop).copied().unwrap_or_default();
                    let model = value_model(shop, &counted.sample, &settings, task.at);
                    (shop.clone(), Scoring { cutoffs: counted.distribution.cutoffs(), model })
                })
                .collect();
            runs.put_part(&task.run, "cutoffs", &encode(&cutoffs)?, expires_at).await?;
            workers.publisher.publish(&tasks(&task.run, Phase::Score, task.shard.of, task.at)).await?;
            tracing::info!(run = %task.run, shards = task.shard.of, shops = cutoffs.len(), "distributions merged");
            Ok(Vec::new())
        }
        Phase::Score => {
            let cutoffs: BTreeMap<ShopId, Scoring> = decode_parts(runs, &task.run, "cutoffs")
                .await?
                .pop()
                .ok_or(StoreError::Corrupt { entity: "run cutoffs", source: "missing".into() })?;
            let none = Scoring { cutoffs: Distribution::default().cutoffs(), model: None };
            let mut tallies: BTreeMap<&ShopId, Tally> = BTreeMap::new();
            for (shop, rows) in &rows {
                let settings = &workers.shops[*shop];
                let shop_cutoffs = cutoffs.get(*shop).unwrap_or(&none);
                let tally = stand(
                    workers.segments,
                    workers.profiles,
                    workers.publisher,
                    shop,
                    rows,
                    &shop_cutoffs.cutoffs,
                    shop_cutoffs.model.as_ref(),
                    settings,
                    task.at,
                )
                .await?;
                tallies.insert(shop, tally);
            }
            if !hand_on(runs, task, &encode(&tallies)?).await? {
                return Ok(Vec::new());
            }
            let mut merged: BTreeMap<ShopId, Tally> = BTreeMap::new();
            for part in decode_parts::<BTreeMap<ShopId, Tally>>(runs, &task.run, "score/").await? {
                for (shop, tally) in part {
                    merged.entry(shop).or_default().merge(tally);
                }
            }
            let mut summaries = Vec::new();
            for (shop, tally) in merged {
                let Some(settings) = workers.shops.get(&shop) else { continue };
                let summary = tally.summary(&shop, settings.currency, task.at);
                announce(workers.segments, workers.publisher, &summary).await?;
                summaries.push(summary);
            }
            Ok(summaries)
        }
    }
}

/// Stores this shard's part of its phase and marks the shard finished; `true` when it was
/// the phase's last, whose worker goes on to merge.
async fn hand_on(runs: &dyn RunStore, task: &Task, part: &[u8]) -> Result<bool, NightlyError> {
    let expires_at = task.at + KEEP_PARTS;
    let phase = task.phase.as_str();
    runs.put_part(&task.run, &format!("{phase}/{:06}", task.shard.index), part, expires_at).await?;
    Ok(runs.finish(&task.run, phase, task.shard.index, expires_at).await? >= task.shard.of)
}

/// The shard's profiles of the shops served, as scoring rows per shop.
async fn read_shard<'s>(workers: &Workers<'s>, task: &Task) -> Result<BTreeMap<&'s ShopId, Vec<Row>>, NightlyError> {
    let mut rows: BTreeMap<&ShopId, Vec<Row>> = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = workers.segments.shard_page(task.shard, cursor).await?;
        for profile in page.profiles {
            let Some((shop, settings)) = workers.shops.get_key_value(&profile.value.shop) else { continue };
            rows.entry(shop).or_default().extend(rows_of(std::slice::from_ref(&profile), settings, task.at));
        }
        cursor = page.next;
        if cursor.is_none() {
            return Ok(rows);
        }
    }
}

fn encode(value: &impl Serialize) -> Result<Vec<u8>, NightlyError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt { entity: "run part", source: Box::new(e) }.into())
}

async fn decode_parts<T: DeserializeOwned>(
    runs: &dyn RunStore,
    run: &str,
    prefix: &str,
) -> Result<Vec<T>, NightlyError> {
    runs.parts(run, prefix)
        .await?
        .into_iter()
        .map(|(_, bytes)| {
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt { entity: "run part", source: Box::new(e) })
        })
        .collect::<Result<_, _>>()
        .map_err(NightlyError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use crate::ports::{MemoryProfileStore, RecordingPublisher};
    use crate::profile::{OrderSummary, Profile, TimedMoney, Version};
    use crate::segments::rfm::Monetary;
    use crate::use_cases::score_nightly::run;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    fn shops() -> BTreeMap<ShopId, Settings> {
        let settings = Settings {
            currency: Currency::parse("EUR").ok(),
            monetary: Monetary::AverageOrderValue,
            sunset_after: None,
        };
        ["north", "south"].into_iter().map(|s| (ShopId::parse(s).unwrap(), settings)).collect()
    }

    /// The same profiles in two stores: `n` per shop, and a few of a shop not served.
    async fn stores(n: usize) -> (MemoryProfileStore, MemoryProfileStore) {
        let (a, b) = (MemoryProfileStore::default(), MemoryProfileStore::default());
        let eur = Currency::parse("EUR").unwrap();
        for shop in ["north", "south", "gone"] {
            let count = if shop == "gone" { 3 } else { n };
            for i in 0..count {
                let id = crate::ids::ProfileId::parse(format!("c{i:04x}{shop}")).unwrap();
                let mut p = Profile::new(ShopId::parse(shop).unwrap(), id, now() - Duration::days(900));
                for o in 0..(i * 7 % 6) {
                    let at = now() - Duration::days(((i * 37 + o * 11) % 500) as i64);
                    let amount = Money::from_minor(500 + ((i * 13 + shop.len()) % 41) as i64 * 250, eur);
                    p.orders.insert(
                        crate::ids::ExternalId::parse(format!("o{i}-{o}")).unwrap(),
                        OrderSummary {
                            placed_at: Some(at),
                            total: Some(TimedMoney { at, amount }),
                            ..Default::default()
                        },
                    );
                }
                a.save(&p, Version::NEW).await.unwrap();
                b.save(&p, Version::NEW).await.unwrap();
            }
        }
        (a, b)
    }

    /// Runs every task the bus carries, each `deliveries` times, until none is left.
    async fn drain(store: &MemoryProfileStore, publisher: &RecordingPublisher, deliveries: usize) -> Vec<Summary> {
        let shops = shops();
        let runs = crate::ports::MemoryRunStore::default();
        let workers = Workers { segments: store, profiles: store, publisher, runs: &runs, shops: &shops };
        let (mut done, mut summaries) = (0, Vec::new());
        loop {
            let pending: Vec<Task> = publisher.events()[done..]
                .iter()
                .filter(|e| e.detail_type == TASK)
                .map(|e| serde_json::from_value(e.detail.clone()).unwrap())
                .collect();
            done = publisher.events().len();
            if pending.is_empty() {
                return summaries;
            }
            // Delivered out of order, and repeated.
            for task in pending.iter().rev().chain(pending.iter()).take(pending.len() * deliveries) {
                summaries.extend(work(&workers, task).await.unwrap());
            }
        }
    }

    #[tokio::test]
    async fn a_sharded_run_stands_every_profile_where_one_pass_does_even_with_repeated_tasks() {
        let (sharded, single) = stores(240).await;
        let publisher = RecordingPublisher::default();
        publisher.publish(&plan(7, now())).await.unwrap();
        let summaries = drain(&sharded, &publisher, 2).await;
        let mut expected = Vec::new();
        for (shop, settings) in shops() {
            expected.push(run(&single, &single, &RecordingPublisher::default(), &shop, settings, now()).await.unwrap());
        }
        // The last score task summarises once per delivery; the summaries agree.
        assert!(summaries.len() >= 2);
        for summary in &summaries {
            let one_pass = expected.iter().find(|s| s.shop == summary.shop).unwrap();
            assert_eq!(
                (&summary.segments, &summary.tiers, summary.profiles, summary.customers),
                (&one_pass.segments, &one_pass.tiers, one_pass.profiles, one_pass.customers)
            );
        }
        for shop in shops().keys() {
            let (a, b) = (sharded.profiles(shop), single.profiles(shop));
            assert_eq!(a.len(), 240);
            assert!(a.iter().all(|p| p.segment.is_some()));
            let standings = |ps: &[Profile]| ps.iter().map(|p| (p.id.clone(), p.segment)).collect::<Vec<_>>();
            assert_eq!(standings(&a), standings(&b), "{shop}");
        }
        let gone = ShopId::parse("gone").unwrap();
        assert!(sharded.profiles(&gone).iter().all(|p| p.segment.is_none()), "shops not served are passed over");
        let transitions = publisher.events().iter().filter(|e| e.detail_type == "segment.changed").count();
        let customers: u64 = expected.iter().map(|s| s.customers).sum();
        assert_eq!(transitions as u64, customers, "one transition per customer, repeated tasks add none");
    }

    #[tokio::test]
    async fn a_single_shard_is_the_whole_table() {
        let (sharded, single) = stores(60).await;
        let publisher = RecordingPublisher::default();
        publisher.publish(&plan(1, now())).await.unwrap();
        let summaries = drain(&sharded, &publisher, 1).await;
        assert_eq!(summaries.len(), 2);
        let shop = ShopId::parse("north").unwrap();
        let one = run(&single, &single, &RecordingPublisher::default(), &shop, shops()[&shop], now()).await.unwrap();
        let mine = summaries.iter().find(|s| s.shop == shop).unwrap();
        assert_eq!(mine, &one);
    }
}
