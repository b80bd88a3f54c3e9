//! Erlang B, C and A: the queueing formulas a call-center planner sizes staff with.
//!
//! * **Erlang B** — blocking probability of `n` lines offered `a` Erlangs (no queue).
//! * **Erlang C** — M/M/n: callers wait forever; probability of waiting, service level
//!   SL(T), ASA, occupancy.
//! * **Erlang A** — M/M/n+M (Palm): callers abandon after an exponential patience;
//!   probability of waiting, of abandoning, ASA, SL(T).
//! * **Staffing** — the fewest agents meeting a service-level, ASA or abandon target.
//!
//! Every formula is evaluated with recurrences whose terms stay in `[0, 1]`, so nothing
//! overflows or cancels at 3,000 agents and 3,000 Erlangs (no factorials, no powers).
//!
//! Conventions: rates are per second, times in seconds. `service_level` is the share of
//! *offered* calls answered within T (an abandoned call counts against it), which is the
//! quantity the simulator reports with a zero short-abandon threshold.

use serde::Serialize;
use thiserror::Error;

pub mod poisson;

/// Why a formula could not be evaluated.
#[derive(Debug, Error, PartialEq)]
pub enum ErlangError {
    /// A rate, time or count was negative, zero where it must not be, or not a number.
    #[error("{what} must be a positive finite number, got {value}")]
    NotPositive {
        /// Which input was wrong, in the caller's words.
        what: &'static str,
        /// The value received.
        value: f64,
    },
    /// At least one agent is needed to evaluate a queue.
    #[error("at least one agent is needed")]
    NoAgents,
    /// A target fraction outside `(0, 1)`.
    #[error("{what} must be a fraction between 0 and 1, got {value}")]
    NotAFraction {
        /// Which target was wrong.
        what: &'static str,
        /// The value received.
        value: f64,
    },
}

/// The traffic offered to one queue: arrivals, handling and (optionally) patience.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Traffic {
    /// Poisson arrival rate λ, calls per second.
    pub arrival_rate: f64,
    /// Mean handle time 1/μ in seconds (exponential).
    pub mean_handle_seconds: f64,
    /// Mean patience 1/θ in seconds (exponential); `None` for callers who never hang up
    /// (Erlang C).
    pub mean_patience_seconds: Option<f64>,
}

impl Traffic {
    /// Traffic from an hourly call volume, the way planners state it.
    pub fn per_hour(
        calls_per_hour: f64,
        aht_seconds: f64,
        patience_seconds: Option<f64>,
    ) -> Result<Self, ErlangError> {
        let t = Traffic {
            arrival_rate: calls_per_hour / 3600.0,
            mean_handle_seconds: aht_seconds,
            mean_patience_seconds: patience_seconds,
        };
        t.validate()?;
        Ok(t)
    }

    /// Offered load in Erlangs, a = λ/μ.
    pub fn erlangs(&self) -> f64 {
        self.arrival_rate * self.mean_handle_seconds
    }

    fn validate(&self) -> Result<(), ErlangError> {
        positive("calls per hour", self.arrival_rate)?;
        positive("average handle time", self.mean_handle_seconds)?;
        if let Some(p) = self.mean_patience_seconds {
            positive("mean patience", p)?;
        }
        Ok(())
    }
}

fn positive(what: &'static str, value: f64) -> Result<(), ErlangError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ErlangError::NotPositive { what, value })
    }
}

/// What the formulas predict for one queue with a given number of agents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    /// Agents staffed, n.
    pub agents: u32,
    /// Offered load in Erlangs.
    pub erlangs: f64,
    /// Probability an arriving caller has to wait (all agents busy).
    pub p_wait: f64,
    /// Answered within T ÷ offered.
    pub service_level: f64,
    /// Mean wait of answered calls, seconds (∞ when the queue is unstable).
    pub asa_seconds: f64,
    /// Probability a caller abandons (0 under Erlang C).
    pub p_abandon: f64,
    /// Share of agent time spent busy: carried load ÷ n.
    pub occupancy: f64,
}

/// Erlang B: the probability that a call finds all `servers` busy and is lost, for
/// `erlangs` of offered load.
///
/// Recurrence B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)); every term is in `[0, 1]`.
pub fn erlang_b(servers: u32, erlangs: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=servers {
        b = erlangs * b / (k as f64 + erlangs * b);
    }
    b
}

/// Erlang C: the probability that a call has to wait with `servers` agents and
/// `erlangs` of load, callers never abandoning. 1 when the load reaches the agents.
///
/// C = n·B / (n − a·(1 − B)), from Erlang B so it stays stable for large n.
pub fn erlang_c(servers: u32, erlangs: f64) -> f64 {
    let n = servers as f64;
    if servers == 0 || erlangs >= n {
        return 1.0;
    }
    let b = erlang_b(servers, erlangs);
    (n * b / (n - erlangs * (1.0 - b))).clamp(0.0, 1.0)
}

/// Predict a queue with `agents` agents: Erlang C when the traffic has no patience,
/// Erlang A otherwise. `sl_seconds` is the service-level threshold T.
pub fn predict(traffic: &Traffic, agents: u32, sl_seconds: f64) -> Result<Prediction, ErlangError> {
    traffic.validate()?;
    if agents == 0 {
        return Err(ErlangError::NoAgents);
    }
    if !(sl_seconds.is_finite() && sl_seconds >= 0.0) {
        return Err(ErlangError::NotPositive {
            what: "service-level threshold",
            value: sl_seconds,
        });
    }
    Ok(match traffic.mean_patience_seconds {
        None => erlang_c_prediction(traffic, agents, sl_seconds),
        Some(p) => erlang_a_prediction(traffic, agents, sl_seconds, 1.0 / p),
    })
}

fn erlang_c_prediction(t: &Traffic, agents: u32, sl: f64) -> Prediction {
    let a = t.erlangs();
    let n = agents as f64;
    let mu = 1.0 / t.mean_handle_seconds;
    let c = erlang_c(agents, a);
    let (service_level, asa, occupancy) = if a >= n {
        (0.0, f64::INFINITY, 1.0)
    } else {
        let gap = n * mu - t.arrival_rate; // rate the queue drains at
        (1.0 - c * (-gap * sl).exp(), c / gap, a / n)
    };
    Prediction {
        agents,
        erlangs: a,
        p_wait: c,
        service_level,
        asa_seconds: asa,
        p_abandon: 0.0,
        occupancy,
    }
}

/// Erlang A (M/M/n+M), from the birth–death chain of the number of calls in the system.
///
/// Stationary probabilities are taken relative to π_n: below n the mass is π_n·(1/B − 1)
/// (Erlang B), above n it is π_n·t_j with t_j = Π_{i=1..j} λ/(nμ + iθ), which shrinks
/// geometrically once iθ passes λ − nμ, so the tail is summed until it is negligible.
///
/// A caller who arrives with j calls ahead has an *offered wait* V_j = Σ_{i=0..j}
/// Exp(nμ + iθ) (the calls ahead leave by service or abandonment) and is served iff its
/// own patience exceeds V_j. With τ ~ Exp(θ):
/// * P(served | j) = E[e^{−θV_j}] = nμ / (nμ + (j+1)θ) =: c_j (the product telescopes);
/// * E[V_j · 1{served}] = c_j · Σ_{m=1..j+1} 1/(nμ + mθ);
/// * P(served, V_j ≤ T) = c_j · P(S_{j+1} ≤ T), S_J = Σ_{m=1..J} Exp(nμ + mθ), the
///   absorption time of a pure-death chain, evaluated by uniformisation (all terms
///   positive, so no cancellation).
fn erlang_a_prediction(t: &Traffic, agents: u32, sl: f64, theta: f64) -> Prediction {
    let lambda = t.arrival_rate;
    let mu = 1.0 / t.mean_handle_seconds;
    let a = lambda / mu;
    let n = agents as f64;
    let nmu = n * mu;
    let b = erlang_b(agents, a);

    // Tail terms t_j, j = 0.. (t_0 = 1), until negligible against the running sum.
    let mut tail = vec![1.0_f64];
    let mut sum_tail = 0.0; // Σ_{j≥1} t_j
    let mut tj = 1.0;
    let mut j = 0u64;
    loop {
        j += 1;
        let r = lambda / (nmu + j as f64 * theta);
        tj *= r;
        sum_tail += tj;
        tail.push(tj);
        if r < 1.0 && tj < 1e-18 * (1.0 + sum_tail) {
            break;
        }
        if tail.len() > 50_000_000 {
            break; // cannot happen for finite inputs; a guard against a runaway loop
        }
    }
    let pi_n = 1.0 / (1.0 / b + sum_tail);
    let p_wait = (pi_n * (1.0 + sum_tail)).clamp(0.0, 1.0);

    let mut served_after_wait = 0.0;
    let mut wait_of_served = 0.0;
    let mut harmonic = 0.0;
    let mut weights = Vec::with_capacity(tail.len() + 1);
    weights.push(0.0); // state 0 of the death chain: absorbed (answered)
    for (j, &tj) in tail.iter().enumerate() {
        let jj = j as f64;
        harmonic += 1.0 / (nmu + (jj + 1.0) * theta);
        let cj = nmu / (nmu + (jj + 1.0) * theta);
        let w = pi_n * tj * cj;
        served_after_wait += w;
        wait_of_served += w * harmonic;
        weights.push(w);
    }
    let p_abandon = (p_wait - served_after_wait).clamp(0.0, 1.0);
    let answered = 1.0 - p_abandon;
    let asa = if answered > 0.0 {
        wait_of_served / answered
    } else {
        f64::INFINITY
    };
    let answered_late_share = death_chain_absorbed_by(&weights, nmu, theta, sl);
    let service_level = ((1.0 - p_wait) + answered_late_share).clamp(0.0, 1.0);
    Prediction {
        agents,
        erlangs: a,
        p_wait,
        service_level,
        asa_seconds: asa,
        p_abandon,
        occupancy: (a * answered / n).clamp(0.0, 1.0),
    }
}

/// Mass absorbed in state 0 by time `horizon` of the pure-death chain m → m−1 at rate
/// base + m·step, started from `start` (index = state). Uniformisation: with
/// Λ = base + M·step the chain becomes a discrete one stepped a Poisson(Λ·horizon)
/// number of times.
fn death_chain_absorbed_by(start: &[f64], base: f64, step: f64, horizon: f64) -> f64 {
    let top = start.len() - 1;
    if top == 0 || horizon <= 0.0 {
        return 0.0;
    }
    let rate = |m: usize| base + m as f64 * step;
    let big = rate(top);
    let lt = big * horizon;
    let mut v = start.to_vec();
    let p_down: Vec<f64> = (0..=top).map(|m| rate(m) / big).collect();
    // Poisson(lt) weights in log space so e^{−lt} never underflows the sum.
    let ln_lt = lt.ln();
    let mut ln_p = -lt;
    let mut cum_p = 0.0;
    let mut absorbed = 0.0;
    let mut k: u64 = 0;
    // Highest state still holding mass: mass only moves down, so the sweep shrinks.
    let mut hi = top;
    loop {
        let pk = ln_p.exp();
        cum_p += pk;
        absorbed += pk * v[0];
        if (k as f64 > lt && 1.0 - cum_p < 1e-15) || k > (lt + 60.0 * lt.sqrt() + 100.0) as u64 {
            // remaining Poisson mass times at most the total weight
            absorbed += (1.0 - cum_p).max(0.0) * v[0];
            break;
        }
        // one uniformised step
        v[0] += v[1] * p_down[1];
        for m in 1..hi {
            v[m] = v[m] * (1.0 - p_down[m]) + v[m + 1] * p_down[m + 1];
        }
        v[hi] *= 1.0 - p_down[hi];
        while hi > 1 && v[hi] < 1e-300 {
            hi -= 1;
        }
        k += 1;
        ln_p += ln_lt - (k as f64).ln();
    }
    absorbed
}

/// A staffing goal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Target {
    /// At least `fraction` of offered calls answered within `seconds`.
    ServiceLevel {
        /// Target share, e.g. 0.8.
        fraction: f64,
        /// Threshold T in seconds, e.g. 20.
        seconds: f64,
    },
    /// Mean wait of answered calls at most this many seconds.
    Asa {
        /// The ASA ceiling in seconds.
        seconds: f64,
    },
    /// Abandon probability at most this fraction (needs patience in the traffic).
    Abandon {
        /// The abandon-rate ceiling, e.g. 0.05.
        fraction: f64,
    },
}

impl Target {
    fn met_by(&self, p: &Prediction) -> bool {
        match *self {
            Target::ServiceLevel { fraction, .. } => p.service_level >= fraction,
            Target::Asa { seconds } => p.asa_seconds <= seconds,
            Target::Abandon { fraction } => p.p_abandon <= fraction,
        }
    }

    fn sl_seconds(&self, default: f64) -> f64 {
        match *self {
            Target::ServiceLevel { seconds, .. } => seconds,
            _ => default,
        }
    }

    fn validate(&self) -> Result<(), ErlangError> {
        match *self {
            Target::ServiceLevel { fraction, seconds } => {
                fraction_in_range("service-level target", fraction)?;
                if !(seconds.is_finite() && seconds >= 0.0) {
                    return Err(ErlangError::NotPositive {
                        what: "service-level threshold",
                        value: seconds,
                    });
                }
                Ok(())
            }
            Target::Asa { seconds } => positive("ASA target", seconds),
            Target::Abandon { fraction } => fraction_in_range("abandon target", fraction),
        }
    }
}

fn fraction_in_range(what: &'static str, value: f64) -> Result<(), ErlangError> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(ErlangError::NotAFraction { what, value })
    }
}

/// The fewest agents whose prediction meets `target` (every metric improves with more
/// agents, so an exponential then binary search finds it). `sl_seconds` is used for the
/// returned prediction when the target is not itself a service level.
pub fn staff_for(
    traffic: &Traffic,
    target: Target,
    sl_seconds: f64,
) -> Result<Prediction, ErlangError> {
    traffic.validate()?;
    target.validate()?;
    let sl = target.sl_seconds(sl_seconds);
    let a = traffic.erlangs();
    let mut lo: u32 = if traffic.mean_patience_seconds.is_none() {
        (a.floor() as u32).saturating_add(1)
    } else {
        1
    };
    let first = predict(traffic, lo, sl)?;
    if target.met_by(&first) {
        return Ok(first);
    }
    // exponential search for an upper bound that meets the target
    let mut hi = lo.saturating_mul(2).max(lo + 1);
    let mut best = loop {
        let p = predict(traffic, hi, sl)?;
        if target.met_by(&p) {
            break p;
        }
        lo = hi;
        hi = hi.saturating_mul(2);
    };
    // invariant: lo fails, hi meets
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let p = predict(traffic, mid, sl)?;
        if target.met_by(&p) {
            hi = mid;
            best = p;
        } else {
            lo = mid;
        }
    }
    Ok(best)
}

/// One queue's load, for the agents several queues need together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Calls an hour (none: 0).
    pub calls_per_hour: f64,
    /// Mean handle time, seconds.
    pub aht: f64,
    /// Service-level threshold T, seconds.
    pub sl_seconds: f64,
}

/// The agents a pool of queues served by the same agents needs to answer `fraction` of
/// its calls within T: Erlang C over the loads together — the arrival rates added, the
/// handle time their load-weighted mean, the strictest T of the queues with calls.
/// None when no queue has calls.
pub fn pooled_need(loads: &[Load], fraction: f64) -> Option<u32> {
    let rate: f64 = loads.iter().map(|l| l.calls_per_hour).sum();
    if rate <= 0.0 {
        return None;
    }
    let erlang_seconds: f64 = loads.iter().map(|l| l.calls_per_hour * l.aht).sum();
    let aht = (erlang_seconds / rate).max(1.0);
    let sl = loads
        .iter()
        .filter(|l| l.calls_per_hour > 0.0)
        .map(|l| l.sl_seconds)
        .fold(f64::MAX, f64::min);
    let traffic = Traffic::per_hour(rate, aht, None).ok()?;
    staff_for(
        &traffic,
        Target::ServiceLevel {
            fraction,
            seconds: sl,
        },
        sl,
    )
    .ok()
    .map(|p| p.agents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn erlang_b_published_values() {
        // Classic table values: 5 Erlangs on 10 lines block 1.84 % of calls.
        assert!(close(erlang_b(10, 5.0), 0.018_384_570, 1e-9));
        assert!(close(erlang_b(1, 1.0), 0.5, 1e-15));
        assert!(close(erlang_b(2, 1.0), 0.2, 1e-15));
        assert_eq!(erlang_b(0, 3.0), 1.0);
    }

    #[test]
    fn erlang_c_published_values() {
        // 10 Erlangs: the standard Erlang C table rows for 11..15 agents.
        let expected = [
            (11, 0.682_118_2),
            (12, 0.449_388_2),
            (13, 0.285_270_5),
            (14, 0.174_131_9),
            (15, 0.102_042_4),
        ];
        for (n, pw) in expected {
            assert!(close(erlang_c(n, 10.0), pw, 1e-7), "n={n}");
        }
        assert_eq!(erlang_c(10, 10.0), 1.0);
    }

    #[test]
    fn erlang_c_service_level_and_asa() {
        // 200 calls/h at AHT 180 s = 10 Erlangs, 14 agents: Pw 0.1741,
        // SL(20) = 1 − Pw·e^{−(nμ−λ)·20} with nμ−λ = (14−10)/180 per second.
        let t = Traffic::per_hour(200.0, 180.0, None).unwrap();
        let p = predict(&t, 14, 20.0).unwrap();
        assert!(close(p.p_wait, 0.174_131_9, 1e-7));
        let sl = 1.0 - 0.174_131_93 * (-(4.0 / 180.0) * 20.0f64).exp();
        assert!(close(p.service_level, sl, 1e-7));
        assert!(close(p.asa_seconds, 0.174_131_93 * 180.0 / 4.0, 1e-5));
        assert!(close(p.occupancy, 10.0 / 14.0, 1e-12));
    }

    #[test]
    fn stable_at_three_thousand_agents() {
        let b = erlang_b(3000, 3000.0);
        assert!(b.is_finite() && b > 0.0 && b < 1.0);
        let c = erlang_c(3100, 3000.0);
        assert!(c.is_finite() && c > 0.0 && c < 1.0);
        // Erlang A at the critical load a = n, where C is undefined: finite, ordered.
        let t = Traffic {
            arrival_rate: 3000.0 / 240.0,
            mean_handle_seconds: 240.0,
            mean_patience_seconds: Some(120.0),
        };
        let p = predict(&t, 3000, 20.0).unwrap();
        for v in [p.p_wait, p.service_level, p.p_abandon, p.occupancy] {
            assert!(v.is_finite() && (0.0..=1.0).contains(&v), "{p:?}");
        }
        assert!(p.asa_seconds.is_finite() && p.asa_seconds > 0.0);
        // Overloaded Erlang C: certain wait, no service level, but no NaN.
        let t = Traffic::per_hour(3600.0 * 3000.0 / 240.0, 240.0, None).unwrap();
        let p = predict(&t, 2999, 20.0).unwrap();
        assert_eq!(p.p_wait, 1.0);
        assert_eq!(p.service_level, 0.0);
        assert!(p.asa_seconds.is_infinite());
    }

    #[test]
    fn erlang_a_tends_to_erlang_c_as_patience_grows() {
        let c = predict(&Traffic::per_hour(200.0, 180.0, None).unwrap(), 12, 20.0).unwrap();
        let a = predict(
            &Traffic::per_hour(200.0, 180.0, Some(1e9)).unwrap(),
            12,
            20.0,
        )
        .unwrap();
        assert!(close(a.p_wait, c.p_wait, 1e-5), "{a:?} {c:?}");
        assert!(close(a.service_level, c.service_level, 1e-5), "{a:?} {c:?}");
        assert!(close(a.asa_seconds, c.asa_seconds, 1e-3), "{a:?} {c:?}");
        assert!(a.p_abandon < 1e-6);
    }

    /// With patience equal to the handle time (θ = μ) every caller leaves at the same
    /// rate whether served or not, so the number in the system is Poisson(a) (M/M/∞):
    /// P(wait) = P(N ≥ n) and P(abandon) = E[(N − n)⁺] / a.
    #[test]
    fn erlang_a_with_theta_equal_mu_is_poisson() {
        let (a, n) = (8.0f64, 10u32);
        let t = Traffic {
            arrival_rate: a / 100.0,
            mean_handle_seconds: 100.0,
            mean_patience_seconds: Some(100.0),
        };
        let p = predict(&t, n, 20.0).unwrap();
        let mut pk = (-a).exp();
        let (mut below, mut excess) = (0.0, 0.0);
        for k in 0..400u32 {
            if k < n {
                below += pk;
            } else {
                excess += (k - n) as f64 * pk;
            }
            pk *= a / (k + 1) as f64;
        }
        assert!(close(p.p_wait, 1.0 - below, 1e-12), "{p:?}");
        assert!(close(p.p_abandon, excess / a, 1e-12), "{p:?}");
    }

    /// Against the published closed form of Erlang A (Mandelbaum & Zeltyn, "The Palm/
    /// Erlang-A queue", after Garnett, Mandelbaum & Reiman 2002): with x = nμ/θ,
    /// y = λ/θ, A = x·e^y·y^(−x)·γ(x, y) (γ the lower incomplete gamma function),
    /// π_n = B / (1 + (A − 1)·B), P(wait) = A·π_n and
    /// P(abandon | wait) = 1/(ρA) + 1 − 1/ρ. Reference values evaluated with mpmath at
    /// 40 digits (`gammainc(x, 0, y)`), independently of this crate's series.
    #[test]
    fn erlang_a_matches_the_published_closed_form() {
        // (agents, calls per hour, AHT s, patience s) → (P(wait), P(abandon))
        let cases = [
            (
                (5, 80.0, 180.0, 120.0),
                (0.345_144_284_284_546, 0.117_164_248_374_441),
            ),
            (
                (50, 675.0, 240.0, 120.0),
                (0.211_531_878_603_817, 0.026_607_290_908_300_2),
            ),
            (
                (500, 7200.0, 240.0, 120.0),
                (0.159_247_324_717_803, 0.006_093_332_547_354_05),
            ),
            (
                (3000, 45000.0, 240.0, 120.0),
                (0.417_064_768_746_997, 0.008_532_998_106_924_25),
            ),
        ];
        for ((n, cph, aht, pat), (pw, pab)) in cases {
            let p = predict(&Traffic::per_hour(cph, aht, Some(pat)).unwrap(), n, 20.0).unwrap();
            assert!(
                (p.p_wait - pw).abs() < 1e-9 * pw,
                "n={n}: P(wait) {} vs {pw}",
                p.p_wait
            );
            assert!(
                (p.p_abandon - pab).abs() < 1e-9 * pab,
                "n={n}: P(abandon) {} vs {pab}",
                p.p_abandon
            );
        }
    }

    /// Rate balance: abandonments per second = θ·E[queue length] = λ·P(abandon).
    #[test]
    fn erlang_a_abandon_rate_balances_queue_length() {
        let t = Traffic::per_hour(7200.0, 240.0, Some(120.0)).unwrap();
        let p = predict(&t, 450, 20.0).unwrap();
        // recompute E[Q] from the same chain independently
        let (lambda, mu, theta, n) = (2.0, 1.0 / 240.0, 1.0 / 120.0, 450.0);
        let b = erlang_b(450, lambda / mu);
        let (mut tj, mut s, mut q) = (1.0, 0.0, 0.0);
        for j in 1..100_000 {
            tj *= lambda / (n * mu + j as f64 * theta);
            s += tj;
            q += j as f64 * tj;
        }
        let pi_n = 1.0 / (1.0 / b + s);
        assert!(close(theta * pi_n * q, lambda * p.p_abandon, 1e-9), "{p:?}");
    }

    #[test]
    fn service_level_rises_with_threshold_and_agents() {
        let t = Traffic::per_hour(1800.0, 240.0, Some(120.0)).unwrap();
        let mut last = 0.0;
        for sl in [0.0, 5.0, 20.0, 60.0, 600.0] {
            let p = predict(&t, 120, sl).unwrap();
            assert!(p.service_level >= last - 1e-12);
            last = p.service_level;
        }
        let p0 = predict(&t, 120, 0.0).unwrap();
        assert!(close(p0.service_level, 1.0 - p0.p_wait, 1e-12));
        let p_inf = predict(&t, 120, 1e5).unwrap();
        assert!(close(p_inf.service_level, 1.0 - p_inf.p_abandon, 1e-9));
    }

    #[test]
    fn staffing_finds_the_fewest_agents() {
        let t = Traffic::per_hour(200.0, 180.0, None).unwrap();
        let target = Target::ServiceLevel {
            fraction: 0.8,
            seconds: 20.0,
        };
        let p = staff_for(&t, target, 20.0).unwrap();
        assert!(p.service_level >= 0.8);
        let fewer = predict(&t, p.agents - 1, 20.0).unwrap();
        assert!(fewer.service_level < 0.8);
        // 10 Erlangs, AHT 180 s: 13 agents give 1 − 0.2853·e^(−3·20/180) = 79.6 %, 14 give 88.8 %.
        assert_eq!(p.agents, 14);

        let t = Traffic::per_hour(7200.0, 240.0, Some(120.0)).unwrap();
        let p = staff_for(&t, Target::Abandon { fraction: 0.02 }, 20.0).unwrap();
        assert!(p.p_abandon <= 0.02);
        assert!(predict(&t, p.agents - 1, 20.0).unwrap().p_abandon > 0.02);
        let p = staff_for(&t, Target::Asa { seconds: 10.0 }, 20.0).unwrap();
        assert!(p.asa_seconds <= 10.0);
        assert!(predict(&t, p.agents - 1, 20.0).unwrap().asa_seconds > 10.0);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(Traffic::per_hour(-1.0, 180.0, None).is_err());
        assert!(Traffic::per_hour(100.0, 0.0, None).is_err());
        assert!(Traffic::per_hour(100.0, 180.0, Some(f64::NAN)).is_err());
        let t = Traffic::per_hour(100.0, 180.0, None).unwrap();
        assert_eq!(predict(&t, 0, 20.0), Err(ErlangError::NoAgents));
        assert!(
            staff_for(
                &t,
                Target::ServiceLevel {
                    fraction: 1.5,
                    seconds: 20.0
                },
                20.0
            )
            .is_err()
        );
    }
}
