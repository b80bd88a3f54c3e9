//! The engines a conformance test runs on: a throw-away sled store, and a PostgreSQL
//! database of the test's own (a random name, dropped afterwards) on the server at
//! `HOTLINE_TEST_PG_URL` (else the local default). `scripts/test.sh` starts a server
//! when none is reachable.

// each test binary that includes this module uses a part of it
#![allow(dead_code)]

use hotline_store::{Catalog, Store};
use std::sync::atomic::{AtomicU64, Ordering};

/// A store for one test; a PostgreSQL database of its own is dropped with it.
pub struct TestStore {
    store: Option<Store>,
    database: Option<String>,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store.as_ref().expect("the store is there until drop")
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        drop(self.store.take());
        if let Some(name) = &self.database {
            if let Err(e) = hotline_store::drop_database(&server_url(), name) {
                eprintln!("could not drop the test database {name}: {e}");
            }
        }
    }
}

/// The server tests use.
pub fn server_url() -> String {
    std::env::var("HOTLINE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new sled store.
pub fn sled() -> TestStore {
    TestStore {
        store: Some(Store::temporary(Catalog::builtin()).unwrap()),
        database: None,
    }
}

/// The engine `HOTLINE_TEST_ENGINE` names (`postgres`; anything else or nothing: sled),
/// for suites that run once per engine (the router's gRPC suite).
pub fn chosen() -> TestStore {
    if postgres_chosen() {
        postgres()
    } else {
        sled()
    }
}

/// Whether `HOTLINE_TEST_ENGINE` asks for PostgreSQL.
pub fn postgres_chosen() -> bool {
    std::env::var("HOTLINE_TEST_ENGINE").is_ok_and(|e| e == "postgres")
}

/// A name no other test, run or process uses.
pub fn unique_name(what: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "hotline_test_{what}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new PostgreSQL store in a database of its own.
pub fn postgres() -> TestStore {
    let server = server_url();
    let name = unique_name("store");
    let url = hotline_store::create_database(&server, &name).unwrap_or_else(|e| {
        panic!(
            "no PostgreSQL server for the conformance tests ({e}); run the tests with \
             scripts/test.sh, which starts one, or set HOTLINE_TEST_PG_URL"
        )
    });
    TestStore {
        store: Some(Store::postgres(&url, Catalog::builtin()).unwrap()),
        database: Some(name),
    }
}

/// Run each named test (a `fn(&dyn Fn() -> TestStore)`) on both engines: `sled::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sled {
            $( #[test] fn $name() { super::$name(&super::engines::sled) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(&super::engines::postgres) } )*
        }
    };
}

/// A database of a test's own on the test server, dropped with it.
pub struct TempDatabase {
    /// Its address.
    pub url: String,
    server: String,
    name: String,
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        if let Err(e) = hotline_store::drop_database(&self.server, &self.name) {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

/// A new, empty database on the test server.
pub fn postgres_database(what: &str) -> TempDatabase {
    let server = server_url();
    let name = unique_name(what);
    let url = hotline_store::create_database(&server, &name).unwrap_or_else(|e| {
        panic!("no PostgreSQL server for the tests ({e}); see scripts/test.sh")
    });
    TempDatabase { url, server, name }
}

/// A PostgreSQL cluster of the test's own (Debian's `postgresql` binaries, a temporary
/// directory, a free port on 127.0.0.1, trust auth), so that a test may crash and restart
/// its server without touching anyone else's. Stopped and removed when dropped.
pub struct PrivateCluster {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    port: u16,
}

impl PrivateCluster {
    /// Make and start one.
    pub fn start() -> PrivateCluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("pg_ctl").is_file())
            .max()
            .expect(
                "the server-crash test needs PostgreSQL's server binaries \
                 (Debian's postgresql package; scripts/test.sh installs it)",
            );
        let dir = std::env::temp_dir().join(unique_name("cluster"));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = PrivateCluster { bin, dir, port };
        if PrivateCluster::as_root() {
            c.run("chown", &["postgres".into(), c.dir.display().to_string()]);
        }
        c.pg(&format!(
            "initdb -D {}/data -A trust -U postgres -E UTF8",
            c.dir.display()
        ));
        c.start_again();
        c
    }

    fn as_root() -> bool {
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    }

    fn run(&self, cmd: &str, args: &[String]) {
        let out = std::process::Command::new(cmd).args(args).output().unwrap();
        assert!(out.status.success(), "{cmd} {args:?}: {out:?}");
    }

    /// A server tool (`initdb …`, `pg_ctl …`), as the `postgres` user when we are root
    /// (the server refuses to run as root).
    fn pg(&self, line: &str) {
        let full = format!("{}/{line}", self.bin.display());
        if PrivateCluster::as_root() {
            self.run(
                "su",
                &[
                    "postgres".into(),
                    "-s".into(),
                    "/bin/sh".into(),
                    "-c".into(),
                    full,
                ],
            );
        } else {
            self.run("sh", &["-c".into(), full]);
        }
    }

    /// A new database there; its address.
    pub fn database(&self, what: &str) -> String {
        let server = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        hotline_store::create_database(&server, &unique_name(what)).unwrap()
    }

    /// Stop the server at once (as a crash would): every connection is cut and new ones
    /// are refused until [`PrivateCluster::start_again`].
    pub fn stop(&self) {
        self.pg(&format!(
            "pg_ctl -D {}/data -m immediate -w stop",
            self.dir.display()
        ));
    }

    /// Start the server stopped by [`PrivateCluster::stop`]; returns once it takes
    /// connections.
    pub fn start_again(&self) {
        self.pg(&format!(
            "pg_ctl -D {d}/data -l {d}/log -w -o '-p {p} -k {d} -c listen_addresses=127.0.0.1' start",
            d = self.dir.display(),
            p = self.port
        ));
    }

    /// Crash the server (no checkpoint, no clean shutdown) and start it again: it
    /// recovers from its write-ahead log.
    pub fn crash_and_restart(&self) {
        // -l: the restarted server must not keep this process's output pipe open
        self.pg(&format!(
            "pg_ctl -D {d}/data -l {d}/log -m immediate -w restart",
            d = self.dir.display()
        ));
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let stop = format!(
            "{}/pg_ctl -D {}/data -m immediate -w stop",
            self.bin.display(),
            self.dir.display()
        );
        let _ = if PrivateCluster::as_root() {
            std::process::Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", &stop])
                .output()
        } else {
            std::process::Command::new("sh")
                .args(["-c", &stop])
                .output()
        };
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
