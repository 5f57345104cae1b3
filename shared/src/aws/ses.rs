//! Sending through Amazon SES v2.
//!
//! SPECS: Amazon SES — `SendEmail` with Simple content accepts custom `Headers`, which is
//! where List-Unsubscribe goes; every send names the configuration set so that delivery,
//! bounce, complaint, open and click events flow back to EventBridge. The SDK's standard
//! `SendEmail` has no idempotency token, so the client must not retry a send on its own:
//! an attempt that timed out may have been accepted, and the SDK's retry would mail the
//! customer twice. [`SesMailer::new`] turns the SDK's retries off for this client; an
//! error SES answered is [`MailerError::Throttled`], `Rejected` or `Backend` (not sent,
//! retried by send-mail's caller), and no answer is [`MailerError::Unknown`], which
//! send-mail settles by the mail's kind.

use super::boxed;
use crate::mail::{MailKind, Mailbox, OutgoingMail, SentMail, encode_display_name};
use crate::ports::{Mailer, MailerError};
use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader, MessageTag};

pub struct SesMailer {
    client: Client,
    sender: String,
    configuration_set: String,
}

impl SesMailer {
    /// `client` as configured (endpoint, timeouts), with the SDK's retries turned off.
    pub fn new(client: Client, sender: impl Into<String>, configuration_set: impl Into<String>) -> Self {
        let once = client.config().to_builder().retry_config(aws_sdk_sesv2::config::retry::RetryConfig::disabled());
        Self {
            client: Client::from_conf(once.build()),
            sender: sender.into(),
            configuration_set: configuration_set.into(),
        }
    }
}

fn utf8(text: &str) -> Result<Content, MailerError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailerError::Backend(boxed(e)))
}

fn classify(err: SendEmailError) -> MailerError {
    let throttled = matches!(err, SendEmailError::TooManyRequestsException(_))
        || matches!(err.code(), Some("Throttling" | "ThrottlingException"));
    match err {
        _ if throttled => MailerError::Throttled(boxed(err)),
        SendEmailError::MessageRejected(_)
        | SendEmailError::MailFromDomainNotVerifiedException(_)
        | SendEmailError::AccountSuspendedException(_)
        | SendEmailError::SendingPausedException(_) => MailerError::Rejected(boxed(err)),
        other => MailerError::Backend(boxed(other)),
    }
}

#[async_trait]
impl Mailer for SesMailer {
    #[tracing::instrument(skip_all, fields(kind = ?mail.kind))]
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailerError> {
        let headers = mail
            .headers
            .iter()
            .map(|h| MessageHeader::builder().name(h.name()).value(h.value()).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| MailerError::Backend(boxed(e)))?;
        let message = Message::builder()
            .subject(utf8(mail.subject.as_str())?)
            .body(Body::builder().html(utf8(&mail.html)?).text(utf8(&mail.text)?).build())
            .set_headers(Some(headers))
            .build();
        let kind = match mail.kind {
            MailKind::Marketing => "marketing",
            MailKind::Transactional => "transactional",
        };
        let tag = |name: &str, value: &str| {
            MessageTag::builder().name(name).value(value).build().map_err(|e| MailerError::Backend(boxed(e)))
        };
        let mut tags = vec![tag("kind", kind)?];
        for (name, value) in mail.tags.iter().flat_map(|t| t.to_pairs()) {
            tags.push(tag(name, &value)?);
        }
        let output = self
            .client
            .send_email()
            .from_email_address(
                mail.from.as_ref().map_or_else(|| encode_display_name(&self.sender), Mailbox::to_header),
            )
            .set_reply_to_addresses(mail.reply_to.as_ref().map(|r| vec![r.to_header()]))
            .destination(Destination::builder().to_addresses(mail.to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .configuration_set_name(&self.configuration_set)
            .set_email_tags(Some(tags))
            .send()
            .await
            .map_err(|e| match e {
                SdkError::ServiceError(_) => classify(e.into_service_error()),
                // Never sent: the request could not be built.
                SdkError::ConstructionFailure(_) => MailerError::Backend(boxed(e)),
                // Sent, or maybe sent: no answer came back.
                other => MailerError::Unknown(boxed(other)),
            })?;
        let message_id = output.message_id.unwrap_or_default();
        tracing::info!(message_id, "mail sent");
        Ok(SentMail { message_id })
    }
}
