//! Programs as data: what a shop's automated mail does, declared, not coded.
//!
//! A [`Program`] names its trigger, its steps (delay, template or a conditional branch, a
//! discount or not), whether its mail is marketing or transactional, and the exit
//! conditions re-checked before every step. The seed programs every source asks for are
//! files of `shared/programs/` ([`definition`]), read into [`catalogue`]; the functions run
//! programs through the pure decisions in [`checkout`] (and, as they land, the others), so
//! adding a program or changing a delay is an edit of a file. Shops tune them per shop with
//! [`settings::ProgramSettings`].

pub mod attribution;
pub mod campaign;
pub mod checkout;
pub mod definition;
pub mod gate;
pub mod reactivation;
pub mod request;
pub mod send;
pub mod settings;

use crate::mail::MailKind;
use crate::profile::Profile;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// What starts a program for a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `checkout.started` / `checkout.updated` with a reachable customer.
    CheckoutStarted,
    OrderPlaced,
    OrderPaid,
    OrderFulfilled,
    /// `order.delivered` (derived by profile-update, once per order).
    OrderDelivered,
    /// `profile.created` by a signup.
    SignedUp,
    /// A nightly segment transition into the named RFM segment.
    SegmentEntered(String),
    /// The nightly run, for programs that pick their audience from the profile.
    Nightly,
    /// A new yearly edition of a product someone bought is on sale.
    NewEdition,
}

/// A condition on the profile, for exits and branches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// At least `visits` distinct visit days within `within_days` before now.
    VisitedAtLeast {
        visits: u32,
        within_days: u32,
    },
    /// Placed an order since the program started.
    OrderedSince,
    Not(Box<Condition>),
    All(Vec<Condition>),
}

impl Condition {
    pub fn holds(&self, profile: &Profile, started_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        match self {
            Condition::VisitedAtLeast { visits, within_days } => {
                let since = now - Duration::days(i64::from(*within_days));
                profile.visit_days_since(since) >= *visits as usize
            }
            Condition::OrderedSince => profile.orders.values().any(|o| o.placed_at.is_some_and(|at| at >= started_at)),
            Condition::Not(inner) => !inner.holds(profile, started_at, now),
            Condition::All(all) => all.iter().all(|c| c.holds(profile, started_at, now)),
        }
    }
}

/// What a step mails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    Template(String),
    /// The conditional scenario: one template if `when` holds at send time, another if not.
    Branch {
        when: Condition,
        then: String,
        otherwise: String,
    },
}

impl Content {
    /// The template to send now.
    pub fn template(&self, profile: &Profile, started_at: DateTime<Utc>, now: DateTime<Utc>) -> &str {
        match self {
            Content::Template(template) => template,
            Content::Branch { when, then, otherwise } => {
                if when.holds(profile, started_at, now) {
                    then
                } else {
                    otherwise
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// After the trigger (not after the previous step).
    pub delay: Duration,
    pub content: Content,
    /// Offer the shop's configured discount in this step.
    pub discount: bool,
}

/// Why a program stops for a profile, re-checked before each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// The checkout was completed, or an order was placed since the program started.
    Ordered,
    /// The checkout's lines were emptied.
    CheckoutEmptied,
    /// The order the program is about was refunded or cancelled.
    Refunded,
    /// Marketing consent was withdrawn (or never given, beyond the shop's allowance).
    Unsubscribed,
    /// The address hard-bounced or complained.
    Suppressed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    /// Stable id: in schedule payloads, mail requests, message records, UTM campaigns.
    pub id: String,
    pub trigger: Trigger,
    pub kind: MailKind,
    pub steps: Vec<Step>,
    pub exits: Vec<Exit>,
}

static CATALOGUE: std::sync::LazyLock<Result<Vec<Program>, definition::DefinitionError>> =
    std::sync::LazyLock::new(definition::load_embedded);

/// The programs of this build ([`definition::EMBEDDED`]), read once per process. The
/// functions call it at cold start, so a broken definition stops them before any event
/// (and `cargo test` checks every definition before that).
pub fn catalogue() -> Result<&'static [Program], &'static definition::DefinitionError> {
    CATALOGUE.as_ref().map(Vec::as_slice)
}

/// A program of the catalogue by id.
pub fn program(id: &str) -> Option<&'static Program> {
    catalogue().ok()?.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_program_is_an_entry_with_a_unique_id_and_steps_in_delay_order() {
        let programs = catalogue().unwrap_or_else(|e| panic!("{e}"));
        let mut ids: Vec<&str> = programs.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), programs.len());
        for seed in [
            "abandoned-checkout",
            "order-confirmation",
            "order-preparing",
            "order-shipped",
            "review-request",
            "affinity",
            "yearly-edition",
            "reactivation",
            "welcome",
            "visits-scenario",
        ] {
            assert!(program(seed).is_some(), "{seed}");
        }
        for p in programs {
            assert!(!p.steps.is_empty(), "{}", p.id);
            assert!(p.steps.windows(2).all(|w| w[0].delay <= w[1].delay), "{}", p.id);
            // Transactional mail is never stopped by marketing consent.
            if p.kind == MailKind::Transactional {
                assert!(!p.exits.contains(&Exit::Unsubscribed), "{}", p.id);
            }
        }
    }
}
