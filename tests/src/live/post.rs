//! What the shop and the outside world send: webhooks, API events and beacons through
//! webhook-ingest's function URL, and the events SES and a marketer put on the buses.

use super::LiveShop;
use crate::mailbox::StoredMail;
use crate::ses_events::{Signal, entry};
use crate::signed::Answer;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The generic API's batch limit.
pub const API_BATCH: usize = 100;

impl LiveShop {
    /// A Shopify webhook, signed with the shop's Shopify secret. Shopify redelivers with the
    /// same `event_id`: pass it again to send a duplicate.
    pub async fn post_shopify(&self, topic: &str, event_id: &str, body: &Value) -> Answer {
        self.client.shopify(topic, event_id, body).await.unwrap_or_else(|e| panic!("POST {topic}: {e}"))
    }

    /// A WooCommerce webhook, signed with the shop's WooCommerce secret.
    pub async fn post_woocommerce(&self, topic: &str, delivery_id: &str, body: &Value) -> Answer {
        self.client.woocommerce(topic, delivery_id, body).await.unwrap_or_else(|e| panic!("POST {topic}: {e}"))
    }

    /// One generic-API event, signed now (`POST /v1/events`).
    pub async fn post_api(&self, event: Value) -> Answer {
        self.post_api_batch(&[event]).await
    }

    /// Generic-API events in one signed batch of at most [`API_BATCH`].
    pub async fn post_api_batch(&self, events: &[Value]) -> Answer {
        self.client.api(events).await.unwrap_or_else(|e| panic!("POST /v1/events: {e}"))
    }

    /// A browser tracker beacon from the shop's allowed origin (`POST /v1/track`).
    pub async fn track(&self, beacon: &Value) -> Answer {
        self.client.track(beacon).await.unwrap_or_else(|e| panic!("POST /v1/track: {e}"))
    }

    /// The one-click unsubscribe POST of a mail's link token.
    pub async fn unsubscribe(&self, token: &str) -> Answer {
        self.client.unsubscribe(token).await.unwrap_or_else(|e| panic!("POST /unsubscribe: {e}"))
    }

    /// What SES publishes on the default bus when `mail` (sent under `message_key`) gets
    /// `signals` at `at`: the emulator publishes nothing itself.
    pub async fn report_ses(&self, mail: &StoredMail, message_key: &str, signals: &[Signal], at: DateTime<Utc>) {
        let secret = &self.client.keys.unsubscribe;
        let entries = signals
            .iter()
            .map(|&signal| entry(mail, secret, message_key, signal, at).expect("a mail naming its profile"))
            .collect();
        self.put_events(entries).await;
    }

    /// A marketer's `aws events put-events` of a `campaign.requested` on Relance's bus.
    pub async fn request_campaign(&self, detail: &Value) {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(self.stack.var("RELANCE_BUS").expect("the bus"))
            .source("marketing.team")
            .detail_type("campaign.requested")
            .detail(detail.to_string())
            .build();
        self.put_events(vec![entry]).await;
    }

    async fn put_events(&self, entries: Vec<PutEventsRequestEntry>) {
        let client = self.stack.eventbridge();
        client.put_events().set_entries(Some(entries)).send().await.expect("PutEvents");
    }
}
