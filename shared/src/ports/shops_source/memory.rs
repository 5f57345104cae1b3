//! A shops document in memory, that a test edits, counting the reads.

use crate::ports::fake::lock;
use crate::ports::{ShopsSource, ShopsSourceError};
use crate::shops::Shops;
use async_trait::async_trait;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
pub struct MemoryShopsSource {
    text: Mutex<String>,
    loads: AtomicUsize,
    /// Fail the next reads (an outage of the secret's service).
    pub failing: std::sync::atomic::AtomicBool,
}

impl MemoryShopsSource {
    pub fn new(text: &str) -> Self {
        Self { text: Mutex::new(text.to_owned()), ..Self::default() }
    }

    pub fn set(&self, text: &str) {
        *lock(&self.text) = text.to_owned();
    }

    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl ShopsSource for MemoryShopsSource {
    async fn load(&self) -> Result<Shops, ShopsSourceError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(ShopsSourceError::Read("the secret's service is out".into()));
        }
        Ok(Shops::parse(&lock(&self.text))?)
    }
}
