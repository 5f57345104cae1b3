use super::memory::MemoryAdmin;
use super::*;

const URI: &str = "https://abc.lambda-url.eu-west-3.on.aws/webhooks/shopify";

fn sub(id: &str, topic: &str, uri: &str) -> Subscription {
    Subscription { id: id.into(), topic: topic.into(), uri: uri.into(), ours: true, faults: vec![] }
}

fn wanted(topics: &[&str]) -> Vec<String> {
    topics.iter().map(|t| t.to_string()).collect()
}

#[tokio::test]
async fn a_new_shop_gets_every_topic_and_a_second_run_changes_nothing() {
    let admin = MemoryAdmin::new(URI, vec![]);
    let topics = wanted(&["ORDERS_CREATE", "ORDERS_PAID", "CHECKOUTS_CREATE"]);
    let first = connect(&admin, &topics).await.unwrap();
    assert_eq!((first.created, first.kept, first.fixed, first.extra), (3, 0, 0, 0));
    let second = connect(&admin, &topics).await.unwrap();
    assert_eq!((second.created, second.kept, second.fixed, second.extra), (0, 3, 0, 0));
    assert_eq!(admin.writes(), 3, "the second run wrote nothing");
}

#[test]
fn right_ones_are_kept_wrong_ones_fixed_in_place_and_extras_reported() {
    let mut xml = sub("2", "ORDERS_PAID", URI);
    xml.faults.push("was in format XML".into());
    let existing = vec![
        sub("1", "ORDERS_CREATE", URI),
        xml,
        sub("3", "CHECKOUTS_CREATE", "https://old-stack.example/webhooks/shopify"),
        sub("4", "APP_UNINSTALLED", "https://elsewhere.example/"),
        sub("5", "ORDERS_CREATE", "https://old-stack.example/webhooks/shopify"),
    ];
    let steps = plan(&wanted(&["ORDERS_CREATE", "ORDERS_PAID", "CHECKOUTS_CREATE", "REFUNDS_CREATE"]), URI, &existing);
    assert_eq!(
        steps,
        vec![
            Step::Keep { id: "1".into(), topic: "ORDERS_CREATE".into() },
            Step::Fix { id: "2".into(), topic: "ORDERS_PAID".into(), was: vec!["was in format XML".into()] },
            Step::Fix {
                id: "3".into(),
                topic: "CHECKOUTS_CREATE".into(),
                was: vec!["delivered to https://old-stack.example/webhooks/shopify".into()]
            },
            Step::Create { topic: "REFUNDS_CREATE".into() },
            Step::Extra {
                id: "4".into(),
                topic: "APP_UNINSTALLED".into(),
                uri: "https://elsewhere.example/".into(),
                why: "a topic Relance does not use"
            },
            Step::Extra {
                id: "5".into(),
                topic: "ORDERS_CREATE".into(),
                uri: "https://old-stack.example/webhooks/shopify".into(),
                why: "a second subscription to the topic"
            },
        ]
    );
}

#[test]
fn another_plugins_webhooks_are_neither_touched_nor_reported() {
    let mut zapier = sub("9", "order.created", "https://hooks.zapier.com/x");
    zapier.ours = false;
    let steps = plan(&wanted(&["order.created"]), URI, &[zapier]);
    assert_eq!(steps, vec![Step::Create { topic: "order.created".into() }]);
}

#[test]
fn of_several_for_a_topic_the_one_to_the_stack_is_fixed_rather_than_another() {
    let mut paused = sub("7", "order.created", URI);
    paused.faults.push("was paused".into());
    let existing = vec![sub("6", "order.created", "https://old.example/"), paused];
    let steps = plan(&wanted(&["order.created"]), URI, &existing);
    assert_eq!(steps[0], Step::Fix { id: "7".into(), topic: "order.created".into(), was: vec!["was paused".into()] });
    assert!(matches!(&steps[1], Step::Extra { id, .. } if id == "6"));
}

#[tokio::test]
async fn a_platform_that_hides_secrets_gets_its_kept_webhooks_written_again() {
    let mut admin = MemoryAdmin::new(URI, vec![sub("1", "order.created", URI)]);
    admin.rewrites = true;
    let done = connect(&admin, &wanted(&["order.created"])).await.unwrap();
    assert_eq!(done.kept, 1);
    assert_eq!(admin.writes(), 1);
}

#[test]
fn shopify_topics_are_spelled_as_the_graphql_enum() {
    assert_eq!(shopify::topic_enum("orders/create"), "ORDERS_CREATE");
    assert_eq!(
        shopify::topic_enum("customers_email_marketing_consent/update"),
        "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE"
    );
}
