//! `relance` the binary, against the local stack (`make up`): the shops secret read and
//! written on Secrets Manager as the functions' loader reads it, a deployed stack found by
//! its CloudFormation outputs, and a customer looked up in the DynamoDB table. Each test
//! works on a secret and a shop of its own, so the stack's shared shops secret is untouched.

use relance::aws::{DynamoProfileStore, load_shops};
use relance::ids::ShopId;
use relance::ports::{RecordingPublisher, Scheduler};
use relance::use_cases::update_profile::apply_event;
use relance_cli::shops::{SecretsManagerShops, ShopsSecret, StoreError};
use relance_tests::platforms::shopify::ShopifyAdminServer;
use relance_tests::platforms::woocommerce::WooRestServer;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A stack.env like the local stack's, naming a shops secret of the test's own.
struct Env {
    stack: LocalStack,
    path: PathBuf,
    secret: String,
}

async fn env_with_own_secret(initial: &str) -> Env {
    let stack = LocalStack::connect().await.expect("the local stack (make up)");
    let name = unique("relance-cli-shops");
    let created = aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .create_secret()
        .name(&name)
        .secret_string(initial)
        .send()
        .await
        .unwrap();
    let secret = created.arn.unwrap();
    let text = std::fs::read_to_string(stack.dir().join("stack.env")).unwrap();
    let replaced: String = text
        .lines()
        .map(|l| {
            if l.starts_with("RELANCE_SHOPS_SECRET_ARN=") {
                format!("RELANCE_SHOPS_SECRET_ARN={secret}")
            } else {
                l.to_owned()
            }
        })
        .map(|l| l + "\n")
        .collect();
    let path = std::env::temp_dir().join(format!("{name}.env"));
    std::fs::write(&path, replaced).unwrap();
    Env { stack, path, secret }
}

fn relance(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn local<'a>(env: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--stack-env", env.to_str().unwrap()];
    all.extend_from_slice(args);
    all
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "relance failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test]
async fn a_shop_added_then_rotated_is_what_the_functions_load_and_its_secrets_are_never_listed() {
    let env = env_with_own_secret(r#"{"shops": []}"#).await;
    let client = aws_sdk_secretsmanager::Client::new(&env.stack.sdk);
    let id = format!("{}.myshopify.com", unique("cli"));
    let add = [
        "shops",
        "add",
        &id,
        "--currency",
        "EUR",
        "--time-zone",
        "Europe/Paris",
        "--shopify-domain",
        &id,
        "--mail-from",
        "Maison <bonjour@maison.example>",
        "--mail-name",
        "Maison",
        "--site-url",
        "https://maison.example",
    ];
    let added = stdout(&relance(&local(&env.path, &add), "the-app-client-secret\n"));
    assert!(added.contains(&format!("added {id}")), "{added}");
    let api_secret = added
        .lines()
        .find_map(|l| l.trim().strip_prefix("api.secrets: "))
        .expect("the API secret, shown once")
        .to_owned();

    let shops = load_shops(&client, &env.secret).await.expect("the functions load the edited secret");
    // And a running function reading it again (relance::directory) finds the new shop.
    let source = relance::aws::SecretsManagerShopsSource::new(client.clone(), &env.secret);
    let reread = relance::ports::ShopsSource::load(&source).await.expect("read again");
    assert!(reread.get(&ShopId::parse(&id).unwrap()).is_some());
    let shop = shops.get(&ShopId::parse(&id).unwrap()).expect("the new shop");
    assert_eq!(shop.shopify.as_ref().unwrap().secrets.len(), 1);
    assert_eq!(shop.api.as_ref().unwrap().secrets.len(), 1);
    assert_eq!(shops.by_shopify_domain(&id).unwrap().id.as_str(), id);

    let rotated = stdout(&relance(&local(&env.path, &["shops", "rotate-secret", &id, "--for", "api"]), ""));
    assert!(rotated.contains("2 now valid"), "{rotated}");
    let shops = load_shops(&client, &env.secret).await.unwrap();
    assert_eq!(shops.get(&ShopId::parse(&id).unwrap()).unwrap().api.as_ref().unwrap().secrets.len(), 2);

    let listed = stdout(&relance(&local(&env.path, &["shops", "list"]), ""));
    assert!(listed.contains(&id) && listed.contains("api.secrets 2"), "{listed}");
    assert!(!listed.contains(&api_secret) && !listed.contains("the-app-client-secret"), "{listed}");

    let retired = stdout(&relance(&local(&env.path, &["shops", "rotate-secret", &id, "--for", "api", "--retire"]), ""));
    assert!(retired.contains("1 older secret(s) retired"), "{retired}");
    let shops = load_shops(&client, &env.secret).await.unwrap();
    assert_eq!(shops.get(&ShopId::parse(&id).unwrap()).unwrap().api.as_ref().unwrap().secrets.len(), 1);
}

#[tokio::test]
async fn an_edit_the_functions_would_refuse_fails_with_their_reason_and_writes_nothing() {
    let env = env_with_own_secret(r#"{"shops": []}"#).await;
    let add = [
        "shops",
        "add",
        "cave",
        "--currency",
        "EUR",
        "--mail-from",
        "not an address",
        "--mail-name",
        "Cave",
        "--site-url",
        "https://cave.example",
    ];
    let output = relance(&local(&env.path, &add), "");
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("would be refused by the functions") && error.contains("mail.from"), "{error}");
    let client = aws_sdk_secretsmanager::Client::new(&env.stack.sdk);
    let value = client.get_secret_value().secret_id(&env.secret).send().await.unwrap();
    assert_eq!(value.secret_string.as_deref(), Some(r#"{"shops": []}"#));
}

#[tokio::test]
async fn a_write_after_someone_elses_edit_is_refused_on_secrets_manager() {
    let env = env_with_own_secret(r#"{"shops": []}"#).await;
    let store = SecretsManagerShops::new(aws_sdk_secretsmanager::Client::new(&env.stack.sdk), &env.secret);
    let read = store.load().await.unwrap();
    let other = store.load().await.unwrap();
    store.save(&other, r#"{"shops": [{"id": "first", "api": {"secrets": ["a"]}}]}"#).await.unwrap();
    assert!(matches!(store.save(&read, r#"{"shops": []}"#).await, Err(StoreError::Changed)));
    assert!(store.load().await.unwrap().text.contains("first"));
}

#[tokio::test]
async fn a_deployed_stack_is_found_by_its_cloudformation_outputs() {
    let env = env_with_own_secret(r#"{"shops": [{"id": "found-by-outputs", "api": {"secrets": ["a"]}}]}"#).await;
    let name = unique("relance-cli-stack");
    let template = serde_json::json!({
        "Resources": { "Marker": { "Type": "AWS::SQS::Queue" } },
        "Outputs": {
            "ShopsSecretArn": { "Value": env.secret },
            "TableName": { "Value": env.stack.var("RELANCE_TABLE").unwrap() },
            "WebhookUrl": { "Value": "https://example.lambda-url.eu-west-3.on.aws/" },
        },
    });
    aws_sdk_cloudformation::Client::new(&env.stack.sdk)
        .create_stack()
        .stack_name(&name)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    // The standard credential chain, as on an operator's machine: here, the local stack's.
    let deployed = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_relance"));
        for var in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"] {
            command.env(var, env.stack.var(var).unwrap());
        }
        command.args(args).output().unwrap()
    };
    let listed = stdout(&deployed(&["--stack", &name, "shops", "list"]));
    assert!(listed.contains(&format!("in stack {name}")) && listed.contains("found-by-outputs"), "{listed}");

    let output = deployed(&["--stack", "no-such-stack", "shops", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot describe stack no-such-stack"));
}

#[tokio::test]
async fn a_customer_is_shown_from_the_table_by_email_and_an_unknown_one_is_an_error() {
    let env = env_with_own_secret(r#"{"shops": []}"#).await;
    let shop = unique("cli-profile");
    let text = include_str!("../../events/profile-update/order.placed.json");
    let mut envelope: serde_json::Value = serde_json::from_str(text).unwrap();
    envelope["detail"]["shop"] = serde_json::json!(shop);
    let event = serde_json::from_value(envelope["detail"].take()).unwrap();
    let store = DynamoProfileStore::new(env.stack.dynamodb(), env.stack.var("RELANCE_TABLE").unwrap());
    apply_event(&store, &RecordingPublisher::default(), &event).await.unwrap();

    let shown = stdout(&relance(&local(&env.path, &["profile", "bob.norman@mail.example.com", "--shop", &shop]), ""));
    assert!(shown.contains("bob.norman@mail.example.com"), "{shown}");
    assert!(shown.contains("orders: 1\n  2008-01-10  #1001  598.94 USD"), "{shown}");

    let output = relance(&local(&env.path, &["profile", "nobody@example.com", "--shop", &shop]), "");
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains(&format!("no customer with e-mail nobody@example.com in shop {shop}")), "{error}");
}

/// Bob's order and open checkout, filed in `shop` on the stack's table.
async fn bob_in(env: &Env, shop: &str) -> DynamoProfileStore {
    let store = DynamoProfileStore::new(env.stack.dynamodb(), env.stack.var("RELANCE_TABLE").unwrap());
    for text in [
        include_str!("../../events/profile-update/order.placed.json"),
        include_str!("../../events/profile-update/checkout.started.json"),
    ] {
        let mut envelope: serde_json::Value = serde_json::from_str(text).unwrap();
        envelope["detail"]["shop"] = serde_json::json!(shop);
        let event = serde_json::from_value(envelope["detail"].take()).unwrap();
        apply_event(&store, &RecordingPublisher::default(), &event).await.unwrap();
    }
    store
}

#[tokio::test]
async fn a_customer_is_exported_then_erased_with_their_pending_reminder_and_only_with_yes() {
    let env = env_with_own_secret(r#"{"shops": []}"#).await;
    let shop = unique("cli-gdpr");
    bob_in(&env, &shop).await;
    let bob = "bob.norman@mail.example.com";
    // The reminder cart-abandon-timer armed for his checkout (the sample's token).
    let shop_id = ShopId::parse(&shop).unwrap();
    let token = relance::ids::ExternalId::parse("2a1ace52255252df566af0faaedfbfa7").unwrap();
    let reminder = relance::schedule::ScheduleName::for_checkout(&shop_id, &token, 1);
    let schedule = relance::schedule::OneTimeSchedule {
        name: reminder.clone(),
        at: chrono::Utc::now() + chrono::Duration::hours(1),
        payload: serde_json::json!({ "kind": "test" }),
    };
    env.stack.timer_scheduler().unwrap().upsert(&schedule).await.unwrap();

    let path = std::env::temp_dir().join(format!("{shop}.export.json"));
    let written = relance(&local(&env.path, &["export", bob, "--shop", &shop, "-o", path.to_str().unwrap()]), "");
    stdout(&written);
    let export: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(export["shop"], shop);
    assert_eq!(export["profiles"].as_array().unwrap().len(), 1, "{export:#}");
    assert!(export["identity_keys"].to_string().contains(bob), "{export:#}");
    assert!(export["profiles"][0]["records"].to_string().contains("#1001"), "{export:#}");

    let asked = stdout(&relance(&local(&env.path, &["erase", bob, "--shop", &shop]), ""));
    assert!(asked.contains("nothing changed: run again with --yes"), "{asked}");
    assert!(stdout(&relance(&local(&env.path, &["profile", bob, "--shop", &shop]), "")).contains(bob));

    let erased = stdout(&relance(&local(&env.path, &["erase", bob, "--shop", &shop, "--yes"]), ""));
    assert!(erased.contains("1 pending schedule(s) cancelled"), "{erased}");
    let group = env.stack.var("RELANCE_SCHEDULE_GROUP").unwrap();
    let gone = env.stack.scheduler().get_schedule().group_name(group).name(reminder.as_str()).send().await;
    assert!(gone.is_err(), "the reminder is still there: {gone:?}");
    let output = relance(&local(&env.path, &["profile", bob, "--shop", &shop]), "");
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    let output = relance(&local(&env.path, &["export", bob, "--shop", &shop]), "");
    assert_eq!(output.status.code(), Some(1));

    let again = stdout(&relance(&local(&env.path, &["erase", bob, "--shop", &shop, "--yes"]), ""));
    assert!(again.contains("nothing to erase"), "{again}");
}

fn shown_once<'a>(output: &'a str, prefix: &str) -> &'a str {
    output.lines().find_map(|l| l.trim().split_once(prefix).map(|(_, v)| v.trim())).expect(prefix)
}

// The platform's server runs on the runtime while the test blocks on the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_woocommerce_store_is_connected_then_given_the_new_secret_after_a_rotation() {
    let env = env_with_own_secret(r#"{"shops": []}"#).await;
    let store = WooRestServer::start("ck_local", "cs_local", vec![]).await.unwrap();
    let id = unique("cli-woo");
    let add = ["shops", "add", &id, "--currency", "EUR", "--woocommerce-url", &store.site()];
    let added = stdout(&relance(&local(&env.path, &add), ""));
    let first_secret = shown_once(&added, "woocommerce.secrets:").to_owned();

    let connected =
        stdout(&relance(&local(&env.path, &["connect", "woocommerce", "--shop", &id]), "ck_local\ncs_local\n"));
    let topics = relance::normalise::woocommerce::SUBSCRIBED_TOPICS.len();
    assert!(connected.contains(&format!("{topics} created, 0 fixed, 0 kept")), "{connected}");
    let url = format!("{}/webhooks/woocommerce", env.stack.var("RELANCE_PUBLIC_URL").unwrap().trim_end_matches('/'));
    let hooks = store.hooks();
    assert_eq!(hooks.len(), topics);
    assert!(
        hooks.iter().all(|h| h.delivery_url == url && h.secret == first_secret && h.status == "active"),
        "{hooks:?}"
    );

    let rotated = stdout(&relance(&local(&env.path, &["shops", "rotate-secret", &id, "--for", "woocommerce"]), ""));
    let new_secret = shown_once(&rotated, "shown this once:").to_owned();
    assert_ne!(new_secret, first_secret);
    let again = stdout(&relance(&local(&env.path, &["connect", "woocommerce", "--shop", &id]), "ck_local\ncs_local\n"));
    assert!(again.contains(&format!("0 created, 0 fixed, {topics} kept")), "{again}");
    assert!(store.hooks().iter().all(|h| h.secret == new_secret), "the store has the new secret");

    let refused = relance(&local(&env.path, &["connect", "woocommerce", "--shop", &id]), "ck_local\ncs_revoked\n");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("REST API key"), "{refused:?}");
}

// The platform's server runs on the runtime while the test blocks on the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopify_store_is_subscribed_and_told_where_the_compliance_topics_go() {
    let env = env_with_own_secret(r#"{"shops": []}"#).await;
    let admin = ShopifyAdminServer::start("shpat_local").await.unwrap();
    let id = format!("{}.myshopify.com", unique("cli"));
    let add = ["shops", "add", &id, "--currency", "EUR", "--shopify-domain", &id];
    stdout(&relance(&local(&env.path, &add), "the-app-client-secret\n"));
    let endpoint = admin.endpoint();
    let args = ["connect", "shopify", "--shop", &id, "--api-url", &endpoint, "--url", "https://relance.example/"];
    let connected = stdout(&relance(&local(&env.path, &args), "shpat_local\n"));
    let topics = relance::normalise::shopify::SUBSCRIBED_TOPICS.len();
    // The fixture's shop holds ORDERS_CREATE to an old stack, ORDERS_PAID in XML and APP_UNINSTALLED.
    assert!(connected.contains(&format!("{} created, 2 fixed, 0 kept, 1 extra", topics - 2)), "{connected}");
    assert!(
        connected.contains(
            "set customers/data_request, customers/redact, shop/redact to https://relance.example/webhooks/shopify"
        ),
        "{connected}"
    );
    let ours =
        admin.subscriptions().into_iter().filter(|s| s.uri == "https://relance.example/webhooks/shopify").count();
    assert_eq!(ours, topics);

    let expired = relance(&local(&env.path, &args), "shpat_expired\n");
    assert_eq!(expired.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&expired.stderr).contains("Invalid API key or access token"), "{expired:?}");
}

#[test]
fn without_a_deployment_named_the_error_says_how_to_name_one() {
    let output = relance(&["shops", "list"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--stack NAME"));
}
