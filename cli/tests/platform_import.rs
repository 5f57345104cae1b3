//! `relance import --from shopify|woocommerce`'s readers against local servers of the
//! platforms' APIs (`relance_tests::platforms`): a bulk operation still running when first
//! asked, a throttled call, its JSONL result downloaded; WooCommerce's lists read in pages
//! through a 429. What they read is what the same objects read from the fixtures give.

use relance::money::Currency;
use relance_cli::import::shopify::{self, Polling};
use relance_cli::import::woocommerce;
use relance_cli::platforms::shopify::ShopifyGraphql;
use relance_cli::platforms::woocommerce::{WooRest, api_root};
use relance_tests::platforms::fixture;
use relance_tests::platforms::shopify::ShopifyAdminServer;
use relance_tests::platforms::woocommerce::WooRestServer;
use std::time::Duration;

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-12-03T09:00:00Z".parse().unwrap()
}

fn eur() -> Option<Currency> {
    Some(Currency::parse("EUR").unwrap())
}

fn fast() -> Polling {
    Polling { first: Duration::from_millis(20), longest: Duration::from_millis(50), deadline: Duration::from_secs(30) }
}

fn lines(path: &str) -> Vec<Result<serde_json::Value, String>> {
    let full = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/").to_owned() + path;
    std::fs::read_to_string(full).unwrap().lines().map(|l| serde_json::from_str(l).map_err(|e| e.to_string())).collect()
}

#[tokio::test]
async fn a_shopify_history_is_read_by_two_bulk_operations_polled_to_their_end() {
    let server = ShopifyAdminServer::start("shpat_local").await.unwrap();
    {
        let mut state = server.state.lock().unwrap();
        state.bulk_running_polls = 2;
        state.throttle_next = 1;
    }
    let graphql = ShopifyGraphql::at(server.endpoint(), "shpat_local".into());
    let mut statuses = Vec::new();
    let (events, bad) =
        shopify::read(&graphql, eur(), now(), fast(), &mut |what, state, _| statuses.push(format!("{what} {state}")))
            .await
            .unwrap();
    assert_eq!(
        statuses,
        [
            "customers RUNNING",
            "customers RUNNING",
            "customers COMPLETED",
            "orders RUNNING",
            "orders RUNNING",
            "orders COMPLETED"
        ]
    );
    let calls = server.state.lock().unwrap().calls.clone();
    assert_eq!(calls.first().map(String::as_str), Some("throttled"), "{calls:?}");
    assert_eq!(calls.iter().filter(|c| *c == "bulkOperationRunQuery").count(), 2, "{calls:?}");

    let expected = shopify::events(
        &lines("shopify-admin/bulk-customers.jsonl"),
        &lines("shopify-admin/bulk-orders.jsonl"),
        eur(),
        now(),
    );
    assert_eq!(events, expected.0);
    assert_eq!(bad, expected.1);
    assert_eq!(bad.len(), 2);
}

#[tokio::test]
async fn a_second_bulk_operation_while_one_runs_is_refused_with_shopifys_reason() {
    let server = ShopifyAdminServer::start("shpat_local").await.unwrap();
    server.state.lock().unwrap().bulk_running_polls = 1000;
    let graphql = ShopifyGraphql::at(server.endpoint(), "shpat_local".into());
    let polling = Polling { deadline: Duration::from_millis(100), ..fast() };
    let stuck =
        shopify::run_bulk(&graphql, relance::normalise::shopify_bulk::ORDERS_QUERY, polling, &mut |_, _| {}).await;
    assert!(stuck.unwrap_err().to_string().contains("run the import again later"));
    let second =
        shopify::run_bulk(&graphql, relance::normalise::shopify_bulk::ORDERS_QUERY, fast(), &mut |_, _| {}).await;
    assert!(second.unwrap_err().to_string().contains("already in progress"));
}

#[tokio::test]
async fn a_woocommerce_history_is_read_page_by_page_through_a_throttled_answer() {
    let server = WooRestServer::start("ck_local", "cs_local", vec![]).await.unwrap();
    let order = |name: &str| fixture(&format!("woocommerce/{name}"));
    let customers = vec![order("customer.created__rest-api-docs-v3.json")];
    let orders = vec![
        order("order.updated__rest-api-docs-v3-completed.json"),
        order("order.updated__rest-api-docs-v3-refunded.json"),
        order("order.created-guest-coupon__appvila-wc6.9.4.json"),
    ];
    {
        let mut state = server.state.lock().unwrap();
        state.page_size = 2;
        state.throttle_next = 1;
        state.lists.insert("customers".into(), customers.clone());
        state.lists.insert("orders".into(), orders.clone());
    }
    let rest = WooRest::new(api_root(&server.site()), "ck_local".into(), "cs_local".into());
    let mut pages = Vec::new();
    let (events, bad) =
        woocommerce::read(&rest, eur(), now(), &mut |what, page, of| pages.push(format!("{what} {page}/{of}")))
            .await
            .unwrap();
    assert_eq!(pages, ["customers 1/1", "orders 1/2", "orders 2/2"]);
    let expected = woocommerce::events(&customers, &orders, eur(), now());
    assert_eq!((events, bad), expected);
}
