//! Installations in use: signups routed through them, Connect JWTs the simulator verifies,
//! re-install secret rotation, disable/enable, and concurrent disabled + uninstalled.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::Value;
use signup_bridge::sim::{Fault, FaultAction};

use super::*;
use crate::helpers::{CUSTOMER_PATH, id_of, jsm_requests};

/// SHA-256 of `POST&/rest/servicedeskapi/customer&requestLanguage=en-US&strictConflictStatusCode=true`
/// (the query sorted, as the Connect qsh wants): `requestLanguage` is inside the signed URL.
const CREATE_QSH: &str = "112900700582318cfb0a21c85fb701a620bef4e7ceea33b7de9195dd48a38b74";

/// The claims of the JWT the bridge sent, verified with `secret`.
fn jwt_claims(authorization: &str, secret: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let token = authorization.strip_prefix("JWT ").expect("a Connect JWT");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["iss", "exp", "iat"]);
    decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map(|d| d.claims)
}

async fn end_to_end(context_path: &str, by_base_url: bool) {
    let tenant = |base: &str| match by_base_url {
        true => format!("{base}/"),
        false => CLIENT_KEY.to_string(),
    };
    let app = spawn_connect_app(context_path, tenant, |_| {}).await;
    // Before the install, the source's tenant names nothing yet.
    let early = shop_signup(&app, "early@example.com").await;
    assert_eq!(early.status(), 503);
    let problem: Value = early.json().await.unwrap();
    assert_eq!(problem["code"], "tenant_unavailable");

    let report = lifecycle(&app, "installed", CLIENT_KEY, Some("secret-one")).await;
    assert_eq!(report.status, 204);
    assert_eq!(report.base_url, app.sim.base_url);
    let response = shop_signup(&app, "fred@example.com").await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["tenant"], CLIENT_KEY);
    assert_eq!(body["customer"]["emailAddress"], "fred@example.com");
    let creates = jsm_requests(&app.sim, "POST", CUSTOMER_PATH);
    assert_eq!(creates.len(), 1);
    assert!(
        creates[0]
            .path
            .starts_with(&format!("{context_path}/rest/"))
    );
    assert_eq!(creates[0].status, Some(201));
    let claims = jwt_claims(creates[0].authorization.as_deref().unwrap(), "secret-one").unwrap();
    assert_eq!(claims["iss"], app.config.connect.app_key);
    assert_eq!(claims["qsh"], CREATE_QSH);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        180
    );
    app.stop().await;
}

#[tokio::test]
async fn install_then_signup_reaches_jsm_with_a_verified_connect_jwt() {
    end_to_end("", false).await;
}

#[tokio::test]
async fn install_then_signup_under_a_jira_context_path_by_base_url() {
    end_to_end("/jira", true).await;
}

#[tokio::test]
async fn a_reinstall_new_secret_signs_the_next_calls() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    assert_eq!(
        lifecycle(&app, "installed", CLIENT_KEY, Some("old-secret"))
            .await
            .status,
        204
    );
    assert_eq!(shop_signup(&app, "one@example.com").await.status(), 201);
    let new_secret = "n".repeat(600); // longer than 512 bytes
    assert_eq!(
        lifecycle(&app, "installed", CLIENT_KEY, Some(&new_secret))
            .await
            .status,
        204
    );
    // The simulator now trusts only the new secret: a 201 proves the bridge used it.
    assert_eq!(shop_signup(&app, "two@example.com").await.status(), 201);
    let creates = jsm_requests(&app.sim, "POST", CUSTOMER_PATH);
    assert_eq!(creates.len(), 2);
    let second = creates[1].authorization.as_deref().unwrap();
    assert!(jwt_claims(second, &new_secret).is_ok());
    assert!(jwt_claims(second, "old-secret").is_err());
    let listed = installations(&app).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, "installed");
    assert!(!format!("{listed:?}").contains(&new_secret));
    app.stop().await;
}

#[tokio::test]
async fn disabled_and_uninstalled_together_end_uninstalled() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    for round in 0..24 {
        let client_key = format!("race-{round:02}");
        assert_eq!(
            lifecycle(&app, "installed", &client_key, None).await.status,
            204
        );
        let disabled = lifecycle(&app, "disabled", &client_key, None);
        let uninstalled = lifecycle(&app, "uninstalled", &client_key, None);
        let pause = std::time::Duration::from_millis((round % 4) as u64);
        let (d, u) = if round % 2 == 0 {
            tokio::join!(disabled, async {
                tokio::time::sleep(pause).await;
                uninstalled.await
            })
        } else {
            let (u, d) = tokio::join!(uninstalled, async {
                tokio::time::sleep(pause).await;
                disabled.await
            });
            (d, u)
        };
        assert_eq!(u.status, 204, "round {round}");
        // A disabled that lost the race finds no secret: 401, and it changes nothing.
        assert!(matches!(d.status, 204 | 401), "round {round}: {}", d.status);
        assert_eq!(
            state_of(&app, &client_key).await.as_deref(),
            Some("uninstalled"),
            "round {round}"
        );
        // Late enabled/disabled after the uninstall change nothing either.
        for event in ["enabled", "disabled"] {
            assert_eq!(lifecycle(&app, event, &client_key, None).await.status, 401);
        }
        assert_eq!(
            state_of(&app, &client_key).await.as_deref(),
            Some("uninstalled")
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_disabled_installation_refuses_new_signups_and_holds_pending_ones() {
    let app = spawn_connect_app(
        "",
        |_| CLIENT_KEY.into(),
        |c| {
            c.delivery.inline_wait = std::time::Duration::from_millis(200);
        },
    )
    .await;
    assert_eq!(
        lifecycle(&app, "installed", CLIENT_KEY, Some("s"))
            .await
            .status,
        204
    );
    app.sim.state().push_fault(Fault {
        times: None,
        path_contains: Some("/customer".into()),
        method: None,
        action: FaultAction::Status {
            status: 500,
            retry_after: None,
            process_first: false,
        },
    });
    let pending = shop_signup(&app, "waiting@example.com").await;
    assert_eq!(pending.status(), 202);
    let id = id_of(pending).await;

    assert_eq!(
        lifecycle(&app, "disabled", CLIENT_KEY, None).await.status,
        204
    );
    assert_eq!(
        state_of(&app, CLIENT_KEY).await.as_deref(),
        Some("disabled")
    );
    app.sim.state().clear_faults();
    let refused = shop_signup(&app, "new@example.com").await;
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "tenant_unavailable"
    );
    // A replay of the signup stored before is still answered with its state, not 503.
    let replayed = shop_signup(&app, "waiting@example.com").await;
    assert_eq!(replayed.status(), 202);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    // A run that was already past its auth may still land; after that, nothing is sent.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let before = jsm_requests(&app.sim, "POST", CUSTOMER_PATH).len();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(jsm_requests(&app.sim, "POST", CUSTOMER_PATH).len(), before);
    let status = |app: &TestApp, id: String| {
        let client = app.client.clone();
        let url = format!("{}/signups/{id}", app.address);
        async move {
            let token = crate::helpers::token_for(SHOP, SHOP_SECRET);
            let body: Value = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["status"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(status(&app, id.clone()).await, "pending");

    assert_eq!(
        lifecycle(&app, "enabled", CLIENT_KEY, None).await.status,
        204
    );
    let mut last = String::new();
    for _ in 0..100 {
        last = status(&app, id.clone()).await;
        if last != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(last, "created");
    assert_eq!(
        state_of(&app, CLIENT_KEY).await.as_deref(),
        Some("installed")
    );
    app.stop().await;
}

crate::backends::also_on_postgres!(
    install_then_signup_reaches_jsm_with_a_verified_connect_jwt,
    install_then_signup_under_a_jira_context_path_by_base_url,
    a_reinstall_new_secret_signs_the_next_calls,
    disabled_and_uninstalled_together_end_uninstalled,
    a_disabled_installation_refuses_new_signups_and_holds_pending_ones
);
