//! webhook-ingest: the public HTTPS endpoint (Lambda function URL) shops deliver to.

use lambda_http::{Body, Request, Response, http::Method, http::StatusCode};

/// Answers a request. Only the health route exists in this build; the platform routes
/// (`/webhooks/shopify`, `/webhooks/woocommerce`, `/v1/events`, `/v1/track`) are added with
/// the ingest issue. Unknown paths get 404 so a misconfigured webhook fails visibly at the
/// platform instead of being acknowledged and lost.
pub async fn handle(request: Request) -> Response<Body> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/health") => json(StatusCode::OK, serde_json::json!({ "status": "ok" })),
        (_, "/health") => json(StatusCode::METHOD_NOT_ALLOWED, serde_json::json!({ "error": "method not allowed" })),
        _ => json(StatusCode::NOT_FOUND, serde_json::json!({ "error": "no such route" })),
    }
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", lambda_http::http::HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, path: &str) -> Request {
        let mut request = Request::new(Body::Empty);
        *request.method_mut() = method;
        *request.uri_mut() = path.parse().unwrap();
        request
    }

    #[tokio::test]
    async fn health_answers_and_unknown_routes_are_refused() {
        assert_eq!(handle(request(Method::GET, "/health")).await.status(), StatusCode::OK);
        assert_eq!(handle(request(Method::POST, "/health")).await.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(handle(request(Method::POST, "/webhooks/unknown")).await.status(), StatusCode::NOT_FOUND);
    }
}
