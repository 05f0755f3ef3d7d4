//! The connection store: connections and pending authorizations in SQLite (one machine, the
//! default) or PostgreSQL (several instances), behind one trait so the service never knows
//! which.
//!
//! The store only moves rows: tokens arrive already sealed ([`Sealed`]) and leave sealed, so
//! no token in clear ever reaches SQL. Queries are built at run time (no `query!` macros, which
//! would need a live database to compile); the schema lives in `migrations/{sqlite,postgres}`
//! and is migrated when the store opens.
//!
//! Refresh coordination rests on a lease, not on a database lock: [`Store::claim_refresh`]
//! writes a holder id and an expiry onto the connection's row with a compare-and-set UPDATE
//! (it succeeds only at the generation the caller read and when no unexpired lease is held),
//! [`Store::renew_refresh`] extends it while the provider is being asked, and
//! [`Store::commit_refresh`] writes the new tokens and clears the lease in one UPDATE that
//! again compares generation and holder. Every statement is a single short write, so no
//! transaction, and no SQLite write lock, is ever held while a provider is called. A process
//! that dies while holding a lease stops renewing it; it expires and another instance claims
//! it, with the stored refresh token, which is still the one the provider knows unless the
//! provider had already answered (the window the service's `refresh` module documents).
//!
//! Webhook events live in an outbox table beside the connections: the write that creates,
//! deletes or marks a connection takes an optional [`OutboxEvent`] and inserts it in the same
//! transaction, only when the change itself happened. Delivery claims due rows with a lease
//! like the refresh lease ([`Store::claim_events`]: a compare-and-set UPDATE, so of several
//! instances one gets each row), deletes a row once it was delivered and reschedules it
//! otherwise, both only while the lease is still the caller's.
//!
//! Pooled connections are checked when they come back: one still inside a transaction (a
//! failed COMMIT, a dropped future) is closed, never handed out again, so a failure cannot
//! leave the pool holding SQLite's write lock or refusing every later `BEGIN`.

pub(crate) mod changes;
mod postgres;
mod sqlite;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use indexmap::IndexMap;
use serde_json::Value;

use super::crypto::Sealed;
use crate::definition::types::AuthMode;

pub use changes::{Change, Watcher};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Whether a connection can be used.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Tokens are usable (refreshed on demand).
    Active,
    /// The provider refused the refresh token (`invalid_grant`): the user must connect again.
    /// The row is kept, never deleted or overwritten silently.
    ReauthorizationRequired,
}

impl ConnectionStatus {
    pub(crate) fn as_str(self) -> &'static str {
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
    /// The sealed secrets: the tokens, and what the connection supplied itself (credentials,
    /// its own OAuth client).
    pub tokens: Sealed,
    /// Bumped by every token write: a caller that waited for a lock compares it to learn
    /// whether someone else refreshed meanwhile.
    pub generation: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// How the connection authenticates (what `tokens` holds).
    pub auth_mode: AuthMode,
    /// The API environment the connection was made for; `None` on rows stored before
    /// connections carried one (the definition's first applies), or of a provider without an
    /// API section.
    pub environment: Option<String>,
}

/// Which connections a listing holds: every one, or those of one provider, of one status, or
/// both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionFilter {
    /// Only this provider's connections.
    pub provider: Option<String>,
    /// Only connections in this status.
    pub status: Option<ConnectionStatus>,
}

/// A connection's key: connections are listed in (provider, connection_id) order, and a page
/// resumes after the last key of the one before.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnectionKey {
    /// Provider id.
    pub provider: String,
    /// The platform's id for the connection.
    pub connection_id: String,
}

impl ConnectionKey {
    /// The key of a stored connection.
    pub fn of(record: &ConnectionRecord) -> Self {
        Self {
            provider: record.provider.clone(),
            connection_id: record.connection_id.clone(),
        }
    }
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
    /// The API environment the connection is for.
    pub environment: Option<String>,
    /// Where the callback sends the browser at the end (the session's `return_to`).
    pub return_to: Option<String>,
}

/// A connect page row: looked up by the hash of the token in its URL, consumed once.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectPageRecord {
    /// SHA-256 of the page token, hex.
    pub page_hash: String,
    /// The state hash of the session's own pending authorization (OAuth sessions), deleted
    /// with the page when the page is submitted.
    pub state_hash: Option<String>,
    /// Provider id.
    pub provider: String,
    /// The connection the page creates or replaces.
    pub connection_id: String,
    /// What the platform fixed for the session, as JSON (data center, environment, scopes,
    /// connection parameters).
    pub settings: String,
    /// Where the browser lands at the end.
    pub return_to: Option<String>,
    /// Unix seconds after which the page is refused (the session's expiry).
    pub expires_at: i64,
}

/// A webhook event in the outbox: its id, the exact JSON body that is signed and posted, and
/// how often its delivery failed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// The event's id (also in the body).
    pub id: String,
    /// The JSON posted to the receiver.
    pub body: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Deliveries tried without a 2xx answer.
    pub attempts: i64,
}

/// A store failure. Messages name the database problem, never a token or a password.
#[derive(Debug, Clone, thiserror::Error)]
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
    /// The `--database` URL is not one the store understands (held with its password
    /// replaced, see [`redacted_url`]).
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH (e.g. sqlite://provider-forge.db) or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
}

/// A database URL fit for a message or a log: the password, when there is one, replaced by
/// `***`. Text with an `@` that does not parse as a URL with a host is shown only up to its
/// scheme, since a password could sit anywhere in it.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        _ if !url.contains('@') => url.to_owned(),
        Ok(parsed) => format!("{}:...", parsed.scheme()),
        Err(_) => "...".to_owned(),
    }
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
    /// Checks that the database answers a real query on the service's tables, through the
    /// pool the service uses.
    async fn ping(&self) -> Result<(), DatabaseError>;
    /// Checks that the database answers and every migration this version ships is applied.
    async fn ready(&self) -> Result<(), DatabaseError>;
    /// Saves a pending authorization.
    async fn insert_pending(&self, pending: &PendingRecord) -> Result<(), DatabaseError>;
    /// Removes and returns the pending authorization with this state hash (single use: of two
    /// concurrent callers, one gets it). Expired rows are returned too, so the caller can say
    /// "expired" rather than "unknown"; they are deleted either way.
    async fn take_pending(&self, state_hash: &str) -> Result<Option<PendingRecord>, DatabaseError>;
    /// Deletes pending authorizations and connect pages that expired before `now`; returns
    /// how many rows went.
    async fn purge_expired_pending(&self, now: i64) -> Result<u64, DatabaseError>;
    /// Saves a connect page.
    async fn insert_connect_page(&self, page: &ConnectPageRecord) -> Result<(), DatabaseError>;
    /// The connect page with this hash, left in place (expired rows too).
    async fn connect_page(
        &self,
        page_hash: &str,
    ) -> Result<Option<ConnectPageRecord>, DatabaseError>;
    /// Removes and returns the connect page with this hash (single use: of two concurrent
    /// callers, one gets it).
    async fn take_connect_page(
        &self,
        page_hash: &str,
    ) -> Result<Option<ConnectPageRecord>, DatabaseError>;
    /// Creates a connection, or replaces one with the same (provider, connection_id) after a
    /// new authorization (its generation moves on, its creation time stays).
    /// With `event`, the event is written to the outbox in the same transaction.
    async fn upsert_connection(
        &self,
        record: &ConnectionRecord,
        event: Option<&OutboxEvent>,
    ) -> Result<(), DatabaseError>;
    /// One connection.
    async fn connection(
        &self,
        provider: &str,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, DatabaseError>;
    /// At most `limit` connections matching `filter`, in (provider, connection_id) order,
    /// starting after `after` (from the first when `None`): one range scan of an index
    /// (migration 0005), so a page costs the same however many connections there are and
    /// however deep into them it starts.
    async fn connections(
        &self,
        filter: &ConnectionFilter,
        after: Option<&ConnectionKey>,
        limit: u32,
    ) -> Result<Vec<ConnectionRecord>, DatabaseError>;
    /// Deletes a connection if it is still at `generation` (the one whose tokens the caller
    /// revoked); false when there is none at that generation (gone, or replaced by a newer
    /// connection, which is kept). `event` is written to the outbox in the same transaction
    /// when the row was deleted.
    async fn delete_connection(
        &self,
        provider: &str,
        connection_id: &str,
        generation: i64,
        event: Option<&OutboxEvent>,
    ) -> Result<bool, DatabaseError>;
    /// Claims the refresh lease of a connection for `holder` until `until` (unix seconds):
    /// true when the row is still at `generation` and no lease unexpired at `now` is held.
    async fn claim_refresh(
        &self,
        provider: &str,
        connection_id: &str,
        generation: i64,
        lease: &Lease,
    ) -> Result<bool, DatabaseError>;
    /// Extends a lease `holder` still holds; false when it holds none.
    async fn renew_refresh(
        &self,
        provider: &str,
        connection_id: &str,
        lease: &Lease,
    ) -> Result<bool, DatabaseError>;
    /// Writes new tokens, expiry and status (generation + 1) and clears the lease, if the row
    /// is still at `record.generation` and the lease is `holder`'s; false otherwise (nothing
    /// written). `event` is written to the outbox in the same transaction when the row was.
    /// Returns once the write is durable.
    async fn commit_refresh(
        &self,
        record: &ConnectionRecord,
        holder: &str,
        event: Option<&OutboxEvent>,
    ) -> Result<bool, DatabaseError>;
    /// Clears a lease `holder` holds, writing nothing else.
    async fn release_refresh(
        &self,
        provider: &str,
        connection_id: &str,
        holder: &str,
    ) -> Result<(), DatabaseError>;
    /// Replaces a row's sealed tokens (re-sealed under another key, same plaintext) if it is
    /// still at `generation`; the generation does not move. False when the row changed.
    async fn reseal_connection(
        &self,
        provider: &str,
        connection_id: &str,
        generation: i64,
        sealed: &Sealed,
    ) -> Result<bool, DatabaseError>;
    /// Leases up to `limit` outbox events that are due at `lease.now` and not leased by a
    /// live holder to `lease.holder` until `lease.until`, oldest first.
    async fn claim_events(
        &self,
        lease: &Lease,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, DatabaseError>;
    /// Tells `watcher` of every committed change to a connection from now on, and whether
    /// changes made by other instances reach it ([`Change`], [`Watcher`]). On PostgreSQL the first call
    /// starts listening for them (it must be made inside the async runtime).
    fn watch(&self, watcher: Arc<dyn Watcher>);
    /// Deletes a delivered event if `holder` still holds its lease.
    async fn event_delivered(&self, id: &str, holder: &str) -> Result<bool, DatabaseError>;
    /// Counts a failed delivery, frees the lease and makes the event due again at
    /// `next_attempt_at`, if `holder` still holds its lease.
    async fn event_failed(
        &self,
        id: &str,
        holder: &str,
        next_attempt_at: i64,
    ) -> Result<bool, DatabaseError>;
}

/// Every connection matching a filter, read a page at a time in key order: a caller that goes
/// through all of them (the key check at start, a re-seal) holds one page, never the table.
pub(crate) struct Walk<'a> {
    store: &'a dyn Store,
    filter: ConnectionFilter,
    page_size: u32,
    after: Option<ConnectionKey>,
    done: bool,
}

impl<'a> Walk<'a> {
    /// A walk over `filter`'s connections, `page_size` (at least 1) at a time.
    pub(crate) fn new(store: &'a dyn Store, filter: ConnectionFilter, page_size: u32) -> Self {
        Self {
            store,
            filter,
            page_size: page_size.max(1),
            after: None,
            done: false,
        }
    }

    /// The next page; `None` once every connection was read. A connection created behind
    /// the walk's position meanwhile is not seen; one ahead of it is.
    pub(crate) async fn next_page(
        &mut self,
    ) -> Result<Option<Vec<ConnectionRecord>>, DatabaseError> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .store
            .connections(&self.filter, self.after.as_ref(), self.page_size)
            .await?;
        self.done = page.len() < self.page_size as usize;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = Some(ConnectionKey::of(last));
        Ok(Some(page))
    }
}

/// A refresh lease: who holds it, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The holder's id (one per process).
    pub holder: String,
    /// Unix seconds: when a claim is made, leases that ended before this are free.
    pub now: i64,
    /// Unix seconds until which the lease is held.
    pub until: i64,
}

/// Opens the store a `--database` URL names, creating a SQLite file on first start, and
/// migrates its schema.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, DatabaseError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(DatabaseError::UnsupportedUrl(redacted_url(url)))
    }
}

/// Columns of `connections`, in the order [`read_connection`] expects.
const CONNECTION_COLUMNS: &str = "provider, connection_id, data_center, issuer, scopes, \
    granted_scope, token_type, metadata, params, expires_at, status, key_id, sealed, generation, \
    created_at, updated_at, auth_mode, environment";

/// Columns of `pending_authorizations`, in the order [`read_pending`] expects.
const PENDING_COLUMNS: &str = "state_hash, provider, connection_id, params, key_id, sealed, expires_at, environment, return_to";

/// Columns of `connect_pages`, in the order [`read_connect_page`] expects.
const CONNECT_PAGE_COLUMNS: &str =
    "page_hash, state_hash, provider, connection_id, settings, return_to, expires_at";

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
    let auth_mode_text: String = row.try_get(16)?;
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
        auth_mode: auth_mode(&auth_mode_text)?,
        environment: row.try_get(17)?,
    })
}

/// The auth mode a row names.
fn auth_mode(text: &str) -> Result<AuthMode, DatabaseError> {
    [
        AuthMode::Oauth2Code,
        AuthMode::ApiKey,
        AuthMode::Basic,
        AuthMode::ClientCredentials,
        AuthMode::TokenRequest,
    ]
    .into_iter()
    .find(|mode| mode.as_str() == text)
    .ok_or_else(|| DatabaseError::Corrupt(format!("unknown auth mode `{text}`")))
}

/// Reads a `pending_authorizations` row selected with [`PENDING_COLUMNS`].
fn read_pending<R>(row: &R) -> Result<PendingRecord, DatabaseError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
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
        environment: row.try_get(7)?,
        return_to: row.try_get(8)?,
    })
}

/// Reads a `connect_pages` row selected with [`CONNECT_PAGE_COLUMNS`].
fn read_connect_page<R>(row: &R) -> Result<ConnectPageRecord, DatabaseError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ConnectPageRecord {
        page_hash: row.try_get(0)?,
        state_hash: row.try_get(1)?,
        provider: row.try_get(2)?,
        connection_id: row.try_get(3)?,
        settings: row.try_get(4)?,
        return_to: row.try_get(5)?,
        expires_at: row.try_get(6)?,
    })
}

/// The SQL statements, written once with `$n` placeholders, which both SQLite and PostgreSQL
/// accept.
mod sql {
    use super::{CONNECT_PAGE_COLUMNS, CONNECTION_COLUMNS, ConnectionFilter, PENDING_COLUMNS};

    pub(super) fn insert_pending() -> String {
        format!(
            "INSERT INTO pending_authorizations ({PENDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
    }

    pub(super) fn insert_connect_page() -> String {
        format!(
            "INSERT INTO connect_pages ({CONNECT_PAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
    }

    pub(super) fn select_connect_page() -> String {
        format!("SELECT {CONNECT_PAGE_COLUMNS} FROM connect_pages WHERE page_hash = $1")
    }

    pub(super) fn take_connect_page() -> String {
        format!("DELETE FROM connect_pages WHERE page_hash = $1 RETURNING {CONNECT_PAGE_COLUMNS}")
    }

    pub(super) const PURGE_CONNECT_PAGES: &str = "DELETE FROM connect_pages WHERE expires_at < $1";

    pub(super) fn take_pending() -> String {
        format!(
            "DELETE FROM pending_authorizations WHERE state_hash = $1 RETURNING {PENDING_COLUMNS}"
        )
    }

    pub(super) const PURGE_PENDING: &str =
        "DELETE FROM pending_authorizations WHERE expires_at < $1";

    pub(super) fn upsert_connection() -> String {
        format!(
            "INSERT INTO connections ({CONNECTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18) \
             ON CONFLICT (provider, connection_id) DO UPDATE SET \
             data_center = excluded.data_center, issuer = excluded.issuer, \
             scopes = excluded.scopes, granted_scope = excluded.granted_scope, \
             token_type = excluded.token_type, metadata = excluded.metadata, \
             params = excluded.params, expires_at = excluded.expires_at, \
             status = excluded.status, key_id = excluded.key_id, sealed = excluded.sealed, \
             generation = connections.generation + 1, updated_at = excluded.updated_at, \
             auth_mode = excluded.auth_mode, environment = excluded.environment, \
             lease_holder = NULL, lease_until = NULL"
        )
    }

    pub(super) fn select_connection() -> String {
        format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE provider = $1 AND connection_id = $2"
        )
    }

    /// Where a page starts: after a whole key, or (within one provider's listing) after a
    /// connection id.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum PageStart {
        /// From the first connection.
        First,
        /// After `(provider, connection_id)`: two placeholders. With a provider filter as
        /// well (a key of another provider, which no cursor holds: the store's contract allows
        /// it), the scan starts at the provider and checks the key row by row: right, not fast.
        AfterKey,
        /// After `connection_id` within the filtered provider: one placeholder. Written apart
        /// from the row comparison because PostgreSQL positions an index scan on `provider =
        /// $1` alone when both are given, and walks every row of the provider before the key.
        AfterId,
    }

    impl PageStart {
        pub(super) fn of(filter: &ConnectionFilter, after: Option<&super::ConnectionKey>) -> Self {
            match after {
                None => Self::First,
                Some(key) if filter.provider.as_ref() == Some(&key.provider) => Self::AfterId,
                Some(_) => Self::AfterKey,
            }
        }
    }

    /// A page of connections: keyset pagination, never OFFSET. Only the conditions in use
    /// are written (no `$1 IS NULL OR ...`), so each shape has a plan that uses its index
    /// also when PostgreSQL switches a prepared statement to a generic plan. Placeholders,
    /// in order: the provider, the status, where to start ([`PageStart`]), the limit; each
    /// only when used.
    pub(super) fn select_connections(filter: &ConnectionFilter, start: PageStart) -> String {
        let mut placeholders = 0;
        let mut next = || {
            placeholders += 1;
            placeholders
        };
        let mut conditions = Vec::new();
        if filter.provider.is_some() {
            conditions.push(format!("provider = ${}", next()));
        }
        if filter.status.is_some() {
            conditions.push(format!("status = ${}", next()));
        }
        match start {
            PageStart::First => {}
            PageStart::AfterKey => {
                let (provider, id) = (next(), next());
                conditions.push(format!("(provider, connection_id) > (${provider}, ${id})"));
            }
            PageStart::AfterId => conditions.push(format!("connection_id > ${}", next())),
        }
        let limit = next();
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections{filter} \
             ORDER BY provider, connection_id LIMIT ${limit}"
        )
    }

    pub(super) const DELETE_CONNECTION: &str =
        "DELETE FROM connections WHERE provider = $1 AND connection_id = $2 AND generation = $3";

    pub(super) const UPDATE_TOKENS: &str = "UPDATE connections SET token_type = $3, granted_scope = $4, \
        metadata = $5, expires_at = $6, status = $7, key_id = $8, sealed = $9, \
        generation = generation + 1, updated_at = $10, lease_holder = NULL, lease_until = NULL \
        WHERE provider = $1 AND connection_id = $2 AND generation = $11 AND lease_holder = $12";

    pub(super) const CLAIM_LEASE: &str = "UPDATE connections SET lease_holder = $4, lease_until = $5 \
        WHERE provider = $1 AND connection_id = $2 AND generation = $3 \
        AND (lease_holder IS NULL OR lease_until < $6)";

    pub(super) const RENEW_LEASE: &str = "UPDATE connections SET lease_until = $4 \
        WHERE provider = $1 AND connection_id = $2 AND lease_holder = $3";

    pub(super) const RELEASE_LEASE: &str = "UPDATE connections SET lease_holder = NULL, lease_until = NULL \
        WHERE provider = $1 AND connection_id = $2 AND lease_holder = $3";

    pub(super) const RESEAL: &str = "UPDATE connections SET key_id = $4, sealed = $5 \
        WHERE provider = $1 AND connection_id = $2 AND generation = $3";

    pub(super) const INSERT_EVENT: &str = "INSERT INTO webhook_outbox \
        (id, body, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, 0, $3)";

    pub(super) const CLAIM_EVENTS: &str = "UPDATE webhook_outbox SET lease_holder = $1, lease_until = $2 \
        WHERE id IN (SELECT id FROM webhook_outbox WHERE next_attempt_at <= $3 \
        AND (lease_holder IS NULL OR lease_until < $3) ORDER BY created_at, id LIMIT $4) \
        AND (lease_holder IS NULL OR lease_until < $3) \
        RETURNING id, body, created_at, attempts";

    pub(super) const EVENT_DELIVERED: &str =
        "DELETE FROM webhook_outbox WHERE id = $1 AND lease_holder = $2";

    pub(super) const EVENT_FAILED: &str = "UPDATE webhook_outbox SET attempts = attempts + 1, \
        next_attempt_at = $3, lease_holder = NULL, lease_until = NULL \
        WHERE id = $1 AND lease_holder = $2";

    /// A real read of the service's table (not `SELECT 1`, which a database without the
    /// schema, or a SQLite file that cannot be read, still answers).
    pub(super) const PING: &str = "SELECT count(*) FROM connections WHERE provider = ''";

    pub(super) const APPLIED_MIGRATIONS: &str =
        "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version";
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
            .bind(r.auth_mode.as_str())
            .bind(&r.environment)
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
            .bind(r.generation)
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
            .bind(&r.environment)
            .bind(&r.return_to)
    }};
}

/// Implements [`Store`] for a backend: the statements are the same on both, only the pool
/// type differs (`$store` has a `pool` field, a `feed` of [`changes`], a `MIGRATOR`, an
/// `announce` that tells other instances of a change inside the writing transaction, and a
/// `watch_changes`).
macro_rules! impl_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::service::store::Store for $store {
            async fn ping(&self) -> Result<(), DatabaseError> {
                sqlx::query(sql::PING).execute(&self.pool).await?;
                Ok(())
            }

            async fn ready(&self) -> Result<(), DatabaseError> {
                let applied: Vec<i64> = sqlx::query_scalar(sql::APPLIED_MIGRATIONS)
                    .fetch_all(&self.pool)
                    .await?;
                let missing: Vec<String> = Self::MIGRATOR
                    .iter()
                    .filter(|m| !applied.contains(&m.version))
                    .map(|m| format!("{} {}", m.version, m.description))
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(DatabaseError::Migration(format!(
                        "not applied: {}",
                        missing.join(", ")
                    )))
                }
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
                fetch_one!(&self.pool, &sql::take_pending(), read_pending, state_hash)
            }

            async fn purge_expired_pending(&self, now: i64) -> Result<u64, DatabaseError> {
                let pending = sqlx::query(sql::PURGE_PENDING)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                let pages = sqlx::query(sql::PURGE_CONNECT_PAGES)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(pending.rows_affected() + pages.rows_affected())
            }

            async fn insert_connect_page(
                &self,
                page: &ConnectPageRecord,
            ) -> Result<(), DatabaseError> {
                sqlx::query(&sql::insert_connect_page())
                    .bind(&page.page_hash)
                    .bind(&page.state_hash)
                    .bind(&page.provider)
                    .bind(&page.connection_id)
                    .bind(&page.settings)
                    .bind(&page.return_to)
                    .bind(page.expires_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn connect_page(
                &self,
                page_hash: &str,
            ) -> Result<Option<ConnectPageRecord>, DatabaseError> {
                fetch_one!(
                    &self.pool,
                    &sql::select_connect_page(),
                    read_connect_page,
                    page_hash
                )
            }

            async fn take_connect_page(
                &self,
                page_hash: &str,
            ) -> Result<Option<ConnectPageRecord>, DatabaseError> {
                fetch_one!(
                    &self.pool,
                    &sql::take_connect_page(),
                    read_connect_page,
                    page_hash
                )
            }

            async fn upsert_connection(
                &self,
                record: &ConnectionRecord,
                event: Option<&OutboxEvent>,
            ) -> Result<(), DatabaseError> {
                let statement = sql::upsert_connection();
                let mut tx = self.pool.begin().await?;
                bind_connection!(sqlx::query(&statement), record)
                    .execute(&mut *tx)
                    .await?;
                insert_event!(&mut *tx, event);
                Self::announce(&mut *tx, &record.provider, &record.connection_id).await?;
                tx.commit().await?;
                self.feed
                    .connection(&record.provider, &record.connection_id);
                Ok(())
            }

            async fn connection(
                &self,
                provider: &str,
                connection_id: &str,
            ) -> Result<Option<ConnectionRecord>, DatabaseError> {
                fetch_one!(
                    &self.pool,
                    &sql::select_connection(),
                    read_connection,
                    provider,
                    connection_id
                )
            }

            async fn connections(
                &self,
                filter: &$crate::service::store::ConnectionFilter,
                after: Option<&$crate::service::store::ConnectionKey>,
                limit: u32,
            ) -> Result<Vec<ConnectionRecord>, DatabaseError> {
                let start = sql::PageStart::of(filter, after);
                let statement = sql::select_connections(filter, start);
                let mut query = sqlx::query(&statement);
                if let Some(provider) = &filter.provider {
                    query = query.bind(provider);
                }
                if let Some(status) = filter.status {
                    query = query.bind(status.as_str());
                }
                if let Some(key) = after {
                    if start == sql::PageStart::AfterKey {
                        query = query.bind(&key.provider);
                    }
                    query = query.bind(&key.connection_id);
                }
                let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await?;
                rows.iter().map(read_connection).collect()
            }

            async fn delete_connection(
                &self,
                provider: &str,
                connection_id: &str,
                generation: i64,
                event: Option<&OutboxEvent>,
            ) -> Result<bool, DatabaseError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(sql::DELETE_CONNECTION)
                    .bind(provider)
                    .bind(connection_id)
                    .bind(generation)
                    .execute(&mut *tx)
                    .await?;
                let deleted = done.rows_affected() > 0;
                if deleted {
                    insert_event!(&mut *tx, event);
                    Self::announce(&mut *tx, provider, connection_id).await?;
                }
                tx.commit().await?;
                if deleted {
                    self.feed.connection(provider, connection_id);
                }
                Ok(deleted)
            }

            async fn claim_refresh(
                &self,
                provider: &str,
                connection_id: &str,
                generation: i64,
                lease: &Lease,
            ) -> Result<bool, DatabaseError> {
                let done = sqlx::query(sql::CLAIM_LEASE)
                    .bind(provider)
                    .bind(connection_id)
                    .bind(generation)
                    .bind(&lease.holder)
                    .bind(lease.until)
                    .bind(lease.now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn renew_refresh(
                &self,
                provider: &str,
                connection_id: &str,
                lease: &Lease,
            ) -> Result<bool, DatabaseError> {
                let done = sqlx::query(sql::RENEW_LEASE)
                    .bind(provider)
                    .bind(connection_id)
                    .bind(&lease.holder)
                    .bind(lease.until)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn commit_refresh(
                &self,
                record: &ConnectionRecord,
                holder: &str,
                event: Option<&OutboxEvent>,
            ) -> Result<bool, DatabaseError> {
                let now = crate::oauth::token::unix_now() as i64;
                let mut tx = self.pool.begin().await?;
                let done = bind_token_update!(sqlx::query(sql::UPDATE_TOKENS), record, now)
                    .bind(holder)
                    .execute(&mut *tx)
                    .await?;
                let written = done.rows_affected() > 0;
                if written {
                    insert_event!(&mut *tx, event);
                    Self::announce(&mut *tx, &record.provider, &record.connection_id).await?;
                }
                tx.commit().await?;
                if written {
                    self.feed
                        .connection(&record.provider, &record.connection_id);
                }
                Ok(written)
            }

            async fn release_refresh(
                &self,
                provider: &str,
                connection_id: &str,
                holder: &str,
            ) -> Result<(), DatabaseError> {
                sqlx::query(sql::RELEASE_LEASE)
                    .bind(provider)
                    .bind(connection_id)
                    .bind(holder)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn reseal_connection(
                &self,
                provider: &str,
                connection_id: &str,
                generation: i64,
                sealed: &Sealed,
            ) -> Result<bool, DatabaseError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(sql::RESEAL)
                    .bind(provider)
                    .bind(connection_id)
                    .bind(generation)
                    .bind(&sealed.key_id)
                    .bind(&sealed.bytes)
                    .execute(&mut *tx)
                    .await?;
                let resealed = done.rows_affected() > 0;
                if resealed {
                    Self::announce(&mut *tx, provider, connection_id).await?;
                }
                tx.commit().await?;
                if resealed {
                    self.feed.connection(provider, connection_id);
                }
                Ok(resealed)
            }

            async fn claim_events(
                &self,
                lease: &Lease,
                limit: i64,
            ) -> Result<Vec<OutboxEvent>, DatabaseError> {
                let rows = sqlx::query(sql::CLAIM_EVENTS)
                    .bind(&lease.holder)
                    .bind(lease.until)
                    .bind(lease.now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                let mut events = rows
                    .iter()
                    .map(|row| {
                        Ok(OutboxEvent {
                            id: sqlx::Row::try_get(row, 0)?,
                            body: sqlx::Row::try_get(row, 1)?,
                            created_at: sqlx::Row::try_get(row, 2)?,
                            attempts: sqlx::Row::try_get(row, 3)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                // RETURNING gives no order.
                events.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
                Ok(events)
            }

            fn watch(&self, watcher: std::sync::Arc<dyn $crate::service::store::changes::Watcher>) {
                self.watch_changes(watcher);
            }

            async fn event_delivered(&self, id: &str, holder: &str) -> Result<bool, DatabaseError> {
                let done = sqlx::query(sql::EVENT_DELIVERED)
                    .bind(id)
                    .bind(holder)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn event_failed(
                &self,
                id: &str,
                holder: &str,
                next_attempt_at: i64,
            ) -> Result<bool, DatabaseError> {
                let done = sqlx::query(sql::EVENT_FAILED)
                    .bind(id)
                    .bind(holder)
                    .bind(next_attempt_at)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

/// The one row a statement finds by its key, read by `$read`; `None` when it finds none.
macro_rules! fetch_one {
    ($pool:expr, $statement:expr, $read:expr, $($key:expr),+ $(,)?) => {{
        let row = sqlx::query($statement)
            $(.bind($key))+
            .fetch_optional($pool)
            .await?;
        row.as_ref().map($read).transpose()
    }};
}

/// Inserts an outbox event, when there is one, inside the caller's transaction.
macro_rules! insert_event {
    ($tx:expr, $event:expr) => {
        if let Some(event) = $event {
            sqlx::query(sql::INSERT_EVENT)
                .bind(&event.id)
                .bind(&event.body)
                .bind(event.created_at)
                .execute($tx)
                .await?;
        }
    };
}

/// Pool hooks for both backends: a connection coming back to the pool while still inside a
/// transaction (a COMMIT that failed, a future dropped mid-transaction) is closed instead of
/// kept, which rolls the transaction back and frees any lock it holds.
macro_rules! pool_options {
    ($options:expr) => {
        $options.after_release(|connection, _| {
            Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(connection)) })
        })
    };
}

use {
    bind_connection, bind_pending, bind_token_update, fetch_one, impl_store, insert_event,
    pool_options,
};

#[cfg(test)]
pub(crate) mod tests;
