//! Where the shops document comes from (the shops secret), read again while a function
//! runs so that a shop added after its cold start is served without waiting for Lambda to
//! replace the instance ([`crate::directory::Directory`]).

use super::BackendError;
use crate::shops::{Shops, ShopsError};
use async_trait::async_trait;

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::MemoryShopsSource;

#[derive(Debug, thiserror::Error)]
pub enum ShopsSourceError {
    #[error("cannot read the shops document")]
    Read(#[source] BackendError),
    #[error("the shops document has no text")]
    Empty,
    #[error(transparent)]
    Invalid(#[from] ShopsError),
}

#[async_trait]
pub trait ShopsSource: Send + Sync {
    /// The document as it is now, parsed and checked.
    async fn load(&self) -> Result<Shops, ShopsSourceError>;
}
