//! Nelder–Mead on unconstrained coordinates (the models' parameters are positive, so they
//! are optimised as logarithms). Chosen because the likelihoods are smooth but their
//! gradients through the hypergeometric and log-gamma terms are long to write and check;
//! with the customers grouped into distinct histories an evaluation is cheap, and the
//! simplex converges to the reference libraries' gradient-based optimum to many digits.
//! Standard coefficients (reflect 1, expand 2, contract ½, shrink ½); it stops when the
//! simplex's values agree to `1e-10` relative and its points to `1e-7` (or its values to the
//! last bits, or 500 steps gain less than `1e-11` relative: a ridge that no longer
//! improves), and is restarted
//! once from the best point, which guards against a collapsed simplex. Coordinates stay
//! within ±[`BOUND`]: some shops' data put the likelihood's supremum at infinity (no sign of
//! dropout, say), and a search bounded there converges to the limit instead of walking
//! away forever.

#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub at: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    pub converged: bool,
}

const MAX_ITERATIONS: usize = 20_000;

/// e^±18 ≈ 6.6·10^±7: beyond any parameter a shop's data can tell apart from infinity.
pub const BOUND: f64 = 18.0;

pub fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, start: &[f64]) -> Minimum {
    let first = run(f, start, 0.5);
    let second = run(f, &first.at, 0.05);
    Minimum { iterations: first.iterations + second.iterations, ..second }
}

fn run(f: &dyn Fn(&[f64]) -> f64, start: &[f64], step: f64) -> Minimum {
    let n = start.len();
    let value = |x: &[f64]| {
        if x.iter().any(|c| c.abs() > BOUND) {
            return f64::INFINITY;
        }
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((start.to_vec(), value(start)));
    for i in 0..n {
        let mut point = start.to_vec();
        point[i] += step;
        let v = value(&point);
        simplex.push((point, v));
    }
    let along =
        |from: &[f64], to: &[f64], t: f64| -> Vec<f64> { from.iter().zip(to).map(|(a, b)| a + t * (b - a)).collect() };
    let mut checkpoint = f64::INFINITY;
    for iteration in 0..MAX_ITERATIONS {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[n].1);
        // Creeping along a ridge towards the bound: 500 steps that gain less than 1e-11
        // relative are as good as converged for every figure derived from the fit.
        if iteration % 500 == 0 {
            if checkpoint - best <= 1e-11 * (1.0 + best.abs()) && best.is_finite() {
                return Minimum { at: simplex[0].0.clone(), value: best, iterations: iteration, converged: true };
            }
            checkpoint = best;
        }
        let spread = simplex
            .iter()
            .skip(1)
            .flat_map(|(p, _)| p.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        let values_agree = (worst - best).abs() <= 1e-10 * (1.0 + best.abs());
        // Points within 1e-7 (relative 1e-7 on the parameters), or values that agree to the
        // last digits: a likelihood flat along a ridge to infinity does not improve further.
        let flat = (worst - best).abs() <= 4.0 * f64::EPSILON * (1.0 + best.abs());
        if (values_agree && spread <= 1e-7) || flat {
            return Minimum { at: simplex[0].0.clone(), value: best, iterations: iteration, converged: true };
        }
        let centroid: Vec<f64> =
            (0..n).map(|j| simplex[..n].iter().map(|(p, _)| p[j]).sum::<f64>() / n as f64).collect();
        let reflected = along(&centroid, &simplex[n].0, -1.0);
        let fr = value(&reflected);
        if fr < simplex[0].1 {
            let expanded = along(&centroid, &simplex[n].0, -2.0);
            let fe = value(&expanded);
            simplex[n] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let (toward, ft) = if fr < simplex[n].1 { (reflected, fr) } else { (simplex[n].0.clone(), simplex[n].1) };
            let contracted = along(&centroid, &toward, 0.5);
            let fc = value(&contracted);
            if fc < ft {
                simplex[n] = (contracted, fc);
            } else {
                let best_point = simplex[0].0.clone();
                for (point, v) in simplex.iter_mut().skip(1) {
                    *point = along(&best_point, point, 0.5);
                    *v = value(point);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    Minimum { at: simplex[0].0.clone(), value: simplex[0].1, iterations: MAX_ITERATIONS, converged: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rosenbrock_valley_is_walked_to_its_minimum() {
        let rosenbrock = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let minimum = nelder_mead(&rosenbrock, &[-1.2, 1.0]);
        assert!(minimum.converged);
        assert!((minimum.at[0] - 1.0).abs() < 1e-6 && (minimum.at[1] - 1.0).abs() < 1e-6, "{minimum:?}");
    }
}
