use super::*;
use relance::shops::Shops;
use relance::signature::{Secret, sign_base64_hmac_sha256, verify_any};

fn id(text: &str) -> ShopId {
    ShopId::parse(text).unwrap()
}

fn shopify_shop() -> NewShop {
    NewShop {
        id: id("maison.myshopify.com"),
        currency: "EUR".into(),
        locale: Some("fr".into()),
        time_zone: Some("Europe/Paris".into()),
        shopify: Some(("maison.myshopify.com".into(), "app-client-secret".into())),
        woocommerce: None,
        track_origins: vec!["https://maison.example".into()],
        mail: Some(NewMail {
            from: "Maison <bonjour@maison.example>".into(),
            name: "Maison".into(),
            site_url: "https://maison.example".into(),
        }),
    }
}

/// Secrets drawn in order: `s1`, `s2`, …
fn counter() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("s{n}")
    }
}

/// The secrets the functions would accept for the shop's webhooks of `kind`.
fn valid(text: &str, shop: &str, kind: SecretKind) -> Vec<Secret> {
    let shops = Shops::parse(text).expect("the functions accept the document");
    let shop = shops.get(&id(shop)).expect("the shop").clone();
    match kind {
        SecretKind::Shopify => shop.shopify.unwrap().secrets,
        SecretKind::Woocommerce => shop.woocommerce.unwrap().secrets,
        SecretKind::Api => shop.api.unwrap().secrets,
        SecretKind::Unsubscribe => shop.mail.unwrap().unsubscribe_secrets,
    }
}

fn verifies(secrets: &[Secret], signer: &str) -> bool {
    let body = br#"{"id":1}"#;
    verify_any(secrets, body, &sign_base64_hmac_sha256(&Secret::new(signer.into()).unwrap(), body)).is_ok()
}

#[tokio::test]
async fn a_shop_added_to_an_empty_secret_is_one_the_functions_accept_with_the_secrets_drawn_for_it() {
    let secret = MemoryShopsSecret::holding("");
    let drawn = add(&secret, &shopify_shop(), &mut counter()).await.unwrap();
    assert_eq!(drawn.secrets, vec![(SecretKind::Api, "s1".into()), (SecretKind::Unsubscribe, "s2".into())]);
    assert_eq!(drawn.track_key.as_deref(), Some("pk_s3"));
    let text = secret.text();
    assert!(verifies(&valid(&text, "maison.myshopify.com", SecretKind::Shopify), "app-client-secret"));
    assert!(verifies(&valid(&text, "maison.myshopify.com", SecretKind::Api), "s1"));
    let shops = Shops::parse(&text).unwrap();
    assert_eq!(shops.by_shopify_domain("maison.myshopify.com").unwrap().id, id("maison.myshopify.com"));
    assert_eq!(shops.by_track_key("pk_s3").unwrap().id, id("maison.myshopify.com"));
}

#[tokio::test]
async fn a_woocommerce_shop_gets_a_webhook_secret_drawn_for_it() {
    let secret = MemoryShopsSecret::holding("");
    let shop = NewShop {
        id: id("cave"),
        shopify: None,
        woocommerce: Some("https://cave.example".into()),
        track_origins: vec![],
        mail: None,
        ..shopify_shop()
    };
    let drawn = add(&secret, &shop, &mut counter()).await.unwrap();
    assert_eq!(drawn.secrets, vec![(SecretKind::Woocommerce, "s1".into()), (SecretKind::Api, "s2".into())]);
    assert!(verifies(&valid(&secret.text(), "cave", SecretKind::Woocommerce), "s1"));
    assert_eq!(drawn.track_key, None);
}

#[tokio::test]
async fn a_shop_id_already_there_is_refused_and_the_secret_is_not_written() {
    let secret = MemoryShopsSecret::holding("");
    add(&secret, &shopify_shop(), &mut counter()).await.unwrap();
    let before = secret.text();
    let error = add(&secret, &shopify_shop(), &mut counter()).await.unwrap_err();
    assert!(matches!(error, ShopsError::Document(DocumentError::Exists(_))), "{error}");
    assert_eq!(secret.text(), before);
}

#[tokio::test]
async fn a_shop_the_functions_would_refuse_is_not_written_and_the_reason_is_theirs() {
    let secret = MemoryShopsSecret::holding("");
    let mut shop = shopify_shop();
    shop.mail.as_mut().unwrap().from = "not an address".into();
    let error = add(&secret, &shop, &mut counter()).await.unwrap_err();
    assert!(matches!(error, ShopsError::Document(DocumentError::Refused(_))), "{error}");
    assert!(
        relance::failure::chain(&error).contains("mail.from must hold an address"),
        "{}",
        relance::failure::chain(&error)
    );
    assert_eq!(secret.text(), "");
}

#[tokio::test]
async fn a_rotated_secret_signs_first_while_the_old_one_still_verifies_until_it_is_retired() {
    let secret = MemoryShopsSecret::holding("");
    add(&secret, &shopify_shop(), &mut counter()).await.unwrap();
    let shop = id("maison.myshopify.com");

    let rotated = rotate(&secret, &shop, SecretKind::Unsubscribe, Some("new")).await.unwrap();
    assert_eq!(rotated, Rotated::Added { valid: 2 });
    let secrets = valid(&secret.text(), shop.as_str(), SecretKind::Unsubscribe);
    assert!(verifies(&secrets[..1], "new"), "the new secret is first: it signs new links");
    assert!(verifies(&secrets, "s2"), "links signed with the old one still verify");

    let again = rotate(&secret, &shop, SecretKind::Unsubscribe, Some("new")).await.unwrap();
    assert_eq!(again, Rotated::Added { valid: 2 }, "the same rotation twice changes nothing more");

    let retired = rotate(&secret, &shop, SecretKind::Unsubscribe, None).await.unwrap();
    assert_eq!(retired, Rotated::Retired { removed: 1 });
    let secrets = valid(&secret.text(), shop.as_str(), SecretKind::Unsubscribe);
    assert!(verifies(&secrets, "new"));
    assert!(!verifies(&secrets, "s2"), "the old secret no longer verifies");
}

#[tokio::test]
async fn a_rotation_keeps_what_the_tool_does_not_know() {
    let text = r#"{"shops": [{"id": "demo", "api": {"secrets": ["old"]},
        "programs": {"abandoned_checkout": {"delays_minutes": [30]}}, "note": "kept"}]}"#;
    let secret = MemoryShopsSecret::holding(text);
    rotate(&secret, &id("demo"), SecretKind::Api, Some("new")).await.unwrap();
    let edited: serde_json::Value = serde_json::from_str(&secret.text()).unwrap();
    assert_eq!(edited["shops"][0]["programs"]["abandoned_checkout"]["delays_minutes"], serde_json::json!([30]));
    assert_eq!(edited["shops"][0]["note"], "kept");
    assert_eq!(edited["shops"][0]["api"]["secrets"], serde_json::json!(["new", "old"]));
}

#[tokio::test]
async fn rotating_a_list_the_shop_does_not_have_names_the_section() {
    let secret = MemoryShopsSecret::holding("");
    add(&secret, &shopify_shop(), &mut counter()).await.unwrap();
    let error = rotate(&secret, &id("maison.myshopify.com"), SecretKind::Woocommerce, Some("x")).await.unwrap_err();
    assert_eq!(error.to_string(), "shop maison.myshopify.com has no woocommerce section to hold woocommerce.secrets");
    let error = rotate(&secret, &id("other"), SecretKind::Api, Some("x")).await.unwrap_err();
    assert!(matches!(error, ShopsError::Document(DocumentError::NoShop(_))), "{error}");
}

#[tokio::test]
async fn the_list_counts_secrets_and_shows_none_of_them() {
    let secret = MemoryShopsSecret::holding("");
    add(&secret, &shopify_shop(), &mut counter()).await.unwrap();
    rotate(&secret, &id("maison.myshopify.com"), SecretKind::Api, Some("fresh-api-secret")).await.unwrap();
    let shops = list(&secret).await.unwrap();
    assert_eq!(shops.len(), 1);
    assert_eq!(shops[0].shopify_domain.as_deref(), Some("maison.myshopify.com"));
    assert_eq!(
        shops[0].secrets,
        vec![("shopify.secrets".into(), 1), ("api.secrets".into(), 2), ("mail.unsubscribe_secrets".into(), 1)]
    );
    let shown = format!("{shops:?}");
    for secret in ["app-client-secret", "fresh-api-secret", "s1", "s2"] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
}

#[tokio::test]
async fn an_edit_racing_another_is_refused() {
    let secret = MemoryShopsSecret::holding("");
    let read = secret.load().await.unwrap();
    add(&secret, &shopify_shop(), &mut counter()).await.unwrap();
    assert!(matches!(secret.save(&read, "{\"shops\": []}").await, Err(StoreError::Changed)));
}

#[test]
fn drawn_secrets_are_43_url_safe_characters_and_never_repeat() {
    let (a, b) = (draw_secret().unwrap(), draw_secret().unwrap());
    assert_eq!(a.len(), 43);
    assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
    assert_ne!(a, b);
}
