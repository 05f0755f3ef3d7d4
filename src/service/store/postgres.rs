//! PostgreSQL: the store for several `serve` instances.
//!
//! A refresh locks its connection's row (`SELECT ... FOR UPDATE` inside a transaction), so
//! instances on other machines wait for it, then see the new generation and reuse its token.
//! If an instance dies while holding the lock, PostgreSQL ends its session, rolls back and
//! frees the row.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use super::{
    ConnectionLock, ConnectionRecord, DatabaseError, PendingRecord, bind_connection, bind_pending,
    bind_token_update, impl_store, read_connection, read_pending, sql, to_json,
};

/// How long a request waits for a pooled database connection before reporting the database
/// as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Appended to the locking SELECT.
    const LOCK_SUFFIX: &'static str = " FOR UPDATE";

    /// Connects to and migrates the database at a `postgres://` URL.
    pub async fn open(url: &str) -> Result<Self, DatabaseError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| DatabaseError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                DatabaseError::Unavailable(format!("cannot connect to PostgreSQL: {e}"))
            })?;
        // Migrations take PostgreSQL's advisory lock, so instances starting together migrate
        // once.
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| DatabaseError::Migration(e.to_string()))?;
        Ok(Self { pool })
    }

    async fn begin_locked(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

impl_store!(PostgresStore, Postgres, PostgresLock);
