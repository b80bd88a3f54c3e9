//! Staffing advice for a shared floor. Queues that share agents (an agent who may take
//! calls of both, overflow rings included) form one pool; a pool's need is Erlang C
//! over its queues' loads together — the arrival rates added, the handle time their
//! load-weighted mean, the strictest service-level threshold — against the distinct
//! agents logged in to it. A pool short of agents gives each of its queues a share of
//! the shortfall in proportion to that queue's load (largest remainders, so the shares
//! add up to it): the queues with advice are the skills that are short, and by how
//! many. A queue nobody else shares is a pool of one: its own Erlang C, as before.

use crate::switchboard::Switchboard;
use hotline_acd::{AgentId, AgentStateKind, QueueId, Span, kpi};
use hotline_erlang::{Load, pooled_need};
use hotline_store::Millis;
use std::collections::HashMap;

/// Agents each queue should add for `target` (0 when its pool has enough), given the
/// queues' loads and which queues each logged-in agent may serve.
pub fn pool_advice(loads: &[Load], agents: &[Vec<usize>], target: f64) -> Vec<i32> {
    let n = loads.len();
    // union-find over queues joined by the agents they share
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for serves in agents {
        for w in serves.windows(2) {
            let (a, b) = (root(&mut parent, w[0]), root(&mut parent, w[1]));
            parent[a] = b;
        }
    }
    let mut pools: HashMap<usize, Vec<usize>> = HashMap::new();
    for q in 0..n {
        let r = root(&mut parent, q);
        pools.entry(r).or_default().push(q);
    }
    let mut advice = vec![0i32; n];
    for queues in pools.values() {
        let staffed = agents
            .iter()
            .filter(|serves| serves.iter().any(|q| queues.contains(q)))
            .count();
        let pool: Vec<Load> = queues.iter().map(|&q| loads[q]).collect();
        let Some(need) = pooled_need(&pool, target) else {
            continue;
        };
        let load = |q: usize| loads[q].calls_per_hour * loads[q].aht;
        let erlang_seconds: f64 = queues.iter().map(|&q| load(q)).sum();
        let short = need as i64 - staffed as i64;
        if short <= 0 {
            continue;
        }
        // shares of the shortfall by load, largest remainders first
        let exact: Vec<(usize, f64)> = queues
            .iter()
            .map(|&q| (q, short as f64 * load(q) / erlang_seconds))
            .collect();
        let mut given = 0i64;
        for &(q, x) in &exact {
            advice[q] = x.floor() as i32;
            given += x.floor() as i64;
        }
        let mut rest: Vec<(usize, f64)> = exact.iter().map(|&(q, x)| (q, x - x.floor())).collect();
        rest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (q, _) in rest.into_iter().take((short - given).max(0) as usize) {
            advice[q] += 1;
        }
    }
    advice
}

/// The floor's advice now, by queue name: each queue's interval so far (at least a
/// minute of it) gives its load, the engine says which logged-in agent may serve which
/// queue.
pub fn floor_advice(sb: &Switchboard, now: Millis, target: f64) -> HashMap<String, i32> {
    let e = sb.engine();
    let names = sb.queue_names();
    let loads: Vec<Load> = (0..names.len())
        .map(|q| {
            let id = QueueId(q as u32);
            let (Ok(s), Ok(cfg)) = (e.queue_snapshot(id), e.queue_config(id)) else {
                return Load {
                    calls_per_hour: 0.0,
                    aht: 1.0,
                    sl_seconds: 20.0,
                };
            };
            let elapsed = (now.saturating_sub(s.interval_start.0 / 1000)) as f64 / 1000.0;
            let calls_per_hour = if elapsed >= 60.0 {
                s.interval.tally.offered as f64 / elapsed * 3600.0
            } else {
                0.0
            };
            Load {
                calls_per_hour,
                aht: kpi::average_handle_time(&s.total.tally)
                    .unwrap_or(cfg.expected_handle_time)
                    .as_secs_f64(),
                sl_seconds: cfg.thresholds.service_level.as_secs_f64(),
            }
        })
        .collect();
    let agents: Vec<Vec<usize>> = (0..e.agent_count())
        .map(|a| AgentId(a as u32))
        .filter(|&a| {
            e.agent_state(a)
                .is_ok_and(|s| s.kind() != AgentStateKind::LoggedOut)
        })
        .map(|a| {
            (0..names.len())
                .filter(|&q| e.qualified(a, QueueId(q as u32), Span(u64::MAX / 2)))
                .collect()
        })
        .collect();
    pool_advice(&loads, &agents, target)
        .into_iter()
        .zip(names)
        .map(|(n, q)| (q.clone(), n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_erlang::{Target, Traffic, staff_for};

    fn load(calls_per_hour: f64) -> Load {
        Load {
            calls_per_hour,
            aht: 60.0,
            sl_seconds: 20.0,
        }
    }

    fn need(calls_per_hour: f64) -> i32 {
        let t = Traffic::per_hour(calls_per_hour, 60.0, None).unwrap();
        staff_for(
            &t,
            Target::ServiceLevel {
                fraction: 0.8,
                seconds: 20.0,
            },
            20.0,
        )
        .unwrap()
        .agents as i32
    }

    /// The demo's case: 12 agents who all serve 5 queues of 400 calls an hour each.
    /// Each queue alone needs fewer than 12 (so per-queue advice said "—"); together
    /// they need Erlang C of 2,000 an hour, and the shortfall is shared out by load.
    #[test]
    fn a_shared_pool_short_of_agents_is_advised_in_full() {
        let loads = vec![load(400.0); 5];
        let everyone: Vec<usize> = (0..5).collect();
        let agents = vec![everyone; 12];
        assert!(need(400.0) <= 12, "alone each queue looks staffed");
        let advice = pool_advice(&loads, &agents, 0.8);
        assert_eq!(advice.iter().sum::<i32>(), need(2000.0) - 12);
        assert!(advice.iter().all(|&a| a > 0), "{advice:?}");
        let (lo, hi) = (advice.iter().min().unwrap(), advice.iter().max().unwrap());
        assert!(hi - lo <= 1, "equal loads, equal shares: {advice:?}");
    }

    /// Two pools: the short one gets advice, the one with enough agents none, and the
    /// busier queue of the short pool the bigger share.
    #[test]
    fn only_the_short_pool_is_advised_and_by_load() {
        let loads = vec![load(900.0), load(300.0), load(60.0)];
        // queues 0 and 1 share 4 agents; queue 2 has 5 of its own
        let mut agents = vec![vec![0, 1]; 4];
        agents.extend(vec![vec![2]; 5]);
        let advice = pool_advice(&loads, &agents, 0.8);
        assert_eq!(advice[0] + advice[1], need(1200.0) - 4);
        assert!(advice[0] > advice[1], "{advice:?}");
        assert_eq!(advice[2], 0);
        // no calls yet: no advice
        assert_eq!(pool_advice(&[load(0.0)], &[vec![0]], 0.8), vec![0]);
    }
}
