//! How a configuration error is reported: it names the key, the file and the line and column
//! where the key sits, and never prints a secret — not the value of a secret key, not a value
//! that came from a `${ENV}` expansion or a mapped environment variable, not a URL's
//! user-info, and not the source line of a TOML syntax error (which may be a secret's line).
//! Other literal values may be quoted to help.

use toml::de::{DeTable, DeValue};
use toml::{Table, Value};

/// Keys whose values are secrets wherever they sit.
const SECRET_KEYS: &[&str] = &[
    "secret",
    "secrets",
    "api_token",
    "token",
    "client_secret",
    "encryption_key",
];

/// What replaces a value that must not be printed.
const REDACTED: &str = "[redacted]";

/// The values an error about this configuration must not print, and the keys whose errors
/// print no literal at all.
#[derive(Default)]
pub(super) struct Sensitive {
    values: Vec<String>,
    keys: Vec<String>,
}

impl Sensitive {
    /// A value substituted from the environment at `key`.
    pub(super) fn add_env(&mut self, key: &str, value: &str) {
        self.keys.push(key.to_string());
        self.values.push(value.to_string());
    }

    /// Every secret key's value in `table`, and every URL password in it.
    pub(super) fn collect(&mut self, table: &Table, prefix: &str) {
        for (key, value) in table {
            let path = join(prefix, key);
            self.collect_value(value, &path, SECRET_KEYS.contains(&key.as_str()));
        }
    }

    fn collect_value(&mut self, value: &Value, path: &str, secret: bool) {
        match value {
            Value::String(s) if secret => {
                self.keys.push(path.to_string());
                self.values.push(s.clone());
            }
            Value::String(s) => {
                if let Ok(url) = url::Url::parse(s)
                    && let Some(password) = url.password()
                {
                    self.values.push(password.to_string());
                }
            }
            Value::Table(t) => self.collect(t, path),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.collect_value(item, &format!("{path}[{i}]"), secret);
                }
            }
            _ if secret => self.keys.push(path.to_string()),
            _ => {}
        }
    }

    /// `message` about `key` (if known) without any sensitive value: a secret or
    /// environment-sourced key's message loses every quoted literal; every message loses each
    /// known sensitive value and URL user-info.
    pub(super) fn scrub(&self, key: Option<&str>, message: &str) -> String {
        let mut out = match key {
            Some(key) if self.keys.iter().any(|k| under(key, k) || under(k, key)) => {
                // The `key `…`: ` prefix names the key, not its value: it stays.
                let body = message
                    .find("`: ")
                    .filter(|_| message.starts_with("key `"))
                    .map_or(0, |at| at + 3);
                format!("{}{}", &message[..body], unquote(&message[body..]))
            }
            _ => message.to_string(),
        };
        let mut values: Vec<&String> = self.values.iter().filter(|v| v.len() >= 4).collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for value in values {
            out = out.replace(value.as_str(), REDACTED);
        }
        out
    }
}

/// `a` is `b` or a key inside it (`sources[0].secrets[1]` is under `sources[0].secrets`).
fn under(a: &str, b: &str) -> bool {
    a == b
        || a.strip_prefix(b)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

fn join(prefix: &str, key: &str) -> String {
    match prefix {
        "" => key.to_string(),
        _ => format!("{prefix}.{key}"),
    }
}

/// Every `"…"`, `'…'` or `` `…` `` literal of `message` replaced by `[redacted]`.
fn unquote(message: &str) -> String {
    unquote_longer_than(message, 0)
}

/// Like [`unquote`], keeping literals of at most `keep` characters (a parser's expected token,
/// such as `` `"` ``, tells the reader what is missing and cannot hold a secret).
fn unquote_longer_than(message: &str, keep: usize) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<(char, String)> = None;
    for c in message.chars() {
        match &mut open {
            Some((q, literal)) if c == *q => {
                if literal.chars().count() <= keep && keep > 0 {
                    out.push(*q);
                    out.push_str(literal);
                    out.push(c);
                } else {
                    out.push_str(REDACTED);
                }
                open = None;
            }
            Some((_, literal)) => literal.push(c),
            None if matches!(c, '"' | '`' | '\'') => open = Some((c, String::new())),
            None => out.push(c),
        }
    }
    if open.is_some() {
        out.push_str(REDACTED);
    }
    out
}

/// `line:column` (1-based) of byte `offset` in `text`.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Where `key` (`sources[1].secret`) sits in `text`: its own line, or the closest enclosing
/// entry that is in the file (a missing key is reported at its table).
pub(super) fn locate(text: &str, key: &str) -> Option<(usize, usize)> {
    let root = DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut found = None;
    for segment in key.split('.') {
        let (name, indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == name) else {
            break;
        };
        found = Some(k.span().start);
        let mut value = v;
        for index in indexes
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse::<usize>().ok())
        {
            let DeValue::Array(items) = value.get_ref() else {
                break;
            };
            let Some(item) = items.get(index) else {
                break;
            };
            found = Some(item.span().start);
            value = item;
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    found.map(|offset| line_column(text, offset))
}

/// The key a message names first (`key \`x.y\`: …`).
pub(super) fn named_key(message: &str) -> Option<&str> {
    let rest = &message[message.find("key `")? + 5..];
    Some(&rest[..rest.find('`')?])
}

/// `{origin}:{line}:{column}: {message}` when `key` is found in `text`, else `{origin}: …`.
pub(super) fn at(origin: &str, text: Option<&str>, key: Option<&str>, message: &str) -> String {
    match text.zip(key).and_then(|(text, key)| locate(text, key)) {
        Some((line, column)) => format!("{origin}:{line}:{column}: {message}"),
        None => format!("{origin}: {message}"),
    }
}

/// A TOML syntax error: where it is and what, never the line itself. The key of that line is
/// named when the line starts with one.
pub(super) fn syntax_error(origin: &str, text: &str, e: &toml::de::Error) -> String {
    let message = unquote_longer_than(e.message().trim(), 3);
    let Some(span) = e.span() else {
        return format!("{origin}: {message}");
    };
    let (line, column) = line_column(text, span.start);
    let key = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim())
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
    match key {
        Some(key) => format!("{origin}:{line}:{column}: key `{key}`: {message}"),
        None => format!("{origin}:{line}:{column}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[server]\nlisten = \"x\"\n\n[[sources]]\nid = \"a\"\n\n[[sources]]\n\
                        id = \"b\"\nsecrets = [\"s1\", \"s2\"]\n";

    #[test]
    fn keys_are_found_at_their_line_and_column() {
        let cases = [
            ("server.listen", Some((2, 1))),
            ("sources[1].id", Some((8, 1))),
            ("sources[1].secrets[1]", Some((9, 18))),
            ("sources[1].missing", Some((7, 1))),
            ("database.url", None),
        ];
        for (key, want) in cases {
            assert_eq!(locate(TEXT, key), want, "{key}");
        }
    }

    #[test]
    fn short_tokens_stay_and_longer_literals_go() {
        let cases = [
            (
                "invalid basic string, expected `\"`",
                3,
                "invalid basic string, expected `\"`",
            ),
            (
                "found `abcd`, expected `]`",
                3,
                "found [redacted], expected `]`",
            ),
            ("string \"x\"", 0, "string [redacted]"),
            ("open `abc", 3, "open [redacted]"),
        ];
        for (message, keep, want) in cases {
            assert_eq!(unquote_longer_than(message, keep), want, "{message}");
        }
    }

    #[test]
    fn messages_lose_secrets_env_values_and_quoted_literals_of_such_keys() {
        let mut sensitive = Sensitive::default();
        let table: Table = "[database]\nurl = \"postgres://u:hunter22@db/x\"\n\
                            [[sources]]\nsecret = \"very-secret-value\"\nport = 5"
            .parse()
            .unwrap();
        sensitive.collect(&table, "");
        sensitive.add_env("server.listen", "from-the-env");
        let cases = [
            (
                Some("sources[0].secret"),
                "key `sources[0].secret`: invalid type: string \"very-secret-value\", expected x",
                "key `sources[0].secret`: invalid type: string [redacted], expected x",
            ),
            (
                Some("server.listen"),
                "invalid socket address `abc`",
                "invalid socket address [redacted]",
            ),
            (
                Some("database.url"),
                "cannot reach postgres://u:hunter22@db/x",
                "cannot reach postgres://u:[redacted]@db/x",
            ),
            (
                Some("sources[0].port"),
                "got `5`, and from-the-env",
                "got `5`, and [redacted]",
            ),
        ];
        for (key, message, want) in cases {
            assert_eq!(sensitive.scrub(key, message), want, "{message}");
        }
    }
}
