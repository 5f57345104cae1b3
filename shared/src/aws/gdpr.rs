//! GDPR's items in the profiles' table.
//!
//! - tombstone: `pk = SHOP#<shop>#TOMB#<hash>`, `sk = TOMB`, `erased_at` (epoch ms),
//!   `expires_at` (TTL). The hash is [`TombstoneKey`]; no attribute holds personal data.
//!   Under the shop's prefix, so shop erasure removes them too.
//! - shop erasure cursor: `pk = ERASURE#<shop>`, `sk = SHOP`, `pages`, `erased`, `finished`,
//!   `next` (the scan's last evaluated key, a map of strings), `expires_at` (TTL, a week
//!   after the last page). Outside the shop's prefix, so the erasure never deletes its own
//!   cursor; `next` is removed once finished.

use super::boxed;
use super::dynamo::DynamoProfileStore;
use crate::ids::ShopId;
use crate::ports::{ErasedPage, ErasureCursor, ScanPosition, ShopEraser, StoreError, TombstoneKey, Tombstones};
use crate::profile::Version;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::{BTreeMap, HashMap};

const TOMB_SK: &str = "TOMB";
const CURSOR_SK: &str = "SHOP";
/// A finished (or abandoned) erasure's cursor is forgotten this long after its last page.
const CURSOR_KEEP: Duration = Duration::days(7);

fn tomb_pk(shop: &ShopId, key: &TombstoneKey) -> AttributeValue {
    AttributeValue::S(format!("SHOP#{shop}#TOMB#{key}"))
}

fn cursor_pk(shop: &ShopId) -> AttributeValue {
    AttributeValue::S(format!("ERASURE#{shop}"))
}

fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn read_number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

#[async_trait]
impl Tombstones for DynamoProfileStore {
    async fn bury(
        &self,
        shop: &ShopId,
        keys: &[TombstoneKey],
        erased_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for key in keys {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", tomb_pk(shop, key))
                .item("sk", AttributeValue::S(TOMB_SK.to_owned()))
                .item("erased_at", number(erased_at.timestamp_millis()))
                .item("expires_at", number(expires_at.timestamp()))
                // A later erasure of the same key wins; an earlier one changes nothing.
                .condition_expression("attribute_not_exists(pk) OR erased_at < :at")
                .expression_attribute_values(":at", number(erased_at.timestamp_millis()))
                .send()
                .await;
            match put {
                Ok(_) => {}
                Err(err) => match err.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(_) => {}
                    other => return Err(StoreError::Backend(boxed(other))),
                },
            }
        }
        Ok(())
    }

    async fn erased_at(
        &self,
        shop: &ShopId,
        keys: &[TombstoneKey],
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut latest = None;
        for key in keys {
            let output = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("pk", tomb_pk(shop, key))
                .key("sk", AttributeValue::S(TOMB_SK.to_owned()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| StoreError::Backend(boxed(e)))?;
            let Some(item) = output.item else { continue };
            // TTL deletes late (SPECS: DynamoDB): an expired tombstone is gone.
            if read_number(&item, "expires_at").is_some_and(|at| at <= now.timestamp()) {
                continue;
            }
            let at = read_number(&item, "erased_at")
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                .ok_or_else(|| StoreError::Corrupt { entity: "tombstone", source: "no erased_at".into() })?;
            latest = latest.max(Some(at));
        }
        Ok(latest)
    }
}

fn position(key: HashMap<String, AttributeValue>) -> Result<ScanPosition, StoreError> {
    key.into_iter()
        .map(|(name, value)| match value {
            AttributeValue::S(text) => Ok((name, text)),
            _ => Err(StoreError::Corrupt { entity: "scan position", source: "a key that is not a string".into() }),
        })
        .collect::<Result<BTreeMap<_, _>, _>>()
        .map(ScanPosition)
}

fn key_of(position: &ScanPosition) -> HashMap<String, AttributeValue> {
    position.0.iter().map(|(name, text)| (name.clone(), AttributeValue::S(text.clone()))).collect()
}

#[async_trait]
impl ShopEraser for DynamoProfileStore {
    /// One Scan page of `limit` items (keys only) of the whole table, filtered to the
    /// shop's prefix, then their batch deletion: the work is bounded by `limit` whatever
    /// the shop's size.
    async fn erase_page(
        &self,
        shop: &ShopId,
        from: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<ErasedPage, StoreError> {
        let page = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :prefix)")
            .expression_attribute_values(":prefix", AttributeValue::S(format!("SHOP#{shop}#")))
            .projection_expression("pk, sk")
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(from.map(key_of))
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        let keys = page.items.unwrap_or_default();
        for chunk in keys.chunks(25) {
            let requests = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map_err(|e| StoreError::Backend(boxed(e)))?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.write_batch(requests, "shop erasure").await?;
        }
        let next = page.last_evaluated_key.filter(|k| !k.is_empty()).map(position).transpose()?;
        Ok(ErasedPage { erased: keys.len(), next })
    }

    async fn erasure_cursor(&self, shop: &ShopId) -> Result<Option<ErasureCursor>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", cursor_pk(shop))
            .key("sk", AttributeValue::S(CURSOR_SK.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        let Some(item) = output.item else { return Ok(None) };
        let next = match item.get("next") {
            Some(AttributeValue::M(map)) => Some(position(map.clone())?),
            _ => None,
        };
        Ok(Some(ErasureCursor {
            pages: read_number(&item, "pages").unwrap_or(0).max(0) as u64,
            erased: read_number(&item, "erased").unwrap_or(0).max(0) as u64,
            finished: item.get("finished").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
            next,
        }))
    }

    async fn save_erasure_cursor(
        &self,
        shop: &ShopId,
        cursor: &ErasureCursor,
        expected_pages: u64,
    ) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", cursor_pk(shop))
            .item("sk", AttributeValue::S(CURSOR_SK.to_owned()))
            .item("pages", number(cursor.pages))
            .item("erased", number(cursor.erased))
            .item("finished", AttributeValue::Bool(cursor.finished))
            .item("expires_at", number((Utc::now() + CURSOR_KEEP).timestamp()));
        if let Some(next) = &cursor.next {
            put = put.item("next", AttributeValue::M(key_of(next)));
        }
        put = if expected_pages == 0 {
            put.condition_expression("attribute_not_exists(pk) OR pages = :zero")
                .expression_attribute_values(":zero", number(0))
        } else {
            put.condition_expression("pages = :expected")
                .expression_attribute_values(":expected", number(expected_pages))
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(err) => match err.into_service_error() {
                PutItemError::ConditionalCheckFailedException(_) => {
                    Err(StoreError::Conflict { expected: Version(expected_pages) })
                }
                other => Err(StoreError::Backend(boxed(other))),
            },
        }
    }
}
