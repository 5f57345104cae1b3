//! A campaign on the local stack: 2,000 members of a segment filed in `gsi1`, send-mail's
//! handler driven as EventBridge would (the marketer's `campaign.requested`, then the
//! continuations it puts on the bus), mail into the SES emulator: exactly one mail to each
//! consenting member and none to the others, also when the whole campaign is sent again.

use chrono::{TimeZone, Utc};
use lambda_runtime::LambdaEvent;
use relance::aws::DynamoProfileStore;
use relance::events::ConsentState;
use relance::ids::{Email, EventId, ProfileId, ShopId};
use relance::lattice::{Lww, Stamp};
use relance::ports::ManualClock;
use relance::ports::ProfileStore;
use relance::profile::{ConsentDecision, Profile, Version};
use relance::segments::{Segment, SegmentState, Tier};
use relance::shops::Shops;
use relance::use_cases::send_campaign::Progress;
use relance_tests::mailbox::sent_mails;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use send_mail::{Deps, Handled, handle};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

const MEMBERS: usize = 2_000;

fn event(detail: Value) -> LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent<Value>> {
    let value = json!({ "version": "0", "id": unique("id"), "detail-type": "campaign.requested",
        "source": "marketing.team", "account": "123456789012", "time": Utc::now(), "region": "us-east-1",
        "resources": [], "detail": detail });
    LambdaEvent::new(serde_json::from_value(value).unwrap(), Default::default())
}

/// Sends the campaign to its end the way EventBridge and send-mail would: each
/// continuation is the next invocation.
async fn send_all(deps: &Deps, mut detail: Value) -> Progress {
    let mut total = Progress::default();
    loop {
        let Handled::Campaign(progress) = handle(event(detail.clone()), deps).await.unwrap() else {
            panic!("campaign")
        };
        total.sent += progress.sent;
        total.duplicates += progress.duplicates;
        total.skipped += progress.skipped;
        total.members += progress.members;
        match progress.next {
            Some(cursor) => detail["cursor"] = json!(cursor),
            None => return total,
        }
    }
}

#[tokio::test]
async fn a_campaign_to_two_thousand_members_mails_each_consenting_one_once() {
    let stack = LocalStack::connect().await.unwrap();
    let shop = ShopId::parse(unique("shop")).unwrap();
    let run = unique("r");
    let store = Arc::new(DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").unwrap()));
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
    let stamp = Stamp { at: now - chrono::Duration::days(10), event: EventId::parse("e:consent").unwrap() };
    let mut consenting = BTreeSet::new();
    for n in 0..MEMBERS {
        let email = format!("{run}-{n}@example.fr");
        let mut profile = Profile::new(shop.clone(), ProfileId::parse(format!("m{n:05}")).unwrap(), stamp.at);
        profile.contact.email = Some(Lww::new(Email::parse(&email).unwrap(), stamp.clone()));
        let state = if n % 3 == 1 { ConsentState::Unsubscribed } else { ConsentState::Subscribed };
        profile.consent = Some(Lww::new(ConsentDecision { state, source: "shopify".into() }, stamp.clone()));
        if n % 3 == 2 {
            profile.record_mail(relance::events::MailSignal::HardBounce, stamp.clone());
        }
        let standing = SegmentState {
            segment: Some(Segment::AtRisk),
            score: None,
            tier: Tier::SemiActive,
            scored_at: now,
            outlook: None,
        };
        profile.segment = Some(standing);
        store.save(&profile, Version::NEW).await.unwrap();
        if n % 3 == 0 {
            consenting.insert(email);
        }
    }
    let shops = json!({ "shops": [{ "id": shop, "mail": { "from": "Maison Test <bonjour@relance.test>",
        "name": "Maison Test", "site_url": "https://shop.test", "unsubscribe_secrets": ["local-unsubscribe-secret"] } }] });
    let deps = Deps {
        store: store.clone(),
        segments: store.clone(),
        publisher: Arc::new(stack.publisher().unwrap()),
        mailer: Arc::new(stack.ses_mailer().unwrap()),
        scheduler: Arc::new(stack.timer_scheduler().unwrap()),
        shops: Arc::new(Shops::parse(&shops.to_string()).unwrap()),
        clock: Arc::new(ManualClock::at(now)),
        public_url: "https://hooks.relance.test".into(),
    };
    let campaign = json!({ "shop": shop, "campaign": "winback-test", "segment": "at_risk",
                           "template": "reactivation", "rate_per_second": 100000 });

    let first = send_all(&deps, campaign.clone()).await;
    assert_eq!((first.members as usize, first.sent as usize), (MEMBERS, consenting.len()));
    // The marketer's rule fires again: nobody gets a second mail.
    let again = send_all(&deps, campaign).await;
    assert_eq!((again.sent, again.duplicates as usize), (0, consenting.len()));

    let mails = sent_mails(stack.var("RELANCE_SES_EMULATOR_URL").unwrap()).await.unwrap();
    let ours: Vec<String> =
        mails.iter().filter(|m| m.destination.to[0].starts_with(&run)).map(|m| m.destination.to[0].clone()).collect();
    let unique_recipients: BTreeSet<String> = ours.iter().cloned().collect();
    assert_eq!(ours.len(), consenting.len(), "exactly one mail each");
    assert_eq!(unique_recipients, consenting, "and only to consenting, deliverable members");
}
