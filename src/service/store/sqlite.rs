//! SQLite: the default store, one file on one machine, created on first start.
//!
//! WAL journal so readers never wait for the writer; `synchronous = FULL` so a committed
//! refresh survives a power cut, not only a crash. Every write is one short statement (a
//! refresh holds a lease on its row, never SQLite's write lock, while it talks to the
//! provider), so the busy timeout only covers other short writes; past it the database is
//! reported unavailable (503) rather than waited on.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::changes::{Feed, Watcher};
use super::{
    ConnectPageRecord, ConnectionRecord, DatabaseError, Lease, OutboxEvent, PendingRecord, Sealed,
    bind_connection, bind_pending, bind_token_update, fetch_one, impl_store, insert_event,
    pool_options, read_connect_page, read_connection, read_pending, redacted_url, sql, to_json,
};

/// How long a writer waits for another's short write, and a request for a pooled connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// One process owns the file: every change is made, and heard, here.
    feed: Arc<Feed>,
}

impl SqliteStore {
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

    /// Opens (creating if missing) and migrates the database at a `sqlite://PATH` URL.
    pub async fn open(url: &str) -> Result<Self, DatabaseError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| DatabaseError::Unavailable(format!("{}: {e}", redacted_url(url))))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = pool_options!(SqlitePoolOptions::new())
            .max_connections(8)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                DatabaseError::Unavailable(format!("cannot open {}: {e}", redacted_url(url)))
            })?;
        Self::MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| DatabaseError::Migration(e.to_string()))?;
        Ok(Self {
            pool,
            feed: Arc::new(Feed::local()),
        })
    }

    /// Nothing to tell: no other process shares the file.
    async fn announce(
        _connection: &mut sqlx::SqliteConnection,
        _provider: &str,
        _connection_id: &str,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    fn watch_changes(&self, watcher: Arc<dyn Watcher>) {
        self.feed.add(watcher);
    }

    /// The pool, for tests that misuse a connection the way a failure would.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl_store!(SqliteStore);
