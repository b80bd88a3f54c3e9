//! `/metrics`: the router in the Prometheus text format (through `prometheus-client`,
//! served over HTTP by axum). Per queue, the same figures the supervisors' stream sends
//! (waiting, longest wait, agents by state, and since the router's start offered,
//! answered, abandoned, short abandons, answered within T); histograms of the wait and
//! the handle time of every call that ends, calls ended by how (IVR self-service among
//! them); and
//! the router's health: agents' sessions, callers' streams, record-write latency, the
//! store's state.

use crate::server::Router;
use hotline_proto::v1 as pb;
use hotline_store::{CallEnd, Interaction};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A queue's label.
type QueueLabel = [(&'static str, String); 1];

type Histograms = Family<QueueLabel, Histogram, fn() -> Histogram>;

/// Seconds, from a quarter second to about 35 minutes.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.25, 2.0, 14))
}

/// Milliseconds' worth of seconds, from half a millisecond to about 4 seconds.
fn write_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// What the router counts as it runs (the figures it has anyway are read at each
/// scrape).
#[derive(Debug)]
pub struct Metrics {
    wait: Histograms,
    handle: Histograms,
    ended: Family<[(&'static str, String); 1], Counter>,
    record_write: Histogram,
    sessions: Gauge,
    callers: Gauge,
    /// Alarms raised, by queue and rule.
    alarms_raised: Family<[(&'static str, String); 2], Counter>,
    /// The alarms standing now: (queue, rule).
    standing: std::sync::Mutex<Vec<(String, &'static str)>>,
    /// Fault-surge alarms raised, by district.
    area_alarms_raised: Family<[(&'static str, String); 1], Counter>,
    /// Areas with a fault-surge alarm standing now.
    areas_alarmed: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            wait: Family::new_with_constructor(seconds_histogram),
            handle: Family::new_with_constructor(seconds_histogram),
            ended: Family::default(),
            record_write: write_histogram(),
            sessions: Gauge::default(),
            callers: Gauge::default(),
            alarms_raised: Family::default(),
            standing: Default::default(),
            area_alarms_raised: Family::default(),
            areas_alarmed: Gauge::default(),
        }
    }
}

impl Metrics {
    /// A call ended with this record.
    pub(crate) fn call_ended(&self, i: &Interaction) {
        let end = match i.end {
            CallEnd::Completed => "completed",
            CallEnd::SelfService => "self-service",
            CallEnd::Abandoned => "abandoned",
            CallEnd::Refused => "refused",
            CallEnd::Dropped => "dropped",
        };
        self.ended.get_or_create(&[("end", end.to_string())]).inc();
        let Some(queue) = &i.queue else {
            return;
        };
        let label = [("queue", queue.clone())];
        if i.answered.is_some() {
            self.wait.get_or_create(&label).observe(f64::from(i.wait_s));
            let handle = i.talk_s + i.hold_s + i.wrap_up_s;
            self.handle.get_or_create(&label).observe(f64::from(handle));
        }
    }

    /// A call record took `seconds` to be written.
    pub(crate) fn record_written(&self, seconds: f64) {
        self.record_write.observe(seconds);
    }

    /// A fault-surge alarm was raised in `district` (none: one grew or cleared);
    /// `standing` areas are alarmed now.
    pub(crate) fn area_alarms(&self, raised_in: Option<&str>, standing: usize) {
        if let Some(d) = raised_in {
            self.area_alarms_raised
                .get_or_create(&[("district", d.to_string())])
                .inc();
        }
        self.areas_alarmed
            .set(i64::try_from(standing).unwrap_or(i64::MAX));
    }

    /// The alarms standing now; those raised since the last call are counted.
    pub(crate) fn alarms(&self, standing: &[crate::alarms::Alarm]) {
        let Ok(mut was) = self.standing.lock() else {
            return;
        };
        let now: Vec<(String, &'static str)> = standing
            .iter()
            .map(|a| (a.queue.clone(), a.kind.code()))
            .collect();
        for (queue, rule) in now.iter().filter(|k| !was.contains(k)) {
            self.alarms_raised
                .get_or_create(&[("queue", queue.clone()), ("rule", rule.to_string())])
                .inc();
        }
        *was = now;
    }

    /// Sessions and callers' streams open now.
    pub(crate) fn streams(&self, sessions: usize, callers: usize) {
        self.sessions.set(sessions as i64);
        self.callers.set(callers as i64);
    }

    /// The text a scrape gets, with the queues' figures now and the store's state.
    pub fn render(&self, queues: &[pb::QueueStats], store_up: bool) -> String {
        let mut r = <Registry>::with_prefix("hotline");
        let gauge =
            |r: &mut Registry, name: &str, help: &str, f: &dyn Fn(&pb::QueueStats) -> i64| {
                let family = Family::<QueueLabel, Gauge>::default();
                for q in queues {
                    family
                        .get_or_create(&[("queue", q.queue.clone())])
                        .set(f(q));
                }
                r.register(name, help, family);
            };
        gauge(
            &mut r,
            "queue_waiting",
            "Calls waiting in the queue now",
            &|q| i64::from(q.waiting),
        );
        gauge(
            &mut r,
            "queue_ringing",
            "Calls ringing at agents now",
            &|q| i64::from(q.ringing),
        );
        let longest = Family::<QueueLabel, Gauge<f64, AtomicU64>>::default();
        for q in queues {
            let s = q
                .longest_wait
                .as_ref()
                .map_or(0.0, |d| d.seconds as f64 + f64::from(d.nanos) / 1e9);
            longest.get_or_create(&[("queue", q.queue.clone())]).set(s);
        }
        r.register(
            "queue_longest_wait_seconds",
            "Wait of the longest-waiting call now",
            longest,
        );
        let agents = Family::<[(&'static str, String); 2], Gauge>::default();
        for q in queues {
            for (state, n) in q.agents_by_state.iter().enumerate().skip(1) {
                let name = pb::AgentState::try_from(state as i32)
                    .map_or("unknown", |s| s.as_str_name())
                    .trim_start_matches("AGENT_STATE_")
                    .to_ascii_lowercase();
                agents
                    .get_or_create(&[("queue", q.queue.clone()), ("state", name)])
                    .set(i64::from(*n));
            }
        }
        r.register(
            "queue_agents",
            "Agents who serve the queue, by state, now",
            agents,
        );
        let counter =
            |r: &mut Registry, name: &str, help: &str, f: &dyn Fn(&pb::QueueStats) -> u64| {
                let family = Family::<QueueLabel, Counter>::default();
                for q in queues {
                    family
                        .get_or_create(&[("queue", q.queue.clone())])
                        .inc_by(f(q));
                }
                r.register(name, help, family);
            };
        counter(
            &mut r,
            "queue_offered",
            "Calls that entered the queue since the router started",
            &|q| q.offered,
        );
        counter(
            &mut r,
            "queue_answered",
            "Calls answered since the router started",
            &|q| q.answered,
        );
        counter(
            &mut r,
            "queue_abandoned",
            "Calls abandoned waiting since the router started",
            &|q| q.abandoned,
        );
        counter(
            &mut r,
            "queue_abandoned_short",
            "Of the abandoned, those below the short-abandon threshold",
            &|q| q.abandoned_short,
        );
        counter(
            &mut r,
            "queue_answered_within_threshold",
            "Calls answered within the queue's service-level threshold",
            &|q| q.answered_within_threshold,
        );
        r.register(
            "call_wait_seconds",
            "Wait of each answered call, by queue",
            self.wait.clone(),
        );
        r.register(
            "call_handle_seconds",
            "Talk + hold + wrap-up of each answered call, by queue",
            self.handle.clone(),
        );
        r.register("calls_ended", "Calls ended, by how", self.ended.clone());
        r.register(
            "record_write_seconds",
            "Time to write a call's record durably",
            self.record_write.clone(),
        );
        r.register(
            "agent_sessions",
            "Agents' desktop sessions open now",
            self.sessions.clone(),
        );
        r.register(
            "caller_streams",
            "Callers' streams open now",
            self.callers.clone(),
        );
        let standing = Family::<[(&'static str, String); 2], Gauge>::default();
        if let Ok(alarms) = self.standing.lock() {
            for (queue, rule) in alarms.iter() {
                standing
                    .get_or_create(&[("queue", queue.clone()), ("rule", rule.to_string())])
                    .set(1);
            }
        }
        r.register(
            "alarms_standing",
            "Alarms standing now (1), by queue and rule",
            standing,
        );
        r.register(
            "alarms_raised",
            "Alarms raised since the router started, by queue and rule",
            self.alarms_raised.clone(),
        );
        r.register(
            "area_alarms_standing",
            "Areas (小区) with a fault-surge alarm standing now",
            self.areas_alarmed.clone(),
        );
        r.register(
            "area_alarms_raised",
            "Fault-surge alarms raised since the router started, by district",
            self.area_alarms_raised.clone(),
        );
        let up = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        up.set(i64::from(store_up));
        r.register("store_up", "The customer store answers (1) or not (0)", up);
        let mut out = String::new();
        // writing to a String does not fail
        let _ = encode(&mut out, &r);
        out
    }
}

impl Router {
    /// The text of a scrape: the queues' figures now (the supervisors' stream's own),
    /// and what the router counted.
    pub async fn metrics_text(&self) -> String {
        let stats = self
            .query(|sb, _| {
                // the staffing advice is the wallboard's, not a metric: not worked out here
                let no_advice = std::collections::HashMap::new();
                sb.queue_names()
                    .iter()
                    .filter_map(|q| crate::supervisor::queue_stats(sb, q, &no_advice))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
        self.metrics().render(&stats, self.store_up())
    }

    /// Serve `/metrics` on `listener` until `shutdown`.
    pub async fn serve_metrics(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        use axum::routing::get;
        let app = axum::Router::new().route(
            "/metrics",
            get(move || {
                let router = self.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        router.metrics_text().await,
                    )
                }
            }),
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
