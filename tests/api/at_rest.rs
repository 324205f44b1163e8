//! The database at rest: owner-only files, and stored secrets sealed under
//! `database.encryption_key`, through the real `Store::open`.

use signup_bridge::config::Secret;
use signup_bridge::store::{NewInstallation, SecretBox, Store};

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const SHARED: &str = "connect-shared-secret-kept-private";
const LOCAL: &str = "generated-local-secret-kept-private";

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("bridge.db").display())
}

fn key() -> Option<SecretBox> {
    Some(SecretBox::from_base64(KEY).unwrap())
}

fn installation() -> NewInstallation {
    NewInstallation {
        client_key: "ck-at-rest".into(),
        shared_secret: Secret::new(SHARED),
        base_url: "https://site.atlassian.net".into(),
        display_url: None,
        product_type: Some("jira".into()),
        description: None,
    }
}

/// The raw stored columns, read past the store.
async fn raw(url: &str) -> (String, String) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let shared: String = sqlx::query_scalar("SELECT shared_secret FROM installations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let local: String = sqlx::query_scalar("SELECT value FROM local_secrets")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    (shared, local)
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_wal_and_shm_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir)).await.unwrap();
    store.local_secret("probe", || LOCAL.into()).await.unwrap();
    for name in ["bridge.db", "bridge.db-wal", "bridge.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {:o}", mode & 0o777);
    }
    store.close().await;
}

#[tokio::test]
async fn with_a_key_secrets_are_sealed_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with_key(&url(&dir), key()).await.unwrap();
    store.save_installation(&installation()).await.unwrap();
    assert_eq!(
        store
            .local_secret("sandbox", || LOCAL.into())
            .await
            .unwrap(),
        LOCAL
    );
    let (shared, local) = raw(&url(&dir)).await;
    for (stored, plain) in [(&shared, SHARED), (&local, LOCAL)] {
        assert!(stored.starts_with("enc:v1:"), "{stored}");
        assert!(!stored.contains(plain), "{stored}");
    }
    let read = store.installation("ck-at-rest").await.unwrap().unwrap();
    assert_eq!(read.shared_secret.unwrap().expose(), SHARED);
    assert_eq!(
        store
            .local_secret("sandbox", || "new".into())
            .await
            .unwrap(),
        LOCAL
    );
    store.close().await;

    // Without the key (or with another) the database does not open: never a wrong secret.
    let e = Store::open(&url(&dir))
        .await
        .err()
        .expect("no key")
        .to_string();
    assert!(e.contains("database.encryption_key is not set"), "{e}");
    let other = SecretBox::from_base64("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=").ok();
    let e = Store::open_with_key(&url(&dir), other)
        .await
        .err()
        .expect("wrong key");
    assert!(e.to_string().contains("does not decrypt"), "{e}");
}

#[tokio::test]
async fn plaintext_from_before_the_key_is_read_and_sealed_when_written() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Store::open(&url(&dir)).await.unwrap();
    plain.save_installation(&installation()).await.unwrap();
    plain
        .local_secret("sandbox", || LOCAL.into())
        .await
        .unwrap();
    plain.close().await;
    assert_eq!(
        raw(&url(&dir)).await,
        (SHARED.to_string(), LOCAL.to_string())
    );

    let store = Store::open_with_key(&url(&dir), key()).await.unwrap();
    let read = store.installation("ck-at-rest").await.unwrap().unwrap();
    assert_eq!(read.shared_secret.unwrap().expose(), SHARED);
    assert_eq!(
        store
            .local_secret("sandbox", || "new".into())
            .await
            .unwrap(),
        LOCAL
    );
    store.save_installation(&installation()).await.unwrap();
    let (shared, local) = raw(&url(&dir)).await;
    assert!(shared.starts_with("enc:v1:") && local.starts_with("enc:v1:"));
    let read = store.installation("ck-at-rest").await.unwrap().unwrap();
    assert_eq!(read.shared_secret.unwrap().expose(), SHARED);
    store.close().await;
}
