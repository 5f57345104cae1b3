//! Escaping for HTML text and quoted attribute values: the one function every HTML Relance
//! writes by hand goes through (mail links, the unsubscribe pages), so none forgets a
//! character.

/// `&`, `<`, `>`, `"` and `'` as entities; everything else as is.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_quotes_become_entities() {
        assert_eq!(
            super::escape(r#"<a href="x" onclick='y'>&é"#),
            "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;é"
        );
    }
}
