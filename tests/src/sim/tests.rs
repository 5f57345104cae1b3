use super::*;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

#[test]
fn a_seed_makes_one_shop_and_another_seed_another() {
    let (a, b) = (Shop::generate(7, Size::default(), now()), Shop::generate(7, Size::default(), now()));
    let key = |s: &Shop| {
        (
            s.customers.iter().map(|c| c.email.clone()).collect::<Vec<_>>(),
            s.history.iter().map(|o| (o.id, o.at, o.lines.len())).collect::<Vec<_>>(),
            s.checkouts.iter().map(|c| (c.token.clone(), c.fate)).collect::<Vec<_>>(),
        )
    };
    assert_eq!(key(&a), key(&b));
    assert_ne!(key(&a), key(&Shop::generate(8, Size::default(), now())));
}

#[test]
fn the_shop_looks_like_a_shop() {
    let shop = Shop::generate(42, Size { customers: 400, checkouts: 200 }, now());
    let mut orders_per_customer = vec![0u32; shop.customers.len()];
    for order in &shop.history {
        orders_per_customer[order.customer] += 1;
        assert!(order.at < now() && order.at > now() - Duration::days(400));
        assert!(!order.lines.is_empty());
    }
    let buyers: Vec<u32> = orders_per_customer.iter().copied().filter(|n| *n > 0).collect();
    let once = buyers.iter().filter(|n| **n == 1).count() as f64 / buyers.len() as f64;
    let top = {
        let mut sorted = buyers.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let top_fifth: u32 = sorted.iter().take(sorted.len() / 5).sum();
        f64::from(top_fifth) / f64::from(sorted.iter().sum::<u32>())
    };
    assert!((0.45..0.75).contains(&once), "most buyers order once: {once}");
    assert!(top > 0.35, "the top fifth of buyers place a large share of orders: {top}");
    let abandoned = shop.checkouts.iter().filter(|c| c.fate != Fate::Completed).count() as f64;
    let rate = abandoned / shop.checkouts.len() as f64;
    assert!((0.6..0.8).contains(&rate), "about 70 % of checkouts are abandoned: {rate}");
    for locale in ["fr", "en"] {
        assert!(shop.customers.iter().any(|c| c.locale == locale));
    }
    for currency in [Currency::Eur, Currency::Usd, Currency::Gbp] {
        assert!(shop.customers.iter().any(|c| c.currency == currency));
    }
    assert!(shop.customers.iter().any(|c| c.channel == Channel::WooCommerce));
    assert!(shop.products.iter().filter(|p| p.edition.is_some()).count() >= 3);
}
