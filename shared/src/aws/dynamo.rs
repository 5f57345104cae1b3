//! The profile store on DynamoDB.
//!
//! Single-table layout (see README, "Data model"): a profile is the item
//! `pk = SHOP#<shop>#P#<profile>`, `sk = PROFILE`, with a `version` attribute for
//! optimistic concurrency. The profile's other items (orders, checkouts, activity) share
//! its `pk`, so one Query reads a customer and one key prefix erases them.

use super::boxed;
use crate::ids::{ProfileId, ShopId};
use crate::ports::{ProfileStore, StoreError};
use crate::profile::{Profile, Version, Versioned};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

pub const PROFILE_SK: &str = "PROFILE";

/// Partition key of everything that belongs to one customer.
pub fn customer_pk(shop: &ShopId, id: &ProfileId) -> String {
    format!("SHOP#{shop}#P#{id}")
}

#[derive(Serialize, Deserialize)]
struct ProfileItem {
    pk: String,
    sk: String,
    version: u64,
    #[serde(flatten)]
    profile: Profile,
}

pub struct DynamoProfileStore {
    client: Client,
    table: String,
}

impl DynamoProfileStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
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
        let next = expected.next();
        let item = ProfileItem {
            pk: customer_pk(&profile.shop, &profile.id),
            sk: PROFILE_SK.to_owned(),
            version: next.0,
            profile: profile.clone(),
        };
        let item =
            serde_dynamo::to_item(item).map_err(|e| StoreError::Corrupt { entity: "profile", source: boxed(e) })?;
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let request = if expected == Version::NEW {
            request.condition_expression("attribute_not_exists(pk)")
        } else {
            request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.0.to_string()))
        };
        match request.send().await {
            Ok(_) => Ok(next),
            Err(err) => match err.into_service_error() {
                PutItemError::ConditionalCheckFailedException(_) => Err(StoreError::Conflict { expected }),
                other => Err(StoreError::Backend(boxed(other))),
            },
        }
    }
}
