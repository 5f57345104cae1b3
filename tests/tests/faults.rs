//! The fault injector (`relance_tests::faults`) against the real SDK and the local stack:
//! each kind of fault reaches the client the way AWS's own would, a lost answer's call is
//! applied, and SES sends are counted by the tags they carry.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use relance::ids::{ProfileId, ShopId};
use relance::mail::{MailKind, MailTags, OutgoingMail, Subject};
use relance::ports::{Mailer, MailerError};
use relance_tests::faults::{Fault, FaultProxy, Upstreams};
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use std::time::Duration;

const ATTEMPT: Duration = Duration::from_millis(700);

async fn proxy(stack: &LocalStack) -> FaultProxy {
    let upstreams = Upstreams {
        moto: stack.var("AWS_ENDPOINT_URL").unwrap().to_owned(),
        ses: stack.var("AWS_ENDPOINT_URL_SESV2").unwrap().to_owned(),
    };
    FaultProxy::start(upstreams, 17, ATTEMPT * 2).await.unwrap()
}

/// A DynamoDB client through the proxy, with `attempts` SDK attempts and a short timeout.
fn dynamodb(stack: &LocalStack, proxy: &FaultProxy, attempts: u32) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(&stack.sdk)
        .endpoint_url(&proxy.url)
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(attempts))
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder().operation_attempt_timeout(ATTEMPT).build(),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn key(pk: &str) -> [(String, AttributeValue); 2] {
    [("pk".into(), AttributeValue::S(pk.into())), ("sk".into(), AttributeValue::S("FAULTS".into()))]
}

async fn put(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
) -> Result<(), SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError>> {
    let [a, b] = key(pk);
    client.put_item().table_name(table).item(a.0, a.1).item(b.0, b.1).send().await.map(|_| ())
}

async fn stored(stack: &LocalStack, table: &str, pk: &str) -> bool {
    let [a, b] = key(pk);
    let item = stack
        .dynamodb()
        .get_item()
        .table_name(table)
        .key(a.0, a.1)
        .key(b.0, b.1)
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    item.item.is_some()
}

#[tokio::test]
async fn each_fault_reaches_the_sdk_as_aws_gives_it_and_only_a_lost_answer_is_applied() {
    let stack = LocalStack::connect().await.unwrap();
    let table = stack.var("RELANCE_TABLE").unwrap().to_owned();
    let proxy = proxy(&stack).await;
    let client = dynamodb(&stack, &proxy, 1);
    proxy.set_rate(100.0);
    let mut throttles = Vec::new();
    for kind in Fault::ALL {
        proxy.set_kinds(&[kind]);
        let pk = unique("faults");
        let error = put(&client, &table, &pk).await.expect_err("every call faulted");
        match kind {
            Fault::Throttled => {
                throttles.push(error.code().map(str::to_owned));
                let again = put(&client, &table, &pk).await.expect_err("faulted");
                throttles.push(again.code().map(str::to_owned));
            }
            Fault::Internal => assert_eq!(error.code(), Some("InternalServerError"), "{error:?}"),
            Fault::Unavailable => {
                assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(503), "{error:?}")
            }
            Fault::Reset => assert!(matches!(error, SdkError::DispatchFailure(_)), "{error:?}"),
            Fault::AnswerLost => assert!(matches!(error, SdkError::TimeoutError(_)), "{error:?}"),
        }
        assert_eq!(stored(&stack, &table, &pk).await, kind == Fault::AnswerLost, "{kind:?} applied?");
    }
    throttles.sort();
    assert_eq!(
        throttles,
        [Some("ProvisionedThroughputExceededException".to_owned()), Some("ThrottlingException".to_owned())]
    );
    let tally = proxy.services();
    assert_eq!(tally["dynamodb"].faults.values().sum::<u64>(), 6);
}

#[tokio::test]
async fn the_sdk_retries_ride_through_a_seeded_tenth_of_faults_and_the_tally_counts_them() {
    let stack = LocalStack::connect().await.unwrap();
    let table = stack.var("RELANCE_TABLE").unwrap().to_owned();
    let proxy = proxy(&stack).await;
    proxy.set_kinds(&[Fault::Throttled, Fault::Internal, Fault::Unavailable, Fault::Reset]);
    proxy.set_rate(10.0);
    let client = dynamodb(&stack, &proxy, 4);
    let mut failed = 0;
    for _ in 0..100 {
        if put(&client, &table, &unique("faults")).await.is_err() {
            failed += 1;
        }
    }
    let tally = &proxy.services()["dynamodb"];
    let faults: u64 = tally.faults.values().sum();
    assert_eq!(tally.calls, 100 + faults - failed, "each faulted attempt is retried, up to four in all");
    assert!((3..=30).contains(&faults), "about a tenth of {} calls: {faults}", tally.calls);
    assert!(failed <= 1, "four attempts each: {failed} failed");
}

fn mail(message: &str) -> OutgoingMail {
    OutgoingMail {
        to: relance::ids::Email::parse("anne@example.fr").unwrap(),
        subject: Subject::parse("Votre panier").unwrap(),
        html: "<p>Bonjour</p>".into(),
        text: "Bonjour".into(),
        headers: Vec::new(),
        kind: MailKind::Marketing,
        tags: Some(MailTags {
            shop: ShopId::parse("faults.myshopify.com").unwrap(),
            profile: ProfileId::parse("p-1").unwrap(),
            message: message.to_owned(),
        }),
        from: None,
        reply_to: None,
    }
}

#[tokio::test]
async fn a_send_whose_answer_is_lost_reaches_ses_once_and_the_mailer_says_it_may_have_gone() {
    let stack = LocalStack::connect().await.unwrap();
    let proxy = proxy(&stack).await;
    let config = aws_sdk_sesv2::config::Builder::from(&stack.sdk)
        .endpoint_url(&proxy.url)
        .timeout_config(
            aws_sdk_sesv2::config::timeout::TimeoutConfig::builder().operation_attempt_timeout(ATTEMPT).build(),
        )
        .build();
    let mailer = relance::aws::SesMailer::new(
        aws_sdk_sesv2::Client::from_conf(config),
        stack.var("RELANCE_SENDER").unwrap(),
        stack.var("RELANCE_CONFIGURATION_SET").unwrap(),
    );
    proxy.set_kinds(&[Fault::AnswerLost]);
    proxy.set_rate(100.0);
    let lost = unique("lost");
    let error = mailer.send(&mail(&lost)).await.unwrap_err();
    assert!(matches!(error, MailerError::Unknown(_)), "{error:?}");
    proxy.set_kinds(&[Fault::Throttled]);
    let throttled = unique("throttled");
    let error = mailer.send(&mail(&throttled)).await.unwrap_err();
    assert!(matches!(error, MailerError::Throttled(_)), "{error:?}");
    proxy.set_rate(0.0);
    let fine = unique("fine");
    mailer.send(&mail(&fine)).await.unwrap();
    let mails: Vec<(String, bool)> = proxy.mails().into_iter().map(|m| (m.message_key, m.answer_lost)).collect();
    // Once each: the mailer does not retry a send on its own; the throttled one never went.
    assert_eq!(mails, [(lost, true), (fine, false)]);
}
