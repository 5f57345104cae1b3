//! The nightly run for one shop: read every profile, score RFM against the shop's own
//! distribution, place each in a segment and an engagement tier, write back only the
//! standings that changed, announce the transitions, and summarise.
//!
//! Two passes: the first keeps a compact row per profile (a few dozen bytes: a million
//! profiles is tens of megabytes), scoring needs all of them before any score is known; the
//! second writes. A write that loses a race with profile-update (the profile changed since
//! it was read) is retried once on a fresh read, else left for the next night.

pub mod sharded;

use crate::bus::{BusEvent, SOURCE_SEGMENTS};
use crate::failure::{Classify, Retry};
use crate::ids::{ProfileId, ShopId};
use crate::money::Currency;
use crate::ports::{EventPublisher, ProfileStore, PublishError, SegmentStore, StoreError};
use crate::profile::{Profile, Version, Versioned};
use crate::segments::distribution::{Cutoffs, Distribution};
use crate::segments::rfm::{Monetary, RfmInput};
use crate::segments::{Segment, SegmentFigures, SegmentState, Signals, Summary, Tier};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Standings written at once (DynamoDB takes them in parallel; each is a few ms away).
const WRITE_CONCURRENCY: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum NightlyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl Classify for NightlyError {
    fn retry(&self) -> Retry {
        match self {
            NightlyError::Store(e) => e.retry(),
            NightlyError::Publish(e) => e.retry(),
        }
    }
}

/// What the first pass keeps of a profile.
pub(crate) struct Row {
    id: ProfileId,
    version: Version,
    rfm: Option<RfmInput>,
    orders: u32,
    revenue: i64,
    signals: Signals,
    current: Option<SegmentState>,
    last_chance_at: Option<DateTime<Utc>>,
    suppressed: bool,
    /// The order history the value prediction reads (customers only).
    pub(crate) customer: Option<crate::clv::Customer>,
}

fn row(profile: &Profile, version: Version, currency: Option<Currency>, monetary: Monetary, now: DateTime<Utc>) -> Row {
    let stats = profile.stats();
    // The shop's currency, else the one this customer spent most in.
    let currency = currency
        .filter(|c| stats.spend.contains_key(c))
        .or_else(|| stats.spend.iter().max_by_key(|(_, v)| **v).map(|(c, _)| *c));
    let revenue = currency.and_then(|c| stats.spend.get(&c).copied()).unwrap_or(0);
    let rfm = match (stats.last_order_at, currency) {
        (Some(last), Some(c)) if stats.orders > 0 => Some(RfmInput {
            recency_days: u32::try_from((now - last).num_days().max(0)).unwrap_or(u32::MAX),
            orders: stats.orders,
            monetary: match monetary {
                Monetary::AverageOrderValue => stats.average_order.get(&c).copied().unwrap_or(0),
                Monetary::TotalSpend => revenue,
            },
        }),
        _ => None,
    };
    let e = &profile.engagement;
    let signals = Signals {
        last_click: e.last_clicked_at,
        last_visit: e
            .last_viewed_at
            .max(e.visit_days.last().and_then(|d| d.and_hms_opt(12, 0, 0)).map(|t| t.and_utc())),
        last_order: stats.last_order_at,
        last_open: e.last_opened_at,
    };
    Row {
        id: profile.id.clone(),
        version,
        rfm,
        orders: stats.orders,
        revenue,
        signals,
        current: profile.segment,
        last_chance_at: e.last_chance_at,
        suppressed: profile.suppression.is_some(),
        customer: match (stats.first_order_at, stats.last_order_at, currency) {
            (Some(first), Some(last), Some(c)) if stats.orders > 0 => Some(crate::clv::Customer {
                first_order: first,
                last_order: last,
                orders: stats.orders,
                mean_order_minor: stats.average_order.get(&c).copied().unwrap_or(0),
            }),
            _ => None,
        },
    }
}

/// How a shop is scored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// The shop's currency: monetary values in it (else each customer's main currency).
    pub currency: Option<Currency>,
    pub monetary: Monetary,
    /// Suppress addresses silent this long after the reactivation's last chance.
    pub sunset_after: Option<chrono::Duration>,
}

/// Silent since the last chance, for longer than the shop allows.
fn sunset_due(row: &Row, after: Option<chrono::Duration>, now: DateTime<Utc>) -> bool {
    let (Some(after), Some(last_chance)) = (after, row.last_chance_at) else { return false };
    let s = &row.signals;
    let heard_since = [s.last_click, s.last_visit, s.last_order].iter().flatten().any(|t| *t > last_chance);
    !row.suppressed && !heard_since && now - last_chance > after
}

/// What a pass over some of a shop's profiles counted, per segment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentTally {
    pub profiles: u64,
    pub revenue_minor: i64,
    pub orders: u64,
}

/// What a pass over some of a shop's profiles counted. Tallies add up, so workers that each
/// scored a share of the shop make the same summary as one pass over all of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub profiles: u64,
    pub customers: u64,
    pub changed: u64,
    pub deferred: u64,
    pub sunset: u64,
    pub segments: BTreeMap<Segment, SegmentTally>,
    pub tiers: BTreeMap<Tier, u64>,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.profiles += other.profiles;
        self.customers += other.customers;
        self.changed += other.changed;
        self.deferred += other.deferred;
        self.sunset += other.sunset;
        for (segment, figures) in other.segments {
            let mine = self.segments.entry(segment).or_default();
            mine.profiles += figures.profiles;
            mine.revenue_minor = mine.revenue_minor.saturating_add(figures.revenue_minor);
            mine.orders += figures.orders;
        }
        for (tier, count) in other.tiers {
            *self.tiers.entry(tier).or_default() += count;
        }
    }

    /// The shop's summary: shares and averages are only known once every tally is in.
    pub fn summary(self, shop: &ShopId, currency: Option<Currency>, now: DateTime<Utc>) -> Summary {
        let total: i64 = self.segments.values().map(|f| f.revenue_minor).sum();
        let segments = self
            .segments
            .into_iter()
            .map(|(segment, t)| {
                let figures = SegmentFigures {
                    profiles: t.profiles,
                    revenue_minor: t.revenue_minor,
                    revenue_share: if total > 0 { t.revenue_minor as f64 / total as f64 } else { 0.0 },
                    average_order_minor: t.revenue_minor / i64::try_from(t.orders.max(1)).unwrap_or(i64::MAX),
                };
                (segment, figures)
            })
            .collect();
        Summary {
            shop: shop.clone(),
            scored_at: now,
            currency,
            profiles: self.profiles,
            customers: self.customers,
            changed: self.changed,
            deferred: self.deferred,
            sunset: self.sunset,
            segments,
            tiers: self.tiers,
        }
    }
}

/// Keeps what scoring reads of a page of profiles.
pub(crate) fn rows_of(page: &[Versioned<Profile>], settings: &Settings, now: DateTime<Utc>) -> Vec<Row> {
    page.iter().map(|p| row(&p.value, p.version, settings.currency, settings.monetary, now)).collect()
}

/// The shop's distribution over some rows (the customers among them).
pub(crate) fn distribution(rows: &[Row]) -> Distribution {
    rows.iter().filter_map(|r| r.rfm).collect()
}

/// Scores one shop in this invocation (up to a few million profiles; beyond, see
/// [`super::sharded`]).
pub async fn run(
    segments: &dyn SegmentStore,
    profiles: &dyn ProfileStore,
    publisher: &dyn EventPublisher,
    shop: &ShopId,
    settings: Settings,
    now: DateTime<Utc>,
) -> Result<Summary, NightlyError> {
    run_with(segments, profiles, publisher, None, shop, settings, now).await
}

/// [`run`], also counting which products the shop's customers buy together on the same
/// pass over the profiles, and writing that table for the affinity program.
pub async fn run_with(
    segments: &dyn SegmentStore,
    profiles: &dyn ProfileStore,
    publisher: &dyn EventPublisher,
    affinities: Option<&dyn crate::ports::AffinityStore>,
    shop: &ShopId,
    settings: Settings,
    now: DateTime<Utc>,
) -> Result<Summary, NightlyError> {
    let mut rows = Vec::new();
    let mut together = crate::programs::affinity::CoOccurrence::default();
    let mut cursor = None;
    loop {
        let page = segments.profiles_page(shop, cursor).await?;
        rows.extend(rows_of(&page.profiles, &settings, now));
        if affinities.is_some() {
            page.profiles.iter().for_each(|p| together.add(&p.value));
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let cutoffs = distribution(&rows).cutoffs();
    let customers: Vec<crate::clv::Customer> = rows.iter().filter_map(|r| r.customer).collect();
    let model = value_model(shop, &customers, &settings, now);
    let tally = stand(segments, profiles, publisher, shop, &rows, &cutoffs, model.as_ref(), &settings, now).await?;
    if let Some(store) = affinities {
        let table = together.finish();
        store.save_affinities(shop, &table, now).await?;
        tracing::info!(%shop, products = table.len(), "affinity table written");
    }
    let summary = tally.summary(shop, settings.currency, now);
    announce(segments, publisher, &summary).await?;
    Ok(summary)
}

/// The shop's value model, when its history allows one (else the standings carry no
/// outlook, and the reason is logged: a young shop is not an error). Values are in the
/// shop's currency: a shop that names none gets no model (its customers' values would mix
/// currencies).
pub(crate) fn value_model(
    shop: &ShopId,
    customers: &[crate::clv::Customer],
    settings: &Settings,
    now: DateTime<Utc>,
) -> Option<crate::clv::Model> {
    let Some(currency) = settings.currency else {
        tracing::info!(%shop, "no value model: the shops document names no currency for the shop");
        return None;
    };
    let fit_settings = crate::clv::FitSettings { unit: crate::clv::TimeUnit::Days, penalty: 0.0, currency };
    match crate::clv::fit(customers, now, fit_settings) {
        Ok(model) => {
            tracing::info!(%shop, customers = model.customers, histories = model.distinct_histories, "value model fitted");
            Some(model)
        }
        Err(error) => {
            tracing::info!(%shop, %error, "no value model tonight");
            None
        }
    }
}

/// Keeps the summary and puts it on the bus.
pub(crate) async fn announce(
    segments: &dyn SegmentStore,
    publisher: &dyn EventPublisher,
    summary: &Summary,
) -> Result<(), NightlyError> {
    segments.save_summary(&summary.shop, summary).await?;
    publisher
        .publish(&[BusEvent {
            source: SOURCE_SEGMENTS.to_owned(),
            detail_type: "segments.summary".to_owned(),
            time: summary.scored_at,
            detail: serde_json::to_value(summary).unwrap_or_default(),
        }])
        .await?;
    tracing::info!(shop = %summary.shop, profiles = summary.profiles, changed = summary.changed, deferred = summary.deferred, "shop scored");
    Ok(())
}

/// Scores `rows` against the shop's cutoffs, applies the sunset policy, writes the standings
/// that changed and announces their transitions.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn stand(
    segments: &dyn SegmentStore,
    profiles: &dyn ProfileStore,
    publisher: &dyn EventPublisher,
    shop: &ShopId,
    rows: &[Row],
    cutoffs: &Cutoffs,
    model: Option<&crate::clv::Model>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Tally, NightlyError> {
    let mut tally = Tally { profiles: rows.len() as u64, ..Tally::default() };
    let mut to_write = Vec::new();
    for row in rows {
        let score = row.rfm.map(|input| cutoffs.score(&input));
        let state = SegmentState {
            segment: score.map(Segment::of),
            score,
            tier: Tier::of(&row.signals, now),
            scored_at: now,
            outlook: model.zip(row.customer).map(|(model, customer)| model.predict(&customer, now)),
        };
        *tally.tiers.entry(state.tier).or_default() += 1;
        if sunset_due(row, settings.sunset_after, now) && sunset(profiles, shop, &row.id, now).await? {
            tally.sunset += 1;
        }
        if let Some(segment) = state.segment {
            tally.customers += 1;
            let figures = tally.segments.entry(segment).or_default();
            figures.profiles += 1;
            figures.revenue_minor = figures.revenue_minor.saturating_add(row.revenue);
            figures.orders += u64::from(row.orders);
        }
        if !row.current.is_some_and(|c| c.same_as(&state)) {
            to_write.push((row, state));
        }
    }
    // Writes go WRITE_CONCURRENCY at a time: one after the other, a night's changes at a few
    // milliseconds each would not fit in one invocation at a million profiles.
    let written: Vec<Result<(&Row, SegmentState, bool), NightlyError>> = stream::iter(to_write)
        .map(|(row, state)| async move {
            let ok = write(segments, profiles, shop, &row.id, row.version, &state).await?;
            Ok((row, state, ok))
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect()
        .await;
    let mut transitions = Vec::new();
    for result in written {
        let (row, state, ok) = result?;
        if !ok {
            tally.deferred += 1;
            continue;
        }
        tally.changed += 1;
        let (before_segment, before_tier) = (row.current.and_then(|c| c.segment), row.current.map(|c| c.tier));
        let lapsing = |s: &SegmentState| s.outlook.is_some_and(|o| o.is_lapsing(now));
        let before_lapsing = row.current.as_ref().map(lapsing);
        if before_segment != state.segment
            || before_tier.is_some_and(|t| t != state.tier)
            || before_lapsing.is_some_and(|l| l != lapsing(&state))
        {
            transitions.push(transition(shop, &row.id, before_segment, before_tier, before_lapsing, &state));
        }
    }
    // Order-independent output whatever order the writes finished in.
    transitions.sort_by(|a, b| a.detail["profile"].as_str().cmp(&b.detail["profile"].as_str()));
    publisher.publish(&transitions).await?;
    Ok(tally)
}

/// Suppresses a silent address (the sunset policy), on a fresh read; `false` if it kept
/// changing (tomorrow's run tries again).
async fn sunset(
    profiles: &dyn ProfileStore,
    shop: &ShopId,
    id: &ProfileId,
    now: DateTime<Utc>,
) -> Result<bool, NightlyError> {
    use crate::lattice::{Lww, Stamp, join_lww};
    let event = crate::ids::EventId::parse(format!("relance:{shop}:sunset:{}", now.format("%Y-%m-%d")))
        .map_err(|e| StoreError::Corrupt { entity: "sunset id", source: Box::new(e) })?;
    for _ in 0..2 {
        let Some(mut current) = profiles.load(shop, id).await? else { return Ok(false) };
        let stamp = Stamp { at: now, event: event.clone() };
        join_lww(
            &mut current.value.suppression,
            Some(Lww::new(crate::profile::SuppressionReason::Sunset, stamp)),
            true,
        );
        match profiles.save(&current.value, current.version).await {
            Ok(_) => {
                tracing::info!(%shop, profile = %id, "address suppressed by the sunset policy");
                return Ok(true);
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Ok(false)
}

/// Writes a standing, retrying once on a fresh read after a concurrent change; `false`
/// when it still lost (tomorrow's run writes it).
async fn write(
    segments: &dyn SegmentStore,
    profiles: &dyn ProfileStore,
    shop: &ShopId,
    id: &ProfileId,
    version: Version,
    state: &SegmentState,
) -> Result<bool, NightlyError> {
    match segments.set_segment(shop, id, version, state).await {
        Ok(_) => return Ok(true),
        Err(StoreError::Conflict { .. }) => {}
        Err(other) => return Err(other.into()),
    }
    let Some(fresh) = profiles.load(shop, id).await? else { return Ok(false) };
    match segments.set_segment(shop, id, fresh.version, state).await {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

/// A segment or tier transition (a first scoring has no tier before it).
fn transition(
    shop: &ShopId,
    id: &ProfileId,
    from: Option<Segment>,
    from_tier: Option<Tier>,
    from_lapsing: Option<bool>,
    state: &SegmentState,
) -> BusEvent {
    let lapsing = state.outlook.is_some_and(|o| o.is_lapsing(state.scored_at));
    BusEvent {
        source: SOURCE_SEGMENTS.to_owned(),
        detail_type: "segment.changed".to_owned(),
        time: state.scored_at,
        detail: serde_json::json!({
            "shop": shop, "profile": id, "from": from, "to": state.segment, "score": state.score,
            "from_tier": from_tier, "tier": state.tier, "from_lapsing": from_lapsing, "lapsing": lapsing,
            "outlook": state.outlook,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;
    use crate::ports::{MemoryProfileStore, RecordingPublisher};
    use crate::profile::{OrderSummary, TimedMoney};
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    /// A customer with `orders` orders of `minor` each, the last `days` ago.
    fn customer(n: usize, orders: u32, minor: i64, days: i64) -> Profile {
        let shop = ShopId::parse("demo").unwrap();
        let mut p = Profile::new(shop, ProfileId::parse(format!("p{n:04}")).unwrap(), now() - Duration::days(400));
        let eur = Currency::parse("EUR").unwrap();
        for o in 0..orders {
            let at = now() - Duration::days(days + i64::from(o) * 7);
            let summary = OrderSummary {
                placed_at: Some(at),
                total: Some(TimedMoney { at, amount: Money::from_minor(minor, eur) }),
                ..OrderSummary::default()
            };
            p.orders.insert(crate::ids::ExternalId::parse(format!("o{n}-{o}")).unwrap(), summary);
        }
        p
    }

    async fn scored(store: &MemoryProfileStore, publisher: &RecordingPublisher) -> Summary {
        let shop = ShopId::parse("demo").unwrap();
        let eur = Currency::parse("EUR").ok();
        let settings = Settings {
            currency: eur,
            monetary: Monetary::AverageOrderValue,
            sunset_after: Some(chrono::Duration::days(30)),
        };
        run(store, store, publisher, &shop, settings, now()).await.unwrap()
    }

    #[tokio::test]
    async fn every_customer_gets_a_segment_and_a_second_run_writes_nothing() {
        let store = MemoryProfileStore::default();
        let publisher = RecordingPublisher::default();
        // 120 customers (more than a page) over a range of recency, frequency and value, and
        // 5 people who never ordered.
        for n in 0..120 {
            let p = customer(n, 1 + (n % 7) as u32, 1_000 + (n as i64 % 11) * 500, (n as i64 * 3) % 365);
            store.save(&p, Version::NEW).await.unwrap();
        }
        for n in 120..125 {
            store.save(&customer(n, 0, 0, 0), Version::NEW).await.unwrap();
        }
        let first = scored(&store, &publisher).await;
        assert_eq!((first.profiles, first.customers, first.changed, first.deferred), (125, 120, 125, 0));
        let members: u64 = first.segments.values().map(|f| f.profiles).sum();
        assert_eq!(members, 120);
        let share: f64 = first.segments.values().map(|f| f.revenue_share).sum();
        assert!((share - 1.0).abs() < 1e-9, "{share}");
        let stored = store.profiles(&ShopId::parse("demo").unwrap());
        assert!(stored.iter().all(|p| p.segment.is_some()));
        // The shop has history enough for a value model: every customer has an outlook,
        // written with the standing; people who never ordered have none.
        let outlooks = stored.iter().filter(|p| p.segment.is_some_and(|s| s.outlook.is_some())).count();
        assert_eq!(outlooks, 120);
        let outlook = stored[0].segment.and_then(|s| s.outlook).unwrap();
        assert!(outlook.p_active() > 0.0 && outlook.value_12m.minor() >= 0, "{outlook:?}");
        assert_eq!(stored.iter().filter(|p| p.segment.is_some_and(|s| s.segment.is_none())).count(), 5);
        let transitions = publisher.events().iter().filter(|e| e.detail_type == "segment.changed").count();
        assert_eq!(transitions, 120, "non-customers have no segment to change");

        let second = scored(&store, &publisher).await;
        assert_eq!(second.changed, 0, "unchanged standings are not written again");
        let transitions = publisher.events().iter().filter(|e| e.detail_type == "segment.changed").count();
        assert_eq!(transitions, 120, "and announce nothing");
        assert_eq!(store.summary(&ShopId::parse("demo").unwrap()).map(|s| s.scored_at), Some(now()));
    }

    #[tokio::test]
    async fn the_most_recent_frequent_customers_are_champions_and_the_oldest_single_buyers_lost() {
        let store = MemoryProfileStore::default();
        let publisher = RecordingPublisher::default();
        for n in 0..50 {
            // n small: recent and frequent; n large: long ago, one order.
            let orders = if n < 10 {
                8
            } else if n >= 40 {
                1
            } else {
                3
            };
            store.save(&customer(n, orders, 2_500, n as i64 * 7), Version::NEW).await.unwrap();
        }
        scored(&store, &publisher).await;
        let profiles = store.profiles(&ShopId::parse("demo").unwrap());
        let segment = |n: usize| profiles[n].segment.and_then(|s| s.segment);
        assert_eq!(segment(0), Some(Segment::Champions));
        assert_eq!(segment(49), Some(Segment::Lost));
    }

    #[tokio::test]
    async fn silent_addresses_are_suppressed_after_the_last_chance_and_engaged_ones_kept() {
        let store = MemoryProfileStore::default();
        let publisher = RecordingPublisher::default();
        let mut silent = customer(1, 2, 3_000, 200);
        silent.engagement.last_chance_at = Some(now() - Duration::days(40));
        let mut clicked = customer(2, 2, 3_000, 200);
        clicked.engagement.last_chance_at = Some(now() - Duration::days(40));
        clicked.engagement.last_clicked_at = Some(now() - Duration::days(35));
        let mut recent = customer(3, 2, 3_000, 200);
        recent.engagement.last_chance_at = Some(now() - Duration::days(10));
        for p in [&silent, &clicked, &recent] {
            store.save(p, Version::NEW).await.unwrap();
        }
        let summary = scored(&store, &publisher).await;
        assert_eq!(summary.sunset, 1);
        let profiles = store.profiles(&ShopId::parse("demo").unwrap());
        let suppressed: Vec<&str> =
            profiles.iter().filter(|p| p.suppression.is_some()).map(|p| p.id.as_str()).collect();
        assert_eq!(suppressed, ["p0001"]);
        assert_eq!(scored(&store, &publisher).await.sunset, 0, "once");
    }
}
