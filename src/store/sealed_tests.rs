//! Secrets sealed with their URL: a row whose `baseUrl` / `apiBaseUrl` was changed does not
//! decrypt, and a value an earlier version sealed without the URL keeps working and is resealed
//! with it at the next open.

use super::sealed::{self, legacy};
use super::{ForgeCall, NewInstallation, SecretBox, Store};
use crate::config::Secret;
use crate::domain::now_ms;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const BASE: &str = "https://acme.atlassian.net";
const API: &str = "https://api.atlassian.com/ex/jira/cloud-1";

fn key() -> SecretBox {
    SecretBox::from_base64(KEY).unwrap()
}

fn install() -> NewInstallation {
    NewInstallation {
        client_key: "ck".into(),
        shared_secret: Secret::new("the-shared-secret"),
        base_url: BASE.into(),
        display_url: None,
        product_type: None,
        description: None,
    }
}

fn forge_call() -> ForgeCall {
    ForgeCall {
        installation_id: "inst".into(),
        app_id: "ari:cloud:ecosystem::app/x".into(),
        environment_type: None,
        environment_id: None,
        api_base_url: API.into(),
        cloud_id: None,
        site_url: None,
        token: Some((Secret::new("the-system-token"), now_ms() + 3_600_000)),
        installs: true,
    }
}

async fn exec(store: &Store, sql: &str, value: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(value.to_string())
        .execute(&store.writer)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_row_whose_url_was_changed_does_not_decrypt() {
    for db in super::test_db::each("a_row_whose_url_was_changed_does_not_decrypt").await {
        let store = Store::open_with_key(&db.url, Some(key())).await.unwrap();
        store.save_installation(&install()).await.unwrap();
        store.record_forge_call(&forge_call()).await.unwrap();
        let found = store.installation("ck").await.unwrap().unwrap();
        assert_eq!(found.shared_secret.unwrap().expose(), "the-shared-secret");
        let forge = store.forge_installation("inst").await.unwrap().unwrap();
        assert_eq!(forge.system_token.unwrap().expose(), "the-system-token");
        exec(
            &store,
            "UPDATE installations SET base_url = $1",
            "https://evil.example.com",
        )
        .await;
        exec(
            &store,
            "UPDATE forge_installations SET api_base_url = $1",
            "https://evil.example.com",
        )
        .await;
        let Err(error) = store.installation("ck").await else {
            panic!("a secret sealed to another baseUrl opened");
        };
        assert!(error.to_string().contains("does not decrypt"), "{error}");
        assert!(store.forge_installation("inst").await.is_err());
        store.close().await;
        // And start-up names the row instead of running with it.
        let error = Store::open_with_key(&db.url, Some(key()))
            .await
            .err()
            .unwrap();
        assert!(
            error.to_string().contains("ck for baseUrl https://evil"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn values_sealed_before_the_url_was_bound_are_resealed_at_open() {
    for db in super::test_db::each("values_sealed_before_the_url_was_bound").await {
        let store = Store::open_with_key(&db.url, Some(key())).await.unwrap();
        store.save_installation(&install()).await.unwrap();
        store.record_forge_call(&forge_call()).await.unwrap();
        // What an earlier version wrote: the same secrets sealed to the row alone.
        let old_secret = key().seal(&legacy::shared_secret_context("ck"), "the-shared-secret");
        let old_token = key().seal(&legacy::forge_token_context("inst"), "the-system-token");
        exec(
            &store,
            "UPDATE installations SET shared_secret = $1",
            &old_secret,
        )
        .await;
        exec(
            &store,
            "UPDATE forge_installations SET system_token = $1",
            &old_token,
        )
        .await;
        // Readable as they are, before any reseal.
        let found = store.installation("ck").await.unwrap().unwrap();
        assert_eq!(found.shared_secret.unwrap().expose(), "the-shared-secret");
        store.close().await;
        let store = Store::open_with_key(&db.url, Some(key())).await.unwrap();
        let (secret, token): (String, String) = sqlx::query_as(
            "SELECT shared_secret, system_token FROM installations, forge_installations",
        )
        .fetch_one(&store.reader)
        .await
        .unwrap();
        let bound = sealed::shared_secret_context("ck", BASE);
        assert_eq!(
            sealed::reveal(Some(&key()), &bound, &secret).unwrap(),
            "the-shared-secret"
        );
        let bound = sealed::forge_token_context("inst", API);
        assert_eq!(
            sealed::reveal(Some(&key()), &bound, &token).unwrap(),
            "the-system-token"
        );
        let legacy = legacy::shared_secret_context("ck");
        assert!(
            sealed::reveal(Some(&key()), &legacy, &secret).is_err(),
            "resealed"
        );
        let forge = store.forge_installation("inst").await.unwrap().unwrap();
        assert_eq!(forge.system_token.unwrap().expose(), "the-system-token");
        store.close().await;
    }
}

#[tokio::test]
async fn a_forge_call_that_moves_the_api_base_url_without_a_token_drops_the_old_one() {
    for db in super::test_db::each("a_forge_call_that_moves_the_api_base_url").await {
        let store = Store::open_with_key(&db.url, Some(key())).await.unwrap();
        store.record_forge_call(&forge_call()).await.unwrap();
        let mut moved = forge_call();
        moved.api_base_url = "https://api.stg.atlassian.com/ex/jira/cloud-1".into();
        moved.token = None;
        store.record_forge_call(&moved).await.unwrap();
        let forge = store.forge_installation("inst").await.unwrap().unwrap();
        assert!(forge.system_token.is_none());
        assert!(forge.api_base_url.starts_with("https://api.stg."));
        store.close().await;
    }
}
