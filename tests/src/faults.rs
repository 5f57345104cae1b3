//! The fault injector: an HTTP proxy between the functions' AWS SDK clients and the local
//! emulators that fails a seeded share of the calls the way AWS does.
//!
//! No emulator injects faults, and a mock of the SDK would not show what the real client
//! does with them (its retries, its timeouts, a conditional write retried after its answer
//! was lost). So the functions keep their real clients and their real endpoints setting
//! (`AWS_ENDPOINT_URL`): only the address changes, to this proxy, which forwards each call
//! to moto or to the SES emulator and, at the seeded rate, answers instead with one of
//! [`Fault`]'s kinds — AWS's own error shapes per protocol (`shapes.rs`), a connection
//! reset before the call reaches the emulator, or the hard case: the call is applied and
//! its answer lost (the client times out).
//!
//! Calls are routed by the service their SigV4 credential scope names; the operation is the
//! JSON protocols' `X-Amz-Target`, or the REST protocols' method and first path segment.
//! Every SES `SendEmail` the emulator accepted is recorded with its Relance tags (shop and
//! message key), so a test counts mails by message key, including mails whose answer the
//! sender never saw. Decisions come from one seeded generator in arrival order: the same
//! run replays the same faults as long as calls arrive in the same order.

mod shapes;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use relance::mail::MailTags;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// One way a call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The service's throttling error (DynamoDB `ProvisionedThroughputExceededException` or
    /// `ThrottlingException`, EventBridge and Scheduler `ThrottlingException`, SES
    /// `TooManyRequestsException`, SQS `RequestThrottled`).
    Throttled,
    /// A 500 with the service's internal error (DynamoDB `InternalServerError`,
    /// EventBridge `InternalException`, Scheduler `InternalServerException`).
    Internal,
    /// A bare 503 Service Unavailable.
    Unavailable,
    /// The connection is closed before the call reaches the service: nothing applied.
    Reset,
    /// The call is applied, then its answer is lost: the client sees a timeout.
    AnswerLost,
}

impl Fault {
    pub const ALL: [Fault; 5] =
        [Fault::Throttled, Fault::Internal, Fault::Unavailable, Fault::Reset, Fault::AnswerLost];
}

/// What the proxy did to one service's calls.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ServiceTally {
    pub calls: u64,
    pub faults: BTreeMap<Fault, u64>,
}

/// A `SendEmail` the SES emulator accepted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AcceptedMail {
    pub shop: String,
    pub message_key: String,
    /// `marketing` or `transactional` (the send's `kind` tag).
    pub kind: String,
    /// The recipient and subject: what a mail is across two shops, whose message keys differ.
    pub to: String,
    pub subject: String,
    /// The sender never saw SES's answer (an [`Fault::AnswerLost`]).
    pub answer_lost: bool,
}

/// Where calls go: moto for every service but SES v2, which goes to its own emulator.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub moto: String,
    pub ses: String,
}

#[derive(Default)]
struct Tally {
    services: BTreeMap<String, ServiceTally>,
    mails: Vec<AcceptedMail>,
}

struct State {
    upstreams: Upstreams,
    http: reqwest::Client,
    rng: Mutex<fastrand::Rng>,
    /// Faulted share of calls, in basis points (1/10,000).
    rate: AtomicU32,
    /// The kinds drawn from.
    kinds: Mutex<Vec<Fault>>,
    /// How long a lost answer is held before the connection is closed: longer than the
    /// clients' attempt timeout, so they see a timeout, not a reset.
    hold: Duration,
    tally: Mutex<Tally>,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    pub url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot start the fault proxy on 127.0.0.1")]
pub struct StartError(#[source] std::io::Error);

impl FaultProxy {
    /// Listens on a free loopback port; no call is faulted until [`FaultProxy::set_rate`].
    pub async fn start(upstreams: Upstreams, seed: u64, hold: Duration) -> Result<Self, StartError> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.map_err(StartError)?;
        let url = format!("http://{}", listener.local_addr().map_err(StartError)?);
        let state = Arc::new(State {
            upstreams,
            http: reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| StartError(std::io::Error::other(e)))?,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            rate: AtomicU32::new(0),
            kinds: Mutex::new(Fault::ALL.to_vec()),
            hold,
            tally: Mutex::default(),
        });
        let serving = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| proxy(state.clone(), request));
                    // A faulted call ends its connection with an error: nothing to report.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(Self { url, state, task })
    }

    /// Faults `percent` % of the calls from now on (0 turns faults off).
    pub fn set_rate(&self, percent: f64) {
        self.state.rate.store((percent * 100.0).round().clamp(0.0, 10_000.0) as u32, Ordering::Relaxed);
    }

    /// Draws faults from `kinds` only (all of [`Fault::ALL`] by default).
    pub fn set_kinds(&self, kinds: &[Fault]) {
        *self.state.kinds.lock().expect("kinds") = kinds.to_vec();
    }

    /// Calls and faults per service so far.
    pub fn services(&self) -> BTreeMap<String, ServiceTally> {
        self.state.tally.lock().expect("tally").services.clone()
    }

    /// Every mail the SES emulator accepted through the proxy, in order.
    pub fn mails(&self) -> Vec<AcceptedMail> {
        self.state.tally.lock().expect("tally").mails.clone()
    }

    /// Forgets the counts (not the generator's position).
    pub fn reset_tally(&self) {
        *self.state.tally.lock().expect("tally") = Tally::default();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The service a SigV4 request is signed for (`Credential=AKID/date/region/service/…`).
fn service_of(request: &Request<Incoming>) -> String {
    request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned()
}

/// The operation: `X-Amz-Target`'s name, or the REST method and first path segment.
fn operation_of(request: &Request<Incoming>) -> String {
    if let Some(target) = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let path = request.uri().path().trim_start_matches('/');
    let segment = path.split('/').find(|s| !s.is_empty() && *s != "v2" && *s != "email").unwrap_or("");
    format!("{} /{segment}", request.method())
}

impl State {
    fn draw(&self) -> Option<Fault> {
        let rate = self.rate.load(Ordering::Relaxed);
        let mut rng = self.rng.lock().expect("rng");
        // Drawn for every call, faulted or not, so the sequence depends on arrival order only.
        let roll = rng.u32(0..10_000);
        let pick = rng.usize(..);
        let kinds = self.kinds.lock().expect("kinds");
        (roll < rate && !kinds.is_empty()).then(|| kinds[pick % kinds.len()])
    }

    fn count(&self, service: &str, fault: Option<Fault>) {
        let mut tally = self.tally.lock().expect("tally");
        let entry = tally.services.entry(service.to_owned()).or_default();
        entry.calls += 1;
        if let Some(fault) = fault {
            *entry.faults.entry(fault).or_default() += 1;
        }
    }

    async fn forward(
        &self,
        service: &str,
        parts: &hyper::http::request::Parts,
        body: Bytes,
    ) -> Result<Response<Full<Bytes>>, reqwest::Error> {
        let base = if service == "ses" { &self.upstreams.ses } else { &self.upstreams.moto };
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut upstream = self.http.request(parts.method.clone(), format!("{}{path}", base.trim_end_matches('/')));
        for (name, value) in &parts.headers {
            if name != "host" && name != "content-length" {
                upstream = upstream.header(name, value);
            }
        }
        let answer = upstream.body(body).send().await?;
        let mut response = Response::builder().status(answer.status());
        for (name, value) in answer.headers() {
            if name != "transfer-encoding" && name != "content-length" && name != "connection" {
                response = response.header(name, value);
            }
        }
        let bytes = answer.bytes().await?;
        Ok(response.body(Full::new(bytes)).expect("a response copied from a valid one"))
    }

    /// Records a `SendEmail` the emulator accepted, by the Relance tags it carries.
    fn record_mail(&self, body: &[u8], answer_lost: bool) {
        let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else { return };
        let tags: BTreeMap<String, Vec<String>> = request["EmailTags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some((t["Name"].as_str()?.to_owned(), vec![t["Value"].as_str()?.to_owned()])))
            .collect();
        if let Some(tags) = MailTags::from_tags(&tags) {
            let kind = tags_kind(&request);
            let to = request["Destination"]["ToAddresses"][0].as_str().unwrap_or_default().to_owned();
            let subject = request["Content"]["Simple"]["Subject"]["Data"].as_str().unwrap_or_default().to_owned();
            let mail =
                AcceptedMail { shop: tags.shop.to_string(), message_key: tags.message, kind, to, subject, answer_lost };
            self.tally.lock().expect("tally").mails.push(mail);
        }
    }
}

fn tags_kind(request: &serde_json::Value) -> String {
    let tags = request["EmailTags"].as_array().into_iter().flatten();
    tags.filter(|t| t["Name"] == "kind").find_map(|t| t["Value"].as_str()).unwrap_or("unknown").to_owned()
}

type Answer = Result<Response<Full<Bytes>>, std::io::Error>;

async fn proxy(state: Arc<State>, request: Request<Incoming>) -> Answer {
    let service = service_of(&request);
    let operation = operation_of(&request);
    let fault = state.draw();
    state.count(&service, fault);
    let (parts, body) = request.into_parts();
    if fault == Some(Fault::Reset) {
        return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fault: reset"));
    }
    if let Some(kind) = fault.filter(|f| *f != Fault::AnswerLost) {
        return Ok(shapes::error(&service, &operation, kind));
    }
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let response = match state.forward(&service, &parts, body.clone()).await {
        Ok(response) => response,
        Err(error) => {
            let mut bad = Response::new(Full::new(Bytes::from(format!("fault proxy: upstream failed: {error}"))));
            *bad.status_mut() = StatusCode::BAD_GATEWAY;
            return Ok(bad);
        }
    };
    let lost = fault == Some(Fault::AnswerLost);
    if service == "ses" && operation.ends_with("/outbound-emails") && response.status().is_success() {
        state.record_mail(&body, lost);
    }
    if lost {
        tokio::time::sleep(state.hold).await;
        return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "fault: answer lost"));
    }
    Ok(response)
}
