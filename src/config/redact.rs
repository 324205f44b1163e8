//! URLs as printed: `check-config`, logs and errors show a URL without its user-info or query
//! string, either of which may carry a credential (`https://user:pass@host`, `?token=...`).

use std::borrow::Cow;

use super::{Config, TenantAuth};

/// What replaces a redacted part.
const REDACTED: &str = "[redacted]";

/// `raw` with its user-info and query (and fragment) replaced by `[redacted]`:
/// `https://u:p@host/path?token=x` → `https://[redacted]@host/path?[redacted]`. Works on text
/// that is not a valid URL too, so a malformed value is never printed whole either.
pub fn redact_url(raw: &str) -> Cow<'_, str> {
    let (head, tail) = match raw.find(['?', '#']) {
        Some(at) => (&raw[..at], Some(&raw[at..at + 1])),
        None => (raw, None),
    };
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let authority_end = head[authority_start..]
        .find('/')
        .map_or(head.len(), |i| authority_start + i);
    let user_info_end = head[authority_start..authority_end]
        .rfind('@')
        .map(|i| authority_start + i);
    if user_info_end.is_none() && tail.is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    match user_info_end {
        Some(at) => {
            out.push_str(&head[..authority_start]);
            out.push_str(REDACTED);
            out.push_str(&head[at..]);
        }
        None => out.push_str(head),
    }
    if let Some(mark) = tail {
        out.push_str(mark);
        out.push_str(REDACTED);
    }
    Cow::Owned(out)
}

/// Query parameters of a database URL that carry no secret: shown as they are, so settings such
/// as `options[search_path]` or `sslmode` can be compared across hosts. Any other parameter
/// (`password`, `sslpassword`, `user`, one this list does not know) shows `[redacted]`.
const PLAIN_DATABASE_PARAMETERS: [&str; 16] = [
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "application_name",
    "statement-cache-capacity",
    "connect_timeout",
    "target_session_attrs",
    "mode",
    "cache",
    "immutable",
    "vfs",
];

/// A database URL as printed: user-info redacted like [`redact_url`], the query's parameters
/// kept one by one, each value `[redacted]` unless its name is known to be harmless
/// (`options…`, which sets `search_path`, and those above).
pub fn redact_database_url(raw: &str) -> Cow<'_, str> {
    let Some(at) = raw.find('?') else {
        return redact_url(raw);
    };
    let (head, query) = (&raw[..at], &raw[at + 1..]);
    let query = query.split('#').next().unwrap_or_default();
    let parameters: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = name.replace("%5B", "[").replace("%5b", "[");
            let plain = decoded.starts_with("options")
                || PLAIN_DATABASE_PARAMETERS.contains(&decoded.as_str());
            if plain {
                pair.to_string()
            } else {
                format!("{name}={REDACTED}")
            }
        })
        .collect();
    Cow::Owned(format!("{}?{}", redact_url(head), parameters.join("&")))
}

impl Config {
    /// A copy whose every URL setting is redacted, for printing.
    pub(super) fn with_urls_redacted(&self) -> Config {
        let mut c = self.clone();
        let redact = |s: &mut String| *s = redact_url(s).into_owned();
        c.database.url = redact_database_url(&c.database.url).into_owned();
        redact(&mut c.connect.install_keys_url);
        c.server.public_url.iter_mut().for_each(redact);
        for t in &mut c.tenants {
            redact(&mut t.base_url);
            if let TenantAuth::OauthClientCredentials { token_url, .. } = &mut t.auth {
                redact(token_url);
            }
        }
        for s in &mut c.sources {
            s.jwks_url.iter_mut().for_each(redact);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_keep_their_harmless_parameters() {
        let cases = [
            ("sqlite://bridge.db", "sqlite://bridge.db"),
            ("sqlite:///var/b.db?mode=rwc", "sqlite:///var/b.db?mode=rwc"),
            (
                "postgres://bridge:s3cret@db:5432/b?options[search_path]=bridge&sslmode=require",
                "postgres://[redacted]@db:5432/b?options[search_path]=bridge&sslmode=require",
            ),
            (
                "postgres://db/b?password=p&sslpassword=q&user=u&sslmode=verify-full",
                "postgres://db/b?password=[redacted]&sslpassword=[redacted]&user=[redacted]&sslmode=verify-full",
            ),
            (
                "postgres://db/b?options%5Bsearch_path%5D=x&unknown=v",
                "postgres://db/b?options%5Bsearch_path%5D=x&unknown=[redacted]",
            ),
            (
                "postgres://db/b?secret",
                "postgres://db/b?secret=[redacted]",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(redact_database_url(raw), want, "{raw}");
        }
    }

    #[test]
    fn user_info_and_query_are_redacted() {
        let cases = [
            (
                "https://idp.example.com/jwks",
                "https://idp.example.com/jwks",
            ),
            (
                "https://user:pass@idp.example.com/jwks?token=abc",
                "https://[redacted]@idp.example.com/jwks?[redacted]",
            ),
            ("https://user@host", "https://[redacted]@host"),
            (
                "https://host/path?token=abc",
                "https://host/path?[redacted]",
            ),
            ("https://host/path#frag", "https://host/path#[redacted]"),
            ("https://host/p@th", "https://host/p@th"),
            ("https://a:b@c@host/x", "https://[redacted]@host/x"),
            ("sqlite://signup-bridge.db", "sqlite://signup-bridge.db"),
            (
                "sqlite:///var/lib/bridge.db?mode=rwc",
                "sqlite:///var/lib/bridge.db?[redacted]",
            ),
            ("sqlite:bridge.db", "sqlite:bridge.db"),
            (
                "postgres://bridge:s3cret@db:5432/bridge?sslpassword=x",
                "postgres://[redacted]@db:5432/bridge?[redacted]",
            ),
            ("not a url ?key=secret", "not a url ?[redacted]"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(redact_url(raw), want, "{raw}");
        }
    }
}
