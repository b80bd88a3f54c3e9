//! Deterministic synthetic data that looks real: Chinese names, China Telecom mobile
//! prefixes, the Hangzhou area code and districts, residential areas, key accounts
//! (about 3 %) whose ARPU makes about 80 % of the revenue, services, and a history of
//! past interactions and tickets. The same seed always gives the same store.
//!
//! Seeding writes through the engine's bulk load (in chunks, each flushed) rather than
//! one commit per record; a seed cut off half-way is repaired by `rebuild_indexes` or
//! simply run again into a new directory.

use crate::engine::{IdKind, Put};
use crate::error::StoreError;
use crate::model::*;
use crate::store::{DEFAULT_FCR_WINDOW, Store};
use crate::validate::id_check_char;
use hotline_acd::rng::Rng;
use hotline_catalog::Catalog;
use serde::Serialize;

/// 2026-11-01 00:00 UTC: "now" for seeded histories unless the caller gives another.
pub const DEFAULT_NOW: Millis = 1_793_491_200_000;

/// What a seed run wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SeedReport {
    /// Customers.
    pub customers: u64,
    /// Of which key accounts.
    pub key_accounts: u64,
    /// Share of monthly revenue (ARPU) from key accounts.
    pub key_account_revenue_share: f64,
    /// Interactions.
    pub interactions: u64,
    /// Tickets.
    pub tickets: u64,
    /// Agent ids used as account managers and ticket owners ("1001"…).
    pub agents: Vec<String>,
    /// Statistics intervals written (queues' and agents' 15-minute intervals, the sums
    /// of the seeded calls).
    pub intervals: u64,
}

// Surnames weighted roughly by frequency (王 李 张 刘 陈 … 百家姓 top of the census).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 71),
    ("张", 70),
    ("刘", 54),
    ("陈", 46),
    ("杨", 34),
    ("黄", 25),
    ("赵", 21),
    ("吴", 21),
    ("周", 20),
    ("徐", 16),
    ("孙", 16),
    ("马", 15),
    ("朱", 14),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("林", 11),
    ("高", 11),
    ("罗", 10),
    ("郑", 10),
    ("梁", 9),
    ("谢", 8),
    ("宋", 7),
    ("唐", 7),
    ("许", 7),
    ("韩", 7),
    ("冯", 7),
    ("邓", 7),
    ("曹", 6),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 6),
    ("董", 5),
    ("潘", 5),
    ("袁", 5),
    ("蔡", 5),
    ("蒋", 5),
    ("余", 5),
    ("于", 5),
    ("杜", 4),
    ("叶", 4),
    ("程", 4),
    ("魏", 4),
    ("苏", 4),
    ("吕", 4),
    ("丁", 4),
    ("任", 4),
    ("卢", 4),
    ("姚", 4),
    ("沈", 4),
    ("钟", 4),
    ("姜", 4),
    ("崔", 3),
    ("谭", 3),
    ("陆", 3),
    ("范", 3),
    ("汪", 3),
    ("廖", 3),
    ("石", 3),
    ("金", 3),
    ("韦", 3),
    ("贾", 3),
    ("夏", 3),
    ("付", 3),
    ("方", 3),
    ("邹", 2),
    ("熊", 2),
    ("白", 2),
    ("孟", 2),
    ("秦", 2),
    ("邱", 2),
    ("侯", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("闫", 2),
    ("段", 2),
    ("雷", 2),
    ("欧阳", 1),
    ("司马", 1),
    ("诸葛", 1),
];

const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌辉鹏宇浩然子涵梓轩\
欣怡雨晨思远晓东海燕立新志强佳琪俊杰一鸣嘉怡宏亮丹丹晶晶慧敏婷婷雪梅春花秋月冬梅家豪博文\
宁静安康永福德胜金凤玉珍淑华建华振华国庆国强红梅丽华凤英秀兰桂芳玉梅海涛海波宏伟晓明晓红\
喆堃玥";

const DISTRICTS: &[(&str, &str)] = &[
    ("上城区", "330102"),
    ("拱墅区", "330105"),
    ("西湖区", "330106"),
    ("滨江区", "330108"),
    ("萧山区", "330109"),
    ("余杭区", "330110"),
    ("临平区", "330113"),
    ("钱塘区", "330114"),
    ("富阳区", "330111"),
    ("临安区", "330112"),
    ("桐庐县", "330122"),
    ("淳安县", "330127"),
    ("建德市", "330182"),
];

const AREA_HEAD: &[&str] = &[
    "金色", "阳光", "翠苑", "桂花", "湖畔", "江南", "紫金", "云栖", "绿城", "西溪", "城东", "和园",
    "天城", "星洲", "银河", "丹桂", "玉泉", "春江", "南苑", "北辰",
];
const AREA_TAIL: &[&str] = &[
    "家园", "花园", "新村", "公寓", "小区", "苑", "府", "雅居", "名邸", "城",
];
const STREETS: &[&str] = &[
    "文三路",
    "文二路",
    "莫干山路",
    "天目山路",
    "延安路",
    "解放路",
    "庆春路",
    "凤起路",
    "江南大道",
    "滨盛路",
    "建设一路",
    "金城路",
    "临平大道",
    "学林街",
    "富春路",
    "衣锦街",
];

// China Telecom mobile prefixes (the 1000 hotline's own customers), first and second lines.
const MOBILE_A: &[&str] = &["133", "153", "173", "177", "180", "181", "189", "199"];
const MOBILE_B: &[&str] = &["149", "190", "191", "193"];

const ENTERPRISES: &[&str] = &[
    "杭州市人民医院",
    "浙江物产集团",
    "钱江水利",
    "西湖区政府",
    "杭州地铁集团",
    "华东设计院",
    "之江实验室",
    "滨江科技园",
    "萧山国际机场",
    "杭州银行",
    "富阳造纸集团",
    "余杭区教育局",
];

const PRODUCTS: &[(ServiceKind, &str)] = &[
    (ServiceKind::Broadband, "300M 光宽带"),
    (ServiceKind::Broadband, "1000M 光宽带"),
    (ServiceKind::FixedLine, "固话"),
    (ServiceKind::Iptv, "天翼高清 IPTV"),
    (ServiceKind::ValueAdded, "彩铃"),
    (ServiceKind::ValueAdded, "天翼云盘"),
];

const REASONS: &[&str] = &[
    "inquiry.tariff",
    "inquiry.bill",
    "fault.broadband",
    "fault.mobile-signal",
    "complaint.billing",
    "service-order.plan-change",
    "bill-query",
];

/// The IVR path (nodes visited and keys pressed, as the router records it) of a seeded
/// call about `reason`: through the 1000 menu to its queue, or to the bill read out.
fn ivr_path(reason: &str, self_service: bool) -> Vec<String> {
    let steps: &[&str] = if self_service {
        &[
            "welcome",
            "key 5",
            "bill",
            "anything-else",
            "key 9",
            "goodbye",
        ]
    } else {
        match reason.split('.').next().unwrap_or_default() {
            "inquiry" | "bill-query" => &["welcome", "key 1", "inquiry-queue"],
            "fault" => &["welcome", "key 2", "fault-menu", "key 0", "fault-queue"],
            "complaint" => &["welcome", "key 3", "complaint-queue"],
            "service-order" => &[
                "welcome",
                "key 4",
                "service-menu",
                "key 0",
                "new-service-queue",
            ],
            _ => &["welcome", "key 0", "agent-queue"],
        }
    };
    steps.iter().map(|s| s.to_string()).collect()
}

/// A bijection on [0, 10^8): unique eight-digit numbers for unique inputs.
fn unique8(i: u64, salt: u64) -> u64 {
    // 48271 and 10^8 are coprime, so multiplication is a permutation modulo 10^8
    (i.wrapping_mul(48_271) + salt) % 100_000_000
}

fn pick<'a, T>(rng: &mut Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.below(xs.len() as u64) as usize]
}

fn surname(rng: &mut Rng) -> &'static str {
    let total: u32 = SURNAMES.iter().map(|s| s.1).sum();
    let mut x = rng.below(total as u64) as u32;
    for (s, w) in SURNAMES {
        if x < *w {
            return s;
        }
        x -= w;
    }
    SURNAMES[0].0
}

fn given(rng: &mut Rng) -> String {
    let chars: Vec<char> = GIVEN.chars().collect();
    let n = if rng.chance(0.3) { 1 } else { 2 };
    (0..n)
        .map(|_| chars[rng.below(chars.len() as u64) as usize])
        .collect()
}

fn lognormal(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    let s2 = (1.0 + (sd / mean).powi(2)).ln();
    (mean.ln() - s2 / 2.0 + s2.sqrt() * rng.normal()).exp()
}

/// Managers "9001"…: the key-account team; agents "1001"… take tickets.
pub fn manager_id(k: u64) -> String {
    format!("{}", 9001 + k)
}

/// One customer, deterministic in (seed, i).
pub fn customer(seed: u64, i: u64, now: Millis) -> Customer {
    let mut rng = Rng::fork(seed, i);
    let key = rng.chance(0.03);
    let (district, region) = *pick(&mut rng, DISTRICTS);
    let mut phones = vec![format!(
        "{}{:08}",
        MOBILE_A[(i % MOBILE_A.len() as u64) as usize],
        unique8(i, 0)
    )];
    if rng.chance(0.15) {
        phones.push(format!(
            "{}{:08}",
            MOBILE_B[(i % MOBILE_B.len() as u64) as usize],
            unique8(i, 12_345_678)
        ));
    }
    let fixed = rng.chance(0.3);
    if fixed {
        // 48271 and 10^7 are coprime too: unique for up to ten million customers
        phones.push(format!(
            "0571-8{:07}",
            (i.wrapping_mul(48_271) + 7) % 10_000_000
        ));
    }
    let birth_year = 1945 + rng.below(60);
    let mut id: Vec<u8> = format!(
        "{region}{birth_year}{:02}{:02}{:03}",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(1000)
    )
    .into_bytes();
    id.push(id_check_char(&id));
    let arpu = if key {
        lognormal(&mut rng, 9000.0, 8000.0)
    } else {
        lognormal(&mut rng, 65.0, 40.0)
    };
    let arpu_fen = (arpu * 100.0).round() as i64;
    let history: Vec<i64> = (0..6)
        .map(|_| (arpu_fen as f64 * (0.85 + 0.3 * rng.uniform())).round() as i64)
        .collect();
    let since = now.saturating_sub(rng.below(20 * 365) * DAY_MS);
    let mut services = vec![Service {
        kind: ServiceKind::Mobile,
        product: if key {
            "政企融合套餐".into()
        } else {
            "天翼畅享套餐".into()
        },
        since,
    }];
    if rng.chance(0.6) {
        let (k, p) = PRODUCTS[rng.below(2) as usize];
        services.push(Service {
            kind: k,
            product: p.into(),
            since: since + rng.below(365) * DAY_MS,
        });
        if rng.chance(0.3) {
            services.push(Service {
                kind: PRODUCTS[3].0,
                product: PRODUCTS[3].1.into(),
                since: since + rng.below(365) * DAY_MS,
            });
        }
    }
    if fixed {
        services.push(Service {
            kind: ServiceKind::FixedLine,
            product: PRODUCTS[2].1.into(),
            since,
        });
    }
    if rng.chance(0.2) {
        let (k, p) = *pick(&mut rng, &PRODUCTS[4..]);
        services.push(Service {
            kind: k,
            product: p.into(),
            since: since + rng.below(365) * DAY_MS,
        });
    }
    let arrears = if rng.chance(0.08) {
        (rng.below(30_000) + 500) as i64
    } else {
        0
    };
    let vip_tier = match arpu {
        a if a > 2000.0 => VipTier::Diamond,
        a if a > 300.0 => VipTier::Gold,
        a if a > 120.0 => VipTier::Silver,
        _ => VipTier::None,
    };
    let area = format!("{}{}", pick(&mut rng, AREA_HEAD), pick(&mut rng, AREA_TAIL));
    Customer {
        id: i + 1,
        name: format!("{}{}", surname(&mut rng), given(&mut rng)),
        phones,
        id_document: Some(String::from_utf8(id).unwrap_or_default()),
        address: format!(
            "浙江省杭州市{district}{}{}号 {area} {}幢{}室",
            pick(&mut rng, STREETS),
            1 + rng.below(400),
            1 + rng.below(30),
            101 + rng.below(28) * 100 + rng.below(4)
        ),
        district: district.into(),
        area,
        segment: if key {
            Segment::KeyAccount
        } else {
            Segment::Public
        },
        vip_tier,
        enterprise_group: key.then(|| pick(&mut rng, ENTERPRISES).to_string()),
        account_manager: key.then(|| manager_id(i % 40)),
        services,
        arpu_fen,
        arpu_history_fen: history,
        balance_fen: if arrears > 0 {
            -arrears
        } else {
            rng.below(50_000) as i64
        },
        arrears_fen: arrears,
        credit_level: 1 + rng.below(5) as u8,
        since,
        notes: String::new(),
        tags: if key { vec!["政企".into()] } else { vec![] },
    }
}

/// Write `n` customers with histories into `store` (ids 1..=n, interactions and tickets
/// after). `progress` gets the customers written so far. Memory grows with `n` (sled
/// keeps what one process wrote in memory): for a large store use [`seed_dir`].
pub fn seed(
    store: &Store,
    n: u64,
    seed: u64,
    now: Millis,
    progress: &mut dyn FnMut(u64),
) -> Result<SeedReport, StoreError> {
    let mut tally = Tally::new();
    seed_range(store, 0..n, seed, now, &mut tally, progress)?;
    store.engine().ids_after(IdKind::Customer, n)?;
    tally.report.intervals = tally.history.write(store)?;
    store.flush()?;
    Ok(tally.report())
}

/// Customers one opening of the store takes in [`seed_dir`]: sled holds what a process
/// wrote in memory until the store is closed (about 28 KB per seeded customer on this
/// machine, 5.2 GB for 200,000 in one go), so the seeder closes and reopens it.
pub const SEED_PER_OPENING: u64 = 12_500;

/// [`seed`] into the store in `dir`, closing and reopening it every
/// [`SEED_PER_OPENING`] customers, so that memory stays bounded whatever `n` is.
pub fn seed_dir(
    dir: &std::path::Path,
    catalog: &crate::Catalog,
    n: u64,
    seed: u64,
    now: Millis,
    progress: &mut dyn FnMut(u64),
) -> Result<SeedReport, StoreError> {
    let mut tally = Tally::new();
    let mut start = 0;
    loop {
        let store = Store::open(dir, catalog.clone())?;
        let end = (start + SEED_PER_OPENING).min(n);
        seed_range(&store, start..end, seed, now, &mut tally, progress)?;
        if end == n {
            store.engine().ids_after(IdKind::Customer, n)?;
            tally.report.intervals = tally.history.write(&store)?;
        }
        store.flush()?;
        drop(store);
        if end == n {
            return Ok(tally.report());
        }
        start = end;
    }
}

/// [`seed`] into the store a location names (see [`Store::at`]): a sled directory
/// through [`seed_dir`] (bounded memory), a PostgreSQL database directly.
pub fn seed_at(
    location: &str,
    catalog: &crate::Catalog,
    n: u64,
    seed: u64,
    now: Millis,
    progress: &mut dyn FnMut(u64),
) -> Result<SeedReport, StoreError> {
    if location.contains("://") {
        let store = Store::at(location, catalog.clone(), false)?;
        return self::seed(&store, n, seed, now, progress);
    }
    let dir = location.strip_prefix("sled:").unwrap_or(location);
    seed_dir(std::path::Path::new(dir), catalog, n, seed, now, progress)
}

/// Calls by local hour (Beijing) of the 1000 hotline's day: quiet at night, peaks in
/// the morning and the afternoon.
const CALLS_BY_HOUR: [u64; 24] = [
    1, 1, 1, 1, 1, 2, 3, 5, 9, 11, 11, 10, 7, 7, 10, 10, 10, 9, 7, 6, 5, 4, 3, 2,
];

/// A time in the 90 days before `now`, on a day like the hotline's: a day drawn evenly,
/// an hour by [`CALLS_BY_HOUR`], a second within it evenly.
fn past_arrival(rng: &mut Rng, now: Millis) -> Millis {
    const HOUR_MS: Millis = 3_600_000;
    const BEIJING: Millis = 8 * HOUR_MS;
    let midnight = (now + BEIJING) / DAY_MS * DAY_MS - BEIJING;
    let day = rng.below(90);
    let mut pick = rng.below(CALLS_BY_HOUR.iter().sum());
    let hour = CALLS_BY_HOUR
        .iter()
        .position(|&w| {
            let here = pick < w;
            pick = pick.saturating_sub(w);
            here
        })
        .unwrap_or(12) as Millis;
    let at = (midnight + hour * HOUR_MS + rng.below(3600) * 1000).saturating_sub(day * DAY_MS);
    if at >= now {
        at.saturating_sub(DAY_MS)
    } else {
        at
    }
}

/// The seeded calls added up as the router keeps its history: each queue's and each
/// agent's 15-minute intervals (by the KPI module's counting), so that the reports of
/// a freshly seeded store have intervals consistent with its interactions.
#[derive(Default)]
struct History {
    queues: std::collections::BTreeMap<(Millis, String), hotline_acd::kpi::Tally>,
    agents: std::collections::BTreeMap<(Millis, String), hotline_acd::stats::AgentTally>,
    /// The agents who took each queue's calls in each quarter (staffed for it all).
    serving: std::collections::BTreeSet<(Millis, String, String)>,
    /// Each queue's busy time in each quarter, ms.
    busy: std::collections::BTreeMap<(Millis, String), u64>,
    /// The calls that left the IVR in each quarter, by route and by service.
    ivr: std::collections::BTreeMap<(Millis, IvrBy, String), IvrTally>,
}

impl History {
    const INTERVAL: Millis = 15 * 60_000;

    fn add(&mut self, i: &Interaction) {
        use hotline_acd::{AgentStateKind, Span};
        if let Some(exit) = IvrExit::of(i) {
            // counted when the call left the IVR
            let left = i.ivr_ended.unwrap_or(i.ended);
            let at = left - left % Self::INTERVAL;
            for (by, key) in ivr_keys(&i.ivr_path, i.self_service.as_ref()) {
                self.ivr
                    .entry((at, by, key))
                    .or_default()
                    .count(exit, left.saturating_sub(i.arrived));
            }
        }
        let slot = i.arrived - i.arrived % Self::INTERVAL;
        let Some(queue) = &i.queue else {
            return; // finished in the IVR
        };
        let secs = |s: u32| Span::from_secs(u64::from(s));
        let q = self.queues.entry((slot, queue.clone())).or_default();
        q.on_offered();
        if i.answered.is_none() {
            return;
        }
        q.on_answered(secs(i.wait_s), &hotline_acd::kpi::Thresholds::default());
        q.on_handled(secs(i.talk_s), secs(i.hold_s), secs(i.wrap_up_s));
        let Some(agent) = i.agents.last() else {
            return;
        };
        self.serving.insert((slot, queue.clone(), agent.clone()));
        *self.busy.entry((slot, queue.clone())).or_default() +=
            u64::from(i.talk_s + i.hold_s + i.wrap_up_s) * 1000;
        let a = self.agents.entry((slot, agent.clone())).or_default();
        a.offers += 1;
        a.answered += 1;
        a.handled += 1;
        a.talk += secs(i.talk_s);
        a.hold += secs(i.hold_s);
        a.wrap_up += secs(i.wrap_up_s);
        a.holds += u64::from(i.hold_s > 0);
        a.transfers += u64::from(i.transfers);
        a.time_in_state[AgentStateKind::Connected.index()] += secs(i.talk_s + i.hold_s);
        a.time_in_state[AgentStateKind::AfterCallWork.index()] += secs(i.wrap_up_s);
    }

    /// An agent with calls in a quarter was logged in for all of it: of the time not
    /// busy, a tenth on a break (not ready, the break reason), the rest ready.
    fn staff_the_quarters(&mut self) {
        use hotline_acd::{AgentState, AgentStateKind, ReasonCode, Span};
        const BREAK: ReasonCode = ReasonCode(hotline_catalog::not_ready::BREAK);
        let quarter = Span::from_secs(Self::INTERVAL / 1000);
        for a in self.agents.values_mut() {
            let busy = a.time_in_state[AgentStateKind::Connected.index()]
                + a.time_in_state[AgentStateKind::AfterCallWork.index()];
            let idle = quarter.0.saturating_sub(busy.0);
            a.accrue(&AgentState::NotReady(BREAK), Span(idle / 10));
            a.accrue(&AgentState::Ready, Span(idle - idle / 10));
        }
    }

    /// Write every interval into `store`; how many.
    fn write(&mut self, store: &Store) -> Result<u64, StoreError> {
        self.staff_the_quarters();
        let mut staffed: std::collections::BTreeMap<(Millis, String), u64> = Default::default();
        for (slot, queue, _) in std::mem::take(&mut self.serving) {
            *staffed.entry((slot, queue)).or_default() += Self::INTERVAL;
        }
        let busy = std::mem::take(&mut self.busy);
        let queues = std::mem::take(&mut self.queues)
            .into_iter()
            .map(|((start, queue), tally)| {
                let key = (start, queue);
                let staffed_ms = staffed.get(&key).copied().unwrap_or(0);
                // a call counts in the quarter it came in, however long it ran
                let busy_ms = busy.get(&key).copied().unwrap_or(0).min(staffed_ms);
                IntervalRecord {
                    start,
                    end: start + Self::INTERVAL,
                    figures: IntervalFigures::Queue {
                        busy_ms,
                        staffed_ms,
                        queue: key.1,
                        tally,
                        waiting_at_end: 0,
                        formula: Default::default(),
                        sl_seconds: 20,
                    },
                }
            });
        let agents = std::mem::take(&mut self.agents)
            .into_iter()
            .map(|((start, agent), tally)| IntervalRecord {
                start,
                end: start + Self::INTERVAL,
                figures: IntervalFigures::Agent { agent, tally },
            });
        let ivr = std::mem::take(&mut self.ivr)
            .into_iter()
            .map(|((start, by, key), tally)| IntervalRecord {
                start,
                end: start + Self::INTERVAL,
                figures: IntervalFigures::Ivr { by, key, tally },
            });
        let mut written = 0;
        let mut batch = Vec::with_capacity(5_000);
        for r in queues.chain(agents).chain(ivr) {
            batch.push(r);
            if batch.len() == 5_000 {
                written += batch.len() as u64;
                store.record_intervals(std::mem::take(&mut batch))?;
            }
        }
        written += batch.len() as u64;
        store.record_intervals(batch)?;
        Ok(written)
    }
}

/// What a seeding wrote so far.
struct Tally {
    report: SeedReport,
    history: History,
    key_revenue: f64,
    all_revenue: f64,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            report: SeedReport {
                agents: (0..40)
                    .map(manager_id)
                    .chain((0..60).map(|k| format!("{}", 1001 + k)))
                    .collect(),
                ..SeedReport::default()
            },
            key_revenue: 0.0,
            all_revenue: 0.0,
            history: History::default(),
        }
    }

    fn report(mut self) -> SeedReport {
        self.report.key_account_revenue_share = if self.all_revenue > 0.0 {
            self.key_revenue / self.all_revenue
        } else {
            0.0
        };
        self.report
    }
}

/// Customers `range` (0-based; ids one more) with their histories, in chunks of one
/// batch per tree, each made durable before the next.
fn seed_range(
    store: &Store,
    range: std::ops::Range<u64>,
    seed: u64,
    now: Millis,
    tally: &mut Tally,
    progress: &mut dyn FnMut(u64),
) -> Result<(), StoreError> {
    const CHUNK: u64 = 5_000;
    let engine = store.engine();
    let catalog = store.catalog();
    let mut start = range.start;
    while start < range.end {
        let end = (start + CHUNK).min(range.end);
        let mut load = Vec::new();
        let mut interactions = Vec::new();
        let mut tickets = Vec::new();
        for i in start..end {
            let c = customer(seed, i, now);
            tally.all_revenue += c.arpu_fen as f64;
            if c.segment == Segment::KeyAccount {
                tally.key_revenue += c.arpu_fen as f64;
                tally.report.key_accounts += 1;
            }
            history(seed, catalog, &c, now, &mut interactions, &mut tickets);
            load.push(Put::Customer(c));
        }
        let ticket_ids = engine.reserve_ids(IdKind::Ticket, tickets.len() as u64)?;
        let interaction_ids = engine.reserve_ids(IdKind::Interaction, interactions.len() as u64)?;
        for ((mut it, ticket), id) in interactions.into_iter().zip(interaction_ids) {
            it.id = id;
            tally.history.add(&it);
            if let Some(pos) = ticket {
                it.tickets = ticket_ids.get(pos).copied().into_iter().collect();
            }
            load.push(Put::Interaction(it));
            tally.report.interactions += 1;
        }
        for (mut t, id) in tickets.into_iter().zip(&ticket_ids) {
            t.id = *id;
            load.push(Put::Ticket(t));
            tally.report.tickets += 1;
        }
        engine.load(load)?;
        engine.flush()?;
        tally.report.customers = end;
        progress(end);
        start = end;
    }
    Ok(())
}

/// The back-office clerk of a group who works seeded tickets ("8001" of the repair crew…;
/// the demo gives them accounts).
pub fn office_staff(group: &str) -> &'static str {
    match group {
        "repair-crew" => "8001",
        "complaints-office" => "8101",
        "support" => "8201",
        "sales-support" => "8301",
        _ => "8401",
    }
}

/// How a seeded ticket of a kind was resolved.
fn resolved(kind: TicketKind) -> TicketChange {
    let code = match kind {
        TicketKind::Fault => "repaired",
        TicketKind::Complaint => "explained",
        _ => "order-done",
    };
    TicketChange::Resolution {
        code: code.into(),
        note: "已处理".into(),
    }
}

/// Past contacts of a customer over the last 90 days, and the tickets some of them
/// opened (some still open, a few overdue).
/// Each interaction comes with the position in `tickets` of the ticket it opened.
fn history(
    seed: u64,
    catalog: &Catalog,
    c: &Customer,
    now: Millis,
    interactions: &mut Vec<(Interaction, Option<usize>)>,
    tickets: &mut Vec<Ticket>,
) {
    let mut rng = Rng::fork(seed ^ 0x5eed, c.id);
    let mut count = 0;
    // Poisson(0.8) by inversion
    let (mut p, mut acc, u) = ((-0.8f64).exp(), (-0.8f64).exp(), rng.uniform());
    while u > acc && count < 8 {
        count += 1;
        p *= 0.8 / count as f64;
        acc += p;
    }
    for _ in 0..count {
        let arrived = past_arrival(&mut rng, now);
        let agent = format!("{}", 1001 + rng.below(60));
        let reason = pick(&mut rng, REASONS).to_string();
        let self_service = reason == "bill-query" && rng.chance(0.7);
        // waits as a queue near 80/20 has them: exponential, mean 12 s, at most 2 min
        let wait = (-12.0 * (1.0 - rng.uniform()).ln()).min(120.0) as u32;
        let talk = if self_service {
            0
        } else {
            60 + rng.below(500) as u32
        };
        let claimed = !self_service && rng.chance(0.75);
        let mut i = Interaction {
            id: 0,
            call_id: rng.next_u64() >> 1,
            customer: Some(c.id),
            caller_number: c.phones[0].clone(),
            dialled: "1000".into(),
            arrived,
            ivr_ended: Some(arrived + 20_000),
            queued: (!self_service).then_some(arrived + 20_000),
            offered: (!self_service).then_some(arrived + 20_000 + wait as u64 * 1000),
            answered: (!self_service).then_some(arrived + 22_000 + wait as u64 * 1000),
            ended: arrived + 22_000 + (wait + talk) as u64 * 1000,
            ivr_path: ivr_path(&reason, self_service),
            self_service: self_service.then(|| SelfService::Completed("bill".into())),
            queue: (!self_service)
                .then(|| {
                    let codes = hotline_catalog::Codes::shipped();
                    let group = codes.reason(&reason).and_then(|r| codes.group(&r.group));
                    group.map(|g| g.queue.clone())
                })
                .flatten(),
            agents: if self_service {
                vec![]
            } else {
                vec![agent.clone()]
            },
            transfers: 0,
            wait_s: if self_service { 0 } else { wait },
            talk_s: talk,
            hold_s: 0,
            wrap_up_s: if self_service { 0 } else { 20 },
            end: if self_service {
                CallEnd::SelfService
            } else {
                CallEnd::Completed
            },
            disposition: Some(if self_service {
                "self-service".into()
            } else {
                "answered".into()
            }),
            reason: Some(reason.clone()),
            notes: String::new(),
            tickets: vec![],
            fcr_claimed: claimed,
            // settled once the window passed: about one claim in seven had a repeat
            fcr_verified: if now.saturating_sub(arrived) > DEFAULT_FCR_WINDOW {
                Some(claimed && (arrived / 1000 + c.id) % 7 != 0)
            } else {
                None
            },
            satisfaction: (rng.chance(0.4)).then(|| 3 + rng.below(3) as u8),
            legs: vec![],
        };
        if !self_service && rng.chance(0.12) {
            let kind = if reason.starts_with("fault") {
                TicketKind::Fault
            } else if reason.starts_with("complaint") {
                TicketKind::Complaint
            } else {
                TicketKind::ServiceOrder
            };
            let spec = catalog.kind(kind);
            // the subcategory the reason names (fault.mobile-signal → mobile-signal), else
            // the kind's usual one
            let detail = reason.split_once('.').map_or("", |(_, d)| d);
            let sub = match spec.subcategories.iter().find(|s| s.id == detail) {
                Some(s) => s.id.as_str(),
                None => match kind {
                    TicketKind::Fault => "broadband-down",
                    TicketKind::Complaint => "billing-dispute",
                    _ => "plan-change",
                },
            };
            let group = spec.back_office.as_str();
            let deadline = catalog.deadline(kind, c.segment, arrived);
            // relative to `now`: a ticket still open is not yet due (the back office
            // works its tickets in time; overdue ones come from the running hotline)
            let due = deadline > now;
            let status = match rng.below(10) {
                0 | 1 if due => TicketStatus::Dispatched,
                2 if now - arrived < 3 * DAY_MS => TicketStatus::Resolved,
                _ if due => TicketStatus::InProgress,
                _ => TicketStatus::Closed,
            };
            let mut t = Ticket {
                id: 0,
                customer: c.id,
                kind,
                subcategory: sub.into(),
                description: format!(
                    "客户来电反映：{}",
                    hotline_catalog::Codes::shipped()
                        .reason(&reason)
                        .map_or(reason.as_str(), |r| r.zh.as_str())
                ),
                priority: TicketPriority::Normal,
                status: TicketStatus::New,
                owner: agent.clone(),
                back_office: None,
                created: arrived,
                deadline,
                satisfaction: None,
                history: vec![TicketEvent {
                    at: arrived,
                    by: agent.clone(),
                    change: TicketChange::Note {
                        text: "opened".into(),
                    },
                    status: TicketStatus::New,
                }],
            };
            let steps: Vec<TicketChange> = match status {
                TicketStatus::Dispatched => vec![TicketChange::Dispatch {
                    group: group.into(),
                }],
                TicketStatus::InProgress => vec![
                    TicketChange::Dispatch {
                        group: group.into(),
                    },
                    TicketChange::Start,
                ],
                TicketStatus::Resolved => vec![
                    TicketChange::Dispatch {
                        group: group.into(),
                    },
                    TicketChange::Start,
                    resolved(kind),
                ],
                _ => vec![
                    TicketChange::Dispatch {
                        group: group.into(),
                    },
                    TicketChange::Start,
                    resolved(kind),
                    TicketChange::CallBack { satisfaction: 4 },
                    TicketChange::Close,
                ],
            };
            // the steps spread over the time the ticket had, ending before `now`
            let step = (deadline.min(now) - arrived) / (steps.len() as u64 + 1);
            let mut at = arrived;
            for s in &steps {
                at += step.max(1);
                let st = match s {
                    TicketChange::Dispatch { group } => {
                        t.back_office = Some(group.clone());
                        TicketStatus::Dispatched
                    }
                    TicketChange::Start => TicketStatus::InProgress,
                    TicketChange::Resolution { .. } => TicketStatus::Resolved,
                    TicketChange::CallBack { satisfaction } => {
                        t.satisfaction = Some(*satisfaction);
                        TicketStatus::CalledBack
                    }
                    _ => TicketStatus::Closed,
                };
                t.status = st;
                t.history.push(TicketEvent {
                    at: at.min(now),
                    by: match s {
                        TicketChange::Start | TicketChange::Resolution { .. } => {
                            office_staff(group).into()
                        }
                        // tickets go to their group by themselves, as in the router
                        TicketChange::Dispatch { .. } => crate::store::SYSTEM.into(),
                        _ => agent.clone(),
                    },
                    change: s.clone(),
                    status: st,
                });
            }
            i.disposition = Some("ticket-opened".into());
            i.fcr_claimed = false;
            i.fcr_verified = if i.fcr_verified.is_some() {
                Some(false)
            } else {
                None
            };
            tickets.push(t);
            interactions.push((i, Some(tickets.len() - 1)));
        } else {
            interactions.push((i, None));
        }
    }
}
