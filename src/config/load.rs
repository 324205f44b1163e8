//! Reading the configuration: file → `${ENV}` substitution → mapped env overrides → typed config.

use std::path::Path;

use toml::{Table, Value};

use super::Config;

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
    let table = match path {
        Some(p) => read_table(p)?,
        None => Table::new(),
    };
    from_table(table, &origin, env)
}

/// Load from TOML text already read (`origin` names it in errors); the fuzzer's entry point.
pub fn load_from_text(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let table = text
        .parse::<Table>()
        .map_err(|e| ConfigError(format!("{origin}: {e}")))?;
    from_table(table, origin, env)
}

fn from_table(
    mut table: Table,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let origin = origin.to_string();
    require_env_reference(&table, &origin)?;
    substitute_env(&mut table, "", env, &origin)?;
    for (var, section, key) in ENV_OVERRIDES {
        if let Some(value) = env(var).filter(|v| !v.is_empty()) {
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| Value::Table(Table::new()));
            match entry {
                Value::Table(t) => {
                    t.insert(key.to_string(), Value::String(value));
                }
                _ => {
                    return Err(ConfigError(format!(
                        "{origin}: `{section}` must be a table"
                    )));
                }
            }
        }
    }
    let config: Config = serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
        let key = e.path().to_string();
        ConfigError(format!("{origin}: key `{key}`: {}", e.inner().message()))
    })?;
    config
        .validate()
        .map_err(|e| ConfigError(format!("{origin}: {e}")))?;
    Ok(config)
}

/// Keys whose value must come from the environment (`"${NAME}"`), never from the file itself.
fn require_env_reference(table: &Table, origin: &str) -> Result<(), ConfigError> {
    let value = table
        .get("database")
        .and_then(|d| d.get("encryption_key"))
        .and_then(Value::as_str);
    match value {
        Some(v) if !(v.starts_with("${") && v.ends_with('}')) => Err(ConfigError(format!(
            "{origin}: key `database.encryption_key`: give it as \"${{ENV_VAR}}\", never in the file"
        ))),
        _ => Ok(()),
    }
}

fn read_table(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{}: cannot read: {e}", path.display())))?;
    text.parse::<Table>()
        .map_err(|e| ConfigError(format!("{}: {e}", path.display())))
}

/// Replace every string value of the exact form `${NAME}` by environment variable NAME.
fn substitute_env(
    table: &mut Table,
    prefix: &str,
    env: &dyn Fn(&str) -> Option<String>,
    origin: &str,
) -> Result<(), ConfigError> {
    for (key, value) in table.iter_mut() {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        substitute_value(value, &path, env, origin)?;
    }
    Ok(())
}

fn substitute_value(
    value: &mut Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    origin: &str,
) -> Result<(), ConfigError> {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                *s = env(name).ok_or_else(|| {
                    ConfigError(format!(
                        "{origin}: key `{path}`: environment variable {name} is not set"
                    ))
                })?;
            }
        }
        Value::Table(t) => substitute_env(t, path, env, origin)?,
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute_value(item, &format!("{path}[{i}]"), env, origin)?;
            }
        }
        _ => {}
    }
    Ok(())
}
