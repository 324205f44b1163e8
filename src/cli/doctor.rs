//! `doctor`: load the config, open the database read-only (a missing one holds no
//! installations and is not created), check, print. Exit 0 when nothing FAILed, 1 when
//! something did, 2 for a config error or an unknown `--tenant`.

use crate::config::{self, Config};
use crate::doctor::{self, GatherError, Options};
use crate::sandbox::{SANDBOX, recorded_tenant};
use crate::store::Store;

use super::UsageError;

/// Some check FAILed (exit 1); the findings were printed.
#[derive(Debug, thiserror::Error)]
#[error("{0} check(s) FAILed; each names its fix")]
pub struct ChecksFailed(pub usize);

pub async fn doctor(
    mut config: Config,
    tenant: Option<String>,
    json: bool,
    sandbox: bool,
) -> anyhow::Result<()> {
    let key = crate::store::SecretBox::of_config(&config.database).map_err(config::ConfigError)?;
    let url = config::redact_url(&config.database.url).into_owned();
    let store = Store::open_read_only(&config.database.url, key)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {url} read-only: {e}"))?;
    if sandbox {
        add_sandbox(&mut config, store.as_ref(), &url).await?;
    }
    let options = Options { tenant };
    let targets = doctor::gather(&config, store.as_ref(), &options)
        .await
        .map_err(|e| match e {
            GatherError::UnknownTenant(_) | GatherError::Config(_) => {
                anyhow::Error::new(UsageError(e.to_string()))
            }
            GatherError::Database(_) => anyhow::Error::new(e),
        })?;
    if targets.is_empty() {
        // stderr: `--json` output stays JSON lines (none here).
        eprintln!(
            "nothing to check: no [[tenants]] configured and no installations in the database {url}"
        );
        return Ok(());
    }
    let findings = doctor::run(&targets, config.delivery.request_timeout).await?;
    if let Some(store) = store {
        store.close().await;
    }
    match json {
        true => print!("{}", doctor::render_json(&findings)),
        false => print!("{}", doctor::render_text(&findings)),
    }
    match findings
        .iter()
        .filter(|f| f.status == doctor::Status::Fail)
        .count()
    {
        0 => Ok(()),
        n => Err(ChecksFailed(n).into()),
    }
}

/// `--sandbox`: the tenant the running `serve --sandbox` on this database calls.
async fn add_sandbox(config: &mut Config, store: Option<&Store>, url: &str) -> anyhow::Result<()> {
    if config.tenant(SANDBOX).is_some() {
        return Err(UsageError(format!(
            "--sandbox checks the tenant {SANDBOX:?} of `serve --sandbox`; the config already has one"
        ))
        .into());
    }
    let recorded = match store {
        Some(store) => recorded_tenant(store).await?,
        None => None,
    };
    let tenant = recorded.ok_or_else(|| {
        UsageError(format!(
            "no sandbox was ever started on the database {url}: run `signup-bridge serve --sandbox` \
             first, in the same directory (or with the same --config)"
        ))
    })?;
    config.tenants.push(tenant);
    Ok(())
}
