//! The compiled templates and the render pipeline: copy, view, Jinja, MJML, HTML.
//!
//! One `minijinja::Environment` per process, built on first use behind a `OnceLock` from
//! sources embedded at compile time: compiling the templates costs more than rendering one,
//! and a warm Lambda renders many mails. Building it reports an error instead of panicking,
//! though the tests guarantee it succeeds for the shipped templates.
//!
//! Auto-escaping is decided by template name: `.mjml` escapes as HTML, `.txt` not at all.
//! Undefined values are `SemiStrict`: a template may test for a missing value, but printing
//! one (a typo, a key missing from a catalogue) fails the render, and with it the tests.

use super::catalogue::{self, Placeholders, SetupError};
use super::links::{link_filter, utm_filter};
use super::view::{Frame, Names, View};
use super::{Language, MailContent, RenderError, Rendered, TemplateId};
use crate::mail::Subject;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use mrml::prelude::render::RenderOptions;
use std::collections::HashMap;
use std::sync::OnceLock;

/// `(name, source)` of every template: `<name>.mjml` and `text/<name>.txt` for each name.
macro_rules! sources {
    ($($name:literal),* $(,)?) => {
        &[$(
            (concat!($name, ".mjml"), include_str!(concat!("../../templates/", $name, ".mjml"))),
            (concat!("text/", $name, ".txt"), include_str!(concat!("../../templates/text/", $name, ".txt"))),
        )*]
    };
}

const SOURCES: &[(&str, &str)] = sources!(
    "layout",
    "partials",
    "abandoned-checkout",
    "order-confirmation",
    "order-preparing",
    "order-shipped",
    "order-delivered",
    "review-request",
    "welcome",
    "welcome-nudge",
    "satisfaction",
    "affinity",
    "yearly-edition",
    "reactivation",
    "scenario-a",
    "scenario-b",
);

struct Engine {
    env: Environment<'static>,
    mjml: RenderOptions,
}

fn build() -> Result<Engine, SetupError> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build();
    env.set_syntax(syntax.map_err(|source| SetupError::Template { name: "syntax", source })?);
    env.set_auto_escape_callback(|name| if name.ends_with(".mjml") { AutoEscape::Html } else { AutoEscape::None });
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.add_filter("utm", utm_filter);
    env.add_filter("link", link_filter);
    for (name, source) in SOURCES {
        env.add_template(name, source).map_err(|source| SetupError::Template { name, source })?;
    }
    // No web fonts: the layout uses system fonts, and a mail should not call Google.
    let mjml = RenderOptions { disable_comments: true, social_icon_origin: None, fonts: HashMap::new() };
    Ok(Engine { env, mjml })
}

fn engine() -> Result<&'static Engine, &'static SetupError> {
    static ENGINE: OnceLock<Result<Engine, SetupError>> = OnceLock::new();
    ENGINE.get_or_init(build).as_ref()
}

/// A mail's subject, preheader and template context, ready for either format.
struct Prepared {
    engine: &'static Engine,
    subject: Subject,
    preheader: String,
    context: Value,
}

fn prepare(template: TemplateId, language: Language, content: &MailContent) -> Result<Prepared, RenderError> {
    let engine = engine().map_err(RenderError::Setup)?;
    let catalogue = catalogue::get(language).map_err(RenderError::Setup)?;
    let names = Names::of(content);
    let placeholders = Placeholders {
        first_name: names.first_name.as_deref(),
        shop_name: &names.shop_name,
        order_name: names.order_name.as_deref(),
        discount_code: names.discount_code.as_deref(),
    };
    let copy = catalogue.copy(template, content.step, &placeholders);
    let text_of = |key: &str| copy.get(key).map_or("", String::as_str);
    let (subject, preheader) = (text_of("subject"), text_of("preheader"));
    let subject_line = Subject::parse(subject).map_err(|source| RenderError::Subject { template, source })?;
    let frame = Frame { template, language, subject, preheader, copy: &copy };
    let context = Value::from(Serde(View::new(frame, names, content)));
    Ok(Prepared { engine, subject: subject_line, preheader: preheader.to_owned(), context })
}

impl Prepared {
    fn jinja(&self, template: TemplateId, part: &'static str, name: &str) -> Result<String, RenderError> {
        let failed = |source| RenderError::Template { template, part, source };
        self.engine.env.get_template(name).and_then(|t| t.render(self.context.clone())).map_err(failed)
    }
}

/// The MJML source of the HTML part, before mrml turns it into HTML.
pub(crate) fn render_mjml(
    template: TemplateId,
    language: Language,
    content: &MailContent,
) -> Result<String, RenderError> {
    prepare(template, language, content)?.jinja(template, "html", &format!("{template}.mjml"))
}

/// The rendered mail and mrml's parser warnings (the tests require none).
pub(crate) fn render(
    template: TemplateId,
    language: Language,
    content: &MailContent,
) -> Result<(Rendered, usize), RenderError> {
    let prepared = prepare(template, language, content)?;
    let mjml = prepared.jinja(template, "html", &format!("{template}.mjml"))?;
    let text = prepared.jinja(template, "text", &format!("text/{template}.txt"))?;
    let parsed = mrml::parse(&mjml).map_err(|source| RenderError::MjmlParse { template, source })?;
    let html =
        parsed.element.render(&prepared.engine.mjml).map_err(|source| RenderError::MjmlRender { template, source })?;
    let Prepared { subject, preheader, .. } = prepared;
    Ok((Rendered { subject, preheader, html, text: tidy(&text) }, parsed.warnings.len()))
}

/// Trailing spaces go and blank lines collapse to one: templates can then be laid out for
/// the reader of the template, and the mail still reads well.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if std::mem::take(&mut blank) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        if let Err(error) = engine() {
            panic!("{error}: {:?}", std::error::Error::source(error));
        }
    }

    #[test]
    fn tidy_keeps_one_blank_line_between_paragraphs() {
        assert_eq!(tidy("\n\nHello  \n\n\n\nWorld\n  \n"), "Hello\n\nWorld\n");
    }
}
