//! The record spool: call records the store could not take because it could not be
//! reached (a PostgreSQL server down or cut off). Each is appended to a file of one JSON
//! line per record and synced before the writer lets go of it, so a router stopped or
//! killed while the store is away loses none; when the store answers again the spool is
//! written to it (once per call: `Store::record_call`) and emptied. Records the store
//! refuses for their content go to its dead letters, as a live write's would.

use hotline_store::{DeadLetter, Interaction, Millis, Store, StoreError};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A record the store refused for its content, set aside as a dead letter
/// (`hotline store check` reports it); `line` is the record as the spool keeps it.
pub(crate) fn dead_letter(at: Millis, error: String, line: String) -> DeadLetter {
    DeadLetter {
        at,
        kind: "interaction".into(),
        error,
        record: line,
    }
}

/// Why the spool could not take or give back a record.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The file could not be read or written.
    #[error("the record spool {path}: {source}")]
    File {
        /// The spool file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Records waiting for the store.
pub struct RecordSpool {
    /// `None`: held in memory only (lost if the router stops before the store is back).
    file: Option<PathBuf>,
    /// The records' lines when there is no file; the lock writers and the replay share.
    held: Mutex<Vec<String>>,
    waiting: AtomicUsize,
}

/// What a replay did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Written to the store (or found there already).
    pub written: usize,
    /// Refused for their content: set aside as dead letters.
    pub set_aside: usize,
    /// Still waiting (the store went away again).
    pub waiting: usize,
}

impl RecordSpool {
    /// A spool in `file` (made when the first record comes), or in memory when `None`.
    /// Records a previous run left there count as waiting; a last line cut short by a
    /// crash mid-append (never acknowledged) is cut off, so the next append starts a
    /// line of its own.
    pub fn open(file: Option<PathBuf>) -> Result<RecordSpool, SpoolError> {
        let waiting = match &file {
            Some(path) => {
                let lines = read_lines(path)?;
                cut_torn_tail(path)?;
                lines.len()
            }
            None => 0,
        };
        Ok(RecordSpool {
            file,
            held: Mutex::new(Vec::new()),
            waiting: AtomicUsize::new(waiting),
        })
    }

    /// Records waiting for the store.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Keep `record` until the store is back; returns once it is on disk.
    pub fn push(&self, record: &Interaction) -> Result<(), SpoolError> {
        let mut held = self.lock();
        let line = record.to_json_line();
        match &self.file {
            Some(path) => append(path, line)?,
            None => held.push(line),
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Write what waits to `store`, in the order it came; stops at the first record the
    /// store cannot be reached for, keeping it and the rest.
    pub fn replay(&self, store: &Store, now: Millis) -> Result<Replayed, SpoolError> {
        let mut held = self.lock();
        let lines: Vec<String> = match &self.file {
            Some(path) => read_lines(path)?,
            None => held.clone(),
        };
        let mut done = Replayed::default();
        let mut rest = lines.len();
        for (n, line) in lines.iter().enumerate() {
            let written = match Interaction::from_json_line(line) {
                Ok(record) => store.record_call(record).map(|_| ()),
                Err(e) => Err(StoreError::Invalid {
                    field: "spooled record",
                    why: e.to_string(),
                }),
            };
            match written {
                Ok(()) => done.written += 1,
                Err(StoreError::Unavailable(_)) => {
                    rest = n;
                    break;
                }
                Err(e) => {
                    let letter = dead_letter(now, e.to_string(), line.clone());
                    if store.put_dead_letter(letter).is_err() {
                        rest = n;
                        break;
                    }
                    done.set_aside += 1;
                }
            }
            rest = n + 1;
        }
        let left = &lines[rest..];
        match &self.file {
            Some(path) => rewrite(path, left)?,
            None => {
                held.drain(..rest);
            }
        }
        done.waiting = left.len();
        self.waiting.store(left.len(), Ordering::Relaxed);
        Ok(done)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::File {
        path: path.to_path_buf(),
        source,
    }
}

fn append(path: &Path, mut line: String) -> Result<(), SpoolError> {
    line.push('\n');
    let new = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(file_error(path))?;
    f.write_all(line.as_bytes()).map_err(file_error(path))?;
    f.sync_data().map_err(file_error(path))?;
    if new {
        sync_dir(path)?;
    }
    Ok(())
}

/// The spool's lines; a missing file is an empty spool. A last line cut short by a crash
/// mid-append (no newline) was never acknowledged and is dropped.
fn read_lines(path: &Path) -> Result<Vec<String>, SpoolError> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(file_error(path)(e)),
    };
    let mut lines = Vec::new();
    let mut reader = std::io::BufReader::new(f);
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).map_err(file_error(path))?;
        if n == 0 || !line.ends_with('\n') {
            return Ok(lines);
        }
        let line = line.trim_end();
        if !line.is_empty() {
            lines.push(line.to_string());
        }
    }
}

/// Cut a last line without its newline (a crash in the middle of an append) off the
/// file.
fn cut_torn_tail(path: &Path) -> Result<(), SpoolError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(file_error(path)(e)),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |k| k + 1);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(file_error(path))?;
    f.set_len(keep as u64).map_err(file_error(path))?;
    f.sync_data().map_err(file_error(path))
}

/// Replace the spool by `lines` (removed when none): a new file renamed over the old.
fn rewrite(path: &Path, lines: &[String]) -> Result<(), SpoolError> {
    if lines.is_empty() {
        return match std::fs::remove_file(path) {
            Ok(()) => sync_dir(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(file_error(path)(e)),
        };
    }
    let tmp = path.with_extension("rewrite");
    let mut f = std::fs::File::create(&tmp).map_err(file_error(&tmp))?;
    for l in lines {
        writeln!(f, "{l}").map_err(file_error(&tmp))?;
    }
    f.sync_data().map_err(file_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(file_error(path))?;
    sync_dir(path)
}

fn sync_dir(path: &Path) -> Result<(), SpoolError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(file_error(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_store::{Catalog, seed};

    /// An IVR-only call.
    fn record(call_id: u64) -> Interaction {
        let at = seed::DEFAULT_NOW + call_id * 1000;
        Interaction {
            id: 0,
            call_id,
            customer: None,
            caller_number: "18912345678".into(),
            dialled: "1000".into(),
            arrived: at,
            ivr_ended: Some(at + 30_000),
            queued: None,
            offered: None,
            answered: None,
            ended: at + 30_000,
            ivr_path: vec!["1".into()],
            self_service: None,
            queue: None,
            agents: vec![],
            transfers: 0,
            wait_s: 0,
            talk_s: 0,
            hold_s: 0,
            wrap_up_s: 0,
            end: hotline_store::CallEnd::Completed,
            disposition: None,
            reason: None,
            notes: String::new(),
            tickets: vec![],
            fcr_claimed: false,
            fcr_verified: None,
            satisfaction: None,
            legs: vec![],
        }
    }

    fn spool_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hotline-spool-{name}-{}-{}",
            std::process::id(),
            seed::DEFAULT_NOW
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("records.jsonl")
    }

    #[test]
    fn spooled_records_survive_a_restart_and_are_written_once() {
        let path = spool_file("restart");
        let spool = RecordSpool::open(Some(path.clone())).unwrap();
        spool.push(&record(7)).unwrap();
        let mut eight = record(8);
        eight.agents = vec!["1001".into()];
        eight.legs = vec![hotline_store::CallLeg {
            agent: "1001".into(),
            queue: "fault".into(),
            offered: eight.arrived + 5_000,
            answered: Some(eight.arrived + 7_000),
            ended: Some(eight.arrived + 20_000),
            outcome: hotline_store::LegOutcome::Handled,
        }];
        spool.push(&eight).unwrap();
        // a crash in the middle of a third append leaves half a line
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":0,\"ca")
            .unwrap();
        drop(spool);

        let spool = RecordSpool::open(Some(path.clone())).unwrap();
        assert_eq!(spool.waiting(), 2);
        // the next record after the restart is a line of its own, not glued to the torn one
        spool.push(&record(9)).unwrap();
        assert_eq!(spool.waiting(), 3);
        let store = Store::temporary(Catalog::builtin()).unwrap();
        // call 7 was written before the router lost its answer
        store.record_call(record(7)).unwrap();
        let done = spool.replay(&store, seed::DEFAULT_NOW).unwrap();
        assert_eq!(
            done,
            Replayed {
                written: 3,
                set_aside: 0,
                waiting: 0
            }
        );
        assert_eq!(spool.waiting(), 0);
        assert!(!path.exists());
        let stored = store.interactions_between(0, u64::MAX, 10).unwrap();
        let mut calls: Vec<u64> = stored.iter().map(|i| i.call_id).collect();
        calls.sort();
        assert_eq!(calls, [7, 8, 9]);
        let eight = store.interaction_by_call(8).unwrap().unwrap();
        assert_eq!(eight.legs.len(), 1, "the legs are spooled with the record");
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[test]
    fn a_record_the_store_refuses_becomes_a_dead_letter() {
        let spool = RecordSpool::open(None).unwrap();
        let mut bad = record(9);
        bad.customer = Some(424_242); // no such customer
        spool.push(&bad).unwrap();
        spool.push(&record(10)).unwrap();
        let store = Store::temporary(Catalog::builtin()).unwrap();
        let done = spool.replay(&store, seed::DEFAULT_NOW).unwrap();
        assert_eq!((done.written, done.set_aside, done.waiting), (1, 1, 0));
        let letters = store.dead_letters(10).unwrap();
        assert_eq!(letters.len(), 1);
        assert!(letters[0].record.contains("424242"), "{:?}", letters[0]);
    }
}
