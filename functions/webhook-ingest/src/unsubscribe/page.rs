//! The two HTML pages of the unsubscribe link, in French or English. Every value printed is
//! escaped (the shop's name comes from configuration, the token from the URL), and the
//! pages load nothing: no script, no image, no font, nothing that could leak the URL.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use relance::shops::MailSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    French,
    English,
}

impl Language {
    /// The reader's preferred language among ours (`Accept-Language`, highest `q` first,
    /// ties in header order), else the shop's `locale`, else English.
    pub fn negotiate(accept_language: Option<&str>, shop_locale: Option<&str>) -> Language {
        let mut best: Option<(f32, Language)> = None;
        for entry in accept_language.unwrap_or_default().split(',') {
            let mut params = entry.split(';');
            let Some(language) = params.next().and_then(Language::of_tag) else { continue };
            let q = params
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, language));
            }
        }
        best.map(|(_, language)| language)
            .or_else(|| shop_locale.and_then(Language::of_tag))
            .unwrap_or(Language::English)
    }

    fn of_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Language::French)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Language::English)
        } else {
            None
        }
    }

    fn code(self) -> &'static str {
        match self {
            Language::French => "fr",
            Language::English => "en",
        }
    }
}

/// The GET answer: what the button does, and the button, which POSTs the RFC 8058 body to
/// this same URL.
pub fn confirmation(language: Language, mail: &MailSettings, token: &str) -> Response<Body> {
    let name = escape(&mail.name);
    let (title, lead, button) = match language {
        Language::French => (
            format!("Se désabonner des e-mails de {name}\u{a0}?"),
            "Vous ne recevrez plus nos e-mails marketing (offres, nouveautés, rappels de panier). \
             Les e-mails liés à vos commandes continueront de vous parvenir.",
            "Me désabonner",
        ),
        Language::English => (
            format!("Unsubscribe from {name} emails?"),
            "You will no longer receive our marketing emails (offers, news, cart reminders). \
             Emails about your orders will still reach you.",
            "Unsubscribe",
        ),
    };
    let action = escape(&format!("?t={}", form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()));
    let main = format!(
        "<h1>{title}</h1>\n<p>{lead}</p>\n<form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"{field}\" value=\"{value}\">\
         <button type=\"submit\">{button}</button></form>",
        field = super::ONE_CLICK_FIELD,
        value = super::ONE_CLICK_VALUE,
    );
    page(language, &title, &main)
}

/// The POST answer: done, and a way back to the shop.
pub fn unsubscribed(language: Language, mail: &MailSettings) -> Response<Body> {
    let name = escape(&mail.name);
    let (title, lead, back) = match language {
        Language::French => (
            "Vous êtes désabonné(e)".to_owned(),
            format!("Vous ne recevrez plus d’e-mails marketing de {name}."),
            format!("Retour sur le site de {name}"),
        ),
        Language::English => (
            "You are unsubscribed".to_owned(),
            format!("You will no longer receive marketing emails from {name}."),
            format!("Back to {name}"),
        ),
    };
    // `Shops::parse` admits only http(s) site URLs; checked again, as it becomes a link.
    let link = if mail.site_url.to_ascii_lowercase().starts_with("http") {
        format!("\n<p><a href=\"{}\">{back}</a></p>", escape(&mail.site_url))
    } else {
        String::new()
    };
    page(language, &title, &format!("<h1>{title}</h1>\n<p>{lead}</p>{link}"))
}

/// `title` and `main` are HTML already escaped by the callers.
fn page(language: Language, title: &str, main: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n{main}\n</main>\n</body>\n</html>\n",
        lang = language.code(),
    );
    let mut response = Response::new(Body::Text(html));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert("content-language", HeaderValue::from_static(language.code()));
    headers.insert("vary", HeaderValue::from_static("Accept-Language"));
    headers.insert("content-security-policy", HeaderValue::from_static(CSP));
    response
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;line-height:1.5;color:#222;max-width:34rem;\
                     margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.6rem 1.4rem;cursor:pointer}";
/// Inline style only; the form may post only back here; no framing (a hidden button).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'";

pub use relance::html::escape;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_language_wins_then_the_shops_then_english() {
        let negotiate = Language::negotiate;
        assert_eq!(negotiate(Some("fr-FR,fr;q=0.9,en-US;q=0.8"), Some("en")), Language::French);
        assert_eq!(negotiate(Some("de-DE, en;q=0.5, fr;q=0.7"), None), Language::French);
        assert_eq!(negotiate(Some("en-GB;q=0.8, fr;q=0"), Some("fr")), Language::English);
        assert_eq!(negotiate(Some("de, *;q=0.5"), Some("fr_FR")), Language::French);
        assert_eq!(negotiate(None, Some("en-CA")), Language::English);
        assert_eq!(negotiate(Some(";;,q=,fr;q=abc"), Some("de")), Language::French);
        assert_eq!(negotiate(Some(""), Some("de")), Language::English);
    }

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(escape(r#"<a href="x" onclick='y'>&"#), "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;");
    }
}
