//! Programs as data: what a shop's automated mail does, declared, not coded.
//!
//! A [`Program`] names its trigger, its steps (delay, template or a conditional branch, a
//! discount or not), whether its mail is marketing or transactional, and the exit
//! conditions re-checked before every step. The seed programs every source asks for are
//! files of `shared/programs/` ([`definition`]), read into [`catalogue`]; the functions run
//! programs through the pure decisions in [`checkout`] (and, as they land, the others), so
//! adding a program or changing a delay is an edit of a file. Shops tune them per shop with
//! [`settings::ProgramSettings`].

pub mod affinity;
pub mod attribution;
pub mod checkout;
pub mod condition;
pub mod definition;
pub mod edition;
pub mod engine;
pub mod gate;
pub mod orders;
pub mod reactivation;
pub mod request;
pub mod results;
pub mod settings;
pub mod trigger;

pub use condition::{Condition, Facts};
pub use trigger::{Filter, Trigger};

use crate::mail::MailKind;
use chrono::{Duration, NaiveTime};
use serde::Serialize;

/// How long a step waits: a delay counted from an anchor (the trigger, or a date the
/// profile holds), then, optionally, the next time the customer's clock shows `at_local`
/// (a morning mail, not a 3 a.m. one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Wait {
    pub delay: Duration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_local: Option<NaiveTime>,
    pub from: Anchor,
}

impl Wait {
    pub const NONE: Wait = Wait { delay: Duration::zero(), at_local: None, from: Anchor::Trigger };
}

/// What a wait counts from. A date of the profile is read when the step is due, so a later
/// order or delivery moves the step (a step due early re-arms itself to the later date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The triggering event's time.
    Trigger,
    /// The customer's latest order.
    LastOrder,
    /// The delivery of the run's order.
    OrderDelivered,
    /// When the customer was first seen.
    FirstSeen,
}

/// What a step does when it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Mails `template` (with the shop's discount for this program when `discount`), then
    /// goes on to `next` (an index into the program's steps; `None`: the program ends).
    /// `show_viewed_days`: list the products viewed in that many days before now;
    /// `suggest`: list products often bought with the run's order ([`affinity`]), and send
    /// nothing when there are none.
    Send { template: String, discount: bool, next: Option<usize>, show_viewed_days: Option<u32>, suggest: bool },
    /// Goes on to `then` if `when` holds now, else to `otherwise` (`None`: the end).
    Branch { when: Condition, then: Option<usize>, otherwise: Option<usize> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The name in the definition: errors and logs name it.
    pub name: String,
    pub wait: Wait,
    pub action: Action,
}

impl Step {
    /// After the trigger (not after the previous step).
    pub fn delay(&self) -> Duration {
        self.wait.delay
    }

    /// The template a sending step mails.
    pub fn template(&self) -> Option<&str> {
        match &self.action {
            Action::Send { template, .. } => Some(template),
            Action::Branch { .. } => None,
        }
    }

    pub fn discount(&self) -> bool {
        matches!(self.action, Action::Send { discount: true, .. })
    }
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
    /// The order the program is about has shipped (a "we are preparing it" mail is late).
    Fulfilled,
    /// Marketing consent was withdrawn (or never given, beyond the shop's allowance).
    Unsubscribed,
    /// The address hard-bounced or complained.
    Suppressed,
}

/// What one run of a program is about, and so what it mails once: the program's mail for
/// an order is sent once per order, its mail for a customer once per customer (or once per
/// period, with [`Limit::every`]), its mail for an occasion once per triggering event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    Occasion,
    Customer,
    Order,
    Ticket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limit {
    pub per: Per,
    /// With [`Per::Customer`]: once per customer in each period of this length (counted
    /// from the Unix epoch, so every trigger in one period names the same run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<Duration>,
    /// At most this many of the program's mails to one customer within the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_most: Option<(u32, Duration)>,
}

impl Default for Limit {
    fn default() -> Self {
        Self { per: Per::Occasion, every: None, at_most: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    /// Stable id: in schedule payloads, mail requests, message records, UTM campaigns.
    pub id: String,
    pub trigger: Trigger,
    pub kind: MailKind,
    /// In file order; the first runs first, each names where it goes next.
    pub steps: Vec<Step>,
    pub exits: Vec<Exit>,
    /// Reached goals end the program like exits (`ordered since the trigger`, …).
    pub goals: Vec<Condition>,
    pub limit: Limit,
}

impl Program {
    /// Whether `step` (1-based, file order) is the last mail the program can send.
    pub fn is_last_mail(&self, step: u32) -> bool {
        let Some(index) = usize::try_from(step).ok().and_then(|s| s.checked_sub(1)) else { return false };
        matches!(self.steps.get(index).map(|s| &s.action), Some(Action::Send { next: None, .. }))
    }
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
            assert!(p.steps.windows(2).all(|w| w[0].delay() <= w[1].delay()), "{}", p.id);
            // Transactional mail is never stopped by marketing consent.
            if p.kind == MailKind::Transactional {
                assert!(!p.exits.contains(&Exit::Unsubscribed), "{}", p.id);
            }
        }
    }
}
