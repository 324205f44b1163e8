//! `signups list|show|retry` and `installations list`: the operator's view of the database.

use clap::Subcommand;

use super::{UsageError, open_store};
use crate::config::Config;
use crate::domain::{Signup, SignupStatus, mask_email, rfc3339_ms};
use crate::store::RetryOutcome;

#[derive(Debug, Subcommand)]
pub enum SignupsCommand {
    /// One line per signup, most recently updated first.
    List {
        /// pending, created, existing or failed.
        #[arg(long, value_parser = parse_status)]
        status: Option<SignupStatus>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// One signup, as the API shows it plus `lastErrorDetail`; the email masked unless --reveal.
    Show {
        id: String,
        /// Print the email unmasked.
        #[arg(long)]
        reveal: bool,
    },
    /// Re-queue a failed signup (or make a pending one due now); --failed re-queues every failed signup.
    Retry {
        #[arg(required_unless_present = "failed", conflicts_with = "failed")]
        id: Option<String>,
        #[arg(long)]
        failed: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum InstallationsCommand {
    /// Every Connect installation (clientKey, state, baseUrl), then every Forge installation
    /// (installationId, state, site URL, `forge`, token expiry); never a secret or token.
    List {
        #[arg(long)]
        json: bool,
    },
}

fn parse_status(s: &str) -> Result<SignupStatus, String> {
    SignupStatus::parse(s)
        .ok_or_else(|| format!("{s:?} is not one of pending, created, existing, failed"))
}

pub async fn signups(config: &Config, command: SignupsCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    match command {
        SignupsCommand::List {
            status,
            limit,
            json,
        } => {
            for s in store.list_signups(status, limit).await? {
                let email = mask_email(&s.email);
                let updated = rfc3339_ms(s.updated_at);
                if json {
                    let line = serde_json::json!({
                        "id": s.id, "status": s.status, "tenant": s.tenant, "email": email,
                        "attempts": s.attempts, "updatedAt": updated,
                    });
                    println!("{line}");
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        s.id,
                        s.status.as_str(),
                        s.tenant,
                        email,
                        s.attempts,
                        updated
                    );
                }
            }
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
        SignupsCommand::Retry { failed: true, .. } => {
            let n = store.retry_all_failed(config.delivery.max_attempts).await?;
            println!("re-queued {n} failed signup(s)");
        }
        SignupsCommand::Retry { id, .. } => {
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
        }
    }
    Ok(())
}

pub async fn installations(config: &Config, command: InstallationsCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let InstallationsCommand::List { json } = command;
    for i in store.list_installations().await? {
        if json {
            let line = serde_json::json!({"kind": "connect", "clientKey": i.client_key, "state": i.state, "baseUrl": i.base_url});
            println!("{line}");
        } else {
            println!("{}\t{}\t{}", i.client_key, i.state, i.base_url);
        }
    }
    for i in store.list_forge_installations().await? {
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
