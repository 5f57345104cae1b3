//! send-mail: sends the mail programs request, through SES, at most once each.
//!
//! `mail.requested` (source `relance.programs`) goes through
//! [`relance::use_cases::send_mail::send_requested`]: consent, suppression, frequency cap and
//! quiet hours (a deferred mail comes back through a one-time schedule), rendering,
//! one-click unsubscribe, claim, send, record. `campaign.requested` (any source: a
//! marketer's rule) goes through [`relance::use_cases::send_campaign::run_campaign`]; a segment
//! too large for one invocation is continued by putting the campaign back on the bus with
//! its cursor.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use relance::bus::{BusEvent, SOURCE_PROGRAMS};
use relance::directory::Directory;
use relance::failure::{Classify, Retry};
use relance::ports::{Clock, EventPublisher, Mailer, ProfileStore, PublishError, Scheduler, SegmentStore};
use relance::programs::request::{MAIL_REQUESTED, MailRequest};
use relance::use_cases::send_campaign::{CAMPAIGN_REQUESTED, Campaign, CampaignError, Progress, run_campaign};
use relance::use_cases::send_mail::{Mailing, SendError, Sent, send_requested};
use std::sync::Arc;

/// Everything a request needs, built once per cold start.
pub struct Deps {
    pub store: Arc<dyn ProfileStore>,
    /// Segment members, for campaigns.
    pub segments: Arc<dyn SegmentStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub mailer: Arc<dyn Mailer>,
    pub scheduler: Arc<dyn Scheduler>,
    /// The shops document, kept current (a shop added since the cold start is served).
    pub shops: Arc<Directory>,
    pub clock: Arc<dyn Clock>,
    /// webhook-ingest's public base URL, for unsubscribe links.
    pub public_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("detail is not a mail request")]
    Malformed(#[source] serde_json::Error),
    /// Routed here, not handled by this build: fail so it is retried, then dead-lettered.
    #[error("unsupported event {source_name}/{detail_type}")]
    Unsupported { source_name: String, detail_type: String },
    /// Retryable or not, the cause says; Lambda retries, then the dead-letter queue keeps it.
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error("could not continue the campaign")]
    Continue(#[from] PublishError),
    /// Our own continuation failed to encode: a bug.
    #[error("could not encode the campaign's continuation")]
    Encode(#[source] serde_json::Error),
}

impl Classify for HandleError {
    fn retry(&self) -> Retry {
        match self {
            HandleError::Malformed(_) | HandleError::Unsupported { .. } | HandleError::Encode(_) => Retry::Permanent,
            HandleError::Send(e) => e.retry(),
            HandleError::Campaign(e) => e.retry(),
            HandleError::Continue(e) => e.retry(),
        }
    }
}

impl From<HandleError> for lambda_runtime::Diagnostic {
    fn from(error: HandleError) -> Self {
        let kind = match &error {
            HandleError::Malformed(_) => "Malformed",
            HandleError::Unsupported { .. } => "Unsupported",
            HandleError::Send(_) => "Send",
            HandleError::Campaign(_) => "Campaign",
            HandleError::Continue(_) => "Continue",
            HandleError::Encode(_) => "Encode",
        };
        let (error_type, error_message) = relance::failure::diagnostic(&error, kind);
        Self { error_type, error_message }
    }
}

/// What an invocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Mail(Sent),
    Campaign(Progress),
}

/// `source` of a campaign send-mail continues itself.
pub const SOURCE_CAMPAIGNS: &str = "relance.campaigns";
/// A campaign invocation stops paging after this long (send-mail's timeout is 60 s), or
/// earlier when the invocation's deadline is nearer.
const CAMPAIGN_BUDGET: std::time::Duration = std::time::Duration::from_secs(40);

#[tracing::instrument(skip_all, fields(id = ?event.payload.id, detail_type = %event.payload.detail_type))]
pub async fn handle(
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
    deps: &Deps,
) -> Result<Handled, HandleError> {
    let deadline = event.context.deadline;
    // Lambda's retries of an event keep its request id: the random part tells them apart.
    let attempt = format!("{}/{:016x}", event.context.request_id, fastrand::u64(..));
    let envelope = event.payload;
    let shops = deps.shops.for_shop(deps.clock.now(), envelope.detail.get("shop").and_then(|s| s.as_str())).await;
    let mailing = Mailing {
        store: deps.store.as_ref(),
        publisher: deps.publisher.as_ref(),
        mailer: deps.mailer.as_ref(),
        scheduler: deps.scheduler.as_ref(),
        shops: shops.as_ref(),
        public_url: &deps.public_url,
        attempt: &attempt,
    };
    if envelope.detail_type == CAMPAIGN_REQUESTED {
        let campaign: Campaign = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
        let progress =
            run_campaign(&mailing, deps.segments.as_ref(), deps.clock.as_ref(), &campaign, budget(deadline)).await?;
        if let Some(cursor) = &progress.next {
            let next = Campaign { cursor: Some(cursor.clone()), ..campaign };
            let detail = serde_json::to_value(&next).map_err(HandleError::Encode)?;
            let event = BusEvent {
                source: SOURCE_CAMPAIGNS.to_owned(),
                detail_type: CAMPAIGN_REQUESTED.to_owned(),
                time: deps.clock.now(),
                detail,
            };
            deps.publisher.publish(&[event]).await?;
        }
        return Ok(Handled::Campaign(progress));
    }
    if envelope.source != SOURCE_PROGRAMS || envelope.detail_type != MAIL_REQUESTED {
        tracing::warn!("no handler for this event type");
        return Err(HandleError::Unsupported { source_name: envelope.source, detail_type: envelope.detail_type });
    }
    let request: MailRequest = serde_json::from_value(envelope.detail).map_err(HandleError::Malformed)?;
    // A request comes with the time it is for (a deferred one, the time it was put off to):
    // never earlier than the clock, later only when its schedule fired early (a local stack
    // that fast-forwards schedules).
    let sent = send_requested(&mailing, &request, request.requested_at.max(deps.clock.now())).await?;
    tracing::info!(shop = %request.shop, program = %request.program, step = request.step, ?sent, "handled");
    Ok(Handled::Mail(sent))
}

/// The campaign budget, leaving 15 s before Lambda's deadline (ms since the epoch; 0 when
/// not run by Lambda) to publish the continuation.
fn budget(deadline: u64) -> std::time::Duration {
    if deadline == 0 {
        return CAMPAIGN_BUDGET;
    }
    let left = std::time::Duration::from_millis(deadline.saturating_sub(epoch_millis()));
    CAMPAIGN_BUDGET.min(left.saturating_sub(std::time::Duration::from_secs(15)))
}

fn epoch_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance::ports::{ManualClock, MemoryProfileStore, MemoryScheduler, RecordingMailer, RecordingPublisher};
    use relance::shops::Shops;
    use relance::use_cases::update_profile::apply_event;

    fn sample(name: &str) -> serde_json::Value {
        let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn deps(store: Arc<MemoryProfileStore>, mailer: Arc<RecordingMailer>) -> Deps {
        let shops =
            std::fs::read_to_string(format!("{}/../../tests/fixtures/shops.local.json", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        Deps {
            store: store.clone(),
            segments: store,
            publisher: Arc::new(RecordingPublisher::default()),
            mailer,
            scheduler: Arc::new(MemoryScheduler::default()),
            shops: Arc::new(Directory::fixed(Shops::parse(&shops).unwrap())),
            // 11:00 in Paris, the demo shop's zone.
            clock: Arc::new(ManualClock::at("2026-11-23T10:00:00Z".parse().unwrap())),
            public_url: "http://127.0.0.1:9000/lambda-url/webhook-ingest".into(),
        }
    }

    #[tokio::test]
    async fn the_sample_order_confirmation_request_is_sent_once() {
        let store = Arc::new(MemoryProfileStore::default());
        let mailer = Arc::new(RecordingMailer::default());
        let deps = deps(store.clone(), mailer.clone());
        // profile-update filed the order the request is about.
        let order: relance::events::Event =
            serde_json::from_value(sample("profile-update/order.placed")["detail"].clone()).unwrap();
        apply_event(store.as_ref(), deps.publisher.as_ref(), &order).await.unwrap();

        let request = sample("send-mail/mail-requested");
        let event = || LambdaEvent::new(serde_json::from_value(request.clone()).unwrap(), Default::default());
        assert!(matches!(handle(event(), &deps).await.unwrap(), Handled::Mail(Sent::Sent { .. })));
        assert_eq!(handle(event(), &deps).await.unwrap(), Handled::Mail(Sent::Duplicate));
        let sent = mailer.sent();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].headers.is_empty(), "an order confirmation is transactional");
        assert_eq!(sent[0].from.as_ref().map(|f| f.as_str()), Some("Maison Demo <bonjour@demo.localhost>"));
    }

    #[tokio::test]
    async fn the_sample_campaign_pages_its_segment() {
        let deps = deps(Arc::new(MemoryProfileStore::default()), Arc::new(RecordingMailer::default()));
        let request = sample("send-mail/campaign-requested");
        let event = LambdaEvent::new(serde_json::from_value(request).unwrap(), Default::default());
        let handled = handle(event, &deps).await.unwrap();
        assert!(matches!(handled, Handled::Campaign(_)), "{handled:?}");
    }

    #[tokio::test]
    async fn other_events_fail_loudly() {
        let deps = deps(Arc::new(MemoryProfileStore::default()), Arc::new(RecordingMailer::default()));
        let mut request = sample("send-mail/mail-requested");
        request["detail-type"] = serde_json::json!("something.else");
        let event = LambdaEvent::new(serde_json::from_value(request).unwrap(), Default::default());
        assert!(matches!(handle(event, &deps).await, Err(HandleError::Unsupported { .. })));
    }
}
