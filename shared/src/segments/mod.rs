//! Segments: RFM scores ([`rfm`]), the named segments they map to, and engagement tiers.
//!
//! The named-segment map reads recency against frequency (the usual RFM grid; monetary value
//! refines reports, not membership), so a marketer can predict a customer's segment from two
//! numbers:
//!
//! | R \ F | 1 | 2 | 3 | 4 | 5 |
//! |---|---|---|---|---|---|
//! | 5 | New | Potential loyalists | Potential loyalists | Champions | Champions |
//! | 4 | Promising | Potential loyalists | Potential loyalists | Loyal | Loyal |
//! | 3 | About to sleep | About to sleep | Needs attention | Loyal | Loyal |
//! | 2 | Hibernating | Hibernating | At risk | At risk | Can't lose |
//! | 1 | Lost | Hibernating | At risk | At risk | Can't lose |

pub mod distribution;
pub mod rfm;
pub mod summary;

pub use summary::{SegmentFigures, Summary};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    Champions,
    Loyal,
    PotentialLoyalists,
    New,
    Promising,
    NeedsAttention,
    AboutToSleep,
    AtRisk,
    CantLose,
    Hibernating,
    Lost,
}

impl Segment {
    pub const ALL: [Segment; 11] = [
        Segment::Champions,
        Segment::Loyal,
        Segment::PotentialLoyalists,
        Segment::New,
        Segment::Promising,
        Segment::NeedsAttention,
        Segment::AboutToSleep,
        Segment::AtRisk,
        Segment::CantLose,
        Segment::Hibernating,
        Segment::Lost,
    ];

    /// The segment of an RFM score (see the module's grid).
    pub fn of(score: rfm::RfmScore) -> Segment {
        match (score.r, score.f) {
            (5, 1) => Segment::New,
            (5, 2 | 3) | (4, 2 | 3) => Segment::PotentialLoyalists,
            (5, _) => Segment::Champions,
            (4, 1) => Segment::Promising,
            (4, _) | (3, 4 | 5) => Segment::Loyal,
            (3, 3) => Segment::NeedsAttention,
            (3, _) => Segment::AboutToSleep,
            (1, 1) => Segment::Lost,
            (_, 1 | 2) => Segment::Hibernating,
            (_, 5) => Segment::CantLose,
            _ => Segment::AtRisk,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::Loyal => "loyal",
            Segment::PotentialLoyalists => "potential_loyalists",
            Segment::New => "new",
            Segment::Promising => "promising",
            Segment::NeedsAttention => "needs_attention",
            Segment::AboutToSleep => "about_to_sleep",
            Segment::AtRisk => "at_risk",
            Segment::CantLose => "cant_lose",
            Segment::Hibernating => "hibernating",
            Segment::Lost => "lost",
        }
    }
}

/// A profile's standing after a nightly run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentState {
    /// `None` for someone who never ordered (no RFM score).
    pub segment: Option<Segment>,
    pub score: Option<rfm::RfmScore>,
    pub tier: Tier,
    pub scored_at: DateTime<Utc>,
    /// Predicted value ([`crate::clv`]): for customers of a shop with enough history to fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlook: Option<crate::clv::Prediction>,
}

impl SegmentState {
    /// The same standing, whenever it was computed: what decides whether to write it back.
    /// The outlook is rounded, so it changes when a figure a reader sees changes.
    pub fn same_as(&self, other: &SegmentState) -> bool {
        (self.segment, self.score, self.tier, self.outlook) == (other.segment, other.score, other.tier, other.outlook)
    }
}

/// How engaged a person is, from what they did rather than what their mail client did:
/// Apple Mail Privacy Protection opens every mail, so an open alone never makes anyone more
/// than semi-active (SPECS: Mail deliverability).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// No click, visit or order for 6 months (an open at most).
    Inactive,
    /// Some sign of life in 6 months, none strong in the last 30 days.
    SemiActive,
    /// A click, a visit or an order in the last 30 days.
    Active,
    /// Clicked a mail and ordered after it, within 30 days.
    SuperActive,
}

/// The times a tier is judged on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    pub last_click: Option<DateTime<Utc>>,
    pub last_visit: Option<DateTime<Utc>>,
    pub last_order: Option<DateTime<Utc>>,
    pub last_open: Option<DateTime<Utc>>,
}

pub const ACTIVE_WINDOW: Duration = Duration::days(30);
pub const INACTIVE_AFTER: Duration = Duration::days(182);

impl Tier {
    pub fn of(signals: &Signals, now: DateTime<Utc>) -> Tier {
        let within = |t: Option<DateTime<Utc>>, window: Duration| t.is_some_and(|t| t <= now && now - t <= window);
        let strong = [signals.last_click, signals.last_visit, signals.last_order];
        let bought_after_click = match (signals.last_click, signals.last_order) {
            (Some(click), Some(order)) => order >= click,
            _ => false,
        };
        if bought_after_click && within(signals.last_click, ACTIVE_WINDOW) && within(signals.last_order, ACTIVE_WINDOW)
        {
            Tier::SuperActive
        } else if strong.iter().any(|t| within(*t, ACTIVE_WINDOW)) {
            Tier::Active
        } else if strong.iter().chain([&signals.last_open]).any(|t| within(*t, INACTIVE_AFTER)) {
            Tier::SemiActive
        } else {
            Tier::Inactive
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rfm::RfmScore;
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_grid_names_every_cell_as_documented() {
        let grid: Vec<Vec<&str>> = (1..=5u8)
            .rev()
            .map(|r| (1..=5u8).map(|f| Segment::of(RfmScore { r, f, m: 3 }).as_str()).collect())
            .collect();
        assert_eq!(grid[0], ["new", "potential_loyalists", "potential_loyalists", "champions", "champions"]);
        assert_eq!(grid[1], ["promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"]);
        assert_eq!(grid[2], ["about_to_sleep", "about_to_sleep", "needs_attention", "loyal", "loyal"]);
        assert_eq!(grid[3], ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"]);
        assert_eq!(grid[4], ["lost", "hibernating", "at_risk", "at_risk", "cant_lose"]);
        let named: std::collections::BTreeSet<&str> = grid.iter().flatten().copied().collect();
        assert_eq!(named.len(), Segment::ALL.len(), "every segment is reachable");
    }

    #[test]
    fn opens_alone_never_make_anyone_active() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let days = |d: i64| Some(now - Duration::days(d));
        let tier = |s: Signals| Tier::of(&s, now);
        assert_eq!(tier(Signals { last_open: days(1), ..Default::default() }), Tier::SemiActive);
        assert_eq!(tier(Signals { last_open: days(200), ..Default::default() }), Tier::Inactive);
        assert_eq!(tier(Signals::default()), Tier::Inactive);
        assert_eq!(tier(Signals { last_visit: days(3), ..Default::default() }), Tier::Active);
        assert_eq!(tier(Signals { last_order: days(90), ..Default::default() }), Tier::SemiActive);
        let bought = Signals { last_click: days(5), last_order: days(4), ..Default::default() };
        assert_eq!(tier(bought), Tier::SuperActive);
        let before = Signals { last_click: days(4), last_order: days(5), ..Default::default() };
        assert_eq!(tier(before), Tier::Active, "an order before the click is not bought after it");
    }
}
