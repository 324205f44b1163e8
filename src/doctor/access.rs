//! Reaching JSM and being let in: transport failures named plainly, `myself`, and how the
//! fixes differ per auth type. No I/O here.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::Verdict;
use super::checks::{not_jira, unexpected};
use super::probe::Reply;

/// How a tenant authenticates, for fixes that say what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    Basic,
    Bearer,
    OAuth,
    Connect,
    Forge,
}

impl AuthKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Basic => "basic (API token)",
            Self::Bearer => "bearer token",
            Self::OAuth => "OAuth client credentials",
            Self::Connect => "Connect app",
            Self::Forge => "Forge app",
        }
    }

    /// Who holds the permissions: the account or the app.
    pub fn who(self) -> &'static str {
        match self {
            Self::Connect | Self::Forge => "the app's user on the site",
            _ => "the account these credentials belong to",
        }
    }

    /// What to do when JSM refuses the credentials (401); `key` is the config key.
    pub fn refused_fix(self, key: &str) -> String {
        match self {
            Self::Basic => format!(
                "create a new API token for that account (Atlassian account settings → Security → \
                 API tokens) and set `{key}.auth.api_token`; `{key}.auth.email` must be that \
                 account's email"
            ),
            Self::Bearer => format!(
                "issue a new token and set `{key}.auth.token`; OAuth access tokens are accepted only \
                 under https://api.atlassian.com/ex/jira/{{cloudId}}"
            ),
            Self::OAuth => format!(
                "check `{key}.auth.client_id`/`client_secret` and that the OAuth app is installed on \
                 this site; OAuth tokens are accepted only under \
                 https://api.atlassian.com/ex/jira/{{cloudId}}"
            ),
            Self::Connect => {
                "the stored sharedSecret is not the site's: reinstall or update the app \
                 on the site (Jira then sends a new installed callback)"
                    .into()
            }
            Self::Forge => "the system token was refused: Forge's next call (the hourly scheduled \
                 trigger) brings a new one; if this persists, redeploy the app (`forge deploy`) \
                 and check its scopes"
                .into(),
        }
    }
}

/// A transport failure named plainly (see `probe`): the chain of causes, whether one was a
/// refused connection, whether the timeout struck.
pub fn name_transport(
    chain: &[String],
    refused: bool,
    timed_out: bool,
    host: &str,
    port: u16,
    timeout: Duration,
) -> String {
    let all = chain.join(": ").to_ascii_lowercase();
    let last = chain.last().map(String::as_str).unwrap_or("unknown error");
    if timed_out {
        format!(
            "no answer from {host}:{port} within {}",
            humantime::format_duration(timeout)
        )
    } else if refused || all.contains("connection refused") {
        format!(
            "connection refused by {host}:{port} (nothing listens there, or a firewall rejects it)"
        )
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        format!("DNS: the host name {host} does not resolve ({last})")
    } else if [
        "certificate",
        "tls",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
    ]
    .iter()
    .any(|w| all.contains(w))
    {
        format!("TLS handshake with {host}:{port} failed: {last}")
    } else {
        format!("cannot reach {host}:{port}: {last}")
    }
}

/// JSM could not be reached.
pub fn unreachable(detail: String, base_url: &str) -> Verdict {
    let fix = if detail.starts_with("TLS") {
        format!(
            "the host behind {base_url} must present a certificate for its name from a CA this              host trusts (a proxy that re-signs TLS needs its CA installed here); https to a              plain-http port fails the same way"
        )
    } else if detail.starts_with("DNS") {
        format!("check the host name in {base_url} and this host's DNS resolver")
    } else if detail.starts_with("connection refused") {
        format!("check the port in {base_url}, and that no firewall rejects this host")
    } else {
        format!("check that {base_url} is reachable from this host (firewall, proxy, routing)")
    };
    Verdict::fail("reachable", detail, fix)
}

/// JSM answered: how.
pub fn reachable(base_url: &url::Url) -> Verdict {
    let how = match base_url.scheme() {
        "https" => "over https, certificate verified",
        _ => "over plain http (a loopback host)",
    };
    Verdict::ok("reachable", format!("JSM answered {how}"))
}

/// `GET /rest/api/3/myself`: who the credentials are.
pub fn myself(reply: &Reply, kind: AuthKind, key: &str) -> Verdict {
    const CHECK: &str = "credentials";
    match reply.status {
        s if s.is_success() => match serde_json::from_slice::<Value>(&reply.body) {
            Ok(me) if me["accountId"].is_string() => {
                let id = me["accountId"].as_str().unwrap_or_default();
                let account_type = me["accountType"].as_str().unwrap_or("unknown");
                let active = me["active"].as_bool().unwrap_or(true);
                let detail = format!(
                    "{} accepted: account {id} (type {account_type})",
                    kind.name()
                );
                if active {
                    Verdict::ok(CHECK, detail)
                } else {
                    Verdict::fail(
                        CHECK,
                        format!("{detail} is deactivated"),
                        "reactivate the account in Atlassian administration, or use another one",
                    )
                }
            }
            _ => not_jira(CHECK, reply.status),
        },
        StatusCode::UNAUTHORIZED => Verdict::fail(
            CHECK,
            format!("JSM refused the {} (401)", kind.name()),
            kind.refused_fix(key),
        ),
        s => unexpected(CHECK, "GET /rest/api/3/myself", s, reply),
    }
}

/// The credentials could not even be made (an OAuth token endpoint refused, a secret is gone).
pub fn no_credentials(kind: AuthKind, key: &str, why: String) -> Verdict {
    Verdict::fail(
        "credentials",
        format!("no {} could be made: {why}", kind.name()),
        kind.refused_fix(key),
    )
}
