//! Reading the shops document from Secrets Manager, once per cold start.

use super::boxed;
use crate::ports::BackendError;
use crate::shops::{Shops, ShopsError};

#[derive(Debug, thiserror::Error)]
pub enum LoadShopsError {
    #[error("cannot read the shops secret")]
    Read(#[source] BackendError),
    #[error("the shops secret has no string value")]
    Empty,
    #[error(transparent)]
    Invalid(#[from] ShopsError),
}

pub async fn load_shops(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<Shops, LoadShopsError> {
    let output =
        client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| LoadShopsError::Read(boxed(e)))?;
    let document = output.secret_string.ok_or(LoadShopsError::Empty)?;
    Ok(Shops::parse(&document)?)
}

/// The shops secret, read again by a running function ([`crate::directory::Directory`]).
pub struct SecretsManagerShopsSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretsManagerShopsSource {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self { client, secret_id: secret_id.into() }
    }
}

#[async_trait::async_trait]
impl crate::ports::ShopsSource for SecretsManagerShopsSource {
    async fn load(&self) -> Result<Shops, crate::ports::ShopsSourceError> {
        use crate::ports::ShopsSourceError;
        load_shops(&self.client, &self.secret_id).await.map_err(|e| match e {
            LoadShopsError::Read(e) => ShopsSourceError::Read(e),
            LoadShopsError::Empty => ShopsSourceError::Empty,
            LoadShopsError::Invalid(e) => ShopsSourceError::Invalid(e),
        })
    }
}
