//! Single-use tokens: a token is recorded when first used, and a second use before it expires
//! is refused. An expired row no longer counts (its token would fail verification anyway) and
//! the purge loop deletes it.

use super::Store;
use crate::domain::now_ms;

/// One token use: its family, a digest that names it, and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    /// `connect_install`, …: each kind has its own key space.
    pub kind: &'static str,
    /// A hex digest (never the token itself).
    pub key: String,
    /// Unix ms after which the token is no longer accepted anyway.
    pub expires_at: i64,
}

impl Store {
    /// Record a token's first use: false when it was used before and has not expired.
    pub async fn use_token_once(&self, token: &TokenUse) -> Result<bool, sqlx::Error> {
        let n = self
            .write_alone(
                sqlx::query(
                    "INSERT INTO used_tokens (kind, token_key, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (kind, token_key) DO UPDATE SET expires_at = excluded.expires_at
             WHERE used_tokens.expires_at < $4",
                )
                .bind(token.kind)
                .bind(&token.key)
                .bind(token.expires_at)
                .bind(now_ms()),
            )
            .await?;
        Ok(n == 1)
    }

    /// Delete the used tokens that expired before `now`; how many. Installs are rare, so
    /// one statement suffices.
    pub async fn purge_used_tokens(&self, now: i64) -> Result<u64, sqlx::Error> {
        let n = self
            .write_alone(sqlx::query("DELETE FROM used_tokens WHERE expires_at < $1").bind(now))
            .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_is_used_once_until_it_expires() {
        for db in crate::store::test_db::each("a_token_is_used_once_until_it_expires").await {
            let store = Store::open(&db.url).await.unwrap();
            let now = now_ms();
            let token = |key: &str, expires_at| TokenUse {
                kind: "connect_install",
                key: key.into(),
                expires_at,
            };
            assert!(
                store
                    .use_token_once(&token("a", now + 60_000))
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .use_token_once(&token("a", now + 60_000))
                    .await
                    .unwrap()
            );
            let other_kind = TokenUse {
                kind: "forge_invocation",
                ..token("a", now + 60_000)
            };
            assert!(store.use_token_once(&other_kind).await.unwrap());
            // An expired row no longer blocks, and the purge removes only expired rows.
            assert!(store.use_token_once(&token("b", now - 1)).await.unwrap());
            assert!(
                store
                    .use_token_once(&token("b", now + 60_000))
                    .await
                    .unwrap()
            );
            assert!(store.use_token_once(&token("c", now - 1)).await.unwrap());
            assert_eq!(store.purge_used_tokens(now).await.unwrap(), 1);
            assert!(
                !store
                    .use_token_once(&token("a", now + 60_000))
                    .await
                    .unwrap()
            );
            store.close().await;
        }
    }
}
