//! Figures derived from a profile, never stored apart from it: an order counts once because
//! it is one key of the order map, whatever number of its events arrived.

use super::Profile;
use crate::money::Currency;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a person stands with the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Seen only as an anonymous visitor.
    New,
    /// Identified (e-mail or platform account), no order yet.
    Known,
    /// One order.
    Customer,
    /// Two orders or more.
    Repeat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub status: Status,
    /// Orders not cancelled.
    pub orders: u32,
    /// Spend net of refunds, in minor units, per currency (shops sell in several).
    pub spend: BTreeMap<Currency, i64>,
    /// Average net order value per currency, in minor units (rounded down).
    pub average_order: BTreeMap<Currency, i64>,
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
}

impl Profile {
    pub fn stats(&self) -> Stats {
        let mut spend: BTreeMap<Currency, i64> = BTreeMap::new();
        let mut counts: BTreeMap<Currency, i64> = BTreeMap::new();
        let mut orders = 0u32;
        let (mut first, mut last) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
        for summary in self.orders.values().filter(|o| !o.cancelled) {
            let Some(total) = &summary.total else { continue };
            orders += 1;
            let currency = total.amount.currency();
            let refunded = summary.refunded.filter(|r| r.currency() == currency).map_or(0, |r| r.minor());
            *spend.entry(currency).or_default() += total.amount.minor().saturating_sub(refunded);
            *counts.entry(currency).or_default() += 1;
            if let Some(at) = summary.placed_at {
                first = Some(first.map_or(at, |f| f.min(at)));
                last = Some(last.map_or(at, |l| l.max(at)));
            }
        }
        let average_order = spend.iter().map(|(c, total)| (*c, total / counts[c].max(1))).collect();
        let identified = self.email().is_some() || !self.customer_ids.is_empty();
        let status = match orders {
            0 if identified => Status::Known,
            0 => Status::New,
            1 => Status::Customer,
            _ => Status::Repeat,
        };
        Stats { status, orders, spend, average_order, first_order_at: first, last_order_at: last }
    }
}
