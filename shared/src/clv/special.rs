//! The special functions the two models need, computed where they do not overflow: the
//! log-gamma function (from `libm`), the Gauss hypergeometric series in the transformed form
//! BG/NBD's conditional expectation reduces to, and a stable log-sum-exp.

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma_r(x).0
}

/// ln(e^a + e^b) without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if hi == f64::NEG_INFINITY { hi } else { hi + (lo - hi).exp().ln_1p() }
}

/// 1 / (1 + e^d), also for |d| in the hundreds.
pub fn logistic_complement(d: f64) -> f64 {
    if d > 0.0 {
        let e = (-d).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + d.exp())
    }
}

/// ₂F₁(a, b; c; z) by its series, for 0 ≤ z < 1 and parameters small beside `c` — the form
/// BG/NBD's expectation takes after Euler's transformation, where the terms shrink from the
/// start (the untransformed series of a heavy buyer grows to e^hundreds before it
/// shrinks). Stops when a term no longer changes the sum.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (sum, log_scale) = hyp2f1_scaled(a, b, c, z);
    sum * log_scale.exp()
}

/// ₂F₁(a, b; c; z) as `(m, s)` with the value m·eˢ: the same series, rescaled whenever the
/// partial sum passes 10²⁰⁰, so a series whose terms grow to e^thousands before they shrink
/// (a heavy buyer under near-constant dropout) stays finite until its caller multiplies it
/// by a factor as small, in log space.
pub fn hyp2f1_scaled(a: f64, b: f64, c: f64, z: f64) -> (f64, f64) {
    const RESCALE: f64 = 1e200;
    let (mut term, mut sum, mut log_scale) = (1.0f64, 1.0f64, 0.0f64);
    for k in 0..100_000 {
        let k = f64::from(k);
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if sum.abs() > RESCALE {
            (term, sum, log_scale) = (term / RESCALE, sum / RESCALE, log_scale + RESCALE.ln());
        }
        if term.abs() <= f64::EPSILON * sum.abs() {
            break;
        }
    }
    (sum, log_scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_gamma_and_the_series_match_known_values() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z.
        let z = 0.6f64;
        assert!((hyp2f1(1.0, 1.0, 2.0, z) - (-(1.0 - z).ln() / z)).abs() < 1e-13);
        // ₂F₁(a, b; b; z) = (1 − z)^−a.
        assert!((hyp2f1(0.3, 2.5, 2.5, 0.4) - 0.6f64.powf(-0.3)).abs() < 1e-13);
        assert_eq!(log_add_exp(f64::NEG_INFINITY, 0.0), 0.0);
        assert!((log_add_exp(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-9);
        assert!((logistic_complement(800.0)).is_finite() && logistic_complement(-800.0) == 1.0);
    }
}
