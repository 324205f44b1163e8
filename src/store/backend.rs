//! The two backends behind one store: SQLite (embedded, one process) and PostgreSQL (several
//! instances on one database). Every query is written once in the SQL both accept (`$N`
//! parameters, `ON CONFLICT`, `RETURNING`); the few statements whose dialects differ are picked
//! here, per backend, so no rule is written twice.

use std::time::Duration;

/// Which database a store runs on, from its URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `database.url` names, if any.
    pub fn of_url(url: &str) -> Option<Self> {
        match url.split(':').next().unwrap_or_default() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    /// The statement that opens a write transaction: SQLite takes its write lock at once, so a
    /// batch never fails half-way on a busy database.
    pub(super) fn begin(self) -> &'static str {
        self.pick("BEGIN IMMEDIATE", "BEGIN")
    }

    /// The statement for this backend, where the two dialects differ.
    pub(super) fn pick(self, sqlite: &'static str, postgres: &'static str) -> &'static str {
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

/// Pool settings (`[database]`): PostgreSQL only; SQLite keeps one writer and four readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections per instance.
    pub max_connections: u32,
    /// Server-side bound on one statement; zero for none.
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            statement_timeout: Duration::from_secs(10),
        }
    }
}
