//! What templates actually receive: [`MailContent`] cleaned and formatted for one language.
//!
//! Templates stay logic-free and cannot get formatting wrong: amounts arrive as strings in
//! the mail's language, user text on one line and without control characters, URLs checked
//! (a refused URL is absent, so its button or link is not drawn at all), blank optional
//! values as none. The `utm` and `link` filters check URLs again when printing.

use super::catalogue::Strings;
use super::format::format_money;
use super::links::{host, http_url};
use super::text::one_line;
use super::{Language, MailContent, MailLine, TemplateId, Tracking};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub(crate) struct View<'a> {
    pub lang: &'static str,
    pub template: &'static str,
    pub step: u32,
    pub subject: &'a str,
    pub preheader: &'a str,
    pub copy: &'a Strings,
    pub shop_name: String,
    pub shop_url: Option<&'a str>,
    pub shop_host: Option<&'a str>,
    pub first_name: Option<String>,
    pub order_name: Option<String>,
    pub action_url: Option<&'a str>,
    pub discount_code: Option<String>,
    pub lines: Vec<LineView<'a>>,
    pub subtotal: Option<String>,
    pub total: Option<String>,
    pub tracking: Option<TrackingView<'a>>,
    pub recommendations: Vec<LineView<'a>>,
    pub unsubscribe_url: Option<&'a str>,
    pub utm: UtmView,
}

#[derive(Debug, Serialize)]
pub(crate) struct LineView<'a> {
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: u32,
    pub unit_price: String,
    /// Unit price × quantity; none if that overflows.
    pub line_total: Option<String>,
    pub image_url: Option<&'a str>,
    pub url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TrackingView<'a> {
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UtmView {
    pub source: String,
    pub medium: String,
    pub campaign: String,
    pub content: String,
}

/// The user texts that catalogue placeholders and the view share, cleaned once.
#[derive(Debug)]
pub(crate) struct Names {
    pub shop_name: String,
    pub first_name: Option<String>,
    pub order_name: Option<String>,
    pub discount_code: Option<String>,
}

impl Names {
    pub fn of(content: &MailContent) -> Names {
        Names {
            shop_name: one_line(&content.shop_name),
            first_name: text(content.first_name.as_deref()),
            order_name: text(content.order_name.as_deref()),
            discount_code: text(content.discount_code.as_deref()),
        }
    }
}

/// One clean line, or none when nothing printable is left.
fn text(raw: Option<&str>) -> Option<String> {
    raw.map(one_line).filter(|text| !text.is_empty())
}

fn url(raw: Option<&str>) -> Option<&str> {
    raw.and_then(http_url)
}

fn line<'a>(line: &'a MailLine, language: Language) -> LineView<'a> {
    let total = line.unit_price.minor().checked_mul(i64::from(line.quantity));
    LineView {
        title: one_line(&line.title),
        variant_title: text(line.variant_title.as_deref()),
        quantity: line.quantity,
        unit_price: format_money(line.unit_price, language),
        line_total: total
            .map(|minor| format_money(crate::money::Money::from_minor(minor, line.unit_price.currency()), language)),
        image_url: url(line.image_url.as_deref()),
        url: url(line.url.as_deref()),
    }
}

fn tracking(tracking: &Tracking) -> Option<TrackingView<'_>> {
    let view = TrackingView {
        company: text(tracking.company.as_deref()),
        number: text(tracking.number.as_deref()),
        url: url(tracking.url.as_deref()),
    };
    (view.company.is_some() || view.number.is_some() || view.url.is_some()).then_some(view)
}

/// The parts of a render that are not read from [`MailContent`].
pub(crate) struct Frame<'a> {
    pub template: TemplateId,
    pub language: Language,
    pub subject: &'a str,
    pub preheader: &'a str,
    pub copy: &'a Strings,
}

impl<'a> View<'a> {
    pub fn new(frame: Frame<'a>, names: Names, content: &'a MailContent) -> View<'a> {
        let Frame { template, language, subject, preheader, copy } = frame;
        let step = content.step.max(1);
        let shop_url = http_url(&content.shop_url);
        let utm = &content.utm;
        View {
            lang: language.code(),
            template: template.as_str(),
            step,
            subject,
            preheader,
            copy,
            shop_name: names.shop_name,
            shop_url,
            shop_host: shop_url.map(host),
            first_name: names.first_name,
            order_name: names.order_name,
            action_url: url(content.action_url.as_deref()),
            discount_code: names.discount_code,
            lines: content.lines.iter().map(|l| line(l, language)).collect(),
            subtotal: content.subtotal.map(|amount| format_money(amount, language)),
            total: content.total.map(|amount| format_money(amount, language)),
            tracking: content.tracking.as_ref().and_then(tracking),
            recommendations: content.recommendations.iter().map(|l| line(l, language)).collect(),
            unsubscribe_url: url(content.unsubscribe_url.as_deref()),
            utm: UtmView {
                source: utm.source.clone(),
                medium: utm.medium.clone(),
                campaign: utm.campaign.clone().unwrap_or_else(|| template.as_str().to_owned()),
                content: utm.content.clone().unwrap_or_else(|| format!("{template}-{step}")),
            },
        }
    }
}
