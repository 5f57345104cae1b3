//! The simulated shop's deliveries as the platforms send them: Shopify's and WooCommerce's
//! published webhook bodies (the fixtures of `tests/fixtures`) with the shop's own data put
//! in, and events of the generic API ([`api`]). Money is written as the platforms write it: decimal
//! strings.

mod api;

use super::{Channel, Line, Order, Shop};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

const SHOPIFY_ORDER: &str = include_str!("../../fixtures/shopify/orders-create__2025-07.json");
const SHOPIFY_CHECKOUT: &str = include_str!("../../fixtures/shopify/checkouts-create__2025-07.json");
const SHOPIFY_CUSTOMER: &str = include_str!("../../fixtures/shopify/customers-create__2025-07.json");
const WOO_ORDER: &str = include_str!("../../fixtures/woocommerce/order.created__rest-api-docs-v3.json");
const WOO_CUSTOMER: &str = include_str!("../../fixtures/woocommerce/customer.created__rest-api-docs-v3.json");

/// The storefront's address, in links.
pub const SITE: &str = "http://localhost:8080";

/// `1234` minor units → `"12.34"`.
pub fn decimal(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| unreachable!("fixtures are JSON: {e}"))
}

impl Shop {
    /// Shopify `customers/create`, with the marketing consent given at sign-up.
    pub fn shopify_customer(&self, customer: usize) -> Value {
        let c = &self.customers[customer];
        let mut body = parse(SHOPIFY_CUSTOMER);
        body["id"] = json!(c.id);
        body["email"] = json!(c.email);
        body["first_name"] = json!(c.first_name);
        body["last_name"] = json!("Demo");
        body["phone"] = Value::Null;
        body["addresses"] = json!([]);
        body["default_address"] = Value::Null;
        body["currency"] = json!(c.currency.code());
        body["created_at"] = json!(c.signed_up_at);
        body["updated_at"] = json!(c.signed_up_at);
        body["email_marketing_consent"] = json!({
            "state": if c.subscribed { "subscribed" } else { "not_subscribed" },
            "opt_in_level": "single_opt_in",
            "consent_updated_at": c.signed_up_at,
        });
        body
    }

    /// WooCommerce `customer.created` (WooCommerce has no consent field: the shop's
    /// newsletter plugin reports it through the generic API, [`Shop::api_consent`]).
    pub fn woo_customer(&self, customer: usize) -> Value {
        let c = &self.customers[customer];
        let mut body = parse(WOO_CUSTOMER);
        body["id"] = json!(c.id);
        body["email"] = json!(c.email);
        body["first_name"] = json!(c.first_name);
        body["last_name"] = json!("Demo");
        body["username"] = json!(c.email);
        body["date_created_gmt"] = json!(c.signed_up_at.format("%Y-%m-%dT%H:%M:%S").to_string());
        body["date_modified_gmt"] = json!(c.signed_up_at.format("%Y-%m-%dT%H:%M:%S").to_string());
        body["billing"]["email"] = json!(c.email);
        body["billing"]["first_name"] = json!(c.first_name);
        body
    }

    /// A Shopify order (`orders/create`, `orders/paid` or `orders/fulfilled`, which all
    /// carry the order), at `at`.
    pub fn shopify_order(&self, order: &Order, financial: &str, fulfilled_at: Option<DateTime<Utc>>) -> Value {
        let c = &self.customers[order.customer];
        let currency = c.currency.code();
        let total = self.total(order.customer, &order.lines);
        let mut body = parse(SHOPIFY_ORDER);
        body["id"] = json!(order.id);
        body["name"] = json!(format!("#{}", order.number));
        body["number"] = json!(order.number - 1_000);
        body["order_number"] = json!(order.number);
        body["email"] = json!(c.email);
        body["contact_email"] = json!(c.email);
        body["created_at"] = json!(order.at);
        body["processed_at"] = json!(order.at);
        body["updated_at"] = json!(fulfilled_at.unwrap_or(order.at));
        body["currency"] = json!(currency);
        body["presentment_currency"] = json!(currency);
        body["customer_locale"] = json!(c.locale);
        body["buyer_accepts_marketing"] = json!(c.subscribed);
        body["checkout_token"] = json!(order.checkout);
        body["cart_token"] = json!(order.checkout.as_ref().map(|t| format!("cart-{t}")));
        body["financial_status"] = json!(financial);
        body["fulfillment_status"] = json!(fulfilled_at.map(|_| "fulfilled"));
        for key in
            ["subtotal_price", "total_price", "current_subtotal_price", "current_total_price", "total_line_items_price"]
        {
            body[key] = json!(decimal(total));
        }
        for key in ["total_discounts", "current_total_discounts", "total_tax", "current_total_tax"] {
            body[key] = json!("0.00");
        }
        for key in ["total_price_set", "subtotal_price_set", "current_total_price_set", "current_subtotal_price_set"] {
            body[key] = money_set(total, currency);
        }
        body["discount_codes"] = json!([]);
        body["discount_applications"] = json!([]);
        body["refunds"] = json!([]);
        body["shipping_lines"] = json!([]);
        body["tax_lines"] = json!([]);
        body["line_items"] = Value::Array(self.shopify_lines(order.customer, &order.lines));
        body["fulfillments"] = match fulfilled_at {
            Some(at) => json!([{
                "id": order.id + 7, "order_id": order.id, "status": "success", "created_at": at, "updated_at": at,
                "tracking_company": "Colissimo", "tracking_number": format!("6A{:011}", order.id % 100_000_000_000),
                "tracking_url": format!("https://www.laposte.fr/outils/suivre-vos-envois?code=6A{:011}", order.id % 100_000_000_000),
                "line_items": [],
            }]),
            None => json!([]),
        };
        body["customer"]["id"] = json!(c.id);
        body["customer"]["email"] = json!(c.email);
        body["customer"]["first_name"] = json!(c.first_name);
        body["customer"]["last_name"] = json!("Demo");
        body["customer"]["email_marketing_consent"] = json!({
            "state": if c.subscribed { "subscribed" } else { "not_subscribed" },
            "opt_in_level": "single_opt_in", "consent_updated_at": c.signed_up_at,
        });
        body
    }

    fn shopify_lines(&self, customer: usize, lines: &[Line]) -> Vec<Value> {
        let currency = self.customers[customer].currency;
        lines
            .iter()
            .enumerate()
            .map(|(n, line)| {
                let p = &self.products[line.product];
                let price = decimal(p.price(currency));
                json!({
                    "id": p.id * 10 + n as u64, "product_id": p.id, "variant_id": p.variant_id, "title": p.title,
                    "name": p.title, "variant_title": p.variant_title, "vendor": p.vendor, "product_type": p.category,
                    "sku": format!("SKU-{}", p.variant_id % 100_000), "quantity": line.quantity, "price": price,
                    "price_set": money_set(p.price(currency), currency.code()), "total_discount": "0.00",
                    "requires_shipping": true, "taxable": true, "gift_card": false, "properties": [],
                    "tax_lines": [], "discount_allocations": [],
                })
            })
            .collect()
    }

    /// WooCommerce `order.created` for a past order: completed and paid.
    pub fn woo_order(&self, order: &Order) -> Value {
        let c = &self.customers[order.customer];
        let currency = c.currency;
        let total = self.total(order.customer, &order.lines);
        let at = order.at.format("%Y-%m-%dT%H:%M:%S").to_string();
        let mut body = parse(WOO_ORDER);
        body["id"] = json!(order.id);
        body["number"] = json!(order.number.to_string());
        body["status"] = json!("completed");
        body["currency"] = json!(currency.code());
        body["customer_id"] = json!(c.id);
        body["billing"]["email"] = json!(c.email);
        body["billing"]["first_name"] = json!(c.first_name);
        for key in ["date_created_gmt", "date_modified_gmt", "date_paid_gmt", "date_completed_gmt"] {
            body[key] = json!(at);
        }
        body["total"] = json!(decimal(total));
        for key in ["discount_total", "discount_tax", "shipping_total", "shipping_tax", "cart_tax", "total_tax"] {
            body[key] = json!("0.00");
        }
        body["cart_hash"] = json!("");
        body["coupon_lines"] = json!([]);
        body["shipping_lines"] = json!([]);
        body["tax_lines"] = json!([]);
        body["line_items"] = Value::Array(
            order
                .lines
                .iter()
                .enumerate()
                .map(|(n, line)| {
                    let p = &self.products[line.product];
                    let subtotal = decimal(p.price(currency) * i64::from(line.quantity));
                    json!({
                        "id": order.id * 10 + n as u64, "name": p.title, "product_id": p.id % 100_000,
                        "variation_id": 0, "quantity": line.quantity, "subtotal": subtotal, "subtotal_tax": "0.00",
                        "total": subtotal, "total_tax": "0.00", "taxes": [], "meta_data": [],
                        "sku": format!("SKU-{}", p.variant_id % 100_000), "price": p.price(currency) / 100,
                    })
                })
                .collect(),
        );
        body
    }

    /// Shopify `checkouts/create` for one of today's checkouts, started at `at`.
    pub fn shopify_checkout(&self, checkout: usize, at: DateTime<Utc>) -> Value {
        let k = &self.checkouts[checkout];
        let c = &self.customers[k.customer];
        let total = self.total(k.customer, &k.lines);
        let mut body = parse(SHOPIFY_CHECKOUT);
        body["token"] = json!(k.token);
        body["cart_token"] = json!(format!("cart-{}", k.token));
        body["email"] = json!(c.email);
        body["customer"]["id"] = json!(c.id);
        body["customer"]["email"] = json!(c.email);
        body["customer"]["first_name"] = json!(c.first_name);
        body["customer_locale"] = json!(c.locale);
        body["currency"] = json!(c.currency.code());
        body["presentment_currency"] = json!(c.currency.code());
        body["created_at"] = json!(at);
        body["updated_at"] = json!(at);
        body["completed_at"] = Value::Null;
        body["abandoned_checkout_url"] = json!(format!("{SITE}/checkouts/{}/recover", k.token));
        for key in ["subtotal_price", "total_price", "total_line_items_price"] {
            body[key] = json!(decimal(total));
        }
        body["total_discounts"] = json!("0.00");
        body["total_tax"] = json!("0.00");
        body["discount_codes"] = json!([]);
        body["line_items"] = Value::Array(self.shopify_lines(k.customer, &k.lines));
        body
    }

    /// The order that completes today's checkout `checkout`, placed at `at`.
    pub fn checkout_order(&self, checkout: usize, at: DateTime<Utc>) -> Order {
        let k = &self.checkouts[checkout];
        Order {
            id: 6_900_000_000_000 + checkout as u64 * 13,
            number: 5_001 + checkout as u32,
            customer: k.customer,
            at,
            lines: k.lines.clone(),
            checkout: Some(k.token.clone()),
        }
    }

    /// Past orders are placed on the customer's channel.
    pub fn channel_of(&self, order: &Order) -> Channel {
        self.customers[order.customer].channel
    }
}

fn money_set(minor: i64, currency: &str) -> Value {
    let money = json!({ "amount": decimal(minor), "currency_code": currency });
    json!({ "shop_money": money, "presentment_money": money })
}

#[cfg(test)]
mod tests;
