//! `relance connect shopify|woocommerce`: the shop's webhooks, created through the
//! platform's own API and pointed at the stack, so nobody types topics and URLs into an
//! admin page. Idempotent: what is right is kept, what is wrong is fixed in place (an old
//! stack's URL, a paused delivery, a format Relance does not read), what Relance does not
//! use is reported and left alone, and a second run changes nothing.
//!
//! The platform is a port ([`WebhookAdmin`]): the Shopify Admin GraphQL API
//! ([`shopify`]) or WooCommerce's REST API ([`woocommerce`]), with an in-memory fake
//! beside them; deciding what to do ([`plan`]) is pure.

pub mod shopify;
pub mod woocommerce;

#[cfg(test)]
mod memory;
#[cfg(test)]
mod tests;

use crate::platforms::PlatformError;
use async_trait::async_trait;

/// One webhook subscription as the platform lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    /// In the platform's own spelling (`ORDERS_CREATE`, `order.created`).
    pub topic: String,
    pub uri: String,
    /// Whether it is Relance's to fix. A Shopify app sees only its own subscriptions; a
    /// WooCommerce store's list holds every plugin's webhooks, and only those named
    /// Relance or delivering to the stack are Relance's.
    pub ours: bool,
    /// What is wrong with it besides its URL (`format XML`, `status disabled`).
    pub faults: Vec<String>,
}

/// A platform's webhook subscriptions, for one shop, pointed at one URL.
#[async_trait]
pub trait WebhookAdmin: Send + Sync {
    /// Every subscription the credentials can see (all pages).
    async fn list(&self) -> Result<Vec<Subscription>, PlatformError>;
    /// Subscribes `topic` to the stack; the new subscription's id.
    async fn create(&self, topic: &str) -> Result<String, PlatformError>;
    /// Points subscription `id` at the stack again, for `topic`, with nothing wrong left.
    async fn fix(&self, id: &str, topic: &str) -> Result<(), PlatformError>;
    /// The URL subscriptions deliver to.
    fn uri(&self) -> &str;
    /// Whether a subscription found right must be written again anyway: WooCommerce never
    /// shows a webhook's secret, so only writing it makes sure it is the shop's current one.
    fn rewrites_kept(&self) -> bool {
        false
    }
}

/// What [`plan`] decided for one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Keep {
        id: String,
        topic: String,
    },
    Create {
        topic: String,
    },
    Fix {
        id: String,
        topic: String,
        was: Vec<String>,
    },
    /// A subscription Relance does not need: another topic, or a second one for a topic.
    Extra {
        id: String,
        topic: String,
        uri: String,
        why: &'static str,
    },
}

/// What to do so that every wanted topic has exactly one right subscription to `uri`.
///
/// Per topic: a right subscription is kept; else one of ours to this URL, then any of
/// ours, is fixed (the first the platform listed); else one is created. Our others for the
/// topic, and ours for topics not wanted, are extras. Subscriptions not ours are never
/// touched nor reported.
pub fn plan(wanted: &[String], uri: &str, existing: &[Subscription]) -> Vec<Step> {
    let ours: Vec<&Subscription> = existing.iter().filter(|s| s.ours).collect();
    let mut steps = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    for topic in wanted {
        let candidates: Vec<&&Subscription> = ours.iter().filter(|s| &s.topic == topic).collect();
        let right = candidates.iter().find(|s| s.uri == uri && s.faults.is_empty());
        let to_url = candidates.iter().find(|s| s.uri == uri);
        match right.or(to_url).or(candidates.first()) {
            Some(chosen) => {
                used.insert(chosen.id.clone());
                let mut was = Vec::new();
                if chosen.uri != uri {
                    was.push(format!("delivered to {}", chosen.uri));
                }
                was.extend(chosen.faults.iter().cloned());
                steps.push(if was.is_empty() {
                    Step::Keep { id: chosen.id.clone(), topic: topic.clone() }
                } else {
                    Step::Fix { id: chosen.id.clone(), topic: topic.clone(), was }
                });
            }
            None => steps.push(Step::Create { topic: topic.clone() }),
        }
    }
    for sub in ours.iter().filter(|s| !used.contains(&s.id)) {
        let why = if wanted.contains(&sub.topic) {
            "a second subscription to the topic"
        } else {
            "a topic Relance does not use"
        };
        steps.push(Step::Extra { id: sub.id.clone(), topic: sub.topic.clone(), uri: sub.uri.clone(), why });
    }
    steps
}

/// What a run did, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connected {
    pub kept: usize,
    pub created: usize,
    pub fixed: usize,
    pub extra: usize,
    /// One line per subscription, for the operator.
    pub lines: Vec<String>,
}

/// Lists, plans, and applies the plan; stops at the first refusal (a run again resumes:
/// what was done is then kept).
pub async fn connect(admin: &dyn WebhookAdmin, wanted: &[String]) -> Result<Connected, PlatformError> {
    let existing = admin.list().await?;
    let mut done = Connected::default();
    for step in plan(wanted, admin.uri(), &existing) {
        match step {
            Step::Keep { id, topic } => {
                if admin.rewrites_kept() {
                    admin.fix(&id, &topic).await?;
                }
                done.kept += 1;
                done.lines.push(format!("kept     {topic} ({id})"));
            }
            Step::Create { topic } => {
                let id = admin.create(&topic).await?;
                done.created += 1;
                done.lines.push(format!("created  {topic} ({id})"));
            }
            Step::Fix { id, topic, was } => {
                admin.fix(&id, &topic).await?;
                done.fixed += 1;
                done.lines.push(format!("fixed    {topic} ({id}): it {}", was.join(", ")));
            }
            Step::Extra { id, topic, uri, why } => {
                done.extra += 1;
                done.lines.push(format!("extra    {topic} ({id}) to {uri}: {why}; left as it is"));
            }
        }
    }
    Ok(done)
}
