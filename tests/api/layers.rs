//! The layering of docs/DECISIONS.md, read from the source: `config/` is the ground (it names
//! no module above it), `domain/` names no module of the HTTP edge, and the start-up files and
//! the two tenant files form no import circle. A forbidden `use` fails here, by file and line.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/<dir>`.
fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    assert!(!out.is_empty(), "no files under src/{dir}");
    out
}

fn src(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file)
}

/// The crate-level modules a file names in code (comments left out), with the line: every
/// `crate::m`, each `m` of `crate::{m, …}`, and `super::m` / `super::super::m` where that
/// reaches the crate root from `src/<top>/…`.
fn modules_named(path: &Path) -> Vec<(usize, String)> {
    let relative = path
        .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
        .unwrap();
    modules_in(relative, &std::fs::read_to_string(path).unwrap())
}

/// [`modules_named`] of `text`, as if it were `src/<relative>`.
fn modules_in(relative: &Path, text: &str) -> Vec<(usize, String)> {
    let depth = relative.components().count();
    let is_mod = relative.file_name().is_some_and(|f| f == "mod.rs");
    // How many `super::` lead from this file to the crate root.
    let to_root = if is_mod { depth - 1 } else { depth };
    let root = format!("{}::", "super::".repeat(to_root).trim_end_matches("::"));
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut prefixes = vec!["crate::".to_string()];
        if to_root > 0 {
            prefixes.push(root.clone());
        }
        for prefix in &prefixes {
            for (at, _) in code.match_indices(prefix.as_str()) {
                // `super::super::x` also contains `super::x`: take the longest match only.
                if prefix.starts_with("super::") && code[..at].ends_with("super::") {
                    continue;
                }
                let rest = &code[at + prefix.len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    let group = group.split('}').next().unwrap_or_default();
                    for item in group.split(',') {
                        let name = item.trim().split("::").next().unwrap_or_default();
                        out.push((n + 1, name.trim().to_string()));
                    }
                } else {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if name != "super" {
                        out.push((n + 1, name));
                    }
                }
            }
        }
    }
    out
}

/// Every use of a module in `forbidden` by a file under `dir`, as `file:line: module`.
fn violations(paths: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for path in paths {
        for (line, module) in modules_named(path) {
            if forbidden.contains(&module.as_str()) {
                out.push(format!("{}:{line}: {module}", path.display()));
            }
        }
    }
    out
}

#[test]
fn config_is_the_ground_and_domain_does_not_reach_the_http_edge() {
    let above_config = [
        "auth",
        "connect",
        "store",
        "error",
        "http",
        "delivery",
        "jsm",
        "forge",
        "cli",
        "startup",
        "sandbox",
        "sim",
        "outbound",
        "metrics",
        "telemetry",
    ];
    let found = violations(&files("config"), &above_config);
    assert!(
        found.is_empty(),
        "config/ names modules above it:\n{}",
        found.join("\n")
    );
    let found = violations(
        &files("domain"),
        &["auth", "connect", "store", "error", "http"],
    );
    assert!(
        found.is_empty(),
        "domain/ names modules above it:\n{}",
        found.join("\n")
    );
}

#[test]
fn startup_files_and_tenant_files_form_no_circle() {
    let found = violations(&[src("startup.rs"), src("sandbox.rs")], &["cli"]);
    assert!(
        found.is_empty(),
        "cli/ → startup/sandbox only:\n{}",
        found.join("\n")
    );
    let found = violations(&[src("sandbox.rs")], &["startup"]);
    assert!(
        found.is_empty(),
        "startup → sandbox only:\n{}",
        found.join("\n")
    );
    let tenants = std::fs::read_to_string(src("delivery/tenants.rs")).unwrap();
    let named: Vec<&str> = tenants
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .filter(|code| code.contains("forge_tenants"))
        .collect();
    assert!(named.is_empty(), "forge_tenants → tenants only: {named:?}");
}

#[test]
fn the_reader_sees_every_form_of_a_path() {
    let text = "use crate::{auth::keys, config::Secret};\n\
                // crate::store in a comment\n\
                let a = crate::store::Store;\n\
                use super::super::connect::base_hosts;\n\
                use super::sender;\n";
    let named = |file: &str| -> Vec<String> {
        modules_in(Path::new(file), text)
            .into_iter()
            .map(|(line, m)| format!("{line}:{m}"))
            .collect()
    };
    assert_eq!(
        named("config/validate.rs"),
        ["1:auth", "1:config", "3:store", "4:connect"]
    );
    assert_eq!(
        named("config/mod.rs"),
        ["1:auth", "1:config", "3:store", "5:sender"]
    );
}
