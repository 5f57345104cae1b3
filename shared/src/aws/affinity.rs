//! The affinity table in the single table: `pk = SHOP#<shop>#AFFINITY`, `sk = <product id>`,
//! the entry as a map, `expires_at` a week on (TTL), so a product no longer bought drops out
//! once the nightly run stops rewriting it.

use super::boxed;
use super::dynamo::DynamoProfileStore;
use crate::ids::{ExternalId, ShopId};
use crate::ports::{AffinityStore, StoreError};
use crate::programs::affinity::ProductAffinity;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{DateTime, Duration, Utc};

/// How long an entry outlives the night that wrote it.
const KEPT: Duration = Duration::days(7);
/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;

fn pk(shop: &ShopId) -> AttributeValue {
    AttributeValue::S(format!("SHOP#{shop}#AFFINITY"))
}

#[async_trait]
impl AffinityStore for DynamoProfileStore {
    async fn save_affinities(
        &self,
        shop: &ShopId,
        entries: &[ProductAffinity],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let expires = AttributeValue::N((now + KEPT).timestamp().to_string());
        for chunk in entries.chunks(BATCH) {
            let requests = chunk
                .iter()
                .map(|entry| {
                    let value = serde_dynamo::to_attribute_value(entry)
                        .map_err(|e| StoreError::Corrupt { entity: "affinity", source: boxed(e) })?;
                    let put = PutRequest::builder()
                        .item("pk", pk(shop))
                        .item("sk", AttributeValue::S(entry.product.to_string()))
                        .item("affinity", value)
                        .item("expires_at", expires.clone())
                        .build()
                        .map_err(|e| StoreError::Backend(boxed(e)))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.write_batch(requests, "affinity table").await?;
        }
        Ok(())
    }

    async fn load_affinities(
        &self,
        shop: &ShopId,
        products: &[ExternalId],
    ) -> Result<Vec<ProductAffinity>, StoreError> {
        let mut entries = Vec::with_capacity(products.len());
        for product in products {
            let output = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("pk", pk(shop))
                .key("sk", AttributeValue::S(product.to_string()))
                .send()
                .await
                .map_err(|e| StoreError::Backend(boxed(e)))?;
            if let Some(value) = output.item.and_then(|mut item| item.remove("affinity")) {
                entries.push(
                    serde_dynamo::from_attribute_value(value)
                        .map_err(|e| StoreError::Corrupt { entity: "affinity", source: boxed(e) })?,
                );
            }
        }
        Ok(entries)
    }
}
