//! The end-to-end harness: the local stack with the test shop's programs tuned, every
//! function served by `cargo lambda watch`, the dispatcher in front of them, and what a test
//! asks of it — post as the shop (`live/post.rs`), run the clock forward, read the mail a
//! customer got and what the CRM stored (`live/read.rs`). zero-to-production's `spawn_app`
//! is the model.
//!
//! A helper that cannot reach the stack panics: neither a test nor the demo can go on
//! without it, and the panic names the call that failed.

mod post;
mod read;

pub use post::API_BATCH;

use crate::dispatcher::{Dispatcher, Report};
use crate::invoke::{Invoker, WatchInvoker};
use crate::mailbox::{StoredMail, sent_mails};
use crate::signed::{ShopKeys, SignedClient};
use crate::stack::LocalStack;
use crate::watch::{LambdaWatch, function_url, poll_until_ok};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use relance::aws::DynamoProfileStore;
use relance::ids::ShopId;
use serde_json::Value;
use std::sync::Arc;

const SHOPS: &str = include_str!("../fixtures/shops.local.json");

pub struct LiveShop {
    pub stack: LocalStack,
    /// The functions' server when the harness started it, stopped when dropped; `None`
    /// when attached to one the caller runs (`make demo`'s).
    _watch: Option<LambdaWatch>,
    lambda_url: String,
    /// Shared by the shops of one run ([`LiveShop::sibling`]): it fires each schedule once.
    pub dispatcher: Arc<Dispatcher>,
    pub invoker: Arc<WatchInvoker>,
    /// Signs as the shop, with the secrets of the shops document the functions were given.
    pub client: SignedClient,
    pub shop: ShopId,
    store: DynamoProfileStore,
    /// When the shop started: [`LiveShop::run`] counts from it.
    pub now: DateTime<Utc>,
}

impl LiveShop {
    /// The local test shop (`tests/fixtures/shops.local.json`) with `programs` as its
    /// programs section, and everything serving.
    pub async fn start(programs: Value) -> Self {
        let mut shops: Value = serde_json::from_str(SHOPS).expect("the test shops document");
        shops["shops"][0]["programs"] = programs;
        Self::start_with(&crate::stack::local_dir().join("stack.env"), shops, 0).await
    }

    /// The shop at `index` of the shops document `shops`, on functions served with
    /// `env_file` (another stack.env: the chaos test points the functions' endpoints at its
    /// fault proxy).
    pub async fn start_with(env_file: &std::path::Path, shops: Value, index: usize) -> Self {
        let stack = LocalStack::connect().await.expect("the local stack (make up)");
        // Functions read the shops secret at cold start: it is in place before they start.
        stack.put_shops(&shops.to_string()).await.expect("the shops secret");
        let mut watch = LambdaWatch::start(env_file).expect("cargo lambda watch");
        watch.wait_until_serving("webhook-ingest", "/health").await.expect("webhook-ingest serving");
        let url = watch.url.clone();
        let keys = ShopKeys::from_shop(&shops["shops"][index]).expect("the shop's keys");
        let dispatcher = Self::dispatcher(&stack, &url);
        Self::serving(stack, Some(watch), url, keys, dispatcher, Utc::now().trunc_subsecs(0))
    }

    /// Another shop of the same shops document, on the same functions and dispatcher.
    pub async fn sibling(&self, shops: &Value, index: usize) -> Self {
        let stack = LocalStack::connect().await.expect("the local stack (make up)");
        let keys = ShopKeys::from_shop(&shops["shops"][index]).expect("the shop's keys");
        let url = self.lambda_url.clone();
        Self::serving(stack, None, url, keys, self.dispatcher.clone(), Utc::now().trunc_subsecs(0))
    }

    fn dispatcher(stack: &LocalStack, lambda_url: &str) -> Arc<Dispatcher> {
        let invoker = Arc::new(WatchInvoker::new(lambda_url));
        Arc::new(Dispatcher::new(stack.sqs(), stack.scheduler(), invoker, stack.targets.clone()))
    }

    /// The shop of `shops` (a shops document) on the `cargo lambda watch` the caller runs at
    /// `lambda_url`, which must not have served a request yet (its functions would hold the
    /// previous shops document).
    pub async fn attach(lambda_url: &str, shops: &str) -> Self {
        let document: Value = serde_json::from_str(shops).expect("a shops document");
        let stack = LocalStack::connect().await.expect("the local stack (make up)");
        stack.put_shops(shops).await.expect("the shops secret");
        // The shop's clock starts before the first call, which may wait for a build.
        let now = Utc::now().trunc_subsecs(0);
        let health = function_url(lambda_url, "webhook-ingest", "/health");
        assert!(poll_until_ok(&health, || false).await, "{health} did not answer");
        let keys = ShopKeys::from_document(&document).expect("the shop's keys");
        let dispatcher = Self::dispatcher(&stack, lambda_url);
        Self::serving(stack, None, lambda_url.to_owned(), keys, dispatcher, now)
    }

    fn serving(
        stack: LocalStack,
        watch: Option<LambdaWatch>,
        lambda_url: String,
        keys: ShopKeys,
        dispatcher: Arc<Dispatcher>,
        now: DateTime<Utc>,
    ) -> Self {
        let shop = ShopId::parse(&keys.shop).expect("the shop's id");
        let client = SignedClient::new(function_url(&lambda_url, "webhook-ingest", ""), keys);
        let invoker = Arc::new(WatchInvoker::new(&lambda_url));
        let store = DynamoProfileStore::new(stack.dynamodb(), stack.var("RELANCE_TABLE").expect("the table"));
        Self { stack, _watch: watch, lambda_url, dispatcher, invoker, client, shop, store, now }
    }

    /// The function URL of `function` (cargo lambda's `/lambda-url/<name>` prefix).
    pub fn function_url(&self, function: &str, path: &str) -> String {
        function_url(&self.lambda_url, function, path)
    }

    /// Where `cargo lambda watch` serves Lambda's `Invoke` API (an SDK client's endpoint).
    pub fn lambda_url(&self) -> &str {
        &self.lambda_url
    }

    /// Lets every rule, queue and schedule due `after` from the start run to quiescence.
    pub async fn run(&self, after: Duration) -> Report {
        self.dispatcher.run_until_idle(self.now + after).await.expect("the dispatcher")
    }

    /// Invokes `function` as Lambda's `Invoke` API would; returns its response.
    pub async fn invoke(&self, function: &str, payload: &Value) -> Value {
        self.invoker.invoke(function, payload).await.unwrap_or_else(|e| panic!("{function}: {e}"))
    }

    /// Every mail the SES emulator holds, oldest first.
    pub async fn mails(&self) -> Vec<StoredMail> {
        sent_mails(self.emulator_url()).await.expect("the SES emulator's store")
    }

    /// Every mail the SES emulator holds for `email`.
    pub async fn mails_to(&self, email: &str) -> Vec<StoredMail> {
        self.mails().await.into_iter().filter(|m| m.destination.to == [email.to_owned()]).collect()
    }

    /// The SES emulator, whose web viewer shows the mails while the stack runs.
    pub fn emulator_url(&self) -> &str {
        self.stack.var("RELANCE_SES_EMULATOR_URL").expect("the SES emulator")
    }
}
