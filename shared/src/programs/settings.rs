//! Per-shop tuning of the programs, from the `programs` section of the shops document
//! (README, "Shops and secrets"). Everything has a default, so a shop with no section runs
//! the seed programs as the sources advise.

use chrono::Duration;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("abandoned checkout: at least one reminder delay is needed")]
    NoDelay,
    #[error("abandoned checkout: at most {max} reminders", max = crate::schedule::MAX_SERIES_STEPS)]
    TooMany,
    #[error("abandoned checkout: delays must increase ({0:?} minutes)")]
    Unordered(Vec<i64>),
    #[error("abandoned checkout: first reminder after {0} minutes; at most 180 unless `allow_late_first_reminder`")]
    LateFirst(i64),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProgramSettings {
    pub abandoned_checkout: CheckoutSettings,
    /// When marketing mail may go: frequency cap and quiet hours.
    pub sending: SendingSettings,
    pub reactivation: ReactivationSettings,
    /// Products the order confirmation may suggest (Relance holds no catalogue): those
    /// sharing a category with the order come first.
    pub cross_sell: Vec<FeaturedProduct>,
    /// Per-program switches and incentives, by program id (`review-request`, `welcome`, …),
    /// for every program the engine runs ([`super::engine`]).
    pub journeys: std::collections::BTreeMap<String, JourneySettings>,
    pub customer_service: CustomerServiceSettings,
}

impl ProgramSettings {
    /// What the engine needs of one program: its switch and code, and the shop's pause rule.
    pub fn journey(&self, program: &str) -> JourneySettings {
        let mut journey = self.journeys.get(program).cloned().unwrap_or_default();
        if program == super::reactivation::PROGRAM && journey.discount_code.is_none() {
            journey.discount_code.clone_from(&self.reactivation.discount_code);
        }
        journey.pause_on_open_ticket = self.customer_service.pause_marketing_while_ticket_open;
        journey
    }
}

/// One program's switch and incentive.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JourneySettings {
    pub enabled: bool,
    /// The code a step with `discount = true` offers (a review incentive, a welcome gift).
    pub discount_code: Option<String>,
    /// Set from [`CustomerServiceSettings`], not per program.
    #[serde(skip)]
    pub pause_on_open_ticket: bool,
}

impl Default for JourneySettings {
    fn default() -> Self {
        Self { enabled: true, discount_code: None, pause_on_open_ticket: true }
    }
}

/// Customer service inside the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CustomerServiceSettings {
    /// While a help-desk ticket is open, marketing programs wait for it to close (up to 30
    /// days); transactional mail and the satisfaction survey still go.
    pub pause_marketing_while_ticket_open: bool,
}

impl Default for CustomerServiceSettings {
    fn default() -> Self {
        Self { pause_marketing_while_ticket_open: true }
    }
}

/// The reactivation program and the sunset policy after it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReactivationSettings {
    /// The incentive of the last-chance mail (its second step).
    pub discount_code: Option<String>,
    /// Days after the last-chance mail without a click, visit or order before the address
    /// is suppressed (sunset); 0 keeps mailing them.
    pub sunset_days: u32,
}

impl Default for ReactivationSettings {
    fn default() -> Self {
        Self { discount_code: None, sunset_days: 30 }
    }
}

impl ReactivationSettings {
    pub fn sunset_after(&self) -> Option<Duration> {
        (self.sunset_days > 0).then(|| Duration::days(i64::from(self.sunset_days)))
    }
}

/// The shop's side of [`super::gate::SendPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendingSettings {
    /// No marketing mail within this many hours of the last one (0: no cap).
    pub frequency_cap_hours: u32,
    /// Local hours of quiet time, from (inclusive) until (exclusive); equal hours: none.
    pub quiet_from: u32,
    pub quiet_until: u32,
}

impl Default for SendingSettings {
    fn default() -> Self {
        Self { frequency_cap_hours: 16, quiet_from: 21, quiet_until: 8 }
    }
}

impl SendingSettings {
    pub fn policy(&self) -> super::gate::SendPolicy {
        super::gate::SendPolicy {
            frequency_cap: Duration::hours(i64::from(self.frequency_cap_hours)),
            quiet_from: self.quiet_from % 24,
            quiet_until: self.quiet_until % 24,
        }
    }
}

/// A product the shop features in its cross-sell block.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturedProduct {
    pub title: String,
    pub url: String,
    #[serde(default)]
    pub image_url: Option<String>,
    pub price: crate::money::Money,
    #[serde(default)]
    pub categories: Vec<String>,
}

impl ProgramSettings {
    /// Up to `limit` featured products for an order of these lines: not already in it, those
    /// sharing one of its categories first, then in the shop's order.
    pub fn cross_sell_for(&self, lines: &[crate::events::LineItem], limit: usize) -> Vec<&FeaturedProduct> {
        let bought: Vec<&str> = lines.iter().map(|l| l.title.as_str()).collect();
        let categories: Vec<&str> = lines.iter().flat_map(|l| l.categories.iter().map(String::as_str)).collect();
        let mut picks: Vec<(bool, usize, &FeaturedProduct)> = self
            .cross_sell
            .iter()
            .enumerate()
            .filter(|(_, p)| !bought.contains(&p.title.as_str()))
            .map(|(i, p)| (!p.categories.iter().any(|c| categories.contains(&c.as_str())), i, p))
            .collect();
        picks.sort_by_key(|(unrelated, i, _)| (*unrelated, *i));
        picks.into_iter().take(limit).map(|(_, _, p)| p).collect()
    }
}

/// Where a discount code comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountSource {
    /// One code for everyone (`RELANCE10`).
    Code(String),
    /// A pool of single-use codes; a checkout always gets the same one (picked by hashing
    /// its token), so a retried step offers the same code.
    Pool(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckoutSettings {
    /// Minutes after the checkout started, one per reminder.
    pub delays_minutes: Vec<i64>,
    pub discount: Option<DiscountSource>,
    /// The first step (1-based) that carries the discount.
    pub discount_from_step: u32,
    /// Reminders a customer who never gave marketing consent may get (never one who
    /// withdrew it).
    pub reminders_without_consent: u32,
    /// The sources advise a first reminder within 3 hours; a later one must be asked for.
    pub allow_late_first_reminder: bool,
}

impl Default for CheckoutSettings {
    fn default() -> Self {
        Self {
            delays_minutes: vec![60, 24 * 60, 72 * 60],
            discount: None,
            discount_from_step: 3,
            reminders_without_consent: 1,
            allow_late_first_reminder: false,
        }
    }
}

impl CheckoutSettings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        let first = *self.delays_minutes.first().ok_or(SettingsError::NoDelay)?;
        if self.delays_minutes.len() > crate::schedule::MAX_SERIES_STEPS as usize {
            return Err(SettingsError::TooMany);
        }
        if !self.delays_minutes.windows(2).all(|w| w[0] < w[1]) || first < 0 {
            return Err(SettingsError::Unordered(self.delays_minutes.clone()));
        }
        if first > 180 && !self.allow_late_first_reminder {
            return Err(SettingsError::LateFirst(first));
        }
        Ok(())
    }

    /// The delay of a 1-based step, if the series has it.
    pub fn delay(&self, step: u32) -> Option<Duration> {
        let index = usize::try_from(step.checked_sub(1)?).ok()?;
        self.delays_minutes.get(index).map(|m| Duration::minutes(*m))
    }

    pub fn steps(&self) -> u32 {
        u32::try_from(self.delays_minutes.len()).unwrap_or(u32::MAX)
    }

    /// The code step `step` of the checkout `token` offers, if any.
    pub fn discount_code(&self, step: u32, token: &str) -> Option<String> {
        if step < self.discount_from_step {
            return None;
        }
        match self.discount.as_ref()? {
            DiscountSource::Code(code) => Some(code.clone()),
            DiscountSource::Pool(codes) if !codes.is_empty() => {
                use sha2::{Digest, Sha256};
                let digest = Sha256::digest(token.as_bytes());
                let n = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
                let index = usize::try_from(n % codes.len() as u64).unwrap_or(0);
                codes.get(index).cloned()
            }
            DiscountSource::Pool(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_sources_and_bad_series_are_refused() {
        let defaults = CheckoutSettings::default();
        assert_eq!(defaults.validate(), Ok(()));
        assert_eq!(defaults.delay(1), Some(Duration::hours(1)));
        assert_eq!(defaults.delay(3), Some(Duration::hours(72)));
        assert_eq!(defaults.delay(4), None);
        assert_eq!(defaults.delay(0), None);
        let late = CheckoutSettings { delays_minutes: vec![600, 1440], ..CheckoutSettings::default() };
        assert_eq!(late.validate(), Err(SettingsError::LateFirst(600)));
        assert_eq!(CheckoutSettings { allow_late_first_reminder: true, ..late }.validate(), Ok(()));
        let unordered = CheckoutSettings { delays_minutes: vec![60, 30], ..CheckoutSettings::default() };
        assert!(matches!(unordered.validate(), Err(SettingsError::Unordered(_))));
    }

    #[test]
    fn cross_sell_prefers_the_orders_categories_and_skips_what_was_bought() {
        let settings: ProgramSettings = serde_json::from_value(serde_json::json!({ "cross_sell": [
            { "title": "Tire-bouchon", "url": "https://x/t", "price": { "minor": 1500, "currency": "EUR" } },
            { "title": "Cuvée", "url": "https://x/c", "price": { "minor": 2500, "currency": "EUR" }, "categories": ["vins"] },
            { "title": "Chablis", "url": "https://x/ch", "price": { "minor": 3100, "currency": "EUR" }, "categories": ["vins"] }
        ]}))
        .unwrap();
        let line = crate::events::LineItem {
            product_id: None,
            variant_id: None,
            sku: None,
            title: "Cuvée".into(),
            variant_title: None,
            quantity: 1,
            unit_price: crate::money::Money::from_minor(2500, crate::money::Currency::parse("EUR").unwrap()),
            vendor: None,
            product_type: None,
            categories: vec!["vins".into()],
            image_url: None,
        };
        let titles: Vec<&str> = settings.cross_sell_for(&[line], 3).iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["Chablis", "Tire-bouchon"]);
    }

    #[test]
    fn a_checkout_always_gets_the_same_code_of_the_pool_and_only_from_its_step() {
        let settings: ProgramSettings = serde_json::from_value(serde_json::json!({
            "abandoned_checkout": { "discount": { "pool": ["A1", "B2", "C3"] }, "discount_from_step": 2 }
        }))
        .unwrap();
        let s = &settings.abandoned_checkout;
        assert_eq!(s.discount_code(1, "tok"), None);
        let code = s.discount_code(2, "tok").unwrap();
        assert_eq!(s.discount_code(3, "tok"), Some(code.clone()));
        assert!(["A1", "B2", "C3"].contains(&code.as_str()));
        assert_eq!(s.delays_minutes, vec![60, 1440, 4320], "unset fields keep their defaults");
    }
}
