//! The engines a conformance test runs on: a throw-away sled store, and a PostgreSQL
//! database of the test's own (a random name, dropped afterwards) on the server at
//! `HOTLINE_TEST_PG_URL` (else the local default). `scripts/test.sh` starts a server
//! when none is reachable.

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
