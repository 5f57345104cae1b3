//! The copy of every mail, one JSON file per language (`shared/templates/i18n/<code>.json`).
//!
//! Templates hold layout only and print `copy.<key>`; the words live here so that a
//! translator edits one file and adding a language adds data, not templates. A file has:
//!
//! - `number`: how the language writes amounts (`decimal`, `group`, and a `pattern` placing
//!   `{amount}` and `{symbol}`), and `currencies`: symbols by ISO code (others print the code);
//! - `common`: strings every mail may use (labels, footer, sign-off);
//! - `templates.<id>`: the mail's own strings, overriding `common`, plus optional `steps`,
//!   one object per step of a series, overriding again (a step past the last uses the last).
//!
//! A key `k_named` replaces `k` when the first name is known, so personalised and impersonal
//! copy are both written out in full: languages differ too much for a template to splice a
//! name into a sentence. Strings may name `{first_name}`, `{shop_name}`, `{order_name}` and
//! `{discount_code}`; a missing value leaves nothing, and whitespace is then collapsed, so
//! copy puts optional placeholders where an empty one still reads well.
//!
//! Catalogues are parsed and checked once (every template present with its required keys);
//! the tests compare every language's keys with English, so an incomplete translation fails
//! CI rather than a send.

use super::text::one_line;
use super::{Language, TemplateId};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub(crate) type Strings = BTreeMap<String, String>;

/// Keys every template must resolve (from `common`, itself or a step).
const REQUIRED: [&str; 4] = ["subject", "preheader", "heading", "intro"];
const NAMED_SUFFIX: &str = "_named";

/// Why the embedded catalogues or templates could not be loaded. Only a broken build
/// produces one (the tests load everything), but it is reported, not panicked on.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the {language} copy catalogue is not valid")]
    Catalogue {
        language: Language,
        #[source]
        source: serde_json::Error,
    },
    #[error("the {language} copy catalogue has no {key:?} for {template}")]
    MissingCopy { language: Language, template: TemplateId, key: &'static str },
    #[error("mail template {name} does not compile")]
    Template {
        name: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Catalogue {
    pub number: NumberFormat,
    pub currencies: BTreeMap<String, String>,
    common: Strings,
    templates: BTreeMap<TemplateId, TemplateCopy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NumberFormat {
    pub decimal: String,
    pub group: String,
    pub pattern: String,
}

#[derive(Debug, Deserialize)]
struct TemplateCopy {
    #[serde(default)]
    steps: Vec<Strings>,
    #[serde(flatten)]
    strings: Strings,
}

/// The values catalogue strings may name, already cleaned to one line.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Placeholders<'a> {
    pub first_name: Option<&'a str>,
    pub shop_name: &'a str,
    pub order_name: Option<&'a str>,
    pub discount_code: Option<&'a str>,
}

fn source(language: Language) -> &'static str {
    match language {
        Language::Fr => include_str!("../../templates/i18n/fr.json"),
        Language::En => include_str!("../../templates/i18n/en.json"),
    }
}

fn load(language: Language) -> Result<Catalogue, SetupError> {
    let catalogue: Catalogue =
        serde_json::from_str(source(language)).map_err(|source| SetupError::Catalogue { language, source })?;
    for template in TemplateId::ALL {
        for key in REQUIRED {
            if !catalogue.raw(template, 1, false).contains_key(key) {
                return Err(SetupError::MissingCopy { language, template, key });
            }
        }
    }
    Ok(catalogue)
}

/// The language's catalogue, parsed on first use.
pub(crate) fn get(language: Language) -> Result<&'static Catalogue, &'static SetupError> {
    static CATALOGUES: OnceLock<Vec<Result<Catalogue, SetupError>>> = OnceLock::new();
    let all = CATALOGUES.get_or_init(|| Language::ALL.into_iter().map(load).collect());
    let index = Language::ALL.iter().position(|l| *l == language).unwrap_or_default();
    all[index].as_ref()
}

impl Catalogue {
    /// The strings of one mail before placeholders: common, template, step, then `_named`.
    fn raw(&self, template: TemplateId, step: u32, named: bool) -> Strings {
        let mut strings = self.common.clone();
        if let Some(copy) = self.templates.get(&template) {
            strings.extend(copy.strings.iter().map(|(k, v)| (k.clone(), v.clone())));
            let last = copy.steps.len().saturating_sub(1);
            let index = (step.max(1) as usize - 1).min(last);
            if let Some(step) = copy.steps.get(index) {
                strings.extend(step.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        let named_keys: Vec<String> = strings.keys().filter(|k| k.ends_with(NAMED_SUFFIX)).cloned().collect();
        for named_key in named_keys {
            let value = strings.remove(&named_key).unwrap_or_default();
            if named {
                strings.insert(named_key.trim_end_matches(NAMED_SUFFIX).to_owned(), value);
            }
        }
        strings
    }

    /// The copy of one mail, placeholders filled and each string on one line.
    pub fn copy(&self, template: TemplateId, step: u32, values: &Placeholders<'_>) -> Strings {
        let mut strings = self.raw(template, step, values.first_name.is_some());
        for text in strings.values_mut() {
            *text = one_line(&fill(text, values));
        }
        strings
    }
}

/// Replaces `{name}` with its value; unknown names are left as written, for a test to catch.
fn fill(text: &str, values: &Placeholders<'_>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let value = match &after[..close] {
                "first_name" => values.first_name.unwrap_or_default(),
                "shop_name" => values.shop_name,
                "order_name" => values.order_name.unwrap_or_default(),
                "discount_code" => values.discount_code.unwrap_or_default(),
                _ => return None,
            };
            Some((value, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(language: Language, template: TemplateId, step: u32, named: bool) -> BTreeSet<String> {
        get(language).unwrap().raw(template, step, named).into_keys().collect()
    }

    #[test]
    fn every_catalogue_loads_and_covers_every_template() {
        for language in Language::ALL {
            if let Err(error) = get(language) {
                panic!("{language}: {error}: {:?}", std::error::Error::source(error));
            }
        }
    }

    #[test]
    fn every_language_has_the_keys_english_has() {
        for language in Language::ALL {
            for template in TemplateId::ALL {
                for step in 1..=4 {
                    for named in [false, true] {
                        let (theirs, english) =
                            (keys(language, template, step, named), keys(Language::En, template, step, named));
                        assert_eq!(theirs, english, "{language} {template} step {step} named {named}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_placeholder_is_known() {
        let values = Placeholders {
            first_name: Some("Ana"),
            shop_name: "Shop",
            order_name: Some("#1"),
            discount_code: Some("CODE"),
        };
        for language in Language::ALL {
            for template in TemplateId::ALL {
                for (key, text) in get(language).unwrap().copy(template, 3, &values) {
                    assert!(!text.contains(['{', '}']), "{language} {template} {key}: {text}");
                }
            }
        }
    }

    #[test]
    fn steps_override_and_the_last_step_repeats() {
        let catalogue = get(Language::En).unwrap();
        let values = Placeholders { shop_name: "Shop", ..Placeholders::default() };
        let subject = |step| catalogue.copy(TemplateId::AbandonedCheckout, step, &values)["subject"].clone();
        assert_ne!(subject(1), subject(2));
        assert_eq!(subject(0), subject(1));
        assert_eq!(subject(9), subject(3));
    }

    #[test]
    fn named_copy_is_used_only_with_a_first_name() {
        let catalogue = get(Language::Fr).unwrap();
        let anonymous = Placeholders { shop_name: "Shop", ..Placeholders::default() };
        let named = Placeholders { first_name: Some("Zoé"), ..anonymous };
        let subject = |values| catalogue.copy(TemplateId::Welcome, 1, values)["subject"].clone();
        assert!(subject(&named).contains("Zoé"));
        assert!(!subject(&anonymous).contains("Zoé"));
        assert!(!catalogue.copy(TemplateId::Welcome, 1, &named).contains_key("subject_named"));
    }

    #[test]
    fn fill_leaves_unknown_and_unclosed_braces_alone() {
        let values = Placeholders { shop_name: "Shop", ..Placeholders::default() };
        assert_eq!(fill("{shop_name} {x} {", &values), "Shop {x} {");
        assert_eq!(fill("a {order_name} b", &values), "a  b");
    }
}
