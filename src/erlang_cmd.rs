//! `hotline erlang`.

use crate::json;
use anyhow::{Result, bail};
use clap::Args;
use hotline_erlang::{Prediction, Target, Traffic, predict, staff_for};
use serde_json::{Value, json};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct ErlangArgs {
    /// Calls offered per hour.
    #[arg(long)]
    calls_per_hour: f64,
    /// Average handle time in seconds (talk + hold + wrap-up).
    #[arg(long)]
    aht: f64,
    /// Agents staffed: predict this queue. Without it, find the fewest agents for the
    /// target (80 % within the threshold unless another target is given).
    #[arg(long)]
    agents: Option<u32>,
    /// Service-level threshold T in seconds.
    #[arg(long, default_value_t = 20.0)]
    sl_seconds: f64,
    /// Mean patience in seconds: callers abandon (Erlang A). Without it, Erlang C.
    #[arg(long)]
    patience: Option<f64>,
    /// Target: this percentage answered within the threshold.
    #[arg(long)]
    sl_target: Option<f64>,
    /// Target: ASA at most this many seconds.
    #[arg(long)]
    asa_target: Option<f64>,
    /// Target: at most this percentage abandoned (needs --patience).
    #[arg(long)]
    abandon_target: Option<f64>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(a: &ErlangArgs) -> Result<()> {
    let traffic = Traffic::per_hour(a.calls_per_hour, a.aht, a.patience)?;
    let targets = [
        a.sl_target.map(|p| Target::ServiceLevel {
            fraction: p / 100.0,
            seconds: a.sl_seconds,
        }),
        a.asa_target.map(|s| Target::Asa { seconds: s }),
        a.abandon_target.map(|p| Target::Abandon {
            fraction: p / 100.0,
        }),
    ];
    let given: Vec<Target> = targets.into_iter().flatten().collect();
    if given.len() > 1 {
        bail!("give one target at a time (--sl-target, --asa-target or --abandon-target)");
    }
    if matches!(given.first(), Some(Target::Abandon { .. })) && a.patience.is_none() {
        bail!("an abandon target needs --patience: without it nobody abandons (Erlang C)");
    }
    let model = if a.patience.is_some() {
        "erlang-a"
    } else {
        "erlang-c"
    };
    let (main, staffed) = match a.agents {
        Some(n) => (predict(&traffic, n, a.sl_seconds)?, false),
        None => {
            let target = given.first().copied().unwrap_or(Target::ServiceLevel {
                fraction: 0.8,
                seconds: a.sl_seconds,
            });
            (staff_for(&traffic, target, a.sl_seconds)?, true)
        }
    };
    let lo = main.agents.saturating_sub(3).max(1);
    let table: Vec<Prediction> = (lo..=main.agents + 3)
        .map(|n| predict(&traffic, n, a.sl_seconds))
        .collect::<Result<_, _>>()?;
    if a.json {
        let mut m = json::prediction(&main);
        m.insert("model".into(), json!(model));
        m.insert("calls_per_hour".into(), json::num(a.calls_per_hour));
        m.insert("aht_seconds".into(), json::num(a.aht));
        m.insert("sl_seconds".into(), json::num(a.sl_seconds));
        m.insert(
            "patience_seconds".into(),
            a.patience.map_or(Value::Null, json::num),
        );
        let default_target = Target::ServiceLevel {
            fraction: 0.8,
            seconds: a.sl_seconds,
        };
        let target = given.first().or(staffed.then_some(&default_target));
        if let Some(t) = target {
            m.insert("target".into(), serde_json::to_value(t)?);
        }
        m.insert(
            "table".into(),
            Value::Array(
                table
                    .iter()
                    .map(|p| Value::Object(json::prediction(p)))
                    .collect(),
            ),
        );
        println!("{}", Value::Object(m));
        return Ok(());
    }
    println!(
        "{} — {:.1} Erlangs ({} calls/h × {} s AHT){}, service-level threshold {} s",
        if a.patience.is_some() {
            "Erlang A (M/M/n+M)"
        } else {
            "Erlang C (M/M/n)"
        },
        main.erlangs,
        a.calls_per_hour,
        a.aht,
        a.patience
            .map_or(String::new(), |p| format!(", mean patience {p} s")),
        a.sl_seconds
    );
    println!(
        "\n{:>7} {:>9} {:>10} {:>10} {:>10} {:>10}",
        "agents",
        "P(wait)",
        format!("SL({}s)", a.sl_seconds),
        "ASA (s)",
        "abandon",
        "occupancy"
    );
    for p in &table {
        println!(
            "{:>7} {:>8.1}% {:>9.1}% {:>10} {:>9.2}% {:>9.1}%{}",
            p.agents,
            p.p_wait * 100.0,
            p.service_level * 100.0,
            if p.asa_seconds.is_finite() {
                format!("{:.1}", p.asa_seconds)
            } else {
                "∞".into()
            },
            p.p_abandon * 100.0,
            p.occupancy * 100.0,
            if p.agents == main.agents { "  ◀" } else { "" }
        );
    }
    if staffed {
        println!(
            "\n{} agents is the fewest that meets the target.",
            main.agents
        );
    }
    Ok(())
}
