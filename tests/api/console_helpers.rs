//! The console tests' harness: a bridge with the console on and an admin token, and a client
//! that keeps the session cookie and sends the console's own `Origin`.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use signup_bridge::config::{AdminToken, Config, Secret};

use crate::helpers::{TestApp, fault, id_of, signup_body, sim_config, spawn_app_with, status};

pub const ALICE: &str = "alice-token-0123456789abcdef-0123456789";
pub const CUSTOMER_PATH: &str = "/rest/servicedeskapi/customer";

/// The console on, with `alice`'s admin token, plus `tweak`.
pub async fn console_app(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(sim_config(), |c| {
        c.console.enabled = true;
        c.console.admin_tokens.push(AdminToken {
            label: "alice".into(),
            token: Secret::new(ALICE),
        });
        tweak(c);
    })
    .await
}

/// A browser-like client: no redirects followed, the session cookie kept by hand.
pub struct Console {
    pub base: String,
    pub client: reqwest::Client,
    pub cookie: Option<String>,
}

impl Console {
    pub fn new(app: &TestApp) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            base: app.address.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    /// Signed in with `token`; panics unless the login succeeds.
    pub async fn signed_in(app: &TestApp, token: &str) -> Self {
        let mut console = Self::new(app);
        let response = console.login(token).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/console/");
        console.keep_cookie(&response);
        assert!(console.cookie.is_some(), "a session cookie");
        console
    }

    pub async fn login(&self, token: &str) -> reqwest::Response {
        self.post_raw(
            "/console/login",
            &[("token", token)],
            &self.origin_headers(),
        )
        .await
    }

    /// Remember the session cookie a response set (or cleared).
    pub fn keep_cookie(&mut self, response: &reqwest::Response) {
        if let Some(set) = set_cookie(response) {
            let value = set.split(';').next().unwrap_or_default();
            let (_, id) = value.split_once('=').unwrap();
            self.cookie = (!id.is_empty()).then(|| value.to_string());
        }
    }

    pub fn origin_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("origin", HeaderValue::from_str(&self.base).unwrap());
        h
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// GET a page expected to answer 200; its HTML.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    /// POST a form with the session's CSRF token and the console's origin.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut fields = form.to_vec();
        fields.push(("csrf", &csrf));
        self.post_raw(path, &fields, &self.origin_headers()).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &HeaderMap,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .headers(headers.clone())
            .form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// The session's CSRF token, as the overview's logout form carries it.
    pub async fn csrf(&self) -> String {
        let html = self.page("/console/").await;
        hidden_csrf(&html).expect("a CSRF field")
    }
}

/// The value of the first `name="csrf"` field of a page.
pub fn hidden_csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

pub fn set_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
}

/// A signup that JSM refused (one scripted 400 on the create): its id, `failed`.
pub async fn failed_signup(app: &TestApp, email: &str) -> String {
    app.sim
        .state()
        .push_fault(fault(Some(1), CUSTOMER_PATH, status(400, None)));
    let id = id_of(app.post_json(&signup_body(email, "Failing Person")).await).await;
    let body = app.wait_final(&id, Duration::from_secs(30)).await;
    assert_eq!(body["status"], "failed", "{body}");
    id
}
