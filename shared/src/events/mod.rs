//! The canonical event model: what every platform's webhook becomes.
//!
//! One envelope ([`Event`]) carries the facts every consumer needs to file an event —
//! deterministic id, shop, platform, when it happened and was received, who it is about,
//! locale, time zone and acquisition — and a typed [`Payload`]. It is published on the bus
//! with `source = relance.ingest` and `detail-type =` [`Payload::detail_type`], the
//! envelope as `detail`. `schema_version` changes only with a breaking change; adding an
//! optional field is not one.

mod commerce;
mod mail;

pub use commerce::*;
pub use mail::{MailEvent, MailSignal};

use crate::bus::{BusEvent, SOURCE_INGEST};
use crate::ids::{Email, EventId, ExternalId, ProfileId, ShopId, VisitorId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Version of the envelope and payload schema carried by every event.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub schema_version: u32,
    /// Derived from the platform's own delivery or event id: a redelivery gets the same id.
    pub id: EventId,
    pub shop: ShopId,
    pub platform: Platform,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    #[serde(default)]
    pub identity: Identity,
    #[serde(default)]
    pub context: Context,
    pub payload: Payload,
}

/// The canonical id of an event sent through the generic API (`POST /v1/events`) under the
/// sender's `id`: namespaced by shop, so two shops' ids never meet, and the same sender id
/// always names the same event (a resend is a duplicate).
pub fn api_event_id(shop: &ShopId, id: &str) -> Result<EventId, crate::ids::IdError> {
    EventId::parse(format!("api:{shop}:{id}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Shopify,
    Woocommerce,
    /// The signed server-to-server API (`POST /v1/events`): PrestaShop, Magento, custom.
    Api,
    /// The public browser tracker (`POST /v1/track`).
    Browser,
    /// Relance itself: the unsubscribe link, mail events.
    Relance,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Shopify => "shopify",
            Platform::Woocommerce => "woocommerce",
            Platform::Api => "api",
            Platform::Browser => "browser",
            Platform::Relance => "relance",
        }
    }
}

/// Who the event is about, by every key the platform gave. Identity resolution (profile
/// issue) joins them into one profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<VisitorId>,
    /// Relance's own profile id, for events Relance itself originates about a profile it
    /// mailed (the unsubscribe link carries it, so the link holds no e-mail address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileId>,
}

impl Identity {
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.customer_id.is_none() && self.visitor_id.is_none() && self.profile.is_none()
    }
}

/// Circumstances of the event, when the platform told them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// BCP 47 tag (`fr`, `en-GB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// IANA zone (`Europe/Paris`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Acquisition::is_empty")]
    pub acquisition: Acquisition,
    /// The shop's past, sent by an import (`relance import`): it fills the profile like any
    /// event, but starts no program and asks for no mail, however recent it is. Without it,
    /// only age tells history from news ([`crate::programs::checkout::NEWS_WINDOW`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub history: bool,
}

/// Where the customer came from: landing-page UTM parameters, referrer, channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acquisition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing_site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referring_site: Option<String>,
    /// The platform's channel (`web`, `pos`, `shopify_draft_order`, `checkout`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
}

impl Acquisition {
    pub fn is_empty(&self) -> bool {
        *self == Acquisition::default()
    }

    /// Reads the UTM parameters of a landing URL or path (`/?utm_source=x&…`) and keeps
    /// the landing site itself too.
    pub fn from_landing(landing_site: Option<&str>, referring_site: Option<&str>, source_name: Option<&str>) -> Self {
        let clean = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let mut acquisition = Acquisition {
            landing_site: clean(landing_site),
            referring_site: clean(referring_site),
            source_name: clean(source_name),
            ..Default::default()
        };
        let query = landing_site.and_then(|l| l.split_once('?')).map(|(_, q)| q.split('#').next().unwrap_or(q));
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let value = Some(value.into_owned()).filter(|v| !v.is_empty());
            match key.as_ref() {
                "utm_source" => acquisition.utm_source = value,
                "utm_medium" => acquisition.utm_medium = value,
                "utm_campaign" => acquisition.utm_campaign = value,
                "utm_term" => acquisition.utm_term = value,
                "utm_content" => acquisition.utm_content = value,
                _ => {}
            }
        }
        acquisition
    }
}

impl Event {
    /// The event as a bus entry.
    pub fn to_bus_event(&self) -> Result<BusEvent, serde_json::Error> {
        Ok(BusEvent {
            source: SOURCE_INGEST.to_owned(),
            detail_type: self.payload.detail_type().to_owned(),
            time: self.occurred_at,
            detail: serde_json::to_value(self)?,
        })
    }
}
