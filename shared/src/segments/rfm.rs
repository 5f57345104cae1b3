//! RFM scores from a shop's own distribution.
//!
//! Each of recency (days since the last order, fewer is better), frequency (orders) and
//! monetary value (average order value by default, total spend as an option) becomes a score
//! from 1 to 5: the customer's quintile among the shop's customers who ordered. Quintiles
//! are taken on ranks, so skewed values (most customers order once) still spread over the
//! scores, and ties are handled deterministically: equal values always get the same score,
//! the one of the middle of their run of ranks. Customers who never ordered are not scored.

use serde::{Deserialize, Serialize};

/// What scoring reads of one customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RfmInput {
    /// Days since the last order (0: today).
    pub recency_days: u32,
    pub orders: u32,
    /// In the shop's currency's minor units: average order value or total spend.
    pub monetary: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monetary {
    #[default]
    AverageOrderValue,
    TotalSpend,
}

/// Scores 1–5, higher is better on each axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RfmScore {
    pub r: u8,
    pub f: u8,
    pub m: u8,
}

/// The quintile score (1–5) of every value, in input order. `better_when_lower` flips the
/// order (recency: fewer days is better).
pub fn quintile_scores<T: PartialOrd + Copy>(values: &[T], better_when_lower: bool) -> Vec<u8> {
    let n = values.len();
    // (value, position) pairs sorted worst first, so that rank 0 scores 1: sorting the pairs
    // themselves (not indices into `values`) keeps the sort cache-friendly at millions.
    let mut order: Vec<(T, u32)> = values.iter().copied().zip(0u32..).collect();
    order.sort_unstable_by(|a, b| {
        let ordering = a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal);
        if better_when_lower { ordering.reverse() } else { ordering }
    });
    let mut scores = vec![0u8; n];
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && order[end].0.partial_cmp(&order[start].0) == Some(std::cmp::Ordering::Equal) {
            end += 1;
        }
        // Where the middle of the run falls in [0, n): 5 equal bins. (start + end) / 2 is
        // that middle; the division is kept last to stay in integers.
        let score = u8::try_from((1 + (5 * (start + end)) / (2 * n)).min(5)).unwrap_or(5);
        for &(_, index) in &order[start..end] {
            scores[index as usize] = score;
        }
        start = end;
    }
    scores
}

/// RFM scores of every customer, in input order.
pub fn score(customers: &[RfmInput]) -> Vec<RfmScore> {
    let recency: Vec<u32> = customers.iter().map(|c| c.recency_days).collect();
    let frequency: Vec<u32> = customers.iter().map(|c| c.orders).collect();
    let monetary: Vec<i64> = customers.iter().map(|c| c.monetary).collect();
    let (r, f, m) =
        (quintile_scores(&recency, true), quintile_scores(&frequency, false), quintile_scores(&monetary, false));
    (0..customers.len()).map(|i| RfmScore { r: r[i], f: f[i], m: m[i] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_values_fill_the_five_quintiles_two_by_two() {
        let values: Vec<i64> = vec![50, 10, 90, 30, 70, 20, 100, 40, 80, 60];
        // Sorted: 10 20 | 30 40 | 50 60 | 70 80 | 90 100.
        assert_eq!(quintile_scores(&values, false), [3, 1, 5, 2, 4, 1, 5, 2, 4, 3]);
        // Recency: fewer days is better.
        assert_eq!(quintile_scores(&values, true), [3, 5, 1, 4, 2, 5, 1, 4, 2, 3]);
    }

    #[test]
    fn equal_values_share_the_score_of_the_middle_of_their_run() {
        // Six customers with one order, two with two, one with five, one with nine.
        let orders = [1u32, 1, 1, 1, 1, 1, 2, 2, 5, 9];
        // Ones: ranks 0–5, middle 2.5 → 1 + 5·2.5/10 = 2.25 → 2. Twos: ranks 6–7, middle 6.5 →
        // 4.25 → 4. Five: rank 8 → 5. Nine: rank 9 → 5.
        assert_eq!(quintile_scores(&orders, false), [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]);
        // The same inputs in another order give the same scores to the same values.
        let shuffled = [9u32, 1, 2, 1, 1, 5, 1, 2, 1, 1];
        assert_eq!(quintile_scores(&shuffled, false), [5, 2, 4, 2, 2, 5, 2, 4, 2, 2]);
    }

    proptest::proptest! {

        #![proptest_config(crate::testing::proptest_config(256))]
        /// The same scores from the definition, counted value by value (O(n²)): a value's
        /// run starts after every worse value and spans the equal ones.
        #[test]
        fn scores_match_a_count_by_definition(values in proptest::collection::vec(0u32..20, 1..60), lower in proptest::bool::ANY) {
            let n = values.len();
            let expected: Vec<u8> = values
                .iter()
                .map(|v| {
                    let worse = values.iter().filter(|w| if lower { *w > v } else { *w < v }).count();
                    let equal = values.iter().filter(|w| *w == v).count();
                    let score = 1 + (5 * (2 * worse + equal)) / (2 * n);
                    u8::try_from(score.min(5)).unwrap()
                })
                .collect();
            proptest::prop_assert_eq!(quintile_scores(&values, lower), expected);
        }
    }

    #[test]
    fn a_single_customer_or_all_equal_sits_in_the_middle() {
        assert_eq!(quintile_scores(&[7u32], false), [3]);
        assert_eq!(quintile_scores(&[7u32, 7, 7], false), [3, 3, 3]);
        assert!(quintile_scores::<u32>(&[], false).is_empty());
    }
}
