//! The error answers AWS gives, per protocol, as the SDK parses them: JSON 1.0/1.1
//! services (DynamoDB, EventBridge, SQS, Secrets Manager) name the error in the body's
//! `__type`; REST-JSON services (Scheduler, SES v2) in the `x-amzn-ErrorType` header.
//! Status codes and names from each service's API reference (Common Errors, and the
//! operation's Errors section).

use super::Fault;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use std::sync::atomic::{AtomicU64, Ordering};

/// DynamoDB throttles with two names (a table over its provisioned throughput, or the
/// account's request rate); the proxy alternates them so both are seen.
static DYNAMODB_THROTTLES: AtomicU64 = AtomicU64::new(0);

/// `(status, error name)` of `fault` on `service`; `None` for a bare 503.
fn named(service: &str, fault: Fault) -> Option<(StatusCode, &'static str)> {
    use StatusCode as S;
    Some(match (service, fault) {
        (_, Fault::Unavailable) => return None,
        ("dynamodb", Fault::Throttled) => match DYNAMODB_THROTTLES.fetch_add(1, Ordering::Relaxed) % 2 {
            0 => (S::BAD_REQUEST, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"),
            _ => (S::BAD_REQUEST, "com.amazon.coral.availability#ThrottlingException"),
        },
        ("dynamodb", _) => (S::INTERNAL_SERVER_ERROR, "com.amazonaws.dynamodb.v20120810#InternalServerError"),
        ("events", Fault::Throttled) => (S::BAD_REQUEST, "ThrottlingException"),
        ("events", _) => (S::INTERNAL_SERVER_ERROR, "InternalException"),
        ("scheduler", Fault::Throttled) => (S::TOO_MANY_REQUESTS, "ThrottlingException"),
        ("scheduler", _) => (S::INTERNAL_SERVER_ERROR, "InternalServerException"),
        ("ses", Fault::Throttled) => (S::TOO_MANY_REQUESTS, "TooManyRequestsException"),
        ("ses", _) => (S::INTERNAL_SERVER_ERROR, "InternalFailure"),
        ("secretsmanager", Fault::Throttled) => (S::BAD_REQUEST, "ThrottlingException"),
        ("secretsmanager", _) => (S::INTERNAL_SERVER_ERROR, "InternalServiceError"),
        (_, Fault::Throttled) => (S::BAD_REQUEST, "ThrottlingException"),
        (_, _) => (S::INTERNAL_SERVER_ERROR, "InternalFailure"),
    })
}

fn is_rest_json(service: &str) -> bool {
    matches!(service, "scheduler" | "ses")
}

/// The answer AWS gives for `fault` on `service`'s `operation`.
pub(super) fn error(service: &str, operation: &str, fault: Fault) -> Response<Full<Bytes>> {
    let Some((status, name)) = named(service, fault) else {
        let mut response = Response::new(Full::new(Bytes::from_static(b"Service Unavailable")));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return response;
    };
    let message = format!("injected by the fault proxy ({operation})");
    let (content_type, body) = if is_rest_json(service) {
        ("application/json", serde_json::json!({ "Message": message }))
    } else {
        let version = if service == "dynamodb" || service == "sqs" { "1.0" } else { "1.1" };
        (
            if version == "1.0" { "application/x-amz-json-1.0" } else { "application/x-amz-json-1.1" },
            serde_json::json!({ "__type": name, "message": message }),
        )
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-errortype", name.rsplit('#').next().unwrap_or(name))
        .header("x-amzn-requestid", "00000000-0000-0000-0000-fa0170000000")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a static error answer")
}
