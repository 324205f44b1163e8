//! Reading the configuration: file → `${ENV}` substitution → mapped env overrides → typed config.

use std::path::Path;

use toml::{Table, Value};

use super::Config;
use super::report::{self, Sensitive};

/// A configuration that cannot be used. Its message names the key and the file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Environment variables mapped onto configuration keys (never a generic prefix scan).
const ENV_OVERRIDES: &[(&str, &str, &str)] = &[
    ("SIGNUP_BRIDGE_LISTEN", "server", "listen"),
    ("SIGNUP_BRIDGE_DATABASE_URL", "database", "url"),
    ("SIGNUP_BRIDGE_PUBLIC_URL", "server", "public_url"),
];

/// Load from `path` (or the defaults when `None`) with the process environment.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    load_from_env(path, &|name| std::env::var(name).ok())
}

/// Load with an explicit environment lookup (tests pass their own).
pub fn load_from_env(
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let origin = path.map_or_else(|| "(defaults)".to_string(), |p| p.display().to_string());
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| ConfigError(format!("{}: cannot read: {e}", p.display())))?;
            load_from_text(&text, &origin, env)
        }
        None => from_table(Table::new(), &origin, None, env),
    }
}

/// A `message` about the configuration at `path` (naming its key as ``key `…`: ``), reported as
/// load's own errors are: the file, the key's line and column, and nothing secret. For checks
/// that run after `load`, above `config/` (a source's public-key PEM).
pub fn error_at(path: Option<&Path>, message: &str) -> ConfigError {
    let origin = path.map_or_else(|| "(defaults)".to_string(), |p| p.display().to_string());
    let text = path.and_then(|p| std::fs::read_to_string(p).ok());
    let mut sensitive = Sensitive::default();
    if let Some(table) = text.as_deref().and_then(|t| t.parse::<Table>().ok()) {
        sensitive.collect(&table, "");
    }
    let key = report::named_key(message);
    let message = sensitive.scrub(key, message);
    ConfigError(report::at(&origin, text.as_deref(), key, &message))
}

/// Load from TOML text already read (`origin` names it in errors); the fuzzer's entry point.
pub fn load_from_text(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let table = text
        .parse::<Table>()
        .map_err(|e| ConfigError(report::syntax_error(origin, text, &e)))?;
    from_table(table, origin, Some(text), env)
}

fn from_table(
    mut table: Table,
    origin: &str,
    text: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let origin = origin.to_string();
    let mut sensitive = Sensitive::default();
    sensitive.collect(&table, "");
    // Every error from here on names where its key is, and prints no secret.
    let fail = |sensitive: &Sensitive, key: Option<&str>, message: &str| {
        let message = sensitive.scrub(key, message);
        ConfigError(report::at(&origin, text, key, &message))
    };
    // A fixed message: nothing to unquote (the value itself is scrubbed as a secret's).
    require_env_reference(&table).map_err(|m| {
        let message = sensitive.scrub(None, &m);
        ConfigError(report::at(&origin, text, report::named_key(&m), &message))
    })?;
    substitute_env(&mut table, "", env, &mut sensitive)
        .map_err(|m| fail(&sensitive, report::named_key(&m), &m))?;
    for (var, section, key) in ENV_OVERRIDES {
        if let Some(value) = env(var).filter(|v| !v.is_empty()) {
            sensitive.add_env(&format!("{section}.{key}"), &value);
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| Value::Table(Table::new()));
            match entry {
                Value::Table(t) => {
                    t.insert(key.to_string(), Value::String(value));
                }
                _ => {
                    let message = format!("key `{section}`: must be a table");
                    return Err(fail(&sensitive, Some(section), &message));
                }
            }
        }
    }
    let config: Config = serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
        let key = e.path().to_string();
        let message = format!("key `{key}`: {}", e.inner().message());
        fail(&sensitive, Some(&key), &message)
    })?;
    config
        .validate()
        .map_err(|m| fail(&sensitive, report::named_key(&m), &m))?;
    Ok(config)
}

/// Keys whose value must come from the environment (`"${NAME}"`), never from the file itself.
fn require_env_reference(table: &Table) -> Result<(), String> {
    let value = table
        .get("database")
        .and_then(|d| d.get("encryption_key"))
        .and_then(Value::as_str);
    match value {
        Some(v) if !(v.starts_with("${") && v.ends_with('}')) => Err(
            "key `database.encryption_key`: give it as \"${ENV_VAR}\", never in the file".into(),
        ),
        _ => Ok(()),
    }
}

/// Replace every string value of the exact form `${NAME}` by environment variable NAME.
fn substitute_env(
    table: &mut Table,
    prefix: &str,
    env: &dyn Fn(&str) -> Option<String>,
    sensitive: &mut Sensitive,
) -> Result<(), String> {
    for (key, value) in table.iter_mut() {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        substitute_value(value, &path, env, sensitive)?;
    }
    Ok(())
}

fn substitute_value(
    value: &mut Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    sensitive: &mut Sensitive,
) -> Result<(), String> {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                *s = env(name).ok_or_else(|| {
                    format!("key `{path}`: environment variable {name} is not set")
                })?;
                sensitive.add_env(path, s);
            }
        }
        Value::Table(t) => substitute_env(t, path, env, sensitive)?,
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute_value(item, &format!("{path}[{i}]"), env, sensitive)?;
            }
        }
        _ => {}
    }
    Ok(())
}
