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
    #[error("mail provider unavailable")]
    Backend(#[source] BackendError),
}

impl Classify for MailerError {
    fn retry(&self) -> Retry {
        match self {
            MailerError::Throttled(_) | MailerError::Backend(_) => Retry::Transient,
            MailerError::Rejected(_) => Retry::Permanent,
        }
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailerError>;
}
