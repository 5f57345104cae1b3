//! Yearly editions ("vintages"): a wine's millésime, a calendar's year, an annual box. The
//! yearly-edition program mails a buyer of one edition when the next one arrives, so a
//! product must be told apart into its *family* and its *year*.
//!
//! Platforms have no field for it: shops write the year in the title (`Cuvée des Vignes
//! 2023`) or as a variant (`Millésime 2023`). A standalone four-digit year from 1900 to
//! 2099 in either is the edition; the family is the title with that year (and a
//! `millésime` / `vintage` / `edition` word before it) taken out, in lower case.

use super::BoughtProduct;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edition {
    pub family: String,
    pub year: u16,
}

const MARKERS: [&str; 6] = ["millésime", "millesime", "vintage", "edition", "édition", "cuvée"];

/// The edition a title (and variant title) names, if any.
pub fn edition_of(title: &str, variant: Option<&str>) -> Option<Edition> {
    let year_in = |text: &str| {
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|t| t.len() == 4)
            .filter_map(|t| t.parse::<u16>().ok())
            .find(|y| (1900..=2099).contains(y))
    };
    let year = year_in(title).or_else(|| variant.and_then(year_in))?;
    let year_text = year.to_string();
    let words: Vec<String> = title
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty() && *w != year_text)
        .collect();
    // A marker word right before where the year was ("millésime 2023") is part of the year.
    let words: Vec<&String> = words
        .iter()
        .enumerate()
        .filter(|(i, w)| !(MARKERS.contains(&w.as_str()) && *i + 1 == words.len() && title.contains(&year_text)))
        .map(|(_, w)| w)
        .collect();
    let family = words.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(" ");
    (!family.is_empty()).then_some(Edition { family, year })
}

impl BoughtProduct {
    pub fn edition(&self) -> Option<Edition> {
        edition_of(&self.title.value, self.variant_title.as_ref().map(|v| v.value.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_in_the_title_or_the_variant_is_the_edition() {
        let e = |t: &str, v: Option<&str>| edition_of(t, v).map(|e| (e.family, e.year));
        assert_eq!(e("Cuvée des Vignes 2023", None), Some(("cuvée des vignes".into(), 2023)));
        assert_eq!(e("Cuvée des Vignes, millésime 2024", None), Some(("cuvée des vignes".into(), 2024)));
        assert_eq!(e("Chablis Premier Cru", Some("Millésime 2019")), Some(("chablis premier cru".into(), 2019)));
        assert_eq!(e("Calendrier de l'Avent 2026", None), Some(("calendrier de l'avent".into(), 2026)));
        assert_eq!(e("T-shirt 1234 edition", None), None, "not a plausible year");
        assert_eq!(e("Coffret 12 bouteilles", Some("75 cl")), None);
        assert_eq!(e("2023", None), None, "a year alone names no family");
    }
}
