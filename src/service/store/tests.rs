//! The store contract, run on SQLite and, when reachable, on PostgreSQL.

use super::*;

/// A store for one test, and what to drop afterwards.
pub(crate) struct TestStore {
    pub store: Arc<dyn Store>,
    /// PostgreSQL database to drop, with the admin URL.
    drop: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

/// The admin URL of the project's test PostgreSQL.
pub(crate) const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl TestStore {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self {
            store: open(&url).await.unwrap(),
            drop: None,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (after a loud SKIPPED line) when no server is
    /// reachable outside CI. Under CI=true a missing server fails the test.
    pub async fn postgres(test: &str) -> Option<Self> {
        use sqlx::Connection;
        let admin = match sqlx::PgConnection::connect(POSTGRES_ADMIN_URL).await {
            Ok(admin) => admin,
            Err(error) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("PostgreSQL at 127.0.0.1:5432 is required under CI: {error}");
                }
                eprintln!("SKIPPED: {test} on PostgreSQL: no server at 127.0.0.1:5432 ({error})");
                return None;
            }
        };
        let mut admin = admin;
        let name = format!("pf_unit_{}", rand::random::<u64>());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Some(Self {
            store: open(&url).await.unwrap(),
            drop: Some((name, POSTGRES_ADMIN_URL.to_owned())),
            _dir: None,
        })
    }

    /// Drops the PostgreSQL database (call at the end of the test).
    pub async fn finish(self) {
        drop(self.store);
        if let Some((name, admin_url)) = self.drop {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

pub(crate) fn record(provider: &str, id: &str) -> ConnectionRecord {
    ConnectionRecord {
        provider: provider.into(),
        connection_id: id.into(),
        data_center: "eu".into(),
        issuer: "https://accounts.zoho.eu".into(),
        scopes: vec!["ZohoCRM.users.READ".into()],
        granted_scope: Some("ZohoCRM.users.READ".into()),
        token_type: Some("Bearer".into()),
        metadata: IndexMap::from([("api_domain".into(), Value::from("https://www.zohoapis.eu"))]),
        params: BTreeMap::from([("org".into(), "42".into())]),
        expires_at: Some(1_000),
        status: ConnectionStatus::Active,
        tokens: Sealed {
            key_id: "k1".into(),
            bytes: vec![1, 2, 3],
        },
        generation: 0,
        created_at: 10,
        updated_at: 10,
        auth_mode: AuthMode::Oauth2Code,
        environment: Some("sandbox".into()),
    }
}

async fn contract(store: &dyn Store) {
    store.ping().await.unwrap();
    store.ready().await.unwrap();
    // Pending authorizations are single use.
    let pending = PendingRecord {
        state_hash: "h1".into(),
        provider: "zoho-crm".into(),
        connection_id: "c1".into(),
        params: BTreeMap::new(),
        sealed: Sealed {
            key_id: "k1".into(),
            bytes: vec![9; 40],
        },
        expires_at: 500,
        return_to: Some("https://app.example/done?x=1".into()),
        environment: Some("developer".into()),
    };
    store.insert_pending(&pending).await.unwrap();
    assert_eq!(
        store.take_pending("h1").await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(store.take_pending("h1").await.unwrap(), None);
    store.insert_pending(&pending).await.unwrap();
    assert_eq!(store.purge_expired_pending(499).await.unwrap(), 0);
    assert_eq!(store.purge_expired_pending(501).await.unwrap(), 1);
    assert_eq!(store.take_pending("h1").await.unwrap(), None);

    // (provider, connection_id) is unique: a second upsert replaces, bumping the generation
    // and keeping the creation time.
    let first = record("zoho-crm", "c1");
    store.upsert_connection(&first, None).await.unwrap();
    store
        .upsert_connection(&record("gitlab", "c1"), None)
        .await
        .unwrap();
    let gitlab = store.connection("gitlab", "c1").await.unwrap().unwrap();
    assert_eq!(
        (gitlab.auth_mode, gitlab.environment.as_deref()),
        (AuthMode::Oauth2Code, Some("sandbox"))
    );
    let mut second = record("zoho-crm", "c1");
    second.data_center = "in".into();
    second.created_at = 99;
    second.auth_mode = AuthMode::TokenRequest;
    second.environment = None;
    store.upsert_connection(&second, None).await.unwrap();
    let stored = store.connection("zoho-crm", "c1").await.unwrap().unwrap();
    assert_eq!(stored.data_center, "in");
    assert_eq!(
        (stored.auth_mode, stored.environment),
        (AuthMode::TokenRequest, None)
    );
    assert_eq!(stored.generation, 1);
    assert_eq!(stored.created_at, 10);
    assert_eq!(stored.metadata, first.metadata);
    assert_eq!(stored.params, first.params);
    assert_eq!(store.connections(None).await.unwrap().len(), 2);
    let zoho = store.connections(Some("zoho-crm")).await.unwrap();
    assert_eq!(zoho.len(), 1);
    assert_eq!(zoho[0].connection_id, "c1");

    // A lease is claimed at the generation read, by one holder at a time; a commit by its
    // holder writes the tokens, bumps the generation and frees the lease.
    let lease = |holder: &str, now: i64| Lease {
        holder: holder.into(),
        now,
        until: now + 15,
    };
    assert!(
        !store
            .claim_refresh("zoho-crm", "c1", 0, &lease("a", 100))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_refresh("zoho-crm", "c1", 1, &lease("a", 100))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_refresh("zoho-crm", "c1", 1, &lease("b", 110))
            .await
            .unwrap()
    );
    assert!(
        store
            .renew_refresh("zoho-crm", "c1", &lease("a", 110))
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_refresh("zoho-crm", "c1", &lease("b", 110))
            .await
            .unwrap()
    );
    let mut updated = store.connection("zoho-crm", "c1").await.unwrap().unwrap();
    assert_eq!(updated.generation, 1);
    updated.tokens.bytes = vec![7; 30];
    updated.expires_at = Some(2_000);
    updated.status = ConnectionStatus::ReauthorizationRequired;
    assert!(
        !store.commit_refresh(&updated, "b", None).await.unwrap(),
        "not the holder"
    );
    assert!(store.commit_refresh(&updated, "a", None).await.unwrap());
    assert!(
        !store.commit_refresh(&updated, "a", None).await.unwrap(),
        "generation moved"
    );
    let stored = store.connection("zoho-crm", "c1").await.unwrap().unwrap();
    assert_eq!(stored.tokens.bytes, vec![7; 30]);
    assert_eq!(stored.expires_at, Some(2_000));
    assert_eq!(stored.status, ConnectionStatus::ReauthorizationRequired);
    assert_eq!(stored.generation, 2);
    // An expired lease is free for another holder; a released one at once.
    assert!(
        store
            .claim_refresh("zoho-crm", "c1", 2, &lease("a", 200))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_refresh("zoho-crm", "c1", 2, &lease("b", 214))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_refresh("zoho-crm", "c1", 2, &lease("b", 216))
            .await
            .unwrap()
    );
    store.release_refresh("zoho-crm", "c1", "b").await.unwrap();
    assert!(
        store
            .claim_refresh("zoho-crm", "c1", 2, &lease("a", 217))
            .await
            .unwrap()
    );
    store.release_refresh("zoho-crm", "c1", "a").await.unwrap();
    assert_eq!(
        store.connection("zoho-crm", "c1").await.unwrap().unwrap(),
        stored,
        "leases write nothing else"
    );
    // Re-sealing keeps the generation, and only applies to the generation it read.
    let resealed = Sealed {
        key_id: "k2".into(),
        bytes: vec![8; 30],
    };
    assert!(
        !store
            .reseal_connection("zoho-crm", "c1", 1, &resealed)
            .await
            .unwrap()
    );
    assert!(
        store
            .reseal_connection("zoho-crm", "c1", 2, &resealed)
            .await
            .unwrap()
    );
    let stored = store.connection("zoho-crm", "c1").await.unwrap().unwrap();
    assert_eq!((stored.tokens, stored.generation), (resealed, 2));

    // Deletion only removes the generation the caller saw.
    assert!(
        !store
            .delete_connection("zoho-crm", "c1", 1, None)
            .await
            .unwrap()
    );
    assert!(store.connection("zoho-crm", "c1").await.unwrap().is_some());
    assert!(
        store
            .delete_connection("zoho-crm", "c1", 2, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_connection("zoho-crm", "c1", 2, None)
            .await
            .unwrap()
    );
    assert!(store.connection("zoho-crm", "c1").await.unwrap().is_none());
}

/// Connect pages are read while the user fills them in, taken once when submitted, and swept
/// with the pending authorizations once expired.
async fn connect_page_contract(store: &dyn Store) {
    let page = ConnectPageRecord {
        page_hash: "p1".into(),
        state_hash: Some("h1".into()),
        provider: "microsoft".into(),
        connection_id: "c1".into(),
        settings: r#"{"scopes":[]}"#.into(),
        return_to: Some("https://app.example/done".into()),
        expires_at: 500,
    };
    let credential_page = ConnectPageRecord {
        page_hash: "p2".into(),
        state_hash: None,
        return_to: None,
        ..page.clone()
    };
    store.insert_connect_page(&page).await.unwrap();
    store.insert_connect_page(&credential_page).await.unwrap();
    assert_eq!(store.connect_page("p1").await.unwrap(), Some(page.clone()));
    assert_eq!(store.connect_page("p1").await.unwrap(), Some(page.clone()));
    assert_eq!(store.take_connect_page("p1").await.unwrap(), Some(page));
    assert_eq!(store.take_connect_page("p1").await.unwrap(), None);
    assert_eq!(store.connect_page("p1").await.unwrap(), None);
    assert_eq!(
        store.connect_page("p2").await.unwrap(),
        Some(credential_page)
    );
    assert_eq!(store.purge_expired_pending(499).await.unwrap(), 0);
    assert_eq!(store.purge_expired_pending(501).await.unwrap(), 1);
    assert_eq!(store.connect_page("p2").await.unwrap(), None);
}

#[tokio::test]
async fn sqlite_store_keeps_the_contract() {
    let test = TestStore::sqlite().await;
    contract(test.store.as_ref()).await;
    connect_page_contract(test.store.as_ref()).await;
    test.finish().await;
}

#[tokio::test]
async fn postgres_store_keeps_the_contract() {
    let Some(test) = TestStore::postgres("postgres_store_keeps_the_contract").await else {
        return;
    };
    contract(test.store.as_ref()).await;
    connect_page_contract(test.store.as_ref()).await;
    test.finish().await;
}

fn outbox_event(id: &str, created_at: i64) -> OutboxEvent {
    OutboxEvent {
        id: id.into(),
        body: format!(r#"{{"id":"{id}"}}"#),
        created_at,
        attempts: 0,
    }
}

fn lease(holder: &str, now: i64) -> Lease {
    Lease {
        holder: holder.into(),
        now,
        until: now + 60,
    }
}

fn ids(events: &[OutboxEvent]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

/// Events are written only with the change that causes them, leased to one holder at a time,
/// rescheduled on failure and deleted once delivered.
async fn outbox_contract(store: &dyn Store) {
    let row = record("zoho-crm", "c1");
    store
        .upsert_connection(&row, Some(&outbox_event("e1", 100)))
        .await
        .unwrap();
    // A delete or a commit that changes nothing writes no event.
    assert!(
        !store
            .delete_connection("zoho-crm", "c1", 7, Some(&outbox_event("lost-1", 100)))
            .await
            .unwrap()
    );
    assert!(
        !store
            .commit_refresh(&row, "nobody", Some(&outbox_event("lost-2", 100)))
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_connection(
                "zoho-crm",
                "c1",
                row.generation,
                Some(&outbox_event("e2", 101))
            )
            .await
            .unwrap()
    );

    // Not due before they were written; then leased oldest first, to one holder.
    assert!(
        store
            .claim_events(&lease("a", 99), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = store.claim_events(&lease("a", 200), 1).await.unwrap();
    assert_eq!(ids(&claimed), ["e1"]);
    assert_eq!(claimed[0].body, r#"{"id":"e1"}"#);
    assert_eq!(
        ids(&store.claim_events(&lease("b", 200), 10).await.unwrap()),
        ["e2"]
    );
    assert!(
        store
            .claim_events(&lease("c", 200), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Only the holder records the outcome.
    assert!(!store.event_delivered("e1", "b").await.unwrap());
    assert!(!store.event_failed("e1", "b", 300).await.unwrap());
    assert!(store.event_failed("e1", "a", 300).await.unwrap());

    // At 299 the failed one is not due yet, and the lease of `b` (until 260) has expired: a
    // holder that died is taken over, and can no longer record an outcome.
    assert_eq!(
        ids(&store.claim_events(&lease("c", 299), 10).await.unwrap()),
        ["e2"]
    );
    assert!(!store.event_delivered("e2", "b").await.unwrap());
    assert!(store.event_delivered("e2", "c").await.unwrap());
    let retried = store.claim_events(&lease("d", 300), 10).await.unwrap();
    assert_eq!(ids(&retried), ["e1"]);
    assert_eq!(retried[0].attempts, 1);
    assert!(store.event_delivered("e1", "d").await.unwrap());
    assert!(
        store
            .claim_events(&lease("e", 10_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn sqlite_outbox_keeps_the_contract() {
    let test = TestStore::sqlite().await;
    outbox_contract(test.store.as_ref()).await;
    test.finish().await;
}

#[tokio::test]
async fn postgres_outbox_keeps_the_contract() {
    let Some(test) = TestStore::postgres("postgres_outbox_keeps_the_contract").await else {
        return;
    };
    outbox_contract(test.store.as_ref()).await;
    test.finish().await;
}

#[tokio::test]
async fn a_missing_database_is_a_clear_error() {
    let error = open("postgres://postgres@127.0.0.1:1/none")
        .await
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("database unavailable: cannot connect to PostgreSQL"),
        "{error}"
    );
    let error = open("mysql://x").await.err().unwrap();
    assert!(error.to_string().contains("use sqlite://PATH"), "{error}");
}

/// A pooled connection that comes back inside a transaction (a COMMIT that failed after the
/// disk filled, a future dropped mid-transaction) holding SQLite's write lock: it must not
/// stay in the pool, where it would keep every other writer waiting and refuse every later
/// `BEGIN`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_left_in_a_transaction_never_returns_to_the_pool() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    {
        let mut pooled = store.pool().acquire().await.unwrap();
        let transaction = pooled.begin_with("BEGIN IMMEDIATE").await.unwrap();
        // What a failed COMMIT leaves: sqlx still counts the transaction open.
        #[expect(
            clippy::mem_forget,
            reason = "the test leaves a transaction open on purpose"
        )]
        std::mem::forget(transaction);
    }
    let written = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        store.upsert_connection(&record("zoho-crm", "after"), None),
    )
    .await
    .expect("a write does not wait for the abandoned transaction");
    written.unwrap();
    // Committed for everyone, not inside the abandoned transaction.
    let mut outside = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM connections WHERE connection_id = 'after'")
            .fetch_one(&mut outside)
            .await
            .unwrap();
    assert_eq!(count, 1);
    for _ in 0..16 {
        store.ping().await.unwrap();
        store.take_pending("none").await.unwrap();
    }
}

#[tokio::test]
async fn no_database_error_echoes_a_password() {
    for url in [
        "postgresql+asyncpg://app:PW-hunter2@db.internal/forge",
        "mysql://app:PW-hunter2@db.internal/forge",
        "postgres://app:PW-hunter2@127.0.0.1:notaport/none",
        "sqlite://app:PW-hunter2@/nonexistent-dir/x/y.db?mode=ro",
        "app:PW-hunter2@db.internal",
    ] {
        let error = open(url).await.err().unwrap().to_string();
        assert!(!error.contains("PW-hunter2"), "{url}: {error}");
    }
    let error = open("postgresql+asyncpg://app:PW-hunter2@db.internal/forge")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("unsupported database URL `postgresql+asyncpg://app:***@db.internal/forge`"),
        "{error}"
    );
}
