//! `hotline bench echo`: the ceiling for the route benchmark. A bare tonic relay
//! (`proto/bench/echo.proto`) with the same two hops as a call reaching an agent — a
//! sender's stream in, a listener's long-lived stream out — and nothing in between. The
//! load side is shaped like the route benchmark's: listeners spread over 8 connections,
//! one new sender stream per note, the time from sending to the listener receiving.

use hotline_proto::echo::Note;
use hotline_proto::echo::echo_service_client::EchoServiceClient;
use hotline_proto::echo::echo_service_server::{EchoService, EchoServiceServer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, UnboundedReceiverStream};
use tonic::{Request, Response, Status, Streaming};

type NoteTx = mpsc::UnboundedSender<Result<Note, Status>>;

/// The relay: attached listeners by number.
#[derive(Default, Clone)]
pub struct Relay {
    listeners: Arc<Mutex<HashMap<u64, NoteTx>>>,
}

#[tonic::async_trait]
impl EchoService for Relay {
    type AttachStream = UnboundedReceiverStream<Result<Note, Status>>;
    type RelayStream = UnboundedReceiverStream<Result<Note, Status>>;

    async fn attach(
        &self,
        req: Request<Streaming<Note>>,
    ) -> Result<Response<Self::AttachStream>, Status> {
        let mut notes = req.into_inner();
        let first = notes
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("the first note names the listener"))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(Ok(first)); // attached
        if let Ok(mut l) = self.listeners.lock() {
            l.insert(first.to, tx);
        }
        let listeners = self.listeners.clone();
        tokio::spawn(async move {
            while let Ok(Some(_)) = notes.message().await {}
            if let Ok(mut l) = listeners.lock() {
                l.remove(&first.to);
            }
        });
        Ok(Response::new(UnboundedReceiverStream::new(rx)))
    }

    async fn relay(
        &self,
        req: Request<Streaming<Note>>,
    ) -> Result<Response<Self::RelayStream>, Status> {
        let mut notes = req.into_inner();
        let (tx, rx) = mpsc::unbounded_channel();
        let listeners = self.listeners.clone();
        tokio::spawn(async move {
            while let Ok(Some(note)) = notes.message().await {
                let to = listeners.lock().ok().and_then(|l| l.get(&note.to).cloned());
                let delivered = to.is_some_and(|t| t.send(Ok(note)).is_ok());
                let echo = if delivered {
                    Ok(note)
                } else {
                    Err(Status::not_found(format!("no listener {}", note.to)))
                };
                if tx.send(echo).is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(UnboundedReceiverStream::new(rx)))
    }
}

/// Serve the relay on `listener` until `shutdown` completes (TCP_NODELAY, like the
/// router).
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(EchoServiceServer::new(Relay::default()))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
}

/// One arrival rate of an echo benchmark.
#[derive(Debug, Clone)]
pub struct EchoStep {
    /// Notes sent per second.
    pub notes_per_second: f64,
    /// Notes that reached their listener.
    pub delivered: usize,
    /// Notes per second that reached their listener.
    pub notes_per_second_achieved: f64,
    /// Note sent → received on the listener's stream, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile of the same.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

use crate::timing::Times;

/// Attach `listeners`, then send notes at each rate for `seconds` and time them.
pub async fn run(
    url: &str,
    listeners: usize,
    rates: &[f64],
    seconds: f64,
) -> Result<Vec<EchoStep>, String> {
    // a few connections, so the streams are spread
    let channels = crate::timing::channels(url, 8).await?;
    let received: Times = Arc::default();
    let attached = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..listeners as u64 {
        let ch = channels[k as usize % channels.len()].clone();
        let (received, attached) = (received.clone(), attached.clone());
        tasks.spawn(async move {
            let (tx, rx) = mpsc::channel(1);
            let _ = tx.send(Note { to: k, id: 0 }).await;
            let Ok(resp) = EchoServiceClient::new(ch)
                .attach(ReceiverStream::new(rx))
                .await
            else {
                return;
            };
            let mut notes = resp.into_inner();
            let mut first = true;
            while let Ok(Some(n)) = notes.message().await {
                if first {
                    first = false;
                    attached.fetch_add(1, Ordering::Relaxed);
                } else if let Ok(mut r) = received.lock() {
                    r.insert(n.id, Instant::now());
                }
            }
            drop(tx);
        });
    }
    let since = Instant::now();
    while (attached.load(Ordering::Relaxed) as usize) < listeners {
        if since.elapsed() > Duration::from_secs(120) {
            return Err(format!(
                "only {} of {listeners} listeners attached in 120 s",
                attached.load(Ordering::Relaxed)
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut steps = Vec::new();
    let mut id = 0u64;
    for &rate in rates {
        let sent: Times = Arc::default();
        let echoed = Arc::new(AtomicU64::new(0));
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < seconds {
            tick.tick().await;
            id += 1;
            let ch = channels[id as usize % channels.len()].clone();
            let (sent, echoed) = (sent.clone(), echoed.clone());
            let to = id % listeners as u64;
            tasks.spawn(async move {
                let (tx, rx) = mpsc::channel(1);
                if let Ok(mut s) = sent.lock() {
                    s.insert(id, Instant::now());
                }
                let _ = tx.send(Note { to, id }).await;
                if let Ok(resp) = EchoServiceClient::new(ch)
                    .relay(ReceiverStream::new(rx))
                    .await
                    && let Ok(Some(_)) = resp.into_inner().message().await
                {
                    echoed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Some(t) = crate::timing::spread(&sent, &received)? else {
            return Err(format!("at {rate} notes/s no note reached its listener"));
        };
        steps.push(EchoStep {
            notes_per_second: rate,
            delivered: t.count,
            notes_per_second_achieved: echoed.load(Ordering::Relaxed) as f64 / seconds,
            p50_ms: t.p50,
            p99_ms: t.p99,
            max_ms: t.max,
        });
    }
    tasks.abort_all();
    Ok(steps)
}
