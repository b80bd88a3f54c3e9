//! `hotline report`: the hotline's history as reports (`hotline_report` computes them),
//! printed as an aligned table, JSON or CSV, with times in a named time zone.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use hotline_report::{self as report, AreaLevel, CustomerFilter, Period, SatisfactionDimension};
use hotline_store::{Catalog, Millis, Store};
use serde::Serialize;
use serde_json::{Map, Value};

/// Reports over the kept history.
#[derive(Subcommand)]
pub enum ReportCommand {
    /// The queue interval report: one row per interval per queue, then each queue's
    /// totals (offered, answered, abandoned, SL, ASA, AHT, longest wait, staffed and
    /// required agents …); `--floor` for the whole floor's required against staffed,
    /// `--ivr` for the IVR's routes and services.
    Intervals(IntervalsArgs),
    /// Agents over a period (appraisal): offers, answers, rejects, ring-no-answer, handle
    /// time and its split, holds, transfers, occupancy, not-ready time by reason, FCR
    /// handled/claimed/verified, survey mean, tickets opened and closed on time.
    Agents(AgentsArgs),
    /// Complaints and faults by district or 小区, ranked by how unusual the count is
    /// (a Poisson tail against the area's previous period and population share).
    Hotspots(HotspotsArgs),
    /// Contacts, FCR claimed/verified and repeat rate by reason code.
    Reasons(ReasonsArgs),
    /// Post-call survey by queue, agent, segment and reason; response rate.
    Satisfaction(SatisfactionArgs),
    /// Key accounts: the green channel's SL and ASA, and by account manager.
    KeyAccounts(KeyAccountsArgs),
    /// IVR containment by path and by service, and what contained callers did next.
    SelfService(SelfServiceArgs),
    /// Customers with many contacts in the period, and their reasons.
    RepeatCallers(RepeatCallersArgs),
    /// Tickets opened in the period by back-office group and kind: resolved, closed,
    /// overdue, on-time %, mean time to resolve.
    Tickets(TicketsArgs),
    /// Alarms the router raised on its queues' live figures: when, the rule, how bad,
    /// when cleared, minutes standing.
    Alarms(AlarmsArgs),
}

/// What `hotline report alarms` reports on.
#[derive(Args)]
pub struct AlarmsArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Only this queue (repeat for several).
    #[arg(long = "queue")]
    queues: Vec<String>,
}

/// What `hotline report intervals` reports on.
#[derive(Args)]
pub struct IntervalsArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Only this queue (repeat for several).
    #[arg(long = "queue")]
    queues: Vec<String>,
    /// Minutes in a row: 15, 30 or 60. The kept intervals within one are added up (a
    /// router restarted mid-interval kept that interval in two parts).
    #[arg(long, default_value_t = 15)]
    minutes: u64,
    /// The service level the required agents are counted for, percent of calls answered
    /// within each queue's T.
    #[arg(long, default_value_t = 80.0)]
    target_sl: f64,
    /// The whole floor instead, one row per interval: every queue's calls together
    /// against every agent logged in, required against staffed agents.
    #[arg(long, conflicts_with = "queues")]
    floor: bool,
    /// The IVR instead, one row per interval per route and per self-service: the calls
    /// that left it, contained, sent to a queue, hung up, mean time in it.
    #[arg(long, conflicts_with_all = ["queues", "floor"])]
    ivr: bool,
}

/// What `hotline report agents` reports on.
#[derive(Args)]
pub struct AgentsArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Only this agent (work number; repeat for several).
    #[arg(long = "agent")]
    agents: Vec<String>,
    /// Only the members of this team (a group of the agents' accounts; repeat for
    /// several).
    #[arg(long = "team")]
    teams: Vec<String>,
}

/// Rows by district or by 小区.
#[derive(Clone, Copy, ValueEnum)]
enum Level {
    District,
    Area,
}

/// What `hotline report hotspots` reports on.
#[derive(Args)]
pub struct HotspotsArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// One row per district or per 小区.
    #[arg(long, value_enum, default_value = "area")]
    level: Level,
    /// Only this district (repeat for several).
    #[arg(long = "district")]
    districts: Vec<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// What `hotline report reasons` reports on.
#[derive(Args)]
pub struct ReasonsArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Only this reason code (repeat for several).
    #[arg(long = "reason")]
    reasons: Vec<String>,
    #[command(flatten)]
    customers: CustomerArgs,
}

/// A satisfaction breakdown.
#[derive(Clone, Copy, ValueEnum)]
enum By {
    Queue,
    Agent,
    Segment,
    Reason,
}

/// What `hotline report satisfaction` reports on.
#[derive(Args)]
pub struct SatisfactionArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Break down by this (repeat for several; all four when none is given).
    #[arg(long = "by", value_enum)]
    by: Vec<By>,
    #[command(flatten)]
    customers: CustomerArgs,
}

/// What `hotline report key-accounts` reports on.
#[derive(Args)]
pub struct KeyAccountsArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Only this account manager (work number; repeat for several).
    #[arg(long = "manager")]
    managers: Vec<String>,
}

/// A report that takes only its period.
#[derive(Args)]
pub struct SelfServiceArgs {
    #[command(flatten)]
    period: PeriodArgs,
    #[command(flatten)]
    customers: CustomerArgs,
}

/// Whose contacts or tickets a report counts.
#[derive(Args)]
pub struct CustomerArgs {
    /// Only the customers of this segment.
    #[arg(long, value_enum)]
    segment: Option<SegmentArg>,
    /// Only the customers living in this district (区县; repeat for several).
    #[arg(long = "district")]
    districts: Vec<String>,
}

/// A customer segment, as the command line names it.
#[derive(Clone, Copy, ValueEnum)]
enum SegmentArg {
    /// 公众客户.
    Public,
    /// 大客户.
    KeyAccount,
}

impl CustomerArgs {
    fn filter(&self) -> CustomerFilter {
        CustomerFilter {
            segment: self.segment.map(|s| match s {
                SegmentArg::Public => hotline_store::Segment::Public,
                SegmentArg::KeyAccount => hotline_store::Segment::KeyAccount,
            }),
            districts: self.districts.clone(),
        }
    }
}

/// What `hotline report repeat-callers` reports on.
#[derive(Args)]
pub struct RepeatCallersArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Customers with at least this many contacts.
    #[arg(long, default_value_t = 3)]
    at_least: u64,
    /// At most this many rows.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[command(flatten)]
    customers: CustomerArgs,
}

/// What `hotline report tickets` reports on.
#[derive(Args)]
pub struct TicketsArgs {
    #[command(flatten)]
    period: PeriodArgs,
    /// Only this back-office group code (repeat for several).
    #[arg(long = "group")]
    groups: Vec<String>,
    #[command(flatten)]
    customers: CustomerArgs,
}

/// The store, the period and the output of a report.
#[derive(Args)]
struct PeriodArgs {
    /// The store: a directory (sled) or a postgres:// address.
    #[arg(long, default_value = "hotline-store")]
    store: String,
    /// Start of the period: a date (2026-12-01, from midnight) or a time (2026-12-01T08:00),
    /// in the time zone of --tz.
    #[arg(long)]
    from: String,
    /// End of the period (not included), as --from.
    #[arg(long)]
    to: String,
    /// Time zone of the period and of the rows' times.
    #[arg(long, default_value = "Asia/Shanghai")]
    tz: String,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// CSV instead of a table.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// A sled store's page cache, MB: a report reads much of the store once, and a
    /// cache that holds the period's contacts reads them about twice as fast as the
    /// router's default (BENCHMARKS.md).
    #[arg(long, default_value_t = REPORT_CACHE_MB)]
    cache_mb: u64,
}

/// The sled page cache a report opens its store with, MB.
pub const REPORT_CACHE_MB: u64 = 1024;

/// Run a report.
pub fn run(c: &ReportCommand) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis);
    match c {
        ReportCommand::Intervals(a) => a.period.report(|s, p| {
            let r = report::intervals(s, p, &a.queues, a.minutes, a.target_sl / 100.0)?;
            if a.floor {
                return Ok((rows(&r.floor), vec![]));
            }
            if a.ivr {
                return Ok((rows(&r.ivr), vec![]));
            }
            Ok((rows(&r.rows), rows(&r.totals)))
        }),
        ReportCommand::Agents(a) => a.period.report(|s, p| {
            Ok((
                rows(&report::agents(s, p, now, &a.agents, &a.teams)?),
                vec![],
            ))
        }),
        ReportCommand::Hotspots(a) => a.period.report(|s, p| {
            let level = match a.level {
                Level::District => AreaLevel::District,
                Level::Area => AreaLevel::Area,
            };
            let r = report::hotspots(s, p, level, &a.districts, a.limit)?;
            Ok((rows(&r), vec![]))
        }),
        ReportCommand::Reasons(a) => a.period.report(|s, p| {
            Ok((
                rows(&report::reasons(s, p, &a.reasons, &a.customers.filter())?),
                vec![],
            ))
        }),
        ReportCommand::Satisfaction(a) => a.period.report(|s, p| {
            let by: Vec<SatisfactionDimension> = if a.by.is_empty() {
                SatisfactionDimension::ALL.to_vec()
            } else {
                a.by.iter()
                    .map(|b| match b {
                        By::Queue => SatisfactionDimension::Queue,
                        By::Agent => SatisfactionDimension::Agent,
                        By::Segment => SatisfactionDimension::Segment,
                        By::Reason => SatisfactionDimension::Reason,
                    })
                    .collect()
            };
            Ok((
                rows(&report::satisfaction(s, p, &by, &a.customers.filter())?),
                vec![],
            ))
        }),
        ReportCommand::KeyAccounts(a) => a.period.report(|s, p| {
            let r = report::key_accounts(s, p, now, &a.managers)?;
            Ok((
                rows(&r.managers),
                rows(&r.green_channel.into_iter().collect::<Vec<_>>()),
            ))
        }),
        ReportCommand::SelfService(a) => a.period.report(|s, p| {
            Ok((
                rows(&report::self_service(s, p, &a.customers.filter())?),
                vec![],
            ))
        }),
        ReportCommand::RepeatCallers(a) => a.period.report(|s, p| {
            let r = report::repeat_callers(s, p, a.at_least, a.limit, &a.customers.filter())?;
            Ok((rows(&r), vec![]))
        }),
        ReportCommand::Tickets(a) => a.period.report(|s, p| {
            Ok((
                rows(&report::tickets(
                    s,
                    p,
                    now,
                    &a.groups,
                    &a.customers.filter(),
                )?),
                vec![],
            ))
        }),
        ReportCommand::Alarms(a) => a
            .period
            .report(|s, p| Ok((rows(&report::alarms(s, p, &a.queues)?), vec![]))),
    }
}

/// Rows as JSON objects, fields in their declared order.
fn rows<R: Serialize>(rows: &[R]) -> Vec<Value> {
    rows.iter()
        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
        .collect()
}

/// A date or a time in `tz`, as ms since the epoch.
fn instant(what: &str, text: &str, tz: &jiff::tz::TimeZone) -> Result<Millis> {
    let t = text.trim();
    let civil = t
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| {
            t.parse::<jiff::civil::Date>()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .map_err(|_| {
            anyhow::anyhow!(
                "--{what} '{text}' is not a date (2026-12-01) or a time (2026-12-01T08:00)"
            )
        })?;
    let ms = civil
        .to_zoned(tz.clone())
        .map_err(|_| anyhow::anyhow!("--{what} '{text}' is not a time in that zone"))?
        .timestamp()
        .as_millisecond();
    Millis::try_from(ms).map_err(|_| anyhow::anyhow!("--{what} '{text}' is before 1970"))
}

fn local(ms: Millis, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| ms.to_string())
}

/// The fields that hold a time (ms since the epoch), shown in the report's zone.
const TIMES: [&str; 5] = ["start", "first", "last", "cleared", "router_stopped"];

impl PeriodArgs {
    /// Read the period, open the store, make the report's rows and totals, print them.
    fn report(
        &self,
        make: impl FnOnce(&Store, Period) -> Result<(Vec<Value>, Vec<Value>), report::ReportError>,
    ) -> Result<()> {
        let tz = jiff::tz::TimeZone::get(&self.tz).map_err(|_| {
            anyhow::anyhow!("--tz '{}' is not a time zone (e.g. Asia/Shanghai)", self.tz)
        })?;
        let (from, to) = (
            instant("from", &self.from, &tz)?,
            instant("to", &self.to, &tz)?,
        );
        let period = Period::new(from, to).map_err(|e| match e {
            report::ReportError::Backwards { .. } => anyhow::anyhow!(
                "the period ends ({}) before it starts ({}): --to must come after --from",
                local(to, &tz),
                local(from, &tz)
            ),
            e => anyhow::Error::new(e),
        })?;
        let store =
            Store::at_with_cache(&self.store, Catalog::builtin(), true, self.cache_mb << 20)
                .with_context(|| {
                    format!(
                        "opening the store {}",
                        hotline_store::location_words(&self.store)
                    )
                })?;
        let (mut rows, mut totals) = make(&store, period)?;
        for r in rows.iter_mut().chain(totals.iter_mut()) {
            localize(r, &tz);
        }
        self.print(from, to, &tz, &rows, &totals)
    }

    /// Print `rows` then `totals` as JSON, CSV or a table.
    fn print(
        &self,
        from: Millis,
        to: Millis,
        tz: &jiff::tz::TimeZone,
        rows: &[Value],
        totals: &[Value],
    ) -> Result<()> {
        if self.json {
            let out = serde_json::json!({
                "from": local(from, tz), "to": local(to, tz), "tz": self.tz,
                "rows": rows, "totals": totals,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(());
        }
        let Some(header) = rows.iter().chain(totals).find_map(Value::as_object) else {
            if !self.csv {
                println!(
                    "nothing in this period ({} to {})",
                    local(from, tz),
                    local(to, tz)
                );
            }
            return Ok(());
        };
        let header: Vec<&str> = header.keys().map(String::as_str).collect();
        let cells = |r: &Value| -> Vec<String> {
            header
                .iter()
                .map(|k| cell(r.get(*k).unwrap_or(&Value::Null)))
                .collect()
        };
        if self.csv {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record(&header)?;
            for r in rows.iter().chain(totals) {
                w.write_record(cells(r))?;
            }
            w.flush()?;
        } else {
            let body: Vec<Vec<String>> = rows.iter().map(cells).collect();
            let foot: Vec<Vec<String>> = totals.iter().map(cells).collect();
            print!("{}", table(&header, &body, &foot));
        }
        Ok(())
    }
}

/// Times as local text; a total's missing start as "total".
fn localize(row: &mut Value, tz: &jiff::tz::TimeZone) {
    let Some(o) = row.as_object_mut() else {
        return;
    };
    for key in TIMES {
        match o.get(key) {
            Some(Value::Number(n)) => {
                let text = n.as_u64().map_or_else(|| n.to_string(), |ms| local(ms, tz));
                o.insert(key.to_string(), Value::String(text));
            }
            Some(Value::Null) if key == "start" => {
                o.insert(key.to_string(), Value::String("total".into()));
            }
            _ => {}
        }
    }
}

/// One value as a table or CSV cell: numbers as they are, none as "—", a list of
/// (name, count) pairs as "name×count, …".
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i.as_array().map(Vec::as_slice) {
                Some([name, count]) => format!("{}×{}", cell(name), cell(count)),
                _ => cell(i),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(o) => Value::Object(Map::clone(o)).to_string(),
    }
}

/// An aligned table: text left, numbers right, a rule above the footer rows; widths
/// count what a terminal shows (a Chinese character takes two columns).
fn table(header: &[&str], body: &[Vec<String>], foot: &[Vec<String>]) -> String {
    use unicode_width::UnicodeWidthStr;
    let all = || body.iter().chain(foot);
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            all()
                .map(|r| r[c].width())
                .chain([header[c].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = (0..header.len())
        .map(|c| {
            all().all(|r| r[c] == "—" || r[c].parse::<f64>().is_ok()) && all().next().is_some()
        })
        .collect();
    let line = |cells: &[String]| -> String {
        let mut out = String::new();
        for (c, text) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[c] - text.width());
            if c > 0 {
                out.push_str("  ");
            }
            if numeric[c] {
                out.push_str(&pad);
                out.push_str(text);
            } else {
                out.push_str(text);
                if c + 1 < cells.len() {
                    out.push_str(&pad);
                }
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for r in body {
        out.push_str(&line(r));
    }
    if !foot.is_empty() {
        let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for r in foot {
            out.push_str(&line(r));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_aligns_chinese_by_what_a_terminal_shows() {
        let t = table(
            &["area", "reports"],
            &[
                vec!["金色家园".into(), "12".into()],
                vec!["x".into(), "3".into()],
            ],
            &[],
        );
        let lines: Vec<&str> = t.lines().collect();
        use unicode_width::UnicodeWidthStr;
        assert_eq!(lines[1].width(), lines[2].width(), "{t}");
        assert!(lines[2].ends_with(" 3"), "numbers sit right: {t}");
    }

    #[test]
    fn cells_show_none_and_pairs_in_words() {
        assert_eq!(cell(&Value::Null), "—");
        assert_eq!(
            cell(&serde_json::json!([["fault.broadband", 4], ["x", 1]])),
            "fault.broadband×4, x×1"
        );
    }
}
