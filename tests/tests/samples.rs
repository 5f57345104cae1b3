//! `events/` holds one sample per canonical event type, each a valid EventBridge envelope
//! around a canonical event of that type (what `cargo lambda invoke --data-file` sends).

use relance::events::{Event, Payload};
use std::path::Path;

#[test]
fn every_canonical_event_type_has_a_valid_sample() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/profile-update");
    for detail_type in Payload::DETAIL_TYPES {
        let path = dir.join(format!("{detail_type}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(envelope["detail-type"], detail_type, "{}", path.display());
        assert_eq!(envelope["source"], "relance.ingest");
        let event: Event = serde_json::from_value(envelope["detail"].clone())
            .unwrap_or_else(|e| panic!("{}: detail is not a canonical event: {e}", path.display()));
        assert_eq!(event.payload.detail_type(), detail_type);
        assert_eq!(event.schema_version, relance::events::SCHEMA_VERSION);
    }
}
