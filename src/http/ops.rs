//! Operations endpoints: liveness, readiness and metrics.

use std::str::FromStr;

use actix_web::{HttpResponse, web};
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;

use super::AppState;
use crate::error::ApiError;
use crate::store::Backend;

/// How long `readyz` waits for the database.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers (a query on the pool), and a SQLite file is still where it was opened
/// and writable.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Bounded: a database that cannot be reached answers 503 within a health check's timeout,
    // not after the pool's wait for a connection.
    let answers = tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await;
    let problem = if answers.unwrap_or(false) {
        match state.store.backend() {
            Backend::Sqlite => database_file_problem(&state.config.database.url),
            Backend::Postgres => None,
        }
    } else {
        Some("the database does not answer")
    };
    match problem {
        None => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Some(reason) => {
            // Open connections keep working on a deleted or read-only file for a while, so
            // the file itself is checked: the log line is what an operator searches for.
            tracing::warn!(reason, "not ready: {reason}");
            Err(ApiError::NotReady(reason.into()))
        }
    }
}

/// Why the database file at `url` cannot keep the service's writes, if it cannot: deleted
/// (writes would go to an unlinked file and vanish at the next restart) or without any write
/// permission bit. An in-memory database has no file to check.
fn database_file_problem(url: &str) -> Option<&'static str> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().readonly() => Some("the database file is read-only"),
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some("the database file is missing (deleted under the running service)")
        }
        Err(_) => Some("the database file cannot be inspected"),
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Ok(pending) = state.store.pending_count().await {
        crate::metrics::pending(pending);
    }
    crate::metrics::admission(
        state.admission.intake_in_flight(),
        state.admission.inline_waiters(),
    );
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_file_must_exist_and_be_writable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.db");
        let url = format!("sqlite://{}", path.display());
        let missing = Some("the database file is missing (deleted under the running service)");
        assert_eq!(database_file_problem(&url), missing);
        std::fs::write(&path, b"").unwrap();
        assert_eq!(database_file_problem(&url), None);
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&path, permissions).unwrap();
        assert_eq!(
            database_file_problem(&url),
            Some("the database file is read-only")
        );
        assert_eq!(database_file_problem("sqlite::memory:"), None);
    }
}
