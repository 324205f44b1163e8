//! `import` (SPEC §20): a file becomes signups of a source, keyed by `import:` + SHA-256 of the
//! lowercased email; a second run stores nothing new; invalid rows are reported by line and
//! skipped; `--dry-run` stores nothing; `--wait` follows the running `serve` delivering them.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::helpers::*;
use crate::process::run_cli;

/// A config for the CLI on the running app's database, tenant and source.
fn cli_config(app: &TestApp) -> PathBuf {
    let path = app.dir.path().join("import.toml");
    let toml = format!(
        "[database]\nurl = {:?}\n\n[[tenants]]\nid = {TENANT:?}\nbase_url = {:?}\n\
         auth = {{ type = \"basic\", email = {JSM_EMAIL:?}, api_token = {JSM_TOKEN:?} }}\n\n\
         [[sources]]\nid = {SOURCE:?}\ntenant = {TENANT:?}\nsecret = {SECRET:?}\n\
         blocked_email_domains = [\"blocked.example\"]\n",
        app.config.database.url, app.sim.base_url
    );
    std::fs::write(&path, toml).unwrap();
    path
}

const CSV: &str = "name,email,plan\n\
Ann Import,Ann@Example.com,pro\n\
Bob,not-an-email,free\n\
,cy@example.com,free\n\
Dee,dee@blocked.example,pro\n\
Eve,eve@example.org,pro\n";

#[tokio::test]
async fn a_csv_import_stores_each_person_once_and_reports_bad_lines() {
    let app = spawn_app().await;
    let config = cli_config(&app);
    let file = app.dir.path().join("people.csv");
    std::fs::write(&file, CSV).unwrap();
    let file = file.to_str().unwrap();

    let (code, stdout, stderr) =
        run_cli(&config, &["import", file, "--source", SOURCE, "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("line 3: email:"), "{stderr}");
    assert!(
        stderr.contains("line 5: email_domain_not_allowed"),
        "{stderr}"
    );
    assert!(stdout.contains("5 row(s): 3 valid, 2 invalid"), "{stdout}");
    assert_eq!(app.stored_signups().await, 0, "a dry run stores nothing");

    // In the background: the test's runtime must stay free to run the app that delivers.
    let (cli, path) = (config.clone(), file.to_string());
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        run_cli(&cli, &["import", &path, "--source", SOURCE, "--wait"])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("3 stored, 0 already there"), "{stdout}");
    // Not a terminal: plain progress lines instead of bars.
    assert!(stderr.contains("5/5 rows stored"), "{stderr}");
    assert!(stderr.contains("3/3 rows delivered"), "{stderr}");
    assert!(
        stdout.contains("delivered: 3 created, 0 existing, 0 failed"),
        "{stdout}"
    );
    assert_eq!(app.stored_signups().await, 3);
    let key = format!(
        "import:{}",
        hex::encode(Sha256::digest("ann@example.com".as_bytes()))
    );
    let ann = app.store.find_by_key(SOURCE, &key).await.unwrap().unwrap();
    assert_eq!(ann.email, "Ann@Example.com");
    assert_eq!(ann.display_name, "Ann Import");
    assert_eq!(ann.status.as_str(), "created");
    assert_eq!(app.creates().len(), 3);

    // Again: nothing new is stored, nothing is sent again.
    let (code, stdout, _) = run_cli(&config, &["import", file, "--source", SOURCE]);
    assert_eq!(code, 0);
    assert!(stdout.contains("0 stored, 3 already there"), "{stdout}");
    assert_eq!(app.stored_signups().await, 3);
    assert_eq!(app.creates().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn json_lines_with_named_columns() {
    let app = spawn_app().await;
    let config = cli_config(&app);
    let file = app.dir.path().join("people.txt");
    std::fs::write(
        &file,
        "{\"mail\":\"jo@example.com\",\"full\":\"Jo Lines\"}\n\n{\"mail\":3}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_cli(
        &config,
        &[
            "import",
            file.to_str().unwrap(),
            "--source",
            SOURCE,
            "--email-column",
            "mail",
            "--name-column",
            "full",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("line 3:"), "{stderr}");
    assert!(stdout.contains("2 row(s): 1 valid, 1 invalid"), "{stdout}");
    let key = format!(
        "import:{}",
        hex::encode(Sha256::digest("jo@example.com".as_bytes()))
    );
    let jo = app.store.find_by_key(SOURCE, &key).await.unwrap().unwrap();
    assert_eq!(jo.display_name, "Jo Lines");
    // An unknown source is a usage error.
    let (code, _, _) = run_cli(&config, &["import", "x.csv", "--source", "nobody"]);
    assert_eq!(code, 2);
    app.stop().await;
}

crate::backends::also_on_postgres!(a_csv_import_stores_each_person_once_and_reports_bad_lines);

#[tokio::test]
async fn no_welcome_leaves_the_welcome_request_out_of_imported_signups() {
    let app = spawn_app().await;
    let config = cli_config(&app);
    let welcome =
        "welcome_request = { service_desk_id = 10, request_type_id = 5, summary = \"Hi\" }\n";
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\n\n[[sources]]", &format!("\n{welcome}\n[[sources]]"));
    std::fs::write(&config, text).unwrap();
    let steps_of = |email: &'static str| {
        let store = app.store.clone();
        async move {
            let key = format!("import:{}", hex::encode(Sha256::digest(email.as_bytes())));
            let signup = store.find_by_key(SOURCE, &key).await.unwrap().unwrap();
            signup.steps.into_iter().map(|s| s.name).collect::<Vec<_>>()
        }
    };
    for (email, flags, want) in [
        ("old@example.com", &["--no-welcome"][..], vec!["create"]),
        (
            "new@example.com",
            &[][..],
            vec!["create", "welcome_request:10:5"],
        ),
    ] {
        let file = app.dir.path().join("one.csv");
        std::fs::write(&file, format!("email\n{email}\n")).unwrap();
        let mut args = vec!["import".to_string(), file.to_str().unwrap().into()];
        args.extend(
            ["--source", SOURCE]
                .iter()
                .chain(flags)
                .map(|a| a.to_string()),
        );
        // Off the runtime: the app delivering the first row meanwhile must not be starved.
        let cli = config.clone();
        let (code, _, stderr) = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&cli, &args)
        })
        .await
        .unwrap();
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(steps_of(email).await, want, "{flags:?}");
    }
    app.stop().await;
}
