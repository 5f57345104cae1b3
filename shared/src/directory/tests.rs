use super::*;
use crate::ids::ShopId;
use crate::ports::MemoryShopsSource;
use std::sync::atomic::Ordering;

const ONE: &str = r#"{"shops": [{"id": "one.example", "currency": "EUR"}]}"#;
const TWO: &str = r#"{"shops": [{"id": "one.example", "currency": "EUR"}, {"id": "two.example", "currency": "EUR"}]}"#;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_000_000 + seconds, 0).unwrap()
}

fn directory() -> (Directory, Arc<MemoryShopsSource>) {
    let source = Arc::new(MemoryShopsSource::new(ONE));
    (Directory::new(Shops::parse(ONE).unwrap(), at(0), source.clone()), source)
}

fn knows(shops: &Arc<Shops>, id: &str) -> bool {
    shops.get(&ShopId::parse(id).unwrap()).is_some()
}

#[tokio::test]
async fn a_shop_added_after_the_cold_start_is_found_by_the_first_delivery_that_names_it() {
    let (directory, source) = directory();
    source.set(TWO);
    assert!(!knows(&directory.current(at(10)).await, "two.example"), "not read again within REFRESH");
    let read = directory.reload_for_unknown(at(11)).await.expect("read for the unknown shop");
    assert!(knows(&read, "two.example"));
    assert!(knows(&directory.snapshot(), "two.example"));
    assert_eq!(source.loads(), 1);
}

#[tokio::test]
async fn find_reads_again_only_on_a_miss() {
    let (directory, source) = directory();
    let two = ShopId::parse("two.example").unwrap();
    let one = ShopId::parse("one.example").unwrap();
    assert!(directory.find(at(1), |s| s.get(&one).cloned()).await.is_some());
    assert_eq!(source.loads(), 0);
    source.set(TWO);
    assert!(directory.find(at(2), |s| s.get(&two).cloned()).await.is_some());
    assert_eq!(source.loads(), 1);
}

#[tokio::test]
async fn made_up_shops_cost_one_read_per_gap() {
    let (directory, source) = directory();
    assert!(directory.reload_for_unknown(at(1)).await.is_some());
    for second in 2..30 {
        assert!(directory.reload_for_unknown(at(second)).await.is_none());
    }
    assert_eq!(source.loads(), 1);
    assert!(directory.reload_for_unknown(at(31)).await.is_some());
    assert_eq!(source.loads(), 2);
}

#[tokio::test]
async fn the_document_is_read_again_once_it_is_older_than_refresh() {
    let (directory, source) = directory();
    source.set(TWO);
    let _ = directory.current(at(299)).await;
    assert_eq!(source.loads(), 0);
    assert!(knows(&directory.current(at(300)).await, "two.example"));
    let _ = directory.current(at(301)).await;
    assert_eq!(source.loads(), 1, "read once per REFRESH");
}

#[tokio::test]
async fn a_failed_read_keeps_the_shops_already_served() {
    let (directory, source) = directory();
    source.failing.store(true, Ordering::SeqCst);
    assert!(knows(&directory.current(at(600)).await, "one.example"));
    assert!(directory.reload_for_unknown(at(601)).await.is_none());
    assert_eq!(source.loads(), 2);
    source.set("not json");
    source.failing.store(false, Ordering::SeqCst);
    assert!(knows(&directory.current(at(1200)).await, "one.example"), "a broken document is not taken");
}

#[tokio::test]
async fn a_fixed_directory_never_reads() {
    let directory = Directory::fixed(Shops::parse(ONE).unwrap());
    assert!(directory.reload_for_unknown(at(1)).await.is_none());
    assert!(knows(&directory.current(at(100_000)).await, "one.example"));
}

#[tokio::test]
async fn an_input_about_a_new_shop_gets_the_document_read_again() {
    let (directory, source) = directory();
    source.set(TWO);
    assert!(knows(&directory.for_shop(at(1), Some("one.example")).await, "one.example"));
    assert!(knows(&directory.for_shop(at(1), None).await, "one.example"));
    assert_eq!(source.loads(), 0, "a known shop or none: no read");
    assert!(knows(&directory.for_shop(at(2), Some("two.example")).await, "two.example"));
    assert_eq!(source.loads(), 1);
}
