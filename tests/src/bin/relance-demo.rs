//! `relance-demo`: drives the running local CRM the way a shop and AWS would, and prints
//! what happened. Started by `make demo` (infra/local/demo.sh), which owns the processes.
//!
//! Today it exercises the foundation: webhook-ingest through its function-URL path, every
//! sample bus event in `events/` through the rules to its functions, and the failure path
//! to the dead-letter queues. The simulated shop replaces the samples as the product grows.

use chrono::{DateTime, Utc};
use relance::aws::EventBridgePublisher;
use relance::bus::BusEvent;
use relance::ports::EventPublisher;
use relance_tests::dispatcher::Dispatcher;
use relance_tests::invoke::WatchInvoker;
use relance_tests::mailbox::sent_mails;
use relance_tests::stack::LocalStack;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

/// The first call compiles the function under `cargo lambda watch`.
const FIRST_BUILD_WAIT: Duration = Duration::from_secs(600);

#[tokio::main]
async fn main() -> Result<(), Error> {
    let lambda_url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:9000".to_owned());
    let stack = LocalStack::connect().await?;

    step("webhook-ingest answers on its function URL");
    let health = wait_for_health(&lambda_url).await?;
    println!("    GET /lambda-url/webhook-ingest/health → {health}");

    step("sample events from events/ go onto the bus");
    let events = bus_samples(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../events"))?;
    let bus = stack.var("RELANCE_BUS")?;
    EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&stack.sdk), bus).publish(&events).await?;
    for event in &events {
        println!("    {} / {}", event.source, event.detail_type);
    }

    step("the dispatcher delivers them to the functions the rules name");
    let invoker = Arc::new(WatchInvoker::new(&lambda_url));
    let dispatcher = Dispatcher::new(stack.sqs(), stack.scheduler(), invoker, stack.targets.clone());
    let report = dispatcher.run_until_idle(Utc::now()).await?;

    let mails = sent_mails(stack.var("RELANCE_SES_EMULATOR_URL")?).await?;
    println!();
    println!("Summary");
    println!("  events published          {}", events.len());
    println!("  invocations that succeeded {}", report.events_delivered);
    println!("  retried invocations       {}", report.retries);
    println!("  sent to dead-letter queues {}", report.dead_lettered);
    println!("  schedules fired           {}", report.schedules_fired);
    println!("  mails in the SES emulator {}", mails.len());
    println!("  mail viewer               {}/", stack.var("RELANCE_SES_EMULATOR_URL")?);
    println!();
    println!("Functions without a handler for an event fail it, so it reaches a dead-letter");
    println!("queue instead of being lost; handlers arrive with the ingest, profile, mail and RFM issues.");

    let reached = report.events_delivered + report.dead_lettered;
    if reached < events.len() {
        return Err(format!("only {reached} of {} events reached a function", events.len()).into());
    }
    Ok(())
}

fn step(what: &str) {
    println!("==> {what}");
}

async fn wait_for_health(lambda_url: &str) -> Result<reqwest::StatusCode, Error> {
    let url = format!("{lambda_url}/lambda-url/webhook-ingest/health");
    let started = Instant::now();
    loop {
        match reqwest::get(&url).await {
            Ok(response) if response.status().is_success() => return Ok(response.status()),
            _ if started.elapsed() > FIRST_BUILD_WAIT => return Err(format!("{url} did not answer").into()),
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// Every EventBridge envelope under `events/` (those with a `detail-type`).
fn bus_samples(dir: &Path) -> Result<Vec<BusEvent>, Error> {
    let mut files: Vec<PathBuf> = Vec::new();
    for function in std::fs::read_dir(dir)? {
        for file in std::fs::read_dir(function?.path())? {
            files.push(file?.path());
        }
    }
    files.sort();
    let mut events = Vec::new();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let sample: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let (Some(source), Some(detail_type)) = (sample["source"].as_str(), sample["detail-type"].as_str()) else {
            continue;
        };
        let time = sample["time"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok()).unwrap_or_else(Utc::now);
        events.push(BusEvent {
            source: source.to_owned(),
            detail_type: detail_type.to_owned(),
            time,
            detail: sample["detail"].clone(),
        });
    }
    Ok(events)
}
