//! Handing a rendered mail to the provider.

use super::BackendError;
use crate::failure::{Classify, Retry};
use crate::mail::{OutgoingMail, SentMail};
use async_trait::async_trait;

#[cfg(any(test, feature = "fakes"))]
mod memory;
#[cfg(any(test, feature = "fakes"))]
pub use memory::RecordingMailer;

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// Over the sending rate: retry later (SPECS: Amazon SES).
    #[error("mail provider throttled the send")]
    Throttled(#[source] BackendError),
    /// The provider will not send this mail as it is (unverified sender, paused account…).
    #[error("mail provider rejected the message")]
    Rejected(#[source] BackendError),
    /// The provider answered with an error: the mail was not sent.
    #[error("mail provider unavailable")]
    Backend(#[source] BackendError),
    /// No answer (a timeout, a connection closed after the request went out): the provider
    /// may have sent the mail. Sending again may send it twice; send-mail's policy decides.
    #[error("mail provider's answer was lost: the mail may have been sent")]
    Unknown(#[source] BackendError),
}

impl Classify for MailerError {
    fn retry(&self) -> Retry {
        match self {
            MailerError::Throttled(_) | MailerError::Backend(_) | MailerError::Unknown(_) => Retry::Transient,
            MailerError::Rejected(_) => Retry::Permanent,
        }
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailerError>;
}
