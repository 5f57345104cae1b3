//! Mail rendering: a [`TemplateId`], a [`Language`] and the [`MailContent`] in, subject,
//! preheader, HTML and plain text out.
//!
//! Pure on purpose: no I/O, clock or environment at render time, so send-mail's handler,
//! previews and tests all get the same bytes for the same input. Templates and copy are
//! compiled into the binary (`shared/templates/`, embedded with `include_str!`) and parsed
//! once per process; a Lambda pays that on its first mail, not on each.
//!
//! HTML is written in MJML, which turns one simple markup into the table-based, responsive
//! HTML mail clients need, and rendered by `mrml` (a Rust port, no Node). Templates are
//! Jinja (`minijinja`) around that markup; the MJML is re-parsed on every render because
//! the values sit inside it, which costs a fraction of a millisecond (BENCHMARKS.md).
//! Every value printed in `.mjml` is HTML-escaped by the engine, so escaping is not
//! something a template author can forget; links go through the `utm` and `link` filters
//! (`links.rs`), which print nothing but http(s) URLs.
//!
//! Words live in per-language catalogues (`catalogue.rs`), layout in templates: each mail has
//! `<id>.mjml` and `text/<id>.txt` extending one layout per format, sharing macros.
//!
//! [`MailContent`] is what a template may show, already chosen by the caller (which lines,
//! which link, whether the mail is marketing: an `unsubscribe_url` makes it so in the
//! footer). The renderer cleans what it prints: user text on one line, amounts formatted per
//! language, links checked.

mod catalogue;
mod engine;
mod format;
mod id;
mod language;
mod links;
#[cfg(test)]
mod tests;
mod text;
mod view;

pub use catalogue::SetupError;
pub use format::format_money;
pub use id::{TemplateId, UnknownTemplate};
pub use language::Language;

use crate::mail::{MailError, Subject};
use crate::money::Money;
use serde::{Deserialize, Serialize};

/// Everything a template may show. Pure data: the caller fills what it has, the template
/// shows what is set and what it is about (a tracking block only in `order-shipped`…).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MailContent {
    pub shop_name: String,
    /// The shop's home page, `https://shop.example`: header and footer link.
    pub shop_url: String,
    pub first_name: Option<String>,
    /// The products of the checkout or order.
    pub lines: Vec<MailLine>,
    pub subtotal: Option<Money>,
    pub total: Option<Money>,
    /// The main button: checkout recovery link, review page, order status, product…
    pub action_url: Option<String>,
    pub discount_code: Option<String>,
    /// 1-based step of a series; the abandoned checkout's copy differs per step and shows
    /// the discount code from step 2 on. 0 reads as 1.
    pub step: u32,
    /// The order's display name, `#1001`.
    pub order_name: Option<String>,
    pub tracking: Option<Tracking>,
    /// Cross-sell or affinity products; a block appears when not empty.
    pub recommendations: Vec<MailLine>,
    /// Set for marketing mail: the footer then explains why the mail came and links here.
    /// The same URL belongs in the List-Unsubscribe header
    /// ([`MailHeader::one_click_unsubscribe`](crate::mail::MailHeader::one_click_unsubscribe)).
    pub unsubscribe_url: Option<String>,
    pub utm: Utm,
}

/// A product line: of the checkout or order, or a recommendation (quantity then unused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailLine {
    pub title: String,
    #[serde(default)]
    pub variant_title: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
    #[serde(default)]
    pub image_url: Option<String>,
    /// The product page; gets the UTM parameters.
    #[serde(default)]
    pub url: Option<String>,
}

/// A parcel's tracking, as the fulfillment gave it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Tracking {
    pub company: Option<String>,
    pub number: Option<String>,
    /// The carrier's tracking page; no UTM parameters (it is not the shop's site).
    pub url: Option<String>,
}

/// The UTM parameters appended to every link to the shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Utm {
    /// `relance` by default.
    pub source: String,
    /// `email` by default.
    pub medium: String,
    /// The program id; the template id when unset.
    pub campaign: Option<String>,
    /// Which mail of the campaign; `<template id>-<step>` (`abandoned-checkout-2`) when unset.
    pub content: Option<String>,
}

impl Default for Utm {
    fn default() -> Self {
        Self { source: "relance".to_owned(), medium: "email".to_owned(), campaign: None, content: None }
    }
}

/// A mail ready for [`OutgoingMail`](crate::mail::OutgoingMail) (which adds the recipient,
/// headers and kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: Subject,
    /// The inbox preview line; already in the HTML (hidden), returned for previews and logs.
    pub preheader: String,
    pub html: String,
    pub text: String,
}

/// Why a mail could not be rendered. Every variant but `Subject` is a defect of the
/// embedded templates (the tests render them all); keep the cause chain when logging.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the embedded mail templates could not be loaded")]
    Setup(#[source] &'static SetupError),
    #[error("the {part} template of {template} failed to render")]
    Template {
        template: TemplateId,
        part: &'static str,
        #[source]
        source: minijinja::Error,
    },
    #[error("the MJML of {template} does not parse")]
    MjmlParse {
        template: TemplateId,
        #[source]
        source: mrml::prelude::parser::Error,
    },
    #[error("the MJML of {template} does not render to HTML")]
    MjmlRender {
        template: TemplateId,
        #[source]
        source: mrml::prelude::render::Error,
    },
    #[error("the subject of {template} is not a valid subject")]
    Subject {
        template: TemplateId,
        #[source]
        source: MailError,
    },
}

/// Renders one mail. Deterministic: the same arguments always give the same output.
pub fn render(template: TemplateId, language: Language, content: &MailContent) -> Result<Rendered, RenderError> {
    engine::render(template, language, content).map(|(rendered, _warnings)| rendered)
}

/// The MJML [`render`] turns into the HTML part: to preview or debug a template in MJML
/// tools, and for the bench to time the Jinja and MJML stages apart.
pub fn render_mjml(template: TemplateId, language: Language, content: &MailContent) -> Result<String, RenderError> {
    engine::render_mjml(template, language, content)
}
