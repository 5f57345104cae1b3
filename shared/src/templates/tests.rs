//! Rendering tests over every template and language, from the sample in
//! `shared/templates/sample.json` (also what the bench renders).

use super::links::append_utm;
use super::*;
use proptest::prelude::*;

fn sample() -> MailContent {
    serde_json::from_str(include_str!("../../templates/sample.json")).expect("the sample is a MailContent")
}

fn rendered(template: TemplateId, language: Language, content: &MailContent) -> Rendered {
    match engine::render(template, language, content) {
        Ok((rendered, 0)) => rendered,
        Ok((_, warnings)) => panic!("{template} {language}: {warnings} MJML warnings"),
        Err(error) => panic!("{template} {language}: {error}: {:?}", std::error::Error::source(&error)),
    }
}

/// Templates whose body lists the checkout's or order's products.
fn shows_lines(template: TemplateId) -> bool {
    use TemplateId::*;
    matches!(
        template,
        AbandonedCheckout
            | OrderConfirmation
            | OrderPreparing
            | OrderShipped
            | OrderDelivered
            | ReviewRequest
            | YearlyEdition
            | ScenarioA
    )
}

fn utm_link(url: &str, template: TemplateId, campaign: &str, step: u32) -> String {
    let content = format!("{template}-{step}");
    let params =
        [("utm_source", "relance"), ("utm_medium", "email"), ("utm_campaign", campaign), ("utm_content", &*content)];
    append_utm(url, &params)
}

#[test]
fn every_template_renders_in_every_language_with_lines_prices_and_tracked_links() {
    let content = sample();
    for template in TemplateId::ALL {
        for language in Language::ALL {
            let mail = rendered(template, language, &content);
            let what = format!("{template} {language}");
            let action = utm_link(content.action_url.as_deref().unwrap(), template, "cart-recovery", 2);
            assert!(mail.html.contains(&action.replace('&', "&amp;")), "{what}: no tracked action link in HTML");
            assert!(mail.text.contains(&action), "{what}: no tracked action link in text");
            let lines: &[MailLine] = if shows_lines(template) { &content.lines } else { &content.recommendations };
            for line in lines {
                assert!(mail.html.contains(&line.title), "{what}: {} missing", line.title);
                assert!(mail.text.contains(&line.title), "{what}: {} missing in text", line.title);
                let price = format_money(line.unit_price, language);
                assert!(mail.html.contains(&price) && mail.text.contains(&price), "{what}: {price} missing");
            }
            assert!(mail.html.contains(&format!("<html lang=\"{}\"", language.code())), "{what}");
            assert!(mail.html.contains(&content.shop_name) && mail.html.contains(&mail.preheader), "{what}");
            assert!(!mail.text.contains(['<', '>']), "{what}: markup in the text part:\n{}", mail.text);
            assert!(!mail.subject.as_str().is_empty() && !mail.preheader.is_empty(), "{what}");
        }
    }
}

#[test]
fn totals_and_line_prices_are_formatted_for_the_language() {
    let content = sample();
    let fr = rendered(TemplateId::OrderConfirmation, Language::Fr, &content);
    assert!(fr.html.contains("1\u{202f}234,50\u{a0}€") && fr.html.contains("1\u{202f}344,20\u{a0}€"));
    assert!(fr.text.contains("Qté\u{a0}: 2 × 39,90\u{a0}€ = 79,80\u{a0}€"), "{}", fr.text);
    let en = rendered(TemplateId::OrderConfirmation, Language::En, &content);
    assert!(en.html.contains("€1,234.50") && en.text.contains("Total: €1,344.20"), "{}", en.text);
}

#[test]
fn french_copy_is_french_and_english_copy_is_english() {
    let content = sample();
    let fr = rendered(TemplateId::AbandonedCheckout, Language::Fr, &content);
    let en = rendered(TemplateId::AbandonedCheckout, Language::En, &content);
    assert!(fr.subject.as_str().contains("panier") && fr.html.contains("panier") && fr.text.contains("panier"));
    assert!(en.subject.as_str().contains("cart") && en.html.contains("cart") && !en.html.contains("panier"));
    let fr = rendered(TemplateId::OrderShipped, Language::Fr, &content);
    let en = rendered(TemplateId::OrderShipped, Language::En, &content);
    assert!(fr.text.contains("Transporteur\u{a0}: Colissimo") && en.text.contains("Carrier: Colissimo"));
}

#[test]
fn subjects_are_personalised_when_the_first_name_is_known() {
    let mut content = sample();
    for template in TemplateId::ALL {
        let subject = rendered(template, Language::En, &content).subject;
        assert!(subject.as_str().contains("Camille"), "{template}: {subject:?}");
    }
    content.first_name = Some(" \n ".into());
    let mail = rendered(TemplateId::Welcome, Language::Fr, &content);
    assert_eq!(mail.subject.as_str(), "Bienvenue chez Maison Lumière");
    assert!(mail.text.contains("Bonjour,\n"));
}

#[test]
fn the_unsubscribe_link_shows_only_in_marketing_mail() {
    let mut content = sample();
    let url = content.unsubscribe_url.clone().unwrap();
    let marketing = rendered(TemplateId::Reactivation, Language::En, &content);
    assert!(marketing.html.contains(&format!("href=\"{url}\"")) && marketing.text.contains(&format!(": {url}\n")));
    assert!(marketing.html.contains("Unsubscribe") && marketing.text.contains("Unsubscribe"));
    content.unsubscribe_url = None;
    for language in Language::ALL {
        let transactional = rendered(TemplateId::OrderConfirmation, language, &content);
        for part in [&transactional.html, &transactional.text] {
            assert!(!part.contains("unsubscribe") && !part.contains("Unsubscribe") && !part.contains("désinscrire"));
        }
    }
}

#[test]
fn the_abandoned_checkout_offers_the_code_from_the_second_step() {
    let mut content = sample();
    content.step = 1;
    let first = rendered(TemplateId::AbandonedCheckout, Language::Fr, &content);
    assert!(!first.html.contains("MERCI10") && !first.text.contains("MERCI10"));
    content.step = 3;
    let third = rendered(TemplateId::AbandonedCheckout, Language::Fr, &content);
    assert!(third.html.contains("MERCI10") && third.text.contains("    MERCI10\n"));
    assert_ne!(first.subject, third.subject);
    assert!(third.html.contains("utm_content=abandoned-checkout-3"));
}

#[test]
fn blocks_without_data_are_left_out() {
    let content =
        MailContent { shop_name: "Shop".into(), shop_url: "https://s.example".into(), ..MailContent::default() };
    for template in TemplateId::ALL {
        let mail = rendered(template, Language::En, &content);
        assert!(!mail.text.contains("Carrier") && !mail.text.contains("You may also like"), "{template}");
        assert!(!mail.text.contains("Total") && !mail.text.contains("Qty"), "{template}");
    }
}

#[test]
fn markup_in_names_and_titles_is_escaped_in_html() {
    let mut content = sample();
    content.first_name = Some("<script>alert('x')</script>".into());
    content.shop_name = "Shop \"quoted\" & <b>bold</b>".into();
    content.lines[0].title = "\"><img src=x onerror=alert(1)>".into();
    content.recommendations[0].title = "<svg onload=alert(1)>".into();
    content.discount_code = Some("<i>CODE</i>".into());
    let mail = rendered(TemplateId::OrderConfirmation, Language::En, &content);
    for raw in ["<script>", "<img src=x", "<b>bold", "<svg", "\"quoted\"", "<i>CODE"] {
        assert!(!mail.html.contains(raw), "unescaped {raw}");
    }
    assert!(mail.html.contains("&lt;script&gt;alert(&#x27;x&#x27;)") && mail.html.contains("&quot;quoted&quot;"));
    assert!(mail.subject.as_str().contains("<script>"), "the subject is text, not HTML: {:?}", mail.subject);
}

#[test]
fn only_http_links_are_ever_rendered() {
    let mut content = sample();
    content.action_url = Some("javascript:alert(document.cookie)".into());
    content.lines[0].url = Some(" JavaScript:alert(1)".into());
    content.lines[0].image_url = Some("data:image/svg+xml,<svg onload=alert(1)>".into());
    content.recommendations[0].url = Some("vbscript:msgbox".into());
    content.tracking = Some(Tracking { url: Some("javascript:void(0)".into()), ..Tracking::default() });
    content.unsubscribe_url = Some("javascript:unsubscribe()".into());
    content.shop_url = "javascript:home()".into();
    for template in TemplateId::ALL {
        let mail = rendered(template, Language::En, &content);
        for part in [mail.html.to_lowercase(), mail.text.to_lowercase()] {
            assert!(!part.contains("javascript:") && !part.contains("data:") && !part.contains("vbscript:"));
        }
    }
}

#[test]
fn line_breaks_in_user_text_never_reach_the_subject() {
    let mut content = sample();
    content.first_name = Some("Ana\r\nBcc: victim@example.com".into());
    content.order_name = Some("#1001\n".into());
    content.shop_name = "Shop\u{2028}Name".into();
    for template in TemplateId::ALL {
        let subject = rendered(template, Language::Fr, &content).subject;
        assert!(!subject.as_str().contains(['\r', '\n', '\u{2028}']), "{subject:?}");
    }
}

#[test]
fn placeholders_in_user_text_are_printed_not_expanded() {
    let mut content = sample();
    content.first_name = Some("{shop_name} {{ 7 * 7 }}".into());
    let mail = rendered(TemplateId::Welcome, Language::En, &content);
    assert!(mail.subject.as_str().contains("{shop_name} {{ 7 * 7 }}"), "{:?}", mail.subject);
    assert!(mail.html.contains("Hi {shop_name} {{ 7 * 7 }},"));
}

#[test]
fn a_missing_utm_campaign_is_the_template_id() {
    let mut content = sample();
    content.utm = Utm { content: Some("hello world".into()), ..Utm::default() };
    let mail = rendered(TemplateId::Welcome, Language::En, &content);
    assert!(mail.text.contains("utm_campaign=welcome&utm_content=hello+world"), "{}", mail.text);
}

/// Structure characters of the HTML: user text may only add them escaped.
fn markup_counts(html: &str) -> [usize; 3] {
    ['<', '>', '"'].map(|c| html.matches(c).count())
}

proptest! {

    #![proptest_config(crate::testing::proptest_config(256))]
    #[test]
    fn arbitrary_user_text_never_breaks_rendering_or_adds_markup(
        text in prop::collection::vec(prop_oneof![any::<String>(), "[<>\"'&/a-z {}%#\\r\\n\t]{0,24}"], 6),
        template in prop::sample::select(TemplateId::ALL.to_vec()),
        language in prop::sample::select(Language::ALL.to_vec()),
    ) {
        let mut content = sample();
        content.first_name = Some(text[0].clone());
        content.shop_name = text[1].clone();
        content.lines[0].title = text[2].clone();
        content.lines[1].variant_title = Some(text[3].clone());
        content.recommendations[0].title = text[4].clone();
        content.discount_code = Some(text[5].clone());
        content.order_name = Some(text[5].clone());
        let mail = render(template, language, &content).expect("renders");
        // The same mail with every markup character of the user's text made harmless.
        let defused = |s: &String| s.replace(['<', '>', '"'], "x");
        let mut control = content.clone();
        control.first_name = control.first_name.as_ref().map(defused);
        control.shop_name = defused(&control.shop_name);
        control.lines[0].title = defused(&control.lines[0].title);
        control.lines[1].variant_title = control.lines[1].variant_title.as_ref().map(defused);
        control.recommendations[0].title = defused(&control.recommendations[0].title);
        control.discount_code = control.discount_code.as_ref().map(defused);
        control.order_name = control.order_name.as_ref().map(defused);
        let expected = render(template, language, &control).expect("renders");
        prop_assert_eq!(markup_counts(&mail.html), markup_counts(&expected.html));
        prop_assert!(!mail.subject.as_str().contains(['\r', '\n']));
    }
}
