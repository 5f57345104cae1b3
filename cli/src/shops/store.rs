//! Where the shops document is kept: the port, its in-memory fake, and the Secrets Manager
//! secret of a stack (`ShopsSecret`), which the functions read at cold start.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use std::sync::Mutex;

/// The document as read, with the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub text: String,
    pub version: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read the shops secret {secret}: check the stack and your AWS credentials")]
    Read {
        secret: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot write the shops secret {secret}; nothing was changed, run the command again")]
    Write {
        secret: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the shops secret changed since it was read (someone else edited it); run the command again")]
    Changed,
}

#[async_trait]
pub trait ShopsSecret: Send + Sync {
    async fn load(&self) -> Result<Stored, StoreError>;
    /// Writes `text` as the new current value, if the current one is still `read`'s.
    async fn save(&self, read: &Stored, text: &str) -> Result<(), StoreError>;
}

/// In memory: versions are counters.
#[derive(Debug, Default)]
pub struct MemoryShopsSecret {
    state: Mutex<(String, u64)>,
}

impl MemoryShopsSecret {
    pub fn holding(text: &str) -> Self {
        Self { state: Mutex::new((text.to_owned(), 1)) }
    }

    pub fn text(&self) -> String {
        self.state.lock().unwrap().0.clone()
    }
}

#[async_trait]
impl ShopsSecret for MemoryShopsSecret {
    async fn load(&self) -> Result<Stored, StoreError> {
        let (text, version) = self.state.lock().unwrap().clone();
        Ok(Stored { text, version: Some(version.to_string()) })
    }

    async fn save(&self, read: &Stored, text: &str) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        if read.version.as_deref() != Some(state.1.to_string().as_str()) {
            return Err(StoreError::Changed);
        }
        *state = (text.to_owned(), state.1 + 1);
        Ok(())
    }
}

/// The stack's Secrets Manager secret.
pub struct SecretsManagerShops {
    client: Client,
    secret: String,
}

impl SecretsManagerShops {
    pub fn new(client: Client, secret: impl Into<String>) -> Self {
        Self { client, secret: secret.into() }
    }

    fn read_error<E: std::error::Error + Send + Sync + 'static>(&self, e: E) -> StoreError {
        StoreError::Read { secret: self.secret.clone(), source: Box::new(e) }
    }
}

#[async_trait]
impl ShopsSecret for SecretsManagerShops {
    async fn load(&self) -> Result<Stored, StoreError> {
        let value =
            self.client.get_secret_value().secret_id(&self.secret).send().await.map_err(|e| self.read_error(e))?;
        Ok(Stored { text: value.secret_string.unwrap_or_default(), version: value.version_id })
    }

    /// Secrets Manager has no conditional write: the current version is compared just
    /// before, which narrows the window between two operators to one call. The request token
    /// is derived from the read version and the new text, so a command run again after a
    /// lost answer adds no second version.
    async fn save(&self, read: &Stored, text: &str) -> Result<(), StoreError> {
        let described =
            self.client.describe_secret().secret_id(&self.secret).send().await.map_err(|e| self.read_error(e))?;
        let current = described
            .version_ids_to_stages()
            .into_iter()
            .flatten()
            .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
            .map(|(version, _)| version.clone());
        if current != read.version {
            return Err(StoreError::Changed);
        }
        self.client
            .put_secret_value()
            .secret_id(&self.secret)
            .secret_string(text)
            .client_request_token(request_token(read.version.as_deref(), text))
            .send()
            .await
            .map_err(|e| StoreError::Write { secret: self.secret.clone(), source: Box::new(e) })?;
        Ok(())
    }
}

/// A UUID-shaped digest of the edit (Secrets Manager takes 32 to 64 characters).
fn request_token(read: Option<&str>, text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(read.unwrap_or_default()).chain_update([0]).chain_update(text).finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_save_after_another_edit_is_refused_and_changes_nothing() {
        let secret = MemoryShopsSecret::holding("a");
        let first = secret.load().await.unwrap();
        let second = secret.load().await.unwrap();
        secret.save(&first, "b").await.unwrap();
        assert!(matches!(secret.save(&second, "c").await, Err(StoreError::Changed)));
        assert_eq!(secret.text(), "b");
    }

    #[test]
    fn the_request_token_is_the_same_for_the_same_edit_and_differs_for_another() {
        let token = request_token(Some("v1"), "{}");
        assert_eq!(token.len(), 36);
        assert_eq!(token, request_token(Some("v1"), "{}"));
        assert_ne!(token, request_token(Some("v2"), "{}"));
        assert_ne!(token, request_token(Some("v1"), "{ }"));
    }
}
