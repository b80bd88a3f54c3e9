//! History that lasts (issue 13, first step): the router keeps every closed statistics
//! interval of each queue and each agent in the store, once. Here intervals are a
//! second long; known calls go through a real router over gRPC and the kept intervals
//! add up to exactly them.

use super::routing::{agent_on, call_in};
use super::*;
use hotline_acd::kpi::Tally;
use pb::agent_command::Command as C;
use pb::call_event::Event as CE;

/// Kept intervals of queue `name` in [from, to), summed.
fn queue_sum(up: &Up, from: u64, to: u64, name: &str) -> (Tally, usize) {
    let mut sum = Tally::default();
    let mut n = 0;
    for r in up.store.intervals(from, to, 10_000).unwrap() {
        if let IntervalFigures::Queue { queue, tally, .. } = &r.figures {
            if queue == name {
                sum.merge(tally);
                n += 1;
            }
        }
    }
    (sum, n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_closed_interval_is_kept_once_and_adds_up_to_the_calls() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let from = hotline_store::Millis::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        - 1_000;
    let mut desk = agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    // two inquiry calls answered, one that hangs up waiting
    for n in 0..2u64 {
        let (_, ctx, mut call) = call_in(&ch, "18955551234", "1").await;
        desk.offer().await;
        desk.done(10 * n + 2, C::Answer(true)).await;
        until(&mut call, |e| matches!(e.event, Some(CE::Connected(_)))).await;
        desk.done(10 * n + 3, C::HangUp(true)).await;
        drop(ctx);
        desk.done(
            10 * n + 4,
            C::WrapUp(pb::WrapUp {
                disposition: "answered".into(),
                reason: "inquiry.general".into(),
                ..Default::default()
            }),
        )
        .await;
    }
    desk.done(30, C::NotReady(16)).await;
    let (_, ctx, mut call) = call_in(&ch, "18955551234", "1").await;
    until(&mut call, |e| matches!(e.event, Some(CE::Queued(_)))).await;
    drop(ctx); // the caller gives up
    // the intervals these calls fell in close within a second; give the writes a moment
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let to = from + 60_000;
    let (inquiry, n) = queue_sum(&up, from, to, "inquiry");
    assert!(n >= 2, "one interval a second: {n}");
    assert_eq!(
        (inquiry.offered, inquiry.answered, inquiry.abandoned),
        (3, 2, 1),
        "{inquiry:?}"
    );
    let (fault, _) = queue_sum(&up, from, to, "fault");
    assert_eq!(fault.offered, 0);
    // the agent's own intervals: two offers answered, two legs handled
    let mut answered = 0;
    let mut handled = 0;
    let kept = up.store.intervals(from, to, 10_000).unwrap();
    for r in &kept {
        if let IntervalFigures::Agent { agent, tally } = &r.figures {
            if agent == "1001" {
                answered += tally.answered;
                handled += tally.handled;
            }
        }
    }
    assert_eq!((answered, handled), (2, 2));
    // each interval once
    let mut keys: Vec<(u64, u8, String)> = kept
        .iter()
        .map(|r| {
            let (k, name) = r.subject();
            (r.start, k, name.to_string())
        })
        .collect();
    let all = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), all, "an interval kept twice");
    // ending on the second, at most a second long (the router's first one starts when
    // it did)
    assert!(
        kept.iter()
            .all(|r| r.end % 1_000 == 0 && r.end > r.start && r.end - r.start <= 1_000)
    );
}
