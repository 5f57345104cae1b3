//! Products often bought together, from the shop's own order history: item-to-item
//! co-occurrence over customers, counted by the nightly run, read by the affinity program
//! when its mail is due.
//!
//! Two products co-occur when one customer bought both (at any time): a shop's customers
//! rarely buy twice in one order, so baskets per order would be too thin to learn from. For
//! each product the table keeps its most frequent companions and what a mail shows of it
//! (title, price last paid, picture, collections). A suggestion for an order ranks the
//! companions of its products, falls back to best sellers of the same collections, and
//! never offers a product the customer already bought.

use super::request::MailedProduct;
use crate::ids::ExternalId;
use crate::money::Money;
use crate::profile::{Profile, Record};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Companions kept per product.
pub const COMPANIONS: usize = 12;
/// A customer's most recent purchases counted (pairs grow as the square of a basket).
pub const BASKET_LIMIT: usize = 40;

/// What a mail shows of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCard {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub categories: BTreeSet<String>,
    /// Customers who bought it.
    pub buyers: u32,
}

/// One product's entry of the shop's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductAffinity {
    pub product: ExternalId,
    pub card: ProductCard,
    /// Products bought by the same customers, most shared buyers first, with their cards.
    pub companions: Vec<Companion>,
    /// The best sellers of this product's collections (its fallback), without itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_collection: Vec<Companion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Companion {
    pub product: ExternalId,
    /// Customers who bought both (or, in `same_collection`, who bought it).
    pub count: u32,
    pub card: ProductCard,
}

/// The nightly count, one customer at a time.
#[derive(Debug, Default)]
pub struct CoOccurrence {
    cards: HashMap<ExternalId, ProductCard>,
    pairs: HashMap<(ExternalId, ExternalId), u32>,
}

impl CoOccurrence {
    pub fn add(&mut self, profile: &Profile) {
        let mut bought: Vec<(&ExternalId, &crate::profile::BoughtProduct)> =
            profile.products.iter().filter(|(_, p)| p.orders > 0).collect();
        bought.sort_by(|a, b| b.1.last_bought_at.cmp(&a.1.last_bought_at).then_with(|| a.0.cmp(b.0)));
        bought.truncate(BASKET_LIMIT);
        for (id, product) in &bought {
            let card = self.cards.entry((*id).clone()).or_insert_with(|| ProductCard {
                title: product.title.value.clone(),
                price: None,
                image_url: None,
                categories: BTreeSet::new(),
                buyers: 0,
            });
            card.buyers += 1;
            // The latest statement of the product's facts wins, whoever bought it.
            card.title.clone_from(&product.title.value);
            card.price = product.unit_price.as_ref().map(|p| p.value).or(card.price);
            card.image_url = product.image_url.as_ref().map(|u| u.value.clone()).or(card.image_url.take());
            card.categories.extend(product.categories.iter().cloned());
        }
        for (n, (a, _)) in bought.iter().enumerate() {
            for (b, _) in &bought[n + 1..] {
                let key = if a < b { ((*a).clone(), (*b).clone()) } else { ((*b).clone(), (*a).clone()) };
                *self.pairs.entry(key).or_default() += 1;
            }
        }
    }

    /// The shop's table: every product bought, its companions and same-collection sellers.
    pub fn finish(self) -> Vec<ProductAffinity> {
        let mut companions: BTreeMap<&ExternalId, Vec<(u32, &ExternalId)>> = BTreeMap::new();
        for ((a, b), count) in &self.pairs {
            companions.entry(a).or_default().push((*count, b));
            companions.entry(b).or_default().push((*count, a));
        }
        let mut by_collection: BTreeMap<&str, Vec<(u32, &ExternalId)>> = BTreeMap::new();
        for (id, card) in &self.cards {
            for category in &card.categories {
                by_collection.entry(category).or_default().push((card.buyers, id));
            }
        }
        let ranked = |list: &mut Vec<(u32, &ExternalId)>| list.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.cmp(y.1)));
        for list in companions.values_mut().chain(by_collection.values_mut()) {
            ranked(list);
        }
        let companion = |(count, id): &(u32, &ExternalId)| Companion {
            product: (*id).clone(),
            count: *count,
            card: self.cards[*id].clone(),
        };
        let mut table: Vec<ProductAffinity> = self
            .cards
            .iter()
            .map(|(id, card)| {
                let mut same: Vec<(u32, &ExternalId)> = card
                    .categories
                    .iter()
                    .flat_map(|c| by_collection.get(c.as_str()).into_iter().flatten().copied())
                    .filter(|(_, other)| *other != id)
                    .collect();
                ranked(&mut same);
                same.dedup_by(|x, y| x.1 == y.1);
                ProductAffinity {
                    product: id.clone(),
                    card: card.clone(),
                    companions: companions
                        .get(id)
                        .map_or_else(Vec::new, |l| l.iter().take(COMPANIONS).map(companion).collect()),
                    same_collection: same.iter().take(COMPANIONS).map(companion).collect(),
                }
            })
            .collect();
        table.sort_by(|a, b| a.product.cmp(&b.product));
        table
    }
}

/// How many of an order's products a suggestion looks up in the table (one read each).
pub const SEEDS: usize = 20;
/// How many products an affinity mail suggests.
pub const SUGGESTIONS: usize = 3;

/// The products of `order` among `records`, the seeds of its suggestions: distinct, in id
/// order, at most [`SEEDS`].
pub fn order_products(records: &[Record], order: Option<&ExternalId>) -> Vec<ExternalId> {
    let lines = records.iter().find_map(|r| match r {
        Record::Order(o) if Some(&o.order_id) == order => o.lines.as_ref(),
        _ => None,
    });
    let mut products: Vec<ExternalId> =
        lines.map(|l| l.value.iter().filter_map(|line| line.product_id.clone()).collect()).unwrap_or_default();
    products.sort();
    products.dedup();
    products.truncate(SEEDS);
    products
}

/// Up to `n` products for a customer who bought `seeds` (an order's products), from the
/// seeds' table entries: companions first (summed over the seeds), then same-collection
/// best sellers; never one the customer already bought; priced ones only (the block shows a
/// price).
pub fn suggest(entries: &[ProductAffinity], profile: &Profile, n: usize) -> Vec<MailedProduct> {
    let owned: BTreeSet<&ExternalId> = profile.products.keys().collect();
    let mut scores: BTreeMap<&ExternalId, (u64, u64, &ProductCard)> = BTreeMap::new();
    for entry in entries {
        for c in &entry.companions {
            scores.entry(&c.product).or_insert((0, 0, &c.card)).0 += u64::from(c.count);
        }
        for c in &entry.same_collection {
            let slot = scores.entry(&c.product).or_insert((0, 0, &c.card));
            slot.1 = slot.1.max(u64::from(c.count));
        }
    }
    let mut ranked: Vec<_> =
        scores.into_iter().filter(|(id, (_, _, card))| !owned.contains(id) && card.price.is_some()).collect();
    ranked.sort_by(|a, b| (b.1.0, b.1.1).cmp(&(a.1.0, a.1.1)).then_with(|| a.0.cmp(b.0)));
    ranked
        .into_iter()
        .take(n)
        .map(|(_, (_, _, card))| MailedProduct {
            title: card.title.clone(),
            url: None,
            price: card.price,
            image_url: card.image_url.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn customer(n: u32, products: &[(&str, &str)]) -> Profile {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap();
        let mut profile = Profile::new(
            crate::ids::ShopId::parse("demo").unwrap(),
            crate::ids::ProfileId::parse(format!("p{n}")).unwrap(),
            at,
        );
        for (i, (id, category)) in products.iter().enumerate() {
            let event: Event = serde_json::from_value(json!({
                "schema_version": 1, "id": format!("o{n}-{i}"), "shop": "demo", "platform": "api",
                "occurred_at": at + chrono::Duration::days(i as i64), "received_at": at,
                "payload": { "type": "order.placed", "order_id": format!("o{n}-{i}"),
                    "line_items": [{ "product_id": id, "title": format!("Produit {id}"), "quantity": 1,
                        "unit_price": { "minor": 1000, "currency": "EUR" }, "categories": [category] }],
                    "total": { "minor": 1000, "currency": "EUR" } },
            }))
            .unwrap();
            profile.apply(&event);
        }
        profile
    }

    #[test]
    fn companions_are_counted_per_customer_and_suggestions_skip_what_was_bought() {
        let mut count = CoOccurrence::default();
        // Chablis is bought with glasses by three customers, with a corkscrew by one.
        count.add(&customer(1, &[("chablis", "vins"), ("verres", "arts-de-la-table")]));
        count
            .add(&customer(2, &[("chablis", "vins"), ("verres", "arts-de-la-table"), ("tire-bouchon", "accessoires")]));
        count.add(&customer(3, &[("verres", "arts-de-la-table"), ("chablis", "vins")]));
        count.add(&customer(4, &[("meursault", "vins")]));
        let table = count.finish();
        let chablis = table.iter().find(|e| e.product.as_str() == "chablis").unwrap();
        let companions: Vec<(&str, u32)> = chablis.companions.iter().map(|c| (c.product.as_str(), c.count)).collect();
        assert_eq!(companions, [("verres", 3), ("tire-bouchon", 1)]);
        let same: Vec<&str> = chablis.same_collection.iter().map(|c| c.product.as_str()).collect();
        assert_eq!(same, ["meursault"]);

        // A new customer who bought chablis and a corkscrew: glasses first, then Meursault
        // (same collection); never what she bought.
        let buyer = customer(5, &[("chablis", "vins"), ("tire-bouchon", "accessoires")]);
        let seeds: Vec<ProductAffinity> =
            table.iter().filter(|e| ["chablis", "tire-bouchon"].contains(&e.product.as_str())).cloned().collect();
        let titles: Vec<String> = suggest(&seeds, &buyer, 3).into_iter().map(|p| p.title).collect();
        assert_eq!(titles, ["Produit verres", "Produit meursault"]);
        let everything =
            customer(6, &[("chablis", "vins"), ("verres", "x"), ("tire-bouchon", "y"), ("meursault", "vins")]);
        assert!(suggest(&seeds, &everything, 3).is_empty(), "nothing left to suggest");
    }
}
