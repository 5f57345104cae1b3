//! The delivery ledger on DynamoDB: one small item per delivery, expiring after a week.
//!
//! `pk = SHOP#<shop>#DELIVERY#<hash of the event id>`, `sk = DELIVERY`, `state`
//! pending|done, `claimed_at` (epoch seconds), `owner`, `expires_at` (TTL). A claim is a conditional
//! put, so two concurrent deliveries of one event cannot both be `Fresh`.
//!
//! The event id is hashed because some ids carry a person's key: a browser beacon's is
//! `browser:<shop>:<visitor id>:<view>`, an API event's is whatever the caller chose (an
//! order number, an e-mail…). The ledger only ever compares ids, so a hash serves as well
//! and leaves nothing of the person for an erasure to find (GDPR: `use_cases::gdpr`).
//!
//! `owner` names the execution environment that claimed: Lambda runs one invocation at a
//! time in it, so a pending claim of our own is this request's (its put was applied, its
//! answer lost, and the SDK's retry found the item) or an earlier request's that answered
//! 5xx without releasing it. Either way it is ours to publish, not "in flight elsewhere".

use super::boxed;
use crate::ids::{EventId, ShopId};
use crate::ports::{Claim, DeliveryLedger, LedgerError};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Duration, Utc};

const SK: &str = "DELIVERY";
/// Shopify retries 8 times over 4 hours and deliveries can arrive a day late (SPECS: Shopify
/// webhooks); a week covers both with margin.
const KEEP_FOR: Duration = Duration::days(7);
/// A pending claim older than this was abandoned (the Lambda timed out or crashed between
/// claim and publish): a retry may take it over.
const STALE_AFTER: Duration = Duration::seconds(60);

pub struct DynamoLedger {
    client: Client,
    table: String,
    owner: String,
}

impl DynamoLedger {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        use std::hash::{BuildHasher, Hasher};
        // A random 64 bits per cold start: std's hasher keys are drawn from the OS.
        let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
        Self { client, table: table.into(), owner: format!("{}-{random:016x}", std::process::id()) }
    }

    fn key(shop: &ShopId, event: &EventId) -> [(String, AttributeValue); 2] {
        [
            ("pk".to_owned(), AttributeValue::S(delivery_pk(shop, event))),
            ("sk".to_owned(), AttributeValue::S(SK.to_owned())),
        ]
    }
}

/// The delivery's partition key: the shop (shop erasure finds it by prefix) and 32 bytes
/// of SHA-256 over the event id, in hex — collisions are out of reach, and the id's text
/// (which may name a visitor) is not kept.
pub fn delivery_pk(shop: &ShopId, event: &EventId) -> String {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(event.as_str().as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!("SHOP#{shop}#DELIVERY#{hex}")
}

fn epoch(t: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(t.timestamp().to_string())
}

#[async_trait]
impl DeliveryLedger for DynamoLedger {
    async fn claim(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<Claim, LedgerError> {
        let [pk, sk] = Self::key(shop, event);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(pk.0, pk.1)
            .item(sk.0, sk.1)
            .item("state", AttributeValue::S("pending".to_owned()))
            .item("claimed_at", epoch(now))
            .item("owner", AttributeValue::S(self.owner.clone()))
            .item("expires_at", epoch(now + KEEP_FOR))
            .condition_expression("attribute_not_exists(pk) OR (#state = :pending AND claimed_at < :stale)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", AttributeValue::S("pending".to_owned()))
            .expression_attribute_values(":stale", epoch(now - STALE_AFTER))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Fresh),
            Err(err) => match err.into_service_error() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    let text = |name: &str| {
                        failed.item.as_ref().and_then(|item| item.get(name)).and_then(|v| v.as_s().ok()).cloned()
                    };
                    Ok(match (text("state").as_deref(), text("owner")) {
                        (Some("done"), _) => Claim::Duplicate,
                        (_, Some(owner)) if owner == self.owner => Claim::Fresh,
                        _ => Claim::InFlight,
                    })
                }
                other => Err(LedgerError::Backend(boxed(other))),
            },
        }
    }

    async fn confirm(&self, shop: &ShopId, event: &EventId, now: DateTime<Utc>) -> Result<(), LedgerError> {
        let [pk, sk] = Self::key(shop, event);
        self.client
            .put_item()
            .table_name(&self.table)
            .item(pk.0, pk.1)
            .item(sk.0, sk.1)
            .item("state", AttributeValue::S("done".to_owned()))
            .item("claimed_at", epoch(now))
            .item("expires_at", epoch(now + KEEP_FOR))
            .send()
            .await
            .map_err(|e| LedgerError::Backend(boxed(e)))?;
        Ok(())
    }

    async fn release(&self, shop: &ShopId, event: &EventId) -> Result<(), LedgerError> {
        let [pk, sk] = Self::key(shop, event);
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            // Never undo a `done`: only our own pending claim is given back.
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", AttributeValue::S("pending".to_owned()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(err) => match err.into_service_error() {
                DeleteItemError::ConditionalCheckFailedException(_) => Ok(()),
                other => Err(LedgerError::Backend(boxed(other))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_key_keeps_the_shop_but_none_of_the_event_ids_text() {
        let shop = ShopId::parse("demo.myshopify.com").unwrap();
        let event = EventId::parse("browser:demo.myshopify.com:visitor-anne-42:view-7").unwrap();
        let pk = delivery_pk(&shop, &event);
        assert!(pk.starts_with("SHOP#demo.myshopify.com#DELIVERY#"), "{pk}");
        assert!(!pk.contains("visitor-anne-42") && !pk.contains("view-7"), "{pk}");
        assert_eq!(pk, delivery_pk(&shop, &event), "the same id, the same key");
        let other = EventId::parse("browser:demo.myshopify.com:visitor-anne-42:view-8").unwrap();
        assert_ne!(pk, delivery_pk(&shop, &other));
    }
}
