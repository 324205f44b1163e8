//! Console sessions and one-time login links (docs/CONSOLE.md). Only hashes of the ids and
//! tokens the browser holds are stored, so a copy of the database signs nobody in.

use sqlx::Row;

use super::Store;

/// A stored console session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The admin token's label or the proxy's user.
    pub who: String,
    /// `token`, `proxy` or `link`.
    pub via: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The absolute end (Unix ms).
    pub expires_at: i64,
}

impl Store {
    /// Record a new session under the hash of its id.
    pub async fn create_console_session(
        &self,
        id_hash: &str,
        who: &str,
        via: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        self.write_alone(
            sqlx::query(
                "INSERT INTO console_sessions (id_hash, who, via, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(id_hash)
            .bind(who)
            .bind(via)
            .bind(now)
            .bind(expires_at),
        )
        .await?;
        Ok(())
    }

    /// The session with this id hash, whatever its age (the console decides what has expired).
    pub async fn console_session(
        &self,
        id_hash: &str,
    ) -> Result<Option<ConsoleSession>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT who, via, created_at, last_seen_at, expires_at FROM console_sessions
             WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| {
            Ok(ConsoleSession {
                who: r.try_get("who")?,
                via: r.try_get("via")?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Mark the session used at `now` (the idle timeout counts from here).
    pub async fn touch_console_session(&self, id_hash: &str, now: i64) -> Result<(), sqlx::Error> {
        self.write_alone(
            sqlx::query("UPDATE console_sessions SET last_seen_at = $2 WHERE id_hash = $1")
                .bind(id_hash)
                .bind(now),
        )
        .await?;
        Ok(())
    }

    /// End a session; true if it existed.
    pub async fn end_console_session(&self, id_hash: &str) -> Result<bool, sqlx::Error> {
        let n = self
            .write_alone(
                sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1").bind(id_hash),
            )
            .await?;
        Ok(n == 1)
    }

    /// Record a one-time login link for `who`, valid until `expires_at`.
    pub async fn save_login_link(
        &self,
        token_hash: &str,
        who: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        self.write_alone(
            sqlx::query(
                "INSERT INTO console_login_links (token_hash, who, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(token_hash)
            .bind(who)
            .bind(expires_at),
        )
        .await?;
        Ok(())
    }

    /// Spend a login link: the `who` it signs in, once; None when unknown, spent or expired.
    pub async fn spend_login_link(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let who: Option<String> = sqlx::query_scalar(
            "DELETE FROM console_login_links WHERE token_hash = $1 AND expires_at > $2 RETURNING who",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(who)
    }

    /// Delete sessions and login links that ended before `now` (`idle_before`: sessions unused
    /// since then); returns how many rows went.
    pub async fn purge_console_sessions(
        &self,
        now: i64,
        idle_before: i64,
    ) -> Result<u64, sqlx::Error> {
        let sessions = self
            .write_alone(
                sqlx::query(
                    "DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at < $2",
                )
                .bind(now)
                .bind(idle_before),
            )
            .await?;
        let links = self
            .write_alone(
                sqlx::query("DELETE FROM console_login_links WHERE expires_at <= $1").bind(now),
            )
            .await?;
        Ok(sessions + links)
    }
}
