//! `relance profile EMAIL`: one customer as a person reads them — who they are, whether they
//! may be mailed, what they bought, what they left in a cart, where the nightly scoring put
//! them, and the last mails Relance sent them with what became of each. Read through the
//! same look-up every function uses ([`relance::use_cases::lookup`]), so it shows the
//! profile an event about this address would reach.

use chrono::{DateTime, Utc};
use relance::ids::{Email, ShopId};
use relance::money::Money;
use relance::ports::{ProfileStore, StoreError};
use relance::profile::{IdentityKey, Profile, Record};
use relance::use_cases::lookup::find_profile;
use serde::Serialize;
use std::fmt::Write;

/// How many mails the view lists, newest first.
pub const LAST_MAILS: usize = 10;

/// A profile and the records beside it.
#[derive(Debug, Clone)]
pub struct Customer {
    pub profile: Profile,
    pub records: Vec<Record>,
}

pub async fn look_up(store: &dyn ProfileStore, shop: &ShopId, email: &Email) -> Result<Option<Customer>, StoreError> {
    let Some(profile) = find_profile(store, shop, None, &[IdentityKey::Email(email.clone())]).await? else {
        return Ok(None);
    };
    let records = store.records(shop, &profile.id).await?;
    Ok(Some(Customer { profile, records }))
}

/// A serde enum's name as it is stored (`hard_bounce`, `super_active`).
fn label<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn money(amount: &Money) -> String {
    format!("{amount} {}", amount.currency())
}

/// The text `relance profile` prints.
pub fn render(customer: &Customer) -> String {
    let p = &customer.profile;
    let mut out = String::new();
    let name = [&p.contact.first_name, &p.contact.last_name]
        .iter()
        .filter_map(|n| n.as_ref().map(|n| n.value.clone()))
        .collect::<Vec<_>>()
        .join(" ");
    let email = p.email().map(ToString::to_string).unwrap_or_else(|| "no e-mail".to_owned());
    let _ = writeln!(out, "{}{email}", if name.is_empty() { String::new() } else { format!("{name}, ") });
    let _ = writeln!(out, "  profile {} of shop {}, known since {}", p.id, p.shop, day(p.created_at));
    let mut known = Vec::new();
    if !p.customer_ids.is_empty() {
        let ids: Vec<String> = p.customer_ids.iter().map(ToString::to_string).collect();
        known.push(format!("customer {}", ids.join(", ")));
    }
    if !p.visitor_ids.is_empty() {
        known.push(format!("{} browser visitor id(s)", p.visitor_ids.len()));
    }
    if let Some(phone) = &p.contact.phone {
        known.push(format!("phone {}", phone.value));
    }
    if let Some(locale) = &p.contact.locale {
        known.push(format!("locale {}", locale.value));
    }
    if !known.is_empty() {
        let _ = writeln!(out, "  {}", known.join("; "));
    }

    let consent = match &p.consent {
        Some(c) => format!("{} ({}, {})", label(&c.value.state), c.value.source, minute(c.stamp.at)),
        None => "never stated (no marketing mail)".to_owned(),
    };
    let _ = writeln!(out, "  marketing consent: {consent}");
    if let Some(s) = &p.suppression {
        let _ = writeln!(out, "  SUPPRESSED: {} since {}: no mail of any kind", label(&s.value), minute(s.stamp.at));
    }

    match &p.segment {
        Some(standing) => {
            let segment = standing.segment.map(|s| s.as_str().to_owned()).unwrap_or_else(|| "none (no order)".into());
            let rfm = standing.score.map(|s| format!(", RFM {}-{}-{}", s.r, s.f, s.m)).unwrap_or_default();
            let _ = writeln!(
                out,
                "  segment {segment}{rfm}, tier {} (scored {})",
                label(&standing.tier),
                day(standing.scored_at)
            );
            if let Some(o) = &standing.outlook {
                let top = o.value_top_percent.map(|t| format!(", top {t} % of the shop")).unwrap_or_default();
                let next = o.next_order_by.map(|d| format!(", next order expected by {d}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  predicted: {} in 12 months, P(active) {:.1} %{next}{top}",
                    money(&o.value_12m),
                    f64::from(o.p_active_milli) / 10.0
                );
            }
        }
        None => {
            let _ = writeln!(out, "  not scored yet (rfm-nightly scores every profile each night)");
        }
    }

    render_orders(customer, &mut out);
    render_checkouts(customer, &mut out);
    render_mails(customer, &mut out);
    out
}

fn render_orders(customer: &Customer, out: &mut String) {
    let mut orders: Vec<_> =
        customer.records.iter().filter_map(|r| if let Record::Order(o) = r { Some(o) } else { None }).collect();
    let summaries = &customer.profile.orders;
    orders.sort_by_key(|o| std::cmp::Reverse(summaries.get(&o.order_id).and_then(|s| s.placed_at)));
    let _ = writeln!(out, "orders: {}", summaries.len());
    for order in orders {
        let summary = summaries.get(&order.order_id);
        let placed = summary.and_then(|s| s.placed_at).map(day).unwrap_or_else(|| "          ".into());
        let name = order.name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| order.order_id.to_string());
        let total = order.total.as_ref().map(|t| money(&t.amount)).unwrap_or_else(|| "no total".into());
        let mut state = Vec::new();
        if let Some(s) = summary {
            if s.cancelled {
                state.push("cancelled".to_owned());
            }
            if s.paid {
                state.push("paid".to_owned());
            }
            if s.fulfilled {
                state.push("shipped".to_owned());
            }
            if let Some(at) = s.delivered_at {
                state.push(format!("delivered {}", day(at)));
            }
            if let Some(refunded) = &s.refunded {
                state.push(format!("refunded {}", money(refunded)));
            }
        }
        let _ = writeln!(out, "  {placed}  {name}  {total}  {}", state.join(", "));
    }
}

fn render_checkouts(customer: &Customer, out: &mut String) {
    let open: Vec<_> = customer
        .records
        .iter()
        .filter_map(|r| if let Record::Checkout(c) = r { Some(c) } else { None })
        .filter(|c| !c.is_completed() && !c.is_empty())
        .collect();
    let _ = writeln!(out, "open checkouts: {}", open.len());
    for checkout in open {
        let total = checkout.total.as_ref().map(|t| money(&t.value)).unwrap_or_else(|| "no total".into());
        let lines = checkout.lines.as_ref().map_or(0, |l| l.value.len());
        let _ = writeln!(
            out,
            "  {}  {total}, {lines} line(s), last activity {}",
            day(checkout.started_at),
            minute(checkout.last_activity_at)
        );
    }
}

fn render_mails(customer: &Customer, out: &mut String) {
    let mut mails: Vec<_> = customer
        .records
        .iter()
        .filter_map(|r| if let Record::Message(m) = r { Some(m) } else { None })
        .filter(|m| m.sent_at.is_some() || m.unconfirmed_at.is_some())
        .collect();
    mails.sort_by_key(|m| std::cmp::Reverse(m.sent_at.or(m.unconfirmed_at)));
    let _ = writeln!(out, "last mails: {} of {}", mails.len().min(LAST_MAILS), mails.len());
    for mail in mails.into_iter().take(LAST_MAILS) {
        let at = mail.sent_at.or(mail.unconfirmed_at).map(minute).unwrap_or_default();
        let program = mail.program.clone().unwrap_or_else(|| "mail".into());
        let step = mail.step.map(|s| format!(" step {s}")).unwrap_or_default();
        let subject = mail.subject.as_ref().map(|s| format!(" \"{s}\"")).unwrap_or_default();
        let mut outcome = if mail.sent_at.is_some() { vec!["sent".to_owned()] } else { vec!["unconfirmed".to_owned()] };
        outcome.extend(mail.signals.keys().cloned());
        let _ = writeln!(out, "  {at}  {program}{step}{subject}: {}", outcome.join(", "));
    }
}

#[cfg(test)]
mod tests;
