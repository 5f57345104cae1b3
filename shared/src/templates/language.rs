//! The language a mail is written in, chosen from what the shop and the customer told us.
//!
//! Shops and browsers send locales in every spelling (`fr-CA`, `en_GB`, `FR`); mail copy
//! exists per language, not per region, so only the primary subtag matters. The customer's
//! locale wins when we have copy for it; otherwise the shop's, because a French shop writing
//! to a customer with an unknown or unsupported locale should still write in French; English
//! is the last resort, the language most customers of an unknown shop can read.
//!
//! Adding a language is a variant here plus its catalogue file (`shared/templates/i18n/`);
//! the templates themselves hold no copy, and the catalogue tests check the new file is
//! complete.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language with a complete copy catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    #[default]
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Fr, Language::En];

    /// The ISO 639-1 code, also written into the HTML `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    /// Reads the primary subtag of a BCP 47 (`fr-CA`) or POSIX (`en_GB.UTF-8`) locale,
    /// case-insensitively; `None` when we have no copy in that language.
    pub fn from_locale(locale: &str) -> Option<Language> {
        let primary = locale.trim().split(['-', '_', '.', '@']).next().unwrap_or_default();
        Language::ALL.into_iter().find(|language| primary.eq_ignore_ascii_case(language.code()))
    }

    /// The customer's language if we write it, else the shop's, else English.
    pub fn negotiate(customer_locale: Option<&str>, shop_locale: Option<&str>) -> Language {
        customer_locale
            .and_then(Language::from_locale)
            .or_else(|| shop_locale.and_then(Language::from_locale))
            .unwrap_or_default()
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_and_posix_locales_map_to_their_language() {
        for (locale, expected) in [("fr-CA", Language::Fr), ("en_GB", Language::En), ("FR", Language::Fr)] {
            assert_eq!(Language::from_locale(locale), Some(expected), "{locale}");
        }
        assert_eq!(Language::from_locale("en_US.UTF-8"), Some(Language::En));
        assert_eq!(Language::from_locale("de-DE"), None);
        assert_eq!(Language::from_locale(""), None);
        assert_eq!(Language::from_locale("french"), None);
    }

    #[test]
    fn the_customer_wins_then_the_shop_then_english() {
        assert_eq!(Language::negotiate(Some("fr-CA"), Some("en")), Language::Fr);
        assert_eq!(Language::negotiate(Some("en_GB"), Some("fr")), Language::En);
        assert_eq!(Language::negotiate(Some("de-DE"), Some("fr")), Language::Fr);
        assert_eq!(Language::negotiate(None, Some("fr-FR")), Language::Fr);
        assert_eq!(Language::negotiate(Some("de"), Some("it")), Language::En);
        assert_eq!(Language::negotiate(None, None), Language::En);
    }

    #[test]
    fn languages_serialise_as_their_code() {
        assert_eq!(serde_json::to_string(&Language::Fr).unwrap(), "\"fr\"");
        assert_eq!(serde_json::from_str::<Language>("\"en\"").unwrap(), Language::En);
    }
}
