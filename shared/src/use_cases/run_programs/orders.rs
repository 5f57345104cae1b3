//! The order mails, requested as the order event arrives; the order's checkout series ends.

use super::{Outcome, RunError, Runner, checkout, publish};
use crate::events::{Event, Payload};
use crate::programs::orders::{NoOrderMail, order_mail_of, order_mail_request};
use crate::programs::program;

/// What an order event does: cancels its checkout's reminders (a placed or paid order), then
/// requests its mail.
pub(super) async fn on_event(r: &Runner<'_>, event: &Event) -> Result<Outcome, RunError> {
    let disarmed = match &event.payload {
        Payload::OrderPlaced(order) | Payload::OrderPaid(order) => {
            checkout::cancel_for_order(r, event, order.checkout_token.as_ref(), order.cart_token.as_ref()).await?
        }
        _ => None,
    };
    let Some((program_id, _)) = order_mail_of(&event.payload) else {
        return Ok(Outcome::Ignored { reason: "not a checkout or order event" });
    };
    let program = program(program_id).ok_or_else(|| RunError::NoProgram(program_id.to_owned()))?;
    match order_mail_request(event, program, r.clock.now()) {
        Ok(request) => publish(r, &request).await?,
        Err(NoOrderMail::History) => {
            return Ok(Outcome::Ignored { reason: "a past order (import, backfill) gets no order mail" });
        }
        Err(NoOrderMail::NotAnOrderMail | NoOrderMail::NoSendingStep) => {
            return Err(RunError::NoProgram(program_id.to_owned()));
        }
    }
    Ok(Outcome::OrderMail { program: program_id, disarmed })
}
