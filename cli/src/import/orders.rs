//! Orders files as events: Shopify's orders export and Relance's generic orders header. Both
//! hold one row per line item, the order's own fields on its first row (later rows may
//! repeat them); rows are grouped by order. An order with one bad row is skipped whole,
//! every bad row of it reported: nothing half an order is imported.

use super::cells::{self, Cell};
use super::event::ImportEvent;
use super::history;
use super::table::{BadRow, Format, Row, Table};
use chrono::{DateTime, Utc};
use relance::events::{Identity, LineItem, Order};
use relance::ids::ExternalId;
use relance::money::Money;
use relance::normalise::StoredOrder;
use std::collections::HashMap;

/// Where each field is, in one format.
struct Columns {
    /// The column that groups rows into orders.
    key: &'static str,
    id: &'static str,
    name: Option<&'static str>,
    email: &'static str,
    customer_id: Option<&'static str>,
    first_name: Option<&'static str>,
    last_name: Option<&'static str>,
    currency: &'static str,
    subtotal: Option<&'static str>,
    total: &'static str,
    discount_amount: Option<&'static str>,
    discount_code: Option<&'static str>,
    financial_status: Option<&'static str>,
    fulfillment_status: Option<&'static str>,
    placed_at: &'static str,
    paid_at: &'static str,
    fulfilled_at: &'static str,
    cancelled_at: &'static str,
    refunded: &'static str,
    accepts_marketing: &'static str,
    quantity: &'static str,
    title: &'static str,
    unit_price: &'static str,
    sku: &'static str,
    product_id: Option<&'static str>,
    vendor: Option<&'static str>,
}

/// Shopify's orders export (help.shopify.com, "Exporting orders"; tests/fixtures/import/).
const SHOPIFY: Columns = Columns {
    key: "Name",
    id: "Id",
    name: Some("Name"),
    email: "Email",
    customer_id: None,
    first_name: None,
    last_name: None,
    currency: "Currency",
    subtotal: Some("Subtotal"),
    total: "Total",
    discount_amount: Some("Discount Amount"),
    discount_code: Some("Discount Code"),
    financial_status: Some("Financial Status"),
    fulfillment_status: Some("Fulfillment Status"),
    placed_at: "Created at",
    paid_at: "Paid at",
    fulfilled_at: "Fulfilled at",
    cancelled_at: "Cancelled at",
    refunded: "Refunded Amount",
    accepts_marketing: "Accepts Marketing",
    quantity: "Lineitem quantity",
    title: "Lineitem name",
    unit_price: "Lineitem price",
    sku: "Lineitem sku",
    product_id: None,
    vendor: Some("Vendor"),
};

/// Relance's generic header (docs/cli.md).
const GENERIC: Columns = Columns {
    key: "order_id",
    id: "order_id",
    name: Some("name"),
    email: "email",
    customer_id: Some("customer_id"),
    first_name: Some("first_name"),
    last_name: Some("last_name"),
    currency: "currency",
    subtotal: None,
    total: "total",
    discount_amount: None,
    discount_code: Some("discount_code"),
    financial_status: None,
    fulfillment_status: None,
    placed_at: "placed_at",
    paid_at: "paid_at",
    fulfilled_at: "fulfilled_at",
    cancelled_at: "cancelled_at",
    refunded: "refunded",
    accepts_marketing: "accepts_marketing",
    quantity: "quantity",
    title: "title",
    unit_price: "unit_price",
    sku: "sku",
    product_id: Some("product_id"),
    vendor: None,
};

/// The events of every order of `table`, order by order in the file's order, and the rows skipped.
pub fn events(table: &Table) -> (Vec<ImportEvent>, Vec<BadRow>) {
    let columns = if table.format == Format::ShopifyOrders { &SHOPIFY } else { &GENERIC };
    let mut groups: Vec<Vec<Row<'_>>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut bad = Vec::new();
    for row in table.rows() {
        let Some(key) = row.get(columns.key).map(str::to_owned) else {
            bad.push(BadRow {
                place: row.place.clone(),
                reason: format!("{} is empty: the row names no order", columns.key),
            });
            continue;
        };
        let at = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(row);
    }
    let mut events = Vec::new();
    for rows in &groups {
        match order_events(columns, rows) {
            Ok(mut order) => events.append(&mut order),
            Err(mut errors) => bad.append(&mut errors),
        }
    }
    bad.sort_by(|a, b| a.place.cmp(&b.place));
    (events, bad)
}

/// A cell of the order: the first of its rows that has one.
fn first<'r>(rows: &'r [Row<'_>], column: Option<&str>) -> Option<&'r Row<'r>> {
    let column = column?;
    rows.iter().find(|r| r.get(column).is_some())
}

fn order_events(c: &Columns, rows: &[Row<'_>]) -> Result<Vec<ImportEvent>, Vec<BadRow>> {
    let head = &rows[0];
    let fail = |row: &Row<'_>, reason: String| vec![BadRow { place: row.place.clone(), reason }];
    let at_head = |reason: String| fail(head, reason);
    let currency = cells::currency(first(rows, Some(c.currency)).unwrap_or(head), c.currency).map_err(at_head)?;
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        match line(c, row, currency) {
            Ok(line) => lines.push(line),
            Err(reason) => errors.push(BadRow { place: row.place.clone(), reason }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let head = first(rows, Some(c.placed_at)).unwrap_or(head);
    let order = order(c, rows, head, currency, lines).map_err(|reason| fail(head, reason))?;
    Ok(order)
}

fn line(c: &Columns, row: &Row<'_>, currency: relance::money::Currency) -> Cell<LineItem> {
    Ok(LineItem {
        product_id: match c.product_id {
            Some(column) => cells::external_id(row, column)?,
            None => None,
        },
        variant_id: None,
        sku: row.get(c.sku).map(str::to_owned),
        title: cells::required(row, c.title)?.to_owned(),
        variant_title: None,
        quantity: cells::quantity(row, c.quantity)?,
        unit_price: cells::money(row, c.unit_price, currency)?.ok_or_else(|| format!("{} is empty", c.unit_price))?,
        vendor: c.vendor.and_then(|v| row.get(v)).map(str::to_owned),
        product_type: None,
        categories: Vec::new(),
        image_url: None,
    })
}

fn order(
    c: &Columns,
    rows: &[Row<'_>],
    head: &Row<'_>,
    currency: relance::money::Currency,
    line_items: Vec<LineItem>,
) -> Cell<Vec<ImportEvent>> {
    let cell = |column: Option<&str>| column.and_then(|col| first(rows, Some(col)).and_then(|r| r.get(col)));
    let money = |column: Option<&'static str>| -> Cell<Option<Money>> {
        match column.and_then(|col| first(rows, Some(col))) {
            Some(row) => cells::money(row, column.unwrap_or_default(), currency),
            None => Ok(None),
        }
    };
    let time = |column: &'static str| -> Cell<Option<DateTime<Utc>>> {
        match first(rows, Some(column)) {
            Some(row) => cells::time(row, column),
            None => Ok(None),
        }
    };
    // Shopify's `Id` is the order's id; an export without it is keyed by its name, `#` dropped.
    let id_text = match cell(Some(c.id)) {
        Some(id) => id.to_owned(),
        None => cells::required(head, c.key)?.trim_start_matches('#').to_owned(),
    };
    let order_id = ExternalId::parse(&id_text).map_err(|e| format!("{}: {e}", c.id))?;
    let placed_at = time(c.placed_at)?.ok_or_else(|| format!("{} is empty", c.placed_at))?;
    let email = match first(rows, Some(c.email)) {
        Some(row) => cells::email(row, c.email)?,
        None => None,
    };
    let customer_id = match c.customer_id.and_then(|col| first(rows, Some(col))) {
        Some(row) => cells::external_id(row, c.customer_id.unwrap_or_default())?,
        None => None,
    };
    if email.is_none() && customer_id.is_none() {
        return Err(format!("{} is empty: the order names no customer", c.email));
    }
    let identity = Identity { email, customer_id, ..Identity::default() };
    let total = money(Some(c.total))?.ok_or_else(|| format!("{} is empty", c.total))?;
    let cancelled_at = time(c.cancelled_at)?;
    let placed = Order {
        order_id: order_id.clone(),
        name: cell(c.name).map(str::to_owned),
        checkout_token: None,
        cart_token: None,
        line_items,
        subtotal: money(c.subtotal)?,
        total,
        total_discounts: money(c.discount_amount)?,
        discount_codes: cell(c.discount_code).map(|d| vec![d.to_owned()]).unwrap_or_default(),
        financial_status: cell(c.financial_status).map(str::to_owned),
        fulfillment_status: cell(c.fulfillment_status).map(str::to_owned),
        cancelled_at,
    };
    let accepts_marketing = match first(rows, Some(c.accepts_marketing)) {
        Some(row) => cells::yes_no(row, c.accepts_marketing)?,
        None => None,
    };
    let first_name = c.first_name.and_then(|col| cell(Some(col))).map(str::to_owned);
    Ok(history::order_events(&StoredOrder {
        identity,
        order: placed,
        placed_at,
        paid_at: time(c.paid_at)?,
        fulfilled_at: time(c.fulfilled_at)?,
        refunded: money(Some(c.refunded))?,
        last_name: first_name.as_ref().and(c.last_name.and_then(|col| cell(Some(col))).map(str::to_owned)),
        first_name,
        accepts_marketing,
    }))
}
