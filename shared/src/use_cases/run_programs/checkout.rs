//! The checkout series: arm on activity, cancel on completion or order, remind when due.

use super::{Outcome, RunError, Runner, arm, publish};
use crate::events::{Checkout, Event, Payload};
use crate::ids::{ExternalId, ShopId};
use crate::profile::records::CheckoutRecord;
use crate::profile::{IdentityKey, Record, RecordKey};
use crate::programs::checkout::{
    Decision, PROGRAM, ReminderDue, StopReason, acts_as_news, decide, first_reminder, reminder_request,
};
use crate::programs::program;
use crate::programs::settings::CheckoutSettings;
use crate::schedule::ScheduleName;
use crate::use_cases::lookup::{find_profile, owner_of};

/// What a checkout event does to its series; `None` for any other event.
pub(super) async fn on_event(r: &Runner<'_>, event: &Event) -> Result<Option<Outcome>, RunError> {
    Ok(Some(match &event.payload {
        Payload::CheckoutStarted(checkout) | Payload::CheckoutUpdated(checkout) => {
            arm_first(r, event, checkout).await?
        }
        Payload::CheckoutCompleted(checkout) => disarm(r, &event.shop, &checkout.token).await?,
        _ => return Ok(None),
    }))
}

/// Cancels the series of the checkout an order came from; `None` when the order names
/// neither a checkout nor a cart.
pub(super) async fn cancel_for_order(
    r: &Runner<'_>,
    event: &Event,
    checkout: Option<&ExternalId>,
    cart: Option<&ExternalId>,
) -> Result<Option<bool>, RunError> {
    Ok(match (checkout, cart) {
        (Some(token), _) => Some(cancel_series(r, &event.shop, token, None).await?),
        (None, Some(cart)) => Some(cancel_by_cart(r, event, cart).await?),
        (None, None) => None,
    })
}

fn settings(r: &Runner<'_>, shop: &ShopId) -> CheckoutSettings {
    r.shops.get(shop).map(|s| s.programs.abandoned_checkout.clone()).unwrap_or_default()
}

async fn disarm(r: &Runner<'_>, shop: &ShopId, token: &ExternalId) -> Result<Outcome, RunError> {
    Ok(Outcome::Disarmed { existed: cancel_series(r, shop, token, None).await? })
}

/// Deletes the series' pending schedules, but `keep`'s; `true` if one was pending.
async fn cancel_series(r: &Runner<'_>, shop: &ShopId, token: &ExternalId, keep: Option<u32>) -> Result<bool, RunError> {
    let mut existed = false;
    for (index, name) in ScheduleName::all_for_checkout(shop, token).into_iter().enumerate() {
        if keep != u32::try_from(index + 1).ok() {
            existed |= r.scheduler.delete(&name).await?;
        }
    }
    Ok(existed)
}

/// An order that names only its cart (no checkout token): the buyer's checkouts of that
/// cart are found among their records, and their series cancelled.
async fn cancel_by_cart(r: &Runner<'_>, event: &Event, cart: &ExternalId) -> Result<bool, RunError> {
    let Some(profile) = owner_of(r.store, &event.shop, &IdentityKey::of(event)).await? else { return Ok(false) };
    let mut existed = false;
    for record in r.store.records(&event.shop, &profile).await? {
        if let Record::Checkout(checkout) = record
            && !checkout.cart
            && checkout.cart_token.as_ref() == Some(cart)
        {
            existed |= cancel_series(r, &event.shop, &checkout.token, None).await?;
        }
    }
    Ok(existed)
}

/// (Re-)arms the first reminder, counted from this activity: still editing is not
/// abandoning.
async fn arm_first(r: &Runner<'_>, event: &Event, checkout: &Checkout) -> Result<Outcome, RunError> {
    let shop = &event.shop;
    if checkout.completed_at.is_some() {
        return disarm(r, shop, &checkout.token).await;
    }
    if event.identity.email.is_none() && event.identity.customer_id.is_none() {
        return Ok(Outcome::Ignored { reason: "checkout names no reachable customer" });
    }
    if checkout.line_items.is_empty() {
        return disarm(r, shop, &checkout.token).await;
    }
    let Some(at) = first_reminder(&settings(r, shop), event.occurred_at) else {
        return Ok(Outcome::Ignored { reason: "the shop's series has no step" });
    };
    let now = r.clock.now();
    if !acts_as_news(event, at, now) {
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
    arm(r, ScheduleName::for_checkout(shop, &due.token, due.step), at, &due).await?;
    // One pending reminder per checkout: a later step armed before this activity goes.
    cancel_series(r, shop, &checkout.token, Some(1)).await?;
    Ok(Outcome::Armed { at })
}

async fn checkout_of(
    r: &Runner<'_>,
    due: &ReminderDue,
    profile: &crate::ids::ProfileId,
) -> Result<Option<CheckoutRecord>, RunError> {
    let key = RecordKey::Checkout(due.token.clone());
    Ok(match r.store.load_record(&due.shop, profile, &key).await?.map(|v| v.value) {
        Some(Record::Checkout(checkout)) => Some(checkout),
        _ => None,
    })
}

/// A due reminder: re-read the customer (by the keys the checkout gave) and the checkout,
/// decide, then request the mail and arm the next step.
pub(super) async fn remind(r: &Runner<'_>, due: &ReminderDue) -> Result<Outcome, RunError> {
    let program = program(PROGRAM).ok_or_else(|| RunError::NoProgram(PROGRAM.to_owned()))?;
    let now = r.clock.now();
    let profile = find_profile(r.store, &due.shop, None, &IdentityKey::all(&due.identity)).await?;
    let checkout = match &profile {
        Some(profile) => checkout_of(r, due, &profile.id).await?,
        None => None,
    };
    let decision = decide(program, &settings(r, &due.shop), profile.as_ref(), checkout.as_ref(), due.step, now);
    let (Decision::Send { step, template, discount, next }, Some(profile)) = (decision.clone(), profile) else {
        let Decision::Stop(reason) = decision else { return Ok(Outcome::Stopped(StopReason::NoProfile)) };
        tracing::info!(shop = %due.shop, step = due.step, ?reason, "reminder stopped");
        return Ok(Outcome::Stopped(reason));
    };
    publish(r, &reminder_request(due, program, &profile, step, template, discount, now)).await?;
    if let Some((next_step, at)) = next {
        let next_due = ReminderDue { step: next_step, ..due.clone() };
        arm(r, ScheduleName::for_checkout(&due.shop, &due.token, next_step), at, &next_due).await?;
    }
    Ok(Outcome::Requested { step, next })
}
