//! The console in a real browser: Debian's `chromium` driven through `chromium-driver`
//! (WebDriver, with fantoccini) — sign in, filter, open a failed signup, retry it and see it
//! `created`, preview a bulk retry, sign out; once with JavaScript on (signing in on the form)
//! and once with it off (signing in by a one-time link): the console needs none. Without a chromedriver each test writes `SKIPPED: <name> (no
//! chromedriver)` and passes. With `SIGNUP_BRIDGE_SCREENSHOTS=1` the first one rewrites the
//! screenshots of docs/CONSOLE.md (docs/console/*.png).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::console_helpers::{ALICE, console_app, failed_signup};
use crate::helpers::TestApp;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver of this test, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start chromedriver on a free loopback port, or None (and a `SKIPPED:` line) without one.
async fn driver(name: &str) -> Option<Driver> {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
    if !Path::new(&binary).exists() || !Path::new(CHROMIUM).exists() {
        super::skip::skipped(name, "no chromedriver");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        url,
        profile: profile.path().to_path_buf(),
        _profile: profile,
    };
    let client = crate::helpers::http_client();
    for _ in 0..200 {
        if client
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer within 20 s");
}

/// A headless Chromium session (JavaScript on or off).
async fn browser(driver: &Driver, javascript: bool) -> Client {
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--window-size=1100,800".into(),
        format!("--user-data-dir={}", driver.profile.display()),
    ];
    let mut prefs = json!({});
    if !javascript {
        args.push("--blink-settings=scriptEnabled=false".into());
        prefs = json!({"profile.managed_default_content_settings.javascript": 2});
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": CHROMIUM, "args": args, "prefs": prefs}),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Wait until the browser is at a URL `arrived` accepts (a form's navigation may still be
/// under way when its click returns); fails after 10 s.
async fn wait_for(c: &Client, arrived: impl Fn(&url::Url) -> bool) {
    let mut at = None;
    for _ in 0..100 {
        let url = c.current_url().await.unwrap();
        if arrived(&url) {
            return;
        }
        at = Some(url);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser stayed at {at:?}");
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Save a screenshot for docs/CONSOLE.md when asked to.
async fn screenshot(c: &Client, name: &str) {
    if std::env::var("SIGNUP_BRIDGE_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/console");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.png")),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}

/// The whole walk: sign in (the form, or a one-time link), filter, open the failed signup, retry it until `created`, preview
/// a bulk retry, sign out.
async fn walk(app: &TestApp, c: &Client, shots: bool, via_link: bool) {
    let failed = failed_signup(app, "betty@example.com").await;
    c.goto(&format!("{}/console/", app.address)).await.unwrap();
    wait_for(c, |u| u.path().ends_with("/console/login")).await;
    if shots {
        screenshot(c, "login").await;
    }
    if via_link {
        // The one-time link the sandbox prints; its page moves on without script.
        let token = "browser-link-token-0123456789";
        let expires = signup_bridge::domain::now_ms() + 60_000;
        let hash = signup_bridge::console::hashed(token);
        app.store
            .save_login_link(&hash, "alice", expires)
            .await
            .unwrap();
        c.goto(&format!("{}/console/login/link?token={token}", app.address))
            .await
            .unwrap();
    } else {
        c.find(Locator::Css("#token"))
            .await
            .unwrap()
            .send_keys(ALICE)
            .await
            .unwrap();
        click(c, "#sign-in").await;
    }
    wait_for(c, |u| u.path() == "/console/").await;
    assert!(text(c, "header").await.contains("alice"));
    if shots {
        screenshot(c, "overview").await;
    }
    click(c, "nav a[href='/console/signups']").await;
    wait_for(c, |u| u.path() == "/console/signups").await;
    c.find(Locator::Css("#status"))
        .await
        .unwrap()
        .select_by_value("failed")
        .await
        .unwrap();
    click(c, "#filter").await;
    wait_for(c, |u| {
        u.query().unwrap_or_default().contains("status=failed")
    })
    .await;
    if shots {
        screenshot(c, "signups").await;
    }
    click(c, &format!("a[href='/console/signups/{failed}']")).await;
    wait_for(c, |u| u.path().ends_with(&failed)).await;
    assert_eq!(text(c, "#signup-status").await, "failed");
    if shots {
        screenshot(c, "signup").await;
        // The same page on a phone-sized window.
        c.set_window_size(390, 844).await.unwrap();
        screenshot(c, "phone").await;
        c.set_window_size(1100, 800).await.unwrap();
    }
    click(c, "#retry").await;
    wait_for(c, |u| u.query().unwrap_or_default().starts_with("done=")).await;
    let mut status = String::new();
    for _ in 0..300 {
        // Read what the page shows; a page still loading is read again after the next reload.
        if let Ok(shown) = c.find(Locator::Css("#signup-status")).await {
            status = shown.text().await.unwrap_or_default();
        }
        if status == "created" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.goto(&format!("{}/console/signups/{failed}", app.address))
            .await
            .unwrap();
    }
    assert_eq!(status, "created");
    // A second failure to preview in bulk.
    failed_signup(app, "bamm-bamm@example.com").await;
    click(c, "nav a[href='/console/bulk-retry']").await;
    wait_for(c, |u| u.path() == "/console/bulk-retry").await;
    c.find(Locator::Css("#tenant"))
        .await
        .unwrap()
        .send_keys("acme")
        .await
        .unwrap();
    click(c, "#preview").await;
    wait_for(c, |u| u.query().unwrap_or_default().contains("tenant=acme")).await;
    assert!(
        text(c, "#bulk-count")
            .await
            .starts_with("1 failed signup(s)")
    );
    if shots {
        screenshot(c, "bulk-retry").await;
    }
    click(c, "#logout").await;
    wait_for(c, |u| u.path().ends_with("/console/login")).await;
    c.goto(&format!("{}/console/", app.address)).await.unwrap();
    wait_for(c, |u| u.path().ends_with("/console/login")).await;
}

#[tokio::test]
async fn browser_signs_in_retries_a_failed_signup_and_signs_out() {
    let name = "console_browser::browser_signs_in_retries_a_failed_signup_and_signs_out";
    let Some(driver) = driver(name).await else {
        return;
    };
    let app = console_app(|_| {}).await;
    let c = browser(&driver, true).await;
    walk(&app, &c, true, false).await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn browser_without_javascript_does_the_same() {
    let name = "console_browser::browser_without_javascript_does_the_same";
    let Some(driver) = driver(name).await else {
        return;
    };
    let app = console_app(|_| {}).await;
    let c = browser(&driver, false).await;
    walk(&app, &c, false, true).await;
    c.close().await.unwrap();
    app.stop().await;
}
