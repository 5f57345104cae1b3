//! BG/NBD (Fader, Hardie and Lee, "Counting your customers the easy way", 2005): while
//! active a customer buys at a Poisson rate λ ~ Gamma(r, α), and after each purchase drops
//! out with probability p ~ Beta(a, b).

use super::History;
use super::optimise::nelder_mead;
use super::special::{hyp2f1_scaled, ln_gamma, log_add_exp, logistic_complement};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbd {
    /// One customer's log-likelihood (equation 6 of the paper, with the two terms added in
    /// log space so a heavy buyer's huge powers never leave it).
    pub fn log_likelihood(&self, h: &History) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = h.repeat;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        let a3 = -(r + x) * (alpha + h.age).ln();
        let a4 =
            if x > 0.0 { a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + h.recency).ln() } else { f64::NEG_INFINITY };
        a1 + a2 + log_add_exp(a3, a4)
    }

    /// ln of the odds that a customer has dropped out, against still being active.
    fn log_dropout_odds(&self, h: &History) -> f64 {
        if h.repeat == 0.0 {
            return f64::NEG_INFINITY;
        }
        let BgNbd { r, alpha, a, b } = *self;
        (a / (b + h.repeat - 1.0)).ln() + (r + h.repeat) * ((alpha + h.age) / (alpha + h.recency)).ln()
    }

    /// P(still active | history) (equation 13).
    pub fn p_alive(&self, h: &History) -> f64 {
        logistic_complement(self.log_dropout_odds(h))
    }

    /// Expected purchases in the next `t` time units (equation 10). Its hypergeometric term
    /// ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z), z = t/(α+T+t), is summed in whichever
    /// of two equal forms has the series that shrinks from its first terms: as written when
    /// a + b is large beside x (a shop whose dropout is nearly the same for everyone), or
    /// Euler-transformed, (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z), when x is large (a heavy
    /// buyer, whose untransformed terms would grow to e^hundreds first).
    pub fn expected_purchases(&self, h: &History, t: f64) -> f64 {
        // At a = 1 the prefactor c/(a−1) is infinite and the bracket zero: a removable
        // singularity (the fit starts there), taken as the mean of its two sides.
        if (self.a - 1.0).abs() < 1e-7 {
            let side = |a: f64| BgNbd { a, ..*self }.expected_purchases(h, t);
            return 0.5 * (side(1.0 - 1e-6) + side(1.0 + 1e-6));
        }
        let BgNbd { r, alpha, a, b } = *self;
        let x = h.repeat;
        let z = t / (alpha + h.age + t);
        let c = a + b + x - 1.0;
        let (direct, euler) = (((r + x) * (b + x) / c).abs(), ((a + b - 1.0 - r) * (a - 1.0) / c).abs());
        let ((sum, log_scale), power) = if direct <= euler {
            (hyp2f1_scaled(r + x, b + x, c, z), r + x)
        } else {
            (hyp2f1_scaled(a + b - 1.0 - r, a - 1.0, c, z), a - 1.0)
        };
        // The power and the series' scale meet in log space: either alone may over- or
        // underflow where their product does not.
        let tail = sum.signum() * (power * (1.0 - z).ln() + sum.abs().ln() + log_scale).exp();
        c / (a - 1.0) * (1.0 - tail) * logistic_complement(self.log_dropout_odds(h))
    }

    /// The time by which one purchase is expected (`None` if not within `horizon`), to
    /// within `resolution` (a bisection: the expectation grows with time).
    pub fn time_to_next_purchase(&self, h: &History, horizon: f64, resolution: f64) -> Option<f64> {
        if self.expected_purchases(h, horizon) < 1.0 {
            return None;
        }
        let (mut lo, mut hi) = (0.0, horizon);
        while hi - lo > resolution {
            let mid = 0.5 * (lo + hi);
            if self.expected_purchases(h, mid) < 1.0 { lo = mid } else { hi = mid }
        }
        Some(hi)
    }

    /// Maximum likelihood over weighted histories (each distinct history once, with the
    /// number of customers who have it), with lifetimes' optional L2 penalty: the objective
    /// is the mean negative log-likelihood plus `penalty · (r² + α² + a² + b²)`.
    pub fn fit(histories: &[(History, f64)], penalty: f64) -> Result<(BgNbd, usize), super::ClvError> {
        let total: f64 = histories.iter().map(|(_, w)| w).sum();
        // The log-gamma terms depend on the repeat count only: computed once per distinct
        // count and evaluation, not once per history.
        let mut counts: Vec<f64> = histories.iter().map(|(h, _)| h.repeat).collect();
        counts.sort_by(f64::total_cmp);
        counts.dedup();
        let slot: Vec<usize> = histories.iter().map(|(h, _)| counts.partition_point(|c| *c < h.repeat)).collect();
        let objective = |log: &[f64]| {
            let p = BgNbd { r: log[0].exp(), alpha: log[1].exp(), a: log[2].exp(), b: log[3].exp() };
            let (ln_alpha, ln_a) = (p.alpha.ln(), p.a.ln());
            let by_count: Vec<(f64, f64)> = counts
                .iter()
                .map(|&x| {
                    let gammas =
                        ln_gamma(p.r + x) - ln_gamma(p.r) + p.r * ln_alpha + ln_gamma(p.a + p.b) + ln_gamma(p.b + x)
                            - ln_gamma(p.b)
                            - ln_gamma(p.a + p.b + x);
                    let dropout = if x > 0.0 { ln_a - (p.b + x - 1.0).ln() } else { f64::NEG_INFINITY };
                    (gammas, dropout)
                })
                .collect();
            let ll: f64 = histories
                .iter()
                .zip(&slot)
                .map(|((h, w), &k)| {
                    let (gammas, dropout) = by_count[k];
                    let stayed = -(p.r + h.repeat) * (p.alpha + h.age).ln();
                    let left = dropout - (p.r + h.repeat) * (p.alpha + h.recency).ln();
                    w * (gammas + log_add_exp(stayed, left))
                })
                .sum();
            -ll / total + penalty * (p.r * p.r + p.alpha * p.alpha + p.a * p.a + p.b * p.b)
        };
        let minimum = nelder_mead(&objective, &[0.0; 4]);
        let fitted = BgNbd {
            r: minimum.at[0].exp(),
            alpha: minimum.at[1].exp(),
            a: minimum.at[2].exp(),
            b: minimum.at[3].exp(),
        };
        if !minimum.converged || !minimum.value.is_finite() {
            return Err(super::ClvError::NoConvergence { model: "BG/NBD", iterations: minimum.iterations });
        }
        Ok((fitted, minimum.iterations))
    }
}
