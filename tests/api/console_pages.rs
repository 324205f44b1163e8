//! The console's pages and actions over HTTP: overview, list filters and search, keyset
//! pagination, a signup with Retry and Reveal, bulk retry, installations, sources, audit, and
//! the refusals of a POST without CSRF token or from another origin.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use signup_bridge::config::{AdminToken, Secret};
use signup_bridge::store::NewInstallation;

use crate::console_helpers::{ALICE, Console, console_app, failed_signup, set_cookie};
use crate::helpers::{id_of, signup_body, token_for};

#[tokio::test]
async fn overview_and_list_show_signups_with_masked_emails() {
    let app = console_app(|_| {}).await;
    let id = id_of(
        app.post_json(&signup_body("Fred@Example.com", "Fred"))
            .await,
    )
    .await;
    let failed = failed_signup(&app, "wilma@example.com").await;
    let console = Console::signed_in(&app, ALICE).await;
    let overview = console.page("/console/").await;
    assert!(overview.contains("<svg"), "{overview}");
    assert!(overview.contains("Last 24 hours: 1 created, 0 existing, 1 failed."));
    assert!(overview.contains(">acme</a>"), "the tenant is listed");
    let list = console.page("/console/signups").await;
    assert!(list.contains(&id) && list.contains(&failed));
    assert!(list.contains("F***@Example.com") && !list.contains("Fred@Example.com"));
    let only_failed = console.page("/console/signups?status=failed").await;
    assert!(only_failed.contains(&failed) && !only_failed.contains(&id));
    let by_source = console
        .page("/console/signups?source=website&tenant=acme")
        .await;
    assert!(by_source.contains(&id) && by_source.contains(&failed));
    let other_source = console.page("/console/signups?source=nobody").await;
    assert!(other_source.contains("No signup matches."));
    let other_tenant = console.page("/console/signups?tenant=nobody").await;
    assert!(other_tenant.contains("No signup matches."));
    let future = console
        .page("/console/signups?since=2999-01-01T00:00")
        .await;
    assert!(future.contains("No signup matches."));
    // Exact email search, any case; a prefix finds nothing.
    let found = console
        .page("/console/signups?email=fred%40EXAMPLE.com")
        .await;
    assert!(found.contains(&id) && !found.contains(&failed));
    let prefix = console.page("/console/signups?email=fre").await;
    assert!(prefix.contains("No signup matches."));
    app.stop().await;
}

#[tokio::test]
async fn the_list_pages_by_keyset_fifty_at_a_time() {
    let app = console_app(|_| {}).await;
    let bodies: Vec<_> = (0..52)
        .map(|i| signup_body(&format!("p{i}@example.com"), "P"))
        .collect();
    futures_util::future::join_all(bodies.iter().map(|b| app.post_json(b))).await;
    let console = Console::signed_in(&app, ALICE).await;
    let first = console.page("/console/signups").await;
    assert_eq!(first.matches("href=\"/console/signups/").count(), 50);
    let at = first.find("id=\"next-page\"").expect("a next page link");
    let href_start = first[..at].rfind("href=\"").unwrap() + 6;
    let href = first[href_start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(href.contains("before="), "{href}");
    let second = console.page(&href).await;
    assert_eq!(
        second.matches("href=\"/console/signups/").count(),
        2,
        "{href}"
    );
    assert_eq!(second.matches("href=\"/console/signups/").count(), 2);
    assert!(!second.contains("id=\"next-page\""));
    app.stop().await;
}

#[tokio::test]
async fn a_failed_signup_is_retried_from_its_page_and_reveal_is_audited() {
    let app = console_app(|_| {}).await;
    let id = failed_signup(&app, "barney@example.com").await;
    let console = Console::signed_in(&app, ALICE).await;
    let path = format!("/console/signups/{id}");
    let page = console.page(&path).await;
    assert!(page.contains("b***@example.com") && !page.contains("barney@example.com"));
    assert!(page.contains("id=\"retry\"") && page.contains("id=\"erase\""));
    // Without the CSRF token, or from another origin: 403, and nothing changes.
    let no_csrf = console
        .post_raw(&format!("{path}/retry"), &[], &console.origin_headers())
        .await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let csrf = console.csrf().await;
    let mut evil = HeaderMap::new();
    evil.insert("origin", HeaderValue::from_static("https://evil.example"));
    let cross = console
        .post_raw(&format!("{path}/retry"), &[("csrf", &csrf)], &evil)
        .await;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let mut referer_only = HeaderMap::new();
    referer_only.insert(
        "referer",
        HeaderValue::from_str(&format!("{}{path}", app.address)).unwrap(),
    );
    let none = console
        .post_raw(
            &format!("{path}/retry"),
            &[("csrf", &csrf)],
            &HeaderMap::new(),
        )
        .await;
    assert_eq!(none.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.wait_final(&id, Duration::ZERO).await["status"],
        "failed"
    );
    // The same-origin Referer stands in for a missing Origin.
    let retried = console
        .post_raw(&format!("{path}/retry"), &[("csrf", &csrf)], &referer_only)
        .await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        retried.headers()["location"],
        format!("{path}?done=requeued")
    );
    let body = app.wait_final(&id, Duration::from_secs(30)).await;
    assert_eq!(body["status"], "created", "{body}");
    let revealed = console.post(&format!("{path}/reveal"), &[]).await;
    assert_eq!(revealed.status(), StatusCode::OK);
    assert!(
        revealed
            .text()
            .await
            .unwrap()
            .contains("barney@example.com")
    );
    let audit = console.page("/console/audit").await;
    assert!(audit.contains("reveal") && audit.contains("retry") && audit.contains(&id));
    let missing = console.post("/console/signups/no-such-id/retry", &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn bulk_retry_previews_the_count_then_requeues() {
    let app = console_app(|_| {}).await;
    let a = failed_signup(&app, "a@example.com").await;
    let b = failed_signup(&app, "b@example.com").await;
    let console = Console::signed_in(&app, ALICE).await;
    let form = console.page("/console/bulk-retry").await;
    assert!(!form.contains("id=\"bulk-count\""));
    let none = console
        .page("/console/bulk-retry?tenant=other&source=&since=")
        .await;
    assert!(
        none.contains("<strong>0</strong> failed signup(s)") && !none.contains("id=\"confirm\"")
    );
    let preview = console
        .page("/console/bulk-retry?tenant=acme&source=website&since=")
        .await;
    assert!(
        preview.contains("<strong>2</strong> failed signup(s)"),
        "{preview}"
    );
    assert_eq!(app.wait_final(&a, Duration::ZERO).await["status"], "failed");
    let done = console
        .post(
            "/console/bulk-retry",
            &[("tenant", "acme"), ("source", "website"), ("since", "")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("Re-queued 2 failed signup(s)")
    );
    for id in [&a, &b] {
        assert_eq!(
            app.wait_final(id, Duration::from_secs(30)).await["status"],
            "created"
        );
    }
    let entries = app.store.audit_page(None, 1).await.unwrap();
    assert_eq!(entries[0].action, "bulk_retry");
    let mut ids = entries[0].signup_ids.clone();
    ids.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(ids, want);
    app.stop().await;
}

#[tokio::test]
async fn installations_and_sources_pages_and_rejections_by_code() {
    let app = console_app(|_| {}).await;
    let bad = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token_for(
            "website",
            "not-the-website-secret-0123456789abcdef",
        ))
        .header("content-type", "application/json")
        .body(signup_body("x@example.com", "X").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let console = Console::signed_in(&app, ALICE).await;
    let installations = console.page("/console/installations").await;
    assert!(installations.contains("No Connect or Forge installation."));
    app.store
        .save_installation(&NewInstallation {
            client_key: "client-key-1".into(),
            shared_secret: Secret::new("the-shared-secret-never-shown-0123456789"),
            base_url: "https://acme.atlassian.net".into(),
            display_url: None,
            product_type: None,
            description: None,
        })
        .await
        .unwrap();
    let installations = console.page("/console/installations").await;
    assert!(
        installations.contains("client-key-1")
            && installations.contains("https://acme.atlassian.net")
    );
    assert!(!installations.contains("the-shared-secret"));
    let sources = console.page("/console/sources").await;
    assert!(
        sources.contains(">website</a>") && sources.contains("<td>jwt</td>"),
        "{sources}"
    );
    assert!(sources.contains("invalid_token ×"), "{sources}");
    app.stop().await;
}

#[tokio::test]
async fn a_trusted_proxy_user_is_signed_in_and_an_untrusted_one_is_not() {
    for (proxies, trusted) in [
        (vec!["127.0.0.1".to_string()], true),
        (vec!["192.0.2.7".into()], false),
    ] {
        let app = console_app(|c| {
            c.console.trusted_header = Some("X-Forwarded-User".into());
            c.console.trusted_proxies = proxies;
        })
        .await;
        let mut console = Console::new(&app);
        let response = console
            .client
            .get(format!("{}/console/login", app.address))
            .header("x-forwarded-user", "bob")
            .send()
            .await
            .unwrap();
        match trusted {
            true => {
                assert_eq!(response.status(), StatusCode::SEE_OTHER);
                console.keep_cookie(&response);
                assert!(
                    console
                        .page("/console/")
                        .await
                        .contains("<strong>bob</strong>")
                );
            }
            false => {
                assert_eq!(response.status(), StatusCode::OK);
                assert!(set_cookie(&response).is_none());
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn several_tokens_each_sign_in_under_their_label() {
    const BOB: &str = "bob-token-abcdefghijklmnopqrstuvwxyz-0123";
    let app = console_app(|c| {
        c.console.admin_tokens.push(AdminToken {
            label: "bob".into(),
            token: Secret::new(BOB),
        })
    })
    .await;
    for (token, who) in [(ALICE, "alice"), (BOB, "bob")] {
        let console = Console::signed_in(&app, token).await;
        assert!(
            console
                .page("/console/")
                .await
                .contains(&format!("<strong>{who}</strong>"))
        );
    }
    app.stop().await;
}
