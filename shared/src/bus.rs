//! Events Relance puts on its EventBridge bus, as the domain sees them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `source` of the canonical commerce events webhook-ingest publishes.
pub const SOURCE_INGEST: &str = "relance.ingest";
/// `source` of events derived from profile changes (profile created, first order, …).
pub const SOURCE_PROFILE: &str = "relance.profile";
/// `source` of the nightly scoring's events (segment changed, summary).
pub const SOURCE_SEGMENTS: &str = "relance.segments";
/// `source` of requests made by programs (mail requested, …).
pub const SOURCE_PROGRAMS: &str = "relance.programs";

/// One entry for the bus: EventBridge's `Source`, `DetailType` and `Detail`, plus the
/// time the fact happened (not the time we publish it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusEvent {
    pub source: String,
    pub detail_type: String,
    pub time: DateTime<Utc>,
    pub detail: serde_json::Value,
}

/// EventBridge refuses entries over 1 MB (SPECS: EventBridge). We check before sending so
/// that an oversized entry is a typed error at its origin, not a partial batch failure.
pub const MAX_ENTRY_BYTES: usize = 1024 * 1024;

impl BusEvent {
    /// Size as EventBridge counts it: source, detail-type, detail and resources, in bytes.
    pub fn entry_size(&self) -> usize {
        // Writing JSON into a counter cannot fail for a `serde_json::Value`.
        let detail = serde_json::to_vec(&self.detail).map(|v| v.len()).unwrap_or(usize::MAX);
        self.source.len() + self.detail_type.len() + detail + 14 // `Time` counts 14 bytes
    }
}
