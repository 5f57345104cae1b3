//! The command line: what each command takes, and the wiring from it to the library.

use clap::{Args, Parser, Subcommand};
use relance::aws::{DynamoProfileStore, EventBridgeScheduler};
use relance::ids::{Email, ShopId};
use relance::normalise::{shopify as shopify_topics, woocommerce as woo_topics};
use relance_cli::connect::shopify::{ShopifyAdmin, topic_enum};
use relance_cli::connect::woocommerce::WooAdmin;
use relance_cli::import::shopify::Polling;
use relance_cli::import::{self, ApiSink, CursorFile, Format, Pace, Plan};
use relance_cli::platforms::shopify::ShopifyGraphql;
use relance_cli::platforms::woocommerce::{WooRest, api_root};
use relance_cli::score::Nightly;
use relance_cli::shops::{
    self, NewMail, NewShop, Rotated, SecretKind, SecretsManagerShops, ShopsDocument, ShopsSecret,
};
use relance_cli::stack::{Stack, Target};
use relance_cli::{connect, gdpr, profile, score};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Relance's command line: the shops of a deployment and their secrets, one customer looked up.
///
/// Every command names its deployment: `--stack NAME` (a stack deployed from
/// infra/template.yaml, with your AWS credentials) or `--local` (the stack `make up` runs).
#[derive(Debug, Parser)]
#[command(name = "relance", version, propagate_version = true)]
pub struct Cli {
    /// The CloudFormation stack deployed from infra/template.yaml.
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "local")]
    stack: Option<String>,
    /// The stack's region, when not your AWS profile's.
    #[arg(long, global = true)]
    region: Option<String>,
    /// The local stack of `make up` (its `.local/stack.env`).
    #[arg(long, global = true)]
    local: bool,
    /// The local stack's environment file, when not `.local/stack.env` (implies --local).
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "stack")]
    stack_env: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The shops of the deployment (its shops secret).
    #[command(subcommand)]
    Shops(ShopsCommand),
    /// Creates the shop's webhooks through the platform's API, pointed at this deployment.
    ///
    /// Idempotent: right ones are kept, wrong ones (another URL, paused, another format)
    /// fixed in place, ones Relance does not use reported and left alone. Run it again after
    /// `relance shops rotate-secret … --for woocommerce`: it gives the store the new secret.
    #[command(subcommand)]
    Connect(ConnectCommand),
    /// Imports the shop's history, from CSV files or the store's API, marked as history: profiles fill, no mail goes.
    ///
    /// Reads Shopify's orders and customers exports and Relance's generic headers
    /// (docs/cli.md), or with --from the store itself: Shopify's bulk operations,
    /// WooCommerce's REST API. Everything is read and checked before anything is sent; bad rows are reported
    /// as file:line and skipped. Run it again after an interruption: it resumes. Run it
    /// twice: the second run changes nothing.
    Import(ImportArgs),
    /// Runs rfm-nightly for the shop now: segments, tiers and predicted value without waiting for the night.
    Score {
        /// The shop (`relance shops list`); needed only when the deployment has several.
        #[arg(long)]
        shop: Option<String>,
        #[command(flatten)]
        invoke: InvokeArgs,
    },
    /// One customer, by e-mail: identity, consent, orders, open checkouts, segment, predicted value, last mails.
    Profile {
        email: String,
        /// The shop (`relance shops list`); needed only when the deployment has several.
        #[arg(long)]
        shop: Option<String>,
    },
    /// Writes everything the deployment holds about one customer, as JSON (their GDPR access request).
    ///
    /// The same export a platform's `customers/data_request` gets: profile(s), orders,
    /// checkouts, activity, mails and identity keys. It holds personal data: keep it where
    /// the request's answer belongs.
    Export {
        email: String,
        /// The shop (`relance shops list`); needed only when the deployment has several.
        #[arg(long)]
        shop: Option<String>,
        /// Where to write it (`-`: standard output).
        #[arg(long, short, value_name = "PATH", default_value = "-")]
        output: PathBuf,
    },
    /// Erases one customer (their GDPR erasure request); without --yes, shows what it would erase.
    ///
    /// The same erasure a platform's `customers/redact` makes: pending reminders and program
    /// steps cancelled, profile, records and identity keys deleted, and tombstones (hashes,
    /// no personal data) so their late webhooks do not file them again.
    Erase {
        email: String,
        /// The shop (`relance shops list`); needed only when the deployment has several.
        #[arg(long)]
        shop: Option<String>,
        /// Erase (without it, nothing is changed).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ShopsCommand {
    /// Every shop: how it reaches Relance and how many secrets each list holds (never the secrets).
    List,
    /// Adds a shop, with new secrets for the API, the unsubscribe links and WooCommerce's webhooks.
    ///
    /// A Shopify shop's webhooks are signed with the app's client secret: give it on stdin
    /// (`relance shops add … --shopify-domain D < client-secret.txt`), never on the command line.
    Add(Box<AddArgs>),
    /// Puts a new secret first in one of a shop's lists, the old ones still valid; `--retire` then drops them.
    ///
    /// Rotate, give the new secret to the platform, check deliveries arrive, then retire. A
    /// new Shopify client secret is read from stdin; the others are drawn and printed once.
    RotateSecret {
        /// The shop's id (`relance shops list`).
        shop: String,
        /// Which list.
        #[arg(long = "for", value_enum)]
        kind: SecretKind,
        /// Keep only the newest secret (after the platform has it).
        #[arg(long)]
        retire: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConnectCommand {
    /// Subscribes the store to every topic Relance maps (Admin GraphQL API); the app's
    /// Admin API access token on stdin.
    ///
    /// The token is the custom app's (Settings → Apps → Develop apps → API credentials), with
    /// the scopes read_customers, read_orders and read_checkouts (read_fulfillments for
    /// fulfillment topics). The compliance topics are not subscribed here: Shopify takes
    /// them only from the app's configuration (`relance connect shopify` says which and where).
    Shopify(ConnectArgs),
    /// Creates the store's webhooks for every topic Relance maps (REST API v3), signed with
    /// the shop's WooCommerce secret; the REST API key's consumer key and secret on stdin,
    /// one per line.
    Woocommerce(ConnectArgs),
}

#[derive(Debug, Args)]
struct ConnectArgs {
    /// The shop (`relance shops list`); needed only when the deployment has several.
    #[arg(long)]
    shop: Option<String>,
    /// webhook-ingest's public URL, when not the stack's `WebhookUrl` (a domain in front of it).
    #[arg(long)]
    url: Option<String>,
    /// The platform API's address, when not the shop's own (a local server in tests):
    /// Shopify's GraphQL endpoint, or the WooCommerce site URL.
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
}

#[derive(Debug, Args)]
struct InvokeArgs {
    /// Where to invoke the functions, when not Lambda's endpoint: a local `cargo lambda
    /// watch` (default with --local: http://127.0.0.1:9000).
    #[arg(long, value_name = "URL")]
    invoke_url: Option<String>,
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The shop's id: its `myshopify.com` domain for a Shopify shop, any short name otherwise.
    id: String,
    /// ISO 4217 currency of the shop's prices.
    #[arg(long)]
    currency: String,
    /// The language of its mail (`fr`, `en`, …).
    #[arg(long)]
    locale: Option<String>,
    /// IANA time zone, for mail at local hours (`Europe/Paris`).
    #[arg(long)]
    time_zone: Option<String>,
    /// The store's `myshopify.com` domain (its client secret on stdin).
    #[arg(long, value_name = "DOMAIN")]
    shopify_domain: Option<String>,
    /// The WooCommerce store's site URL (its webhooks' `X-WC-Webhook-Source`).
    #[arg(long, value_name = "URL")]
    woocommerce_url: Option<String>,
    /// A site origin allowed to use the browser tracker (repeat for several).
    #[arg(long = "track-origin", value_name = "ORIGIN")]
    track_origins: Vec<String>,
    /// The marketing mail's sender, `Name <address@domain>` (a domain verified in SES).
    #[arg(long, value_name = "MAILBOX", requires_all = ["mail_name", "site_url"])]
    mail_from: Option<String>,
    /// The shop's name as its customers know it.
    #[arg(long, value_name = "NAME")]
    mail_name: Option<String>,
    /// The shop's site, linked from the unsubscribe pages.
    #[arg(long, value_name = "URL")]
    site_url: Option<String>,
}

/// A platform whose admin API an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Source {
    /// Admin GraphQL bulk operations (the app's Admin API access token on stdin).
    Shopify,
    /// REST API v3 (a REST API key's consumer key and secret on stdin, one per line).
    Woocommerce,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The CSV files, in the order to import them.
    #[arg(required_unless_present = "from", conflicts_with = "from")]
    files: Vec<PathBuf>,
    /// Read the history from the store's admin API instead of files.
    #[arg(long, value_enum)]
    from: Option<Source>,
    /// The platform API's address, when not the shop's own (with --from).
    #[arg(long, value_name = "URL", requires = "from")]
    api_url: Option<String>,
    /// The shop (`relance shops list`); needed only when the deployment has several.
    #[arg(long)]
    shop: Option<String>,
    /// The files' format, when not the one their header names.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Events per second (0: as fast as the stack answers).
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// webhook-ingest's URL, when not the stack's `WebhookUrl` (a local `cargo lambda watch`).
    #[arg(long)]
    url: Option<String>,
    /// Read and check the files, and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not score the shop when the import ends (rfm-nightly scores it at its next run).
    #[arg(long)]
    no_score: bool,
    /// How long to wait for profile-update to file the last events before scoring, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    settle: u64,
    #[command(flatten)]
    invoke: InvokeArgs,
}

impl Cli {
    fn target(&self) -> Result<Target, Error> {
        match (&self.stack, &self.stack_env, self.local) {
            (Some(name), _, _) => Ok(Target::Deployed { name: name.clone(), region: self.region.clone() }),
            (None, Some(path), _) => Ok(Target::Local(path.clone())),
            (None, None, true) => Ok(Target::Local(PathBuf::from(".local/stack.env"))),
            (None, None, false) => Err("name the deployment: --stack NAME (deployed from infra/template.yaml) or --local (the stack of `make up`)".into()),
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), Error> {
    // Checking files needs no stack.
    if let Command::Import(args) = &cli.command
        && args.dry_run
        && args.from.is_none()
    {
        read_plan(args)?;
        return Ok(());
    }
    let target = cli.target()?;
    let local = matches!(target, Target::Local(_));
    let stack = target.resolve().await?;
    let secret = SecretsManagerShops::new(aws_sdk_secretsmanager::Client::new(&stack.sdk), &stack.shops_secret);
    match cli.command {
        Command::Shops(ShopsCommand::List) => list(&secret, &stack).await,
        Command::Shops(ShopsCommand::Add(args)) => add(&secret, &stack, *args).await,
        Command::Shops(ShopsCommand::RotateSecret { shop, kind, retire }) => {
            rotate(&secret, &ShopId::parse(&shop)?, kind, retire).await
        }
        Command::Connect(ConnectCommand::Shopify(args)) => connect_shopify(&secret, &stack, args).await,
        Command::Connect(ConnectCommand::Woocommerce(args)) => connect_woocommerce(&secret, &stack, args).await,
        Command::Import(args) => import(&secret, &stack, args, local).await,
        Command::Score { shop, invoke } => {
            let shop = resolve_shop(&load_shops(&secret).await?, &stack, shop)?;
            score_now(&stack, &shop, &invoke, local).await
        }
        Command::Profile { email, shop } => show_profile(&secret, &stack, &email, shop).await,
        Command::Export { email, shop, output } => export(&secret, &stack, &email, shop, &output).await,
        Command::Erase { email, shop, yes } => erase(&secret, &stack, &email, shop, yes).await,
    }
}

async fn list(secret: &dyn ShopsSecret, stack: &Stack) -> Result<(), Error> {
    let shops = shops::list(secret).await?;
    println!("{} shop(s) in stack {}", shops.len(), stack.name);
    for shop in shops {
        let mut reaches = Vec::new();
        if let Some(domain) = &shop.shopify_domain {
            reaches.push(format!("Shopify {domain}"));
        }
        if let Some(source) = &shop.woocommerce_source {
            reaches.push(format!("WooCommerce {source}"));
        }
        let secrets: Vec<String> = shop.secrets.iter().map(|(list, n)| format!("{list} {n}")).collect();
        println!("{}", shop.id);
        println!(
            "  {} {}",
            shop.currency.as_deref().unwrap_or("no currency"),
            shop.time_zone.as_deref().unwrap_or("UTC")
        );
        println!(
            "  reaches Relance by: {}",
            if reaches.is_empty() { "the API only".into() } else { reaches.join(", ") }
        );
        println!("  secrets: {}", secrets.join(", "));
        println!("  marketing mail: {}", if shop.sends_marketing { "yes" } else { "no (no mail section)" });
    }
    Ok(())
}

/// One line from stdin, for a secret the platform issued (never an argument: shells keep
/// history and `ps` shows arguments).
fn read_secret(what: &str) -> Result<String, Error> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{what} (then Enter): ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let secret = line.trim().to_owned();
    if secret.is_empty() {
        return Err(format!("{what} expected on stdin, got nothing").into());
    }
    Ok(secret)
}

fn drawer() -> impl FnMut() -> String {
    // The OS random source failing is not something to carry on from.
    || shops::draw_secret().expect("the operating system's random source")
}

async fn add(secret: &dyn ShopsSecret, stack: &Stack, args: AddArgs) -> Result<(), Error> {
    let shopify = match &args.shopify_domain {
        Some(domain) => Some((domain.clone(), read_secret("the Shopify app's client secret")?)),
        None => None,
    };
    let mail = match (args.mail_from, args.mail_name, args.site_url) {
        (Some(from), Some(name), Some(site_url)) => Some(NewMail { from, name, site_url }),
        _ => None,
    };
    let shop = NewShop {
        id: ShopId::parse(&args.id)?,
        currency: args.currency,
        locale: args.locale,
        time_zone: args.time_zone,
        shopify,
        woocommerce: args.woocommerce_url,
        track_origins: args.track_origins,
        mail,
    };
    let drawn = shops::add(secret, &shop, &mut drawer()).await?;
    println!("added {} to stack {}", shop.id, stack.name);
    println!("secrets drawn for it, shown this once (`relance shops list` never shows them):");
    for (kind, value) in &drawn.secrets {
        println!("  {}: {value}", kind.name());
        println!("    {}", where_it_goes(*kind, stack));
    }
    if let Some(key) = &drawn.track_key {
        println!("  track.public_key: {key}\n    the browser tracker's key, in your site's page (public)");
    }
    println!("{}", COLD_START);
    Ok(())
}

/// The functions read the document at cold start, then again (`relance::directory`).
const COLD_START: &str = "running functions read the shops secret again within 5 minutes, and at once (at most every 30 s) when a delivery names a shop they do not know";

fn where_it_goes(kind: SecretKind, stack: &Stack) -> String {
    let url = stack.webhook_url.as_deref().unwrap_or("<WebhookUrl>");
    match kind {
        SecretKind::Shopify => "the Shopify app's client secret; Shopify signs with it".into(),
        SecretKind::Woocommerce => {
            format!(
                "WooCommerce → Settings → Advanced → Webhooks: the Secret of each webhook delivering to {url}webhooks/woocommerce"
            )
        }
        SecretKind::Api => format!("signs your own calls to {url}v1/events (docs/webhooks.md)"),
        SecretKind::Unsubscribe => "signs the unsubscribe links in mail; kept by Relance, nothing to copy".into(),
    }
}

async fn rotate(secret: &dyn ShopsSecret, shop: &ShopId, kind: SecretKind, retire: bool) -> Result<(), Error> {
    let new = match (retire, kind) {
        (true, _) => None,
        (false, SecretKind::Shopify) => Some(read_secret("the Shopify app's new client secret")?),
        (false, _) => Some(shops::draw_secret()?),
    };
    match shops::rotate(secret, shop, kind, new.as_deref()).await? {
        Rotated::Added { valid } => {
            if kind != SecretKind::Shopify {
                println!("new {} secret, shown this once: {}", kind.name(), new.unwrap_or_default());
            }
            println!("{} of {shop}: the new secret is first, {valid} now valid", kind.name());
            println!(
                "give the platform the new one, check deliveries arrive, then: relance shops rotate-secret {shop} --for {} --retire",
                kind_flag(kind)
            );
        }
        Rotated::Retired { removed } => {
            println!("{} of {shop}: {removed} older secret(s) retired, the newest kept", kind.name())
        }
    }
    println!("{}", COLD_START);
    Ok(())
}

/// The name `--for` takes, as clap derives it.
fn kind_flag(kind: SecretKind) -> String {
    clap::ValueEnum::to_possible_value(&kind).map(|v| v.get_name().to_owned()).unwrap_or_default()
}

/// The deployment's shops, read once per command.
async fn load_shops(secret: &dyn ShopsSecret) -> Result<relance::shops::Shops, Error> {
    Ok(relance::shops::Shops::parse(&secret.load().await?.text)?)
}

/// The shop named, or the deployment's only one.
fn resolve_shop(shops: &relance::shops::Shops, stack: &Stack, shop: Option<String>) -> Result<ShopId, Error> {
    if let Some(shop) = shop {
        return Ok(ShopId::parse(&shop)?);
    }
    match shops.ids().as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(format!("stack {} has no shop yet: relance shops add", stack.name).into()),
        _ => Err("the deployment has several shops: name one with --shop (relance shops list)".into()),
    }
}

/// Where the platform delivers: webhook-ingest's route for it.
fn delivery_url(stack: &Stack, url: Option<String>, route: &str) -> Result<String, Error> {
    let base = url
        .or_else(|| stack.webhook_url.clone())
        .ok_or("the stack names no WebhookUrl: give webhook-ingest's public URL with --url")?;
    Ok(format!("{}/webhooks/{route}", base.trim_end_matches('/')))
}

fn print_connected(done: &connect::Connected, platform: &str, shop: &ShopId) {
    for line in &done.lines {
        println!("  {line}");
    }
    println!(
        "{platform} {shop}: {} created, {} fixed, {} kept, {} extra",
        done.created, done.fixed, done.kept, done.extra
    );
}

/// The shop's Shopify Admin API, with the token read from stdin (`api_url`: a local server).
fn shopify_client(config: &relance::shops::ShopConfig, api_url: Option<String>) -> Result<ShopifyGraphql, Error> {
    let shop = &config.id;
    let domain =
        config.shopify.as_ref().map(|s| s.domain.clone()).ok_or_else(|| {
            format!("shop {shop} has no Shopify section: relance shops add {shop} --shopify-domain D …")
        })?;
    let token = read_secret("the app's Admin API access token")?;
    Ok(match api_url {
        Some(endpoint) => ShopifyGraphql::at(endpoint, token),
        None => ShopifyGraphql::new(&domain, token),
    })
}

/// The shop's WooCommerce REST API, with the key read from stdin, over HTTPS only (but loopback).
fn woo_client(config: &relance::shops::ShopConfig, api_url: Option<String>) -> Result<WooRest, Error> {
    let shop = &config.id;
    let site = config.woocommerce.as_ref().map(|w| w.source.clone()).ok_or_else(|| {
        format!("shop {shop} has no WooCommerce section: relance shops add {shop} --woocommerce-url URL …")
    })?;
    let key = read_secret("the REST API key's consumer key (ck_…)")?;
    let key_secret = read_secret("its consumer secret (cs_…)")?;
    let root = api_root(api_url.as_deref().unwrap_or(&site));
    if !root.starts_with("https://") && !is_loopback(&root) {
        return Err(format!("{root}: WooCommerce takes a REST API key over HTTPS only").into());
    }
    Ok(WooRest::new(root, key, key_secret))
}

fn no_shop(shop: &ShopId) -> Error {
    format!("no shop {shop}: relance shops list").into()
}

async fn connect_shopify(secret: &dyn ShopsSecret, stack: &Stack, args: ConnectArgs) -> Result<(), Error> {
    let shops = load_shops(secret).await?;
    let shop = resolve_shop(&shops, stack, args.shop)?;
    let uri = delivery_url(stack, args.url, "shopify")?;
    let graphql = shopify_client(shops.get(&shop).ok_or_else(|| no_shop(&shop))?, args.api_url)?;
    let admin = ShopifyAdmin::new(graphql, uri.clone());
    let wanted: Vec<String> = shopify_topics::SUBSCRIBED_TOPICS.iter().map(|t| topic_enum(t)).collect();
    let done = connect::connect(&admin, &wanted).await?;
    print_connected(&done, "Shopify", &shop);
    println!(
        "compliance topics: set {} to {uri} in the app's configuration (Partner Dashboard → the app → Configuration → Compliance webhooks, or shopify.app.toml [webhooks] compliance_topics); Shopify takes them from there only",
        shopify_topics::COMPLIANCE_TOPICS.join(", ")
    );
    Ok(())
}

async fn connect_woocommerce(secret: &dyn ShopsSecret, stack: &Stack, args: ConnectArgs) -> Result<(), Error> {
    let stored = secret.load().await?;
    let shops = relance::shops::Shops::parse(&stored.text)?;
    let shop = resolve_shop(&shops, stack, args.shop)?;
    let rest = woo_client(shops.get(&shop).ok_or_else(|| no_shop(&shop))?, args.api_url)?;
    let webhook_secret = ShopsDocument::parse(&stored.text)?.newest(&shop, SecretKind::Woocommerce)?;
    let uri = delivery_url(stack, args.url, "woocommerce")?;
    let admin = WooAdmin::new(rest, uri, webhook_secret);
    let wanted: Vec<String> = woo_topics::SUBSCRIBED_TOPICS.iter().map(|t| t.to_string()).collect();
    let done = connect::connect(&admin, &wanted).await?;
    print_connected(&done, "WooCommerce", &shop);
    println!(
        "each Relance webhook now carries the shop's newest WooCommerce secret (WooCommerce never shows a webhook's secret, so connect writes it every time)"
    );
    Ok(())
}

fn is_loopback(url: &str) -> bool {
    url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost") || url.starts_with("http://[::1]")
}

/// Reads and checks the files, and reports what they hold and every row skipped.
fn read_plan(args: &ImportArgs) -> Result<Plan, Error> {
    let plan = Plan::read(&args.files, args.format, chrono::Utc::now())?;
    let files: Vec<String> =
        plan.files.iter().map(|(path, format)| format!("{} ({format:?})", path.display())).collect();
    println!("read {}: {} events, {} row(s) skipped", files.join(", "), plan.events.len(), plan.bad.len());
    for bad in &plan.bad {
        eprintln!("  skipped {}: {}", bad.place, bad.reason);
    }
    Ok(plan)
}

/// The shop's history read from its platform's admin API.
async fn fetch_plan(
    shops: &relance::shops::Shops,
    shop: &ShopId,
    source: Source,
    api_url: Option<String>,
) -> Result<(Plan, PathBuf), Error> {
    let config = shops.get(shop).ok_or_else(|| no_shop(shop))?;
    let currency = config.currency;
    let now = chrono::Utc::now();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let (events, bad, name) = match source {
        Source::Shopify => {
            let graphql = shopify_client(config, api_url)?;
            let (events, bad) =
                import::shopify::read(&graphql, currency, now, Polling::default(), &mut |what, state, count| {
                    spinner.set_message(format!("Shopify bulk operation for {what}: {state}, {count} objects"))
                })
                .await?;
            (events, bad, "shopify")
        }
        Source::Woocommerce => {
            let rest = woo_client(config, api_url)?;
            let (events, bad) = import::woocommerce::read(&rest, currency, now, &mut |what, page, of| {
                spinner.set_message(format!("WooCommerce {what}: page {page} of {of}"))
            })
            .await?;
            (events, bad, "woocommerce")
        }
    };
    spinner.finish_and_clear();
    let plan = Plan::from_events(events, bad);
    println!("read from {name}: {} events, {} object(s) skipped", plan.events.len(), plan.bad.len());
    for bad in &plan.bad {
        eprintln!("  skipped {}: {}", bad.place, bad.reason);
    }
    Ok((plan, PathBuf::from(format!("{name}.{shop}.relance-import"))))
}

async fn import(secret: &dyn ShopsSecret, stack: &Stack, args: ImportArgs, local: bool) -> Result<(), Error> {
    let shops = load_shops(secret).await?;
    let shop = resolve_shop(&shops, stack, args.shop.clone())?;
    let (plan, cursor_path) = match args.from {
        Some(source) => fetch_plan(&shops, &shop, source, args.api_url.clone()).await?,
        None => (read_plan(&args)?, cursor_path(&args.files[0], &shop)),
    };
    if args.dry_run {
        return Ok(());
    }
    let api_secret = shops
        .get(&shop)
        .and_then(|s| s.api.as_ref())
        .and_then(|api| api.secrets.first())
        .ok_or_else(|| format!("shop {shop} has no API secret: relance shops rotate-secret {shop} --for api"))?;
    let url = args
        .url
        .or_else(|| stack.webhook_url.clone())
        .ok_or("the stack names no WebhookUrl: give webhook-ingest's URL with --url")?;
    let sink = ApiSink::new(&url, shop.as_str(), api_secret.clone());
    let cursor = CursorFile { path: cursor_path };
    let bar = indicatif::ProgressBar::new(plan.events.len() as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} events, {per_sec}, ETA {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let pace = Pace { per_second: (args.rate > 0).then_some(args.rate), ..Pace::default() };
    let summary = import::run(&plan, &sink, &cursor, pace, &mut |done| bar.set_position(done as u64)).await;
    bar.finish_and_clear();
    let summary = summary?;
    println!(
        "sent {} events to shop {shop} of stack {}: {} new, {} already there{}",
        summary.events - summary.resumed_from,
        stack.name,
        summary.published,
        summary.duplicates,
        if summary.resumed_from > 0 { format!(" (resumed after {})", summary.resumed_from) } else { String::new() }
    );
    if args.no_score {
        println!("profile-update files them within seconds; rfm-nightly scores the imported customers at its next run");
        return Ok(());
    }
    let store = DynamoProfileStore::new(aws_sdk_dynamodb::Client::new(&stack.sdk), &stack.table);
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    spinner.set_message("waiting for profile-update to file the last events");
    let settled = score::settle(
        &store,
        &shop,
        &plan.events,
        std::time::Duration::from_secs(args.settle),
        std::time::Duration::from_secs(2),
    )
    .await;
    spinner.finish_and_clear();
    let settled = settled?;
    if settled.filed < settled.of {
        println!(
            "after {} s profile-update has filed {} of the last {} events: scoring now; the next night scores what comes later",
            args.settle, settled.filed, settled.of
        );
    }
    score_now(stack, &shop, &args.invoke, local).await
}

/// Runs rfm-nightly for `shop` and prints what it found.
async fn score_now(stack: &Stack, shop: &ShopId, invoke: &InvokeArgs, local: bool) -> Result<(), Error> {
    let function = stack.nightly_function.clone().ok_or_else(|| {
        format!("stack {} names no NightlyFunctionName: update it from infra/template.yaml", stack.name)
    })?;
    let url = invoke.invoke_url.clone().or_else(|| local.then(|| "http://127.0.0.1:9000".to_owned()));
    let mut config = aws_sdk_lambda::config::Builder::from(&stack.sdk);
    if let Some(url) = &url {
        config = config.endpoint_url(url);
    }
    let nightly = score::LambdaNightly::new(aws_sdk_lambda::Client::from_conf(config.build()), function);
    let summaries = nightly.score(shop).await.map_err(|e| {
        let hint = if url.is_some() { " (is `cargo lambda watch` running there?)" } else { "" };
        format!("{e}{hint}; the import itself is complete: score later with `relance score --shop {shop}`")
    })?;
    for summary in summaries.as_array().into_iter().flatten() {
        print!("{}", score::render(summary));
    }
    Ok(())
}

/// Beside the first file, per shop: the same files imported into two shops resume apart.
fn cursor_path(first: &std::path::Path, shop: &ShopId) -> PathBuf {
    let mut name = first.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{shop}.relance-import"));
    first.with_file_name(name)
}

/// The customer's address, their shop, and the deployment's table.
async fn customer_of(
    secret: &dyn ShopsSecret,
    stack: &Stack,
    email: &str,
    shop: Option<String>,
) -> Result<(Email, ShopId, DynamoProfileStore), Error> {
    let email = Email::parse(email)?;
    let shop = resolve_shop(&load_shops(secret).await?, stack, shop)?;
    let store = DynamoProfileStore::new(aws_sdk_dynamodb::Client::new(&stack.sdk), &stack.table);
    Ok((email, shop, store))
}

fn nobody(email: &Email, shop: &ShopId) -> Error {
    format!("no customer with e-mail {email} in shop {shop}").into()
}

async fn show_profile(secret: &dyn ShopsSecret, stack: &Stack, email: &str, shop: Option<String>) -> Result<(), Error> {
    let (email, shop, store) = customer_of(secret, stack, email, shop).await?;
    match profile::look_up(&store, &shop, &email).await? {
        Some(customer) => {
            print!("{}", profile::render(&customer));
            Ok(())
        }
        None => Err(nobody(&email, &shop)),
    }
}

async fn export(
    secret: &dyn ShopsSecret,
    stack: &Stack,
    email: &str,
    shop: Option<String>,
    output: &std::path::Path,
) -> Result<(), Error> {
    let (email, shop, store) = customer_of(secret, stack, email, shop).await?;
    let export = gdpr::export(&store, &shop, &email, chrono::Utc::now()).await?.ok_or_else(|| nobody(&email, &shop))?;
    let mut json = serde_json::to_vec_pretty(&export)?;
    json.push(b'\n');
    if output.as_os_str() == "-" {
        std::io::stdout().write_all(&json)?;
    } else {
        std::fs::write(output, &json).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
        eprintln!(
            "wrote the export of {} profile(s) of shop {shop} to {} ({} bytes)",
            export.profiles.len(),
            output.display(),
            json.len()
        );
    }
    Ok(())
}

async fn erase(
    secret: &dyn ShopsSecret,
    stack: &Stack,
    email: &str,
    shop: Option<String>,
    yes: bool,
) -> Result<(), Error> {
    let (email, shop, store) = customer_of(secret, stack, email, shop).await?;
    if !yes {
        let customer = profile::look_up(&store, &shop, &email).await?.ok_or_else(|| nobody(&email, &shop))?;
        println!(
            "would erase profile {} of shop {shop}: {} record(s) (orders, checkouts, activity, mails) and its identity keys, and cancel its pending reminders",
            customer.profile.id,
            customer.records.len()
        );
        println!("nothing changed: run again with --yes to erase");
        return Ok(());
    }
    let group = stack.schedule_group.as_deref().ok_or_else(|| {
        format!("stack {} names no ScheduleGroupName: was it deployed from Relance's infra/template.yaml?", stack.name)
    })?;
    let scheduler = EventBridgeScheduler::cancel_only(aws_sdk_scheduler::Client::new(&stack.sdk), group);
    let erased = gdpr::erase(&store, &scheduler, &store, &shop, &email, chrono::Utc::now()).await?;
    if erased.profiles.is_empty() {
        println!(
            "no customer with e-mail {email} in shop {shop}: nothing to erase; the address is remembered as erased for {} days, so its late events are dropped",
            relance::use_cases::gdpr::TOMBSTONE_KEEP.num_days()
        );
        return Ok(());
    }
    let ids: Vec<String> = erased.profiles.iter().map(ToString::to_string).collect();
    println!(
        "erased profile {} of shop {shop}: {} record(s), {} identity key(s), {} pending schedule(s) cancelled, {} tombstone(s) left",
        ids.join(", "),
        erased.records,
        erased.identity_keys,
        erased.schedules,
        erased.tombstones
    );
    Ok(())
}
