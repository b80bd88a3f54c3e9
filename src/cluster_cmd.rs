//! `hotline cluster`: the partitions on NATS JetStream as an on-call engineer reads them.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hotline_cluster::{InputLog, Leases, Progress};
use serde_json::json;

#[derive(Subcommand)]
pub enum ClusterCommand {
    /// Each partition's owner, its epoch, when its lease was renewed and when it lapses,
    /// its input log's length, and its standbys with how far behind the log they are.
    Status(StatusArgs),
}

#[derive(Args)]
pub struct StatusArgs {
    /// The NATS servers, comma-separated.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
    /// The lease bucket.
    #[arg(long, default_value = "hotline-leases")]
    leases: String,
    /// The input log stream.
    #[arg(long, default_value = "HOTLINE_LOG")]
    log: String,
    /// The bucket where standbys say how far they have applied the log.
    #[arg(long, default_value = "hotline-standbys")]
    standbys: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(c: &ClusterCommand) -> Result<()> {
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    match c {
        ClusterCommand::Status(a) => rt.block_on(status(a)),
    }
}

async fn status(a: &StatusArgs) -> Result<()> {
    let js = hotline_cluster::connect(&a.nats).await?;
    let (Some(leases), log) = (
        Leases::find(&js, &a.leases).await?,
        InputLog::find(&js, &a.log).await?,
    ) else {
        if a.json {
            println!("{}", json!({ "nats": a.nats, "partitions": [] }));
        } else {
            println!(
                "no partition has ever been owned here (NATS {} has no bucket {})",
                a.nats, a.leases
            );
        }
        return Ok(());
    };
    let ttl = leases.ttl();
    let progress = Progress::find(&js, &a.standbys).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut rows = Vec::new();
    for (partition, info) in leases.held().await? {
        let last = match &log {
            Some(log) => log.last(&partition).await?,
            None => 0,
        };
        let ago = now.saturating_sub(info.renewed_ms);
        let lapses = (ttl.as_millis() as u64).saturating_sub(ago);
        let standbys = match &progress {
            Some(p) => p
                .standbys(&partition)
                .await?
                .into_iter()
                .filter(|s| s.router != info.holder)
                .collect(),
            None => Vec::new(),
        };
        rows.push((partition, info, last, ago, lapses, standbys));
    }
    if a.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(p, i, last, ago, lapses, standbys)| {
                let standbys: Vec<_> = standbys
                    .iter()
                    .map(|s| {
                        json!({ "router": s.router, "applied": s.applied,
                                     "lag": last.saturating_sub(s.applied),
                                     "reported_ms_ago": now.saturating_sub(s.at_ms) })
                    })
                    .collect();
                json!({ "partition": p, "owner": i.holder, "epoch": i.epoch,
                        "renewed_ms_ago": ago, "lapses_in_ms": lapses, "log_last": last,
                        "standbys": standbys })
            })
            .collect();
        println!("{}", json!({ "nats": a.nats, "partitions": v }));
        return Ok(());
    }
    if rows.is_empty() {
        println!(
            "no partition is owned (NATS {}, bucket {})",
            a.nats, a.leases
        );
        return Ok(());
    }
    println!(
        "{:<16} {:<16} {:>8} {:>14} {:>14} {:>10}  standbys (entries behind)",
        "partition", "owner", "epoch", "renewed", "lapses in", "log entries"
    );
    for (p, i, last, ago, lapses, standbys) in rows {
        let behind: Vec<String> = standbys
            .iter()
            .map(|s| format!("{} ({})", s.router, last.saturating_sub(s.applied)))
            .collect();
        println!(
            "{:<16} {:<16} {:>8} {:>12.1} s {:>12.1} s {:>10}  {}",
            p,
            i.holder,
            i.epoch,
            ago as f64 / 1000.0,
            lapses as f64 / 1000.0,
            last,
            if behind.is_empty() {
                "none".to_string()
            } else {
                behind.join(", ")
            }
        );
    }
    Ok(())
}
