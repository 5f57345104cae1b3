//! An export bucket in memory.

use crate::ports::fake::lock;
use crate::ports::{ExportError, ExportLocation, ExportSink};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

pub const MEMORY_BUCKET: &str = "memory-exports";

#[derive(Default)]
pub struct MemoryExportSink {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryExportSink {
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        lock(&self.objects).get(key).cloned()
    }
}

#[async_trait]
impl ExportSink for MemoryExportSink {
    async fn put_export(&self, key: &str, json: Vec<u8>) -> Result<ExportLocation, ExportError> {
        lock(&self.objects).insert(key.to_owned(), json);
        Ok(ExportLocation { bucket: MEMORY_BUCKET.to_owned(), key: key.to_owned() })
    }
}
