//! `signups erase`: show what an erase takes, ask on a terminal (or take `--yes`), erase
//! through the store function the console's Erase uses, and say what was done.

use std::io::{BufRead, IsTerminal, Write};

use super::UsageError;
use crate::domain::rfc3339_ms;
use crate::store::{EraseTarget, Store};

/// Who the audit log names for an erase from the command line.
const WHO: &str = "cli";

pub async fn erase(store: &Store, target: &EraseTarget, yes: bool) -> anyhow::Result<()> {
    let found = store.erasable(target).await?;
    if found.is_empty() {
        let what = match target {
            EraseTarget::Email(_) => "no signup holds this email (or it was erased already)",
            EraseTarget::Id(_) => "no signup with this id, or it was erased already",
        };
        return Err(UsageError(what.into()).into());
    }
    println!("{} signup(s) of this person:", found.len());
    for s in &found {
        println!(
            "  {}\t{}\t{}\tcreated {}",
            s.id,
            s.status.as_str(),
            s.source_id,
            rfc3339_ms(s.created_at)
        );
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(UsageError(
                "not erasing: no terminal to confirm on; run again with --yes".into(),
            )
            .into());
        }
        print!("Erase their email, names and customer profile? Type `erase` to confirm: ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "erase" {
            return Err(UsageError("not erased".into()).into());
        }
    }
    let erased = store.erase(target, WHO).await?;
    println!(
        "erased {} signup(s); the JSM customer is untouched (docs/OPERATIONS.md, erase)",
        erased.len()
    );
    Ok(())
}
