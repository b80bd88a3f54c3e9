//! The desktop's gRPC client (`hotline_desk::client`) against a real router: login
//! failures in words, the session stream, a reconnect after the router goes away, and
//! creating an unknown caller as a customer.

use super::*;
use hotline_desk::client::{self, Credentials, LoginError, SessionEvent};
use tokio_stream::StreamExt;

fn who(url: &str, agent: &str, password: &str) -> Credentials {
    Credentials {
        router: url.into(),
        agent: agent.into(),
        password: password.into(),
        token: Default::default(),
        tls: Default::default(),
    }
}

async fn next_ev(s: &mut (impl tokio_stream::Stream<Item = SessionEvent> + Unpin)) -> SessionEvent {
    tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("an event within 5 s")
        .expect("the stream goes on")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_logs_in_keeps_its_session_and_creates_customers() {
    let up = up().await;
    assert_eq!(
        client::login(who(&up.url, "1001", "wrong"))
            .await
            .unwrap_err(),
        LoginError::Wrong
    );
    assert!(matches!(
        client::login(who("http://127.0.0.1:1", "1001", "x")).await,
        Err(LoginError::Unreachable(_))
    ));
    assert_eq!(
        client::login(who(&up.url, " ", "x")).await.unwrap_err(),
        LoginError::Empty
    );
    let me = who(&up.url, "1001", "correct horse 1001");
    let w = client::login(me.clone()).await.unwrap();
    assert_eq!((w.name.as_str(), w.role.as_str()), ("王小明", "agent"));

    // the session: open, then the router's events; commands go through the sender
    let mut s = Box::pin(client::session(&me));
    let SessionEvent::Open(tx) = next_ev(&mut s).await else {
        panic!("the session opens first")
    };
    tx.send(cmd(1, pb::agent_command::Command::Ready(true)))
        .await
        .unwrap();
    loop {
        if let SessionEvent::Event(e) = next_ev(&mut s).await
            && e.event == Some(pb::agent_event::Event::Done(1))
        {
            break;
        }
    }

    // an unknown caller becomes a customer from the desk
    let c = client::create_customer(me.clone(), "刘玥".into(), "18900004321".into())
        .await
        .unwrap();
    assert!(c.id > 0);
    assert_eq!(
        up.store
            .customer_by_phone("18900004321")
            .unwrap()
            .unwrap()
            .name,
        "刘玥"
    );

    // customer search by name
    let prefix: String = up.customer.name.chars().take(1).collect();
    let found = client::search_customers(me.clone(), prefix).await.unwrap();
    assert!(found.iter().any(|c| c.id == up.customer.id), "{found:?}");

    // the router goes down: the desk says so and tries again (not a final close)
    up.router.shutdown().await;
    let lost = loop {
        match next_ev(&mut s).await {
            SessionEvent::Lost(n, why) => break (n, why),
            SessionEvent::Event(_) => continue,
            SessionEvent::Open(_) => panic!("opened again on a stopped router"),
        }
    };
    assert_eq!(lost, (1, "router shutting down".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_logs_in_once_and_resumes_with_its_token_after_a_router_restart() {
    use hotline_proto::v1::crm_service_client::CrmServiceClient;
    let served = super::outside::Served::start("desk-token");
    let me = who(&served.url, "1001", "correct horse 1001");
    let w = client::login(me.clone()).await.unwrap();
    // clicks use the desk's token: no new login, so the token stays the live one
    client::search_customers(me.clone(), "张".into())
        .await
        .unwrap();
    client::create_customer(me.clone(), "李四".into(), "18955557777".into())
        .await
        .unwrap();
    let still = |url: String, token: String| async move {
        CrmServiceClient::new(channel(&url).await)
            .search_customers(authed(
                pb::SearchCustomersRequest {
                    name_prefix: "李".into(),
                    limit: 5,
                },
                &token,
            ))
            .await
    };
    still(served.url.clone(), w.token.clone())
        .await
        .expect("the first login's token is still live after the clicks");
    // a router restart keeps the token: the desk resumes without a password
    let served = served.restart();
    let mut me2 = me.clone();
    me2.router = served.url.clone();
    me2.password = "not checked any more".into();
    let found = client::search_customers(me2, "李".into()).await.unwrap();
    assert_eq!(found.len(), 1);
    still(served.url.clone(), w.token.clone())
        .await
        .expect("the token is known to the restarted router");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallboard_stream_and_its_force_buttons_work_against_a_router() {
    use hotline_desk::client::{StatsEvent, Steer};
    let up = up().await;
    let ch = channel(&up.url).await;
    let boss = who(&up.url, "2001", "supervisor 2001 pw");
    client::login(boss.clone()).await.unwrap();
    // an agent at work
    let agent = super::outside::token(&ch, "1001", "correct horse 1001").await;
    let (tx, rx) = mpsc::channel(4);
    let mut events = AgentServiceClient::new(ch.clone())
        .session(authed(ReceiverStream::new(rx), &agent))
        .await
        .unwrap()
        .into_inner();
    tx.send(cmd(1, pb::agent_command::Command::Ready(true)))
        .await
        .unwrap();
    until(&mut events, |e| {
        e.event == Some(pb::agent_event::Event::Done(1))
    })
    .await;
    // the wallboard's stream: a snapshot with every queue and the agent ready
    let mut board = Box::pin(client::stats(&boss));
    let first = tokio::time::timeout(Duration::from_secs(5), board.next())
        .await
        .unwrap()
        .unwrap();
    let StatsEvent::Update(u) = first else {
        panic!("the stream starts with a snapshot: {first:?}")
    };
    assert_eq!(u.queues.len(), 5, "{u:?}");
    assert!(
        u.agents
            .iter()
            .any(|a| a.agent_id == "1001" && a.state == pb::AgentState::Ready as i32)
    );
    // the force buttons
    assert_eq!(
        client::steer(boss.clone(), "1001".into(), Steer::NotReady).await,
        Ok("1001".to_string())
    );
    let st = until(&mut events, |e| {
        matches!(e.event, Some(pb::agent_event::Event::State(_)))
    })
    .await;
    let Some(pb::agent_event::Event::State(st)) = st.event else {
        unreachable!()
    };
    assert_eq!(st.state, pb::AgentState::NotReady as i32);
    assert_eq!(st.reason.unwrap().code, 3, "set by a supervisor");
    // the change reaches the wallboard within its second
    let mut seen = false;
    for _ in 0..5 {
        if let Ok(Some(StatsEvent::Update(u))) =
            tokio::time::timeout(Duration::from_secs(3), board.next()).await
            && u.agents
                .iter()
                .any(|a| a.agent_id == "1001" && a.state == pb::AgentState::NotReady as i32)
        {
            seen = true;
            break;
        }
    }
    assert!(seen, "the wallboard never showed 1001 not ready");
    assert_eq!(
        client::steer(boss, "1001".into(), Steer::Logout).await,
        Ok("1001".to_string())
    );
    let mut closed = None;
    while let Ok(Some(ev)) = events.message().await {
        if let Some(pb::agent_event::Event::Closed(c)) = ev.event {
            closed = Some(c.code);
        }
    }
    assert_eq!(closed, Some(pb::SessionEnd::ForcedLogout as i32));
}
