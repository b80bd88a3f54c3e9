//! The driver side of 回访 call-backs: the store tells of every ticket it writes; each
//! one just resolved becomes a call-back task for the switchboard (`In::CallBackDue`,
//! with the customer's number and screen pop looked up on the blocking pool). At start,
//! tickets resolved and still waiting for their call-back (a router stopped meanwhile)
//! get theirs too; a retry the switchboard asks for (`Out::CallBackLater`) is a sleep,
//! then the same look-up — a ticket no longer waiting (closed by hand, reopened) needs
//! none. The attempt is counted from the ticket's history, so a restart neither repeats
//! nor skips one.

use crate::core::CoreMsg;
use crate::switchboard::In;
use hotline_store::{Millis, Store, TicketStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Resolved tickets read at start to find call-backs still to make.
const AT_START: usize = 5_000;

/// Makes call-back tasks of resolved tickets.
#[derive(Clone)]
pub(crate) struct CallBacks {
    store: Arc<Store>,
    core: mpsc::UnboundedSender<CoreMsg>,
    next_call: Arc<AtomicU64>,
}

impl CallBacks {
    /// Follow `store`'s ticket writes from now on, and look for the call-backs a
    /// stopped router left.
    pub(crate) fn start(
        store: Arc<Store>,
        core: mpsc::UnboundedSender<CoreMsg>,
        next_call: Arc<AtomicU64>,
    ) -> CallBacks {
        let me = CallBacks {
            store,
            core,
            next_call,
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        me.store
            .on_ticket_written(Arc::new(move |t: &hotline_store::Ticket| {
                if t.just_resolved() {
                    let _ = tx.send(t.id);
                }
            }));
        let follow = me.clone();
        tokio::spawn(async move {
            while let Some(ticket) = rx.recv().await {
                follow.due(ticket).await;
            }
        });
        let left = me.clone();
        tokio::spawn(async move { left.left_over().await });
        me
    }

    /// Tickets resolved before this router started and still waiting.
    async fn left_over(&self) {
        let store = self.store.clone();
        let found = tokio::task::spawn_blocking(move || {
            store.tickets_by_status(TicketStatus::Resolved, AT_START)
        })
        .await;
        match found {
            Ok(Ok(tickets)) => {
                if !tickets.is_empty() {
                    tracing::info!(
                        tickets = tickets.len(),
                        "resolved tickets wait for their call-backs"
                    );
                }
                for t in tickets {
                    self.due(t.id).await;
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "resolved tickets could not be read at start"),
            Err(_) => {}
        }
    }

    /// Ticket `ticket`'s call-back at `at` (a retry).
    pub(crate) fn later(&self, ticket: u64, at: Millis) {
        let me = self.clone();
        let wait = at.saturating_sub(crate::core::now_ms());
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            me.due(ticket).await;
        });
    }

    /// Hand ticket `ticket`'s call-back to the switchboard if it still waits for one.
    async fn due(&self, ticket: u64) {
        let store = self.store.clone();
        let found = tokio::task::spawn_blocking(move || -> Result<_, hotline_store::StoreError> {
            let Some(t) = store.ticket(ticket)? else {
                return Ok(None);
            };
            let Some(attempt) = t.call_back_attempt() else {
                return Ok(None);
            };
            let number = store
                .customer(t.customer)?
                .and_then(|c| c.phones.first().cloned());
            let Some(number) = number else {
                tracing::warn!(ticket, "no number to call the customer back on");
                return Ok(None);
            };
            let pop = store.screen_pop(&number, 5)?;
            Ok(Some((t, number, pop, attempt)))
        })
        .await;
        match found {
            Ok(Ok(Some((t, number, pop, attempt)))) => {
                let call = self.next_call.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::info!(ticket, call, attempt, "call-back due");
                let _ = self.core.send(CoreMsg::Input(
                    In::CallBackDue {
                        call,
                        ticket: Box::new(t),
                        number,
                        pop: pop.map(Box::new),
                        attempt,
                    },
                    None,
                ));
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                // the store is away: try again in a minute, the ticket still waits
                tracing::warn!(ticket, error = %e, "call-back not made yet: the store did not answer");
                self.later(ticket, crate::core::now_ms() + 60_000);
            }
            Err(_) => {}
        }
    }
}
