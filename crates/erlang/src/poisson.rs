//! Poisson tails: how improbable a count is at an expected rate (the hot-spot report's
//! surprise and the outage detector's rule).

/// P(X ≥ k) for X ~ Poisson(λ), accurate far into the tail (summed in log space from the
/// k-th term when k lies above λ).
pub fn tail(k: u64, lambda: f64) -> f64 {
    if k == 0 || lambda <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    let ln_term = |j: u64| -lambda + j as f64 * lambda.ln() - ln_factorial(j);
    if (k as f64) <= lambda {
        // the lower part is the smaller sum: 1 − P(X < k)
        let below: f64 = (0..k).map(|j| ln_term(j).exp()).sum();
        return (1.0 - below).clamp(0.0, 1.0);
    }
    // terms fall from the k-th on: sum their ratios to it
    let (mut ratio, mut sum, mut j) = (1.0, 1.0, k);
    while ratio > 1e-17 * sum {
        j += 1;
        ratio *= lambda / j as f64;
        sum += ratio;
    }
    (ln_term(k) + sum.ln()).exp().clamp(f64::MIN_POSITIVE, 1.0)
}

/// The smallest count k with P(X ≥ k) < `p` for X ~ Poisson(λ): a count from k on is
/// improbable at level `p`.
pub fn threshold(lambda: f64, p: f64) -> u64 {
    let mut k = lambda.max(0.0).floor() as u64 + 1;
    while tail(k, lambda) >= p {
        k += 1;
    }
    k
}

/// ln k!, exact below 30, Stirling's series above.
fn ln_factorial(k: u64) -> f64 {
    if k < 30 {
        return (2..=k).map(|j| (j as f64).ln()).sum();
    }
    let n = k as f64;
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n)
        - 1.0 / (360.0 * n * n * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poisson_tail_agrees_with_the_sum_of_its_terms() {
        // P(X ≥ 3 | λ = 1) = 1 − e⁻¹(1 + 1 + 1/2)
        let exact = 1.0 - (-1.0f64).exp() * 2.5;
        assert!((tail(3, 1.0) - exact).abs() < 1e-12);
        // P(X ≥ 1 | λ = 2) = 1 − e⁻²
        assert!((tail(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
        // far in the tail: P(X ≥ 40 | λ = 5) ≈ e⁻⁵ 5⁴⁰/40! (1 + 5/41 + …)
        let p = tail(40, 5.0);
        assert!(p > 0.0 && p < 1e-20, "{p}");
        assert_eq!(tail(0, 3.0), 1.0);
        // the tail falls as the count grows
        assert!(tail(10, 3.0) > tail(11, 3.0));
    }

    #[test]
    fn stirling_joins_the_exact_factorials() {
        let exact: f64 = (2..=30u64).map(|j| (j as f64).ln()).sum();
        assert!((ln_factorial(30) - exact).abs() < 1e-9);
    }

    #[test]
    fn the_threshold_is_the_first_count_below_the_level() {
        for (lambda, p) in [(0.25, 1e-6), (3.0, 1e-4), (40.0, 1e-3)] {
            let k = threshold(lambda, p);
            assert!(tail(k, lambda) < p);
            assert!(tail(k - 1, lambda) >= p, "{lambda} {p} {k}");
        }
        // P(X ≥ 1 | λ = 0.01) = 1 − e^−0.01 ≈ 0.00995: one call is improbable at 1 %,
        // not at 0.5 %, where it takes two
        assert_eq!(threshold(0.01, 0.01), 1);
        assert_eq!(threshold(0.01, 0.005), 2);
    }
}
