//! WooCommerce's REST API v3 of one store, for every command that calls it (`connect`,
//! `import --from woocommerce`): authenticated with a REST API key (consumer key and
//! secret, HTTP Basic over HTTPS), lists read in pages of 100 (`X-WP-TotalPages`), a 429
//! or 503 (a host's limiter, a maintenance mode) waited out.

use super::{Patience, PlatformError};
use serde_json::Value;
use std::time::Duration;

const PLATFORM: &str = "WooCommerce";

/// The REST API's root for a store's site URL.
pub fn api_root(site_url: &str) -> String {
    format!("{}/wp-json/wc/v3", site_url.trim_end_matches('/'))
}

pub struct WooRest {
    http: reqwest::Client,
    root: String,
    key: String,
    key_secret: String,
    patience: Patience,
}

impl WooRest {
    /// `root` as [`api_root`] gives it.
    pub fn new(root: String, key: String, key_secret: String) -> Self {
        Self { http: reqwest::Client::new(), root, key, key_secret, patience: Patience::default() }
    }

    pub fn with_patience(mut self, patience: Patience) -> Self {
        self.patience = patience;
        self
    }

    /// A request to `path` under the root (`webhooks`, `orders`).
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}/{path}", self.root))
    }

    /// One call, retried after a 429 or 503; the answer's headers and JSON.
    pub async fn call(
        &self,
        action: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::header::HeaderMap, Value), PlatformError> {
        for _ in 0..self.patience.attempts {
            let attempt =
                request.try_clone().expect("bodies are in memory").basic_auth(&self.key, Some(&self.key_secret));
            let response = attempt.send().await.map_err(|source| PlatformError::Unreachable {
                platform: PLATFORM,
                url: self.root.clone(),
                source,
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap_or_default();
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            match status {
                200..=299 => return Ok((headers, answer)),
                401 | 403 => {
                    return Err(PlatformError::Unauthorized {
                        platform: PLATFORM,
                        detail: answer["message"]
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("HTTP {status}")),
                        what_to_do: "the REST API key is wrong, revoked or read-only: WooCommerce → Settings → Advanced → REST API, a key with Read/Write permission, its consumer key and secret on stdin",
                    });
                }
                429 | 503 => {
                    let seconds = headers
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .unwrap_or(1.0);
                    let wait = seconds.clamp(0.05, self.patience.longest_wait.as_secs_f64());
                    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                }
                400 | 404 | 409 | 422 => {
                    return Err(PlatformError::Rejected {
                        platform: PLATFORM,
                        action: action.to_owned(),
                        reason: answer["message"].as_str().unwrap_or(&text).to_owned(),
                    });
                }
                _ => {
                    return Err(PlatformError::Unexpected {
                        platform: PLATFORM,
                        action: action.to_owned(),
                        status,
                        body: text.chars().take(300).collect(),
                    });
                }
            }
        }
        Err(PlatformError::Throttled { platform: PLATFORM, attempts: self.patience.attempts })
    }

    /// Every object of the list at `path`, page by page (`per_page=100`); `page` hears
    /// each page as it arrives and the number of pages.
    pub async fn list(
        &self,
        path: &str,
        extra: &[(&str, &str)],
        page_read: &mut (dyn FnMut(u32, u32) + Send),
    ) -> Result<Vec<Value>, PlatformError> {
        let mut found = Vec::new();
        let mut page = 1u32;
        loop {
            let request = self
                .request(reqwest::Method::GET, path)
                .query(&[("per_page", "100"), ("page", &page.to_string())])
                .query(extra);
            let (headers, answer) = self.call(&format!("list {path}"), request).await?;
            found.extend(answer.as_array().into_iter().flatten().cloned());
            let pages = headers
                .get("x-wp-totalpages")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(1);
            page_read(page, pages);
            if page >= pages {
                return Ok(found);
            }
            page += 1;
        }
    }
}
