//! Area incidents (区域障碍) on the router: the supervisor's RPCs (declare, edit, end,
//! list — each a store rule, audited there), the router's own declaration when an area's
//! surge crosses the stricter level and the configuration asks for it, and the open
//! incidents kept current in the core: read from the store at start, after every change,
//! a second after tickets linked to one are written (the counts grow as agents and
//! callers link tickets) and every half minute (another router's changes on a shared
//! store), then given to the switchboard (the IVR's outage node, the screen pop) and to
//! the wallboards.

use crate::convert;
use crate::core::{CoreMsg, now_ms};
use crate::server::Router;
use hotline_outage::Surge;
use hotline_proto::v1 as pb;
use hotline_store::{Incident, IncidentEdit, IncidentMessage, Millis, NewIncident, Store};
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::Status;

/// How often the open incidents are read again (their linked-ticket counts).
const REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// What an incident the router declares by itself says, and how long it expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoDeclare {
    /// The kind when the surge's calls name no fault subcategory.
    pub kind: String,
    /// The message callers hear.
    pub message: IncidentMessage,
    /// Expected restore time after the declaration, ms.
    pub restore_after: Millis,
}

impl Default for AutoDeclare {
    fn default() -> AutoDeclare {
        AutoDeclare {
            kind: "broadband-down".into(),
            message: IncidentMessage {
                zh: "您所在小区的网络出现障碍，维修人员正在抢修".into(),
                en: "the network in your area is down and the repair crew is on it".into(),
            },
            restore_after: 4 * 3_600_000,
        }
    }
}

/// The open incidents as the core keeps them: for the switchboard, and for the wire
/// with their counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenIncidents {
    pub(crate) open: Vec<Incident>,
    pub(crate) wire: Vec<pb::Incident>,
}

/// Read the open incidents with their counts.
fn read(store: &Store) -> Result<OpenIncidents, hotline_store::StoreError> {
    let open = store.open_incidents()?;
    let mut wire = Vec::with_capacity(open.len());
    for i in open.iter().rev() {
        let counts = store.incident_counts(i.id)?;
        wire.push(convert::incident(i, store.catalog(), Some(counts), false));
    }
    Ok(OpenIncidents { open, wire })
}

/// Read the open incidents and hand them to the core.
pub(crate) async fn refresh(store: Arc<Store>, core: mpsc::UnboundedSender<CoreMsg>) {
    match tokio::task::spawn_blocking(move || read(&store)).await {
        Ok(Ok(now)) => {
            let _ = core.send(CoreMsg::Incidents(now));
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "open incidents could not be read; kept as they were")
        }
        Err(_) => {}
    }
}

/// Read them at start, every [`REFRESH`], and a second after linked tickets were
/// written (a burst of them read once).
pub(crate) fn follow(store: Arc<Store>, core: mpsc::UnboundedSender<CoreMsg>) {
    let (linked, mut written) = mpsc::unbounded_channel::<()>();
    store.on_ticket_written(Arc::new(move |t: &hotline_store::Ticket| {
        if t.incident().is_some() {
            let _ = linked.send(());
        }
    }));
    tokio::spawn(async move {
        let mut every = tokio::time::interval(REFRESH);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                Some(()) = written.recv() => {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    while written.try_recv().is_ok() {}
                }
            }
            if core.is_closed() {
                return;
            }
            refresh(store.clone(), core.clone()).await;
        }
    });
}

/// The surge crossed the stricter level: declare an incident for its area, unless one
/// is open there (the store refuses a second of the same kind; another kind open is
/// enough).
pub(crate) fn declare_for(
    surge: &Surge,
    auto: &AutoDeclare,
    store: Arc<Store>,
    core: mpsc::UnboundedSender<CoreMsg>,
) {
    let catalog = store.catalog();
    let fault = catalog.kind(hotline_store::TicketKind::Fault);
    let kind = surge
        .top
        .iter()
        .map(|(code, _)| code)
        .find(|code| fault.subcategories.iter().any(|s| &s.id == *code))
        .cloned()
        .unwrap_or_else(|| auto.kind.clone());
    let now = now_ms();
    let new = NewIncident {
        district: surge.area.district.clone(),
        area: surge.area.area.clone(),
        kind,
        started: Some(surge.first.min(now)),
        expected_restore: now + auto.restore_after,
        message: auto.message.clone(),
        automatic: true,
    };
    tokio::spawn(async move {
        let s = store.clone();
        let done = tokio::task::spawn_blocking(move || {
            if s.open_incident_of(&new.district, &new.area, None)?
                .is_some()
            {
                return Ok(None);
            }
            s.declare_incident(new, hotline_store::SYSTEM, now)
                .map(Some)
        })
        .await;
        match done {
            Ok(Ok(Some(i))) => {
                tracing::warn!(incident = i.id, district = %i.district, area = %i.area,
                    kind = %i.kind, "fault surge past the stricter level: incident declared");
                refresh(store, core).await;
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the surge's incident could not be declared"),
            Err(_) => {}
        }
    });
}

impl Router {
    /// Tell the core the incidents changed, and answer with `i` as the wire has it.
    async fn changed(&self, i: Incident) -> Result<pb::Incident, Status> {
        refresh(self.store(), self.core()).await;
        let id = i.id;
        let counts = self.with_store(move |s| s.incident_counts(id)).await?;
        Ok(convert::incident(
            &i,
            self.store().catalog(),
            Some(counts),
            true,
        ))
    }

    pub(crate) async fn declare(
        &self,
        by: String,
        r: pb::DeclareIncidentRequest,
    ) -> Result<pb::Incident, Status> {
        let now = now_ms();
        let new = NewIncident {
            district: r.district,
            area: r.area,
            kind: r.kind,
            started: convert::ms(&r.started_at),
            expected_restore: match r.expected_restore_at {
                None => {
                    return Err(Status::invalid_argument(
                        "expected_restore_at is missing: callers are told when service is back",
                    ));
                }
                t => convert::time_in("expected_restore_at", &t)?,
            },
            message: IncidentMessage {
                zh: r.message_zh,
                en: r.message_en,
            },
            automatic: false,
        };
        let i = self
            .with_store(move |s| s.declare_incident(new, &by, now))
            .await?;
        tracing::warn!(incident = i.id, district = %i.district, area = %i.area, kind = %i.kind,
            by = %i.declared_by, "incident declared");
        self.changed(i).await
    }

    pub(crate) async fn edit(
        &self,
        by: String,
        r: pb::UpdateIncidentRequest,
    ) -> Result<pb::Incident, Status> {
        let message = match (r.message_zh.is_empty(), r.message_en.is_empty()) {
            (true, true) => None,
            _ => Some(IncidentMessage {
                zh: r.message_zh,
                en: r.message_en,
            }),
        };
        let edit = IncidentEdit {
            expected_restore: match r.expected_restore_at {
                None => None,
                t => Some(convert::time_in("expected_restore_at", &t)?),
            },
            message,
        };
        let now = now_ms();
        let i = self
            .with_store(move |s| s.edit_incident(r.id, edit, &by, now))
            .await?;
        tracing::info!(incident = i.id, "incident edited");
        self.changed(i).await
    }

    pub(crate) async fn end(
        &self,
        by: String,
        r: pb::EndIncidentRequest,
    ) -> Result<pb::EndIncidentResponse, Status> {
        let now = now_ms();
        let end = self
            .with_store(move |s| s.end_incident(r.id, &r.resolution_code, &r.note, &by, now))
            .await?;
        tracing::info!(
            incident = end.incident.id,
            resolved = end.resolved.len(),
            "incident ended: linked tickets resolved"
        );
        let incident = self.changed(end.incident).await?;
        Ok(pb::EndIncidentResponse {
            incident: Some(incident),
            resolved_tickets: end.resolved,
        })
    }

    pub(crate) async fn list(
        &self,
        r: pb::ListIncidentsRequest,
    ) -> Result<pb::IncidentList, Status> {
        let n = convert::limit_in(r.limit, 100, 1000);
        let open_only = r.open_only;
        let store = self.store();
        let incidents = self
            .with_store(move |s| {
                s.incidents(open_only, n)?
                    .iter()
                    .map(|i| {
                        let counts = s.incident_counts(i.id)?;
                        Ok(convert::incident(i, store.catalog(), Some(counts), true))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(pb::IncidentList { incidents })
    }
}
