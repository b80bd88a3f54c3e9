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
}

impl Kind {
    /// All kinds, in restore order (customers before what refers to them).
    pub const ALL: [Kind; 4] = [
        Kind::Customers,
        Kind::Agents,
        Kind::Tickets,
        Kind::Interactions,
    ];

    fn file(self) -> &'static str {
        match self {
            Kind::Customers => "customers.jsonl",
            Kind::Tickets => "tickets.jsonl",
            Kind::Interactions => "interactions.jsonl",
            Kind::Agents => "agents.jsonl",
        }
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
            |i| line(&mut out, &i),
        )?,
        Kind::Agents => {
            let agents = e.agents()?;
            for a in &agents {
                line(&mut out, a)?;
            }
            agents.len() as u64
        }
    };
    out.flush().map_err(io)?;
    Ok(n)
}

/// Read JSON lines of a kind and store each record under its own id, a page of
/// records per commit (memory holds one page). Stops at the first bad line, naming it;
/// the lines before it are stored.
pub fn import_jsonl(store: &Store, kind: Kind, input: &mut dyn Read) -> Result<u64, StoreError> {
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
            Kind::Interactions => serde_json::from_str(&line).map(Put::Interaction),
            Kind::Agents => serde_json::from_str(&line).map(Put::Agent),
        };
        let checked = parsed.map_err(|e| at(e.to_string())).and_then(|p| {
            store
                .check_import(&p)
                .map(|()| p)
                .map_err(|e| at(e.to_string()))
        });
        match checked {
            Ok(p) => page.push(p),
            Err(e) => {
                store.import(page)?;
                return Err(e);
            }
        }
        n += 1;
        if page.len() >= PAGE {
            store.import(std::mem::take(&mut page))?;
        }
    }
    store.import(page)?;
    Ok(n)
}

const CSV_HEADER: &str = "id,name,phones,id_document,address,district,area,segment,vip_tier,enterprise_group,account_manager,arpu_fen,balance_fen,arrears_fen,credit_level,since,notes,tags";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Customers as CSV (phones and tags joined by `|`; services and ARPU history are in
/// the JSON-lines export only).
pub fn export_customers_csv(store: &Store, out: &mut dyn Write) -> Result<u64, StoreError> {
    let mut out = BufWriter::new(out);
    writeln!(out, "{CSV_HEADER}").map_err(io)?;
    let e = store.engine();
    let n = scan(
        |a, n| e.customers_after(a, n),
        |c| c.id,
        |c| {
            let row = [
                c.id.to_string(),
                csv_field(&c.name),
                csv_field(&c.phones.join("|")),
                csv_field(c.id_document.as_deref().unwrap_or("")),
                csv_field(&c.address),
                csv_field(&c.district),
                csv_field(&c.area),
                word(&c.segment),
                word(&c.vip_tier),
                csv_field(c.enterprise_group.as_deref().unwrap_or("")),
                csv_field(c.account_manager.as_deref().unwrap_or("")),
                c.arpu_fen.to_string(),
                c.balance_fen.to_string(),
                c.arrears_fen.to_string(),
                c.credit_level.to_string(),
                c.since.to_string(),
                csv_field(&c.notes),
                csv_field(&c.tags.join("|")),
            ];
            writeln!(out, "{}", row.join(",")).map_err(io)
        },
    )?;
    out.flush().map_err(io)?;
    Ok(n)
}

/// Split one CSV record (RFC 4180 quoting; a quoted field may hold newlines, so records
/// are read whole).
fn csv_records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Import customers from CSV with the export's header. An empty or 0 id creates a new
/// customer; fields not in the CSV keep their defaults.
pub fn import_customers_csv(store: &Store, input: &mut dyn Read) -> Result<u64, StoreError> {
    let mut text = String::new();
    input.read_to_string(&mut text).map_err(io)?;
    let rows = csv_records(&text).map_err(StoreError::File)?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(0);
    };
    if header.join(",") != CSV_HEADER {
        return Err(StoreError::File(format!(
            "the header must be: {CSV_HEADER}"
        )));
    }
    let (mut n, mut page) = (0, Vec::new());
    for (i, r) in rows.iter().enumerate() {
        let line = i + 2;
        let err = |what: &str| StoreError::File(format!("row {line}: {what}"));
        if r.len() != 18 {
            return Err(err(&format!("{} fields, expected 18", r.len())));
        }
        let num = |s: &str, what: &str| -> Result<i64, StoreError> {
            if s.is_empty() {
                Ok(0)
            } else {
                s.parse()
                    .map_err(|_| err(&format!("{what} '{s}' is not a number")))
            }
        };
        let enum_of = |s: &str, what: &str| -> Result<serde_json::Value, StoreError> {
            let v = serde_json::Value::String(s.to_string());
            if s.is_empty() {
                Err(err(&format!("{what} is empty")))
            } else {
                Ok(v)
            }
        };
        let split = |s: &str| -> Vec<String> {
            s.split('|')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let c = Customer {
            id: num(&r[0], "id")? as u64,
            name: r[1].clone(),
            phones: split(&r[2]),
            id_document: opt(&r[3]),
            address: r[4].clone(),
            district: r[5].clone(),
            area: r[6].clone(),
            segment: serde_json::from_value(enum_of(&r[7], "segment")?)
                .map_err(|_| err("segment must be public or key-account"))?,
            vip_tier: serde_json::from_value(enum_of(&r[8], "vip_tier")?)
                .map_err(|_| err("vip_tier must be none, silver, gold or diamond"))?,
            enterprise_group: opt(&r[9]),
            account_manager: opt(&r[10]),
            services: vec![],
            arpu_fen: num(&r[11], "arpu_fen")?,
            arpu_history_fen: vec![],
            balance_fen: num(&r[12], "balance_fen")?,
            arrears_fen: num(&r[13], "arrears_fen")?,
            credit_level: num(&r[14], "credit_level")?.clamp(0, 255) as u8,
            since: num(&r[15], "since")? as u64,
            notes: r[16].clone(),
            tags: split(&r[17]),
        };
        if c.id == 0 {
            store.put_customer(c).map_err(|e| err(&e.to_string()))?;
        } else {
            page.push((line, Put::Customer(c)));
        }
        n += 1;
        if page.len() >= PAGE {
            import_rows(store, std::mem::take(&mut page))?;
        }
    }
    import_rows(store, page)?;
    Ok(n)
}

/// Import a page of rows in one commit; if it is refused, row by row, so the error
/// names the row.
fn import_rows(store: &Store, page: Vec<(usize, Put)>) -> Result<(), StoreError> {
    let all = page.iter().map(|(_, p)| p.clone()).collect();
    if store.import(all).is_ok() {
        return Ok(());
    }
    for (line, p) in page {
        store
            .import(vec![p])
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
    let m: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).map_err(io)?)
            .map_err(|e| StoreError::File(format!("manifest.json: {e}")))?;
    for k in Kind::ALL {
        let mut f = std::fs::File::open(dir.join(k.file())).map_err(io)?;
        let n = import_jsonl(store, k, &mut f)
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
    fn csv_quoting_round_trips() {
        let rows = csv_records("a,\"b,c\",\"d \"\"e\"\"\"\n1,\"x\ny\",\n").unwrap();
        assert_eq!(rows[0], vec!["a", "b,c", "d \"e\""]);
        assert_eq!(rows[1], vec!["1", "x\ny", ""]);
        assert!(csv_records("\"open").is_err());
        assert_eq!(csv_field("a,b"), "\"a,b\"");
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
    /// Session tokens, audit-trail entries and dead letters.
    pub other: u64,
}

/// Copy every record of `from` into `to` (normally a new, empty store, of either
/// engine), ids kept, a page per commit: memory holds one page whatever the size.
pub fn copy(from: &Store, to: &Store) -> Result<Copied, StoreError> {
    let e = from.engine();
    let mut c = Copied::default();
    let mut page = Vec::with_capacity(PAGE);
    // into an empty store: the engine's bulk load, checked record by record and made
    // durable at the end; into one with records: commits, each record replacing its own
    let empty = to.engine().customers_after(0, 1)?.is_empty()
        && to.engine().tickets_after(0, 1)?.is_empty()
        && to.engine().interactions_after(0, 1)?.is_empty();
    let write = |page: Vec<Put>| -> Result<(), StoreError> {
        if empty {
            to.load(page)
        } else {
            to.import(page)
        }
    };
    let keep = |p: Put, page: &mut Vec<Put>| -> Result<(), StoreError> {
        page.push(p);
        if page.len() >= PAGE {
            write(std::mem::take(page))?;
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
    write(page)?;
    to.flush()?;
    Ok(c)
}
