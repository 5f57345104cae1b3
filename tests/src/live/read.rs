//! What the CRM stored, read through the store port as the functions read it (never by
//! table key), and the nightly summary through the adapter's own key.

use super::LiveShop;
use chrono::DateTime;
use relance::aws::{DynamoProfileStore, SUMMARY_ATTRIBUTE, summary_key};
use relance::ids::{Email, ProfileId};
use relance::ports::{ProfileStore, SegmentStore};
use relance::profile::{IdentityKey, Profile, Record};
use serde_json::{Value, json};
use std::collections::BTreeMap;

impl LiveShop {
    /// The profile store the functions write, on the stack's table.
    pub fn store(&self) -> &DynamoProfileStore {
        &self.store
    }

    /// The profile `email` belongs to, if the CRM knows it.
    pub async fn profile_of(&self, email: &str) -> Option<Profile> {
        let key = IdentityKey::Email(Email::parse(email).expect("an e-mail address"));
        let id = self.store.find_identity(&self.shop, &key).await.expect("the identity map")?;
        Some(self.store.load(&self.shop, &id).await.expect("the profile")?.value)
    }

    /// Every record beside a profile: orders, checkouts, activity, messages.
    pub async fn records_of(&self, profile: &ProfileId) -> Vec<Record> {
        self.store.records(&self.shop, profile).await.expect("the profile's records")
    }

    /// Every profile of the shop, page by page.
    pub async fn profiles(&self) -> Vec<Profile> {
        let (mut profiles, mut cursor) = (Vec::new(), None);
        loop {
            let page = self.store.profiles_page(&self.shop, cursor).await.expect("a page of profiles");
            profiles.extend(page.profiles.into_iter().map(|p| p.value));
            cursor = page.next;
            if cursor.is_none() {
                return profiles;
            }
        }
    }

    /// Every profile of the shop as two runs of the same scenario must agree on it, keyed by
    /// e-mail: times (runs happen minutes apart on the real clock), the ids Relance draws and
    /// bookkeeping are left out, and the shop's own id is written `<shop>`.
    pub async fn comparable_profiles(&self) -> BTreeMap<String, Value> {
        self.profiles()
            .await
            .into_iter()
            .map(|p| {
                let email = p.email().map(|e| e.to_string()).unwrap_or_else(|| format!("no email: {}", p.id));
                let value = serde_json::to_value(&p).expect("a profile serialises");
                (email, comparable(&value, self.shop.as_str()))
            })
            .collect()
    }

    /// The summary of rfm-nightly's last run for the shop, as it stored it.
    pub async fn segment_summary(&self) -> Option<Value> {
        let table = self.stack.var("RELANCE_TABLE").expect("the table");
        let request = self.stack.dynamodb().get_item().table_name(table).set_key(Some(summary_key(&self.shop)));
        let mut item = request.send().await.expect("GetItem").item?;
        Some(serde_dynamo::from_attribute_value(item.remove(SUMMARY_ATTRIBUTE)?).expect("a summary"))
    }
}

fn comparable(value: &Value, shop: &str) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "id" | "shop" | "applied" | "merged" | "version"))
                .map(|(k, v)| (k.clone(), comparable(v, shop)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| comparable(v, shop)).collect()),
        Value::String(text) if DateTime::parse_from_rfc3339(text).is_ok() => json!("<time>"),
        Value::String(text) if text.contains(shop) => json!(text.replace(shop, "<shop>")),
        other => other.clone(),
    }
}
