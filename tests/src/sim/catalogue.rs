//! The simulated shop's catalogue: a wine and grocery shop (Relance's first users sell
//! yearly editions — vintages — which the yearly-edition program follows).

/// The currencies the shop sells in; prices are set in euros and converted at fixed rates,
/// rounded to the unit below plus 0.90, as shops price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    Eur,
    Usd,
    Gbp,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Eur => "EUR",
            Currency::Usd => "USD",
            Currency::Gbp => "GBP",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: u64,
    pub variant_id: u64,
    pub title: String,
    pub variant_title: Option<String>,
    /// Shopify's `product_type`: the category programs read.
    pub category: &'static str,
    pub vendor: &'static str,
    pub price_eur_minor: i64,
    /// The vintage of a product sold in yearly editions.
    pub edition: Option<u16>,
}

impl Product {
    /// Price in `currency`'s minor units.
    pub fn price(&self, currency: Currency) -> i64 {
        let converted = match currency {
            Currency::Eur => return self.price_eur_minor,
            Currency::Usd => self.price_eur_minor * 108 / 100,
            Currency::Gbp => self.price_eur_minor * 85 / 100,
        };
        (converted / 100) * 100 + 90
    }

    pub fn slug(&self) -> String {
        ascii(&self.title)
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("-")
    }
}

pub fn catalogue() -> Vec<Product> {
    let mut products = Vec::new();
    let mut add = |title: &str, category: &'static str, vendor: &'static str, price: i64, edition: Option<u16>| {
        let n = products.len() as u64;
        products.push(Product {
            id: 8_200_000_000_000 + n * 17,
            variant_id: 4_400_000_000_000 + n * 17,
            title: match edition {
                Some(year) => format!("{title} millésime {year}"),
                None => title.to_owned(),
            },
            variant_title: edition.map(|_| "75 cl".to_owned()),
            category,
            vendor,
            price_eur_minor: price,
            edition,
        });
    };
    for (year, price) in [(2021, 3_200), (2022, 2_900), (2023, 2_700)] {
        add("Château Relance", "vins", "Château Relance", price, Some(year));
    }
    for (year, price) in [(2022, 1_900), (2023, 1_750)] {
        add("Domaine des Abeilles blanc", "vins", "Domaine des Abeilles", price, Some(year));
    }
    add("Champagne Brut Réserve", "vins", "Maison Fleur", 4_500, None);
    add("Café de Colombie 1 kg", "épicerie", "Torréfaction Lumière", 2_400, None);
    add("Thé vert Sencha", "épicerie", "Maison du Thé", 1_200, None);
    add("Huile d'olive vierge extra", "épicerie", "Moulin Sud", 1_650, None);
    add("Miel de lavande", "épicerie", "Rucher Bleu", 990, None);
    add("Tire-bouchon sommelier", "accessoires", "Atelier Laguiole", 3_900, None);
    add("Carafe à décanter", "accessoires", "Verrerie Claire", 5_500, None);
    add("Coffret dégustation", "coffrets", "Maison Demo", 7_900, None);
    products
}

/// `Château` → `Chateau`, for addresses and URLs.
pub fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'É' => 'E',
            'â' | 'à' => 'a',
            'ï' | 'î' => 'i',
            'ô' => 'o',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_convert_to_shop_prices_and_slugs_are_urls() {
        let products = catalogue();
        let chateau = &products[0];
        assert_eq!(chateau.title, "Château Relance millésime 2021");
        assert_eq!(chateau.price(Currency::Eur), 3_200);
        assert_eq!(chateau.price(Currency::Usd), 3_490, "34.56 → 34.90");
        assert_eq!(chateau.price(Currency::Gbp), 2_790, "27.20 → 27.90");
        assert_eq!(chateau.slug(), "chateau-relance-millesime-2021");
    }
}
