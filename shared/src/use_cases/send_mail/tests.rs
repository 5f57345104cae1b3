use super::*;
use crate::events::Event;
use crate::mail::SentMail;
use crate::ports::RecordingMailer;
use crate::programs::checkout::message_key;
use crate::programs::request::MailRequest;
use crate::use_cases::update_profile::apply_event;
use chrono::TimeZone;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};

const SHOP: &str = "demo.myshopify.com";

fn shops() -> Shops {
    Shops::parse(
        &json!({ "shops": [{
            "id": SHOP, "locale": "fr", "time_zone": "Europe/Paris",
            "mail": { "from": "Maison Demo <bonjour@demo.example>", "name": "Maison Demo",
                      "site_url": "https://demo.example", "unsubscribe_secrets": ["unsubscribe-secret"] },
            "programs": { "cross_sell": [
                { "title": "Tire-bouchon", "url": "https://demo.example/tire-bouchon",
                  "price": { "minor": 1500, "currency": "EUR" } } ] }
        }]})
        .to_string(),
    )
    .unwrap()
}

/// 10:00 UTC, 11:00 in Paris: not quiet.
fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn event(n: u32, kind: &str, payload: Value) -> Event {
    let mut payload = payload;
    payload["type"] = json!(kind);
    serde_json::from_value(json!({
        "schema_version": 1, "id": format!("shopify:{SHOP}:{n}"), "shop": SHOP, "platform": "shopify",
        "occurred_at": "2026-11-23T08:00:00Z", "received_at": "2026-11-23T08:00:00Z",
        "identity": { "email": "anne@example.fr", "customer_id": "42" },
        "context": { "locale": "fr" },
        "payload": payload,
    }))
    .unwrap()
}

fn line() -> Value {
    json!({ "product_id": "p1", "title": "Cuvée des Vignes", "quantity": 2,
            "unit_price": { "minor": 2490, "currency": "EUR" }, "categories": ["vins"] })
}

/// send-mail's ports in memory, with a mailer that can be throttled.
struct World(Fakes<Flaky>);

impl std::ops::Deref for World {
    type Target = Fakes<Flaky>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A recording mailer that can be told to be throttled a number of times.
#[derive(Default)]
struct Flaky {
    inner: RecordingMailer,
    throttled: AtomicU32,
    /// Sends, then loses SES's answer (a timeout after SES accepted).
    lost: AtomicU32,
}

#[async_trait::async_trait]
impl Mailer for Flaky {
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailerError> {
        if self.throttled.load(Ordering::SeqCst) > 0 {
            self.throttled.fetch_sub(1, Ordering::SeqCst);
            return Err(MailerError::Throttled("Maximum sending rate exceeded".into()));
        }
        let sent = self.inner.send(mail).await?;
        if self.lost.load(Ordering::SeqCst) > 0 {
            self.lost.fetch_sub(1, Ordering::SeqCst);
            return Err(MailerError::Unknown("injected: operation attempt timed out".into()));
        }
        Ok(sent)
    }
}

impl World {
    async fn new(subscribed: bool) -> Self {
        let w = World(Fakes::new(Flaky::default(), shops()));
        let state = if subscribed { "subscribed" } else { "unsubscribed" };
        let events = [
            event(1, "customer.signed_up", json!({ "first_name": "Anne" })),
            event(
                2,
                "consent.changed",
                json!({ "state": state, "changed_at": "2026-11-23T08:00:00Z", "source": "shopify" }),
            ),
            event(
                3,
                "checkout.started",
                json!({ "token": "ck1", "line_items": [line()],
                "total": { "minor": 4980, "currency": "EUR" }, "recovery_url": "https://demo.example/checkouts/ck1/recover" }),
            ),
            event(
                4,
                "order.placed",
                json!({ "order_id": "o1", "name": "#1001", "line_items": [line()],
                "total": { "minor": 4980, "currency": "EUR" } }),
            ),
        ];
        for e in &events {
            apply_event(&w.store, &w.publisher, e).await.unwrap();
        }
        w
    }

    async fn profile(&self) -> Profile {
        let id = self.store.find_identity(&shop(), &IdentityKey::Customer("42".parse_id())).await.unwrap().unwrap();
        self.store.load(&shop(), &id).await.unwrap().unwrap().value
    }

    fn sent(&self) -> Vec<OutgoingMail> {
        self.mailer.inner.sent()
    }
}

trait ParseId {
    fn parse_id(self) -> crate::ids::ExternalId;
}

impl ParseId for &str {
    fn parse_id(self) -> crate::ids::ExternalId {
        crate::ids::ExternalId::parse(self).unwrap()
    }
}

fn shop() -> ShopId {
    ShopId::parse(SHOP).unwrap()
}

fn reminder(profile: &Profile, step: u32) -> MailRequest {
    MailRequest {
        shop: shop(),
        profile: Some(profile.id.clone()),
        identity: Default::default(),
        program: "abandoned-checkout".into(),
        step,
        template: "abandoned-checkout".into(),
        kind: MailKind::Marketing,
        message_key: message_key(&shop(), &"ck1".parse_id(), step),
        checkout: Some("ck1".parse_id()),
        order: None,
        discount_code: None,
        campaign: None,
        products: Vec::new(),
        requested_at: noon(),
    }
}

fn confirmation() -> MailRequest {
    MailRequest {
        shop: shop(),
        profile: None,
        identity: crate::events::Identity {
            email: Some(crate::ids::Email::parse("anne@example.fr").unwrap()),
            ..Default::default()
        },
        program: "order-confirmation".into(),
        step: 1,
        template: "order-confirmation".into(),
        kind: MailKind::Transactional,
        message_key: MailRequest::key_for("order-confirmation", &shop(), "o1", 1),
        checkout: None,
        order: Some("o1".parse_id()),
        discount_code: None,
        campaign: None,
        products: Vec::new(),
        requested_at: noon(),
    }
}

#[tokio::test]
async fn a_reminder_goes_once_with_one_click_unsubscribe_tags_and_the_shops_sender() {
    let w = World::new(true).await;
    // The order above did not name ck1: the checkout is still open.
    let profile = w.profile().await;
    let sent = send_requested(&w.mailing(), &reminder(&profile, 1), noon()).await.unwrap();
    assert!(matches!(sent, Sent::Sent { .. }), "{sent:?}");
    assert_eq!(send_requested(&w.mailing(), &reminder(&profile, 1), noon()).await.unwrap(), Sent::Duplicate);
    let mails = w.sent();
    assert_eq!(mails.len(), 1, "a repeated request never sends twice");
    let mail = &mails[0];
    assert_eq!(mail.to.as_str(), "anne@example.fr");
    assert_eq!(mail.from.as_ref().map(Mailbox::as_str), Some("Maison Demo <bonjour@demo.example>"));
    assert!(mail.subject.as_str().contains("Anne"), "{}", mail.subject.as_str());
    assert!(mail.html.contains("Cuvée des Vignes") && mail.html.contains("49,80"), "French prices");
    assert!(mail.html.contains("utm_campaign=abandoned-checkout"));
    assert!(mail.html.contains("checkouts/ck1/recover"));
    let header = |name: &str| mail.headers.iter().find(|h| h.name() == name).map(|h| h.value().to_owned());
    assert_eq!(header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let link = header("List-Unsubscribe").unwrap();
    let token = link.split("t=").nth(1).unwrap().trim_end_matches('>');
    let token: String = form_urlencoded::parse(format!("t={token}").as_bytes()).next().unwrap().1.into_owned();
    let verified = UnsubscribeToken::verify(&token, |s| w.shops.unsubscribe_secrets(s)).unwrap();
    assert_eq!(verified.profile, profile.id);
    assert_eq!(mail.tags.as_ref().map(|t| t.profile.clone()), Some(profile.id.clone()));
    // The message is logged and the frequency cap knows.
    let after = w.profile().await;
    assert_eq!(after.engagement.last_marketing_at, Some(noon()));
    let key = RecordKey::Message(reminder(&profile, 1).message_key);
    let Some(Record::Message(message)) =
        w.store.load_record(&shop(), &profile.id, &key).await.unwrap().map(|v| v.value)
    else {
        panic!("message record")
    };
    assert_eq!((message.sent_at, message.provider_id.as_deref()), (Some(noon()), Some("memory-1")));
}

#[tokio::test]
async fn the_second_marketing_mail_within_sixteen_hours_is_deferred_not_dropped() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    send_requested(&w.mailing(), &reminder(&profile, 1), noon()).await.unwrap();
    let later = noon() + chrono::Duration::hours(2);
    let Sent::Deferred { until, reason } = send_requested(&w.mailing(), &reminder(&profile, 2), later).await.unwrap()
    else {
        panic!("deferred")
    };
    // The cap ends at 02:00 UTC, 03:00 in Paris: quiet hours then hold it to 08:00 there.
    let morning = Utc.with_ymd_and_hms(2026, 11, 24, 7, 0, 0).unwrap();
    assert_eq!((until, reason), (morning, DeferReason::QuietHours));
    assert!(until >= noon() + chrono::Duration::hours(16));
    let pending = w.scheduler.pending();
    assert_eq!(pending.len(), 1);
    let deferred: DeferredMail = serde_json::from_value(pending[0].payload.clone()).unwrap();
    assert_eq!(deferred.deferred, reminder(&profile, 2));
    assert_eq!(w.sent().len(), 1);
}

#[tokio::test]
async fn quiet_hours_defer_marketing_but_not_an_order_confirmation() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    let night = Utc.with_ymd_and_hms(2026, 11, 23, 22, 30, 0).unwrap(); // 23:30 in Paris
    let deferred = send_requested(&w.mailing(), &reminder(&profile, 1), night).await.unwrap();
    let morning = Utc.with_ymd_and_hms(2026, 11, 24, 7, 0, 0).unwrap();
    assert_eq!(deferred, Sent::Deferred { until: morning, reason: DeferReason::QuietHours });
    let sent = send_requested(&w.mailing(), &confirmation(), night).await.unwrap();
    assert!(matches!(sent, Sent::Sent { .. }));
    let mail = &w.sent()[0];
    assert!(mail.headers.is_empty(), "transactional mail has no unsubscribe header");
    assert!(mail.html.contains("#1001") && mail.html.contains("Tire-bouchon"), "order name and cross-sell");
}

#[tokio::test]
async fn an_unsubscribed_customer_gets_order_mail_but_no_reminder() {
    let w = World::new(false).await;
    let profile = w.profile().await;
    let skipped = send_requested(&w.mailing(), &reminder(&profile, 1), noon()).await.unwrap();
    assert_eq!(skipped, Sent::Skipped(SkipReason::Unsubscribed));
    assert!(matches!(send_requested(&w.mailing(), &confirmation(), noon()).await.unwrap(), Sent::Sent { .. }));
    assert_eq!(w.sent().len(), 1);
}

#[tokio::test]
async fn a_throttled_send_gives_its_claim_back_and_the_retry_sends_once() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    w.mailer.throttled.store(1, Ordering::SeqCst);
    let error = send_requested(&w.mailing(), &reminder(&profile, 1), noon()).await.unwrap_err();
    assert!(matches!(error, SendError::Mailer(MailerError::Throttled(_))));
    assert!(matches!(send_requested(&w.mailing(), &reminder(&profile, 1), noon()).await.unwrap(), Sent::Sent { .. }));
    assert_eq!(w.sent().len(), 1);
}

/// The message record of `request` as stored.
async fn message(w: &World, profile: &Profile, request: &MailRequest) -> MessageRecord {
    let key = RecordKey::Message(request.message_key.clone());
    match w.store.load_record(&shop(), &profile.id, &key).await.unwrap().map(|v| v.value) {
        Some(Record::Message(message)) => message,
        other => panic!("no message record: {other:?}"),
    }
}

/// What an attempt that claimed and then crashed (or could not write) leaves.
async fn leave_claim(w: &World, profile: &Profile, request: &MailRequest) {
    let claim = MessageRecord {
        key: request.message_key.clone(),
        claimed_at: Some(noon()),
        attempt: Some("an-attempt-that-crashed".into()),
        ..MessageRecord::default()
    };
    w.store.save_record(&shop(), &profile.id, &Record::Message(claim), Version::NEW).await.unwrap();
}

#[tokio::test]
async fn a_marketing_claim_left_by_a_crash_is_never_sent_again_and_is_marked_unconfirmed() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    let request = reminder(&profile, 1);
    leave_claim(&w, &profile, &request).await;
    assert_eq!(send_requested(&w.mailing(), &request, noon()).await.unwrap(), Sent::Unconfirmed);
    assert!(w.sent().is_empty());
    assert_eq!(message(&w, &profile, &request).await.unconfirmed_at, Some(noon()));
    // Surfaced once, then answered the same way.
    assert_eq!(send_requested(&w.mailing(), &request, noon()).await.unwrap(), Sent::Unconfirmed);
}

#[tokio::test]
async fn a_transactional_claim_left_by_a_crash_is_taken_over_and_sent() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    leave_claim(&w, &profile, &confirmation()).await;
    assert!(matches!(send_requested(&w.mailing(), &confirmation(), noon()).await.unwrap(), Sent::Sent { .. }));
    assert_eq!(w.sent().len(), 1);
    assert_eq!(message(&w, &profile, &confirmation()).await.attempt.as_deref(), Some("attempt-1"));
}

#[tokio::test]
async fn a_claim_whose_answer_was_lost_is_still_ours_and_the_mail_goes() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    // The claim is applied; the SDK's retry of the conditional create finds it: a conflict.
    w.store.lose_record_answers(1);
    assert!(matches!(send_requested(&w.mailing(), &reminder(&profile, 1), noon()).await.unwrap(), Sent::Sent { .. }));
    assert_eq!(w.sent().len(), 1);
}

#[tokio::test]
async fn a_marketing_mail_whose_ses_answer_was_lost_goes_at_most_once_and_is_marked_unconfirmed() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    let request = reminder(&profile, 1);
    w.mailer.lost.store(1, Ordering::SeqCst);
    assert_eq!(send_requested(&w.mailing(), &request, noon()).await.unwrap(), Sent::Unconfirmed);
    assert_eq!(send_requested(&w.mailing(), &request, noon()).await.unwrap(), Sent::Unconfirmed);
    assert_eq!(w.sent().len(), 1, "SES got it once; it is not sent again");
    let message = message(&w, &profile, &request).await;
    assert_eq!((message.unconfirmed_at, message.sent_at), (Some(noon()), None));
}

#[tokio::test]
async fn a_transactional_mail_whose_ses_answer_was_lost_goes_at_least_once() {
    let w = World::new(true).await;
    w.mailer.lost.store(1, Ordering::SeqCst);
    let error = send_requested(&w.mailing(), &confirmation(), noon()).await.unwrap_err();
    assert!(matches!(error, SendError::Mailer(MailerError::Unknown(_))));
    assert_eq!(error.retry(), Retry::Transient);
    assert!(matches!(send_requested(&w.mailing(), &confirmation(), noon()).await.unwrap(), Sent::Sent { .. }));
    assert_eq!(w.sent().len(), 2, "sent again: the buyer gets their confirmation, maybe twice");
}

#[tokio::test]
async fn a_sent_mail_whose_record_write_fails_is_recorded_by_the_retries_within_the_attempt() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    let request = reminder(&profile, 1);
    // The claim goes; the sent record is refused twice, then written.
    w.store.refuse_record_writes(1, 2);
    assert!(matches!(send_requested(&w.mailing(), &request, noon()).await.unwrap(), Sent::Sent { .. }));
    assert!(message(&w, &profile, &request).await.sent_at.is_some());
    assert_eq!(send_requested(&w.mailing(), &request, noon()).await.unwrap(), Sent::Duplicate);
    assert_eq!(w.sent().len(), 1);
}

#[tokio::test]
async fn a_sent_mail_never_recorded_is_not_sent_again_when_marketing() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    let request = reminder(&profile, 1);
    w.store.refuse_record_writes(1, 3);
    let error = send_requested(&w.mailing(), &request, noon()).await.unwrap_err();
    assert_eq!(error.retry(), Retry::Transient);
    // The retry finds the claim unrecorded: at most once.
    assert_eq!(send_requested(&w.mailing(), &request, noon()).await.unwrap(), Sent::Unconfirmed);
    assert_eq!(w.sent().len(), 1);
}

#[tokio::test]
async fn a_claim_given_back_after_a_refused_send_survives_a_refused_delete() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    let request = reminder(&profile, 1);
    w.mailer.throttled.store(1, Ordering::SeqCst);
    // The claim goes; SES throttles; the claim's delete is refused once, then goes.
    w.store.refuse_record_writes(1, 1);
    let error = send_requested(&w.mailing(), &request, noon()).await.unwrap_err();
    assert!(matches!(error, SendError::Mailer(MailerError::Throttled(_))));
    assert!(matches!(send_requested(&w.mailing(), &request, noon()).await.unwrap(), Sent::Sent { .. }));
    assert_eq!(w.sent().len(), 1);
}

#[tokio::test]
async fn a_checkout_completed_while_the_mail_waited_stops_it() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    let completed = event(
        5,
        "checkout.completed",
        json!({ "token": "ck1", "line_items": [line()],
        "total": { "minor": 4980, "currency": "EUR" } }),
    );
    apply_event(&w.store, &w.publisher, &completed).await.unwrap();
    assert_eq!(
        send_requested(&w.mailing(), &reminder(&profile, 1), noon()).await.unwrap(),
        Sent::Stopped("checkout completed")
    );
}

#[tokio::test]
async fn an_order_mail_for_a_buyer_not_filed_yet_is_retried_and_an_erased_profile_gets_nothing() {
    let w = World::new(true).await;
    let mut unknown = confirmation();
    unknown.identity.email = Some(crate::ids::Email::parse("new@example.fr").unwrap());
    unknown.order = Some("o-unknown".parse_id());
    assert!(matches!(send_requested(&w.mailing(), &unknown, noon()).await, Err(SendError::NotFiledYet)));
    let mut gone = reminder(&w.profile().await, 1);
    gone.profile = Some(crate::ids::ProfileId::parse("erased").unwrap());
    assert_eq!(send_requested(&w.mailing(), &gone, noon()).await.unwrap(), Sent::NoProfile);
}

#[tokio::test]
async fn a_preparing_mail_for_an_order_already_shipped_and_a_review_of_a_refunded_one_are_stopped() {
    let w = World::new(true).await;
    let preparing = MailRequest {
        program: "order-preparing".into(),
        template: "order-preparing".into(),
        message_key: MailRequest::key_for("order-preparing", &shop(), "o1", 1),
        ..confirmation()
    };
    let review = MailRequest {
        program: "review-request".into(),
        template: "review-request".into(),
        kind: MailKind::Marketing,
        message_key: MailRequest::key_for("review-request", &shop(), "o1", 1),
        ..confirmation()
    };
    // Shipped before the paid webhook's mail went (events out of order).
    apply_event(&w.store, &w.publisher, &event(5, "order.fulfilled", json!({ "order_id": "o1" }))).await.unwrap();
    let sent = send_requested(&w.mailing(), &preparing, noon()).await.unwrap();
    assert_eq!(sent, Sent::Stopped("order already shipped"));
    apply_event(
        &w.store,
        &w.publisher,
        &event(
            6,
            "order.refunded",
            json!({ "order_id": "o1", "refund_id": "r1", "amount": { "minor": 4980, "currency": "EUR" } }),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        send_requested(&w.mailing(), &review, noon()).await.unwrap(),
        Sent::Stopped("order refunded or cancelled")
    );
    assert!(w.sent().is_empty());
}

#[tokio::test]
async fn a_second_run_of_a_program_limited_per_window_is_stopped_when_the_first_mail_went_out() {
    let w = World::new(true).await;
    let profile = w.profile().await;
    // Two runs of the scenario (two 30-day periods) asked before either mail went out.
    let run = |period: &str| MailRequest {
        program: "visits-scenario".into(),
        template: "scenario-b".into(),
        message_key: MailRequest::key_for("visits-scenario", &shop(), &format!("{}:{period}", profile.id), 4),
        step: 4,
        checkout: None,
        ..reminder(&profile, 4)
    };
    assert!(matches!(send_requested(&w.mailing(), &run("p1"), noon()).await.unwrap(), Sent::Sent { .. }));
    let later = noon() + chrono::Duration::days(2);
    let second = send_requested(&w.mailing(), &run("p2"), later).await.unwrap();
    assert_eq!(second, Sent::Stopped("the program's limit of mails in its window is reached"));
    assert_eq!(w.sent().len(), 1);
    // The first run's own retry is a duplicate, not a limit.
    assert_eq!(send_requested(&w.mailing(), &run("p1"), later).await.unwrap(), Sent::Duplicate);
}
