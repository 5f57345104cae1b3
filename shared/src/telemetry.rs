//! Logging set-up shared by every function: JSON lines that CloudWatch Logs Insights can
//! query, level from `RUST_LOG` (default `info`). Log ids, never personal data or secrets.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // `try_init`: a second call (tests calling handlers repeatedly) is harmless.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        // Lambda adds its own timestamp to each line.
        .without_time()
        .try_init();
}
