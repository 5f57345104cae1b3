//! Why a request was refused, and the answer each reason gets. Client errors say what was
//! wrong; nothing echoes a secret or a signature.

use lambda_http::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum Reject {
    #[error("no such route")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The body is within its limit but the event it becomes is not within the bus's (a
    /// WooCommerce order of 20,000 bare lines grows from 512 KB to 1.4 MB): no retry helps.
    #[error("the event this body becomes is {size} bytes, over the bus's limit of {limit} bytes")]
    EventTooLarge { size: usize, limit: usize },
    #[error("missing or invalid signature")]
    Unauthorized,
    #[error("content type must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("too many requests")]
    TooManyRequests,
    /// Something on our side failed; the sender should retry.
    #[error("temporarily unavailable, retry later")]
    Unavailable,
    /// Another request is taking in this very delivery: whether it succeeds is not known
    /// yet, so the sender is asked to come back (a 2xx here would lose the event if that
    /// request then failed).
    #[error("this delivery is being processed by another request; retry later")]
    InFlight,
    /// Our own bug (an event that cannot be encoded): nothing the sender can fix.
    #[error("internal error")]
    Internal,
}

impl Reject {
    pub fn status(&self) -> StatusCode {
        match self {
            Reject::NotFound => StatusCode::NOT_FOUND,
            Reject::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Reject::TooLarge { .. } | Reject::EventTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Reject::Unauthorized => StatusCode::UNAUTHORIZED,
            Reject::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Reject::BadRequest(_) => StatusCode::BAD_REQUEST,
            Reject::Forbidden(_) => StatusCode::FORBIDDEN,
            Reject::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Reject::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Reject::InFlight => StatusCode::CONFLICT,
            Reject::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad_request(reason: impl std::fmt::Display) -> Self {
        Reject::BadRequest(reason.to_string())
    }

    /// A 400 whose reason is the whole cause chain (`reason: cause: cause…`), so the sender
    /// learns precisely which field was wrong.
    pub fn invalid(error: &dyn std::error::Error) -> Self {
        Reject::BadRequest(relance::failure::chain(error))
    }
}
