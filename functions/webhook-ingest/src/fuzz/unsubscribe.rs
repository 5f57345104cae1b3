//! `GET|POST /unsubscribe?t=…`: a real link's token mutated (or left valid), the one-click
//! body form-encoded or multipart, with odd boundaries and fields. A malformed token is a 400,
//! a forged one a 403; a valid one shows the page (GET) or unsubscribes (POST) — and a
//! one-click POST that is answered 200 published exactly one consent change.

use super::{MAIL_SECRET, Route, judge, request, secret};
use chrono::TimeZone;
use lambda_http::http::StatusCode;
use relance::ids::{ProfileId, ShopId};
use relance::testing::fuzz::Verdict;
use relance::testing::mutate::Mutator;
use relance::unsubscribe::UnsubscribeToken;

fn target() -> impl FnMut(&mut Mutator) -> Verdict {
    let route = Route::new();
    let token = UnsubscribeToken {
        shop: ShopId::parse("demo.myshopify.com").expect("an id"),
        profile: ProfileId::parse("e0123456789abcdef0123456789abcdef").expect("an id"),
        issued_at: chrono::Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 0).single().expect("a time"),
    }
    .sign(&secret(MAIL_SECRET));
    move |m| {
        let mut token = if m.rng().u8(..4) == 0 { token.clone() } else { m.text(&token) };
        // Far beyond the token's 1 KiB limit, yet a URI the HTTP layer still carries (64 KB
        // once percent-encoded).
        while token.len() > 4 * 1024 {
            token.pop();
        }
        let query: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let post = m.rng().u8(..3) != 0;
        let (content_type, body) = match m.rng().u8(..4) {
            0 => ("application/x-www-form-urlencoded".to_owned(), m.text("List-Unsubscribe=One-Click").into_bytes()),
            1 => {
                let boundary = m.text("b0undary");
                let part = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--{boundary}--"
                );
                (format!("multipart/form-data; boundary=\"{boundary}\""), m.text(&part).into_bytes())
            }
            _ => ("application/x-www-form-urlencoded".to_owned(), b"List-Unsubscribe=One-Click".to_vec()),
        };
        let headers = [("content-type", content_type), ("accept-language", m.text("fr-FR,fr;q=0.9"))];
        let answer =
            route.send(request(if post { "POST" } else { "GET" }, &format!("/unsubscribe?t={query}"), &headers, body));
        if answer.response.status() != StatusCode::OK {
            return judge(&answer, &[400, 403, 413]);
        }
        match (post, answer.published) {
            (false, 0) | (true, 1) => Verdict::Accepted,
            (post, published) => {
                Verdict::Wrong(format!("200 to a {} with {published} events", if post { "POST" } else { "GET" }))
            }
        }
    }
}

#[test]
fn mutated_unsubscribe_links_unsubscribe_or_are_refused_with_a_reason() {
    super::short().run("unsubscribe route", target());
}

#[test]
#[ignore = "make fuzz: 10,000,000 inputs"]
fn fuzz_unsubscribe_route() {
    super::long().run("unsubscribe route", target());
}
