//! `SupervisorService`: live statistics (a snapshot, then only what changed, at most
//! once a second), the agents, force not-ready / logout, and queue settings at run time.
//! Every call needs the supervisor (or admin) role.

use crate::convert;
use crate::server::Router;
use crate::switchboard::{Command, In, Switchboard};
use hotline_acd::{AgentId, AgentState, AgentStateKind, QueueId, Span, Strategy, kpi};
use hotline_proto::v1 as pb;
use hotline_proto::v1::supervisor_service_server::SupervisorService;
use hotline_store::Millis;
use std::collections::HashMap;
use tonic::{Request, Response, Status};

/// Target service level the wallboard compares against (80/20 unless configured).
pub const SERVICE_LEVEL_TARGET: f64 = hotline_acd::kpi::SERVICE_LEVEL_TARGET;

fn dur(s: Span) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: (s.0 / 1_000_000) as i64,
        nanos: ((s.0 % 1_000_000) * 1000) as i32,
    })
}

fn state_number(k: AgentStateKind) -> usize {
    match k {
        AgentStateKind::LoggedOut => pb::AgentState::LoggedOut as usize,
        AgentStateKind::NotReady => pb::AgentState::NotReady as usize,
        AgentStateKind::Ready => pb::AgentState::Ready as usize,
        AgentStateKind::Reserved => pb::AgentState::Reserved as usize,
        AgentStateKind::Connected => pb::AgentState::Connected as usize,
        AgentStateKind::AfterCallWork => pb::AgentState::AfterCallWork as usize,
    }
}

/// A queue's wallboard figures now.
pub fn queue_stats(
    sb: &Switchboard,
    name: &str,
    advice: &HashMap<String, i32>,
) -> Option<pb::QueueStats> {
    let q: QueueId = sb.queue_id(name)?;
    let e = sb.engine();
    let s = e.queue_snapshot(q).ok()?;
    let cfg = e.queue_config(q).ok()?;
    let t = s.total.tally;
    let mut by_state = vec![0u32; 7];
    for k in AgentStateKind::ALL {
        by_state[state_number(k)] = s.agents_by_state[k.index()];
    }
    // the floor's pooled Erlang C advice (`staffing`): this queue's share of what its
    // pool of shared agents lacks
    let advice = advice.get(name).copied().unwrap_or(0);
    Some(pb::QueueStats {
        queue: name.to_string(),
        waiting: s.waiting,
        longest_wait: dur(s.longest_wait),
        ringing: s.ringing,
        offered: t.offered,
        answered: t.answered,
        abandoned: t.abandoned,
        abandoned_short: t.abandoned_short,
        answered_within_threshold: t.answered_within_threshold,
        service_level: s.service_level(),
        service_level_target: SERVICE_LEVEL_TARGET,
        service_level_threshold: dur(cfg.thresholds.service_level),
        asa: kpi::average_speed_of_answer(&t).and_then(dur),
        aht: kpi::average_handle_time(&t).and_then(dur),
        abandon_rate: kpi::abandon_rate(&t).unwrap_or(0.0),
        occupancy: s.occupancy().unwrap_or(0.0),
        agents_by_state: by_state,
        interval: Some(pb::Interval {
            start: convert::ts(s.interval_start.0 / 1000),
            end: convert::ts(s.interval_start.0 / 1000 + 15 * 60 * 1000),
        }),
        interval_service_level: kpi::service_level(&s.interval.tally, s.formula),
        staffing_advice: advice,
    })
}

/// An agent as the supervisor sees them.
pub fn agent_status(
    sb: &Switchboard,
    agent: &str,
    names: &HashMap<String, String>,
    now: Millis,
) -> Option<pb::AgentStatus> {
    let a: AgentId = sb.agent_id(agent)?;
    let e = sb.engine();
    let snap = e.agent_snapshot(a).ok()?;
    let call = match snap.state {
        AgentState::Reserved { call, .. }
        | AgentState::Connected { call, .. }
        | AgentState::AfterCallWork { call, .. } => sb.call_no(call).unwrap_or(0),
        _ => 0,
    };
    let reason = match snap.state {
        AgentState::NotReady(r) => Some(pb::NotReadyReason {
            code: r.0 as u32,
            label: convert::reason_label(r.0, convert::Labels::Unspecified).into(),
        }),
        _ => None,
    };
    let queues = sb
        .queue_names()
        .iter()
        .filter(|q| {
            sb.queue_id(q)
                .is_some_and(|id| e.qualified(a, id, Span(u64::MAX)))
        })
        .cloned()
        .collect();
    Some(pb::AgentStatus {
        agent_id: agent.to_string(),
        name: names.get(agent).cloned().unwrap_or_default(),
        state: state_number(snap.state.kind()) as i32,
        reason,
        in_state: dur(Span(now.saturating_sub(snap.since.0 / 1000) * 1000)),
        call_id: call,
        handled: snap.total.handled,
        queues,
    })
}

fn strategy(s: &str) -> Result<Strategy, Status> {
    Ok(match s {
        "longest-idle" => Strategy::LongestIdle,
        "most-skilled" => Strategy::MostSkilled,
        "fewest-calls" => Strategy::FewestCalls,
        "least-talk-time" => Strategy::LeastTalkTime,
        "round-robin" => Strategy::RoundRobin,
        "random" => Strategy::Random,
        other => {
            return Err(Status::invalid_argument(format!(
                "strategy '{other}' is not one of longest-idle, most-skilled, fewest-calls, least-talk-time, round-robin, random"
            )));
        }
    })
}

/// A length a supervisor gave: refused when negative, never clamped.
fn span(field: &str, d: &Option<prost_types::Duration>) -> Result<Option<Span>, Status> {
    d.as_ref()
        .map(|d| convert::span_in(field, d).map(|ms| Span(ms * 1000)))
        .transpose()
}

fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::LongestIdle => "longest-idle",
        Strategy::MostSkilled => "most-skilled",
        Strategy::FewestCalls => "fewest-calls",
        Strategy::LeastTalkTime => "least-talk-time",
        Strategy::RoundRobin => "round-robin",
        Strategy::Random => "random",
    }
}

/// A queue's settings a supervisor can change, in words (the audit trail's before and
/// after).
fn queue_words(c: &hotline_acd::QueueConfig) -> String {
    let secs = |s: Span| s.0 / 1_000_000;
    format!(
        "service level within {} s; {}; {}; {}; {}; skill level {} and up",
        secs(c.thresholds.service_level),
        c.ring_timeout
            .map_or("no ring-no-answer limit".to_string(), |t| {
                format!("ring-no-answer after {} s", secs(t))
            }),
        c.max_waiting
            .map_or("no limit on waiting calls".to_string(), |m| {
                format!("at most {m} waiting")
            }),
        c.callback_threshold
            .map_or("no callback offer".to_string(), |t| {
                format!("callback offered at {} s", secs(t))
            }),
        strategy_name(c.strategy),
        c.min_level
    )
}

/// A queue's alarm rules in words (the audit trail's before and after).
fn alarm_words(t: &crate::alarms::Thresholds) -> String {
    use crate::alarms::AlarmKind as K;
    let words: Vec<String> = K::ALL
        .into_iter()
        .filter_map(|k| {
            let v = t.get(k)?;
            Some(match k {
                K::ServiceLevelBelow => format!("service level below {:.0} %", v * 100.0),
                K::LongestWaitAbove => format!("longest wait above {v} s"),
                K::WaitingAbove => format!("more than {v} waiting"),
                K::ReadyBelow => format!("fewer than {v} agents ready"),
                K::AbandonRateAbove => format!("abandon rate above {:.0} %", v * 100.0),
            })
        })
        .collect();
    if words.is_empty() {
        "no alarm rules".into()
    } else {
        format!("alarm when {}", words.join(", or "))
    }
}

/// An agent's state in words (the audit trail's before and after).
fn agent_words(s: &pb::AgentStatus) -> String {
    let state = match pb::AgentState::try_from(s.state) {
        Ok(pb::AgentState::LoggedOut) => "logged out",
        Ok(pb::AgentState::NotReady) => "not ready",
        Ok(pb::AgentState::Ready) => "ready",
        Ok(pb::AgentState::Reserved) => "ringing",
        Ok(pb::AgentState::Connected) => "on a call",
        Ok(pb::AgentState::AfterCallWork) => "in wrap-up",
        _ => "unknown",
    };
    match &s.reason {
        Some(r) if s.state == pb::AgentState::NotReady as i32 => format!("{state} ({})", r.label),
        _ => state.to_string(),
    }
}

impl Router {
    /// Keep a supervisor's action in the audit trail (durable before the RPC answers).
    async fn audit(
        &self,
        by: String,
        action: &str,
        target: &str,
        before: String,
        after: String,
    ) -> Result<(), Status> {
        let entry = hotline_store::AuditEntry {
            at: crate::core::now_ms(),
            by,
            action: action.into(),
            target: target.into(),
            before,
            after,
        };
        self.with_store(move |s| s.append_audit(entry)).await
    }

    /// An agent's status, and the agent's state in words.
    async fn agent_now(&self, agent: &str) -> Result<(pb::AgentStatus, String), Status> {
        let s = self.status_of(agent.to_string()).await?.into_inner();
        let words = agent_words(&s);
        Ok((s, words))
    }
}

/// The order `ListAgents` gives: agents at work first, then those logged out, each by
/// work number.
fn roster_order(agents: &mut [pb::AgentStatus]) {
    agents.sort_by_key(|a| {
        (
            a.state == pb::AgentState::LoggedOut as i32,
            a.agent_id.clone(),
        )
    });
}

/// A supervisor command must say which agent it is for.
fn named(agent: &str) -> Result<(), Status> {
    if agent.trim().is_empty() {
        return Err(Status::invalid_argument(
            "which agent? `agent_id` (their work number) is empty",
        ));
    }
    Ok(())
}

#[tonic::async_trait]
impl SupervisorService for Router {
    type WatchStatsStream = crate::server::EventStream<pb::StatsUpdate>;

    async fn watch_stats(
        &self,
        req: Request<pb::WatchStatsRequest>,
    ) -> Result<Response<Self::WatchStatsStream>, Status> {
        self.supervisor(&req)?;
        let queues = req.into_inner().queues;
        let known = self.query(|sb, _| sb.queue_names().to_vec()).await?;
        if let Some(q) = queues.iter().find(|q| !known.contains(q)) {
            return Err(Status::not_found(format!(
                "there is no queue {q:?}; queues: {}",
                known.join(", ")
            )));
        }
        let rx = self.watch(queues)?;
        Ok(Response::new(rx))
    }

    async fn list_agents(
        &self,
        req: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::AgentList>, Status> {
        self.supervisor(&req)?;
        let names = self.names();
        let mut agents = self
            .query(move |sb, now| {
                sb.agent_names()
                    .iter()
                    .filter_map(|a| agent_status(sb, a, &names, now))
                    .collect::<Vec<_>>()
            })
            .await?;
        roster_order(&mut agents);
        Ok(Response::new(pb::AgentList { agents }))
    }

    async fn force_not_ready(
        &self,
        req: Request<pb::ForceNotReadyRequest>,
    ) -> Result<Response<pb::AgentStatus>, Status> {
        let by = self.supervisor(&req)?;
        let r = req.into_inner();
        named(&r.agent_id)?;
        let reason = if r.reason == 0 {
            3
        } else {
            convert::reason_in(r.reason, true)?
        };
        let (_, before) = self.agent_now(&r.agent_id).await?;
        self.command(In::Agent {
            agent: r.agent_id.clone(),
            command: Command::NotReady(reason),
        })
        .await?;
        let (now, after) = self.agent_now(&r.agent_id).await?;
        self.audit(by, "force-not-ready", &r.agent_id, before, after)
            .await?;
        Ok(Response::new(now))
    }

    async fn force_logout(
        &self,
        req: Request<pb::ForceLogoutRequest>,
    ) -> Result<Response<pb::AgentStatus>, Status> {
        let by = self.supervisor(&req)?;
        let agent = req.into_inner().agent_id;
        named(&agent)?;
        let (_, before) = self.agent_now(&agent).await?;
        self.force_logout(agent.clone()).await?;
        let (now, after) = self.agent_now(&agent).await?;
        self.audit(by, "force-logout", &agent, before, after)
            .await?;
        Ok(Response::new(now))
    }

    async fn update_queue(
        &self,
        req: Request<pb::UpdateQueueRequest>,
    ) -> Result<Response<pb::QueueStats>, Status> {
        let by = self.supervisor(&req)?;
        let r = req.into_inner();
        let strat = if r.strategy.is_empty() {
            None
        } else {
            Some(strategy(&r.strategy)?)
        };
        let sl = span("service_level_threshold", &r.service_level_threshold)?;
        let callback = span("callback_threshold", &r.callback_threshold)?;
        let ring = span("ring_timeout", &r.ring_timeout)?;
        if let Some(l) = r.min_level {
            if !(1..=10).contains(&l) {
                return Err(Status::invalid_argument(format!(
                    "min_level must be a skill level 1–10, got {l}"
                )));
            }
        }
        let result = self
            .query(move |sb, now| {
                let Some(q) = sb.queue_id(&r.queue) else {
                    return Err(Status::not_found(format!(
                        "there is no queue '{}'",
                        r.queue
                    )));
                };
                let mut cfg = sb
                    .engine()
                    .queue_config(q)
                    .map_err(|e| Status::internal(e.to_string()))?
                    .clone();
                let before = queue_words(&cfg);
                if let Some(t) = sl {
                    cfg.thresholds.service_level = t;
                }
                if let Some(m) = r.max_waiting {
                    cfg.max_waiting = (m > 0).then_some(m);
                }
                if let Some(t) = callback {
                    cfg.callback_threshold = (t > Span::ZERO).then_some(t);
                }
                if let Some(t) = ring {
                    cfg.ring_timeout = (t > Span::ZERO).then_some(t);
                }
                if let Some(s) = strat {
                    cfg.strategy = s;
                }
                if let Some(l) = r.min_level {
                    cfg.min_level = l as u8;
                }
                let after = queue_words(&cfg);
                sb.update_queue(now, &r.queue, cfg)
                    .map_err(convert::switch_status)?;
                let advice = crate::staffing::floor_advice(sb, now, SERVICE_LEVEL_TARGET);
                let stats = queue_stats(sb, &r.queue, &advice)
                    .ok_or_else(|| Status::not_found("the queue vanished"))?;
                Ok::<_, Status>((stats, before, after))
            })
            .await??;
        let (stats, before, after) = result;
        self.audit(by, "update-queue", &stats.queue, before, after)
            .await?;
        Ok(Response::new(stats))
    }

    async fn list_alarm_rules(
        &self,
        req: Request<pb::ListAlarmRulesRequest>,
    ) -> Result<Response<pb::AlarmRuleList>, Status> {
        self.supervisor(&req)?;
        let list = self
            .on_alarms(|a| {
                let r = a.rules();
                pb::AlarmRuleList {
                    queues: r
                        .queues
                        .iter()
                        .map(|(q, t)| convert::thresholds(q, t))
                        .collect(),
                    min_calls: r.min_calls,
                    clear_after: convert::duration(r.clear_after),
                }
            })
            .await?;
        Ok(Response::new(list))
    }

    async fn set_alarm_rules(
        &self,
        req: Request<pb::SetAlarmRulesRequest>,
    ) -> Result<Response<pb::AlarmThresholds>, Status> {
        let by = self.supervisor(&req)?;
        let Some(rules) = req.into_inner().rules else {
            return Err(Status::invalid_argument(
                "which queue's rules? `rules` is unset",
            ));
        };
        let new = convert::thresholds_in(&rules)?;
        let queue = rules.queue.clone();
        let q = queue.clone();
        let before = self
            .on_alarms(move |a| a.set(&q, new))
            .await?
            .map_err(Status::not_found)?;
        self.audit(
            by,
            "set-alarm-rules",
            &queue,
            alarm_words(&before),
            alarm_words(&new),
        )
        .await?;
        Ok(Response::new(convert::thresholds(&queue, &new)))
    }

    async fn list_alarms(
        &self,
        req: Request<pb::ListAlarmsRequest>,
    ) -> Result<Response<pb::AlarmList>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let now = crate::core::now_ms();
        let to = match r.to {
            None => now + 1,
            t => convert::time_in("to", &t)?,
        };
        let from = match r.from {
            None => to.saturating_sub(86_400_000),
            t => convert::time_in("from", &t)?,
        };
        if from >= to {
            return Err(Status::invalid_argument(
                "the period is empty: `from` must be before `to`",
            ));
        }
        let n = convert::limit_in(r.limit, 100, 1000);
        let queue = r.queue;
        let kept = self
            .with_store(move |s| s.alarms(from, to, usize::MAX))
            .await?;
        let alarms = kept
            .iter()
            .filter_map(convert::alarm_kept)
            .filter(|a| queue.is_empty() || a.queue == queue)
            .take(n)
            .collect();
        Ok(Response::new(pb::AlarmList { alarms }))
    }

    async fn declare_incident(
        &self,
        req: Request<pb::DeclareIncidentRequest>,
    ) -> Result<Response<pb::Incident>, Status> {
        let by = self.supervisor(&req)?;
        self.declare(by, req.into_inner()).await.map(Response::new)
    }

    async fn update_incident(
        &self,
        req: Request<pb::UpdateIncidentRequest>,
    ) -> Result<Response<pb::Incident>, Status> {
        let by = self.supervisor(&req)?;
        self.edit(by, req.into_inner()).await.map(Response::new)
    }

    async fn end_incident(
        &self,
        req: Request<pb::EndIncidentRequest>,
    ) -> Result<Response<pb::EndIncidentResponse>, Status> {
        let by = self.supervisor(&req)?;
        self.end(by, req.into_inner()).await.map(Response::new)
    }

    async fn list_incidents(
        &self,
        req: Request<pb::ListIncidentsRequest>,
    ) -> Result<Response<pb::IncidentList>, Status> {
        self.supervisor(&req)?;
        self.list(req.into_inner()).await.map(Response::new)
    }

    async fn list_audit_trail(
        &self,
        req: Request<pb::ListAuditTrailRequest>,
    ) -> Result<Response<pb::AuditTrail>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let (from, to) = convert::range_in(&r.from, &r.to, crate::core::now_ms())?;
        let n = convert::limit_in(r.limit, 100, 1000);
        let entries = self.with_store(move |s| s.audit_trail(from, to, n)).await?;
        Ok(Response::new(pb::AuditTrail {
            entries: entries
                .into_iter()
                .map(|e| pb::AuditEntry {
                    at: convert::ts(e.at),
                    by: e.by,
                    action: e.action,
                    target: e.target,
                    before: e.before,
                    after: e.after,
                })
                .collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: &str, state: pb::AgentState, reason: Option<&str>) -> pb::AgentStatus {
        pb::AgentStatus {
            agent_id: id.into(),
            state: state as i32,
            reason: reason.map(|r| pb::NotReadyReason {
                code: 16,
                label: r.into(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn every_strategy_has_the_name_the_configuration_uses() {
        // the names of router.toml's `strategy` and of UpdateQueue, written out here
        let names = [
            ("longest-idle", Strategy::LongestIdle),
            ("most-skilled", Strategy::MostSkilled),
            ("fewest-calls", Strategy::FewestCalls),
            ("least-talk-time", Strategy::LeastTalkTime),
            ("round-robin", Strategy::RoundRobin),
            ("random", Strategy::Random),
        ];
        for (name, s) in names {
            assert_eq!(strategy_name(s), name);
            assert_eq!(strategy(name).ok(), Some(s));
        }
        assert!(strategy("fastest").is_err());
    }

    #[test]
    fn the_audit_trail_names_each_agent_state_in_words() {
        use pb::AgentState as S;
        let words = [
            (S::LoggedOut, "logged out"),
            (S::NotReady, "not ready"),
            (S::Ready, "ready"),
            (S::Reserved, "ringing"),
            (S::Connected, "on a call"),
            (S::AfterCallWork, "in wrap-up"),
        ];
        for (state, w) in words {
            assert_eq!(agent_words(&status("1001", state, None)), w);
        }
        let mut odd = status("1001", S::Ready, None);
        odd.state = 99;
        assert_eq!(agent_words(&odd), "unknown");
    }

    #[test]
    fn a_reason_is_told_only_for_an_agent_not_ready() {
        use pb::AgentState as S;
        assert_eq!(
            agent_words(&status("1001", S::NotReady, Some("break"))),
            "not ready (break)"
        );
        // a reason left on a status of another state is not the agent's state
        assert_eq!(
            agent_words(&status("1001", S::Ready, Some("break"))),
            "ready"
        );
        assert_eq!(
            agent_words(&status("1001", S::Connected, Some("break"))),
            "on a call"
        );
    }

    #[test]
    fn the_roster_lists_agents_at_work_first_then_by_work_number() {
        use pb::AgentState as S;
        let mut agents = vec![
            status("1003", S::LoggedOut, None),
            status("1004", S::Ready, None),
            status("1001", S::LoggedOut, None),
            status("1002", S::NotReady, Some("break")),
        ];
        roster_order(&mut agents);
        let ids: Vec<&str> = agents.iter().map(|a| a.agent_id.as_str()).collect();
        assert_eq!(ids, ["1002", "1004", "1001", "1003"]);
    }
}
