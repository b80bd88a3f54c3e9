//! Back-office clerk bots (后台): each watches its group's worklist over `WatchTickets`,
//! takes a dispatched ticket after a while, notes what it found, and resolves it with one
//! of the resolutions the categories file gives its type — through the contract only,
//! as a clerk at a desktop would.

use crate::LiveStats;
use hotline_acd::rng::Rng;
use hotline_proto::v1 as pb;
use hotline_proto::v1::crm_service_client::CrmServiceClient;
use hotline_store::Catalog;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;
use tonic::transport::Channel;

/// A clerk bot's account and group.
#[derive(Debug, Clone)]
pub struct Clerk {
    /// Work number.
    pub id: String,
    /// Password.
    pub password: String,
    /// Back-office group code (`repair-crew`).
    pub group: String,
}

/// What the clerk will do to a ticket next.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Take,
    Resolve,
}

/// Work the group's tickets until the stream ends.
pub(crate) async fn clerk(
    channel: Channel,
    who: Clerk,
    mean_work_seconds: f64,
    seed: u64,
    stats: Arc<LiveStats>,
) -> Result<(), String> {
    let token = crate::log_in(channel.clone(), &who.id, &who.password).await?;
    let mut crm = CrmServiceClient::new(channel);
    let watch = pb::WatchTicketsRequest {
        of: Some(pb::watch_tickets_request::Of::BackOffice(who.group.clone())),
    };
    let mut updates = crm
        .watch_tickets(crate::authed(watch, &token)?)
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner();
    let catalog = Catalog::shipped();
    let mut rng = Rng::fork(seed, 0xc1e4);
    // ticket → (when, what) the clerk will do next
    let mut plan: HashMap<u64, (Instant, Step, pb::Ticket)> = HashMap::new();
    loop {
        let due = plan.values().map(|p| p.0).min();
        tokio::select! {
            u = updates.message() => match u {
                Ok(Some(u)) => {
                    if u.snapshot {
                        plan.clear();
                    }
                    for t in u.tickets {
                        schedule(&mut plan, t, &who, mean_work_seconds, &mut rng);
                    }
                }
                _ => return Ok(()),
            },
            _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                let now = Instant::now();
                let ready: Vec<u64> = plan.iter().filter(|p| p.1.0 <= now).map(|p| *p.0).collect();
                for id in ready {
                    let Some((_, step, t)) = plan.remove(&id) else { continue };
                    let change = match step {
                        Step::Take => pb::ticket_change::Change::Start(true),
                        Step::Resolve => pb::ticket_change::Change::Resolve(resolution(catalog, &t, &mut rng)),
                    };
                    let req = pb::UpdateTicketRequest {
                        id,
                        change: Some(pb::TicketChange { change: Some(change) }),
                    };
                    // another clerk may have been first: the worklist will say so
                    match crm.update_ticket(crate::authed(req, &token)?).await {
                        Ok(_) if step == Step::Take => stats.tickets_taken.fetch_add(1, Ordering::Relaxed),
                        Ok(_) => stats.tickets_resolved.fetch_add(1, Ordering::Relaxed),
                        Err(_) => stats.refused.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }
        }
    }
}

/// Plan the clerk's next step on `t` as it is now (or drop it: not theirs, or done).
fn schedule(
    plan: &mut HashMap<u64, (Instant, Step, pb::Ticket)>,
    t: pb::Ticket,
    who: &Clerk,
    mean_work_seconds: f64,
    rng: &mut Rng,
) {
    use pb::TicketStatus as S;
    let status = S::try_from(t.status).unwrap_or(S::Unspecified);
    let step = match status {
        S::New | S::Dispatched | S::Reopened if t.back_office == who.group => Step::Take,
        S::InProgress if t.taken_by == who.id => Step::Resolve,
        _ => {
            plan.remove(&t.id);
            return;
        }
    };
    if plan.get(&t.id).is_some_and(|p| p.1 == step) {
        return; // already planned (a note came in meanwhile)
    }
    // taking is quicker than the work itself
    let mean = match step {
        Step::Take => mean_work_seconds / 3.0,
        Step::Resolve => mean_work_seconds,
    };
    let after = rng.exponential(mean).clamp(2.0, 10.0 * mean);
    plan.insert(
        t.id,
        (Instant::now() + Duration::from_secs_f64(after), step, t),
    );
}

/// One of the resolutions that fit the ticket's type (the likeliest most often).
fn resolution(catalog: &Catalog, t: &pb::Ticket, rng: &mut Rng) -> pb::Resolution {
    let kind = match pb::TicketKind::try_from(t.kind) {
        Ok(pb::TicketKind::Fault) => hotline_store::TicketKind::Fault,
        Ok(pb::TicketKind::Complaint) => hotline_store::TicketKind::Complaint,
        Ok(pb::TicketKind::ServiceOrder) => hotline_store::TicketKind::ServiceOrder,
        Ok(pb::TicketKind::Suggestion) => hotline_store::TicketKind::Suggestion,
        _ => hotline_store::TicketKind::Inquiry,
    };
    let fits = &catalog.kind(kind).resolutions;
    let code = if fits.is_empty() || rng.chance(0.7) {
        fits.first()
    } else {
        fits.get(rng.below(fits.len() as u64) as usize)
    };
    let code = code
        .or_else(|| catalog.resolutions.first().map(|r| &r.code))
        .cloned()
        .unwrap_or_default();
    let label = catalog.resolution(&code).map_or("", |r| r.zh.as_str());
    pb::Resolution {
        note: format!("后台机器人处理完毕：{label}"),
        code,
    }
}
