//! A stored Connect `baseUrl` or Forge `apiBaseUrl` is checked against the allowed hosts each
//! time the worker resolves where to call, not only when the install or FIT brought it.

use super::TenantDirectory;
use crate::config::{Config, Secret};
use crate::domain::now_ms;
use crate::store::{ForgeCall, NewInstallation, Store};

async fn store_with_installations(dir: &std::path::Path) -> Store {
    let store = Store::open(&format!("sqlite://{}", dir.join("b.db").display()))
        .await
        .unwrap();
    let connect = NewInstallation {
        client_key: "ck".into(),
        shared_secret: Secret::new("the-shared-secret"),
        base_url: "https://acme.atlassian.net".into(),
        display_url: None,
        product_type: None,
        description: None,
    };
    store.save_installation(&connect).await.unwrap();
    let forge = ForgeCall {
        installation_id: "inst".into(),
        app_id: "ari:cloud:ecosystem::app/x".into(),
        environment_type: None,
        environment_id: None,
        api_base_url: "https://api.atlassian.com/ex/jira/cloud-1".into(),
        cloud_id: None,
        site_url: None,
        token: Some((Secret::new("the-system-token"), now_ms() + 3_600_000)),
        installs: true,
    };
    store.record_forge_call(&forge).await.unwrap();
    store
}

#[tokio::test]
async fn stored_urls_off_the_allowed_hosts_are_not_called() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_installations(dir.path()).await;
    let allowed = TenantDirectory::from_config(&Config::default(), store.clone()).unwrap();
    assert!(allowed.target("ck").await.is_some());
    assert!(allowed.target("inst").await.is_some());
    // The same rows, after the allowed lists changed: no call goes out.
    let mut narrowed = Config::default();
    narrowed.connect.allowed_base_hosts = vec!["jira.example.com".into()];
    narrowed.forge.api_hosts = vec!["api.stg.atlassian.com".into()];
    let narrowed = TenantDirectory::from_config(&narrowed, store.clone()).unwrap();
    assert!(narrowed.target("ck").await.is_none());
    assert!(narrowed.target("inst").await.is_none());
    store.close().await;
}

#[tokio::test]
async fn a_stored_url_changed_after_the_target_was_resolved_gets_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_installations(dir.path()).await;
    let directory = TenantDirectory::from_config(&Config::default(), store.clone()).unwrap();
    let connect = directory.target("ck").await.unwrap();
    let forge = directory.target("inst").await.unwrap();
    for target in [&connect, &forge] {
        let url = target
            .base_url
            .join("rest/servicedeskapi/customer")
            .unwrap();
        let header = target
            .auth
            .authorization(&reqwest::Method::POST, &target.base_url, &url);
        assert!(header.await.is_ok(), "{}", target.tenant);
    }
    // Without an at-rest key nothing binds the secret to its URL: the check before each call does.
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    for sql in [
        "UPDATE installations SET base_url = 'https://acme.atlassian.net.evil.example'",
        "UPDATE forge_installations SET api_base_url = 'https://api.evil.example/ex/jira/c'",
    ] {
        sqlx::query(sql).execute(&raw).await.unwrap();
    }
    for target in [&connect, &forge] {
        let url = target
            .base_url
            .join("rest/servicedeskapi/customer")
            .unwrap();
        let header = target
            .auth
            .authorization(&reqwest::Method::POST, &target.base_url, &url);
        assert!(header.await.is_err(), "{}", target.tenant);
    }
    raw.close().await;
    store.close().await;
}
