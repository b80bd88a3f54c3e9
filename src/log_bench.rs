//! `hotline bench log`: what the input log adds to every input of a replicated router —
//! one fenced, deduplicated JetStream append awaited before the input takes effect —
//! beside a bare NATS request and reply on the same servers in the same run (the
//! reference that travels between machines). The servers are the bench's own
//! (Debian's `nats-server`): one, or three clustered with the log on all three.

use crate::bench::{machine, rss_mb};
use anyhow::{Context, Result, bail};
use clap::Args;
use futures::StreamExt;
use hotline_cluster::InputLog;
use hotline_cluster::local::LocalNats;
use hotline_router::switchboard::In;
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct LogBench {
    /// Inputs appended (and bare requests made).
    #[arg(long, default_value_t = 5000)]
    inputs: usize,
    /// Inputs a second, paced (the router's rate of inputs at 1,000 calls/s is a few times
    /// that; each append is awaited before the next, as the owner awaits it).
    #[arg(long, default_value_t = 1000.0)]
    per_second: f64,
    /// NATS servers: 1, or 3 clustered (the log replicated on all three).
    #[arg(long, default_value_t = 1)]
    servers: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn quantiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    (q(0.5), q(0.99), v.last().copied().unwrap_or(0.0))
}

pub fn run(a: &LogBench) -> Result<()> {
    if a.servers != 1 && a.servers != 3 {
        bail!("--servers is 1 or 3");
    }
    if a.inputs == 0 || !(a.per_second.is_finite() && a.per_second > 0.0) {
        bail!("--inputs and --per-second must be more than zero");
    }
    let servers = if a.servers == 1 {
        vec![LocalNats::start()?]
    } else {
        LocalNats::cluster(3)?
    };
    let urls = LocalNats::urls(&servers);
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(async {
        let js = hotline_cluster::connect(&urls).await?;
        let client = js.client();
        // a clustered JetStream needs a moment to choose its leader
        let started = Instant::now();
        let log = loop {
            match InputLog::open(&js, "HOTLINE_LOG", a.servers, Duration::from_secs(120)).await {
                Ok(l) => break l,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    tracing::debug!("waiting for JetStream: {e}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(anyhow::anyhow!(e)),
            }
        };
        // the reference: a bare request and reply through the same servers
        let mut echo = client.subscribe("bench.echo").await?;
        let responder = client.clone();
        tokio::spawn(async move {
            while let Some(m) = echo.next().await {
                if let Some(reply) = m.reply {
                    let _ = responder.publish(reply, m.payload).await;
                }
            }
        });
        let input = In::Keys {
            call: 123_456,
            digits: "5".into(),
        };
        let payload = bytes::Bytes::from(serde_json::to_vec(
            &json!({ "now": 1_793_491_200_000u64, "input": input }),
        )?);
        let gap = Duration::from_secs_f64(1.0 / a.per_second);
        let mut bare = Vec::with_capacity(a.inputs);
        let t0 = Instant::now();
        for i in 0..a.inputs {
            tokio::time::sleep_until((t0 + gap * i as u32).into()).await;
            let s = Instant::now();
            client.request("bench.echo", payload.clone()).await?;
            bare.push(s.elapsed().as_secs_f64() * 1e3);
        }
        let mut writer = log.take_over("bench", 1).await?;
        let mut appends = Vec::with_capacity(a.inputs);
        let t0 = Instant::now();
        for i in 0..a.inputs {
            tokio::time::sleep_until((t0 + gap * i as u32).into()).await;
            let s = Instant::now();
            writer.append(&format!("1-{i}"), payload.clone()).await?;
            appends.push(s.elapsed().as_secs_f64() * 1e3);
        }
        let (b50, b99, bmax) = quantiles(bare);
        let (a50, a99, amax) = quantiles(appends);
        let peak = rss_mb(std::process::id()).map(|m| m.1);
        if a.json {
            println!(
                "{}",
                json!({
                    "servers": a.servers, "inputs": a.inputs, "per_second": a.per_second,
                    "payload_bytes": payload.len(),
                    "append_ms": { "p50": a50, "p99": a99, "max": amax },
                    "bare_request_ms": { "p50": b50, "p99": b99, "max": bmax },
                    "p99_ratio": a99 / b99,
                    "peak_rss_mb": peak,
                    "machine": machine(),
                })
            );
            return Ok(());
        }
        println!(
            "{} input(s) of {} bytes at {}/s, NATS: {}",
            a.inputs,
            payload.len(),
            a.per_second,
            if a.servers == 1 {
                "one server".to_string()
            } else {
                "three clustered, the log on all three".to_string()
            }
        );
        println!("{:>32} {:>9} {:>9} {:>9}", "", "p50 ms", "p99 ms", "max ms");
        println!(
            "{:>32} {a50:>9.3} {a99:>9.3} {amax:>9.3}",
            "fenced append to the input log"
        );
        println!(
            "{:>32} {b50:>9.3} {b99:>9.3} {bmax:>9.3}",
            "bare NATS request and reply"
        );
        println!(
            "p99 append ÷ p99 bare request: {:.1}; peak resident memory {}",
            a99 / b99,
            peak.map_or("unknown".to_string(), |m| format!("{m:.0} MB"))
        );
        Ok(())
    })
}
