use super::*;
use crate::test_support::{BOB, bobs_shop};
use relance::mail::MailKind;
use relance::profile::Version;
use relance::profile::records::MessageRecord;

#[tokio::test]
async fn a_customer_is_found_by_email_and_shown_with_orders_consent_and_checkouts() {
    let (store, shop) = bobs_shop().await;
    let customer = look_up(&store, &shop, &Email::parse(BOB).unwrap()).await.unwrap().expect("Bob");
    let text = render(&customer);
    println!("{text}");
    assert!(text.starts_with(&format!("{BOB}\n")) || text.contains(&format!(", {BOB}\n")), "{text}");
    assert!(text.contains("customer 207119551"), "{text}");
    assert!(text.contains("orders: 1\n  2008-01-10  #1001  598.94 USD  paid"), "{text}");
    assert!(text.contains("marketing consent: "), "{text}");
    assert!(!text.contains("never stated"), "{text}");
    assert!(text.contains("not scored yet"), "{text}");
    assert!(text.contains("last mails: 0 of 0"), "{text}");
}

#[tokio::test]
async fn an_address_nobody_has_is_not_found() {
    let (store, shop) = bobs_shop().await;
    assert!(look_up(&store, &shop, &Email::parse("nobody@example.com").unwrap()).await.unwrap().is_none());
}

#[tokio::test]
async fn the_last_mails_are_listed_newest_first_with_what_became_of_them() {
    let (store, shop) = bobs_shop().await;
    let customer = look_up(&store, &shop, &Email::parse(BOB).unwrap()).await.unwrap().unwrap();
    let at = |h: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, h, 0, 0).unwrap();
    let mut signals = std::collections::BTreeMap::new();
    signals.insert("delivery".to_owned(), at(11));
    signals.insert("open".to_owned(), at(12));
    let mails = [
        MessageRecord {
            key: "older".into(),
            program: Some("welcome".into()),
            step: Some(1),
            kind: Some(MailKind::Marketing),
            subject: Some("Bienvenue".into()),
            sent_at: Some(at(9)),
            ..MessageRecord::default()
        },
        MessageRecord {
            key: "newer".into(),
            program: Some("checkout-recovery".into()),
            step: Some(2),
            subject: Some("Votre panier".into()),
            sent_at: Some(at(10)),
            signals,
            ..MessageRecord::default()
        },
        MessageRecord { key: "claimed, never sent".into(), claimed_at: Some(at(8)), ..MessageRecord::default() },
    ];
    for mail in mails {
        store.save_record(&shop, &customer.profile.id, &Record::Message(mail), Version::NEW).await.unwrap();
    }
    let text = render(&look_up(&store, &shop, &Email::parse(BOB).unwrap()).await.unwrap().unwrap());
    assert!(
        text.contains(
            "last mails: 2 of 2\n  2026-12-01 10:00 UTC  checkout-recovery step 2 \"Votre panier\": sent, delivery, open\n  2026-12-01 09:00 UTC  welcome step 1 \"Bienvenue\": sent\n"
        ),
        "{text}"
    );
}
