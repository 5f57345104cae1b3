use super::*;
use proptest::prelude::*;

fn secret(value: &str) -> Secret {
    Secret::new(value.to_owned()).unwrap()
}

fn shop(id: &str) -> ShopId {
    ShopId::parse(id).unwrap()
}

fn token_for(shop_id: &str) -> UnsubscribeToken {
    UnsubscribeToken {
        shop: shop(shop_id),
        profile: ProfileId::parse("e0123456789abcdef0123456789abcdef").unwrap(),
        issued_at: DateTime::from_timestamp(1_795_453_200, 0).unwrap(),
    }
}

/// Two shops with keys of their own.
struct Keys {
    a: Vec<Secret>,
    b: Vec<Secret>,
}

impl Keys {
    fn new() -> Self {
        Keys { a: vec![secret("secret of a")], b: vec![secret("secret of b")] }
    }

    fn lookup<'k>(&'k self) -> impl Fn(&ShopId) -> Option<&'k [Secret]> + 'k {
        |id| match id.as_str() {
            "a.example" => Some(self.a.as_slice()),
            "b.example" => Some(self.b.as_slice()),
            _ => None,
        }
    }
}

#[test]
fn token_matches_an_independent_computation() {
    // python3: m = "v1." + b64url(shop) + "." + b64url(profile) + ".1795453200";
    // m + "." + b64url(hmac.new(secret, b"relance-unsubscribe-v1\n" + m, sha256).digest())
    let expected = "v1.ZGVtby5teXNob3BpZnkuY29t.ZTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm.1795453200.\
                    VubL1xUwqVKg8nRzGQ3JfQJWyf_Leep0sLCknOtF9oo";
    let token = token_for("demo.myshopify.com");
    assert_eq!(token.sign(&secret("local-unsubscribe-secret")), expected);
    let secrets = [secret("local-unsubscribe-secret")];
    assert_eq!(UnsubscribeToken::verify(expected, |_| Some(&secrets[..])), Ok(token));
}

#[test]
fn a_signed_token_verifies_back_to_itself_and_carries_no_address() {
    let keys = Keys::new();
    let token = UnsubscribeToken {
        // Ids may hold characters that mean something in a URL or in the format itself.
        profile: ProfileId::parse("p.1?x=y&z/../é").unwrap(),
        ..token_for("a.example")
    };
    let raw = token.sign(&keys.a[0]);
    assert!(raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{raw}");
    assert!(!raw.contains('@'));
    assert_eq!(raw.split('.').count(), 5);
    assert_eq!(UnsubscribeToken::verify(&raw, keys.lookup()), Ok(token));
}

#[test]
fn sub_seconds_are_dropped_and_old_tokens_never_expire() {
    let keys = Keys::new();
    let issued = DateTime::from_timestamp(1_000_000_000, 987_000_000).unwrap();
    let raw = UnsubscribeToken { issued_at: issued, ..token_for("a.example") }.sign(&keys.a[0]);
    let verified = UnsubscribeToken::verify(&raw, keys.lookup()).unwrap();
    assert_eq!(verified.issued_at, DateTime::from_timestamp(1_000_000_000, 0).unwrap(), "2001, still valid");
}

#[test]
fn any_altered_character_is_refused() {
    let keys = Keys::new();
    let raw = token_for("a.example").sign(&keys.a[0]);
    // Even if both shops shared one key, the MAC covers the shop: no alteration verifies.
    let shared = [secret("secret of a")];
    for index in 0..raw.len() {
        for replacement in ['A', 'b', '0', '-', '_', '.', '%'] {
            let mut altered = raw.clone().into_bytes();
            if altered[index] == replacement as u8 {
                continue;
            }
            altered[index] = replacement as u8;
            let altered = String::from_utf8(altered).unwrap();
            let result = UnsubscribeToken::verify(&altered, |_| Some(&shared[..]));
            assert!(
                matches!(result, Err(TokenError::BadSignature | TokenError::Malformed(_))),
                "{altered} gave {result:?}"
            );
            // With per-shop keys an edited shop may also be one we do not know.
            assert!(UnsubscribeToken::verify(&altered, keys.lookup()).is_err(), "{altered}");
        }
    }
    for cut in [1, raw.len() / 2, raw.len() - 1] {
        assert!(UnsubscribeToken::verify(&raw[..cut], keys.lookup()).is_err());
    }
}

#[test]
fn another_shops_id_edited_in_is_refused() {
    let keys = Keys::new();
    let raw = token_for("a.example").sign(&keys.a[0]);
    let encoded = |id: &str| URL_SAFE_NO_PAD.encode(id);
    let moved = raw.replacen(&encoded("a.example"), &encoded("b.example"), 1);
    assert_ne!(moved, raw);
    assert_eq!(UnsubscribeToken::verify(&moved, keys.lookup()), Err(TokenError::BadSignature));
    let shared = [secret("secret of a")];
    assert_eq!(UnsubscribeToken::verify(&moved, |_| Some(&shared[..])), Err(TokenError::BadSignature));
    let unknown = raw.replacen(&encoded("a.example"), &encoded("c.example"), 1);
    assert_eq!(UnsubscribeToken::verify(&unknown, keys.lookup()), Err(TokenError::UnknownShop));
}

#[test]
fn a_token_signed_with_another_shops_key_is_refused() {
    let keys = Keys::new();
    let forged = token_for("a.example").sign(&keys.b[0]);
    assert_eq!(UnsubscribeToken::verify(&forged, keys.lookup()), Err(TokenError::BadSignature));
    assert_eq!(UnsubscribeToken::verify(&forged, |_| Some(&[][..])), Err(TokenError::BadSignature));
}

#[test]
fn old_links_verify_while_their_secret_is_still_listed() {
    let token = token_for("a.example");
    let old_link = token.sign(&secret("old"));
    let rotating = [secret("new"), secret("old")];
    assert_eq!(UnsubscribeToken::verify(&old_link, |_| Some(&rotating[..])), Ok(token.clone()));
    let new_link = token.sign(&rotating[0]);
    assert_eq!(UnsubscribeToken::verify(&new_link, |_| Some(&rotating[..])), Ok(token));
    let retired = [secret("new")];
    assert_eq!(UnsubscribeToken::verify(&old_link, |_| Some(&retired[..])), Err(TokenError::BadSignature));
}

#[test]
fn malformed_tokens_say_so() {
    let keys = Keys::new();
    let good = token_for("a.example").sign(&keys.a[0]);
    let parts: Vec<&str> = good.split('.').collect();
    let with = |index: usize, value: &str| {
        let mut parts = parts.clone();
        parts[index] = value;
        parts.join(".")
    };
    let bad = [
        String::new(),
        ".".repeat(4),
        "v1".to_owned(),
        good.replacen("v1.", "v2.", 1),
        format!("{good}.x"),
        parts[..4].join("."),
        with(1, "not base64!"),
        with(1, &URL_SAFE_NO_PAD.encode("a#b")),
        with(1, ""),
        with(2, &URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
        with(3, "+1795453200"),
        with(3, "01795453200"),
        with(3, "-0"),
        with(3, "99999999999999999999"),
        with(4, &parts[4][..parts[4].len() - 2]),
        with(4, &format!("{}=", parts[4])),
        "v1.".repeat(400),
    ];
    for raw in &bad {
        let result = UnsubscribeToken::verify(raw, keys.lookup());
        assert!(matches!(result, Err(TokenError::Malformed(_))), "{raw:?} gave {result:?}");
    }
}

#[test]
fn the_event_id_is_one_per_link_and_minute_whichever_key_signed_it() {
    use chrono::TimeZone;
    let token = token_for("demo.myshopify.com");
    let at = chrono::Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 5).unwrap();
    let id = token.event_id(at).unwrap();
    assert!(id.as_str().starts_with("relance:demo.myshopify.com:unsubscribe:"), "{id}");
    assert_eq!(token.event_id(at + chrono::Duration::seconds(50)).unwrap(), id, "the same minute");
    assert_ne!(token.event_id(at + chrono::Duration::minutes(1)).unwrap(), id, "a later click");
    let rotated = [secret("a"), secret("b")];
    let by_old = UnsubscribeToken::verify(&token.sign(&rotated[1]), |_| Some(&rotated[..])).unwrap();
    assert_eq!(by_old.event_id(at).unwrap(), id);
    let other = UnsubscribeToken { profile: ProfileId::parse("someone-else").unwrap(), ..token };
    assert_ne!(other.event_id(at).unwrap(), id);
}

#[test]
fn the_url_joins_the_public_base_and_the_token() {
    assert_eq!(unsubscribe_url("https://x.on.aws/", "v1.a.b.1.c"), "https://x.on.aws/unsubscribe?t=v1.a.b.1.c");
    assert_eq!(unsubscribe_url("http://localhost:9000/base", "v1.a"), "http://localhost:9000/base/unsubscribe?t=v1.a");
    assert_eq!(unsubscribe_url("https://x", "a b&c"), "https://x/unsubscribe?t=a+b%26c");
}

proptest! {

    #![proptest_config(crate::testing::proptest_config(256))]
    #[test]
    fn arbitrary_strings_never_panic(raw: String) {
        let secrets = [secret("s")];
        prop_assert!(UnsubscribeToken::verify(&raw, |_| Some(&secrets[..])).is_err());
    }

    #[test]
    fn near_miss_tokens_never_panic(raw in "v1(\\.[A-Za-z0-9_=+/-]{0,48}){0,6}") {
        let secrets = [secret("s")];
        let _ = UnsubscribeToken::verify(&raw, |_| Some(&secrets[..]));
    }

    #[test]
    fn every_valid_token_round_trips(
        shop_id in "[a-z0-9.-]{1,60}",
        profile in "[!-~&&[^#]]{1,128}",
        seconds in -62_000_000_000i64..250_000_000_000,
    ) {
        let token = UnsubscribeToken {
            shop: shop(&shop_id),
            profile: ProfileId::parse(profile).unwrap(),
            issued_at: DateTime::from_timestamp(seconds, 0).unwrap(),
        };
        let secrets = [secret("k")];
        let raw = token.sign(&secrets[0]);
        prop_assert!(raw.len() <= MAX_TOKEN_LEN);
        prop_assert_eq!(UnsubscribeToken::verify(&raw, |_| Some(&secrets[..])), Ok(token));
    }
}
