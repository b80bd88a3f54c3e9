//! `CrmService`: customers, call records and tickets, for logged-in agents and
//! supervisors. Store work runs on the blocking pool; errors become statuses in
//! [`crate::convert`].

use crate::convert;
use crate::server::Router;
use crate::ticket_watch::{self, Watched};
use hotline_proto::v1 as pb;
use hotline_proto::v1::crm_service_server::CrmService;
use hotline_store::{Role, Store, StoreError};
use std::sync::Arc;
use tonic::{Request, Response, Status};

use crate::convert::limit_in as limit;
use crate::core::now_ms;

fn not_found(what: &str, id: impl std::fmt::Display) -> Status {
    Status::not_found(format!("no {what} {id}"))
}

impl Router {
    /// Run store work off the async threads.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Status> {
        let store: Arc<Store> = self.store();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|_| Status::internal("the store task failed"))?
            .map_err(convert::store_status)
    }
}

impl Router {
    /// Every call that arrived in [from, to), oldest first: for supervisors.
    async fn interactions_between(
        &self,
        req: Request<pb::ListInteractionsRequest>,
    ) -> Result<Response<pb::InteractionList>, Status> {
        self.supervisor(&req)?;
        let r = req.into_inner();
        let n = limit(r.limit, 20, 1000);
        let (from, to) = convert::range_in(&r.from, &r.to, now_ms())?;
        let found = self
            .with_store(move |s| s.interactions_between(from, to, n))
            .await?;
        Ok(Response::new(pb::InteractionList {
            interactions: found.iter().map(convert::interaction).collect(),
        }))
    }
}

#[tonic::async_trait]
impl CrmService for Router {
    type WatchTicketsStream = crate::server::EventStream<pb::TicketUpdate>;

    async fn watch_tickets(
        &self,
        req: Request<pb::WatchTicketsRequest>,
    ) -> Result<Response<Self::WatchTicketsStream>, Status> {
        use pb::watch_tickets_request::Of;
        let (who, role) = self.role(&req)?;
        let watched = match req.into_inner().of {
            Some(Of::Mine(_)) => Watched::Owner(who),
            Some(Of::BackOffice(group)) => {
                let (member, group) = self
                    .with_store(move |s| {
                        let code = s.catalog().check_office(&group)?.code.clone();
                        let member = s.agent(&who)?.is_some_and(|a| s.works_in(&a, &code));
                        Ok((member, code))
                    })
                    .await?;
                if !member && !matches!(role, Role::Supervisor | Role::Admin) {
                    return Err(Status::permission_denied(format!(
                        "the worklist of {group} is for its back office and supervisors"
                    )));
                }
                Watched::Office(group)
            }
            None => {
                return Err(Status::invalid_argument(
                    "say which tickets to watch: back_office (a group code) or mine",
                ));
            }
        };
        Ok(Response::new(ticket_watch::watch(
            self.store(),
            self.ticket_news(),
            watched,
        )))
    }

    async fn get_customer(
        &self,
        req: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        self.who(&req)?;
        let id = req.into_inner().id;
        let c = self.with_store(move |s| s.customer(id)).await?;
        c.map(|c| Response::new(convert::customer(&c)))
            .ok_or_else(|| not_found("customer", id))
    }

    async fn find_customer_by_phone(
        &self,
        req: Request<pb::FindByPhoneRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        self.who(&req)?;
        let phone = req.into_inner().phone;
        let p = phone.clone();
        let c = self.with_store(move |s| s.customer_by_phone(&p)).await?;
        c.map(|c| Response::new(convert::customer(&c)))
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no customer has the number {}",
                    hotline_store::mask::phone(&phone)
                ))
            })
    }

    async fn search_customers(
        &self,
        req: Request<pb::SearchCustomersRequest>,
    ) -> Result<Response<pb::CustomerList>, Status> {
        self.who(&req)?;
        let r = req.into_inner();
        let n = limit(r.limit, 20, 200);
        let found = self
            .with_store(move |s| s.customers_by_name(&r.name_prefix, n))
            .await?;
        Ok(Response::new(pb::CustomerList {
            customers: found.iter().map(convert::customer).collect(),
        }))
    }

    async fn put_customer(
        &self,
        req: Request<pb::PutCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        self.who(&req)?;
        let wire = req
            .into_inner()
            .customer
            .ok_or_else(|| Status::invalid_argument("customer is missing"))?;
        let id = wire.id;
        let existing = if id == 0 {
            None
        } else {
            self.with_store(move |s| s.customer(id)).await?
        };
        let c = convert::customer_in(wire, existing.as_ref())?;
        let saved = self.with_store(move |s| s.put_customer(c)).await?;
        Ok(Response::new(convert::customer(&saved)))
    }

    async fn list_interactions(
        &self,
        req: Request<pb::ListInteractionsRequest>,
    ) -> Result<Response<pb::InteractionList>, Status> {
        if req.get_ref().customer_id == 0 {
            return self.interactions_between(req).await;
        }
        self.who(&req)?;
        let r = req.into_inner();
        let n = limit(r.limit, 20, 200);
        let id = r.customer_id;
        // an unknown customer is a wrong number, not a customer who never called
        let found = self
            .with_store(move |s| {
                s.customer(id)?
                    .map(|_| s.interactions_of_customer(id, n))
                    .transpose()
            })
            .await?
            .ok_or_else(|| not_found("customer", id))?;
        Ok(Response::new(pb::InteractionList {
            interactions: found.iter().map(convert::interaction).collect(),
        }))
    }

    async fn get_interaction(
        &self,
        req: Request<pb::GetInteractionRequest>,
    ) -> Result<Response<pb::Interaction>, Status> {
        use pb::get_interaction_request::By;
        self.who(&req)?;
        let by = req
            .into_inner()
            .by
            .ok_or_else(|| Status::invalid_argument("say which record: `id` or `call_id`"))?;
        let (found, what, n) = match by {
            By::Id(id) => (
                self.with_store(move |s| s.interaction(id)).await?,
                "record",
                id,
            ),
            By::CallId(call) => (
                self.with_store(move |s| s.interaction_by_call(call))
                    .await?,
                "record of call",
                call,
            ),
        };
        found
            .map(|i| Response::new(convert::interaction(&i)))
            .ok_or_else(|| not_found(what, n))
    }

    async fn create_ticket(
        &self,
        req: Request<pb::CreateTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        let who = self.who(&req)?;
        let t = convert::new_ticket(req.into_inner())?;
        let now = now_ms();
        let created = self
            .with_store(move |s| s.create_ticket(t, &who, now))
            .await?;
        Ok(Response::new(convert::ticket(&created, now)))
    }

    async fn update_ticket(
        &self,
        req: Request<pb::UpdateTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        let who = self.who(&req)?;
        let r = req.into_inner();
        let change = convert::change_in(r.change)?;
        let now = now_ms();
        let t = self
            .with_store(move |s| {
                let account = s.agent(&who)?.ok_or_else(|| {
                    StoreError::NotAllowed(format!("{who} has no account any more"))
                })?;
                s.change_ticket_as(r.id, change, &account, now)
            })
            .await?;
        Ok(Response::new(convert::ticket(&t, now)))
    }

    async fn get_ticket(
        &self,
        req: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        self.who(&req)?;
        let id = req.into_inner().id;
        let t = self.with_store(move |s| s.ticket(id)).await?;
        t.map(|t| Response::new(convert::ticket(&t, now_ms())))
            .ok_or_else(|| not_found("ticket", id))
    }

    async fn list_tickets(
        &self,
        req: Request<pb::ListTicketsRequest>,
    ) -> Result<Response<pb::TicketList>, Status> {
        use pb::list_tickets_request::By;
        self.who(&req)?;
        let r = req.into_inner();
        let n = limit(r.limit, 50, 500);
        let now = now_ms();
        let found = match r.by {
            Some(By::CustomerId(c)) => {
                let mut v = self.with_store(move |s| s.tickets_of_customer(c)).await?;
                v.truncate(n);
                v
            }
            Some(By::Status(st)) => {
                let st = convert::status_in(st)?;
                self.with_store(move |s| s.tickets_by_status(st, n)).await?
            }
            Some(By::Owner(o)) => self.with_store(move |s| s.tickets_of_owner(&o, n)).await?,
            Some(By::Overdue(_)) => self.with_store(move |s| s.overdue_tickets(now, n)).await?,
            Some(By::BackOffice(g)) => {
                let lines = self
                    .with_store(move |s| {
                        let list = s.worklist(&g, n)?;
                        list.iter()
                            .map(|t| ticket_watch::line(s, t, now))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .await?;
                return Ok(Response::new(pb::TicketList { tickets: lines }));
            }
            None => {
                return Err(Status::invalid_argument(
                    "say which tickets: by customer_id, status, owner, overdue or back_office",
                ));
            }
        };
        Ok(Response::new(pb::TicketList {
            tickets: found.iter().map(|t| convert::ticket(t, now)).collect(),
        }))
    }
}
