//! A mail provider that keeps what it is given.

use crate::mail::{OutgoingMail, SentMail};
use crate::ports::fake::lock;
use crate::ports::{Mailer, MailerError};
use async_trait::async_trait;
use std::sync::Mutex;

/// Keeps every mail "sent", with a sequential message id.
#[derive(Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<OutgoingMail>>,
}

impl RecordingMailer {
    pub fn sent(&self) -> Vec<OutgoingMail> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailerError> {
        let mut sent = lock(&self.sent);
        sent.push(mail.clone());
        Ok(SentMail { message_id: format!("memory-{}", sent.len()) })
    }
}
