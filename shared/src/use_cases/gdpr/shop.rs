//! Shop erasure (`shop/redact`, 48 h after uninstall) in bounded pages across invocations.
//!
//! A shop may hold millions of items; one invocation has 30 s. Each invocation erases a
//! few pages from the cursor kept in the store, moves the cursor (conditionally: of two
//! invocations racing on one shop only one carries on), and, when items may be left,
//! publishes `gdpr.shop_erasure_continues` for profile-update to take the next pages. The
//! event names only the shop: the cursor stays in the table. A timeout or crash loses at
//! most the page in hand, which the retry (or the next continuation) redoes harmlessly.

use super::GdprError;
use crate::bus::{BusEvent, SOURCE_PROFILE};
use crate::ids::ShopId;
use crate::ports::{ErasureCursor, EventPublisher, ShopEraser, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `detail-type` of the event that hands a shop's erasure on to the next invocation.
pub const SHOP_ERASURE_CONTINUES: &str = "gdpr.shop_erasure_continues";

/// The detail of [`SHOP_ERASURE_CONTINUES`]: the shop, and how many pages were done (for
/// the logs; the cursor in the store is what counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopErasureContinues {
    pub shop: ShopId,
    pub pages: u64,
}

/// How much one invocation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Items the store looks at per page (a DynamoDB Scan `Limit`).
    pub page_size: usize,
    pub pages_per_invocation: u32,
}

impl Default for Paging {
    /// 20 pages of 1,000 keys: a scan page of keys only and 40 batch deletes at most each,
    /// a few seconds per page, well inside profile-update's 30 s.
    fn default() -> Self {
        Self { page_size: 1000, pages_per_invocation: 20 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShopErasure {
    /// Items may be left: a continuation was published.
    Continues {
        pages: u64,
        erased: u64,
    },
    Finished {
        pages: u64,
        erased: u64,
    },
    /// Another invocation moved the cursor first; it carries on.
    Superseded,
}

/// Erases up to `paging.pages_per_invocation` pages of the shop from its stored cursor,
/// then hands on or finishes. The first request and every continuation do the same thing,
/// so a redelivered request or a duplicated continuation is harmless: it either finds the
/// erasure finished or loses the race for the cursor.
#[tracing::instrument(skip_all, fields(shop = %shop))]
pub async fn erase_shop(
    eraser: &dyn ShopEraser,
    publisher: &dyn EventPublisher,
    shop: &ShopId,
    paging: Paging,
    now: DateTime<Utc>,
) -> Result<ShopErasure, GdprError> {
    let mut cursor = eraser.erasure_cursor(shop).await?.unwrap_or_default();
    if cursor.finished {
        return Ok(ShopErasure::Finished { pages: cursor.pages, erased: cursor.erased });
    }
    for _ in 0..paging.pages_per_invocation.max(1) {
        let page = eraser.erase_page(shop, cursor.next.as_ref(), paging.page_size.max(1)).await?;
        let expected = cursor.pages;
        let finished = page.next.is_none();
        cursor = ErasureCursor {
            pages: cursor.pages + 1,
            next: page.next,
            erased: cursor.erased + page.erased as u64,
            finished,
        };
        match eraser.save_erasure_cursor(shop, &cursor, expected).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                tracing::info!(pages = expected, "another invocation is ahead on this shop's erasure");
                return Ok(ShopErasure::Superseded);
            }
            Err(other) => return Err(other.into()),
        }
        if finished {
            tracing::info!(pages = cursor.pages, erased = cursor.erased, "shop erased");
            return Ok(ShopErasure::Finished { pages: cursor.pages, erased: cursor.erased });
        }
    }
    let detail = serde_json::to_value(ShopErasureContinues { shop: shop.clone(), pages: cursor.pages })
        .map_err(|source| GdprError::Encode { what: "a shop erasure continuation", source })?;
    publisher
        .publish(&[BusEvent {
            source: SOURCE_PROFILE.to_owned(),
            detail_type: SHOP_ERASURE_CONTINUES.to_owned(),
            time: now,
            detail,
        }])
        .await?;
    tracing::info!(pages = cursor.pages, erased = cursor.erased, "shop erasure continues");
    Ok(ShopErasure::Continues { pages: cursor.pages, erased: cursor.erased })
}
