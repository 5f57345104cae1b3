//! The demo's figures, computed from every customer's records as the CRM computes them:
//! checkouts abandoned and recovered, results per program, segments, the RFM grid and the
//! value outlooks rfm-nightly wrote.

use super::Demo;
use chrono::{DateTime, Utc};
use relance::clv::Prediction;
use relance::ids::{ProfileId, ShopId};
use relance::profile::records::{CheckoutRecord, MessageRecord, OrderRecord};
use relance::profile::{Profile, Record};
use relance::programs::results::Results;
use std::collections::{BTreeMap, BTreeSet};

pub(super) struct Figures {
    pub profiles: usize,
    /// Today's checkouts that got a reminder, and those completed after one.
    pub abandoned: u64,
    pub recovered_count: u64,
    /// Recovered revenue per currency: minor units and orders.
    pub recovered: BTreeMap<String, (i64, u64)>,
    pub results: Results,
    pub segments: BTreeMap<String, u64>,
    /// Customers per RFM cell: `grid[r - 1][f - 1]`.
    pub grid: [[u64; 5]; 5],
    pub outlooks: usize,
    /// Predicted value over the next 12 months, per currency, in minor units.
    pub predicted: BTreeMap<String, i64>,
    pub lapsing: usize,
    pub top_decile: usize,
    /// The program that sent each mail, by its SES message id.
    pub senders: BTreeMap<Option<String>, String>,
}

impl Demo {
    pub(super) async fn figures(&self) -> Figures {
        let profiles = self.live.profiles().await;
        let mut records: BTreeMap<ProfileId, Vec<Record>> = BTreeMap::new();
        for profile in &profiles {
            records.insert(profile.id.clone(), self.live.records_of(&profile.id).await);
        }
        let all: Vec<&Record> = records.values().flatten().collect();
        let messages: Vec<&MessageRecord> = all
            .iter()
            .filter_map(|r| match r {
                Record::Message(m) if m.sent_at.is_some() => Some(m),
                _ => None,
            })
            .collect();
        let program_of =
            |m: &MessageRecord| m.program.clone().unwrap_or_else(|| m.key.split(':').next().unwrap_or("?").to_owned());

        let today: BTreeSet<&str> = self.shop.checkouts.iter().map(|c| c.token.as_str()).collect();
        let checkouts = Checkouts::count(&self.live.shop, &all, &messages, &today);

        // Results per program, as the CRM computes them from each customer's records.
        let mut results = Results::default();
        for profile in &profiles {
            results.add(profile, records.get(&profile.id).map(Vec::as_slice).unwrap_or_default());
        }

        let (segments, grid) = standings(&profiles);
        // Predicted value, as rfm-nightly wrote it with the standings (shops with history
        // enough for a model).
        let outlooks: Vec<Prediction> = profiles.iter().filter_map(|p| p.segment.and_then(|s| s.outlook)).collect();
        let mut predicted: BTreeMap<String, i64> = BTreeMap::new();
        for outlook in &outlooks {
            *predicted.entry(outlook.value_12m.currency().to_string()).or_default() += outlook.value_12m.minor();
        }
        Figures {
            profiles: profiles.len(),
            abandoned: checkouts.abandoned,
            recovered_count: checkouts.recovered_count,
            recovered: checkouts.recovered,
            results,
            segments,
            grid,
            outlooks: outlooks.len(),
            predicted,
            lapsing: outlooks.iter().filter(|o| o.is_lapsing(Utc::now())).count(),
            top_decile: outlooks.iter().filter(|o| o.value_top_percent.is_some_and(|p| p <= 10)).count(),
            senders: messages.iter().map(|m| (m.provider_id.clone(), program_of(m))).collect(),
        }
    }
}

#[derive(Default)]
struct Checkouts {
    abandoned: u64,
    recovered_count: u64,
    recovered: BTreeMap<String, (i64, u64)>,
}

impl Checkouts {
    /// Abandoned: one of `today`'s checkouts that got a reminder; recovered: completed
    /// after its first reminder, its order's total counted.
    fn count(shop: &ShopId, all: &[&Record], messages: &[&MessageRecord], today: &BTreeSet<&str>) -> Self {
        let orders: BTreeMap<String, &OrderRecord> = all
            .iter()
            .filter_map(|r| match r {
                Record::Order(o) => Some((o.order_id.to_string(), o)),
                _ => None,
            })
            .collect();
        let mut counted = Self::default();
        for record in all {
            let Record::Checkout(checkout) = record else { continue };
            if checkout.cart || !today.contains(checkout.token.as_str()) {
                continue;
            }
            let Some(first) = first_reminder(shop, checkout, messages) else { continue };
            counted.abandoned += 1;
            if checkout.completed_at.is_some_and(|done| done > first) {
                counted.recovered_count += 1;
                let total = checkout
                    .order_id
                    .as_ref()
                    .and_then(|id| orders.get(id.as_str()))
                    .and_then(|o| o.total.as_ref())
                    .map(|t| t.amount);
                if let Some(total) = total {
                    let slot = counted.recovered.entry(total.currency().to_string()).or_default();
                    slot.0 += total.minor();
                    slot.1 += 1;
                }
            }
        }
        counted
    }
}

/// When the checkout's first reminder (of three) was sent, if one was.
fn first_reminder(shop: &ShopId, checkout: &CheckoutRecord, messages: &[&MessageRecord]) -> Option<DateTime<Utc>> {
    (1..=3)
        .filter_map(|step| {
            let key = relance::programs::checkout::message_key(shop, &checkout.token, step);
            messages.iter().find(|m| m.key == key).and_then(|m| m.sent_at)
        })
        .min()
}

/// Customers per segment and per RFM cell, from the standings rfm-nightly wrote.
fn standings(profiles: &[Profile]) -> (BTreeMap<String, u64>, [[u64; 5]; 5]) {
    let mut segments: BTreeMap<String, u64> = BTreeMap::new();
    let mut grid = [[0u64; 5]; 5];
    for profile in profiles {
        let Some(state) = profile.segment else { continue };
        if let (Some(segment), Some(score)) = (state.segment, state.score) {
            *segments.entry(segment.as_str().to_owned()).or_default() += 1;
            grid[usize::from(score.r.clamp(1, 5) - 1)][usize::from(score.f.clamp(1, 5) - 1)] += 1;
        }
    }
    (segments, grid)
}
