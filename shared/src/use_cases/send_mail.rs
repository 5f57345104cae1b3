//! send-mail's use case: one requested mail, sent at most once, at a time the customer
//! accepts, or not at all when they should not get it.
//!
//! 1. Find the person (the profile named, or the keys of the triggering event) and their
//!    message record: a mail already sent or claimed is not sent again.
//! 2. Re-check what may have changed since the request (a checkout completed while the mail
//!    waited) and pass the [`gate`]: skip, defer (a one-time schedule brings the request
//!    back through the timer), or go.
//! 3. Render ([`crate::templates`]) from the profile, its checkout or order record and the
//!    shop's settings; marketing mail gets a signed one-click unsubscribe link (RFC 8058).
//! 4. Claim the message (a conditional create naming this attempt), send, then record it.
//!    A claim whose answer was lost is recognised as ours when the SDK's retry finds it
//!    taken. A send SES refused gives the claim back, so the retry sends.
//!
//! Where exactly once cannot hold — SES's answer was lost (it may have sent), or an
//! earlier attempt claimed the mail and never recorded it (it crashed, or its writes
//! failed) — the mail's kind decides: a marketing mail goes **at most once** (not resent;
//! the message is marked unconfirmed, which the results count), a transactional mail
//! (an order's confirmation) **at least once** (sent again).

use super::lookup::find_profile;
use super::update_profile::{ApplyError, SentRecord, apply_sent_mail};
use crate::events::LineItem;
use crate::failure::{Classify, Retry};
use crate::ids::ShopId;
use crate::mail::{MailError, MailHeader, MailKind, MailTags, Mailbox, OutgoingMail};
use crate::ports::{EventPublisher, Mailer, MailerError, ProfileStore, ScheduleError, Scheduler, StoreError};
use crate::profile::records::{CheckoutRecord, MessageRecord, OrderRecord};
use crate::profile::{IdentityKey, Profile, Record, RecordKey, Version};
use crate::programs::gate::{DeferReason, Gate, NOT_NOW, SkipReason, gate, limit_reached, still_wanted, zone_of};
use crate::programs::request::{DeferredMail, MailRequest};
use crate::schedule::OneTimeSchedule;
use crate::shops::{ShopConfig, Shops};
use crate::templates::{
    Language, MailContent, MailLine, RenderError, TemplateId, Tracking, UnknownTemplate, Utm, render,
};
use crate::unsubscribe::{UnsubscribeToken, unsubscribe_url};
use chrono::{DateTime, Utc};

/// What send-mail needs, built once per cold start.
pub struct Mailing<'a> {
    pub store: &'a dyn ProfileStore,
    pub publisher: &'a dyn EventPublisher,
    pub mailer: &'a dyn Mailer,
    pub scheduler: &'a dyn Scheduler,
    pub shops: &'a Shops,
    /// webhook-ingest's public base URL: unsubscribe links point there.
    pub public_url: &'a str,
    /// This invocation's own id, stamped on its claims: a claim whose answer was lost is
    /// then told from another attempt's.
    pub attempt: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Sent {
        provider_id: String,
    },
    /// Sent before (a redelivered or repeated request).
    Duplicate,
    /// Another attempt claimed it: it is sending it, or sent it.
    Claimed,
    /// SES may have sent it and the answer was lost, or an attempt claimed it and never
    /// recorded it: a marketing mail is not sent again (at most once), and the message is
    /// marked unconfirmed.
    Unconfirmed,
    Skipped(SkipReason),
    /// The program's subject is over (the checkout was completed or emptied meanwhile).
    Stopped(&'static str),
    Deferred {
        until: DateTime<Utc>,
        reason: DeferReason,
    },
    /// Nobody to send to (an erased profile).
    NoProfile,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("shop {0} is not served by this deployment")]
    UnknownShop(ShopId),
    /// The order's buyer is not filed yet (profile-update is behind): retry.
    #[error("the mail's recipient is not filed yet")]
    NotFiledYet,
    #[error(transparent)]
    UnknownTemplate(#[from] UnknownTemplate),
    #[error("could not render the mail")]
    Render(#[from] RenderError),
    #[error("invalid mail header or mailbox")]
    Mail(#[from] MailError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not record the sent mail")]
    Apply(#[from] ApplyError),
    #[error("could not defer the mail")]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Mailer(#[from] MailerError),
    /// Our own deferred-mail payload failed to encode: a bug.
    #[error("could not encode the deferred mail")]
    Encode(#[source] serde_json::Error),
}

impl Classify for SendError {
    fn retry(&self) -> Retry {
        match self {
            SendError::NotFiledYet => Retry::Transient,
            SendError::Store(e) => e.retry(),
            SendError::Apply(e) => e.retry(),
            SendError::Schedule(e) => e.retry(),
            SendError::Mailer(e) => e.retry(),
            SendError::UnknownShop(_)
            | SendError::UnknownTemplate(_)
            | SendError::Render(_)
            | SendError::Mail(_)
            | SendError::Encode(_) => Retry::Permanent,
        }
    }
}

pub async fn send_requested(m: &Mailing<'_>, request: &MailRequest, now: DateTime<Utc>) -> Result<Sent, SendError> {
    let shop = m.shops.get(&request.shop).ok_or_else(|| SendError::UnknownShop(request.shop.clone()))?;
    let template = TemplateId::parse(&request.template)?;
    let Some(profile) = recipient(m, request).await? else {
        return match request.profile {
            // A named profile that is gone was erased: nothing to send.
            Some(_) => Ok(Sent::NoProfile),
            None => Err(SendError::NotFiledYet),
        };
    };
    let key = RecordKey::Message(request.message_key.clone());
    let mut taken = None;
    if let Some(stored) = m.store.load_record(&request.shop, &profile.id, &key).await? {
        let Record::Message(message) = &stored.value else {
            return Err(StoreError::Corrupt {
                entity: "message record",
                source: "another record kind under its key".into(),
            }
            .into());
        };
        if message.sent_at.is_some() {
            return Ok(Sent::Duplicate);
        }
        if message.unconfirmed_at.is_some() && request.kind == MailKind::Marketing {
            return Ok(Sent::Unconfirmed);
        }
        if message.claimed_at.is_some() {
            // Claimed and never recorded: that attempt crashed, or could not write.
            tracing::warn!(shop = %request.shop, key = %request.message_key, kind = ?request.kind, "claimed by an earlier attempt, never recorded");
            if request.kind == MailKind::Marketing {
                return unconfirmed(m, request, &profile, message.clone(), now).await;
            }
            taken = Some(stored.version);
        }
    }
    let checkout = match &request.checkout {
        Some(token) => match load(m, request, &profile, RecordKey::Checkout(token.clone())).await? {
            Some(Record::Checkout(checkout)) => Some(checkout),
            _ => None,
        },
        None => None,
    };
    if let Some(checkout) = &checkout {
        if checkout.is_completed() {
            return Ok(Sent::Stopped("checkout completed"));
        }
        if checkout.is_empty() {
            return Ok(Sent::Stopped("checkout emptied"));
        }
    }
    let pause = shop.programs.customer_service.pause_marketing_while_ticket_open;
    match still_wanted(request, &profile, pause) {
        Some(NOT_NOW) => {
            let until = now + crate::programs::engine::PAUSE_RECHECK;
            defer(m, request, &profile.id, until).await?;
            return Ok(Sent::Deferred { until, reason: DeferReason::TicketOpen });
        }
        Some(reason) => return Ok(Sent::Stopped(reason)),
        None => {}
    }
    // One Query of the customer's records, for programs that limit their mails per window.
    let limited = crate::programs::program(&request.program).is_some_and(|p| p.limit.at_most.is_some());
    if limited && limit_reached(request, &m.store.records(&request.shop, &profile.id).await?, now) {
        return Ok(Sent::Stopped("the program's limit of mails in its window is reached"));
    }
    let settings = &shop.programs.abandoned_checkout;
    let exempt =
        request.program == crate::programs::checkout::PROGRAM && request.step <= settings.reminders_without_consent;
    let mut policy = shop.programs.sending.policy();
    if request.campaign.is_some() {
        // The marketer chose the time: no quiet hours (see `Gate::Defer` below for the cap).
        policy.quiet_until = policy.quiet_from;
    }
    match gate(request.kind, &profile, exempt, zone_of(&profile, shop.time_zone.as_deref()), &policy, now) {
        Gate::Send => {}
        Gate::Skip(reason) => return Ok(Sent::Skipped(reason)),
        // A campaign is one send to many: a capped member is skipped, not re-sent later.
        Gate::Defer { .. } if request.campaign.is_some() => return Ok(Sent::Skipped(SkipReason::FrequencyCap)),
        Gate::Defer { until, reason } => {
            defer(m, request, &profile.id, until).await?;
            return Ok(Sent::Deferred { until, reason });
        }
    }
    if request.kind == MailKind::Marketing && shop.mail.is_none() {
        return Ok(Sent::Stopped("the shop has no mail settings: no marketing mail"));
    }
    let order = match &request.order {
        Some(id) => match load(m, request, &profile, RecordKey::Order(id.clone())).await? {
            Some(Record::Order(order)) => Some(order),
            _ => None,
        },
        None => None,
    };
    let mail = compose(m, shop, request, template, &profile, checkout.as_ref(), order.as_ref(), now)?;

    let claim = MessageRecord {
        key: request.message_key.clone(),
        program: Some(request.program.clone()),
        template: Some(request.template.clone()),
        step: Some(request.step),
        kind: Some(request.kind),
        subject: Some(mail.subject.as_str().to_owned()),
        claimed_at: Some(now),
        attempt: Some(m.attempt.to_owned()),
        ..MessageRecord::default()
    };
    // A transactional mail an earlier attempt left claimed is taken over (at least once).
    let expected = taken.unwrap_or(Version::NEW);
    match m.store.save_record(&request.shop, &profile.id, &Record::Message(claim.clone()), expected).await {
        Ok(_) => {}
        Err(StoreError::Conflict { .. }) if ours(m, request, &profile).await? => {}
        // Another attempt got there between our read and this claim.
        Err(StoreError::Conflict { .. }) => return Ok(Sent::Claimed),
        Err(other) => return Err(other.into()),
    }
    let sent = match m.mailer.send(&mail).await {
        Ok(sent) => sent,
        Err(MailerError::Unknown(source)) if request.kind == MailKind::Marketing => {
            let error = crate::failure::chain(source.as_ref());
            tracing::warn!(shop = %request.shop, key = %request.message_key, %error, "SES's answer was lost; a marketing mail is not resent");
            return unconfirmed(m, request, &profile, claim, now).await;
        }
        Err(error) => {
            // Not sent (or, for a transactional mail, maybe sent): give the claim back so
            // the retry sends.
            retried(|| m.store.delete_record(&request.shop, &profile.id, &key)).await?;
            return Err(error.into());
        }
    };
    let record = MessageRecord { sent_at: Some(now), provider_id: Some(sent.message_id.clone()), ..claim };
    let last_chance = request.program == crate::programs::reactivation::PROGRAM
        && crate::programs::program(crate::programs::reactivation::PROGRAM)
            .is_some_and(|p| p.is_last_mail(request.step));
    let sent_record = SentRecord { message: record, kind: request.kind, at: now, last_chance };
    // Sent: the record is what keeps it from being sent again, so its write is retried here
    // before the invocation gives up (a retry of the whole request finds the claim unrecorded).
    if let Err(error) =
        retried(|| apply_sent_mail(m.store, m.publisher, &request.shop, &profile.id, sent_record.clone())).await
    {
        tracing::error!(shop = %request.shop, key = %request.message_key, message_id = %sent.message_id, "mail sent but not recorded");
        return Err(error.into());
    }
    tracing::info!(
        shop = %request.shop,
        profile = %profile.id,
        program = %request.program,
        step = request.step,
        message_id = %sent.message_id,
        "mail sent"
    );
    Ok(Sent::Sent { provider_id: sent.message_id })
}

/// How many times send-mail writes what follows a send before giving up (each write has
/// the SDK's own retries inside).
const WRITE_ATTEMPTS: usize = 3;

/// `write`, again while it fails transiently, up to [`WRITE_ATTEMPTS`] times.
async fn retried<T, E: Classify, F: std::future::Future<Output = Result<T, E>>>(
    mut write: impl FnMut() -> F,
) -> Result<T, E> {
    let mut attempt = 1;
    loop {
        match write().await {
            Err(error) if error.retry() == Retry::Transient && attempt < WRITE_ATTEMPTS => attempt += 1,
            done => return done,
        }
    }
}

/// Whether the claim a conditional create found is this attempt's own (the create was
/// applied and its answer lost; the SDK's retry then found the item).
async fn ours(m: &Mailing<'_>, request: &MailRequest, profile: &Profile) -> Result<bool, StoreError> {
    let key = RecordKey::Message(request.message_key.clone());
    Ok(match m.store.load_record(&request.shop, &profile.id, &key).await?.map(|v| v.value) {
        Some(Record::Message(message)) => message.sent_at.is_none() && message.attempt.as_deref() == Some(m.attempt),
        _ => false,
    })
}

/// Marks a marketing mail that may have gone as unconfirmed: it is not sent again.
async fn unconfirmed(
    m: &Mailing<'_>,
    request: &MailRequest,
    profile: &Profile,
    message: MessageRecord,
    now: DateTime<Utc>,
) -> Result<Sent, SendError> {
    let marked = Record::Message(MessageRecord { unconfirmed_at: Some(now), ..message });
    let key = marked.key();
    retried(|| async {
        let version = m.store.load_record(&request.shop, &profile.id, &key).await?.map_or(Version::NEW, |v| v.version);
        m.store.save_record(&request.shop, &profile.id, &marked, version).await
    })
    .await?;
    Ok(Sent::Unconfirmed)
}

/// Brings the request back through the timer at `until`. The schedule is filed under the
/// recipient first, so their erasure finds it.
async fn defer(
    m: &Mailing<'_>,
    request: &MailRequest,
    recipient: &crate::ids::ProfileId,
    until: DateTime<Utc>,
) -> Result<(), SendError> {
    let deferred = DeferredMail { deferred: request.clone(), until: Some(until) };
    let payload = serde_json::to_value(&deferred).map_err(SendError::Encode)?;
    let name = deferred.schedule_name();
    super::schedules::remember_schedule(m.store, &request.shop, Some(recipient), &[], &name, until).await?;
    m.scheduler.upsert(&OneTimeSchedule { name, at: until, payload }).await?;
    Ok(())
}

/// The profile the request is for: the one named, else the owner of the first known key of
/// the triggering event or its order.
async fn recipient(m: &Mailing<'_>, request: &MailRequest) -> Result<Option<Profile>, StoreError> {
    let mut keys = IdentityKey::all(&request.identity);
    keys.extend(request.order.clone().map(IdentityKey::Order));
    find_profile(m.store, &request.shop, request.profile.as_ref(), &keys).await
}

async fn load(
    m: &Mailing<'_>,
    request: &MailRequest,
    profile: &Profile,
    key: RecordKey,
) -> Result<Option<Record>, SendError> {
    Ok(m.store.load_record(&request.shop, &profile.id, &key).await?.map(|v| v.value))
}

fn line(item: &LineItem) -> MailLine {
    MailLine {
        title: item.title.clone(),
        variant_title: item.variant_title.clone(),
        quantity: item.quantity,
        unit_price: item.unit_price,
        image_url: item.image_url.clone(),
        url: None,
    }
}

/// The mail, rendered and addressed.
#[allow(clippy::too_many_arguments)]
fn compose(
    m: &Mailing<'_>,
    shop: &ShopConfig,
    request: &MailRequest,
    template: TemplateId,
    profile: &Profile,
    checkout: Option<&CheckoutRecord>,
    order: Option<&OrderRecord>,
    now: DateTime<Utc>,
) -> Result<OutgoingMail, SendError> {
    let settings = shop.mail.as_ref();
    let site = settings.map(|s| s.site_url.clone()).unwrap_or_default();
    let order_lines: Vec<LineItem> = order.and_then(|o| o.lines.as_ref()).map(|l| l.value.clone()).unwrap_or_default();
    let lines = match (checkout, order) {
        (Some(checkout), _) => checkout.lines.as_ref().map(|l| l.value.iter().map(line).collect()).unwrap_or_default(),
        (None, Some(_)) => order_lines.iter().map(line).collect(),
        (None, None) => Vec::new(),
    };
    let tracking = order.and_then(|o| {
        o.fulfillments.values().find(|f| !f.tracking_numbers.is_empty() || !f.tracking_urls.is_empty()).map(|f| {
            Tracking {
                company: f.tracking_company.clone(),
                number: f.tracking_numbers.iter().next().cloned(),
                url: f.tracking_urls.iter().next().cloned(),
            }
        })
    });
    let recommendations = if template == TemplateId::OrderConfirmation {
        shop.programs
            .cross_sell_for(&order_lines, 3)
            .into_iter()
            .map(|p| MailLine {
                title: p.title.clone(),
                variant_title: None,
                quantity: 1,
                unit_price: p.price,
                image_url: p.image_url.clone(),
                url: Some(p.url.clone()),
            })
            .collect()
    } else {
        // What the program found for this mail (the products a customer viewed), priced ones
        // only: the block shows a price per product.
        request
            .products
            .iter()
            .filter_map(|p| {
                Some(MailLine {
                    title: p.title.clone(),
                    variant_title: None,
                    quantity: 1,
                    unit_price: p.price?,
                    image_url: p.image_url.clone(),
                    url: p.url.clone(),
                })
            })
            .collect()
    };
    let unsubscribe = match (request.kind, settings.and_then(|s| s.signing_secret())) {
        (MailKind::Marketing, Some(secret)) => {
            let token = UnsubscribeToken { shop: request.shop.clone(), profile: profile.id.clone(), issued_at: now };
            Some(unsubscribe_url(m.public_url, &token.sign(secret)))
        }
        _ => None,
    };
    let content = MailContent {
        shop_name: settings.map_or_else(|| shop.id.to_string(), |s| s.name.clone()),
        shop_url: site.clone(),
        first_name: profile.contact.first_name.as_ref().map(|n| n.value.clone()),
        lines,
        subtotal: order.and_then(|o| o.subtotal).map(|t| t.amount),
        total: checkout
            .and_then(|c| c.total.as_ref().map(|t| t.value))
            .or_else(|| order.and_then(|o| o.total).map(|t| t.amount)),
        action_url: checkout.and_then(|c| c.recovery_url.as_ref().map(|u| u.value.clone())).or(Some(site)),
        discount_code: request.discount_code.clone(),
        step: request.step,
        order_name: order.and_then(|o| o.name.as_ref().map(|n| n.value.clone())),
        tracking,
        recommendations,
        unsubscribe_url: unsubscribe.clone(),
        utm: Utm {
            campaign: Some(request.campaign.clone().unwrap_or_else(|| request.program.clone())),
            ..Utm::default()
        },
    };
    let language =
        Language::negotiate(profile.contact.locale.as_ref().map(|l| l.value.as_str()), shop.locale.as_deref());
    let rendered = render(template, language, &content)?;
    let headers = match &unsubscribe {
        Some(url) => MailHeader::one_click_unsubscribe(url)?.to_vec(),
        None => Vec::new(),
    };
    let to = profile.email().cloned().ok_or(SendError::NotFiledYet)?;
    Ok(OutgoingMail {
        to,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        headers,
        kind: request.kind,
        tags: Some(MailTags {
            shop: request.shop.clone(),
            profile: profile.id.clone(),
            message: request.message_key.clone(),
        }),
        from: settings.map(|s| Mailbox::parse(&s.from)).transpose()?,
        reply_to: settings.and_then(|s| s.reply_to.as_ref()).map(Mailbox::parse).transpose()?,
    })
}

/// Every port send-mail uses, in memory, for the tests of send-mail and of campaigns.
#[cfg(test)]
pub(crate) struct Fakes<M> {
    pub store: crate::ports::MemoryProfileStore,
    pub publisher: crate::ports::RecordingPublisher,
    pub mailer: M,
    pub scheduler: crate::ports::MemoryScheduler,
    pub shops: Shops,
}

#[cfg(test)]
impl<M: Mailer> Fakes<M> {
    pub fn new(mailer: M, shops: Shops) -> Self {
        Self { store: Default::default(), publisher: Default::default(), mailer, scheduler: Default::default(), shops }
    }

    pub fn mailing(&self) -> Mailing<'_> {
        Mailing {
            store: &self.store,
            publisher: &self.publisher,
            mailer: &self.mailer,
            scheduler: &self.scheduler,
            shops: &self.shops,
            public_url: "https://hooks.demo.example/",
            attempt: "attempt-1",
        }
    }
}

#[cfg(test)]
mod tests;
