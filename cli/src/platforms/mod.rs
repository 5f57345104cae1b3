//! The shops' platforms' admin APIs, as every command that calls them needs them: one client
//! per platform ([`shopify::ShopifyGraphql`], [`woocommerce::WooRest`]), their errors, and
//! how long to wait on their limits.

pub mod shopify;
pub mod woocommerce;

use std::time::Duration;

/// What the platform answered when it refused, or what stood in the way.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("{platform} refused the credentials ({detail}): {what_to_do}")]
    Unauthorized { platform: &'static str, detail: String, what_to_do: &'static str },
    #[error("{platform} still throttles after {attempts} attempts: run again in a minute")]
    Throttled { platform: &'static str, attempts: u32 },
    #[error("{platform} refused to {action}: {reason}")]
    Rejected { platform: &'static str, action: String, reason: String },
    #[error("cannot reach {platform} at {url}")]
    Unreachable {
        platform: &'static str,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{platform} answered {status} to {action}: {body}")]
    Unexpected { platform: &'static str, action: String, status: u16, body: String },
}

/// How many attempts a call gets, and the longest single wait honoured.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub attempts: u32,
    /// A `Retry-After` beyond it is cut to it.
    pub longest_wait: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Self { attempts: 6, longest_wait: Duration::from_secs(30) }
    }
}
