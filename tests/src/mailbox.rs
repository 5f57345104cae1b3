//! Reading what the SES emulator (aws-ses-v2-local) stored: the mails "sent".

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMail {
    pub message_id: String,
    pub from: String,
    pub destination: Destination,
    pub subject: String,
    pub body: MailBody,
    #[serde(default)]
    pub headers: Option<Vec<StoredHeader>>,
    /// Unix seconds when the emulator received it.
    pub at: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Destination {
    pub to: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailBody {
    pub html: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StoredHeader {
    pub name: String,
    pub value: String,
}

impl StoredMail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.as_deref()?.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }
}

#[derive(Deserialize)]
struct Store {
    emails: Vec<StoredMail>,
}

/// Every mail the emulator holds, oldest first.
pub async fn sent_mails(emulator_url: &str) -> Result<Vec<StoredMail>, reqwest::Error> {
    let url = format!("{}/store", emulator_url.trim_end_matches('/'));
    let store: Store = reqwest::get(url).await?.error_for_status()?.json().await?;
    Ok(store.emails)
}
