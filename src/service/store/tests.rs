//! The store contract, run on SQLite and, when reachable, on PostgreSQL.

use super::*;
use changes::Watcher;

/// A store for one test, and what to drop afterwards.
pub(crate) struct TestStore {
    pub store: Arc<dyn Store>,
    /// The database's URL, for a test that looks beneath the store.
    pub url: String,
    /// PostgreSQL database to drop, with the admin URL.
    drop: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

/// The admin URL of the project's test PostgreSQL.
pub(crate) const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl TestStore {
    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self {
            store: open(&url).await.unwrap(),
            url,
            drop: None,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (after a loud SKIPPED line) when no server is
    /// reachable outside CI. Under CI=true a missing server fails the test.
    pub(crate) async fn postgres(test: &str) -> Option<Self> {
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
            url,
            drop: Some((name, POSTGRES_ADMIN_URL.to_owned())),
            _dir: None,
        })
    }

    /// Drops the PostgreSQL database (call at the end of the test).
    pub(crate) async fn finish(self) {
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
        (stored.auth_mode, stored.environment.as_deref()),
        (AuthMode::TokenRequest, None)
    );
    assert_eq!(stored.generation, 1);
    assert_eq!(stored.created_at, 10);
    assert_eq!(stored.metadata, first.metadata);
    assert_eq!(stored.params, first.params);
    let all = store.connections(&Default::default(), None, 10).await;
    assert_eq!(all.unwrap().len(), 2);
    let zoho = ConnectionFilter {
        provider: Some("zoho-crm".into()),
        status: None,
    };
    let zoho = store.connections(&zoho, None, 10).await.unwrap();
    assert_eq!(zoho, std::slice::from_ref(&stored));

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

/// Connections `(provider, id, status)` for the listing tests, stored out of order.
const LISTED: [(&str, &str, ConnectionStatus); 9] = {
    use ConnectionStatus::{Active as A, ReauthorizationRequired as R};
    [
        ("zoho-crm", "u2", A),
        ("gitlab", "u1", R),
        ("zoho-desk", "u1", A),
        ("zoho-crm", "u0", R),
        ("gitlab", "u0", A),
        ("zoho-crm", "u3", A),
        ("zoho-crm", "u1", R),
        ("gitlab", "u2", A),
        ("zoho-desk", "u0", R),
    ]
};

fn keys(rows: &[ConnectionRecord]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.provider.clone(), r.connection_id.clone()))
        .collect()
}

fn filters() -> Vec<ConnectionFilter> {
    let mut filters = Vec::new();
    for provider in [None, Some("zoho-crm"), Some("gitlab"), Some("nobody")] {
        for status in [
            None,
            Some(ConnectionStatus::Active),
            Some(ConnectionStatus::ReauthorizationRequired),
        ] {
            filters.push(ConnectionFilter {
                provider: provider.map(str::to_owned),
                status,
            });
        }
    }
    filters
}

/// Pages: key order whatever the insertion order, the filters, a start after any key (also one
/// no longer stored), and a walk that sees every matching row once at any page size.
async fn listing_contract(store: &dyn Store) {
    assert!(
        store
            .connections(&Default::default(), None, 5)
            .await
            .unwrap()
            .is_empty()
    );
    for (provider, id, status) in LISTED {
        let mut row = record(provider, id);
        row.status = status;
        store.upsert_connection(&row, None).await.unwrap();
    }
    for filter in filters() {
        let mut expected: Vec<(String, String)> = LISTED
            .iter()
            .filter(|(p, _, s)| {
                filter.provider.as_deref().is_none_or(|f| f == *p)
                    && filter.status.is_none_or(|f| f == *s)
            })
            .map(|(p, id, _)| (p.to_string(), id.to_string()))
            .collect();
        expected.sort();
        for page_size in [1, 2, 4, 100] {
            let mut walk = Walk::new(store, filter.clone(), page_size);
            let mut seen = Vec::new();
            while let Some(page) = walk.next_page().await.unwrap() {
                assert!(!page.is_empty() && page.len() <= page_size as usize);
                seen.extend(keys(&page));
            }
            assert_eq!(seen, expected, "{filter:?}, {page_size} a page");
        }
    }
    // A page starts strictly after its key, stored or not (deleted since the last page).
    let after = |provider: &str, id: &str| ConnectionKey {
        provider: provider.into(),
        connection_id: id.into(),
    };
    let page = store
        .connections(&Default::default(), Some(&after("zoho-crm", "u1")), 2)
        .await
        .unwrap();
    assert_eq!(
        keys(&page),
        [
            ("zoho-crm".to_owned(), "u2".to_owned()),
            ("zoho-crm".to_owned(), "u3".to_owned())
        ]
    );
    let gone = store
        .connections(&Default::default(), Some(&after("zoho-crm", "u1x")), 1)
        .await
        .unwrap();
    assert_eq!(keys(&gone), [("zoho-crm".to_owned(), "u2".to_owned())]);
    let active_after = ConnectionFilter {
        provider: None,
        status: Some(ConnectionStatus::Active),
    };
    let page = store
        .connections(&active_after, Some(&after("gitlab", "u2")), 10)
        .await
        .unwrap();
    assert_eq!(
        keys(&page),
        [
            ("zoho-crm".to_owned(), "u2".to_owned()),
            ("zoho-crm".to_owned(), "u3".to_owned()),
            ("zoho-desk".to_owned(), "u1".to_owned())
        ]
    );
    // With a provider filter, a key of another provider starts before or after all of it.
    let zoho = ConnectionFilter {
        provider: Some("zoho-crm".into()),
        status: None,
    };
    let from_before = store
        .connections(&zoho, Some(&after("gitlab", "u9")), 10)
        .await
        .unwrap();
    assert_eq!(from_before.len(), 4);
    let from_after = store
        .connections(&zoho, Some(&after("zoho-desk", "u0")), 10)
        .await
        .unwrap();
    assert!(from_after.is_empty());
    // Whole rows, as stored.
    assert_eq!(
        page[0],
        store.connection("zoho-crm", "u2").await.unwrap().unwrap()
    );
}

#[tokio::test]
async fn sqlite_pages_of_connections() {
    let test = TestStore::sqlite().await;
    listing_contract(test.store.as_ref()).await;
    test.finish().await;
}

#[tokio::test]
async fn postgres_pages_of_connections() {
    if let Some(test) = TestStore::postgres("postgres_pages_of_connections").await {
        listing_contract(test.store.as_ref()).await;
        test.finish().await;
    }
}

/// A shape's name, its statement, and what its index search must start from: each condition
/// in SQLite's words and in PostgreSQL's.
type PageShape = (String, String, Vec<(&'static str, &'static str)>);

/// Every shape of the page query: each filter, from the first connection and after a key
/// (of the filtered provider, or of another one), with the conditions each shape must hand
/// the index as where its range starts, in SQLite's and in PostgreSQL's words.
fn page_statements() -> Vec<PageShape> {
    let mut shapes = Vec::new();
    for filter in filters().into_iter().take(6) {
        let mut starts = vec![sql::PageStart::First, sql::PageStart::AfterKey];
        if filter.provider.is_some() {
            starts.push(sql::PageStart::AfterId);
        }
        for start in starts {
            let mut conditions = Vec::new();
            if filter.provider.is_some() {
                conditions.push(("provider=?", "(provider = "));
            }
            if filter.status.is_some() {
                conditions.push(("status=?", "(status = "));
            }
            match start {
                sql::PageStart::First => {}
                // With a provider filter too (a key of another provider, which no cursor
                // holds), SQLite starts at the provider and checks the key row by row.
                sql::PageStart::AfterKey if filter.provider.is_some() => {
                    conditions.push(("provider=?", "(ROW(provider, connection_id) > ROW("));
                }
                sql::PageStart::AfterKey => conditions.push((
                    "(provider,connection_id)>(?,?)",
                    "(ROW(provider, connection_id) > ROW(",
                )),
                sql::PageStart::AfterId => {
                    conditions.push(("connection_id>?", "(connection_id > "))
                }
            }
            let shape = format!("{filter:?} {start:?}");
            shapes.push((shape, sql::select_connections(&filter, start), conditions));
        }
    }
    shapes
}

/// A page of one provider's connections resumes after an id, the shape its index starts at.
#[test]
fn a_page_within_a_provider_starts_after_an_id() {
    use sql::PageStart;
    let key = |provider: &str| ConnectionKey {
        provider: provider.into(),
        connection_id: "u1".into(),
    };
    let zoho = ConnectionFilter {
        provider: Some("zoho-crm".into()),
        status: Some(ConnectionStatus::Active),
    };
    let all = ConnectionFilter::default();
    assert_eq!(PageStart::of(&zoho, None), PageStart::First);
    assert_eq!(
        PageStart::of(&zoho, Some(&key("zoho-crm"))),
        PageStart::AfterId
    );
    assert_eq!(
        PageStart::of(&zoho, Some(&key("gitlab"))),
        PageStart::AfterKey
    );
    assert_eq!(
        PageStart::of(&all, Some(&key("zoho-crm"))),
        PageStart::AfterKey
    );
}

/// The index a shape must read: the status index for a status filter, the primary key else.
fn page_index(shape: &str, status_index: &'static str, key_index: &'static str) -> &'static str {
    if shape.contains("status: Some") {
        status_index
    } else {
        key_index
    }
}

/// SQLite's plan of each page query is a range of an index read in order: no sort, the status
/// index for a status filter, and every condition a constraint of the index search.
#[tokio::test]
async fn sqlite_pages_are_index_range_scans() {
    use sqlx::Connection;
    let test = TestStore::sqlite().await;
    let mut db = sqlx::SqliteConnection::connect(&test.url).await.unwrap();
    for (shape, statement, conditions) in page_statements() {
        let explain = format!("EXPLAIN QUERY PLAN {statement}");
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
        for _ in 0..statement.matches('$').count() {
            query = query.bind("x");
        }
        let plan: Vec<String> = query
            .fetch_all(&mut db)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.3)
            .collect();
        let plan = plan.join("; ");
        assert!(!plan.contains("TEMP B-TREE"), "{shape}: {plan}");
        let index = page_index(
            &shape,
            "INDEX connections_by_status",
            "INDEX sqlite_autoindex_connections_1",
        );
        assert!(plan.contains(index), "{shape}: {plan}");
        for (condition, _) in conditions {
            assert!(plan.starts_with("SEARCH"), "{shape}: {plan}");
            assert!(plan.contains(condition), "{shape}: {condition} in {plan}");
        }
    }
    drop(db);
    test.finish().await;
}

/// PostgreSQL can serve each page query from a range of an index read in order: with
/// sequential scans and sorts priced out, the plan is an index scan with no sort and no
/// filter, every condition an index condition, the status index for a status filter.
/// BENCHMARKS.md has the plans the planner picks on its own at a million rows.
#[tokio::test]
async fn postgres_pages_are_index_range_scans() {
    use sqlx::Connection;
    let Some(test) = TestStore::postgres("postgres_pages_are_index_range_scans").await else {
        return;
    };
    let mut db = sqlx::PgConnection::connect(&test.url).await.unwrap();
    for setting in ["SET enable_seqscan = off", "SET enable_sort = off"] {
        sqlx::query(setting).execute(&mut db).await.unwrap();
    }
    for (shape, statement, conditions) in page_statements() {
        let explain = format!("EXPLAIN {statement}");
        let mut query = sqlx::query_scalar::<_, String>(&explain);
        for _ in 0..statement.matches('$').count() - 1 {
            query = query.bind("x");
        }
        let plan = query.bind(10_i64).fetch_all(&mut db).await.unwrap();
        let text = plan.join("\n");
        assert!(
            !text.contains("Sort") && !text.contains("Seq Scan") && !text.contains("Filter"),
            "{shape}: {text}"
        );
        let index = page_index(&shape, "connections_by_status", "connections_pkey");
        assert!(
            text.contains(&format!("Index Scan using {index}")),
            "{shape}: {text}"
        );
        let index_cond = plan
            .iter()
            .find(|line| line.contains("Index Cond"))
            .map_or("", String::as_str);
        for (_, condition) in &conditions {
            assert!(
                index_cond.contains(condition),
                "{shape}: {condition} in {text}"
            );
        }
        // The row comparison only when the key is of another provider than the filtered one.
        assert_eq!(
            index_cond.contains("ROW("),
            conditions.iter().any(|(_, c)| c.contains("ROW(")),
            "{shape}: {text}"
        );
    }
    drop(db);
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

/// Records what a watcher hears.
#[derive(Default)]
struct Heard(std::sync::Mutex<Vec<changes::Change>>);

impl Watcher for Heard {
    fn changed(&self, change: &changes::Change) {
        self.0.lock().unwrap().push(change.clone());
    }
}

impl Heard {
    /// The connection changes heard so far (not the feed's ups and downs).
    fn connections(&self) -> Vec<(String, String)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|change| match change {
                changes::Change::Connection {
                    provider,
                    connection_id,
                } => Some((provider.clone(), connection_id.clone())),
                _ => None,
            })
            .collect()
    }

    /// Waits (at most ten seconds) until `n` connection changes were heard.
    async fn until(&self, n: usize) -> Vec<(String, String)> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.connections().len() < n && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.connections()
    }

    fn up(&self) -> bool {
        self.0.lock().unwrap().last() == Some(&changes::Change::Resumed)
    }
}

/// Every write that changes a connection is heard by the writing store's watchers, and by
/// `others` (stores of other instances on the same database); a write that did not happen is
/// heard by none.
async fn changes_are_heard(store: &dyn Store, others: &[Arc<dyn Store>]) {
    let here = Arc::new(Heard::default());
    store.watch(here.clone());
    let there: Vec<Arc<Heard>> = others
        .iter()
        .map(|other| {
            let heard = Arc::new(Heard::default());
            other.watch(heard.clone());
            heard
        })
        .collect();
    for heard in there.iter().chain([&here]) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !heard.up() {
            assert!(std::time::Instant::now() < deadline, "never listening");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    let c1 = ("zoho-crm".to_owned(), "c1".to_owned());
    let mut row = record("zoho-crm", "c1");
    store.upsert_connection(&row, None).await.unwrap();
    row.generation = store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap()
        .generation;
    let lease = Lease {
        holder: "h".into(),
        now: 1,
        until: i64::MAX,
    };
    assert!(
        store
            .claim_refresh("zoho-crm", "c1", row.generation, &lease)
            .await
            .unwrap()
    );
    assert!(store.commit_refresh(&row, "h", None).await.unwrap());
    let generation = row.generation + 1;
    assert!(
        store
            .reseal_connection("zoho-crm", "c1", generation, &row.tokens)
            .await
            .unwrap()
    );
    // Writes that do not happen are not announced.
    assert!(!store.commit_refresh(&row, "h", None).await.unwrap());
    assert!(
        !store
            .delete_connection("zoho-crm", "c1", generation + 5, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_connection("zoho-crm", "c1", generation, None)
            .await
            .unwrap()
    );
    // Heard here at once (and again, on PostgreSQL, as this instance's own notifications
    // come back); elsewhere once each.
    let expected = vec![c1.clone(); 4];
    let heard = here.connections();
    assert!(
        heard.len() >= 4 && heard.iter().all(|change| *change == c1),
        "upsert, refresh, re-seal, delete: {heard:?}"
    );
    for heard in &there {
        assert_eq!(heard.until(4).await, expected);
    }
}

#[tokio::test]
async fn sqlite_changes_are_heard() {
    let test = TestStore::sqlite().await;
    changes_are_heard(test.store.as_ref(), &[]).await;
    test.finish().await;
}

#[tokio::test]
async fn postgres_changes_are_heard_by_every_instance() {
    let Some(test) = TestStore::postgres("postgres_changes_are_heard_by_every_instance").await
    else {
        return;
    };
    let other = open(&test.url).await.unwrap();
    changes_are_heard(test.store.as_ref(), &[other]).await;
    test.finish().await;
}
