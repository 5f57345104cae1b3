//! Folding canonical events into a profile, and merging two profiles of one person.
//!
//! Both are joins over the lattice fields, so they commute: the order events arrive in never
//! changes the result. See the module doc of [`super`] for the one exception (view counts).

use super::{
    BoughtProduct, ConsentDecision, ConsentState, Interest, OrderSummary, Profile, SuppressionReason, TimedMoney,
};
use crate::events::{Customer, Event, LineItem, MailSignal, Order, Payload, SupportKind};
use crate::lattice::{Lww, Stamp, join_lww, join_max, join_min};
use crate::money::Money;
use chrono::{DateTime, Utc};

impl Profile {
    /// Applies one canonical event.
    pub fn apply(&mut self, event: &Event) {
        let stamp = Stamp { at: event.occurred_at, event: event.id.clone() };
        let at = event.occurred_at;
        self.touch(at);
        let lww = |value: Option<String>| value.map(|v| Lww::new(v, stamp.clone()));
        join_lww(&mut self.contact.email, event.identity.email.clone().map(|e| Lww::new(e, stamp.clone())), false);
        self.customer_ids.extend(event.identity.customer_id.clone());
        self.visitor_ids.extend(event.identity.visitor_id.clone());
        join_lww(&mut self.contact.locale, lww(event.context.locale.clone()), false);
        join_lww(&mut self.contact.time_zone, lww(event.context.time_zone.clone()), false);
        if !event.context.acquisition.is_empty() {
            join_lww(&mut self.acquisition, Some(Lww::new(event.context.acquisition.clone(), stamp.clone())), true);
        }
        join_min(&mut self.engagement.first_seen_at, Some(at));
        join_max(&mut self.engagement.last_seen_at, Some(at));

        match &event.payload {
            Payload::CustomerUpserted(customer) | Payload::SignedUp(customer) => {
                self.apply_customer(customer, &stamp, event.received_at)
            }
            Payload::ConsentChanged(change) => {
                let decision = ConsentDecision { state: change.state, source: change.source.clone() };
                // A decision is never later than its arrival: a sender's clock (or a forged
                // `changed_at`) stamped in the future must not outrank what comes after it.
                let stamp = Stamp { at: change.changed_at.min(event.received_at), event: event.id.clone() };
                join_consent(&mut self.consent, Lww::new(decision, stamp));
            }
            Payload::OrderPlaced(order) => self.apply_order(order, &stamp, false, false),
            Payload::OrderPaid(order) => self.apply_order(order, &stamp, true, false),
            Payload::OrderCancelled(order) => self.apply_order(order, &stamp, false, true),
            Payload::OrderRefunded(refund) => {
                let summary = self.orders.entry(refund.order_id.clone()).or_default();
                summary.refunded = Some(match summary.refunded {
                    Some(current) if current.currency() == refund.amount.currency() => {
                        Money::from_minor(current.minor().max(refund.amount.minor()), current.currency())
                    }
                    _ => refund.amount,
                });
            }
            Payload::OrderFulfilled(fulfillment) => {
                self.orders.entry(fulfillment.order_id.clone()).or_default().fulfilled = true;
            }
            Payload::OrderDelivered(fulfillment) => {
                let summary = self.orders.entry(fulfillment.order_id.clone()).or_default();
                summary.fulfilled = true;
                join_min(&mut summary.delivered_at, Some(at));
            }
            Payload::PageViewed(_) => self.engagement.join_visits([at.date_naive()]),
            Payload::ProductViewed(view) => {
                self.engagement.join_visits([at.date_naive()]);
                join_max(&mut self.engagement.last_viewed_at, Some(at));
                // Views come from the public tracker: a stranger with a visitor id may send
                // any categories, so only a few, of a bounded length, count, and the
                // interests stay within their budget (`bound_interests`).
                for category in view.categories.iter().take(MAX_VIEW_CATEGORIES) {
                    if category.chars().count() <= MAX_INTEREST_CHARS {
                        let interest = self.interests.entry(format!("category:{category}")).or_default();
                        interest.views = interest.views.saturating_add(1);
                    }
                }
                self.bound_interests();
            }
            Payload::SupportInteraction(support) => {
                let ticket = self.tickets.entry(support.ticket_id.clone()).or_default();
                match support.kind {
                    SupportKind::TicketOpened => join_min(&mut ticket.opened_at, Some(at)),
                    SupportKind::TicketClosed => join_max(&mut ticket.closed_at, Some(at)),
                    SupportKind::Satisfaction => {}
                }
                if let Some(score) = support.score.filter(|s| (1..=5).contains(s)) {
                    join_lww(&mut ticket.satisfaction, Some(Lww::new(score, stamp.clone())), false);
                }
            }
            Payload::CheckoutStarted(_)
            | Payload::CheckoutUpdated(_)
            | Payload::CheckoutCompleted(_)
            | Payload::CartUpdated(_)
            | Payload::ProductPublished(_)
            | Payload::DataRequested(_)
            | Payload::CustomerRedacted(_)
            | Payload::ShopRedacted => {}
        }
    }

    /// Applies what the mail provider reported.
    pub fn record_mail(&mut self, signal: MailSignal, stamp: Stamp) {
        let at = Some(stamp.at);
        self.touch(stamp.at);
        match signal {
            MailSignal::Delivered => join_max(&mut self.engagement.last_delivered_at, at),
            MailSignal::Opened => join_max(&mut self.engagement.last_opened_at, at),
            MailSignal::Clicked => join_max(&mut self.engagement.last_clicked_at, at),
            MailSignal::HardBounce | MailSignal::Complaint => {
                let reason = if signal == MailSignal::Complaint {
                    SuppressionReason::Complaint
                } else {
                    SuppressionReason::HardBounce
                };
                join_lww(&mut self.suppression, Some(Lww::new(reason, stamp.clone())), true);
                if signal == MailSignal::Complaint {
                    let decision =
                        ConsentDecision { state: ConsentState::Unsubscribed, source: "ses-complaint".to_owned() };
                    join_consent(&mut self.consent, Lww::new(decision, stamp));
                }
            }
        }
    }

    /// Records that Relance sent this person a mail of `kind` at `at`; `last_chance`: the
    /// reactivation program's last mail.
    pub fn record_sent(&mut self, kind: crate::mail::MailKind, at: DateTime<Utc>, last_chance: bool) {
        self.touch(at);
        if kind == crate::mail::MailKind::Marketing {
            join_max(&mut self.engagement.last_marketing_at, Some(at));
        }
        if last_chance {
            join_max(&mut self.engagement.last_chance_at, Some(at));
        }
    }

    /// Joins `other` (another profile of the same person) into this one.
    ///
    /// Purchase tallies (product quantities, purchase interests) add up: an order whose
    /// events reached both profiles is counted in both. Order events carry the buyer's
    /// e-mail, so they land on the identified profile; what merges in is mostly anonymous
    /// browsing, whose views must add up.
    pub fn merge(&mut self, other: Profile) {
        let contact = other.contact;
        join_lww(&mut self.contact.email, contact.email, false);
        join_lww(&mut self.contact.first_name, contact.first_name, false);
        join_lww(&mut self.contact.last_name, contact.last_name, false);
        join_lww(&mut self.contact.phone, contact.phone, false);
        join_lww(&mut self.contact.locale, contact.locale, false);
        join_lww(&mut self.contact.time_zone, contact.time_zone, false);
        self.customer_ids.extend(other.customer_ids);
        self.visitor_ids.extend(other.visitor_ids);
        self.merged.extend(other.merged);
        if other.id != self.id {
            self.merged.insert(other.id);
        }
        if let Some(consent) = other.consent {
            join_consent(&mut self.consent, consent);
        }
        join_lww(&mut self.suppression, other.suppression, true);
        join_lww(&mut self.acquisition, other.acquisition, true);
        let (mine, theirs) = (&mut self.engagement, other.engagement);
        join_min(&mut mine.first_seen_at, theirs.first_seen_at);
        join_max(&mut mine.last_seen_at, theirs.last_seen_at);
        join_max(&mut mine.last_viewed_at, theirs.last_viewed_at);
        join_max(&mut mine.last_delivered_at, theirs.last_delivered_at);
        join_max(&mut mine.last_opened_at, theirs.last_opened_at);
        join_max(&mut mine.last_clicked_at, theirs.last_clicked_at);
        join_max(&mut mine.last_marketing_at, theirs.last_marketing_at);
        join_max(&mut mine.last_chance_at, theirs.last_chance_at);
        mine.join_visits(theirs.visit_days);
        for (id, summary) in other.orders {
            join_order(self.orders.entry(id).or_default(), summary);
        }
        for (id, bought) in other.products {
            match self.products.get_mut(&id) {
                Some(mine) => join_bought(mine, bought),
                None => {
                    self.products.insert(id, bought);
                }
            }
        }
        for (id, theirs) in other.tickets {
            let mine = self.tickets.entry(id).or_default();
            join_min(&mut mine.opened_at, theirs.opened_at);
            join_max(&mut mine.closed_at, theirs.closed_at);
            join_lww(&mut mine.satisfaction, theirs.satisfaction, false);
        }
        for (key, interest) in other.interests {
            let mine = self.interests.entry(key).or_default();
            mine.views = mine.views.saturating_add(interest.views);
            mine.purchases = mine.purchases.saturating_add(interest.purchases);
        }
        self.bound_interests();
        // The latest scoring stands until the next run scores the merged person.
        if other.segment.as_ref().map(|s| s.scored_at) > self.segment.as_ref().map(|s| s.scored_at) {
            self.segment = other.segment;
        }
        self.created_at = self.created_at.min(other.created_at);
        self.updated_at = self.updated_at.max(other.updated_at);
        // What either profile applied, the merged one has applied.
        for (key, at) in other.applied {
            self.remember_fingerprint(key, at);
        }
    }

    fn touch(&mut self, at: DateTime<Utc>) {
        self.created_at = self.created_at.min(at);
        self.updated_at = self.updated_at.max(at);
    }

    /// `received_at` bounds the consent decision's time, as for a `consent.changed`.
    fn apply_customer(&mut self, customer: &Customer, stamp: &Stamp, received_at: DateTime<Utc>) {
        let lww = |value: &Option<String>| value.clone().map(|v| Lww::new(v, stamp.clone()));
        join_lww(&mut self.contact.first_name, lww(&customer.first_name), false);
        join_lww(&mut self.contact.last_name, lww(&customer.last_name), false);
        join_lww(&mut self.contact.phone, lww(&customer.phone), false);
        if let Some(change) = &customer.marketing_consent {
            let decision = ConsentDecision { state: change.state, source: change.source.clone() };
            join_consent(
                &mut self.consent,
                Lww::new(decision, Stamp { at: change.changed_at.min(received_at), event: stamp.event.clone() }),
            );
        }
    }

    fn apply_order(&mut self, order: &Order, stamp: &Stamp, paid: bool, cancelled: bool) {
        let summary = self.orders.entry(order.order_id.clone()).or_default();
        join_min(&mut summary.placed_at, Some(stamp.at));
        TimedMoney::join(&mut summary.total, Some(TimedMoney { at: stamp.at, amount: order.total }));
        summary.paid |= paid || order.financial_status.as_deref() == Some("paid");
        summary.fulfilled |= order.fulfillment_status.as_deref() == Some("fulfilled");
        summary.cancelled |= cancelled || order.cancelled_at.is_some();
        // Every event of an order carries its lines: count them once, whichever comes first.
        let count_lines = !summary.lines_counted && !order.line_items.is_empty();
        summary.lines_counted |= count_lines;
        for line in &order.line_items {
            self.record_purchase(line, stamp, count_lines);
        }
    }

    /// Names and times join on every order event with lines; quantities count once per order.
    fn record_purchase(&mut self, line: &LineItem, stamp: &Stamp, count: bool) {
        let Some(product) = &line.product_id else { return };
        let offered = BoughtProduct {
            title: Lww::new(line.title.clone(), stamp.clone()),
            variant_title: line.variant_title.clone().map(|v| Lww::new(v, stamp.clone())),
            vendor: line.vendor.clone().map(|v| Lww::new(v, stamp.clone())),
            first_bought_at: stamp.at,
            last_bought_at: stamp.at,
            quantity: if count { u64::from(line.quantity) } else { 0 },
            orders: u32::from(count),
            unit_price: Some(Lww::new(line.unit_price, stamp.clone())),
            image_url: line.image_url.clone().map(|u| Lww::new(u, stamp.clone())),
            categories: line.categories.iter().cloned().collect(),
        };
        match self.products.get_mut(product) {
            Some(mine) => join_bought(mine, offered),
            None => {
                self.products.insert(product.clone(), offered);
            }
        }
        if count {
            let keys = line
                .categories
                .iter()
                .map(|c| format!("category:{c}"))
                .chain(line.product_type.iter().map(|t| format!("type:{t}")))
                .chain(line.vendor.iter().map(|v| format!("vendor:{v}")));
            for key in keys {
                let interest: &mut Interest = self.interests.entry(key).or_default();
                interest.purchases = interest.purchases.saturating_add(line.quantity);
            }
        }
        self.bound_interests();
    }

    /// Keeps the [`MAX_INTERESTS`] heaviest interests (a purchase outweighs five views; at
    /// equal weight the first by name stays): the profile is one DynamoDB item, and no
    /// stream of views may grow it until a person's orders, consent or erasure can no
    /// longer be written.
    fn bound_interests(&mut self) {
        if self.interests.len() <= MAX_INTERESTS {
            return;
        }
        let mut ranked: Vec<(u32, String)> = self.interests.iter().map(|(k, i)| (i.weight(), k.clone())).collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (_, key) in ranked.drain(MAX_INTERESTS..) {
            self.interests.remove(&key);
        }
    }
}

/// At most this many interests per profile (see [`Profile::bound_interests`]).
pub const MAX_INTERESTS: usize = 64;
/// Categories of one product view that count.
pub const MAX_VIEW_CATEGORIES: usize = 8;
/// A category longer than this (in characters) is no category a shop uses: not counted.
pub const MAX_INTEREST_CHARS: usize = 100;

/// Latest decision wins; at the same instant, unsubscribing wins over anything else.
fn join_consent(current: &mut Option<Lww<ConsentDecision>>, offered: Lww<ConsentDecision>) {
    let rank =
        |d: &Lww<ConsentDecision>| (d.stamp.at, d.value.state == ConsentState::Unsubscribed, d.stamp.event.clone());
    if current.as_ref().is_none_or(|c| rank(&offered) > rank(c)) {
        *current = Some(offered);
    }
}

fn join_order(mine: &mut OrderSummary, theirs: OrderSummary) {
    join_min(&mut mine.placed_at, theirs.placed_at);
    TimedMoney::join(&mut mine.total, theirs.total);
    mine.refunded = match (mine.refunded, theirs.refunded) {
        (Some(a), Some(b)) if a.currency() == b.currency() => Some(if b.minor() > a.minor() { b } else { a }),
        (a, b) => a.or(b),
    };
    mine.paid |= theirs.paid;
    mine.fulfilled |= theirs.fulfilled;
    join_min(&mut mine.delivered_at, theirs.delivered_at);
    mine.cancelled |= theirs.cancelled;
    mine.lines_counted |= theirs.lines_counted;
}

fn join_bought(mine: &mut BoughtProduct, theirs: BoughtProduct) {
    let mut title = Some(mine.title.clone());
    join_lww(&mut title, Some(theirs.title), false);
    if let Some(title) = title {
        mine.title = title;
    }
    join_lww(&mut mine.variant_title, theirs.variant_title, false);
    join_lww(&mut mine.vendor, theirs.vendor, false);
    mine.first_bought_at = mine.first_bought_at.min(theirs.first_bought_at);
    mine.last_bought_at = mine.last_bought_at.max(theirs.last_bought_at);
    mine.quantity = mine.quantity.saturating_add(theirs.quantity);
    mine.orders = mine.orders.saturating_add(theirs.orders);
    join_lww(&mut mine.unit_price, theirs.unit_price, false);
    join_lww(&mut mine.image_url, theirs.image_url, false);
    mine.categories.extend(theirs.categories);
}
