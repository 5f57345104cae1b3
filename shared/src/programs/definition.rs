//! Programs as files a shop edits: `shared/programs/<id>.toml`, one program each, compiled
//! into the functions and checked when they load (and by `cargo test`), so a broken
//! definition never reaches a customer.
//!
//! TOML because a shop edits these by hand: comments explain each choice in place, there is
//! no indentation to get wrong (YAML) and no quoting noise (JSON), and it is the format the
//! Rust tooling already uses.
//!
//! A definition names its `kind` (marketing or transactional), its `trigger` (any canonical
//! event, or a derived one: `segment.changed`, `nightly`; with filters), its `exits` and
//! `goals` (re-checked before every step), its limit (`once_per` order, ticket, customer —
//! optionally `every` period — or occasion; `at_most` mails in a window) and its `steps`:
//! each waits (`wait`, counted from the trigger, then optionally until the customer's local
//! time `at`) and either sends a template (`send`, optionally with the shop's `discount`
//! and the products viewed, `show_viewed`) or branches on a condition
//! (`branch = { when, then, otherwise }`, naming steps or `end`). A sending step goes on to
//! the next one in the file unless it says `next` (a step's name, or `end`). The flow must
//! reach every step from the first, have no cycle, and wait no less at each step than at
//! the one before; errors name the file, the program and the step.

use super::trigger::{self, Filter, Trigger};
use super::{Action, Anchor, Condition, Exit, Limit, Per, Program, Step, Wait};
use crate::events::SupportKind;
use crate::mail::MailKind;
use crate::templates::TemplateId;
use chrono::{Duration, NaiveTime};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// The definitions compiled into this build: every file of `shared/programs/`.
pub const EMBEDDED: [(&str, &str); 12] = [
    ("abandoned-checkout.toml", include_str!("../../programs/abandoned-checkout.toml")),
    ("order-confirmation.toml", include_str!("../../programs/order-confirmation.toml")),
    ("order-preparing.toml", include_str!("../../programs/order-preparing.toml")),
    ("order-shipped.toml", include_str!("../../programs/order-shipped.toml")),
    ("order-delivered.toml", include_str!("../../programs/order-delivered.toml")),
    ("satisfaction.toml", include_str!("../../programs/satisfaction.toml")),
    ("review-request.toml", include_str!("../../programs/review-request.toml")),
    ("welcome.toml", include_str!("../../programs/welcome.toml")),
    ("visits-scenario.toml", include_str!("../../programs/visits-scenario.toml")),
    ("affinity.toml", include_str!("../../programs/affinity.toml")),
    ("yearly-edition.toml", include_str!("../../programs/yearly-edition.toml")),
    ("reactivation.toml", include_str!("../../programs/reactivation.toml")),
];

/// What is wrong, and where: file, program (once its id is read) and step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DefinitionError {
    pub file: String,
    pub program: Option<String>,
    pub step: Option<String>,
    pub problem: Problem,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "programs/{}", self.file)?;
        if let Some(program) = &self.program {
            write!(f, ": program {program}")?;
        }
        if let Some(step) = &self.step {
            write!(f, ", step {step}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("not a program definition: {0}")]
    Syntax(String),
    #[error("the file must be named after the program's id ({0}.toml)")]
    FileName(String),
    #[error("unknown trigger event {0:?} (a canonical event such as order.delivered, or segment.changed, nightly)")]
    UnknownEvent(String),
    #[error("a segment.changed trigger names its segment (`segment = \"at_risk\"`)")]
    NoSegment,
    #[error("unknown segment {0:?}")]
    UnknownSegment(String),
    #[error("unknown template {0:?}")]
    UnknownTemplate(String),
    #[error("unknown exit {0:?} (known: ordered, checkout_emptied, refunded, fulfilled, unsubscribed, suppressed)")]
    UnknownExit(String),
    #[error("unknown limit {0:?} (once_per: occasion, customer, order, ticket)")]
    UnknownLimit(String),
    #[error("once per {0} needs a trigger whose events name one ({1})")]
    NoSubject(&'static str, &'static str),
    #[error("`every` applies to once_per = \"customer\" only")]
    EveryWithoutCustomer,
    #[error("a transactional program does not stop on `unsubscribed`: consent governs marketing only")]
    TransactionalConsent,
    #[error("no steps")]
    NoSteps,
    #[error("two steps are named so")]
    DuplicateStep,
    #[error("a step either sends (`send`) or branches (`branch`), exactly one")]
    SendOrBranch,
    #[error("`{0}` belongs to a sending step")]
    NotSending(&'static str),
    #[error("`wait` {0:?} is not a duration such as 30m, 2h or 7d")]
    Wait(String),
    #[error("`at` {0:?} is not a local time such as 10:00")]
    LocalTime(String),
    #[error("`from` {0:?} is not one of trigger, last_order, order_delivered, first_seen")]
    UnknownAnchor(String),
    #[error("names step {0:?}, which does not exist")]
    NoSuchStep(String),
    #[error("cannot be reached from the first step")]
    Unreachable,
    #[error("is part of a cycle: a program runs once per occasion, forward")]
    Cycle,
    #[error("waits less ({0}) than the step before it: waits count from the trigger")]
    WaitsLess(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Definition {
    id: String,
    kind: MailKind,
    trigger: TriggerDefinition,
    #[serde(default)]
    exits: Vec<String>,
    #[serde(default)]
    goals: Vec<ConditionDefinition>,
    #[serde(default)]
    once_per: Option<String>,
    #[serde(default)]
    every: Option<String>,
    #[serde(default)]
    at_most: Option<AtMost>,
    #[serde(default)]
    steps: Vec<StepDefinition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtMost {
    mails: u32,
    days: u32,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggerDefinition {
    event: OneOrMany,
    #[serde(default)]
    segment: Option<String>,
    /// `ticket_opened`, `ticket_closed`, `satisfaction`.
    #[serde(default)]
    support: Option<SupportKind>,
    /// Only when the event states marketing consent.
    #[serde(default)]
    subscribed: bool,
    /// A category, collection or status the event must mention.
    #[serde(default)]
    mentions: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDefinition {
    name: String,
    #[serde(default)]
    wait: Option<String>,
    #[serde(default)]
    at: Option<String>,
    /// What `wait` counts from: `trigger` (default), `last_order`, `order_delivered`,
    /// `first_seen`.
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    send: Option<String>,
    #[serde(default)]
    discount: bool,
    #[serde(default)]
    show_viewed: Option<String>,
    #[serde(default)]
    suggest: bool,
    #[serde(default)]
    branch: Option<BranchDefinition>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BranchDefinition {
    when: ConditionDefinition,
    then: String,
    otherwise: String,
}

/// One condition per table: `{ visited_at_least = { visits, within_days } }`,
/// `{ viewed_at_least = { views, within_days } }`, `{ ordered_since_start = true }`,
/// `{ refunded = true }`, `{ in_segment = "champions" }`, `{ subscribed = true }`,
/// `{ ticket_open = true }`, `{ last_purchase_in = "vins" }`, `{ not = … }`,
/// `{ all = [ … ] }`, `{ any = [ … ] }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum ConditionDefinition {
    VisitedAtLeast { visits: u32, within_days: u32 },
    ViewedAtLeast { views: u32, within_days: u32 },
    OrderedSinceStart(bool),
    Refunded(bool),
    InSegment(String),
    Subscribed(bool),
    TicketOpen(bool),
    LastPurchaseIn(String),
    Not(Box<ConditionDefinition>),
    All(Vec<ConditionDefinition>),
    Any(Vec<ConditionDefinition>),
}

impl ConditionDefinition {
    fn compile(self) -> Result<Condition, Problem> {
        let flag = |holds: bool, c: Condition| if holds { c } else { Condition::Not(Box::new(c)) };
        Ok(match self {
            ConditionDefinition::VisitedAtLeast { visits, within_days } => {
                Condition::VisitedAtLeast { visits, within_days }
            }
            ConditionDefinition::ViewedAtLeast { views, within_days } => {
                Condition::ViewedAtLeast { views, within_days }
            }
            ConditionDefinition::OrderedSinceStart(holds) => flag(holds, Condition::OrderedSince),
            ConditionDefinition::Refunded(holds) => flag(holds, Condition::Refunded),
            ConditionDefinition::Subscribed(holds) => flag(holds, Condition::Subscribed),
            ConditionDefinition::TicketOpen(holds) => flag(holds, Condition::TicketOpen),
            ConditionDefinition::InSegment(segment) => Condition::InSegment(known_segment(&segment)?),
            ConditionDefinition::LastPurchaseIn(category) => Condition::LastPurchaseIn(category),
            ConditionDefinition::Not(inner) => Condition::Not(Box::new(inner.compile()?)),
            ConditionDefinition::All(all) => {
                Condition::All(all.into_iter().map(Self::compile).collect::<Result<_, _>>()?)
            }
            ConditionDefinition::Any(any) => {
                Condition::Any(any.into_iter().map(Self::compile).collect::<Result<_, _>>()?)
            }
        })
    }
}

fn known_segment(segment: &str) -> Result<String, Problem> {
    crate::segments::Segment::ALL
        .iter()
        .find(|s| s.as_str() == segment)
        .map(|s| s.as_str().to_owned())
        .ok_or_else(|| Problem::UnknownSegment(segment.to_owned()))
}

/// `30m`, `2h`, `7d`; absent: at once.
fn wait(raw: Option<&str>) -> Result<Duration, Problem> {
    let Some(raw) = raw else { return Ok(Duration::zero()) };
    let bad = || Problem::Wait(raw.to_owned());
    let (number, unit) = raw.trim().split_at(raw.trim().len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    match unit {
        "m" => Ok(Duration::minutes(n)),
        "h" => Ok(Duration::hours(n)),
        "d" => Ok(Duration::days(n)),
        _ => Err(bad()),
    }
    .and_then(|d| if n < 0 { Err(bad()) } else { Ok(d) })
}

/// Where a step goes: `end` or a step's index.
type Edges = Vec<Vec<usize>>;

/// Reads and checks one definition.
pub fn load(file: &str, text: &str) -> Result<Program, DefinitionError> {
    let error = |program: Option<&str>, step: Option<&str>, problem: Problem| DefinitionError {
        file: file.to_owned(),
        program: program.map(str::to_owned),
        step: step.map(str::to_owned),
        problem,
    };
    let definition: Definition =
        toml::from_str(text).map_err(|e| error(None, None, Problem::Syntax(e.message().to_owned())))?;
    let id = definition.id.clone();
    let at = |step: Option<&str>, problem: Problem| error(Some(&id), step, problem);
    if file != format!("{id}.toml") {
        return Err(at(None, Problem::FileName(id.clone())));
    }
    let trigger = trigger(&definition.trigger).map_err(|p| at(None, p))?;
    let exits = definition.exits.iter().map(|e| exit(e)).collect::<Result<Vec<_>, _>>().map_err(|p| at(None, p))?;
    if definition.kind == MailKind::Transactional && exits.contains(&Exit::Unsubscribed) {
        return Err(at(None, Problem::TransactionalConsent));
    }
    let goals = definition
        .goals
        .into_iter()
        .map(ConditionDefinition::compile)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|p| at(None, p))?;
    let limit =
        limit(&definition.once_per, &definition.every, &definition.at_most, &trigger).map_err(|p| at(None, p))?;
    let steps = definition.steps;
    if steps.is_empty() {
        return Err(at(None, Problem::NoSteps));
    }
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, step) in steps.iter().enumerate() {
        if index.insert(step.name.as_str(), n).is_some() {
            return Err(at(Some(&step.name), Problem::DuplicateStep));
        }
    }
    let target = |here: &str, name: &str| -> Result<Option<usize>, DefinitionError> {
        if name == "end" {
            return Ok(None);
        }
        index.get(name).copied().map(Some).ok_or_else(|| at(Some(here), Problem::NoSuchStep(name.to_owned())))
    };
    let mut edges: Edges = Vec::with_capacity(steps.len());
    let mut compiled = Vec::with_capacity(steps.len());
    for (n, step) in steps.iter().enumerate() {
        let here = step.name.as_str();
        let delay = wait(step.wait.as_deref()).map_err(|p| at(Some(here), p))?;
        let at_local = step
            .at
            .as_deref()
            .map(|raw| NaiveTime::parse_from_str(raw, "%H:%M").map_err(|_| Problem::LocalTime(raw.to_owned())))
            .transpose()
            .map_err(|p| at(Some(here), p))?;
        let action = match (&step.send, &step.branch) {
            (Some(template), None) => {
                TemplateId::parse(template).map_err(|_| at(Some(here), Problem::UnknownTemplate(template.clone())))?;
                let next = match step.next.as_deref() {
                    Some(name) => target(here, name)?,
                    None => (n + 1 < steps.len()).then_some(n + 1),
                };
                let show_viewed_days = step
                    .show_viewed
                    .as_deref()
                    .map(|raw| wait(Some(raw)).map(|d| u32::try_from(d.num_days().max(1)).unwrap_or(u32::MAX)))
                    .transpose()
                    .map_err(|p| at(Some(here), p))?;
                Action::Send {
                    template: template.clone(),
                    discount: step.discount,
                    next,
                    show_viewed_days,
                    suggest: step.suggest,
                }
            }
            (None, Some(branch)) => {
                let fields = [
                    (step.discount, "discount"),
                    (step.show_viewed.is_some(), "show_viewed"),
                    (step.suggest, "suggest"),
                ];
                for (set, field) in fields {
                    if set {
                        return Err(at(Some(here), Problem::NotSending(field)));
                    }
                }
                if step.next.is_some() {
                    return Err(at(Some(here), Problem::NotSending("next")));
                }
                // Compiled below, once every step's name is known to be good.
                Action::Branch {
                    when: Condition::All(Vec::new()),
                    then: target(here, &branch.then)?,
                    otherwise: target(here, &branch.otherwise)?,
                }
            }
            _ => return Err(at(Some(here), Problem::SendOrBranch)),
        };
        edges.push(match &action {
            Action::Send { next, .. } => next.iter().copied().collect(),
            Action::Branch { then, otherwise, .. } => then.iter().chain(otherwise.iter()).copied().collect(),
        });
        let from = match step.from.as_deref().unwrap_or("trigger") {
            "trigger" => Anchor::Trigger,
            "last_order" => Anchor::LastOrder,
            "order_delivered" => Anchor::OrderDelivered,
            "first_seen" => Anchor::FirstSeen,
            other => return Err(at(Some(here), Problem::UnknownAnchor(other.to_owned()))),
        };
        compiled.push(Step { name: step.name.clone(), wait: Wait { delay, at_local, from }, action });
    }
    let waits: Vec<Duration> = compiled.iter().map(Step::delay).collect();
    check_graph(&edges, &waits).map_err(|(n, p)| at(Some(&steps[n].name), p))?;
    for (step, definition) in compiled.iter_mut().zip(steps) {
        if let (Action::Branch { when, .. }, Some(branch)) = (&mut step.action, definition.branch) {
            *when = branch.when.compile().map_err(|p| at(Some(&definition.name), p))?;
        }
    }
    Ok(Program { id, trigger, kind: definition.kind, steps: compiled, exits, goals, limit })
}

/// Every step reachable from the first, no cycle, waits never decreasing along an edge.
fn check_graph(edges: &[Vec<usize>], waits: &[Duration]) -> Result<(), (usize, Problem)> {
    // Depth-first from the first step, colouring: 1 on the path, 2 done.
    fn visit(n: usize, edges: &[Vec<usize>], colour: &mut [u8]) -> Result<(), usize> {
        colour[n] = 1;
        for &next in &edges[n] {
            match colour[next] {
                1 => return Err(next),
                0 => visit(next, edges, colour)?,
                _ => {}
            }
        }
        colour[n] = 2;
        Ok(())
    }
    let mut colour = vec![0u8; edges.len()];
    visit(0, edges, &mut colour).map_err(|n| (n, Problem::Cycle))?;
    if let Some(n) = colour.iter().position(|c| *c == 0) {
        return Err((n, Problem::Unreachable));
    }
    for (n, out) in edges.iter().enumerate() {
        for &next in out {
            if waits[next] < waits[n] {
                return Err((next, Problem::WaitsLess(format!("{} min", waits[next].num_minutes()))));
            }
        }
    }
    Ok(())
}

fn trigger(definition: &TriggerDefinition) -> Result<Trigger, Problem> {
    let events = match &definition.event {
        OneOrMany::One(event) => vec![event.clone()],
        OneOrMany::Many(events) => events.clone(),
    };
    if let Some(unknown) = events.iter().find(|e| !trigger::is_trigger_event(e)) {
        return Err(Problem::UnknownEvent(unknown.clone()));
    }
    let mut filters = Vec::new();
    if events.iter().any(|e| e == trigger::SEGMENT_CHANGED) {
        let segment = definition.segment.as_deref().ok_or(Problem::NoSegment)?;
        filters.push(Filter::Segment(known_segment(segment)?));
    }
    filters.extend(definition.support.map(Filter::Support));
    if definition.subscribed {
        filters.push(Filter::Subscribed);
    }
    filters.extend(definition.mentions.clone().map(Filter::Mentions));
    Ok(Trigger { events, filters })
}

/// The events that name an order, and those that name a ticket.
const ORDER_EVENTS: [&str; 6] =
    ["order.placed", "order.paid", "order.cancelled", "order.refunded", "order.fulfilled", "order.delivered"];

fn limit(
    once_per: &Option<String>,
    every: &Option<String>,
    at_most: &Option<AtMost>,
    trigger: &Trigger,
) -> Result<Limit, Problem> {
    let per = match once_per.as_deref().unwrap_or("occasion") {
        "occasion" => Per::Occasion,
        "customer" => Per::Customer,
        "order" => Per::Order,
        "ticket" => Per::Ticket,
        other => return Err(Problem::UnknownLimit(other.to_owned())),
    };
    let events = &trigger.events;
    if per == Per::Order && !events.iter().all(|e| ORDER_EVENTS.contains(&e.as_str())) {
        return Err(Problem::NoSubject("order", "order.*"));
    }
    if per == Per::Ticket && !events.iter().all(|e| e == "support.interaction") {
        return Err(Problem::NoSubject("ticket", "support.interaction"));
    }
    let every = every.as_deref().map(|raw| wait(Some(raw))).transpose()?;
    if every.is_some() && per != Per::Customer {
        return Err(Problem::EveryWithoutCustomer);
    }
    let at_most = at_most.as_ref().map(|a| (a.mails, Duration::days(i64::from(a.days))));
    Ok(Limit { per, every, at_most })
}

fn exit(raw: &str) -> Result<Exit, Problem> {
    Ok(match raw {
        "ordered" => Exit::Ordered,
        "checkout_emptied" => Exit::CheckoutEmptied,
        "refunded" => Exit::Refunded,
        "fulfilled" => Exit::Fulfilled,
        "unsubscribed" => Exit::Unsubscribed,
        "suppressed" => Exit::Suppressed,
        other => return Err(Problem::UnknownExit(other.to_owned())),
    })
}

/// Every embedded definition, checked; the first error stops the load. (Ids are unique:
/// each file is named after its program.)
pub fn load_embedded() -> Result<Vec<Program>, DefinitionError> {
    EMBEDDED.iter().map(|(file, text)| load(file, text)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_directory_is_compiled_in_and_loads() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/programs");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .collect();
        files.sort();
        let mut embedded: Vec<&str> = EMBEDDED.iter().map(|(file, _)| *file).collect();
        embedded.sort_unstable();
        assert_eq!(files, embedded, "add new files to EMBEDDED");
        let programs = load_embedded().unwrap_or_else(|e| panic!("{e}"));
        let checkout = programs.iter().find(|p| p.id == "abandoned-checkout").unwrap();
        let delays: Vec<i64> = checkout.steps.iter().map(|s| s.delay().num_hours()).collect();
        assert_eq!(delays, [1, 24, 72]);
        assert_eq!(checkout.steps.iter().map(|s| s.discount()).collect::<Vec<_>>(), [false, false, true]);
        let scenario = programs.iter().find(|p| p.id == "visits-scenario").unwrap();
        let templates: Vec<&str> = scenario.steps.iter().filter_map(|s| s.template()).collect();
        assert_eq!(templates, ["scenario-a", "scenario-b"]);
        assert!(matches!(
            &scenario.steps[1].action,
            Action::Branch {
                when: Condition::ViewedAtLeast { views: 3, within_days: 7 },
                then: Some(2),
                otherwise: None
            }
        ));
        let reactivation = programs.iter().find(|p| p.id == "reactivation").unwrap();
        assert_eq!(reactivation.trigger.segment(), Some("at_risk"));
        let review = programs.iter().find(|p| p.id == "review-request").unwrap();
        assert_eq!((review.limit.per, review.steps[0].wait.at_local), (Per::Order, NaiveTime::from_hms_opt(10, 0, 0)));
    }

    const GOOD: &str = r#"
id = "test"
kind = "marketing"
trigger = { event = "customer.signed_up" }
exits = ["unsubscribed"]

[[steps]]
name = "one"
wait = "1h"
send = "welcome"

[[steps]]
name = "two"
wait = "2d"
send = "welcome"
"#;

    /// `GOOD` with `from` replaced by `to`, loaded.
    fn broken(from: &str, to: &str) -> DefinitionError {
        assert!(GOOD.contains(from), "{from}");
        load("test.toml", &GOOD.replacen(from, to, 1)).unwrap_err()
    }

    #[test]
    fn a_good_definition_loads() {
        let program = load("test.toml", GOOD).unwrap();
        assert_eq!(program.steps.len(), 2);
        assert_eq!(program.steps[1].delay(), Duration::days(2));
    }

    #[test]
    fn broken_definitions_are_refused_naming_file_program_and_step() {
        let cases: Vec<(DefinitionError, Option<&str>, Problem)> = vec![
            (
                broken("customer.signed_up", "customer.sined_up"),
                None,
                Problem::UnknownEvent("customer.sined_up".into()),
            ),
            (broken("send = \"welcome\"", "send = \"welcom\""), Some("one"), Problem::UnknownTemplate("welcom".into())),
            (broken("exits = [\"unsubscribed\"]", "exits = [\"bored\"]"), None, Problem::UnknownExit("bored".into())),
            (broken("wait = \"2d\"", "wait = \"2 days\""), Some("two"), Problem::Wait("2 days".into())),
            (broken("wait = \"2d\"", "wait = \"30m\""), Some("two"), Problem::WaitsLess("30 min".into())),
            (broken("name = \"two\"", "name = \"one\""), Some("one"), Problem::DuplicateStep),
            (
                broken("send = \"welcome\"\n\n[[steps]]", "send = \"welcome\"\nnext = \"three\"\n\n[[steps]]"),
                Some("one"),
                Problem::NoSuchStep("three".into()),
            ),
            (
                broken("send = \"welcome\"\n\n[[steps]]", "send = \"welcome\"\nnext = \"end\"\n\n[[steps]]"),
                Some("two"),
                Problem::Unreachable,
            ),
            (
                broken("wait = \"2d\"\nsend = \"welcome\"", "wait = \"2d\"\nsend = \"welcome\"\nnext = \"one\""),
                Some("one"),
                Problem::Cycle,
            ),
            (broken("wait = \"2d\"\nsend = \"welcome\"", "wait = \"2d\""), Some("two"), Problem::SendOrBranch),
            (broken("kind = \"marketing\"", "kind = \"transactional\""), None, Problem::TransactionalConsent),
            (
                broken("event = \"customer.signed_up\"", "event = \"segment.changed\", segment = \"vip\""),
                None,
                Problem::UnknownSegment("vip".into()),
            ),
        ];
        for (error, step, problem) in cases {
            assert_eq!(error.file, "test.toml");
            assert_eq!(error.program.as_deref(), Some("test"), "{error}");
            assert_eq!(error.step.as_deref(), step, "{error}");
            assert_eq!(error.problem, problem, "{error}");
        }
        let error = broken("send = \"welcome\"", "send = \"welcom\"");
        assert_eq!(error.to_string(), "programs/test.toml: program test, step one: unknown template \"welcom\"");
    }

    #[test]
    fn a_file_that_is_not_a_definition_or_misnamed_is_refused() {
        let error = load("test.toml", "id = \"test\"\nkind = \"marketing\"\nsteps = 3").unwrap_err();
        assert!(matches!(error.problem, Problem::Syntax(_)), "{error}");
        assert_eq!(error.program, None);
        let error = load("other.toml", GOOD).unwrap_err();
        assert_eq!(error.problem, Problem::FileName("test".into()));
        let unknown_field = load("test.toml", &GOOD.replace("wait = \"1h\"", "wiat = \"1h\"")).unwrap_err();
        assert!(matches!(unknown_field.problem, Problem::Syntax(ref m) if m.contains("wiat")), "{unknown_field}");
    }

    #[test]
    fn branches_chain_to_steps_or_the_end_and_limits_need_their_subject() {
        let text = r#"
id = "test"
kind = "marketing"
trigger = { event = ["product.viewed", "page.viewed"] }
once_per = "customer"
every = "30d"

[[steps]]
name = "choose"
wait = "7d"
branch = { when = { ordered_since_start = true }, then = "b", otherwise = "again" }

[[steps]]
name = "again"
wait = "7d"
branch = { when = { any = [{ visited_at_least = { visits = 3, within_days = 7 } }, { in_segment = "champions" }] }, then = "a", otherwise = "end" }

[[steps]]
name = "a"
wait = "8d"
at = "10:00"
send = "scenario-a"
next = "end"

[[steps]]
name = "b"
wait = "8d"
send = "scenario-b"
"#;
        let program = load("test.toml", text).unwrap();
        assert!(matches!(&program.steps[0].action, Action::Branch { then: Some(3), otherwise: Some(1), .. }));
        assert!(matches!(
            &program.steps[1].action,
            Action::Branch { when: Condition::Any(_), then: Some(2), otherwise: None }
        ));
        assert_eq!(program.limit.every, Some(Duration::days(30)));
        let case = |from: &str, to: &str| load("test.toml", &text.replacen(from, to, 1)).unwrap_err();
        let error = case("in_segment = \"champions\"", "in_segment = \"vip\"");
        assert_eq!((error.step.as_deref(), error.problem), (Some("again"), Problem::UnknownSegment("vip".into())));
        let error = case("otherwise = \"end\"", "otherwise = \"choose\"");
        assert_eq!(error.problem, Problem::Cycle);
        let error = case("at = \"10:00\"", "at = \"ten\"");
        assert_eq!((error.step.as_deref(), error.problem), (Some("a"), Problem::LocalTime("ten".into())));
        let error = case("once_per = \"customer\"", "once_per = \"order\"");
        assert_eq!(error.problem, Problem::NoSubject("order", "order.*"));
        let error = case("once_per = \"customer\"", "once_per = \"week\"");
        assert_eq!(error.problem, Problem::UnknownLimit("week".into()));
        let error = case(
            "next = \"end\"",
            "next = \"end\"\ndiscount = true\n[[steps]]\nname = \"x\"\nbranch = { when = { ticket_open = true }, then = \"end\", otherwise = \"end\" }\ndiscount = true",
        );
        assert_eq!((error.step.as_deref(), error.problem), (Some("x"), Problem::NotSending("discount")));
        let error = case(
            "event = [\"product.viewed\", \"page.viewed\"]",
            "event = [\"product.viewed\", \"gdpr.shop_redacted\"]",
        );
        assert_eq!(error.problem, Problem::UnknownEvent("gdpr.shop_redacted".into()));
    }
}
