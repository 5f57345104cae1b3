//! The platform bodies the repository keeps (`tests/fixtures/{shopify,woocommerce}/`), each
//! with the topic its file name gives (`orders-create__2025-07.json` is an `orders/create`
//! delivery, `order.created-guest-coupon__….json` an `order.created` one): the seeds of the
//! fuzz targets, read once from the files so that a fixture added there is fuzzed too.

use std::path::Path;

/// One delivery body and how it is delivered.
pub struct Fixture {
    pub platform: Platform,
    /// The file name, for messages.
    pub name: String,
    /// `X-Shopify-Topic` or `X-WC-Webhook-Topic`.
    pub topic: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Shopify,
    Woocommerce,
}

/// Every fixture of both platforms, in file-name order.
pub fn platform_fixtures() -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut fixtures = Vec::new();
    for (platform, dir) in [(Platform::Shopify, "shopify"), (Platform::Woocommerce, "woocommerce")] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir} fixtures: {e}"))
            .map(|entry| entry.map(|e| e.path()).unwrap_or_else(|e| panic!("{dir} fixtures: {e}")))
            .collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let Some((topic, _)) = name.split_once("__") else { continue };
            let topic = match platform {
                Platform::Shopify => topic.replacen('-', "/", 1),
                Platform::Woocommerce => topic.split('-').next().unwrap_or(topic).to_owned(),
            };
            let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            fixtures.push(Fixture { platform, name, topic, body });
        }
    }
    fixtures
}
