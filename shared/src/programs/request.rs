//! A program's request for one mail: what the timer (and, later, the other program runners)
//! publishes as `mail.requested` for send-mail.

use crate::bus::{BusEvent, SOURCE_PROGRAMS};
use crate::events::Identity;
use crate::ids::{ExternalId, ProfileId, ShopId};
use crate::mail::MailKind;
use crate::schedule::ScheduleName;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const MAIL_REQUESTED: &str = "mail.requested";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRequest {
    pub shop: ShopId,
    /// The profile, when the requester resolved it (a reminder re-read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileId>,
    /// Otherwise the keys the triggering event named (an order mail is requested as the order
    /// arrives, maybe before profile-update has filed it); send-mail resolves them.
    #[serde(default, skip_serializing_if = "Identity::is_empty")]
    pub identity: Identity,
    pub program: String,
    pub step: u32,
    /// Template id (`abandoned-checkout`, `order-confirmation`, …).
    pub template: String,
    pub kind: MailKind,
    /// The same for every attempt of this mail: send-mail sends a key once.
    pub message_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<String>,
    /// Set for a campaign's mail: sent at the time the marketer chose (no quiet hours), and
    /// skipped rather than deferred under the frequency cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// Products the mail lists (what the customer viewed, for the conditional scenario).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<MailedProduct>,
    pub requested_at: DateTime<Utc>,
}

/// A product a program's mail shows, as the program found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailedProduct {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<crate::money::Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

impl MailRequest {
    /// The key of a program's mail about one subject (an order, a checkout step): the same
    /// for every attempt, so send-mail sends it once.
    pub fn key_for(program: &str, shop: &ShopId, subject: &str, step: u32) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{program}\0{shop}\0{subject}\0{step}").as_bytes());
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    pub fn to_bus_event(&self) -> Result<BusEvent, serde_json::Error> {
        Ok(BusEvent {
            source: SOURCE_PROGRAMS.to_owned(),
            detail_type: MAIL_REQUESTED.to_owned(),
            time: self.requested_at,
            detail: serde_json::to_value(self)?,
        })
    }
}

/// The payload of the one-time schedule that brings back a mail send-mail deferred (quiet
/// hours, frequency cap): the timer puts the request back on the bus when it fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferredMail {
    pub deferred: MailRequest,
    /// The time it was deferred to: the request's time when it comes back, so a schedule
    /// fired late (or fast-forwarded, on the local stack) is judged at its own time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl DeferredMail {
    /// One schedule per mail: deferring it again moves it instead of adding another.
    pub fn schedule_name(&self) -> ScheduleName {
        ScheduleName::derived("mail", &[self.deferred.shop.as_str(), &self.deferred.message_key])
    }
}
