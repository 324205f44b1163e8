//! The rules of Forge installation writes: which token wins, what an uninstall erases, and the
//! token sealed at rest.

use super::{ForgeCall, ForgeState, SecretBox, Store};
use crate::config::Secret;
use crate::domain::now_ms;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn call(token: Option<(&str, i64)>, installs: bool) -> ForgeCall {
    ForgeCall {
        installation_id: "inst-1".into(),
        app_id: "ari:cloud:ecosystem::app/x".into(),
        environment_type: Some("PRODUCTION".into()),
        environment_id: None,
        api_base_url: "https://api.atlassian.com/ex/jira/cloud-1/".into(),
        cloud_id: Some("cloud-1".into()),
        site_url: Some("https://acme.atlassian.net/".into()),
        token: token.map(|(t, exp)| (Secret::new(t), exp)),
        installs,
    }
}

async fn token_of(store: &Store) -> Option<String> {
    let found = store.forge_installation("inst-1").await.unwrap().unwrap();
    found.system_token.map(|t| t.expose().to_string())
}

#[tokio::test]
async fn a_token_replaces_an_older_one_only() {
    for db in super::test_db::each("a_token_replaces_an_older_one_only").await {
        let store = Store::open(&db.url).await.unwrap();
        let now = now_ms();
        store
            .record_forge_call(&call(Some(("t-2h", now + 7_200_000)), true))
            .await
            .unwrap();
        store
            .record_forge_call(&call(Some(("t-1h", now + 3_600_000)), false))
            .await
            .unwrap();
        assert_eq!(
            token_of(&store).await.as_deref(),
            Some("t-2h"),
            "an older token does not win"
        );
        store.record_forge_call(&call(None, false)).await.unwrap();
        assert_eq!(
            token_of(&store).await.as_deref(),
            Some("t-2h"),
            "a call without a token keeps it"
        );
        store
            .record_forge_call(&call(Some(("t-4h", now + 14_400_000)), false))
            .await
            .unwrap();
        assert_eq!(token_of(&store).await.as_deref(), Some("t-4h"));

        assert!(
            !store.drop_forge_token("inst-1", "t-2h").await.unwrap(),
            "not the stored one"
        );
        assert!(store.drop_forge_token("inst-1", "t-4h").await.unwrap());
        assert_eq!(token_of(&store).await, None);

        store
            .record_forge_call(&call(Some(("t-a", now + 3_600_000)), false))
            .await
            .unwrap();
        assert!(store.uninstall_forge("inst-1").await.unwrap());
        let gone = store.forge_installation("inst-1").await.unwrap().unwrap();
        assert_eq!(
            (gone.state, gone.system_token.is_none()),
            (ForgeState::Uninstalled, true)
        );
        store
            .record_forge_call(&call(Some(("t-b", now + 9_000_000)), false))
            .await
            .unwrap();
        assert_eq!(
            token_of(&store).await,
            None,
            "a trigger after the uninstall brings nothing back"
        );
        store
            .record_forge_call(&call(Some(("t-c", now + 9_000_000)), true))
            .await
            .unwrap();
        let back = store.forge_installation("inst-1").await.unwrap().unwrap();
        assert_eq!(back.state, ForgeState::Installed, "a new install");
        assert_eq!(token_of(&store).await.as_deref(), Some("t-c"));
        for reference in [
            "inst-1",
            "cloud-1",
            "https://acme.atlassian.net",
            "https://acme.atlassian.net/",
        ] {
            let found = store
                .forge_installation_by_reference(reference)
                .await
                .unwrap();
            assert_eq!(
                found.map(|f| f.installation_id).as_deref(),
                Some("inst-1"),
                "{reference}"
            );
        }
        assert!(
            store
                .forge_installation_by_reference("cloud-2")
                .await
                .unwrap()
                .is_none()
        );
        store.close().await;
    }
}

#[tokio::test]
async fn the_system_token_is_sealed_at_rest() {
    for db in super::test_db::each("the_system_token_is_sealed_at_rest").await {
        let url = db.url.clone();
        let key = SecretBox::from_base64(KEY).unwrap();
        let store = Store::open_with_key(&url, Some(key)).await.unwrap();
        let exp = now_ms() + 3_600_000;
        store
            .record_forge_call(&call(Some(("the-system-token", exp)), true))
            .await
            .unwrap();
        let raw: String = sqlx::query_scalar("SELECT system_token FROM forge_installations")
            .fetch_one(&store.reader)
            .await
            .unwrap();
        assert!(
            raw.starts_with("enc:v1:") && !raw.contains("the-system-token"),
            "{raw}"
        );
        assert_eq!(token_of(&store).await.as_deref(), Some("the-system-token"));
        assert!(
            store
                .drop_forge_token("inst-1", "the-system-token")
                .await
                .unwrap()
        );
        store
            .record_forge_call(&call(Some(("the-system-token", exp)), false))
            .await
            .unwrap();
        store.close().await;
        let error = Store::open(&url)
            .await
            .err()
            .expect("a sealed token needs the key");
        assert!(
            error
                .to_string()
                .contains("forge_installations.system_token"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn app_tenants_are_the_installed_forge_and_connect_installations() {
    for db in
        super::test_db::each("app_tenants_are_the_installed_forge_and_connect_installations").await
    {
        let store = Store::open(&db.url).await.unwrap();
        store.record_forge_call(&call(None, true)).await.unwrap();
        let mut gone = call(None, true);
        gone.installation_id = "inst-gone".into();
        store.record_forge_call(&gone).await.unwrap();
        store.uninstall_forge("inst-gone").await.unwrap();
        for key in ["client-a", "client-b"] {
            store
                .save_installation(&super::NewInstallation {
                    client_key: key.into(),
                    shared_secret: Secret::new("s"),
                    base_url: "https://a.atlassian.net".into(),
                    display_url: None,
                    product_type: None,
                    description: None,
                })
                .await
                .unwrap();
        }
        store
            .set_installation_enabled("client-b", false)
            .await
            .unwrap();
        let mut tenants = store.app_tenants().await.unwrap();
        tenants.sort();
        assert_eq!(tenants, ["client-a", "inst-1"]);
        store.close().await;
    }
}
