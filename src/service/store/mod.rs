//! The connection store: connections and pending authorizations in SQLite (one machine, the
//! default) or PostgreSQL (several instances), behind one trait so the service never knows
//! which.
//!
//! The store only moves rows: tokens arrive already sealed ([`Sealed`]) and leave sealed, so
//! no token in clear ever reaches SQL. Queries are built at run time (no `query!` macros, which
//! would need a live database to compile); the schema lives in `migrations/{sqlite,postgres}`
//! and is migrated when the store opens.
//!
//! Refresh coordination rests on [`Store::lock_connection`]: it holds a database lock on one
//! connection (PostgreSQL: `SELECT ... FOR UPDATE` in a transaction; SQLite: `BEGIN
//! IMMEDIATE`) until the guard writes and commits, or is released. A process that dies while
//! holding it loses its database session, and with it the lock; nothing was written, so the
//! stored refresh token is still the one the provider knows.

mod postgres;
mod sqlite;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use indexmap::IndexMap;
use serde_json::Value;

use super::crypto::Sealed;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Whether a connection can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Tokens are usable (refreshed on demand).
    Active,
    /// The provider refused the refresh token (`invalid_grant`): the user must connect again.
    /// The row is kept, never deleted or overwritten silently.
    ReauthorizationRequired,
}

impl ConnectionStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::ReauthorizationRequired => "reauthorization_required",
        }
    }

    fn parse(text: &str) -> Result<Self, DatabaseError> {
        match text {
            "active" => Ok(Self::Active),
            "reauthorization_required" => Ok(Self::ReauthorizationRequired),
            other => Err(DatabaseError::Corrupt(format!("unknown status `{other}`"))),
        }
    }
}

/// A connection row: metadata in clear, tokens sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRecord {
    /// Provider id.
    pub provider: String,
    /// The platform's id for this connection (unique per provider).
    pub connection_id: String,
    /// Data-center code the tokens belong to.
    pub data_center: String,
    /// That data center's authorization server.
    pub issuer: String,
    /// Scopes requested.
    pub scopes: Vec<String>,
    /// `scope` as granted by the provider.
    pub granted_scope: Option<String>,
    /// `token_type` as returned.
    pub token_type: Option<String>,
    /// Token-response fields the provider declares worth keeping.
    pub metadata: IndexMap<String, Value>,
    /// Connection parameters given when the session was created.
    pub params: BTreeMap<String, String>,
    /// Access-token expiry, unix seconds.
    pub expires_at: Option<i64>,
    /// Usable or not.
    pub status: ConnectionStatus,
    /// The sealed tokens.
    pub tokens: Sealed,
    /// Bumped by every token write: a caller that waited for a lock compares it to learn
    /// whether someone else refreshed meanwhile.
    pub generation: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A pending authorization row: looked up by the hash of its `state`, consumed once.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRecord {
    /// SHA-256 of `state`, hex.
    pub state_hash: String,
    /// Provider id.
    pub provider: String,
    /// The connection the callback will create or replace.
    pub connection_id: String,
    /// Connection parameters.
    pub params: BTreeMap<String, String>,
    /// The sealed [`crate::oauth::PendingAuthorization`].
    pub sealed: Sealed,
    /// Unix seconds after which the callback is refused.
    pub expires_at: i64,
}

/// A store failure. Messages name the database problem, never a token.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The database cannot be reached or failed (down, full, timed out).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row holds something this version cannot read.
    #[error("corrupt row in the database: {0}")]
    Corrupt(String),
    /// The schema could not be migrated.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The `--database` URL is not one the store understands.
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH (e.g. sqlite://provider-forge.db) or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
}

impl From<sqlx::Error> for DatabaseError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                Self::Corrupt(error.to_string())
            }
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// Where connections and pending authorizations live.
#[async_trait]
pub trait Store: Send + Sync {
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), DatabaseError>;
    /// Saves a pending authorization.
    async fn insert_pending(&self, pending: &PendingRecord) -> Result<(), DatabaseError>;
    /// Removes and returns the pending authorization with this state hash (single use: of two
    /// concurrent callers, one gets it). Expired rows are returned too, so the caller can say
    /// "expired" rather than "unknown"; they are deleted either way.
    async fn take_pending(&self, state_hash: &str) -> Result<Option<PendingRecord>, DatabaseError>;
    /// Deletes pending authorizations that expired before `now`.
    async fn purge_expired_pending(&self, now: i64) -> Result<u64, DatabaseError>;
    /// Creates a connection, or replaces one with the same (provider, connection_id) after a
    /// new authorization (its generation moves on, its creation time stays).
    async fn upsert_connection(&self, record: &ConnectionRecord) -> Result<(), DatabaseError>;
    /// One connection.
    async fn connection(
        &self,
        provider: &str,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, DatabaseError>;
    /// All connections, or those of one provider, ordered by provider then id.
    async fn connections(
        &self,
        provider: Option<&str>,
    ) -> Result<Vec<ConnectionRecord>, DatabaseError>;
    /// Deletes a connection; false when there was none.
    async fn delete_connection(
        &self,
        provider: &str,
        connection_id: &str,
    ) -> Result<bool, DatabaseError>;
    /// Locks one connection against every other process and task until the guard is used up.
    /// `None` when the connection does not exist.
    async fn lock_connection(
        &self,
        provider: &str,
        connection_id: &str,
    ) -> Result<Option<Box<dyn ConnectionLock>>, DatabaseError>;
}

/// A connection held under a database lock.
#[async_trait]
pub trait ConnectionLock: Send {
    /// The row as read under the lock.
    fn record(&self) -> &ConnectionRecord;
    /// Writes new tokens, expiry and status (generation + 1) and commits, releasing the lock.
    /// Returns once the write is durable.
    async fn commit(self: Box<Self>, record: &ConnectionRecord) -> Result<(), DatabaseError>;
    /// Releases the lock without writing.
    async fn release(self: Box<Self>) -> Result<(), DatabaseError>;
}

/// Opens the store a `--database` URL names, creating a SQLite file on first start, and
/// migrates its schema.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, DatabaseError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(DatabaseError::UnsupportedUrl(url.to_owned()))
    }
}

/// Columns of `connections`, in the order [`read_connection`] expects.
const CONNECTION_COLUMNS: &str = "provider, connection_id, data_center, issuer, scopes, \
    granted_scope, token_type, metadata, params, expires_at, status, key_id, sealed, generation, \
    created_at, updated_at";

/// Columns of `pending_authorizations`, in the order [`read_pending`] expects.
const PENDING_COLUMNS: &str =
    "state_hash, provider, connection_id, params, key_id, sealed, expires_at";

fn json_column<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, DatabaseError> {
    serde_json::from_str(text).map_err(|e| DatabaseError::Corrupt(format!("column {name}: {e}")))
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("maps and lists of strings always serialise")
}

/// Reads a `connections` row selected with [`CONNECTION_COLUMNS`] (both backends).
fn read_connection<R>(row: &R) -> Result<ConnectionRecord, DatabaseError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let scopes: String = row.try_get(4)?;
    let metadata: String = row.try_get(7)?;
    let params: String = row.try_get(8)?;
    let status: String = row.try_get(10)?;
    Ok(ConnectionRecord {
        provider: row.try_get(0)?,
        connection_id: row.try_get(1)?,
        data_center: row.try_get(2)?,
        issuer: row.try_get(3)?,
        scopes: json_column("scopes", &scopes)?,
        granted_scope: row.try_get(5)?,
        token_type: row.try_get(6)?,
        metadata: json_column("metadata", &metadata)?,
        params: json_column("params", &params)?,
        expires_at: row.try_get(9)?,
        status: ConnectionStatus::parse(&status)?,
        tokens: Sealed {
            key_id: row.try_get(11)?,
            bytes: row.try_get(12)?,
        },
        generation: row.try_get(13)?,
        created_at: row.try_get(14)?,
        updated_at: row.try_get(15)?,
    })
}

/// Reads a `pending_authorizations` row selected with [`PENDING_COLUMNS`].
fn read_pending<R>(row: &R) -> Result<PendingRecord, DatabaseError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let params: String = row.try_get(3)?;
    Ok(PendingRecord {
        state_hash: row.try_get(0)?,
        provider: row.try_get(1)?,
        connection_id: row.try_get(2)?,
        params: json_column("params", &params)?,
        sealed: Sealed {
            key_id: row.try_get(4)?,
            bytes: row.try_get(5)?,
        },
        expires_at: row.try_get(6)?,
    })
}

/// The SQL statements, written once with `$n` placeholders, which both SQLite and PostgreSQL
/// accept.
mod sql {
    use super::{CONNECTION_COLUMNS, PENDING_COLUMNS};

    pub fn insert_pending() -> String {
        format!(
            "INSERT INTO pending_authorizations ({PENDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
    }

    pub fn take_pending() -> String {
        format!(
            "DELETE FROM pending_authorizations WHERE state_hash = $1 RETURNING {PENDING_COLUMNS}"
        )
    }

    pub const PURGE_PENDING: &str = "DELETE FROM pending_authorizations WHERE expires_at < $1";

    pub fn upsert_connection() -> String {
        format!(
            "INSERT INTO connections ({CONNECTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (provider, connection_id) DO UPDATE SET \
             data_center = excluded.data_center, issuer = excluded.issuer, \
             scopes = excluded.scopes, granted_scope = excluded.granted_scope, \
             token_type = excluded.token_type, metadata = excluded.metadata, \
             params = excluded.params, expires_at = excluded.expires_at, \
             status = excluded.status, key_id = excluded.key_id, sealed = excluded.sealed, \
             generation = connections.generation + 1, updated_at = excluded.updated_at"
        )
    }

    pub fn select_connection() -> String {
        format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE provider = $1 AND connection_id = $2"
        )
    }

    pub fn select_connections(by_provider: bool) -> String {
        let filter = if by_provider {
            " WHERE provider = $1"
        } else {
            ""
        };
        format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections{filter} ORDER BY provider, connection_id"
        )
    }

    pub const DELETE_CONNECTION: &str =
        "DELETE FROM connections WHERE provider = $1 AND connection_id = $2";

    pub const UPDATE_TOKENS: &str = "UPDATE connections SET token_type = $3, granted_scope = $4, \
        metadata = $5, expires_at = $6, status = $7, key_id = $8, sealed = $9, \
        generation = generation + 1, updated_at = $10 WHERE provider = $1 AND connection_id = $2";
}

/// Binds a connection's columns in [`CONNECTION_COLUMNS`] order.
macro_rules! bind_connection {
    ($query:expr, $record:expr) => {{
        let r = $record;
        $query
            .bind(&r.provider)
            .bind(&r.connection_id)
            .bind(&r.data_center)
            .bind(&r.issuer)
            .bind(to_json(&r.scopes))
            .bind(&r.granted_scope)
            .bind(&r.token_type)
            .bind(to_json(&r.metadata))
            .bind(to_json(&r.params))
            .bind(r.expires_at)
            .bind(r.status.as_str())
            .bind(&r.tokens.key_id)
            .bind(&r.tokens.bytes)
            .bind(r.generation)
            .bind(r.created_at)
            .bind(r.updated_at)
    }};
}

/// Binds the columns [`sql::UPDATE_TOKENS`] writes.
macro_rules! bind_token_update {
    ($query:expr, $record:expr, $now:expr) => {{
        let r = $record;
        $query
            .bind(&r.provider)
            .bind(&r.connection_id)
            .bind(&r.token_type)
            .bind(&r.granted_scope)
            .bind(to_json(&r.metadata))
            .bind(r.expires_at)
            .bind(r.status.as_str())
            .bind(&r.tokens.key_id)
            .bind(&r.tokens.bytes)
            .bind($now)
    }};
}

/// Binds a pending authorization's columns in [`PENDING_COLUMNS`] order.
macro_rules! bind_pending {
    ($query:expr, $record:expr) => {{
        let r = $record;
        $query
            .bind(&r.state_hash)
            .bind(&r.provider)
            .bind(&r.connection_id)
            .bind(to_json(&r.params))
            .bind(&r.sealed.key_id)
            .bind(&r.sealed.bytes)
            .bind(r.expires_at)
    }};
}

/// Implements [`Store`] and [`ConnectionLock`] for a backend: the statements are the same
/// on both, only the pool type and how a lock is taken differ (`$store` has an inherent
/// `async fn begin_locked(&self) -> Result<sqlx::Transaction<'static, $db>, sqlx::Error>`
/// and a `LOCK_SUFFIX` appended to the locking SELECT).
macro_rules! impl_store {
    ($store:ty, $db:ty, $lock:ident) => {
        #[async_trait::async_trait]
        impl $crate::service::store::Store for $store {
            async fn ping(&self) -> Result<(), DatabaseError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn insert_pending(&self, pending: &PendingRecord) -> Result<(), DatabaseError> {
                let statement = sql::insert_pending();
                bind_pending!(sqlx::query(&statement), pending)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn take_pending(
                &self,
                state_hash: &str,
            ) -> Result<Option<PendingRecord>, DatabaseError> {
                let row = sqlx::query(&sql::take_pending())
                    .bind(state_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(read_pending).transpose()
            }

            async fn purge_expired_pending(&self, now: i64) -> Result<u64, DatabaseError> {
                let done = sqlx::query(sql::PURGE_PENDING)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn upsert_connection(
                &self,
                record: &ConnectionRecord,
            ) -> Result<(), DatabaseError> {
                let statement = sql::upsert_connection();
                bind_connection!(sqlx::query(&statement), record)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn connection(
                &self,
                provider: &str,
                connection_id: &str,
            ) -> Result<Option<ConnectionRecord>, DatabaseError> {
                let row = sqlx::query(&sql::select_connection())
                    .bind(provider)
                    .bind(connection_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(read_connection).transpose()
            }

            async fn connections(
                &self,
                provider: Option<&str>,
            ) -> Result<Vec<ConnectionRecord>, DatabaseError> {
                let statement = sql::select_connections(provider.is_some());
                let mut query = sqlx::query(&statement);
                if let Some(provider) = provider {
                    query = query.bind(provider);
                }
                let rows = query.fetch_all(&self.pool).await?;
                rows.iter().map(read_connection).collect()
            }

            async fn delete_connection(
                &self,
                provider: &str,
                connection_id: &str,
            ) -> Result<bool, DatabaseError> {
                let done = sqlx::query(sql::DELETE_CONNECTION)
                    .bind(provider)
                    .bind(connection_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn lock_connection(
                &self,
                provider: &str,
                connection_id: &str,
            ) -> Result<Option<Box<dyn ConnectionLock>>, DatabaseError> {
                let mut tx = self.begin_locked().await?;
                let statement = format!("{}{}", sql::select_connection(), Self::LOCK_SUFFIX);
                let row = sqlx::query(&statement)
                    .bind(provider)
                    .bind(connection_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                match row {
                    None => {
                        tx.rollback().await?;
                        Ok(None)
                    }
                    Some(row) => {
                        let record = read_connection(&row)?;
                        Ok(Some(Box::new($lock { tx, record })))
                    }
                }
            }
        }

        /// A connection row held under this backend's lock (an open transaction).
        struct $lock {
            tx: sqlx::Transaction<'static, $db>,
            record: ConnectionRecord,
        }

        #[async_trait::async_trait]
        impl ConnectionLock for $lock {
            fn record(&self) -> &ConnectionRecord {
                &self.record
            }

            async fn commit(
                mut self: Box<Self>,
                record: &ConnectionRecord,
            ) -> Result<(), DatabaseError> {
                let now = crate::oauth::token::unix_now() as i64;
                bind_token_update!(sqlx::query(sql::UPDATE_TOKENS), record, now)
                    .execute(&mut *self.tx)
                    .await?;
                self.tx.commit().await?;
                Ok(())
            }

            async fn release(self: Box<Self>) -> Result<(), DatabaseError> {
                self.tx.rollback().await?;
                Ok(())
            }
        }
    };
}

use {bind_connection, bind_pending, bind_token_update, impl_store};

#[cfg(test)]
pub(crate) mod tests;
