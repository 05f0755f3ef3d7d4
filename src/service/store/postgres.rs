//! PostgreSQL: the store for several `serve` instances.
//!
//! A refresh claims its connection's lease (a compare-and-set UPDATE), so instances on other
//! machines wait for it, then see the new generation and reuse its token. If an instance dies
//! while holding the lease, it stops renewing it and another instance claims it once it
//! expires.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::changes::{self, CHANNEL, Feed, Watcher};
use super::{
    ConnectPageRecord, ConnectionRecord, DatabaseError, Lease, OutboxEvent, PendingRecord, Sealed,
    bind_connection, bind_pending, bind_token_update, fetch_one, impl_store, insert_event,
    pool_options, read_connect_page, read_connection, read_pending, sql, to_json,
};

/// How long a request waits for a pooled database connection before reporting the database
/// as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Changes written here and, once listening, by every other instance.
    feed: Arc<Feed>,
    /// The one connection that listens for other instances' changes, opened at the first
    /// watch.
    listening: Arc<OnceLock<()>>,
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
        Ok(Self {
            pool,
            feed: Arc::new(Feed::default()),
            listening: Arc::default(),
        })
    }

    /// Tells every instance's listener of a change, inside the writing transaction: the
    /// notification is delivered when the transaction commits, and never when it rolls back.
    async fn announce(
        connection: &mut sqlx::PgConnection,
        provider: &str,
        connection_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(changes::payload(provider, connection_id))
            .execute(connection)
            .await?;
        Ok(())
    }

    fn watch_changes(&self, watcher: Arc<dyn Watcher>) {
        self.listening.get_or_init(|| {
            // A pool of its own, so the listening connection never holds one of the pool the
            // requests share, and a lost one is opened again there.
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(self.pool.connect_options().as_ref().clone());
            tokio::spawn(changes::listen(pool, Arc::clone(&self.feed)));
        });
        self.feed.add(watcher);
    }
}

impl_store!(PostgresStore);
