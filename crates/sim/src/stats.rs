//! Estimates over replications: mean and 95 % confidence half-width (Student t).

use serde::Serialize;

/// A mean over replications and the half-width of its 95 % confidence interval
/// (`None` with fewer than two replications).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean of the replication values.
    pub mean: f64,
    /// 95 % half-width: t(0.975, R−1) · s / √R.
    pub ci95: Option<f64>,
}

impl Estimate {
    /// From one value per replication (non-finite values are skipped).
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let ci95 = (v.len() > 1).then(|| {
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            t975(v.len() - 1) * (var / n).sqrt()
        });
        Some(Estimate { mean, ci95 })
    }

    /// Whether `x` lies inside the interval.
    pub fn covers(&self, x: f64) -> bool {
        self.ci95.is_some_and(|h| (x - self.mean).abs() <= h)
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            // Cornish–Fisher expansion around the normal quantile
            let z = 1.959_963_984_540_054_f64;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_and_intervals() {
        assert_eq!(t975(9), 2.262);
        assert!((t975(40) - 2.021).abs() < 0.001);
        assert!((t975(120) - 1.980).abs() < 0.001);
        let e = Estimate::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(e.mean, 2.0);
        assert!((e.ci95.unwrap() - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert!(e.covers(4.0) && !e.covers(4.5));
        assert_eq!(Estimate::of(&[5.0]).unwrap().ci95, None);
        assert!(Estimate::of(&[]).is_none());
    }
}
