//! The reactivation program, run: a customer who enters At risk or Hibernating, or falls
//! into the inactive tier, gets a reactivation mail at once and a last chance with the
//! shop's incentive a week later — unless they ordered meanwhile. The nightly run's sunset
//! policy then suppresses those who stay silent ([`crate::segments::nightly`]).

use super::request::MailRequest;
use super::settings::ReactivationSettings;
use super::{Content, program};
use crate::ids::{ProfileId, ShopId};
use crate::profile::Profile;
use crate::schedule::ScheduleName;
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

/// What the reactivation's schedule hands the timer for a later step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramDue {
    pub program: String,
    pub shop: ShopId,
    pub profile: ProfileId,
    pub step: u32,
    pub started_at: DateTime<Utc>,
}

impl ProgramDue {
    /// One pending step per person and program.
    pub fn schedule_name(&self) -> ScheduleName {
        ScheduleName::derived("program", &[&self.program, self.shop.as_str(), self.profile.as_str()])
    }
}

/// The mail of `step` of the episode that started at `started_at`; `None` past the last.
pub fn request(due: &ProgramDue, settings: &ReactivationSettings, now: DateTime<Utc>) -> Option<MailRequest> {
    let program = program(PROGRAM)?;
    let step = program.steps.get(usize::try_from(due.step.checked_sub(1)?).ok()?)?;
    let Content::Template(template) = &step.content else { return None };
    // One key per step of one episode: a customer who slips again months later is a new one.
    let episode = format!("{}:{}", due.profile, due.started_at.format("%Y-%m-%d"));
    Some(MailRequest {
        shop: due.shop.clone(),
        profile: Some(due.profile.clone()),
        identity: Default::default(),
        program: PROGRAM.to_owned(),
        step: due.step,
        template: (*template).to_owned(),
        kind: program.kind,
        message_key: MailRequest::key_for(PROGRAM, &due.shop, &episode, due.step),
        checkout: None,
        order: None,
        discount_code: if step.discount { settings.discount_code.clone() } else { None },
        campaign: None,
        requested_at: now,
    })
}

/// The next step after `due` and when it is due, if any.
pub fn next(due: &ProgramDue) -> Option<(ProgramDue, DateTime<Utc>)> {
    let program = program(PROGRAM)?;
    let next = program.steps.get(usize::try_from(due.step).ok()?)?;
    Some((ProgramDue { step: due.step + 1, ..due.clone() }, due.started_at + next.delay))
}

/// An exit holds: the customer ordered since the episode started.
pub fn ordered_since(profile: &Profile, started_at: DateTime<Utc>) -> bool {
    profile.orders.values().any(|o| o.placed_at.is_some_and(|at| at >= started_at))
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
        let started = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
        let due = ProgramDue {
            program: PROGRAM.into(),
            shop: ShopId::parse("demo").unwrap(),
            profile: ProfileId::parse("p1").unwrap(),
            step: 1,
            started_at: started,
        };
        let settings = ReactivationSettings { discount_code: Some("REVIENS".into()), sunset_days: 30 };
        let first = request(&due, &settings, started).unwrap();
        assert_eq!((first.step, first.discount_code.as_deref()), (1, None));
        let (second_due, at) = next(&due).unwrap();
        assert_eq!(at, started + chrono::Duration::days(7));
        let second = request(&second_due, &settings, at).unwrap();
        assert_eq!((second.step, second.discount_code.as_deref()), (2, Some("REVIENS")));
        assert_ne!(first.message_key, second.message_key);
        assert!(next(&second_due).is_none());
        let later = ProgramDue { started_at: started + chrono::Duration::days(120), ..due };
        assert_ne!(request(&later, &settings, started).unwrap().message_key, first.message_key, "a new episode");
    }
}
