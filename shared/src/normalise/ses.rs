//! Amazon SES sending events, as a configuration set publishes them to EventBridge
//! (`source: aws.ses`, SPECS: Amazon SES), → what profile-update records.
//!
//! Only mail Relance sent is recognised: its [`MailTags`] name the shop, the profile and the
//! message. Soft bounces, sends, rejects and delivery delays change nothing on a profile.

use super::NormaliseError;
use crate::events::{MailEvent, MailSignal};
use crate::ids::EventId;
use crate::mail::MailTags;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What became of an SES event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    Event(MailEvent),
    Ignored { reason: &'static str },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_type: String,
    mail: Mail,
    #[serde(default)]
    bounce: Option<Timed>,
    #[serde(default)]
    complaint: Option<Timed>,
    #[serde(default)]
    delivery: Option<Timed>,
    #[serde(default)]
    open: Option<Timed>,
    #[serde(default)]
    click: Option<Timed>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    message_id: String,
    timestamp: DateTime<Utc>,
    #[serde(default)]
    tags: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Timed {
    #[serde(default)]
    timestamp: Option<DateTime<Utc>>,
    /// Bounces only: `Permanent`, `Transient` or `Undetermined`.
    #[serde(default)]
    bounce_type: Option<String>,
}

/// Reads the `detail` of an `aws.ses` event.
pub fn mail_event(detail: &serde_json::Value) -> Result<MailOutcome, NormaliseError> {
    let detail = Detail::deserialize(detail).map_err(NormaliseError::Json)?;
    let Some(tags) = MailTags::from_tags(&detail.mail.tags) else {
        return Ok(MailOutcome::Ignored { reason: "mail not sent by Relance (no relance tags)" });
    };
    let (signal, report) = match detail.event_type.as_str() {
        "Delivery" => (MailSignal::Delivered, detail.delivery),
        "Open" => (MailSignal::Opened, detail.open),
        "Click" => (MailSignal::Clicked, detail.click),
        "Complaint" => (MailSignal::Complaint, detail.complaint),
        "Bounce" => match detail.bounce {
            Some(bounce) if bounce.bounce_type.as_deref() == Some("Permanent") => {
                (MailSignal::HardBounce, Some(bounce))
            }
            _ => return Ok(MailOutcome::Ignored { reason: "soft bounce: SES retries, the address stays" }),
        },
        _ => return Ok(MailOutcome::Ignored { reason: "event type not recorded on profiles" }),
    };
    let at = report.and_then(|r| r.timestamp).unwrap_or(detail.mail.timestamp);
    let id = EventId::parse(format!("ses:{}:{}:{}", detail.mail.message_id, signal.as_str(), at.timestamp_millis()))
        .map_err(|e| NormaliseError::field("mail.messageId", e))?;
    Ok(MailOutcome::Event(MailEvent { tags, signal, at, provider_id: detail.mail.message_id, id }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn detail(event_type: &str, report: serde_json::Value) -> serde_json::Value {
        let tags: BTreeMap<String, Vec<String>> = MailTags {
            shop: crate::ids::ShopId::parse("demo.myshopify.com").unwrap(),
            profile: crate::ids::ProfileId::parse("e01").unwrap(),
            message: "m1".into(),
        }
        .to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), vec![v]))
        .chain([("ses:configuration-set".to_owned(), vec!["relance".to_owned()])])
        .collect();
        let mut detail = json!({
            "eventType": event_type,
            "mail": { "timestamp": "2026-11-23T10:00:00.000Z", "messageId": "0100abc", "destination": ["anne@example.fr"], "tags": tags },
        });
        detail[event_type.to_lowercase()] = report;
        detail
    }

    #[test]
    fn permanent_bounces_complaints_opens_and_clicks_are_recognised() {
        let cases = [
            ("Bounce", json!({"bounceType": "Permanent", "timestamp": "2026-11-23T10:01:00Z"}), MailSignal::HardBounce),
            ("Complaint", json!({"timestamp": "2026-11-23T11:00:00Z"}), MailSignal::Complaint),
            ("Open", json!({"timestamp": "2026-11-23T12:00:00Z"}), MailSignal::Opened),
            ("Click", json!({"timestamp": "2026-11-23T12:01:00Z", "link": "https://x"}), MailSignal::Clicked),
            ("Delivery", json!({"timestamp": "2026-11-23T10:00:02Z"}), MailSignal::Delivered),
        ];
        for (kind, report, signal) in cases {
            let MailOutcome::Event(event) = mail_event(&detail(kind, report)).unwrap() else { panic!("{kind}") };
            assert_eq!(event.signal, signal);
            assert_eq!(event.tags.shop.as_str(), "demo.myshopify.com");
            assert_eq!(event.provider_id, "0100abc");
            assert!(event.id.as_str().starts_with("ses:0100abc:"));
        }
    }

    #[test]
    fn soft_bounces_other_types_and_foreign_mail_are_ignored() {
        let soft = detail("Bounce", json!({"bounceType": "Transient", "timestamp": "2026-11-23T10:01:00Z"}));
        assert!(matches!(mail_event(&soft).unwrap(), MailOutcome::Ignored { .. }));
        assert!(matches!(mail_event(&detail("Send", json!({}))).unwrap(), MailOutcome::Ignored { .. }));
        let mut foreign = detail("Open", json!({"timestamp": "2026-11-23T12:00:00Z"}));
        foreign["mail"]["tags"] = json!({});
        assert!(matches!(mail_event(&foreign).unwrap(), MailOutcome::Ignored { .. }));
        assert!(mail_event(&json!({"eventType": "Open"})).is_err());
    }
}
