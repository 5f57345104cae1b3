//! Which mail to render, named by the kebab-case id that programs, events and the template
//! and catalogue files all use, so one string finds the mail's files and copy everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a mail template id")]
pub struct UnknownTemplate(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TemplateId {
    /// A reminder series (steps 1–3) with the recovery link of an unfinished checkout.
    AbandonedCheckout,
    OrderConfirmation,
    OrderPreparing,
    /// Carries the tracking block.
    OrderShipped,
    /// The carrier's delivery, with the order's lines.
    OrderDelivered,
    ReviewRequest,
    Welcome,
    /// A week after the welcome, for a customer who has not ordered.
    WelcomeNudge,
    /// Customer service: how a closed ticket went.
    Satisfaction,
    /// Products close to what the customer bought or viewed (the recommendations block).
    Affinity,
    /// The shop's yearly edition (annual collection or event).
    YearlyEdition,
    /// Win-back of a customer who stopped buying.
    Reactivation,
    /// Free-form programs whose copy the shop writes in the catalogues.
    ScenarioA,
    ScenarioB,
}

impl TemplateId {
    pub const ALL: [TemplateId; 14] = [
        TemplateId::AbandonedCheckout,
        TemplateId::OrderConfirmation,
        TemplateId::OrderPreparing,
        TemplateId::OrderShipped,
        TemplateId::OrderDelivered,
        TemplateId::ReviewRequest,
        TemplateId::Welcome,
        TemplateId::WelcomeNudge,
        TemplateId::Satisfaction,
        TemplateId::Affinity,
        TemplateId::YearlyEdition,
        TemplateId::Reactivation,
        TemplateId::ScenarioA,
        TemplateId::ScenarioB,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateId::AbandonedCheckout => "abandoned-checkout",
            TemplateId::OrderConfirmation => "order-confirmation",
            TemplateId::OrderPreparing => "order-preparing",
            TemplateId::OrderShipped => "order-shipped",
            TemplateId::ReviewRequest => "review-request",
            TemplateId::Welcome => "welcome",
            TemplateId::OrderDelivered => "order-delivered",
            TemplateId::WelcomeNudge => "welcome-nudge",
            TemplateId::Satisfaction => "satisfaction",
            TemplateId::Affinity => "affinity",
            TemplateId::YearlyEdition => "yearly-edition",
            TemplateId::Reactivation => "reactivation",
            TemplateId::ScenarioA => "scenario-a",
            TemplateId::ScenarioB => "scenario-b",
        }
    }

    pub fn parse(raw: &str) -> Result<TemplateId, UnknownTemplate> {
        TemplateId::ALL.into_iter().find(|id| id.as_str() == raw).ok_or_else(|| UnknownTemplate(raw.to_owned()))
    }
}

impl FromStr for TemplateId {
    type Err = UnknownTemplate;
    fn from_str(raw: &str) -> Result<Self, UnknownTemplate> {
        TemplateId::parse(raw)
    }
}

impl fmt::Display for TemplateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_serde_alike() {
        for id in TemplateId::ALL {
            assert_eq!(TemplateId::parse(id.as_str()), Ok(id));
            assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{}\"", id.as_str()));
            assert_eq!(serde_json::from_str::<TemplateId>(&format!("\"{id}\"")).unwrap(), id);
        }
        assert_eq!(TemplateId::ScenarioB.as_str(), "scenario-b");
        assert_eq!(TemplateId::parse("Welcome"), Err(UnknownTemplate("Welcome".into())));
    }
}
