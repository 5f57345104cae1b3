//! The engine's programs: start a run when an event matches a trigger, and carry out what
//! the engine decides when a step comes due.

use super::{Outcome, RunError, Runner, arm, one_time, publish};
use crate::events::Event;
use crate::profile::{IdentityKey, Profile, Record};
use crate::programs::affinity::{SUGGESTIONS, order_products, suggest};
use crate::programs::engine::{self, Advance, ProgramDue};
use crate::programs::gate::{zone_named, zone_of};
use crate::programs::request::MailedProduct;
use crate::programs::{Action, Facts, Program, catalogue, program};
use crate::schedule::ScheduleName;
use crate::use_cases::lookup::find_profile;
use crate::use_cases::schedules::remember_schedule;
use chrono::{DateTime, Utc};

/// How long a program step waits for profile-update to file its customer before it gives up.
const FILING_GRACE: chrono::Duration = chrono::Duration::hours(1);

/// Starts the run of every engine program `event` triggers: arms its first step (never
/// sooner than a minute, so profile-update has filed the event when it is due). A trigger
/// repeated within the occasion (a redelivered event, another view in the same period)
/// finds the first step pending and leaves it as the first trigger set it: the run starts
/// once per occasion, and its clock is the occasion's first trigger — the scenario's "three
/// views in the week" counts the views from the first one, not from the last.
pub(super) async fn start(r: &Runner<'_>, event: &Event) -> Result<Vec<String>, RunError> {
    let Ok(programs) = catalogue() else { return Ok(Vec::new()) };
    let now = r.clock.now();
    let shop = r.shops.get(&event.shop);
    let zone = zone_named(shop.and_then(|s| s.time_zone.as_deref()));
    let mut started = Vec::new();
    for program in programs.iter().filter(|p| engine::runs_on_engine(p)) {
        if shop.is_some_and(|s| !s.programs.journey(&program.id).enabled) {
            continue;
        }
        let Some((due, at)) = engine::start(program, event, zone, now) else { continue };
        arm_step(r, &due, due.schedule_name(), at, Arming::KeepPending).await?;
        started.push(program.id.clone());
    }
    Ok(started)
}

/// Arms a step at `at`, never sooner than a minute from now; the payload carries the time
/// it is due, the step's "now" when it fires. The schedule is filed under its customer
/// first ([`remember_schedule`]), so their erasure finds it.
async fn arm_step(
    r: &Runner<'_>,
    due: &ProgramDue,
    name: ScheduleName,
    at: DateTime<Utc>,
    arming: Arming,
) -> Result<(), RunError> {
    let at = crate::schedule::whole_seconds(at.max(r.clock.now() + chrono::Duration::minutes(1)));
    let mut keys = IdentityKey::all(&due.identity);
    keys.extend(due.order.clone().map(IdentityKey::Order));
    remember_schedule(r.store, &due.shop, due.profile.as_ref(), &keys, &name, at).await?;
    let payload = ProgramDue { due_at: Some(at), ..due.clone() };
    match arming {
        Arming::Replace => arm(r, name, at, &payload).await,
        // Found pending (`false`): the first trigger's run stands.
        Arming::KeepPending => {
            r.scheduler.create(&one_time(name, at, &payload)?).await?;
            Ok(())
        }
    }
}

/// Whether arming a step replaces a pending schedule of its name (the run's next step, a
/// pause) or keeps it (a run's first step, armed again by a repeated trigger).
#[derive(Debug, Clone, Copy)]
enum Arming {
    Replace,
    KeepPending,
}

/// A due step: re-read the customer and their records, let the engine decide, then publish
/// the mail request and arm what comes next.
pub(super) async fn advance(r: &Runner<'_>, due: &ProgramDue) -> Result<Outcome, RunError> {
    let program = program(&due.program).ok_or_else(|| RunError::NoProgram(due.program.clone()))?;
    // The step's time: when its schedule was due, if that is later than the clock (a local
    // stack that fast-forwards schedules); Scheduler never fires one early.
    let now = due.due_at.map_or(r.clock.now(), |at| at.max(r.clock.now()));
    let profile = find_profile(r.store, &due.shop, due.profile.as_ref(), &IdentityKey::all(&due.identity)).await?;
    if profile.is_none() && due.profile.is_none() && now - due.started_at < FILING_GRACE {
        return Err(RunError::NotFiledYet);
    }
    let records = match &profile {
        Some(profile) => r.store.records(&due.shop, &profile.id).await?,
        None => Vec::new(),
    };
    let shop = r.shops.get(&due.shop);
    let settings = shop.map(|s| s.programs.journey(&program.id)).unwrap_or_default();
    let shop_zone = shop.and_then(|s| s.time_zone.as_deref());
    let zone = profile.as_ref().map_or_else(|| zone_named(shop_zone), |p| zone_of(p, shop_zone));
    let suggestions = match &profile {
        Some(profile) if suggests(program) => suggestions(r, due, profile, &records).await?,
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
            publish(r, &request).await?;
            if let Some((next_due, at)) = &next {
                arm_step(r, next_due, next_due.schedule_name(), *at, Arming::Replace).await?;
            }
            Ok(Outcome::Requested { step: request.step, next: next.map(|(d, at)| (d.step, at)) })
        }
        Advance::Arm { due: next, at, paused } => {
            let name = if paused { next.pause_name() } else { next.schedule_name() };
            arm_step(r, &next, name, at, Arming::Replace).await?;
            Ok(Outcome::Waiting { step: next.step, at, paused })
        }
        Advance::Stop(reason) => {
            tracing::info!(shop = %due.shop, program = %due.program, step = due.step, ?reason, "program stopped");
            Ok(Outcome::Ended(reason))
        }
    }
}

fn suggests(program: &Program) -> bool {
    program.steps.iter().any(|s| matches!(s.action, Action::Send { suggest: true, .. }))
}

/// Products often bought with the run's order, from the affinity table's entries of its
/// products.
async fn suggestions(
    r: &Runner<'_>,
    due: &ProgramDue,
    profile: &Profile,
    records: &[Record],
) -> Result<Vec<MailedProduct>, RunError> {
    let products = order_products(records, due.order.as_ref());
    let entries = r.affinities.load_affinities(&due.shop, &products).await?;
    Ok(suggest(&entries, profile, SUGGESTIONS))
}
