//! Token `jti` bindings (hardening rule: a token cannot carry a second body).
//!
//! A `jti` is bound to the idempotency key of the first signup it was used for, until the token
//! expires. The binding is written in the same transaction as the signup it creates, or on its
//! own when a token's first use is a replay; a binding already present costs a read, never a
//! write, so repeated replays stay on the read pool.

use sqlx::AnyConnection;

use super::Store;
use crate::domain::now_ms;

/// A verified token's `jti`, to be bound until `expires_at` (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JtiUse {
    pub jti: String,
    pub expires_at: i64,
}

impl Store {
    /// The idempotency key this source's `jti` is bound to, while the binding lasts.
    pub async fn jti_binding(
        &self,
        source_id: &str,
        jti: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT idempotency_key FROM token_jtis
             WHERE source_id = $1 AND jti = $2 AND expires_at >= $3",
        )
        .bind(source_id)
        .bind(jti)
        .bind(now_ms())
        .fetch_optional(&self.reader)
        .await
    }

    /// Bind `jti` to `key` unless it is bound already; the key it is bound to afterwards.
    pub async fn bind_jti(
        &self,
        source_id: &str,
        jti: &JtiUse,
        key: &str,
    ) -> Result<String, sqlx::Error> {
        let (source_id, jti, key) = (source_id.to_string(), jti.clone(), key.to_string());
        self.commits
            .write(move |conn| Box::pin(async move { bind_in(conn, &source_id, &jti, &key).await }))
            .await
    }

    /// Delete bindings whose token expired; how many.
    pub async fn purge_jtis(&self, batch: u32) -> Result<u64, sqlx::Error> {
        let n = self
            .write_alone(
                sqlx::query(
                    "DELETE FROM token_jtis WHERE (source_id, jti) IN (
                 SELECT source_id, jti FROM token_jtis WHERE expires_at < $1 LIMIT $2)",
                )
                .bind(now_ms())
                .bind(batch as i64),
            )
            .await?;
        Ok(n)
    }
}

/// Inside a write transaction: bind `jti` to `key` unless a live binding exists (an expired one
/// is replaced); the key it is bound to afterwards.
pub(super) async fn bind_in(
    conn: &mut AnyConnection,
    source_id: &str,
    jti: &JtiUse,
    key: &str,
) -> Result<String, sqlx::Error> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO token_jtis (source_id, jti, idempotency_key, expires_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (source_id, jti) DO UPDATE
             SET idempotency_key = excluded.idempotency_key, expires_at = excluded.expires_at
             WHERE token_jtis.expires_at < $5",
    )
    .bind(source_id)
    .bind(&jti.jti)
    .bind(key)
    .bind(jti.expires_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("SELECT idempotency_key FROM token_jtis WHERE source_id = $1 AND jti = $2")
        .bind(source_id)
        .bind(&jti.jti)
        .fetch_one(&mut *conn)
        .await
}
