//! Shop erasure in bounded pages: a shop's items may be far more than one invocation can
//! delete, so each page starts where the last one stopped, from a cursor kept in the store.

use super::StoreError;
use crate::ids::ShopId;
use async_trait::async_trait;
use std::collections::BTreeMap;

#[cfg(any(test, feature = "fakes"))]
mod memory;

/// Where the next page starts, in the store's own terms (DynamoDB's last evaluated key).
/// Opaque to the domain; kept in the store, never put on the bus or in a log: it may be
/// another customer's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPosition(pub BTreeMap<String, String>);

/// How far a shop's erasure has gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasureCursor {
    /// Pages done: the cursor is only moved by the invocation that read this count, so two
    /// invocations racing on one shop never both carry on.
    pub pages: u64,
    /// Where the next page starts; `None` before the first page and once finished.
    pub next: Option<ScanPosition>,
    pub erased: u64,
    pub finished: bool,
}

/// One page's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedPage {
    pub erased: usize,
    /// `None`: nothing of the shop is left past this page.
    pub next: Option<ScanPosition>,
}

#[async_trait]
pub trait ShopEraser: Send + Sync {
    /// Deletes the shop's items among the next `limit` items the store looks at from
    /// `from` (the start when `None`). Deleting an item twice is harmless, so a page redone
    /// after a timeout erases nothing new.
    async fn erase_page(
        &self,
        shop: &ShopId,
        from: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<ErasedPage, StoreError>;

    async fn erasure_cursor(&self, shop: &ShopId) -> Result<Option<ErasureCursor>, StoreError>;

    /// Stores `cursor` if the stored one still has `expected_pages` pages (none stored: 0);
    /// [`StoreError::Conflict`] when another invocation moved it first.
    async fn save_erasure_cursor(
        &self,
        shop: &ShopId,
        cursor: &ErasureCursor,
        expected_pages: u64,
    ) -> Result<(), StoreError>;
}
