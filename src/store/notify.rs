//! Wake-ups across instances: PostgreSQL `LISTEN/NOTIFY` on one channel per database schema
//! (`signup_bridge`, or `signup_bridge.<schema>` outside `public`).
//!
//! An instance announces that work became due (a new signup, a Forge token that unblocks a
//! tenant) or that a signup's state changed (an outcome recorded), and every instance on the
//! database hears it: workers claim at once instead of at their next poll, and an inline wait
//! sees an outcome recorded by another instance's worker. Notifications are a shortcut, never
//! the only path: they are lost while a listener reconnects, so workers keep polling and an
//! inline wait re-reads the signup when it ends. On SQLite (one process) announcing is a no-op.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::Store;
use super::backend::Backend;

/// What an instance announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Work may be due: workers should claim now.
    Due,
    /// This signup's state changed.
    Changed(String),
}

impl Notice {
    pub(super) fn payload(&self) -> String {
        match self {
            Self::Due => "due".into(),
            Self::Changed(id) => format!("changed:{id}"),
        }
    }

    fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':') {
            None if payload == "due" => Some(Self::Due),
            Some(("changed", id)) if !id.is_empty() => Some(Self::Changed(id.to_string())),
            _ => None,
        }
    }
}

impl Store {
    /// Tell every instance on the database (this one included). Best effort: a failure is
    /// logged, and the other instances find the work at their next poll.
    pub async fn announce(&self, notice: &Notice) {
        if self.backend != Backend::Postgres {
            return;
        }
        let sent = sqlx::query("SELECT 1 FROM pg_notify($1, $2)")
            .bind(&*self.channel)
            .bind(notice.payload())
            .execute(&self.writer)
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "could not notify the other instances");
        }
    }

    /// The announcements of every instance, on PostgreSQL (connected before this returns
    /// when the server answers, so nothing announced after it is missed); `None` on SQLite.
    pub async fn listen(&self) -> Option<Notices> {
        if self.backend != Backend::Postgres {
            return None;
        }
        let mut notices = Notices {
            url: self.url.to_string(),
            channel: self.channel.to_string(),
            listener: None,
        };
        notices.listener = notices.connect().await.ok();
        Some(notices)
    }
}

/// A listener that reconnects by itself.
pub struct Notices {
    url: String,
    channel: String,
    listener: Option<PgListener>,
}

impl Notices {
    /// The next announcement. After a lost connection it answers `Due` once reconnected:
    /// whatever was announced meanwhile is lost, so the caller looks for work.
    pub async fn next(&mut self) -> Notice {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match self.connect().await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        return Notice::Due;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for other instances; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(notice) = Notice::parse(notification.payload()) {
                        return notice;
                    }
                }
                // The connection was lost: reconnect (and look for work) on the next turn.
                Ok(None) | Err(_) => self.listener = None,
            }
        }
    }

    async fn connect(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(&self.channel).await?;
        Ok(listener)
    }
}

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn notices_round_trip_and_strangers_are_ignored() {
        for notice in [Notice::Due, Notice::Changed("0190-abc".into())] {
            assert_eq!(Notice::parse(&notice.payload()), Some(notice));
        }
        for stranger in ["", "changed:", "due:1", "other:1", "Due"] {
            assert_eq!(Notice::parse(stranger), None, "{stranger:?}");
        }
    }
}
