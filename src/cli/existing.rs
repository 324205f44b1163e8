//! Commands that read the database `serve` writes (`token --source sandbox`, `signups`,
//! `installations`) never create one: run from the wrong directory, a fresh SQLite file would
//! hold a fresh sandbox secret and no signups, and its answers would be silently wrong. They
//! stop with exit code 2 (the configuration points at the wrong place) and say where they
//! looked and how to point at the right database.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

use super::{UsageError, open_store};
use crate::config::{self, Config};
use crate::store::{Backend, Store};

/// Open the configured database, which must already exist (a SQLite file); `command` names
/// the command in the message.
pub(crate) async fn open_existing_store(config: &Config, command: &str) -> anyhow::Result<Store> {
    if let Some(missing) = missing_sqlite_file(&config.database.url) {
        return Err(UsageError(missing_message(config, command, &missing)).into());
    }
    open_store(config).await
}

/// The SQLite file `url` names, when it does not exist.
fn missing_sqlite_file(url: &str) -> Option<PathBuf> {
    if Backend::of_url(url) != Some(Backend::Sqlite) {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    (!file.exists()).then(|| absolute(file))
}

fn absolute(path: &Path) -> PathBuf {
    std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
}

fn missing_message(config: &Config, command: &str, file: &Path) -> String {
    let url = config::redact_database_url(&config.database.url);
    format!(
        "no database at {file}: `{command}` reads the database `serve` writes and does not \
         create one (database.url = {url}; a relative path is relative to the working \
         directory). Run it in the directory where `serve` runs, or name that database: \
         `--config FILE` (database.url) or SIGNUP_BRIDGE_DATABASE_URL=sqlite:///absolute/path/signup-bridge.db",
        file = file.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_sqlite_file_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let present = dir.path().join("here.db");
        std::fs::write(&present, b"").unwrap();
        let absent = dir.path().join("absent.db");
        let cases = [
            (format!("sqlite://{}", present.display()), None),
            (
                format!("sqlite://{}", absent.display()),
                Some(absent.clone()),
            ),
            (format!("sqlite:{}", absent.display()), Some(absent.clone())),
            ("postgres://db/bridge".to_string(), None),
        ];
        for (url, want) in cases {
            assert_eq!(missing_sqlite_file(&url), want, "{url}");
        }
    }
}
