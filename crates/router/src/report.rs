//! `ReportService`: the reports of `hotline_report` over gRPC for supervisors, each
//! computed on the blocking pool and streamed in pages. The wire mapping of every row
//! is here and nowhere else.

use crate::convert;
use crate::server::Router;
use hotline_proto::v1 as pb;
use hotline_proto::v1::report_service_server::ReportService;
use hotline_report::{self as report, AreaLevel, Period, ReportError, SatisfactionDimension};
use hotline_store::{Millis, Store};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// A report's pages, sent as they are.
pub type Pages<P> = tokio_stream::Iter<std::vec::IntoIter<Result<P, Status>>>;

/// A report error as the status a client gets: what the caller asked wrong is
/// INVALID_ARGUMENT with its words, a store failure is the store's status.
fn report_status(e: ReportError) -> Status {
    match e {
        ReportError::Store(e) => convert::store_status(e),
        e => Status::invalid_argument(e.to_string()),
    }
}

fn period_in(p: &Option<pb::ReportPeriod>) -> Result<Period, Status> {
    let p = p
        .as_ref()
        .ok_or_else(|| Status::invalid_argument("a report needs its period (from, to)"))?;
    if p.from.is_none() || p.to.is_none() {
        return Err(Status::invalid_argument(
            "a report's period needs both `from` and `to`",
        ));
    }
    let from = convert::time_in("period.from", &p.from)?;
    let to = convert::time_in("period.to", &p.to)?;
    Period::new(from, to).map_err(report_status)
}

/// `rows` cut into pages of `size` (0: 500, at most 5,000), each made by `page(rows,
/// last)`; one empty last page when there are no rows.
fn pages<T, P>(rows: Vec<T>, size: u32, page: impl Fn(Vec<T>, bool) -> P) -> Pages<P> {
    let size = convert::limit_in(size, 500, 5000).max(1);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    loop {
        let chunk: Vec<T> = rows.by_ref().take(size).collect();
        let last = rows.peek().is_none();
        out.push(Ok(page(chunk, last)));
        if last {
            break;
        }
    }
    tokio_stream::iter(out)
}

impl Router {
    /// Run a report for a supervisor on the blocking pool.
    async fn report<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store, Millis) -> Result<T, ReportError> + Send + 'static,
    ) -> Result<T, Status> {
        let store: Arc<Store> = self.store();
        let now = crate::core::now_ms();
        tokio::task::spawn_blocking(move || f(&store, now))
            .await
            .map_err(|_| Status::internal("the report task failed"))?
            .map_err(report_status)
    }
}

fn pairs(v: Vec<(String, u64)>) -> Vec<pb::NamedCount> {
    v.into_iter()
        .map(|(name, count)| pb::NamedCount { name, count })
        .collect()
}

fn queue_row(r: report::QueueRow) -> pb::QueueIntervalRow {
    pb::QueueIntervalRow {
        start: r.start.and_then(convert::ts),
        queue: r.queue,
        offered: r.offered,
        answered: r.answered,
        abandoned: r.abandoned,
        abandoned_short: r.abandoned_short,
        answered_within_threshold: r.answered_within_threshold,
        service_level: r.service_level,
        asa_seconds: r.asa_seconds,
        aht_seconds: r.aht_seconds,
        longest_wait_seconds: r.longest_wait_seconds,
        transferred_out: r.transferred_out,
        callbacks_accepted: r.callbacks_accepted,
        staffed_agents: r.staffed_agents,
        required_agents: r.required_agents,
    }
}

/// Whose contacts a request asks for (everyone's when unset; an unknown segment number
/// is every segment, as proto3 reads an enum it does not know).
fn customers_in(f: Option<pb::CustomerFilter>) -> report::CustomerFilter {
    let Some(f) = f else {
        return report::CustomerFilter::everyone();
    };
    let segment = match pb::Segment::try_from(f.segment) {
        Ok(pb::Segment::Public) => Some(hotline_store::Segment::Public),
        Ok(pb::Segment::KeyAccount) => Some(hotline_store::Segment::KeyAccount),
        Ok(pb::Segment::Unspecified) | Err(_) => None,
    };
    report::CustomerFilter {
        segment,
        districts: f.districts,
    }
}

fn ivr_row(r: report::IvrRow) -> pb::IvrIntervalRow {
    pb::IvrIntervalRow {
        start: convert::ts(r.start),
        by: hotline_store::codec::word(&r.by),
        key: r.key,
        calls: r.calls,
        contained: r.contained,
        containment: r.containment,
        to_agent: r.to_agent,
        hung_up: r.hung_up,
        mean_ivr_seconds: r.mean_ivr_seconds,
    }
}

fn floor_row(r: report::FloorRow) -> pb::FloorIntervalRow {
    pb::FloorIntervalRow {
        start: convert::ts(r.start),
        offered: r.offered,
        staffed_agents: r.staffed_agents,
        required_agents: r.required_agents,
        short: r.short,
    }
}

fn agent_row(r: report::AgentRow) -> pb::AgentReportRow {
    pb::AgentReportRow {
        agent: r.agent,
        teams: r.teams,
        offers: r.offers,
        answered: r.answered,
        rejected: r.rejected,
        no_answer: r.no_answer,
        handled: r.handled,
        aht_seconds: r.aht_seconds,
        talk_seconds: r.talk_seconds,
        hold_seconds: r.hold_seconds,
        wrap_up_seconds: r.wrap_up_seconds,
        occupancy: r.occupancy,
        staffed_seconds: r.staffed_seconds,
        not_ready_seconds: r.not_ready_seconds,
        fcr_handled: r.fcr_handled,
        fcr_claimed: r.fcr_claimed,
        fcr_verified: r.fcr_verified,
        fcr_rate: r.fcr_rate,
        not_ready_by_reason: r
            .not_ready_seconds_by_reason
            .into_iter()
            .map(|(reason, seconds)| pb::NotReadyTime { reason, seconds })
            .collect(),
        holds: r.holds,
        transfers: r.transfers,
        surveyed: r.surveyed,
        satisfaction_mean: r.satisfaction_mean,
        tickets_opened: r.tickets_opened,
        tickets_on_time: r.tickets_on_time,
        tickets_overdue: r.tickets_overdue,
        tickets_on_time_rate: r.tickets_on_time_rate,
    }
}

fn hotspot_row(r: report::HotspotRow) -> pb::HotspotRow {
    pb::HotspotRow {
        district: r.district,
        area: r.area,
        reports: r.reports,
        complaints: r.complaints,
        faults: r.faults,
        customers: r.customers,
        per_1000: r.per_1000,
        previous: r.previous,
        change_percent: r.change_percent,
        expected: r.expected,
        surprise: r.surprise,
        top: pairs(r.top),
    }
}

fn reason_row(r: report::ReasonRow) -> pb::ReasonReportRow {
    pb::ReasonReportRow {
        reason: r.reason,
        zh: r.zh,
        en: r.en,
        contacts: r.contacts,
        handled: r.handled,
        fcr_claimed: r.fcr_claimed,
        fcr_verified: r.fcr_verified,
        fcr_not_resolved: r.fcr_not_resolved,
        fcr_rate: r.fcr_rate,
        repeats: r.repeats,
        repeat_rate: r.repeat_rate,
    }
}

fn dimension_out(d: SatisfactionDimension) -> pb::SatisfactionDimension {
    match d {
        SatisfactionDimension::Queue => pb::SatisfactionDimension::Queue,
        SatisfactionDimension::Agent => pb::SatisfactionDimension::Agent,
        SatisfactionDimension::Segment => pb::SatisfactionDimension::Segment,
        SatisfactionDimension::Reason => pb::SatisfactionDimension::Reason,
    }
}

fn dimensions_in(by: &[i32]) -> Result<Vec<SatisfactionDimension>, Status> {
    if by.is_empty() {
        return Ok(SatisfactionDimension::ALL.to_vec());
    }
    by.iter()
        .map(|n| match pb::SatisfactionDimension::try_from(*n) {
            Ok(pb::SatisfactionDimension::Queue) => Ok(SatisfactionDimension::Queue),
            Ok(pb::SatisfactionDimension::Agent) => Ok(SatisfactionDimension::Agent),
            Ok(pb::SatisfactionDimension::Segment) => Ok(SatisfactionDimension::Segment),
            Ok(pb::SatisfactionDimension::Reason) => Ok(SatisfactionDimension::Reason),
            _ => Err(Status::invalid_argument(format!(
                "`by` {n} is not a satisfaction dimension (queue 1, agent 2, segment 3, reason 4)"
            ))),
        })
        .collect()
}

fn satisfaction_row(r: report::SatisfactionRow) -> pb::SatisfactionRow {
    pb::SatisfactionRow {
        by: dimension_out(r.by) as i32,
        key: r.key,
        answered: r.answered,
        surveyed: r.surveyed,
        response_rate: r.response_rate,
        mean: r.mean,
        dissatisfied: r.dissatisfied,
        scores: r.scores.to_vec(),
    }
}

fn manager_row(r: report::ManagerRow) -> pb::AccountManagerRow {
    pb::AccountManagerRow {
        manager: r.manager,
        customers_calling: r.customers_calling,
        contacts: r.contacts,
        answered: r.answered,
        asa_seconds: r.asa_seconds,
        surveyed: r.surveyed,
        satisfaction: r.satisfaction,
        tickets: r.tickets,
        tickets_on_time: r.tickets_on_time,
        tickets_overdue: r.tickets_overdue,
        on_time_rate: r.on_time_rate,
    }
}

fn self_service_row(r: report::SelfServiceRow) -> pb::SelfServiceRow {
    pb::SelfServiceRow {
        by: r.by.to_string(),
        key: r.key,
        calls: r.calls,
        contained: r.contained,
        containment: r.containment,
        to_agent: r.to_agent,
        hung_up: r.hung_up,
        called_again: r.called_again,
        called_again_to_agent: r.called_again_to_agent,
    }
}

fn repeat_caller_row(r: report::RepeatCallerRow) -> pb::RepeatCallerRow {
    pb::RepeatCallerRow {
        customer: r.customer,
        name: r.name,
        district: r.district,
        area: r.area,
        contacts: r.contacts,
        answered: r.answered,
        reasons: pairs(r.reasons),
        first: convert::ts(r.first),
        last: convert::ts(r.last),
    }
}

fn ticket_row(r: report::TicketRow) -> pb::TicketReportRow {
    pb::TicketReportRow {
        group: r.group,
        kind: serde_json::to_value(r.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        opened: r.opened,
        resolved: r.resolved,
        closed: r.closed,
        reopened: r.reopened,
        open: r.open,
        on_time: r.on_time,
        overdue: r.overdue,
        on_time_rate: r.on_time_rate,
        mean_hours_to_resolve: r.mean_hours_to_resolve,
    }
}

#[tonic::async_trait]
impl ReportService for Router {
    type IntervalReportStream = Pages<pb::IntervalReportPage>;
    type AgentReportStream = Pages<pb::AgentReportPage>;
    type HotspotReportStream = Pages<pb::HotspotReportPage>;
    type ReasonReportStream = Pages<pb::ReasonReportPage>;
    type SatisfactionReportStream = Pages<pb::SatisfactionReportPage>;
    type KeyAccountReportStream = Pages<pb::KeyAccountReportPage>;
    type SelfServiceReportStream = Pages<pb::SelfServiceReportPage>;
    type RepeatCallerReportStream = Pages<pb::RepeatCallerReportPage>;
    type TicketReportStream = Pages<pb::TicketReportPage>;

    async fn interval_report(
        &self,
        req: Request<pb::IntervalReportRequest>,
    ) -> Result<Response<Self::IntervalReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let minutes = if r.minutes == 0 { 15 } else { r.minutes.into() };
        let queues = r.queues;
        let target = r
            .target_service_level
            .unwrap_or(hotline_acd::kpi::SERVICE_LEVEL_TARGET);
        let rep = self
            .report(move |s, _| report::intervals(s, period, &queues, minutes, target))
            .await?;
        let totals: Vec<pb::QueueIntervalRow> = rep.totals.into_iter().map(queue_row).collect();
        let floor: Vec<pb::FloorIntervalRow> = rep.floor.into_iter().map(floor_row).collect();
        let ivr: Vec<pb::IvrIntervalRow> = rep.ivr.into_iter().map(ivr_row).collect();
        Ok(Response::new(pages(rep.rows, r.page_size, |rows, last| {
            pb::IntervalReportPage {
                rows: rows.into_iter().map(queue_row).collect(),
                totals: if last { totals.clone() } else { vec![] },
                last,
                floor: if last { floor.clone() } else { vec![] },
                ivr: if last { ivr.clone() } else { vec![] },
            }
        })))
    }

    async fn agent_report(
        &self,
        req: Request<pb::AgentReportRequest>,
    ) -> Result<Response<Self::AgentReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let (agents, teams) = (r.agents, r.teams);
        let rows = self
            .report(move |s, now| report::agents(s, period, now, &agents, &teams))
            .await?;
        Ok(Response::new(pages(rows, r.page_size, |rows, last| {
            pb::AgentReportPage {
                rows: rows.into_iter().map(agent_row).collect(),
                last,
            }
        })))
    }

    async fn hotspot_report(
        &self,
        req: Request<pb::HotspotReportRequest>,
    ) -> Result<Response<Self::HotspotReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let level = match pb::AreaLevel::try_from(r.level) {
            Ok(pb::AreaLevel::District) => AreaLevel::District,
            Ok(pb::AreaLevel::Area | pb::AreaLevel::Unspecified) => AreaLevel::Area,
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "`level` {} is not an area level (district 1, area 2)",
                    r.level
                )));
            }
        };
        let limit = convert::limit_in(r.limit, 20, 5000);
        let districts = r.districts;
        let rows = self
            .report(move |s, _| report::hotspots(s, period, level, &districts, limit))
            .await?;
        Ok(Response::new(pages(rows, r.page_size, |rows, last| {
            pb::HotspotReportPage {
                rows: rows.into_iter().map(hotspot_row).collect(),
                last,
            }
        })))
    }

    async fn reason_report(
        &self,
        req: Request<pb::ReasonReportRequest>,
    ) -> Result<Response<Self::ReasonReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let (reasons, who) = (r.reasons, customers_in(r.customers));
        let rows = self
            .report(move |s, _| report::reasons(s, period, &reasons, &who))
            .await?;
        Ok(Response::new(pages(rows, r.page_size, |rows, last| {
            pb::ReasonReportPage {
                rows: rows.into_iter().map(reason_row).collect(),
                last,
            }
        })))
    }

    async fn satisfaction_report(
        &self,
        req: Request<pb::SatisfactionReportRequest>,
    ) -> Result<Response<Self::SatisfactionReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let by = dimensions_in(&r.by)?;
        let who = customers_in(r.customers);
        let rows = self
            .report(move |s, _| report::satisfaction(s, period, &by, &who))
            .await?;
        Ok(Response::new(pages(rows, r.page_size, |rows, last| {
            pb::SatisfactionReportPage {
                rows: rows.into_iter().map(satisfaction_row).collect(),
                last,
            }
        })))
    }

    async fn key_account_report(
        &self,
        req: Request<pb::KeyAccountReportRequest>,
    ) -> Result<Response<Self::KeyAccountReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let managers = r.managers;
        let rep = self
            .report(move |s, now| report::key_accounts(s, period, now, &managers))
            .await?;
        let green = rep.green_channel.map(queue_row);
        Ok(Response::new(pages(
            rep.managers,
            r.page_size,
            |rows, last| pb::KeyAccountReportPage {
                managers: rows.into_iter().map(manager_row).collect(),
                green_channel: if last { green.clone() } else { None },
                last,
            },
        )))
    }

    async fn self_service_report(
        &self,
        req: Request<pb::SelfServiceReportRequest>,
    ) -> Result<Response<Self::SelfServiceReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let who = customers_in(r.customers);
        let rows = self
            .report(move |s, _| report::self_service(s, period, &who))
            .await?;
        Ok(Response::new(pages(rows, r.page_size, |rows, last| {
            pb::SelfServiceReportPage {
                rows: rows.into_iter().map(self_service_row).collect(),
                last,
            }
        })))
    }

    async fn repeat_caller_report(
        &self,
        req: Request<pb::RepeatCallerReportRequest>,
    ) -> Result<Response<Self::RepeatCallerReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let at_least = if r.at_least == 0 {
            3
        } else {
            r.at_least.into()
        };
        let limit = convert::limit_in(r.limit, 50, 5000);
        let who = customers_in(r.customers);
        let rows = self
            .report(move |s, _| report::repeat_callers(s, period, at_least, limit, &who))
            .await?;
        Ok(Response::new(pages(rows, r.page_size, |rows, last| {
            pb::RepeatCallerReportPage {
                rows: rows.into_iter().map(repeat_caller_row).collect(),
                last,
            }
        })))
    }

    async fn ticket_report(
        &self,
        req: Request<pb::TicketReportRequest>,
    ) -> Result<Response<Self::TicketReportStream>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let period = period_in(&r.period)?;
        let (groups, who) = (r.groups, customers_in(r.customers));
        let rows = self
            .report(move |s, now| report::tickets(s, period, now, &groups, &who))
            .await?;
        Ok(Response::new(pages(rows, r.page_size, |rows, last| {
            pb::TicketReportPage {
                rows: rows.into_iter().map(ticket_row).collect(),
                last,
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_stream::StreamExt;

    #[tokio::test]
    async fn rows_are_cut_into_pages_and_the_last_says_so() {
        let p: Vec<(Vec<u32>, bool)> = pages((0..7).collect(), 3, |r, last| (r, last))
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(
            p,
            vec![
                (vec![0, 1, 2], false),
                (vec![3, 4, 5], false),
                (vec![6], true)
            ]
        );
        let none: Vec<(Vec<u32>, bool)> = pages(vec![], 3, |r, last| (r, last))
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(none, vec![(vec![], true)], "one empty last page");
    }
}
