//! The abandoned-checkout series, decided: when to arm the first reminder, and what a due
//! reminder does once the profile and the checkout have been re-read.
//!
//! Abandonment is inactivity, so every delay counts from the checkout's last activity: a
//! customer still editing their checkout re-arms the series instead of being reminded. Each
//! step's mail has a key derived from shop, checkout and step, so a schedule that fires twice
//! (or a re-armed step already sent) asks for a mail send-mail has already sent, and it
//! sends nothing.

use super::request::MailRequest;
use super::settings::CheckoutSettings;
use super::{Exit, Program};
use crate::events::ConsentState;
use crate::events::{Event, Identity};
use crate::ids::{ExternalId, ShopId};
use crate::profile::Profile;
use crate::profile::records::CheckoutRecord;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The program this module decides for.
pub const PROGRAM: &str = "abandoned-checkout";

/// What Scheduler hands the timer when a reminder is due (the schedule's `Input`). It
/// names the customer by the keys the checkout event gave, since profile-update may not
/// have resolved them yet when the schedule is armed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderDue {
    pub program: String,
    pub shop: ShopId,
    pub token: ExternalId,
    pub step: u32,
    pub identity: Identity,
}

/// Why a due reminder sends nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// No profile (erased, or never resolved).
    NoProfile,
    /// No checkout record (erased, or never recorded).
    NoCheckout,
    Ordered,
    CheckoutEmptied,
    Unreachable,
    Suppressed,
    Unsubscribed,
    /// No marketing consent, and the allowance of reminders without it is used.
    NoConsent,
    SeriesComplete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send {
        step: u32,
        template: String,
        discount: Option<String>,
        /// The next step and when it is due, if the series goes on.
        next: Option<(u32, DateTime<Utc>)>,
    },
    Stop(StopReason),
}

/// When the first reminder of a checkout is due, if one should be armed at all.
/// How late an event may be and still act as news: Shopify retries a webhook for 48 hours.
/// Older activity (an import, a backfill, a replayed archive) is history: it fills the
/// profile, but no reminder or order mail is sent for it.
pub const NEWS_WINDOW: Duration = Duration::hours(48);

/// Whether something that happened at `at` is still news at `now` (see [`NEWS_WINDOW`]).
pub fn is_news(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - at <= NEWS_WINDOW
}

/// Whether `event` may act as news at `now`: not marked as history by an import, and
/// recent enough (at `at`: its own time, or what it arms, such as a first reminder).
pub fn acts_as_news(event: &Event, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    !event.context.history && is_news(at, now)
}

pub fn first_reminder(settings: &CheckoutSettings, last_activity_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    settings.delay(1).map(|delay| last_activity_at + delay)
}

/// The key of a step's mail: the same for every attempt, so it is sent once.
pub fn message_key(shop: &ShopId, token: &ExternalId, step: u32) -> String {
    MailRequest::key_for(PROGRAM, shop, token.as_str(), step)
}

/// What a due reminder does, from what was just re-read.
pub fn decide(
    program: &Program,
    settings: &CheckoutSettings,
    profile: Option<&Profile>,
    checkout: Option<&CheckoutRecord>,
    step: u32,
    now: DateTime<Utc>,
) -> Decision {
    let Some(profile) = profile else { return Decision::Stop(StopReason::NoProfile) };
    let Some(checkout) = checkout else { return Decision::Stop(StopReason::NoCheckout) };
    let exits = &program.exits;
    let ordered_since = profile.orders.values().any(|o| o.placed_at.is_some_and(|at| at >= checkout.started_at));
    if exits.contains(&Exit::Ordered) && (checkout.is_completed() || ordered_since) {
        return Decision::Stop(StopReason::Ordered);
    }
    if exits.contains(&Exit::CheckoutEmptied) && checkout.is_empty() {
        return Decision::Stop(StopReason::CheckoutEmptied);
    }
    if profile.email().is_none() {
        return Decision::Stop(StopReason::Unreachable);
    }
    if exits.contains(&Exit::Suppressed) && profile.suppression.is_some() {
        return Decision::Stop(StopReason::Suppressed);
    }
    let consent = profile.consent_state();
    if exits.contains(&Exit::Unsubscribed) && consent == ConsentState::Unsubscribed {
        return Decision::Stop(StopReason::Unsubscribed);
    }
    let allowed = |step: u32| consent == ConsentState::Subscribed || step <= settings.reminders_without_consent;
    if !allowed(step) {
        return Decision::Stop(StopReason::NoConsent);
    }
    if step == 0 || step > settings.steps() {
        return Decision::Stop(StopReason::SeriesComplete);
    }
    let index = usize::try_from(step - 1).unwrap_or(usize::MAX).min(program.steps.len().saturating_sub(1));
    let Some(template) = program.steps.get(index).and_then(|s| s.template()) else {
        return Decision::Stop(StopReason::SeriesComplete);
    };
    let template = template.to_owned();
    let next = settings
        .delay(step + 1)
        .filter(|_| allowed(step + 1))
        // A late firing never arms the next step in the past.
        .map(|delay| (step + 1, (checkout.last_activity_at + delay).max(now + Duration::minutes(1))));
    Decision::Send { step, template, discount: settings.discount_code(step, checkout.token.as_str()), next }
}

/// The mail request of a reminder [`decide`] chose to send, for the profile it re-read.
pub fn reminder_request(
    due: &ReminderDue,
    program: &Program,
    profile: &Profile,
    step: u32,
    template: String,
    discount_code: Option<String>,
    now: DateTime<Utc>,
) -> MailRequest {
    MailRequest {
        shop: due.shop.clone(),
        profile: Some(profile.id.clone()),
        identity: Identity::default(),
        program: program.id.clone(),
        step,
        template,
        kind: program.kind,
        message_key: message_key(&due.shop, &due.token, step),
        checkout: Some(due.token.clone()),
        order: None,
        discount_code,
        campaign: None,
        products: Vec::new(),
        requested_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{ConsentChange, Event, LineItem, Payload, Platform, SCHEMA_VERSION};
    use crate::ids::{Email, EventId, ProfileId};
    use crate::lattice::{Lww, Stamp};
    use crate::money::{Currency, Money};
    use crate::programs::program;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
    }

    fn stamp() -> Stamp {
        Stamp { at: t0(), event: EventId::parse("shopify:demo:1").unwrap() }
    }

    fn checkout(lines: usize) -> CheckoutRecord {
        let eur = Currency::parse("EUR").unwrap();
        let line = LineItem {
            product_id: None,
            variant_id: None,
            sku: None,
            title: "Cuvée".into(),
            variant_title: None,
            quantity: 1,
            unit_price: Money::from_minor(2500, eur),
            vendor: None,
            product_type: None,
            categories: vec![],
            image_url: None,
        };
        CheckoutRecord {
            token: ExternalId::parse("ck1").unwrap(),
            cart: false,
            cart_token: None,
            lines: Some(Lww::new(vec![line; lines], stamp())),
            total: None,
            recovery_url: None,
            started_at: t0(),
            last_activity_at: t0(),
            completed_at: None,
            order_id: None,
        }
    }

    fn profile(consent: Option<ConsentState>) -> Profile {
        let shop = ShopId::parse("demo.myshopify.com").unwrap();
        let mut profile = Profile::new(shop.clone(), ProfileId::parse("e1").unwrap(), t0());
        profile.contact.email = Some(Lww::new(Email::parse("anne@example.fr").unwrap(), stamp()));
        if let Some(state) = consent {
            profile.apply(&Event {
                schema_version: SCHEMA_VERSION,
                id: EventId::parse("shopify:demo:c").unwrap(),
                shop,
                platform: Platform::Shopify,
                occurred_at: t0(),
                received_at: t0(),
                identity: Identity::default(),
                context: Default::default(),
                payload: Payload::ConsentChanged(ConsentChange { state, changed_at: t0(), source: "shopify".into() }),
            });
        }
        profile
    }

    fn run(profile: Option<&Profile>, checkout: Option<&CheckoutRecord>, step: u32) -> Decision {
        let settings = CheckoutSettings {
            discount: Some(super::super::settings::DiscountSource::Code("MERCI10".into())),
            ..Default::default()
        };
        decide(program("abandoned-checkout").unwrap(), &settings, profile, checkout, step, t0() + Duration::hours(1))
    }

    #[test]
    fn a_subscribed_customer_gets_three_steps_and_the_discount_on_the_last() {
        let (p, c) = (profile(Some(ConsentState::Subscribed)), checkout(2));
        let Decision::Send { step: 1, template, discount: None, next: Some((2, at)) } = run(Some(&p), Some(&c), 1)
        else {
            panic!("{:?}", run(Some(&p), Some(&c), 1))
        };
        assert_eq!((template.as_str(), at), ("abandoned-checkout", t0() + Duration::hours(24)));
        let Decision::Send { discount, next, .. } = run(Some(&p), Some(&c), 3) else { panic!("step 3") };
        assert_eq!((discount.as_deref(), next), (Some("MERCI10"), None));
        assert_eq!(run(Some(&p), Some(&c), 4), Decision::Stop(StopReason::SeriesComplete));
    }

    #[test]
    fn exit_conditions_are_rechecked_at_each_step() {
        let subscribed = profile(Some(ConsentState::Subscribed));
        let mut completed = checkout(1);
        completed.order_id = Some(ExternalId::parse("o1").unwrap());
        assert_eq!(run(Some(&subscribed), Some(&completed), 2), Decision::Stop(StopReason::Ordered));
        assert_eq!(run(Some(&subscribed), Some(&checkout(0)), 2), Decision::Stop(StopReason::CheckoutEmptied));
        let unsubscribed = profile(Some(ConsentState::Unsubscribed));
        assert_eq!(run(Some(&unsubscribed), Some(&checkout(1)), 1), Decision::Stop(StopReason::Unsubscribed));
        assert_eq!(run(None, Some(&checkout(1)), 1), Decision::Stop(StopReason::NoProfile));
        assert_eq!(run(Some(&subscribed), None, 1), Decision::Stop(StopReason::NoCheckout));
        let mut suppressed = subscribed.clone();
        suppressed.record_mail(crate::events::MailSignal::HardBounce, stamp());
        assert_eq!(run(Some(&suppressed), Some(&checkout(1)), 1), Decision::Stop(StopReason::Suppressed));
    }

    #[test]
    fn without_consent_one_reminder_and_no_next_step_armed() {
        let unknown = profile(None);
        let Decision::Send { next, .. } = run(Some(&unknown), Some(&checkout(1)), 1) else { panic!("first reminder") };
        assert_eq!(next, None, "no schedule armed for a step that would only stop");
        assert_eq!(run(Some(&unknown), Some(&checkout(1)), 2), Decision::Stop(StopReason::NoConsent));
    }

    #[test]
    fn message_keys_are_stable_per_step() {
        let shop = ShopId::parse("demo.myshopify.com").unwrap();
        let token = ExternalId::parse("ck1").unwrap();
        assert_eq!(message_key(&shop, &token, 1), message_key(&shop, &token, 1));
        assert_ne!(message_key(&shop, &token, 1), message_key(&shop, &token, 2));
    }
}
