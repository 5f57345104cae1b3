//! A WooCommerce store's history through its REST API (SPECS: "WooCommerce history and
//! webhooks"): every customer (`GET /customers`) and every order (`GET /orders`, any
//! status), in pages of 100, read with the functions' own readers of those objects
//! ([`relance::normalise::woocommerce::stored_customer`], [`stored_order`]): the REST API
//! lists the same objects the store's webhooks deliver. A bad object is reported as
//! `woocommerce/orders:<id>` and skipped.

use super::event::ImportEvent;
use super::history;
use super::table::{BadRow, Place};
use crate::platforms::PlatformError;
use crate::platforms::woocommerce::WooRest;
use chrono::{DateTime, Utc};
use relance::events::Payload;
use relance::money::Currency;
use relance::normalise::woocommerce::{stored_customer, stored_order};
use serde_json::Value;
use std::path::PathBuf;

fn place(list: &str, object: &Value, position: usize) -> Place {
    let line = object["id"].as_u64().unwrap_or(position as u64);
    Place { file: PathBuf::from(format!("woocommerce/{list}")), line }
}

/// The events of every customer and order of the store, and the objects skipped.
/// `pages` hears each page read (`customers` or `orders`, page, of pages).
pub async fn read(
    rest: &WooRest,
    currency: Option<Currency>,
    now: DateTime<Utc>,
    pages: &mut (dyn FnMut(&str, u32, u32) + Send),
) -> Result<(Vec<ImportEvent>, Vec<BadRow>), PlatformError> {
    let customers = rest.list("customers", &[], &mut |page, of| pages("customers", page, of)).await?;
    let orders = rest.list("orders", &[("status", "any")], &mut |page, of| pages("orders", page, of)).await?;
    Ok(events(&customers, &orders, currency, now))
}

/// The events of the objects listed, in order: customers, then orders.
pub fn events(
    customers: &[Value],
    orders: &[Value],
    currency: Option<Currency>,
    now: DateTime<Utc>,
) -> (Vec<ImportEvent>, Vec<BadRow>) {
    let (mut events, mut bad) = (Vec::new(), Vec::new());
    for (i, object) in customers.iter().enumerate() {
        let Some(id) = object["id"].as_u64() else {
            bad.push(BadRow { place: place("customers", object, i + 1), reason: "id is missing".into() });
            continue;
        };
        match stored_customer(object) {
            Ok((identity, _)) if identity.email.is_none() && identity.customer_id.is_none() => {}
            Ok((identity, customer)) => events.push(ImportEvent::new(
                format!("import:customer:id:{id}"),
                now,
                identity,
                &Payload::CustomerUpserted(customer),
            )),
            Err(e) => bad.push(BadRow { place: place("customers", object, i + 1), reason: e.to_string() }),
        }
    }
    for (i, object) in orders.iter().enumerate() {
        match stored_order(object, currency) {
            Ok(None) => {}
            Ok(Some(stored)) if stored.identity.email.is_none() && stored.identity.customer_id.is_none() => {
                bad.push(BadRow { place: place("orders", object, i + 1), reason: "the order names no customer".into() })
            }
            Ok(Some(stored)) => events.extend(history::order_events(&stored)),
            Err(e) => bad.push(BadRow { place: place("orders", object, i + 1), reason: e.to_string() }),
        }
    }
    (events, bad)
}
