//! `relance connect`'s adapters against local servers of the platforms' APIs
//! (`relance_tests::platforms`: the documented answers, throttling, paging, a revoked
//! credential). No AWS stack is needed.

use relance::normalise::{shopify as shopify_topics, woocommerce as woo_topics};
use relance_cli::connect::connect;
use relance_cli::connect::shopify::{ShopifyAdmin, topic_enum};
use relance_cli::connect::woocommerce::WooAdmin;
use relance_cli::platforms::shopify::ShopifyGraphql;
use relance_cli::platforms::woocommerce::{WooRest, api_root};
use relance_cli::platforms::{Patience, PlatformError};
use relance_tests::platforms::shopify::ShopifyAdminServer;
use relance_tests::platforms::woocommerce::{Hook, WooRestServer};
use std::time::Duration;

const URI: &str = "https://relance.example/webhooks/shopify";
const TOKEN: &str = "shpat_0123456789abcdef0123456789abcdef";

fn shopify_wanted() -> Vec<String> {
    shopify_topics::SUBSCRIBED_TOPICS.iter().map(|t| topic_enum(t)).collect()
}

#[tokio::test]
async fn shopify_subscriptions_are_created_fixed_and_kept_through_paging_and_throttling() {
    let server = ShopifyAdminServer::start(TOKEN).await.unwrap();
    {
        let mut state = server.state.lock().unwrap();
        state.page_size = 2;
        state.throttle_next = 1;
    }
    let admin = ShopifyAdmin::new(ShopifyGraphql::at(server.endpoint(), TOKEN.into()), URI.into());
    let wanted = shopify_wanted();
    let first = connect(&admin, &wanted).await.unwrap();
    println!("{}", first.lines.join("\n"));
    // The fixture holds ORDERS_CREATE to an old stack and ORDERS_PAID in XML to this one.
    assert_eq!((first.created, first.fixed, first.kept, first.extra), (wanted.len() - 2, 2, 0, 1));
    assert!(first.lines.iter().any(|l| l.starts_with("extra    APP_UNINSTALLED")), "{:?}", first.lines);
    assert!(server.state.lock().unwrap().calls.contains(&"throttled".to_owned()));

    let held = server.subscriptions();
    for topic in &wanted {
        let to_us: Vec<_> = held.iter().filter(|s| &s.topic == topic).collect();
        assert_eq!(to_us.len(), 1, "{topic}: {to_us:?}");
        assert_eq!((to_us[0].uri.as_str(), to_us[0].format.as_str()), (URI, "JSON"), "{topic}");
    }
    let uninstalled = held.iter().find(|s| s.topic == "APP_UNINSTALLED").unwrap();
    assert_eq!(uninstalled.uri, "https://app.example.org/uninstalled", "an extra is left as it is");

    server.state.lock().unwrap().calls.clear();
    let second = connect(&admin, &wanted).await.unwrap();
    assert_eq!((second.created, second.fixed, second.kept, second.extra), (0, 0, wanted.len(), 1));
    let calls = server.state.lock().unwrap().calls.clone();
    assert!(calls.iter().all(|c| c == "webhookSubscriptions"), "a second run only lists: {calls:?}");
    assert_eq!(calls.len(), held.len().div_ceil(2), "every page read once");
}

#[tokio::test]
async fn a_revoked_shopify_token_says_to_issue_a_new_one() {
    let server = ShopifyAdminServer::start(TOKEN).await.unwrap();
    let admin = ShopifyAdmin::new(ShopifyGraphql::at(server.endpoint(), "shpat_expired".into()), URI.into());
    let error = connect(&admin, &shopify_wanted()).await.unwrap_err();
    assert!(matches!(error, PlatformError::Unauthorized { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("Invalid API key or access token") && text.contains("token"), "{text}");
}

#[tokio::test]
async fn a_shopify_that_keeps_throttling_is_given_up_on_after_the_attempts() {
    let server = ShopifyAdminServer::start(TOKEN).await.unwrap();
    server.state.lock().unwrap().throttle_next = 100;
    let patience = Patience { attempts: 3, longest_wait: Duration::from_millis(200) };
    let admin =
        ShopifyAdmin::new(ShopifyGraphql::at(server.endpoint(), TOKEN.into()).with_patience(patience), URI.into());
    let error = connect(&admin, &shopify_wanted()).await.unwrap_err();
    assert!(matches!(error, PlatformError::Throttled { attempts: 3, .. }), "{error:?}");
    assert_eq!(server.state.lock().unwrap().calls.len(), 3);
}

#[tokio::test]
async fn shopify_refusing_a_plain_http_url_is_reported_with_its_reason() {
    let server = ShopifyAdminServer::start(TOKEN).await.unwrap();
    let admin = ShopifyAdmin::new(
        ShopifyGraphql::at(server.endpoint(), TOKEN.into()),
        "http://127.0.0.1:9000/webhooks/shopify".into(),
    );
    let error = connect(&admin, &shopify_wanted()).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("webhookSubscription.uri: Address protocol http:// is not supported"), "{text}");
}

const WOO_URI: &str = "https://relance.example/webhooks/woocommerce";

fn hook(id: i64, name: &str, topic: &str, url: &str, status: &str) -> Hook {
    Hook {
        id,
        name: name.into(),
        topic: topic.into(),
        delivery_url: url.into(),
        status: status.into(),
        secret: "old".into(),
    }
}

#[tokio::test]
async fn woocommerce_webhooks_are_made_relances_and_another_plugins_are_left_alone() {
    let zapier = hook(101, "Zapier order.created", "order.created", "https://hooks.zapier.com/hooks/1", "active");
    let old = hook(
        102,
        "Relance order.updated",
        "order.updated",
        "https://old-stack.example/webhooks/woocommerce",
        "disabled",
    );
    let server = WooRestServer::start("ck_test", "cs_test", vec![zapier.clone(), old]).await.unwrap();
    {
        let mut state = server.state.lock().unwrap();
        state.page_size = 2;
        state.throttle_next = 1;
    }
    let admin = WooAdmin::new(
        WooRest::new(api_root(&server.site()), "ck_test".into(), "cs_test".into()),
        WOO_URI.into(),
        "whsec-new".into(),
    );
    let wanted: Vec<String> = woo_topics::SUBSCRIBED_TOPICS.iter().map(|t| t.to_string()).collect();
    let first = connect(&admin, &wanted).await.unwrap();
    println!("{}", first.lines.join("\n"));
    assert_eq!((first.created, first.fixed, first.kept, first.extra), (wanted.len() - 1, 1, 0, 0));
    assert!(
        first.lines.iter().any(|l| l.contains("delivered to https://old-stack.example") && l.contains("was disabled"))
    );

    let hooks = server.hooks();
    assert_eq!(hooks.iter().find(|h| h.id == 101), Some(&zapier), "another plugin's webhook is untouched");
    for topic in &wanted {
        let ours: Vec<_> = hooks.iter().filter(|h| &h.topic == topic && h.delivery_url == WOO_URI).collect();
        assert_eq!(ours.len(), 1, "{topic}");
        assert_eq!((ours[0].status.as_str(), ours[0].secret.as_str()), ("active", "whsec-new"), "{topic}");
    }

    server.state.lock().unwrap().calls.clear();
    let second = connect(&admin, &wanted).await.unwrap();
    assert_eq!((second.created, second.fixed, second.kept), (0, 0, wanted.len()));
    assert_eq!(server.hooks().len(), hooks.len(), "nothing created twice");
    let calls = server.state.lock().unwrap().calls.clone();
    assert!(calls.iter().all(|c| !c.starts_with("POST")), "{calls:?}");
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("GET")).count(),
        hooks.len().div_ceil(2),
        "every page read: {calls:?}"
    );
}

#[tokio::test]
async fn a_woocommerce_key_that_is_refused_says_which_key_to_make() {
    let server = WooRestServer::start("ck_test", "cs_test", vec![]).await.unwrap();
    let admin = WooAdmin::new(
        WooRest::new(api_root(&server.site()), "ck_test".into(), "cs_wrong".into()),
        WOO_URI.into(),
        "s".into(),
    );
    let error = connect(&admin, &["order.created".to_owned()]).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("Sorry, you cannot list resources.") && text.contains("Read/Write"), "{text}");
}
