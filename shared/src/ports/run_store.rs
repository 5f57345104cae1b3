//! The scratch space of a nightly run split across invocations.

use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryRunStore;

/// The scratch space of a run split across invocations: what each worker hands on, and who
/// has finished. Entries expire on their own a few days after the run.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Keeps `bytes` as the part `name` of `run`, replacing a part of that name; any size
    /// (the store splits what it must).
    async fn put_part(&self, run: &str, name: &str, bytes: &[u8], expires_at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Every part of `run` whose name starts with `prefix`, by name.
    async fn parts(&self, run: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Records that `shard` finished `phase` and returns how many distinct shards have: a
    /// retried shard counts once, so exactly the calls after the last shard's see them all.
    async fn finish(&self, run: &str, phase: &str, shard: u32, expires_at: DateTime<Utc>) -> Result<u32, StoreError>;
}
