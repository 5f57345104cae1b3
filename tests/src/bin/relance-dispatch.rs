//! `relance-dispatch`: plays EventBridge's, Scheduler's and Lambda's part in front of the
//! functions served by `cargo lambda watch`, against the stack `make up` started.
//!
//! Usage: `relance-dispatch [--once] [--lambda-url URL] [--interval-ms N]`
//! (defaults: loop forever, `http://127.0.0.1:9000`, 500 ms).

use relance_tests::dispatcher::Dispatcher;
use relance_tests::invoke::WatchInvoker;
use relance_tests::stack::LocalStack;
use std::sync::Arc;
use std::time::Duration;

struct Args {
    once: bool,
    lambda_url: String,
    interval: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { once: false, lambda_url: "http://127.0.0.1:9000".to_owned(), interval: Duration::from_millis(500) };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--once" => args.once = true,
            "--lambda-url" => args.lambda_url = it.next().ok_or("--lambda-url needs a value")?,
            "--interval-ms" => {
                let ms = it.next().ok_or("--interval-ms needs a value")?;
                args.interval = Duration::from_millis(ms.parse().map_err(|_| format!("bad --interval-ms {ms}"))?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    relance::telemetry::init();
    let args = parse_args()?;
    let stack = LocalStack::connect().await?;
    let dispatcher = Dispatcher::new(
        stack.sqs(),
        stack.scheduler(),
        Arc::new(WatchInvoker::new(&args.lambda_url)),
        stack.targets.clone(),
    );
    loop {
        let report = dispatcher.run_until_idle(chrono::Utc::now()).await?;
        if report != Default::default() {
            tracing::info!(?report, "dispatched");
        }
        if args.once {
            return Ok(());
        }
        tokio::time::sleep(args.interval).await;
    }
}
