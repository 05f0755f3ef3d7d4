//! PostgreSQL: the store for several `serve` instances.
//!
//! A refresh claims its connection's lease (a compare-and-set UPDATE), so instances on other
//! machines wait for it, then see the new generation and reuse its token. If an instance dies
//! while holding the lease, it stops renewing it and another instance claims it once it
//! expires.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{
    ConnectPageRecord, ConnectionRecord, DatabaseError, Lease, OutboxEvent, PendingRecord, Sealed,
    bind_connection, bind_pending, bind_token_update, impl_store, insert_event, pool_options,
    read_connect_page, read_connection, read_pending, sql, to_json,
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
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

    /// Connects to and migrates the database at a `postgres://` URL.
    pub async fn open(url: &str) -> Result<Self, DatabaseError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| DatabaseError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = pool_options!(PgPoolOptions::new())
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                DatabaseError::Unavailable(format!("cannot connect to PostgreSQL: {e}"))
            })?;
        // Migrations take PostgreSQL's advisory lock, so instances starting together migrate
        // once.
        Self::MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| DatabaseError::Migration(e.to_string()))?;
        Ok(Self { pool })
    }
}

impl_store!(PostgresStore);
