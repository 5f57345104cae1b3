//! Reading a rule's target queue for the messages one test put there, leaving the others.

use serde_json::Value;

pub const HIDE_OTHERS_SECONDS: i32 = 30;

/// Receives until `expected` messages matching `ours` were seen, the queue has no visible
/// message left, or `polls` receives were made. Matching messages are deleted; the others stay hidden for
/// [`HIDE_OTHERS_SECONDS`] so that later receives reach past them (a reused local stack
/// holds earlier runs' messages). Tests reading one queue must not run concurrently.
pub async fn receive_matching(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    ours: impl Fn(&Value) -> bool,
    expected: usize,
    polls: u32,
) -> Result<Vec<Value>, aws_sdk_sqs::Error> {
    let mut found = Vec::new();
    for _ in 0..polls {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(HIDE_OTHERS_SECONDS)
            .send()
            .await?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            // Every message was looked at (the others are hidden): nothing more will come.
            break;
        }
        for message in messages {
            let Ok(body) = serde_json::from_str::<Value>(message.body().unwrap_or_default()) else { continue };
            if ours(&body) {
                if let Some(handle) = message.receipt_handle() {
                    sqs.delete_message().queue_url(queue_url).receipt_handle(handle).send().await?;
                }
                found.push(body);
            }
        }
        if found.len() >= expected {
            break;
        }
    }
    Ok(found)
}
