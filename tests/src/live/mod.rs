//! The end-to-end harness: the local stack with the test shop's programs tuned, every
//! function served by `cargo lambda watch`, the dispatcher in front of them, and what a test
//! asks of it — run the clock forward, read the mail a customer got. (zero-to-production's
//! `spawn_app` is the model.)

use crate::dispatcher::Dispatcher;
use crate::invoke::WatchInvoker;
use crate::mailbox::{StoredMail, sent_mails};
use crate::stack::LocalStack;
use crate::watch::LambdaWatch;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::Value;
use std::sync::Arc;

const SHOPS: &str = include_str!("../fixtures/shops.local.json");

pub struct LiveShop {
    pub stack: LocalStack,
    pub watch: LambdaWatch,
    pub dispatcher: Dispatcher,
    pub invoker: Arc<WatchInvoker>,
    pub http: reqwest::Client,
    /// When the test started: [`LiveShop::run`] counts from it.
    pub now: DateTime<Utc>,
}

impl LiveShop {
    /// The local test shop (`tests/fixtures/shops.local.json`) with `programs` as its
    /// programs section, and everything serving.
    pub async fn start(programs: Value) -> Self {
        let stack = LocalStack::connect().await.expect("the local stack (make up)");
        let mut shops: Value = serde_json::from_str(SHOPS).expect("the test shops document");
        shops["shops"][0]["programs"] = programs;
        stack.put_shops(&shops.to_string()).await.expect("the shops secret");
        let mut watch = LambdaWatch::start(&stack.dir().join("stack.env")).expect("cargo lambda watch");
        watch.wait_until_serving("webhook-ingest", "/health").await.expect("webhook-ingest serving");
        let invoker = Arc::new(WatchInvoker::new(&watch.url));
        let dispatcher = Dispatcher::new(stack.sqs(), stack.scheduler(), invoker.clone(), stack.targets.clone());
        Self { stack, watch, dispatcher, invoker, http: reqwest::Client::new(), now: Utc::now().trunc_subsecs(0) }
    }

    /// Lets every rule, queue and schedule due `after` from the start run to quiescence.
    pub async fn run(&self, after: Duration) {
        self.dispatcher.run_until_idle(self.now + after).await.expect("the dispatcher");
    }

    /// Every mail the SES emulator holds for `email`.
    pub async fn mails_to(&self, email: &str) -> Vec<StoredMail> {
        let url = self.stack.var("RELANCE_SES_EMULATOR_URL").expect("the SES emulator");
        let all = sent_mails(url).await.expect("the SES emulator's store");
        all.into_iter().filter(|m| m.destination.to == [email.to_owned()]).collect()
    }
}
