//! The demo's summary: the figures as printed lines and as `target/demo/report.html`, and
//! the checks that fail the demo when a live program, the campaign or rfm-nightly did
//! nothing.

use super::{Demo, Error};
use crate::mailbox::StoredMail;
use crate::report::{Amount, MailCard, ProgramRow, Report, SegmentBar};
use chrono::Utc;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(super) struct Summary {
    lines: Vec<(String, String)>,
    programs: BTreeMap<String, u64>,
    segments: BTreeMap<String, u64>,
    recovered: u64,
    refused: usize,
    outlooks: usize,
    pub path: PathBuf,
    report: Report,
}

/// The programs live today: the demo fails if one of them sent nothing.
const LIVE_PROGRAMS: [&str; 11] = [
    "abandoned-checkout",
    "welcome",
    "order-confirmation",
    "order-preparing",
    "order-shipped",
    "order-delivered",
    "review-request",
    "satisfaction",
    "visits-scenario",
    "yearly-edition",
    "reactivation",
];

fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

fn joined(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

impl Demo {
    /// The results, read back from the CRM's records and the SES emulator; printed, and
    /// written as the report.
    pub(super) async fn summary(&self, started: Instant) -> Result<Summary, Error> {
        let figures = self.figures().await;
        let shares = self.revenue_shares().await;
        let mails = self.live.mails().await;
        let report = Report {
            shop: self.live.shop.to_string(),
            generated_at: Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            seed: self.seed,
            figures: vec![],
            segments: relance::segments::Segment::ALL
                .iter()
                .filter_map(|s| {
                    let profiles = figures.segments.get(s.as_str()).copied()?;
                    Some(SegmentBar {
                        name: s.as_str().to_owned(),
                        profiles,
                        revenue_share: format!("{:.1}", shares.get(s.as_str()).copied().unwrap_or(0.0) * 100.0),
                    })
                })
                .collect(),
            grid: figures.grid,
            recovered: figures
                .recovered
                .iter()
                .map(|(c, (minor, n))| Amount { currency: c.clone(), amount: money(*minor), orders: *n })
                .collect(),
            programs: figures
                .results
                .by_program
                .iter()
                .filter(|(_, r)| r.sent > 0)
                .map(|(program, r)| ProgramRow {
                    program: program.clone(),
                    sent: r.sent,
                    delivered: r.delivered,
                    opened: r.opened,
                    clicked: r.clicked,
                    unsubscribes: r.unsubscribes,
                    orders: r.orders,
                    revenue: joined(r.revenue.iter().map(|(c, minor)| format!("{c} {}", money(*minor)))),
                })
                .collect(),
            mails: gallery(&mails, &figures.senders),
            viewer_url: format!("{}/", self.live.emulator_url().trim_end_matches('/')),
        };
        let count = |n: usize| n.to_string();
        let lines = [
            ("deliveries to webhook-ingest", count(self.ingested.deliveries)),
            ("canonical events published", self.ingested.published.to_string()),
            ("duplicates absorbed", self.ingested.duplicates.to_string()),
            ("deliveries refused", count(self.ingested.refused)),
            ("function invocations by the dispatcher", count(self.dispatched.events_delivered)),
            ("schedules fired", count(self.dispatched.schedules_fired)),
            ("dead-lettered", count(self.dispatched.dead_lettered)),
            ("customer profiles", count(figures.profiles)),
            ("checkouts started today", count(self.shop.checkouts.len())),
            ("checkouts abandoned (reminded)", figures.abandoned.to_string()),
            ("checkouts recovered", figures.recovered_count.to_string()),
            ("recovered revenue", joined(report.recovered.iter().map(|a| format!("{} {}", a.currency, a.amount)))),
            ("mails sent", count(mails.len())),
            ("customers with a value outlook", count(figures.outlooks)),
            (
                "predicted value, next 12 months",
                joined(figures.predicted.iter().map(|(c, v)| format!("{c} {}", money(*v)))),
            ),
            ("top 10 % by predicted value", count(figures.top_decile)),
            ("lapsing (next order a month late)", count(figures.lapsing)),
            ("run time", format!("{:.0} s", started.elapsed().as_secs_f64())),
        ];
        let mut summary = Summary {
            lines: lines.into_iter().map(|(label, value)| (label.to_owned(), value)).collect(),
            programs: figures
                .results
                .by_program
                .iter()
                .filter(|(_, r)| r.sent > 0)
                .map(|(p, r)| (p.clone(), r.sent))
                .collect(),
            segments: figures.segments,
            recovered: figures.recovered_count,
            refused: self.ingested.refused,
            outlooks: figures.outlooks,
            path: PathBuf::new(),
            report,
        };
        summary.report.figures = summary.lines.clone();
        summary.print();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/demo");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("report.html"), summary.report.render()?)?;
        summary.path = dir.join("report.html").canonicalize()?;
        Ok(summary)
    }

    /// Revenue share per segment from the summary rfm-nightly stored (none before its run).
    async fn revenue_shares(&self) -> BTreeMap<String, f64> {
        let Some(summary) = self.live.segment_summary().await else { return BTreeMap::new() };
        summary["segments"]
            .as_object()
            .map(|segments| {
                segments.iter().map(|(name, f)| (name.clone(), f["revenue_share"].as_f64().unwrap_or(0.0))).collect()
            })
            .unwrap_or_default()
    }
}

/// The mails as the emulator holds them, newest first, with the program that sent each.
fn gallery(mails: &[StoredMail], programs: &BTreeMap<Option<String>, String>) -> Vec<MailCard> {
    mails
        .iter()
        .rev()
        .map(|mail| MailCard {
            to: mail.destination.to.join(", "),
            subject: mail.subject.clone(),
            program: programs.get(&Some(mail.message_id.clone())).cloned().unwrap_or_else(|| "?".to_owned()),
            html: offline(mail.body.html.as_deref().unwrap_or_default()),
        })
        .collect()
}

/// A mail's HTML without its web-font imports: the report is opened offline, and a font
/// that cannot load only falls back to the mail's own fallback fonts.
fn offline(html: &str) -> String {
    html.lines()
        .filter(|line| !(line.contains("fonts.googleapis.com") || line.trim_start().starts_with("@import url(")))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Summary {
    fn print(&self) {
        println!();
        println!("Summary");
        for (label, value) in &self.lines {
            println!("  {label:<40} {value}");
        }
        println!("  mails per program");
        for (program, sent) in &self.programs {
            println!("    {program:<38} {sent}");
        }
        println!("  customers per segment");
        for (segment, count) in &self.segments {
            println!("    {segment:<38} {count}");
        }
        println!("  SES emulator's viewer (while the stack runs) {}", self.report.viewer_url);
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        if self.refused > 0 {
            return Err("webhook-ingest refused some of the shop's deliveries".into());
        }
        if self.recovered == 0 {
            return Err("no abandoned checkout was recovered".into());
        }
        let silent: Vec<&str> =
            LIVE_PROGRAMS.into_iter().filter(|p| !self.programs.keys().any(|k| k.starts_with(p))).collect();
        if !silent.is_empty() {
            return Err(format!("live programs that sent nothing: {silent:?}").into());
        }
        if !self.programs.keys().any(|k| k.starts_with("campaign")) {
            return Err("the campaign sent nothing".into());
        }
        if self.segments.is_empty() {
            return Err("rfm-nightly filed nobody in a segment".into());
        }
        if self.outlooks == 0 {
            return Err("rfm-nightly wrote no value outlook".into());
        }
        Ok(())
    }
}
