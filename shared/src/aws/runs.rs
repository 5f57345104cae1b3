//! The scratch space of a run split across invocations, in the profiles' table: one
//! partition per run (`pk = RUN#<run>`), parts as `sk = PART#<name>#<chunk>` (a part over
//! DynamoDB's 400 KB item limit is split into chunks), finished shards as a number set
//! (`sk = DONE#<phase>`). Every item carries `expires_at`, so the table's TTL clears a run.

use super::boxed;
use super::dynamo::DynamoProfileStore;
use crate::ports::{RunStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Room left in an item for its keys and counters.
const CHUNK_BYTES: usize = 350 * 1024;

fn run_pk(run: &str) -> AttributeValue {
    AttributeValue::S(format!("RUN#{run}"))
}

fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

#[async_trait]
impl RunStore for DynamoProfileStore {
    /// Chunk 0 says how many chunks the part has, so a part rewritten shorter is read whole
    /// and only whole (its longer predecessor's extra chunks are ignored, then expire).
    async fn put_part(&self, run: &str, name: &str, bytes: &[u8], expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        let chunks: Vec<&[u8]> = if bytes.is_empty() { vec![bytes] } else { bytes.chunks(CHUNK_BYTES).collect() };
        // Later chunks first: a reader that finds chunk 0 finds the others written.
        for (index, chunk) in chunks.iter().enumerate().rev() {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", run_pk(run))
                .item("sk", AttributeValue::S(format!("PART#{name}#{index:05}")))
                .item("data", AttributeValue::B(Blob::new(*chunk)))
                .item("chunks", number(chunks.len()))
                .item("expires_at", number(expires_at.timestamp()))
                .send()
                .await
                .map_err(|e| StoreError::Backend(boxed(e)))?;
        }
        Ok(())
    }

    async fn parts(&self, run: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let corrupt = |what: &'static str| StoreError::Corrupt { entity: "run part", source: what.into() };
        // name → (chunks announced by chunk 0, chunks read in order)
        let mut parts: BTreeMap<String, (usize, Vec<Vec<u8>>)> = BTreeMap::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", run_pk(run))
                .expression_attribute_values(":prefix", AttributeValue::S(format!("PART#{prefix}")))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::Backend(boxed(e)))?;
            for item in output.items.unwrap_or_default() {
                let sk = item.get("sk").and_then(|v| v.as_s().ok()).ok_or_else(|| corrupt("no sort key"))?;
                let (name, index) = sk
                    .strip_prefix("PART#")
                    .and_then(|rest| rest.rsplit_once('#'))
                    .ok_or_else(|| corrupt("sort key is not PART#<name>#<chunk>"))?;
                let chunks: usize = item
                    .get("chunks")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| corrupt("no chunk count"))?;
                let data = item.get("data").and_then(|v| v.as_b().ok()).ok_or_else(|| corrupt("no data"))?;
                let entry = parts.entry(name.to_owned()).or_insert((0, Vec::new()));
                if index == "00000" {
                    entry.0 = chunks;
                }
                entry.1.push(data.as_ref().to_vec());
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        parts
            .into_iter()
            .map(|(name, (chunks, read))| {
                if chunks == 0 || read.len() < chunks {
                    return Err(corrupt("a part is missing chunks"));
                }
                Ok((name, read.into_iter().take(chunks).flatten().collect()))
            })
            .collect()
    }

    /// `ADD` to a number set: a shard added twice is in it once, and the returned set is
    /// the one this write produced.
    async fn finish(&self, run: &str, phase: &str, shard: u32, expires_at: DateTime<Utc>) -> Result<u32, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", run_pk(run))
            .key("sk", AttributeValue::S(format!("DONE#{phase}")))
            .update_expression("ADD shards :shard SET expires_at = :expires")
            .expression_attribute_values(":shard", AttributeValue::Ns(vec![shard.to_string()]))
            .expression_attribute_values(":expires", number(expires_at.timestamp()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| StoreError::Backend(boxed(e)))?;
        let done =
            output.attributes.as_ref().and_then(|a| a.get("shards")).and_then(|v| v.as_ns().ok()).map_or(0, Vec::len);
        Ok(u32::try_from(done).unwrap_or(u32::MAX))
    }
}
