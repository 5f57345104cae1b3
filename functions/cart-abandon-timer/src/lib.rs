//! cart-abandon-timer: runs the programs. It arms, re-arms and cancels the one schedule of
//! each checkout's reminder series, requests the order mails, and runs every other program
//! of `shared/programs/` through the engine ([`relance::programs::engine`]).
//!
//! Its inputs: bus events (checkout and order events, the programs' triggers, segment
//! transitions, a new edition's past buyers) through its rules; the [`ReminderDue`] and
//! [`ProgramDue`] payloads Scheduler invokes it with; and a [`DeferredMail`] send-mail
//! scheduled for later (quiet hours, frequency cap, an open ticket), which it puts back on
//! the bus when due. Every decision is the domain's; this is wiring. Arming is idempotent
//! (deterministic schedule names, replaced in place); a due step re-reads the profile and
//! its records, publishes at most one `mail.requested` whose key is stable per occasion and
//! step, then arms the next — a retry after a failure repeats both harmlessly.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use relance::bus::{SOURCE_INGEST, SOURCE_PROGRAMS, SOURCE_SEGMENTS};
use relance::events::{Checkout, Event, Payload};
use relance::ids::{ExternalId, ProfileId, ShopId};
use relance::ports::{
    AffinityStore, Clock, EventPublisher, ProfileStore, PublishError, ScheduleError, Scheduler, StoreError,
};
use relance::profile::records::CheckoutRecord;
use relance::profile::{IdentityKey, Profile, Record, RecordKey};
use relance::programs::checkout::{Decision, ReminderDue, StopReason, decide, first_reminder, is_news, message_key};
use relance::programs::engine::{self, Advance, ProgramDue, Stopped};
use relance::programs::gate::{zone_named, zone_of};
use relance::programs::reactivation::{self, SegmentChange};
use relance::programs::request::{DeferredMail, MailRequest};
use relance::programs::settings::CheckoutSettings;
use relance::programs::{Facts, catalogue, program};
use relance::schedule::{OneTimeSchedule, ScheduleName};
use relance::shops::Shops;
use std::sync::Arc;

/// The program this function runs for checkouts.
pub use relance::programs::checkout::PROGRAM;

pub struct Deps {
    pub store: Arc<dyn ProfileStore>,
    /// The products-bought-together table (read by programs whose steps suggest).
    pub affinities: Arc<dyn AffinityStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub scheduler: Arc<dyn Scheduler>,
    pub shops: Arc<Shops>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("input is neither a bus event nor a reminder")]
    Malformed(#[source] serde_json::Error),
    #[error("unsupported event {source_name}/{detail_type}")]
    Unsupported { source_name: String, detail_type: String },
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("program {0} is not in the catalogue")]
    NoProgram(String),
    /// A program step for a customer profile-update has not filed yet: Lambda retries.
    #[error("the program's customer is not filed yet")]
    NotFiledYet,
}

/// Programs with a runner of their own: the checkout series (one per checkout, shop-tuned
/// delays) and the order mails, requested the moment the order arrives. The engine runs
/// every other definition.
const DEDICATED: [&str; 4] = [PROGRAM, "order-confirmation", "order-preparing", "order-shipped"];

/// How long a program step waits for profile-update to file its customer before it gives up.
const FILING_GRACE: chrono::Duration = chrono::Duration::hours(1);

/// What became of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Armed {
        at: DateTime<Utc>,
    },
    /// Disarmed; `false` when no schedule was pending (already fired or never armed).
    Disarmed {
        existed: bool,
    },
    Ignored {
        reason: &'static str,
    },
    Requested {
        step: u32,
        next: Option<(u32, DateTime<Utc>)>,
    },
    Stopped(StopReason),
    /// A program run ended ([`engine::advance`]).
    Ended(Stopped),
    /// A program step was put off: a branch into a later step, or an open ticket.
    Waiting {
        step: u32,
        at: DateTime<Utc>,
        paused: bool,
    },
    /// Program runs this event started (their first steps armed).
    Started {
        programs: Vec<String>,
    },
    /// A deferred mail request was put back on the bus.
    Redelivered,
    /// A transactional order mail was requested; `disarmed` tells whether the order's
    /// checkout had a pending reminder (`None`: the order names no checkout).
    OrderMail {
        program: &'static str,
        disarmed: Option<bool>,
    },
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Input {
    // First: these have required fields no bus envelope has.
    Reminder(ReminderDue),
    Program(ProgramDue),
    Deferred(DeferredMail),
    Bus(Box<EventBridgeEvent<serde_json::Value>>),
}

#[tracing::instrument(skip_all)]
pub async fn handle(input: serde_json::Value, deps: &Deps) -> Result<Outcome, HandleError> {
    let outcome = match serde_json::from_value::<Input>(input).map_err(HandleError::Malformed)? {
        Input::Reminder(due) => remind(&due, deps).await?,
        Input::Program(due) => program_step(&due, deps).await?,
        Input::Deferred(DeferredMail { deferred, until }) => {
            let now = deps.clock.now();
            let request = MailRequest { requested_at: until.map_or(now, |at| at.max(now)), ..deferred };
            deps.publisher.publish(&[request.to_bus_event().map_err(HandleError::Malformed)?]).await?;
            Outcome::Redelivered
        }
        Input::Bus(envelope) if envelope.source == SOURCE_SEGMENTS && envelope.detail_type == "segment.changed" => {
            let change: SegmentChange = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
            if !change.starts_reactivation() {
                return Ok(Outcome::Ignored { reason: "no program starts on this transition" });
            }
            program_step(&reactivation::episode(&change, deps.clock.now()), deps).await?
        }
        // A new edition, fanned out by rfm-nightly to one past buyer of its line.
        Input::Bus(envelope)
            if envelope.source == SOURCE_PROGRAMS && envelope.detail_type == relance::programs::edition::RELEASED =>
        {
            let event: Event = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
            let programs = start_programs(&event, deps).await?;
            if programs.is_empty() {
                return Ok(Outcome::Ignored { reason: "no program starts on this edition" });
            }
            Outcome::Started { programs }
        }
        Input::Bus(envelope) => {
            if envelope.source != SOURCE_INGEST {
                return Err(HandleError::Unsupported {
                    source_name: envelope.source,
                    detail_type: envelope.detail_type,
                });
            }
            let event: Event = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
            let outcome = on_event(&event, deps).await?;
            let programs = start_programs(&event, deps).await?;
            match outcome {
                Outcome::Ignored { .. } if !programs.is_empty() => Outcome::Started { programs },
                outcome => outcome,
            }
        }
    };
    tracing::info!(?outcome, "handled");
    Ok(outcome)
}

fn settings(deps: &Deps, shop: &ShopId) -> CheckoutSettings {
    deps.shops.get(shop).map(|s| s.programs.abandoned_checkout.clone()).unwrap_or_default()
}

async fn disarm(deps: &Deps, shop: &ShopId, token: &ExternalId) -> Result<Outcome, HandleError> {
    Ok(Outcome::Disarmed { existed: cancel_series(deps, shop, token, None).await? })
}

/// Deletes the series' pending schedules, but `keep`'s; `true` if one was pending.
async fn cancel_series(deps: &Deps, shop: &ShopId, token: &ExternalId, keep: Option<u32>) -> Result<bool, HandleError> {
    let mut existed = false;
    for (index, name) in ScheduleName::all_for_checkout(shop, token).into_iter().enumerate() {
        if keep != u32::try_from(index + 1).ok() {
            existed |= deps.scheduler.delete(&name).await?;
        }
    }
    Ok(existed)
}

async fn on_event(event: &Event, deps: &Deps) -> Result<Outcome, HandleError> {
    let shop = &event.shop;
    match &event.payload {
        Payload::CheckoutStarted(checkout) | Payload::CheckoutUpdated(checkout) => arm(event, checkout, deps).await,
        Payload::CheckoutCompleted(checkout) => disarm(deps, shop, &checkout.token).await,
        Payload::OrderPlaced(order) | Payload::OrderPaid(order) => {
            let disarmed = match (&order.checkout_token, &order.cart_token) {
                (Some(token), _) => Some(cancel_series(deps, shop, token, None).await?),
                (None, Some(cart)) => Some(cancel_by_cart(event, cart, deps).await?),
                (None, None) => None,
            };
            let program =
                if matches!(event.payload, Payload::OrderPlaced(_)) { "order-confirmation" } else { "order-preparing" };
            if !is_news(event.occurred_at, deps.clock.now()) {
                return Ok(Outcome::Ignored { reason: "a past order (import, backfill) gets no order mail" });
            }
            order_mail(event, program, &order.order_id, deps).await?;
            Ok(Outcome::OrderMail { program, disarmed })
        }
        Payload::OrderFulfilled(_) if !is_news(event.occurred_at, deps.clock.now()) => {
            Ok(Outcome::Ignored { reason: "a past order (import, backfill) gets no order mail" })
        }
        Payload::OrderFulfilled(fulfillment) => {
            order_mail(event, "order-shipped", &fulfillment.order_id, deps).await?;
            Ok(Outcome::OrderMail { program: "order-shipped", disarmed: None })
        }
        _ => Ok(Outcome::Ignored { reason: "not a checkout or order event" }),
    }
}

/// An order that names only its cart (no checkout token): the buyer's checkouts of that
/// cart are found among their records, and their series cancelled.
async fn cancel_by_cart(event: &Event, cart: &ExternalId, deps: &Deps) -> Result<bool, HandleError> {
    let mut profile = None;
    for key in IdentityKey::of(event) {
        if let Some(owner) = deps.store.find_identity(&event.shop, &key).await? {
            profile = Some(owner);
            break;
        }
    }
    let Some(profile) = profile else { return Ok(false) };
    let mut existed = false;
    for record in deps.store.records(&event.shop, &profile).await? {
        if let Record::Checkout(checkout) = record
            && !checkout.cart
            && checkout.cart_token.as_ref() == Some(cart)
        {
            existed |= cancel_series(deps, &event.shop, &checkout.token, None).await?;
        }
    }
    Ok(existed)
}

/// Requests a transactional order mail at once (its program has one step, no delay). The
/// order may not be filed yet: the request names the event's keys and send-mail resolves
/// them (retried by Lambda if profile-update is still on it).
async fn order_mail(
    event: &Event,
    program_id: &'static str,
    order: &ExternalId,
    deps: &Deps,
) -> Result<(), HandleError> {
    let program = program(program_id).ok_or_else(|| HandleError::NoProgram(program_id.to_owned()))?;
    let Some(template) = program.steps.first().and_then(|s| s.template()) else {
        return Err(HandleError::NoProgram(program_id.to_owned()));
    };
    let mut identity = event.identity.clone();
    identity.profile = None;
    let request = MailRequest {
        shop: event.shop.clone(),
        profile: None,
        identity,
        program: program_id.to_owned(),
        step: 1,
        template: template.to_owned(),
        kind: program.kind,
        message_key: MailRequest::key_for(program_id, &event.shop, order.as_str(), 1),
        checkout: None,
        order: Some(order.clone()),
        discount_code: None,
        campaign: None,
        products: Vec::new(),
        requested_at: deps.clock.now(),
    };
    deps.publisher.publish(&[request.to_bus_event().map_err(HandleError::Malformed)?]).await?;
    Ok(())
}

/// (Re-)arms the first reminder, counted from this activity: still editing is not
/// abandoning.
async fn arm(event: &Event, checkout: &Checkout, deps: &Deps) -> Result<Outcome, HandleError> {
    let shop = &event.shop;
    if checkout.completed_at.is_some() {
        return disarm(deps, shop, &checkout.token).await;
    }
    if event.identity.email.is_none() && event.identity.customer_id.is_none() {
        return Ok(Outcome::Ignored { reason: "checkout names no reachable customer" });
    }
    if checkout.line_items.is_empty() {
        return disarm(deps, shop, &checkout.token).await;
    }
    let Some(at) = first_reminder(&settings(deps, shop), event.occurred_at) else {
        return Ok(Outcome::Ignored { reason: "the shop's series has no step" });
    };
    let now = deps.clock.now();
    if !is_news(at, now) {
        return Ok(Outcome::Ignored { reason: "the reminder was due too long ago: history, not news" });
    }
    // A late event never arms a reminder in the past.
    let at = at.max(now + chrono::Duration::minutes(1));
    let due = ReminderDue {
        program: PROGRAM.to_owned(),
        shop: shop.clone(),
        token: checkout.token.clone(),
        step: 1,
        identity: event.identity.clone(),
    };
    schedule(deps, &due, at).await?;
    // One pending reminder per checkout: a later step armed before this activity goes.
    cancel_series(deps, shop, &checkout.token, Some(1)).await?;
    Ok(Outcome::Armed { at })
}

async fn schedule(deps: &Deps, due: &ReminderDue, at: DateTime<Utc>) -> Result<(), HandleError> {
    let payload = serde_json::to_value(due).map_err(HandleError::Malformed)?;
    let name = ScheduleName::for_checkout(&due.shop, &due.token, due.step);
    deps.scheduler.upsert(&OneTimeSchedule { name, at: at.with_nanosecond_zero(), payload }).await?;
    Ok(())
}

trait SecondPrecision {
    fn with_nanosecond_zero(self) -> Self;
}

impl SecondPrecision for DateTime<Utc> {
    /// Scheduler's `at()` has second precision.
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

/// Starts the run of every engine program `event` triggers: arms its first step (never
/// sooner than a minute, so profile-update has filed the event when it is due). A repeated
/// trigger re-arms the same schedule, so a run starts once per occasion.
async fn start_programs(event: &Event, deps: &Deps) -> Result<Vec<String>, HandleError> {
    let Ok(programs) = catalogue() else { return Ok(Vec::new()) };
    let now = deps.clock.now();
    let shop = deps.shops.get(&event.shop);
    let zone = zone_named(shop.and_then(|s| s.time_zone.as_deref()));
    let mut started = Vec::new();
    for program in programs.iter().filter(|p| !DEDICATED.contains(&p.id.as_str())) {
        if shop.is_some_and(|s| !s.programs.journey(&program.id).enabled) {
            continue;
        }
        let Some((due, at)) = engine::start(program, event, zone, now) else { continue };
        arm_step(deps, &due, due.schedule_name(), at).await?;
        started.push(program.id.clone());
    }
    Ok(started)
}

async fn arm_step(deps: &Deps, due: &ProgramDue, name: ScheduleName, at: DateTime<Utc>) -> Result<(), HandleError> {
    let at = at.max(deps.clock.now() + chrono::Duration::minutes(1)).with_nanosecond_zero();
    let payload =
        serde_json::to_value(ProgramDue { due_at: Some(at), ..due.clone() }).map_err(HandleError::Malformed)?;
    deps.scheduler.upsert(&OneTimeSchedule { name, at, payload }).await?;
    Ok(())
}

/// The profile a run is for: the one named (or what it was merged into), else the owner of
/// the first key its trigger named.
async fn profile_of_run(deps: &Deps, due: &ProgramDue) -> Result<Option<Profile>, HandleError> {
    let id = match &due.profile {
        Some(named) => relance::profile::service::locate(deps.store.as_ref(), &due.shop, named).await?,
        None => owner_of(deps, &due.shop, &due.identity).await?,
    };
    Ok(match id {
        Some(id) => deps.store.load(&due.shop, &id).await?.map(|v| v.value),
        None => None,
    })
}

/// A due step of an engine program: re-read the customer and their records, let the engine
/// decide, then publish the mail request and arm what comes next.
async fn program_step(due: &ProgramDue, deps: &Deps) -> Result<Outcome, HandleError> {
    let program = program(&due.program).ok_or_else(|| HandleError::NoProgram(due.program.clone()))?;
    // The step's time: when its schedule was due, if that is later than the clock (a local
    // stack that fast-forwards schedules); Scheduler never fires one early.
    let now = due.due_at.map_or(deps.clock.now(), |at| at.max(deps.clock.now()));
    let profile = profile_of_run(deps, due).await?;
    if profile.is_none() && due.profile.is_none() && now - due.started_at < FILING_GRACE {
        return Err(HandleError::NotFiledYet);
    }
    let records = match &profile {
        Some(profile) => deps.store.records(&due.shop, &profile.id).await?,
        None => Vec::new(),
    };
    let shop = deps.shops.get(&due.shop);
    let settings = shop.map(|s| s.programs.journey(&program.id)).unwrap_or_default();
    let shop_zone = shop.and_then(|s| s.time_zone.as_deref());
    let zone = profile.as_ref().map_or_else(|| zone_named(shop_zone), |p| zone_of(p, shop_zone));
    let suggestions = match &profile {
        Some(profile) if suggests(program) => suggestions(deps, due, profile, &records).await?,
        _ => Vec::new(),
    };
    let facts = profile.as_ref().map(|profile| Facts {
        profile,
        records: &records,
        started_at: due.started_at,
        order: due.order.as_ref(),
        suggestions: &suggestions,
        now,
    });
    match engine::advance(program, due, facts.as_ref(), &settings, zone, now) {
        Advance::Mail { request, next } => {
            deps.publisher.publish(&[request.to_bus_event().map_err(HandleError::Malformed)?]).await?;
            if let Some((next_due, at)) = &next {
                arm_step(deps, next_due, next_due.schedule_name(), *at).await?;
            }
            Ok(Outcome::Requested { step: request.step, next: next.map(|(d, at)| (d.step, at)) })
        }
        Advance::Arm { due: next, at, paused } => {
            let name = if paused { next.pause_name() } else { next.schedule_name() };
            arm_step(deps, &next, name, at).await?;
            Ok(Outcome::Waiting { step: next.step, at, paused })
        }
        Advance::Stop(reason) => {
            tracing::info!(shop = %due.shop, program = %due.program, step = due.step, ?reason, "program stopped");
            Ok(Outcome::Ended(reason))
        }
    }
}

fn suggests(program: &relance::programs::Program) -> bool {
    program.steps.iter().any(|s| matches!(s.action, relance::programs::Action::Send { suggest: true, .. }))
}

/// Products often bought with the run's order, from the affinity table's entries of its
/// lines' products.
async fn suggestions(
    deps: &Deps,
    due: &ProgramDue,
    profile: &Profile,
    records: &[Record],
) -> Result<Vec<relance::programs::request::MailedProduct>, HandleError> {
    let lines = records.iter().find_map(|r| match r {
        Record::Order(order) if Some(&order.order_id) == due.order.as_ref() => order.lines.as_ref(),
        _ => None,
    });
    let mut products: Vec<ExternalId> =
        lines.map(|l| l.value.iter().filter_map(|line| line.product_id.clone()).collect()).unwrap_or_default();
    products.sort();
    products.dedup();
    products.truncate(20);
    let entries = deps.affinities.load_affinities(&due.shop, &products).await?;
    Ok(relance::programs::affinity::suggest(&entries, profile, 3))
}

/// The profile the reminder's customer has now, by the keys the checkout gave.
async fn profile_of(deps: &Deps, due: &ReminderDue) -> Result<Option<Profile>, HandleError> {
    Ok(match owner_of(deps, &due.shop, &due.identity).await? {
        Some(id) => deps.store.load(&due.shop, &id).await?.map(|v| v.value),
        None => None,
    })
}

/// The profile that owns the first known key of `identity` (strongest first).
async fn owner_of(
    deps: &Deps,
    shop: &ShopId,
    identity: &relance::events::Identity,
) -> Result<Option<ProfileId>, HandleError> {
    for key in IdentityKey::all(identity) {
        if let Some(id) = deps.store.find_identity(shop, &key).await? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

async fn checkout_of(
    deps: &Deps,
    due: &ReminderDue,
    profile: &ProfileId,
) -> Result<Option<CheckoutRecord>, HandleError> {
    let key = RecordKey::Checkout(due.token.clone());
    Ok(match deps.store.load_record(&due.shop, profile, &key).await?.map(|v| v.value) {
        Some(Record::Checkout(checkout)) => Some(checkout),
        _ => None,
    })
}

async fn remind(due: &ReminderDue, deps: &Deps) -> Result<Outcome, HandleError> {
    let program = program(PROGRAM).ok_or_else(|| HandleError::NoProgram(PROGRAM.to_owned()))?;
    let now = deps.clock.now();
    let profile = profile_of(deps, due).await?;
    let checkout = match &profile {
        Some(profile) => checkout_of(deps, due, &profile.id).await?,
        None => None,
    };
    let decision = decide(program, &settings(deps, &due.shop), profile.as_ref(), checkout.as_ref(), due.step, now);
    let (Decision::Send { step, template, discount, next }, Some(profile)) = (decision.clone(), profile) else {
        let Decision::Stop(reason) = decision else { return Ok(Outcome::Stopped(StopReason::NoProfile)) };
        tracing::info!(shop = %due.shop, step = due.step, ?reason, "reminder stopped");
        return Ok(Outcome::Stopped(reason));
    };
    let request = MailRequest {
        shop: due.shop.clone(),
        profile: Some(profile.id.clone()),
        identity: Default::default(),
        program: program.id.to_owned(),
        step,
        template: template.to_owned(),
        kind: program.kind,
        message_key: message_key(&due.shop, &due.token, step),
        checkout: Some(due.token.clone()),
        order: None,
        discount_code: discount,
        campaign: None,
        products: Vec::new(),
        requested_at: now,
    };
    deps.publisher.publish(&[request.to_bus_event().map_err(HandleError::Malformed)?]).await?;
    if let Some((next_step, at)) = next {
        schedule(deps, &ReminderDue { step: next_step, ..due.clone() }, at).await?;
    }
    Ok(Outcome::Requested { step, next })
}

#[cfg(test)]
mod tests;
