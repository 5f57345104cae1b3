//! The program runner: every program runs here from its definition alone, but two kinds
//! the timer runs itself, still from their files: the checkout reminders (a per-checkout
//! series with shop-tuned delays, [`super::checkout`]) and the three order mails, requested
//! the moment the order event arrives — a one-step, no-wait program needs no schedule, and
//! a Scheduler round trip per order would cost a create and an invocation for nothing. They
//! use the keys this runner would (once per order), and send-mail re-checks their exits.
//!
//! A run starts when a canonical event matches a program's trigger ([`start`]); it becomes a
//! [`ProgramDue`], the payload of a one-time schedule. When the schedule fires, [`advance`]
//! decides from a fresh read of the profile and its records: stop (an exit, a goal, the end),
//! wait (a branch that leads to a later step, a pause for an open ticket), or request the
//! step's mail and arm the next. Nothing here does I/O; the timer wires it.
//!
//! Exactly once per occasion: a mail's key is derived from the program, the shop, what the
//! run is about (the order, the ticket, the customer and period, or the triggering event)
//! and the step, so a redelivered trigger, a schedule fired twice or two triggers of one
//! period all ask for the same mail, which send-mail sends once.

use super::checkout::acts_as_news;
use super::condition::{Condition, Facts};
use super::gate::mails_within;
use super::request::{MailRequest, MailedProduct};
use super::settings::JourneySettings;
use super::{Action, Anchor, Exit, Per, Program, Step, Wait};
use crate::events::ConsentState;
use crate::events::{Event, Identity, Payload};
use crate::ids::{ExternalId, ProfileId, ShopId};
use crate::mail::MailKind;
use crate::schedule::ScheduleName;
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How long an open ticket may hold a step back before the step is given up.
pub const LONGEST_PAUSE: Duration = Duration::days(30);
/// How often a paused step looks again.
pub const PAUSE_RECHECK: Duration = Duration::days(1);

/// One run of a program at one of its steps: what a schedule hands the timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramDue {
    pub program: String,
    pub shop: ShopId,
    /// The customer, when known at arming (a segment change names them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileId>,
    /// Otherwise the keys the trigger named; the step resolves them when due.
    #[serde(default, skip_serializing_if = "Identity::is_empty")]
    pub identity: Identity,
    /// 1-based index of the step in the definition.
    pub step: u32,
    /// The trigger's time: waits count from it.
    pub started_at: DateTime<Utc>,
    /// What the run is about ([`Per`]): the order or ticket id, the customer's period, the
    /// triggering event's id. Absent: the day the run started (a reactivation episode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<ExternalId>,
    /// How often this step was put off for an open ticket: each re-check gets a schedule
    /// name of its own (the firing one is deleted by Scheduler once it completes).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pauses: u32,
    /// When the schedule that carries it was due: the step's "now" when it fires late (and,
    /// on a fast-forwarded local stack, when it fires early).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// Products the trigger named for the mail (the new edition a `product.published`
    /// announces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<MailedProduct>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ProgramDue {
    /// The customer's key for names: the profile, else the first key the trigger named.
    fn person(&self) -> String {
        match &self.profile {
            Some(profile) => profile.to_string(),
            None => crate::profile::IdentityKey::all(&self.identity).first().map(|k| k.to_string()).unwrap_or_default(),
        }
    }

    /// One schedule per run and step: arming the next step from inside a firing never
    /// reuses the firing schedule's name (Scheduler deletes that one once it completes).
    pub fn schedule_name(&self) -> ScheduleName {
        let step = self.step.to_string();
        match &self.subject {
            None if self.step == 1 => {
                ScheduleName::derived("program", &[&self.program, self.shop.as_str(), &self.person()])
            }
            None => ScheduleName::derived("program", &[&self.program, self.shop.as_str(), &self.person(), &step]),
            Some(subject) => {
                ScheduleName::derived("program", &[&self.program, self.shop.as_str(), &self.person(), subject, &step])
            }
        }
    }

    /// The name of a paused step's re-check: one per pause, never the firing one's.
    pub fn pause_name(&self) -> ScheduleName {
        let pauses = self.pauses.to_string();
        let step = self.step.to_string();
        let subject = self.subject.as_deref().unwrap_or("");
        ScheduleName::derived("pause", &[&self.program, self.shop.as_str(), &self.person(), subject, &step, &pauses])
    }

    /// The key of the mail of `step` for `profile`, the same for every attempt.
    pub fn message_key(&self, program: &Program, profile: &ProfileId, step: u32) -> String {
        let subject = match (&self.subject, program.limit.per) {
            (Some(subject), Per::Order | Per::Ticket) => subject.clone(),
            (Some(subject), Per::Customer | Per::Occasion) => format!("{profile}:{subject}"),
            (None, _) => format!("{profile}:{}", self.started_at.format("%Y-%m-%d")),
        };
        MailRequest::key_for(&program.id, &self.shop, &subject, step)
    }
}

/// The time a wait ends for a run started at `started_at`, in the customer's zone `zone`.
pub fn due_at(wait: &Wait, started_at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    let after = started_at + wait.delay;
    let Some(time) = wait.at_local else { return after };
    let local = after.with_timezone(&zone);
    (0..3)
        .filter_map(|days| {
            let day = local.date_naive() + Duration::days(days);
            // A time skipped by a DST change falls an hour later.
            zone.from_local_datetime(&day.and_time(time))
                .earliest()
                .or_else(|| zone.from_local_datetime(&(day.and_time(time) + Duration::hours(1))).earliest())
        })
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t >= after)
        .unwrap_or(after)
}

/// When `step` of the run is due, its anchor read from the profile (the trigger's time when
/// the profile has no such date, or is not known yet).
pub fn step_due(step: &Step, due: &ProgramDue, facts: Option<&Facts<'_>>, zone: Tz) -> DateTime<Utc> {
    let profile = facts.map(|f| f.profile);
    let anchor = match step.wait.from {
        Anchor::Trigger => None,
        Anchor::LastOrder => profile.and_then(|p| p.orders.values().filter_map(|o| o.placed_at).max()),
        Anchor::OrderDelivered => {
            profile.zip(due.order.as_ref()).and_then(|(p, o)| p.orders.get(o)).and_then(|o| o.delivered_at)
        }
        Anchor::FirstSeen => profile.and_then(|p| p.engagement.first_seen_at),
    };
    due_at(&step.wait, anchor.unwrap_or(due.started_at), zone)
}

/// Whether the engine runs `program`: every program but the two kinds with a runner of
/// their own (see the module doc), the checkout series and the order mails.
pub fn runs_on_engine(program: &Program) -> bool {
    program.id != super::checkout::PROGRAM && !super::orders::PROGRAMS.contains(&program.id.as_str())
}

/// The run `event` starts for `program`, and when its first step is due; `None` when the
/// trigger does not match, the event is history (an import), or names no one.
pub fn start(program: &Program, event: &Event, zone: Tz, now: DateTime<Utc>) -> Option<(ProgramDue, DateTime<Utc>)> {
    if !program.trigger.matches(event) || !acts_as_news(event, event.occurred_at, now) {
        return None;
    }
    let identity = &event.identity;
    let keyless = identity.email.is_none() && identity.customer_id.is_none() && identity.visitor_id.is_none();
    if keyless && identity.profile.is_none() {
        return None;
    }
    let order = order_of(&event.payload);
    let subject = match program.limit.per {
        Per::Order => order.clone()?.to_string(),
        Per::Ticket => match &event.payload {
            Payload::SupportInteraction(s) => s.ticket_id.to_string(),
            _ => return None,
        },
        Per::Customer => match program.limit.every {
            Some(period) => format!("p{}", event.occurred_at.timestamp().div_euclid(period.num_seconds().max(1))),
            None => "once".to_owned(),
        },
        Per::Occasion => event.id.to_string(),
    };
    let mut identity = event.identity.clone();
    let profile = identity.profile.take();
    let due = ProgramDue {
        program: program.id.clone(),
        shop: event.shop.clone(),
        profile,
        identity,
        step: 1,
        started_at: event.occurred_at,
        subject: Some(subject),
        order,
        pauses: 0,
        due_at: None,
        products: match &event.payload {
            Payload::ProductPublished(product) => vec![MailedProduct {
                title: product.title.clone(),
                url: product.url.clone(),
                price: product.price,
                image_url: product.image_url.clone(),
            }],
            _ => Vec::new(),
        },
    };
    let first = program.steps.first()?;
    Some((due, due_at(&first.wait, event.occurred_at, zone)))
}

fn order_of(payload: &Payload) -> Option<ExternalId> {
    match payload {
        Payload::OrderPlaced(o) | Payload::OrderPaid(o) | Payload::OrderCancelled(o) => Some(o.order_id.clone()),
        Payload::OrderRefunded(r) => Some(r.order_id.clone()),
        Payload::OrderFulfilled(f) | Payload::OrderDelivered(f) => Some(f.order_id.clone()),
        _ => None,
    }
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// No profile has the run's keys (erased, or never filed).
    NoProfile,
    /// The shop turned the program off.
    Disabled,
    Exit(Exit),
    /// A goal of the program was reached.
    Goal,
    /// The flow ended (a branch to `end`, a step past the last).
    End,
    /// The program already sent its most to this customer in the window.
    Limit,
    /// A ticket stayed open longer than [`LONGEST_PAUSE`].
    PausedTooLong,
    /// A step that suggests products found none the customer has not bought.
    NothingToSuggest,
}

/// What a due step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advance {
    /// Publish this request; then arm the next step, if any, at its time.
    Mail {
        request: Box<MailRequest>,
        next: Option<(ProgramDue, DateTime<Utc>)>,
    },
    /// No mail now: arm `due` at `at` (a branch into a later step, or a pause).
    Arm {
        due: ProgramDue,
        at: DateTime<Utc>,
        paused: bool,
    },
    Stop(Stopped),
}

/// Decides a due step from what was just re-read. `facts` is `None` when no profile has the
/// run's keys; `zone` is the customer's (for waits until a local time).
pub fn advance(
    program: &Program,
    due: &ProgramDue,
    facts: Option<&Facts<'_>>,
    settings: &JourneySettings,
    zone: Tz,
    now: DateTime<Utc>,
) -> Advance {
    let Some(facts) = facts else { return Advance::Stop(Stopped::NoProfile) };
    if !settings.enabled {
        return Advance::Stop(Stopped::Disabled);
    }
    let profile = facts.profile;
    if let Some(exit) = program.exits.iter().copied().find(|exit| exit_holds(*exit, program.kind, facts)) {
        return Advance::Stop(Stopped::Exit(exit));
    }
    if program.goals.iter().any(|goal| goal.holds(facts)) {
        return Advance::Stop(Stopped::Goal);
    }
    let Some(mut index) = usize::try_from(due.step).ok().and_then(|s| s.checked_sub(1)) else {
        return Advance::Stop(Stopped::End);
    };
    // A branch's target with the same wait is taken at once; the flow is acyclic, so this
    // ends within as many turns as there are steps.
    for _ in 0..program.steps.len() {
        let Some(step) = program.steps.get(index) else { return Advance::Stop(Stopped::End) };
        let here = ProgramDue { step: u32::try_from(index + 1).unwrap_or(u32::MAX), ..due.clone() };
        // A step counted from a date of the profile that moved on (a newer order) waits
        // for it; one counted from the trigger trusts its schedule.
        if step.wait.from != Anchor::Trigger {
            let at = step_due(step, due, Some(facts), zone);
            if at > now + Duration::minutes(1) {
                return Advance::Arm { due: here, at, paused: false };
            }
        }
        match &step.action {
            Action::Branch { when, then, otherwise } => {
                let target = if when.holds(facts) { *then } else { *otherwise };
                let Some(target) = target else { return Advance::Stop(Stopped::End) };
                let next = &program.steps[target];
                let moved = next.wait.at_local.is_some() || next.wait.from != Anchor::Trigger;
                if next.delay() > step.delay() || moved {
                    let at = step_due(next, due, Some(facts), zone).max(now + Duration::minutes(1));
                    let due = ProgramDue { step: u32::try_from(target + 1).unwrap_or(u32::MAX), ..due.clone() };
                    return Advance::Arm { due, at, paused: false };
                }
                index = target;
            }
            Action::Send { template, discount, next, show_viewed_days, suggest } => {
                if program.kind == MailKind::Marketing && settings.pause_on_open_ticket && profile.has_open_ticket() {
                    if now > step_due(step, due, Some(facts), zone) + LONGEST_PAUSE {
                        return Advance::Stop(Stopped::PausedTooLong);
                    }
                    let due = ProgramDue { pauses: here.pauses + 1, ..here };
                    return Advance::Arm { due, at: now + PAUSE_RECHECK, paused: true };
                }
                if let Some((most, window)) = program.limit.at_most
                    && mails_within(facts.records, &program.id, now - window, None) >= most as usize
                {
                    return Advance::Stop(Stopped::Limit);
                }
                let mut products = due.products.clone();
                products.extend(show_viewed_days.map(|days| viewed_products(facts, days)).unwrap_or_default());
                if *suggest {
                    if facts.suggestions.is_empty() {
                        return Advance::Stop(Stopped::NothingToSuggest);
                    }
                    products.extend(facts.suggestions.iter().cloned());
                }
                let request = MailRequest {
                    shop: due.shop.clone(),
                    profile: Some(profile.id.clone()),
                    identity: Identity::default(),
                    program: program.id.clone(),
                    step: here.step,
                    template: template.clone(),
                    kind: program.kind,
                    message_key: due.message_key(program, &profile.id, here.step),
                    checkout: None,
                    order: due.order.clone(),
                    discount_code: if *discount { settings.discount_code.clone() } else { None },
                    campaign: None,
                    products,
                    requested_at: now,
                };
                let next = next.map(|n| {
                    let at = step_due(&program.steps[n], due, Some(facts), zone).max(now + Duration::minutes(1));
                    (ProgramDue { step: u32::try_from(n + 1).unwrap_or(u32::MAX), ..due.clone() }, at)
                });
                return Advance::Mail { request: Box::new(request), next };
            }
        }
    }
    Advance::Stop(Stopped::End)
}

fn exit_holds(exit: Exit, kind: MailKind, facts: &Facts<'_>) -> bool {
    let profile = facts.profile;
    match exit {
        Exit::Ordered => Condition::OrderedSince.holds(facts),
        Exit::Refunded => Condition::Refunded.holds(facts),
        Exit::Fulfilled => facts.order.and_then(|o| profile.orders.get(o)).is_some_and(|o| o.fulfilled),
        Exit::Unsubscribed => kind == MailKind::Marketing && profile.consent_state() == ConsentState::Unsubscribed,
        Exit::Suppressed => profile.suppression.is_some(),
        // A checkout's own exit: the checkout series checks it.
        Exit::CheckoutEmptied => false,
    }
}

/// The program's mails sent since `since`, by the message log.
/// The products viewed in the last `days`, most recent first, each once, at most six.
fn viewed_products(facts: &Facts<'_>, days: u32) -> Vec<MailedProduct> {
    let mut views: Vec<_> = facts.views_within(days).filter(|a| a.product_id.is_some()).collect();
    views.sort_by_key(|a| std::cmp::Reverse(a.at));
    let mut seen = std::collections::BTreeSet::new();
    views
        .into_iter()
        .filter(|a| seen.insert(a.product_id.clone()))
        .filter_map(|a| {
            Some(MailedProduct { title: a.title.clone()?, url: a.url.clone(), price: a.price, image_url: None })
        })
        .take(6)
        .collect()
}

#[cfg(test)]
mod tests;
