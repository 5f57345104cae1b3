//! send-mail on the local stack: a reminder for a profile filed in DynamoDB is rendered and
//! sent through the SES v2 emulator once, with the one-click unsubscribe pair and the shop's
//! sender; its message record lands beside the profile; the link in it verifies and its POST
//! through webhook-ingest's handler becomes the consent event that stops the next reminder.

use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use relance::aws::DynamoProfileStore;
use relance::events::Event;
use relance::ids::{ExternalId, ShopId};
use relance::ports::{ManualClock, ProfileStore};
use relance::profile::{IdentityKey, Record, RecordKey};
use relance::programs::checkout::message_key;
use relance::programs::gate::SkipReason;
use relance::programs::request::MailRequest;
use relance::unsubscribe::UnsubscribeToken;
use relance::use_cases::send_mail::Sent;
use relance::use_cases::update_profile::apply_event;
use relance_tests::fixtures::{self, Canonical, eur, lambda_event, product_line, send_mail_deps};
use relance_tests::mailbox::sent_mails;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use send_mail::{Handled, handle};
use serde_json::{Value, json};
use std::sync::Arc;

fn event(shop: &str, email: &str, n: u32, kind: &str, payload: Value) -> Event {
    Canonical::shopify(shop, n, kind, payload, "2026-11-23T08:00:00Z")
        .identity(json!({ "email": email }))
        .locale("en")
        .build()
}

fn envelope(request: &MailRequest) -> LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent<Value>> {
    let bus = request.to_bus_event().unwrap();
    lambda_event(fixtures::envelope(&unique("id"), &bus.detail_type, &bus.source, bus.time, bus.detail))
}

#[tokio::test]
async fn a_reminder_is_sent_once_through_ses_and_its_unsubscribe_link_stops_the_next() {
    let stack = LocalStack::connect().await.unwrap();
    let shop = unique("shop");
    let email = format!("{}@example.fr", unique("anne"));
    let store = Arc::new(DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap()));
    let mut mail_shop = fixtures::mail_shop(&shop);
    mail_shop["locale"] = json!("fr");
    mail_shop["time_zone"] = json!("Europe/Paris");
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let deps = send_mail_deps(&stack, store.clone(), &json!({ "shops": [mail_shop] }), Arc::new(ManualClock::at(now)));
    let publisher = deps.publisher.clone();
    let checkout = json!({ "token": "ck1", "line_items": [product_line("p1", "Cuvée des Vignes", 2490, &[])],
        "total": eur(2490), "recovery_url": "https://shop.test/checkouts/ck1" });
    let subscribed = json!({ "state": "subscribed", "changed_at": "2026-11-23T07:00:00Z", "source": "shopify" });
    let history =
        [event(&shop, &email, 1, "consent.changed", subscribed), event(&shop, &email, 2, "checkout.started", checkout)];
    for e in &history {
        apply_event(store.as_ref(), publisher.as_ref(), e).await.unwrap();
    }
    let shop_id = ShopId::parse(&shop).unwrap();
    let key = IdentityKey::Email(relance::ids::Email::parse(&email).unwrap());
    let profile = store.find_identity(&shop_id, &key).await.unwrap().unwrap();
    let token = ExternalId::parse("ck1").unwrap();
    let request = |step| MailRequest {
        shop: shop_id.clone(),
        profile: Some(profile.clone()),
        identity: Default::default(),
        program: "abandoned-checkout".into(),
        step,
        template: "abandoned-checkout".into(),
        kind: relance::mail::MailKind::Marketing,
        message_key: message_key(&shop_id, &token, step),
        checkout: Some(token.clone()),
        order: None,
        discount_code: None,
        campaign: None,
        products: Vec::new(),
        requested_at: now,
    };

    let Handled::Mail(Sent::Sent { provider_id }) = handle(envelope(&request(1)), &deps).await.unwrap() else {
        panic!("sent")
    };
    assert_eq!(handle(envelope(&request(1)), &deps).await.unwrap(), Handled::Mail(Sent::Duplicate));

    let mails = sent_mails(stack.var("RELANCE_SES_EMULATOR_URL").unwrap()).await.unwrap();
    let ours: Vec<_> = mails.iter().filter(|m| m.destination.to == [email.clone()]).collect();
    assert_eq!(ours.len(), 1, "sent once");
    let mail = ours[0];
    assert_eq!(mail.message_id, provider_id);
    assert_eq!(mail.from, "Maison Test <bonjour@relance.test>");
    assert!(mail.body.html.as_deref().unwrap().contains("Cuvée des Vignes"));
    assert!(mail.body.text.as_deref().unwrap().contains("https://shop.test/checkouts/ck1"));
    assert_eq!(mail.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let link = mail.header("List-Unsubscribe").unwrap().trim_matches(['<', '>']).to_owned();
    assert!(link.starts_with("https://hooks.relance.test/unsubscribe?t="), "{link}");

    // The message record sits beside the profile, with the SES message id.
    let record = store.load_record(&shop_id, &profile, &RecordKey::Message(request(1).message_key)).await.unwrap();
    let Some(Record::Message(message)) = record.map(|v| v.value) else { panic!("message record") };
    assert_eq!(message.provider_id.as_deref(), Some(provider_id.as_str()));

    // The customer clicks the one-click link: webhook-ingest turns it into a consent event
    // (here applied directly, as profile-update would), and the next reminder is skipped.
    let raw: String = url_token(&link);
    let shops = deps.shops.snapshot();
    let verified = UnsubscribeToken::verify(&raw, |s| shops.unsubscribe_secrets(s)).unwrap();
    assert_eq!(verified.profile, profile);
    let unsubscribed =
        json!({ "state": "unsubscribed", "changed_at": "2026-11-23T10:05:00Z", "source": "unsubscribe-link" });
    let mut unsubscribe = event(&shop, &email, 3, "consent.changed", unsubscribed);
    unsubscribe.identity = relance::events::Identity { profile: Some(verified.profile), ..Default::default() };
    apply_event(store.as_ref(), publisher.as_ref(), &unsubscribe).await.unwrap();
    let skipped = handle(envelope(&request(2)), &deps).await.unwrap();
    assert_eq!(skipped, Handled::Mail(Sent::Skipped(SkipReason::Unsubscribed)));
}

fn url_token(link: &str) -> String {
    let query = link.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "t").unwrap().1.into_owned()
}
