//! Where a customer's data export is delivered: a private object store the shop reads,
//! so the export itself never travels on the event bus (whose rules and archives any
//! consumer of the bus could read).

use super::BackendError;
use crate::failure::{Classify, Retry};
use async_trait::async_trait;
use serde::Serialize;

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryExportSink;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("export store unavailable")]
    Backend(#[source] BackendError),
}

impl Classify for ExportError {
    fn retry(&self) -> Retry {
        Retry::Transient
    }
}

/// Where an export was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportLocation {
    pub bucket: String,
    pub key: String,
}

#[async_trait]
pub trait ExportSink: Send + Sync {
    /// Writes `json` at `key`, replacing an earlier attempt's (a retried request writes
    /// the same key).
    async fn put_export(&self, key: &str, json: Vec<u8>) -> Result<ExportLocation, ExportError>;
}
