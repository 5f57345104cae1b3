//! Programs as files a shop edits: `shared/programs/<id>.toml`, one program each, compiled
//! into the functions and checked when they load (and by `cargo test`), so a broken
//! definition never reaches a customer.
//!
//! TOML because a shop edits these by hand: comments explain each choice in place, there is
//! no indentation to get wrong (YAML) and no quoting noise (JSON), and it is the format the
//! Rust tooling already uses.
//!
//! A definition names its `kind` (marketing or transactional), its `trigger` (a canonical
//! or derived event, `nightly`, or a segment transition), its `exits` (re-checked before
//! every step) and its `steps`: each waits (`wait`, counted from the trigger) and either
//! sends a template (`send`, optionally with the shop's `discount`) or branches on a
//! condition (`branch = { when, then, otherwise }`, naming steps). A step goes on to the
//! next one in the file unless it says `next` (a step's name, or `end`). The flow must be a
//! tree of steps reachable from the first, without cycles, waiting no less at each step
//! than at the one before; errors name the file, the program and the step.

use super::{Condition, Content, Exit, Program, Step, Trigger};
use crate::mail::MailKind;
use crate::templates::TemplateId;
use chrono::Duration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// The definitions compiled into this build: every file of `shared/programs/`.
pub const EMBEDDED: [(&str, &str); 10] = [
    ("abandoned-checkout.toml", include_str!("../../programs/abandoned-checkout.toml")),
    ("order-confirmation.toml", include_str!("../../programs/order-confirmation.toml")),
    ("order-preparing.toml", include_str!("../../programs/order-preparing.toml")),
    ("order-shipped.toml", include_str!("../../programs/order-shipped.toml")),
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
    #[error("unknown trigger event {0:?} (known: {known})", known = TRIGGER_EVENTS.join(", "))]
    UnknownEvent(String),
    #[error("a segment.changed trigger names its segment (`segment = \"at_risk\"`)")]
    NoSegment,
    #[error("unknown segment {0:?}")]
    UnknownSegment(String),
    #[error("unknown template {0:?}")]
    UnknownTemplate(String),
    #[error("unknown exit {0:?} (known: ordered, checkout_emptied, refunded, unsubscribed, suppressed)")]
    UnknownExit(String),
    #[error("a transactional program does not stop on `unsubscribed`: consent governs marketing only")]
    TransactionalConsent,
    #[error("no steps")]
    NoSteps,
    #[error("two steps are named so")]
    DuplicateStep,
    #[error("a step either sends (`send`) or branches (`branch`), exactly one")]
    SendOrBranch,
    #[error("`wait` {0:?} is not a duration such as 30m, 2h or 7d")]
    Wait(String),
    #[error("names step {0:?}, which does not exist")]
    NoSuchStep(String),
    #[error("cannot be reached from the first step")]
    Unreachable,
    #[error("is part of a cycle: a program runs once per occasion, forward")]
    Cycle,
    #[error("waits less ({0}) than the step before it: waits count from the trigger")]
    WaitsLess(String),
    #[error("a branch leads to a step that goes on: this build runs a branch's two mails as the program's last step")]
    BranchNotLast,
}

/// The trigger events a definition may name.
pub const TRIGGER_EVENTS: [&str; 8] = [
    "checkout.started",
    "order.placed",
    "order.paid",
    "order.fulfilled",
    "order.delivered",
    "customer.signed_up",
    "segment.changed",
    "product.published",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Definition {
    id: String,
    kind: MailKind,
    trigger: TriggerDefinition,
    #[serde(default)]
    exits: Vec<String>,
    #[serde(default)]
    steps: Vec<StepDefinition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggerDefinition {
    event: String,
    #[serde(default)]
    segment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDefinition {
    name: String,
    #[serde(default)]
    wait: Option<String>,
    #[serde(default)]
    send: Option<String>,
    #[serde(default)]
    discount: bool,
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
/// `{ ordered_since_start = true }`, `{ not = … }`, `{ all = [ … ] }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum ConditionDefinition {
    VisitedAtLeast { visits: u32, within_days: u32 },
    OrderedSinceStart(bool),
    Not(Box<ConditionDefinition>),
    All(Vec<ConditionDefinition>),
}

impl ConditionDefinition {
    fn compile(self) -> Condition {
        match self {
            ConditionDefinition::VisitedAtLeast { visits, within_days } => {
                Condition::VisitedAtLeast { visits, within_days }
            }
            ConditionDefinition::OrderedSinceStart(true) => Condition::OrderedSince,
            ConditionDefinition::OrderedSinceStart(false) => Condition::Not(Box::new(Condition::OrderedSince)),
            ConditionDefinition::Not(inner) => Condition::Not(Box::new(inner.compile())),
            ConditionDefinition::All(all) => Condition::All(all.into_iter().map(Self::compile).collect()),
        }
    }
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
    let id = definition.id.as_str();
    let at = |step: Option<&str>, problem: Problem| error(Some(id), step, problem);
    if file != format!("{id}.toml") {
        return Err(at(None, Problem::FileName(id.to_owned())));
    }
    let trigger = trigger(&definition.trigger).map_err(|p| at(None, p))?;
    let exits = definition.exits.iter().map(|e| exit(e)).collect::<Result<Vec<_>, _>>().map_err(|p| at(None, p))?;
    if definition.kind == MailKind::Transactional && exits.contains(&Exit::Unsubscribed) {
        return Err(at(None, Problem::TransactionalConsent));
    }
    let steps = &definition.steps;
    if steps.is_empty() {
        return Err(at(None, Problem::NoSteps));
    }
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, step) in steps.iter().enumerate() {
        if index.insert(step.name.as_str(), n).is_some() {
            return Err(at(Some(&step.name), Problem::DuplicateStep));
        }
    }
    // Where each step can go.
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(steps.len());
    let mut waits = Vec::with_capacity(steps.len());
    for (n, step) in steps.iter().enumerate() {
        let here = Some(step.name.as_str());
        waits.push(wait(step.wait.as_deref()).map_err(|p| at(here, p))?);
        let target =
            |name: &str| index.get(name).copied().ok_or_else(|| at(here, Problem::NoSuchStep(name.to_owned())));
        let mut out = Vec::new();
        match (&step.send, &step.branch) {
            (Some(template), None) => {
                TemplateId::parse(template).map_err(|_| at(here, Problem::UnknownTemplate(template.clone())))?;
                match step.next.as_deref() {
                    Some("end") => {}
                    Some(name) => out.push(target(name)?),
                    None if n + 1 < steps.len() => out.push(n + 1),
                    None => {}
                }
            }
            (None, Some(branch)) => {
                out.push(target(&branch.then)?);
                out.push(target(&branch.otherwise)?);
            }
            _ => return Err(at(here, Problem::SendOrBranch)),
        }
        edges.push(out);
    }
    check_graph(&edges, &waits).map_err(|(n, p)| at(Some(&steps[n].name), p))?;

    // The runner of this build takes the steps in order; a branch picks between two final
    // mails.
    let mut compiled = Vec::new();
    let mut definition_steps: Vec<Option<StepDefinition>> = definition.steps.into_iter().map(Some).collect();
    let mut current = Some(0);
    while let Some(n) = current {
        let step = definition_steps[n].take().ok_or_else(|| at(None, Problem::Cycle))?;
        match (step.send, step.branch) {
            (Some(template), _) => {
                compiled.push(Step { delay: waits[n], content: Content::Template(template), discount: step.discount });
                current = edges[n].first().copied();
            }
            (None, Some(branch)) => {
                let (then, otherwise) = (edges[n][0], edges[n][1]);
                let mail = |k: usize| -> Result<String, DefinitionError> {
                    let target = definition_steps[k].as_ref().ok_or_else(|| at(Some(&step.name), Problem::Cycle))?;
                    match (&target.send, edges[k].is_empty()) {
                        (Some(template), true) => Ok(template.clone()),
                        _ => Err(at(Some(&step.name), Problem::BranchNotLast)),
                    }
                };
                let content =
                    Content::Branch { when: branch.when.compile(), then: mail(then)?, otherwise: mail(otherwise)? };
                compiled.push(Step { delay: waits[n], content, discount: step.discount });
                current = None;
            }
            (None, None) => return Err(at(Some(&step.name), Problem::SendOrBranch)),
        }
    }
    Ok(Program { id: definition.id, trigger, kind: definition.kind, steps: compiled, exits })
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
    Ok(match definition.event.as_str() {
        "checkout.started" => Trigger::CheckoutStarted,
        "order.placed" => Trigger::OrderPlaced,
        "order.paid" => Trigger::OrderPaid,
        "order.fulfilled" => Trigger::OrderFulfilled,
        "order.delivered" => Trigger::OrderDelivered,
        "customer.signed_up" => Trigger::SignedUp,
        "nightly" => Trigger::Nightly,
        "product.published" => Trigger::NewEdition,
        "segment.changed" => {
            let segment = definition.segment.as_deref().ok_or(Problem::NoSegment)?;
            crate::segments::Segment::ALL
                .iter()
                .find(|s| s.as_str() == segment)
                .ok_or_else(|| Problem::UnknownSegment(segment.to_owned()))?;
            Trigger::SegmentEntered(segment.to_owned())
        }
        other => return Err(Problem::UnknownEvent(other.to_owned())),
    })
}

fn exit(raw: &str) -> Result<Exit, Problem> {
    Ok(match raw {
        "ordered" => Exit::Ordered,
        "checkout_emptied" => Exit::CheckoutEmptied,
        "refunded" => Exit::Refunded,
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
        let delays: Vec<i64> = checkout.steps.iter().map(|s| s.delay.num_hours()).collect();
        assert_eq!(delays, [1, 24, 72]);
        assert_eq!(checkout.steps.iter().map(|s| s.discount).collect::<Vec<_>>(), [false, false, true]);
        let scenario = programs.iter().find(|p| p.id == "visits-scenario").unwrap();
        assert_eq!(scenario.steps.len(), 1, "the branch and its two mails are one step");
        assert!(matches!(&scenario.steps[0].content,
            Content::Branch { then, otherwise, .. } if then == "scenario-a" && otherwise == "scenario-b"));
        let reactivation = programs.iter().find(|p| p.id == "reactivation").unwrap();
        assert_eq!(reactivation.trigger, Trigger::SegmentEntered("at_risk".to_owned()));
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
        assert_eq!(program.steps[1].delay, Duration::days(2));
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
    fn a_branch_picks_between_two_final_mails() {
        let text = r#"
id = "test"
kind = "marketing"
trigger = { event = "customer.signed_up" }

[[steps]]
name = "choose"
wait = "7d"
branch = { when = { visited_at_least = { visits = 3, within_days = 7 } }, then = "a", otherwise = "b" }

[[steps]]
name = "a"
wait = "7d"
send = "scenario-a"
next = "end"

[[steps]]
name = "b"
wait = "7d"
send = "scenario-b"
"#;
        let program = load("test.toml", text).unwrap();
        assert!(matches!(
            &program.steps[0].content,
            Content::Branch { when: Condition::VisitedAtLeast { visits: 3, within_days: 7 }, .. }
        ));
        // A branch whose mail goes on is more than this build runs: refused, not mis-run.
        let longer = text.replace("send = \"scenario-a\"\nnext = \"end\"", "send = \"scenario-a\"\nnext = \"b\"");
        assert_eq!(load("test.toml", &longer).unwrap_err().problem, Problem::BranchNotLast);
    }
}
