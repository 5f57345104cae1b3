//! The profile store on DynamoDB.
//!
//! Single-table layout (see README, "Data model"):
//! - profile: `pk = SHOP#<shop>#P#<profile>`, `sk = PROFILE`, `version` for optimistic
//!   concurrency, `gsi2pk = SHOP#<shop>#PROFILES` (a sparse index of a shop's profiles);
//! - identity map: `pk = SHOP#<shop>#ID#<kind>:<value>`, `sk = ID`, `profile`.
//!
//! The profile's other items (orders, checkouts, activity) share its `pk`, so one Query
//! reads a customer and one key prefix erases them.

use super::boxed;
use crate::ids::{ProfileId, ShopId};
use crate::ports::{ProfilePage, SegmentStore, Shard};
use crate::ports::{ProfileStore, StoreError};
use crate::profile::IdentityKey;
use crate::profile::{Profile, Record, RecordKey, Version, Versioned};
use crate::segments::Summary;
use crate::segments::{Segment, SegmentState};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const PROFILE_SK: &str = "PROFILE";
/// SPECS: DynamoDB — items are at most 400 KB.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// An item's size as DynamoDB counts it: attribute names plus values (strings and binary by
/// length, numbers about one byte per two digits plus one, 3 bytes per list or map plus one
/// per element). Close enough to refuse an item before DynamoDB does, with a clear error.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// Partition key of everything that belongs to one customer.
pub fn customer_pk(shop: &ShopId, id: &ProfileId) -> String {
    format!("SHOP#{shop}#P#{id}")
}

fn identity_pk(shop: &ShopId, key: &IdentityKey) -> String {
    format!("SHOP#{shop}#ID#{key}")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

#[derive(Serialize, Deserialize)]
struct ProfileItem {
    pk: String,
    sk: String,
    /// The shop's sparse profile index (GSI `gsi2`): shop erasure and nightly scoring.
    gsi2pk: String,
    gsi2sk: String,
    /// The segment index (GSI `gsi1`): `SHOP#<shop>#SEG#<segment>`, for campaigns; absent
    /// for a profile without a segment, so the index stays sparse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    version: u64,
    #[serde(flatten)]
    profile: Profile,
}

/// Partition key of a segment's members in `gsi1`.
pub fn segment_pk(shop: &ShopId, segment: Segment) -> String {
    format!("SHOP#{shop}#SEG#{}", segment.as_str())
}

fn profiles_pk(shop: &ShopId) -> String {
    format!("SHOP#{shop}#PROFILES")
}

/// The profile item the store writes at `version`, index keys included. Public so that a
/// table can be seeded in bulk (BatchWriteItem) with exactly the items the store reads.
pub fn profile_item(profile: &Profile, version: Version) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let segment = profile.segment.and_then(|s| s.segment);
    let item = ProfileItem {
        pk: customer_pk(&profile.shop, &profile.id),
        sk: PROFILE_SK.to_owned(),
        gsi2pk: profiles_pk(&profile.shop),
        gsi2sk: profile.id.to_string(),
        gsi1pk: segment.map(|s| segment_pk(&profile.shop, s)),
        gsi1sk: segment.map(|_| profile.id.to_string()),
        version: version.0,
        profile: profile.clone(),
    };
    serde_dynamo::to_item(item).map_err(|e| StoreError::Corrupt { entity: "profile", source: boxed(e) })
}

/// The key of a shop's nightly summary, which [`SegmentStore::save_summary`] writes under
/// [`SUMMARY_ATTRIBUTE`]. Nothing in production reads it back; reports and tests do.
pub fn summary_key(shop: &ShopId) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(format!("SHOP#{shop}#SUMMARY"))), ("sk".to_owned(), s("SEGMENTS"))])
}

pub const SUMMARY_ATTRIBUTE: &str = "summary";

/// A record beside the profile: same `pk`, `sk` from [`RecordKey`], `expires_at` for the
/// table's TTL.
#[derive(Serialize, Deserialize)]
struct RecordItem {
    pk: String,
    sk: String,
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(flatten)]
    record: Record,
}

/// DynamoDB's own refusal of an item over its size limit (a `ValidationException`, SPECS:
/// DynamoDB): a permanent [`StoreError::TooLarge`], not an outage to retry.
fn over_item_limit(error: &impl aws_sdk_dynamodb::error::ProvideErrorMetadata) -> bool {
    error.code() == Some("ValidationException")
        && error.message().is_some_and(|m| m.contains("Item size has exceeded the maximum allowed size"))
}

/// Refused here with a clear error rather than by DynamoDB with a generic one.
fn check_size(item: &HashMap<String, AttributeValue>) -> Result<(), StoreError> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::TooLarge { size, limit: MAX_ITEM_BYTES });
    }
    Ok(())
}

/// The condition of an optimistic write: absent for [`Version::NEW`], else still `expected`.
fn versioned_put(table: &str, item: HashMap<String, AttributeValue>, expected: Version) -> Result<Put, StoreError> {
    let put = Put::builder().table_name(table).set_item(Some(item));
    let put = if expected == Version::NEW {
        put.condition_expression("attribute_not_exists(pk)")
    } else {
        put.condition_expression("version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.0.to_string()))
    };
    put.build().map_err(|e| StoreError::Backend(boxed(e)))
}

pub struct DynamoProfileStore {
    pub(super) client: Client,
    pub(super) table: String,
}

impl DynamoProfileStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// One BatchWriteItem of at most 25 requests, resending what DynamoDB leaves
    /// unprocessed under load (a few rounds, then an error naming `what`, so the caller's
    /// retry takes it from there).
    pub(super) async fn write_batch(
        &self,
        mut requests: Vec<aws_sdk_dynamodb::types::WriteRequest>,
        what: &str,
    ) -> Result<(), StoreError> {
        for _ in 0..8 {
            if requests.is_empty() {
                return Ok(());
            }
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(|e| StoreError::Backend(boxed(e)))?;
            requests = output.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
        }
        if requests.is_empty() {
            return Ok(());
        }
        Err(StoreError::Backend(format!("{what}: items left unprocessed").into()))
    }

    /// One page (DynamoDB's 1 MB) of profile items of an index partition; the cursor is the
    /// page's last key as JSON. Index reads are eventually consistent: a version read here
    /// may be stale, and a conditional write then says so.
    async fn index_page(
        &self,
        index: &str,
        key: &str,
        value: String,
        cursor: Option<String>,
    ) -> Result<ProfilePage, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#key = :value")
            .expression_attribute_names("#key", key)
            .expression_attribute_values(":value", s(value))
            .set_exclusive_start_key(start_key(cursor)?)
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        profile_page(output.items.unwrap_or_default(), output.last_evaluated_key)
    }
    /// The profile item and the condition that it is still at `expected`.
    fn profile_put(&self, profile: &Profile, expected: Version) -> Result<Put, StoreError> {
        let item = profile_item(profile, expected.next())?;
        check_size(&item)?;
        versioned_put(&self.table, item, expected)
    }

    /// Sends a conditional put; a failed condition is a [`StoreError::Conflict`].
    async fn put_versioned(&self, put: Put, expected: Version) -> Result<Version, StoreError> {
        let size = item_size(&put.item);
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .set_expression_attribute_values(put.expression_attribute_values);
        match request.send().await {
            Ok(_) => Ok(expected.next()),
            Err(err) => match err.into_service_error() {
                PutItemError::ConditionalCheckFailedException(_) => Err(StoreError::Conflict { expected }),
                // Our estimate let it through, DynamoDB's count did not: the same refusal.
                other if over_item_limit(&other) => Err(StoreError::TooLarge { size, limit: MAX_ITEM_BYTES }),
                other => Err(StoreError::Backend(boxed(other))),
            },
        }
    }

    async fn delete_key(&self, pk: String, sk: String) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        Ok(())
    }
}

#[async_trait]
impl ProfileStore for DynamoProfileStore {
    #[tracing::instrument(skip(self), fields(shop = %shop, profile = %id))]
    async fn load(&self, shop: &ShopId, id: &ProfileId) -> Result<Option<Versioned<Profile>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(customer_pk(shop, id)))
            .key("sk", AttributeValue::S(PROFILE_SK.to_owned()))
            // Read-modify-write must start from the latest version, or every write conflicts.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        let Some(item) = output.item else { return Ok(None) };
        let item: ProfileItem =
            serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt { entity: "profile", source: boxed(e) })?;
        Ok(Some(Versioned { value: item.profile, version: Version(item.version) }))
    }

    #[tracing::instrument(skip(self, profile), fields(shop = %profile.shop, profile = %profile.id))]
    async fn save(&self, profile: &Profile, expected: Version) -> Result<Version, StoreError> {
        let put = self.profile_put(profile, expected)?;
        self.put_versioned(put, expected).await
    }

    async fn find_identity(&self, shop: &ShopId, key: &IdentityKey) -> Result<Option<ProfileId>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(identity_pk(shop, key)))
            .key("sk", s("ID"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        output.item.as_ref().and_then(|item| item.get("profile")).map(owner).transpose()
    }

    async fn claim_identity(
        &self,
        shop: &ShopId,
        key: &IdentityKey,
        profile: &ProfileId,
    ) -> Result<ProfileId, StoreError> {
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(identity_pk(shop, key)))
            .item("sk", s("ID"))
            .item("profile", s(profile.as_str()))
            .condition_expression("attribute_not_exists(pk) OR #profile = :profile")
            .expression_attribute_names("#profile", "profile")
            .expression_attribute_values(":profile", s(profile.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(profile.clone()),
            Err(err) => match err.into_service_error() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    let current = failed.item.as_ref().and_then(|item| item.get("profile"));
                    current.map(owner).transpose()?.ok_or_else(|| StoreError::Corrupt {
                        entity: "identity map",
                        source: "no profile attribute".into(),
                    })
                }
                other => Err(StoreError::Backend(boxed(other))),
            },
        }
    }

    async fn move_identity(&self, shop: &ShopId, key: &IdentityKey, profile: &ProfileId) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(identity_pk(shop, key)))
            .item("sk", s("ID"))
            .item("profile", s(profile.as_str()))
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        Ok(())
    }

    async fn delete_identity(&self, shop: &ShopId, key: &IdentityKey) -> Result<(), StoreError> {
        self.delete_key(identity_pk(shop, key), "ID".to_owned()).await
    }

    /// Every item key of the shop starts with `SHOP#<shop>#`, whatever the item: a scan with
    /// that filter finds them all. A full scan is costly, but shop erasure comes once, 48 h
    /// after the app is uninstalled.
    async fn delete_profile(&self, shop: &ShopId, id: &ProfileId) -> Result<(), StoreError> {
        self.delete_key(customer_pk(shop, id), PROFILE_SK.to_owned()).await
    }

    async fn load_record(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        key: &RecordKey,
    ) -> Result<Option<Versioned<Record>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(customer_pk(shop, profile)))
            .key("sk", s(key.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        let Some(item) = output.item else { return Ok(None) };
        let item: RecordItem =
            serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt { entity: "record", source: boxed(e) })?;
        Ok(Some(Versioned { value: item.record, version: Version(item.version) }))
    }

    #[tracing::instrument(skip(self, record), fields(shop = %shop, profile = %profile))]
    async fn save_record(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        record: &Record,
        expected: Version,
    ) -> Result<Version, StoreError> {
        let item = RecordItem {
            pk: customer_pk(shop, profile),
            sk: record.key().to_string(),
            version: expected.next().0,
            expires_at: record.expires_at().map(|at| at.timestamp()),
            record: record.clone(),
        };
        let item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(item).map_err(|e| StoreError::Corrupt { entity: "record", source: boxed(e) })?;
        check_size(&item)?;
        self.put_versioned(versioned_put(&self.table, item, expected)?, expected).await
    }

    async fn records(&self, shop: &ShopId, profile: &ProfileId) -> Result<Vec<Record>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .filter_expression("sk <> :profile")
            .expression_attribute_values(":pk", s(customer_pk(shop, profile)))
            .expression_attribute_values(":profile", s(PROFILE_SK))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut records = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| StoreError::Backend(boxed(e)))?;
            for item in page.items.unwrap_or_default() {
                let item: RecordItem = serde_dynamo::from_item(item)
                    .map_err(|e| StoreError::Corrupt { entity: "record", source: boxed(e) })?;
                records.push(item.record);
            }
        }
        Ok(records)
    }

    async fn delete_record(&self, shop: &ShopId, profile: &ProfileId, key: &RecordKey) -> Result<(), StoreError> {
        self.delete_key(customer_pk(shop, profile), key.to_string()).await
    }
}

#[async_trait]
impl SegmentStore for DynamoProfileStore {
    /// A Query of the shop's sparse profile index (`gsi2`), page by page.
    async fn profiles_page(&self, shop: &ShopId, cursor: Option<String>) -> Result<ProfilePage, StoreError> {
        self.index_page("gsi2", "gsi2pk", profiles_pk(shop), cursor).await
    }

    /// A Query of the segment's `gsi1` partition, which the nightly run keeps.
    async fn members_page(
        &self,
        shop: &ShopId,
        segment: Segment,
        cursor: Option<String>,
    ) -> Result<ProfilePage, StoreError> {
        self.index_page("gsi1", "gsi1pk", segment_pk(shop, segment), cursor).await
    }

    /// One UpdateItem: the standing, the segment index keys and the version, conditioned on
    /// the version read — the profile's other attributes are not rewritten.
    async fn set_segment(
        &self,
        shop: &ShopId,
        profile: &ProfileId,
        expected: Version,
        state: &SegmentState,
    ) -> Result<Version, StoreError> {
        let value = serde_dynamo::to_attribute_value(state)
            .map_err(|e| StoreError::Corrupt { entity: "segment", source: boxed(e) })?;
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(customer_pk(shop, profile)))
            .key("sk", s(PROFILE_SK))
            .condition_expression("version = :expected")
            .expression_attribute_names("#segment", "segment")
            .expression_attribute_values(":state", value)
            .expression_attribute_values(":expected", AttributeValue::N(expected.0.to_string()))
            .expression_attribute_values(":next", AttributeValue::N(expected.next().0.to_string()));
        let request = match state.segment {
            Some(segment) => request
                .update_expression("SET #segment = :state, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, version = :next")
                .expression_attribute_values(":gsi1pk", s(segment_pk(shop, segment)))
                .expression_attribute_values(":gsi1sk", s(profile.as_str())),
            None => request.update_expression("SET #segment = :state, version = :next REMOVE gsi1pk, gsi1sk"),
        };
        match request.send().await {
            Ok(_) => Ok(expected.next()),
            Err(err) => match err.into_service_error() {
                aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_) => {
                    Err(StoreError::Conflict { expected })
                }
                other => Err(StoreError::Backend(boxed(other))),
            },
        }
    }

    async fn save_summary(&self, shop: &ShopId, summary: &Summary) -> Result<(), StoreError> {
        let summary = serde_dynamo::to_attribute_value(summary)
            .map_err(|e| StoreError::Corrupt { entity: "summary", source: boxed(e) })?;
        let mut item = summary_key(shop);
        item.insert(SUMMARY_ATTRIBUTE.to_owned(), summary);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        Ok(())
    }

    /// A parallel-scan segment of the profile index `gsi2`: every shop's profiles and
    /// nothing else (the index is sparse), DynamoDB splitting them between the segments.
    async fn shard_page(&self, shard: Shard, cursor: Option<String>) -> Result<ProfilePage, StoreError> {
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .index_name("gsi2")
            .segment(i32::try_from(shard.index).unwrap_or(i32::MAX))
            .total_segments(i32::try_from(shard.of).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key(cursor)?)
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        profile_page(output.items.unwrap_or_default(), output.last_evaluated_key)
    }
}

/// The key a page cursor names (its text is the previous page's last key as JSON).
fn start_key(cursor: Option<String>) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
    let Some(cursor) = cursor else { return Ok(None) };
    let key = serde_json::from_str::<HashMap<String, String>>(&cursor)
        .map_err(|e| StoreError::Corrupt { entity: "page cursor", source: boxed(e) })?;
    Ok(Some(key.into_iter().map(|(k, v)| (k, s(v))).collect()))
}

/// Profile items and the cursor of the next page.
fn profile_page(
    items: Vec<HashMap<String, AttributeValue>>,
    last_key: Option<HashMap<String, AttributeValue>>,
) -> Result<ProfilePage, StoreError> {
    let profiles = items
        .into_iter()
        .map(|item| {
            let item: ProfileItem = serde_dynamo::from_item(item)
                .map_err(|e| StoreError::Corrupt { entity: "profile", source: boxed(e) })?;
            Ok(Versioned { value: item.profile, version: Version(item.version) })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let next = match last_key {
        Some(key) => {
            let key: HashMap<String, String> =
                key.into_iter().filter_map(|(k, v)| v.as_s().ok().map(|v| (k, v.clone()))).collect();
            Some(
                serde_json::to_string(&key)
                    .map_err(|e| StoreError::Corrupt { entity: "page cursor", source: boxed(e) })?,
            )
        }
        None => None,
    };
    Ok(ProfilePage { profiles, next })
}

fn owner(value: &AttributeValue) -> Result<ProfileId, StoreError> {
    let text = value
        .as_s()
        .map_err(|_| StoreError::Corrupt { entity: "identity map", source: "profile is not a string".into() })?;
    ProfileId::parse(text.as_str()).map_err(|e| StoreError::Corrupt { entity: "identity map", source: boxed(e) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, Identity, LineItem, Order, Payload, Platform, SCHEMA_VERSION};
    use crate::ids::{Email, EventId, ExternalId};
    use crate::money::{Currency, Money};
    use chrono::{Duration, TimeZone, Utc};

    /// A customer with 1,000 orders of 3 lines each (12 distinct products), and the full
    /// window of applied-event ids.
    fn heavy_customer() -> Profile {
        let t0 = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        let shop = ShopId::parse("a-long-shop-name.myshopify.com").unwrap();
        let mut profile =
            Profile::new(shop.clone(), ProfileId::parse("e0123456789abcdef0123456789abcdef").unwrap(), t0);
        let eur = Currency::parse("EUR").unwrap();
        for n in 0..1_000u32 {
            let lines = (0..3)
                .map(|l| LineItem {
                    product_id: Some(
                        ExternalId::parse(format!("{}", 8_000_000_000_000u64 + u64::from((n + l) % 12))).unwrap(),
                    ),
                    variant_id: None,
                    sku: Some(format!("SKU-{l}")),
                    title: "Cuvée des Vignes, millésime 2024".into(),
                    variant_title: Some("75 cl".into()),
                    quantity: 2,
                    unit_price: Money::from_minor(2490, eur),
                    vendor: Some("Domaine de la Relance".into()),
                    product_type: Some("Vin rouge".into()),
                    categories: vec!["vins-rouges".into(), "bourgogne".into()],
                    image_url: None,
                })
                .collect();
            let event = Event {
                schema_version: SCHEMA_VERSION,
                id: EventId::parse(format!("shopify:{shop}:0b8c3f7a-4e2d-4a61-9d5e-{n:012}")).unwrap(),
                shop: shop.clone(),
                platform: Platform::Shopify,
                occurred_at: t0 + Duration::hours(i64::from(n) * 30),
                received_at: t0 + Duration::hours(i64::from(n) * 30),
                identity: Identity { email: Some(Email::parse("anne@example.fr").unwrap()), ..Identity::default() },
                context: Default::default(),
                payload: Payload::OrderPlaced(Order {
                    order_id: ExternalId::parse(format!("{}", 5_000_000_000_000u64 + u64::from(n))).unwrap(),
                    name: Some(format!("#{}", 1000 + n)),
                    checkout_token: None,
                    cart_token: None,
                    line_items: lines,
                    subtotal: None,
                    total: Money::from_minor(14_940, eur),
                    total_discounts: None,
                    discount_codes: vec![],
                    financial_status: Some("paid".into()),
                    fulfillment_status: None,
                    cancelled_at: None,
                }),
            };
            profile.apply(&event);
        }
        // The applied-id window at its cap, with ids as long as real ones.
        for n in 0..crate::profile::APPLIED_MAX {
            let id = EventId::parse(format!("shopify:{shop}:0b8c3f7a-4e2d-4a61-9d5e-{n:012}")).unwrap();
            profile.remember_applied(&id, t0 + Duration::days(3000));
        }
        profile
    }

    #[test]
    fn a_customer_with_a_thousand_orders_fits_in_one_profile_item() {
        let profile = heavy_customer();
        assert_eq!(profile.stats().orders, 1_000);
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(ProfileItem {
            pk: customer_pk(&profile.shop, &profile.id),
            sk: PROFILE_SK.to_owned(),
            gsi2pk: profiles_pk(&profile.shop),
            gsi2sk: profile.id.to_string(),
            gsi1pk: None,
            gsi1sk: None,
            version: 1,
            profile,
        })
        .unwrap();
        let size = item_size(&item);
        println!("profile item with 1,000 orders: {size} bytes");
        assert!(size < MAX_ITEM_BYTES, "{size} bytes");
    }

    #[test]
    fn an_order_of_five_hundred_lines_fits_in_its_order_item() {
        let profile = heavy_customer();
        let event = |n: u32| {
            let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let mut lines = Vec::new();
            for l in 0..500u64 {
                lines.push(LineItem {
                    product_id: Some(ExternalId::parse(format!("{}", 8_000_000_000_000u64 + l)).unwrap()),
                    variant_id: Some(ExternalId::parse(format!("{}", 9_000_000_000_000u64 + l)).unwrap()),
                    sku: Some(format!("SKU-{l:06}")),
                    title: "Cuvée des Vignes, millésime 2024 — coffret de dégustation".into(),
                    variant_title: Some("75 cl".into()),
                    quantity: 2,
                    unit_price: Money::from_minor(2490, Currency::parse("EUR").unwrap()),
                    vendor: Some("Domaine de la Relance".into()),
                    product_type: Some("Vin rouge".into()),
                    categories: vec!["vins-rouges".into(), "bourgogne".into()],
                    image_url: Some(format!("https://cdn.shopify.com/s/files/1/0000/0001/products/{l}.jpg")),
                })
            }
            let order = Order {
                order_id: ExternalId::parse("5000000000001").unwrap(),
                name: Some("#1001".into()),
                checkout_token: None,
                cart_token: None,
                line_items: lines,
                subtotal: None,
                total: Money::from_minor(2_490_000, Currency::parse("EUR").unwrap()),
                total_discounts: None,
                discount_codes: vec![],
                financial_status: Some("paid".into()),
                fulfillment_status: None,
                cancelled_at: None,
            };
            Event {
                schema_version: SCHEMA_VERSION,
                id: EventId::parse(format!("shopify:{}:{n}", profile.shop)).unwrap(),
                shop: profile.shop.clone(),
                platform: Platform::Shopify,
                occurred_at: at,
                received_at: at,
                identity: Identity::default(),
                context: Default::default(),
                payload: if n == 0 { Payload::OrderPlaced(order) } else { Payload::OrderPaid(order) },
            }
        };
        let mut record = Record::from_event(&event(0)).remove(0);
        record.join(Record::from_event(&event(1)).remove(0));
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(RecordItem {
            pk: customer_pk(&profile.shop, &profile.id),
            sk: record.key().to_string(),
            version: 1,
            expires_at: None,
            record,
        })
        .unwrap();
        let size = item_size(&item);
        println!("order item with 500 lines: {size} bytes");
        assert!(size < MAX_ITEM_BYTES, "{size} bytes");
    }

    #[test]
    fn dynamodbs_item_size_refusal_is_told_from_other_validation_errors() {
        use aws_sdk_dynamodb::error::ErrorMetadata;
        let refusal = |message: &str| {
            PutItemError::generic(ErrorMetadata::builder().code("ValidationException").message(message).build())
        };
        assert!(over_item_limit(&refusal("Item size has exceeded the maximum allowed size")));
        assert!(!over_item_limit(&refusal("One or more parameter values were invalid")));
        let throttled = PutItemError::generic(ErrorMetadata::builder().code("ThrottlingException").build());
        assert!(!over_item_limit(&throttled));
    }
}
