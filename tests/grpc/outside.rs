//! The router as an outside client meets it: `hotline serve` in a process of its own on
//! a store of its own, and this test process talking to it over gRPC. What an outside
//! audit found (records lost, sessions that did not close, bad input taken as
//! something else) is checked here the way it was found.

use super::routing::Desk;
use super::*;
use hotline_proto::v1::crm_service_client::CrmServiceClient;
use hotline_proto::v1::supervisor_service_client::SupervisorServiceClient;
use pb::agent_command::Command as C;
use pb::agent_event::Event as E;
use pb::call_event::Event as CE;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `hotline serve` running in its own process.
pub(super) struct Served {
    pub(super) url: String,
    child: Child,
    dir: std::path::PathBuf,
    /// The store: `dir/store`, or a PostgreSQL database of the test's own.
    store: String,
    database: Option<std::sync::Arc<super::engines::TempDatabase>>,
    /// Lines the router printed after its first, read in the background.
    stdout: std::sync::mpsc::Receiver<String>,
}

fn hotline(args: &[&str], password: Option<&str>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hotline"));
    c.args(args);
    if let Some(p) = password {
        c.env("HOTLINE_AGENT_PASSWORD", p);
    }
    let out = c.output().expect("hotline runs");
    assert!(
        out.status.success(),
        "hotline {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Served {
    /// A router with agents 1001 and 1002 (every skill, password "correct horse ID")
    /// and supervisor 2001 ("supervisor 2001 pw"), open around the clock.
    pub(super) fn start(name: &str) -> Served {
        Served::start_with(name, "")
    }

    /// As [`Served::start`], with more lines for the router's configuration file.
    pub(super) fn start_with(name: &str, config: &str) -> Served {
        let dir =
            std::env::temp_dir().join(format!("hotline-outside-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let database = super::engines::postgres_chosen()
            .then(|| std::sync::Arc::new(super::engines::postgres_database("served")));
        let location = match &database {
            Some(db) => db.url.clone(),
            None => dir.join("store").display().to_string(),
        };
        let store = location.as_str();
        let skills = [
            "inquiry=5",
            "fault=5",
            "complaint=5",
            "new-service=5",
            "key-account=5",
        ];
        for (id, name) in [("1001", "王小明"), ("1002", "陈静")] {
            let mut args = vec!["store", "add-agent", "--store", store, "--id", id];
            args.extend(["--name", name]);
            for s in &skills {
                args.extend(["--skill", s]);
            }
            hotline(&args, Some(&format!("correct horse {id}")));
        }
        hotline(
            &[
                "store",
                "add-agent",
                "--store",
                store,
                "--id",
                "2001",
                "--name",
                "李班长",
                "--role",
                "supervisor",
            ],
            Some("supervisor 2001 pw"),
        );
        let conf = dir.join("router.toml");
        std::fs::write(&conf, format!("open_around_the_clock = true\n{config}")).unwrap();
        Served::spawn(dir, location, database)
    }

    /// `hotline serve` on `store` with the configuration in `dir`.
    fn spawn(
        dir: std::path::PathBuf,
        store: String,
        database: Option<std::sync::Arc<super::engines::TempDatabase>>,
    ) -> Served {
        let conf = dir.join("router.toml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(["serve", "--config", conf.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0", "--store", &store])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("hotline serve starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first
            .split_whitespace()
            .nth(4)
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        let (tx, stdout) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        Served {
            url: format!("http://{addr}"),
            child,
            dir,
            store,
            database,
            stdout,
        }
    }

    /// Stop the router (SIGTERM) and start it again on the same store.
    pub(super) fn restart(mut self) -> Served {
        assert!(self.terminate(Duration::from_secs(10)).is_some());
        let dir = std::mem::take(&mut self.dir);
        let (store, database) = (self.store.clone(), self.database.clone());
        drop(self);
        Served::spawn(dir, store, database)
    }

    /// Kill the router with SIGKILL (no stop, no last writes) and start it again on the
    /// same store.
    pub(super) fn kill_and_restart(mut self) -> Served {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::take(&mut self.dir);
        let (store, database) = (self.store.clone(), self.database.clone());
        drop(self);
        Served::spawn(dir, store, database)
    }

    /// The store's location (a directory or a postgres:// address).
    pub(super) fn store(&self) -> &str {
        &self.store
    }

    /// Send SIGTERM; the exit status and how long the router took to exit (None: it
    /// was still running after `limit`, and was killed).
    pub(super) fn terminate(&mut self, limit: Duration) -> Option<Duration> {
        #[cfg(unix)]
        // SAFETY: a plain kill(2) of our own child's pid
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "{status:?}");
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        None
    }

    /// What the router printed after its first line, so far.
    pub(super) fn printed(&self) -> Vec<String> {
        self.stdout.try_iter().collect()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A logged-in user's token.
pub(super) async fn token(ch: &Channel, id: &str, password: &str) -> String {
    AgentServiceClient::new(ch.clone())
        .login(pb::LoginRequest {
            agent_id: id.into(),
            password: password.into(),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .token
}

/// A customer with this number, created over the CRM.
pub(super) async fn customer(ch: &Channel, token: &str, phone: &str) -> u64 {
    CrmServiceClient::new(ch.clone())
        .put_customer(authed(
            pb::PutCustomerRequest {
                customer: Some(pb::Customer {
                    name: "张伟".into(),
                    phones: vec![phone.into()],
                    credit_level: 3,
                    ..Default::default()
                }),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .id
}

/// The customer's call records, newest first, once `n` are there.
pub(super) async fn records(
    ch: &Channel,
    token: &str,
    customer: u64,
    n: usize,
) -> Vec<pb::Interaction> {
    let mut crm = CrmServiceClient::new(ch.clone());
    for _ in 0..100 {
        let list = crm
            .list_interactions(authed(
                pb::ListInteractionsRequest {
                    customer_id: customer,
                    limit: 20,
                    ..Default::default()
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner()
            .interactions;
        if list.len() >= n {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("customer {customer} never had {n} records");
}

/// The agent answers a fault call from `phone` and hangs up; the agent is then in
/// wrap-up and the caller in the survey.
async fn a_call_to_wrap_up(ch: &Channel, desk: &mut Desk, phone: &str) -> u64 {
    let (call, ctx, mut events) = super::routing::call_in(ch, phone, "2").await;
    press(&ctx, "0").await;
    let offer = desk.offer().await;
    assert_eq!(offer.call_id, call);
    desk.done(2, C::Answer(true)).await;
    until(&mut events, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    desk.done(3, C::HangUp(true)).await;
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::HangUp(true)),
    })
    .await
    .unwrap();
    call
}

fn fault_ticket(customer: u64) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        customer_id: customer,
        kind: pb::TicketKind::Fault as i32,
        subcategory: "broadband-down".into(),
        description: "宽带无法上网".into(),
        priority: pb::TicketPriority::High as i32,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrap_up_the_store_would_refuse_is_refused_up_front_and_the_call_keeps_its_record() {
    let served = Served::start("notes");
    let ch = channel(&served.url).await;
    // the CRM as the supervisor sees it (a second login of 1001 would revoke the
    // desk's token)
    let agent = token(&ch, "2001", "supervisor 2001 pw").await;
    let me = customer(&ch, &agent, "18955551234").await;
    let mut desk = super::routing::agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    a_call_to_wrap_up(&ch, &mut desk, "18955551234").await;

    // 5,000 characters of notes: the store keeps at most 4,000
    desk.send(
        4,
        C::WrapUp(pb::WrapUp {
            disposition: "answered".into(),
            reason: "fault.broadband".into(),
            notes: "光".repeat(5000),
            ..Default::default()
        }),
    )
    .await;
    let e = desk.error().await;
    assert_eq!((e.command_id, e.code.as_str()), (4, "INVALID_ARGUMENT"));
    assert!(
        e.message.contains("notes") && e.message.contains("4000"),
        "{e:?}"
    );
    // still in wrap-up: a wrap-up that fits is taken
    desk.done(
        5,
        C::WrapUp(pb::WrapUp {
            disposition: "answered".into(),
            reason: "fault.broadband".into(),
            notes: "光".repeat(4000),
            ..Default::default()
        }),
    )
    .await;
    let rec = records(&ch, &agent, me, 1).await;
    assert_eq!(rec[0].disposition, "answered");
    assert_eq!(rec[0].notes.chars().count(), 4000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_from_a_number_no_record_could_hold_is_refused() {
    let served = Served::start("longnumber");
    let ch = channel(&served.url).await;
    let (ctx, crx) = mpsc::channel(4);
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::Dial(pb::Dial {
            from: "1".repeat(40),
            to: "1000".into(),
        })),
    })
    .await
    .unwrap();
    let e = CallerServiceClient::new(ch.clone())
        .call(ReceiverStream::new(crx))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(
        e.message().contains("from") && e.message().contains("32"),
        "{e:?}"
    );
    // a number of 32 is a call
    let (_ctx, mut call) = dial(&ch, &"1".repeat(32)).await;
    assert!(matches!(next(&mut call).await.event, Some(CE::Prompt(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrap_up_tickets_are_written_all_together_or_not_at_all() {
    let served = Served::start("tickets");
    let ch = channel(&served.url).await;
    // the CRM as the supervisor sees it (a second login of 1001 would revoke the
    // desk's token)
    let agent = token(&ch, "2001", "supervisor 2001 pw").await;
    let me = customer(&ch, &agent, "18955551234").await;
    let mut desk = super::routing::agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    a_call_to_wrap_up(&ch, &mut desk, "18955551234").await;

    // one good ticket and one for a customer who does not exist
    let wrap = |tickets| pb::WrapUp {
        disposition: "ticket opened".into(),
        reason: "fault.broadband".into(),
        new_tickets: tickets,
        ..Default::default()
    };
    desk.send(
        4,
        C::WrapUp(wrap(vec![fault_ticket(me), fault_ticket(me + 999)])),
    )
    .await;
    let e = desk.error().await;
    assert_eq!((e.command_id, e.code.as_str()), (4, "NOT_FOUND"), "{e:?}");
    assert!(e.message.contains("no ticket was written"), "{e:?}");
    let mut crm = CrmServiceClient::new(ch.clone());
    let list = |crm: &mut CrmServiceClient<Channel>| {
        let mut crm = crm.clone();
        let agent = agent.clone();
        async move {
            crm.list_tickets(authed(
                pb::ListTicketsRequest {
                    by: Some(pb::list_tickets_request::By::CustomerId(me)),
                    limit: 0,
                },
                &agent,
            ))
            .await
            .unwrap()
            .into_inner()
            .tickets
        }
    };
    assert!(list(&mut crm).await.is_empty(), "nothing half-written");
    // still in wrap-up: the corrected one is done, with its ticket
    desk.done(5, C::WrapUp(wrap(vec![fault_ticket(me)]))).await;
    let tickets = list(&mut crm).await;
    assert_eq!(tickets.len(), 1);
    let rec = records(&ch, &agent, me, 1).await;
    assert_eq!(rec[0].ticket_ids, [tickets[0].id]);
}

/// The stream's next item: an event, its end (None), or the status it ended with.
async fn next_item(
    s: &mut tonic::Streaming<pb::AgentEvent>,
) -> Result<Option<pb::AgentEvent>, tonic::Status> {
    tokio::time::timeout(Duration::from_secs(5), s.message())
        .await
        .expect("an event or the end within 5 s")
}

/// Events until the stream ends: the last one must be `closed` with `code`, and the
/// stream then ends cleanly.
async fn closes_with(desk: &mut Desk, code: pb::SessionEnd) {
    let mut last = None;
    while let Some(ev) = next_item(&mut desk.events).await.unwrap() {
        last = Some(ev);
    }
    match last.and_then(|e| e.event) {
        Some(E::Closed(c)) => assert_eq!(c.code, code as i32, "{c:?}"),
        other => panic!("the stream ended without `closed`: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_ends_the_first_session_and_its_token() {
    let served = Served::start("second-login");
    let ch = channel(&served.url).await;
    let mut first = super::routing::agent_on(&ch, "1001").await;
    first.done(1, C::Ready(true)).await;
    let old = token(&ch, "1001", "correct horse 1001").await;
    let mut second = super::routing::agent_on(&ch, "1001").await;
    closes_with(&mut first, pb::SessionEnd::LoggedInElsewhere).await;
    // the old session acts no more: its command goes nowhere and changes nothing
    let _ = first.tx.send(cmd(7, C::NotReady(16))).await;
    // the old token is revoked
    let e = CrmServiceClient::new(ch.clone())
        .get_customer(authed(pb::GetCustomerRequest { id: 1 }, &old))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
    // the new session is live: the agent is still ready there
    second.done(2, C::NotReady(16)).await;
    second.done(3, C::Ready(true)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_logout_and_logout_end_the_session() {
    let served = Served::start("force-logout");
    let ch = channel(&served.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let mut desk = super::routing::agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    SupervisorServiceClient::new(ch.clone())
        .force_logout(authed(
            pb::ForceLogoutRequest {
                agent_id: "1001".into(),
            },
            &boss,
        ))
        .await
        .unwrap();
    closes_with(&mut desk, pb::SessionEnd::ForcedLogout).await;
    // the agent logs in again and logs out: the session ends, the token is revoked
    let mut desk = super::routing::agent_on(&ch, "1001").await;
    desk.send(2, C::Logout(true)).await;
    closes_with(&mut desk, pb::SessionEnd::LoggedOut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_router_within_seconds_whatever_clients_do() {
    let mut served = Served::start("sigterm");
    let ch = channel(&served.url).await;
    let mut desk = super::routing::agent_on(&ch, "1001").await;
    desk.done(1, C::NotReady(16)).await;
    // a caller in the IVR who never hangs up, a desk that never closes its side
    let (_ctx, mut call) = dial(&ch, "18955550000").await;
    next(&mut call).await;
    let took = tokio::task::spawn_blocking(move || {
        let took = served.terminate(Duration::from_secs(10));
        (took, served.printed())
    });
    closes_with(&mut desk, pb::SessionEnd::RouterShuttingDown).await;
    let (took, printed) = took.await.unwrap();
    let took = took.expect("the router exited within 10 s");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(
        printed.last().map(String::as_str),
        Some("stopped cleanly"),
        "{printed:?}"
    );
}

/// Bytes as they are, for a stream that must carry what no client of ours would send.
#[derive(Clone, Default)]
struct RawCodec;

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = pb::AgentEvent;
    type Encoder = RawEncoder;
    type Decoder =
        <tonic_prost::ProstCodec<pb::AgentCommand, pb::AgentEvent> as tonic::codec::Codec>::Decoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> Self::Decoder {
        tonic::codec::Codec::decoder(&mut tonic_prost::ProstCodec::<
            pb::AgentCommand,
            pb::AgentEvent,
        >::default())
    }
}

/// An agent session that sends raw bytes.
async fn raw_session(
    ch: &Channel,
    token: &str,
) -> (mpsc::Sender<Vec<u8>>, tonic::Streaming<pb::AgentEvent>) {
    let (tx, rx) = mpsc::channel(4);
    let mut grpc = tonic::client::Grpc::new(ch.clone()).max_encoding_message_size(64 * 1024 * 1024);
    grpc.ready().await.unwrap();
    let events = grpc
        .streaming(
            authed(ReceiverStream::new(rx), token),
            tonic::codegen::http::uri::PathAndQuery::from_static(
                "/callcenter.v1.AgentService/Session",
            ),
            RawCodec,
        )
        .await
        .unwrap()
        .into_inner();
    (tx, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_and_oversize_commands_end_the_stream_with_their_status() {
    use prost::Message;
    let served = Served::start("bad-bytes");
    let ch = channel(&served.url).await;
    let t = token(&ch, "1001", "correct horse 1001").await;
    let (tx, mut events) = raw_session(&ch, &t).await;
    tx.send(vec![0xff, 0xff, 0xff, 0xff, 0x0f]).await.unwrap();
    let end = loop {
        match next_item(&mut events).await {
            Ok(Some(_)) => continue,
            other => break other,
        }
    };
    let e = end.expect_err("the stream ends with a status");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("does not decode"), "{e:?}");

    // a wrap-up of 10 MB
    let t = token(&ch, "1001", "correct horse 1001").await;
    let (tx, mut events) = raw_session(&ch, &t).await;
    let huge = cmd(
        9,
        C::WrapUp(pb::WrapUp {
            notes: "x".repeat(10 * 1024 * 1024),
            ..Default::default()
        }),
    );
    tx.send(huge.encode_to_vec()).await.unwrap();
    let end = loop {
        match next_item(&mut events).await {
            Ok(Some(_)) => continue,
            other => break other,
        }
    };
    let e = end.expect_err("the stream ends with a status");
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    // the router carries on
    let mut desk = super::routing::agent_on(&ch, "1002").await;
    desk.done(1, C::Ready(true)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_numbers_are_refused_not_clamped() {
    let served = Served::start("ranges");
    let ch = channel(&served.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let mut sup = SupervisorServiceClient::new(ch.clone());
    let neg = Some(prost_types::Duration {
        seconds: -5,
        nanos: 0,
    });
    for req in [
        pb::UpdateQueueRequest {
            queue: "inquiry".into(),
            ring_timeout: neg,
            ..Default::default()
        },
        pb::UpdateQueueRequest {
            queue: "inquiry".into(),
            service_level_threshold: neg,
            ..Default::default()
        },
        pb::UpdateQueueRequest {
            queue: "inquiry".into(),
            min_level: Some(300),
            ..Default::default()
        },
    ] {
        let e = sup
            .update_queue(authed(req.clone(), &boss))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{req:?}: {e:?}");
    }
    let e = sup
        .force_not_ready(authed(
            pb::ForceNotReadyRequest {
                agent_id: "1001".into(),
                reason: u32::MAX,
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    let e = AgentServiceClient::new(ch.clone())
        .login(pb::LoginRequest {
            agent_id: "1001".into(),
            password: "correct horse 1001".into(),
            language: 99,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("language 99"), "{e:?}");
    let e = CrmServiceClient::new(ch.clone())
        .put_customer(authed(
            pb::PutCustomerRequest {
                customer: Some(pb::Customer {
                    name: "张伟".into(),
                    phones: vec!["18955551234".into()],
                    credit_level: 3,
                    since: Some(prost_types::Timestamp {
                        seconds: -5,
                        nanos: 0,
                    }),
                    ..Default::default()
                }),
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    // on the session: a reason nobody knows, a negative wrap-up extension
    let mut desk = super::routing::agent_on(&ch, "1001").await;
    desk.send(1, C::NotReady(u32::MAX)).await;
    let e = desk.error().await;
    assert_eq!((e.command_id, e.code.as_str()), (1, "INVALID_ARGUMENT"));
    desk.send(
        2,
        C::ExtendWrapUp(prost_types::Duration {
            seconds: -5,
            nanos: 0,
        }),
    )
    .await;
    let e = desk.error().await;
    assert_eq!((e.command_id, e.code.as_str()), (2, "INVALID_ARGUMENT"));
    // words in the language asked for
    let login = AgentServiceClient::new(ch.clone())
        .login(pb::LoginRequest {
            agent_id: "1002".into(),
            password: "correct horse 1002".into(),
            language: pb::Language::ZhCn as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let (tx, rx) = mpsc::channel(4);
    let mut events = AgentServiceClient::new(ch.clone())
        .session(authed(ReceiverStream::new(rx), &login.token))
        .await
        .unwrap()
        .into_inner();
    tx.send(cmd(1, C::NotReady(16))).await.unwrap();
    let st = until(&mut events, |e| {
        matches!(&e.event, Some(E::State(s)) if s.reason.as_ref().is_some_and(|r| r.code == 16))
    })
    .await;
    let Some(E::State(st)) = st.event else {
        unreachable!()
    };
    assert_eq!(st.reason.unwrap().label, "小休");
}

/// Python with grpcio and grpcio-reflection (.ci/run installs them); None when absent
/// on a developer's machine.
fn python_with_grpc() -> Option<&'static str> {
    let ok = Command::new("python3")
        .args(["-c", "import grpc, grpc_reflection"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some("python3")
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 with grpcio and grpcio-reflection (see .ci/run)"
        );
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_grpcio_client_lists_and_calls_the_services_by_reflection_v1alpha() {
    let Some(python) = python_with_grpc() else {
        eprintln!("skipped: no python3 with grpcio and grpcio-reflection here");
        return;
    };
    let served = Served::start("python");
    let addr = served.url.trim_start_matches("http://").to_string();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/reflection_client.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).arg(addr).output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let services: Vec<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    for s in [
        "callcenter.v1.AgentService",
        "callcenter.v1.CallerService",
        "callcenter.v1.CrmService",
        "callcenter.v1.SupervisorService",
        "callcenter.v1.ReportService",
        "grpc.health.v1.Health",
    ] {
        assert!(services.contains(&s), "{s} missing from {services:?}");
    }
    // a report read as a server stream of pages, and a backwards period refused
    assert_eq!(v["report_pages"], 1, "{v}");
    assert_eq!(v["report_last"], true, "{v}");
    assert_eq!(v["refused_code"], "INVALID_ARGUMENT", "{v}");
    assert!(
        v["refused_words"]
            .as_str()
            .is_some_and(|w| w.contains("ends before it starts")),
        "{v}"
    );
    // the interval report asked with its optional target; the fields added since
    assert_eq!(v["interval_pages"], 1, "{v}");
    assert_eq!(v["interval_target_set"], true, "{v}");
    for (list, field) in [
        ("interval_page_fields", "floor"),
        ("interval_page_fields", "ivr"),
        ("agent_row_fields", "not_ready_by_reason"),
        ("agent_row_fields", "tickets_on_time_rate"),
        ("area_alarm_fields", "first_call_at"),
        ("area_alarm_fields", "top"),
        ("incident_fields", "expected_restore_at"),
        ("incident_fields", "asked_to_be_told"),
    ] {
        assert!(
            v[list]
                .as_array()
                .is_some_and(|a| a.iter().any(|f| f == field)),
            "{field} missing from {list}: {v}"
        );
    }
    // the supervisors' stream read by the outside client: its queues (the hotline's five
    // and the call-backs'), no area alarm yet
    assert_eq!(v["stats_queues"], 6, "{v}");
    assert_eq!(v["stats_area_alarms"], 0, "{v}");
    // area incidents: none open, the list read, and a declaration for an area where no
    // customer lives refused in words
    assert_eq!(v["stats_has_incidents"], true, "{v}");
    assert_eq!(v["incidents_open"], 0, "{v}");
    assert_eq!(v["declare_code"], "NOT_FOUND", "{v}");
    assert!(
        v["declare_words"]
            .as_str()
            .is_some_and(|w| w.contains("no customer lives")),
        "{v}"
    );
    assert_eq!(v["login_code"], "UNAUTHENTICATED", "{v}");
    assert_eq!(v["login_words"], "wrong agent id or password", "{v}");
    assert_eq!(v["health"], "SERVING", "{v}");
    assert_eq!(
        v["store_health"], "SERVING",
        "the store, by its own name: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_name_their_call_and_the_record_keeps_every_leg() {
    let served = Served::start("legs");
    let ch = channel(&served.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let mut first = super::routing::agent_on(&ch, "1001").await;
    let mut second = super::routing::agent_on(&ch, "1002").await;
    first.done(1, C::Ready(true)).await;
    // an unknown caller
    let (call, ctx, mut events) = super::routing::call_in(&ch, "18900000001", "2").await;
    press(&ctx, "0").await;
    assert_eq!(first.offer().await.call_id, call);
    let with_call = |id: u64, c: C, call: u64| pb::AgentCommand {
        command_id: id,
        command: Some(c),
        call_id: call,
    };
    // a reject that names another call is refused; naming this one, it is done
    first
        .tx
        .send(with_call(2, C::Reject(true), call + 1))
        .await
        .unwrap();
    let e = first.error().await;
    assert_eq!((e.command_id, e.code.as_str()), (2, "FAILED_PRECONDITION"));
    assert!(e.message.contains("is not your call"), "{e:?}");
    first
        .tx
        .send(with_call(3, C::Reject(true), call))
        .await
        .unwrap();
    first.wait(|e| matches!(e.event, Some(E::Done(3)))).await;
    second.done(1, C::Ready(true)).await;
    assert_eq!(second.offer().await.call_id, call);
    second
        .tx
        .send(with_call(2, C::Answer(true), call))
        .await
        .unwrap();
    second.wait(|e| matches!(e.event, Some(E::Done(2)))).await;
    until(&mut events, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::HangUp(true)),
    })
    .await
    .unwrap();
    second
        .wait(|e| matches!(e.event, Some(E::ConversationEnded(_))))
        .await;
    second
        .done(
            3,
            C::WrapUp(pb::WrapUp {
                disposition: "answered".into(),
                reason: "fault.broadband".into(),
                ..Default::default()
            }),
        )
        .await;
    // the record by call id, with both legs
    let mut crm = CrmServiceClient::new(ch.clone());
    let mut rec = None;
    for _ in 0..100 {
        match crm
            .get_interaction(authed(
                pb::GetInteractionRequest {
                    by: Some(pb::get_interaction_request::By::CallId(call)),
                },
                &boss,
            ))
            .await
        {
            Ok(r) => {
                rec = Some(r.into_inner());
                break;
            }
            Err(e) => assert_eq!(e.code(), Code::NotFound, "{e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rec = rec.expect("the call's record");
    assert_eq!(rec.customer_id, 0, "an unknown caller");
    let legs: Vec<(&str, &str)> = rec
        .legs
        .iter()
        .map(|l| (l.agent_id.as_str(), l.outcome.as_str()))
        .collect();
    assert_eq!(legs, [("1001", "rejected"), ("1002", "handled")]);
    assert!(rec.legs[0].answered.is_none() && rec.legs[1].answered.is_some());
    // by record id too
    let by_id = crm
        .get_interaction(authed(
            pb::GetInteractionRequest {
                by: Some(pb::get_interaction_request::By::Id(rec.id)),
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id.call_id, call);
    // every call of the day, unknown callers included: for supervisors
    let all = crm
        .list_interactions(authed(
            pb::ListInteractionsRequest {
                from: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: 0,
                }),
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner()
        .interactions;
    assert!(all.iter().any(|i| i.call_id == call), "{all:?}");
    let agent = token(&ch, "1001", "correct horse 1001").await;
    let e = crm
        .list_interactions(authed(
            pb::ListInteractionsRequest {
                from: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: 0,
                }),
                ..Default::default()
            },
            &agent,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_ids_stay_unique_across_a_router_restart() {
    let served = Served::start("restart-ids");
    let ch = channel(&served.url).await;
    let (_c1, mut e1) = dial(&ch, "18955550001").await;
    let first = next(&mut e1).await.call_id;
    drop((_c1, e1));
    let served = served.restart();
    let ch = channel(&served.url).await;
    let (_c2, mut e2) = dial(&ch, "18955550001").await;
    let second = next(&mut e2).await.call_id;
    assert_ne!(first, second);
    assert!(second > first, "{second} after {first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_desktop_loses_its_call_to_the_queue_within_about_a_second() {
    // HTTP/2 keepalive (the default), then the contract's heartbeats
    for (name, liveness) in [
        ("frozen-ka", ""),
        ("frozen-hb", "liveness = \"heartbeat\"\n"),
    ] {
        frozen_desktop(name, liveness).await;
    }
}

async fn frozen_desktop(name: &str, liveness: &str) {
    let served = Served::start_with(name, liveness);
    let ch = channel(&served.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    // agent 1001 is a desktop in a process of its own (`hotline live`'s bot)
    let mut bot = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["live", "--router", &served.url, "--agents", "1001"])
        .args(["--calls-per-hour", "0.001", "--seconds", "120"])
        .env("HOTLINE_AGENT_PASSWORD", "correct horse 1001")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut sup = SupervisorServiceClient::new(ch.clone());
    let state_of = |sup: &mut SupervisorServiceClient<Channel>| {
        let mut sup = sup.clone();
        let boss = boss.clone();
        async move {
            sup.list_agents(authed(pb::ListAgentsRequest::default(), &boss))
                .await
                .unwrap()
                .into_inner()
                .agents
                .into_iter()
                .find(|a| a.agent_id == "1001")
                .map(|a| a.state)
        }
    };
    for _ in 0..200 {
        if state_of(&mut sup).await == Some(pb::AgentState::Ready as i32) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (call, ctx, mut events) = super::routing::call_in(&ch, "18955550002", "2").await;
    press(&ctx, "0").await;
    let heard = until(&mut events, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    assert_eq!(heard.event, Some(CE::Connected("1001".into())));
    let mut desk = super::routing::agent_on(&ch, "1002").await;
    desk.done(1, C::Ready(true)).await;
    // freeze the desktop: its process answers nothing, its connection stays open
    #[allow(unsafe_code)]
    // SAFETY: a plain kill(2) of our own child's pid
    unsafe {
        libc::kill(bot.id() as i32, libc::SIGSTOP);
    }
    let frozen = std::time::Instant::now();
    let offer = desk.offer().await;
    let took = frozen.elapsed();
    assert_eq!(
        offer.call_id, call,
        "back to the head of the queue, to the next agent"
    );
    assert!(took < Duration::from_millis(1600), "noticed after {took:?}");
    eprintln!("{name}: a frozen desktop was noticed and its call re-offered after {took:?}");
    let _ = bot.kill();
    let _ = bot.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_actions_are_kept_in_the_audit_trail_and_need_the_role() {
    let served = Served::start("audit");
    let ch = channel(&served.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let mut desk = super::routing::agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    let mut sup = SupervisorServiceClient::new(ch.clone());
    sup.force_not_ready(authed(
        pb::ForceNotReadyRequest {
            agent_id: "1001".into(),
            reason: 0,
        },
        &boss,
    ))
    .await
    .unwrap();
    sup.update_queue(authed(
        pb::UpdateQueueRequest {
            queue: "fault".into(),
            ring_timeout: Some(prost_types::Duration {
                seconds: 25,
                nanos: 0,
            }),
            ..Default::default()
        },
        &boss,
    ))
    .await
    .unwrap();
    sup.force_logout(authed(
        pb::ForceLogoutRequest {
            agent_id: "1001".into(),
        },
        &boss,
    ))
    .await
    .unwrap();
    let trail = sup
        .list_audit_trail(authed(pb::ListAuditTrailRequest::default(), &boss))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let seen: Vec<(&str, &str, &str)> = trail
        .iter()
        .map(|e| (e.by.as_str(), e.action.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("2001", "force-not-ready", "1001"),
            ("2001", "update-queue", "fault"),
            ("2001", "force-logout", "1001"),
        ]
    );
    assert_eq!(trail[0].before, "ready");
    assert_eq!(trail[0].after, "not ready (set by a supervisor)");
    assert!(
        trail[1].before.contains("ring-no-answer after 15 s"),
        "{:?}",
        trail[1]
    );
    assert!(
        trail[1].after.contains("ring-no-answer after 25 s"),
        "{:?}",
        trail[1]
    );
    assert_eq!(trail[2].after, "logged out");
    assert!(trail.iter().all(|e| e.at.is_some()));

    // every supervisor RPC needs the role
    let agent = token(&ch, "1002", "correct horse 1002").await;
    let denied = |r: Result<(), tonic::Status>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.code(), Code::PermissionDenied, "{what}: {e:?}");
    };
    denied(
        sup.watch_stats(authed(pb::WatchStatsRequest::default(), &agent))
            .await
            .map(|_| ()),
        "WatchStats",
    );
    denied(
        sup.list_agents(authed(pb::ListAgentsRequest::default(), &agent))
            .await
            .map(|_| ()),
        "ListAgents",
    );
    denied(
        sup.force_not_ready(authed(
            pb::ForceNotReadyRequest {
                agent_id: "1001".into(),
                reason: 0,
            },
            &agent,
        ))
        .await
        .map(|_| ()),
        "ForceNotReady",
    );
    denied(
        sup.force_logout(authed(
            pb::ForceLogoutRequest {
                agent_id: "1001".into(),
            },
            &agent,
        ))
        .await
        .map(|_| ()),
        "ForceLogout",
    );
    denied(
        sup.update_queue(authed(
            pb::UpdateQueueRequest {
                queue: "fault".into(),
                ..Default::default()
            },
            &agent,
        ))
        .await
        .map(|_| ()),
        "UpdateQueue",
    );
    denied(
        sup.list_audit_trail(authed(pb::ListAuditTrailRequest::default(), &agent))
            .await
            .map(|_| ()),
        "ListAuditTrail",
    );
    // nothing the agent tried reached the trail
    let after = sup
        .list_audit_trail(authed(pb::ListAuditTrailRequest::default(), &boss))
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(after.len(), 3);
}

/// Bytes both ways, for unary calls that must carry what no client of ours would send.
#[derive(Clone, Default)]
struct BytesCodec;

struct BytesDecoder;

impl tonic::codec::Decoder for BytesDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        let mut v = vec![0; src.remaining()];
        src.copy_to_slice(&mut v);
        Ok(Some(v))
    }
}

impl tonic::codec::Codec for BytesCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = BytesDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> BytesDecoder {
        BytesDecoder
    }
}

/// A unary call of `path` with these bytes as its message.
async fn raw_unary(
    ch: &Channel,
    path: &'static str,
    token: &str,
    body: Vec<u8>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(ch.clone()).max_encoding_message_size(64 << 20);
    grpc.ready().await.unwrap();
    grpc.unary(
        authed(body, token),
        tonic::codegen::http::uri::PathAndQuery::from_static(path),
        BytesCodec,
    )
    .await
    .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_refuses_bytes_it_cannot_read_and_the_router_stays_whole() {
    use prost::Message;
    let mut served = Served::start("battery");
    let ch = channel(&served.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let unary = [
        "/callcenter.v1.AgentService/Login",
        "/callcenter.v1.CrmService/GetCustomer",
        "/callcenter.v1.CrmService/FindCustomerByPhone",
        "/callcenter.v1.CrmService/SearchCustomers",
        "/callcenter.v1.CrmService/PutCustomer",
        "/callcenter.v1.CrmService/ListInteractions",
        "/callcenter.v1.CrmService/GetInteraction",
        "/callcenter.v1.CrmService/CreateTicket",
        "/callcenter.v1.CrmService/UpdateTicket",
        "/callcenter.v1.CrmService/GetTicket",
        "/callcenter.v1.CrmService/ListTickets",
        "/callcenter.v1.SupervisorService/ListAgents",
        "/callcenter.v1.SupervisorService/ForceNotReady",
        "/callcenter.v1.SupervisorService/ForceLogout",
        "/callcenter.v1.SupervisorService/UpdateQueue",
        "/callcenter.v1.SupervisorService/ListAuditTrail",
        "/callcenter.v1.SupervisorService/ListAlarmRules",
        "/callcenter.v1.SupervisorService/SetAlarmRules",
        "/callcenter.v1.SupervisorService/ListAlarms",
        "/callcenter.v1.SupervisorService/DeclareIncident",
        "/callcenter.v1.SupervisorService/UpdateIncident",
        "/callcenter.v1.SupervisorService/EndIncident",
        "/callcenter.v1.SupervisorService/ListIncidents",
    ];
    for path in unary {
        // a field header promising more bytes than there are
        let e = raw_unary(&ch, path, &boss, vec![0x0a, 0xff, 0xff, 0x01])
            .await
            .expect_err(path);
        assert_eq!(e.code(), Code::InvalidArgument, "{path}: {e:?}");
        assert!(e.message().contains("does not decode"), "{path}: {e:?}");
        // two megabytes
        let big = pb::SearchCustomersRequest {
            name_prefix: "张".repeat(700_000),
            limit: 1,
        }
        .encode_to_vec();
        let e = raw_unary(&ch, path, &boss, big).await.expect_err(path);
        assert_eq!(e.code(), Code::ResourceExhausted, "{path}: {e:?}");
        assert!(e.message().contains("at most"), "{path}: {e:?}");
    }
    // the caller's stream: keys that are not keys end it in words
    let (ctx, mut call) = dial(&ch, "18955550003").await;
    next(&mut call).await;
    press(&ctx, "12ab").await;
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(5), call.message())
            .await
            .unwrap()
        {
            Ok(Some(_)) => continue,
            other => break other,
        }
    };
    let e = end.expect_err("the call's stream ends with a status");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("0–9, * and #"), "{e:?}");
    // over-long and empty strings are answered in words, never INTERNAL
    let mut crm = CrmServiceClient::new(ch.clone());
    let e = crm
        .find_customer_by_phone(authed(
            pb::FindByPhoneRequest {
                phone: "1".repeat(5000),
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    let e = crm
        .create_ticket(authed(
            pb::CreateTicketRequest {
                customer_id: 1,
                kind: pb::TicketKind::Fault as i32,
                subcategory: "broadband-down".into(),
                description: String::new(),
                priority: 99,
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    // the router is whole: healthy, logins work, and the store is clean
    let health = tonic_health::pb::health_client::HealthClient::new(ch.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "callcenter.v1.AgentService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, 1, "SERVING");
    token(&ch, "1001", "correct horse 1001").await;
    assert!(served.terminate(Duration::from_secs(10)).is_some());
    let check = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["store", "check", "--json", "--store"])
        .arg(&served.store)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert!(check.status.success(), "{report}");
    assert_eq!(report["tickets"], 0, "nothing half-written: {report}");
}

/// The record of `call`, once written.
async fn record_of_call(ch: &Channel, token: &str, call: u64) -> pb::Interaction {
    let mut crm = CrmServiceClient::new(ch.clone());
    for _ in 0..100 {
        match crm
            .get_interaction(authed(
                pb::GetInteractionRequest {
                    by: Some(pb::get_interaction_request::By::CallId(call)),
                },
                token,
            ))
            .await
        {
            Ok(r) => return r.into_inner(),
            Err(e) => assert_eq!(e.code(), Code::NotFound, "{e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no record of call {call}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_router_verifies_fcr_once_the_window_passes_without_a_repeat() {
    // a window of 2 seconds, settled every half second
    let served = Served::start_with(
        "fcr",
        "fcr_window_hours = 0.000555\nfcr_settle_seconds = 0.5\n",
    );
    let ch = channel(&served.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    customer(&ch, &boss, "18955551234").await;
    let mut desk = super::routing::agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    let call = a_call_to_wrap_up(&ch, &mut desk, "18955551234").await;
    desk.wait(|e| matches!(e.event, Some(E::ConversationEnded(_))))
        .await;
    desk.done(
        4,
        C::WrapUp(pb::WrapUp {
            disposition: "answered".into(),
            reason: "fault.broadband".into(),
            resolved_first_contact: true,
            ..Default::default()
        }),
    )
    .await;
    let rec = record_of_call(&ch, &boss, call).await;
    assert_eq!(
        (rec.fcr_claimed, rec.fcr_verified.as_str()),
        (true, "pending")
    );
    // nobody called again about it: after the window the router settles it by itself
    let mut verified = String::new();
    for _ in 0..100 {
        verified = record_of_call(&ch, &boss, call).await.fcr_verified;
        if verified != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(verified, "yes");
}
