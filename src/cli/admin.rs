//! `signups list|show|stats|retry` and `installations list`: the operator's view of the
//! database. Each reads the database `serve` writes and never creates one (see `existing`).

use std::time::Duration;

use clap::{Args, Subcommand};

use super::UsageError;
use super::existing::open_existing_store;
use super::stats;
use crate::config::Config;
use crate::domain::{Signup, SignupStatus, mask_email, rfc3339_ms};
use crate::store::{EraseTarget, RetryOutcome, SignupFilter};

#[derive(Debug, Subcommand)]
pub enum SignupsCommand {
    /// One line per signup, most recently updated first, under a header: id, status, tenant,
    /// masked email, attempts, updatedAt, then source and lastError.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// At most this many lines.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// JSON lines instead of text (nothing at all when no signup matches).
        #[arg(long)]
        json: bool,
    },
    /// How many signups are in each status (and in all), for the same filters as `list`.
    Stats {
        #[command(flatten)]
        filter: FilterArgs,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// One signup, as the API shows it plus `lastErrorDetail`; the email masked unless --reveal.
    Show {
        /// The signup's id (as `signups list` and the API show it).
        id: String,
        /// Print the email unmasked.
        #[arg(long)]
        reveal: bool,
    },
    /// Erase a person's data: every signup of an email (or of signup --id's email) keeps its id,
    /// status, times, key and JSM account id and loses the email, names and customer profile.
    /// Prints what it would erase and asks first (on a terminal; without one, --yes is needed).
    /// The JSM customer is not touched (docs/OPERATIONS.md, erase).
    Erase {
        /// The email whose signups are erased (compared case-insensitively).
        #[arg(
            long,
            value_name = "EMAIL",
            required_unless_present = "id",
            conflicts_with = "id"
        )]
        email: Option<String>,
        /// A signup id: every signup of its email is erased.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        /// Erase without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Re-queue a failed signup (or make a pending one due now); --failed re-queues every failed signup.
    Retry {
        /// The signup's id (as `signups list` shows it).
        #[arg(required_unless_present = "failed", conflicts_with = "failed")]
        id: Option<String>,
        /// Re-queue every failed signup instead of one (exit 2 when there is none).
        #[arg(long)]
        failed: bool,
        /// Then wait until the re-queued signups settle (a running `serve` delivers them) and
        /// print each one's final status; exit 1 if any failed or is still pending at --timeout.
        #[arg(long)]
        wait: bool,
        /// How long --wait waits.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "60s", requires = "wait")]
        timeout: Duration,
    },
}

/// The filters of `signups list` and `signups stats`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only signups in this status: pending, created, existing or failed.
    #[arg(long, value_parser = parse_status)]
    status: Option<SignupStatus>,
    /// Only signups for this email (compared case-insensitively).
    #[arg(long, value_name = "EMAIL")]
    email: Option<String>,
    /// Only signups sent by this `[[sources]]` id.
    #[arg(long, value_name = "ID")]
    source: Option<String>,
    /// Only signups for this tenant (a `[[tenants]]` id or an installation's clientKey).
    #[arg(long, value_name = "ID")]
    tenant: Option<String>,
}

impl From<FilterArgs> for SignupFilter {
    fn from(f: FilterArgs) -> Self {
        SignupFilter {
            status: f.status,
            email: f.email,
            source: f.source,
            tenant: f.tenant,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum InstallationsCommand {
    /// Every Connect installation (clientKey, state, baseUrl), then every Forge installation
    /// (installationId, state, site URL, `forge`, token expiry); never a secret or token.
    List {
        /// JSON lines (`kind`, then the fields above) instead of text (nothing at all when
        /// there is no installation).
        #[arg(long)]
        json: bool,
    },
}

fn parse_status(s: &str) -> Result<SignupStatus, String> {
    SignupStatus::parse(s)
        .ok_or_else(|| format!("{s:?} is not one of pending, created, existing, failed"))
}

pub async fn signups(config: &Config, command: SignupsCommand) -> anyhow::Result<()> {
    let store = open_existing_store(config, "signups").await?;
    match command {
        SignupsCommand::List {
            filter,
            limit,
            json,
        } => stats::list(&store, &filter.into(), limit, json).await?,
        SignupsCommand::Stats { filter, json } => {
            stats::counts(&store, &filter.into(), json).await?
        }
        SignupsCommand::Erase { email, id, yes } => {
            let target = match (email, id) {
                (Some(email), _) => EraseTarget::Email(email),
                (None, id) => EraseTarget::Id(id.unwrap_or_default()),
            };
            super::erase::erase(&store, &target, yes).await?
        }
        SignupsCommand::Show { id, reveal } => {
            let signup = store
                .signup(&id)
                .await?
                .ok_or_else(|| UsageError(format!("no signup {id:?}")))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&shown(&signup, reveal)?)?
            );
        }
        SignupsCommand::Retry {
            failed: true,
            wait,
            timeout,
            ..
        } => {
            let ids = stats::failed_ids(&store).await?;
            let n = store.retry_all_failed(config.delivery.max_attempts).await?;
            if n == 0 {
                return Err(UsageError("no failed signups: nothing to retry".into()).into());
            }
            println!("re-queued {n} failed signup(s)");
            if wait {
                stats::wait_settled(&store, &ids, timeout).await?;
            }
        }
        SignupsCommand::Retry {
            id, wait, timeout, ..
        } => {
            let id = id.unwrap_or_default();
            match store
                .retry_signup(&id, config.delivery.max_attempts)
                .await?
            {
                RetryOutcome::Requeued => println!("re-queued {id}"),
                RetryOutcome::MadeDue => println!("{id} is pending; made it due now"),
                RetryOutcome::InFlight => {
                    println!("{id} is being delivered right now; nothing to do")
                }
                RetryOutcome::AlreadyDone => {
                    return Err(
                        UsageError(format!("{id} is already delivered; nothing to retry")).into(),
                    );
                }
                RetryOutcome::NotFound => {
                    return Err(UsageError(format!("no signup {id:?}")).into());
                }
            }
            if wait {
                stats::wait_settled(&store, &[id], timeout).await?;
            }
        }
    }
    store.close().await;
    Ok(())
}

pub async fn installations(config: &Config, command: InstallationsCommand) -> anyhow::Result<()> {
    let store = open_existing_store(config, "installations list").await?;
    let InstallationsCommand::List { json } = command;
    let connect = store.list_installations().await?;
    let forge = store.list_forge_installations().await?;
    if connect.is_empty() && forge.is_empty() && !json {
        println!("no installations");
    }
    for i in connect {
        if json {
            let line = serde_json::json!({"kind": "connect", "clientKey": i.client_key, "state": i.state, "baseUrl": i.base_url});
            println!("{line}");
        } else {
            println!("{}\t{}\t{}", i.client_key, i.state, i.base_url);
        }
    }
    for i in forge {
        let expires = i.token_expires_at.map(rfc3339_ms);
        if json {
            let line = serde_json::json!({
                "kind": "forge", "installationId": i.installation_id, "state": i.state,
                "siteUrl": i.site_url, "tokenExpiresAt": expires,
            });
            println!("{line}");
        } else {
            let site = i.site_url.unwrap_or_else(|| "-".into());
            let expires = expires.unwrap_or_else(|| "-".into());
            println!(
                "{}\t{}\t{site}\tforge\t{expires}",
                i.installation_id, i.state
            );
        }
    }
    Ok(())
}

/// `signups show`: the API view plus the full error detail, emails masked unless `reveal`.
fn shown(signup: &Signup, reveal: bool) -> anyhow::Result<serde_json::Value> {
    let mut view = signup.view();
    if !reveal {
        view.email = mask_email(&view.email);
        if let Some(address) = view
            .customer
            .as_mut()
            .and_then(|c| c.get_mut("emailAddress"))
            .filter(|a| a.is_string())
        {
            *address = mask_email(address.as_str().unwrap_or_default()).into();
        }
    }
    let mut value = serde_json::to_value(view)?;
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "lastErrorDetail".into(),
            signup.last_error_detail.clone().into(),
        );
    }
    Ok(value)
}
