//! The unsubscribe route through the real handler, with in-memory ports.

use crate::handle;
use crate::tests::{World, body_json, request, secret, world_with};
use chrono::{TimeZone, Utc};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use relance::ids::{ProfileId, ShopId};
use relance::shops::Shops;
use relance::unsubscribe::UnsubscribeToken;

const DEMO_SECRET: &str = "demo unsubscribe secret";
const OTHER_SECRET: &str = "other unsubscribe secret";
const PROFILE: &str = "e0123456789abcdef0123456789abcdef";
const FORM: &str = "application/x-www-form-urlencoded";
const ONE_CLICK: &[u8] = b"List-Unsubscribe=One-Click";

fn world() -> World {
    let mail = |name: &str, secret: &str| {
        format!(
            r#"{{"from": "Shop <bonjour@shop.example>", "name": {name}, "site_url": "https://shop.example",
                 "unsubscribe_secrets": ["{secret}"]}}"#
        )
    };
    let shops = format!(
        r#"{{"shops": [
            {{"id": "demo.myshopify.com", "locale": "fr", "mail": {}}},
            {{"id": "other.example", "locale": "en", "mail": {}}},
            {{"id": "evil.example", "mail": {}}},
            {{"id": "mute.example", "locale": "fr"}}]}}"#,
        mail(r#""Maison Demo""#, DEMO_SECRET),
        mail(r#""Other""#, OTHER_SECRET),
        mail(r#""<script>alert(\"x\")</script> & Co'""#, "evil"),
    );
    world_with(Shops::parse(&shops).unwrap())
}

fn link(shop: &str, signed_with: &str) -> String {
    UnsubscribeToken {
        shop: ShopId::parse(shop).unwrap(),
        profile: ProfileId::parse(PROFILE).unwrap(),
        issued_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 0).unwrap(),
    }
    .sign(&secret(signed_with))
}

fn get(token: &str, headers: &[(&str, &str)]) -> Request {
    request(Method::GET, &format!("/unsubscribe?t={token}"), headers, b"")
}

fn post(token: &str, content_type: &str, body: &[u8]) -> Request {
    request(Method::POST, &format!("/unsubscribe?t={token}"), &[("content-type", content_type)], body)
}

fn text(response: &Response<Body>) -> String {
    match response.body() {
        Body::Text(text) => text.clone(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

fn assert_private(response: &Response<Body>) {
    let headers = response.headers();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-robots-tag"], "noindex");
    assert_eq!(headers["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn a_get_shows_the_confirmation_page_and_publishes_nothing() {
    let w = world();
    let token = link("demo.myshopify.com", DEMO_SECRET);
    let page = handle(get(&token, &[]), &w.deps).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_private(&page);
    let html = text(&page);
    assert!(html.contains(r#"<html lang="fr">"#) && html.contains("Maison Demo"), "{html}");
    assert!(html.contains(&format!(r#"<form method="post" action="?t={token}">"#)), "{html}");
    assert!(html.contains(r#"<input type="hidden" name="List-Unsubscribe" value="One-Click">"#), "{html}");

    let english = text(&handle(get(&token, &[("accept-language", "en-GB,en;q=0.9")]), &w.deps).await);
    assert!(english.contains(r#"<html lang="en">"#) && english.contains(">Unsubscribe</button>"), "{english}");
    assert!(w.publisher.events().is_empty() && w.parking.parked().is_empty(), "a GET changes nothing");
}

#[tokio::test]
async fn a_one_click_post_publishes_one_unsubscribe_for_the_tokens_profile() {
    let w = world();
    let token = link("demo.myshopify.com", DEMO_SECRET);
    let done = handle(post(&token, FORM, ONE_CLICK), &w.deps).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert_private(&done);
    assert!(text(&done).contains("Vous êtes désabonné(e)"));

    let events = w.publisher.events();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].source.as_str(), events[0].detail_type.as_str()), ("relance.ingest", "consent.changed"));
    let detail = &events[0].detail;
    assert_eq!(detail["platform"], "relance");
    assert_eq!(detail["shop"], "demo.myshopify.com");
    assert_eq!(detail["identity"], serde_json::json!({ "profile": PROFILE }), "the profile, and nothing else");
    assert_eq!(detail["payload"]["state"], "unsubscribed");
    assert_eq!(detail["payload"]["source"], "unsubscribe-link");
    assert_eq!(detail["payload"]["changed_at"], "2026-11-23T18:00:00Z");
    assert_eq!(detail["occurred_at"], "2026-11-23T18:00:00Z");
    assert_eq!(detail["received_at"], "2026-11-23T18:00:00Z");
    assert!(detail["id"].as_str().unwrap().starts_with("relance:demo.myshopify.com:unsubscribe:"));

    // The mail client's POST after the page's, seconds later: one event in all.
    w.clock.advance(chrono::Duration::seconds(20));
    let again = handle(post(&token, "application/x-www-form-urlencoded; charset=UTF-8", ONE_CLICK), &w.deps).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(w.publisher.events().len(), 1, "the ledger recognised the same click");

    // Subscribed again since (within the ledger's days), the same link unsubscribes again.
    w.clock.advance(chrono::Duration::days(2));
    let later = handle(post(&token, FORM, ONE_CLICK), &w.deps).await;
    assert_eq!(later.status(), StatusCode::OK);
    let events = w.publisher.events();
    assert_eq!(events.len(), 2, "a later click is news, not a duplicate");
    assert_eq!(events[1].detail["payload"]["state"], "unsubscribed");
}

#[tokio::test]
async fn a_multipart_one_click_post_as_rfc_8058_recommends_unsubscribes() {
    let w = world();
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
    let response =
        handle(post(&link("other.example", OTHER_SECRET), "multipart/form-data; boundary=XyZ", body), &w.deps).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", text(&response));
    assert!(text(&response).contains("You are unsubscribed"), "the shop's locale is English");
    assert_eq!(w.publisher.events()[0].detail["shop"], "other.example");
}

#[tokio::test]
async fn forged_altered_or_foreign_tokens_are_refused_and_publish_nothing() {
    let w = world();
    let good = link("demo.myshopify.com", DEMO_SECRET);
    let shop_part = |token: &str| token.split('.').nth(1).unwrap().to_owned();
    let other_shop = shop_part(&link("other.example", OTHER_SECRET));
    let forbidden = [
        link("demo.myshopify.com", OTHER_SECRET),
        link("demo.myshopify.com", "guessed"),
        good.replacen(&shop_part(&good), &other_shop, 1),
        link("unknown.example", DEMO_SECRET),
        link("mute.example", DEMO_SECRET),
    ];
    for token in &forbidden {
        for request in [get(token, &[]), post(token, FORM, ONE_CLICK)] {
            let response = handle(request, &w.deps).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{token}");
            assert_eq!(body_json(&response)["error"], "this unsubscribe link is not valid");
            assert_private(&response);
        }
    }
    // An altered character is a bad signature (403), or no longer parses (400).
    for index in (0..good.len()).step_by(7) {
        let token = altered(&good, index);
        let status = handle(post(&token, FORM, ONE_CLICK), &w.deps).await.status();
        assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST), "{token}: {status}");
    }
    for token in ["", "nonsense", &good[..good.len() - 1], &format!("{good}.extra")] {
        let response = handle(post(token, FORM, ONE_CLICK), &w.deps).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{token:?}");
        assert!(body_json(&response)["error"].as_str().unwrap().contains("token"), "{token:?}");
    }
    let no_token = handle(request(Method::POST, "/unsubscribe", &[("content-type", FORM)], ONE_CLICK), &w.deps).await;
    assert_eq!(no_token.status(), StatusCode::BAD_REQUEST);
    assert!(w.publisher.events().is_empty() && w.parking.parked().is_empty());
}

#[tokio::test]
async fn posts_without_the_one_click_field_and_other_methods_are_refused() {
    let w = world();
    let token = link("demo.myshopify.com", DEMO_SECRET);
    for body in [&b""[..], b"List-Unsubscribe=Maybe", b"One-Click", b"unsubscribe=1"] {
        let response = handle(post(&token, FORM, body), &w.deps).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body_json(&response)["error"], "body must be List-Unsubscribe=One-Click");
    }
    let multipart_without = b"--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nOne-Click\r\n--b--\r\n";
    let response = handle(post(&token, "multipart/form-data; boundary=b", multipart_without), &w.deps).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let huge = vec![b'a'; super::MAX_BYTES + 1];
    assert_eq!(handle(post(&token, FORM, &huge), &w.deps).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    for method in [Method::PUT, Method::DELETE, Method::HEAD, Method::OPTIONS] {
        let response = handle(request(method, &format!("/unsubscribe?t={token}"), &[], ONE_CLICK), &w.deps).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    assert!(w.publisher.events().is_empty());
}

#[tokio::test]
async fn when_the_bus_is_down_the_unsubscribe_is_parked_and_still_confirmed() {
    let w = world();
    w.publisher.set_failing(true);
    let response = handle(post(&link("demo.myshopify.com", DEMO_SECRET), FORM, ONE_CLICK), &w.deps).await;
    assert_eq!(response.status(), StatusCode::OK, "a mail client never retries");
    let parked = w.parking.parked();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].detail_type, "consent.changed");
    assert_eq!(parked[0].detail["identity"]["profile"], PROFILE);
}

#[tokio::test]
async fn the_page_escapes_a_hostile_shop_name() {
    let w = world();
    let token = link("evil.example", "evil");
    for request in [get(&token, &[]), post(&token, FORM, ONE_CLICK)] {
        let html = text(&handle(request, &w.deps).await);
        assert!(!html.contains("<script") && !html.contains("\"x\""), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#x27;"), "{html}");
    }
}

/// `token` with the character at `index` replaced by another base64url character.
fn altered(token: &str, index: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(relance::testing::proptest_config(256))]
        #[test]
        fn no_body_or_content_type_makes_a_valid_link_panic(
            content_type in prop::sample::select(vec![FORM, "multipart/form-data; boundary=b", "multipart/form-data", "text/plain", ""]),
            body in prop::collection::vec(any::<u8>(), 0..256),
            text_body in "(--b\r\n|Content-Disposition: form-data; name=\"List-Unsubscribe\"|\r\n|One-Click|=|&|List-Unsubscribe){0,12}",
            use_text in any::<bool>(),
        ) {
            let w = world();
            let body = if use_text { text_body.into_bytes() } else { body };
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let response = runtime.block_on(handle(post(&link("demo.myshopify.com", DEMO_SECRET), content_type, &body), &w.deps));
            prop_assert!(matches!(response.status(), StatusCode::OK | StatusCode::BAD_REQUEST));
            prop_assert_eq!(w.publisher.events().len(), usize::from(response.status() == StatusCode::OK));
        }
    }
}
