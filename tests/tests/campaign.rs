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
use relance::ports::{ManualClock, ProfileStore};
use relance::profile::{ConsentDecision, Profile, Version};
use relance::segments::{Segment, SegmentState, Tier};
use relance::use_cases::send_campaign::Progress;
use relance_tests::fixtures::{campaign, envelope, lambda_event, mail_shop, send_mail_deps};
use relance_tests::mailbox::sent_mails;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use send_mail::{Deps, Handled, handle};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

const MEMBERS: usize = 2_000;

fn event(detail: Value) -> LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent<Value>> {
    lambda_event(envelope(&unique("id"), "campaign.requested", "marketing.team", Utc::now(), detail))
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
    let deps =
        send_mail_deps(&stack, store, &json!({ "shops": [mail_shop(shop.as_str())] }), Arc::new(ManualClock::at(now)));
    let mut campaign = campaign(shop.as_str(), "winback-test", "at_risk");
    campaign["rate_per_second"] = json!(100000);

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
