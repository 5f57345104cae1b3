//! A run's parts and finished shards in memory.

use crate::ports::fake::lock;
use crate::ports::{RunStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryRunStore {
    parts: Mutex<BTreeMap<(String, String), Vec<u8>>>,
    finished: Mutex<BTreeMap<(String, String), BTreeSet<u32>>>,
}

#[async_trait]
impl RunStore for MemoryRunStore {
    async fn put_part(
        &self,
        run: &str,
        name: &str,
        bytes: &[u8],
        _expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        lock(&self.parts).insert((run.to_owned(), name.to_owned()), bytes.to_vec());
        Ok(())
    }

    async fn parts(&self, run: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(lock(&self.parts)
            .iter()
            .filter(|((r, name), _)| r == run && name.starts_with(prefix))
            .map(|((_, name), bytes)| (name.clone(), bytes.clone()))
            .collect())
    }

    async fn finish(&self, run: &str, phase: &str, shard: u32, _expires_at: DateTime<Utc>) -> Result<u32, StoreError> {
        let mut finished = lock(&self.finished);
        let shards = finished.entry((run.to_owned(), phase.to_owned())).or_default();
        shards.insert(shard);
        Ok(u32::try_from(shards.len()).unwrap_or(u32::MAX))
    }
}
