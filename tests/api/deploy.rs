//! The deploy files are code: every probe path, port, subcommand, environment variable and
//! config key they name is checked against the real binary (SPEC §19).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_norway::Value;

use super::helpers::*;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect()
}

fn str_of<'v>(value: &'v Value, path: &[&str]) -> &'v str {
    let mut v = value;
    for key in path {
        v = &v[*key];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string"))
}

/// A `SIGNUP_BRIDGE_*` name the binary does not contain is a typo the binary ignores.
fn assert_known_env(name: &str) {
    if !name.starts_with("SIGNUP_BRIDGE_") {
        return;
    }
    let binary = std::fs::read(binary()).unwrap();
    assert!(
        binary.windows(name.len()).any(|w| w == name.as_bytes()),
        "{name} is not read by the binary"
    );
}

/// `signup-bridge ARGS --help` exits 0: the subcommand exists.
fn assert_subcommand(args: &[&str]) {
    let status = std::process::Command::new(binary())
        .args(args)
        .arg("--help")
        .output()
        .unwrap()
        .status;
    assert!(
        status.success(),
        "`signup-bridge {args:?}` is no subcommand"
    );
}

/// `check-config` with this config text and environment: exit 0, and the effective config.
fn effective_config(toml: &str, env: &BTreeMap<String, String>) -> toml::Table {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bridge.toml");
    std::fs::write(&path, toml).unwrap();
    let output = std::process::Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&path)
        .env_remove("SIGNUP_BRIDGE_CONFIG")
        .envs(env.iter().filter(|(k, _)| *k != "SIGNUP_BRIDGE_CONFIG"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "check-config: {stderr}");
    stdout.parse().unwrap()
}

fn listen_port(config: &toml::Table) -> u16 {
    let listen = config["server"]["listen"].as_str().unwrap();
    listen.rsplit_once(':').unwrap().1.parse().unwrap()
}

async fn assert_probe_path(path: &str) {
    let app = spawn_app().await;
    let status = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200, "probe path {path}");
}

#[tokio::test]
async fn kubernetes_manifests_name_what_the_binary_serves() {
    let mut docs = Vec::new();
    for file in [
        "config.yaml",
        "statefulset-sqlite.yaml",
        "deployment-postgres.yaml",
    ] {
        docs.extend(yaml_documents(&repo(&format!("deploy/kubernetes/{file}"))));
    }
    let kind = |d: &Value| d["kind"].as_str().unwrap_or_default().to_string();
    let config_map = docs.iter().find(|d| kind(d) == "ConfigMap").unwrap();
    let bridge_toml = str_of(config_map, &["data", "bridge.toml"]);
    let secret = docs.iter().find(|d| kind(d) == "Secret").unwrap();
    let workloads: Vec<&Value> = docs
        .iter()
        .filter(|d| ["StatefulSet", "Deployment"].contains(&kind(d).as_str()))
        .collect();
    assert_eq!(
        workloads.len(),
        2,
        "a StatefulSet for SQLite, a Deployment for PostgreSQL"
    );
    for workload in workloads {
        let name = format!(
            "{} {}",
            kind(workload),
            str_of(workload, &["metadata", "name"])
        );
        let pod = &workload["spec"]["template"]["spec"];
        assert_eq!(
            pod["securityContext"]["runAsNonRoot"].as_bool(),
            Some(true),
            "{name}"
        );
        let container = &pod["containers"][0];
        let args: Vec<&str> = container["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_subcommand(&args);
        let security = &container["securityContext"];
        assert_eq!(
            security["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{name}"
        );
        assert_eq!(
            security["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{name}"
        );
        assert!(
            container["resources"]["requests"].is_mapping(),
            "{name}: resources"
        );

        let mut env = BTreeMap::new();
        for var in container["env"].as_sequence().unwrap() {
            let key = str_of(var, &["name"]);
            assert_known_env(key);
            env.insert(key.to_string(), str_of(var, &["value"]).to_string());
        }
        for (key, value) in secret["stringData"].as_mapping().unwrap() {
            let key = key.as_str().unwrap();
            assert_known_env(key);
            env.entry(key.to_string())
                .or_insert_with(|| value.as_str().unwrap().to_string());
        }
        // The config file the container reads is the ConfigMap's key at its mount.
        let mount = container["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "config")
            .unwrap();
        assert_eq!(
            env["SIGNUP_BRIDGE_CONFIG"],
            format!("{}/bridge.toml", str_of(mount, &["mountPath"])),
            "{name}"
        );
        let config = effective_config(bridge_toml, &env);
        let port = container["ports"][0]["containerPort"].as_u64().unwrap();
        assert_eq!(u64::from(listen_port(&config)), port, "{name}: port");
        let database = config["database"]["url"].as_str().unwrap();
        if kind(workload) == "StatefulSet" {
            assert_eq!(
                workload["spec"]["replicas"].as_u64(),
                Some(1),
                "SQLite: one writer"
            );
            assert!(database.starts_with("sqlite:///data/"), "{database}");
        } else {
            assert!(database.starts_with("postgres"), "{database}");
        }
        for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let path = str_of(&container[probe], &["httpGet", "path"]);
            assert!(["/healthz", "/readyz"].contains(&path), "{name} {probe}");
            assert_probe_path(path).await;
        }
    }
    let pdb = docs.iter().find(|d| kind(d) == "PodDisruptionBudget");
    assert!(pdb.is_some(), "the Deployment has a PodDisruptionBudget");
}

/// Compose's `${NAME:-default}` / `${NAME:?message}` with test values for the required ones.
fn compose_interpolate(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let expr = &rest[start + 2..end];
        let value = match expr.split_once(":-") {
            Some((_, default)) => default.to_string(),
            None => "a-test-value-of-more-than-thirty-two-bytes".to_string(),
        };
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn the_compose_file_starts_two_instances_in_order() {
    let text = std::fs::read_to_string(repo("deploy/compose.yaml")).unwrap();
    let compose: Value = serde_norway::from_str(&compose_interpolate(&text)).unwrap();
    let services = &compose["services"];
    assert!(services["postgres"]["healthcheck"].is_mapping());
    assert_eq!(
        str_of(
            services,
            &["bridge-1", "depends_on", "postgres", "condition"]
        ),
        "service_healthy"
    );
    assert_eq!(
        str_of(
            services,
            &["bridge-2", "depends_on", "bridge-1", "condition"]
        ),
        "service_healthy",
        "the second instance starts once the first has migrated"
    );
    for name in ["bridge-1", "bridge-2"] {
        let service = &services[name];
        let health: Vec<&str> = service["healthcheck"]["test"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            health[..2],
            ["CMD", "/usr/local/bin/signup-bridge"],
            "{name}"
        );
        assert_subcommand(&health[2..]);
        let command: Vec<&str> = service["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_subcommand(&command);
        let mut env = BTreeMap::new();
        for (key, value) in service["environment"].as_mapping().unwrap() {
            let key = key.as_str().unwrap();
            assert_known_env(key);
            env.insert(key.to_string(), value.as_str().unwrap().to_string());
        }
        let volume = service["volumes"][0].as_str().unwrap();
        let (host, in_container) = volume.split_once(':').unwrap();
        assert!(
            in_container.starts_with(&env["SIGNUP_BRIDGE_CONFIG"]),
            "{name}: config mount"
        );
        let bridge_toml = std::fs::read_to_string(repo("deploy").join(host)).unwrap();
        let config = effective_config(&bridge_toml, &env);
        let published = service["ports"][0].as_str().unwrap();
        let container_port: u16 = published.rsplit_once(':').unwrap().1.parse().unwrap();
        assert_eq!(listen_port(&config), container_port, "{name}: port");
    }
}

#[test]
fn the_systemd_unit_runs_the_binary_hardened() {
    let unit = std::fs::read_to_string(repo("deploy/systemd/signup-bridge.service")).unwrap();
    let values = |key: &str| -> Vec<String> {
        unit.lines()
            .filter_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::to_string)
            .collect()
    };
    let exec = values("ExecStart");
    let args: Vec<&str> = exec[0].split_whitespace().skip(1).collect();
    assert_subcommand(&args);
    for env in values("Environment") {
        assert_known_env(env.split_once('=').unwrap().0);
    }
    assert_eq!(values("User"), ["signup-bridge"]);
    let sysusers = std::fs::read_to_string(repo("deploy/systemd/signup-bridge.sysusers")).unwrap();
    assert!(sysusers.lines().any(|l| l.starts_with("u signup-bridge ")));

    let Ok(output) = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(repo("deploy/systemd/signup-bridge.service"))
        .output()
    else {
        super::skip::skipped(
            "deploy::the_systemd_unit_runs_the_binary_hardened",
            "no systemd-analyze",
        );
        return;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let exposure: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for signup-bridge.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {text}"));
    assert!(exposure <= 2.5, "systemd-analyze security: {exposure}");
}

#[test]
fn the_containerfile_runs_unprivileged_with_a_health_check() {
    let file = std::fs::read_to_string(repo("Containerfile")).unwrap();
    let runtime = file
        .split("FROM scratch")
        .nth(1)
        .expect("a scratch runtime stage");
    for line in [
        "USER 65532:65532",
        "WORKDIR /data",
        "VOLUME [\"/data\"]",
        "EXPOSE 8080",
        "SIGNUP_BRIDGE_LISTEN=0.0.0.0:8080",
        "CMD [\"/usr/local/bin/signup-bridge\", \"healthcheck\"]",
        "org.opencontainers.image.title",
    ] {
        assert!(runtime.contains(line), "the runtime stage lacks {line}");
    }
    assert_known_env("SIGNUP_BRIDGE_LISTEN");
    assert_subcommand(&["healthcheck"]);
}
