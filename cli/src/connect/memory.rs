//! A platform's subscriptions in memory, counting the writes.

use super::{Subscription, WebhookAdmin};
use crate::platforms::PlatformError;
use async_trait::async_trait;
use std::sync::Mutex;

pub struct MemoryAdmin {
    pub uri: String,
    pub subscriptions: Mutex<Vec<Subscription>>,
    pub writes: Mutex<usize>,
    pub rewrites: bool,
}

impl MemoryAdmin {
    pub fn new(uri: &str, subscriptions: Vec<Subscription>) -> Self {
        Self { uri: uri.to_owned(), subscriptions: Mutex::new(subscriptions), writes: Mutex::new(0), rewrites: false }
    }

    pub fn writes(&self) -> usize {
        *self.writes.lock().unwrap()
    }
}

#[async_trait]
impl WebhookAdmin for MemoryAdmin {
    async fn list(&self) -> Result<Vec<Subscription>, PlatformError> {
        Ok(self.subscriptions.lock().unwrap().clone())
    }

    async fn create(&self, topic: &str) -> Result<String, PlatformError> {
        let mut subs = self.subscriptions.lock().unwrap();
        let id = format!("new-{}", subs.len() + 1);
        subs.push(Subscription {
            id: id.clone(),
            topic: topic.to_owned(),
            uri: self.uri.clone(),
            ours: true,
            faults: vec![],
        });
        *self.writes.lock().unwrap() += 1;
        Ok(id)
    }

    async fn fix(&self, id: &str, topic: &str) -> Result<(), PlatformError> {
        let mut subs = self.subscriptions.lock().unwrap();
        let sub = subs.iter_mut().find(|s| s.id == id).expect("a listed subscription");
        (sub.topic, sub.uri, sub.faults) = (topic.to_owned(), self.uri.clone(), vec![]);
        *self.writes.lock().unwrap() += 1;
        Ok(())
    }

    fn uri(&self) -> &str {
        &self.uri
    }

    fn rewrites_kept(&self) -> bool {
        self.rewrites
    }
}
