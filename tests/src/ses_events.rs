//! The engagement events SES would publish for a mail (delivery, open, click, bounce): the
//! emulator sends nothing back, so tests and the demo put them on the default bus as SES's
//! event publishing does, tagged with the tags send-mail gave the mail.

use crate::mailbox::StoredMail;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::{DateTime, Utc};
use relance::ids::ShopId;
use relance::signature::Secret;
use relance::unsubscribe::UnsubscribeToken;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Delivery,
    Open,
    Click,
    PermanentBounce,
}

impl Signal {
    fn detail_type(self) -> &'static str {
        match self {
            Signal::Delivery => "Email Delivered",
            Signal::Open => "Email Opened",
            Signal::Click => "Email Clicked",
            Signal::PermanentBounce => "Email Bounced",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SesEventError {
    #[error("the mail has no List-Unsubscribe link naming its profile")]
    NoProfile,
}

/// The shop and profile a mail was sent for, read from its unsubscribe link (the token
/// names exactly those two).
pub fn recipient_of(
    mail: &StoredMail,
    unsubscribe_secret: &str,
) -> Result<(ShopId, relance::ids::ProfileId), SesEventError> {
    let secrets = [Secret::new(unsubscribe_secret.to_owned()).map_err(|_| SesEventError::NoProfile)?];
    let link = mail.header("List-Unsubscribe").ok_or(SesEventError::NoProfile)?.trim_matches(['<', '>']);
    let raw = link.split_once("t=").ok_or(SesEventError::NoProfile)?.1;
    let token = UnsubscribeToken::verify(raw, |_| Some(&secrets[..])).map_err(|_| SesEventError::NoProfile)?;
    Ok((token.shop, token.profile))
}

/// The default-bus entry SES publishes when `mail` (whose message key is `message`) gets
/// `signal` at `at`.
pub fn entry(
    mail: &StoredMail,
    unsubscribe_secret: &str,
    message: &str,
    signal: Signal,
    at: DateTime<Utc>,
) -> Result<PutEventsRequestEntry, SesEventError> {
    let (shop, profile) = recipient_of(mail, unsubscribe_secret)?;
    let tags: serde_json::Map<String, Value> = relance::mail::MailTags { shop, profile, message: message.to_owned() }
        .to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!([v])))
        .collect();
    let common =
        json!({ "timestamp": at, "messageId": mail.message_id, "destination": mail.destination.to, "tags": tags });
    let detail = match signal {
        Signal::Delivery => json!({ "eventType": "Delivery", "mail": common, "delivery": { "timestamp": at } }),
        Signal::Open => json!({ "eventType": "Open", "mail": common, "open": { "timestamp": at } }),
        Signal::Click => {
            json!({ "eventType": "Click", "mail": common, "click": { "timestamp": at, "link": "http://localhost:8080/" } })
        }
        Signal::PermanentBounce => {
            json!({ "eventType": "Bounce", "mail": common, "bounce": { "bounceType": "Permanent", "timestamp": at } })
        }
    };
    Ok(PutEventsRequestEntry::builder()
        .event_bus_name("default")
        .source("aws.ses")
        .detail_type(signal.detail_type())
        .detail(detail.to_string())
        .build())
}
