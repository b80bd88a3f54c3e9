//! Random durations: handle times, wrap-up, patience, retrial delays.

use crate::SimError;
use hotline_acd::rng::Rng;
use serde::{Deserialize, Serialize};

/// A distribution of seconds, as written in a scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "distribution", rename_all = "kebab-case")]
pub enum Duration {
    /// Always the same.
    Constant {
        /// Seconds.
        seconds: f64,
    },
    /// Exponential (memoryless): the M in M/M/n.
    Exponential {
        /// Mean seconds.
        mean_seconds: f64,
    },
    /// Lognormal with the given mean and standard deviation (call-center handle times
    /// are close to lognormal).
    Lognormal {
        /// Mean seconds.
        mean_seconds: f64,
        /// Standard deviation, seconds.
        sd_seconds: f64,
    },
    /// An empirical table: observed durations, sampled by interpolating between their
    /// order statistics (a piecewise-linear inverse CDF).
    Empirical {
        /// Observed seconds, any order.
        seconds: Vec<f64>,
    },
    /// Never (patience of callers who never hang up).
    Infinite,
}

/// A duration distribution ready to sample.
#[derive(Debug, Clone)]
pub enum Sampler {
    Constant(f64),
    Exponential(f64),
    Lognormal { mu: f64, sigma: f64 },
    Empirical(Vec<f64>),
    Infinite,
}

impl Duration {
    /// Check the parameters and prepare to sample; `what` names the field in errors.
    pub fn sampler(&self, what: &str) -> Result<Sampler, SimError> {
        let bad = |why: String| Err(SimError::Scenario(format!("{what}: {why}")));
        let pos = |x: f64| x.is_finite() && x >= 0.0;
        match self {
            Duration::Constant { seconds } if pos(*seconds) => Ok(Sampler::Constant(*seconds)),
            Duration::Exponential { mean_seconds } if pos(*mean_seconds) && *mean_seconds > 0.0 => {
                Ok(Sampler::Exponential(*mean_seconds))
            }
            Duration::Lognormal {
                mean_seconds: m,
                sd_seconds: s,
            } if pos(*m) && *m > 0.0 && pos(*s) => {
                let sigma2 = (1.0 + (s / m).powi(2)).ln();
                Ok(Sampler::Lognormal {
                    mu: m.ln() - sigma2 / 2.0,
                    sigma: sigma2.sqrt(),
                })
            }
            Duration::Empirical { seconds }
                if !seconds.is_empty() && seconds.iter().all(|x| pos(*x)) =>
            {
                let mut v = seconds.clone();
                v.sort_by(f64::total_cmp);
                Ok(Sampler::Empirical(v))
            }
            Duration::Infinite => Ok(Sampler::Infinite),
            Duration::Empirical { .. } => {
                bad("an empirical table needs at least one value, none negative".into())
            }
            Duration::Constant { seconds } => {
                bad(format!("seconds must be zero or more, got {seconds}"))
            }
            Duration::Exponential { mean_seconds } => bad(format!(
                "mean_seconds must be more than zero, got {mean_seconds}"
            )),
            Duration::Lognormal {
                mean_seconds,
                sd_seconds,
            } => bad(format!(
                "mean_seconds must be more than zero and sd_seconds zero or more, got {mean_seconds} and {sd_seconds}"
            )),
        }
    }
}

impl Sampler {
    /// One draw, seconds (`f64::INFINITY` for never).
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        match self {
            Sampler::Constant(s) => *s,
            Sampler::Exponential(m) => rng.exponential(*m),
            Sampler::Lognormal { mu, sigma } => (mu + sigma * rng.normal()).exp(),
            Sampler::Empirical(v) => {
                if v.len() == 1 {
                    return v[0];
                }
                let x = rng.uniform() * (v.len() - 1) as f64;
                let i = x.floor() as usize;
                let f = x - i as f64;
                v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
            }
            Sampler::Infinite => f64::INFINITY,
        }
    }

    /// The mean, seconds.
    pub fn mean(&self) -> f64 {
        match self {
            Sampler::Constant(s) => *s,
            Sampler::Exponential(m) => *m,
            Sampler::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Sampler::Empirical(v) => v.iter().sum::<f64>() / v.len() as f64,
            Sampler::Infinite => f64::INFINITY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_sd(s: &Sampler) -> (f64, f64) {
        let mut rng = Rng::seeded(9);
        let n = 400_000;
        let xs: Vec<f64> = (0..n).map(|_| s.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        (m, v.sqrt())
    }

    #[test]
    fn samples_have_the_stated_moments() {
        let ln = Duration::Lognormal {
            mean_seconds: 200.0,
            sd_seconds: 120.0,
        }
        .sampler("h")
        .unwrap();
        let (m, sd) = mean_sd(&ln);
        assert!(
            (m - 200.0).abs() < 1.5 && (sd - 120.0).abs() < 2.0,
            "{m} {sd}"
        );
        assert!((ln.mean() - 200.0).abs() < 1e-9);
        let ex = Duration::Exponential { mean_seconds: 60.0 }
            .sampler("h")
            .unwrap();
        let (m, sd) = mean_sd(&ex);
        assert!(
            (m - 60.0).abs() < 0.5 && (sd - 60.0).abs() < 0.8,
            "{m} {sd}"
        );
        let em = Duration::Empirical {
            seconds: vec![30.0, 10.0, 20.0],
        }
        .sampler("h")
        .unwrap();
        let (m, _) = mean_sd(&em);
        assert!((m - 20.0).abs() < 0.1, "{m}");
        assert!(
            Duration::Exponential { mean_seconds: -1.0 }
                .sampler("h")
                .is_err()
        );
        assert!(
            Duration::Empirical { seconds: vec![] }
                .sampler("h")
                .is_err()
        );
    }
}
