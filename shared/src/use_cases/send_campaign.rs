//! Campaigns: a marketer's one send to a segment, triggered by an EventBridge rule (a
//! schedule or an event pattern) whose input names it.
//!
//! send-mail pages through the segment's members (filed by the nightly run), skips those
//! outside the locale filter, and sends each the campaign's mail through the same use case
//! as programs ([`super::send_mail::send_requested`]): consent, suppression and the frequency cap
//! hold (a capped member is skipped), and the message key is derived from campaign and
//! profile, so a repeated or continued invocation never mails anyone twice. It keeps under a
//! send rate, and stops at a time budget, returning where to continue: the handler puts the
//! campaign back on the bus with that cursor, so a segment of any size is sent across
//! invocations.

use super::send_mail::{Mailing, SendError, Sent, send_requested};
use crate::failure::{Classify, Retry};
use crate::ids::ShopId;
use crate::mail::MailKind;
use crate::ports::{Clock, SegmentStore, StoreError};
use crate::programs::request::MailRequest;
use crate::segments::Segment;
use crate::templates::Language;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

pub const CAMPAIGN_REQUESTED: &str = "campaign.requested";

/// The `detail` of `campaign.requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    pub shop: ShopId,
    /// The campaign's id (`black-friday-2026`): part of every message key and UTM campaign.
    pub campaign: String,
    pub segment: Segment,
    pub template: String,
    /// Only members whose language is one of these (`fr`, `en`); empty: everyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locales: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<String>,
    /// Narrower audience by predicted value ([`crate::clv`]); members without an outlook
    /// are left out when it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlook: Option<OutlookFilter>,
    /// Mails per second at most (the SES quota's share for campaigns); 10 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<u32>,
    /// Where a continued campaign resumes (set by send-mail itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Conditions on a member's predicted value, all that are set must hold: `{"top_value_percent":
/// 10}` is a VIP campaign, `{"lapsing": true}` a win-back of those the model expects back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutlookFilter {
    /// In the top 1, 5, 10 or 20 % of the shop by 12-month value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_value_percent: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_active_below: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapsing: Option<bool>,
}

impl OutlookFilter {
    pub fn admits(&self, outlook: Option<&crate::clv::Prediction>, now: chrono::DateTime<chrono::Utc>) -> bool {
        let Some(outlook) = outlook else { return false };
        self.top_value_percent.is_none_or(|p| outlook.value_top_percent.is_some_and(|mine| mine <= p))
            && self.p_active_below.is_none_or(|below| outlook.p_active() < below)
            && self.lapsing.is_none_or(|want| outlook.is_lapsing(now) == want)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("campaign id {0:?} must be 1-64 characters of [A-Za-z0-9_-]")]
    Id(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] SendError),
}

impl Classify for CampaignError {
    fn retry(&self) -> Retry {
        match self {
            CampaignError::Id(_) => Retry::Permanent,
            CampaignError::Store(e) => e.retry(),
            CampaignError::Send(e) => e.retry(),
        }
    }
}

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub members: u64,
    pub sent: u64,
    /// Sent by an earlier invocation of this campaign.
    pub duplicates: u64,
    /// No consent, suppressed, capped, outside the locale filter…
    pub skipped: u64,
    /// Members whose mail failed for good (the provider rejected it, it cannot be rendered):
    /// logged with their profile id and passed over, so one member never stops a campaign.
    pub failed: u64,
    /// Where the next invocation continues; `None` when the segment is done.
    pub next: Option<String>,
}

pub const DEFAULT_RATE: u32 = 10;

/// Sends the campaign from its cursor until the segment ends or `budget` is spent.
pub async fn run_campaign(
    m: &Mailing<'_>,
    segments: &dyn SegmentStore,
    clock: &dyn Clock,
    campaign: &Campaign,
    budget: Duration,
) -> Result<Progress, CampaignError> {
    let id_ok = !campaign.campaign.is_empty()
        && campaign.campaign.len() <= 64
        && campaign.campaign.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !id_ok {
        return Err(CampaignError::Id(campaign.campaign.clone()));
    }
    let rate = f64::from(campaign.rate_per_second.unwrap_or(DEFAULT_RATE).max(1));
    let started = Instant::now();
    let mut progress = Progress::default();
    let mut cursor = campaign.cursor.clone();
    loop {
        let page = segments.members_page(&campaign.shop, campaign.segment, cursor.clone()).await?;
        for member in &page.profiles {
            progress.members += 1;
            let profile = &member.value;
            if !campaign.locales.is_empty() {
                let language = profile.contact.locale.as_ref().and_then(|l| Language::from_locale(&l.value));
                if !language.is_some_and(|l| campaign.locales.iter().any(|want| want.eq_ignore_ascii_case(l.code()))) {
                    progress.skipped += 1;
                    continue;
                }
            }
            if let Some(filter) = &campaign.outlook
                && !filter.admits(profile.segment.as_ref().and_then(|s| s.outlook.as_ref()), clock.now())
            {
                progress.skipped += 1;
                continue;
            }
            let request = MailRequest {
                shop: campaign.shop.clone(),
                profile: Some(profile.id.clone()),
                identity: Default::default(),
                program: "campaign".to_owned(),
                step: 1,
                template: campaign.template.clone(),
                kind: MailKind::Marketing,
                message_key: MailRequest::key_for(
                    &format!("campaign:{}", campaign.campaign),
                    &campaign.shop,
                    profile.id.as_str(),
                    1,
                ),
                checkout: None,
                order: None,
                discount_code: campaign.discount_code.clone(),
                campaign: Some(campaign.campaign.clone()),
                products: Vec::new(),
                requested_at: clock.now(),
            };
            let sent = match send_requested(m, &request, clock.now()).await {
                Ok(sent) => sent,
                // A retry of the invocation resumes here (those already mailed are duplicates).
                Err(error) if error.retry() == Retry::Transient => return Err(error.into()),
                Err(error) => {
                    let error = crate::failure::chain(&error);
                    tracing::error!(shop = %campaign.shop, profile = %profile.id, %error, "campaign mail failed; member passed over");
                    progress.failed += 1;
                    continue;
                }
            };
            match sent {
                Sent::Sent { .. } => {
                    progress.sent += 1;
                    // Keep under the rate: the n-th mail no earlier than n / rate seconds in.
                    let due = Duration::from_secs_f64(progress.sent as f64 / rate);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        tokio::time::sleep(wait).await;
                    }
                }
                Sent::Duplicate | Sent::Claimed => progress.duplicates += 1,
                _ => progress.skipped += 1,
            }
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
        if started.elapsed() >= budget {
            progress.next = cursor;
            break;
        }
    }
    tracing::info!(
        shop = %campaign.shop,
        campaign = %campaign.campaign,
        sent = progress.sent,
        duplicates = progress.duplicates,
        skipped = progress.skipped,
        failed = progress.failed,
        more = progress.next.is_some(),
        "campaign progressed"
    );
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ConsentState;
    use crate::ids::{Email, EventId, ProfileId};
    use crate::lattice::{Lww, Stamp};
    use crate::ports::ProfileStore;
    use crate::ports::{ManualClock, RecordingMailer};
    use crate::profile::{ConsentDecision, Profile, Version};
    use crate::segments::{SegmentState, Tier};
    use crate::shops::Shops;
    use crate::use_cases::send_mail::Fakes;
    use chrono::{DateTime, TimeZone, Utc};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
    }

    /// Member `n`: at risk unless `n % 10 == 9` (champions); subscribed when even,
    /// unsubscribed when `n % 4 == 1`, never asked when `n % 4 == 3`; French when `n % 3 == 0`.
    fn member(n: usize) -> Profile {
        let shop = ShopId::parse("demo").unwrap();
        let stamp = Stamp { at: now() - chrono::Duration::days(30), event: EventId::parse(format!("e:{n}")).unwrap() };
        let mut p = Profile::new(shop, ProfileId::parse(format!("m{n:05}")).unwrap(), stamp.at);
        p.contact.email = Some(Lww::new(Email::parse(format!("m{n}@example.fr")).unwrap(), stamp.clone()));
        p.contact.locale = Some(Lww::new(if n.is_multiple_of(3) { "fr".into() } else { "en".into() }, stamp.clone()));
        let state = match n % 4 {
            0 | 2 => Some(ConsentState::Subscribed),
            1 => Some(ConsentState::Unsubscribed),
            _ => None,
        };
        p.consent = state.map(|state| Lww::new(ConsentDecision { state, source: "shopify".into() }, stamp));
        let segment = if n % 10 == 9 { Segment::Champions } else { Segment::AtRisk };
        p.segment = Some(SegmentState {
            segment: Some(segment),
            score: None,
            tier: Tier::SemiActive,
            scored_at: now(),
            outlook: None,
        });
        p
    }

    struct World<M = RecordingMailer> {
        fakes: Fakes<M>,
        clock: ManualClock,
    }

    impl<M> std::ops::Deref for World<M> {
        type Target = Fakes<M>;

        fn deref(&self) -> &Self::Target {
            &self.fakes
        }
    }

    async fn world(members: usize) -> World {
        world_with(RecordingMailer::default(), members).await
    }

    async fn world_with<M: crate::ports::Mailer>(mailer: M, members: usize) -> World<M> {
        let w = World {
            fakes: Fakes::new(
                mailer,
                Shops::parse(
                    r#"{"shops": [{"id": "demo", "mail": {"from": "Demo <hi@demo.example>", "name": "Demo",
                    "site_url": "https://demo.example", "unsubscribe_secrets": ["s"]}}]}"#,
                )
                .unwrap(),
            ),
            clock: ManualClock::at(now()),
        };
        for n in 0..members {
            w.store.save(&member(n), Version::NEW).await.unwrap();
        }
        w
    }

    impl<M: crate::ports::Mailer> World<M> {
        /// Runs the campaign to its end, continuing as send-mail does; returns the totals.
        async fn send(&self, campaign: &Campaign, budget: Duration) -> Progress {
            let mut campaign = campaign.clone();
            let mut total = Progress::default();
            loop {
                let p = run_campaign(&self.mailing(), &self.store, &self.clock, &campaign, budget).await.unwrap();
                total.members += p.members;
                total.sent += p.sent;
                total.duplicates += p.duplicates;
                total.skipped += p.skipped;
                total.failed += p.failed;
                match p.next {
                    Some(cursor) => campaign.cursor = Some(cursor),
                    None => return total,
                }
            }
        }
    }

    fn campaign() -> Campaign {
        Campaign {
            shop: ShopId::parse("demo").unwrap(),
            campaign: "winback-2026-11".into(),
            segment: Segment::AtRisk,
            template: "reactivation".into(),
            locales: vec![],
            outlook: None,
            discount_code: Some("REVIENS".into()),
            rate_per_second: Some(1_000_000),
            cursor: None,
        }
    }

    #[tokio::test]
    async fn a_campaign_mails_each_consenting_member_once_even_when_repeated_or_continued() {
        let w = world(2_000).await;
        let at_risk: Vec<usize> = (0..2_000).filter(|n| n % 10 != 9).collect();
        let consenting = at_risk.iter().filter(|n| n.is_multiple_of(2)).count() as u64;
        // A zero budget stops after every page: the campaign is sent across many invocations.
        let first = w.send(&campaign(), Duration::ZERO).await;
        assert_eq!((first.members, first.sent), (at_risk.len() as u64, consenting));
        let again = w.send(&campaign(), Duration::from_secs(60)).await;
        assert_eq!((again.sent, again.duplicates), (0, consenting), "a repeated invocation sends nothing");
        let sent = w.mailer.sent();
        assert_eq!(sent.len() as u64, consenting);
        let recipients: std::collections::BTreeSet<&str> = sent.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(recipients.len() as u64, consenting, "one mail each");
        assert!(sent.iter().all(|m| m.html.contains("utm_campaign=winback-2026-11") && m.html.contains("REVIENS")));
        assert!(sent.iter().all(|m| m.headers.iter().any(|h| h.name() == "List-Unsubscribe-Post")));
    }

    #[tokio::test]
    async fn the_locale_filter_and_the_frequency_cap_leave_members_out() {
        let w = world(200).await;
        // Member 0 got a marketing mail an hour ago: capped, so skipped, not deferred.
        let mut zero =
            w.store.load(&ShopId::parse("demo").unwrap(), &ProfileId::parse("m00000").unwrap()).await.unwrap().unwrap();
        zero.value.record_sent(MailKind::Marketing, now() - chrono::Duration::hours(1), false);
        w.store.save(&zero.value, zero.version).await.unwrap();
        let french = Campaign { locales: vec!["fr".into()], ..campaign() };
        let progress = w.send(&french, Duration::from_secs(60)).await;
        let expected = (0..200usize)
            .filter(|n| n % 10 != 9 && n.is_multiple_of(2) && n.is_multiple_of(3) && *n != 0)
            .count() as u64;
        assert_eq!(progress.sent, expected);
        assert!(w.scheduler.pending().is_empty(), "campaign mail is never deferred");
        assert!(w.mailer.sent().iter().all(|m| !m.html.is_empty() && m.to.as_str() != "m0@example.fr"));
    }

    /// The provider refuses one address for good; every other mail goes.
    struct Refusing(RecordingMailer, &'static str);

    #[async_trait::async_trait]
    impl crate::ports::Mailer for Refusing {
        async fn send(
            &self,
            mail: &crate::mail::OutgoingMail,
        ) -> Result<crate::mail::SentMail, crate::ports::MailerError> {
            if mail.to.as_str() == self.1 {
                return Err(crate::ports::MailerError::Rejected("Address blacklisted".into()));
            }
            self.0.send(mail).await
        }
    }

    #[tokio::test]
    async fn a_member_whose_mail_fails_for_good_is_passed_over_and_the_campaign_goes_on() {
        let w = world_with(Refusing(RecordingMailer::default(), "m2@example.fr"), 40).await;
        let progress = w.send(&campaign(), Duration::from_secs(60)).await;
        let consenting = (0..40usize).filter(|n| n % 10 != 9 && n.is_multiple_of(2)).count() as u64;
        assert_eq!((progress.sent, progress.failed), (consenting - 1, 1));
        assert!(w.mailer.0.sent().iter().all(|m| m.to.as_str() != "m2@example.fr"));
    }

    #[tokio::test]
    async fn a_malformed_campaign_id_is_refused() {
        let w = world(1).await;
        let bad = Campaign { campaign: "no spaces please".into(), ..campaign() };
        let error = run_campaign(&w.mailing(), &w.store, &w.clock, &bad, Duration::ZERO).await.unwrap_err();
        assert!(matches!(error, CampaignError::Id(_)));
    }

    #[test]
    fn an_outlook_filter_admits_the_top_decile_or_the_lapsing() {
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 23, 2, 0, 0).unwrap();
        let outlook = |top: Option<u8>, p_active_milli: u16, overdue_days: i64| crate::clv::Prediction {
            p_active_milli,
            orders_30d_centi: 10,
            orders_90d_centi: 30,
            orders_365d_centi: 120,
            value_12m: crate::money::Money::from_minor(12_000, crate::money::Currency::parse("EUR").unwrap()),
            next_order_by: Some((now - chrono::Duration::days(overdue_days)).date_naive()),
            value_top_percent: top,
        };
        let vip = OutlookFilter { top_value_percent: Some(10), ..OutlookFilter::default() };
        assert!(vip.admits(Some(&outlook(Some(5), 900, -3)), now));
        assert!(vip.admits(Some(&outlook(Some(10), 900, -3)), now));
        assert!(!vip.admits(Some(&outlook(Some(20), 900, -3)), now));
        assert!(!vip.admits(Some(&outlook(None, 900, -3)), now));
        assert!(!vip.admits(None, now), "no outlook, not in");
        let winback = OutlookFilter { lapsing: Some(true), ..OutlookFilter::default() };
        assert!(winback.admits(Some(&outlook(None, 300, 45)), now));
        assert!(!winback.admits(Some(&outlook(None, 300, 10)), now), "not late enough");
        assert!(!winback.admits(Some(&outlook(None, 700, 45)), now), "probably still active");
        let filter: OutlookFilter =
            serde_json::from_str(r#"{"top_value_percent": 10, "p_active_below": 0.5}"#).unwrap();
        assert_eq!(filter.p_active_below, Some(0.5));
    }
}
