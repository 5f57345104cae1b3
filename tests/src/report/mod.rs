//! `target/demo/report.html`: what the demo's shop got out of Relance, as a page a
//! newcomer opens — segments and the RFM grid as SVG, recovered revenue, mails per program
//! and a gallery of the mails actually sent. One self-contained file (no script, no
//! network): the figures come from the CRM's own records, the mails from the SES emulator.

use minijinja::value::{Serde, Value};
use minijinja::{Environment, context};
use serde::Serialize;

const TEMPLATE: &str = include_str!("report.html");

/// Everything the page shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub shop: String,
    pub generated_at: String,
    pub seed: u64,
    /// Headline figures, label then value, in order.
    pub figures: Vec<(String, String)>,
    pub segments: Vec<SegmentBar>,
    /// Customers per cell: `grid[r - 1][f - 1]`.
    pub grid: [[u64; 5]; 5],
    pub recovered: Vec<Amount>,
    pub programs: Vec<ProgramRow>,
    pub mails: Vec<MailCard>,
    pub viewer_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentBar {
    pub name: String,
    pub profiles: u64,
    /// Share of the shop's revenue, 0–100, one decimal.
    pub revenue_share: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Amount {
    pub currency: String,
    /// Formatted: `1234.50`.
    pub amount: String,
    pub orders: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgramRow {
    pub program: String,
    pub sent: u64,
    pub delivered: u64,
    /// Shown apart from clicks: Apple Mail Privacy Protection opens every mail.
    pub opened: u64,
    pub clicked: u64,
    pub unsubscribes: u64,
    /// Attributed orders, and their net revenue per currency, formatted.
    pub orders: u64,
    pub revenue: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MailCard {
    pub to: String,
    pub subject: String,
    pub program: String,
    pub html: String,
}

/// Bar geometry, computed here so the template only places rectangles.
#[derive(Serialize)]
struct Bar<'a> {
    segment: &'a SegmentBar,
    y: u32,
    width: u32,
}

#[derive(Serialize)]
struct Cell {
    x: u32,
    y: u32,
    count: u64,
    /// Fill opacity, 0.06–1 by count.
    opacity: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the report template failed to render")]
pub struct RenderError(#[source] minijinja::Error);

const BAR_MAX: u32 = 420;
const BAR_STEP: u32 = 26;
const CELL: u32 = 64;

impl Report {
    pub fn render(&self) -> Result<String, RenderError> {
        let most = self.segments.iter().map(|s| s.profiles).max().unwrap_or(0).max(1);
        let bars: Vec<Bar> = self
            .segments
            .iter()
            .enumerate()
            .map(|(n, segment)| Bar {
                segment,
                y: n as u32 * BAR_STEP,
                width: u32::try_from(segment.profiles * u64::from(BAR_MAX) / most).unwrap_or(BAR_MAX).max(2),
            })
            .collect();
        let densest = self.grid.iter().flatten().copied().max().unwrap_or(0).max(1);
        // Rows from R = 5 (top) down to 1, columns F = 1 to 5.
        let cells: Vec<Cell> = (0..5u32)
            .flat_map(|row| (0..5u32).map(move |col| (row, col)))
            .map(|(row, col)| {
                let count = self.grid[(4 - row) as usize][col as usize];
                Cell {
                    x: 40 + col * CELL,
                    y: row * CELL,
                    count,
                    opacity: format!("{:.2}", 0.06 + 0.94 * count as f64 / densest as f64),
                }
            })
            .collect();
        let mut env = Environment::new();
        env.add_template("report.html", TEMPLATE).map_err(RenderError)?;
        let template = env.get_template("report.html").map_err(RenderError)?;
        template
            .render(context! {
                report => Value::from(Serde(self)),
                bars => Value::from(Serde(&bars)),
                bars_height => (self.segments.len() as u32 * BAR_STEP).max(BAR_STEP),
                cells => Value::from(Serde(&cells)),
            })
            .map_err(RenderError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut grid = [[0u64; 5]; 5];
        grid[4][4] = 7;
        grid[0][0] = 3;
        Report {
            shop: "demo.myshopify.com".into(),
            generated_at: "2026-11-23 10:00 UTC".into(),
            seed: 42,
            figures: vec![("Profiles".into(), "64".into())],
            segments: vec![
                SegmentBar { name: "champions".into(), profiles: 7, revenue_share: "41.0".into() },
                SegmentBar { name: "lost".into(), profiles: 3, revenue_share: "2.5".into() },
            ],
            grid,
            recovered: vec![Amount { currency: "EUR".into(), amount: "129.00".into(), orders: 2 }],
            programs: vec![ProgramRow {
                program: "abandoned-checkout".into(),
                sent: 12,
                delivered: 12,
                opened: 4,
                clicked: 3,
                unsubscribes: 1,
                orders: 2,
                revenue: "EUR 129.00".into(),
            }],
            mails: vec![MailCard {
                to: "anne@example.fr".into(),
                subject: "Votre panier <vous attend>".into(),
                program: "abandoned-checkout".into(),
                html: "<html><body><p>Bonjour \"Anne\"</p></body></html>".into(),
            }],
            viewer_url: "http://127.0.0.1:8005/".into(),
        }
    }

    #[test]
    fn the_page_draws_the_charts_and_escapes_what_it_embeds() {
        let html = sample().render().unwrap();
        assert!(html.starts_with("<!doctype html>"));
        assert_eq!(html.matches("<svg").count(), 2, "segment chart and RFM grid");
        assert!(html.contains(r#"width="420""#), "the largest segment spans the chart");
        assert!(html.contains(">champions<") && html.contains(">lost<"));
        // The grid's R5/F5 cell (top right) holds 7, the densest: full opacity.
        assert!(html.contains(r#"x="296" y="0" width="64" height="64" fill-opacity="1.00""#), "{html}");
        // Mails are embedded as srcdoc, escaped, sandboxed; subjects escaped.
        assert!(html.contains("srcdoc=\"&lt;html&gt;&lt;body&gt;&lt;p&gt;Bonjour &quot;Anne&quot;"));
        assert!(html.contains("sandbox"));
        assert!(html.contains("Votre panier &lt;vous attend&gt;"));
        assert!(!html.contains("<script"), "no script: the page works from a file");
    }
}
