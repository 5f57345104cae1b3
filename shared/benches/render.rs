//! send-mail's CPU per mail: `relance::templates::render` timed per template and language.
//!
//! A plain `harness = false` binary like `ingest.rs` (same measuring: warm-up, then every
//! iteration timed on its own with `Instant`, median and p99), printing Markdown for
//! BENCHMARKS.md. Run with `make bench` (`cargo bench -p relance --no-default-features
//! --bench render`); the `bench` profile inherits `release`, so this times what ships.
//!
//! Content is `shared/templates/sample.json` (three order lines, four recommendations,
//! tracking, discount code, unsubscribe link): every block a template can show is filled.
//! The MJML is re-parsed on every render, so the split below shows what that costs.

use relance::templates::{Language, MailContent, TemplateId, render, render_mjml};
mod support;

use std::hint::black_box;
use std::time::Instant;
use support::{measure, print_machine};

const SAMPLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/sample.json"));

fn main() {
    let content: MailContent = serde_json::from_str(SAMPLE).expect("the sample is a MailContent");
    // The first call compiles every template and parses the catalogues: once per Lambda
    // instance, so timed once, before anything else warms up.
    let cold = Instant::now();
    render(TemplateId::AbandonedCheckout, Language::Fr, &content).expect("the sample renders");
    let cold = cold.elapsed();

    print_machine();
    println!(
        "\n| template | language | HTML bytes | text bytes | iterations | median µs | p99 µs | mean µs | mails/s/core |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for template in TemplateId::ALL {
        for language in Language::ALL {
            let mail = render(template, language, &content).expect("the sample renders");
            let stats = measure(|| drop(black_box(render(black_box(template), language, black_box(&content)))));
            println!(
                "| `{template}` | {language} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.0} |",
                mail.html.len(),
                mail.text.len(),
                stats.iterations,
                stats.median,
                stats.p99,
                stats.mean,
                1e6 / stats.mean,
            );
        }
    }

    split(TemplateId::OrderConfirmation, Language::Fr, &content);
    let timer = measure(|| black_box(()));
    println!(
        "\nFirst render in the process (compiles the templates, parses the catalogues): {:.2} ms.",
        cold.as_secs_f64() * 1e3
    );
    println!("Timer overhead (an empty iteration between two `Instant::now()`): median {:.3} µs.", timer.median);
}

/// Where one render's time goes: copy and Jinja, MJML parse, MJML to HTML.
fn split(template: TemplateId, language: Language, content: &MailContent) {
    let mjml = render_mjml(template, language, content).expect("the sample renders");
    // The options `render` uses: no web fonts, no comments.
    let options = mrml::prelude::render::RenderOptions {
        disable_comments: true,
        social_icon_origin: None,
        fonts: std::collections::HashMap::new(),
    };
    let parsed = mrml::parse(&mjml).expect("the MJML parses").element;
    let total = measure(|| drop(black_box(render(template, language, black_box(content)))));
    let jinja = measure(|| drop(black_box(render_mjml(template, language, black_box(content)))));
    let parse = measure(|| drop(black_box(mrml::parse(black_box(&mjml)))));
    let to_html = measure(|| drop(black_box(parsed.render(black_box(&options)))));
    println!("\n`{template}` ({language}, {} bytes of MJML) split:\n", mjml.len());
    println!("| step | median µs | p99 µs | share of median total |");
    println!("|---|---:|---:|---:|");
    for (step, stats) in [
        ("`render` (HTML + text)", &total),
        ("copy + view + Jinja of the MJML (`render_mjml`)", &jinja),
        ("MJML parse (`mrml::parse`)", &parse),
        ("MJML to HTML (`Mjml::render`)", &to_html),
    ] {
        println!("| {step} | {:.1} | {:.1} | {:.0} % |", stats.median, stats.p99, 100.0 * stats.median / total.median);
    }
}
