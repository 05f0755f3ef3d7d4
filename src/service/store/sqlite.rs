//! SQLite: the default store, one file on one machine, created on first start.
//!
//! WAL journal so readers never wait for the writer; `synchronous = FULL` so a committed
//! refresh survives a power cut, not only a crash; a long busy timeout because a refresh holds
//! the write lock (`BEGIN IMMEDIATE`) while it talks to the provider, and every other writer
//! queues behind it instead of failing.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use super::{
    ConnectionLock, ConnectionRecord, DatabaseError, PendingRecord, bind_connection, bind_pending,
    bind_token_update, impl_store, read_connection, read_pending, sql, to_json,
};

/// How long a writer waits for the lock (a refresh in flight, with its retries).
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Appended to the locking SELECT: nothing, the transaction itself holds the lock.
    const LOCK_SUFFIX: &'static str = "";

    /// Opens (creating if missing) and migrates the database at a `sqlite://PATH` URL.
    pub async fn open(url: &str) -> Result<Self, DatabaseError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| DatabaseError::Unavailable(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| DatabaseError::Unavailable(format!("cannot open {url}: {e}")))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| DatabaseError::Migration(e.to_string()))?;
        Ok(Self { pool })
    }

    /// A write transaction: `BEGIN IMMEDIATE` takes SQLite's one write lock up front, which
    /// every other process on the file respects.
    async fn begin_locked(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

impl_store!(SqliteStore, Sqlite, SqliteLock);
