//! Gamma-Gamma spend per order (Colombo and Jiang, 1999; Fader, Hardie and Lee, "RFM and
//! CLV", 2005): a customer's order values are Gamma(p, ν) around their own mean, ν ~
//! Gamma(q, γ) across customers. Fitted on repeat customers (x ≥ 1) with their mean order
//! value, independent of how often they buy.

use super::optimise::nelder_mead;
use super::special::ln_gamma;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

impl GammaGamma {
    /// One repeat customer's log-likelihood: `x` orders of mean value `m` (> 0).
    pub fn log_likelihood(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * gamma.ln() + (p * x - 1.0) * m.ln() + p * x * x.ln()
            - (p * x + q) * (x * m + gamma).ln()
    }

    /// Expected mean order value of a customer with `x` orders of mean `m` (`x = 0`: the
    /// population's mean, pγ/(q−1)).
    pub fn expected_order_value(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        if x <= 0.0 { p * gamma / (q - 1.0) } else { p * (gamma + x * m) / (p * x + q - 1.0) }
    }

    /// Maximum likelihood over weighted `(x, m)` (x ≥ 1, m > 0), with the same L2 penalty
    /// as [`super::BgNbd::fit`].
    pub fn fit(customers: &[((f64, f64), f64)], penalty: f64) -> Result<(GammaGamma, usize), super::ClvError> {
        let total: f64 = customers.iter().map(|(_, w)| w).sum();
        let objective = |log: &[f64]| {
            let g = GammaGamma { p: log[0].exp(), q: log[1].exp(), gamma: log[2].exp() };
            let ll: f64 = customers.iter().map(|((x, m), w)| w * g.log_likelihood(*x, *m)).sum();
            -ll / total + penalty * (g.p * g.p + g.q * g.q + g.gamma * g.gamma)
        };
        let minimum = nelder_mead(&objective, &[0.0; 3]);
        if !minimum.converged || !minimum.value.is_finite() {
            return Err(super::ClvError::NoConvergence { model: "Gamma-Gamma", iterations: minimum.iterations });
        }
        let fitted = GammaGamma { p: minimum.at[0].exp(), q: minimum.at[1].exp(), gamma: minimum.at[2].exp() };
        Ok((fitted, minimum.iterations))
    }
}
