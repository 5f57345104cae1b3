//! Values that merge the same whatever the order they arrive in.
//!
//! Webhooks arrive late, twice and out of order (SPECS: Shopify webhooks). Every field of a
//! profile is one of these, so folding a set of events gives one result for every order,
//! and merging two profiles of one person is the same join.

use crate::ids::EventId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// When a value was stated, and by which event: a total order, so that "the latest wins"
/// has one answer even for two events of the same second.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub event: EventId,
}

/// Last writer wins, by [`Stamp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lww<T> {
    pub value: T,
    pub stamp: Stamp,
}

impl<T> Lww<T> {
    pub fn new(value: T, stamp: Stamp) -> Self {
        Self { value, stamp }
    }
}

/// Keeps the later of the two (the earlier, with `earliest`).
pub fn join_lww<T>(current: &mut Option<Lww<T>>, offered: Option<Lww<T>>, earliest: bool) {
    let Some(offered) = offered else { return };
    let replace = match current {
        None => true,
        Some(current) if earliest => offered.stamp < current.stamp,
        Some(current) => offered.stamp > current.stamp,
    };
    if replace {
        *current = Some(offered);
    }
}

pub fn join_min<T: Ord + Copy>(current: &mut Option<T>, offered: Option<T>) {
    if let Some(offered) = offered {
        *current = Some(current.map_or(offered, |c| c.min(offered)));
    }
}

pub fn join_max<T: Ord + Copy>(current: &mut Option<T>, offered: Option<T>) {
    if let Some(offered) = offered {
        *current = Some(current.map_or(offered, |c| c.max(offered)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn stamp(second: u32, event: &str) -> Stamp {
        Stamp { at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second).unwrap(), event: EventId::parse(event).unwrap() }
    }

    #[test]
    fn the_later_stamp_wins_in_either_order_and_ties_break_on_the_event_id() {
        let a = Lww::new("a", stamp(1, "e1"));
        let b = Lww::new("b", stamp(2, "e0"));
        let c = Lww::new("c", stamp(2, "e9"));
        for order in [[&a, &b, &c], [&c, &b, &a], [&b, &c, &a]] {
            let mut value = None;
            for offered in order {
                join_lww(&mut value, Some((*offered).clone()), false);
            }
            assert_eq!(value.unwrap().value, "c");
        }
        let mut first = Some(b.clone());
        join_lww(&mut first, Some(a.clone()), true);
        assert_eq!(first.unwrap().value, "a");
    }
}
