//! Running a test on both backends: the test as written runs on SQLite, and
//! `also_on_postgres!(name, ...)` adds `<module>::on_postgres::<name>`, the same function with
//! every bridge it starts on a fresh PostgreSQL schema (skipped by name when
//! `SIGNUP_BRIDGE_TEST_POSTGRES_URL` is unset, failing when it is set and unreachable).
//!
//! The backend is a thread-local of the test's thread: `#[tokio::test]` runs the test body on
//! that thread (`block_on`), where the harness picks the database URL. The schemas a test's
//! bridges used are dropped when it passes and kept (named on stderr) when it fails.

use std::cell::{Cell, RefCell};
use std::path::Path;

use signup_bridge::store::Backend;

use super::postgres::{SchemaGuard, URL_VAR, test_schema};

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Sqlite) };
    static TEST: Cell<&'static str> = const { Cell::new("a bridge on PostgreSQL") };
    static SCHEMAS: RefCell<Vec<SchemaGuard>> = const { RefCell::new(Vec::new()) };
}

/// Run the `#[tokio::test]` function `test` with its bridges on PostgreSQL.
pub fn on_postgres(name: &'static str, test: fn()) {
    if std::env::var(URL_VAR).is_err() {
        super::skip::skipped(name, &format!("{URL_VAR} is unset"));
        return;
    }
    BACKEND.with(|b| b.set(Backend::Postgres));
    TEST.with(|t| t.set(name));
    // Dropped after the test: its schemas go too, unless the test panicked.
    let _schemas = TestSchemas;
    test();
}

/// The schemas handed out during one test, released (dropped or kept) with this value.
struct TestSchemas;

impl Drop for TestSchemas {
    fn drop(&mut self) {
        let guards = SCHEMAS.with(|s| std::mem::take(&mut *s.borrow_mut()));
        drop(guards);
    }
}

/// The backend of the running test.
pub fn current() -> Backend {
    BACKEND.with(Cell::get)
}

/// Where a bridge of the running test stores: `bridge.db` in `dir`, or a fresh schema.
pub async fn database_url(dir: &Path) -> String {
    match current() {
        Backend::Sqlite => format!("sqlite://{}", dir.join("bridge.db").display()),
        Backend::Postgres => {
            let schema = test_schema(TEST.with(Cell::get))
                .await
                .expect("the PostgreSQL URL is set");
            let url = schema.url();
            let guard = schema.into_guard().await;
            SCHEMAS.with(|s| s.borrow_mut().push(guard));
            url
        }
    }
}

/// `mod on_postgres` with one test per name, each the named `#[tokio::test]` on PostgreSQL.
macro_rules! also_on_postgres {
    ($($name:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[test]
                fn $name() {
                    $crate::backends::on_postgres(
                        concat!(module_path!(), "::", stringify!($name)),
                        super::$name,
                    );
                }
            )*
        }
    };
}
pub(crate) use also_on_postgres;
