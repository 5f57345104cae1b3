//! A shop's RFM distribution as counts per value, and the cutoffs scoring reads from it.
//!
//! A run split across invocations cannot hold every customer in one place, but quintile
//! scores only depend on how many customers have each value: a worker counts its share, the
//! counts add up (merging is a sum, in any order), and the merged counts give every value
//! exactly the score [`rfm::quintile_scores`](super::rfm::quintile_scores) gives it over the
//! whole shop. The counts stay small — one entry per distinct value: days since the last
//! order (a few thousand at most), order counts (hundreds) and values in minor units — and a
//! score is a step function of the value, so what the scoring pass needs is at most four
//! steps per axis ([`Cutoffs`]).

use super::rfm::{RfmInput, RfmScore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Customers per value on each axis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    recency_days: Counts<u32>,
    orders: Counts<u32>,
    monetary: Counts<i64>,
}

/// Counts per value, serialised as `[[value, count], …]` (JSON object keys would be strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<(T, u64)>", into = "Vec<(T, u64)>")]
#[serde(bound(serialize = "T: Serialize + Ord + Copy", deserialize = "T: Deserialize<'de> + Ord + Copy"))]
struct Counts<T: Ord + Copy>(BTreeMap<T, u64>);

impl<T: Ord + Copy> Default for Counts<T> {
    fn default() -> Self {
        Counts(BTreeMap::new())
    }
}

impl<T: Ord + Copy> From<Vec<(T, u64)>> for Counts<T> {
    fn from(pairs: Vec<(T, u64)>) -> Self {
        let mut counts = BTreeMap::new();
        for (value, count) in pairs {
            *counts.entry(value).or_default() += count;
        }
        Counts(counts)
    }
}

impl<T: Ord + Copy> From<Counts<T>> for Vec<(T, u64)> {
    fn from(counts: Counts<T>) -> Self {
        counts.0.into_iter().collect()
    }
}

impl<T: Ord + Copy> Counts<T> {
    fn add(&mut self, value: T) {
        *self.0.entry(value).or_default() += 1;
    }

    fn merge(&mut self, other: Counts<T>) {
        for (value, count) in other.0 {
            *self.0.entry(value).or_default() += count;
        }
    }

    /// The score of each value, as steps: walking the values from worst to best, a value's
    /// run of ranks is [worse, worse + count), and its score that of the run's middle.
    fn steps(&self, better_when_lower: bool) -> Axis<T> {
        let n: u64 = self.0.values().sum();
        let mut steps: Vec<(T, u8)> = Vec::new();
        let mut worse = 0u64;
        let mut visit = |value: T, count: u64| {
            let score = u8::try_from((1 + (5 * (2 * worse + count)) / (2 * n)).min(5)).unwrap_or(5);
            if steps.last().is_none_or(|(_, last)| *last != score) {
                steps.push((value, score));
            }
            worse += count;
        };
        if better_when_lower {
            self.0.iter().rev().for_each(|(v, c)| visit(*v, *c));
        } else {
            self.0.iter().for_each(|(v, c)| visit(*v, *c));
        }
        Axis { better_when_lower, steps }
    }
}

impl Distribution {
    pub fn add(&mut self, input: &RfmInput) {
        self.recency_days.add(input.recency_days);
        self.orders.add(input.orders);
        self.monetary.add(input.monetary);
    }

    /// Adds another worker's counts (commutative and associative: any merge order gives the
    /// same distribution).
    pub fn merge(&mut self, other: Distribution) {
        self.recency_days.merge(other.recency_days);
        self.orders.merge(other.orders);
        self.monetary.merge(other.monetary);
    }

    /// Customers counted.
    pub fn customers(&self) -> u64 {
        self.orders.0.values().sum()
    }

    pub fn cutoffs(&self) -> Cutoffs {
        Cutoffs {
            recency_days: self.recency_days.steps(true),
            orders: self.orders.steps(false),
            monetary: self.monetary.steps(false),
        }
    }
}

impl FromIterator<RfmInput> for Distribution {
    fn from_iter<I: IntoIterator<Item = RfmInput>>(inputs: I) -> Self {
        let mut distribution = Distribution::default();
        inputs.into_iter().for_each(|input| distribution.add(&input));
        distribution
    }
}

/// Where each score starts on one axis, worst value first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Axis<T> {
    better_when_lower: bool,
    /// `(value, score)`: from `value` on (in the better direction) the score is `score`.
    steps: Vec<(T, u8)>,
}

impl<T: Ord + Copy> Axis<T> {
    /// A value the distribution holds gets its exact score; one it does not (a profile that
    /// changed between counting and scoring) gets the score of the nearest worse value, 1
    /// below them all.
    fn score(&self, value: T) -> u8 {
        let reached = |start: &T| if self.better_when_lower { value <= *start } else { value >= *start };
        self.steps.iter().take_while(|(start, _)| reached(start)).last().map_or(1, |(_, score)| *score)
    }
}

/// The scores of a distribution, a few steps per axis: what the scoring workers receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutoffs {
    recency_days: Axis<u32>,
    orders: Axis<u32>,
    monetary: Axis<i64>,
}

impl Cutoffs {
    pub fn score(&self, input: &RfmInput) -> RfmScore {
        RfmScore {
            r: self.recency_days.score(input.recency_days),
            f: self.orders.score(input.orders),
            m: self.monetary.score(input.monetary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::rfm::score;
    use proptest::prelude::*;

    fn input((recency_days, orders, monetary): (u32, u32, i64)) -> RfmInput {
        RfmInput { recency_days, orders, monetary }
    }

    #[test]
    fn the_cutoffs_of_ten_customers_give_the_scores_of_the_whole_list() {
        let customers: Vec<RfmInput> = [
            (3, 9, 12_000),
            (10, 1, 2_500),
            (400, 1, 2_500),
            (30, 2, 4_000),
            (30, 2, 4_000),
            (90, 1, 1_000),
            (5, 5, 9_900),
            (200, 1, 3_000),
            (60, 3, 5_000),
            (700, 1, 800),
        ]
        .into_iter()
        .map(input)
        .collect();
        let cutoffs: Cutoffs = customers.iter().copied().collect::<Distribution>().cutoffs();
        let expected = score(&customers);
        for (customer, expected) in customers.iter().zip(expected) {
            assert_eq!(cutoffs.score(customer), expected, "{customer:?}");
        }
        // One-order customers (5 of 10, ranks 0–4, middle 2) score 2 on frequency.
        assert_eq!(cutoffs.score(&input((10, 1, 2_500))).f, 2);
    }

    #[test]
    fn an_unseen_value_takes_the_score_of_the_nearest_worse_one() {
        let customers: Vec<RfmInput> = (1..=10).map(|n| input((n * 10, n, i64::from(n) * 1_000))).collect();
        let cutoffs = customers.iter().copied().collect::<Distribution>().cutoffs();
        // Orders 1–10: 1,2 → 1; 3,4 → 2; …; 9,10 → 5. Eleven orders: still 5; zero: 1.
        assert_eq!(cutoffs.score(&input((55, 11, 0))), RfmScore { r: 3, f: 5, m: 1 });
        // 55 days sits between 50 (score 3) and 60 (score 3 as well: 50 and 60 share a bin).
        assert_eq!(cutoffs.score(&input((45, 4, 4_500))).r, 3);
        assert_eq!(cutoffs.score(&input((5, 4, 4_500))).r, 5, "more recent than everyone");
        assert_eq!(cutoffs.score(&input((5_000, 4, 4_500))).r, 1);
    }

    #[test]
    fn counts_survive_a_round_trip_through_json() {
        let distribution: Distribution = [(3, 2, -5), (3, 1, 7)].into_iter().map(input).collect();
        let json = serde_json::to_string(&distribution).unwrap();
        assert_eq!(json, r#"{"recency_days":[[3,2]],"orders":[[1,1],[2,1]],"monetary":[[-5,1],[7,1]]}"#);
        assert_eq!(serde_json::from_str::<Distribution>(&json).unwrap(), distribution);
    }

    proptest! {

        #![proptest_config(crate::testing::proptest_config(256))]
        /// Split into any number of parts, counted apart and merged in any order, the
        /// distribution scores every customer exactly as scoring the whole list does.
        #[test]
        fn merged_parts_score_like_the_whole(
            customers in prop::collection::vec((0u32..400, 1u32..12, 0i64..50_000), 1..300),
            parts in 1usize..7,
            reverse in any::<bool>(),
        ) {
            let customers: Vec<RfmInput> = customers.into_iter().map(input).collect();
            let mut counted: Vec<Distribution> = (0..parts)
                .map(|p| customers.iter().skip(p).step_by(parts).copied().collect())
                .collect();
            if reverse {
                counted.reverse();
            }
            let mut merged = Distribution::default();
            counted.into_iter().for_each(|d| merged.merge(d));
            prop_assert_eq!(merged.customers(), customers.len() as u64);
            let cutoffs = merged.cutoffs();
            let expected = score(&customers);
            for (customer, expected) in customers.iter().zip(expected) {
                prop_assert_eq!(cutoffs.score(customer), expected);
            }
        }
    }
}
