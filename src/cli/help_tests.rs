//! Every option and argument of every subcommand says what it does in `--help`.

use clap::CommandFactory;

use super::Cli;

/// `path: --name` of every argument without help text under `command`.
fn undocumented(command: &clap::Command, path: &str, out: &mut Vec<String>) {
    for arg in command.get_arguments() {
        let builtin = matches!(arg.get_id().as_str(), "help" | "version");
        if !builtin && !arg.is_hide_set() && arg.get_help().is_none() {
            out.push(format!("{path}: {}", arg.get_id()));
        }
    }
    for sub in command.get_subcommands() {
        if sub.get_about().is_none() && sub.get_name() != "help" {
            out.push(format!("{path} {} (no about)", sub.get_name()));
        }
        undocumented(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

#[test]
fn every_option_has_help_text() {
    let mut missing = Vec::new();
    undocumented(&Cli::command(), "signup-bridge", &mut missing);
    assert!(missing.is_empty(), "without help text: {missing:#?}");
}
