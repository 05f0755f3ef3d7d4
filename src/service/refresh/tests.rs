//! The coordination logic with a fake token endpoint: how many refreshes reach it, what
//! every caller gets, and what is stored after each kind of failure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;
use crate::oauth::AccessToken;
use crate::oauth::RefreshToken;
use crate::service::crypto::EncryptionKey;
use crate::service::store::tests::{TestStore, record};
use crate::service::store::{Lease, OutboxEvent};
use crate::service::tokens::ConnectionSecrets;

impl Refresher {
    /// Refreshed when expiring within `margin_secs`, or always with `force`: the token route's
    /// two ways.
    async fn token<F, Fut>(
        self: &Arc<Self>,
        key: (&str, &str),
        margin_secs: u64,
        force: bool,
        refresh: F,
    ) -> Result<Live, TokenError>
    where
        F: FnOnce(ConnectionRecord, TokenSet, ConnectionSecrets) -> Fut + Send + 'static,
        Fut: Future<Output = Result<TokenSet, OAuthError>> + Send + 'static,
    {
        self.renewed(key, margin_secs, Renew::forced(force), refresh)
            .await
    }
}

fn cipher() -> Cipher {
    Cipher::new(EncryptionKey::from_bytes([3; 32]), vec![])
}

/// Fast timing, so retried commits and lease polls do not slow the tests.
fn fast() -> Timing {
    Timing {
        lease: Duration::from_secs(3),
        poll: Duration::from_millis(10),
        wait_limit: Duration::from_secs(30),
        commit_retry: Duration::from_millis(10),
        commit_retry_max: Duration::from_millis(50),
    }
}

fn refresher(store: &Arc<dyn Store>) -> Arc<Refresher> {
    Arc::new(Refresher::with_timing(store.clone(), cipher(), fast()))
}

/// A refresh callback that fails the test if called.
fn no_refresh(
    why: &'static str,
) -> impl FnOnce(
    ConnectionRecord,
    TokenSet,
    ConnectionSecrets,
) -> std::future::Ready<Result<TokenSet, OAuthError>>
+ Send
+ 'static {
    move |_, _, _| panic!("{why}")
}

/// What a fake endpoint's refresh callback returns.
type Renewal = std::pin::Pin<Box<dyn Future<Output = Result<TokenSet, OAuthError>> + Send>>;

/// A refresh callback answering `error`.
fn failing(
    error: OAuthError,
) -> impl FnOnce(
    ConnectionRecord,
    TokenSet,
    ConnectionSecrets,
) -> std::future::Ready<Result<TokenSet, OAuthError>>
+ Send
+ 'static {
    move |_, _, _| std::future::ready(Err(error))
}

fn token_set(access: &str, refresh: &str, expires_at: u64) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new(access),
        refresh_token: Some(RefreshToken::new(refresh)),
        token_type: Some("Bearer".into()),
        scope: None,
        expires_at: Some(expires_at),
        data_center: "eu".into(),
        issuer: "https://accounts.zoho.eu".into(),
        metadata: Default::default(),
    }
}

/// Stores connection `c1` holding `tokens`.
async fn connect(store: &dyn Store, cipher: &Cipher, tokens: &TokenSet) {
    let mut row = record("zoho-crm", "c1");
    apply_tokens(cipher, &mut row, tokens, &ConnectionSecrets::default());
    store.upsert_connection(&row, None).await.unwrap();
}

const KEY: (&str, &str) = ("zoho-crm", "c1");

/// A fake token endpoint: counts calls, answers after a pause (so callers pile up), rotates
/// the refresh token.
struct FakeEndpoint {
    calls: AtomicUsize,
}

impl FakeEndpoint {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicUsize::new(0),
        })
    }

    /// The refresh callback a caller hands the refresher.
    fn callback(
        self: &Arc<Self>,
    ) -> impl FnOnce(ConnectionRecord, TokenSet, ConnectionSecrets) -> Renewal + Send + 'static
    {
        let this = Arc::clone(self);
        move |_, old, _| Box::pin(async move { this.refresh(old).await })
    }

    async fn refresh(&self, old: TokenSet) -> Result<TokenSet, OAuthError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(old.refresh_token.as_ref().unwrap().expose(), "rt-0");
        Ok(token_set(
            &format!("at-{n}"),
            &format!("rt-{n}"),
            unix_now() + 3600,
        ))
    }
}

async fn concurrent_callers_share_one_refresh(test: TestStore) {
    let cipher = cipher();
    let refresher = refresher(&test.store);
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let endpoint = FakeEndpoint::new();
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (refresher, endpoint) = (refresher.clone(), endpoint.clone());
        callers.spawn(async move {
            refresher
                .token(KEY, 300, false, endpoint.callback())
                .await
                .map(|(_, tokens)| tokens.access_token.expose().to_owned())
        });
    }
    while let Some(result) = callers.join_next().await {
        assert_eq!(result.unwrap().unwrap(), "at-1");
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    // The rotated refresh token was committed.
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    let opened = crate::service::tokens::open_tokens(&cipher, &stored).unwrap();
    assert_eq!(opened.refresh_token.unwrap().expose(), "rt-1");
    assert_eq!(stored.generation, 1);
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_callers_share_one_refresh() {
    concurrent_callers_share_one_refresh(TestStore::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_callers_share_one_refresh() {
    if let Some(test) = TestStore::postgres("postgres_concurrent_callers_share_one_refresh").await {
        concurrent_callers_share_one_refresh(test).await;
    }
}

/// Two processes on one database: each has its own refresher (its own lease holder id), and
/// still the provider sees one refresh.
async fn two_processes_share_one_refresh(test: TestStore) {
    let cipher = cipher();
    let (first, second) = (refresher(&test.store), refresher(&test.store));
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let endpoint = FakeEndpoint::new();
    let mut callers = tokio::task::JoinSet::new();
    for i in 0..20 {
        let refresher = if i % 2 == 0 { &first } else { &second }.clone();
        let endpoint = endpoint.clone();
        callers.spawn(async move {
            refresher
                .token(KEY, 300, false, endpoint.callback())
                .await
                .map(|(_, tokens)| tokens.access_token.expose().to_owned())
        });
    }
    while let Some(result) = callers.join_next().await {
        assert_eq!(result.unwrap().unwrap(), "at-1");
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_processes_share_one_refresh() {
    two_processes_share_one_refresh(TestStore::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_processes_share_one_refresh() {
    if let Some(test) = TestStore::postgres("postgres_two_processes_share_one_refresh").await {
        two_processes_share_one_refresh(test).await;
    }
}

#[tokio::test]
async fn a_valid_token_is_reused_and_force_refreshes_it() {
    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let refresher = refresher(&test.store);
    connect(
        test.store.as_ref(),
        &cipher,
        &token_set("at-0", "rt-0", unix_now() + 3600),
    )
    .await;
    let endpoint = FakeEndpoint::new();
    let (_, tokens) = refresher
        .token(KEY, 300, false, endpoint.callback())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-0");
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 0);
    let (_, tokens) = refresher
        .token(KEY, 300, true, endpoint.callback())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    test.finish().await;
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_and_keeps_it() {
    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let refresher = refresher(&test.store);
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let result = refresher
        .token(
            KEY,
            300,
            false,
            failing(OAuthError::Rejected {
                endpoint: "refresh",
                status: 400,
                error: "invalid_grant".into(),
                description: None,
            }),
        )
        .await;
    assert!(matches!(
        result,
        Err(TokenError::ReauthorizationRequired { .. })
    ));
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ConnectionStatus::ReauthorizationRequired);
    let opened = crate::service::tokens::open_tokens(&cipher, &stored).unwrap();
    assert_eq!(opened.refresh_token.unwrap().expose(), "rt-0");
    // Later callers are told without another refresh attempt.
    let result = refresher
        .token(
            KEY,
            300,
            false,
            no_refresh("no refresh for a connection that needs reauthorization"),
        )
        .await;
    assert!(matches!(
        result,
        Err(TokenError::ReauthorizationRequired { .. })
    ));
    test.finish().await;
}

#[tokio::test]
async fn a_transient_failure_leaves_the_row_as_it_was() {
    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let refresher = refresher(&test.store);
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let before = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    let result = refresher
        .token(
            KEY,
            300,
            false,
            failing(OAuthError::ServerError {
                endpoint: "refresh",
                status: 503,
            }),
        )
        .await;
    assert!(matches!(
        result,
        Err(TokenError::Refresh(OAuthError::ServerError { .. }))
    ));
    let after = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before);
    // The lease was released: the next caller refreshes at once.
    let endpoint = FakeEndpoint::new();
    let (_, tokens) = refresher
        .token(KEY, 300, false, endpoint.callback())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    let missing = refresher
        .token(
            ("zoho-crm", "nope"),
            300,
            false,
            no_refresh("no refresh for a missing connection"),
        )
        .await;
    assert!(matches!(missing, Err(TokenError::NotFound { .. })));
    test.finish().await;
}

/// A provider that rotates on receipt and answers only when told: the test can drop its
/// caller while the provider holds the answer, as a client hanging up does.
struct HeldEndpoint {
    calls: AtomicUsize,
    entered: tokio::sync::Notify,
    answer: tokio::sync::Notify,
}

impl HeldEndpoint {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicUsize::new(0),
            entered: tokio::sync::Notify::new(),
            answer: tokio::sync::Notify::new(),
        })
    }

    fn callback(
        self: &Arc<Self>,
    ) -> impl FnOnce(ConnectionRecord, TokenSet, ConnectionSecrets) -> Renewal + Send + 'static
    {
        let this = Arc::clone(self);
        move |_, old, _| Box::pin(async move { this.refresh(old).await })
    }

    async fn refresh(&self, old: TokenSet) -> Result<TokenSet, OAuthError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        assert_eq!(old.refresh_token.as_ref().unwrap().expose(), "rt-0");
        self.entered.notify_one();
        self.answer.notified().await;
        Ok(token_set(
            &format!("at-{n}"),
            &format!("rt-{n}"),
            unix_now() + 3600,
        ))
    }
}

async fn a_caller_that_hangs_up_mid_refresh_loses_nothing(test: TestStore) {
    let cipher = cipher();
    let refresher = refresher(&test.store);
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let endpoint = HeldEndpoint::new();
    let caller = {
        let (refresher, endpoint) = (refresher.clone(), endpoint.clone());
        tokio::spawn(async move {
            refresher
                .token(KEY, 300, false, endpoint.callback())
                .await
                .map(|_| ())
        })
    };
    endpoint.entered.notified().await;
    // The caller hangs up (hyper drops the handler) while the provider holds its answer.
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    endpoint.answer.notify_one();
    // The next caller gets the token the provider rotated in, without a second refresh.
    let (record, tokens) = refresher
        .token(KEY, 300, false, endpoint.callback())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.generation, record.generation);
    let opened = crate::service::tokens::open_tokens(&cipher, &stored).unwrap();
    assert_eq!(opened.refresh_token.unwrap().expose(), "rt-1");
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_caller_that_hangs_up_mid_refresh_loses_nothing() {
    a_caller_that_hangs_up_mid_refresh_loses_nothing(TestStore::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_caller_that_hangs_up_mid_refresh_loses_nothing() {
    if let Some(test) =
        TestStore::postgres("postgres_a_caller_that_hangs_up_mid_refresh_loses_nothing").await
    {
        a_caller_that_hangs_up_mid_refresh_loses_nothing(test).await;
    }
}

/// Bound for work that must not wait on another connection's provider: generous, since the
/// machine may be loaded; without the fix it waits for the database's busy timeout.
const NOT_BLOCKED: std::time::Duration = std::time::Duration::from_secs(10);

async fn a_hung_provider_holds_up_no_other_connection(test: TestStore) {
    let cipher = cipher();
    let refresher = refresher(&test.store);
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let mut other = record("gitlab", "c2");
    apply_tokens(
        &cipher,
        &mut other,
        &token_set("at-0", "rt-0", 1),
        &ConnectionSecrets::default(),
    );
    test.store.upsert_connection(&other, None).await.unwrap();
    let hung = HeldEndpoint::new();
    let stuck = {
        let (refresher, hung) = (refresher.clone(), hung.clone());
        tokio::spawn(async move {
            refresher
                .token(KEY, 300, false, hung.callback())
                .await
                .map(|_| ())
        })
    };
    hung.entered.notified().await;

    // While c1's provider hangs: another connection refreshes, and a session is stored.
    let endpoint = FakeEndpoint::new();
    let refreshed = tokio::time::timeout(
        NOT_BLOCKED,
        refresher.token(("gitlab", "c2"), 300, true, endpoint.callback()),
    )
    .await
    .expect("another connection's refresh does not wait for a hung provider")
    .unwrap();
    assert_eq!(refreshed.1.access_token.expose(), "at-1");
    let pending = crate::service::store::PendingRecord {
        state_hash: "h-other".into(),
        provider: "gitlab".into(),
        connection_id: "c3".into(),
        params: Default::default(),
        sealed: crate::service::crypto::Sealed {
            key_id: "k".into(),
            bytes: vec![1; 20],
        },
        expires_at: unix_now() as i64 + 600,
        return_to: None,
        environment: None,
    };
    tokio::time::timeout(NOT_BLOCKED, test.store.insert_pending(&pending))
        .await
        .expect("a new session does not wait for a hung provider")
        .unwrap();
    assert!(!stuck.is_finished(), "c1's refresh is still in flight");

    hung.answer.notify_one();
    stuck.await.unwrap().unwrap();
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_hung_provider_holds_up_no_other_connection() {
    a_hung_provider_holds_up_no_other_connection(TestStore::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_hung_provider_holds_up_no_other_connection() {
    if let Some(test) =
        TestStore::postgres("postgres_a_hung_provider_holds_up_no_other_connection").await
    {
        a_hung_provider_holds_up_no_other_connection(test).await;
    }
}

/// A store whose next commits fail as a full disk or a stopped database would, after the
/// provider answered; it says when a commit finally lands.
struct FailingCommits {
    inner: Arc<dyn Store>,
    failures_left: AtomicUsize,
    attempts: AtomicUsize,
    landed: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl Store for FailingCommits {
    async fn ping(&self) -> Result<(), DatabaseError> {
        self.inner.ping().await
    }
    async fn ready(&self) -> Result<(), DatabaseError> {
        self.inner.ready().await
    }
    async fn insert_pending(
        &self,
        pending: &crate::service::store::PendingRecord,
    ) -> Result<(), DatabaseError> {
        self.inner.insert_pending(pending).await
    }
    async fn take_pending(
        &self,
        state_hash: &str,
    ) -> Result<Option<crate::service::store::PendingRecord>, DatabaseError> {
        self.inner.take_pending(state_hash).await
    }
    async fn purge_expired_pending(&self, now: i64) -> Result<u64, DatabaseError> {
        self.inner.purge_expired_pending(now).await
    }
    async fn insert_connect_page(
        &self,
        page: &crate::service::store::ConnectPageRecord,
    ) -> Result<(), DatabaseError> {
        self.inner.insert_connect_page(page).await
    }
    async fn connect_page(
        &self,
        page_hash: &str,
    ) -> Result<Option<crate::service::store::ConnectPageRecord>, DatabaseError> {
        self.inner.connect_page(page_hash).await
    }
    async fn take_connect_page(
        &self,
        page_hash: &str,
    ) -> Result<Option<crate::service::store::ConnectPageRecord>, DatabaseError> {
        self.inner.take_connect_page(page_hash).await
    }
    async fn upsert_connection(
        &self,
        record: &ConnectionRecord,
        event: Option<&OutboxEvent>,
    ) -> Result<(), DatabaseError> {
        self.inner.upsert_connection(record, event).await
    }
    async fn connection(
        &self,
        provider: &str,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, DatabaseError> {
        self.inner.connection(provider, connection_id).await
    }
    async fn connections(
        &self,
        filter: &crate::service::store::ConnectionFilter,
        after: Option<&crate::service::store::ConnectionKey>,
        limit: u32,
    ) -> Result<Vec<ConnectionRecord>, DatabaseError> {
        self.inner.connections(filter, after, limit).await
    }
    fn watch(&self, watcher: Arc<dyn crate::service::store::changes::Watcher>) {
        self.inner.watch(watcher);
    }
    async fn delete_connection(
        &self,
        provider: &str,
        connection_id: &str,
        generation: i64,
        event: Option<&OutboxEvent>,
    ) -> Result<bool, DatabaseError> {
        self.inner
            .delete_connection(provider, connection_id, generation, event)
            .await
    }
    async fn claim_refresh(
        &self,
        provider: &str,
        connection_id: &str,
        generation: i64,
        lease: &Lease,
    ) -> Result<bool, DatabaseError> {
        self.inner
            .claim_refresh(provider, connection_id, generation, lease)
            .await
    }
    async fn renew_refresh(
        &self,
        provider: &str,
        connection_id: &str,
        lease: &Lease,
    ) -> Result<bool, DatabaseError> {
        self.inner
            .renew_refresh(provider, connection_id, lease)
            .await
    }
    async fn commit_refresh(
        &self,
        record: &ConnectionRecord,
        holder: &str,
        event: Option<&OutboxEvent>,
    ) -> Result<bool, DatabaseError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(DatabaseError::Unavailable(
                "error returned from database: database or disk is full".into(),
            ));
        }
        let landed = self.inner.commit_refresh(record, holder, event).await?;
        self.landed.notify_one();
        Ok(landed)
    }
    async fn release_refresh(
        &self,
        provider: &str,
        connection_id: &str,
        holder: &str,
    ) -> Result<(), DatabaseError> {
        self.inner
            .release_refresh(provider, connection_id, holder)
            .await
    }
    async fn reseal_connection(
        &self,
        provider: &str,
        connection_id: &str,
        generation: i64,
        sealed: &crate::service::crypto::Sealed,
    ) -> Result<bool, DatabaseError> {
        self.inner
            .reseal_connection(provider, connection_id, generation, sealed)
            .await
    }
    async fn claim_events(
        &self,
        lease: &Lease,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, DatabaseError> {
        self.inner.claim_events(lease, limit).await
    }
    async fn event_delivered(&self, id: &str, holder: &str) -> Result<bool, DatabaseError> {
        self.inner.event_delivered(id, holder).await
    }
    async fn event_failed(
        &self,
        id: &str,
        holder: &str,
        next_attempt_at: i64,
    ) -> Result<bool, DatabaseError> {
        self.inner.event_failed(id, holder, next_attempt_at).await
    }
}

async fn a_failed_commit_keeps_the_new_tokens_until_they_land(test: TestStore) {
    let cipher = cipher();
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let failing = Arc::new(FailingCommits {
        inner: test.store.clone(),
        failures_left: AtomicUsize::new(3),
        attempts: AtomicUsize::new(0),
        landed: tokio::sync::Notify::new(),
    });
    let store: Arc<dyn Store> = failing.clone();
    let refresher = refresher(&store);
    let endpoint = FakeEndpoint::new();
    // The provider answered; the commit failed: the caller still gets the new token.
    let (_, tokens) = refresher
        .token(KEY, 300, false, endpoint.callback())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    // So does the next caller, from memory or from the row, without a second refresh.
    let (_, tokens) = refresher
        .token(KEY, 300, false, no_refresh("the rotated set is kept"))
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    // The commit is retried until it lands, with the rotated refresh token; a shutdown
    // waiting for the refresher to settle waits for that.
    tokio::time::timeout(NOT_BLOCKED, refresher.settle())
        .await
        .expect("the commit is retried until it lands");
    failing.landed.notified().await;
    assert_eq!(failing.attempts.load(Ordering::SeqCst), 4);
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    let opened = crate::service::tokens::open_tokens(&cipher, &stored).unwrap();
    assert_eq!(opened.refresh_token.unwrap().expose(), "rt-1");
    assert_eq!(opened.access_token.expose(), "at-1");
    assert_eq!(stored.generation, 1);
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failed_commit_keeps_the_new_tokens_until_they_land() {
    a_failed_commit_keeps_the_new_tokens_until_they_land(TestStore::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_failed_commit_keeps_the_new_tokens_until_they_land() {
    if let Some(test) =
        TestStore::postgres("postgres_a_failed_commit_keeps_the_new_tokens_until_they_land").await
    {
        a_failed_commit_keeps_the_new_tokens_until_they_land(test).await;
    }
}

/// A connection the provider gave no refresh token: nothing is ever sent, the valid access
/// token keeps being handed out (forced or inside the margin), and the row is never marked.
#[tokio::test]
async fn a_connection_without_a_refresh_token_keeps_its_valid_access_token() {
    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let refresher = refresher(&test.store);
    let mut tokens = token_set("at-0", "unused", unix_now() + 120);
    tokens.refresh_token = None;
    connect(test.store.as_ref(), &cipher, &tokens).await;
    for force in [true, false] {
        let (record, issued) = refresher
            .token(KEY, 300, force, no_refresh("nothing to send"))
            .await
            .unwrap();
        assert_eq!(issued.access_token.expose(), "at-0");
        assert_eq!(record.status, ConnectionStatus::Active);
    }
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    // Once it expired, the caller is told to connect again; the row is still not marked.
    test.store
        .upsert_connection(
            &{
                let mut expired = stored.clone();
                tokens.expires_at = Some(1);
                apply_tokens(
                    &cipher,
                    &mut expired,
                    &tokens,
                    &ConnectionSecrets::default(),
                );
                expired
            },
            None,
        )
        .await
        .unwrap();
    let result = refresher
        .token(KEY, 300, false, no_refresh("nothing to send"))
        .await;
    assert!(
        matches!(result, Err(TokenError::Expired { .. })),
        "{result:?}"
    );
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    test.finish().await;
}

/// A refresh task that dies without an answer (a panic in the provider call) fails its
/// waiters, and the next caller starts a new refresh instead of joining the dead one.
#[tokio::test]
async fn a_refresh_that_died_is_not_joined_again() {
    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let refresher = refresher(&test.store);
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let result = refresher
        .token(KEY, 300, false, no_refresh("the provider call dies"))
        .await;
    assert!(matches!(result, Err(TokenError::Store(_))), "{result:?}");
    let endpoint = FakeEndpoint::new();
    let (_, tokens) = refresher
        .token(KEY, 300, false, endpoint.callback())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    test.finish().await;
}

/// A `client_credentials` or `token_request` connection has no refresh token and needs none:
/// an expired token is renewed with what the row holds sealed (handed to the renewal), the
/// new set is sealed with those secrets again; a connection without a token is refused.
#[tokio::test]
async fn connections_that_renew_without_a_refresh_token_are_renewed_with_their_secrets() {
    use crate::definition::types::AuthMode;
    use crate::oauth::{ClientSecret, CredentialSecret};
    use crate::service::tokens::{OwnClient, open};

    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let refresher = refresher(&test.store);
    let secrets = ConnectionSecrets {
        credentials: [("appKey".to_owned(), CredentialSecret::new("app-1"))].into(),
        client: Some(OwnClient {
            client_id: "own-client".into(),
            client_secret: ClientSecret::new("own-secret"),
        }),
    };
    let mut row = record("zoho-crm", "c1");
    row.auth_mode = AuthMode::ClientCredentials;
    let mut expired = token_set("at-0", "unused", 1);
    expired.refresh_token = None;
    apply_tokens(&cipher, &mut row, &expired, &secrets);
    test.store.upsert_connection(&row, None).await.unwrap();

    let handed = Arc::new(std::sync::Mutex::new(None));
    let seen = Arc::clone(&handed);
    let (_, tokens) = refresher
        .token(KEY, 300, false, move |_, _, secrets| {
            *seen.lock().unwrap() = Some(secrets);
            let mut renewed = token_set("at-1", "unused", unix_now() + 3600);
            renewed.refresh_token = None;
            std::future::ready(Ok(renewed))
        })
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    assert_eq!(handed.lock().unwrap().as_ref(), Some(&secrets));
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    let (tokens, kept) = open(&cipher, &stored).unwrap();
    assert_eq!(tokens.unwrap().access_token.expose(), "at-1");
    assert_eq!(
        kept, secrets,
        "the renewal keeps the connection's own secrets"
    );

    // An API-key connection holds no token: nothing to renew, nothing sent.
    let mut keyed = record("zoho-crm", "c1");
    keyed.auth_mode = AuthMode::ApiKey;
    keyed.tokens = crate::service::tokens::seal(&cipher, "zoho-crm", "c1", None, &secrets);
    test.store.upsert_connection(&keyed, None).await.unwrap();
    let result = refresher
        .token(KEY, 300, true, no_refresh("no token to renew"))
        .await;
    assert!(
        matches!(
            result,
            Err(TokenError::NoToken {
                mode: "api_key",
                ..
            })
        ),
        "{result:?}"
    );
    test.finish().await;
}
