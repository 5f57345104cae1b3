//! Predicted customer value: where each customer is going, beside RFM's where they have
//! been. Per shop, from the customers' order histories: BG/NBD ([`BgNbd`]) for purchases
//! and dropout, Gamma-Gamma ([`GammaGamma`]) for spend per order, fitted by maximum
//! likelihood every night, then per customer the probability of still being active, the
//! orders expected in the next 30, 90 and 365 days, the value expected over 12 months and
//! the date by which the next order is expected.
//!
//! Histories are counted in the shop's time unit (days by default): `repeat` orders after
//! the first (orders placed on the same day count apart; the papers count purchase
//! periods), `recency` from the first order to the last, `age` from the first order to
//! now. Customers who never ordered have no history: the models describe customers.

pub mod bgnbd;
pub mod gamma_gamma;
pub mod optimise;
pub mod special;

pub use bgnbd::BgNbd;
pub use gamma_gamma::GammaGamma;

use crate::money::{Currency, Money};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A customer's purchase history in the model's terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct History {
    /// Purchases after the first.
    pub repeat: f64,
    /// Time units from the first purchase to the last.
    pub recency: f64,
    /// Time units from the first purchase to now.
    pub age: f64,
}

/// What a profile contributes: its orders' span, count and mean value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub first_order: DateTime<Utc>,
    pub last_order: DateTime<Utc>,
    pub orders: u32,
    /// Mean order value in the shop's currency's minor units.
    pub mean_order_minor: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    #[default]
    Days,
    Weeks,
}

impl TimeUnit {
    /// Whole days (as the papers' and the reference library's summaries count them): customers
    /// then share histories, and the fit runs over distinct ones.
    fn of(self, duration: Duration) -> f64 {
        let days = duration.num_days() as f64;
        match self {
            TimeUnit::Days => days,
            TimeUnit::Weeks => days / 7.0,
        }
    }

    /// `days` in this unit.
    fn units_of_days(self, days: f64) -> f64 {
        match self {
            TimeUnit::Days => days,
            TimeUnit::Weeks => days / 7.0,
        }
    }

    fn days(self, units: f64) -> f64 {
        match self {
            TimeUnit::Days => units,
            TimeUnit::Weeks => units * 7.0,
        }
    }
}

impl Customer {
    pub fn history(&self, now: DateTime<Utc>, unit: TimeUnit) -> History {
        History {
            repeat: f64::from(self.orders.saturating_sub(1)),
            recency: unit.of(self.last_order - self.first_order).max(0.0),
            age: unit.of(now - self.first_order).max(0.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClvError {
    #[error(
        "too little history to fit: {customers} customers, {repeat_customers} who ordered again (at least {needed_customers} and {needed_repeat} needed)"
    )]
    TooLittleHistory { customers: usize, repeat_customers: usize, needed_customers: usize, needed_repeat: usize },
    #[error("{model} did not converge in {iterations} iterations")]
    NoConvergence { model: &'static str, iterations: usize },
}

/// Below these, a shop's parameters would be noise.
pub const MIN_CUSTOMERS: usize = 50;
pub const MIN_REPEAT_CUSTOMERS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitSettings {
    pub unit: TimeUnit,
    /// L2 penalty on the parameters, as lifetimes' `penalizer_coef` (0: plain likelihood).
    pub penalty: f64,
    pub currency: Currency,
}

/// A shop's fitted models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub purchases: BgNbd,
    pub spend: GammaGamma,
    pub unit: TimeUnit,
    pub currency: Currency,
    pub fitted_at: DateTime<Utc>,
    /// Customers the fit saw, and how many distinct histories they had.
    pub customers: usize,
    pub distinct_histories: usize,
    /// The 12-month value (minor units) that puts a customer in the top 1, 5, 10 and 20 %,
    /// from the fitted customers' own predictions.
    pub top_value: Vec<(u8, i64)>,
}

/// Customers with the same history count once, weighted: the likelihood of ten million
/// customers is a sum over their (far fewer) distinct histories.
fn key(value: f64) -> u64 {
    value.to_bits()
}

/// The fit reads at most this many customers, a systematic sample of larger shops: the
/// seven parameters are population figures, pinned down long before (their standard errors
/// shrink as 1/√n), while the fit's time grows with distinct histories. Every customer is
/// still scored.
pub const MAX_FIT_CUSTOMERS: usize = 200_000;

/// Fits a shop's two models.
pub fn fit(customers: &[Customer], now: DateTime<Utc>, settings: FitSettings) -> Result<Model, ClvError> {
    let mut histories: BTreeMap<(u64, u64, u64), (History, f64)> = BTreeMap::new();
    let mut spends: BTreeMap<(u64, u64), ((f64, f64), f64)> = BTreeMap::new();
    let stride = customers.len().div_ceil(MAX_FIT_CUSTOMERS).max(1);
    for customer in customers.iter().step_by(stride) {
        let h = customer.history(now, settings.unit);
        histories.entry((key(h.repeat), key(h.recency), key(h.age))).or_insert((h, 0.0)).1 += 1.0;
        if h.repeat > 0.0 && customer.mean_order_minor > 0 {
            let m = customer.mean_order_minor as f64 / 100.0;
            spends.entry((key(h.repeat), key(m))).or_insert(((h.repeat, m), 0.0)).1 += 1.0;
        }
    }
    let repeat_customers = customers.iter().filter(|c| c.orders > 1).count();
    if customers.len() < MIN_CUSTOMERS || repeat_customers < MIN_REPEAT_CUSTOMERS {
        return Err(ClvError::TooLittleHistory {
            customers: customers.len(),
            repeat_customers,
            needed_customers: MIN_CUSTOMERS,
            needed_repeat: MIN_REPEAT_CUSTOMERS,
        });
    }
    let histories: Vec<(History, f64)> = histories.into_values().collect();
    let spends: Vec<((f64, f64), f64)> = spends.into_values().collect();
    let (purchases, _) = BgNbd::fit(&histories, settings.penalty)?;
    let (spend, _) = GammaGamma::fit(&spends, settings.penalty)?;
    let mut model = Model {
        purchases,
        spend,
        unit: settings.unit,
        currency: settings.currency,
        fitted_at: now,
        customers: customers.len(),
        distinct_histories: histories.len(),
        top_value: Vec::new(),
    };
    let values: Vec<i64> = customers.iter().step_by(stride).map(|c| model.value_12m(c, now)).collect();
    model.top_value =
        TOP_PERCENTS.iter().filter_map(|&p| Some((p, top_value_threshold(&values, u32::from(p))?))).collect();
    Ok(model)
}

/// The value tiers a prediction names ([`Prediction::value_top_percent`]).
pub const TOP_PERCENTS: [u8; 4] = [1, 5, 10, 20];

/// A customer is lapsing when their expected next order is this late…
pub const LAPSING_OVERDUE: Duration = Duration::days(30);
/// …and they are less likely than this to be active: the reactivation's model-based entry.
pub const LAPSING_P_ACTIVE: f64 = 0.5;

/// One customer's outlook, rounded so that "written only when changed" is an equality:
/// probabilities to 3 decimals, expected orders to 2, money to minor units, dates to days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    /// P(active) in thousandths.
    pub p_active_milli: u16,
    /// Expected orders in the next 30, 90 and 365 days, in hundredths.
    pub orders_30d_centi: u32,
    pub orders_90d_centi: u32,
    pub orders_365d_centi: u32,
    pub value_12m: Money,
    /// When one more order is expected, if within three years.
    pub next_order_by: Option<chrono::NaiveDate>,
    /// The smallest of 1, 5, 10, 20 whose top-percent of the shop by 12-month value holds
    /// this customer (a VIP campaign's "top 10 %"); `None` below the top fifth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_top_percent: Option<u8>,
}

impl Prediction {
    pub fn p_active(&self) -> f64 {
        f64::from(self.p_active_milli) / 1000.0
    }

    /// How long the expected next order is overdue (the reactivation's "expected order
    /// passed by 30 days" reads this).
    pub fn overdue_by(&self, now: DateTime<Utc>) -> Option<Duration> {
        let by = self.next_order_by?.and_hms_opt(0, 0, 0)?.and_utc();
        (now > by).then(|| now - by)
    }

    /// Expected to have ordered a month ago and probably gone: the reactivation's
    /// model-based entry, beside the RFM segments.
    pub fn is_lapsing(&self, now: DateTime<Utc>) -> bool {
        self.p_active() < LAPSING_P_ACTIVE && self.overdue_by(now).is_some_and(|late| late >= LAPSING_OVERDUE)
    }
}

impl Model {
    /// Expected value over the next 12 months, in minor units.
    fn value_12m(&self, customer: &Customer, now: DateTime<Utc>) -> i64 {
        let h = customer.history(now, self.unit);
        self.value_of(customer, &h, self.purchases.expected_purchases(&h, self.unit.units_of_days(365.0)))
    }

    fn value_of(&self, customer: &Customer, h: &History, orders_365: f64) -> i64 {
        let m = customer.mean_order_minor as f64 / 100.0;
        (orders_365 * self.spend.expected_order_value(h.repeat, m) * 100.0).round() as i64
    }

    pub fn predict(&self, customer: &Customer, now: DateTime<Utc>) -> Prediction {
        let h = customer.history(now, self.unit);
        let per_days = |days: f64| self.purchases.expected_purchases(&h, self.unit.units_of_days(days));
        let orders_365 = per_days(365.0);
        let value = self.value_of(customer, &h, orders_365);
        let next = self
            .purchases
            .time_to_next_purchase(&h, self.unit.units_of_days(3.0 * 365.0), self.unit.units_of_days(1.0))
            .map(|units| now + Duration::seconds((self.unit.days(units) * 86_400.0) as i64));
        let centi = |v: f64| (v * 100.0).round().clamp(0.0, f64::from(u32::MAX)) as u32;
        Prediction {
            p_active_milli: (self.purchases.p_alive(&h) * 1000.0).round().clamp(0.0, 1000.0) as u16,
            orders_30d_centi: centi(per_days(30.0)),
            orders_90d_centi: centi(per_days(90.0)),
            orders_365d_centi: centi(orders_365),
            value_12m: Money::from_minor(value, self.currency),
            next_order_by: next.map(|at| at.date_naive()),
            // A tier is for customers expected to spend: with all values 0 nobody is "top".
            value_top_percent: (value > 0)
                .then(|| self.top_value.iter().find(|(_, at_least)| value >= *at_least).map(|(p, _)| *p))
                .flatten(),
        }
    }
}

/// The 12-month value a customer must reach to be in the top `percent` % (a VIP campaign's
/// audience): the smallest value among the ⌈n·percent/100⌉ highest; ties at the threshold
/// are all in. `None` for no customers or 0 %.
pub fn top_value_threshold(values_minor: &[i64], percent: u32) -> Option<i64> {
    let count = (values_minor.len() * percent.min(100) as usize).div_ceil(100);
    if count == 0 {
        return None;
    }
    let mut sorted = values_minor.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    Some(sorted[count - 1])
}

#[cfg(test)]
mod tests;
