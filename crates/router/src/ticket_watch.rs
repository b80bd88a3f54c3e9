//! Worklists and "my tickets", live: the store tells of every ticket its rules write
//! (`Store::on_ticket_written`), the router fans them out on one broadcast channel, and
//! each `WatchTickets` stream sends its list once and then every ticket of it that
//! appears or changes — no client polls.

use crate::server::{EventStream, EventTx};
use hotline_proto::v1 as pb;
use hotline_store::{Store, StoreError, Ticket, TicketStatus};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Tickets a watcher's list holds at most (a group's worklist, an agent's own).
const LIST_LIMIT: usize = 500;

/// Tickets written and not yet sent that a slow watcher may fall behind by before it
/// gets a fresh list instead.
const NEWS_BACKLOG: usize = 1024;

/// The tickets the store writes, as a broadcast.
#[derive(Clone)]
pub(crate) struct TicketNews(broadcast::Sender<Arc<Ticket>>);

impl TicketNews {
    /// Listen to `store`'s ticket writes.
    pub(crate) fn on(store: &Store) -> TicketNews {
        let (tx, _) = broadcast::channel(NEWS_BACKLOG);
        let sender = tx.clone();
        store.on_ticket_written(Arc::new(move |t: &Ticket| {
            // no watcher: nothing to tell
            let _ = sender.send(Arc::new(t.clone()));
        }));
        TicketNews(tx)
    }
}

/// What a watcher follows.
#[derive(Debug, Clone)]
pub(crate) enum Watched {
    /// A back-office group's open tickets (its code).
    Office(String),
    /// An agent's own tickets not yet closed (首问负责).
    Owner(String),
}

impl Watched {
    /// Whether `t` belongs in the list now.
    fn holds(&self, store: &Store, t: &Ticket) -> bool {
        match self {
            Watched::Office(code) => {
                t.status.is_open()
                    && t.back_office
                        .as_deref()
                        .and_then(|g| store.catalog().office(g))
                        .is_some_and(|o| o.code == *code)
            }
            Watched::Owner(agent) => t.owner == *agent && t.status != TicketStatus::Closed,
        }
    }

    /// The list now, soonest deadline first, each ticket with its customer.
    pub(crate) fn lines(&self, store: &Store) -> Result<Vec<pb::Ticket>, StoreError> {
        let now = crate::core::now_ms();
        self.list(store)?
            .iter()
            .map(|t| line(store, t, now))
            .collect()
    }

    /// The list now, soonest deadline first.
    fn list(&self, store: &Store) -> Result<Vec<Ticket>, StoreError> {
        match self {
            Watched::Office(code) => store.worklist(code, LIST_LIMIT),
            Watched::Owner(agent) => {
                // the owner index is by ticket number: read them all and keep the ones
                // still going around the loop
                let mut mine = store.tickets_of_owner(agent, usize::MAX)?;
                mine.retain(|t| self.holds(store, t));
                mine.sort_by_key(|t| (t.deadline, t.id));
                mine.truncate(LIST_LIMIT);
                Ok(mine)
            }
        }
    }
}

/// A ticket as a worklist shows it (its customer read for the segment, name and area).
pub(crate) fn line(store: &Store, t: &Ticket, now: u64) -> Result<pb::Ticket, StoreError> {
    let customer = store.customer(t.customer)?;
    Ok(crate::convert::ticket_line(
        t,
        customer.as_ref(),
        store.catalog(),
        now,
    ))
}

/// Start a watcher: its stream gets the list, then the changes.
pub(crate) fn watch(
    store: Arc<Store>,
    news: &TicketNews,
    watched: Watched,
) -> EventStream<pb::TicketUpdate> {
    let (tx, stream) = EventStream::channel();
    // subscribed before the list is read, so no change falls between the two
    let rx = news.0.subscribe();
    tokio::spawn(follow(store, rx, watched, tx));
    stream
}

async fn follow(
    store: Arc<Store>,
    mut rx: broadcast::Receiver<Arc<Ticket>>,
    watched: Watched,
    tx: EventTx<pb::TicketUpdate>,
) {
    let Some(mut shown) = send_list(&store, &watched, &tx).await else {
        return;
    };
    loop {
        let news = tokio::select! {
            n = rx.recv() => n,
            _ = tx.closed() => return,
        };
        match news {
            Ok(t) => {
                let holds = watched.holds(&store, &t);
                // a ticket that left the list comes once more, so the client drops it
                let was_shown = if holds {
                    !shown.insert(t.id)
                } else {
                    shown.remove(&t.id)
                };
                if !holds && !was_shown {
                    continue;
                }
                let s = store.clone();
                let read = tokio::task::spawn_blocking(move || line(&s, &t, crate::core::now_ms()));
                let ticket = match read.await {
                    Ok(Ok(t)) => t,
                    Ok(Err(e)) => {
                        tx.end(crate::convert::store_status(e));
                        return;
                    }
                    Err(_) => return,
                };
                let update = pb::TicketUpdate {
                    tickets: vec![ticket],
                    snapshot: false,
                };
                if !tx.send(update) {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                let Some(now_shown) = send_list(&store, &watched, &tx).await else {
                    return;
                };
                shown = now_shown;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Send the whole list; the ids sent, or none when the stream ended.
async fn send_list(
    store: &Arc<Store>,
    watched: &Watched,
    tx: &EventTx<pb::TicketUpdate>,
) -> Option<HashSet<u64>> {
    let (s, w) = (store.clone(), watched.clone());
    let list = match tokio::task::spawn_blocking(move || w.lines(&s)).await {
        Ok(Ok(list)) => list,
        Ok(Err(e)) => {
            tx.end(crate::convert::store_status(e));
            return None;
        }
        Err(_) => {
            tx.end(tonic::Status::internal("the store task failed"));
            return None;
        }
    };
    let shown = list.iter().map(|t| t.id).collect();
    let update = pb::TicketUpdate {
        tickets: list,
        snapshot: true,
    };
    tx.send(update).then_some(shown)
}
