//! `relance-demo`: plays a shop against the running local CRM, through the same doors a
//! real shop uses, and prints what happened. Started by `make demo` (infra/local/demo.sh),
//! which owns the processes.
//!
//! Today: every Shopify and WooCommerce fixture delivered as a signed webhook (one of them
//! twice, as platforms do), a generic-API batch and a tracker beacon, to webhook-ingest's
//! function URL; then the dispatcher routes the canonical events to the functions.

use chrono::Utc;
use relance::signature::{Secret, sign_base64_hmac_sha256, sign_timestamped};
use relance_tests::dispatcher::Dispatcher;
use relance_tests::invoke::WatchInvoker;
use relance_tests::mailbox::sent_mails;
use relance_tests::stack::LocalStack;
use relance_tests::unique;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

const SHOPS: &str = include_str!("../../fixtures/shops.local.json");
const FIRST_BUILD_WAIT: Duration = Duration::from_secs(900);

#[derive(Default)]
struct Tally {
    deliveries: usize,
    published: u64,
    duplicates: u64,
    ignored: usize,
    refused: usize,
}

impl Tally {
    fn count(&mut self, status: u16, body: &Value) {
        self.deliveries += 1;
        match (status, body["status"].as_str()) {
            (200, Some("ignored")) => self.ignored += 1,
            (200, _) => {
                self.published += body["result"]["published"].as_u64().unwrap_or(0);
                self.duplicates += body["result"]["duplicates"].as_u64().unwrap_or(0);
            }
            _ => self.refused += 1,
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let lambda_url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:9000".to_owned());
    let base = format!("{lambda_url}/lambda-url/webhook-ingest");
    let stack = LocalStack::connect().await?;
    stack.put_shops(SHOPS).await.map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let run = unique("demo");
    let mut tally = Tally::default();

    step("webhook-ingest answers on its function URL (the first call compiles it)");
    wait_for_health(&http, &base).await?;

    step("the shop delivers its webhooks, signed, as Shopify and WooCommerce do");
    let shopify = Secret::new("local-shopify-secret".to_owned())?;
    for (file, topic) in fixtures_with_topics(&fixtures.join("shopify"), '/')? {
        let body = std::fs::read(&file)?;
        let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let event_id = format!("{run}-{name}");
        let times = if topic == "checkouts/create" { 2 } else { 1 }; // one redelivery
        for _ in 0..times {
            let response = http
                .post(format!("{base}/webhooks/shopify"))
                .header("content-type", "application/json")
                .header("x-shopify-topic", &topic)
                .header("x-shopify-shop-domain", "demo.myshopify.com")
                .header("x-shopify-event-id", &event_id)
                .header("x-shopify-hmac-sha256", sign_base64_hmac_sha256(&shopify, &body))
                .body(body.clone())
                .send()
                .await?;
            report(&mut tally, "shopify", &topic, response).await?;
        }
    }
    let woo = Secret::new("local-woocommerce-secret".to_owned())?;
    for (file, topic) in fixtures_with_topics(&fixtures.join("woocommerce"), '.')? {
        let body = std::fs::read(&file)?;
        let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let response = http
            .post(format!("{base}/webhooks/woocommerce"))
            .header("content-type", "application/json")
            .header("x-wc-webhook-source", "http://woo.localhost/")
            .header("x-wc-webhook-topic", &topic)
            .header("x-wc-webhook-delivery-id", format!("{run}-{name}"))
            .header("x-wc-webhook-signature", sign_base64_hmac_sha256(&woo, &body))
            .body(body)
            .send()
            .await?;
        report(&mut tally, "woocommerce", &topic, response).await?;
    }

    step("a help desk reports a ticket through the signed generic API; a page reports views");
    let api_body = format!(
        r#"{{"events":[{{"id":"{run}-ticket","type":"support.interaction","occurred_at":"{}","identity":{{"email":"anne@example.fr"}},"data":{{"ticket_id":"T-1042","kind":"ticket_opened"}}}}]}}"#,
        Utc::now().to_rfc3339()
    );
    let api = Secret::new("local-api-secret".to_owned())?;
    let response = http
        .post(format!("{base}/v1/events"))
        .header("content-type", "application/json")
        .header("x-relance-shop", "demo.myshopify.com")
        .header("x-relance-signature", sign_timestamped(&api, api_body.as_bytes(), Utc::now()))
        .body(api_body)
        .send()
        .await?;
    report(&mut tally, "api", "support.interaction", response).await?;
    let beacon = format!(
        r#"{{"visitor_id":"{run}","landing":"/?utm_source=newsletter","events":[{{"id":"1","type":"product.viewed","product_id":"632910392"}}]}}"#
    );
    let response = http
        .post(format!("{base}/v1/track?key=pk_local_demo"))
        .header("content-type", "text/plain")
        .header("origin", "http://localhost:8080")
        .body(beacon)
        .send()
        .await?;
    report(&mut tally, "tracker", "product.viewed", response).await?;

    step("the dispatcher routes the canonical events to the functions the rules name");
    let invoker = Arc::new(WatchInvoker::new(&lambda_url));
    let dispatcher = Dispatcher::new(stack.sqs(), stack.scheduler(), invoker, stack.targets.clone());
    let report = dispatcher.run_until_idle(Utc::now()).await?;

    let mails = sent_mails(stack.var("RELANCE_SES_EMULATOR_URL")?).await?;
    let profiles = stack
        .dynamodb()
        .query()
        .table_name(stack.var("RELANCE_TABLE")?)
        .index_name("gsi2")
        .key_condition_expression("gsi2pk = :shop")
        .expression_attribute_values(
            ":shop",
            aws_sdk_dynamodb::types::AttributeValue::S("SHOP#demo.myshopify.com#PROFILES".to_owned()),
        )
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await?
        .count;
    println!();
    println!("Summary");
    println!("  deliveries sent               {}", tally.deliveries);
    println!("  canonical events published    {}", tally.published);
    println!("  duplicates absorbed           {}", tally.duplicates);
    println!("  topics ignored (2xx, logged)  {}", tally.ignored);
    println!("  deliveries refused            {}", tally.refused);
    println!("  function invocations that succeeded {}", report.events_delivered);
    println!("  retried invocations           {}", report.retries);
    println!("  sent to dead-letter queues    {}", report.dead_lettered);
    println!("  customer profiles in DynamoDB {profiles}");
    println!("  mails in the SES emulator     {}", mails.len());
    println!("  mail viewer                   {}/", stack.var("RELANCE_SES_EMULATOR_URL")?);
    println!();
    println!("profile-update folds the events into profiles; cart-abandon-timer arms the checkouts'");
    println!("reminders (due in an hour) and requests the order mails, which send-mail sends into the SES");
    println!("emulator. The shop's own GDPR webhooks erase some of those buyers in the same run: their");
    println!("order mails find nobody, are retried, then wait in a dead-letter queue instead of being lost.");

    if tally.refused > 0 || tally.published == 0 || tally.duplicates == 0 {
        return Err("the shop's deliveries were not all taken in as expected".into());
    }
    if report.events_delivered == 0 || profiles == 0 {
        return Err("no event was applied to a profile".into());
    }
    Ok(())
}

fn step(what: &str) {
    println!("==> {what}");
}

/// `orders-create__2025-07.json` → `orders/create`; `order.created__x.json` and
/// `order.created-guest-coupon__x.json` → `order.created`.
fn fixtures_with_topics(dir: &Path, separator: char) -> Result<Vec<(std::path::PathBuf, String)>, Error> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let Some((topic, _)) = name.split_once("__") else { continue };
        let topic = if separator == '/' {
            topic.replacen('-', "/", 1)
        } else {
            topic.split('-').next().unwrap_or(topic).to_owned()
        };
        out.insert(name, (path, topic));
    }
    Ok(out.into_values().collect())
}

async fn report(tally: &mut Tally, platform: &str, topic: &str, response: reqwest::Response) -> Result<(), Error> {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let outcome = match body["status"].as_str() {
        Some("ignored") => "ignored".to_owned(),
        Some(_) => format!("published {}, duplicates {}", body["result"]["published"], body["result"]["duplicates"]),
        None => body["error"].as_str().unwrap_or("?").to_owned(),
    };
    println!("    {status} {platform:<11} {topic:<32} {outcome}");
    tally.count(status, &body);
    Ok(())
}

async fn wait_for_health(http: &reqwest::Client, base: &str) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        match http.get(format!("{base}/health")).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            _ if started.elapsed() > FIRST_BUILD_WAIT => return Err(format!("{base}/health did not answer").into()),
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}
