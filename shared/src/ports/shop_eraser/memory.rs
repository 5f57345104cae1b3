//! Paged shop erasure over the in-memory profile store: its items in the order of their
//! table keys, a page at a time.

use crate::ids::ShopId;
use crate::ports::fake::lock;
use crate::ports::{ErasedPage, ErasureCursor, MemoryProfileStore, ScanPosition, ShopEraser, StoreError};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// The position's one entry: the last key looked at.
const AFTER: &str = "after";

impl MemoryProfileStore {
    /// The shop's items by the text of their table key (`P#<profile>#<sk>`, `ID#<key>`…).
    fn shop_keys(&self, shop: &ShopId) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        keys.extend(lock(&self.items).keys().filter(|(s, _)| s == shop).map(|(_, p)| format!("P#{p}#PROFILE")));
        keys.extend(lock(&self.identities).keys().filter(|(s, _)| s == shop).map(|(_, k)| format!("ID#{k}")));
        keys.extend(lock(&self.records).keys().filter(|(s, _, _)| s == shop).map(|(_, p, k)| format!("P#{p}#{k}")));
        keys.extend(lock(&self.summaries).keys().filter(|s| *s == shop).map(|_| "SUMMARY".to_owned()));
        keys.sort();
        keys
    }

    fn delete_key(&self, shop: &ShopId, key: &str) {
        if let Some(identity) = key.strip_prefix("ID#") {
            lock(&self.identities).remove(&(shop.clone(), identity.to_owned()));
        } else if key == "SUMMARY" {
            lock(&self.summaries).remove(shop);
        } else if let Some(rest) = key.strip_prefix("P#")
            && let Some((profile, sk)) = rest.split_once('#')
        {
            if sk == "PROFILE" {
                lock(&self.items).retain(|(s, p), _| !(s == shop && p.as_str() == profile));
            } else {
                lock(&self.records).retain(|(s, p, k), _| !(s == shop && p.as_str() == profile && k.to_string() == sk));
            }
        }
    }
}

#[async_trait]
impl ShopEraser for MemoryProfileStore {
    async fn erase_page(
        &self,
        shop: &ShopId,
        from: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<ErasedPage, StoreError> {
        let after = from.and_then(|p| p.0.get(AFTER)).cloned();
        let left: Vec<String> =
            self.shop_keys(shop).into_iter().filter(|k| after.as_ref().is_none_or(|a| k > a)).collect();
        let page = &left[..limit.min(left.len())];
        for key in page {
            self.delete_key(shop, key);
        }
        let next = match page.last() {
            Some(last) if left.len() > page.len() => {
                Some(ScanPosition(BTreeMap::from([(AFTER.to_owned(), last.clone())])))
            }
            _ => None,
        };
        Ok(ErasedPage { erased: page.len(), next })
    }

    async fn erasure_cursor(&self, shop: &ShopId) -> Result<Option<ErasureCursor>, StoreError> {
        Ok(lock(&self.erasures).get(shop).cloned())
    }

    async fn save_erasure_cursor(
        &self,
        shop: &ShopId,
        cursor: &ErasureCursor,
        expected_pages: u64,
    ) -> Result<(), StoreError> {
        let mut erasures = lock(&self.erasures);
        let stored = erasures.get(shop).map_or(0, |c| c.pages);
        if stored != expected_pages {
            return Err(StoreError::Conflict { expected: crate::profile::Version(expected_pages) });
        }
        erasures.insert(shop.clone(), cursor.clone());
        Ok(())
    }
}
