//! The operator's lookups (`signups list` with filters, `signups stats`): read only, through
//! the read pool. Emails are matched in Unicode lowercase on both backends, as uniqueness and
//! fingerprints compare them (`email_match`).

use sqlx::Row;

use super::Store;
use super::email_match::EmailMatch;
use crate::domain::SignupStatus;

/// Which signups `signups list` and `signups stats` look at; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct SignupFilter {
    pub status: Option<SignupStatus>,
    /// Compared case-insensitively (Unicode lowercase) with the stored email.
    pub email: Option<String>,
    pub source: Option<String>,
    pub tenant: Option<String>,
}

/// One line of `signups list`.
#[derive(Debug, Clone)]
pub struct SignupLine {
    pub id: String,
    pub status: SignupStatus,
    pub tenant: String,
    pub source: String,
    pub email: String,
    pub attempts: u32,
    pub updated_at: i64,
    /// `<category>: <short reason>`, as API answers show it (never an email or a secret).
    pub last_error: Option<String>,
}

/// The conditions but the email's, on `$1`…`$3`.
const WHERE: &str = "($1 IS NULL OR status = $1) AND ($2 IS NULL OR source_id = $2)
     AND ($3 IS NULL OR tenant = $3)";

/// The email's condition, numbered from `$4`, when the filter has one.
fn email_match(filter: &SignupFilter) -> Option<EmailMatch> {
    filter.email.as_deref().map(|e| EmailMatch::new(e, 4))
}

/// `WHERE` with the email's condition when there is one; the number of the next parameter.
fn where_clause(email: Option<&EmailMatch>) -> (String, usize) {
    match email {
        Some(m) => (format!("{WHERE} AND {}", m.sql()), m.next_param(4)),
        None => (WHERE.to_string(), 4),
    }
}

impl Store {
    /// Signups matching `filter`, most recently updated first, at most `limit`.
    pub async fn find_signups(
        &self,
        filter: &SignupFilter,
        limit: u32,
    ) -> Result<Vec<SignupLine>, sqlx::Error> {
        let email = email_match(filter);
        let (conditions, next) = where_clause(email.as_ref());
        let sql = format!(
            "SELECT id, status, tenant, source_id, email, attempts, updated_at, last_error
             FROM signups WHERE {conditions} ORDER BY updated_at DESC, id LIMIT ${next}"
        );
        let rows = bind(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            filter,
            email.as_ref(),
        )
        .bind(limit as i64)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .filter(|r| accepted(email.as_ref(), r))
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(SignupLine {
                    id: r.try_get("id")?,
                    status: SignupStatus::parse(&status).unwrap_or(SignupStatus::Pending),
                    tenant: r.try_get("tenant")?,
                    source: r.try_get("source_id")?,
                    email: r.try_get("email")?,
                    attempts: r.try_get::<i64, _>("attempts")? as u32,
                    updated_at: r.try_get("updated_at")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// How many signups matching `filter` are in each status (statuses with none left out).
    pub async fn count_signups(
        &self,
        filter: &SignupFilter,
    ) -> Result<Vec<(SignupStatus, u64)>, sqlx::Error> {
        let email = email_match(filter);
        let (conditions, _) = where_clause(email.as_ref());
        // With an email, one person's rows are counted here (the email's scan may return
        // others, see `email_match`); without, the database counts.
        let sql = match email {
            Some(_) => format!("SELECT status, email FROM signups WHERE {conditions}"),
            None => format!(
                "SELECT status, '' AS email, COUNT(*) AS n FROM signups WHERE {conditions}
                 GROUP BY status"
            ),
        };
        let rows = bind(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            filter,
            email.as_ref(),
        )
        .fetch_all(&self.reader)
        .await?;
        let mut counts: Vec<(SignupStatus, u64)> = Vec::new();
        for r in rows.iter().filter(|r| accepted(email.as_ref(), r)) {
            let status: String = r.try_get("status")?;
            let Some(status) = SignupStatus::parse(&status) else {
                continue;
            };
            let n = match email {
                Some(_) => 1,
                None => r.try_get::<i64, _>("n")?.max(0) as u64,
            };
            match counts.iter_mut().find(|(s, _)| *s == status) {
                Some((_, total)) => *total += n,
                None => counts.push((status, n)),
            }
        }
        Ok(counts)
    }
}

fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    filter: &SignupFilter,
    email: Option<&EmailMatch>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let mut query = query
        .bind(filter.status.map(SignupStatus::as_str))
        .bind(filter.source.clone())
        .bind(filter.tenant.clone());
    for form in email.map(EmailMatch::binds).unwrap_or_default() {
        query = query.bind(form.clone());
    }
    query
}

/// Whether a row is the searched person's (always, without an email in the filter).
fn accepted(email: Option<&EmailMatch>, row: &sqlx::any::AnyRow) -> bool {
    email.is_none_or(|m| {
        row.try_get::<String, _>("email")
            .is_ok_and(|stored| m.accepts(&stored))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_db;

    #[tokio::test]
    async fn filters_and_counts_agree_on_both_backends() {
        for db in test_db::each("filters_and_counts_agree_on_both_backends").await {
            let store = Store::open(&db.url).await.unwrap();
            for (n, key) in ["a", "b", "c"].into_iter().enumerate() {
                let mut record = test_db::record(n, key);
                if n == 2 {
                    record.tenant = "other".into();
                    record.source_id = "src2".into();
                }
                store.insert_signup(&record).await.unwrap();
            }
            let all = SignupFilter::default();
            assert_eq!(store.find_signups(&all, 10).await.unwrap().len(), 3);
            let by_email = SignupFilter {
                email: Some(" U1@Example.COM ".into()),
                ..all.clone()
            };
            let found = store.find_signups(&by_email, 10).await.unwrap();
            assert_eq!(found.len(), 1, "{:?}", db.backend);
            assert_eq!(found[0].id, "id-1");
            let by_tenant = SignupFilter {
                tenant: Some("other".into()),
                ..all.clone()
            };
            assert_eq!(
                store.find_signups(&by_tenant, 10).await.unwrap()[0].source,
                "src2"
            );
            let by_source = SignupFilter {
                source: Some("src".into()),
                status: Some(SignupStatus::Pending),
                ..all.clone()
            };
            assert_eq!(store.find_signups(&by_source, 10).await.unwrap().len(), 2);
            assert_eq!(
                store.count_signups(&all).await.unwrap(),
                vec![(SignupStatus::Pending, 3)]
            );
            let none = SignupFilter {
                status: Some(SignupStatus::Failed),
                ..all
            };
            assert!(store.count_signups(&none).await.unwrap().is_empty());
            store.close().await;
        }
    }
}
