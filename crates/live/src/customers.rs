//! The customers' telephones for 回访 call-backs: one `CallerService.Call` stream that
//! listens on every number (`Listen` with no number), as the public network would. Each
//! call-back that rings is answered after a few seconds with a probability, or left to
//! ring out; once answered, the customer stays on the line until the agent hangs up.

use crate::LiveStats;
use hotline_acd::rng::Rng;
use hotline_proto::v1 as pb;
use hotline_proto::v1::caller_service_client::CallerServiceClient;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// Answer the call-backs that ring any number, until the router closes the stream.
pub(crate) async fn telephones(
    channel: Channel,
    answer_probability: f64,
    seed: u64,
    stats: Arc<LiveStats>,
) -> Result<(), String> {
    use pb::call_event::Event as CE;
    use pb::caller_action::Action as A;
    let (tx, rx) = mpsc::channel(64);
    tx.send(pb::CallerAction {
        action: Some(A::Listen(pb::Listen {
            number: String::new(),
        })),
    })
    .await
    .map_err(|_| "the telephones' stream closed".to_string())?;
    let mut events = CallerServiceClient::new(channel)
        .call(ReceiverStream::new(rx))
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner();
    let mut rng = Rng::fork(seed ^ 0x7e1, 0);
    while let Ok(Some(ev)) = events.message().await {
        if let Some(CE::Ringing(_)) = ev.event {
            stats.call_backs_rung.fetch_add(1, Ordering::Relaxed);
            if !rng.chance(answer_probability) {
                continue; // nobody home: it rings out
            }
            let (tx, call) = (tx.clone(), ev.call_id);
            let pick_up = Duration::from_millis(2_000 + rng.below(6_000));
            let stats = stats.clone();
            tokio::spawn(async move {
                tokio::time::sleep(pick_up).await;
                stats.call_backs_answered.fetch_add(1, Ordering::Relaxed);
                let _ = tx
                    .send(pb::CallerAction {
                        action: Some(A::Answer(call)),
                    })
                    .await;
            });
        }
    }
    Ok(())
}
