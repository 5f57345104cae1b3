//! The last checks before a mail goes out: may this person get it, and is now the time?
//!
//! Transactional mail (order confirmation, shipping) goes to any reachable, unsuppressed
//! address at once. Marketing mail needs consent (or the shop's allowance for a first cart
//! reminder), respects a frequency cap (SPECS: Published figures — Klaviyo skips a profile
//! messaged in the last 16 h) and quiet hours in the customer's own time zone. A mail that
//! may go but not now is *deferred*, never dropped: the caller re-requests it at the time
//! returned.

use super::request::MailRequest;
use crate::events::ConsentState;
use crate::mail::MailKind;
use crate::profile::{Profile, Record};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    pub frequency_cap: Duration,
    /// Local hour quiet time starts (inclusive) and ends (exclusive): 21 → 8.
    pub quiet_from: u32,
    pub quiet_until: u32,
}

impl Default for SendPolicy {
    fn default() -> Self {
        Self { frequency_cap: Duration::hours(16), quiet_from: 21, quiet_until: 8 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    Unreachable,
    Suppressed,
    Unsubscribed,
    NoConsent,
    /// A campaign member mailed within the cap.
    FrequencyCap,
    /// A campaign member outside its locale filter.
    Locale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeferReason {
    FrequencyCap,
    QuietHours,
    /// A program's marketing mail while a help-desk ticket is open.
    TicketOpen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Send,
    Defer { until: DateTime<Utc>, reason: DeferReason },
    Skip(SkipReason),
}

/// A named zone (the shop's), or UTC when absent or unknown.
pub fn zone_named(name: Option<&str>) -> Tz {
    name.and_then(|z| z.parse::<Tz>().ok()).unwrap_or(Tz::UTC)
}

/// The time zone to judge quiet hours in: the customer's, else the shop's, else UTC.
pub fn zone_of(profile: &Profile, shop_zone: Option<&str>) -> Tz {
    let customer = profile.contact.time_zone.as_ref().map(|z| z.value.as_str());
    customer.or(shop_zone).and_then(|z| z.parse::<Tz>().ok()).unwrap_or(Tz::UTC)
}

/// `consent_exempt`: the shop allows this marketing mail without consent (a first cart
/// reminder within its allowance). An unsubscribe is never overridden.
pub fn gate(
    kind: MailKind,
    profile: &Profile,
    consent_exempt: bool,
    zone: Tz,
    policy: &SendPolicy,
    now: DateTime<Utc>,
) -> Gate {
    if profile.email().is_none() {
        return Gate::Skip(SkipReason::Unreachable);
    }
    if profile.suppression.is_some() {
        return Gate::Skip(SkipReason::Suppressed);
    }
    if kind == MailKind::Transactional {
        return Gate::Send;
    }
    match profile.consent_state() {
        ConsentState::Unsubscribed => return Gate::Skip(SkipReason::Unsubscribed),
        ConsentState::Subscribed => {}
        ConsentState::Unknown | ConsentState::Pending if consent_exempt => {}
        ConsentState::Unknown | ConsentState::Pending => return Gate::Skip(SkipReason::NoConsent),
    }
    let capped = profile.engagement.last_marketing_at.map(|last| last + policy.frequency_cap).filter(|t| *t > now);
    let earliest = capped.unwrap_or(now);
    let allowed = after_quiet_hours(earliest, zone, policy);
    match (allowed > earliest, capped) {
        (true, _) => Gate::Defer { until: allowed, reason: DeferReason::QuietHours },
        (false, Some(until)) => Gate::Defer { until, reason: DeferReason::FrequencyCap },
        (false, None) => Gate::Send,
    }
}

/// `at`, or the end of the quiet hours it falls in.
fn after_quiet_hours(at: DateTime<Utc>, zone: Tz, policy: &SendPolicy) -> DateTime<Utc> {
    let local = at.with_timezone(&zone);
    let hour = local.hour();
    let quiet = if policy.quiet_from == policy.quiet_until {
        false
    } else if policy.quiet_from > policy.quiet_until {
        hour >= policy.quiet_from || hour < policy.quiet_until
    } else {
        hour >= policy.quiet_from && hour < policy.quiet_until
    };
    if !quiet {
        return at;
    }
    let day = if hour >= policy.quiet_from && policy.quiet_from > policy.quiet_until {
        local.date_naive() + Duration::days(1)
    } else {
        local.date_naive()
    };
    let wake = NaiveTime::from_hms_opt(policy.quiet_until, 0, 0).unwrap_or(NaiveTime::MIN);
    // A wake time skipped by a DST change falls an hour later.
    zone.from_local_datetime(&day.and_time(wake))
        .earliest()
        .or_else(|| zone.from_local_datetime(&(day.and_time(wake) + Duration::hours(1))).earliest())
        .map_or(at + Duration::hours(1), |t| t.with_timezone(&Utc))
}

/// [`still_wanted`]'s answer for a program's marketing mail while a ticket is open.
pub const NOT_NOW: &str = "a help-desk ticket is open";

/// What may have changed since a program asked for the mail (it may have waited for quiet
/// hours or the cap, or its order's events came out of order): the order it is about
/// refunded or cancelled, or already shipped, for a program that stops on that; a ticket opened, for a program's marketing mail (`pause`: the shop's rule;
/// campaigns are the marketer's call). `None`: still wanted.
pub fn still_wanted(request: &MailRequest, profile: &Profile, pause: bool) -> Option<&'static str> {
    let program = super::program(&request.program);
    let stops_on_refund = program.is_some_and(|p| p.exits.contains(&super::Exit::Refunded));
    let refunded = request
        .order
        .as_ref()
        .and_then(|o| profile.orders.get(o))
        .is_some_and(|o| o.cancelled || o.refunded.is_some_and(|r| r.minor() > 0));
    if stops_on_refund && refunded {
        return Some("order refunded or cancelled");
    }
    let stops_on_shipping = program.is_some_and(|p| p.exits.contains(&super::Exit::Fulfilled));
    let shipped = request.order.as_ref().and_then(|o| profile.orders.get(o)).is_some_and(|o| o.fulfilled);
    if stops_on_shipping && shipped {
        return Some("order already shipped");
    }
    let paused =
        pause && request.kind == MailKind::Marketing && request.campaign.is_none() && profile.has_open_ticket();
    paused.then_some(NOT_NOW)
}

/// Mails of `program` to the customer whose records these are, sent since `since` or being
/// sent (claimed) since then, but the one keyed `except`.
pub fn mails_within(records: &[Record], program: &str, since: DateTime<Utc>, except: Option<&str>) -> usize {
    records
        .iter()
        .filter(|r| match r {
            Record::Message(m) => {
                m.program.as_deref() == Some(program)
                    && except != Some(m.key.as_str())
                    && m.sent_at.or(m.claimed_at).is_some_and(|t| t >= since)
            }
            _ => false,
        })
        .count()
}

/// Whether one more mail of the request's program would pass its `at_most` limit (N mails
/// to one customer within a window). The engine checks it when a step comes due; send-mail
/// checks it again as the mail goes out, because two runs of a program (two periods of a
/// once-per-period program, say) can both have asked while neither mail was out yet — one
/// held by an open ticket, the other by quiet hours or the cap — and only the sending side
/// sees what the other sent.
pub fn limit_reached(request: &MailRequest, records: &[Record], now: DateTime<Utc>) -> bool {
    let Some((most, window)) = super::program(&request.program).and_then(|p| p.limit.at_most) else { return false };
    mails_within(records, &request.program, now - window, Some(&request.message_key)) >= most as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Email, EventId, ProfileId, ShopId};
    use crate::lattice::{Lww, Stamp};
    use crate::profile::ConsentDecision;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
    }

    fn profile(consent: ConsentState) -> Profile {
        let stamp = Stamp { at: at(0, 0), event: EventId::parse("e:1").unwrap() };
        let mut p = Profile::new(ShopId::parse("demo").unwrap(), ProfileId::parse("p1").unwrap(), at(0, 0));
        p.contact.email = Some(Lww::new(Email::parse("anne@example.fr").unwrap(), stamp.clone()));
        p.consent = Some(Lww::new(ConsentDecision { state: consent, source: "shopify".into() }, stamp));
        p
    }

    fn paris() -> Tz {
        "Europe/Paris".parse().unwrap()
    }

    #[test]
    fn marketing_needs_consent_unless_exempt_and_an_unsubscribe_always_wins() {
        let policy = SendPolicy::default();
        let now = at(10, 0); // 11:00 in Paris
        assert_eq!(
            gate(MailKind::Marketing, &profile(ConsentState::Subscribed), false, paris(), &policy, now),
            Gate::Send
        );
        let unknown = profile(ConsentState::Unknown);
        assert_eq!(
            gate(MailKind::Marketing, &unknown, false, paris(), &policy, now),
            Gate::Skip(SkipReason::NoConsent)
        );
        assert_eq!(gate(MailKind::Marketing, &unknown, true, paris(), &policy, now), Gate::Send);
        let gone = profile(ConsentState::Unsubscribed);
        assert_eq!(gate(MailKind::Marketing, &gone, true, paris(), &policy, now), Gate::Skip(SkipReason::Unsubscribed));
        assert_eq!(gate(MailKind::Transactional, &gone, false, paris(), &policy, now), Gate::Send);
        let mut bounced = profile(ConsentState::Subscribed);
        bounced.record_mail(
            crate::events::MailSignal::HardBounce,
            Stamp { at: now, event: EventId::parse("ses:1").unwrap() },
        );
        assert_eq!(
            gate(MailKind::Transactional, &bounced, false, paris(), &policy, now),
            Gate::Skip(SkipReason::Suppressed)
        );
    }

    #[test]
    fn quiet_hours_defer_to_eight_in_the_customers_own_zone() {
        let policy = SendPolicy::default();
        let p = profile(ConsentState::Subscribed);
        // 21:30 UTC is 22:30 in Paris: deferred to 08:00 Paris the next day (07:00 UTC).
        let late = gate(MailKind::Marketing, &p, false, paris(), &policy, at(21, 30));
        let until = Utc.with_ymd_and_hms(2026, 11, 24, 7, 0, 0).unwrap();
        assert_eq!(late, Gate::Defer { until, reason: DeferReason::QuietHours });
        // 05:00 UTC is 06:00 in Paris: deferred to 08:00 Paris the same day.
        let early = gate(MailKind::Marketing, &p, false, paris(), &policy, at(5, 0));
        assert_eq!(early, Gate::Defer { until: at(7, 0), reason: DeferReason::QuietHours });
        // The same instant is 14:00 in Tokyo: a customer there gets it at once.
        assert_eq!(gate(MailKind::Marketing, &p, false, "Asia/Tokyo".parse().unwrap(), &policy, at(5, 0)), Gate::Send);
        // Transactional mail ignores quiet hours.
        assert_eq!(gate(MailKind::Transactional, &p, false, paris(), &policy, at(21, 30)), Gate::Send);
        // A shop that turned quiet hours off.
        let off = SendPolicy { quiet_from: 0, quiet_until: 0, ..policy };
        assert_eq!(gate(MailKind::Marketing, &p, false, paris(), &off, at(21, 30)), Gate::Send);
    }

    #[test]
    fn the_frequency_cap_defers_marketing_until_sixteen_hours_after_the_last() {
        let policy = SendPolicy::default();
        let mut p = profile(ConsentState::Subscribed);
        p.record_sent(MailKind::Marketing, at(1, 0), false);
        // 16 h after 01:00 UTC is 17:00 UTC (18:00 Paris): not quiet, so deferred to then.
        let capped = gate(MailKind::Marketing, &p, false, paris(), &policy, at(10, 0));
        assert_eq!(capped, Gate::Defer { until: at(17, 0), reason: DeferReason::FrequencyCap });
        assert_eq!(gate(MailKind::Marketing, &p, false, paris(), &policy, at(17, 0)), Gate::Send);
        // A cap ending in quiet hours moves to their end.
        p.record_sent(MailKind::Marketing, at(6, 0), false); // cap ends 22:00 UTC = 23:00 Paris
        let both = gate(MailKind::Marketing, &p, false, paris(), &policy, at(10, 0));
        let until = Utc.with_ymd_and_hms(2026, 11, 24, 7, 0, 0).unwrap();
        assert_eq!(both, Gate::Defer { until, reason: DeferReason::QuietHours });
    }

    #[test]
    fn the_zone_is_the_customers_then_the_shops_then_utc() {
        let mut p = profile(ConsentState::Subscribed);
        assert_eq!(zone_of(&p, Some("Europe/Paris")), paris());
        assert_eq!(zone_of(&p, Some("not a zone")), Tz::UTC);
        let stamp = Stamp { at: at(0, 0), event: EventId::parse("e:2").unwrap() };
        p.contact.time_zone = Some(Lww::new("America/Montreal".into(), stamp));
        assert_eq!(zone_of(&p, Some("Europe/Paris")), "America/Montreal".parse::<Tz>().unwrap());
    }
}
