//! An imported event as the generic API takes it (docs/webhooks.md, "Generic API"), marked
//! as history: profile-update files it like any event, and no program starts and no mail is
//! asked for because of it, however recent it is.

use chrono::{DateTime, Utc};
use relance::events::{Context, Identity, Payload};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportEvent {
    /// Derived from what it states (`order:<id>:paid`), so an import run twice sends the
    /// same ids and the ledger and the profile take each once.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub occurred_at: DateTime<Utc>,
    pub identity: Identity,
    pub context: Context,
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl ImportEvent {
    pub fn new(id: String, occurred_at: DateTime<Utc>, identity: Identity, payload: &Payload) -> Self {
        let mut data = match serde_json::to_value(payload) {
            Ok(serde_json::Value::Object(fields)) => fields,
            // Every payload variant with fields serialises as an object (`#[serde(tag)]`).
            _ => serde_json::Map::new(),
        };
        data.remove("type");
        let context = Context { history: true, ..Context::default() };
        ImportEvent { id, kind: payload.detail_type(), occurred_at, identity, context, data }
    }

    /// The payload this event carries, read back as webhook-ingest will read it.
    pub fn payload(&self) -> Result<Payload, serde_json::Error> {
        let mut fields = self.data.clone();
        fields.insert("type".to_owned(), serde_json::Value::String(self.kind.to_owned()));
        serde_json::from_value(serde_json::Value::Object(fields))
    }
}
