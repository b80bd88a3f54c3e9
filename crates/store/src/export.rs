//! Export and import (JSON lines for everything, CSV for customers), backup to a
//! directory and restore from one. Ids are kept, and ids handed out later continue
//! after the largest imported one.

use crate::codec::word;
use crate::engine::Put;
use crate::error::StoreError;
use crate::model::*;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

/// What to export or import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Customers.
    Customers,
    /// Tickets.
    Tickets,
    /// Interactions.
    Interactions,
    /// Agent accounts (with their password hashes).
    Agents,
    /// The kept statistics intervals and alarms (the reports' history).
    Intervals,
    /// Area incidents, each followed by the tickets linked to it.
    Incidents,
}

impl Kind {
    /// All kinds, in restore order (customers before what refers to them).
    pub const ALL: [Kind; 6] = [
        Kind::Customers,
        Kind::Agents,
        Kind::Tickets,
        Kind::Interactions,
        Kind::Intervals,
        Kind::Incidents,
    ];

    fn file(self) -> &'static str {
        match self {
            Kind::Customers => "customers.jsonl",
            Kind::Tickets => "tickets.jsonl",
            Kind::Interactions => "interactions.jsonl",
            Kind::Agents => "agents.jsonl",
            Kind::Intervals => "intervals.jsonl",
            Kind::Incidents => "incidents.jsonl",
        }
    }
}

/// Records written into one opening of a sled store before [`Target`] closes and reopens
/// it: sled holds what one opening wrote in memory until it is closed (see
/// [`crate::seed::SEED_PER_OPENING`], about the seeder's 12,500 customers with their
/// history).
pub const RECORDS_PER_OPENING: u64 = 25_000;

/// The store that an import, a restore or a copy writes into. Given by its location
/// ([`Target::at`]), a sled store is closed and opened again every
/// [`RECORDS_PER_OPENING`] records, so memory stays bounded whatever the size; a
/// PostgreSQL store, or one given as a [`Store`], is written as it is.
pub struct Target {
    store: Option<Store>,
    /// The sled store's location, to open it again.
    reopen: Option<(String, crate::Catalog)>,
    written: u64,
    per_opening: u64,
    openings: u64,
}

impl Target {
    /// The store at `location` (a directory, `sled:DIR` or `postgres://…`), made if new.
    pub fn at(location: &str, catalog: crate::Catalog) -> Result<Target, StoreError> {
        let store = Store::at(location, catalog.clone(), false)?;
        let sled = !location.contains("://");
        Ok(Target::new(
            store,
            sled.then(|| (location.to_string(), catalog)),
        ))
    }

    fn new(store: Store, reopen: Option<(String, crate::Catalog)>) -> Target {
        Target {
            store: Some(store),
            reopen,
            written: 0,
            per_opening: RECORDS_PER_OPENING,
            openings: 1,
        }
    }

    /// Reopen a sled store every `n` records instead of [`RECORDS_PER_OPENING`].
    pub fn with_records_per_opening(mut self, n: u64) -> Target {
        self.per_opening = n.max(1);
        self
    }

    /// How many times the store was opened so far.
    pub fn openings(&self) -> u64 {
        self.openings
    }

    /// `store` as it is, never reopened.
    pub fn of(store: &Store) -> Target {
        Target::new(store.clone(), None)
    }

    /// The store.
    pub fn store(&self) -> Result<&Store, StoreError> {
        self.store
            .as_ref()
            .ok_or_else(|| StoreError::File("the store could not be opened again".into()))
    }

    /// `n` more records were written: a sled store is made durable, closed and opened
    /// again once an opening has taken [`RECORDS_PER_OPENING`].
    fn wrote(&mut self, n: u64) -> Result<(), StoreError> {
        self.written += n;
        let Some((location, catalog)) = &self.reopen else {
            return Ok(());
        };
        if self.written < self.per_opening {
            return Ok(());
        }
        self.written = 0;
        if let Some(store) = self.store.take() {
            store.flush()?;
        }
        self.store = Some(Store::at(location, catalog.clone(), true)?);
        self.openings += 1;
        Ok(())
    }

    /// Import `page` (each record checked, under its own id), then count it.
    fn import(&mut self, page: Vec<Put>) -> Result<(), StoreError> {
        let n = page.len() as u64;
        self.store()?.import(page)?;
        self.wrote(n)
    }

    /// The store, done with.
    pub fn into_store(self) -> Result<Store, StoreError> {
        self.store
            .ok_or_else(|| StoreError::File("the store could not be opened again".into()))
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::File(e.to_string())
}

/// Records read a page at a time while a scan streams them.
pub const PAGE: usize = 1_000;

/// Call `each` on every record `page` gives, a page at a time: `page(after, n)` returns
/// up to `n` records with ids above `after`, by id; memory holds one page.
pub fn scan<T>(
    page: impl Fn(u64, usize) -> Result<Vec<T>, StoreError>,
    id: impl Fn(&T) -> u64,
    mut each: impl FnMut(T) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let (mut after, mut n) = (0, 0);
    loop {
        let records = page(after, PAGE)?;
        let Some(last) = records.last() else {
            return Ok(n);
        };
        after = id(last);
        for r in records {
            each(r)?;
            n += 1;
        }
    }
}

/// A line of `incidents.jsonl`: an incident, or a ticket linked to the one before.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum IncidentLine {
    Incident(Box<Incident>),
    Link(IncidentLink),
}

/// Every incident, each followed by its links, a page at a time; returns how many
/// records (incidents and links).
fn each_incident(
    store: &Store,
    mut each: impl FnMut(Put) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let e = store.engine();
    let mut links = 0;
    let incidents = scan(
        |a, n| e.incidents_after(a, n),
        |i| i.id,
        |i| {
            let id = i.id;
            each(Put::Incident(i))?;
            links += scan(
                |a, n| e.incident_links(id, a, n),
                |l| l.ticket,
                |l| each(Put::IncidentLink(l)),
            )?;
            Ok(())
        },
    )?;
    Ok(incidents + links)
}

fn line<T: Serialize>(out: &mut dyn Write, rec: &T) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *out, rec).map_err(|e| StoreError::File(e.to_string()))?;
    out.write_all(b"\n").map_err(io)
}

/// Write every record of a kind as JSON lines; returns how many.
pub fn export_jsonl(store: &Store, kind: Kind, out: &mut dyn Write) -> Result<u64, StoreError> {
    let mut out = BufWriter::new(out);
    let e = store.engine();
    let n = match kind {
        Kind::Customers => scan(
            |a, n| e.customers_after(a, n),
            |c| c.id,
            |c| line(&mut out, &c),
        )?,
        Kind::Tickets => scan(
            |a, n| e.tickets_after(a, n),
            |t| t.id,
            |t| line(&mut out, &t),
        )?,
        Kind::Interactions => scan(
            |a, n| e.interactions_after(a, n),
            |i| i.id,
            |i| writeln!(out, "{}", i.to_json_line()).map_err(io),
        )?,
        Kind::Agents => {
            let agents = e.agents()?;
            for a in &agents {
                line(&mut out, a)?;
            }
            agents.len() as u64
        }
        Kind::Intervals => {
            let mut n = 0;
            store.each_interval(0, Millis::MAX, |r| {
                n += 1;
                line(&mut out, &r)
            })?;
            n
        }
        Kind::Incidents => each_incident(store, |p| match p {
            Put::Incident(i) => line(&mut out, &IncidentLine::Incident(Box::new(i))),
            Put::IncidentLink(l) => line(&mut out, &IncidentLine::Link(l)),
            _ => Ok(()),
        })?,
    };
    out.flush().map_err(io)?;
    Ok(n)
}

/// Read JSON lines of a kind and store each record under its own id, a page of
/// records per commit (memory holds one page). Stops at the first bad line, naming it;
/// the lines before it are stored.
pub fn import_jsonl(store: &Store, kind: Kind, input: &mut dyn Read) -> Result<u64, StoreError> {
    import_jsonl_into(&mut Target::of(store), kind, input)
}

/// [`import_jsonl`] into a [`Target`] (bounded memory on sled whatever the size).
pub fn import_jsonl_into(
    to: &mut Target,
    kind: Kind,
    input: &mut dyn Read,
) -> Result<u64, StoreError> {
    let (mut n, mut page) = (0, Vec::with_capacity(PAGE));
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let at = |e: String| StoreError::File(format!("line {}: {e}", i + 1));
        let parsed = match kind {
            Kind::Customers => serde_json::from_str(&line).map(Put::Customer),
            Kind::Tickets => serde_json::from_str(&line).map(Put::Ticket),
            Kind::Interactions => Interaction::from_json_line(&line).map(Put::Interaction),
            Kind::Agents => serde_json::from_str(&line).map(Put::Agent),
            Kind::Intervals => serde_json::from_str(&line).map(Put::Interval),
            Kind::Incidents => serde_json::from_str(&line).map(|l| match l {
                IncidentLine::Incident(i) => Put::Incident(*i),
                IncidentLine::Link(l) => Put::IncidentLink(l),
            }),
        };
        let checked = parsed.map_err(|e| at(e.to_string())).and_then(|p| {
            to.store()?
                .check_import(&p)
                .map(|()| p)
                .map_err(|e| at(e.to_string()))
        });
        match checked {
            Ok(p) => page.push(p),
            Err(e) => {
                to.import(page)?;
                return Err(e);
            }
        }
        n += 1;
        if page.len() >= PAGE {
            to.import(std::mem::take(&mut page))?;
        }
    }
    to.import(page)?;
    Ok(n)
}

/// The columns of the customers' CSV, in order.
const CSV_COLUMNS: [&str; 18] = [
    "id",
    "name",
    "phones",
    "id_document",
    "address",
    "district",
    "area",
    "segment",
    "vip_tier",
    "enterprise_group",
    "account_manager",
    "arpu_fen",
    "balance_fen",
    "arrears_fen",
    "credit_level",
    "since",
    "notes",
    "tags",
];

fn csv_error(e: csv::Error) -> StoreError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        kind => StoreError::File(format!("CSV: {kind:?}")),
    }
}

/// Customers as CSV (RFC 4180 quoting by the `csv` crate; phones and tags joined by
/// `|`; services and ARPU history are in the JSON-lines export only).
pub fn export_customers_csv(store: &Store, out: &mut dyn Write) -> Result<u64, StoreError> {
    let mut w = csv::Writer::from_writer(BufWriter::new(out));
    w.write_record(CSV_COLUMNS).map_err(csv_error)?;
    let e = store.engine();
    let n = scan(
        |a, n| e.customers_after(a, n),
        |c| c.id,
        |c| {
            w.write_record([
                c.id.to_string(),
                c.name,
                c.phones.join("|"),
                c.id_document.unwrap_or_default(),
                c.address,
                c.district,
                c.area,
                word(&c.segment),
                word(&c.vip_tier),
                c.enterprise_group.unwrap_or_default(),
                c.account_manager.unwrap_or_default(),
                c.arpu_fen.to_string(),
                c.balance_fen.to_string(),
                c.arrears_fen.to_string(),
                c.credit_level.to_string(),
                c.since.to_string(),
                c.notes,
                c.tags.join("|"),
            ])
            .map_err(csv_error)
        },
    )?;
    w.flush().map_err(io)?;
    Ok(n)
}

/// Import customers from CSV with the export's header, read a record at a time (memory
/// holds a page of customers whatever the file's size). An empty or 0 id creates a new
/// customer; fields not in the CSV keep their defaults. Stops at the first bad row,
/// naming its line; the rows before it are stored.
pub fn import_customers_csv(store: &Store, input: &mut dyn Read) -> Result<u64, StoreError> {
    import_customers_csv_into(&mut Target::of(store), input)
}

/// [`import_customers_csv`] into a [`Target`] (bounded memory on sled whatever the size).
pub fn import_customers_csv_into(to: &mut Target, input: &mut dyn Read) -> Result<u64, StoreError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true) // a row of the wrong length is named by our own check
        .from_reader(BufReader::new(input));
    let header = r.headers().map_err(csv_error)?;
    if header.is_empty() {
        return Ok(0);
    }
    if !header.iter().eq(CSV_COLUMNS) {
        return Err(StoreError::File(format!(
            "the header must be: {}",
            CSV_COLUMNS.join(",")
        )));
    }
    let (mut n, mut page) = (0, Vec::new());
    let mut record = csv::StringRecord::new();
    loop {
        let more = match r.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                import_rows(to, page)?;
                let line = e.position().map_or(0, |p| p.line());
                return Err(StoreError::File(format!("row {line}: {}", csv_error(e))));
            }
        };
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line()) as usize;
        let c = match customer_of_row(&record) {
            Ok(c) => c,
            Err(what) => {
                import_rows(to, page)?;
                return Err(StoreError::File(format!("row {line}: {what}")));
            }
        };
        if c.id == 0 {
            to.store()?
                .put_customer(c)
                .map_err(|e| StoreError::File(format!("row {line}: {e}")))?;
            to.wrote(1)?;
        } else {
            page.push((line, Put::Customer(c)));
        }
        n += 1;
        if page.len() >= PAGE {
            import_rows(to, std::mem::take(&mut page))?;
        }
    }
    import_rows(to, page)?;
    Ok(n)
}

/// A customer from one CSV row, or what is wrong with it.
fn customer_of_row(r: &csv::StringRecord) -> Result<Customer, String> {
    if r.len() != CSV_COLUMNS.len() {
        return Err(format!(
            "{} fields, expected {}",
            r.len(),
            CSV_COLUMNS.len()
        ));
    }
    let f = |k: usize| r.get(k).unwrap_or_default();
    let num = |k: usize| -> Result<i64, String> {
        match f(k) {
            "" => Ok(0),
            s => s
                .parse()
                .map_err(|_| format!("{} '{s}' is not a number", CSV_COLUMNS[k])),
        }
    };
    let code = |k: usize| -> Result<serde_json::Value, String> {
        match f(k) {
            "" => Err(format!("{} is empty", CSV_COLUMNS[k])),
            s => Ok(serde_json::Value::String(s.to_string())),
        }
    };
    let split = |k: usize| -> Vec<String> {
        f(k).split('|')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    let opt = |k: usize| (!f(k).is_empty()).then(|| f(k).to_string());
    Ok(Customer {
        id: num(0)? as u64,
        name: f(1).to_string(),
        phones: split(2),
        id_document: opt(3),
        address: f(4).to_string(),
        district: f(5).to_string(),
        area: f(6).to_string(),
        segment: serde_json::from_value(code(7)?)
            .map_err(|_| "segment must be public or key-account".to_string())?,
        vip_tier: serde_json::from_value(code(8)?)
            .map_err(|_| "vip_tier must be none, silver, gold or diamond".to_string())?,
        enterprise_group: opt(9),
        account_manager: opt(10),
        services: vec![],
        arpu_fen: num(11)?,
        arpu_history_fen: vec![],
        balance_fen: num(12)?,
        arrears_fen: num(13)?,
        credit_level: num(14)?.clamp(0, 255) as u8,
        since: num(15)? as u64,
        notes: f(16).to_string(),
        tags: split(17),
    })
}

/// Import a page of rows in one commit; if it is refused, row by row, so the error
/// names the row.
fn import_rows(to: &mut Target, page: Vec<(usize, Put)>) -> Result<(), StoreError> {
    let all = page.iter().map(|(_, p)| p.clone()).collect();
    if to.import(all).is_ok() {
        return Ok(());
    }
    for (line, p) in page {
        to.import(vec![p])
            .map_err(|e| StoreError::File(format!("row {line}: {e}")))?;
    }
    Ok(())
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Encoding version of the store that wrote it.
    pub format: u8,
    /// Records per kind.
    pub counts: Vec<(Kind, u64)>,
}

/// Write every record into `dir` (created; must be empty or new) as JSON lines, with a
/// manifest. The backup is readable by any later version (`restore`).
pub fn backup(store: &Store, dir: &Path) -> Result<Manifest, StoreError> {
    std::fs::create_dir_all(dir).map_err(io)?;
    if std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(StoreError::File(format!("{} is not empty", dir.display())));
    }
    store.flush()?;
    let mut counts = Vec::new();
    for k in Kind::ALL {
        let mut f = std::fs::File::create(dir.join(k.file())).map_err(io)?;
        counts.push((k, export_jsonl(store, k, &mut f)?));
        f.sync_all().map_err(io)?;
    }
    let m = Manifest {
        format: crate::codec::VERSION,
        counts,
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&m).map_err(|e| StoreError::File(e.to_string()))?,
    )
    .map_err(io)?;
    Ok(m)
}

/// Load a backup into a store (normally a new, empty one).
pub fn restore(store: &Store, dir: &Path) -> Result<Manifest, StoreError> {
    restore_into(&mut Target::of(store), dir)
}

/// [`restore`] into a [`Target`] (bounded memory on sled whatever the size).
pub fn restore_into(to: &mut Target, dir: &Path) -> Result<Manifest, StoreError> {
    let m: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).map_err(io)?)
            .map_err(|e| StoreError::File(format!("manifest.json: {e}")))?;
    for k in Kind::ALL {
        let path = dir.join(k.file());
        // a backup made before a kind was kept has no file and no count for it
        if !path.exists() && !m.counts.iter().any(|(x, _)| *x == k) {
            continue;
        }
        let mut f = std::fs::File::open(path).map_err(io)?;
        let n = import_jsonl_into(to, k, &mut f)
            .map_err(|e| StoreError::File(format!("{}: {e}", k.file())))?;
        let expected = m.counts.iter().find(|(x, _)| *x == k).map_or(0, |x| x.1);
        if n != expected {
            return Err(StoreError::File(format!(
                "{}: {n} records, the manifest says {expected}",
                k.file()
            )));
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_round_trips_and_bad_rows_are_named() {
        let store = Store::temporary(crate::Catalog::builtin()).unwrap();
        let mut c = crate::seed::customer(5, 1, crate::seed::DEFAULT_NOW);
        c.name = "王\"大,锤\"".into();
        c.notes = "两行\n备注, \"引号\"".into();
        c.id = 0;
        let c = store.put_customer(c).unwrap();
        let mut text = Vec::new();
        assert_eq!(export_customers_csv(&store, &mut text).unwrap(), 1);
        let back = Store::temporary(crate::Catalog::builtin()).unwrap();
        assert_eq!(
            import_customers_csv(&back, &mut text.as_slice()).unwrap(),
            1
        );
        let got = back.customer(c.id).unwrap().unwrap();
        assert_eq!((got.name, got.notes), (c.name, c.notes));

        let text = String::from_utf8(text).unwrap();
        let header = text.lines().next().unwrap();
        let bad = format!("{header}\n0,x,18900000001,,,,,public,none,,,1,2,3,4,5,,\n7,y\n");
        let e = import_customers_csv(&back, &mut bad.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("row 3"), "{e}");
        assert!(
            back.customer_by_phone("18900000001").unwrap().is_some(),
            "the row before is kept"
        );
    }
}

/// What [`copy`] moved, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Copied {
    /// Customers.
    pub customers: u64,
    /// Agent accounts.
    pub agents: u64,
    /// Tickets.
    pub tickets: u64,
    /// Interactions (with their legs).
    pub interactions: u64,
    /// Kept statistics intervals and alarms (the reports' history).
    pub intervals: u64,
    /// Session tokens, audit-trail entries and dead letters.
    pub other: u64,
}

/// Copy every record of `from` into `to` (normally a new, empty store, of either
/// engine), ids kept, a page per commit: memory holds one page whatever the size.
pub fn copy(from: &Store, to: &Store) -> Result<Copied, StoreError> {
    copy_into(from, &mut Target::of(to))
}

/// [`copy`] into a [`Target`] (bounded memory on sled whatever the size).
pub fn copy_into(from: &Store, to: &mut Target) -> Result<Copied, StoreError> {
    let e = from.engine();
    let mut c = Copied::default();
    let mut page = Vec::with_capacity(PAGE);
    // into an empty store: the engine's bulk load, checked record by record and made
    // durable at the end; into one with records: commits, each record replacing its own
    let target = to.store()?.engine();
    let empty = target.customers_after(0, 1)?.is_empty()
        && target.tickets_after(0, 1)?.is_empty()
        && target.interactions_after(0, 1)?.is_empty();
    let write = |to: &mut Target, page: Vec<Put>| -> Result<(), StoreError> {
        if empty {
            let n = page.len() as u64;
            to.store()?.load(page)?;
            to.wrote(n)
        } else {
            to.import(page)
        }
    };
    let mut keep = |p: Put, page: &mut Vec<Put>| -> Result<(), StoreError> {
        page.push(p);
        if page.len() >= PAGE {
            write(to, std::mem::take(page))?;
        }
        Ok(())
    };
    c.customers = scan(
        |a, n| e.customers_after(a, n),
        |x| x.id,
        |x| keep(Put::Customer(x), &mut page),
    )?;
    for a in e.agents()? {
        keep(Put::Agent(a), &mut page)?;
        c.agents += 1;
    }
    c.tickets = scan(
        |a, n| e.tickets_after(a, n),
        |x| x.id,
        |x| keep(Put::Ticket(x), &mut page),
    )?;
    c.interactions = scan(
        |a, n| e.interactions_after(a, n),
        |x| x.id,
        |x| keep(Put::Interaction(x), &mut page),
    )?;
    from.each_interval(0, Millis::MAX, |r| {
        c.intervals += 1;
        keep(Put::Interval(r), &mut page)
    })?;
    for t in e.session_tokens()? {
        keep(Put::SessionToken(t), &mut page)?;
        c.other += 1;
    }
    for a in e.audit_trail(0, Millis::MAX, usize::MAX)? {
        keep(Put::Audit(a), &mut page)?;
        c.other += 1;
    }
    for d in e.dead_letters(usize::MAX)? {
        keep(Put::DeadLetter(d), &mut page)?;
        c.other += 1;
    }
    c.other += each_incident(from, |p| keep(p, &mut page))?;
    write(to, page)?;
    to.store()?.flush()?;
    Ok(c)
}
