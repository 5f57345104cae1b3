//! The order mails: confirmation when an order is placed, "we are preparing it" when it is
//! paid, "it has shipped" when it is fulfilled. Each is a one-step program with no wait, so
//! its mail is requested the moment the order event arrives, without a schedule (a
//! Scheduler round trip per order would cost a create and an invocation for nothing).
//!
//! The request names the event's keys, not a profile: profile-update may not have filed the
//! order yet, and send-mail resolves the keys when it sends (Lambda retries it meanwhile).
//! The key is the one the engine would give a once-per-order mail, so a redelivered order
//! event asks for the mail already sent.

use super::Program;
use super::checkout::acts_as_news;
use super::request::MailRequest;
use crate::events::{Event, Payload};
use crate::ids::ExternalId;
use chrono::{DateTime, Utc};

/// The programs this module runs.
pub const PROGRAMS: [&str; 3] = ["order-confirmation", "order-preparing", "order-shipped"];

/// Which order mail an event asks for, and the order it is about.
pub fn order_mail_of(payload: &Payload) -> Option<(&'static str, &ExternalId)> {
    match payload {
        Payload::OrderPlaced(order) => Some(("order-confirmation", &order.order_id)),
        Payload::OrderPaid(order) => Some(("order-preparing", &order.order_id)),
        Payload::OrderFulfilled(fulfillment) => Some(("order-shipped", &fulfillment.order_id)),
        _ => None,
    }
}

/// Why an order event asks for no mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoOrderMail {
    /// Not an order event that has a mail.
    NotAnOrderMail,
    /// A past order (an import, a backfill) is history, not news.
    History,
    /// The program's definition has no sending first step (a broken build).
    NoSendingStep,
}

/// The mail request for `event` (of `program`, the one [`order_mail_of`] named), at `now`.
pub fn order_mail_request(event: &Event, program: &Program, now: DateTime<Utc>) -> Result<MailRequest, NoOrderMail> {
    let (_, order) = order_mail_of(&event.payload).ok_or(NoOrderMail::NotAnOrderMail)?;
    if !acts_as_news(event, event.occurred_at, now) {
        return Err(NoOrderMail::History);
    }
    let template = program.steps.first().and_then(|s| s.template()).ok_or(NoOrderMail::NoSendingStep)?;
    let mut identity = event.identity.clone();
    identity.profile = None;
    Ok(MailRequest {
        shop: event.shop.clone(),
        profile: None,
        identity,
        program: program.id.clone(),
        step: 1,
        template: template.to_owned(),
        kind: program.kind,
        message_key: MailRequest::key_for(&program.id, &event.shop, order.as_str(), 1),
        checkout: None,
        order: Some(order.clone()),
        discount_code: None,
        campaign: None,
        products: Vec::new(),
        requested_at: now,
    })
}
