//! Links in mail: only absolute http(s) URLs are ever written, and shop links carry UTM
//! parameters so the shop's analytics credit the visit to the mail.
//!
//! Both are template filters (`utm`, `link`) rather than values computed beforehand, so a
//! template cannot print a URL without deciding which treatment it gets, and the same
//! filter serves HTML and text. Filtering at print time is also the last line against a
//! `javascript:` or `data:` URL from a shop payload: whatever reached the view, the filter
//! prints nothing for it.
//!
//! UTM parameters are appended to the existing query rather than parsed and re-encoded:
//! recovery links carry signed tokens, and re-encoding `+` or `%2B` differently would break
//! them. Only earlier `utm_*` pairs are dropped, so a link never carries two sources.
//!
//! In HTML the filters escape the URL themselves and mark it safe: minijinja's escaper would
//! also turn every `/` into `&#x2f;`, valid but unreadable and mangled by some link checkers.

use minijinja::value::Value;
use minijinja::{AutoEscape, Error, ErrorKind, State};

/// The URL itself when it is an absolute `http` or `https` URL with a host and without
/// whitespace or control characters, else `None`.
pub(crate) fn http_url(raw: &str) -> Option<&str> {
    let url = raw.trim();
    let scheme_len = if starts_with_ignore_case(url, "https://") {
        8
    } else if starts_with_ignore_case(url, "http://") {
        7
    } else {
        return None;
    };
    let host = url[scheme_len..].split(['/', '?', '#']).next().unwrap_or_default();
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    (clean && !host.is_empty()).then_some(url)
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The host of an http(s) URL, to print a shop's address without its scheme.
pub(crate) fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// `url` with `params` appended to its query, before any fragment; earlier `utm_*` pairs go.
/// A bare origin gets its `/` path (`https://s.example/?utm_…`), as browsers would write it.
pub(crate) fn append_utm(url: &str, params: &[(&str, &str)]) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let (path, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
    let mut out = String::with_capacity(url.len() + 96);
    out.push_str(path);
    let after_scheme = path.split_once("://").map_or(path, |(_, rest)| rest);
    if !after_scheme.contains('/') {
        out.push('/');
    }
    out.push('?');
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let key = pair.split('=').next().unwrap_or(pair);
        if !starts_with_ignore_case(key, "utm_") {
            out.push_str(pair);
            out.push('&');
        }
    }
    let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    out.push_str(&encoded);
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// The URL as the template's output format wants it, safe-marked where it escaped it.
fn output(state: &State<'_, '_>, url: String) -> Value {
    match state.auto_escape() {
        AutoEscape::Html => Value::from_safe_string(crate::html::escape(&url)),
        _ => Value::from(url),
    }
}

/// Filter `link`: an http(s) URL as is, anything else (none, `javascript:`…) as nothing.
pub(crate) fn link_filter(state: &State<'_, '_>, url: &Value) -> Value {
    match url.as_str().and_then(http_url) {
        Some(url) => output(state, url.to_owned()),
        None => Value::from(""),
    }
}

/// Filter `utm`: like `link`, with the render's `utm` parameters appended.
pub(crate) fn utm_filter(state: &State<'_, '_>, url: &Value) -> Result<Value, Error> {
    let Some(url) = url.as_str().and_then(http_url) else {
        return Ok(Value::from(""));
    };
    let utm = state.lookup("utm").ok_or_else(|| Error::new(ErrorKind::UndefinedError, "no utm in the context"))?;
    let field = |name: &str| -> Result<String, Error> {
        let value = utm.get_attr(name)?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "utm field not a string"))
    };
    let (source, medium, campaign, content) =
        (field("source")?, field("medium")?, field("campaign")?, field("content")?);
    let params =
        [("utm_source", &*source), ("utm_medium", &medium), ("utm_campaign", &campaign), ("utm_content", &content)];
    Ok(output(state, append_utm(url, &params)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UTM: [(&str, &str); 2] = [("utm_source", "relance"), ("utm_campaign", "cart recovery/1")];

    #[test]
    fn only_absolute_http_urls_pass() {
        assert_eq!(http_url(" https://shop.example/p?a=1 "), Some("https://shop.example/p?a=1"));
        assert_eq!(http_url("HTTP://shop.example"), Some("HTTP://shop.example"));
        for bad in [
            "javascript:alert(1)",
            "JavaScript://shop.example/%0aalert(1)",
            "data:text/html,<script>",
            "//shop.example/p",
            "/cart",
            "https://",
            "https:///path",
            "https://shop.example/a b",
            "https://shop.example/\nx",
            "mailto:a@b.c",
            "",
        ] {
            assert_eq!(http_url(bad), None, "{bad:?} accepted");
        }
    }

    #[test]
    fn utm_parameters_go_before_the_fragment_after_the_query() {
        assert_eq!(
            append_utm("https://s.example/p", &UTM),
            "https://s.example/p?utm_source=relance&utm_campaign=cart+recovery%2F1"
        );
        assert_eq!(
            append_utm("https://s.example/c/tok?key=a%2Bb+c&x#top", &UTM),
            "https://s.example/c/tok?key=a%2Bb+c&x&utm_source=relance&utm_campaign=cart+recovery%2F1#top"
        );
        assert_eq!(append_utm("https://s.example/?#", &UTM[..1]), "https://s.example/?utm_source=relance#");
        assert_eq!(append_utm("https://s.example?a=1#x", &UTM[..1]), "https://s.example/?a=1&utm_source=relance#x");
    }

    #[test]
    fn earlier_utm_pairs_are_replaced_not_repeated() {
        assert_eq!(
            append_utm("https://s.example/?UTM_SOURCE=x&a=1&utm_medium=y", &UTM[..1]),
            "https://s.example/?a=1&utm_source=relance"
        );
    }

    #[test]
    fn hosts_are_what_follows_the_scheme() {
        assert_eq!(host("https://shop.example/fr?a=1"), "shop.example");
        assert_eq!(host("http://shop.example:8080"), "shop.example:8080");
    }

    #[test]
    fn html_escaping_keeps_slashes_readable() {
        assert_eq!(
            crate::html::escape("https://s.example/?a=1&b=\"<'>"),
            "https://s.example/?a=1&amp;b=&quot;&lt;&#x27;&gt;"
        );
    }
}
