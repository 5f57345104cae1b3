//! What the mail provider reports about a mail Relance sent (Amazon SES's sending events,
//! parsed by [`crate::normalise::ses`]).

use crate::ids::EventId;
use crate::mail::MailTags;
use chrono::{DateTime, Utc};

/// Signals from the mail provider about a mail sent to this profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSignal {
    Delivered,
    Opened,
    Clicked,
    HardBounce,
    Complaint,
}

impl MailSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            MailSignal::Delivered => "delivered",
            MailSignal::Opened => "opened",
            MailSignal::Clicked => "clicked",
            MailSignal::HardBounce => "hard_bounce",
            MailSignal::Complaint => "complaint",
        }
    }
}

/// One provider report about one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailEvent {
    pub tags: MailTags,
    pub signal: MailSignal,
    pub at: DateTime<Utc>,
    /// The provider's message id.
    pub provider_id: String,
    /// Stable across redeliveries of this report: `ses:<message id>:<signal>:<time>`.
    pub id: EventId,
}
