//! WooCommerce's REST API v3 of one store: webhooks listed in pages (`X-WP-TotalPages`),
//! created and updated, secrets kept and never shown; 401 for any key but the store's.

use super::{Answer, Call, Served, fixture, serve};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One webhook as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub id: i64,
    pub name: String,
    pub topic: String,
    pub delivery_url: String,
    pub status: String,
    pub secret: String,
}

#[derive(Debug, Default)]
pub struct State {
    pub hooks: Vec<Hook>,
    /// Answer this many coming calls 429 with `Retry-After: 1`.
    pub throttle_next: u32,
    /// Webhooks per page at most (the client asks for 100).
    pub page_size: usize,
    /// Every call as `METHOD path?page`.
    pub calls: Vec<String>,
    /// What `GET /customers` and `GET /orders` list, by list.
    pub lists: std::collections::BTreeMap<String, Vec<Value>>,
}

pub struct WooRestServer {
    pub served: Served,
    pub state: Arc<Mutex<State>>,
}

impl WooRestServer {
    /// A store accepting only the key `key:secret`, holding `hooks`.
    pub async fn start(key: &str, secret: &str, hooks: Vec<Hook>) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State { hooks, page_size: 100, ..State::default() }));
        let credentials = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{key}:{secret}"))
        );
        let shared = state.clone();
        let served = serve(Arc::new(move |call| handle(&shared, &credentials, call))).await?;
        Ok(Self { served, state })
    }

    /// The store's site URL.
    pub fn site(&self) -> String {
        self.served.url.clone()
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.state.lock().unwrap().hooks.clone()
    }
}

/// The answer for a webhook: the documentation's example object with this one's fields.
fn shown(hook: &Hook) -> Value {
    let mut object = fixture("woocommerce-rest/webhook.json");
    let (resource, event) = hook.topic.split_once('.').unwrap_or((&hook.topic, ""));
    object["id"] = json!(hook.id);
    object["name"] = json!(hook.name);
    object["status"] = json!(hook.status);
    object["topic"] = json!(hook.topic);
    object["resource"] = json!(resource);
    object["event"] = json!(event);
    object["delivery_url"] = json!(hook.delivery_url);
    object
}

/// One page of a list, as `page` and `per_page` (at most 100, and the server's page size)
/// ask, with the totals in `X-WP-Total` and `X-WP-TotalPages`.
fn page(call: &Call, page_size: usize, objects: &[Value]) -> Answer {
    let per_page =
        call.query("per_page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(10).clamp(1, 100).min(page_size.max(1));
    let page = call.query("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let pages = objects.len().div_ceil(per_page).max(1);
    let listed: Vec<Value> = objects.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    Answer::json(200, &Value::Array(listed))
        .with_header("x-wp-total", objects.len())
        .with_header("x-wp-totalpages", pages)
}

fn handle(state: &Mutex<State>, credentials: &str, call: Call) -> Answer {
    let list = Some(call.path.as_str())
        .filter(|_| call.method == "GET")
        .and_then(|p| p.strip_prefix("/wp-json/wc/v3/"))
        .filter(|l| ["customers", "orders"].contains(l));
    let webhooks = call.path.strip_prefix("/wp-json/wc/v3/webhooks");
    if list.is_none() && webhooks.is_none() {
        return Answer::json(
            404,
            &json!({ "code": "rest_no_route", "message": "No route was found matching the URL and request method.", "data": { "status": 404 } }),
        );
    }
    if call.header("authorization") != Some(credentials) {
        return Answer::json(401, &fixture("woocommerce-rest/unauthorized.json"));
    }
    let mut state = state.lock().unwrap();
    state.calls.push(format!(
        "{} {}{}",
        call.method,
        call.path,
        call.query("page").map(|p| format!("?page={p}")).unwrap_or_default()
    ));
    if state.throttle_next > 0 {
        state.throttle_next -= 1;
        return Answer::json(
            429,
            &json!({ "code": "too_many_requests", "message": "Too many requests", "data": { "status": 429 } }),
        )
        .with_header("retry-after", 1);
    }
    if let Some(list) = list {
        let objects = state.lists.get(list).cloned().unwrap_or_default();
        return page(&call, state.page_size, &objects);
    }
    let rest = webhooks.unwrap_or_default();
    let body = call.json();
    let field = |name: &str| body[name].as_str().map(str::to_owned);
    match (call.method.as_str(), rest.trim_start_matches('/')) {
        ("GET", "") => {
            let per_page = call
                .query("per_page")
                .and_then(|p| p.parse::<usize>().ok())
                .unwrap_or(10)
                .min(100)
                .min(state.page_size);
            let page = call.query("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
            let total = state.hooks.len();
            let pages = total.div_ceil(per_page).max(1);
            let listed: Vec<Value> = state.hooks.iter().skip((page - 1) * per_page).take(per_page).map(shown).collect();
            Answer::json(200, &Value::Array(listed))
                .with_header("x-wp-total", total)
                .with_header("x-wp-totalpages", pages)
        }
        ("POST", "") => {
            let (Some(topic), Some(delivery_url)) = (field("topic"), field("delivery_url")) else {
                return Answer::json(
                    400,
                    &json!({ "code": "rest_missing_callback_param", "message": "Missing parameter(s): topic, delivery_url", "data": { "status": 400 } }),
                );
            };
            let id = state.hooks.iter().map(|h| h.id).max().unwrap_or(100) + 1;
            let hook = Hook {
                id,
                name: field("name").unwrap_or_else(|| format!("Webhook created on {}", "today")),
                topic,
                delivery_url,
                status: field("status").unwrap_or_else(|| "active".into()),
                secret: field("secret").unwrap_or_default(),
            };
            state.hooks.push(hook.clone());
            Answer::json(201, &shown(&hook))
        }
        ("PUT", id) => {
            let Some(hook) = id.parse::<i64>().ok().and_then(|id| state.hooks.iter_mut().find(|h| h.id == id)) else {
                return Answer::json(
                    404,
                    &json!({ "code": "woocommerce_rest_webhook_invalid_id", "message": "Invalid ID.", "data": { "status": 404 } }),
                );
            };
            for (name, slot) in [
                ("name", &mut hook.name),
                ("topic", &mut hook.topic),
                ("delivery_url", &mut hook.delivery_url),
                ("status", &mut hook.status),
                ("secret", &mut hook.secret),
            ] {
                if let Some(value) = body[name].as_str() {
                    *slot = value.to_owned();
                }
            }
            let hook = hook.clone();
            Answer::json(200, &shown(&hook))
        }
        _ => Answer::json(
            404,
            &json!({ "code": "rest_no_route", "message": "No route was found matching the URL and request method.", "data": { "status": 404 } }),
        ),
    }
}
