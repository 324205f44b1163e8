//! The two backends behind one store: SQLite (embedded, one process) and PostgreSQL (several
//! instances on one database). Every query is written once in the SQL both accept (`$N`
//! parameters, `ON CONFLICT`, `RETURNING`); the few statements whose dialects differ are picked
//! here, per backend, so no rule is written twice.

pub use crate::config::{Backend, PoolSettings};

/// The SQL of each backend where the two dialects differ.
pub(super) trait Dialect: Copy {
    /// The statement that opens a write transaction: SQLite takes its write lock at once, so a
    /// batch never fails half-way on a busy database.
    fn begin(self) -> &'static str {
        self.pick("BEGIN IMMEDIATE", "BEGIN")
    }

    /// The statement for this backend, where the two dialects differ.
    fn pick(self, sqlite: &'static str, postgres: &'static str) -> &'static str;
}

impl Dialect for Backend {
    fn pick(self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self {
            Self::Sqlite => sqlite,
            Self::Postgres => postgres,
        }
    }
}

/// PostgreSQL aborted the statement for a conflict with another transaction (a serialization
/// failure or a deadlock victim): the same write may succeed when run again.
pub fn lost_to_another_transaction(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}
