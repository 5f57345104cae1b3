//! User text (names, titles) on one line: a subject must stay on one line, and a stray
//! newline or control character in a product title must never turn into a header
//! injection, a broken MJML attribute or an error.

/// Runs of whitespace (newlines, tabs, Unicode spaces) become one space, other control
/// characters go, and the ends are trimmed. No-break spaces are kept as they are: French
/// copy puts them before `:` and `?` on purpose.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}') {
            space |= !out.is_empty();
        } else if !c.is_control() {
            if std::mem::take(&mut space) {
                out.push(' ');
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_collapses_to_one_clean_line() {
        assert_eq!(one_line("  Robe\nd’été\r\n\tbleue  "), "Robe d’été bleue");
        assert_eq!(one_line("a\u{2028}b\u{0}c\u{1b}"), "a bc");
        assert_eq!(one_line("a \u{7} b \u{7}"), "a b");
        assert_eq!(one_line("\n\n"), "");
        assert_eq!(one_line("\u{a0}:\u{202f}?"), "\u{a0}:\u{202f}?");
    }
}
