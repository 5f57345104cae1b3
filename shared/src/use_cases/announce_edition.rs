//! A new yearly edition announced to the buyers of its line: rfm-nightly pages through the
//! shop's profiles and puts one `edition.released` per waiting customer on the bus
//! ([`crate::programs::edition`] decides who waits and names the occasion).

use crate::bus::{BusEvent, SOURCE_PROGRAMS};
use crate::events::{Event, Payload};
use crate::failure::{Classify, Retry};
use crate::ports::{EventPublisher, PublishError, SegmentStore, StoreError};
use crate::profile::edition_of;
use crate::programs::edition::{RELEASED, awaits, for_customer};

#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    #[error("could not read the shop's profiles")]
    Store(#[from] StoreError),
    #[error("could not announce the edition")]
    Publish(#[from] PublishError),
    #[error("could not encode the announcement")]
    Encode(#[source] serde_json::Error),
}

impl Classify for FanOutError {
    fn retry(&self) -> Retry {
        match self {
            FanOutError::Store(e) => e.retry(),
            FanOutError::Publish(e) => e.retry(),
            FanOutError::Encode(_) => Retry::Permanent,
        }
    }
}

/// Announces a published product to every customer of its shop who waits for it; returns
/// how many. A product that names no edition announces nothing.
pub async fn fan_out(
    segments: &dyn SegmentStore,
    publisher: &dyn EventPublisher,
    event: &Event,
) -> Result<u64, FanOutError> {
    let Payload::ProductPublished(product) = &event.payload else { return Ok(0) };
    let Some(edition) = edition_of(&product.title, product.variant_title.as_deref()) else {
        tracing::info!(shop = %event.shop, product = %product.product_id, "a product without a year: no edition to announce");
        return Ok(0);
    };
    let (mut cursor, mut announced) = (None, 0u64);
    loop {
        let page = segments.profiles_page(&event.shop, cursor).await?;
        let mut batch = Vec::new();
        for profile in page.profiles.iter().map(|p| &p.value) {
            if !awaits(profile, &product.product_id, &edition) {
                continue;
            }
            let Some(released) = for_customer(event, &profile.id) else { continue };
            batch.push(BusEvent {
                source: SOURCE_PROGRAMS.to_owned(),
                detail_type: RELEASED.to_owned(),
                time: event.occurred_at,
                detail: serde_json::to_value(&released).map_err(FanOutError::Encode)?,
            });
        }
        announced += batch.len() as u64;
        publisher.publish(&batch).await?;
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    tracing::info!(shop = %event.shop, family = %edition.family, year = edition.year, announced, "edition announced");
    Ok(announced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ProfileId;
    use crate::ports::ProfileStore;
    use crate::ports::{MemoryProfileStore, RecordingPublisher};
    use crate::profile::{Profile, Version};
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn bought(n: u32, titles: &[&str]) -> Profile {
        let at = Utc.with_ymd_and_hms(2025, 6, 1, 10, 0, 0).unwrap();
        let mut profile =
            Profile::new(crate::ids::ShopId::parse("demo").unwrap(), ProfileId::parse(format!("p{n}")).unwrap(), at);
        for (i, title) in titles.iter().enumerate() {
            let event: Event = serde_json::from_value(json!({
                "schema_version": 1, "id": format!("o{n}-{i}"), "shop": "demo", "platform": "api",
                "occurred_at": at, "received_at": at, "identity": { "email": format!("c{n}@example.fr") },
                "payload": { "type": "order.placed", "order_id": format!("o{n}-{i}"),
                    "line_items": [{ "product_id": title.replace(' ', "-"), "title": title, "quantity": 1,
                        "unit_price": { "minor": 2500, "currency": "EUR" } }],
                    "total": { "minor": 2500, "currency": "EUR" } },
            }))
            .unwrap();
            profile.apply(&event);
        }
        profile
    }

    #[tokio::test]
    async fn buyers_of_an_earlier_edition_and_only_they_hear_of_the_new_one_once_each() {
        let store = MemoryProfileStore::default();
        let customers = [
            bought(1, &["Chablis 2022"]),
            bought(2, &["Chablis 2021", "Chablis 2022"]),
            bought(3, &["Chablis 2024"]),
            bought(4, &["Meursault 2022"]),
            bought(5, &["Chablis 2024 magnum"]),
        ];
        for profile in &customers {
            store.save(profile, Version::NEW).await.unwrap();
        }
        let publisher = RecordingPublisher::default();
        let event: Event = serde_json::from_value(json!({
            "schema_version": 1, "id": "api:demo:launch-2024", "shop": "demo", "platform": "api",
            "occurred_at": "2026-11-30T08:00:00Z", "received_at": "2026-11-30T08:00:00Z",
            "payload": { "type": "product.published", "product_id": "Chablis-2024", "title": "Chablis 2024",
                         "price": { "minor": 2900, "currency": "EUR" } },
        }))
        .unwrap();
        assert_eq!(fan_out(&store, &publisher, &event).await.unwrap(), 2);
        let mut named: Vec<String> = publisher
            .events()
            .iter()
            .map(|e| serde_json::from_value::<Event>(e.detail.clone()).unwrap().identity.profile.unwrap().to_string())
            .collect();
        named.sort();
        assert_eq!(named, ["p1", "p2"], "not the buyer of this one, another line, or a later bottle");
        let again = for_customer(&event, &ProfileId::parse("p1").unwrap()).unwrap();
        assert_eq!(again.id.as_str(), "edition:demo:Chablis-2024:p1");
    }
}
