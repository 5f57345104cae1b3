//! The reactivation program, run: a customer who enters At risk or Hibernating, or falls
//! into the inactive tier, gets a reactivation mail at once and a last chance with the
//! shop's incentive a week later — unless they ordered meanwhile. The nightly run's sunset
//! policy then suppresses those who stay silent (in rfm-nightly's nightly run).

use crate::ids::{ProfileId, ShopId};
use crate::segments::{Segment, Tier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const PROGRAM: &str = "reactivation";

/// The detail of `segment.changed` (source `relance.segments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentChange {
    pub shop: ShopId,
    pub profile: ProfileId,
    #[serde(default)]
    pub from: Option<Segment>,
    #[serde(default)]
    pub to: Option<Segment>,
    #[serde(default)]
    pub from_tier: Option<Tier>,
    pub tier: Tier,
    /// The value model's view ([`crate::clv::Prediction::is_lapsing`]): the expected next
    /// order a month late and P(active) under ½. Absent for shops without a model.
    #[serde(default)]
    pub from_lapsing: Option<bool>,
    #[serde(default)]
    pub lapsing: bool,
}

const SLIPPING: [Segment; 2] = [Segment::AtRisk, Segment::Hibernating];

impl SegmentChange {
    /// Entering At risk or Hibernating, falling into the inactive tier, or starting to lapse
    /// by the value model.
    pub fn starts_reactivation(&self) -> bool {
        let entered =
            self.to.is_some_and(|to| SLIPPING.contains(&to)) && !self.from.is_some_and(|f| SLIPPING.contains(&f));
        let went_quiet = self.tier == Tier::Inactive && self.from_tier.is_some_and(|t| t != Tier::Inactive);
        let lapsed = self.lapsing && self.from_lapsing == Some(false);
        entered || went_quiet || lapsed
    }
}

/// What the reactivation's schedule hands the timer: a run of the engine's.
pub use super::engine::ProgramDue;

/// The first step of the episode a transition starts at `now`.
pub fn episode(change: &SegmentChange, now: DateTime<Utc>) -> ProgramDue {
    ProgramDue {
        program: PROGRAM.to_owned(),
        shop: change.shop.clone(),
        profile: Some(change.profile.clone()),
        identity: Default::default(),
        step: 1,
        started_at: now,
        subject: None,
        order: None,
        pauses: 0,
        due_at: None,
        products: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn change(from: Option<Segment>, to: Option<Segment>, from_tier: Option<Tier>, tier: Tier) -> SegmentChange {
        SegmentChange {
            shop: ShopId::parse("demo").unwrap(),
            profile: ProfileId::parse("p1").unwrap(),
            from,
            to,
            from_tier,
            tier,
            from_lapsing: None,
            lapsing: false,
        }
    }

    #[test]
    fn entering_at_risk_or_hibernating_or_going_inactive_starts_it_once() {
        use Segment::*;
        assert!(change(Some(Loyal), Some(AtRisk), Some(Tier::Active), Tier::SemiActive).starts_reactivation());
        assert!(change(None, Some(Hibernating), None, Tier::SemiActive).starts_reactivation());
        assert!(!change(Some(AtRisk), Some(Hibernating), None, Tier::SemiActive).starts_reactivation(), "already in");
        assert!(change(Some(Loyal), Some(Loyal), Some(Tier::SemiActive), Tier::Inactive).starts_reactivation());
        assert!(!change(Some(Loyal), Some(Champions), Some(Tier::Active), Tier::Active).starts_reactivation());
        // The value model's entry: a loyal customer whose expected order is a month late.
        let lapsing = SegmentChange {
            from_lapsing: Some(false),
            lapsing: true,
            ..change(Some(Loyal), Some(Loyal), Some(Tier::SemiActive), Tier::SemiActive)
        };
        assert!(lapsing.starts_reactivation());
        assert!(
            !SegmentChange { from_lapsing: Some(true), ..lapsing.clone() }.starts_reactivation(),
            "already lapsing"
        );
        assert!(
            !SegmentChange { from_lapsing: None, ..lapsing }.starts_reactivation(),
            "a first outlook is not a change"
        );
    }

    #[test]
    fn two_steps_a_week_apart_the_incentive_on_the_last_and_keys_per_episode() {
        use crate::programs::engine::{Advance, advance};
        use crate::programs::{Facts, program};
        let started = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
        let change = change(Some(Segment::Loyal), Some(Segment::AtRisk), None, Tier::SemiActive);
        let due = episode(&change, started);
        let program = program(PROGRAM).unwrap();
        let mut profile = crate::profile::Profile::new(change.shop.clone(), change.profile.clone(), started);
        profile.contact.email = Some(crate::lattice::Lww::new(
            crate::ids::Email::parse("a@example.fr").unwrap(),
            crate::lattice::Stamp { at: started, event: crate::ids::EventId::parse("e").unwrap() },
        ));
        let facts =
            |now| Facts { profile: &profile, records: &[], started_at: started, order: None, suggestions: &[], now };
        let settings =
            crate::programs::settings::JourneySettings { discount_code: Some("REVIENS".into()), ..Default::default() };
        let run = |due: &ProgramDue, now| advance(program, due, Some(&facts(now)), &settings, chrono_tz::Tz::UTC, now);
        let Advance::Mail { request: first, next: Some((second_due, at)) } = run(&due, started) else { panic!() };
        assert_eq!((first.step, first.discount_code.as_deref()), (1, None));
        assert_eq!(at, started + chrono::Duration::days(7));
        let Advance::Mail { request: second, next: None } = run(&second_due, at) else { panic!() };
        assert_eq!((second.step, second.discount_code.as_deref()), (2, Some("REVIENS")));
        assert_ne!(first.message_key, second.message_key);
        assert!(program.is_last_mail(2) && !program.is_last_mail(1));
        let later = episode(&change, started + chrono::Duration::days(120));
        let Advance::Mail { request: again, .. } = run(&later, started + chrono::Duration::days(120)) else { panic!() };
        assert_ne!(again.message_key, first.message_key, "a new episode");
    }
}
