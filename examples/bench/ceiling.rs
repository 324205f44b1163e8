//! The per-commit ceiling: one connection, WAL, `synchronous = FULL`, one INSERT per commit.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

pub async fn run(args: &[String]) -> anyhow::Result<()> {
    let secs: f64 = args.first().map_or(Ok(5.0), |s| s.parse())?;
    let path = args.get(1).map_or("ceiling.db", String::as_str);
    let mut conn = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&mut conn)
        .await?;
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut commits = 0u64;
    while Instant::now() < until {
        sqlx::query("INSERT INTO t (body) VALUES (?1)")
            .bind("a signup-sized row of about one hundred bytes, written and fsynced on its own")
            .execute(&mut conn)
            .await?;
        commits += 1;
    }
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    println!("RESULT commits={commits} rps={rate:.1}");
    Ok(())
}
