//! `relance shops`: the deployment's shops document, read, edited and written back whole,
//! checked by the functions' own parser before every write.

mod document;
mod store;

pub use document::{DocumentError, Drawn, NewMail, NewShop, SecretKind, ShopSummary, ShopsDocument};
pub use store::{MemoryShopsSecret, SecretsManagerShops, ShopsSecret, StoreError, Stored};

use base64::Engine;
use relance::ids::ShopId;

#[derive(Debug, thiserror::Error)]
pub enum ShopsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("the operating system's random source failed")]
    Random(#[source] getrandom::Error),
}

/// A new secret: 32 bytes of the operating system's CSPRNG, URL-safe base64 (43 characters,
/// nothing to quote in a shell, a URL or a platform's admin form).
pub fn draw_secret() -> Result<String, ShopsError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ShopsError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub async fn list(secret: &dyn ShopsSecret) -> Result<Vec<ShopSummary>, ShopsError> {
    Ok(ShopsDocument::parse(&secret.load().await?.text)?.summaries())
}

/// Adds a shop; returns the secrets drawn for it.
pub async fn add(
    secret: &dyn ShopsSecret,
    shop: &NewShop,
    draw: &mut dyn FnMut() -> String,
) -> Result<Drawn, ShopsError> {
    let read = secret.load().await?;
    let mut document = ShopsDocument::parse(&read.text)?;
    let drawn = document.add(shop, draw)?;
    secret.save(&read, &document.to_text()).await?;
    Ok(drawn)
}

/// What a rotation left in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotated {
    /// The new secret is first; `valid` secrets verify now.
    Added { valid: usize },
    /// Only the first is left; `removed` older ones no longer verify.
    Retired { removed: usize },
}

/// Puts `new` first in the shop's `kind` list (old ones stay valid), or with `new` = `None`
/// retires every secret but the first.
pub async fn rotate(
    secret: &dyn ShopsSecret,
    shop: &ShopId,
    kind: SecretKind,
    new: Option<&str>,
) -> Result<Rotated, ShopsError> {
    let read = secret.load().await?;
    let mut document = ShopsDocument::parse(&read.text)?;
    let rotated = match new {
        Some(new) => Rotated::Added { valid: document.rotate(shop, kind, new)? },
        None => Rotated::Retired { removed: document.retire(shop, kind)? },
    };
    secret.save(&read, &document.to_text()).await?;
    Ok(rotated)
}

#[cfg(test)]
mod tests;
