//! Customers files as events: Shopify's customers export and Relance's generic customers
//! header, one `customer.upserted` per row (with the consent the row states). An export is
//! the shop's record as of now, so names and phone are stamped with the import's time. Its
//! consent column has no date: it is stamped [`cells::UNDATED`], so it fills what is
//! unknown and never overrides a dated decision (an unsubscribe Relance recorded wins).

use super::cells;
use super::event::ImportEvent;
use super::table::{BadRow, Format, Row, Table};
use chrono::{DateTime, Utc};
use relance::events::{ConsentChange, ConsentState, Customer, Identity, Payload};

struct Columns {
    customer_id: &'static str,
    email: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    phone: &'static str,
    accepts_marketing: &'static str,
    created_at: Option<&'static str>,
    tags: &'static str,
}

/// Shopify's customers export (help.shopify.com, "Using CSV files to import and export
/// customers"; tests/fixtures/import/).
const SHOPIFY: Columns = Columns {
    customer_id: "Customer ID",
    email: "Email",
    first_name: "First Name",
    last_name: "Last Name",
    phone: "Phone",
    accepts_marketing: "Accepts Email Marketing",
    created_at: None,
    tags: "Tags",
};

const GENERIC: Columns = Columns {
    customer_id: "customer_id",
    email: "email",
    first_name: "first_name",
    last_name: "last_name",
    phone: "phone",
    accepts_marketing: "accepts_marketing",
    created_at: Some("created_at"),
    tags: "tags",
};

pub fn events(table: &Table, now: DateTime<Utc>) -> (Vec<ImportEvent>, Vec<BadRow>) {
    let columns = if table.format == Format::ShopifyCustomers { &SHOPIFY } else { &GENERIC };
    let (mut events, mut bad) = (Vec::new(), Vec::new());
    for row in table.rows() {
        match customer_event(columns, &row, now) {
            Ok(event) => events.push(event),
            Err(reason) => bad.push(BadRow { place: row.place.clone(), reason }),
        }
    }
    (events, bad)
}

fn customer_event(c: &Columns, row: &Row<'_>, now: DateTime<Utc>) -> Result<ImportEvent, String> {
    let email = cells::email(row, c.email)?;
    let customer_id = cells::external_id(row, c.customer_id)?;
    let key = match (&customer_id, &email) {
        (Some(id), _) => format!("id:{id}"),
        (None, Some(email)) => format!("email:{}", cells::hashed(email)),
        (None, None) => return Err(format!("{} and {} are empty: the row names no customer", c.customer_id, c.email)),
    };
    let created_at = match c.created_at {
        Some(column) => cells::time(row, column)?,
        None => None,
    };
    let marketing_consent = cells::yes_no(row, c.accepts_marketing)?.map(|accepts| ConsentChange {
        state: if accepts { ConsentState::Subscribed } else { ConsentState::Unsubscribed },
        changed_at: cells::UNDATED,
        source: "import".to_owned(),
    });
    let customer = Customer {
        first_name: row.get(c.first_name).map(str::to_owned),
        last_name: row.get(c.last_name).map(str::to_owned),
        phone: row.get(c.phone).map(str::to_owned),
        created_at,
        marketing_consent,
        tags: cells::list(row, c.tags),
    };
    let identity = Identity { email, customer_id, ..Identity::default() };
    Ok(ImportEvent::new(format!("import:customer:{key}"), now, identity, &Payload::CustomerUpserted(customer)))
}
