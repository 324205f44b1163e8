//! Erase on both backends: the texts failed runs left lose the person and keep what happened,
//! and an email with non-ASCII capitals is found (listed, counted, erased) in any case.

use super::{EraseTarget, SignupFilter, Store};
use crate::domain::now_ms;

/// Every text column of `table`'s rows of signup `id` (`key` names its id column), joined.
async fn texts(store: &Store, table: &str, key: &str, id: &str) -> String {
    let columns: Vec<&str> = match table {
        "signups" => vec![
            "id",
            "source_id",
            "idempotency_key",
            "fingerprint",
            "tenant",
            "email",
            "display_name",
            "status",
            "resolution",
            "customer",
            "last_error",
            "lease_owner",
            "trace_parent",
            "last_error_detail",
        ],
        _ => vec!["outcome", "error", "detail"],
    };
    let mut all = String::new();
    for column in columns {
        let values: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM {table} WHERE {key} = $1"
        )))
        .bind(id)
        .fetch_all(&store.reader)
        .await
        .unwrap();
        for value in values.into_iter().flatten() {
            all.push_str(&value);
            all.push('\n');
        }
    }
    all
}

async fn fail_with(store: &Store, id: &str, detail: &str) {
    sqlx::query(
        "UPDATE signups SET status = 'failed', completed_at = $2, attempts = 2,
             last_error = 'rejected: JSM refused the customer (400) (step create)',
             last_error_detail = $3,
             customer = '{\"accountId\":\"qm:9\",\"displayName\":\"E. Erase\",\"emailAddress\":\"erin.erase@example.com\"}'
         WHERE id = $1",
    )
    .bind(id)
    .bind(now_ms())
    .bind(detail)
    .execute(&store.writer)
    .await
    .unwrap();
    for (run, outcome, text) in [
        (
            1,
            "retry",
            "create: JSM answered 503: Erin Erase <e***@example.com> later",
        ),
        (2, "failed", detail),
    ] {
        sqlx::query(
            "INSERT INTO signup_attempts (signup_id, run, at, outcome, error, detail)
             VALUES ($1, $2, $3, $4, 'rejected: JSM refused the customer (400) (step create)', $5)",
        )
        .bind(id)
        .bind(run as i64)
        .bind(now_ms())
        .bind(outcome)
        .bind(text)
        .execute(&store.writer)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn erase_leaves_no_trace_of_the_person_in_failure_texts() {
    for db in super::test_db::each("erase_leaves_no_trace_of_the_person_in_failure_texts").await {
        let store = Store::open(&db.url).await.unwrap();
        let mut erin = super::test_db::record(1, "k1");
        erin.email = "Erin.Erase@example.com".into();
        erin.display_name = "Erin Erase".into();
        let other = super::test_db::record(2, "k2");
        store.insert_signup(&erin).await.unwrap();
        store.insert_signup(&other).await.unwrap();
        let detail = "create: JSM rejected the request (400): The customer 'Erin Erase' \
                      (e***@example.com, erin) is invalid";
        fail_with(&store, &erin.id, detail).await;
        fail_with(
            &store,
            &other.id,
            "create: JSM rejected the request (400): u2 is bad",
        )
        .await;

        let erased = store
            .erase(&EraseTarget::Email("ERIN.erase@example.COM".into()), "test")
            .await
            .unwrap();
        assert_eq!(erased.len(), 1, "{:?}", db.backend);

        let left = texts(&store, "signups", "id", &erin.id).await
            + &texts(&store, "signup_attempts", "signup_id", &erin.id).await;
        let lower = left.to_lowercase();
        for personal in ["erin", "e***@", "e. erase", "@example.com"] {
            assert!(
                !lower.contains(personal),
                "{personal} in {left} ({:?})",
                db.backend
            );
        }
        // What happened stays: the step, the HTTP status, JSM's words, the summaries.
        let signup = store.signup(&erin.id).await.unwrap().unwrap();
        assert_eq!(
            signup.last_error.as_deref(),
            Some("rejected: JSM refused the customer (400) (step create)")
        );
        let runs = store.signup_attempts(&erin.id, 10).await.unwrap();
        assert_eq!(
            runs.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>(),
            [
                "create: JSM answered 503: [erased] <[erased]> later",
                "create: JSM rejected the request (400): The customer '[erased]' ([erased], \
                 [erased]) is invalid",
            ]
        );
        assert_eq!(runs[1].outcome, "failed");
        // Another person is untouched, and the audit entry names ids only.
        let kept = texts(&store, "signup_attempts", "signup_id", &other.id).await;
        assert!(kept.contains("u2 is bad"), "{kept}");
        let audit = store.audit_page(None, 10).await.unwrap();
        assert_eq!(audit[0].signup_ids, [erin.id.clone()]);
        let entry = format!("{:?}", audit[0]).to_lowercase();
        assert!(
            !entry.contains("erin") && !entry.contains("example.com"),
            "{entry}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn non_ascii_capitals_are_found_in_any_case_on_both_backends() {
    for db in
        super::test_db::each("non_ascii_capitals_are_found_in_any_case_on_both_backends").await
    {
        let store = Store::open(&db.url).await.unwrap();
        let cases = [
            // Few non-ASCII letters: the listed forms, through the index.
            (
                "ÉMILE@Exämple.com",
                "émile@EXÄMPLE.com",
                "emile@exämple.com",
            ),
            // Many: the wildcard scan, filtered in Rust (the decoy differs in one letter).
            ("ДМИТРИЙ@ПОЧТА.РФ", "дмитрий@почта.рф", "дмитрии@почта.рф"),
        ];
        for (n, (stored, searched, decoy)) in cases.into_iter().enumerate() {
            let mut record = super::test_db::record(10 * n + 1, &format!("a{n}"));
            record.email = stored.into();
            let mut lookalike = super::test_db::record(10 * n + 2, &format!("b{n}"));
            lookalike.email = decoy.into();
            store.insert_signup(&record).await.unwrap();
            store.insert_signup(&lookalike).await.unwrap();
            let why = format!("{stored} searched as {searched} on {:?}", db.backend);

            let console = store.signups_by_email(searched, 10).await.unwrap();
            assert_eq!(console.len(), 1, "{why}");
            assert_eq!(console[0].id, record.id, "{why}");
            let filter = SignupFilter {
                email: Some(searched.into()),
                ..Default::default()
            };
            let listed = store.find_signups(&filter, 10).await.unwrap();
            assert_eq!(listed.len(), 1, "{why}");
            assert_eq!(listed[0].id, record.id, "{why}");
            let counts = store.count_signups(&filter).await.unwrap();
            assert_eq!(counts.iter().map(|(_, c)| c).sum::<u64>(), 1, "{why}");
            let target = EraseTarget::Email(searched.into());
            assert_eq!(store.erasable(&target).await.unwrap().len(), 1, "{why}");
            // By id, the stored form is the one searched.
            let by_id = EraseTarget::Id(record.id.clone());
            let erased = store.erase(&by_id, "test").await.unwrap();
            assert_eq!(erased.len(), 1, "{why}");
            assert!(store.signup(&record.id).await.unwrap().unwrap().is_erased());
            let decoy_left = store.signup(&lookalike.id).await.unwrap().unwrap();
            assert_eq!(decoy_left.email, decoy, "{why}");
        }
        store.close().await;
    }
}
