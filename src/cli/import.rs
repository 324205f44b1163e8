//! `import FILE --source ID`: a CSV or JSON lines file becomes signups of that source, each
//! keyed by `import:` + the hex SHA-256 of the lowercased email, so a second run stores nothing
//! new. Rows are checked like a webhook's body (and against the source's email-domain policy);
//! invalid ones are reported with their line and skipped. Valid rows are stored in batches
//! through the store's group commit; a running `serve` delivers them within the tenant's limits.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use sha2::{Digest, Sha256};

use super::UsageError;
use super::existing::open_existing_store;
use super::import_rows::{Columns, Format, Row, format_of, rows};
use crate::config::{Config, SourceConfig};
use crate::delivery::{ResolvedTenant, TenantDirectory};
use crate::domain::email_domains::{DomainPolicy, domain_of};
use crate::domain::{BodyFormat, NewSignup, fingerprint};
use crate::store::{NewSignupRecord, Store};

/// Rows stored per write of the group commit.
const BATCH: usize = 500;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: CSV with a header row, or JSON lines (by extension, else by content).
    file: PathBuf,
    /// The `[[sources]]` id the signups are recorded under (its tenant, desks and rules apply).
    #[arg(long, value_name = "ID")]
    source: String,
    /// The column (CSV header or JSON field) holding the email.
    #[arg(long, value_name = "C", default_value = "email")]
    email_column: String,
    /// The column holding the display name (default: `displayName`, else `name`, else the
    /// email's local part).
    #[arg(long, value_name = "C")]
    name_column: Option<String>,
    /// Only check the file and report invalid rows; store nothing.
    #[arg(long)]
    dry_run: bool,
    /// After storing, show the running `serve` delivering the source's imported signups
    /// (created, existing, failed) until none is pending.
    #[arg(long)]
    wait: bool,
    /// Raise no welcome request for these signups, even if the source or tenant has a
    /// `welcome_request` (people who have used the service before may not want one).
    #[arg(long)]
    no_welcome: bool,
}

/// What a run did.
#[derive(Debug, Default)]
struct Tally {
    rows: u64,
    valid: u64,
    invalid: u64,
    stored: u64,
}

pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let source = config
        .source(&args.source)
        .ok_or_else(|| UsageError(format!("no source {:?} in the configuration", args.source)))?
        .clone();
    let head = std::fs::read(&args.file)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", args.file.display())))?;
    let format = format_of(&args.file, &head[..head.len().min(64)]);
    // An estimate for the bar (a CSV field may span lines): the lines, less a CSV's header.
    let lines = head.iter().filter(|&&b| b == b'\n').count() as u64;
    let total = match format {
        Format::Csv => lines.saturating_sub(1),
        Format::JsonLines => lines,
    };
    let columns = Columns {
        email: args.email_column.clone(),
        name: args.name_column.clone(),
    };
    let rows = rows(std::io::Cursor::new(head), format, &columns).map_err(UsageError)?;
    let store = match args.dry_run {
        true => None,
        false => Some(open_existing_store(config, "import").await?),
    };
    let tenant = match &store {
        Some(store) => {
            let mut tenant = resolve(config, store, &source).await?;
            if args.no_welcome {
                tenant.welcome_request = None;
            }
            Some(tenant)
        }
        None => None,
    };
    let tally = run(
        rows,
        &source,
        tenant.as_ref(),
        store.as_ref(),
        config,
        total,
    )
    .await?;
    println!(
        "{} row(s): {} valid, {} invalid (skipped){}",
        tally.rows,
        tally.valid,
        tally.invalid,
        match args.dry_run {
            true => "; dry run, nothing stored".to_string(),
            false => format!(
                "; {} stored, {} already there",
                tally.stored,
                tally.valid - tally.stored
            ),
        }
    );
    if let (true, Some(store)) = (args.wait, &store) {
        super::import_wait::wait(store, &source.id).await?;
    }
    Ok(())
}

async fn resolve(
    config: &Config,
    store: &Store,
    source: &SourceConfig,
) -> anyhow::Result<ResolvedTenant> {
    let directory = TenantDirectory::from_config(config, store.clone()).map_err(UsageError)?;
    directory
        .resolve_for_source(source)
        .await
        .map_err(|e| UsageError(format!("the source's tenant cannot take signups: {e}")).into())
}

async fn run(
    rows: Box<dyn Iterator<Item = Row>>,
    source: &SourceConfig,
    tenant: Option<&ResolvedTenant>,
    store: Option<&Store>,
    config: &Config,
    total: u64,
) -> anyhow::Result<Tally> {
    let progress = Progress::new(total, "stored");
    let mut tally = Tally::default();
    let mut batch = Vec::with_capacity(BATCH);
    for (line, row) in rows {
        tally.rows += 1;
        match row.and_then(|(email, name)| checked(source, &email, name)) {
            Err(why) => {
                tally.invalid += 1;
                progress.println(&format!("line {line}: {why}"));
            }
            Ok(signup) => {
                tally.valid += 1;
                if let Some(tenant) = tenant {
                    batch.push(record(source, tenant, &signup, config));
                }
            }
        }
        if batch.len() >= BATCH
            && let Some(store) = store
        {
            tally.stored += store.insert_batch(std::mem::take(&mut batch)).await?;
        }
        progress.set(tally.rows);
    }
    if let Some(store) = store
        && !batch.is_empty()
    {
        tally.stored += store.insert_batch(batch).await?;
    }
    progress.finish(tally.rows);
    Ok(tally)
}

/// The row as a signup, checked as intake checks a body, then by the source's domain policy.
fn checked(source: &SourceConfig, email: &str, name: Option<String>) -> Result<NewSignup, String> {
    let mut body = serde_json::json!({ "email": email });
    if let Some(name) = name {
        body["displayName"] = name.into();
    }
    let signup = NewSignup::parse(body.to_string().as_bytes(), BodyFormat::Json).map_err(|e| {
        e.iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let policy = DomainPolicy {
        allowed: &source.allowed_email_domains,
        blocked: &source.blocked_email_domains,
        block_disposable: source.block_disposable_email,
    };
    policy
        .check(&domain_of(signup.email.as_str()))
        .map_err(|r| format!("email_domain_not_allowed ({})", r.as_str()))?;
    Ok(signup)
}

/// `import:` + the hex SHA-256 of the lowercased email.
pub fn import_key(email: &str) -> String {
    format!(
        "import:{}",
        hex::encode(Sha256::digest(email.to_lowercase()))
    )
}

fn record(
    source: &SourceConfig,
    tenant: &ResolvedTenant,
    signup: &NewSignup,
    config: &Config,
) -> NewSignupRecord {
    let email = signup.email.normalized();
    NewSignupRecord {
        id: uuid::Uuid::now_v7().to_string(),
        source_id: source.id.clone(),
        idempotency_key: import_key(&email),
        fingerprint: fingerprint(&email, signup.display_name.as_str(), &source.tenant),
        tenant: tenant.id.clone(),
        email: signup.email.as_str().to_string(),
        display_name: signup.display_name.as_str().to_string(),
        steps: tenant.steps_for(signup.email.as_str()),
        attempt_limit: config.delivery.max_attempts,
        not_before: None,
        jti: None,
        // An import has no request to trace; its runs start traces of their own.
        trace_parent: None,
    }
}

/// A progress bar on a terminal (rows/s, ETA); plain lines every few seconds otherwise.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    what: &'static str,
    started: Instant,
    last_line: std::cell::Cell<Instant>,
}

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(2);

impl Progress {
    pub(super) fn new(total: u64, what: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            let style = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} rows {msg} {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(what);
            bar
        });
        let now = Instant::now();
        Self {
            bar,
            total,
            what,
            started: now,
            last_line: std::cell::Cell::new(now),
        }
    }

    pub(super) fn set(&self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if self.last_line.get().elapsed() >= PLAIN_EVERY => {
                self.last_line.set(Instant::now());
                self.line(done);
            }
            None => {}
        }
    }

    pub(super) fn println(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub(super) fn finish(&self, done: u64) {
        match &self.bar {
            Some(bar) => bar.finish(),
            None => self.line(done),
        }
    }

    fn line(&self, done: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        eprintln!(
            "{done}/{} rows {} ({:.0} rows/s)",
            self.total,
            self.what,
            done as f64 / secs
        );
    }
}
